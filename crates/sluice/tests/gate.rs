//! The policy gate end to end with the real binary: `sluice gate` (golden verdicts for both
//! profiles, conftest policies, failing closed), `sluice policy test|input|eval`, `sluice plan`,
//! `sluice attest`/`verify` with keys made by openssl, and `sluice report --format ssdf`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const NOW: &str = "2026-11-26T12:00:00Z";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gate/results.sarif")
}

/// A repository like the fixture's: Python and JavaScript code, an npm lockfile, a Dockerfile.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/run.py", "import subprocess\nsubprocess.run('ls', shell=True)\n");
    write(dir.path(), "web/app.js", "console.log('hi')\n");
    write(dir.path(), "package.json", "{\"name\": \"web\", \"version\": \"1.0.0\"}\n");
    write(dir.path(), "package-lock.json", "{\"name\": \"web\", \"lockfileVersion\": 3, \"packages\": {}}\n");
    write(dir.path(), "Dockerfile", "FROM python:3.12-slim\n");
    dir
}

struct Gate {
    code: i32,
    sarif: Value,
    stderr: String,
}

fn gate(root: &Path, input: &Path, args: &[&str]) -> Gate {
    let out = sluice().arg("gate").arg(input).arg("--root").arg(root).args(["--now", NOW]).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let sarif = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("gate wrote no SARIF ({e}): {stderr}"));
    Gate { code: out.status.code().unwrap(), sarif, stderr }
}

fn gate_run(log: &Value) -> &Value {
    log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["automationDetails"]["id"] == "sluice/gate/")
        .expect("the log has a gate run")
}

/// The recorded verdict without the digest (which changes whenever the Rego is edited).
fn recorded(log: &Value) -> Value {
    let props = &gate_run(log)["properties"];
    serde_json::json!({
        "verdict": props["sluice/verdict"],
        "denials": props["sluice/denials"],
        "warnings": props["sluice/warnings"],
    })
}

// ---------------------------------------------------------------------------------------------
// golden verdicts

#[test]
fn constrained_profile_golden_verdict_and_messages() {
    let dir = repo();
    let g = gate(dir.path(), &fixture(), &["--profile", "constrained"]);
    assert_eq!(g.code, 1, "denied: {}", g.stderr);
    insta::assert_json_snapshot!("constrained_verdict", recorded(&g.sarif));
    let digest = gate_run(&g.sarif)["properties"]["sluice/policy"]["digest"].as_str().unwrap().to_owned();
    insta::assert_snapshot!("constrained_stderr", g.stderr.replace(&digest, "sha256:…"));
}

#[test]
fn velocity_profile_golden_verdict_and_messages() {
    let dir = repo();
    let g = gate(dir.path(), &fixture(), &["--profile", "velocity"]);
    assert_eq!(g.code, 1, "denied: {}", g.stderr);
    insta::assert_json_snapshot!("velocity_verdict", recorded(&g.sarif));
    let digest = gate_run(&g.sarif)["properties"]["sluice/policy"]["digest"].as_str().unwrap().to_owned();
    insta::assert_snapshot!("velocity_stderr", g.stderr.replace(&digest, "sha256:…"));
}

