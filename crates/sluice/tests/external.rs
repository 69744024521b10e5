//! A real SARIF-emitting tool (bandit, from PyPI) as a sluice stage and through `sluice merge`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const EXAMPLE_APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/vulnerable-app/app");

fn python_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::copy(Path::new(EXAMPLE_APP).join("views.py"), dir.path().join("app/views.py")).unwrap();
    dir
}

fn bandit_sarif(bandit: &Path, dir: &Path) -> Vec<u8> {
    let out =
        Command::new(bandit).args(["-r", ".", "-f", "sarif", "-q"]).current_dir(dir).output().expect("bandit runs");
    assert!(
        out.status.code() == Some(1) || out.status.code() == Some(0),
        "bandit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// True when every key/value of `original` is in `merged` (objects recursively; other values
/// equal), so sluice may add to a tool's data but never drop or change it.
fn contains(merged: &Value, original: &Value) -> bool {
    match (merged, original) {
        (Value::Object(m), Value::Object(o)) => o.iter().all(|(k, v)| m.get(k).is_some_and(|mv| contains(mv, v))),
        (m, o) => m == o,
    }
}

#[test]
fn bandit_sarif_survives_merge_intact() {
    let Some(bandit) = bandit() else { return };
    let project = python_project();
    let original = bandit_sarif(&bandit, project.path());
    let input = project.path().join("bandit.sarif");
    std::fs::write(&input, &original).unwrap();
    let merged = sluice()
        .args(["merge", "--root"])
        .arg(project.path())
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let merged_path = project.path().join("merged.sarif");
    std::fs::write(&merged_path, &merged).unwrap();
    assert_valid(&merged_path);

    let original: Value = parse(&original);
    let merged: Value = parse(&merged);
    let (orun, mrun) = (&original["runs"][0], &merged["runs"][0]);
    assert_eq!(mrun["tool"]["driver"]["name"], "Bandit");
    // Rule metadata: every rule, with all its fields and properties.
    let orules = orun["tool"]["driver"]["rules"].as_array().unwrap();
    let mrules = mrun["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(orules.len(), mrules.len());
    for (o, m) in orules.iter().zip(mrules) {
        assert!(contains(m, o), "rule changed:\n{o}\n{m}");
    }
    // Results: same count, and each original result is found with its rule, message, region
    // and properties intact (sluice only adds keys and makes the URI repository-relative).
    let oresults = orun["results"].as_array().unwrap();
    let mresults = mrun["results"].as_array().unwrap();
    assert!(oresults.len() >= 5, "bandit finds the example's issues: {}", oresults.len());
    assert_eq!(oresults.len(), mresults.len());
    for o in oresults {
        let region = &o["locations"][0]["physicalLocation"]["region"];
        let found = mresults.iter().find(|m| {
            m["ruleId"] == o["ruleId"]
                && m["locations"][0]["physicalLocation"]["region"]["startLine"] == region["startLine"]
        });
        let m = found.unwrap_or_else(|| panic!("result lost: {o}"));
        // Messages pass intact but for credentials, which are redacted wherever they are
        // (bandit's B105 quotes the hard-coded password in its message).
        let original = o["message"]["text"].as_str().unwrap_or_default();
        assert_eq!(m["message"]["text"].as_str().unwrap_or_default(), sluice_sarif::redact_text(original));
        let mregion = &m["locations"][0]["physicalLocation"]["region"];
        let secret_like = m["properties"]["sluice/cwe"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "CWE-259" || c == "CWE-798"));
        if secret_like {
            // Hard-coded password findings may quote the password: snippets are dropped on
            // purpose (no secret leaves sluice), the rest of the region is kept.
            assert!(mregion.get("snippet").is_none(), "a password snippet was kept: {mregion}");
            let mut without = region.clone();
            without.as_object_mut().unwrap().remove("snippet");
            assert!(contains(mregion, &without));
        } else {
            assert!(contains(mregion, region), "region changed:\n{region}\n{mregion}");
        }
        assert!(
            contains(&m["properties"], &o["properties"]),
            "properties changed:\n{}\n{}",
            o["properties"],
            m["properties"]
        );
        assert_eq!(m["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app/views.py");
        assert_eq!(m["properties"]["sluice/stage"], "bandit");
        assert!(m["properties"]["sluice/cwe"].as_array().is_some_and(|c| !c.is_empty()), "CWE from bandit's tags: {m}");
        assert!(m["partialFingerprints"]["sluice/v1"].is_string());
    }
}

#[test]
fn bandit_runs_as_an_external_stage_in_parallel_with_secrets() {
    let Some(bandit) = bandit() else { return };
    let project = python_project();
    std::fs::write(
        project.path().join("sluice.toml"),
        format!(
            "[stages.bandit]\ncommand = [{:?}, \"-r\", \".\", \"-f\", \"sarif\", \"-q\"]\nfiles = [\"*.py\"]\ntimeout = \"2m\"\n",
            bandit.display().to_string()
        ),
    )
    .unwrap();
    let out = sluice().args(["run", "--format", "json"]).arg(project.path()).assert().success();
    let report = parse(&out.get_output().stdout);
    let stages: Vec<&str> = report["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert!(stages.contains(&"bandit") && stages.contains(&"secrets"), "{stages:?}");
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["stage"] == "bandit" && f["rule_id"] == "B602"), "bandit's shell=True finding");
    assert!(findings.iter().any(|f| f["stage"] == "secrets"), "the fake AWS key");
    let results_path = project.path().join("sluice-out/results.sarif");
    assert_valid(&results_path);

    // Diff-aware: a change that touches no Python file skips bandit entirely.
    std::fs::write(project.path().join("notes.txt"), "hello\n").unwrap();
    let list = project.path().join("changed.txt");
    std::fs::write(&list, "notes.txt\n").unwrap();
    let out =
        sluice().args(["run", "--format", "json", "--changed-files"]).arg(&list).arg(project.path()).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("skipped bandit: no files it applies to"), "{stderr}");
    assert_eq!(parse(&out.get_output().stdout)["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn a_configured_external_stage_runs_alone_with_scan() {
    let Some(bandit) = bandit() else { return };
    let project = python_project();
    std::fs::create_dir_all(project.path().join("sub")).unwrap();
    std::fs::rename(project.path().join("app"), project.path().join("sub/app")).unwrap();
    std::fs::write(
        project.path().join("sluice.toml"),
        format!(
            "[stages.bandit]\ncommand = [{:?}, \"-f\", \"sarif\", \"-q\", \"{{files}}\"]\nfiles = [\"*.py\"]\nworking_dir = \"sub\"\n",
            bandit.display().to_string()
        ),
    )
    .unwrap();
    let out = sluice().args(["scan", "bandit"]).arg(project.path()).assert().success();
    let log = parse(&out.get_output().stdout);
    let results = results(&log);
    assert!(!results.is_empty());
    for r in &results {
        // bandit ran in sub/ on `app/views.py`; sluice reports paths from the repository root.
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "sub/app/views.py");
    }
}
