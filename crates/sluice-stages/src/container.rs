//! The container stage: Dockerfile findings as SARIF results, and image inventories
//! (`--image FILE.tar`, or `images` in sluice.toml) as run properties, their packages matched
//! against the advisory database like the deps stage's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use sluice_container::{Finding, Inventory, RuleInfo};
use sluice_pipeline::options::ContainerOptions;
use sluice_pipeline::Scope;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::deps::{self, Place};
use crate::run::{Hit, Level, Note, Props, Rule, RunBuilder, Span};
use crate::{Stage, StageInput};

/// Dockerfiles larger than this are skipped with a note: hand-written ones are a few KiB.
const MAX_DOCKERFILE_SIZE: u64 = 1024 * 1024;

const SEVERITY_SOURCE: &str = "sluice container rules";

/// `sluice scan container`.
pub struct Container;

impl Stage for Container {
    fn name(&self) -> &'static str {
        "container"
    }

    fn run(&self, input: &StageInput<'_>) -> Result<Run> {
        let (root, config_path) = (input.root, input.config_path);
        let opts: ContainerOptions = crate::options(input, "container")?;
        for id in &opts.disable_rules {
            if sluice_container::rule(id).is_none() {
                anyhow::bail!("{}: [stages.container] disable_rules: unknown rule `{id}`", config_path.display());
            }
        }
        let mut run = RunBuilder::new(self.name());
        let images: Vec<PathBuf> = match input.image {
            Some(image) => vec![image.to_path_buf()],
            None => opts.images.iter().map(|p| root.join(p)).collect(),
        };
        if input.image.is_none() {
            scan_dockerfiles(input, &opts, &mut run)?;
        }

        let limits = sluice_container::Limits {
            max_layers: opts.max_layers.unwrap_or(sluice_container::Limits::DEFAULT.max_layers),
            ..sluice_container::Limits::DEFAULT
        };
        let mut scanned: Vec<(String, Inventory)> = Vec::new();
        for image in &images {
            let shown = image.strip_prefix(root).unwrap_or(image).display().to_string().replace('\\', "/");
            match sluice_container::inventory(image, &limits) {
                Ok(inv) => {
                    for p in &inv.problems {
                        let layer = p.layer.as_deref().map(|l| format!(" (layer {l})")).unwrap_or_default();
                        run.note(Note::new(Level::Warning, format!("{shown}{layer}: {}", p.message)));
                    }
                    scanned.push((shown, inv));
                }
                Err(err) => {
                    run.failed();
                    run.note(Note::new(Level::Error, format!("{err}")));
                }
            }
        }
        if scanned.iter().any(|(_, inv)| !inv.packages.is_empty()) {
            let mut notes = Vec::new();
            let db =
                deps::open_db(root, input.db, opts.db.as_deref(), opts.max_db_age_days, &mut notes, "image packages")?;
            notes.into_iter().for_each(|n| run.note(n));
            match db {
                Some((db, db_path)) => {
                    let matched = image_vulnerabilities(&db, &scanned)?;
                    matched.notes.into_iter().for_each(|t| run.note(Note::new(Level::Note, t)));
                    // Advisory rules follow the Dockerfile rules, by id (described as for their
                    // first result).
                    let rules: BTreeMap<&str, &Rule> =
                        matched.results.iter().rev().map(|r| (r.1.id.as_str(), &r.1)).collect();
                    for (id, rule) in rules {
                        run.rule(id, || rule.clone());
                    }
                    for (hit, _) in matched.results {
                        run.hit(hit);
                    }
                    run.counters()
                        .set(keys::IMAGE_PACKAGES, matched.packages)
                        .set(keys::ADVISORY_DB, db_path.display().to_string());
                }
                None => run.failed(),
            }
        }
        run.counters().set(keys::IMAGES, images.len());
        let inventories: Vec<ImageInventory<'_>> =
            scanned.iter().map(|(shown, inv)| ImageInventory::new(shown, inv)).collect();
        if !inventories.is_empty() {
            let value = serde_json::to_value(&inventories).context("image inventories")?;
            run.properties().set(keys::IMAGE_INVENTORIES, value);
        }
        Ok(run.build())
    }
}

