//! Triage and baselines on real git repositories: `sluice triage` (decisions as SARIF
//! suppressions), `sluice triage mark|list|show|prune|import|export`, `sluice baseline`, and
//! `sluice run` applying both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use predicates::prelude::PredicateBooleanExt as _;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// helpers

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

fn commit_all(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", message]);
}

fn new_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    // Repository-local identity: what `sluice triage mark` records.
    git(dir.path(), &["config", "user.name", "Ada Lovelace"]);
    git(dir.path(), &["config", "user.email", "ada@example.com"]);
    git(dir.path(), &["config", "commit.gpgsign", "false"]);
    write(dir.path(), ".gitignore", "sluice-out/\n");
    dir
}

/// The stages these tests run: the secrets stage, and bandit where the repository configures it.
/// (Other built-in stages have their own tests; their findings would only blur the counts here.)
fn stages(root: &Path) -> &'static str {
    let config = std::fs::read_to_string(root.join("sluice.toml")).unwrap_or_default();
    if config.contains("[stages.bandit]") {
        "bandit,secrets"
    } else {
        "secrets"
    }
}

/// `sluice run` on the repository; the results it wrote and its stderr.
fn run(root: &Path) -> (Value, String) {
    let out = sluice().args(["run", "--stages", stages(root)]).arg(root).assert().success().get_output().clone();
    let log = parse(&std::fs::read(root.join("sluice-out/results.sarif")).unwrap());
    (log, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn uri(result: &Value) -> String {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or("").to_owned()
}

fn snippet(result: &Value) -> String {
    result["locations"][0]["physicalLocation"]["region"]["snippet"]["text"].as_str().unwrap_or("").to_owned()
}

fn is_suppressed(result: &Value) -> bool {
    result["suppressions"].as_array().is_some_and(|s| s.iter().any(|s| s["status"] == "accepted"))
}

fn triage_run(log: &Value) -> Value {
    log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["automationDetails"]["id"] == "sluice/triage/")
        .cloned()
        .unwrap_or(Value::Null)
}

/// Counts of one run's outcome: findings by state, and the triage run's report.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Tally {
    total: usize,
    suppressed: usize,
    confirmed: usize,
    new: usize,
    unchanged: usize,
    updated: usize,
    fixed: u64,
    stale: u64,
    expired: u64,
}

fn tally(log: &Value) -> Tally {
    let found = results(log);
    let state = |s: &str| found.iter().filter(|r| r["baselineState"] == s).count();
    let props = &triage_run(log)["properties"];
    Tally {
        total: found.len(),
        suppressed: found.iter().filter(|r| is_suppressed(r)).count(),
        confirmed: found.iter().filter(|r| r["properties"]["sluice/triage"]["status"] == "confirmed").count(),
        new: state("new"),
        unchanged: state("unchanged"),
        updated: state("updated"),
        fixed: props["sluice/fixed"].as_u64().unwrap_or(0),
        stale: props["sluice/stale"].as_u64().unwrap_or(0),
        expired: props["sluice/expired"].as_u64().unwrap_or(0),
    }
}

/// The one result of `rule` in a file whose path contains `file`, with `text` in its snippet
/// (the first one in file order).
fn find<'l>(found: &'l [Value], rule: &str, file: &str, text: &str) -> &'l Value {
    found
        .iter()
        .find(|r| r["ruleId"] == rule && uri(r).contains(file) && snippet(r).contains(text))
        .unwrap_or_else(|| panic!("no {rule} finding in {file} with {text:?}"))
}

fn mark(root: &Path, fingerprint: &str, status: &str, reason: &str, extra: &[&str]) {
    sluice()
        .args(["triage", "mark", fingerprint, "--status", status, "--reason", reason])
        .args(extra)
        .arg("--root")
        .arg(root)
        .assert()
        .success();
}

fn tokens() -> [String; 3] {
    [
        github_token("Hq3vT9LmR2wXk8PbN5cY7dHj4FsA1e"),
        github_token("Zr8pW2nQ5vLk3JtY6bXc9DfG1hMa4s"),
        github_token("Pm5tR8wQ2zXn7LcV4bHy1KdJ6sFg3a"),
    ]
}

