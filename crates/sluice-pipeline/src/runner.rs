//! Running stages: every stage is a command that writes SARIF on stdout, built-in or not.
//!
//! Built-in stages run as `sluice scan <stage>` child processes of the same binary, so a
//! crash, a hang or a memory blow-up in one stage is contained exactly like an external
//! tool's, and one code path handles timeouts and failures for all of them.
//!
//! Invariant: a stage that fails still yields a run (named after the stage, with the reason in
//! `invocations[].toolExecutionNotifications`), so one broken stage never hides the others.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sluice_sarif::sarif::{Run, RunAutomationDetails};
use sluice_sarif::{
    artifact_path, empty_run, failure_notification, neutralize_foreign, normalize_run, read_log, NormalizeOptions,
};

/// Kept of a failing tool's stderr for the message: enough for a stack trace's head.
const STDERR_TAIL: usize = 4096;

#[derive(Debug, Clone)]
pub struct StageJob {
    pub name: String,
    /// The stage its runs are recorded as: the name, or the built-in stage an external tool
    /// fills (`fills` in sluice.toml). The runner vouches for this, not the tool.
    pub stage: String,
    pub argv: Vec<String>,
    /// Absolute.
    pub working_dir: PathBuf,
    pub timeout: Duration,
    pub ok_exit_codes: Vec<i32>,
    /// Keep only results in these root-relative files (diff-aware runs of tools that scan
    /// everything anyway).
    pub only_files: Option<BTreeSet<String>>,
    /// Built-in stages fingerprint their own results; external ones get fingerprints from the
    /// source files.
    pub builtin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageStatus {
    Ok,
    Failed { reason: String },
}

#[derive(Debug)]
pub struct StageOutcome {
    pub name: String,
    pub status: StageStatus,
    pub duration: Duration,
    pub runs: Vec<Run>,
    /// The tool's stderr, tail only, for the user when the stage failed.
    pub stderr: String,
}

impl StageOutcome {
    pub fn result_count(&self) -> usize {
        self.runs.iter().map(|r| r.results.as_ref().map_or(0, Vec::len)).sum()
    }
}

/// Told when stages start and end, to show progress. Called from the stages' threads.
pub trait Progress: Sync {
    fn started(&self, stage: &str);
    fn finished(&self, outcome: &StageOutcome);
    /// A stage the plan left out, and why; told before any stage starts.
    fn skipped(&self, _stage: &str, _why: &str) {}
}

/// Runs all jobs in parallel; outcomes come back in job order.
pub fn run_stages(jobs: &[StageJob], root: &Path, progress: &dyn Progress) -> Vec<StageOutcome> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| {
                scope.spawn(move || {
                    progress.started(&job.name);
                    let outcome = run_stage(job, root);
                    progress.finished(&outcome);
                    outcome
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(jobs)
            .map(|(h, job)| {
                h.join().unwrap_or_else(|_| StageOutcome {
                    name: job.name.clone(),
                    status: StageStatus::Failed { reason: "internal error: the stage's thread panicked".into() },
                    duration: Duration::ZERO,
                    runs: vec![failed_run(&job.stage, "internal error: the stage's thread panicked", None)],
                    stderr: String::new(),
                })
            })
            .collect()
    })
}

/// Runs one stage to completion and interprets what it did.
pub fn run_stage(job: &StageJob, root: &Path) -> StageOutcome {
    let started = Instant::now();
    let exec = execute(&job.argv, &job.working_dir, job.timeout, None);
    let duration = started.elapsed();
    let program = job.argv.first().map_or("", String::as_str);

    let (failure, exit_code): (Option<String>, Option<i64>) = match &exec.exit {
        Exit::SpawnFailed(err) if err.kind() == std::io::ErrorKind::NotFound => {
            (Some(format!("cannot start `{program}`: not found (install it or fix `command` in sluice.toml)")), None)
        }
        Exit::SpawnFailed(err) => (Some(format!("cannot start `{program}`: {err}")), None),
        Exit::TimedOut => (
            Some(format!(
                "timed out after {} and was stopped; raise this stage's `timeout` in sluice.toml if it needs longer",
                humantime::format_duration(job.timeout)
            )),
            None,
        ),
        Exit::Signal(sig) => (Some(format!("crashed: killed by signal {sig} ({})", signal_name(*sig))), None),
        Exit::Code(code) if !job.ok_exit_codes.contains(code) => {
            let hint = if *code > 128 && *code < 160 {
                format!(
                    " (a shell's way of saying it was killed by signal {} ({}))",
                    code - 128,
                    signal_name(code - 128)
                )
            } else {
                String::new()
            };
            (Some(format!("exited with status {code}{hint}")), Some(i64::from(*code)))
        }
        Exit::Code(code) => (None, Some(i64::from(*code))),
    };

    // A tool that failed may still have written a valid log: keep its results, and record the
    // failure beside them.
    let parsed = if matches!(exec.exit, Exit::SpawnFailed(_)) {
        None
    } else {
        Some(read_log(&exec.stdout, &format!("stage `{}` stdout", job.name)))
    };
    let (mut runs, failure) = match (parsed, failure) {
        (Some(Ok(log)), failure) => (log.runs, failure),
        (Some(Err(err)), None) => (Vec::new(), Some(format!("emitted invalid SARIF: {err}"))),
        (Some(Err(_)), Some(failure)) | (None, Some(failure)) => (Vec::new(), Some(failure)),
        (None, None) => (Vec::new(), Some("did not run".into())),
    };

    for run in &mut runs {
        // An external tool's log claims nothing sluice reserves (its category, triage, …);
        // a built-in stage is this binary, run by this runner.
        if !job.builtin {
            neutralize_foreign(run);
        }
        normalize_run(
            run,
            &NormalizeOptions { stage: &job.stage, root, base: &job.working_dir, read_files: !job.builtin },
        );
        if let Some(only) = &job.only_files {
            if let Some(results) = run.results.as_mut() {
                results.retain(|r| artifact_path(r).is_some_and(|p| only.contains(&p)));
            }
            // The run looked at part of the tree: it cannot say a finding elsewhere is gone.
            run.properties
                .get_or_insert_with(Default::default)
                .additional_properties
                .insert(sluice_sarif::keys::SCOPE.into(), "changed".into());
        }
    }
    let status = match &failure {
        Some(reason) => {
            let reason = with_stderr(reason, &exec.stderr);
            match runs.first_mut() {
                Some(run) => {
                    run.invocations.get_or_insert_with(Vec::new).push(failure_notification(&reason, exit_code))
                }
                None => runs.push(failed_run(&job.stage, &reason, exit_code)),
            }
            StageStatus::Failed { reason }
        }
        None => StageStatus::Ok,
    };
    StageOutcome { name: job.name.clone(), status, duration, runs, stderr: exec.stderr }
}

fn with_stderr(reason: &str, stderr: &str) -> String {
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    match last {
        // A tool's stderr is the tool's text: no credential in it goes into the log.
        Some(line) => format!("{reason}; its last words: {}", sluice_sarif::redact_text(line.trim())),
        None => reason.to_owned(),
    }
}

/// An empty run that records why a stage produced nothing.
pub fn failed_run(stage: &str, reason: &str, exit_code: Option<i64>) -> Run {
    let mut run = empty_run(stage);
    run.invocations = Some(vec![failure_notification(reason, exit_code)]);
    run.results = Some(Vec::new());
    // As `normalize_run` would leave it: GitHub rejects a driver without `rules`.
    run.tool.driver.rules = Some(Vec::new());
    run.automation_details = Some(RunAutomationDetails::builder().id(sluice_sarif::keys::category(stage)).build());
    run
}

#[derive(Debug)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
    SpawnFailed(std::io::Error),
}

