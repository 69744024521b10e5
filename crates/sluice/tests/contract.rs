//! The stage contract, end to end through the real binary: SARIF out, exit codes, failures
//! contained, fingerprints stable, output valid and deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/vulnerable-app");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_name() == "sluice-out" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(EXAMPLE), dir.path());
    dir
}

/// A SARIF log from a made-up external tool with one result at `line` of `path`.
fn tool_log(rule: &str, path: &str, line: u32) -> String {
    format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"faketool","rules":[{{"id":"{rule}","properties":{{"tags":["CWE-95"],"vendor-key":"kept"}}}}]}}}},"results":[{{"ruleId":"{rule}","level":"warning","message":{{"text":"eval of input"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":{line}}}}}}}],"properties":{{"tool-score":3}}}}]}}]}}"#
    )
}

#[test]
fn scan_secrets_writes_valid_sarif_with_the_contract_fields() {
    let repo = example_copy();
    let out = sluice().args(["scan", "secrets"]).arg(repo.path()).assert().success().get_output().stdout.clone();
    let log = parse(&out);
    let results = results(&log);
    assert!(!results.is_empty(), "the example has fake secrets");
    for r in &results {
        let props = &r["properties"];
        assert_eq!(props["sluice/stage"], "secrets");
        assert!(props["security-severity"].as_str().unwrap().parse::<f64>().is_ok());
        assert!(props["sluice/severity-source"].is_string());
        assert_eq!(props["sluice/cwe"][0], "CWE-798");
        assert!(fingerprint(r).contains(':'));
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    let file = repo.path().join("scan.sarif");
    std::fs::write(&file, &out).unwrap();
    assert_valid(&file);
}

#[test]
fn secrets_never_appear_in_any_output() {
    let repo = tempfile::tempdir().unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.path().join("config.yml"), format!("token: {token}\n")).unwrap();
    let run = sluice().arg("run").arg(repo.path()).assert().success();
    let output = run.get_output();
    let sarif = std::fs::read_to_string(repo.path().join("sluice-out/results.sarif")).unwrap();
    assert!(sarif.contains("github-pat-classic"), "the token is found");
    for text in [
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        sarif.clone(),
    ] {
        assert!(!text.contains(&token), "the secret leaked:\n{text}");
        assert!(!text.contains(&token[4..20]), "part of the secret leaked");
    }
    for format in ["json", "junit", "markdown", "github", "gitlab-sast", "text"] {
        let out = sluice().args(["report", "--format", format]).write_stdin(sarif.clone()).assert().success();
        assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains(&token[4..20]), "{format} leaked");
    }
}

#[test]
fn run_writes_valid_deterministic_results_and_a_summary() {
    let repo = example_copy();
    let first = sluice().arg("run").arg(repo.path()).assert().success();
    let stdout = String::from_utf8_lossy(&first.get_output().stdout).into_owned();
    assert!(stdout.contains("-->"), "a cargo-style location: {stdout}");
    assert!(stdout.contains("help:"), "what to do: {stdout}");
    assert!(stdout.contains("findings:") || stdout.contains("finding:"), "{stdout}");
    let results = repo.path().join("sluice-out/results.sarif");
    let a = std::fs::read(&results).unwrap();
    assert_valid(&results);
    sluice().arg("run").arg(repo.path()).assert().success();
    let b = std::fs::read(&results).unwrap();
    assert_eq!(a, b, "two runs over the same tree give byte-identical SARIF");
}

#[test]
fn piped_stages_accumulate_runs_and_merge_and_report_stay_valid() {
    let repo = example_copy();
    let dir = repo.path();
    let first = sluice().args(["scan", "secrets"]).arg(dir).assert().success().get_output().stdout.clone();
    let second = sluice()
        .args(["scan", "secrets"])
        .arg(dir)
        .write_stdin(first.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(parse(&second)["runs"].as_array().unwrap().len(), 2, "stdin runs are passed through");

    let tool = dir.join("tool.sarif");
    std::fs::write(&tool, tool_log("EVAL1", "app/views.py", 38)).unwrap();
    let scan = dir.join("scan.sarif");
    std::fs::write(&scan, &first).unwrap();
    let merged = sluice()
        .args(["merge", "--root"])
        .arg(dir)
        .arg(&scan)
        .arg(&tool)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let merged_path = dir.join("merged.sarif");
    std::fs::write(&merged_path, &merged).unwrap();
    assert_valid(&merged_path);
    let log = parse(&merged);
    assert_eq!(log["runs"].as_array().unwrap().len(), 2);
    // Input order does not matter.
    let reversed = sluice()
        .args(["merge", "--root"])
        .arg(dir)
        .arg(&tool)
        .arg(&scan)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(merged, reversed);

    let reported =
        sluice().args(["report", "--format", "sarif"]).arg(&merged_path).assert().success().get_output().stdout.clone();
    let reported_path = dir.join("reported.sarif");
    std::fs::write(&reported_path, &reported).unwrap();
    assert_valid(&reported_path);
    assert_eq!(results(&parse(&reported)).len(), results(&log).len());
}

#[test]
fn fingerprints_survive_inserted_lines_and_change_with_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fp = |code_line: u32| {
        let log = root.join("tool.sarif");
        std::fs::write(&log, tool_log("EVAL1", "src/app.py", code_line)).unwrap();
        let out = sluice().args(["merge", "--root"]).arg(root).arg(&log).assert().success().get_output().stdout.clone();
        fingerprint(&results(&parse(&out))[0])
    };
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/app.py"), "import os\n\nresult = eval(user_input)\n").unwrap();
    let before = fp(3);

    let padding: String = (0..20).map(|i| format!("# unrelated line {i}\n")).collect();
    std::fs::write(root.join("src/app.py"), format!("import os\n{padding}\nresult = eval(user_input)\n")).unwrap();
    let after_insert = fp(23);
    assert_eq!(before, after_insert, "20 lines inserted above do not change the fingerprint");

    std::fs::write(root.join("src/app.py"), format!("import os\n{padding}\n    result  =  eval( user_input )\n"))
        .unwrap();
    assert_eq!(before, fp(23), "re-indenting does not change it either");

    std::fs::write(root.join("src/app.py"), format!("import os\n{padding}\nresult = eval(other_input)\n")).unwrap();
    assert_ne!(before, fp(23), "changing the flagged code changes it");
}

#[test]
fn secret_fingerprints_follow_the_secret_not_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let other = github_token("Pq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let fp = |body: &str| {
        std::fs::write(dir.path().join("settings.yml"), body).unwrap();
        let out = sluice().args(["scan", "secrets"]).arg(dir.path()).assert().success().get_output().stdout.clone();
        let results = results(&parse(&out));
        assert_eq!(results.len(), 1, "{results:?}");
        fingerprint(&results[0])
    };
    let before = fp(&format!("token: {token}\n"));
    let padding: String = (0..20).map(|i| format!("key{i}: value\n")).collect();
    assert_eq!(before, fp(&format!("{padding}token: {token}\n")));
    assert_ne!(before, fp(&format!("{padding}token: {other}\n")));
}

/// A wrong command line is not a failed stage: its own exit code (64, sysexits' EX_USAGE), and a
/// suggestion for a mistyped command, including the transpositions clap's own misses.
#[test]
fn a_wrong_command_line_exits_64_and_a_typo_gets_a_suggestion() {
    sluice()
        .arg("rnu")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("unrecognized subcommand 'rnu'"))
        .stderr(predicate::str::contains("a similar subcommand exists: 'run'"));
    sluice().arg("gtae").assert().code(64).stderr(predicate::str::contains("'gate'"));
    // Nothing close: no made-up suggestion.
    sluice()
        .arg("frobnicate")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("unrecognized subcommand 'frobnicate'"))
        .stderr(predicate::str::contains("similar").not());
    sluice()
        .args(["run", "--formt", "json"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("a similar argument exists: '--format'"));
    sluice().args(["run", "--format", "yaml"]).assert().code(64).stderr(predicate::str::contains("yaml"));
    // Help and version are answers, not errors.
    sluice().arg("--help").assert().code(0).stdout(predicate::str::contains("64 the command line was wrong"));
    sluice().arg("--version").assert().code(0);
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    sluice()
        .arg("merge")
        .write_stdin("this is not json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stdin: not valid JSON at line 1"));
    sluice().arg("report").write_stdin("").assert().code(2).stderr(predicate::str::contains("empty input"));
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.sarif");
    std::fs::write(&empty, "").unwrap();
    sluice()
        .arg("merge")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("empty.sarif: empty input where a SARIF log was expected"));
    sluice()
        .args(["scan", "secrets"])
        .arg(dir.path())
        .write_stdin(vec![0xff, 0xfe, 0x00, 0x12])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stdin"));
    sluice()
        .arg("report")
        .write_stdin(r#"{"version":"2.0.0","runs":[]}"#)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SARIF version 2.0.0 is not supported"));
    sluice()
        .args(["scan", "nosuchstage"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown stage `nosuchstage`"));
    sluice().args(["run", "/nonexistent/dir"]).assert().code(2).stderr(predicate::str::contains("/nonexistent/dir"));
}

#[test]
fn one_broken_log_does_not_hide_the_others_in_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sarif");
    std::fs::write(&good, tool_log("R1", "a.py", 1)).unwrap();
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, "{ truncated").unwrap();
    let out = sluice().args(["merge", "--root"]).arg(dir.path()).arg(&good).arg(&bad).assert().code(2);
    let log = parse(&out.get_output().stdout);
    assert_eq!(results(&log).len(), 1, "the good log's result is kept");
    let text = log.to_string();
    assert!(text.contains("bad.sarif") && text.contains("executionSuccessful\":false"), "{text}");
}

