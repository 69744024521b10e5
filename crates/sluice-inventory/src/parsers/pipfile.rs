//! `Pipfile.lock` (JSON): `default` and `develop` sections, versions as `==x`, hashes. Direct
//! packages are the ones the `Pipfile` next to it names; without it, `Unknown`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{hash, json_error, package, Ctx};
use crate::error::ErrorKind;
use crate::json_lines::JsonLines;
use crate::purl::pep503;
use crate::{Ecosystem, Package, Relationship, Source};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let lines = JsonLines::new(text, 3);
    let direct = (ctx.read_include)("Pipfile").ok().and_then(|(_, t)| pipfile_names(&t));
    let mut out = Vec::new();
    for (section, entries) in [("default", &lock.default), ("develop", &lock.develop)] {
        for (raw_name, entry) in entries {
            let name = pep503(raw_name);
            let version = match (&entry.version, &entry.git_ref) {
                (Some(v), _) => v.trim_start_matches("==").trim_start_matches('=').to_string(),
                (None, Some(r)) if entry.git.is_some() => r.clone(),
                _ => continue,
            };
            let line = lines.line(&[section, raw_name]).unwrap_or(1);
            let mut pkg = package(Ecosystem::PyPI, &name, &version, ctx.path, line);
            pkg.relationship = match &direct {
                Some(d) if d.contains(&name) => Relationship::Direct,
                Some(_) => Relationship::Transitive,
                None => Relationship::Unknown,
            };
            pkg.source = match (&entry.git, &entry.path) {
                (Some(g), _) => Source::Git(g.clone()),
                (None, Some(p)) => Source::Path(p.clone()),
                _ => Source::Registry,
            };
            pkg.hashes =
                entry.hashes.iter().filter_map(|h| h.split_once(':')).filter_map(|(a, v)| hash(a, v, false)).collect();
            pkg.hashes.sort();
            pkg.hashes.dedup();
            out.push(pkg);
        }
    }
    Ok(out)
}

/// Names under `[packages]` and `[dev-packages]` of a Pipfile (TOML).
fn pipfile_names(text: &str) -> Option<HashSet<String>> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut names = HashSet::new();
    for section in ["packages", "dev-packages"] {
        if let Some(table) = doc.get(section).and_then(toml::Value::as_table) {
            names.extend(table.keys().map(|k| pep503(k)));
        }
    }
    Some(names)
}
