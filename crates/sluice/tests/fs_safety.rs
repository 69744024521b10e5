//! sluice must not become the leak (issue 15): hostile repositories whose committed symbolic
//! links point outside (writes refused), concurrent `sluice triage mark` (no decision lost), and
//! an empty pipe into `gate`/`report`/`triage` (an error, never the stale results).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// A git repository with `n` files holding one (fake, checksum-valid) GitHub token each.
fn repo_with_tokens(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["config", "user.name", "Ada Lovelace"]);
    git(dir.path(), &["config", "user.email", "ada@example.com"]);
    for i in 0..n {
        let token = github_token(&format!("Hq3vT9LmR2wXk8PbN5cY7dHj4F{i:02}sA"));
        write(dir.path(), &format!("conf/app{i}.env"), &format!("GITHUB_TOKEN={token}\n"));
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "tokens"]);
    dir
}

/// Every entry under `dir` (recursively), relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// item 7: writes follow committed symlinks

#[test]
fn run_does_not_overwrite_the_target_of_a_committed_results_symlink() {
    let repo = repo_with_tokens(1);
    let home = tempfile::tempdir().unwrap();
    let bashrc = home.path().join(".bashrc");
    std::fs::write(&bashrc, "export PATH=$HOME/bin:$PATH\n").unwrap();
    std::fs::create_dir(repo.path().join("sluice-out")).unwrap();
    write(repo.path(), "sluice-out/.gitignore", "# committed\n");
    symlink(&bashrc, repo.path().join("sluice-out/results.sarif")).unwrap();

    let out = sluice().args(["run", "--stages", "secrets"]).arg(repo.path()).output().unwrap();
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "export PATH=$HOME/bin:$PATH\n", "~/.bashrc was overwritten");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sluice-out/results.sarif") && err.contains("symbolic link"), "{err}");
}

#[test]
fn run_refuses_a_committed_output_directory_symlink() {
    let repo = repo_with_tokens(1);
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), repo.path().join("sluice-out")).unwrap();

    let out = sluice().args(["run", "--stages", "secrets"]).arg(repo.path()).output().unwrap();
    assert_eq!(listing(elsewhere.path()), Vec::<String>::new(), "results and .gitignore landed outside the repository");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sluice-out") && err.contains("symbolic link"), "{err}");
}

#[test]
fn run_refuses_an_output_directory_outside_the_repository_from_sluice_toml() {
    let repo = repo_with_tokens(1);
    let elsewhere = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "sluice.toml",
        &format!("[run]\nout_dir = {:?}\n", elsewhere.path().join("out").display().to_string()),
    );
    let out = sluice().args(["run", "--stages", "secrets"]).arg(repo.path()).output().unwrap();
    assert_eq!(listing(elsewhere.path()), Vec::<String>::new(), "sluice.toml made sluice write outside the repository");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));

    // The user may name any directory on the command line: it is theirs.
    let out = sluice()
        .args(["run", "--stages", "secrets", "--out-dir"])
        .arg(elsewhere.path().join("mine"))
        .arg(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(elsewhere.path().join("mine/results.sarif").is_file());
}

/// `sluice run` once, then the fingerprints of what it found.
fn fingerprints(root: &Path) -> Vec<String> {
    sluice().args(["run", "--stages", "secrets"]).arg(root).assert().success();
    let log = parse(&std::fs::read(root.join("sluice-out/results.sarif")).unwrap());
    let mut prints: Vec<String> = results(&log).iter().map(fingerprint).collect();
    prints.sort();
    prints
}

fn mark_cmd(root: &Path, fingerprint: &str, reason: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sluice"));
    cmd.env("NO_COLOR", "1")
        .args(["triage", "mark", fingerprint, "--status", "false_positive", "--reason", reason, "--root"])
        .arg(root)
        .stdin(Stdio::null());
    cmd
}

#[test]
fn triage_and_baseline_refuse_a_committed_sluice_dir_symlink() {
    let repo = repo_with_tokens(1);
    let prints = fingerprints(repo.path());
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), repo.path().join(".sluice")).unwrap();

    let out = mark_cmd(repo.path(), &prints[0], "test fixture").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(".sluice") && stderr_of(&out).contains("symbolic link"), "{}", stderr_of(&out));

    let results = repo.path().join("sluice-out/results.sarif");
    let out = sluice().arg("baseline").arg(repo.path()).arg("--sarif").arg(&results).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));

    let out = sluice().args(["record", "deploy", "--commit", "HEAD", "--repo"]).arg(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(listing(elsewhere.path()), Vec::<String>::new(), "decisions, baseline or events landed outside");
}