/// A repository whose sluice.toml defines the given external stages next to a good one.
fn repo_with_stages(stages: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "x = eval(input())\n").unwrap();
    std::fs::write(dir.path().join("good.sarif"), tool_log("EVAL1", "app.py", 1)).unwrap();
    let config = format!("[stages.good]\ncommand = \"cat good.sarif\"\n\n{stages}");
    std::fs::write(dir.path().join("sluice.toml"), config).unwrap();
    dir
}

fn failure_of(log: &serde_json::Value, tool: &str) -> String {
    let run = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"]["driver"]["name"] == tool)
        .unwrap_or_else(|| panic!("no run for {tool}: {log}"));
    let inv = run["invocations"]
        .as_array()
        .expect("invocations")
        .iter()
        .find(|i| i["executionSuccessful"] == false)
        .expect("a failed invocation");
    inv["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap().to_owned()
}

#[test]
fn hanging_crashing_and_lying_stages_fail_alone() {
    let repo = repo_with_stages(
        r#"
[stages.hang]
command = ["sh", "-c", "sleep 1000"]
timeout = "1s"

[stages.segv]
command = ["sh", "-c", "exit 139"]

[stages.signal]
command = ["sh", "-c", "kill -SEGV $$"]

[stages.garbage]
command = ["sh", "-c", "echo not sarif at all"]

[stages.missing]
command = "no-such-tool-sluice-test --sarif"
"#,
    );
    let started = std::time::Instant::now();
    let out = sluice().arg("run").arg(repo.path()).assert().code(2);
    assert!(started.elapsed().as_secs() < 60, "the hanging stage was stopped by its timeout");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for name in ["hang", "segv", "signal", "garbage", "missing"] {
        assert!(stderr.contains(&format!("stage `{name}` failed")), "{name} reported: {stderr}");
    }
    let log = parse(&std::fs::read(repo.path().join("sluice-out/results.sarif")).unwrap());
    let good: Vec<_> = results(&log).into_iter().filter(|r| r["properties"]["sluice/stage"] == "good").collect();
    assert_eq!(good.len(), 1, "the good stage's result is written");
    assert!(failure_of(&log, "hang").contains("timed out after 1s"));
    assert!(
        failure_of(&log, "segv").contains("exited with status 139") && failure_of(&log, "segv").contains("signal 11")
    );
    assert!(failure_of(&log, "signal").contains("killed by signal 11"));
    assert!(failure_of(&log, "garbage").contains("invalid SARIF"));
    assert!(failure_of(&log, "missing").contains("not found"));
    assert_valid(&repo.path().join("sluice-out/results.sarif"));
}

#[test]
fn config_errors_name_the_file_and_key() {
    let repo = repo_with_stages("[stages.bad]\ncommand = \"x\"\ntimeout = \"soon\"\n");
    sluice()
        .arg("run")
        .arg(repo.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sluice.toml: stage `bad`: `timeout = \"soon\"`"));
}

#[test]
fn a_200_mb_log_merges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sarif");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        write!(f, r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"bigtool"}}}},"results":["#).unwrap();
        let filler = "x".repeat(300);
        let mut written = 0usize;
        let mut i = 0u32;
        while written < 200 * 1024 * 1024 {
            let item = format!(
                r#"{}{{"ruleId":"R{}","message":{{"text":"finding {i} {filler}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/f{}.py"}},"region":{{"startLine":{}}}}}}}]}}"#,
                if i == 0 { "" } else { "," },
                i % 50,
                i % 1000,
                i % 5000 + 1
            );
            written += item.len();
            f.write_all(item.as_bytes()).unwrap();
            i += 1;
        }
        write!(f, "]}}]}}").unwrap();
    }
    let out = sluice().args(["merge", "--root"]).arg(dir.path()).arg(&path).assert().success();
    let stdout = &out.get_output().stdout;
    assert!(stdout.len() > 200 * 1024 * 1024);
    let tail = String::from_utf8_lossy(&stdout[stdout.len() - 200..]).into_owned();
    assert!(tail.trim_end().ends_with("]}"), "complete output: {tail}");
}

