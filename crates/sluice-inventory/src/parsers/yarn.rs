//! `yarn.lock`, classic (v1, yarn's own syntax) and berry (v2+, YAML). Both are read by one
//! line-based reader: an entry is a header line at column 0 (`"a@^1.0.0", a@^1.1.0:`), fields
//! indented by two spaces (`version "1.2.0"` or `version: 1.2.0`) and dependency lists by
//! four. A YAML library would read berry but not classic, and the shape both share is this
//! small.
//!
//! The lockfile does not say which packages the project asks for; the `package.json` next to
//! it does, so it is read when present (a package is direct when one of its specifiers is the
//! range package.json asks for). Workspace, link, portal and patch-free local entries are the
//! project's own code and are skipped.

use std::collections::{HashMap, HashSet};

use super::{package, sri_hashes, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{purl, Ecosystem, Hash, Package, Relationship, Source};

#[derive(Default)]
struct Entry {
    line: u32,
    specifiers: Vec<String>,
    version: Option<String>,
    resolved: Option<String>,
    resolution: Option<String>,
    integrity: Vec<Hash>,
    deps: Vec<(String, String)>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let entries = read_entries(text)?;
    let berry = text.contains("\n__metadata:") || text.starts_with("__metadata:");
    // specifier (`name@range`, berry: `name@npm:range`) → (name, version)
    let mut by_spec: HashMap<String, (String, String)> = HashMap::new();
    for e in &entries {
        let (Some(name), Some(version)) = (name_of(e), e.version.clone()) else { continue };
        for s in &e.specifiers {
            by_spec.insert(s.clone(), (name.clone(), version.clone()));
        }
    }
    let manifest = (ctx.read_include)("package.json").ok().and_then(|(_, t)| manifest_specs(&t, berry));
    let mut out = Vec::new();
    for e in &entries {
        let (Some(name), Some(version)) = (name_of(e), e.version.as_deref()) else { continue };
        let protocol = e.resolution.as_deref().unwrap_or("");
        if e.specifiers.iter().chain(std::iter::once(&protocol.to_string())).any(|s| is_local(s)) {
            continue;
        }
        let mut pkg = package(Ecosystem::Npm, &name, version, ctx.path, e.line);
        pkg.relationship = match &manifest {
            Some(specs) if e.specifiers.iter().any(|s| specs.contains(s)) => Relationship::Direct,
            Some(_) => Relationship::Transitive,
            None => Relationship::Unknown,
        };
        let location = e.resolved.as_deref().or(e.resolution.as_deref()).unwrap_or("");
        pkg.source = if location.contains("git+") || location.contains("#commit=") || location.starts_with("git") {
            Source::Git(location.to_string())
        } else {
            Source::Registry
        };
        pkg.hashes = e.integrity.clone();
        let mut deps: Vec<String> = e
            .deps
            .iter()
            .filter_map(|(dep, range)| {
                let key =
                    if berry && !range.contains(':') { format!("{dep}@npm:{range}") } else { format!("{dep}@{range}") };
                by_spec.get(&key).map(|(n, v)| purl::purl(Ecosystem::Npm, n, v))
            })
            .collect();
        deps.sort();
        deps.dedup();
        pkg.dependencies = deps;
        out.push(pkg);
    }
    Ok(out)
}

fn is_local(spec: &str) -> bool {
    ["@workspace:", "@link:", "@portal:", "@file:", "@exec:"].iter().any(|p| spec.contains(p))
}

/// The package name of an entry: the part of its first specifier before the range's `@`.
fn name_of(e: &Entry) -> Option<String> {
    let spec = e.specifiers.first()?;
    let (at, _) = spec.char_indices().skip(1).find(|(_, c)| *c == '@')?;
    Some(spec[..at].to_string())
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

/// `version "1.0.0"` (classic) or `version: 1.0.0` (berry) → (`version`, `1.0.0`).
fn field(line: &str) -> (&str, &str) {
    let line = line.trim();
    match line.split_once([' ', ':']) {
        Some((key, rest)) => (unquote(key), unquote(rest.trim_start_matches(':'))),
        None => (unquote(line), ""),
    }
}

fn read_entries(text: &str) -> Result<Vec<Entry>, ErrorKind> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    let mut in_deps = false;
    for (i, raw) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        match indent {
            0 => {
                entries.extend(current.take());
                in_deps = false;
                let header = raw.trim_end();
                let Some(header) = header.strip_suffix(':') else {
                    return Err(syntax(
                        Some(number),
                        format!("expected an entry header ending in `:`, found `{header}`"),
                    ));
                };
                if header == "__metadata" {
                    continue;
                }
                let specifiers = header.split(", ").map(|s| unquote(s).to_string()).filter(|s| !s.is_empty()).collect();
                current = Some(Entry { line: number, specifiers, ..Entry::default() });
            }
            2 => {
                let Some(entry) = current.as_mut() else { continue };
                let (key, value) = field(raw);
                in_deps = matches!(key, "dependencies" | "optionalDependencies") && value.is_empty();
                match key {
                    "version" => entry.version = Some(value.to_string()),
                    "resolved" => entry.resolved = Some(value.to_string()),
                    "resolution" => entry.resolution = Some(value.to_string()),
                    "integrity" => entry.integrity = sri_hashes(value),
                    _ => {}
                }
            }
            4 if in_deps => {
                if let Some(entry) = current.as_mut() {
                    let line = raw.trim();
                    // `"@babel/highlight" "^7.10.4"` or `"@babel/highlight": ^7.10.4`
                    let (name, range) = if let Some(rest) = line.strip_prefix('"') {
                        let end = rest.find('"').unwrap_or(rest.len());
                        (&rest[..end], rest.get(end + 1..).unwrap_or(""))
                    } else {
                        line.split_once([' ', ':']).unwrap_or((line, ""))
                    };
                    let range = unquote(range.trim_start_matches(':'));
                    entry.deps.push((name.trim_end_matches(':').to_string(), range.to_string()));
                }
            }
            _ => {}
        }
    }
    entries.extend(current);
    Ok(entries)
}

/// The specifiers package.json asks for (`name@range`; berry adds `npm:` to plain ranges).
fn manifest_specs(text: &str, berry: bool) -> Option<HashSet<String>> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut specs = HashSet::new();
    for key in ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] {
        for (name, range) in doc.get(key).and_then(|v| v.as_object()).into_iter().flatten() {
            let range = range.as_str().unwrap_or("");
            specs.insert(format!("{name}@{range}"));
            if berry && !range.contains(':') {
                specs.insert(format!("{name}@npm:{range}"));
            }
        }
    }
    Some(specs)
}
