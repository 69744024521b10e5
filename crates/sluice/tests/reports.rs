//! Every report format, parsed back by a real parser or checked against its documented shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

/// A normalized log with one secrets finding and one third-party finding with a CWE.
fn sample_log() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "import os\nx = eval(input())\n").unwrap();
    std::fs::write(
        dir.path().join("deploy.yml"),
        format!("token: {}\n", github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")),
    )
    .unwrap();
    let secrets = sluice().args(["scan", "secrets"]).arg(dir.path()).assert().success().get_output().stdout.clone();
    let tool = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"faketool","rules":[{"id":"EVAL1","shortDescription":{"text":"Use of eval"},"helpUri":"https://example.com/eval","help":{"text":"Parse the input instead of evaluating it."},"properties":{"tags":["CWE-95"]}}]}},"results":[{"ruleId":"EVAL1","level":"error","message":{"text":"eval of untrusted input: a, b"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"app.py"},"region":{"startLine":2,"startColumn":5,"endColumn":18}}}]}]}]}"#;
    let tool_path = dir.path().join("tool.sarif");
    std::fs::write(&tool_path, tool).unwrap();
    let secrets_path = dir.path().join("secrets.sarif");
    std::fs::write(&secrets_path, secrets).unwrap();
    let merged = sluice()
        .args(["merge", "--root"])
        .arg(dir.path())
        // A merged file fills no built-in stage unless named for it (docs/policy.md).
        .arg(format!("--fills=secrets={}", secrets_path.display()))
        .arg(&tool_path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    (dir, merged)
}

fn report(format: &str, log: &[u8], root: &std::path::Path) -> String {
    let out =
        sluice().args(["report", "--format", format, "--root"]).arg(root).write_stdin(log.to_vec()).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn text_shows_location_code_and_help() {
    let (dir, log) = sample_log();
    let text = report("text", &log, dir.path());
    assert!(text.contains("high[EVAL1]: Use of eval"), "{text}");
    assert!(text.contains("--> app.py:2:5"), "{text}");
    assert!(text.contains("x = eval(input())"), "the source line: {text}");
    assert!(text.contains("^^^^^^^^^^^^^"), "carets under the region: {text}");
    assert!(text.contains("help: Parse the input instead"), "{text}");
    assert!(text.contains("2 findings: 1 critical, 1 high"), "{text}");
    // It teaches how to record a false positive, with the finding's own fingerprint.
    let log_json = parse(&log);
    let fp = fingerprint(&results(&log_json)[0]);
    assert!(text.contains(&format!("if wrong: sluice triage mark {fp} --status false_positive")), "{text}");
}

#[test]
fn junit_is_well_formed_xml_with_a_failure_per_finding() {
    let (dir, log) = sample_log();
    let xml = report("junit", &log, dir.path());
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(doc.root_element().attribute("failures"), Some("2"));
    let suites: Vec<_> =
        doc.descendants().filter(|n| n.has_tag_name("testsuite")).filter_map(|n| n.attribute("name")).collect();
    assert!(suites.contains(&"sluice/secrets") && suites.contains(&"sluice/faketool"), "{suites:?}");
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    let (dir, log) = sample_log();
    let text = report("github", &log, dir.path());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert!(line.starts_with("::error file="), "{line}");
        let (props, _message) = line[2..].split_once("::").expect("a message part");
        assert!(props.contains(",line="), "{line}");
    }
    // Commas and colons in values are escaped so GitHub does not split them.
    let eval = lines.iter().find(|l| l.contains("EVAL1")).unwrap();
    assert!(
        eval.contains(
            "file=app.py,line=2,col=5,endColumn=18,title=EVAL1 (high)%3A Use of eval::eval of untrusted input: a, b"
        ),
        "{eval}"
    );
}

#[test]
fn gitlab_sast_report_has_the_required_fields() {
    let (dir, log) = sample_log();
    let doc = parse(report("gitlab-sast", &log, dir.path()).as_bytes());
    assert_eq!(doc["version"], "15.0.7");
    assert_eq!(doc["scan"]["type"], "sast");
    assert_eq!(doc["scan"]["status"], "success");
    let time = doc["scan"]["start_time"].as_str().unwrap();
    assert_eq!(time.len(), 19, "YYYY-MM-DDTHH:MM:SS: {time}");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 2);
    for v in vulns {
        assert_eq!(v["id"].as_str().unwrap().len(), 36);
        assert!(["Critical", "High", "Medium", "Low", "Info", "Unknown"].contains(&v["severity"].as_str().unwrap()));
        assert!(v["location"]["file"].is_string() && v["location"]["start_line"].is_u64());
        assert!(!v["identifiers"].as_array().unwrap().is_empty());
    }
    let eval = vulns.iter().find(|v| v["location"]["file"] == "app.py").unwrap();
    assert!(eval["identifiers"].as_array().unwrap().iter().any(|i| i["type"] == "cwe" && i["value"] == "95"));
    // Ids are stable across runs: GitLab tracks findings by them.
    let again = parse(report("gitlab-sast", &log, dir.path()).as_bytes());
    assert_eq!(doc["vulnerabilities"], again["vulnerabilities"]);
}

