//! `sluice record` (deployments, incidents, import/export of events) and `sluice metrics`
//! (DORA's four keys, security velocity), plus the hook that records each `sluice run`.
//! The computing is in `sluice-metrics`; this module finds the repository and database,
//! parses arguments and prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use sluice_metrics::{DeployStatus, Deployment, Incident, Inserted, Repo, ScanFinding, ScanRun, Store};
use sluice_pipeline::{safe_fs, Config};
use sluice_sarif::keys;
use sluice_sarif::sarif::Sarif;

use crate::exit;

/// Where the events are, for `metrics` and `metrics security`.
#[derive(Debug, Args, Clone)]
pub struct Location {
    /// The repository (any directory inside it).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// The events database (default: `[metrics] db` in sluice.toml, else .sluice/events.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

/// The same for `record`, where the flags may follow any of its subcommands.
#[derive(Debug, Args, Clone)]
pub struct RecordLocation {
    /// The repository (any directory inside it).
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// The events database (default: `[metrics] db` in sluice.toml, else .sluice/events.db).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(subcommand)]
    pub what: RecordWhat,
    #[command(flatten)]
    pub location: RecordLocation,
}

#[derive(Debug, Subcommand)]
pub enum RecordWhat {
    /// Record a deployment (prints its id), or every tag matching --from-tags as one.
    Deploy(DeployArgs),
    /// Open or resolve an incident (prints its id).
    Incident(IncidentArgs),
    /// Add the events of a JSON-lines file (`-` for stdin); already recorded ones are skipped.
    Import { file: PathBuf },
    /// Write every event as JSON lines to stdout (or a file).
    Export { file: Option<PathBuf> },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Success,
    Failure,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The environment deployed to.
    #[arg(long, default_value = "prod")]
    pub env: String,
    /// The commit deployed (any revision: full or short id, tag, branch).
    #[arg(long, value_name = "SHA", required_unless_present = "from_tags", conflicts_with = "from_tags")]
    pub commit: Option<String>,
    /// When (default: now): 2024-05-01, 2024-05-01T12:00:00Z or @SECONDS.
    #[arg(long, value_name = "TIME", conflicts_with = "from_tags")]
    pub at: Option<String>,
    #[arg(long, value_enum, default_value_t = StatusArg::Success, conflicts_with = "from_tags")]
    pub status: StatusArg,
    /// The monorepo service path this deployment ships (default: the whole repository).
    #[arg(long, value_name = "PATH")]
    pub service: Option<String>,
    /// Record every tag matching this glob (e.g. 'v*') as a successful deployment at the tag's
    /// date (the tagger's, else the commit's). Running it again records only new tags.
    #[arg(long, value_name = "PATTERN")]
    pub from_tags: Option<String>,
    /// With --from-tags: leave out tags matching this glob too (e.g. '*rc*', '*beta*'); may be
    /// repeated.
    #[arg(long, value_name = "PATTERN", requires = "from_tags", conflicts_with = "commit")]
    pub exclude_tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IncidentAction {
    Open,
    Resolve,
}

#[derive(Debug, Args)]
pub struct IncidentArgs {
    pub action: IncidentAction,
    /// The incident's id (default for open: the next number; required for resolve). Opening an
    /// existing id updates its link.
    #[arg(long)]
    pub id: Option<String>,
    /// When it was opened or resolved (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// The deployment that caused it.
    #[arg(long, value_name = "ID", conflicts_with = "cause")]
    pub deploy: Option<i64>,
    /// The commit that caused it ("root cause"): the incident is charged to the first
    /// production deployment that shipped it.
    #[arg(long, value_name = "SHA")]
    pub cause: Option<String>,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub sub: Option<MetricsSub>,
    #[command(flatten)]
    pub common: MetricsCommon,
}

#[derive(Debug, Subcommand)]
pub enum MetricsSub {
    /// Security velocity from recorded `sluice run`s: introduced/fixed per week, time to
    /// remediate against SLA, false-positive rate per rule and stage.
    Security(MetricsCommon),
}

#[derive(Debug, Args, Clone)]
pub struct MetricsCommon {
    /// Only events from this time on: 2024-05-01, 2024-05-01T12:00:00Z or @SECONDS.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only events up to this time (default: now).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// A monorepo service: commits touching this directory, deployments of this service.
    #[arg(long, value_name = "SUBDIR")]
    pub path: Option<String>,
    /// The production environment.
    #[arg(long, default_value = "prod")]
    pub env: String,
    /// How far commit and deployment clocks may disagree before contradictory dates count as
    /// clock skew and leave a commit out of lead time (`0s`, `10m`, `1h`). Default:
    /// `[metrics] clock_skew` in sluice.toml, else 10m.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub clock_skew: Option<std::time::Duration>,
    #[arg(long, value_enum, default_value_t = MetricsFormat::Text)]
    pub format: MetricsFormat,
    #[command(flatten)]
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsFormat {
    Text,
    Json,
    Svg,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn time_arg(text: Option<&str>, flag: &str) -> Result<Option<i64>> {
    text.map(|t| sluice_metrics::parse_time(t).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))).transpose()
}

/// The repository root (from git when there is a repository) and the database path.
fn locate(location: &Location) -> Result<(PathBuf, Option<Repo>, PathBuf, Config)> {
    let dir = location
        .repo
        .canonicalize()
        .with_context(|| format!("{}: cannot open the repository directory", location.repo.display()))?;
    let repo = Repo::discover(&dir).ok();
    let root = repo.as_ref().map_or_else(|| dir.clone(), Repo::root);
    let config = Config::load(&root)?;
    let db = match (&location.db, &config.metrics.db) {
        (Some(db), _) => db.clone(),
        (None, Some(db)) => root.join(db),
        (None, None) => root.join(".sluice").join("events.db"),
    };
    Ok((root, repo, db, config))
}

fn need_repo(repo: Option<Repo>, root: &Path) -> Result<Repo> {
    match repo {
        Some(r) => Ok(r),
        None => Repo::discover(root).map_err(Into::into),
    }
}

pub fn record(args: RecordArgs) -> Result<u8> {
    let location = Location { repo: args.location.repo.clone(), db: args.location.db.clone() };
    let (root, repo, db, _) = locate(&location)?;
    let mut store = open_store(&root, &db)?;
    let mut out = std::io::stdout().lock();
    match args.what {
        RecordWhat::Deploy(d) => {
            let repo = need_repo(repo, &root)?;
            let service = d.service.map(|s| s.trim_matches('/').to_owned());
            if let Some(pattern) = d.from_tags {
                let glob = globset::Glob::new(&pattern)
                    .with_context(|| format!("--from-tags {pattern:?}: not a glob (e.g. 'v*')"))?
                    .compile_matcher();
                let mut excluded = globset::GlobSetBuilder::new();
                for pattern in &d.exclude_tags {
                    excluded.add(
                        globset::Glob::new(pattern)
                            .with_context(|| format!("--exclude-tags {pattern:?}: not a glob (e.g. '*rc*')"))?,
                    );
                }
                let excluded = excluded.build().context("--exclude-tags")?;
                let mut tags = repo.tags(&glob)?;
                let matching = tags.len();
                tags.retain(|t| !excluded.is_match(&t.name));
                if matching > tags.len() {
                    eprintln!("{} tag(s) left out by --exclude-tags", matching - tags.len());
                }
                let (mut added, mut known) = (0, 0);
                for tag in &tags {
                    let deployment = Deployment {
                        id: 0,
                        env: d.env.clone(),
                        commit: tag.commit.clone(),
                        at: tag.at,
                        status: DeployStatus::Success,
                        service: service.clone(),
                        source: format!("tag:{}", tag.name),
                    };
                    match store.add_deployment(&deployment)? {
                        Inserted::New(_) => added += 1,
                        Inserted::Duplicate(_) => known += 1,
                    }
                }
                eprintln!(
                    "recorded {added} deployment(s) to {} from {} tag(s) matching {pattern:?} ({known} already recorded) in {}",
                    d.env,
                    tags.len(),
                    db.display()
                );
                if tags.is_empty() {
                    eprintln!("warning: no tag matches {pattern:?}; `git tag -l` lists them");
                }
                return Ok(exit::OK);
            }
            let rev = d.commit.unwrap_or_default();
            let commit = match repo.resolve(&rev) {
                Some(full) => full,
                None => {
                    eprintln!(
                        "warning: {rev} is not a commit of this repository: recorded as given; metrics exclude it (with a warning) until the commit is fetched"
                    );
                    rev
                }
            };
            let at = time_arg(d.at.as_deref(), "at")?.unwrap_or_else(now);
            let status = match d.status {
                StatusArg::Success => DeployStatus::Success,
                StatusArg::Failure => DeployStatus::Failure,
            };
            let deployment = Deployment { id: 0, env: d.env, commit, at, status, service, source: "cli".into() };
            let id = match store.add_deployment(&deployment)? {
                Inserted::New(id) => id,
                Inserted::Duplicate(id) => {
                    eprintln!("note: this deployment is already recorded as {id}");
                    id
                }
            };
            writeln!(out, "{id}")?;
        }
        RecordWhat::Incident(i) => {
            let at = time_arg(i.at.as_deref(), "at")?;
            let cause = i.cause.as_ref().map(|rev| match repo.as_ref().and_then(|r| r.resolve(rev)) {
                Some(full) => full,
                None => {
                    eprintln!(
                        "warning: cause {rev} is not a commit of this repository: metrics exclude this incident until it is fetched"
                    );
                    rev.clone()
                }
            });
            if let Some(id) = i.deploy {
                if store.deployment(id)?.is_none() {
                    bail!("--deploy {id}: no such deployment in {} (`sluice record export` lists them)", db.display());
                }
            }
            match i.action {
                IncidentAction::Open => {
                    let id = match i.id {
                        Some(id) => id,
                        None => store.next_incident_id()?,
                    };
                    let mut incident = store.incident(&id)?.unwrap_or(Incident {
                        id: id.clone(),
                        opened_at: at.unwrap_or_else(now),
                        resolved_at: None,
                        deploy: None,
                        cause: None,
                    });
                    if let Some(at) = at {
                        incident.opened_at = at;
                    }
                    if i.deploy.is_some() || cause.is_some() {
                        incident.deploy = i.deploy;
                        incident.cause = cause;
                    }
                    if incident.deploy.is_none() && incident.cause.is_none() {
                        eprintln!(
                            "warning: incident {id} has no cause: it counts as no change failure until linked (sluice record incident open --id {id} --deploy ID | --cause SHA)"
                        );
                    }
                    store.put_incident(&incident)?;
                    writeln!(out, "{id}")?;
                }
                IncidentAction::Resolve => {
                    let Some(id) = i.id else { bail!("resolve needs --id (the id `open` printed)") };
                    let Some(mut incident) = store.incident(&id)? else {
                        bail!("incident {id} is not recorded in {}: open it first", db.display())
                    };
                    incident.resolved_at = Some(at.unwrap_or_else(now));
                    if i.deploy.is_some() || cause.is_some() {
                        incident.deploy = i.deploy;
                        incident.cause = cause;
                    }
                    store.put_incident(&incident)?;
                    writeln!(out, "{id}")?;
                }
            }
        }
        RecordWhat::Import { file } => {
            let (text, origin) = if file == Path::new("-") {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read stdin")?;
                (text, "stdin".to_owned())
            } else {
                (
                    std::fs::read_to_string(&file).with_context(|| format!("{}: cannot read", file.display()))?,
                    file.display().to_string(),
                )
            };
            let counts = sluice_metrics::import(&mut store, &text, &origin)?;
            eprintln!(
                "imported {} event(s) into {} ({} already recorded)",
                counts.added,
                db.display(),
                counts.duplicates
            );
        }
        RecordWhat::Export { file } => match file {
            None => sluice_metrics::export(&store, &mut out)?,
            Some(path) => {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(&path).with_context(|| format!("{}: cannot write", path.display()))?,
                );
                sluice_metrics::export(&store, &mut f)?;
                f.flush().with_context(|| format!("{}: cannot write", path.display()))?;
            }
        },
    }
    out.flush()?;
    Ok(exit::OK)
}

pub fn metrics(args: MetricsArgs) -> Result<u8> {
    match args.sub {
        Some(MetricsSub::Security(common)) => security(&common),
        None => dora(&args.common),
    }
}

/// Opens (creating) the database. One created inside `.sluice/` is git-ignored there: it is
/// local state (binary, and every pipeline would conflict on it); teams share events through
/// `record export`/`import`, a CI cache, or `[metrics] db` on persistent storage.
///
/// A database inside the repository (the default, or `[metrics] db`) is opened only when no
/// directory on the way and not the file itself is a symbolic link (`safe_fs`): a committed
/// `.sluice -> DIR` must not make sluice create files in DIR.
fn open_store(root: &Path, db: &Path) -> Result<Store> {
    // (`[metrics] db = "../elsewhere"` or an absolute path is the configuration's choice of a
    // place outside, as documented; only paths inside are checked.)
    let inside = |r: &Path| r.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    let rel = db.strip_prefix(root).ok().filter(|r| !r.as_os_str().is_empty() && inside(r));
    if let Some(rel) = rel {
        safe_fs::prepare_file_in(root, rel)?;
    }
    let fresh = !db.exists();
    let store = Store::open(db)?;
    let dir = root.join(".sluice");
    if fresh && db.parent() == Some(dir.as_path()) {
        let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let _lock = safe_fs::lock_dir_in(root, Path::new(".sluice"))?;
        let ignore = dir.join(".gitignore");
        let current = std::fs::read_to_string(&ignore).unwrap_or_default();
        if !current.lines().any(|l| l.trim() == name) {
            let mut text = current;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("# sluice's local events database (docs/metrics.md)\n{name}\n{name}-*\n"));
            safe_fs::write_in(root, Path::new(".sluice/.gitignore"), text.as_bytes(), None)?;
        }
    }
    Ok(store)
}

