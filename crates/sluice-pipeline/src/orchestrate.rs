//! One run of the pipeline, as `sluice run`, `sluice baseline` and `sluice scan <external
//! stage>` all do it: plan the configured stages over the scope, start built-in stages as
//! `sluice scan <stage>` children of the given executable with the scope passed on their command
//! line, run everything in parallel, and hand back every run and every failure.
//!
//! What happens to the runs next (triage, merging, writing, the exit code) is the caller's.

use std::path::{Path, PathBuf};

use sluice_sarif::sarif::Run;

use crate::config::Config;
use crate::plan::{plan, PlanError};
use crate::runner::{run_stages, Progress, StageStatus};
use crate::scope::Scope;

/// What to run, over what.
pub struct Request<'a> {
    pub config: &'a Config,
    /// The repository, canonical.
    pub root: &'a Path,
    pub scope: &'a Scope,
    /// How built-in stages learn the scope: `Staged` and `Since` are passed as such (stages
    /// read the index, or diff lines against the reference); any other diff-aware scope as a
    /// list of changed files.
    pub scope_from: ScopeFrom<'a>,
    /// Only these stages (`--stages`), else all configured ones.
    pub only: Option<&'a [String]>,
    /// The sluice executable that runs built-in stages (`sluice scan <stage> <root> …`).
    pub exe: &'a Path,
}

/// Where a run's scope came from, which is how built-in stages are told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeFrom<'a> {
    /// `--staged`: the stages scan the index, not the working copy.
    Staged,
    /// `--since REF`: the reference itself, so stages can diff lines (sast's `changed_lines`).
    Since(&'a str),
    /// Anything else: whole tree, or a list of changed files.
    Other,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Every stage's runs, in stage order; a failed stage's run records why.
    pub runs: Vec<Run>,
    /// `stage `x` failed: reason`, one per failed stage, in stage order.
    pub failures: Vec<String>,
    /// Stages left out, with the reason (`no files it applies to`).
    pub skipped: Vec<(String, String)>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot plan the run of {}", root.display())]
    Plan { root: PathBuf, source: PlanError },
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    #[error("{}: cannot write", path.display())]
    ChangedList { path: PathBuf, source: std::io::Error },
}

/// Plans and runs the stages of `request`; `progress` is told of skipped stages before any
/// starts, then of each stage's start and end.
pub fn run(request: &Request<'_>, progress: &dyn Progress) -> Result<Outcome, RunError> {
    let Request { config, root, scope, scope_from, only, exe } = *request;
    let work = tempfile::tempdir().map_err(RunError::TempDir)?;
    let changed_list = work.path().join("changed-files.txt");
    if let (Scope::Changed(files), ScopeFrom::Other) = (scope, scope_from) {
        let text: String = files.iter().map(|f| format!("{f}\n")).collect();
        std::fs::write(&changed_list, text)
            .map_err(|source| RunError::ChangedList { path: changed_list.clone(), source })?;
    }
    let builtin_argv = |name: &str| {
        let mut argv = vec![exe.display().to_string(), "scan".into(), name.to_owned(), root.display().to_string()];
        match scope_from {
            ScopeFrom::Staged => argv.push("--staged".into()),
            ScopeFrom::Since(reference) => argv.extend(["--since".into(), reference.to_owned()]),
            ScopeFrom::Other if scope.is_diff_aware() => {
                argv.extend(["--changed-files".into(), changed_list.display().to_string()]);
            }
            ScopeFrom::Other => {}
        }
        argv
    };
    let plan = plan(config, root, scope, only, &builtin_argv)
        .map_err(|source| RunError::Plan { root: root.to_owned(), source })?;
    for (name, why) in &plan.skipped {
        progress.skipped(name, why);
    }
    let outcomes = run_stages(&plan.jobs, root, progress);
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        if let StageStatus::Failed { reason } = &outcome.status {
            failures.push(format!("stage `{}` failed: {reason}", outcome.name));
        }
        runs.extend(outcome.runs);
    }
    Ok(Outcome { runs, failures, skipped: plan.skipped })
}

/// A [`Progress`] that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn started(&self, _stage: &str) {}
    fn finished(&self, _outcome: &crate::runner::StageOutcome) {}
}
