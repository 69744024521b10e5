//! TEMPORARY: a Cargo.lock-only stand-in for `sluice_inventory::discover` until the
//! inventory branch (feat/inventory) lands; replaced by it at merge.

use std::path::Path;

use sluice_inventory::{Ecosystem, Location, Package, Relationship};

pub struct Scanned {
    pub path: String,
    pub packages: Vec<(Package, bool)>,
    pub error: Option<String>,
}

pub fn inventory(root: &Path) -> (Vec<Scanned>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let walker = ignore::WalkBuilder::new(root).hidden(false).filter_entry(|e| e.file_name() != ".git").build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        if entry.file_name() != "Cargo.lock" || !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path()).to_string_lossy().replace('\\', "/");
        let text = match std::fs::read(entry.path()).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                out.push(Scanned { path: rel.clone(), packages: vec![], error: Some(format!("{rel}: not UTF-8")) });
                continue;
            }
            Err(e) => {
                out.push(Scanned { path: rel.clone(), packages: vec![], error: Some(format!("{rel}: {e}")) });
                continue;
            }
        };
        let mut packages = Vec::new();
        let mut current: Option<(String, String, bool, u32)> = None;
        let flush = |c: Option<(String, String, bool, u32)>, packages: &mut Vec<(Package, bool)>| {
            if let Some((name, version, registry, line)) = c {
                if !name.is_empty() && !version.is_empty() {
                    let purl = format!("pkg:cargo/{name}@{version}");
                    packages.push((
                        Package {
                            ecosystem: Ecosystem::CratesIo,
                            name,
                            version,
                            purl,
                            relationship: Relationship::Unknown,
                            location: Location { path: rel.clone(), line },
                            hashes: vec![],
                            dependencies: vec![],
                            layer: None,
                        },
                        registry,
                    ));
                }
            }
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line == "[[package]]" {
                flush(current.take(), &mut packages);
                current = Some((String::new(), String::new(), false, i as u32 + 1));
            } else if let Some(c) = current.as_mut() {
                let value = |l: &str, k: &str| l.strip_prefix(k).map(|v| v.trim().trim_matches('"').to_owned());
                if let Some(v) = value(line, "name =") {
                    c.0 = v;
                    c.3 = i as u32 + 1;
                } else if let Some(v) = value(line, "version =") {
                    c.1 = v;
                } else if let Some(v) = value(line, "source =") {
                    c.2 = v.starts_with("registry+") || v.starts_with("sparse+");
                } else if line.starts_with('[') {
                    flush(current.take(), &mut packages);
                }
            }
        }
        flush(current.take(), &mut packages);
        out.push(Scanned { path: rel, packages, error: None });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    (out, errors)
}
