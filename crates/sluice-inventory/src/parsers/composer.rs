//! `composer.lock`: `packages` and `packages-dev`. Direct packages are the ones the
//! `composer.json` next to it requires; without it, `Unknown`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::{hash, json_error, package, Ctx};
use crate::error::ErrorKind;
use crate::json_lines::JsonLines;
use crate::{purl, Ecosystem, Package, Relationship, Source};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    packages: Vec<Entry>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    #[serde(default)]
    dist: Option<Dist>,
    #[serde(default)]
    source: Option<Dist>,
    #[serde(default)]
    require: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct Dist {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let lines = JsonLines::new(text, 2);
    let direct = (ctx.read_include)("composer.json").ok().and_then(|(_, t)| composer_json_names(&t));
    let versions: BTreeMap<String, String> =
        lock.packages.iter().chain(&lock.packages_dev).map(|e| (e.name.to_lowercase(), e.version.clone())).collect();
    let mut out = Vec::new();
    for (section, entries) in [("packages", &lock.packages), ("packages-dev", &lock.packages_dev)] {
        for (index, entry) in entries.iter().enumerate() {
            let line = lines.line(&[section, &index.to_string()]).unwrap_or(1);
            let mut pkg = package(Ecosystem::Packagist, &entry.name, &entry.version, ctx.path, line);
            pkg.relationship = match &direct {
                Some(d) if d.contains(&entry.name.to_lowercase()) => Relationship::Direct,
                Some(_) => Relationship::Transitive,
                None => Relationship::Unknown,
            };
            pkg.source = match (&entry.dist, &entry.source) {
                (Some(d), _) if d.kind == "path" => Source::Path(d.url.clone()),
                (None, Some(s)) if s.kind == "git" => {
                    Source::Git(format!("{}#{}", s.url, s.reference.clone().unwrap_or_default()))
                }
                _ => Source::Registry,
            };
            pkg.hashes = entry.dist.iter().filter_map(|d| hash("sha1", d.shasum.as_deref()?, false)).collect();
            pkg.dependencies = entry
                .require
                .keys()
                .filter_map(|d| versions.get(&d.to_lowercase()).map(|v| purl::purl(Ecosystem::Packagist, d, v)))
                .collect();
            pkg.dependencies.sort();
            out.push(pkg);
        }
    }
    Ok(out)
}

fn composer_json_names(text: &str) -> Option<HashSet<String>> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let mut names = HashSet::new();
    for key in ["require", "require-dev"] {
        if let Some(map) = doc.get(key).and_then(Value::as_object) {
            names.extend(map.keys().map(|k| k.to_lowercase()));
        }
    }
    Some(names)
}
