//! Every `sluice/…` name in the workspace's code is spelled once, in `sluice_sarif::keys`.
//!
//! Reads every crate's `src/` as text (test modules, which start at a top-level
//! `#[cfg(test)]`, and comments left out) and fails on a string literal in the `sluice/`
//! namespace that is not one of the few names that are not SARIF names at all.

use std::path::{Path, PathBuf};

/// `"sluice/…"` literals that are not SARIF names: the user agent, cache and data directories,
/// the JUnit suite name.
const NOT_SARIF_NAMES: &[&str] = &["\"sluice/\"", "\"sluice/advisories.db\"", "\"sluice/server\"", "\"sluice/{}\""];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `"sluice/…"` literals of one file's non-test code, with their line numbers.
fn literals(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("\"sluice/") {
            let after = &rest[at + 1..];
            let Some(end) = after.find(['"', '\\']) else { break };
            if after.as_bytes()[end] == b'"' {
                found.push((n + 1, format!("\"{}\"", &after[..end])));
            }
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn the_scan_sees_a_literal() {
    let text = "let a = props.get(\"sluice/new-key\");\n// \"sluice/in-a-comment\"\nmsg(\"as in [\\\"sluice/v1\\\"]\");\n#[cfg(test)]\nmod tests { \"sluice/t\" }\n";
    assert_eq!(literals(text), [(1, "\"sluice/new-key\"".to_owned())]);
}

#[test]
fn no_sluice_name_is_spelled_outside_keys() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap_or_else(|e| panic!("{}: {e}", crates.display())).flatten() {
        rust_files(&krate.path().join("src"), &mut files);
    }
    files.sort();
    assert!(files.len() > 50, "found only {} source files under {}", files.len(), crates.display());
    let keys_rs = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/keys.rs");
    let mut stray = Vec::new();
    for file in files.iter().filter(|f| f.canonicalize().ok() != keys_rs.canonicalize().ok()) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (line, literal) in literals(&text) {
            if !NOT_SARIF_NAMES.contains(&literal.as_str()) {
                stray.push(format!("{}:{line}: {literal}", file.display()));
            }
        }
    }
    assert!(stray.is_empty(), "use a constant of sluice_sarif::keys instead:\n{}", stray.join("\n"));
}

#[test]
fn keys_are_the_names_the_contract_documents() {
    use sluice_sarif::keys;
    assert_eq!(keys::FINGERPRINT, "sluice/v1");
    assert_eq!(keys::STAGE, "sluice/stage");
    assert_eq!(keys::TRIAGE_CATEGORY, keys::category("triage"));
    assert!(keys::ALL.contains(&keys::TRIAGE));
}
