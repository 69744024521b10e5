//! `Gemfile.lock`: the `specs:` of the `GEM`, `GIT` and `PATH` sections, `DEPENDENCIES`
//! (direct gems) and, from Bundler 2.5, `CHECKSUMS`.

use std::collections::{HashMap, HashSet};

use super::{hash, package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{purl, Ecosystem, Package, Relationship, Source};

struct Spec {
    name: String,
    version: String,
    line: u32,
    source: Source,
    deps: Vec<String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let mut specs: Vec<Spec> = Vec::new();
    let mut direct = HashSet::new();
    let mut checksums: HashMap<(String, String), Vec<crate::Hash>> = HashMap::new();
    let mut section = String::new();
    let (mut remote, mut revision) = (String::new(), String::new());
    let mut in_specs = false;
    for (i, raw) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            section = line.to_string();
            in_specs = false;
            remote.clear();
            revision.clear();
            continue;
        }
        match section.as_str() {
            "GEM" | "GIT" | "PATH" | "PLUGIN SOURCE" => {
                if indent == 2 {
                    if let Some(r) = line.strip_prefix("remote:") {
                        remote = r.trim().to_string();
                    } else if let Some(r) = line.strip_prefix("revision:") {
                        revision = r.trim().to_string();
                    }
                    in_specs = line == "specs:";
                } else if in_specs && indent == 4 {
                    let (name, version) = name_version(line)
                        .ok_or_else(|| syntax(Some(number), format!("expected `name (version)`, found `{line}`")))?;
                    let source = match section.as_str() {
                        "GIT" => Source::Git(format!("{remote}#{revision}")),
                        "PATH" => Source::Path(remote.clone()),
                        _ => Source::Registry,
                    };
                    specs.push(Spec {
                        name,
                        version: strip_platform(&version),
                        line: number,
                        source,
                        deps: Vec::new(),
                    });
                } else if in_specs && indent == 6 {
                    if let (Some(spec), Some(dep)) = (specs.last_mut(), line.split_whitespace().next()) {
                        spec.deps.push(dep.to_string());
                    }
                }
            }
            "DEPENDENCIES" => {
                if let Some(name) = line.split_whitespace().next() {
                    direct.insert(name.trim_end_matches('!').to_string());
                }
            }
            "CHECKSUMS" => {
                // `name (version) sha256=hex`
                if let Some((nv, sums)) = line.split_once(") ") {
                    if let Some((name, version)) = name_version(&format!("{nv})")) {
                        let hashes = sums
                            .split(',')
                            .filter_map(|s| s.trim().split_once('='))
                            .filter_map(|(a, v)| hash(a, v, false))
                            .collect();
                        checksums.insert((name, strip_platform(&version)), hashes);
                    }
                }
            }
            _ => {}
        }
    }
    let versions: HashMap<&str, &str> = specs.iter().map(|s| (s.name.as_str(), s.version.as_str())).collect();
    let mut out = Vec::new();
    for spec in &specs {
        let mut pkg = package(Ecosystem::RubyGems, &spec.name, &spec.version, ctx.path, spec.line);
        pkg.relationship = if direct.is_empty() {
            Relationship::Unknown
        } else if direct.contains(&spec.name) {
            Relationship::Direct
        } else {
            Relationship::Transitive
        };
        pkg.source = spec.source.clone();
        pkg.hashes = checksums.get(&(spec.name.clone(), spec.version.clone())).cloned().unwrap_or_default();
        pkg.dependencies = spec
            .deps
            .iter()
            .filter_map(|d| versions.get(d.as_str()).map(|v| purl::purl(Ecosystem::RubyGems, d, v)))
            .collect();
        pkg.dependencies.sort();
        pkg.dependencies.dedup();
        out.push(pkg);
    }
    Ok(out)
}

/// `rails (7.0.4)` → (`rails`, `7.0.4`).
fn name_version(line: &str) -> Option<(String, String)> {
    let (name, rest) = line.split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// `1.13.10-x86_64-linux` → `1.13.10`: the platform is not part of the gem's version.
fn strip_platform(version: &str) -> String {
    version.split_once('-').map(|(v, _)| v).unwrap_or(version).to_string()
}