fn open_existing(db: &Path) -> Result<Store> {
    if !db.exists() {
        bail!(
            "{}: no events recorded yet; record deployments first (sluice record deploy --commit SHA, or --from-tags 'v*')",
            db.display()
        );
    }
    Ok(Store::open(db)?)
}

fn dora(c: &MetricsCommon) -> Result<u8> {
    let (root, repo, db, config) = locate(&c.location)?;
    let repo = need_repo(repo, &root)?;
    let clock_skew = match (c.clock_skew, &config.metrics.clock_skew) {
        (Some(d), _) => d,
        (None, Some(text)) => humantime::parse_duration(text).map_err(|e| {
            anyhow::anyhow!("{}: [metrics] clock_skew {text:?}: {e}", root.join("sluice.toml").display())
        })?,
        (None, None) => std::time::Duration::from_secs(sluice_metrics::DEFAULT_CLOCK_SKEW as u64),
    };
    // Any tolerance past a year is a year: the dates it is added to stay far from overflow.
    let clock_skew = clock_skew.as_secs().min(365 * 24 * 3600) as i64;
    let store = open_existing(&db)?;
    let deployments = store.deployments()?;
    let incidents = store.incidents()?;
    let now = now();
    let until = time_arg(c.until.as_deref(), "until")?.unwrap_or(now);
    let since = time_arg(c.since.as_deref(), "since")?;
    // Every recorded commit that exists is a tip: a deployment from a branch that is not
    // HEAD's ancestor still counts.
    let mut tips: Vec<String> = deployments.iter().map(|d| d.commit.clone()).collect();
    tips.extend(incidents.iter().filter_map(|i| i.cause.clone()));
    tips.extend(repo.head());
    tips.sort();
    tips.dedup();
    let history = repo.history(&tips, c.path.as_deref())?;
    let opts = sluice_metrics::DoraOptions { env: &c.env, since, until, now, path: c.path.as_deref(), clock_skew };
    let report = sluice_metrics::compute_dora(&history, &deployments, &incidents, &opts);
    let text = match c.format {
        MetricsFormat::Text => sluice_metrics::dora_text(&report),
        MetricsFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        MetricsFormat::Svg => sluice_metrics::dora_svg(&report),
    };
    let mut out = crate::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(exit::OK)
}