/// Checks every Dockerfile in scope: parse problems as notes, findings as results.
fn scan_dockerfiles(input: &StageInput<'_>, opts: &ContainerOptions, run: &mut RunBuilder) -> Result<()> {
    let root = input.root;
    let files = dockerfiles(root, input.scope, run);
    run.counters().set(keys::DOCKERFILES_SCANNED, files.len());
    let secrets = sluice_secrets::Engine::new(&sluice_secrets::Config {
        max_file_size: MAX_DOCKERFILE_SIZE,
        extra_rules: Vec::new(),
        allow_paths: Vec::new(),
        peer_annotations: true,
    })
    .context("internal: the secrets engine")?;
    let mut config = sluice_container::CheckConfig {
        allowed_registries: opts.allowed_registries.clone(),
        disabled_rules: opts.disable_rules.clone(),
        repository_images: BTreeMap::new(),
    };
    config.repository_images = repository_images(root, input.scope, &files, &config, &secrets);
    for rel in files {
        let path = rel.to_string_lossy().replace('\\', "/");
        let text = match read_dockerfile(&root.join(&rel)) {
            Ok(t) => t,
            Err(why) => {
                run.note(Note::new(Level::Warning, format!("{path}: not scanned: {why}")));
                continue;
            }
        };
        let df = sluice_container::parse(&text);
        for p in &df.problems {
            run.note(Note::new(Level::Warning, format!("{path}:{}: {}", p.line, p.message)));
        }
        for f in sluice_container::check(&df, &path, &config, &secrets) {
            run.rule(f.rule.id, || descriptor(f.rule));
            run.hit(hit(&f, &path));
        }
    }
    Ok(())
}

