//! Issue 15 item 12 and part of 13, written as attacks: a hostile third-party SARIF log that
//! claims to be sluice's secrets stage and forges triage exceptions, an external stage that
//! claims a built-in stage by its tool name or category, a user policy with a nested field
//! typo, and an oversized log handed to the gate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

const NOW: &str = "2026-11-26T12:00:00Z";

fn gate(root: &Path, input: &Path, profile: &str) -> (i32, String) {
    gate_profile(root, input, profile, NOW)
}

/// A repository that needs only the secrets stage (no code, manifests or Dockerfiles).
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "nothing to see\n");
    write(dir.path(), "app/main.txt", "line one\nline two\n");
    dir
}

/// A critical finding with a forged in-source suppression, a forged sluice triage suppression
/// and a forged `sluice/triage` decision whose expiry is far in the future.
fn forged_critical() -> Value {
    json!({
        "ruleId": "rce",
        "level": "error",
        "message": {"text": "remote code execution"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/main.txt"}, "region": {"startLine": 1}}}],
        "partialFingerprints": {"sluice/v1": "0123456789abcdef0123456789abcdef:1"},
        "suppressions": [
            {"kind": "inSource", "status": "accepted", "justification": "sluice:ignore"},
            {"kind": "external", "status": "accepted", "justification": "reviewed",
             "properties": {"sluice/decision": ".sluice/triage.toml:1", "sluice/status": "accepted_risk",
                            "sluice/expires": "2099-01-01"}}
        ],
        "properties": {
            "security-severity": "9.8",
            "sluice/triage": {"status": "accepted_risk", "reason": "reviewed", "who": "attacker",
                              "when": "2026-01-01", "expires": "2099-01-01", "decision": ".sluice/triage.toml:1"}
        }
    })
}

/// The hostile log: a tool named `Secrets` (no category) that "ran clean", and a run with the
/// category of sluice's own secrets stage carrying the forged critical.
fn hostile_log() -> Value {
    json!({
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "Secrets"}}, "results": []},
            {"tool": {"driver": {"name": "totally-not-sluice"}},
             "automationDetails": {"id": "sluice/secrets/"},
             "results": [forged_critical()]}
        ]
    })
}

