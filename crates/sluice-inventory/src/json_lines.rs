//! Where each key of a JSON document is, by key path: serde_json does not keep positions, so
//! one linear pass over the (already validated) text records the line of every object key and
//! array element up to a depth. Paths are components joined by `\0` (keys may contain `/`).

use std::collections::HashMap;

pub(crate) struct JsonLines {
    lines: HashMap<String, u32>,
}

impl JsonLines {
    /// Indexes `text`, which must already have parsed as JSON (so strings are terminated).
    pub(crate) fn new(text: &str, max_depth: usize) -> Self {
        let bytes = text.as_bytes();
        let mut lines = HashMap::new();
        let mut line: u32 = 1;
        // (is_array, element index) per open container; `path[0]` is the root's empty name.
        let mut frames: Vec<(bool, usize)> = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut pending_key: Option<String> = None;
        let mut record = |path: &[String], last: &str, line: u32| {
            if path.len() <= max_depth {
                let mut key: Vec<&str> = path.iter().skip(1).map(String::as_str).collect();
                key.push(last);
                lines.entry(key.join("\0")).or_insert(line);
            }
        };
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line += 1,
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    let raw = text.get(start..i.min(bytes.len())).unwrap_or("");
                    let in_object = frames.last().is_some_and(|f| !f.0);
                    let next = bytes[(i + 1).min(bytes.len())..].iter().find(|b| !b.is_ascii_whitespace());
                    if in_object && pending_key.is_none() && next == Some(&b':') {
                        let key = unescape(raw);
                        record(&path, &key, line);
                        pending_key = Some(key);
                    } else {
                        pending_key = None;
                    }
                }
                b'{' | b'[' => {
                    let component = match frames.last() {
                        Some((true, index)) => {
                            let c = index.to_string();
                            record(&path, &c, line);
                            c
                        }
                        Some((false, _)) => pending_key.take().unwrap_or_default(),
                        None => String::new(),
                    };
                    path.push(component);
                    frames.push((bytes[i] == b'[', 0));
                }
                b'}' | b']' => {
                    frames.pop();
                    path.pop();
                    pending_key = None;
                }
                b',' => {
                    if let Some(frame) = frames.last_mut() {
                        frame.1 += 1;
                    }
                    pending_key = None;
                }
                _ => {}
            }
            i += 1;
        }
        JsonLines { lines }
    }

    /// The line of the key (or array element) at `path`, e.g. `["packages", "node_modules/a"]`.
    pub(crate) fn line(&self, path: &[&str]) -> Option<u32> {
        self.lines.get(&path.join("\0")).copied()
    }
}

fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_elements() {
        let text = "{\n \"a\": {\n  \"b/c\": 1,\n  \"d\": [\n   {\"x\": 1},\n   {\"y\": \"}\"}\n  ]\n },\n \"e\": 2\n}";
        let index = JsonLines::new(text, 8);
        assert_eq!(index.line(&["a"]), Some(2));
        assert_eq!(index.line(&["a", "b/c"]), Some(3));
        assert_eq!(index.line(&["a", "d", "0"]), Some(5));
        assert_eq!(index.line(&["a", "d", "1"]), Some(6));
        assert_eq!(index.line(&["a", "d", "1", "y"]), Some(6));
        assert_eq!(index.line(&["e"]), Some(9));
        assert_eq!(index.line(&["zzz"]), None);
    }
}
