//! The engine's contract: built-in Rego tests pass, conftest policies load unchanged, and every
//! way a policy can go wrong fails closed with an error naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use sluice_policy::policy::{Policy, Source};
use sluice_policy::{decide, run_tests, EvalOptions, PolicyError, TestStatus};

fn opts() -> EvalOptions {
    EvalOptions::new(Duration::from_secs(5), "2026-11-26T12:00:00Z".parse().unwrap())
}

fn user(files: &[(&str, &str)]) -> Policy {
    Policy {
        name: files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
        sources: files.iter().map(|(p, t)| Source { path: (*p).into(), text: (*t).into() }).collect(),
        builtin: false,
    }
}

#[test]
fn builtin_profiles_pass_their_own_rego_tests() {
    for profile in ["constrained", "velocity"] {
        let policy = Policy::profile(profile, true).unwrap();
        let outcomes = run_tests(&policy, &opts()).unwrap();
        assert!(outcomes.len() >= 15, "{profile}: only {} tests found", outcomes.len());
        let bad: Vec<_> = outcomes.iter().filter(|o| o.status != TestStatus::Pass).collect();
        assert!(bad.is_empty(), "{profile}: failing Rego tests: {bad:#?}");
        assert!(outcomes.iter().any(|o| o.name.starts_with(&format!("data.sluice.{profile}_test."))));
    }
}

#[test]
fn failing_and_erroring_rego_tests_are_reported() {
    let policy = user(&[(
        "t.rego",
        "package t\nimport rego.v1\ntest_ok if 1 == 1\ntest_false if 1 == 2\ntest_error if to_number(\"x\") == 1\n",
    )]);
    let outcomes = run_tests(&policy, &opts()).unwrap();
    let by: Vec<(&str, &TestStatus)> = outcomes.iter().map(|o| (o.name.as_str(), &o.status)).collect();
    assert_eq!(by[0], ("data.t.test_error", by[0].1));
    assert!(matches!(by[0].1, TestStatus::Error(_)), "{by:?}");
    assert_eq!(by[1], ("data.t.test_false", &TestStatus::Fail));
    assert_eq!(by[2], ("data.t.test_ok", &TestStatus::Pass));
}

/// conftest's own README example, in the Rego v0 syntax conftest policies were written in for
/// years, and the same policy in Rego v1: both load unchanged and decide the same.
const CONFTEST_V0: &str = r#"package main

deny[msg] {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot

  msg := "Containers must not run as root"
}

deny[msg] {
  input.kind == "Deployment"
  not input.spec.selector.matchLabels.app

  msg := "Containers must provide app label for pod selectors"
}

warn[msg] {
  input.kind == "Deployment"
  input.spec.replicas < 2
  msg := sprintf("%v replica(s): not highly available", [input.spec.replicas])
}
"#;

const CONFTEST_V1: &str = r#"package main

import rego.v1

deny contains msg if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := "Containers must not run as root"
}

violation contains {"msg": "Containers must provide app label for pod selectors", "details": {"field": "spec.selector"}} if {
  input.kind == "Deployment"
  not input.spec.selector.matchLabels.app
}
"#;

fn deployment() -> serde_json::Value {
    json!({"kind": "Deployment", "spec": {"replicas": 1, "selector": {"matchLabels": {}},
           "template": {"spec": {"securityContext": {}}}}})
}

