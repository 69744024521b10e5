//! Issue 15's property: every secrets rule's positive examples, placed in every string field of
//! a SARIF result (message, message arguments, snippets, related locations, code flows,
//! properties and their keys, rule metadata, file names, notifications, fixes), never come out
//! of sluice: not in any `sluice report` format, not in the merged log sluice writes as
//! `results.sarif`, not in a baseline, not in the policy input the gate prints.
//!
//! The credential is what the secrets engine finds in the example alone; the example is then
//! put on a line of its own inside the field (between hostile text), so rules anchored to
//! line starts still see their context.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{json, Value};

/// (rule id, example, the credential inside it).
fn cases() -> &'static [(String, String, String)] {
    static CASES: std::sync::OnceLock<Vec<(String, String, String)>> = std::sync::OnceLock::new();
    CASES.get_or_init(|| {
        let engine = sluice_secrets::embedded_engine().expect("embedded rules load");
        let mut out = Vec::new();
        for spec in sluice_secrets::embedded_specs().expect("embedded rules load") {
            for example in &spec.examples.positive {
                let spans = engine.credential_spans(example.as_bytes());
                assert!(!spans.is_empty(), "{}: positive example not found alone: {example}", spec.id);
                for (start, end) in spans {
                    out.push((spec.id.clone(), example.clone(), example[start..end].to_owned()));
                }
            }
        }
        assert!(out.len() > 250, "every rule's examples: {}", out.len());
        out
    })
}

const FIELDS: &[&str] = &[
    "message",
    "argument",
    "snippet",
    "context-snippet",
    "related",
    "code-flow",
    "property",
    "property-key",
    "rule-text",
    "rule-name",
    "file-name",
    "notification",
    "fix",
];

/// A third-party log with `payload` in one field; every other field holds harmless text.
fn log_with(field: &str, payload: &str) -> Value {
    let put = |name: &str, default: &str| if name == field { payload.to_owned() } else { default.to_owned() };
    let mut properties = serde_json::Map::new();
    properties.insert("note".into(), Value::String(put("property", "nothing")));
    properties.insert(put("property-key", "key"), Value::String("value".into()));
    let message = if field == "argument" {
        json!({"text": "found {0} here", "arguments": [payload]})
    } else {
        json!({"text": put("message", "a finding")})
    };
    let uri = if field == "file-name" { payload.to_owned() } else { "src/app.py".to_owned() };
    json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "hostile-tool", "rules": [{
                "id": "R1",
                "name": put("rule-name", "Rule one"),
                "shortDescription": {"text": put("rule-text", "short")},
                "fullDescription": {"text": put("rule-text", "full")},
                "help": {"text": put("rule-text", "help"), "markdown": put("rule-text", "help")}
            }]}},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": [
                {"message": {"text": put("notification", "all good")}, "level": "note"}
            ]}],
            "results": [{
                "ruleId": "R1",
                "level": "error",
                "message": message,
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": 1, "snippet": {"text": put("snippet", "x = 1")}},
                    "contextRegion": {"startLine": 1, "snippet": {"text": put("context-snippet", "x = 1")}}
                }}],
                "relatedLocations": [{"id": 1, "message": {"text": put("related", "here too")},
                    "physicalLocation": {"artifactLocation": {"uri": "src/b.py"},
                        "region": {"startLine": 2, "snippet": {"text": put("related", "y = 2")}}}}],
                "codeFlows": [{"threadFlows": [{"locations": [{"location": {
                    "message": {"text": put("code-flow", "step")},
                    "physicalLocation": {"artifactLocation": {"uri": "src/c.py"},
                        "region": {"startLine": 3, "snippet": {"text": put("code-flow", "z = 3")}}}
                }}]}]}],
                "fixes": [{"description": {"text": put("fix", "do this")}, "artifactChanges": [{
                    "artifactLocation": {"uri": "src/app.py"},
                    "replacements": [{"deletedRegion": {"startLine": 1}, "insertedContent": {"text": put("fix", "x = 2")}}]
                }]}],
                "properties": properties
            }]
        }]
    })
}

/// Everything sluice can make of `log`: each report format (with and without a root to read
/// sources from), the merged log, a baseline, the policy input.
fn outputs(log: &[u8], root: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let parsed = sluice_sarif::read_log(log, "hostile.sarif").expect("a readable log");
    let mut merger = sluice_sarif::Merger::new();
    for mut run in parsed.runs.clone() {
        let opts = sluice_sarif::NormalizeOptions { stage: "hostile-tool", root, base: root, read_files: true };
        sluice_sarif::normalize_run(&mut run, &opts);
        merger.add_run(&run).expect("merge");
    }
    let mut merged = Vec::new();
    merger.write(&mut merged).expect("write");
    let normalized = sluice_sarif::read_log(&merged, "merged").expect("merged log reads");
    out.push(("merged results.sarif".into(), String::from_utf8_lossy(&merged).into_owned()));
    for (name, format) in sluice_report::Format::ALL {
        for (log, which) in [(&parsed, "raw"), (&normalized, "merged")] {
            for root in [None, Some(root)] {
                let opts = sluice_report::Options {
                    root,
                    color: false,
                    tool_version: "0",
                    started: "2026-01-01T00:00:00",
                    finished: "2026-01-01T00:00:00",
                };
                let mut buf = Vec::new();
                sluice_report::render(log, *format, &opts, &mut buf).expect("render");
                out.push((
                    format!("report {name} ({which}, root {})", root.is_some()),
                    String::from_utf8_lossy(&buf).into_owned(),
                ));
            }
        }
    }
    let mut baseline = normalized.clone();
    sluice_triage::make_baseline(&mut baseline, Some("0000000000000000000000000000000000000000"));
    out.push(("baseline".into(), serde_json::to_string(&baseline).unwrap()));
    let input = sluice_policy::input::build(&normalized, sluice_policy::input::Facts::default());
    out.push(("policy input".into(), serde_json::to_string(&input).unwrap()));
    out
}

fn check(rule: &str, example: &str, secret: &str, field: &str, before: &str, after: &str) {
    let payload = format!("{before}\n{example}\n{after}");
    let log = serde_json::to_vec(&log_with(field, &payload)).unwrap();
    let root = tempfile::tempdir().unwrap();
    // The file results point at exists and holds the example: reports that read sources see it.
    std::fs::create_dir_all(root.path().join("src")).unwrap();
    std::fs::write(root.path().join("src/app.py"), format!("{example}\n")).unwrap();
    for (place, text) in outputs(&log, root.path()) {
        assert!(
            !text.contains(secret),
            "rule {rule}: its example placed in the {field} field leaks through {place}\nexample: {example}"
        );
    }
}

#[test]
fn every_rules_examples_in_a_field_of_its_own_never_leak() {
    // Deterministic sweep: every example once, the field rotating, so all fields see all kinds.
    for (i, (rule, example, secret)) in cases().iter().enumerate() {
        check(rule, example, secret, FIELDS[i % FIELDS.len()], "hostile text", "more text");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_example_in_any_field_never_leaks(
        case in 0..10_000usize,
        field in 0..FIELDS.len(),
        before in "[ -~]{0,40}",
        after in "[ -~]{0,40}",
    ) {
        let (rule, example, secret) = &cases()[case % cases().len()];
        check(rule, example, secret, FIELDS[field], &before, &after);
    }
}
