//! Line numbers: parsers find each package entry in the text so findings point at it.

/// Byte offset → 1-based line, by binary search over line starts.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> u32 {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

/// For `[[package]]` tables (Cargo.lock, poetry.lock, uv.lock): `(name, version)` → the line
/// of the `[[package]]` header. Reads the `name = "…"` and `version = "…"` lines that follow.
pub(crate) fn toml_package_lines(text: &str) -> std::collections::HashMap<(String, String), u32> {
    let mut out = std::collections::HashMap::new();
    let mut header: Option<u32> = None;
    let (mut name, mut version) = (None::<String>, None::<String>);
    let mut flush = |header: Option<u32>, name: &mut Option<String>, version: &mut Option<String>| {
        if let (Some(line), Some(n)) = (header, name.take()) {
            out.entry((n, version.take().unwrap_or_default())).or_insert(line);
        }
        *version = None;
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            if line == "[[package]]" {
                flush(header, &mut name, &mut version);
                header = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
            } else if !line.starts_with("[package") && !line.starts_with("[[package.") {
                flush(header, &mut name, &mut version);
                header = None;
            }
            continue;
        }
        if header.is_none() {
            continue;
        }
        if let Some(value) = toml_string_value(line, "name") {
            name.get_or_insert(value);
        } else if let Some(value) = toml_string_value(line, "version") {
            version.get_or_insert(value);
        }
    }
    flush(header, &mut name, &mut version);
    out
}

/// `key = "value"` → `value` (basic strings without escapes, which is what lockfiles write).
pub(crate) fn toml_string_value(line: &str, key: &str) -> Option<String> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?.trim();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// The deepest `[`/`{` nesting of TOML values, outside strings and comments: the TOML
/// parsers recurse per level, so a hostile file is refused before it reaches them. Returns
/// the line where `limit` is first exceeded.
pub(crate) fn toml_nesting_exceeds(text: &str, limit: usize) -> Option<u32> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut i) = (0usize, 1u32, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' && quote == b'"' {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'\n') {
                        line += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The element nesting of XML text, approximately (comments and CDATA are not special-cased,
/// which can only overcount): roxmltree recurses per level on some paths, so deep documents
/// are refused before it sees them. Returns the line where `limit` is first exceeded.
pub(crate) fn xml_nesting_exceeds(text: &str, limit: usize) -> Option<u32> {
    let bytes = text.as_bytes();
    let (mut depth, mut line) = (0usize, 1u32);
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\n' => line += 1,
            b'<' => match bytes.get(i + 1) {
                Some(b'/') => depth = depth.saturating_sub(1),
                Some(b'!' | b'?') | None => {}
                Some(_) => {
                    depth += 1;
                    if depth > limit {
                        return Some(line);
                    }
                }
            },
            b'>' if i > 0 && bytes[i - 1] == b'/' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}
