//! The `deps` stage (`sluice scan deps`) and `sluice db update|status`: lockfiles from
//! `sluice-inventory`, advisories from `sluice-advisory`, adapted here to SARIF.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sluice_advisory::{Database, Finding, PackageMatch};
use sluice_inventory::{Package, Source};
use sluice_report::escape::terminal_lines;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::builtin::StageInput;
use crate::cli::{DbArgs, DbCommand};

/// A database older than this many days gets a warning (OSV and RustSec publish daily).
const DEFAULT_MAX_AGE_DAYS: u64 = 7;

/// Where the advisory database lives unless `--db` or `[stages.deps] db` says otherwise:
/// `$SLUICE_DB`, else `$XDG_CACHE_HOME/sluice/advisories.db`, else
/// `~/.cache/sluice/advisories.db`.
pub fn default_db_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SLUICE_DB").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(cache) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(cache).join("sluice/advisories.db"));
    }
    match std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache/sluice/advisories.db")),
        None => bail!("no HOME to put the advisory database in; set SLUICE_DB or pass --db FILE"),
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn age_text(seconds: u64) -> String {
    let days = seconds / 86_400;
    match days {
        0 => format!("{} hours", seconds / 3600),
        1 => "1 day".into(),
        d => format!("{d} days"),
    }
}

// ---------------------------------------------------------------------------------------
// sluice db

pub fn db(args: DbArgs) -> Result<u8> {
    let path = match &args.db {
        Some(p) => p.clone(),
        None => default_db_path()?,
    };
    match args.command {
        DbCommand::Update { from } => update(&path, &from),
        DbCommand::Status => status(&path),
    }
}

/// Fetches a URL with `curl` (the one network access sluice makes, and only when asked).
fn download(url: &str, dir: &Path) -> Result<PathBuf> {
    let target = dir.join("download.zip");
    let status = std::process::Command::new("curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--output"])
        .arg(&target)
        .arg(url)
        .status();
    match status {
        Ok(s) if s.success() => Ok(target),
        Ok(s) => {
            bail!("{url}: download failed (curl exited with {s}); download it yourself and pass the file to --from")
        }
        Err(e) => {
            bail!("{url}: cannot run curl to download it ({e}); download it yourself and pass the file to --from")
        }
    }
}

fn update(db_path: &Path, sources: &[String]) -> Result<u8> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut imports = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let (location, path) = if source.starts_with("https://") || source.starts_with("http://") {
            let dir = work.path().join(i.to_string());
            std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            eprintln!("downloading {source}");
            (source.clone(), download(source, &dir)?)
        } else {
            let path = PathBuf::from(source);
            let absolute = path.canonicalize().with_context(|| format!("{source}: cannot open the advisory source"))?;
            (absolute.display().to_string(), absolute)
        };
        let import = sluice_advisory::import(&path)?;
        eprintln!(
            "{location}: {} advisories ({}){}",
            import.advisories.len(),
            import.kind.as_str(),
            if import.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} records skipped", import.skipped.len())
            }
        );
        imports.push((location, import));
    }
    let outcome = sluice_advisory::update(db_path, imports, now())?;
    for (location, skipped) in &outcome.skipped {
        eprintln!("warning: {location}: skipped {}: {}", skipped.file, skipped.reason);
    }
    eprintln!("{}: {} advisories from {} sources", db_path.display(), outcome.meta.total, outcome.meta.sources.len());
    Ok(crate::exit::OK)
}

fn status(db_path: &Path) -> Result<u8> {
    let db = Database::open(db_path)?;
    // Status is also the integrity check: every record is decoded once.
    let records = db.all()?.len();
    let meta = db.meta();
    let age = now().saturating_sub(meta.updated_at);
    println!("database: {}", db_path.display());
    println!(
        "updated:  {} ago{}",
        age_text(age),
        if age > DEFAULT_MAX_AGE_DAYS * 86_400 { " (stale: run sluice db update)" } else { "" }
    );
    println!("advisories: {records} ({} withdrawn)", meta.withdrawn);
    println!("sources:");
    for s in &meta.sources {
        println!(
            "  {} ({}): {} advisories, {} skipped, imported {} ago",
            s.location,
            s.kind.as_str(),
            s.advisories,
            s.skipped,
            age_text(now().saturating_sub(s.imported_at))
        );
    }
    println!("per ecosystem:");
    for (eco, n) in &meta.per_ecosystem {
        println!("  {eco}: {n}");
    }
    Ok(crate::exit::OK)
}

// ---------------------------------------------------------------------------------------
// the deps stage

pub(crate) struct Notification {
    pub level: &'static str,
    pub text: String,
}