#[test]
fn velocity_allows_once_the_secret_and_new_critical_are_handled() {
    let dir = repo();
    let mut log: Value = serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    // Drop the secrets run's finding (revoked and removed): only warnings remain.
    for run in log["runs"].as_array_mut().unwrap() {
        if run["automationDetails"]["id"] == "sluice/secrets/" {
            run["results"] = serde_json::json!([]);
        }
    }
    let input = write(dir.path(), "clean.sarif", &log.to_string());
    let g = gate(dir.path(), &input, &["--profile", "velocity"]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_eq!(gate_run(&g.sarif)["properties"]["sluice/verdict"], "allowed");
    assert!(g.stderr.contains("WARN [open-findings]"), "{}", g.stderr);
}

#[test]
fn gated_output_is_valid_sarif_and_gating_twice_is_stable() {
    let dir = repo();
    let g = gate(dir.path(), &fixture(), &["--profile", "constrained"]);
    let once = write(dir.path(), "gated.sarif", &g.sarif.to_string());
    assert_valid(&once);
    let again = gate(dir.path(), &once, &["--profile", "constrained"]);
    assert_eq!(again.sarif, g.sarif, "gating a gated log replaces the gate run, it does not add one");
}

#[test]
fn gate_reads_stdin() {
    let dir = repo();
    let out = sluice()
        .args(["gate", "--profile", "velocity", "--now", NOW, "--root"])
        .arg(dir.path())
        .write_stdin(std::fs::read(fixture()).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(gate_run(&log)["properties"]["sluice/verdict"], "denied");
}

// ---------------------------------------------------------------------------------------------
// conftest compatibility

/// A conftest policy over sluice's input, in the Rego v0 syntax most conftest policies use.
const CONFTEST_OVER_SLUICE: &str = r#"package main

deny[msg] {
  r := input.results[_]
  r.severity == "critical"
  r.status == "open"
  msg := sprintf("critical %s in %s", [r.rule, r.location.path])
}

warn[msg] {
  input.summary.open > 3
  msg := "more than 3 open findings"
}
"#;

#[test]
fn a_conftest_policy_works_unchanged_over_the_sluice_input() {
    let dir = repo();
    let policy = write(dir.path(), "policy/main.rego", CONFTEST_OVER_SLUICE);
    let g = gate(dir.path(), &fixture(), &["--policy", policy.to_str().unwrap()]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert!(g.stderr.contains("DENY critical github-pat-classic in config/settings.yaml"), "{}", g.stderr);
    assert_eq!(gate_run(&g.sarif)["properties"]["sluice/denials"][0]["rule"], "data.main.deny");
}

#[test]
fn policy_eval_runs_conftest_examples_over_any_json() {
    let dir = tempfile::tempdir().unwrap();
    // conftest's README example policy and input, unchanged.
    let policy = write(
        dir.path(),
        "policy/deployment.rego",
        "package main\n\ndeny[msg] {\n  input.kind == \"Deployment\"\n  not input.spec.template.spec.securityContext.runAsNonRoot\n\n  msg := \"Containers must not run as root\"\n}\n\ndeny[msg] {\n  input.kind == \"Deployment\"\n  not input.spec.selector.matchLabels.app\n\n  msg := \"Containers must provide app label for pod selectors\"\n}\n",
    );
    let input = write(
        dir.path(),
        "deployment.json",
        r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello-kubernetes"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "hello-kubernetes"}},
                     "template": {"metadata": {"labels": {"app": "hello-kubernetes"}},
                                  "spec": {"containers": [{"name": "hello", "image": "paulbouwer/hello-kubernetes:1.5"}]}}}}"#,
    );
    let out = sluice()
        .current_dir(dir.path())
        .args(["policy", "eval", "deployment.json", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL - deployment.json - main - Containers must not run as root"), "{stdout}");
    assert!(!stdout.contains("app label"), "the deployment has the label: {stdout}");
    assert!(stdout.contains("1 input(s), 0 warning(s), 1 failure(s)"), "{stdout}");
    let _ = input;
}

// ---------------------------------------------------------------------------------------------
// failing closed

fn assert_fails_closed(g: &Gate, needle: &str) {
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(g.stderr.contains(needle), "stderr should contain {needle:?}: {}", g.stderr);
    assert!(g.stderr.contains("fail closed"), "{}", g.stderr);
    let run = gate_run(&g.sarif);
    assert_eq!(run["properties"]["sluice/verdict"], "error");
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn a_policy_with_a_syntax_error_fails_closed() {
    let dir = repo();
    let policy = write(dir.path(), "policy/broken.rego", "package main\n\ndeny contains msg if {\n  msg := \n}\n");
    let g = gate(dir.path(), &fixture(), &["--policy", policy.to_str().unwrap()]);
    assert_fails_closed(&g, "broken.rego: syntax error");
}

#[test]
fn a_runaway_rule_is_stopped_and_fails_closed() {
    let dir = repo();
    let policy = write(
        dir.path(),
        "policy/slow.rego",
        "package main\nimport rego.v1\ndeny contains msg if {\n  n := count([x | some i in numbers.range(1, 10000); some j in numbers.range(1, 10000); x := i * j])\n  msg := sprintf(\"%d\", [n])\n}\n",
    );
    let g = gate(dir.path(), &fixture(), &["--policy", policy.to_str().unwrap(), "--time-limit", "300ms"]);
    assert_fails_closed(&g, "time limit");
}

#[test]
fn a_policy_written_for_another_input_fails_closed() {
    let dir = repo();
    let policy = write(
        dir.path(),
        "policy/k8s.rego",
        "package main\n\ndeny[msg] {\n  input.kind == \"Deployment\"\n  msg := \"no deployments\"\n}\n",
    );
    let g = gate(dir.path(), &fixture(), &["--policy", policy.to_str().unwrap()]);
    assert_fails_closed(&g, "k8s.rego:4: the policy reads `input.kind`");
}

#[test]
fn an_input_a_rule_does_not_expect_fails_closed() {
    let dir = repo();
    // Treats `location` (an object) as a string: a builtin type error, not an undefined rule.
    let policy = write(
        dir.path(),
        "policy/types.rego",
        "package main\nimport rego.v1\ndeny contains msg if {\n  some r in input.results\n  startswith(r.location, \"app/\")\n  msg := r.rule\n}\n",
    );
    let g = gate(dir.path(), &fixture(), &["--policy", policy.to_str().unwrap()]);
    assert_fails_closed(&g, "data.main.deny");
}

#[test]
fn an_unknown_profile_or_a_non_sarif_input_is_a_clear_error() {
    let dir = repo();
    let g = sluice().args(["gate", "--profile", "strict", "--root"]).arg(dir.path()).arg(fixture()).output().unwrap();
    assert_eq!(g.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&g.stderr).contains("unknown profile `strict`"));
    let bad = write(dir.path(), "notes.txt", "hello");
    let g = sluice().args(["gate", "--profile", "velocity"]).arg(&bad).output().unwrap();
    assert_eq!(g.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&g.stderr).contains("notes.txt"), "{}", String::from_utf8_lossy(&g.stderr));
}

// ---------------------------------------------------------------------------------------------
// policy test, policy input

#[test]
fn policy_test_runs_the_builtin_profiles_rego_tests() {
    let out = sluice().args(["policy", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS data.sluice.constrained_test.test_exception_without_expiry_still_denies"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS data.sluice.velocity_test.test_new_critical_is_denied"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let total: usize = stdout.lines().filter(|l| l.starts_with("PASS data.")).count();
    assert!(stdout.contains(&format!("PASS: {total}/{total}")) && total >= 25, "{stdout}");
}

#[test]
fn policy_test_reports_failing_tests_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p/policy.rego", "package p\nimport rego.v1\ndeny contains \"x\" if input.bad\n");
    write(
        dir.path(),
        "p/policy_test.rego",
        "package p_test\nimport data.p\nimport rego.v1\ntest_denies_bad if { p.deny == {\"x\"} with input as {\"bad\": true} }\ntest_wrong if { count(p.deny) == 1 with input as {} }\n",
    );
    let out = sluice().current_dir(dir.path()).args(["policy", "test", "p"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("PASS data.p_test.test_denies_bad"), "{stdout}");
    assert!(stdout.contains("FAIL data.p_test.test_wrong (p/policy_test.rego:5)"), "{stdout}");
    assert!(stdout.contains("FAIL: 1/2"), "{stdout}");
}

#[test]
fn the_policy_input_validates_against_its_json_schema() {
    let Some(python) = find_tool("python (with jsonschema)", &[tools_dir().join("venv/bin/python")]) else { return };
    let dir = repo();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["-c", "user.name=A", "-c", "user.email=a@example.com", "add", "-A"]);
    git(dir.path(), &["-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "init"]);
    let out =
        sluice().args(["policy", "input", "--now", NOW, "--root"]).arg(dir.path()).arg(fixture()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["run"]["now"], NOW);
    assert_eq!(doc["run"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(doc["detected"]["lockfiles"], serde_json::json!(["package-lock.json"]));
    assert_eq!(doc["results"].as_array().unwrap().len(), 5);
    assert_eq!(doc["stages"][0]["status"], "failed");
    let input = write(dir.path(), "input.json", &String::from_utf8_lossy(&out.stdout));
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy-input.v1.schema.json");
    let check = |file: &Path| {
        Command::new(&python)
            .args(["-c", "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), cls=jsonschema.Draft202012Validator)"])
            .arg(file)
            .arg(&schema)
            .output()
            .unwrap()
    };
    let ok = check(&input);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // The schema can fail: a result with an unknown severity is rejected.
    let mut bad = doc.clone();
    bad["results"][0]["severity"] = serde_json::json!("severe");
    let bad_file = write(dir.path(), "bad.json", &bad.to_string());
    assert!(!check(&bad_file).status.success());
}

// ---------------------------------------------------------------------------------------------
// plan, and required stages in the gate

const DEPS_AND_CONTAINER_OFF: &str = "[stages.deps]\nenabled = false\n[stages.container]\nenabled = false\n";

#[test]
fn plan_shows_required_and_missing_stages_for_what_was_detected() {
    let dir = repo();
    // deps and container are built-in stages: turned off here, the policy still requires them.
    write(dir.path(), "sluice.toml", DEPS_AND_CONTAINER_OFF);
    let out = sluice().arg("plan").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("detected: languages javascript, python; ecosystems npm"), "{stdout}");
    let row = |stage: &str| stdout.lines().find(|l| l.starts_with(&format!("{stage} "))).unwrap_or_default().to_owned();
    assert!(row("secrets").contains("yes"), "{stdout}");
    assert!(row("sast").contains("yes") && row("sast").contains("javascript, python code detected"), "{stdout}");
    assert!(row("deps").contains("MISSING") && row("deps").contains("PW.4.4"), "{stdout}");
    assert!(row("container").contains("MISSING"), "{stdout}");
    assert!(stdout.contains("2 required stage(s) missing"), "{stdout}");

    let json = sluice().args(["plan", "--json", "--profile", "velocity"]).arg(dir.path()).output().unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["missing"], serde_json::json!(["deps", "container"]));
}

#[test]
fn dockerfiles_in_every_common_spelling_are_scanned_and_required_by_the_plan() {
    // OWASP wrongsecrets names its Dockerfiles `Dockerfile_web`; Podman projects use
    // `Containerfile.prod`. The container stage and the plan read one table of names.
    for name in ["Dockerfile_web", "Containerfile.prod"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, "FROM python:3.12-slim\nRUN curl -sSL https://get.example.com/i.sh | sh\n");
        let scan = sluice().args(["scan", "container"]).arg(dir.path()).output().unwrap();
        let log: Value = serde_json::from_slice(&scan.stdout).unwrap();
        let uris: Vec<String> = results(&log)
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        assert!(uris.iter().any(|u| u == name), "{name} is scanned by the container stage: {uris:?}");

        let plan = sluice().args(["plan", "--json", "--profile", "velocity"]).arg(dir.path()).output().unwrap();
        let doc: Value = serde_json::from_slice(&plan.stdout).unwrap();
        let required = doc.to_string();
        assert!(
            doc["detected"]["dockerfiles"].as_array().is_some_and(|d| d.iter().any(|f| f == name)),
            "{name} detected by the plan: {required}"
        );
        assert!(required.contains("container"), "the plan requires the container stage for {name}: {required}");
    }
}

#[test]
fn a_required_stage_that_did_not_run_is_a_denial() {
    let dir = repo();
    write(dir.path(), "sluice.toml", DEPS_AND_CONTAINER_OFF);
    let run = sluice().arg("run").arg(dir.path()).output().unwrap();
    assert!(run.status.code().is_some_and(|c| c == 0), "{}", String::from_utf8_lossy(&run.stderr));
    let g = gate(dir.path(), &dir.path().join("sluice-out/results.sarif"), &["--profile", "constrained"]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert!(
        g.stderr.contains("DENY [required-stage] stage `deps` is required (npm dependencies detected) but did not run"),
        "{}",
        g.stderr
    );
    assert!(!g.stderr.contains("stage `sast` is required"), "sast ran: {}", g.stderr);
}

// ---------------------------------------------------------------------------------------------
// evidence

fn openssl() -> Option<PathBuf> {
    find_tool("openssl", &[])
}

#[test]
fn attest_signs_and_verify_detects_tampering() {
    let Some(openssl) = openssl() else { return };
    let dir = repo();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["-c", "user.name=A", "-c", "user.email=a@example.com", "add", "-A"]);
    git(dir.path(), &["-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "init"]);
    let head = String::from_utf8(
        Command::new("git").arg("-C").arg(dir.path()).args(["rev-parse", "HEAD"]).output().unwrap().stdout,
    )
    .unwrap();
    let g = gate(dir.path(), &fixture(), &["--profile", "velocity"]);
    write(dir.path(), "sluice-out/results.sarif", &g.sarif.to_string());
    write(
        dir.path(),
        "sluice-out/sbom.cdx.json",
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "left-pad"}]}"#,
    );
    let key = dir.path().join("key.pem");
    let public = dir.path().join("key.pub");
    assert!(Command::new(&openssl)
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    assert!(Command::new(&openssl)
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap()
        .success());

    // Unsigned: the statement itself.
    let out = sluice().current_dir(dir.path()).arg("attest").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(st["subject"][0]["digest"]["gitCommit"], head.trim());
    assert_eq!(st["predicate"]["verdict"], "denied");
    assert!(st["predicate"]["policy"]["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(st["predicate"]["sbom"]["path"], "sluice-out/sbom.cdx.json");
    let stage_names: Vec<&str> =
        st["predicate"]["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(stage_names, ["bandit", "sast", "secrets"]);
    assert_eq!(st["predicate"]["stages"][0]["version"], "1.9.4");

    // Signed, verified with the public key.
    let out = sluice().current_dir(dir.path()).arg("attest").arg("--key").arg(&key).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let envelope = write(dir.path(), "attestation.json", &String::from_utf8_lossy(&out.stdout));
    let env: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let ok = sluice().current_dir(dir.path()).arg("verify").arg(&envelope).arg("--key").arg(&public).output().unwrap();
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("signature OK") && stderr.contains("sluice-out/results.sarif: sha256 matches"), "{stderr}");

    // The SARIF changed after it was attested: verify refuses.
    write(dir.path(), "sluice-out/results.sarif", &g.sarif.to_string().replace("denied", "allowed"));
    let changed =
        sluice().current_dir(dir.path()).arg("verify").arg(&envelope).arg("--key").arg(&public).output().unwrap();
    assert_eq!(changed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&changed.stderr).contains("differs from the attested"));

    // Another key: the signature does not verify.
    let other = dir.path().join("other.pem");
    let other_pub = dir.path().join("other.pub");
    assert!(Command::new(&openssl)
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&other)
        .status()
        .unwrap()
        .success());
    assert!(Command::new(&openssl)
        .args(["pkey", "-pubout", "-in"])
        .arg(&other)
        .arg("-out")
        .arg(&other_pub)
        .status()
        .unwrap()
        .success());
    let bad =
        sluice().current_dir(dir.path()).arg("verify").arg(&envelope).arg("--key").arg(&other_pub).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not verify"));
}

#[test]
fn ssdf_report_lists_tasks_with_this_runs_evidence() {
    let dir = repo();
    let g = gate(dir.path(), &fixture(), &["--profile", "constrained"]);
    let gated = write(dir.path(), "out/gated.sarif", &g.sarif.to_string());
    let out = sluice().args(["report", "--format", "ssdf"]).arg(&gated).output().unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(md.contains("- policy constrained (sha256:"), "{md}");
    assert!(md.contains("stage `sast` ran (sluice-sast 0.1.0): 4 result(s) recorded"), "{md}");
    assert!(md.contains("stage `bandit` FAILED (Bandit 1.9.4)"), "{md}");
    assert!(md.contains("gate denied: 1 leaked credential(s) found"), "{md}");
    // No SBOM next to the log: PS.3.2 shows only the gate's warning about it.
    let ps32 = md.split("## PS.3.2").nth(1).unwrap().split("\n## ").next().unwrap();
    assert!(ps32.contains("gate warned: no SBOM was recorded"), "{md}");
    // No triage run in the log: RV.2.1 has no evidence, and says so.
    let rv21 = md.split("## RV.2.1").nth(1).unwrap().split("\n## ").next().unwrap();
    assert!(rv21.contains("No evidence in this run"), "{md}");
}

#[test]
fn the_plan_calls_a_lockfile_what_the_deps_stage_reads() {
    // One table (sluice_inventory::layout): `requirements-lock.txt` is a lockfile to the plan
    // and the gate, and the deps stage reads it. The plan used to say "lockfiles none".
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements-lock.txt", "requests==2.19.1\n");
    let out = sluice().arg("plan").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("lockfiles requirements-lock.txt;"), "{stdout}");
    assert!(stdout.contains("ecosystems PyPI"), "{stdout}");

    let out = sluice().args(["scan", "deps"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = parse(&out.stdout);
    assert_eq!(log["runs"][0]["invocations"][0]["properties"]["sluice/lockfiles"], 1, "{log}");
    let found = results(&log);
    assert!(!found.is_empty(), "requests 2.19.1 has PyPA advisories");
    for r in &found {
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "requirements-lock.txt");
    }
}
