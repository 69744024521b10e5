//! The `container` built-in stage: Dockerfile findings as SARIF results, and image
//! inventories (`--image FILE.tar`, or `images` in sluice.toml) as run properties, ready for
//! the advisory matcher and the SBOM writer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use sluice_container::{Finding, Inventory, RuleInfo};
use sluice_pipeline::Scope;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::builtin::{stage_options, StageInput};

/// Dockerfiles larger than this are skipped with a note: hand-written ones are a few KiB.
const MAX_DOCKERFILE_SIZE: u64 = 1024 * 1024;

pub fn run(input: &StageInput<'_>) -> Result<Run> {
    let (root, config_path) = (input.root, input.config_path);
    let opts: sluice_pipeline::options::ContainerOptions = stage_options(input.options, "container", config_path)?;
    for id in &opts.disable_rules {
        if sluice_container::rule(id).is_none() {
            anyhow::bail!("{}: [stages.container] disable_rules: unknown rule `{id}`", config_path.display());
        }
    }
    let mut notifications: Vec<Value> = Vec::new();
    let mut results = Vec::new();
    let mut fingerprint_keys = Vec::new();
    let mut used: BTreeMap<&'static str, (usize, &'static RuleInfo)> = BTreeMap::new();
    let mut success = true;
    let mut counters = serde_json::Map::new();

    let images: Vec<PathBuf> = match input.image {
        Some(image) => vec![image.to_path_buf()],
        None => opts.images.iter().map(|p| root.join(p)).collect(),
    };
    if input.image.is_none() {
        let files = dockerfiles(root, input.scope, &mut notifications);
        counters.insert(keys::DOCKERFILES_SCANNED.into(), json!(files.len()));
        let secrets = sluice_secrets::Engine::new(&sluice_secrets::Config {
            max_file_size: MAX_DOCKERFILE_SIZE,
            extra_rules: Vec::new(),
            allow_paths: Vec::new(),
        })
        .context("internal: the secrets engine")?;
        let config = sluice_container::CheckConfig {
            allowed_registries: opts.allowed_registries.clone(),
            disabled_rules: opts.disable_rules.clone(),
        };
        for rel in files {
            let path = rel.to_string_lossy().replace('\\', "/");
            let text = match read_dockerfile(&root.join(&rel)) {
                Ok(t) => t,
                Err(why) => {
                    notifications.push(note("warning", format!("{path}: not scanned: {why}")));
                    continue;
                }
            };
            let df = sluice_container::parse(&text);
            for p in &df.problems {
                notifications.push(note("warning", format!("{path}:{}: {}", p.line, p.message)));
            }
            for f in sluice_container::check(&df, &path, &config, &secrets) {
                let next = used.len();
                let index = used.entry(f.rule.id).or_insert((next, f.rule)).0;
                results.push(result(&f, &path, index));
                let content = match &f.secret_sha256 {
                    Some(sha) => sha.clone(),
                    None => sluice_sarif::content_hash(&sluice_sarif::normalize_content(&f.snippet)),
                };
                fingerprint_keys.push((f.rule.id.to_owned(), path.clone(), content));
            }
        }
    }

    let limits = sluice_container::Limits {
        max_layers: opts.max_layers.unwrap_or(sluice_container::Limits::DEFAULT.max_layers),
        ..sluice_container::Limits::DEFAULT
    };
    let mut inventories = Vec::new();
    let mut scanned: Vec<(String, Inventory)> = Vec::new();
    for image in &images {
        let shown = image.strip_prefix(root).unwrap_or(image).display().to_string().replace('\\', "/");
        match sluice_container::inventory(image, &limits) {
            Ok(inv) => {
                for p in &inv.problems {
                    let layer = p.layer.as_deref().map(|l| format!(" (layer {l})")).unwrap_or_default();
                    notifications.push(note("warning", format!("{shown}{layer}: {}", p.message)));
                }
                inventories.push(inventory_json(&shown, &inv));
                scanned.push((shown, inv));
            }
            Err(err) => {
                success = false;
                notifications.push(note("error", format!("{err}")));
            }
        }
    }
    let mut advisory_rules: BTreeMap<String, Value> = BTreeMap::new();
    if scanned.iter().any(|(_, inv)| !inv.packages.is_empty()) {
        let mut notes = Vec::new();
        let db = crate::deps_cmd::open_db(
            root,
            input.db,
            opts.db.as_deref(),
            opts.max_db_age_days,
            &mut notes,
            "image packages",
        )?;
        notifications.extend(notes.into_iter().map(|n| note(n.level, n.text)));
        match db {
            Some((db, db_path)) => {
                let matched = image_vulnerabilities(&db, &scanned)?;
                notifications.extend(matched.notes.into_iter().map(|t| note("note", t)));
                for found in matched.results {
                    results.push(found.result);
                    fingerprint_keys.push(found.key);
                    advisory_rules.entry(found.rule.0).or_insert(found.rule.1);
                }
                counters.insert(keys::IMAGE_PACKAGES.into(), json!(matched.packages));
                counters.insert(keys::ADVISORY_DB.into(), json!(db_path.display().to_string()));
            }
            None => success = false,
        }
    }

    let mut order: Vec<(usize, &RuleInfo)> = used.values().copied().collect();
    order.sort_by_key(|(i, _)| *i);
    let mut descriptors: Vec<Value> = order.iter().map(|(_, r)| descriptor(r)).collect();
    // Advisory rules follow the Dockerfile rules; image results carry no ruleIndex.
    descriptors.extend(advisory_rules.into_values());

    counters.insert(keys::IMAGES.into(), json!(images.len()));
    let mut run = crate::builtin::assemble_run(
        "container",
        descriptors,
        results,
        &fingerprint_keys,
        notifications,
        Value::Object(counters),
        success,
    )?;
    if !inventories.is_empty() {
        run.properties = Some(
            serde_json::from_value(json!({ keys::IMAGE_INVENTORIES: inventories }))
                .context("internal: run properties")?,
        );
    }
    Ok(run)
}

