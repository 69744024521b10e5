//! `package-lock.json` and `npm-shrinkwrap.json`, lockfileVersion 1 (nested `dependencies`)
//! and 2/3 (flat `packages` keyed by install path).
//!
//! v2/v3 say which packages the root (and workspace members) ask for, so those are direct;
//! v1 does not record the root's own dependencies, so its packages are `Unknown`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::{json_error, package, sri_hashes, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::json_lines::JsonLines;
use crate::{purl, Ecosystem, Package, Relationship, Source};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion", default)]
    version: Option<Value>,
    #[serde(default)]
    packages: Option<BTreeMap<String, Entry>>,
    #[serde(default)]
    dependencies: Option<Value>,
}

#[derive(Deserialize)]
struct V1Lock {
    dependencies: BTreeMap<String, V1Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Entry {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    requires: Option<BTreeMap<String, Value>>,
    dependencies: BTreeMap<String, V1Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    link: bool,
    /// v2/v3: name → range; v1: nested entries.
    dependencies: Option<Value>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<BTreeMap<String, Value>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, Value>>,
    #[serde(rename = "peerDependencies")]
    peer_dependencies: Option<BTreeMap<String, Value>>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    match (lock.packages, lock.dependencies) {
        (Some(packages), _) => Ok(flat(&packages, &JsonLines::new(text, 2), ctx)),
        (None, Some(_)) => {
            let lines = JsonLines::new(text, 64);
            let v1: V1Lock = serde_json::from_str(text).map_err(|e| json_error(&e))?;
            let mut out = Vec::new();
            nested(&v1.dependencies, &mut vec!["dependencies".to_string()], &mut Vec::new(), &lines, ctx, &mut out, 0)?;
            Ok(out)
        }
        (None, None) => match lock.version {
            // An empty project's lockfile has neither key.
            Some(_) => Ok(Vec::new()),
            None => Err(syntax(None, "no lockfileVersion, packages or dependencies: this is not a package-lock.json")),
        },
    }
}

fn source_of(resolved: Option<&str>) -> Source {
    match resolved {
        Some(r) if r.starts_with("git") || r.contains("git+") => Source::Git(r.to_string()),
        Some(r) if r.starts_with("file:") => Source::Path(r.trim_start_matches("file:").to_string()),
        _ => Source::Registry,
    }
}

/// The package name of an install path: what follows its last `node_modules/`.
fn name_of_path(path: &str) -> Option<&str> {
    path.rfind("node_modules/").map(|i| &path[i + "node_modules/".len()..])
}

fn dep_names(entry: &Entry) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(Value::Object(map)) = &entry.dependencies {
        names.extend(map.keys().cloned());
    }
    for map in [&entry.dev_dependencies, &entry.optional_dependencies, &entry.peer_dependencies].into_iter().flatten() {
        names.extend(map.keys().cloned());
    }
    names
}

/// Node's resolution: `dep` as seen from install path `from` is the nearest
/// `…/node_modules/dep` going up.
fn resolve<'a>(packages: &'a BTreeMap<String, Entry>, from: &str, dep: &str) -> Option<(&'a String, &'a Entry)> {
    let mut base = from.to_string();
    loop {
        let candidate =
            if base.is_empty() { format!("node_modules/{dep}") } else { format!("{base}/node_modules/{dep}") };
        if let Some(found) = packages.get_key_value(&candidate) {
            return Some(found);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_string(),
            None if base.starts_with("node_modules/") => String::new(),
            // A workspace member's own directory: its deps may be hoisted to the root.
            None => String::new(),
        };
    }
}

fn flat(packages: &BTreeMap<String, Entry>, lines: &JsonLines, ctx: &Ctx<'_>) -> Vec<Package> {
    // The root ("") and workspace members (paths outside node_modules) are the project.
    let mut direct: HashSet<String> = HashSet::new();
    for (path, entry) in packages.iter().filter(|(p, _)| name_of_path(p).is_none()) {
        for dep in dep_names(entry) {
            if let Some((key, _)) = resolve(packages, path, &dep) {
                direct.insert(key.clone());
            }
        }
    }
    let mut out = Vec::new();
    for (path, entry) in packages {
        let Some(path_name) = name_of_path(path) else { continue };
        if entry.link {
            continue;
        }
        let name = entry.name.as_deref().unwrap_or(path_name);
        let Some(version) = entry.version.as_deref() else { continue };
        let line = lines.line(&["packages", path]).unwrap_or(1);
        let mut pkg = package(Ecosystem::Npm, name, version, ctx.path, line);
        pkg.relationship = if direct.contains(path) { Relationship::Direct } else { Relationship::Transitive };
        pkg.source = source_of(entry.resolved.as_deref());
        pkg.hashes = entry.integrity.as_deref().map(sri_hashes).unwrap_or_default();
        let mut deps: Vec<String> = dep_names(entry)
            .iter()
            .filter_map(|d| resolve(packages, path, d))
            .filter_map(|(key, e)| {
                let n = e.name.as_deref().or_else(|| name_of_path(key))?;
                Some(purl::purl(Ecosystem::Npm, n, e.version.as_deref()?))
            })
            .collect();
        deps.sort();
        deps.dedup();
        pkg.dependencies = deps;
        out.push(pkg);
    }
    out
}

/// v1: `dependencies` nest where npm had to install a second copy. `scopes` holds the
/// enclosing `dependencies` maps, innermost last, for resolving `requires`.
fn nested<'a>(
    deps: &'a BTreeMap<String, V1Entry>,
    json_path: &mut Vec<String>,
    scopes: &mut Vec<&'a BTreeMap<String, V1Entry>>,
    lines: &JsonLines,
    ctx: &Ctx<'_>,
    out: &mut Vec<Package>,
    depth: usize,
) -> Result<(), ErrorKind> {
    if depth > 200 {
        return Err(syntax(None, "dependencies nest more than 200 levels deep"));
    }
    scopes.push(deps);
    for (name, entry) in deps {
        json_path.push(name.clone());
        if let Some(version) = entry.version.as_deref() {
            let path: Vec<&str> = json_path.iter().map(String::as_str).collect();
            let line = lines.line(&path).unwrap_or(1);
            let mut pkg = package(Ecosystem::Npm, name, version, ctx.path, line);
            pkg.relationship = Relationship::Unknown;
            pkg.source = source_of(entry.resolved.as_deref());
            pkg.hashes = entry.integrity.as_deref().map(sri_hashes).unwrap_or_default();
            let mut resolved = Vec::new();
            for dep in entry.requires.iter().flat_map(|r| r.keys()) {
                let found = entry.dependencies.get(dep).or_else(|| scopes.iter().rev().find_map(|s| s.get(dep)));
                if let Some(v) = found.and_then(|e| e.version.as_deref()) {
                    resolved.push(purl::purl(Ecosystem::Npm, dep, v));
                }
            }
            resolved.sort();
            resolved.dedup();
            pkg.dependencies = resolved;
            out.push(pkg);
            if !entry.dependencies.is_empty() {
                json_path.push("dependencies".to_string());
                nested(&entry.dependencies, json_path, scopes, lines, ctx, out, depth + 1)?;
                json_path.pop();
            }
        }
        json_path.pop();
    }
    scopes.pop();
    Ok(())
}
