//! The deps stage: lockfiles from `sluice-inventory`, matched against the offline advisory
//! database of `sluice-advisory`, as a SARIF run — with the match cache (each distinct
//! package matched once), the order of results, and the advice on what to upgrade. The
//! container stage reports image packages with the same descriptors and results.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use sluice_advisory::model::Kind;
use sluice_advisory::{Database, Finding, PackageMatch};
use sluice_inventory::{Package, Source};
use sluice_pipeline::options::DepsOptions;
use sluice_report::escape::terminal_lines;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::run::{Hit, Level, Note, Props, Rule, RunBuilder, Span};
use crate::{Stage, StageInput};

/// A database older than this many days gets a warning (OSV and RustSec publish daily).
pub const DEFAULT_MAX_AGE_DAYS: u64 = 7;

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

/// Seconds since the Unix epoch (what the database records its updates in).
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// An age in seconds as people say it: `5 hours`, `1 day`, `12 days`.
pub fn age_text(seconds: u64) -> String {
    let days = seconds / 86_400;
    match days {
        0 => format!("{} hours", seconds / 3600),
        1 => "1 day".into(),
        d => format!("{d} days"),
    }
}

/// Opens the advisory database a stage uses: `--db`, else the stage's `db` option (relative
/// to the repository root), else [`default_db_path`]. A missing or damaged database is an
/// error note (the stage must then fail: never a silent pass); an old one adds a warning.
/// Both are also told on stderr, the stage's log.
pub fn open_db(
    root: &Path,
    db_override: Option<&Path>,
    configured: Option<&Path>,
    max_age_days: Option<u64>,
    notes: &mut Vec<Note>,
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
            notes.push(Note::new(Level::Error, format!("{what} were not checked: {e}")));
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
        notes.push(Note::new(Level::Warning, text));
    }
    Ok(Some((db, db_path)))
}

/// `sluice scan deps`.
pub struct Deps;

impl Stage for Deps {
    fn name(&self) -> &'static str {
        "deps"
    }

    /// Discovers lockfiles, matches every registry package, one result per (package
    /// occurrence, merged advisory).
    fn run(&self, input: &StageInput<'_>) -> Result<Run> {
        let opts: DepsOptions = crate::options(input, "deps")?;
        let inventory = sluice_inventory::discover(input.root);
        let mut run = RunBuilder::new(self.name());
        let mut notes: Vec<Note> = Vec::new();
        for e in &inventory.walk_errors {
            notes.push(Note::new(Level::Warning, e.clone()));
        }
        let mut lockfiles = Vec::new();
        for lockfile in &inventory.lockfiles {
            if let Some(err) = &lockfile.error {
                eprintln!("error: {}", terminal_lines(&err.to_string()));
                notes.push(Note::new(Level::Error, err.to_string()));
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
        if packages.is_empty() && notes.iter().all(|n| n.level != Level::Error) {
            notes.push(Note::new(Level::Note, "no lockfiles with packages found; nothing to check"));
            notes.into_iter().for_each(|n| run.note(n));
            run.counters().set(keys::LOCKFILES, lockfiles.len());
            return Ok(run.build());
        }
        let opened =
            open_db(input.root, input.db, opts.db.as_deref(), opts.max_db_age_days, &mut notes, "dependencies")?;
        let Some((db, db_path)) = opened else {
            notes.into_iter().for_each(|n| run.note(n));
            run.counters().set(keys::PACKAGES, packages.len());
            run.failed();
            return Ok(run.build());
        };
        let matched = match_packages(&db, &packages)?;
        notes.extend(matched.notes.iter().map(|text| Note::new(Level::Note, text.clone())));
        notes.into_iter().for_each(|n| run.note(n));

        // Descriptors by advisory id; results in file order: path, line, package, advisory.
        let descriptors: BTreeMap<&str, (&Package, &Finding)> =
            matched.ordered.iter().rev().map(|(p, f)| (f.id.as_str(), (*p, f))).collect();
        for (id, (package, finding)) in descriptors {
            run.rule(id, || descriptor(package, finding));
        }
        for (package, finding) in &matched.ordered {
            let at = Place { uri: &package.location.path, line: package.location.line, context: None };
            let content = sluice_sarif::content_hash(&format!("{}@{} {}", package.name, package.version, finding.id));
            run.hit(hit(package, finding, &at, content));
        }
        run.counters()
            .set(keys::LOCKFILES, lockfiles.len())
            .set(keys::PACKAGES, packages.len())
            .set(keys::PACKAGES_NOT_FROM_A_REGISTRY, matched.not_registry)
            .set(keys::ADVISORY_DB, db_path.display().to_string())
            .set(keys::ADVISORY_DB_UPDATED, db.meta().updated_at)
            .set(keys::ADVISORIES, db.meta().total);
        Ok(run.build())
    }
}

/// The packages of some lockfiles matched against the database.
pub struct Matched<'p> {
    /// Every (package occurrence, finding), in file order: lockfile path, line, package name,
    /// advisory id.
    pub ordered: Vec<(&'p Package, Finding)>,
    /// What the matcher could not evaluate, sorted, each once.
    pub notes: Vec<String>,
    /// Packages checked out from git or a path, which advisories do not describe.
    pub not_registry: usize,
}

/// Matches `packages`; each distinct (ecosystem, name, version) is matched once, however many
/// lockfiles have it.
pub fn match_packages<'p>(db: &Database, packages: &[&'p Package]) -> Result<Matched<'p>> {
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
                e.insert(sluice_advisory::match_package(db, package.ecosystem, &package.name, &package.version)?)
            }
        };
        for i in 0..m.findings.len() {
            hits.push((package, i));
        }
    }
    let mut notes: Vec<String> = cache.values().flat_map(|m| m.notes.iter().cloned()).collect();
    notes.sort();
    notes.dedup();
    let mut ordered: Vec<(&Package, Finding)> = hits
        .iter()
        .filter_map(|(p, i)| {
            cache.get(&(p.ecosystem, p.name.as_str(), p.version.as_str())).map(|m| (*p, m.findings[*i].clone()))
        })
        .collect();
    // File order: path, line, package, then advisory (and version), so occurrence indexes are
    // stable. The sort is stable: a package listed twice keeps the lockfile's order.
    ordered.sort_by(|(p, f), (q, g)| file_order(p, f).cmp(&file_order(q, g)));
    Ok(Matched { ordered, notes, not_registry })
}

