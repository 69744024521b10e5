use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use sluice_pipeline::{safe_fs, Config, Scope, StageKind};
use sluice_sarif::sarif::Sarif;
use sluice_sarif::{
    empty_log, neutralize_foreign, normalize_run, read_log, Merger, NormalizeOptions, SerializedRun, Severity,
};

use crate::cli::{Cli, ColorChoice, Command, FailOn, MergeArgs, ReportArgs, RunArgs, ScanArgs, ScopeArgs};
use crate::{exit, progress};
use sluice_report::escape::{terminal, terminal_lines};

pub fn dispatch(cli: Cli) -> Result<u8> {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none(),
    };
    match cli.command {
        Command::Run(args) => run(args, color),
        Command::Scan(args) => scan(args),
        Command::Merge(args) => merge(args),
        Command::Report(args) => report(args, color),
        Command::Triage(args) => crate::triage_cmd::triage(args),
        Command::Baseline(args) => crate::triage_cmd::baseline(args),
        Command::Config(args) => crate::config_cmd::config(args),
        Command::Init(args) => crate::init_cmd::init(args),
        Command::Sbom(args) => crate::sbom_cmd::sbom(args),
        Command::Db(args) => crate::deps_cmd::db(args),
        Command::Record(args) => crate::metrics_cmd::record(args),
        Command::Metrics(args) => crate::metrics_cmd::metrics(args),
        Command::Gate(args) => crate::policy_cmd::gate(args),
        Command::Plan(args) => crate::policy_cmd::plan(args),
        Command::Policy(args) => crate::policy_cmd::policy(args),
        Command::Attest(args) => crate::policy_cmd::attest(args),
        Command::Verify(args) => crate::policy_cmd::verify(args),
        Command::Serve(args) => crate::server_cmd::serve(args),
        Command::Push(args) => crate::server_cmd::push(args),
    }
}

fn repo_root(path: &Path) -> Result<PathBuf> {
    let root = path.canonicalize().with_context(|| format!("{}: cannot open the directory to scan", path.display()))?;
    if !root.is_dir() {
        bail!("{}: not a directory; give the repository's directory", path.display());
    }
    Ok(root)
}

/// Where `sluice run` writes. A directory named with `--out-dir` is the user's: created as
/// given. `out_dir` from `sluice.toml` is the repository's: it must be a relative path inside
/// it, and nothing on the way is followed through a symbolic link (`safe_fs`). Either way the
/// files in it are replaced atomically and never through a link.
struct OutDir {
    base: PathBuf,
    rel: PathBuf,
}

impl OutDir {
    fn new(root: &Path, named: Option<&Path>, configured: &Path) -> Result<OutDir> {
        let out = match named {
            Some(dir) => {
                let base = root.join(dir);
                std::fs::create_dir_all(&base)
                    .with_context(|| format!("{}: cannot create the output directory", base.display()))?;
                OutDir { base, rel: PathBuf::new() }
            }
            None => {
                let out = OutDir { base: root.to_owned(), rel: configured.to_owned() };
                safe_fs::create_dir_in(root, configured).context(
                    "cannot create the output directory (`out_dir` in sluice.toml; --out-dir DIR names another)",
                )?;
                out
            }
        };
        // Like cargo's target/: the output never shows up in git status, nor in the next scan
        // (stages honour .gitignore files even outside a git repository).
        let ignore = out.base.join(&out.rel).join(".gitignore");
        if std::fs::symlink_metadata(&ignore).is_err() {
            out.write(".gitignore", b"# written by sluice\n*\n")?;
        }
        Ok(out)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        Ok(safe_fs::write_in(&self.base, &self.rel.join(name), bytes, None)?)
    }

    /// Where [`OutDir::write`] puts `name`.
    fn path(&self, name: &str) -> PathBuf {
        self.base.join(&self.rel).join(name)
    }
}

/// How built-in stages are told the scope: `--staged` and `--since` as such, anything else
/// as the list of files.
pub(crate) fn scope_from(args: &ScopeArgs) -> sluice_pipeline::orchestrate::ScopeFrom<'_> {
    use sluice_pipeline::orchestrate::ScopeFrom;
    match (&args.since, args.staged) {
        (_, true) => ScopeFrom::Staged,
        (Some(reference), false) => ScopeFrom::Since(reference),
        (None, false) => ScopeFrom::Other,
    }
}

