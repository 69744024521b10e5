//! Recall of the secrets stage through the real binary (issue 15): sluice's own output is not
//! a finding, a secret used as a file name is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;

fn uri(result: &serde_json::Value) -> String {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or_default().to_owned()
}

fn results_of(repo: &Path) -> Vec<serde_json::Value> {
    results(&parse(&std::fs::read(repo.join("sluice-out/results.sarif")).unwrap()))
}

#[test]
fn a_second_run_does_not_report_sluice_s_own_output_or_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    // A hard-coded password: the SAST rule's help, with its "Flagged:" example, goes into every
    // log and baseline sluice writes from now on.
    std::fs::write(repo.join("app.py"), "import os\nDB_PASSWORD = 'Xk9mQ2vL7pR4tZ8w'\n").unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "app"]);
    sluice().args(["run", "--stages", "secrets,sast"]).arg(repo).assert().success();
    sluice().args(["baseline", "--stages", "secrets,sast"]).arg(repo).assert().success();
    assert!(repo.join(".sluice/baseline.sarif").is_file());
    // A report kept next to the results; a CI artifact restore drops the dot-file `.gitignore`.
    let report = sluice()
        .args(["report", "--format", "sarif"])
        .arg(repo.join("sluice-out/results.sarif"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    std::fs::write(repo.join("sluice-out/report.sarif"), report).unwrap();
    std::fs::remove_file(repo.join("sluice-out/.gitignore")).unwrap();
    // Decisions are written by people: they are still scanned.
    std::fs::write(
        repo.join(".sluice/triage.toml"),
        "# deploy: aws_secret_access_key = \"q8Zr2LkVw93NfTb5XcQeHm4Jp7YsT1uW6aEd0gFh\"\n",
    )
    .unwrap();

    sluice().args(["run", "--stages", "secrets,sast"]).arg(repo).assert().success();
    let uris: Vec<String> = results_of(repo).iter().map(uri).collect();
    let own: Vec<&String> =
        uris.iter().filter(|u| u.starts_with("sluice-out/") || u.as_str() == ".sluice/baseline.sarif").collect();
    assert!(own.is_empty(), "sluice reported its own output: {own:?}");
    assert!(uris.iter().any(|u| u == "app.py"), "{uris:?}");
    assert!(uris.iter().any(|u| u == ".sluice/triage.toml"), "the decisions file is still scanned: {uris:?}");
}

#[test]
fn a_secret_used_as_a_file_name_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let name = format!("{token}.txt");
    std::fs::write(repo.join(&name), "nothing to see\n").unwrap();
    let out = sluice().args(["scan", "secrets"]).arg(repo).assert().success().get_output().stdout.clone();
    let found = results(&parse(&out));
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!(r["ruleId"], "github-pat-classic");
    // The path is reported with the secret in it redacted, like every string sluice writes.
    assert_eq!(uri(r), "ghp_…(40 chars).txt", "{name} reported, redacted");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    let message = r["message"]["text"].as_str().unwrap();
    assert!(message.contains("name"), "the message says the secret is in the name: {message}");
    assert!(!message.contains(&token[4..20]), "{message}");
}

#[test]
fn history_and_staged_scans_see_names_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    // A small size cap: the file below is "oversized" without writing megabytes.
    std::fs::write(repo.join("sluice.toml"), "[stages.secrets]\nmax_file_size = 4096\n").unwrap();
    let named = github_token("Nq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let padded = github_token("Pq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.join(format!("{named}.key")), "x\n").unwrap();
    std::fs::write(repo.join("dump.txt"), format!("{}\ntoken: {padded}\n", "a".repeat(20_000))).unwrap();
    git(repo, &["add", "-A"]);
    let staged =
        sluice().args(["scan", "secrets", "--staged"]).arg(repo).assert().success().get_output().stdout.clone();
    let staged: Vec<(String, u64)> = results(&parse(&staged))
        .iter()
        .map(|r| (uri(r), r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap()))
        .collect();
    assert_eq!(staged, [("dump.txt".to_owned(), 2), ("ghp_…(40 chars).key".to_owned(), 1)], "{named}");
    git(repo, &["commit", "-qm", "leak"]);
    git(repo, &["rm", "-q", &format!("{named}.key"), "dump.txt"]);
    git(repo, &["commit", "-qm", "clean up"]);
    let history =
        sluice().args(["scan", "secrets", "--history"]).arg(repo).assert().success().get_output().stdout.clone();
    let mut found: Vec<String> = results(&parse(&history)).iter().map(uri).collect();
    found.sort();
    assert_eq!(found, ["dump.txt".to_owned(), "ghp_…(40 chars).key".to_owned()]);
}
