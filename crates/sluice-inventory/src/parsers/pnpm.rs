//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x. Package keys differ by version
//! (`/name/1.0.0`, `/name@1.0.0`, `name@1.0.0`, each with an optional peer suffix); importers
//! (the root and workspace packages) say what is direct. YAML is read with serde-saphyr,
//! whose budget bounds depth, aliases and size against hostile files.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::{package, sri_hashes, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{purl, Ecosystem, Package, Relationship, Source};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<Value>,
    importers: BTreeMap<String, Importer>,
    #[serde(flatten)]
    root: Importer,
    packages: BTreeMap<String, Entry>,
    snapshots: BTreeMap<String, Snapshot>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Importer {
    dependencies: BTreeMap<String, Value>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolution: BTreeMap<String, Value>,
    dependencies: BTreeMap<String, Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Snapshot {
    dependencies: BTreeMap<String, Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, Value>,
}

/// A version reference in an importer or a dependency map: a string, or `{version: …}`.
fn version_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(m) => m.get("version").and_then(Value::as_str),
        _ => None,
    }
}

/// Drops a peer-dependency suffix: `1.0.0(react@18.0.0)` (v6+) or `1.0.0_react@18.0.0` (v5).
fn strip_peers(version: &str) -> &str {
    let v = version.split('(').next().unwrap_or(version);
    v.split('_').next().unwrap_or(v)
}

/// `(name, version)` of a package key of any lockfile version.
fn split_key(key: &str) -> Option<(String, String)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next().unwrap_or(key);
    // v6/v9: name@version (the name may start with `@scope/`).
    if let Some((at, _)) = key.char_indices().skip(1).find(|(_, c)| *c == '@') {
        return Some((key[..at].to_string(), strip_peers(&key[at + 1..]).to_string()));
    }
    // v5: name/version or @scope/name/version.
    let (name, version) = key.rsplit_once('/')?;
    Some((name.to_string(), strip_peers(version).to_string()))
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let lock: Lock = serde_saphyr::from_str(text)
        .map_err(|e| syntax(yaml_line(&e.to_string()), format!("invalid YAML: {}", first_line(&e.to_string()))))?;
    if lock.lockfile_version.is_none() {
        return Err(syntax(None, "no lockfileVersion: this is not a pnpm-lock.yaml"));
    }
    let lines = key_lines(text, "packages");
    let mut importers: Vec<&Importer> = lock.importers.values().collect();
    importers.push(&lock.root);
    let mut direct: HashSet<(String, String)> = HashSet::new();
    for imp in importers {
        for (name, v) in imp.dependencies.iter().chain(&imp.dev_dependencies).chain(&imp.optional_dependencies) {
            if let Some(version) = version_of(v) {
                direct.insert((name.clone(), strip_peers(version).to_string()));
            }
        }
    }
    // Resolve a dependency reference (`1.0.0`, `1.0.0(peer)`, or an alias `name@1.0.0`).
    let resolve = |dep: &str, v: &Value| -> Option<String> {
        let version = version_of(v)?;
        if version.starts_with("link:") || version.starts_with("file:") {
            return None;
        }
        let is_alias =
            version.starts_with('/') || (!version.starts_with(|c: char| c.is_ascii_digit()) && version.contains('@'));
        if is_alias {
            let (n, ver) = split_key(version)?;
            Some(purl::purl(Ecosystem::Npm, &n, &ver))
        } else {
            Some(purl::purl(Ecosystem::Npm, dep, strip_peers(version)))
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (key, entry) in &lock.packages {
        let Some((key_name, key_version)) = split_key(key) else { continue };
        let name = entry.name.clone().unwrap_or(key_name);
        let version = entry.version.clone().unwrap_or(key_version);
        if !seen.insert((name.clone(), version.clone())) {
            continue;
        }
        let line = lines.get(key.as_str()).copied().unwrap_or(1);
        let mut pkg = package(Ecosystem::Npm, &name, &version, ctx.path, line);
        pkg.relationship = if direct.contains(&(name.clone(), version.clone())) {
            Relationship::Direct
        } else {
            Relationship::Transitive
        };
        if let Some(repo) = entry.resolution.get("repo").and_then(Value::as_str) {
            let commit = entry.resolution.get("commit").and_then(Value::as_str).unwrap_or("");
            pkg.source = Source::Git(format!("{repo}#{commit}"));
        } else if let Some(dir) = entry.resolution.get("directory").and_then(Value::as_str) {
            pkg.source = Source::Path(dir.to_string());
        } else if let Some(tarball) = entry.resolution.get("tarball").and_then(Value::as_str) {
            if !tarball.contains("registry") {
                pkg.source = Source::Url(tarball.to_string());
            }
        }
        pkg.hashes = entry.resolution.get("integrity").and_then(Value::as_str).map(sri_hashes).unwrap_or_default();
        // v9 keeps dependencies in `snapshots` (one per peer combination).
        let mut deps: Vec<String> =
            entry.dependencies.iter().chain(&entry.optional_dependencies).filter_map(|(d, v)| resolve(d, v)).collect();
        for (skey, snap) in &lock.snapshots {
            if split_key(skey).is_some_and(|(n, v)| n == name && v == version) {
                deps.extend(
                    snap.dependencies.iter().chain(&snap.optional_dependencies).filter_map(|(d, v)| resolve(d, v)),
                );
            }
        }
        deps.sort();
        deps.dedup();
        pkg.dependencies = deps;
        out.push(pkg);
    }
    Ok(out)
}

/// Lines of the keys directly under a top-level `section:` (two-space indent), unquoted.
fn key_lines<'a>(text: &'a str, section: &str) -> HashMap<&'a str, u32> {
    let mut out = HashMap::new();
    let mut inside = false;
    for (i, raw) in text.lines().enumerate() {
        if !raw.starts_with(' ') && !raw.trim().is_empty() {
            inside = raw.trim_end() == format!("{section}:");
            continue;
        }
        if !inside || raw.len() < 3 || !raw.starts_with("  ") || raw.as_bytes()[2] == b' ' {
            continue;
        }
        let key = raw.trim().strip_suffix(':').unwrap_or(raw.trim());
        let key = key.trim_matches(|c| c == '\'' || c == '"');
        out.insert(key, u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    out
}

fn yaml_line(message: &str) -> Option<u32> {
    let rest = &message[message.find("line ")? + 5..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}