fn scope_of(args: &ScopeArgs, root: &Path) -> Result<Scope> {
    Ok(match (&args.since, args.staged, &args.changed_files) {
        (Some(reference), _, _) => Scope::since(root, reference)?,
        (None, true, _) => Scope::staged(root)?,
        (None, false, Some(list)) => Scope::from_list_file(list)?,
        (None, false, None) => Scope::All,
    })
}

/// What a command that reads SARIF finds on its standard input.
pub(crate) enum Stdin {
    /// A terminal, or a character device such as `/dev/null`: nothing was piped in.
    NotPiped,
    /// A pipe (or file) with nothing in it: the command before `|` wrote nothing.
    Empty,
    Bytes(Vec<u8>),
}

/// Why an empty stdin is an error: `failing-command | sluice …` without `pipefail` would
/// otherwise decide on nothing (or on stale results) and succeed.
pub(crate) const EMPTY_STDIN: &str = "stdin: empty input where a SARIF log was expected: the command piped into sluice wrote nothing (did it fail? without `set -o pipefail` a shell hides that); fix that command, or give a SARIF file";

/// Reads stdin unless it is a terminal or a character device (see [`Stdin`]).
pub(crate) fn stdin_input() -> Result<Stdin> {
    use std::os::unix::fs::FileTypeExt;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Stdin::NotPiped);
    }
    if let Ok(meta) = std::fs::metadata("/dev/stdin") {
        if meta.file_type().is_char_device() {
            return Ok(Stdin::NotPiped);
        }
    }
    let mut bytes = Vec::new();
    stdin.lock().read_to_end(&mut bytes).context("cannot read stdin")?;
    Ok(if bytes.iter().all(u8::is_ascii_whitespace) { Stdin::Empty } else { Stdin::Bytes(bytes) })
}

/// SARIF piped into a scan stage, passed through to its output. A terminal or /dev/null is
/// not input, and neither is an empty pipe (a stage started by a CI runner gets one).
pub(crate) fn piped_stdin() -> Result<Option<Vec<u8>>> {
    Ok(match stdin_input()? {
        Stdin::Bytes(bytes) => Some(bytes),
        Stdin::NotPiped | Stdin::Empty => None,
    })
}

/// All of stdin, which must hold something ([`EMPTY_STDIN`]).
pub(crate) fn read_stdin() -> Result<(Vec<u8>, String)> {
    read_input(None)
}

fn read_input(file: Option<&Path>) -> Result<(Vec<u8>, String)> {
    match file {
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().lock().read_to_end(&mut bytes).context("cannot read stdin")?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                bail!(EMPTY_STDIN);
            }
            Ok((bytes, "stdin".into()))
        }
        Some(p) if p == Path::new("-") => read_input(None),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            Ok((bytes, p.display().to_string()))
        }
    }
}

fn scan(args: ScanArgs) -> Result<u8> {
    let root = repo_root(&args.path)?;
    let scope = scope_of(&args.scope, &root)?;
    let config = Config::load(&root)?;
    let options = config
        .stages
        .iter()
        .find(|s| s.name == args.stage && s.kind == StageKind::Builtin)
        .map(|s| s.options.clone())
        .unwrap_or_default();
    // Read what is piped in first: a broken upstream log fails the pipe before the scan runs.
    let upstream = match piped_stdin()? {
        Some(bytes) => Some(read_log(&bytes, "stdin")?),
        None => None,
    };
    let config_path = config.source.clone().unwrap_or_else(|| root.join("sluice.toml"));
    let external = config.stages.iter().any(|s| s.name == args.stage && matches!(s.kind, StageKind::External { .. }));
    let mut code = exit::OK;
    let runs = if external {
        // A stage from sluice.toml, run exactly as `sluice run` would run it.
        let exe = std::env::current_exe().context("cannot locate the sluice executable")?;
        let request = sluice_pipeline::orchestrate::Request {
            config: &config,
            root: &root,
            scope: &scope,
            scope_from: scope_from(&args.scope),
            only: Some(std::slice::from_ref(&args.stage)),
            exe: &exe,
        };
        let outcome = sluice_pipeline::orchestrate::run(&request, &sluice_pipeline::orchestrate::Quiet)?;
        if !outcome.skipped.is_empty() {
            eprintln!("note: stage `{}` skipped: no files it applies to", terminal(&args.stage));
        }
        for failure in &outcome.failures {
            eprintln!("error: {}", terminal_lines(failure));
            code = exit::FAILED;
        }
        outcome.runs
    } else {
        let input = sluice_stages::StageInput {
            root: &root,
            scope: &scope,
            history: args.history,
            staged: args.scope.staged,
            since: args.scope.since.as_deref(),
            changed_lines: args.changed_lines,
            options: &options,
            config_path: &config_path,
            out_dir: &config.out_dir,
            image: args.image.as_deref(),
            db: args.db.as_deref(),
        };
        let mut run = sluice_stages::run_stage(&args.stage, &input)?;
        // A stage that could not do its job says so in its run; the exit code follows.
        if run.invocations.iter().flatten().any(|i| !i.execution_successful) {
            code = exit::FAILED;
        }
        normalize_run(&mut run, &NormalizeOptions { stage: &args.stage, root: &root, base: &root, read_files: false });
        // A stage's own run never went through `read_log`: redact it here, before it is written.
        sluice_sarif::redact_run(&mut run);
        vec![run]
    };
    let mut merger = Merger::new();
    if let Some(log) = upstream {
        merger.add_log(log)?;
    }
    for run in &runs {
        merger.add_run(run)?;
    }
    let mut out = crate::stdout();
    merger.write(&mut out)?;
    out.flush()?;
    Ok(code)
}

