//! An existing CycloneDX JSON SBOM as input: components (nested too) with a purl of an
//! ecosystem sluice knows become packages; `dependencies` give the graph, and what the
//! described component (`metadata.component`) depends on is direct.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{hash, json_error, package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::json_lines::JsonLines;
use crate::{purl, Package, Relationship};

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "bomFormat", default)]
    bom_format: String,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    component: Option<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    hashes: Vec<BomHash>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct BomHash {
    alg: String,
    content: String,
}

#[derive(Deserialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn", default)]
    depends_on: Vec<String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let bom: Bom = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    if bom.bom_format != "CycloneDX" {
        return Err(syntax(None, "not a CycloneDX SBOM (bomFormat is not \"CycloneDX\")"));
    }
    let lines = JsonLines::new(text, 16);
    let mut flat: Vec<(Vec<String>, &Component)> = Vec::new();
    collect(&bom.components, &mut vec!["components".to_string()], &mut flat, 0)?;
    let purl_of_ref: BTreeMap<&str, &str> =
        flat.iter().filter_map(|(_, c)| Some((c.bom_ref.as_deref()?, c.purl.as_deref()?))).collect();
    let graph: BTreeMap<&str, &Vec<String>> =
        bom.dependencies.iter().map(|d| (d.reference.as_str(), &d.depends_on)).collect();
    let root_ref = bom.metadata.as_ref().and_then(|m| m.component.as_ref()).and_then(|c| c.bom_ref.as_deref());
    let direct: Option<HashSet<&str>> =
        root_ref.and_then(|r| graph.get(r)).map(|deps| deps.iter().map(String::as_str).collect());
    let mut out = Vec::new();
    for (path, component) in flat {
        let Some(parsed) = component.purl.as_deref().and_then(purl::parse) else { continue };
        let json_path: Vec<&str> = path.iter().map(String::as_str).collect();
        let line = lines.line(&json_path).unwrap_or(1);
        let mut pkg = package(parsed.ecosystem, &parsed.name, &parsed.version, ctx.path, line);
        if let Some(p) = &component.purl {
            // Keep the SBOM's own purl (qualifiers included) as the identity it was given.
            pkg.purl = p.clone();
        }
        let bom_ref = component.bom_ref.as_deref();
        pkg.relationship = match (&direct, bom_ref) {
            (Some(d), Some(r)) if d.contains(r) => Relationship::Direct,
            (Some(_), _) => Relationship::Transitive,
            (None, _) => Relationship::Unknown,
        };
        pkg.hashes = component.hashes.iter().filter_map(|h| hash(&h.alg.replace('-', ""), &h.content, false)).collect();
        pkg.hashes.sort();
        if let Some(deps) = bom_ref.and_then(|r| graph.get(r)) {
            pkg.dependencies = deps.iter().filter_map(|d| purl_of_ref.get(d.as_str()).map(|p| p.to_string())).collect();
            pkg.dependencies.sort();
        }
        out.push(pkg);
    }
    Ok(out)
}

fn collect<'a>(
    components: &'a [Component],
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'a Component)>,
    depth: usize,
) -> Result<(), ErrorKind> {
    if depth > 32 {
        return Err(syntax(None, "components nest more than 32 levels deep"));
    }
    for (i, c) in components.iter().enumerate() {
        path.push(i.to_string());
        out.push((path.clone(), c));
        path.push("components".to_string());
        collect(&c.components, path, out, depth + 1)?;
        path.pop();
        path.pop();
    }
    Ok(())
}