/// Opens the advisory database a stage uses: `--db`, else the stage's `db` option (relative
/// to the repository root), else [`default_db_path`]. A missing or damaged database is an
/// error note (the stage must then fail: never a silent pass); an old one adds a warning.
pub(crate) fn open_db(
    root: &Path,
    db_override: Option<&Path>,
    configured: Option<&Path>,
    max_age_days: Option<u64>,
    notes: &mut Vec<Notification>,
    what: &str,
) -> Result<Option<(Database, PathBuf)>> {
    let db_path = match (db_override, configured) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => root.join(p),
        (None, None) => default_db_path()?,
    };
    let db = match Database::open(&db_path) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: {e}");
            notes.push(Notification { level: "error", text: format!("{what} were not checked: {e}") });
            return Ok(None);
        }
    };
    let age = now().saturating_sub(db.meta().updated_at);
    let max_age = max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    if age > max_age * 86_400 {
        let text = format!(
            "{}: the advisory database is {} old (over {max_age} days); run `sluice db update --from <source>` to see newer advisories",
            db_path.display(),
            age_text(age)
        );
        eprintln!("warning: {text}");
        notes.push(Notification { level: "warning", text });
    }
    Ok(Some((db, db_path)))
}

/// Runs the deps stage: discover lockfiles, match every registry package, one result per
/// (package occurrence, merged advisory).
pub fn stage(input: &StageInput<'_>, db_override: Option<&Path>) -> Result<Run> {
    let opts: sluice_pipeline::options::DepsOptions =
        crate::builtin::stage_options(input.options, "deps", input.config_path)?;
    let inventory = sluice_inventory::discover(input.root);
    let mut notes: Vec<Notification> = Vec::new();
    for e in &inventory.walk_errors {
        notes.push(Notification { level: "warning", text: e.clone() });
    }
    let mut lockfiles = Vec::new();
    for lockfile in &inventory.lockfiles {
        if let Some(err) = &lockfile.error {
            eprintln!("error: {}", terminal_lines(&err.to_string()));
            notes.push(Notification { level: "error", text: err.to_string() });
        }
        // Diff-aware runs look at the lockfiles that changed.
        if let sluice_pipeline::Scope::Changed(changed) = input.scope {
            if !changed.iter().any(|c| c == &lockfile.path) {
                continue;
            }
        }
        lockfiles.push(lockfile);
    }
    let packages: Vec<&Package> = lockfiles.iter().flat_map(|l| l.packages.iter()).collect();
    if packages.is_empty() && notes.iter().all(|n| n.level != "error") {
        notes.push(Notification { level: "note", text: "no lockfiles with packages found; nothing to check".into() });
        return finish(Vec::new(), Vec::new(), Vec::new(), notes, json!({ keys::LOCKFILES: lockfiles.len() }), true);
    }
    let Some((db, db_path)) =
        open_db(input.root, db_override, opts.db.as_deref(), opts.max_db_age_days, &mut notes, "dependencies")?
    else {
        return finish(Vec::new(), Vec::new(), Vec::new(), notes, json!({ keys::PACKAGES: packages.len() }), false);
    };
    // Each distinct (ecosystem, name, version) is matched once, however many lockfiles have it.
    let mut cache: HashMap<(sluice_inventory::Ecosystem, &str, &str), PackageMatch> = HashMap::new();
    let mut not_registry = 0usize;
    let mut hits: Vec<(&Package, usize)> = Vec::new();
    for package in packages.iter().copied() {
        if package.source != Source::Registry {
            // Advisories describe registry releases; a git or path checkout is other code.
            not_registry += 1;
            continue;
        }
        let key = (package.ecosystem, package.name.as_str(), package.version.as_str());
        let m = match cache.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(sluice_advisory::match_package(&db, package.ecosystem, &package.name, &package.version)?)
            }
        };
        for i in 0..m.findings.len() {
            hits.push((package, i));
        }
    }
    let mut match_notes: Vec<String> = cache.values().flat_map(|m| m.notes.iter().cloned()).collect();
    match_notes.sort();
    match_notes.dedup();
    notes.extend(match_notes.into_iter().map(|text| Notification { level: "note", text }));

    let mut descriptors: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut fingerprint_keys = Vec::new();
    // File order: path, line, then advisory, so occurrence indexes are stable.
    hits.sort_by(|a, b| {
        (&a.0.location.path, a.0.location.line, &a.0.name, &a.0.version).cmp(&(
            &b.0.location.path,
            b.0.location.line,
            &b.0.name,
            &b.0.version,
        ))
    });
    let mut ordered: Vec<(&Package, &Finding)> = hits
        .iter()
        .filter_map(|(p, i)| {
            cache.get(&(p.ecosystem, p.name.as_str(), p.version.as_str())).map(|m| (*p, &m.findings[*i]))
        })
        .collect();
    ordered.sort_by(|a, b| {
        (&a.0.location.path, a.0.location.line, &a.0.name, &a.1.id).cmp(&(
            &b.0.location.path,
            b.0.location.line,
            &b.0.name,
            &b.1.id,
        ))
    });
    for (package, finding) in &ordered {
        descriptors.entry(finding.id.clone()).or_insert_with(|| descriptor(package, finding));
        let at = Place { uri: &package.location.path, line: package.location.line, context: None };
        results.push(result(package, finding, &at));
        let content = sluice_sarif::content_hash(&format!("{}@{} {}", package.name, package.version, finding.id));
        fingerprint_keys.push((finding.id.clone(), package.location.path.clone(), content));
    }
    let counters = json!({
        keys::LOCKFILES: lockfiles.len(),
        keys::PACKAGES: packages.len(),
        keys::PACKAGES_NOT_FROM_A_REGISTRY: not_registry,
        keys::ADVISORY_DB: db_path.display().to_string(),
        keys::ADVISORY_DB_UPDATED: db.meta().updated_at,
        keys::ADVISORIES: db.meta().total,
    });
    let descriptors: Vec<Value> = descriptors.into_values().collect();
    finish(descriptors, results, fingerprint_keys, notes, counters, true)
}

