//! `sluice triage` (apply decisions and the baseline to SARIF; record and review decisions) and
//! `sluice baseline` (record the findings of a commit). The logic is in `sluice-triage`; this is
//! the glue: files, git, the pipeline, printing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sluice_pipeline::{safe_fs, Config, Scope};
use sluice_repo::Git;
use sluice_report::escape::{terminal, terminal_lines};
use sluice_sarif::sarif::{Result as SarifResult, Sarif};
use sluice_sarif::{keys, normalize_run, read_log, Merger, NormalizeOptions};
use sluice_triage::{
    Baseline, CompareOptions, Date, Decisions, Edit, NewDecision, NewSelector, RenameMap, Selector, Status, Summary,
    BASELINE_FILE, DECISIONS_FILE,
};

use crate::{exit, progress};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TriageArgs {
    #[command(subcommand)]
    pub action: Option<TriageAction>,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

/// Where the decisions are.
#[derive(Debug, Args, Clone)]
pub struct DecisionsArgs {
    /// The repository root: decisions, baseline, source files and git are looked up there.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// The decisions file (default: ROOT/.sluice/triage.toml).
    #[arg(long, value_name = "FILE")]
    pub decisions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A SARIF file; `-` reads stdin. Default: stdin when piped, else sluice-out/results.sarif.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub at: DecisionsArgs,
    /// The baseline to compare with (default: ROOT/.sluice/baseline.sarif, when it exists).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Do not compare with a baseline.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,
    /// The log covers only some files (a diff-aware scan): do not report decisions that match
    /// nothing, nor baseline findings as fixed.
    #[arg(long)]
    pub partial: bool,
}

#[derive(Debug, Subcommand)]
pub enum TriageAction {
    /// Record a decision about one finding (by fingerprint), with your git identity and today's date.
    Mark(MarkArgs),
    /// List the decisions, with what each matches and whether it expired.
    List(ListArgs),
    /// Show one decision (by fingerprint or line number) and the findings it matches now.
    Show(ShowArgs),
    /// Remove expired decisions and, given a full log, the ones that match nothing.
    Prune(PruneArgs),
    /// Import an OpenVEX document as advisory decisions.
    Import(ImportArgs),
    /// Export the advisory decisions as an OpenVEX document (stdout).
    Export(ExportArgs),
    /// Propose a decision to the server (`[server] url`, with your personal token in
    /// $SLUICE_TOKEN): it applies to every run once someone with the role it needs approves it.
    Propose(crate::decision_sync::ProposeArgs),
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The finding's `sluice/v1` fingerprint (in results.sarif, reports and merge request comments).
    pub fingerprint: String,
    /// false_positive, accepted_risk, mitigated or confirmed.
    #[arg(long, value_parser = parse_status)]
    pub status: Status,
    /// Why: required, reviewed in the merge request.
    #[arg(long)]
    pub reason: String,
    /// The date (YYYY-MM-DD) from which the decision no longer applies.
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub expires: Option<Date>,
    /// The log that holds the finding (default: the last `sluice run`'s results.sarif).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A fingerprint, or the line number of the decision in the decisions file.
    pub id: String,
    /// The log to match against (default: the last `sluice run`'s results.sarif, when present).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// A log of a full (not diff-aware) run: decisions that match nothing in it are removed too.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Say what would be removed, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An OpenVEX JSON document.
    pub file: PathBuf,
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What the statements are about: a product id or package URL (default: the root's directory name).
    #[arg(long)]
    pub product: Option<String>,
    /// The document's author (default: your git identity).
    #[arg(long)]
    pub author: Option<String>,
    #[command(flatten)]
    pub at: DecisionsArgs,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Compute the findings of another ref (a branch, tag or commit) instead of the working tree.
    #[arg(long, value_name = "REF", conflicts_with = "sarif")]
    pub from: Option<String>,
    /// Take the findings from an existing SARIF log instead of running the stages.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Where to write (default: PATH/.sluice/baseline.sarif).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Run only these stages (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "STAGES")]
    pub stages: Option<Vec<String>>,
}

fn parse_status(text: &str) -> Result<Status, String> {
    Status::parse(&text.replace('-', "_"))
        .ok_or_else(|| format!("unknown status `{text}`; use {}", Status::ALL.map(|s| s.as_str()).join(", ")))
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("`{text}` is not a date; write YYYY-MM-DD, e.g. 2025-06-30"))
}

pub fn triage(args: TriageArgs) -> Result<u8> {
    match args.action {
        None => apply_command(args.apply),
        Some(TriageAction::Mark(a)) => mark(a),
        Some(TriageAction::List(a)) => list(a),
        Some(TriageAction::Show(a)) => show(a),
        Some(TriageAction::Prune(a)) => prune(a),
        Some(TriageAction::Import(a)) => import(a),
        Some(TriageAction::Export(a)) => export(a),
        Some(TriageAction::Propose(a)) => crate::decision_sync::propose(a),
    }
}

// ---------------------------------------------------------------------------------------------
// git

fn head_commit(root: &Path) -> Option<String> {
    Git::new(root).value(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
}

/// Files renamed between `commit` and the working tree, as git detects them. When `commit` is
/// an ancestor of HEAD, each commit's renames are composed (a rename in one commit and a
/// reformatting in another are both seen), then the uncommitted ones; otherwise the two trees
/// are compared directly. `None` when git does not know the commit (a shallow clone).
fn renames_since(root: &Path, commit: &str) -> Option<RenameMap> {
    let spec = format!("{commit}^{{commit}}");
    let commit = Git::new(root).value(&["rev-parse", "--verify", "--quiet", &spec])?;
    let git = Git::new(root);
    let diff = |from: &str| -> Option<Vec<u8>> {
        git.bytes(&["diff", "--no-ext-diff", "--find-renames", "--name-status", "-z", from, "--"]).ok()
    };
    let ancestor = head_commit(root).is_some() && git.bytes(&["merge-base", "--is-ancestor", &commit, "HEAD"]).is_ok();
    if !ancestor {
        return diff(&commit).map(|d| RenameMap::from_name_status(&d));
    }
    let range = format!("{commit}..HEAD");
    let log = git
        .bytes(&[
            "log",
            "--reverse",
            "--first-parent",
            "--diff-merges=first-parent",
            "--find-renames",
            "--name-status",
            "-z",
            "--format=%x01%H",
            &range,
            "--",
        ])
        .ok()?;
    let mut map = RenameMap::from_log(&log);
    map.add_diff(&diff("HEAD")?);
    Some(map)
}

fn identity(root: &Path) -> Result<String> {
    let name = Git::new(root).value(&["config", "user.name"]);
    let email = Git::new(root).value(&["config", "user.email"]);
    match (name, email) {
        (Some(n), Some(e)) => Ok(format!("{n} <{e}>")),
        (Some(n), None) => Ok(n),
        (None, Some(e)) => Ok(e),
        (None, None) => bail!(
            "who is deciding? set `git config user.name` and `git config user.email`: decisions record who made them"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// files

fn canonical_root(root: &Path) -> Result<PathBuf> {
    let abs = root.canonicalize().with_context(|| format!("{}: cannot open the repository root", root.display()))?;
    if !abs.is_dir() {
        bail!("{}: not a directory; give the repository's root", root.display());
    }
    Ok(abs)
}

/// The path as the user would type it: `ROOT/x` without a leading `./`.
fn shown(root_arg: &Path, rel: &str) -> String {
    let joined = root_arg.join(rel);
    let text = joined.display().to_string();
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

struct DecisionsFile {
    path: PathBuf,
    /// Where it is written: in the repository (links refused), or where the user said.
    place: Place,
    /// How messages name it.
    origin: String,
    /// As a SARIF artifact URI relative to `%SRCROOT%`.
    uri: String,
}

fn decisions_file(at: &DecisionsArgs, root: &Path) -> DecisionsFile {
    match &at.decisions {
        None => DecisionsFile {
            path: root.join(DECISIONS_FILE),
            place: Place::Repo { root: root.to_owned(), rel: PathBuf::from(DECISIONS_FILE) },
            origin: shown(&at.root, DECISIONS_FILE),
            uri: DECISIONS_FILE.to_owned(),
        },
        Some(p) => {
            let abs = if p.is_absolute() {
                p.clone()
            } else {
                std::env::current_dir().map(|d| d.join(p)).unwrap_or(p.clone())
            };
            let uri = match abs.canonicalize().ok().as_deref().and_then(|a| a.strip_prefix(root).ok()) {
                Some(rel) => rel.to_string_lossy().replace('\\', "/"),
                None => format!("file://{}", abs.display()),
            };
            DecisionsFile { path: p.clone(), place: Place::User(p.clone()), origin: p.display().to_string(), uri }
        }
    }
}

/// The decisions, or `None` when there is no file.
fn load_decisions(file: &DecisionsFile) -> Result<Option<Decisions>> {
    let text = match std::fs::read_to_string(&file.path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read the decisions file", file.origin)),
    };
    Ok(Some(Decisions::parse(&text, &file.origin)?))
}

fn read_sarif(path: &Path) -> Result<Sarif> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(read_log(&bytes, &path.display().to_string())?)
}

/// A file sluice writes: inside the repository (`safe_fs`: no symbolic link followed or
/// replaced, written atomically), or a path the user named (theirs, links followed).
enum Place {
    Repo { root: PathBuf, rel: PathBuf },
    User(PathBuf),
}

impl Place {
    fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Place::Repo { root, rel } => safe_fs::write_in(root, rel, bytes, None).map(|_| ()),
            Place::User(path) => safe_fs::write_user_file(path, bytes),
        }
        .map_err(Into::into)
    }

    /// Locks the file's directory for a read-modify-write: concurrent `sluice triage mark`s
    /// (or a mark and a prune) wait for each other instead of losing each other's edits.
    fn lock(&self) -> Result<safe_fs::DirLock> {
        let lock = match self {
            Place::Repo { root, rel } => safe_fs::lock_dir_in(root, rel.parent().unwrap_or(Path::new(""))),
            Place::User(path) => safe_fs::lock_user_dir(path),
        }?;
        if let Some(why) = &lock.unsupported {
            eprintln!("warning: {why}; concurrent edits of the decisions could be lost");
        }
        Ok(lock)
    }
}

/// The last `sluice run`'s results, where `sluice.toml` says they go.
fn default_results(root: &Path) -> PathBuf {
    let out_dir = Config::load(root).map(|c| c.out_dir).unwrap_or_else(|_| PathBuf::from("sluice-out"));
    root.join(out_dir).join("results.sarif")
}

fn fingerprint_of(result: &SarifResult) -> Option<&str> {
    result.partial_fingerprints.as_ref()?.get(keys::FINGERPRINT).map(String::as_str)
}

fn str_prop<'r>(result: &'r SarifResult, key: &str) -> Option<&'r str> {
    result.properties.as_ref()?.additional_properties.get(key)?.as_str()
}

// ---------------------------------------------------------------------------------------------
// applying

/// Decisions and baseline as found for a root.
struct Inputs {
    decisions: Option<(Decisions, DecisionsFile)>,
    baseline: Option<(Baseline, String)>,
}

fn load_inputs(at: &DecisionsArgs, root: &Path, baseline: Option<&Path>, use_baseline: bool) -> Result<Inputs> {
    let file = decisions_file(at, root);
    if at.decisions.is_some() && !file.path.exists() {
        bail!("{}: no such decisions file", file.origin);
    }
    let decisions = load_decisions(&file)?.map(|d| (d, file));
    let baseline = if !use_baseline {
        None
    } else {
        let (path, origin) = match baseline {
            Some(p) => (p.to_path_buf(), p.display().to_string()),
            None => (root.join(BASELINE_FILE), shown(&at.root, BASELINE_FILE)),
        };
        if baseline.is_none() && !path.exists() {
            None
        } else {
            let bytes = std::fs::read(&path).with_context(|| format!("{origin}: cannot read the baseline"))?;
            Some((Baseline::from_json(&bytes, &origin)?, origin))
        }
    };
    Ok(Inputs { decisions, baseline })
}

/// Applies decisions and the baseline to a log in place; returns lines for stderr. `in_scope`
/// says which files the log covers (`None`: all of them).
fn triage_log(
    log: &mut Sarif,
    root: &Path,
    inputs: &Inputs,
    in_scope: Option<&dyn Fn(&str) -> bool>,
) -> Result<Vec<String>> {
    let today = Date::today();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut triage = None;
    if let Some((decisions, file)) = &inputs.decisions {
        let mut renames = |commit: &str| renames_since(root, commit);
        let mut opts = sluice_triage::ApplyOptions {
            today,
            root: Some(root),
            decisions_uri: &file.uri,
            renames: &mut renames,
            check_stale: in_scope.is_none(),
        };
        let outcome = sluice_triage::apply(log, decisions, &mut opts)?;
        notes.push(format!(
            "triage: {} decision{} from {}: {} finding{} suppressed, {} confirmed, {} stale, {} expired",
            decisions.items.len(),
            plural(decisions.items.len()),
            file.origin,
            outcome.suppressed,
            plural(outcome.suppressed),
            outcome.confirmed,
            outcome.stale.len(),
            outcome.expired.len()
        ));
        // Every one is in the triage run's notifications; the terminal gets the first few.
        const SHOWN: usize = 10;
        for &i in outcome.stale.iter().take(SHOWN) {
            let d = &decisions.items[i];
            notes.push(format!(
                "warning: {}:{}: stale: the decision for {} matches no finding",
                file.origin,
                d.line,
                d.describe()
            ));
        }
        if outcome.stale.len() > SHOWN {
            notes.push(format!(
                "warning: … and {} more stale decisions (`sluice triage prune --sarif FILE` removes them)",
                outcome.stale.len() - SHOWN
            ));
        }
        if outcome.expired.len() > SHOWN {
            notes.push(format!("warning: {} expired decisions; the first {SHOWN}:", outcome.expired.len()));
        }
        for &(i, n) in outcome.expired.iter().take(SHOWN) {
            let d = &decisions.items[i];
            let e = d.expires.map(|e| e.to_string()).unwrap_or_default();
            notes.push(format!(
                "warning: {}:{}: expired on {e}: the decision for {} no longer applies ({n} finding{} shown again)",
                file.origin,
                d.line,
                d.describe(),
                plural(n)
            ));
        }
        triage = Some(outcome);
    }
    let mut compared = None;
    if let Some((baseline, origin)) = &inputs.baseline {
        let renames = match baseline.commit() {
            Some(commit) => renames_since(root, commit).unwrap_or_else(|| {
                warnings.push(format!(
                    "{origin}: the baseline's commit {commit} is not in this repository (a shallow clone?): renames since it are not followed; fetch it (git fetch --deepen) for exact matching"
                ));
                RenameMap::new()
            }),
            None => RenameMap::new(),
        };
        let all = |_: &str| true;
        let opts = CompareOptions { root: Some(root), renames: &renames, in_scope: in_scope.unwrap_or(&all) };
        let outcome = sluice_triage::compare(log, baseline, &opts);
        notes.push(format!(
            "baseline: {} new, {} unchanged, {} updated, {} fixed (compared with {origin}{})",
            outcome.new,
            outcome.unchanged,
            outcome.updated,
            outcome.fixed.len(),
            baseline.commit().map(|c| format!(" at {}", &c[..c.len().min(12)])).unwrap_or_default()
        ));
        compared = Some(outcome);
    }
    for w in &warnings {
        notes.push(format!("warning: {w}"));
    }
    if inputs.decisions.is_some() || inputs.baseline.is_some() {
        let summary = Summary {
            decisions: inputs.decisions.as_ref().zip(triage.as_ref()).map(|((d, _), o)| (d, o)),
            decisions_uri: inputs.decisions.as_ref().map_or(DECISIONS_FILE, |(_, f)| f.uri.as_str()),
            baseline: compared.as_ref(),
            warnings: &warnings,
            version: crate::VERSION,
        };
        log.runs.push(sluice_triage::triage_run(&summary));
    }
    Ok(notes)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The `sluice run` hook: applies `.sluice/triage.toml` and `.sluice/baseline.sarif` when
/// present. Diff-aware runs see only some files, so they report no stale decisions and count
/// only findings in the changed files as fixed.
/// Returns the repository's decisions, for weighing the server's against them.
pub fn apply_in_run(root: &Path, scope: &Scope, log: &mut Sarif, note: &dyn Fn(&str)) -> Result<Option<Decisions>> {
    let at = DecisionsArgs { root: root.to_path_buf(), decisions: None };
    let inputs = load_inputs(&at, root, None, true)?;
    let contains = |p: &str| scope.contains(p);
    let in_scope: Option<&dyn Fn(&str) -> bool> = if scope.is_diff_aware() { Some(&contains) } else { None };
    for line in triage_log(log, root, &inputs, in_scope)? {
        note(&line);
    }
    Ok(inputs.decisions.map(|(d, _)| d))
}

fn apply_command(args: ApplyArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let (bytes, origin) = crate::policy_cmd::read_sarif_bytes(args.file.as_deref(), &root, "triage", u64::MAX)?;
    let mut log = read_log(&bytes, &origin)?;
    drop(bytes);
    // Logs straight from a tool (`semgrep --sarif | sluice triage`) get sluice's fingerprints
    // first; normalizing a normalized run changes nothing.
    for run in &mut log.runs {
        let stage = sluice_triage::run_stage(run);
        normalize_run(run, &NormalizeOptions { stage: &stage, root: &root, base: &root, read_files: true });
    }
    let inputs = load_inputs(&args.at, &root, args.baseline.as_deref(), !args.no_baseline)?;
    if inputs.decisions.is_none() && inputs.baseline.is_none() {
        eprintln!(
            "note: no {} and no {}: the log passes through unchanged",
            shown(&args.at.root, DECISIONS_FILE),
            shown(&args.at.root, BASELINE_FILE)
        );
    }
    let none = |_: &str| false;
    let partial: Option<&dyn Fn(&str) -> bool> = if args.partial { Some(&none) } else { None };
    for line in triage_log(&mut log, &root, &inputs, partial)? {
        eprintln!("{}", terminal_lines(&line));
    }
    let mut merger = Merger::new();
    merger.add_log(log)?;
    let mut out = crate::stdout();
    merger.write(&mut out)?;
    out.flush()?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------------------------------------
// recording and reviewing decisions

fn mark(args: MarkArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let fingerprint = args.fingerprint.trim().to_owned();
    if !sluice_triage::is_fingerprint(&fingerprint) {
        bail!("`{fingerprint}` is not a sluice/v1 fingerprint (32 hex digits, a colon, a number, as in partialFingerprints[\"sluice/v1\"])");
    }
    let sarif = args.sarif.clone().unwrap_or_else(|| default_results(&root));
    if !sarif.exists() {
        bail!(
            "{}: no such log; run `sluice run` first, or give the log that holds the finding with --sarif FILE",
            sarif.display()
        );
    }
    let mut log = read_sarif(&sarif)?;
    let finding = log
        .runs
        .iter()
        .flat_map(|r| r.results.iter().flatten().map(move |x| (r, x)))
        .find(|(_, r)| fingerprint_of(r) == Some(fingerprint.as_str()));
    let Some((run, result)) = finding else {
        bail!(
            "{fingerprint}: no such finding in {}; check the fingerprint, or give the right log with --sarif FILE",
            sarif.display()
        );
    };
    let stage = sluice_triage::run_stage(run);
    let decision = NewDecision {
        selector: NewSelector::Fingerprint {
            fingerprint: fingerprint.clone(),
            rule: result.rule_id.clone(),
            path: sluice_sarif::artifact_path(result),
            commit: head_commit(&root),
        },
        stage: Some(stage),
        status: args.status,
        reason: args.reason.trim().to_owned(),
        who: identity(&root)?,
        when: Date::today(),
        expires: args.expires,
        source: str_prop(result, keys::SEVERITY_SOURCE).map(str::to_owned),
        vex_status: None,
        vex_justification: None,
    };
    if decision.reason.is_empty() {
        bail!("--reason is empty: say why, for the reviewer and for whoever reads this later");
    }
    // Held from reading the file to replacing it.
    let _lock = file.place.lock()?;
    let (text, edit) = edit_decisions(&file, &[decision])?;
    // The new file must still apply cleanly to the log: no conflict with a rule decision.
    let decisions = Decisions::parse(&text, &file.origin)?;
    let mut no_renames = |_: &str| None;
    let mut opts = sluice_triage::ApplyOptions {
        today: Date::today(),
        root: None,
        decisions_uri: &file.uri,
        renames: &mut no_renames,
        check_stale: false,
    };
    sluice_triage::apply(&mut log, &decisions, &mut opts).context("the decision was not recorded")?;
    file.place.write(text.as_bytes())?;
    let line = decisions
        .items
        .iter()
        .find(|d| matches!(&d.selector, Selector::Fingerprint { fingerprint: f, .. } if *f == fingerprint))
        .map_or(0, |d| d.line);
    let verb = if edit[0] == Edit::Added { "added" } else { "updated" };
    eprintln!("{verb} {}:{line}: {} for {fingerprint}", file.origin, args.status);
    Ok(exit::OK)
}

/// Adds or updates decisions in the file (created when missing); returns the new text, checked.
fn edit_decisions(file: &DecisionsFile, new: &[NewDecision]) -> Result<(String, Vec<Edit>)> {
    let mut text = match std::fs::read_to_string(&file.path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read the decisions file", file.origin)),
    };
    if !text.trim().is_empty() {
        Decisions::parse(&text, &file.origin).context("fix the decisions file before adding to it")?;
    }
    let mut edits = Vec::new();
    for d in new {
        let (next, edit) = sluice_triage::upsert(&text, &file.origin, d)?;
        text = next;
        edits.push(edit);
    }
    Decisions::parse(&text, &file.origin).context("internal: the edited decisions file does not parse")?;
    Ok((text, edits))
}

fn list(args: ListArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let Some(decisions) = load_decisions(&file)? else {
        eprintln!("no decisions: {} does not exist (record one with `sluice triage mark`)", file.origin);
        return Ok(exit::OK);
    };
    let today = Date::today();
    let mut out = crate::stdout();
    for d in &decisions.items {
        let state = match d.expires {
            Some(e) if d.is_expired(today) => format!("expired {e}"),
            Some(e) => format!("until {e}"),
            None => "active".into(),
        };
        // The decisions file is the repository's: every value escaped, one line per decision.
        writeln!(
            out,
            "{}:{}\t{}\t{}\t{}\t{} {}\t{}",
            terminal(&file.origin),
            d.line,
            d.status,
            state,
            terminal(&d.describe()),
            terminal(&d.who),
            d.when,
            terminal(&d.reason)
        )?;
    }
    out.flush()?;
    Ok(exit::OK)
}

fn show(args: ShowArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let decisions = load_decisions(&file)?.with_context(|| format!("{}: no decisions file", file.origin))?;
    let id = args.id.trim();
    let line_id =
        id.rsplit(':').next().filter(|_| !sluice_triage::is_fingerprint(id)).and_then(|n| n.parse::<usize>().ok());
    let found = decisions.items.iter().enumerate().find(|(_, d)| match (&d.selector, line_id) {
        (_, Some(line)) => d.line == line,
        (Selector::Fingerprint { fingerprint, .. }, None) => fingerprint == id,
        _ => false,
    });
    let Some((index, d)) = found else {
        bail!(
            "{}: no decision for `{id}`; give a fingerprint or the line of a [[decision]] (see `sluice triage list`)",
            file.origin
        );
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}:{}", terminal(&file.origin), d.line)?;
    writeln!(out, "  matches  {}", terminal(&d.describe()))?;
    writeln!(out, "  status   {}", d.status)?;
    writeln!(out, "  reason   {}", terminal(&d.reason))?;
    writeln!(out, "  who      {}", terminal(&d.who))?;
    writeln!(out, "  when     {}", d.when)?;
    if let Some(e) = d.expires {
        let note = if d.is_expired(Date::today()) { " (expired: no longer applies)" } else { "" };
        writeln!(out, "  expires  {e}{note}")?;
    }
    if let Some(s) = &d.source {
        writeln!(out, "  source   {}", terminal(s))?;
    }
    if let Some(v) = d.vex_status {
        writeln!(
            out,
            "  vex      {}{}",
            v.as_str(),
            d.vex_justification.as_deref().map(|j| format!(" ({})", terminal(j))).unwrap_or_default()
        )?;
    }
    let sarif = args.sarif.clone().unwrap_or_else(|| default_results(&root));
    if sarif.exists() {
        let mut log = read_sarif(&sarif)?;
        let mut renames = |commit: &str| renames_since(&root, commit);
        let mut opts = sluice_triage::ApplyOptions {
            today: Date::today(),
            root: Some(&root),
            decisions_uri: &file.uri,
            renames: &mut renames,
            check_stale: true,
        };
        let outcome = sluice_triage::apply(&mut log, &decisions, &mut opts)?;
        let marker = format!("{}:{}", file.uri, d.line);
        writeln!(out, "  findings {} in {}", outcome.matches[index], sarif.display())?;
        for run in &log.runs {
            for r in run.results.iter().flatten() {
                let ours = r
                    .properties
                    .as_ref()
                    .and_then(|p| p.additional_properties.get(sluice_sarif::keys::TRIAGE))
                    .and_then(|t| t.get("decision"))
                    .and_then(|v| v.as_str())
                    == Some(marker.as_str());
                if ours {
                    let line = sluice_sarif::primary_region(r).and_then(|g| g.start_line).unwrap_or(0);
                    writeln!(
                        out,
                        "    {} {}:{line} {}",
                        terminal(r.rule_id.as_deref().unwrap_or("")),
                        terminal(&sluice_sarif::artifact_path(r).unwrap_or_default()),
                        terminal(fingerprint_of(r).unwrap_or(""))
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn prune(args: PruneArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let _lock = if args.dry_run || !file.path.exists() { None } else { Some(file.place.lock()?) };
    let Some(decisions) = load_decisions(&file)? else {
        eprintln!("nothing to prune: {} does not exist", file.origin);
        return Ok(exit::OK);
    };
    let today = Date::today();
    let mut remove: Vec<(usize, String)> = decisions
        .items
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_expired(today))
        .map(|(i, d)| (i, format!("expired on {}", d.expires.map(|e| e.to_string()).unwrap_or_default())))
        .collect();
    if let Some(sarif) = &args.sarif {
        let mut log = read_sarif(sarif)?;
        let mut renames = |commit: &str| renames_since(&root, commit);
        let mut opts = sluice_triage::ApplyOptions {
            today,
            root: Some(&root),
            decisions_uri: &file.uri,
            renames: &mut renames,
            check_stale: true,
        };
        let outcome = sluice_triage::apply(&mut log, &decisions, &mut opts)?;
        remove.extend(outcome.stale.iter().map(|&i| (i, format!("matches nothing in {}", sarif.display()))));
    }
    remove.sort_by_key(|(i, _)| *i);
    for (i, why) in &remove {
        let d = &decisions.items[*i];
        eprintln!(
            "{} {}:{}: {} ({})",
            if args.dry_run { "would remove" } else { "removed" },
            terminal(&file.origin),
            d.line,
            terminal(&d.describe()),
            terminal(why)
        );
    }
    if remove.is_empty() {
        eprintln!("nothing to prune in {}", file.origin);
    } else if !args.dry_run {
        let text = std::fs::read_to_string(&file.path).with_context(|| format!("{}: cannot read", file.origin))?;
        let positions: Vec<usize> = remove.iter().map(|(i, _)| *i).collect();
        let text = sluice_triage::remove(&text, &file.origin, &positions)?;
        Decisions::parse(&text, &file.origin).context("internal: the pruned decisions file does not parse")?;
        file.place.write(text.as_bytes())?;
    }
    Ok(exit::OK)
}

fn import(args: ImportArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let bytes = std::fs::read(&args.file).with_context(|| format!("{}: cannot read", args.file.display()))?;
    let imported = sluice_triage::import_vex(&bytes, &args.file.display().to_string(), Date::today())?;
    for s in &imported.skipped {
        eprintln!("warning: {}: {s}: not imported", args.file.display());
    }
    if imported.decisions.is_empty() {
        eprintln!("{}: no statement to import", args.file.display());
        return Ok(exit::OK);
    }
    let _lock = file.place.lock()?;
    let (text, edits) = edit_decisions(&file, &imported.decisions)?;
    file.place.write(text.as_bytes())?;
    let added = edits.iter().filter(|e| **e == Edit::Added).count();
    eprintln!(
        "imported {} statement{} into {}: {added} added, {} updated",
        edits.len(),
        plural(edits.len()),
        file.origin,
        edits.len() - added
    );
    Ok(exit::OK)
}

fn export(args: ExportArgs) -> Result<u8> {
    let root = canonical_root(&args.at.root)?;
    let file = decisions_file(&args.at, &root);
    let decisions = load_decisions(&file)?.unwrap_or_else(|| Decisions::empty(&file.origin));
    let product = args
        .product
        .clone()
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "product".into());
    let author = match &args.author {
        Some(a) => a.clone(),
        None => identity(&root).unwrap_or_else(|_| "sluice".into()),
    };
    let timestamp = format!("{}Z", sluice_report::utc_timestamp(SystemTime::now()));
    let doc = sluice_triage::export_vex(
        &decisions,
        &product,
        &author,
        &timestamp,
        Date::today(),
        &format!("sluice {}", crate::VERSION),
    );
    let mut out = crate::stdout();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    out.flush()?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------------------------------------
// sluice baseline

pub fn baseline(args: BaselineArgs) -> Result<u8> {
    let root = canonical_root(&args.path)?;
    let (output, place) = match &args.output {
        Some(path) => (path.clone(), Place::User(path.clone())),
        None => (root.join(BASELINE_FILE), Place::Repo { root: root.clone(), rel: PathBuf::from(BASELINE_FILE) }),
    };
    let (mut log, commit) = match (&args.from, &args.sarif) {
        (_, Some(sarif)) => {
            let mut log = read_sarif(sarif)?;
            for run in &mut log.runs {
                let stage = sluice_triage::run_stage(run);
                normalize_run(run, &NormalizeOptions { stage: &stage, root: &root, base: &root, read_files: true });
            }
            (log, head_commit(&root))
        }
        (Some(reference), None) => {
            let spec = format!("{reference}^{{commit}}");
            let commit = Git::new(&root).value(&["rev-parse", "--verify", "--quiet", &spec]).with_context(|| {
                format!("{reference}: not a commit in {}; give a branch, tag or commit", root.display())
            })?;
            let work = tempfile::tempdir().context("cannot create a temporary directory")?;
            let tree = work.path().join("tree");
            export_tree(&root, &commit, work.path(), &tree)?;
            // Today's sluice.toml, so the baseline has the stages and rules later runs compare with.
            let config = root.join("sluice.toml");
            let copy = tree.join("sluice.toml");
            // The old tree's own sluice.toml may be a committed symbolic link: removed, never
            // written through.
            if std::fs::symlink_metadata(&copy).is_ok() {
                std::fs::remove_file(&copy).with_context(|| format!("{}: cannot remove", copy.display()))?;
            }
            if config.exists() {
                let text = std::fs::read(&config).with_context(|| format!("{}: cannot read", config.display()))?;
                safe_fs::write_in(&tree, Path::new("sluice.toml"), &text, None)?;
            }
            (run_pipeline(&tree, args.stages.as_deref())?, Some(commit))
        }
        (None, None) => {
            let commit = head_commit(&root);
            if commit.is_some() && has_uncommitted_changes(&root) {
                eprintln!(
                    "warning: the working tree has uncommitted changes; the baseline records them as the findings of HEAD (use --from HEAD for the commit exactly)"
                );
            }
            (run_pipeline(&root, args.stages.as_deref())?, commit)
        }
    };
    sluice_triage::make_baseline(&mut log, commit.as_deref());
    let count: usize = log.runs.iter().map(|r| r.results.as_ref().map_or(0, Vec::len)).sum();
    let mut bytes = Vec::new();
    sluice_sarif::write_log_pretty(&log, &mut bytes)?;
    place.write(&bytes)?;
    let at = commit.as_deref().map(|c| format!(" of commit {}", &c[..c.len().min(12)])).unwrap_or_default();
    eprintln!("baseline: {count} finding{}{at} written to {}", plural(count), output.display());
    Ok(exit::OK)
}

fn has_uncommitted_changes(root: &Path) -> bool {
    Git::new(root).value(&["status", "--porcelain", "--untracked-files=no", "--", ".", ":!.sluice"]).is_some()
}

/// Writes the tree of `commit` into `dest` without touching the repository's index or
/// working tree (a temporary index in `work`).
fn export_tree(root: &Path, commit: &str, work: &Path, dest: &Path) -> Result<()> {
    let index = work.join("index");
    let git = Git::new(root).env("GIT_INDEX_FILE", &index);
    let run = |args: &[&str]| -> Result<()> {
        git.bytes(args)?;
        Ok(())
    };
    run(&["read-tree", commit])?;
    let prefix = format!("{}/", dest.display());
    run(&["checkout-index", "--all", "--force", &format!("--prefix={prefix}")])
        .with_context(|| format!("cannot write the tree of {commit} to a temporary directory"))?;
    std::fs::create_dir_all(dest).with_context(|| format!("{}: cannot create", dest.display()))?;
    Ok(())
}

/// Runs the configured stages over `root` as `sluice run` would, without triage.
fn run_pipeline(root: &Path, stages: Option<&[String]>) -> Result<Sarif> {
    let config = Config::load(root)?;
    let exe = std::env::current_exe().context("cannot locate the sluice executable to run built-in stages")?;
    let request = sluice_pipeline::orchestrate::Request {
        config: &config,
        root,
        scope: &Scope::All,
        scope_from: sluice_pipeline::orchestrate::ScopeFrom::Other,
        only: stages,
        exe: &exe,
    };
    let display = progress::Display::new(false);
    let outcome = sluice_pipeline::orchestrate::run(&request, &display)?;
    display.finish();
    if !outcome.failures.is_empty() {
        bail!(
            "{}; the baseline was not written (a stage that did not run would make all its findings look new)",
            outcome.failures.join("; ")
        );
    }
    // Sorted as the merged log would be, so equal findings give equal baselines.
    let mut merger = Merger::new();
    for run in &outcome.runs {
        merger.add_run(run)?;
    }
    let mut bytes = Vec::new();
    merger.write(&mut bytes)?;
    Ok(read_log(&bytes, "the merged runs")?)
}
