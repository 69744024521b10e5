//! `poetry.lock` (lock-version 1.x and 2.x). The lockfile does not say which packages the
//! project asks for; the `pyproject.toml` next to it does (`[tool.poetry.*dependencies]`,
//! `[project] dependencies`, `[dependency-groups]`), so it is read when present. Without it,
//! relationships are `Unknown`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Value;

use super::{hash, package, toml_error, Ctx};
use crate::error::ErrorKind;
use crate::purl::pep503;
use crate::{purl, Ecosystem, Hash, Package, Relationship, Source};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Entry>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    /// lock-version 1.x: file hashes per package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<FileHash>>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    files: Vec<FileHash>,
    #[serde(default)]
    source: Option<EntrySource>,
}

#[derive(Deserialize)]
struct FileHash {
    #[serde(default)]
    hash: String,
}

#[derive(Deserialize)]
struct EntrySource {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    resolved_reference: Option<String>,
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    super::check_toml_nesting(text)?;
    let lock: Lock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let lines = crate::text::toml_package_lines(text);
    let direct = (ctx.read_include)("pyproject.toml").ok().and_then(|(_, t)| pyproject_direct(&t));
    let versions: BTreeMap<String, String> =
        lock.package.iter().map(|p| (pep503(&p.name), p.version.clone())).collect();
    let mut out = Vec::new();
    for entry in &lock.package {
        let name = pep503(&entry.name);
        let line = lines.get(&(entry.name.clone(), entry.version.clone())).copied().unwrap_or(1);
        let mut pkg = package(Ecosystem::PyPI, &name, &entry.version, ctx.path, line);
        pkg.relationship = match &direct {
            Some(d) if d.contains(&name) => Relationship::Direct,
            Some(_) => Relationship::Transitive,
            None => Relationship::Unknown,
        };
        pkg.source = source_of(entry.source.as_ref());
        let files = if entry.files.is_empty() {
            lock.metadata.as_ref().and_then(|m| m.files.get(&entry.name)).map(Vec::as_slice).unwrap_or(&[])
        } else {
            &entry.files
        };
        pkg.hashes = file_hashes(files);
        pkg.dependencies = entry
            .dependencies
            .keys()
            .filter_map(|d| versions.get(&pep503(d)).map(|v| purl::purl(Ecosystem::PyPI, d, v)))
            .collect();
        pkg.dependencies.sort();
        out.push(pkg);
    }
    Ok(out)
}

fn source_of(source: Option<&EntrySource>) -> Source {
    match source {
        Some(s) if s.kind == "git" => Source::Git(match &s.resolved_reference {
            Some(r) => format!("{}#{r}", s.url),
            None => s.url.clone(),
        }),
        Some(s) if s.kind == "directory" || s.kind == "file" => Source::Path(s.url.clone()),
        Some(s) if s.kind == "url" => Source::Url(s.url.clone()),
        _ => Source::Registry,
    }
}

fn file_hashes(files: &[FileHash]) -> Vec<Hash> {
    let mut hashes: Vec<Hash> =
        files.iter().filter_map(|f| f.hash.split_once(':')).filter_map(|(alg, v)| hash(alg, v, false)).collect();
    hashes.sort();
    hashes.dedup();
    hashes
}

/// The PEP 503 names `pyproject.toml` declares as dependencies (Poetry's tables, PEP 621's
/// `[project]` lists and PEP 735 dependency groups). `None` if it does not parse.
pub(crate) fn pyproject_direct(text: &str) -> Option<HashSet<String>> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut names = HashSet::new();
    let pep508_name = |spec: &str| -> String {
        let end =
            spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
        pep503(&spec[..end])
    };
    let add_list = |v: Option<&Value>, names: &mut HashSet<String>| {
        for item in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = item.as_str() {
                names.insert(pep508_name(s.trim()));
            }
        }
    };
    if let Some(project) = doc.get("project") {
        add_list(project.get("dependencies"), &mut names);
        for (_, list) in project.get("optional-dependencies").and_then(Value::as_table).into_iter().flatten() {
            add_list(Some(list), &mut names);
        }
    }
    for (_, list) in doc.get("dependency-groups").and_then(Value::as_table).into_iter().flatten() {
        add_list(Some(list), &mut names);
    }
    if let Some(poetry) = doc.get("tool").and_then(|t| t.get("poetry")) {
        let mut tables: Vec<&Value> = Vec::new();
        tables.extend(poetry.get("dependencies"));
        tables.extend(poetry.get("dev-dependencies"));
        for (_, group) in poetry.get("group").and_then(Value::as_table).into_iter().flatten() {
            tables.extend(group.get("dependencies"));
        }
        for table in tables.iter().filter_map(|t| t.as_table()) {
            names.extend(table.keys().filter(|k| k.as_str() != "python").map(|k| pep503(k)));
        }
    }
    // uv's dev dependencies.
    if let Some(uv) = doc.get("tool").and_then(|t| t.get("uv")) {
        add_list(uv.get("dev-dependencies"), &mut names);
    }
    names.remove("");
    Some(names)
}
