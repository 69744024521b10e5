//! Parsers for the package databases and metadata files found in images. Each takes bytes
//! (possibly hostile) and returns what it could read; none of them panics or allocates more
//! than a small multiple of its input.

use std::collections::BTreeMap;

/// `/etc/os-release` (`KEY=value`, values optionally quoted, `#` comments).
pub fn os_release(bytes: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .unwrap_or(v);
            out.insert(k.trim().to_owned(), v.replace("\\\"", "\""));
        }
    }
    out
}

/// One installed OS package from a package database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsPackage {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    /// The source package (dpkg `Source:`, apk `o:` origin), when it differs.
    pub source: Option<String>,
    /// The source package's version, when dpkg gives one (`Source: bash (5.2.15-2)`).
    pub source_version: Option<String>,
    /// 1-based line of the stanza in the database file.
    pub line: u32,
}

/// RFC 822-style stanzas separated by blank lines: (first line, fields). Continuation lines
/// (starting with a space or tab) are appended to the previous field.
fn stanzas(text: &str, separator: char) -> Vec<(u32, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut start = 1u32;
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            if !fields.is_empty() {
                out.push((start, std::mem::take(&mut fields)));
            }
            continue;
        }
        if fields.is_empty() {
            start = n;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                // Long fields (Description, Conffiles) are not needed: keep them bounded.
                if last.1.len() < 256 {
                    last.1.push('\n');
                    last.1.push_str(line.trim());
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(separator) {
            fields.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !fields.is_empty() {
        out.push((start, fields));
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// dpkg's `status` file (or one file of distroless `status.d/`): packages whose `Status` says
/// `installed` (half-installed and config-files-only packages are not installed software).
pub fn dpkg_status(bytes: &[u8]) -> Vec<OsPackage> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (line, fields) in stanzas(&text, ':') {
        let (Some(name), Some(version)) = (field(&fields, "Package"), field(&fields, "Version")) else { continue };
        // status.d files carry no Status field: their presence means installed.
        if let Some(status) = field(&fields, "Status") {
            if status.split_whitespace().nth(2) != Some("installed") {
                continue;
            }
        }
        if name.is_empty() || version.is_empty() {
            continue;
        }
        // `Source: glibc` or `Source: bash (5.2.15-2)` (a binNMU: the binary version differs).
        let source_field = field(&fields, "Source").unwrap_or_default();
        let mut parts = source_field.split_whitespace();
        let source = parts.next().map(str::to_owned).filter(|s| s != name && !s.is_empty());
        let source_version = parts
            .next()
            .and_then(|v| v.strip_prefix('(').and_then(|v| v.strip_suffix(')')))
            .map(str::to_owned)
            .filter(|v| v != version && !v.is_empty());
        out.push(OsPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: field(&fields, "Architecture").map(str::to_owned),
            source,
            source_version,
            line,
        });
    }
    out
}

/// apk's `lib/apk/db/installed`: stanzas of one-letter fields (`P:` name, `V:` version,
/// `A:` arch, `o:` origin), as documented in the Alpine wiki's "Apk spec".
pub fn apk_installed(bytes: &[u8]) -> Vec<OsPackage> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (line, fields) in stanzas(&text, ':') {
        // apk field names are case-sensitive single letters: `field` is not used here.
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
        let (Some(name), Some(version)) = (get("P"), get("V")) else { continue };
        if name.is_empty() || version.is_empty() {
            continue;
        }
        out.push(OsPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: get("A").map(str::to_owned),
            source: get("o").map(str::to_owned).filter(|o| o != name),
            source_version: None,
            line,
        });
    }
    out
}

/// A Python distribution's `METADATA` / `PKG-INFO` header: (name, version).
pub fn python_metadata(bytes: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            match k {
                "Name" => name = Some(v.trim().to_owned()),
                "Version" => version = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    Some((sluice_inventory::purl::pep503(&name?), version?)).filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

/// An npm `package.json`: (name, version), when both are strings.
pub fn npm_package_json(bytes: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        name: Option<String>,
        version: Option<String>,
    }
    let m: Manifest = serde_json::from_slice(bytes).ok()?;
    Some((m.name?, m.version?)).filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg() {
        let text = b"Package: a\nStatus: install ok installed\nVersion: 1:2.3-4\nArchitecture: amd64\nSource: asrc (2.3-4)\nDescription: x\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: c\nVersion: 2\n";
        let p = dpkg_status(text);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].version.as_str(), p[0].source.as_deref()), ("a", "1:2.3-4", Some("asrc")));
        assert_eq!(p[1].line, 13);
    }

    #[test]
    fn apk() {
        let p = apk_installed(b"C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r29\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].source, None);
        assert_eq!(p[1].line, 7);
    }

    #[test]
    fn python_and_npm() {
        assert_eq!(
            python_metadata(b"Metadata-Version: 2.1\nName: Zope.Interface\nVersion: 6.0\n\nName: no"),
            Some(("zope-interface".into(), "6.0".into()))
        );
        assert_eq!(npm_package_json(br#"{"name":"@a/b","version":"1.0.0"}"#), Some(("@a/b".into(), "1.0.0".into())));
        assert_eq!(npm_package_json(b"{"), None);
    }
}