fn merge(args: MergeArgs) -> Result<u8> {
    let root = repo_root(&args.root)?;
    // Each input with the built-in stage it fills, if `--fills` named it.
    let mut inputs: Vec<(Option<&Path>, Option<&str>)> = args
        .files
        .iter()
        .filter(|f| !args.fills.iter().any(|(_, g)| g == *f))
        .map(|p| (Some(p.as_path()), None))
        .collect();
    inputs.extend(args.fills.iter().map(|(stage, p)| (Some(p.as_path()), Some(stage.as_str()))));
    if inputs.is_empty() {
        inputs.push((None, None));
    }
    // Inputs are parsed, normalized and serialized in parallel; each parsed log is dropped as
    // soon as its runs are serialized.
    let parsed: Vec<Result<Vec<SerializedRun>>> = inputs
        .par_iter()
        .map(|(input, fills)| {
            let (bytes, origin) = read_input(*input)?;
            let log = read_log(&bytes, &origin)?;
            drop(bytes);
            let mut runs = Vec::with_capacity(log.runs.len());
            for mut run in log.runs {
                // A file is just a file, whoever wrote it: nothing in it is vouched for by sluice's
                // runner, so it claims no built-in stage and no triage decision (docs/policy.md).
                neutralize_foreign(&mut run);
                let stage = fills.map_or_else(|| sluice_sarif::foreign_stage(&run.tool.driver.name), str::to_owned);
                let opts = NormalizeOptions { stage: &stage, root: &root, base: &root, read_files: true };
                normalize_run(&mut run, &opts);
                runs.push(SerializedRun::new(&run)?);
            }
            Ok(runs)
        })
        .collect();
    let mut merger = Merger::new();
    let mut failures = Vec::new();
    for outcome in parsed {
        // One unreadable log must not hide the others: note it, merge the rest, exit 2.
        match outcome {
            Ok(runs) => {
                for run in runs {
                    merger.push(run)?;
                }
            }
            Err(err) => {
                eprintln!("error: {}", terminal_lines(&format!("{err:#}")));
                failures.push(format!("{err:#}"));
            }
        }
    }
    if !failures.is_empty() {
        let run = sluice_pipeline::failed_run("sluice-merge", &failures.join("; "), None);
        merger.add_run(&run)?;
    }
    let mut out = crate::stdout();
    merger.write(&mut out)?;
    out.flush()?;
    Ok(if failures.is_empty() { exit::OK } else { exit::FAILED })
}

fn report_options<'a>(
    root: Option<&'a Path>,
    color: bool,
    started: &'a str,
    finished: &'a str,
) -> sluice_report::Options<'a> {
    sluice_report::Options { root, color, tool_version: crate::VERSION, started, finished }
}

fn report(args: ReportArgs, color: bool) -> Result<u8> {
    let root = args.root.canonicalize().ok();
    let (bytes, origin) = crate::policy_cmd::read_sarif_bytes(
        args.file.as_deref(),
        root.as_deref().unwrap_or(&args.root),
        "report",
        u64::MAX,
    )?;
    let log = read_log(&bytes, &origin)?;
    let now = sluice_report::utc_timestamp(SystemTime::now());
    let color = color && args.output.is_none() && std::io::stdout().is_terminal();
    let mut out = crate::Output::new(args.output.as_deref());
    match args.format.to_report() {
        Some(format) => {
            sluice_report::render(&log, format, &report_options(root.as_deref(), color, &now, &now), &mut out)?
        }
        None => crate::policy_cmd::ssdf_report(&log, args.file.as_deref().filter(|f| *f != Path::new("-")), &mut out)?,
    }
    out.finish()?;
    Ok(exit::OK)
}

