//! `uv.lock`. The project itself (an `editable`, `virtual` or `directory` source at `.`) is
//! not a dependency; what it asks for (dependencies, optional and dev groups) is direct.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{hash, package, toml_error, Ctx};
use crate::error::ErrorKind;
use crate::purl::pep503;
use crate::{purl, Ecosystem, Hash, Package, Relationship, Source};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<DepRef>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<DepRef>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<DepRef>>,
    #[serde(default)]
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
}

#[derive(Deserialize)]
struct DepRef {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(default)]
    hash: Option<String>,
}

fn is_project(entry: &Entry) -> bool {
    ["editable", "virtual"].iter().any(|k| entry.source.contains_key(*k))
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    super::check_toml_nesting(text)?;
    let lock: Lock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let lines = crate::text::toml_package_lines(text);
    // name → versions present, to resolve references that carry no version.
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in &lock.package {
        versions.entry(pep503(&entry.name)).or_default().push(entry.version.clone().unwrap_or_default());
    }
    let refs_of = |entry: &Entry| -> Vec<(String, String)> {
        let all = entry
            .dependencies
            .iter()
            .chain(entry.optional_dependencies.values().flatten())
            .chain(entry.dev_dependencies.values().flatten());
        all.filter_map(|d| {
            let name = pep503(&d.name);
            let version = match &d.version {
                Some(v) => v.clone(),
                None => versions.get(&name)?.first()?.clone(),
            };
            Some((name, version))
        })
        .collect()
    };
    let direct: HashSet<(String, String)> = lock.package.iter().filter(|e| is_project(e)).flat_map(refs_of).collect();
    let mut out = Vec::new();
    for entry in lock.package.iter().filter(|e| !is_project(e)) {
        let Some(version) = entry.version.as_deref() else { continue };
        let name = pep503(&entry.name);
        let line = lines.get(&(entry.name.clone(), version.to_string())).copied().unwrap_or(1);
        let mut pkg = package(Ecosystem::PyPI, &name, version, ctx.path, line);
        pkg.relationship = if direct.contains(&(name.clone(), version.to_string())) {
            Relationship::Direct
        } else {
            Relationship::Transitive
        };
        let source_str = |k: &str| entry.source.get(k).and_then(|v| v.as_str()).map(str::to_string);
        pkg.source = if let Some(git) = source_str("git") {
            Source::Git(git)
        } else if let Some(path) = source_str("path").or_else(|| source_str("directory")) {
            Source::Path(path)
        } else if let Some(url) = source_str("url") {
            Source::Url(url)
        } else {
            Source::Registry
        };
        let mut hashes: Vec<Hash> = entry
            .sdist
            .iter()
            .chain(entry.wheels.iter())
            .filter_map(|a| a.hash.as_deref()?.split_once(':'))
            .filter_map(|(alg, v)| hash(alg, v, false))
            .collect();
        hashes.sort();
        hashes.dedup();
        pkg.hashes = hashes;
        let mut deps: Vec<String> = refs_of(entry).iter().map(|(n, v)| purl::purl(Ecosystem::PyPI, n, v)).collect();
        deps.sort();
        deps.dedup();
        pkg.dependencies = deps;
        out.push(pkg);
    }
    Ok(out)
}