fn security(c: &MetricsCommon) -> Result<u8> {
    let (_, _, db, config) = locate(&c.location)?;
    let store = open_existing(&db)?;
    let mut sla = sluice_metrics::Sla::defaults();
    sla.days.extend(config.metrics.sla_days.clone());
    let until = time_arg(c.until.as_deref(), "until")?.unwrap_or_else(now);
    let since = time_arg(c.since.as_deref(), "since")?;
    let report =
        sluice_metrics::compute_security(&store.scan_runs()?, &sluice_metrics::SecurityOptions { since, until, sla });
    let text = match c.format {
        MetricsFormat::Text => sluice_metrics::security_text(&report),
        MetricsFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        MetricsFormat::Svg => sluice_metrics::security_svg(&report),
    };
    let mut out = crate::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(exit::OK)
}

/// Called by `sluice run` with the final log. Records the run's summary when `[metrics]
/// record_runs = true`, or when it is unset and the events database already exists. Partial
/// runs (diff-aware, `--stages`, a failed stage) are not recorded: findings they did not look
/// at would count as fixed. Never fails the run: problems become a note.
pub fn record_run(root: &Path, config: &Config, log: &Sarif, complete: bool, note: &dyn Fn(&str)) {
    let db = config.metrics.db.as_ref().map_or_else(|| root.join(".sluice").join("events.db"), |d| root.join(d));
    let wanted = config.metrics.record_runs.unwrap_or_else(|| db.exists());
    if !wanted {
        return;
    }
    if !complete {
        note("metrics: run not recorded (a partial run: diff-aware, --stages, or a failed stage)");
        return;
    }
    let findings = sluice_report::findings(log);
    let results = log.runs.iter().flat_map(|r| r.results.iter().flatten());
    let mut rows: Vec<ScanFinding> = findings
        .iter()
        .zip(results)
        .filter_map(|(f, result)| {
            let triage = result
                .properties
                .as_ref()
                .and_then(|p| p.additional_properties.get(keys::TRIAGE))
                .and_then(|t| t.get("status"))
                .and_then(|s| s.as_str())
                .map(str::to_owned);
            Some(ScanFinding {
                stage: f.stage.clone(),
                rule: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone()?,
                severity: f.severity.to_string(),
                suppressed: f.suppressed,
                triage,
            })
        })
        .collect();
    rows.sort();
    let commit = Repo::discover(root).ok().and_then(|r| r.head());
    let run = ScanRun { id: 0, at: now(), commit, findings: rows };
    match open_store(root, &db).and_then(|mut s| Ok(s.add_scan_run(&run)?)) {
        Ok(_) => note(&format!("metrics: run recorded in {}", db.display())),
        Err(e) => note(&format!("warning: metrics: run not recorded: {e}")),
    }
}