fn policy_input(root: &Path, input: &Path) -> Value {
    let out = sluice().args(["policy", "input", "--now", NOW, "--root"]).arg(root).arg(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn merge(root: &Path, args: &[&str], files: &[&Path]) -> PathBuf {
    let out = sluice().arg("merge").arg("--root").arg(root).args(args).args(files).output().unwrap();
    assert!(out.status.success(), "merge: {}", String::from_utf8_lossy(&out.stderr));
    write(root, "merged.sarif", &String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_merged_hostile_log_neither_fills_the_secrets_stage_nor_forges_an_exception() {
    let dir = repo();
    let hostile = write(dir.path(), "hostile.sarif", &hostile_log().to_string());
    let merged = merge(dir.path(), &[], &[&hostile]);

    let input = policy_input(dir.path(), &merged);
    let stages: Vec<&str> = input["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(!stages.contains(&"secrets"), "a third-party log claimed the secrets stage: {stages:?}");
    let critical = &input["results"][0];
    assert_eq!(critical["severity"], "critical");
    assert_eq!(critical["triage"], Value::Null, "a forged sluice/triage survived merge: {critical}");
    assert!(
        !critical["suppressions"].as_array().unwrap().iter().any(|s| s == "external"),
        "a suppression claiming to be a sluice triage decision survived merge: {critical}"
    );

    let (code, stderr) = gate(dir.path(), &merged, "constrained");
    assert_eq!(code, 1, "constrained must refuse: {stderr}");
    assert!(stderr.contains("stage `secrets` is required"), "{stderr}");
    assert!(stderr.contains("DENY [high-severity]"), "{stderr}");
    let (code, stderr) = gate(dir.path(), &merged, "velocity");
    assert_eq!(code, 1, "velocity requires the secrets stage too: {stderr}");
    assert!(stderr.contains("stage `secrets`"), "{stderr}");
}

#[test]
fn constrained_does_not_accept_an_in_source_suppression_with_a_forged_triage_expiry() {
    // Handed straight to the gate (no merge): the finding is suppressed only in source, and its
    // `sluice/triage` claims an expiring exception that no triage suppression backs.
    let dir = repo();
    let mut critical = forged_critical();
    critical["suppressions"] = json!([{"kind": "inSource", "status": "accepted", "justification": "sluice:ignore"}]);
    let log = json!({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "sluice-secrets"}}, "automationDetails": {"id": "sluice/secrets/"}, "results": []},
        {"tool": {"driver": {"name": "sluice-sast"}}, "automationDetails": {"id": "sluice/sast/"},
         "results": [critical]}
    ]});
    let path = write(dir.path(), "log.sarif", &log.to_string());
    let (code, stderr) = gate(dir.path(), &path, "constrained");
    assert_eq!(code, 1, "an in-source suppression is not an exception under constrained: {stderr}");
    assert!(stderr.contains("DENY [high-severity]"), "{stderr}");
}

#[test]
fn merge_fills_a_stage_only_when_told_to() {
    let dir = repo();
    let gitleaks = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gitleaks"}}, "results": []}]});
    let gitleaks = write(dir.path(), "gitleaks.sarif", &gitleaks.to_string());
    let merged = merge(dir.path(), &[], &[&gitleaks]);
    let (code, stderr) = gate(dir.path(), &merged, "constrained");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stage `secrets` is required"), "{stderr}");

    let merged = merge(dir.path(), &["--fills", &format!("secrets={}", gitleaks.display())], &[]);
    let (code, stderr) = gate(dir.path(), &merged, "constrained");
    assert_eq!(code, 0, "gitleaks named as the secrets stage on the command line fills it: {stderr}");
    let input = policy_input(dir.path(), &merged);
    assert_eq!(input["stages"][0]["name"], "secrets");
    assert_eq!(input["stages"][0]["tool"], "gitleaks");

    // Not a built-in stage: the command line is refused (64), nothing is merged.
    let out = sluice().args(["merge", "--fills", "lint=x.sarif"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("secrets"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `sluice run` with only an external stage, whose tool prints `log`.
fn run_with_external(dir: &Path, log: &Value, extra: &str) -> (i32, String) {
    write(dir, "tool.sarif", &log.to_string());
    let config = format!(
        "[stages.secrets]\nenabled = false\n[stages.sast]\nenabled = false\n[stages.deps]\nenabled = false\n\
         [stages.container]\nenabled = false\n[stages.scanner]\ncommand = [\"cat\", \"tool.sarif\"]\n{extra}"
    );
    write(dir, "sluice.toml", &config);
    let out = sluice().arg("run").arg(dir).output().unwrap();
    let code = out.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(code, 0, "sluice run: {stderr}");
    gate(dir, &dir.join("sluice-out/results.sarif"), "constrained")
}

#[test]
fn an_external_stage_fills_secrets_only_when_sluice_toml_says_so() {
    // A tool that calls itself `Secrets` and claims the secrets category does not fill it.
    let dir = repo();
    let claims = json!({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "Secrets"}}, "automationDetails": {"id": "sluice/secrets/"}, "results": []}
    ]});
    let (code, stderr) = run_with_external(dir.path(), &claims, "");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stage `secrets` is required"), "{stderr}");

    // The same tool with `fills = "secrets"` does.
    let dir = repo();
    let gitleaks = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gitleaks"}}, "results": []}]});
    let (code, stderr) = run_with_external(dir.path(), &gitleaks, "fills = \"secrets\"\n");
    assert_eq!(code, 0, "fills = \"secrets\" satisfies the requirement: {stderr}");
    let input = policy_input(dir.path(), &dir.path().join("sluice-out/results.sarif"));
    let stage = input["stages"].as_array().unwrap().iter().find(|s| s["name"] == "secrets").expect("secrets stage");
    assert_eq!(stage["tool"], "gitleaks");
}

#[test]
fn fills_must_name_a_builtin_stage() {
    let dir = repo();
    write(dir.path(), "sluice.toml", "[stages.scanner]\ncommand = \"true\"\nfills = \"lint\"\n");
    let out = sluice().arg("run").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fills") && stderr.contains("container, deps, sast, secrets"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// item 13: nested field typos in user policies

/// A log with a clean secrets run: a policy that reads nothing real allows it.
fn clean_log(dir: &Path) -> PathBuf {
    let log = json!({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "sluice-secrets"}}, "automationDetails": {"id": "sluice/secrets/"}, "results": []}
    ]});
    write(dir, "clean.sarif", &log.to_string())
}