fn finish(
    descriptors: Vec<Value>,
    results: Vec<Value>,
    fingerprint_keys: Vec<(String, String, String)>,
    notes: Vec<Notification>,
    counters: Value,
    successful: bool,
) -> Result<Run> {
    let notifications: Vec<Value> =
        notes.iter().map(|n| json!({ "level": n.level, "message": { "text": n.text } })).collect();
    crate::builtin::assemble_run("deps", descriptors, results, &fingerprint_keys, notifications, counters, successful)
}

fn is_vulnerability(finding: &Finding) -> bool {
    matches!(finding.kind, sluice_advisory::model::Kind::Vulnerability | sluice_advisory::model::Kind::Malicious)
}

/// What to upgrade: distribution advisories name the source package (`glibc` for `libc6`).
fn fix_name(package: &Package) -> &str {
    package.distro.as_ref().and_then(|d| d.source_name.as_deref()).unwrap_or(&package.name)
}

fn how_to_fix(package: &Package, finding: &Finding) -> String {
    if package.distro.is_some() {
        return match &finding.upgrade_to {
            Some(v) => format!(
                "Upgrade {} to {v} or later: rebuild on an updated base image, or upgrade the package in the Dockerfile.",
                fix_name(package)
            ),
            None => format!(
                "No fixed {} package is known for this release: remove it from the image if unused, or accept the risk in .sluice/triage.toml.",
                fix_name(package)
            ),
        };
    }
    match (&finding.upgrade_to, finding.kind) {
        (Some(v), _) => format!("Upgrade {} to {v} or later.", package.name),
        (None, sluice_advisory::model::Kind::Unmaintained) => {
            format!("{} is no longer maintained: move to a maintained alternative (see the advisory).", package.name)
        }
        (None, sluice_advisory::model::Kind::Malicious) => {
            format!("Remove {} now and treat the machines that installed it as compromised.", package.name)
        }
        (None, _) if !finding.fixed.is_empty() => {
            format!("Upgrade {} to a fixed version: {}.", package.name, finding.fixed.join(", "))
        }
        (None, _) => format!(
            "No fixed version of {} is known: remove it, replace it, or accept the risk in .sluice/triage.toml.",
            package.name
        ),
    }
}