fn run(args: RunArgs, color: bool) -> Result<u8> {
    let started = SystemTime::now();
    let root = repo_root(&args.path)?;
    let config = Config::load(&root)?;
    let scope = scope_of(&args.scope, &root)?;
    let exe = std::env::current_exe().context("cannot locate the sluice executable to run built-in stages")?;
    // Checked (and created) before the stages run: a refused output directory fails fast.
    let out_dir = OutDir::new(&root, args.out_dir.as_deref(), &config.out_dir)?;

    let display = progress::Display::with_quiet(color, args.quiet);
    let request = sluice_pipeline::orchestrate::Request {
        config: &config,
        root: &root,
        scope: &scope,
        scope_from: scope_from(&args.scope),
        only: args.stages.as_deref(),
        exe: &exe,
    };
    // The server's decisions (org-wide triage), when `[server] url` is set, are fetched,
    // verified and parsed while the stages run.
    let (outcome, (pulled, pull_notes)) = std::thread::scope(|s| {
        let pull = s.spawn(|| crate::decision_sync::pull_aside(&root, &config));
        let outcome = sluice_pipeline::orchestrate::run(&request, &display);
        (outcome, pull.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let outcome = outcome?;
    display.finish();
    for failure in &outcome.failures {
        display.note(failure);
    }
    let failed = !outcome.failures.is_empty();
    // Never freed: the process ends after the run, and freeing a large log piece by piece
    // takes longer than writing it (tens of thousands of results with their decisions).
    let mut log: std::mem::ManuallyDrop<Sarif> = std::mem::ManuallyDrop::new(empty_log(outcome.runs));
    // One flaw, one finding: a credential the secrets stage reports is not reported again.
    let again = sluice_sarif::one_finding_per_credential(&mut log);
    if again > 0 {
        display.note(&format!(
            "{again} finding(s) of other stages about a credential the secrets stage reports on the same span: reported once, by the secrets stage"
        ));
    }
    // Decisions (.sluice/triage.toml) and the baseline (.sluice/baseline.sarif), when present.
    let repository = crate::triage_cmd::apply_in_run(&root, &scope, &mut log, &|note| display.note(note))?;
    // Then the server's.
    for note in &pull_notes {
        display.note(note);
    }
    crate::decision_sync::apply_in_run(pulled?, &mut log, repository.as_ref(), &|note| display.note(note))?;

    let mut merger = Merger::new();
    for run in &log.runs {
        merger.add_run(run)?;
    }
    let mut bytes = Vec::new();
    merger.write(&mut bytes)?;
    let results_path = out_dir.path("results.sarif");

    let finished = SystemTime::now();
    let (s, f) = (sluice_report::utc_timestamp(started), sluice_report::utc_timestamp(finished));
    let stdout_color = color && args.output.is_none() && std::io::stdout().is_terminal();
    // results.sarif is written and synced to disk while the report renders.
    let (written, shown) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| out_dir.write("results.sarif", &bytes));
        let shown = (|| -> Result<()> {
            let mut out = crate::Output::new(args.output.as_deref());
            match args.format.to_report() {
                // The log on stdout is results.sarif, byte for byte (compact, its runs sorted).
                Some(sluice_report::Format::Sarif) => out.write_all(&bytes)?,
                Some(format) => {
                    sluice_report::render(&log, format, &report_options(Some(&root), stdout_color, &s, &f), &mut out)?
                }
                None => crate::policy_cmd::ssdf_report(&log, Some(&results_path), &mut out)?,
            }
            out.finish()?;
            Ok(())
        })();
        (writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), shown)
    });
    written?;
    shown?;
    drop(bytes);
    display.note(&format!("results: {}", results_path.display()));
    let complete = !failed && args.stages.is_none() && !scope.is_diff_aware();
    crate::metrics_cmd::record_run(&root, &config, &log, complete, &|note| display.note(note));

    if failed {
        return Ok(exit::FAILED);
    }
    if let Some(threshold) = args.fail_on {
        let threshold = match threshold {
            FailOn::Critical => Severity::Critical,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
        };
        let blocking =
            sluice_report::findings(&log).iter().filter(|f| !f.suppressed && f.severity >= threshold).count();
        if blocking > 0 {
            display.note(&format!("refused: {blocking} finding(s) at or above {threshold} (--fail-on)"));
            return Ok(exit::REFUSED);
        }
    }
    Ok(exit::OK)
}
