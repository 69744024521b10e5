//! Issue 15, items 1 and 2: a credential must not leave sluice through another stage's finding
//! on the same line, nor through a third-party secrets scanner's log, in any format or file.
//! Each test is the attack: a hostile repository or SARIF log made here, the real binary run on
//! it, and every byte sluice prints or writes searched for the credential.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{git, github_token, sluice};

const FORMATS: &[&str] = &["text", "json", "sarif", "junit", "markdown", "github", "gitlab-sast"];

/// Every file under `dir` (sluice-out, .sluice, anything sluice wrote), as lossy text.
fn written_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        out.push((entry.display().to_string(), text));
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Fails naming where the credential showed up.
fn assert_absent(secret: &str, place: &str, text: &str) {
    if let Some(at) = text.find(secret) {
        let lo = text[..at].char_indices().rev().nth(80).map_or(0, |(i, _)| i);
        panic!("the credential leaks in {place}: …{}…", &text[lo..(at + secret.len()).min(text.len())]);
    }
}

/// Runs `sluice report` in every format on `log` and checks none prints `secret`.
fn assert_reports_clean(secret: &str, log: &[u8], root: &Path) {
    for format in FORMATS {
        let out = sluice()
            .args(["report", "--format", format, "--root"])
            .arg(root)
            .write_stdin(log.to_vec())
            .output()
            .unwrap();
        assert_absent(
            secret,
            &format!("`sluice report --format {format}` stdout"),
            &String::from_utf8_lossy(&out.stdout),
        );
        assert_absent(
            secret,
            &format!("`sluice report --format {format}` stderr"),
            &String::from_utf8_lossy(&out.stderr),
        );
    }
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    dir
}

#[test]
fn a_secret_on_the_line_of_another_stages_finding_is_never_printed_or_stored() {
    let token = github_token("a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5");
    let dir = repo();
    let root = dir.path();
    // The TLS-verification finding (SAST) and the Dockerfile `curl | sh` finding (container)
    // both quote the line that holds the token.
    std::fs::write(
        root.join("client.py"),
        format!(
            "import requests\n\n\ndef fetch(u):\n    return requests.get(u, headers={{\"Authorization\": \"token {token}\"}}, verify=False)\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("Dockerfile"),
        format!("FROM debian:12\nRUN curl -H \"Authorization: token {token}\" https://get.example.com/install.sh | sh\nUSER app\n"),
    )
    .unwrap();
    std::fs::write(root.join("sluice.toml"), "[run]\nstages = [\"secrets\", \"sast\", \"container\"]\n").unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "init"]);

    let out = sluice().arg("run").arg(root).current_dir(root).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The attack only means something if the other stages did report those lines.
    let log = std::fs::read(root.join("sluice-out/results.sarif")).expect("results.sarif written");
    let parsed = common::parse(&log);
    let rules: Vec<String> =
        common::results(&parsed).iter().map(|r| r["ruleId"].as_str().unwrap_or_default().to_owned()).collect();
    assert!(rules.iter().any(|r| r.contains("verify") || r.contains("tls")), "a TLS finding: {rules:?}");
    assert!(rules.iter().any(|r| r.contains("curl") || r.contains("pipe")), "a curl | sh finding: {rules:?}");
    assert!(rules.iter().any(|r| r == "github-pat" || r.starts_with("github")), "the token itself: {rules:?}");

    assert_absent(&token, "`sluice run` stdout", &stdout);
    assert_absent(&token, "`sluice run` stderr", &stderr);
    for (path, text) in written_files(&root.join("sluice-out")) {
        assert_absent(&token, &path, &text);
    }
    assert_reports_clean(&token, &log, root);
}