pub(crate) fn descriptor(package: &Package, finding: &Finding) -> Value {
    let main = finding.advisories.iter().find(|a| a.id == finding.id).or(finding.advisories.first());
    let details = main.map(|a| a.details.trim()).unwrap_or_default();
    let short = if finding.summary.is_empty() {
        format!("{} in {}", finding.id, package.name)
    } else {
        finding.summary.clone()
    };
    let fix = how_to_fix(package, finding);
    let ids = std::iter::once(finding.id.as_str())
        .chain(finding.aliases.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(", ");
    let mut markdown =
        format!("**{fix}**\n\n{}\n\nIdentifiers: {ids}\n", if details.is_empty() { &short } else { details });
    if !finding.fixed.is_empty() {
        markdown.push_str(&format!("\nFixed in: {}\n", finding.fixed.join(", ")));
    }
    if !finding.functions.is_empty() {
        markdown.push_str(&format!("\nAffected functions: {}\n", finding.functions.join(", ")));
    }
    let references: Vec<&str> =
        finding.advisories.iter().flat_map(|a| a.references.iter().map(String::as_str)).collect();
    if !references.is_empty() {
        markdown.push_str("\nReferences:\n");
        for r in references.iter().take(10) {
            markdown.push_str(&format!("- {r}\n"));
        }
    }
    let mut tags = vec!["security".to_owned(), "dependency".to_owned(), finding.kind.as_str().to_owned()];
    let cwes: Vec<String> = {
        let mut c: Vec<String> = finding.advisories.iter().flat_map(|a| a.cwes.iter().cloned()).collect();
        c.sort();
        c.dedup();
        c
    };
    for cwe in &cwes {
        if let Some(n) = cwe.strip_prefix("CWE-") {
            tags.push(format!("external/cwe/cwe-{n}"));
        }
    }
    let level = if is_vulnerability(finding) { "error" } else { "warning" };
    let mut properties = json!({
        "tags": tags,
        "precision": "very-high",
        "problem.severity": if level == "error" { "error" } else { "warning" },
        keys::ADVISORY_KIND: finding.kind.as_str(),
        keys::ADVISORY: finding.id,
        keys::ALIASES: finding.aliases,
        keys::CWE: cwes,
    });
    if let Some(obj) = properties.as_object_mut() {
        if let Some(score) = &finding.score {
            obj.insert("security-severity".into(), json!(format!("{:.1}", score.value)));
        }
    }
    json!({
        "id": finding.id,
        "name": finding.id.replace(['-', '.'], ""),
        "shortDescription": { "text": short },
        "fullDescription": { "text": if details.is_empty() { short.clone() } else { truncate(details, 4000) } },
        "help": { "text": format!("{fix}\n\n{}", truncate(details, 4000)), "markdown": truncate(&markdown, 8000) },
        "helpUri": format!("https://osv.dev/vulnerability/{}", finding.id),
        "defaultConfiguration": { "level": level },
        "properties": properties,
    })
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Where a finding is reported: the lockfile (or image) and line, and for image packages the
/// in-image path and layer, said in the message and kept as properties.
pub(crate) struct Place<'a> {
    pub uri: &'a str,
    pub line: u32,
    pub context: Option<(String, serde_json::Map<String, Value>)>,
}

pub(crate) fn result(package: &Package, finding: &Finding, at: &Place<'_>) -> Value {
    let level = if is_vulnerability(finding) { "error" } else { "warning" };
    let aka = if finding.aliases.is_empty() { String::new() } else { format!(" ({})", finding.aliases.join(", ")) };
    let what = match finding.kind {
        sluice_advisory::model::Kind::Vulnerability => "is affected by",
        sluice_advisory::model::Kind::Malicious => "is a malicious package:",
        sluice_advisory::model::Kind::Unmaintained => "is unmaintained:",
        sluice_advisory::model::Kind::Unsound => "is unsound:",
        sluice_advisory::model::Kind::Notice => "has a notice:",
    };
    let summary = if finding.summary.is_empty() { String::new() } else { format!(": {}", finding.summary) };
    let source = match package.distro.as_ref().and_then(|d| d.source_name.as_deref()) {
        Some(src) => format!(" (source package {src})"),
        None => String::new(),
    };
    let context = at.context.as_ref().map(|(text, _)| format!(" {text}")).unwrap_or_default();
    let message = format!(
        "{} {}{source} {what} {}{aka}{summary}. {}{context}",
        package.name,
        package.version,
        finding.id,
        how_to_fix(package, finding)
    );
    let mut properties = json!({
        keys::ADVISORY: finding.id,
        keys::ALIASES: finding.aliases,
        keys::PURL: package.purl,
        keys::PACKAGE: package.name,
        keys::PACKAGE_VERSION: package.version,
        keys::ECOSYSTEM: package.ecosystem.osv_name(),
        keys::FIXED_VERSIONS: finding.fixed,
        keys::ADVISORY_KIND: finding.kind.as_str(),
        keys::RELATIONSHIP: format!("{:?}", package.relationship).to_lowercase(),
    });
    if let Some(obj) = properties.as_object_mut() {
        if let Some(v) = &finding.upgrade_to {
            obj.insert(keys::UPGRADE_TO.into(), json!(v));
        }
        if let Some(score) = &finding.score {
            obj.insert(keys::SECURITY_SEVERITY.into(), json!(format!("{:.1}", score.value)));
            obj.insert(keys::SEVERITY_SOURCE.into(), json!(score.source));
            obj.insert(keys::SEVERITY_BASIS.into(), json!(score.basis));
        }
        if let Some(distro) = &package.distro {
            obj.insert(keys::DISTRO.into(), json!(distro.osv_ecosystem()));
            if let Some(src) = &distro.source_name {
                obj.insert(keys::SOURCE_PACKAGE.into(), json!(src));
            }
        }
        if let Some((_, extra)) = &at.context {
            obj.extend(extra.clone());
        }
    }
    json!({
        "ruleId": finding.id,
        "level": level,
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": at.uri, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": at.line.max(1) },
            },
        }],
        "properties": properties,
    })
}