#[test]
fn diff_aware_runs_see_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    std::fs::write(root.join("old.yml"), format!("token: {}\n", github_token("Aq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")))
        .unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "old"]);
    git(root, &["checkout", "-qb", "feature"]);
    std::fs::write(root.join("new.yml"), format!("token: {}\n", github_token("Bq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")))
        .unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "new"]);
    std::fs::write(root.join("untracked.yml"), format!("token: {}\n", github_token("Cq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")))
        .unwrap();

    let paths = |args: &[&str]| {
        let out = sluice().args(args).arg(root).assert().success().get_output().stdout.clone();
        let mut p: Vec<String> = results(&parse(&out))
            .iter()
            .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().to_owned())
            .collect();
        p.sort();
        p
    };
    assert_eq!(paths(&["scan", "secrets"]), ["new.yml", "old.yml", "untracked.yml"]);
    assert_eq!(paths(&["scan", "secrets", "--since", "main"]), ["new.yml", "untracked.yml"]);
    git(root, &["add", "untracked.yml"]);
    assert_eq!(paths(&["scan", "secrets", "--staged"]), ["untracked.yml"]);
    let list = root.join("list.txt");
    std::fs::write(&list, "old.yml\n").unwrap();
    let mut cmd = sluice();
    cmd.args(["scan", "secrets", "--changed-files"]).arg(&list);
    let out = cmd.arg(root).assert().success().get_output().stdout.clone();
    assert_eq!(results(&parse(&out)).len(), 1);

    sluice()
        .args(["scan", "secrets", "--since", "no-such-ref"])
        .arg(root)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown git ref `no-such-ref`"));
}