#[test]
fn conftest_policies_work_unchanged_in_v0_and_v1() {
    let v0 = decide(&user(&[("policy/deny.rego", CONFTEST_V0)]), deployment(), &opts()).unwrap();
    assert_eq!(v0.decision, "denied");
    let msgs: Vec<&str> = v0.denials.iter().map(|r| r.msg.as_str()).collect();
    assert_eq!(msgs, ["Containers must not run as root", "Containers must provide app label for pod selectors"]);
    assert_eq!(v0.warnings.len(), 1);
    assert_eq!(v0.warnings[0].msg, "1 replica(s): not highly available");
    assert_eq!(v0.denials[0].rule, "data.main.deny");

    let v1 = decide(&user(&[("policy/deny.rego", CONFTEST_V1)]), deployment(), &opts()).unwrap();
    let msgs: Vec<&str> = v1.denials.iter().map(|r| r.msg.as_str()).collect();
    assert_eq!(msgs, ["Containers must not run as root", "Containers must provide app label for pod selectors"]);
    assert_eq!(v1.denials[1].rule, "data.main.violation");
    assert_eq!(v1.denials[1].details["details"], json!({"field": "spec.selector"}));

    let mut ok = deployment();
    ok["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = json!(true);
    ok["spec"]["selector"]["matchLabels"]["app"] = json!("web");
    ok["spec"]["replicas"] = json!(3);
    let allowed = decide(&user(&[("policy/deny.rego", CONFTEST_V0)]), ok, &opts()).unwrap();
    assert!(allowed.allowed() && allowed.warnings.is_empty(), "{allowed:?}");
}

#[test]
fn a_syntax_error_names_the_file_and_fails_closed() {
    let policy = user(&[("policies/broken.rego", "package main\n\ndeny contains msg if {\n  msg := \n}\n")]);
    let err = decide(&policy, json!({}), &opts()).unwrap_err();
    assert!(matches!(err, PolicyError::Syntax { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("policies/broken.rego: syntax error"), "{text}");
    assert!(text.contains(":4:") || text.contains(":5:"), "the message points at the line: {text}");
}

#[test]
fn a_runaway_rule_is_stopped_by_the_time_limit() {
    // A cross product of 10^4 x 10^4 elements: minutes of work, stopped after 300 ms.
    let policy = user(&[(
        "slow.rego",
        "package main\nimport rego.v1\ndeny contains msg if {\n  n := count([x | some i in numbers.range(1, 10000); some j in numbers.range(1, 10000); x := i * j])\n  msg := sprintf(\"%d\", [n])\n}\n",
    )]);
    let started = std::time::Instant::now();
    let err = decide(&policy, json!({}), &EvalOptions::new(Duration::from_millis(300), opts().now)).unwrap_err();
    assert!(matches!(err, PolicyError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("time limit"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "stopped late: {:?}", started.elapsed());
}

#[test]
fn a_policy_without_decision_rules_cannot_allow() {
    let policy = user(&[("allow.rego", "package main\nimport rego.v1\nallow if input.ok\n")]);
    let err = decide(&policy, json!({"ok": true}), &opts()).unwrap_err();
    assert!(matches!(err, PolicyError::NoDecisionRules { .. }), "{err:?}");
}

#[test]
fn a_type_error_in_a_rule_fails_closed() {
    // The policy expects a number; the input has a string. OPA would make the rule undefined
    // (and so allow); the gate refuses to decide instead.
    let policy = user(&[(
        "types.rego",
        "package main\nimport rego.v1\ndeny contains \"too many\" if {\n  to_number(input.summary.open) > 10\n}\n",
    )]);
    let err = decide(&policy, json!({"summary": {"open": "many"}}), &opts()).unwrap_err();
    assert!(matches!(err, PolicyError::Eval { .. }), "{err:?}");
    assert!(err.to_string().contains("data.main.deny"), "{err}");
}

#[test]
fn a_message_of_the_wrong_shape_is_an_error() {
    let policy =
        user(&[("shape.rego", "package main\nimport rego.v1\ndeny contains {\"text\": \"no msg\"} if true\n")]);
    let err = decide(&policy, json!({}), &opts()).unwrap_err();
    assert!(matches!(err, PolicyError::BadDecision { .. }), "{err:?}");
}

#[test]
fn unknown_top_level_input_fields_are_reported_with_their_line() {
    let policy = user(&[("k8s.rego", CONFTEST_V0)]);
    let err = sluice_policy::policy::check_input_fields(&policy, 1).unwrap_err().to_string();
    assert!(err.starts_with("k8s.rego:4: the policy reads `input.kind`"), "{err}");
    // Fields that exist, `data.x.input.y` and strings mentioning input.kind are fine.
    let ok = user(&[(
        "ok.rego",
        "package main\nimport rego.v1\n# input.kind in a comment\ndeny contains \"input.kind\" if {\n  input.summary.open > 0\n  data.x.input.kind\n}\n",
    )]);
    sluice_policy::policy::check_input_fields(&ok, 1).unwrap();
}

#[test]
fn nested_input_fields_are_checked_against_the_schema() {
    let check = |body: &str| {
        let policy =
            user(&[("p.rego", &format!("package main\nimport rego.v1\ndeny contains \"x\" if {{\n  {body}\n}}\n"))]);
        sluice_policy::policy::check_input_fields(&policy, 1).map_err(|e| e.to_string())
    };
    for (body, field) in [
        ("input.run.brnach == \"main\"", "run.brnach"),
        ("input.results[_].propertes.x == 1", "results[_].propertes"),
        ("input.results[i].triage.expiry", "results[_].triage.expiry"),
        ("input[\"summary\"][\"open_by_severity\"].urgent > 0", "summary.open_by_severity.urgent"),
        ("input.run.now.year", "run.now.year"),
        ("input.stages.name", "stages.name"),
    ] {
        let err = check(body).unwrap_err();
        assert!(err.starts_with(&format!("p.rego:4: the policy reads `input.{field}`")), "{body}: {err}");
    }
    let err = check("input.run.brnach").unwrap_err();
    assert!(err.contains("`input.run` has branch, commit, configured_stages, now"), "{err}");
    for body in [
        "input.run.branch == \"main\"",
        "input.results[_].triage.expires",
        "input.results[0].location.path",
        "input.summary.open_by_severity[\"critical\"] > 0",
        "input.stages[count(input.stages) - 1].name",
        "input.sbom.components > 0",
        "input.detected.languages[_] == \"go\"",
    ] {
        check(body).unwrap_or_else(|e| panic!("{body}: {e}"));
    }
}