/// One image finding: the SARIF result, its fingerprint key (rule, path, content) and its
/// rule (id, descriptor).
struct ImageResult {
    result: Value,
    key: (String, String, String),
    rule: (String, Value),
}

/// Findings for the packages of inventoried images.
struct ImageMatches {
    /// In image, path, package, advisory order.
    results: Vec<ImageResult>,
    notes: Vec<String>,
    packages: usize,
}

/// Matches every package of every image against the advisories: distribution packages on
/// the image's release and source package, language packages as the deps stage does. Each
/// result says where in the image the package is and which layer (and build step) put it
/// there, because that layer is what to change.
fn image_vulnerabilities(db: &sluice_advisory::Database, images: &[(String, Inventory)]) -> Result<ImageMatches> {
    let mut out = ImageMatches { results: Vec::new(), notes: Vec::new(), packages: 0 };
    for (shown, inv) in images {
        let layer_index: BTreeMap<&str, (usize, &sluice_container::LayerInfo)> =
            inv.layers.iter().enumerate().map(|(i, l)| (l.digest.as_str(), (i, l))).collect();
        for package in &inv.packages {
            out.packages += 1;
            if package.source != sluice_inventory::Source::Registry {
                continue;
            }
            let m = sluice_advisory::match_installed(db, package)?;
            out.notes.extend(m.notes.iter().map(|n| format!("{shown}: {n}")));
            for finding in &m.findings {
                let mut extra = serde_json::Map::new();
                extra.insert(keys::IMAGE.into(), json!(shown));
                extra.insert(keys::IMAGE_PATH.into(), json!(package.location.path));
                let mut context = format!("Found in {shown} at {}", package.location.path);
                if let Some((i, layer)) = package.layer.as_deref().and_then(|d| layer_index.get(d)) {
                    extra.insert(keys::LAYER.into(), json!(layer.digest));
                    extra.insert(keys::LAYER_INDEX.into(), json!(i + 1));
                    context.push_str(&format!(
                        ", installed by layer {} of {} ({})",
                        i + 1,
                        inv.layers.len(),
                        short_digest(&layer.digest)
                    ));
                    if let Some(step) = &layer.created_by {
                        extra.insert(keys::LAYER_CREATED_BY.into(), json!(step));
                        context.push_str(&format!(": `{}`", step.chars().take(120).collect::<String>()));
                    }
                }
                context.push('.');
                let at = crate::deps_cmd::Place { uri: shown, line: 1, context: Some((context, extra)) };
                let result = crate::deps_cmd::result(package, finding, &at);
                let content = sluice_sarif::content_hash(&format!(
                    "{}@{} {} {}",
                    package.name, package.version, finding.id, package.location.path
                ));
                out.results.push(ImageResult {
                    result,
                    key: (finding.id.clone(), shown.clone(), content),
                    rule: (finding.id.clone(), crate::deps_cmd::descriptor(package, finding)),
                });
            }
        }
    }
    out.notes.sort();
    out.notes.dedup();
    Ok(out)
}