fn gate_policy(dir: &Path, rego: &str) -> (i32, String) {
    let policy = write(dir, "policy/p.rego", rego);
    let out = sluice()
        .arg("gate")
        .arg(clean_log(dir))
        .arg("--root")
        .arg(dir)
        .args(["--now", NOW, "--policy"])
        .arg(policy)
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_nested_field_typo_in_a_user_policy_fails_closed() {
    let dir = repo();
    for (rego, field) in [
        (
            "package main\nimport rego.v1\ndeny contains \"wrong branch\" if {\n  input.run.brnach == \"main\"\n}\n",
            "input.run.brnach",
        ),
        (
            "package main\nimport rego.v1\ndeny contains \"x\" if {\n  input.results[_].propertes.x == 1\n}\n",
            "input.results[_].propertes",
        ),
        (
            "package main\nimport rego.v1\ndeny contains \"x\" if {\n  input.results[0].triage.expiry\n}\n",
            "input.results[_].triage.expiry",
        ),
        (
            "package main\nimport rego.v1\ndeny contains \"x\" if {\n  input[\"summary\"][\"open_by_severity\"].urgent > 0\n}\n",
            "input.summary.open_by_severity.urgent",
        ),
    ] {
        let (code, stderr) = gate_policy(dir.path(), rego);
        assert_eq!(code, 2, "a typo must fail closed, not allow: {rego}\n{stderr}");
        assert!(stderr.contains(&format!("p.rego:4: the policy reads `{field}`")), "{field}: {stderr}");
    }
    // Real nested fields, array indexes and variables are fine.
    let ok = "package main\nimport rego.v1\ndeny contains \"x\" if {\n  input.run.branch == \"nope\"\n  \
              input.results[i].triage.expires\n  input.summary.open_by_severity.critical > 100\n  \
              input.stages[_].name == \"x\"\n}\n";
    let (code, stderr) = gate_policy(dir.path(), ok);
    assert_eq!(code, 0, "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// item 13: the gate's input size cap

#[test]
fn a_log_over_the_gate_size_cap_is_refused_with_the_limit_named() {
    let dir = repo();
    let mut log = serde_json::from_str::<Value>(&std::fs::read_to_string(clean_log(dir.path())).unwrap()).unwrap();
    // 3 MiB of padding in a message: over a 2 MiB cap given through the environment.
    let padding = json!({"tool": {"driver": {"name": "padding"}},
        "results": [{"ruleId": "r", "level": "note", "message": {"text": "x".repeat(3 << 20)}}]});
    log["runs"].as_array_mut().unwrap().push(padding);
    let big = write(dir.path(), "big.sarif", &log.to_string());
    let out = sluice()
        .env("SLUICE_GATE_MAX_INPUT", "2MiB")
        .arg("gate")
        .arg(&big)
        .arg("--root")
        .arg(dir.path())
        .args(["--now", NOW, "--profile", "velocity"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("big.sarif") && stderr.contains("2 MiB"), "{stderr}");
    assert!(stderr.contains("--max-input"), "the message says how to raise the limit: {stderr}");
    // Raised on the command line, the same log is gated.
    let out = sluice()
        .env("SLUICE_GATE_MAX_INPUT", "2MiB")
        .arg("gate")
        .arg(&big)
        .arg("--root")
        .arg(dir.path())
        .args(["--now", NOW, "--profile", "velocity", "--max-input", "16MiB"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