#[test]
fn no_stage_leaks_a_hard_coded_secret_through_its_snippets() {
    // The example has a fake AWS secret that the secrets stage redacts and the SAST
    // hard-coded-credential rule also flags: neither may put it in results.sarif.
    let repo = example_copy();
    sluice().arg("run").arg(repo.path()).assert().success();
    let sarif = std::fs::read_to_string(repo.path().join("sluice-out/results.sarif")).unwrap();
    for secret in [
        "k9Jx2Lq7Vn4Rt8Wz1Yb6Hc3Fd5Gs0Pm2Ua7Ne4Qz",
        "Tq8vZr2mKx7pLw4n",
        "sk_live_51Hq8ZxKp3VtR7mW2nB4cY6dF9gJ1kL5sT8uA0eX3zQ7wN2vM4bC6",
    ] {
        assert!(!sarif.contains(secret), "{secret} leaked into results.sarif");
    }
}

/// One flaw, one finding: a credential the secrets stage reports is not reported again by
/// SAST's hard-coded-password rule on the same span; an allow comment covers every credential
/// rule on its line, and only its line.
#[test]
fn a_credential_is_one_finding_and_an_allow_comment_covers_its_line_only() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("settings.py"),
        "import boto3\n\
         AWS_ACCESS_KEY_ID = \"AKIAZ7VRSQ5TJN2XK4PB\"\n\
         aws_secret_access_key = \"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\"  # sluice:allow rotated in 2024\n\
         password = \"Xk9#mP2vL8qR4wZ7nB3j\"\n",
    )
    .unwrap();
    git(repo.path(), &["init", "-q"]);
    let found = |log: &[u8]| -> Vec<(String, u64, Option<String>)> {
        let mut out: Vec<_> = results(&parse(log))
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap(),
                    r["suppressions"][0]["justification"].as_str().map(str::to_owned),
                )
            })
            .collect();
        out.sort();
        out
    };
    // SAST alone: its credential rule honours the allow comment on that line only.
    let sast = sluice().args(["scan", "sast"]).arg(repo.path()).assert().success();
    assert_eq!(
        found(&sast.get_output().stdout),
        [
            ("python.hardcoded-password".to_owned(), 3, Some("rotated in 2024".to_owned())),
            ("python.hardcoded-password".to_owned(), 4, None),
        ]
    );
    // The whole run: each credential once, from the secrets stage; line 4 is not allowed by
    // line 3's comment.
    let run =
        sluice().args(["run", "--stages", "secrets,sast", "--format", "sarif"]).arg(repo.path()).assert().success();
    assert_eq!(
        found(&run.get_output().stdout),
        [
            ("aws-access-key-id".to_owned(), 2, None),
            ("aws-secret-access-key".to_owned(), 3, Some("rotated in 2024".to_owned())),
            ("generic-password".to_owned(), 4, None),
        ]
    );
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("2 finding(s) of other stages about a credential"), "{stderr}");
}
