//! NuGet's `packages.lock.json`: per target framework, `Direct`, `Transitive` and
//! `CentralTransitive` packages with their resolved version and `contentHash` (base64 SHA-512
//! of the .nupkg). `Project` entries are the solution's own projects and are skipped. A
//! package locked for several frameworks is listed once, at its first entry.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{hash, json_error, package, Ctx};
use crate::error::ErrorKind;
use crate::json_lines::JsonLines;
use crate::{purl, Ecosystem, Package, Relationship};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default, rename = "contentHash")]
    content_hash: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let lines = JsonLines::new(text, 3);
    let mut by_id: BTreeMap<(String, String), Package> = BTreeMap::new();
    for (framework, entries) in &lock.dependencies {
        for (name, entry) in entries {
            let Some(version) = entry.resolved.as_deref() else { continue };
            if entry.kind == "Project" {
                continue;
            }
            let line = lines.line(&["dependencies", framework, name]).unwrap_or(1);
            let mut pkg = package(Ecosystem::NuGet, name, version, ctx.path, line);
            pkg.relationship = if entry.kind == "Direct" { Relationship::Direct } else { Relationship::Transitive };
            pkg.hashes = entry.content_hash.iter().filter_map(|h| hash("sha512", h, true)).collect();
            pkg.dependencies = entry
                .dependencies
                .keys()
                .filter_map(|d| entries.get(d)?.resolved.as_deref().map(|v| purl::purl(Ecosystem::NuGet, d, v)))
                .collect();
            pkg.dependencies.sort();
            let key = (name.to_lowercase(), version.to_string());
            match by_id.get_mut(&key) {
                // Direct for any framework is direct.
                Some(existing) if pkg.relationship == Relationship::Direct => {
                    existing.relationship = Relationship::Direct
                }
                Some(_) => {}
                None => {
                    by_id.insert(key, pkg);
                }
            }
        }
    }
    Ok(by_id.into_values().collect())
}