/// The Python standard library bandit runs on: real code, written by others.
fn stdlib(bandit: &Path) -> PathBuf {
    let python = bandit.parent().unwrap().join("python3");
    let out = Command::new(python)
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .expect("bandit's python runs");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn bandit_stage(bandit: &Path) -> String {
    format!(
        "[stages.bandit]\ncommand = [{:?}, \"-r\", \".\", \"-f\", \"sarif\", \"-q\"]\nfiles = [\"*.py\"]\n",
        bandit.display()
    )
}

// ---------------------------------------------------------------------------------------------
// churn: edits that change where findings are and how their code looks, never what it is

/// Each edit keeps every file valid Python and every finding's code the same once whitespace is
/// removed.
fn churn(root: &Path, files: &mut [String], env: &mut String, i: usize, counters: &mut [usize; 10]) -> String {
    let op = i % 10;
    let n = counters[op];
    counters[op] += 1;
    let pick = |offset: usize| (n + offset) % files.len();
    match op {
        0 => {
            // Rename: a new base name in the same directory.
            let k = pick(0);
            let old = files[k].clone();
            let new = match old.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/r{i}_{name}"),
                None => format!("r{i}_{old}"),
            };
            git(root, &["mv", &old, &new]);
            files[k] = new;
            format!("rename {old}")
        }
        1 => {
            let f = &files[pick(1)];
            let text = read(root, f);
            write(root, f, &format!("# Vendored copy, churn {i}.\n# See the upstream project for history.\n\n{text}"));
            format!("insert a header in {f}")
        }
        2 => {
            // Reformat: every indentation doubled (consistent, so still valid Python).
            let f = &files[pick(2)];
            let text: String = read(root, f)
                .lines()
                .map(|l| {
                    let indent = l.len() - l.trim_start_matches(' ').len();
                    format!("{}{}\n", " ".repeat(indent * 2), &l[indent..])
                })
                .collect();
            write(root, f, &text);
            format!("re-indent {f}")
        }
        3 => {
            let f = &files[pick(3)];
            let text = read(root, f);
            write(root, f, &format!("{text}\n\ndef _helper_{i}(value):\n    return value + {i}\n"));
            format!("add a helper to {f}")
        }
        4 => {
            // Move: a new directory, the same base name.
            let k = pick(3);
            let old = files[k].clone();
            let name = old.rsplit('/').next().unwrap().to_owned();
            let new = format!("pkg{i}/sub/{name}");
            std::fs::create_dir_all(root.join(format!("pkg{i}/sub"))).unwrap();
            git(root, &["mv", &old, &new]);
            files[k] = new;
            format!("move {old}")
        }
        5 => {
            let f = &files[pick(4)];
            let text: String = read(root, f)
                .lines()
                .map(|l| {
                    if l.starts_with("def ") || l.starts_with("class ") {
                        format!("# --- section {i} ---\n\n{l}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            write(root, f, &text);
            format!("insert lines before the definitions of {f}")
        }
        6 => {
            // The secrets file: lines inserted above, `KEY=value` and `KEY = value` swapped.
            let text = read(root, env);
            let swapped: String = text
                .lines()
                .map(|l| {
                    if let Some((k, v)) = l.split_once(" = ") {
                        format!("{k}={v}\n")
                    } else if let Some((k, v)) = l.split_once('=') {
                        format!("{k} = {v}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            write(root, env, &format!("# region {i}\nREGION_{i}=eu-west-{}\n{swapped}", i % 3));
            format!("edit {env}")
        }
        7 => {
            let f = &files[pick(5)];
            write(root, f, &read(root, f).replace(", ", ",  "));
            format!("space commas in {f}")
        }
        8 if n % 2 == 1 => {
            // Move the secrets file too.
            let old = env.clone();
            let new = format!("deploy/env{i}/production.env");
            std::fs::create_dir_all(root.join(format!("deploy/env{i}"))).unwrap();
            git(root, &["mv", &old, &new]);
            *env = new;
            format!("move {old}")
        }
        8 => {
            write(root, &format!("docs/notes-{i}.md"), &format!("# Notes {i}\n\nNothing to see.\n"));
            "add docs".into()
        }
        _ => {
            let f = &files[pick(0)];
            let text = read(root, f);
            let edited = match text.find("\n# ") {
                Some(at) => format!("{}\n# (reviewed {i}){}", &text[..at], &text[at..]),
                None => format!("{text}\n# reviewed {i}\n"),
            };
            write(root, f, &edited);
            format!("comment in {f}")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the history test

/// A repository of real third-party code (the Python standard library, six modules) with bandit
/// and the secrets stage; 7 decisions recorded with `sluice triage mark` and one rule + glob
/// decision; a baseline; then 50 commits that rename or move files (12, every file at least
/// once, the secrets file twice), re-indent, insert lines and edit unrelated code. At every commit the same findings stay suppressed, nothing is new, stale or
/// fixed. Then one change adds two findings, edits one flagged line and removes one finding:
/// the baseline says exactly that.
#[test]
fn decisions_and_baseline_hold_across_fifty_commits_of_churn() {
    let Some(bandit) = bandit() else { return };
    let dir = new_repo();
    let root = dir.path();
    let lib = stdlib(&bandit);
    let sources = [
        ("shelve.py", "src/shelve.py"),
        ("ftplib.py", "src/net/ftplib.py"),
        ("uuid.py", "src/uuid.py"),
        ("ctypes/util.py", "src/ctypes_util.py"),
        ("webbrowser.py", "src/webbrowser.py"),
        ("platform.py", "src/platform.py"),
    ];
    for (from, to) in sources {
        let text =
            std::fs::read_to_string(lib.join(from)).unwrap_or_else(|e| panic!("{}: {e}", lib.join(from).display()));
        write(root, to, &text);
    }
    let [t1, t2, t3] = tokens();
    write(root, "config/deploy.env", &format!("# deploy settings\nFIXTURE_TOKEN={t1}\nDEPLOY_TOKEN={t2}\n"));
    write(root, "README.md", "# vendored modules\n");
    write(root, "sluice.toml", &bandit_stage(&bandit));
    commit_all(root, "vendor six stdlib modules");

    let (log, _) = run(root);
    let found = results(&log);
    let total = found.len();
    let secrets = found.iter().filter(|r| r["ruleId"] == "github-pat-classic").count();
    assert_eq!(secrets, 2, "two fake tokens");
    assert!(total > 40, "bandit finds the stdlib's subprocess and pickle uses: {total}");

    // Decisions, recorded the way a security champion would.
    let fp = |r: &Value| fingerprint(r);
    let decided = [
        (
            fp(find(&found, "B301", "shelve.py", "Unpickler(f).load()")),
            "accepted_risk",
            "shelve is pickle by design; only our own files",
            "--expires=2099-12-31",
        ),
        (fp(find(&found, "B105", "ftplib.py", "")), "false_positive", "an empty default, not a password", ""),
        (
            fp(find(&found, "B324", "uuid.py", "sha1")),
            "mitigated",
            "UUIDv5 as RFC 4122 specifies; not used for security",
            "",
        ),
        (fp(find(&found, "B110", "ctypes_util.py", "")), "accepted_risk", "best-effort lookup; failures fall back", ""),
        (
            fp(find(&found, "B605", "webbrowser.py", "")),
            "false_positive",
            "the browser command comes from the user's environment",
            "",
        ),
        (
            fp(find(&found, "B311", "uuid.py", "getrandbits")),
            "confirmed",
            "a predictable node id; tracked in SEC-12",
            "",
        ),
        (
            fp(find(&found, "github-pat-classic", "deploy.env", "FIXTURE_TOKEN")),
            "false_positive",
            "a revoked token kept as a test fixture",
            "",
        ),
    ];
    for (fingerprint, status, reason, extra) in &decided {
        let extra: Vec<&str> = if extra.is_empty() { vec![] } else { vec![extra] };
        mark(root, fingerprint, status, reason, &extra);
    }
    let mut decisions = read(root, ".sluice/triage.toml");
    decisions.push_str("\n[[decision]]\nrule = \"B404\"\npath = \"*.py\"\nstage = \"bandit\"\nstatus = \"accepted_risk\"\nreason = \"importing subprocess is not a finding by itself\"\nwho = \"Ada Lovelace <ada@example.com>\"\nwhen = 2025-01-15\n");
    write(root, ".sluice/triage.toml", &decisions);
    assert!(decisions.contains("who = \"Ada Lovelace <ada@example.com>\""), "{decisions}");
    let b404 = found.iter().filter(|r| r["ruleId"] == "B404").count();
    assert!(b404 >= 3, "{b404}");
    sluice().args(["baseline", "--stages", stages(root)]).arg(root).assert().success();
    commit_all(root, "triage decisions and a baseline");

    let expected = Tally {
        total,
        suppressed: 6 + b404,
        confirmed: 1,
        new: 0,
        unchanged: total,
        updated: 0,
        fixed: 0,
        stale: 0,
        expired: 0,
    };
    let (log, _) = run(root);
    assert_eq!(tally(&log), expected, "right after the baseline");
    eprintln!("after the baseline, and after each of 50 churn commits: {expected:?}");
    let suppressed_at_start: Vec<String> = results(&log)
        .iter()
        .filter(|r| is_suppressed(r))
        .map(|r| r["properties"]["sluice/triage"]["decision"].to_string())
        .collect();

    let mut files: Vec<String> = sources.iter().map(|(_, to)| (*to).to_owned()).collect();
    let mut env = "config/deploy.env".to_owned();
    let mut counters = [0usize; 10];
    let mut renames = 0;
    for i in 1..=50 {
        let what = churn(root, &mut files, &mut env, i, &mut counters);
        renames += usize::from(what.starts_with("rename") || what.starts_with("move"));
        commit_all(root, &format!("churn {i}: {what}"));
        let (log, stderr) = run(root);
        assert_eq!(tally(&log), expected, "after commit {i} ({what}):\n{stderr}");
        let now: Vec<String> = results(&log)
            .iter()
            .filter(|r| is_suppressed(r))
            .map(|r| r["properties"]["sluice/triage"]["decision"].to_string())
            .collect();
        let mut a = now.clone();
        let mut b = suppressed_at_start.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "after commit {i}: the same decisions suppress the same number of findings");
    }
    assert_eq!(renames, 12, "twelve of the fifty commits rename or move a file");
    assert_eq!(env, "deploy/env38/production.env");
    let moved = files.iter().zip(&sources).filter(|(now, (_, was))| now != was).count();
    assert_eq!(moved, 6, "every vendored file lives elsewhere now: {files:?}");

    // The change under review: a new shell call, a new token, one flagged line edited, one
    // token removed.
    let browser = files.iter().find(|f| f.ends_with("webbrowser.py")).unwrap().clone();
    let text = read(root, &browser);
    write(root, &browser, &format!("{text}\n\ndef _open_with(command):\n    return os.system(command)\n"));
    let ctutil = files.iter().find(|f| f.ends_with("ctypes_util.py")).unwrap().clone();
    let text = read(root, &ctutil);
    assert!(text.contains("subprocess.Popen(cmd,"), "the line to edit is there");
    write(root, &ctutil, &text.replacen("subprocess.Popen(cmd,", "subprocess.Popen(list(cmd),", 1));
    let text: String = read(root, &env).lines().filter(|l| !l.contains(&t2)).map(|l| format!("{l}\n")).collect();
    write(root, &env, &format!("{text}RELEASE_TOKEN={t3}\n"));
    commit_all(root, "the change under review");

    let (log, stderr) = run(root);
    let t = tally(&log);
    assert_eq!(
        t,
        Tally { total: total + 1, new: 2, unchanged: total - 2, updated: 1, fixed: 1, ..expected },
        "{stderr}"
    );
    eprintln!("after the change under review: {t:?}");
    let new: Vec<(String, String)> = results(&log)
        .iter()
        .filter(|r| r["baselineState"] == "new")
        .map(|r| (r["ruleId"].as_str().unwrap().to_owned(), uri(r)))
        .collect();
    assert_eq!(new, [("B605".to_owned(), browser.clone()), ("github-pat-classic".to_owned(), env.clone())]);
    let fixed = &triage_run(&log)["properties"]["sluice/fixed-findings"];
    assert_eq!(fixed[0]["ruleId"], "github-pat-classic", "{fixed}");
    // Reports count new, suppressed and fixed apart.
    let text = sluice()
        .args(["report", "--format", "text"])
        .arg(root.join("sluice-out/results.sarif"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    let summary = text.lines().last().unwrap();
    assert!(summary.ends_with(&format!("(2 new, {} suppressed, 1 fixed)", 6 + b404)), "{summary}");
    assert!(!text.contains(&t3[4..]), "no secret in the report");
    assert_valid(&root.join("sluice-out/results.sarif"));
}

// ---------------------------------------------------------------------------------------------
// errors

fn decision(selector: &str, status: &str, extra: &str) -> String {
    format!(
        "[[decision]]\n{selector}\nstatus = \"{status}\"\nreason = \"r\"\nwho = \"w\"\nwhen = 2025-01-01\n{extra}\n"
    )
}

/// A repository with two secrets findings and their results.sarif.
fn secrets_repo() -> (tempfile::TempDir, Vec<Value>) {
    let dir = new_repo();
    let root = dir.path();
    let [t1, t2, _] = tokens();
    write(root, "app/settings.py", &format!("import os\n\nTOKEN = \"{t1}\"\nBACKUP = \"{t2}\"\n"));
    commit_all(root, "settings");
    let (log, _) = run(root);
    let found = results(&log);
    assert_eq!(found.len(), 2);
    (dir, found)
}

#[test]
fn malformed_or_conflicting_decisions_fail_with_file_and_line() {
    let (dir, found) = secrets_repo();
    let root = dir.path();
    let fp = fingerprint(&found[0]);
    let fp_decision = |status: &str| decision(&format!("fingerprint = \"{fp}\""), status, "");
    let cases: Vec<(String, Vec<String>)> = vec![
        (fp_decision("false_positive") + &fp_decision("confirmed"), vec![format!(".sluice/triage.toml:8:1: a second decision for fingerprint {fp} (the first is at line 1); keep one")]),
        (
            decision("rule = \"github-pat-classic\"\npath = \"**\"", "wontfix", ""),
            vec![".sluice/triage.toml:4:10: unknown status `wontfix`; use one of false_positive, accepted_risk, mitigated, confirmed".into()],
        ),
        (
            decision("rule = \"x\"\npath = \"**\"", "confirmed", "expires = \"2025-02-30\""),
            vec![".sluice/triage.toml:8:11: `expires` = \"2025-02-30\" is not a date; write YYYY-MM-DD".into()],
        ),
        (
            "[[decision]]\nrule = \"x\"\npath = \"**\"\nstatus = \"confirmed\"\n".into(),
            vec![
                ".sluice/triage.toml:1:1: missing `reason`".into(),
                ".sluice/triage.toml:1:1: missing `who`".into(),
                ".sluice/triage.toml:1:1: missing `when`".into(),
            ],
        ),
        ("[[decision]]\nstatus = \"confirmed\nreason = \"x\"\n".into(), vec![".sluice/triage.toml:2:".into()]),
        (
            decision("rule = \"x\"\npath = \"**\"", "confirmed", "reviewer = \"Bob\""),
            vec![".sluice/triage.toml:8:1: unknown field `reviewer`".into()],
        ),
        // Two decisions that are fine alone but match one finding: a conflict, not a choice.
        (
            fp_decision("false_positive") + &decision("rule = \"github-pat-classic\"\npath = \"app/*.py\"", "accepted_risk", ""),
            vec![format!(".sluice/triage.toml:1: decisions at lines 1 and 8 all match the finding github-pat-classic at app/settings.py:3 (fingerprint {fp})")],
        ),
    ];
    let before = std::fs::read(root.join("sluice-out/results.sarif")).unwrap();
    for (text, expected) in cases {
        write(root, ".sluice/triage.toml", &text);
        // The transform stage: exit 2, the error, nothing on stdout.
        let out = sluice()
            .arg("triage")
            .arg(root.join("sluice-out/results.sarif"))
            .arg("--root")
            .arg(root)
            .current_dir(root)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        for e in &expected {
            assert!(stderr.contains(e), "expected {e:?} in:\n{stderr}\nfor:\n{text}");
        }
        assert!(out.stdout.is_empty(), "nothing half-applied on stdout");
        // `sluice run` refuses too, and leaves the last results as they were.
        let out = sluice().args(["run", "--stages", stages(root)]).arg(root).assert().code(2).get_output().clone();
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(".sluice/triage.toml:"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(root.join("sluice-out/results.sarif")).unwrap(), before);
    }
}

// ---------------------------------------------------------------------------------------------
// the transform stage

#[test]
fn triage_is_a_transform_stage_that_suppresses_without_deleting() {
    let (dir, found) = secrets_repo();
    let root = dir.path();
    write(
        root,
        ".sluice/triage.toml",
        &format!(
            "version = 1\n\n{}{}",
            decision(
                &format!("fingerprint = \"{}\"", fingerprint(&found[0])),
                "false_positive",
                "source = \"sluice secrets rules\""
            ),
            decision(&format!("fingerprint = \"{}\"", fingerprint(&found[1])), "confirmed", "")
        ),
    );
    let scanned = sluice().args(["scan", "secrets"]).arg(root).assert().success().get_output().stdout.clone();
    let once = sluice()
        .arg("triage")
        .arg("--root")
        .arg(root)
        .write_stdin(scanned)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let log = parse(&once);
    let r = results(&log);
    assert_eq!(r.len(), 2, "never deleted");
    let s = &r[0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert_eq!(s["justification"], "false_positive: r");
    assert_eq!(s["location"]["physicalLocation"]["artifactLocation"]["uri"], ".sluice/triage.toml");
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 3);
    assert_eq!(
        s["properties"],
        serde_json::json!({"sluice/decision": ".sluice/triage.toml:3"}),
        "it points at its decision"
    );
    assert_eq!(r[0]["properties"]["sluice/triage"]["source"], "sluice secrets rules");
    assert!(r[1]["suppressions"].is_null(), "confirmed is recorded, not suppressed");
    assert_eq!(r[1]["properties"]["sluice/triage"]["status"], "confirmed");
    // Through the pipe again: the same bytes.
    let twice = sluice()
        .arg("triage")
        .arg("--root")
        .arg(root)
        .write_stdin(once.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(once, twice);
    let file = root.join("triaged.sarif");
    std::fs::write(&file, &once).unwrap();
    assert_valid(&file);
    let text = String::from_utf8(once).unwrap();
    assert!(!tokens().iter().any(|t| text.contains(&t[4..])), "no secret in the output");
}

#[test]
fn expired_decisions_stop_applying_and_are_reported() {
    let (dir, found) = secrets_repo();
    let root = dir.path();
    write(
        root,
        ".sluice/triage.toml",
        &format!(
            "{}{}",
            decision(&format!("fingerprint = \"{}\"", fingerprint(&found[0])), "accepted_risk", "expires = 2025-06-30"),
            decision("fingerprint = \"0123456789abcdef0123456789abcdef:1\"", "false_positive", "")
        ),
    );
    let (log, stderr) = run(root);
    let t = tally(&log);
    assert_eq!((t.suppressed, t.expired, t.stale), (0, 1, 1), "{stderr}");
    assert!(stderr.contains(".sluice/triage.toml:1: expired on 2025-06-30"), "{stderr}");
    assert!(stderr.contains(".sluice/triage.toml:8: stale"), "{stderr}");
    let notes = &triage_run(&log)["invocations"][0]["toolConfigurationNotifications"];
    let ids: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["descriptor"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["stale-decision", "expired-decision"]);
    assert_eq!(notes[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert_valid(&root.join("sluice-out/results.sarif"));
}

// ---------------------------------------------------------------------------------------------
// recording and reviewing decisions

#[test]
fn mark_list_show_prune_record_who_decided() {
    let (dir, found) = secrets_repo();
    let root = dir.path();
    let (a, b) = (fingerprint(&found[0]), fingerprint(&found[1]));
    mark(root, &a, "false_positive", "a test fixture", &[]);
    mark(root, &b, "accepted-risk", "rotating next sprint", &["--expires", "2099-01-31"]);
    let text = read(root, ".sluice/triage.toml");
    assert!(text.contains(&format!("fingerprint = \"{a}\"\nrule = \"github-pat-classic\"\npath = \"app/settings.py\"\nstage = \"secrets\"\ncommit = \"")), "{text}");
    assert!(text.contains("who = \"Ada Lovelace <ada@example.com>\""), "{text}");
    assert!(text.contains("source = \"sluice secrets rules\""), "{text}");
    assert!(text.contains("expires = 2099-01-31"), "{text}");
    // Marking again updates in place.
    mark(root, &a, "mitigated", "the token is scoped to a sandbox", &[]);
    assert_eq!(read(root, ".sluice/triage.toml").matches("[[decision]]").count(), 2);

    let list = sluice().args(["triage", "list", "--root"]).arg(root).assert().success().get_output().stdout.clone();
    let list = String::from_utf8(list).unwrap();
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains("mitigated\tactive") && list.contains("accepted_risk\tuntil 2099-01-31"), "{list}");

    let show = sluice().args(["triage", "show", &b, "--root"]).arg(root).assert().success().get_output().stdout.clone();
    let show = String::from_utf8(show).unwrap();
    assert!(show.contains("reason   rotating next sprint") && show.contains("findings 1 in"), "{show}");
    assert!(show.contains("app/settings.py:4"), "{show}");

    // A decision that would conflict is refused and the file is left alone.
    let before = read(root, ".sluice/triage.toml");
    write(
        root,
        ".sluice/triage.toml",
        &format!("{before}\n{}", decision("rule = \"github-pat-classic\"\npath = \"app/**\"", "accepted_risk", "")),
    );
    let with_rule = read(root, ".sluice/triage.toml");
    sluice()
        .args(["triage", "mark", &a, "--status", "confirmed", "--reason", "x", "--root"])
        .arg(root)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("all match the finding github-pat-classic"));
    assert_eq!(read(root, ".sluice/triage.toml"), with_rule);
    write(root, ".sluice/triage.toml", &before);

    // No identity, no decision.
    sluice()
        .args(["triage", "mark", &a, "--status", "confirmed", "--reason", "x", "--root"])
        .arg(root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_DIR", root.join("nowhere"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("git config user.name"));
    // Nor without a reason, nor for an unknown finding.
    sluice()
        .args([
            "triage",
            "mark",
            "0123456789abcdef0123456789abcdef:1",
            "--status",
            "confirmed",
            "--reason",
            "x",
            "--root",
        ])
        .arg(root)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such finding"));

    // The finding of `a` is fixed; `b`'s decision expires. Prune removes both, once.
    let [_, t2, _] = tokens();
    write(root, "app/settings.py", &format!("import os\n\nTOKEN = os.environ[\"TOKEN\"]\nBACKUP = \"{t2}\"\n"));
    let text: String = read(root, ".sluice/triage.toml")
        .lines()
        .map(|l| {
            if l.starts_with("when = ") {
                "when = 2019-06-01".to_owned()
            } else {
                l.replace("2099-01-31", "2020-01-31")
            }
        })
        .map(|l| l + "\n")
        .collect();
    write(root, ".sluice/triage.toml", &text);
    run(root);
    let results_path = root.join("sluice-out/results.sarif");
    sluice()
        .args(["triage", "prune", "--dry-run", "--sarif"])
        .arg(&results_path)
        .arg("--root")
        .arg(root)
        .assert()
        .success()
        .stderr(
            predicates::str::contains("would remove ")
                .and(predicates::str::contains(".sluice/triage.toml:4: fingerprint")),
        );
    assert_eq!(read(root, ".sluice/triage.toml"), text, "a dry run changes nothing");
    let out = sluice()
        .args(["triage", "prune", "--sarif"])
        .arg(&results_path)
        .arg("--root")
        .arg(root)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(expired on 2020-01-31)") && stderr.contains("(matches nothing in"), "{stderr}");
    let left = read(root, ".sluice/triage.toml");
    assert_eq!(left.matches("[[decision]]").count(), 0, "{left}");
    assert!(left.starts_with("# Triage decisions"), "the header comment stays: {left}");
}

// ---------------------------------------------------------------------------------------------
// baselines

#[test]
fn baseline_from_a_ref_or_a_log_and_rename_aware_comparison() {
    let (dir, _) = secrets_repo();
    let root = dir.path();
    let first = head(root);
    let [_, _, t3] = tokens();
    // A rename and a new secret after the baseline's commit.
    git(root, &["mv", "app/settings.py", "app/config.py"]);
    write(root, "deploy/release.env", &format!("RELEASE={t3}\n"));
    commit_all(root, "rename settings, add a release token");

    // --from: the findings of the first commit, computed without touching the working tree.
    sluice().args(["baseline", "--stages", stages(root), "--from", &first]).arg(root).assert().success();
    let baseline = parse(&std::fs::read(root.join(".sluice/baseline.sarif")).unwrap());
    assert_eq!(results(&baseline).len(), 2);
    assert_eq!(baseline["runs"][0]["properties"]["sluice/baseline-commit"], first.as_str());
    assert!(uri(&results(&baseline)[0]).starts_with("app/settings.py"));
    assert!(root.join("app/config.py").exists() && !root.join("app/settings.py").exists());
    assert_valid(&root.join(".sluice/baseline.sarif"));

    // The renamed file's secrets are the same secrets (git's rename detection, then the
    // fingerprint re-derived at the old path); only the release token is new.
    let (log, stderr) = run(root);
    let t = tally(&log);
    assert_eq!((t.new, t.unchanged, t.updated, t.fixed), (1, 2, 0, 0), "{stderr}");

    // --sarif: an existing log as the baseline, at HEAD. Everything is unchanged.
    let results_file = root.join("sluice-out/results.sarif");
    sluice().args(["baseline", "--sarif"]).arg(&results_file).arg(root).assert().success();
    let baseline = parse(&std::fs::read(root.join(".sluice/baseline.sarif")).unwrap());
    assert_eq!(results(&baseline).len(), 3);
    assert!(results(&baseline).iter().all(|r| r["baselineState"].is_null() && r["suppressions"].is_null()));
    assert!(triage_run(&baseline).is_null(), "the triage run is not part of a baseline");
    let (log, _) = run(root);
    let t = tally(&log);
    assert_eq!((t.new, t.unchanged, t.updated, t.fixed), (0, 3, 0, 0));
}

fn head(root: &Path) -> String {
    let out = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(root).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn diff_aware_runs_report_no_stale_decisions_and_fix_only_what_they_saw() {
    let (dir, found) = secrets_repo();
    let root = dir.path();
    write(root, "other/x.py", "print('hello')\n");
    write(
        root,
        ".sluice/triage.toml",
        &decision("fingerprint = \"0123456789abcdef0123456789abcdef:1\"", "false_positive", ""),
    );
    commit_all(root, "more");
    sluice().args(["baseline", "--stages", stages(root)]).arg(root).assert().success();
    commit_all(root, "baseline");
    write(root, "other/x.py", "print('changed')\n");
    let out = sluice()
        .args(["run", "--stages", stages(root), "--since", "HEAD"])
        .arg(root)
        .assert()
        .success()
        .get_output()
        .clone();
    let log = parse(&std::fs::read(root.join("sluice-out/results.sarif")).unwrap());
    let t = tally(&log);
    assert_eq!((t.total, t.stale, t.fixed), (0, 0, 0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(found.len(), 2, "the full run has two findings, the diff-aware one none and none fixed");
}

// ---------------------------------------------------------------------------------------------
// dependency findings and OpenVEX

fn deps_log() -> String {
    let result = |advisory: &str, purl: &str, line: u32| {
        format!(
            r#"{{"ruleId":"{advisory}","level":"error","message":{{"text":"{advisory} in {purl}"}},
            "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"package-lock.json"}},"region":{{"startLine":{line}}}}}}}]
            ,"properties":{{"sluice/purl":"{purl}","sluice/aliases":["CVE-{line}"]}}}}"#
        )
    };
    format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"deps","rules":[]}}}},"automationDetails":{{"id":"sluice/deps/"}},"results":[{},{},{}]}}]}}"#,
        result("GHSA-jf85-cpcp-j695", "pkg:npm/lodash@4.17.20", 10),
        result("GHSA-p6mc-m468-83gw", "pkg:npm/lodash@4.17.20", 11),
        result("GHSA-35jh-r3h4-6jhm", "pkg:npm/minimist@1.2.5", 12),
    )
}

#[test]
fn openvex_statements_import_as_decisions_and_export_back() {
    let dir = new_repo();
    let root = dir.path();
    write(root, "package-lock.json", "{}\n");
    write(root, "deps.sarif", &deps_log());
    write(
        root,
        "vendor.vex.json",
        r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/2024-001",
  "author": "Example PSIRT <psirt@example.com>",
  "timestamp": "2024-05-01T10:00:00Z",
  "version": 1,
  "statements": [
    { "vulnerability": { "name": "GHSA-jf85-cpcp-j695" },
      "products": [{ "@id": "pkg:npm/app@1.0.0", "subcomponents": [{ "@id": "pkg:npm/lodash@4.17.20" }] }],
      "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "template() is never called with user input" },
    { "vulnerability": { "name": "CVE-11" },
      "products": [{ "@id": "pkg:npm/app@1.0.0", "subcomponents": [{ "@id": "pkg:npm/lodash@4.17.20" }] }],
      "status": "affected", "action_statement": "upgrade lodash to 4.17.21" },
    { "vulnerability": { "name": "GHSA-35jh-r3h4-6jhm" },
      "products": [{ "@id": "pkg:npm/minimist@1.2.5" }], "status": "not_affected" }
  ]
}"#,
    );
    let out = sluice()
        .args(["triage", "import"])
        .arg(root.join("vendor.vex.json"))
        .arg("--root")
        .arg(root)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("imported 2 statements")
            && stderr.contains("statement 3 (GHSA-35jh-r3h4-6jhm): not_affected without a justification"),
        "{stderr}"
    );
    let text = read(root, ".sluice/triage.toml");
    assert!(text.contains("package = \"pkg:npm/lodash\"\nversions = \"=4.17.20\""), "{text}");
    assert!(text.contains("who = \"Example PSIRT <psirt@example.com>\"\nwhen = 2024-05-01"), "{text}");

    let out = sluice()
        .arg("triage")
        .arg(root.join("deps.sarif"))
        .arg("--root")
        .arg(root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let log = parse(&out);
    let r = results(&log);
    assert!(is_suppressed(&r[0]), "not_affected with a justification suppresses");
    assert_eq!(r[0]["properties"]["sluice/triage"]["vex_justification"], "vulnerable_code_not_in_execute_path");
    assert!(!is_suppressed(&r[1]), "affected is recorded, not suppressed");
    assert_eq!(r[1]["properties"]["sluice/triage"]["vex_status"], "affected");
    assert!(
        !is_suppressed(&r[2]) && r[2]["properties"]["sluice/triage"].is_null(),
        "an unjustified not_affected was not imported"
    );

    let out = sluice()
        .args(["triage", "export", "--product", "pkg:npm/app@1.0.0", "--root"])
        .arg(root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let vex = parse(&out);
    assert_eq!(vex["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(vex["author"], "Ada Lovelace <ada@example.com>");
    let st = vex["statements"].as_array().unwrap();
    assert_eq!(st.len(), 2);
    assert_eq!(st[0]["status"], "not_affected");
    assert_eq!(st[0]["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(st[0]["products"][0]["subcomponents"][0]["@id"], "pkg:npm/lodash@4.17.20");
    assert_eq!(st[1]["status"], "affected");
    assert!(st[1]["action_statement"].as_str().unwrap().starts_with("upgrade lodash to 4.17.21"));
}