/// A gitleaks log as gitleaks 8 writes it: rule ids without "secret" and no CWE, the secret in
/// the snippet (or `REDACTED` with `--redact`), and here also in a related location, a code
/// flow, the message, a property and the rule's own text.
fn gitleaks_log(token: &str, snippet: &str) -> String {
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gitleaks", "semanticVersion": "v8.30.1", "rules": [
                {"id": "github-pat", "name": "github-pat", "shortDescription": {"text": "Uncovered a GitHub Personal Access Token, potentially leading to unauthorized repository access and sensitive content exposure."},
                 "help": {"text": format!("seen as {token}")}},
                {"id": "aws-access-token", "name": "aws-access-token", "shortDescription": {"text": "Identified a pattern that may indicate AWS credentials"}}
            ]}},
            "results": [{
                "ruleId": "github-pat",
                "message": {"text": format!("github-pat has detected secret for file config.py at commit . Secret: {token}")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "config.py"},
                    "region": {"startLine": 2, "startColumn": 9, "endLine": 2, "endColumn": 49, "snippet": {"text": snippet}}
                }}],
                "relatedLocations": [{"id": 1, "physicalLocation": {
                    "artifactLocation": {"uri": "config.py"},
                    "region": {"startLine": 2, "snippet": {"text": format!("TOKEN = \"{token}\"")}}
                }, "message": {"text": format!("copy of {token}")}}],
                "codeFlows": [{"threadFlows": [{"locations": [{"location": {
                    "physicalLocation": {"artifactLocation": {"uri": "config.py"}, "region": {"startLine": 2, "snippet": {"text": token}}},
                    "message": {"text": format!("flows from {token}")}
                }}]}]}],
                "partialFingerprints": {"commitSha": "", "email": "", "author": "", "date": "", "commitMessage": ""},
                "properties": {"tags": [], "secret": token, token: "as a key"}
            }]
        }]
    })
    .to_string()
}

#[test]
fn a_third_party_secrets_log_never_leaks_its_secret_through_merge_or_any_report() {
    let token = github_token("Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5");
    let dir = repo();
    let root = dir.path();
    // The file the log points at holds the token: `--redact` logs say REDACTED, and a report
    // that reads the line back from disk would print it.
    std::fs::write(root.join("config.py"), format!("import os\nTOKEN = \"{token}\"\n")).unwrap();
    for snippet in [token.clone(), "REDACTED".to_owned()] {
        let input = root.join("gitleaks.sarif");
        std::fs::write(&input, gitleaks_log(&token, &snippet)).unwrap();
        let out = sluice().args(["merge", "--root"]).arg(root).arg(&input).output().unwrap();
        assert!(out.status.success(), "merge: {}", String::from_utf8_lossy(&out.stderr));
        assert_absent(&token, "`sluice merge` output", &String::from_utf8_lossy(&out.stdout));
        assert_reports_clean(&token, &out.stdout, root);
        // A raw, never-merged log given straight to the reports is no different.
        assert_reports_clean(&token, gitleaks_log(&token, &snippet).as_bytes(), root);
        // Nor to the gate, which streams a log result by result, or to the policy input.
        for args in [&["gate", "--profile", "velocity", "--root"][..], &["policy", "input", "--root"][..]] {
            for log in [&out.stdout, &gitleaks_log(&token, &snippet).into_bytes()] {
                let gated = sluice().args(args).arg(root).write_stdin(log.clone()).output().unwrap();
                assert_absent(&token, &format!("`sluice {}` stdout", args[0]), &String::from_utf8_lossy(&gated.stdout));
                assert_absent(&token, &format!("`sluice {}` stderr", args[0]), &String::from_utf8_lossy(&gated.stderr));
            }
        }
    }
}

#[test]
fn a_credential_in_a_file_name_is_not_printed_by_findings_on_that_file() {
    let token = github_token("qW7rT2yU9iO4pA6sD1fG8hJ3kL5zX0");
    let dir = repo();
    let root = dir.path();
    let name = format!("{token}.py");
    std::fs::write(root.join(&name), "import requests\n\n\ndef fetch(u):\n    return requests.get(u, verify=False)\n")
        .unwrap();
    std::fs::write(root.join("sluice.toml"), "[run]\nstages = [\"sast\"]\n").unwrap();
    let out = sluice().arg("run").arg(root).current_dir(root).output().unwrap();
    let log = std::fs::read(root.join("sluice-out/results.sarif")).expect("results.sarif written");
    assert!(!common::results(&common::parse(&log)).is_empty(), "the TLS finding on the file is reported");
    assert_absent(&token, "`sluice run` stdout", &String::from_utf8_lossy(&out.stdout));
    assert_absent(&token, "`sluice run` stderr", &String::from_utf8_lossy(&out.stderr));
    for (path, text) in written_files(&root.join("sluice-out")) {
        assert_absent(&token, &path, &text);
    }
    assert_reports_clean(&token, &log, root);
}
