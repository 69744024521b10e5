//! `pom.xml`: declared dependencies (and `dependencyManagement`) with their versions,
//! `${properties}` resolved from `<properties>`, the project's and parent's coordinates. Only
//! what the file itself declares: versions inherited from a parent POM or a BOM that is not
//! in the file are unknown here, and such dependencies are not listed (resolving them needs
//! the Maven repository). Every listed dependency is direct.

use std::collections::HashMap;

use super::{package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{Ecosystem, Package, Relationship};

const MAX_SUBSTITUTIONS: usize = 16;

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    const MAX_DEPTH: usize = 256;
    if let Some(line) = crate::text::xml_nesting_exceeds(text, MAX_DEPTH) {
        return Err(syntax(Some(line), format!("elements nest more than {MAX_DEPTH} levels deep")));
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: 5_000_000 };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| syntax(Some(e.pos().row), format!("invalid XML: {e}")))?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err(syntax(None, "the root element is not <project>: this is not a Maven POM"));
    }

    let mut props: HashMap<String, String> = HashMap::new();
    if let Some(properties) = child(project, "properties") {
        for p in properties.children().filter(|c| c.is_element()) {
            props.insert(p.tag_name().name().to_string(), p.text().unwrap_or("").trim().to_string());
        }
    }
    let parent = child(project, "parent");
    let parent_version = parent.and_then(|p| text_of(p, "version"));
    let parent_group = parent.and_then(|p| text_of(p, "groupId"));
    let version = text_of(project, "version").or_else(|| parent_version.clone());
    let group = text_of(project, "groupId").or_else(|| parent_group.clone());
    for (key, value) in [
        ("project.version", &version),
        ("pom.version", &version),
        ("version", &version),
        ("project.groupId", &group),
        ("project.parent.version", &parent_version),
        ("project.parent.groupId", &parent_group),
    ] {
        if let Some(v) = value {
            props.entry(key.to_string()).or_insert_with(|| v.clone());
        }
    }
    if let Some(artifact) = text_of(project, "artifactId") {
        props.entry("project.artifactId".to_string()).or_insert(artifact);
    }

    let mut out = Vec::new();
    let mut lists = Vec::new();
    lists.extend(child(project, "dependencies"));
    if let Some(dm) = child(project, "dependencyManagement").and_then(|d| child(d, "dependencies")) {
        lists.push(dm);
    }
    for list in lists {
        for dep in list.children().filter(|c| c.tag_name().name() == "dependency") {
            let (Some(g), Some(a)) = (text_of(dep, "groupId"), text_of(dep, "artifactId")) else { continue };
            let Some(v) = text_of(dep, "version") else { continue };
            let (g, a, v) = (resolve(&g, &props), resolve(&a, &props), resolve(&v, &props));
            let (Some(g), Some(a), Some(v)) = (g, a, v) else { continue };
            // A range (`[1.0,2.0)`) is not one version.
            if v.starts_with(['[', '(']) || v.is_empty() {
                continue;
            }
            let line = doc.text_pos_at(dep.range().start).row;
            let mut pkg = package(Ecosystem::Maven, &format!("{g}:{a}"), &v, ctx.path, line);
            pkg.relationship = Relationship::Direct;
            out.push(pkg);
        }
    }
    Ok(out)
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).and_then(|c| c.text()).map(|t| t.trim().to_string())
}

/// Substitutes `${name}` until none is left; `None` if a property is undefined (or cyclic).
fn resolve(value: &str, props: &HashMap<String, String>) -> Option<String> {
    let mut current = value.to_string();
    for _ in 0..MAX_SUBSTITUTIONS {
        let Some(start) = current.find("${") else { return Some(current) };
        let end = start + current[start..].find('}')?;
        let name = &current[start + 2..end];
        let replacement = props.get(name)?;
        current = format!("{}{}{}", &current[..start], replacement, &current[end + 1..]);
        if current.len() > 4096 {
            return None;
        }
    }
    None
}