/// One deployment or incident as `sluice push` sends it.
#[derive(Debug, serde::Serialize)]
pub struct PushEvent {
    pub id: String,
    pub kind: &'static str,
    pub at: String,
    /// The exported line.
    pub body: serde_json::Value,
}

/// The deployments and incidents `sluice record` keeps, as `sluice push` sends them: an id
/// stable across pushes (a deployment by environment, commit and time; an incident by its id,
/// whose latest state wins on the server), the kind, the time, and the exported line.
pub fn events_for_push(root: &Path, config: &Config) -> Result<Vec<PushEvent>> {
    let db = config.metrics.db.as_ref().map_or_else(|| root.join(".sluice").join("events.db"), |d| root.join(d));
    if !db.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open(&db)?;
    let mut lines = Vec::new();
    sluice_metrics::export(&store, &mut lines)?;
    let id_part = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "._-:@".contains(c) { c } else { '-' }).take(40).collect()
    };
    let mut events = Vec::new();
    for line in String::from_utf8_lossy(&lines).lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let text = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let (kind, id, at) = match value.get("type").and_then(|t| t.as_str()) {
            Some("deployment") => (
                "deployment",
                format!("deployment:{}:{}:{}", id_part(&text("env")), id_part(&text("commit")), id_part(&text("at"))),
                text("at"),
            ),
            Some("incident") => ("incident", format!("incident:{}", id_part(&text("id"))), text("opened_at")),
            _ => continue,
        };
        events.push(PushEvent { id, kind, at, body: value });
    }
    Ok(events)
}