/// `sha256:0123456789ab…` → `sha256:0123456789ab`.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.chars().take(12).collect::<String>()),
        None => digest.chars().take(40).collect(),
    }
}

fn note(level: &str, text: String) -> Value {
    json!({ "level": level, "message": { "text": text } })
}

/// The Dockerfiles to scan: discovered under the root, or the changed files that are
/// Dockerfiles in a diff-aware run.
fn dockerfiles(root: &Path, scope: &Scope, notifications: &mut Vec<Value>) -> Vec<PathBuf> {
    match scope {
        Scope::All => {
            let (files, errors) = sluice_container::discover(root);
            notifications.extend(errors.into_iter().map(|e| note("warning", format!("walk: {e}"))));
            files
        }
        Scope::Changed(changed) => {
            let mut files: Vec<PathBuf> = changed
                .iter()
                .map(PathBuf::from)
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(sluice_container::is_dockerfile_name)
                        && root.join(p).is_file()
                })
                .collect();
            files.sort();
            files
        }
    }
}

fn read_dockerfile(path: &Path) -> std::result::Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_DOCKERFILE_SIZE {
        return Err(format!("{} bytes, larger than a hand-written Dockerfile ({MAX_DOCKERFILE_SIZE})", meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

fn result(f: &Finding, path: &str, index: usize) -> Value {
    let cwe: Vec<&str> = f.rule.cwe.into_iter().collect();
    json!({
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": f.rule.level.as_str(),
        "message": { "text": f.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": path, "uriBaseId": "%SRCROOT%" },
                "region": {
                    "startLine": f.line,
                    "endLine": f.end_line.max(f.line),
                    "snippet": { "text": f.snippet },
                },
            },
        }],
        "properties": {
            keys::SECURITY_SEVERITY: format!("{:.1}", f.rule.security_severity),
            keys::SEVERITY_SOURCE: "sluice container rules",
            keys::CWE: cwe,
        },
    })
}

/// A rule as a SARIF reportingDescriptor: help with the fix first, then the examples.
fn descriptor(rule: &RuleInfo) -> Value {
    let mut tags = vec!["security".to_owned(), "container".to_owned(), "dockerfile".to_owned()];
    if let Some(n) = rule.cwe.and_then(|c| c.strip_prefix("CWE-")) {
        tags.push(format!("external/cwe/cwe-{n}"));
    }
    let markdown = format!(
        "{}\n\n{}\n\nFlagged:\n\n```dockerfile\n{}```\n\nNot flagged:\n\n```dockerfile\n{}```\n{}",
        rule.help,
        rule.description,
        rule.bad,
        rule.good,
        rule.cwe.map(|c| format!("\n{c}\n")).unwrap_or_default()
    );
    json!({
        "id": rule.id,
        "name": rule.id.split('-').map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        }).collect::<String>(),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": rule.description },
        "help": { "text": format!("How to fix: {}\n\n{}", rule.help, rule.description), "markdown": markdown },
        "defaultConfiguration": { "level": rule.level.as_str() },
        "properties": {
            "tags": tags,
            "precision": rule.precision,
            "security-severity": format!("{:.1}", rule.security_severity),
            keys::CWE: rule.cwe.into_iter().collect::<Vec<_>>(),
            keys::HADOLINT: rule.hadolint,
        },
    })
}

/// An inventory as JSON for the run's properties (packages sorted, as the library returns).
fn inventory_json(image: &str, inv: &Inventory) -> Value {
    json!({
        "image": image,
        "format": inv.format,
        "repoTags": inv.repo_tags,
        "os": inv.os.as_ref().map(|o| json!({ "id": o.id, "versionId": o.version_id, "prettyName": o.pretty_name })),
        "layers": inv.layers.iter().map(|l| json!({
            "digest": l.digest, "compression": l.compression, "entries": l.entries, "complete": l.complete,
            "createdBy": l.created_by,
        })).collect::<Vec<_>>(),
        "packages": inv.packages.iter().map(|p| json!({
            "ecosystem": p.ecosystem.osv_name(),
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
            "layer": p.layer,
            "location": format!("{}:{}", p.location.path, p.location.line),
            "distro": p.distro.as_ref().map(|d| d.osv_ecosystem()),
            "sourcePackage": p.distro.as_ref().and_then(|d| d.source_name.clone()),
        })).collect::<Vec<_>>(),
    })
}