#[test]
fn triage_and_baseline_do_not_replace_committed_file_symlinks() {
    let repo = repo_with_tokens(1);
    let prints = fingerprints(repo.path());
    let home = tempfile::tempdir().unwrap();
    let victim = home.path().join("victim");
    std::fs::write(&victim, "keep\n").unwrap();
    std::fs::create_dir(repo.path().join(".sluice")).unwrap();
    symlink(&victim, repo.path().join(".sluice/triage.toml")).unwrap();
    symlink(&victim, repo.path().join(".sluice/baseline.sarif")).unwrap();

    let out = mark_cmd(repo.path(), &prints[0], "test fixture").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let results = repo.path().join("sluice-out/results.sarif");
    let out = sluice().arg("baseline").arg(repo.path()).arg("--sarif").arg(&results).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(".sluice/baseline.sarif"), "{}", stderr_of(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
    for name in ["triage.toml", "baseline.sarif"] {
        let meta = std::fs::symlink_metadata(repo.path().join(".sluice").join(name)).unwrap();
        assert!(meta.file_type().is_symlink(), "{name} was replaced");
    }

    // An output the user names is theirs, links and devices included.
    let out = sluice()
        .arg("baseline")
        .arg(repo.path())
        .arg("--sarif")
        .arg(&results)
        .args(["-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sluice/baseline-commit"));
}

#[test]
fn baseline_from_an_old_commit_does_not_write_through_its_sluice_toml_link() {
    let repo = repo_with_tokens(1);
    let home = tempfile::tempdir().unwrap();
    let victim = home.path().join(".profile");
    std::fs::write(&victim, "keep\n").unwrap();
    // An old commit whose sluice.toml is a link out of the repository …
    symlink(&victim, repo.path().join("sluice.toml")).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "linked config"]);
    git(repo.path(), &["tag", "old"]);
    // … and today's regular one, which `baseline --from` copies into the old tree.
    std::fs::remove_file(repo.path().join("sluice.toml")).unwrap();
    write(repo.path(), "sluice.toml", "[run]\nstages = [\"secrets\"]\n");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "real config"]);

    let out =
        sluice().arg("baseline").arg(repo.path()).args(["--from", "old", "--stages", "secrets"]).output().unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n", "the old tree's link was written through");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn init_refuses_committed_symlinks_to_ci_directories() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), repo.path().join(".github")).unwrap();
    let out = sluice().args(["init", "--ci", "github"]).arg(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(".github") && stderr_of(&out).contains("symbolic link"), "{}", stderr_of(&out));
    assert_eq!(listing(elsewhere.path()), Vec::<String>::new(), "the workflow landed outside the repository");
    // A dangling link in place of sluice.toml would be created through, wherever it points.
    let repo = tempfile::tempdir().unwrap();
    symlink(elsewhere.path().join("autostart.desktop"), repo.path().join("sluice.toml")).unwrap();
    let out = sluice().args(["init", "--force"]).arg(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(listing(elsewhere.path()), Vec::<String>::new(), "sluice.toml was written through a dangling link");
}

// ---------------------------------------------------------------------------------------------
// item 8: concurrent `sluice triage mark`

#[test]
fn concurrent_triage_marks_keep_every_decision() {
    // Two rounds of twelve at once (one round loses a decision about three times in four on
    // unlocked code; two make a pass by luck unlikely).
    const ROUND: usize = 12;
    let repo = repo_with_tokens(2 * ROUND);
    let prints = fingerprints(repo.path());
    assert_eq!(prints.len(), 2 * ROUND, "one finding per file");
    for round in prints.chunks(ROUND) {
        // All at once: each process reads, edits and writes .sluice/triage.toml.
        let children: Vec<_> = round
            .iter()
            .enumerate()
            .map(|(i, f)| mark_cmd(repo.path(), f, &format!("fixture {i}")).stderr(Stdio::piped()).spawn().unwrap())
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr_of(&out));
            assert!(stderr_of(&out).starts_with("added "), "{}", stderr_of(&out));
        }
    }
    let text = std::fs::read_to_string(repo.path().join(".sluice/triage.toml")).unwrap();
    let lost: Vec<&String> = prints.iter().filter(|f| !text.contains(f.as_str())).collect();
    assert!(lost.is_empty(), "{} of {} decisions lost: {lost:?}\n{text}", lost.len(), prints.len());
}

// ---------------------------------------------------------------------------------------------
// item 9: an empty pipe is not "no input"

/// A repository whose last run found nothing: a stale, allowing `sluice-out/results.sarif`.
fn repo_with_clean_results() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    write(dir.path(), "README.md", "nothing to see\n");
    sluice().args(["run", "--stages", "secrets"]).arg(dir.path()).assert().success();
    dir
}

#[test]
fn an_empty_pipe_into_gate_is_an_error_not_the_stale_results() {
    let repo = repo_with_clean_results();
    // `failing-command | sluice gate`: the pipe is empty.
    let out = sluice()
        .args(["gate", "--profile", "velocity", "--root"])
        .arg(repo.path())
        .current_dir(repo.path())
        .write_stdin("")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "an empty pipe was gated as the stale results: {err}");
    assert!(err.contains("stdin") && err.contains("empty"), "{err}");
    assert!(out.stdout.is_empty());

    // No pipe at all (stdin is /dev/null): the default file, named on stderr.
    let out = Command::new(assert_cmd::cargo::cargo_bin("sluice"))
        .env("NO_COLOR", "1")
        .args(["gate", "--profile", "velocity", "--root"])
        .arg(repo.path())
        .current_dir(repo.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("sluice-out/results.sarif"), "the gated file is not named: {err}");
}

#[test]
fn an_empty_pipe_into_report_or_triage_is_an_error_that_says_so() {
    let repo = repo_with_clean_results();
    for args in [&["report", "--format", "text"][..], &["triage", "--root", "."][..]] {
        let out = sluice().args(args).current_dir(repo.path()).write_stdin("").output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("stdin") && err.contains("empty"), "{args:?}: {err}");
    }
}