#[test]
fn markdown_and_json_reports() {
    let (dir, log) = sample_log();
    let md = report("markdown", &log, dir.path());
    assert!(md.contains("| Severity | Rule | Location | Message |"), "{md}");
    assert!(md.contains("[`EVAL1`](https://example.com/eval)"), "{md}");
    assert!(md.contains("<details><summary>How to fix</summary>"), "{md}");
    assert!(md.contains("#### New findings"), "without a baseline every finding is new: {md}");
    assert!(md.contains("sluice triage mark ") && md.contains("--status false_positive"), "{md}");
    let json = parse(report("json", &log, dir.path()).as_bytes());
    assert_eq!(json["version"], 1);
    assert_eq!(json["counts"]["critical"], 1);
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
}

/// `sluice run --format sarif` prints results.sarif byte for byte; `report` and `triage`, given
/// no file and nothing piped in, read it as `gate` does; an empty pipe says which file to name.
#[test]
fn report_and_triage_read_the_last_run_when_nothing_is_piped() {
    let repo = tempfile::tempdir().unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.path().join("config.yml"), format!("token: {token}\n")).unwrap();
    let run = sluice().args(["run", "--stages", "secrets", "--format", "sarif"]).arg(repo.path()).assert().success();
    let written = std::fs::read(repo.path().join("sluice-out/results.sarif")).unwrap();
    assert!(run.get_output().stdout == written, "stdout is not results.sarif");
    assert_eq!(results(&parse(&written)).len(), 1);

    // stdin /dev/null, as on a terminal: nothing piped in.
    let no_stdin = |dir: &std::path::Path, command: &str| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("sluice"))
            .env("NO_COLOR", "1")
            .arg(command)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let report = no_stdin(repo.path(), "report");
    assert!(report.status.success(), "{report:?}");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&report.stdout).into_owned(), String::from_utf8_lossy(&report.stderr).into_owned());
    assert!(stdout.contains("github-pat-classic"), "{stdout}");
    assert!(stderr.contains("sluice-out/results.sarif (no SARIF file given, none piped in)"), "{stderr}");

    let triage = no_stdin(repo.path(), "triage");
    assert!(triage.status.success(), "{triage:?}");
    assert_eq!(results(&parse(&triage.stdout)).len(), 1);

    // Piped but empty (a CI step's stdin): an error naming the file to give.
    let empty = sluice().current_dir(repo.path()).arg("report").write_stdin("").assert().code(2);
    let stderr = String::from_utf8_lossy(&empty.get_output().stderr).into_owned();
    assert!(stderr.contains("`sluice report sluice-out/results.sarif`"), "{stderr}");
    // No run yet: says what to do.
    let fresh = tempfile::tempdir().unwrap();
    let none = no_stdin(fresh.path(), "report");
    assert_eq!(none.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&none.stderr).into_owned();
    assert!(stderr.contains("run `sluice run` first"), "{stderr}");
}

/// `-f` is `--format` and `-o FILE` writes the report to a file instead of stdout, for `run`
/// and `report` alike (as trivy's and semgrep's users expect).
#[test]
fn short_format_and_output_file() {
    let repo = tempfile::tempdir().unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.path().join("config.yml"), format!("token: {token}\n")).unwrap();
    let report = repo.path().join("reports/run.sarif");
    let run = sluice()
        .args(["run", "--stages", "secrets", "-f", "sarif", "-o"])
        .arg(&report)
        .arg(repo.path())
        .assert()
        .success();
    assert!(run.get_output().stdout.is_empty(), "the report went to the file, not stdout");
    assert!(std::fs::read(&report).unwrap() == std::fs::read(repo.path().join("sluice-out/results.sarif")).unwrap());
    let json = repo.path().join("report.json");
    let out = sluice()
        .args(["report", "-f", "json", "--output"])
        .arg(&json)
        .arg(repo.path().join("sluice-out/results.sarif"))
        .assert()
        .success();
    assert!(out.get_output().stdout.is_empty());
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains("github-pat-classic") && !text.contains(&token[4..20]), "{text}");
    serde_json::from_str::<serde_json::Value>(&text).expect("a JSON report");
}

/// `-q/--quiet`: the report as usual, nothing else on stderr unless something needs attention.
#[test]
fn quiet_runs_print_only_what_needs_attention() {
    let repo = tempfile::tempdir().unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.path().join("config.yml"), format!("token: {token}\n")).unwrap();
    let loud = sluice().args(["run", "--stages", "secrets"]).arg(repo.path()).assert().success();
    let loud_err = String::from_utf8_lossy(&loud.get_output().stderr).into_owned();
    assert!(loud_err.contains("results: ") && loud_err.contains("secrets"), "{loud_err}");
    let quiet = sluice().args(["run", "-q", "--stages", "secrets"]).arg(repo.path()).assert().success();
    let stderr = String::from_utf8_lossy(&quiet.get_output().stderr).into_owned();
    assert_eq!(stderr, "", "quiet");
    assert!(String::from_utf8_lossy(&quiet.get_output().stdout).contains("github-pat-classic"));
    // A stage that fails is still said.
    std::fs::write(repo.path().join("sluice.toml"), "[stages.broken]\ncommand = [\"false\"]\n").unwrap();
    let failed = sluice().args(["run", "--quiet", "--stages", "broken"]).arg(repo.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    assert!(stderr.contains("broken") && stderr.contains("fail"), "{stderr}");
}