#[derive(Debug)]
pub struct Execution {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    /// The last few KiB only.
    pub stderr: String,
}

/// Runs a command in its own process group with a deadline. On timeout the whole group is
/// killed, so a shell wrapper's children do not outlive it and hold the pipes open.
pub fn execute(argv: &[String], dir: &Path, timeout: Duration, stdin: Option<&[u8]>) -> Execution {
    let Some((program, args)) = argv.split_first() else {
        return Execution {
            exit: Exit::SpawnFailed(std::io::Error::other("empty command")),
            stdout: Vec::new(),
            stderr: String::new(),
        };
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return Execution { exit: Exit::SpawnFailed(err), stdout: Vec::new(), stderr: String::new() },
    };
    let pid = child.id();
    let stdin_writer = stdin.map(<[u8]>::to_vec).and_then(|data| {
        let mut pipe = child.stdin.take()?;
        // A tool that exits without reading its input closes the pipe: not our failure.
        Some(std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        }))
    });
    let stdout_reader = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    });
    let stderr_reader = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut tail = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            let start = tail.len().saturating_sub(STDERR_TAIL);
            String::from_utf8_lossy(&tail[start..]).into_owned()
        })
    });

    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx.recv_timeout(timeout).ok();
    // Whatever happened, nothing of the group may outlive the stage: a finished tool's
    // daemonized children would otherwise keep the output pipes open forever.
    kill_group(pid);
    let exit = match status {
        None => {
            let _ = rx.recv();
            Exit::TimedOut
        }
        Some(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        },
        Some(Err(err)) => Exit::SpawnFailed(err),
    };
    let _ = waiter.join();
    if let Some(writer) = stdin_writer {
        let _ = writer.join();
    }
    let stdout = stdout_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = stderr_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    Execution { exit, stdout, stderr }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // ESRCH (the group is gone) is the common, fine case.
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL, often the out-of-memory killer",
        11 => "SIGSEGV, a segmentation fault",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