/// Findings for the packages of inventoried images.
struct ImageMatches {
    /// In image, path, package, advisory order, each with its advisory's rule.
    results: Vec<(Hit, Rule)>,
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
                let mut extra = Props::new();
                extra.set(keys::IMAGE, shown.as_str()).set(keys::IMAGE_PATH, package.location.path.as_str());
                let mut context = format!("Found in {shown} at {}", package.location.path);
                if let Some((i, layer)) = package.layer.as_deref().and_then(|d| layer_index.get(d)) {
                    extra.set(keys::LAYER, layer.digest.as_str()).set(keys::LAYER_INDEX, i + 1);
                    context.push_str(&format!(
                        ", installed by layer {} of {} ({})",
                        i + 1,
                        inv.layers.len(),
                        short_digest(&layer.digest)
                    ));
                    if let Some(step) = &layer.created_by {
                        extra.set(keys::LAYER_CREATED_BY, step.as_str());
                        context.push_str(&format!(": `{}`", step.chars().take(120).collect::<String>()));
                    }
                }
                context.push('.');
                let at = Place { uri: shown, line: 1, context: Some((context, extra)) };
                let content = sluice_sarif::content_hash(&format!(
                    "{}@{} {} {}",
                    package.name, package.version, finding.id, package.location.path
                ));
                out.results.push((deps::hit(package, finding, &at, content), deps::descriptor(package, finding)));
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

/// The Dockerfiles to scan: discovered under the root, or the changed files that are
/// Dockerfiles in a diff-aware run.
/// The images the repository's own Dockerfiles build, by directory name, with the user each
/// one's final stage runs as (see `CheckConfig::repository_images`). Every Dockerfile of the
/// repository counts, not only those in scope: a changed child still inherits from an
/// unchanged parent. Resolved in rounds, so a chain (foundation → base → minimal) carries its
/// user down; a directory holding two Dockerfiles names no image (which one is unknown).
fn repository_images(
    root: &Path,
    scope: &Scope,
    in_scope: &[PathBuf],
    config: &sluice_container::CheckConfig,
    secrets: &sluice_secrets::Engine,
) -> BTreeMap<String, Option<String>> {
    let all = match scope {
        Scope::All => in_scope.to_vec(),
        Scope::Changed(_) => sluice_container::discover(root).0,
    };
    let mut by_dir: BTreeMap<String, Vec<sluice_container::Dockerfile>> = BTreeMap::new();
    for rel in &all {
        let Some(dir) = rel.parent().and_then(Path::file_name).map(|d| d.to_string_lossy().to_ascii_lowercase()) else {
            continue;
        };
        if let Ok(text) = read_dockerfile(&root.join(rel)) {
            by_dir.entry(dir).or_default().push(sluice_container::parse(&text));
        }
    }
    by_dir.retain(|_, dfs| dfs.len() == 1);
    let mut config = config.clone();
    // At most one round per image: a chain longer than that is a cycle.
    for _ in 0..=by_dir.len() {
        let next: BTreeMap<String, Option<String>> = by_dir
            .iter()
            .map(|(dir, dfs)| (dir.clone(), sluice_container::final_user(&dfs[0], &config, secrets)))
            .collect();
        if next == config.repository_images {
            break;
        }
        config.repository_images = next;
    }
    config.repository_images
}

fn dockerfiles(root: &Path, scope: &Scope, run: &mut RunBuilder) -> Vec<PathBuf> {
    match scope {
        Scope::All => {
            let (files, errors) = sluice_container::discover(root);
            errors.into_iter().for_each(|e| run.note(Note::new(Level::Warning, format!("walk: {e}"))));
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

/// The security-severity of an uncertain finding (`Finding::uncertain`): low.
const UNCERTAIN_SEVERITY: f64 = 2.0;

fn hit(f: &Finding, path: &str) -> Hit {
    let mut properties = Props::new();
    // A finding that rests on what cannot be seen here is low, a note: said, not claimed.
    let (severity, level) = if f.uncertain {
        (UNCERTAIN_SEVERITY, Level::Note)
    } else {
        (f64::from(f.rule.security_severity), f.rule.level)
    };
    properties.severity(severity, SEVERITY_SOURCE).cwe(f.rule.cwe);
    Hit {
        rule_id: f.rule.id.to_owned(),
        level,
        message: f.message.clone(),
        uri: path.to_owned(),
        span: Span {
            start_line: f.line,
            end_line: Some(f.end_line.max(f.line)),
            snippet: Some(f.snippet.clone()),
            ..Span::default()
        },
        properties,
        suppressed: None,
        // A secret's hash, never the secret; otherwise the instruction as written.
        content: match &f.secret_sha256 {
            Some(sha) => sha.clone(),
            None => sluice_sarif::content_hash(&sluice_sarif::normalize_content(&f.snippet)),
        },
    }
}

/// A rule as a descriptor: help with the fix first, then the examples.
fn descriptor(rule: &RuleInfo) -> Rule {
    let markdown = format!(
        "{}\n\n{}\n\nFlagged:\n\n```dockerfile\n{}```\n\nNot flagged:\n\n```dockerfile\n{}```\n{}",
        rule.help,
        rule.description,
        rule.bad,
        rule.good,
        rule.cwe.map(|c| format!("\n{c}\n")).unwrap_or_default()
    );
    let mut descriptor = Rule::new(rule.id, rule.level);
    descriptor.short_description = rule.title.to_owned();
    descriptor.full_description = rule.description.to_owned();
    descriptor.help_text = format!("How to fix: {}\n\n{}", rule.help, rule.description);
    descriptor.help_markdown = markdown;
    descriptor.precision = rule.precision.to_owned();
    descriptor.security_severity = Some(f64::from(rule.security_severity));
    descriptor.tags = vec!["security".to_owned(), "container".to_owned(), "dockerfile".to_owned()];
    descriptor.cwe = rule.cwe.iter().map(|c| (*c).to_owned()).collect();
    descriptor.properties.set(keys::HADOLINT, rule.hadolint.to_vec());
    descriptor
}

/// An image's inventory as written in the run's `sluice/image-inventories` (packages sorted,
/// as the library returns them).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageInventory<'a> {
    image: &'a str,
    format: &'a str,
    repo_tags: &'a [String],
    os: Option<ImageOs<'a>>,
    layers: Vec<ImageLayer<'a>>,
    packages: Vec<ImagePackage<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageOs<'a> {
    id: &'a str,
    version_id: Option<&'a str>,
    pretty_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageLayer<'a> {
    digest: &'a str,
    compression: &'a str,
    entries: u64,
    complete: bool,
    created_by: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImagePackage<'a> {
    ecosystem: &'a str,
    name: &'a str,
    version: &'a str,
    purl: &'a str,
    layer: Option<&'a str>,
    location: String,
    distro: Option<String>,
    source_package: Option<&'a str>,
}

impl<'a> ImageInventory<'a> {
    fn new(image: &'a str, inv: &'a Inventory) -> ImageInventory<'a> {
        ImageInventory {
            image,
            format: inv.format,
            repo_tags: &inv.repo_tags,
            os: inv.os.as_ref().map(|o| ImageOs {
                id: &o.id,
                version_id: o.version_id.as_deref(),
                pretty_name: o.pretty_name.as_deref(),
            }),
            layers: inv
                .layers
                .iter()
                .map(|l| ImageLayer {
                    digest: &l.digest,
                    compression: l.compression,
                    entries: l.entries,
                    complete: l.complete,
                    created_by: l.created_by.as_deref(),
                })
                .collect(),
            packages: inv
                .packages
                .iter()
                .map(|p| ImagePackage {
                    ecosystem: p.ecosystem.osv_name(),
                    name: &p.name,
                    version: &p.version,
                    purl: &p.purl,
                    layer: p.layer.as_deref(),
                    location: format!("{}:{}", p.location.path, p.location.line),
                    distro: p.distro.as_ref().map(|d| d.osv_ecosystem()),
                    source_package: p.distro.as_ref().and_then(|d| d.source_name.as_deref()),
                })
                .collect(),
        }
    }
}
