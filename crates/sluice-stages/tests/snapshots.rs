//! Every built-in stage's SARIF run on a fixture — `examples/vulnerable-app`, the project the
//! README scans, with an advisory database built from `examples/advisories` — as an `insta`
//! snapshot. What varies between machines and days (sluice's version, the database's path
//! and update time) is replaced by a placeholder; everything else is the run as built.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice_pipeline::{Config, Scope};
use sluice_sarif::keys;
use sluice_stages::StageInput;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/vulnerable-app");
const ADVISORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/advisories");

/// An advisory database of the example advisories, updated now (so it is not stale).
fn database(dir: &Path) -> PathBuf {
    let db = dir.join("advisories.db");
    let mut sources = Vec::new();
    for source in ["pypa", "rustsec", "distro/debian", "distro/alpine"] {
        let path = Path::new(ADVISORIES).join(source);
        sources.push((source.to_owned(), sluice_advisory::import(&path).unwrap()));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    sluice_advisory::update(&db, sources, now).unwrap();
    db
}

fn stage_run(stage: &str) -> Value {
    let root = Path::new(EXAMPLE).canonicalize().unwrap();
    let config = Config::load(&root).unwrap();
    let options = config.stages.iter().find(|s| s.name == stage).map(|s| s.options.clone()).unwrap_or_default();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path());
    let config_path = root.join("sluice.toml");
    let input = StageInput {
        root: &root,
        scope: &Scope::All,
        history: false,
        staged: false,
        since: None,
        changed_lines: false,
        options: &options,
        config_path: &config_path,
        out_dir: &config.out_dir,
        image: None,
        db: Some(&db),
    };
    let run = sluice_stages::run_stage(stage, &input).unwrap();
    let mut value = serde_json::to_value(&run).unwrap();
    stable(&mut value);
    value
}

/// Replaces what differs between machines and days.
fn stable(run: &mut Value) {
    for key in ["version", "semanticVersion"] {
        if let Some(v) = run["tool"]["driver"].get_mut(key) {
            *v = Value::from("[version]");
        }
    }
    if let Some(invocations) = run["invocations"].as_array_mut() {
        for invocation in invocations {
            let Some(props) = invocation["properties"].as_object_mut() else { continue };
            for (key, placeholder) in [(keys::ADVISORY_DB, "[database]"), (keys::ADVISORY_DB_UPDATED, "[time]")] {
                if let Some(v) = props.get_mut(key) {
                    *v = Value::from(placeholder);
                }
            }
        }
    }
}

fn results(run: &Value) -> &Vec<Value> {
    run["results"].as_array().unwrap()
}

/// Every result points at a rule by id and by index, and every rule says how bad it is.
fn check_contract(run: &Value) {
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in results(run) {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"], "{result}");
        assert!(result["partialFingerprints"]["sluice/v1"].is_string(), "{result}");
    }
    for rule in rules {
        let severity = rule["properties"]["problem.severity"].as_str().unwrap();
        assert!(["error", "warning", "recommendation"].contains(&severity), "{rule}");
    }
}

#[test]
fn secrets_run() {
    let run = stage_run("secrets");
    check_contract(&run);
    assert!(!results(&run).is_empty());
    insta::assert_json_snapshot!("secrets", run);
}

#[test]
fn sast_run() {
    let run = stage_run("sast");
    check_contract(&run);
    assert!(!results(&run).is_empty());
    insta::assert_json_snapshot!("sast", run);
}

#[test]
fn deps_run() {
    let run = stage_run("deps");
    check_contract(&run);
    assert!(!results(&run).is_empty());
    insta::assert_json_snapshot!("deps", run);
}

#[test]
fn container_run() {
    let run = stage_run("container");
    check_contract(&run);
    assert!(!results(&run).is_empty());
    insta::assert_json_snapshot!("container", run);
}