fn file_order<'a>(package: &'a Package, finding: &'a Finding) -> (&'a str, u32, &'a str, &'a str, &'a str) {
    (&package.location.path, package.location.line, &package.name, &finding.id, &package.version)
}

fn is_vulnerability(finding: &Finding) -> bool {
    matches!(finding.kind, Kind::Vulnerability | Kind::Malicious)
}

fn level(finding: &Finding) -> Level {
    if is_vulnerability(finding) {
        Level::Error
    } else {
        Level::Warning
    }
}

/// What to upgrade: distribution advisories name the source package (`glibc` for `libc6`).
fn fix_name(package: &Package) -> &str {
    package.distro.as_ref().and_then(|d| d.source_name.as_deref()).unwrap_or(&package.name)
}

/// The advice for one finding: the version to upgrade to, or what to do when none is known.
pub fn how_to_fix(package: &Package, finding: &Finding) -> String {
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
        (None, Kind::Unmaintained) => {
            format!("{} is no longer maintained: move to a maintained alternative (see the advisory).", package.name)
        }
        (None, Kind::Malicious) => {
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

/// An advisory as a rule: its summary, details, the fix, identifiers and references.
pub fn descriptor(package: &Package, finding: &Finding) -> Rule {
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
    let mut cwes: Vec<String> = finding.advisories.iter().flat_map(|a| a.cwes.iter().cloned()).collect();
    cwes.sort();
    cwes.dedup();
    let mut rule = Rule::new(&finding.id, level(finding));
    rule.name = finding.id.replace(['-', '.'], "");
    rule.full_description = if details.is_empty() { short.clone() } else { truncate(details, 4000) };
    rule.short_description = short;
    rule.help_text = format!("{fix}\n\n{}", truncate(details, 4000));
    rule.help_markdown = truncate(&markdown, 8000);
    rule.help_uri = Some(format!("https://osv.dev/vulnerability/{}", finding.id));
    rule.precision = "very-high".to_owned();
    rule.security_severity = finding.score.as_ref().map(|s| s.value);
    rule.tags = vec!["security".to_owned(), "dependency".to_owned(), finding.kind.as_str().to_owned()];
    rule.cwe = cwes;
    rule.properties
        .set(keys::ADVISORY_KIND, finding.kind.as_str())
        .set(keys::ADVISORY, finding.id.as_str())
        .set(keys::ALIASES, finding.aliases.clone());
    rule
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
pub struct Place<'a> {
    pub uri: &'a str,
    pub line: u32,
    pub context: Option<(String, Props)>,
}

/// One package affected by one finding, at `at`; `content` is the fingerprint's content.
pub fn hit(package: &Package, finding: &Finding, at: &Place<'_>, content: String) -> Hit {
    let aka = if finding.aliases.is_empty() { String::new() } else { format!(" ({})", finding.aliases.join(", ")) };
    let what = match finding.kind {
        Kind::Vulnerability => "is affected by",
        Kind::Malicious => "is a malicious package:",
        Kind::Unmaintained => "is unmaintained:",
        Kind::Unsound => "is unsound:",
        Kind::Notice => "has a notice:",
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
    let mut properties = Props::new();
    properties
        .set(keys::ADVISORY, finding.id.as_str())
        .set(keys::ALIASES, finding.aliases.clone())
        .set(keys::PURL, package.purl.as_str())
        .set(keys::PACKAGE, package.name.as_str())
        .set(keys::PACKAGE_VERSION, package.version.as_str())
        .set(keys::ECOSYSTEM, package.ecosystem.osv_name())
        .set(keys::FIXED_VERSIONS, finding.fixed.clone())
        .set(keys::ADVISORY_KIND, finding.kind.as_str())
        .set(keys::RELATIONSHIP, format!("{:?}", package.relationship).to_lowercase());
    if let Some(v) = &finding.upgrade_to {
        properties.set(keys::UPGRADE_TO, v.as_str());
    }
    if let Some(score) = &finding.score {
        properties.severity(score.value, &score.source).set(keys::SEVERITY_BASIS, score.basis.as_str());
    }
    if let Some(distro) = &package.distro {
        properties.set(keys::DISTRO, distro.osv_ecosystem());
        if let Some(src) = &distro.source_name {
            properties.set(keys::SOURCE_PACKAGE, src.as_str());
        }
    }
    if let Some((_, extra)) = &at.context {
        properties.extend(extra.clone());
    }
    Hit {
        rule_id: finding.id.clone(),
        level: level(finding),
        message,
        uri: at.uri.to_owned(),
        span: Span::line(at.line.max(1)),
        properties,
        suppressed: None,
        content,
    }
}
