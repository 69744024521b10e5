//! Evidence and feedback to rule owners, on both backends, with runs pushed through the real
//! ingest and decisions made through the API: the OpenVEX export of the organisation's advisory
//! decisions (`GET /vex`, validated against OpenVEX's own JSON schema), and false-positive
//! rates per rule and analyzer (`GET /rules/noise`), with exact numbers.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{push_body, r, stage, Backend, Server, TestUser};
use serde_json::{json, Value};

backends! {
    vex_states_the_approved_advisory_decisions => sqlite_vex_states_the_approved_advisory_decisions, postgres_vex_states_the_approved_advisory_decisions;
    noise_counts_false_positives_per_rule => sqlite_noise_counts_false_positives_per_rule, postgres_noise_counts_false_positives_per_rule;
}

/// A dependency finding as the deps stage reports it: the advisory is the rule, with the
/// package, its purl and the advisory's aliases as properties.
fn dep(fingerprint: &str, advisory: &str, package: &str, purl: &str, aliases: &[&str]) -> Value {
    let mut result = r(fingerprint, advisory, 5.0).to_json();
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = json!("package-lock.json");
    let props = &mut result["properties"];
    props["sluice/advisory"] = json!(advisory);
    props["sluice/aliases"] = json!(aliases);
    props["sluice/package"] = json!(package);
    props["sluice/purl"] = json!(purl);
    result
}

/// A push of one deps run with these results.
fn deps_push(project: &str, run_id: &str, results: Vec<Value>) -> Value {
    let mut body = push_body(project, run_id, &[stage("deps", vec![])]);
    body["sarif"]["runs"][0]["results"] = json!(results);
    body
}

fn propose(server: &Server, who: &TestUser, body: Value) -> i64 {
    server.post("/api/v1/decisions", Some(&who.token), &body).expect(201).json()["id"].as_i64().expect("an id")
}

fn approve(server: &Server, who: &TestUser, id: i64) -> Value {
    server.post(&format!("/api/v1/decisions/{id}/approve"), Some(&who.token), &json!({})).expect(200).json()
}

fn revoke(server: &Server, who: &TestUser, id: i64) {
    server.post(&format!("/api/v1/decisions/{id}/revoke"), Some(&who.token), &json!({"note": "wrong"})).expect(200);
}

/// check-jsonschema from scripts/install-test-tools.sh; CI (SLUICE_REQUIRE_TOOLS=1) fails
/// without it, elsewhere the schema check is skipped with a note.
fn check_jsonschema() -> Option<PathBuf> {
    let tools = std::env::var_os("SLUICE_TOOLS").map_or_else(|| PathBuf::from("/tmp/sluice-tools"), PathBuf::from);
    let path = tools.join("venv/bin/check-jsonschema");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("SLUICE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
        "check-jsonschema is required (SLUICE_REQUIRE_TOOLS=1): run scripts/install-test-tools.sh"
    );
    eprintln!("note: check-jsonschema not installed; skipping the OpenVEX schema check");
    None
}

/// Validates a document against OpenVEX's JSON schema; the validator's words on failure.
fn openvex_schema_errors(check: &PathBuf, doc: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("doc.openvex.json");
    std::fs::write(&file, doc).expect("writing the document");
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openvex/openvex_json_schema.json");
    let out =
        Command::new(check).arg("--schemafile").arg(&schema).arg(&file).output().expect("running check-jsonschema");
    (!out.status.success())
        .then(|| format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn vex_states_the_approved_advisory_decisions(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    server.project("beta", "main");
    let (_, push_alpha) = server.project_token("alpha", "push");
    let (_, push_beta) = server.project_token("beta", "push");
    let lodash = ("GHSA-35jh-r3h4-6jhm", ["CVE-2021-23337"]);
    server
        .push(
            &push_alpha,
            &deps_push(
                "alpha",
                "run-1",
                vec![
                    dep("a-lodash", lodash.0, "lodash", "pkg:npm/lodash@4.17.20", &lodash.1),
                    dep(
                        "a-requests",
                        "PYSEC-2023-74",
                        "requests",
                        "pkg:pypi/requests@2.30.0",
                        &["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
                    ),
                ],
            ),
        )
        .expect(201);
    server
        .push(
            &push_beta,
            &deps_push(
                "beta",
                "run-1",
                vec![
                    dep("b-lodash", lodash.0, "lodash", "pkg:npm/lodash@4.17.19", &lodash.1),
                    dep("b-minimist", "GHSA-xvch-5gv4-984h", "minimist", "pkg:npm/minimist@1.2.5", &["CVE-2021-44906"]),
                ],
            ),
        )
        .expect(201);
    let sec = server.user("sec", &[(None, "security")]);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let champ = server.user("champ", &[(Some("alpha"), "champion"), (Some("beta"), "champion")]);

    // Nothing decided yet: nothing to state.
    server.get("/api/v1/vex", Some(&sec.token)).expect(404);

    // Organisation-wide, by an alias of the advisory the findings carry.
    let org = propose(
        &server,
        &champ,
        json!({"scope": "advisory", "advisory": "CVE-2021-23337", "package": "lodash", "status": "false_positive",
               "vex_justification": "vulnerable_code_not_in_execute_path", "reason": "template() is never called"}),
    );
    let org_view = approve(&server, &sec, org);
    // alpha's own: mitigated, no justification given.
    let mitigated = propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "advisory", "advisory": "PYSEC-2023-74", "package": "requests",
               "status": "mitigated", "reason": "the proxy strips Proxy-Authorization"}),
    );
    let mitigated_view = approve(&server, &sec, mitigated);
    // beta's own: an accepted risk.
    let accepted = propose(
        &server,
        &champ,
        json!({"project": "beta", "scope": "advisory", "advisory": "GHSA-xvch-5gv4-984h", "package": "minimist",
               "status": "accepted_risk", "expires": "2999-01-01", "reason": "an internal CLI"}),
    );
    let accepted_view = approve(&server, &sec, accepted);
    // A package no finding has: named by the decision's purl.
    let confirmed = propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "advisory", "advisory": "GHSA-0000-0000-0001", "package": "pkg:npm/left-pad",
               "status": "confirmed", "reason": "upgrade left-pad"}),
    );
    let confirmed_view = approve(&server, &sec, confirmed);
    // A proposal, a rejected and a revoked decision, and a rule decision: none is stated.
    propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "advisory", "advisory": "GHSA-0000-0000-0002", "package": "lodash",
               "status": "false_positive", "reason": "only proposed"}),
    );
    let rejected = propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "advisory", "advisory": "GHSA-0000-0000-0003", "package": "lodash",
               "status": "false_positive", "reason": "rejected"}),
    );
    server.post(&format!("/api/v1/decisions/{rejected}/reject"), Some(&sec.token), &json!({"note": "no"})).expect(200);
    let revoked = propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "advisory", "advisory": "GHSA-0000-0000-0004", "package": "lodash",
               "status": "false_positive", "reason": "revoked"}),
    );
    approve(&server, &sec, revoked);
    revoke(&server, &sec, revoked);
    let rule = propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "rule", "rule": "GHSA-35jh-r3h4-6jhm", "status": "false_positive", "reason": "a rule"}),
    );
    approve(&server, &sec, rule);

    let first = server.get("/api/v1/vex", Some(&sec.token)).expect(200);
    let doc = first.json();
    let statement = |id: i64, status: &str, vulnerability: Value, products: Value, view: &Value, said: Value| {
        let mut st = json!({
            "@id": format!("urn:sluice:decision:{id}"),
            "vulnerability": vulnerability,
            "timestamp": view["decided_at"],
            "products": products,
            "status": status,
            "status_notes": format!(
                "sluice decision {id} ({}) {}: proposed by {}, approved by user:sec (security)",
                view["status"].as_str().unwrap_or_default(),
                view["project"].as_str().map_or("for every project of the organisation".to_owned(), |p| format!("for project {p}")),
                view["proposed_by"].as_str().unwrap_or_default(),
            ),
        });
        for (k, v) in said.as_object().expect("an object") {
            st[k] = v.clone();
        }
        st
    };
    let purl = |p: &str| json!({"@id": p, "identifiers": {"purl": p}});
    let expected = vec![
        // Sorted by vulnerability name, then product.
        statement(
            org,
            "not_affected",
            json!({"name": "CVE-2021-23337", "aliases": ["GHSA-35jh-r3h4-6jhm"]}),
            json!([purl("pkg:npm/lodash@4.17.19"), purl("pkg:npm/lodash@4.17.20")]),
            &org_view,
            json!({"justification": "vulnerable_code_not_in_execute_path", "impact_statement": "template() is never called"}),
        ),
        statement(
            confirmed,
            "affected",
            json!({"name": "GHSA-0000-0000-0001"}),
            json!([{"@id": "urn:sluice:project:alpha", "subcomponents": [purl("pkg:npm/left-pad")]}]),
            &confirmed_view,
            json!({"action_statement": "upgrade left-pad"}),
        ),
        statement(
            accepted,
            "affected",
            json!({"name": "GHSA-xvch-5gv4-984h", "aliases": ["CVE-2021-44906"]}),
            json!([{"@id": "urn:sluice:project:beta", "subcomponents": [purl("pkg:npm/minimist@1.2.5")]}]),
            &accepted_view,
            json!({"action_statement": "risk accepted until 2999-01-01: an internal CLI"}),
        ),
        statement(
            mitigated,
            "not_affected",
            json!({"name": "PYSEC-2023-74", "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]}),
            json!([{"@id": "urn:sluice:project:alpha", "subcomponents": [purl("pkg:pypi/requests@2.30.0")]}]),
            &mitigated_view,
            json!({"justification": "inline_mitigations_already_exist", "impact_statement": "the proxy strips Proxy-Authorization"}),
        ),
    ];
    assert_eq!(doc["statements"], json!(expected), "{doc:#}");
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(doc["version"], 1);
    assert!(doc["@id"].as_str().is_some_and(|id| id.starts_with("urn:sluice:vex:") && id.len() == 15 + 32), "{doc}");
    // The time of the state, not of the request: the latest approval.
    let latest = [&org_view, &mitigated_view, &accepted_view, &confirmed_view]
        .iter()
        .filter_map(|v| v["decided_at"].as_str())
        .max_by_key(|t| t.parse::<jiff::Timestamp>().expect("an RFC 3339 time"))
        .expect("decision times")
        .to_owned();
    assert_eq!(doc["timestamp"], latest);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let again = server.get("/api/v1/vex", Some(&sec.token)).expect(200);
    assert_eq!(first.body, again.body, "the same decisions give the same bytes");

    if let Some(check) = check_jsonschema() {
        assert_eq!(openvex_schema_errors(&check, &first.body), None);
        // The check can fail: a `not_affected` statement must say why.
        let mut bent = doc.clone();
        let st = &mut bent["statements"][0];
        st.as_object_mut().expect("a statement").remove("justification");
        st.as_object_mut().expect("a statement").remove("impact_statement");
        let errors = openvex_schema_errors(&check, &serde_json::to_vec(&bent).expect("json"));
        assert!(errors.is_some(), "the schema check passed a statement without a justification");
    }

    // One project's view: its decisions and the organisation's, with the packages found in it.
    let alpha = server.get("/api/v1/vex?project=alpha", Some(&dev.token)).expect(200).json();
    let names: Vec<(&str, &Value)> = alpha["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| (s["vulnerability"]["name"].as_str().unwrap_or_default(), &s["products"]))
        .collect();
    assert_eq!(
        names,
        vec![
            ("CVE-2021-23337", &json!([purl("pkg:npm/lodash@4.17.20")])),
            ("GHSA-0000-0000-0001", &expected[1]["products"]),
            ("PYSEC-2023-74", &expected[3]["products"]),
        ]
    );
    assert_ne!(alpha["@id"], doc["@id"]);
    if let Some(check) = check_jsonschema() {
        assert_eq!(openvex_schema_errors(&check, &serde_json::to_vec(&alpha).expect("json")), None);
    }
    // CI pulls it with the token it pushes with.
    server.get("/api/v1/vex?project=alpha", Some(&push_alpha)).expect(200);
    // Who may not: another project's reader, a project role without a project, no token.
    server.get("/api/v1/vex?project=beta", Some(&dev.token)).expect(404);
    server.get("/api/v1/vex?project=beta", Some(&push_alpha)).expect(404);
    server.get("/api/v1/vex", Some(&dev.token)).expect(403);
    server.get("/api/v1/vex", Some(&champ.token)).expect(403);
    server.get("/api/v1/vex", None).expect(401);

    // A revoked decision leaves the document, and the document's id changes with it.
    revoke(&server, &sec, org);
    let after = server.get("/api/v1/vex", Some(&sec.token)).expect(200).json();
    assert_eq!(after["statements"].as_array().map(Vec::len), Some(3));
    assert_ne!(after["@id"], doc["@id"]);
}

/// A sast finding at `path`.
fn at(fingerprint: &str, rule: &str, path: &str) -> common::R {
    let mut f = r(fingerprint, rule, 5.0);
    f.path = path.to_owned();
    f
}

fn noise_counts_false_positives_per_rule(backend: Backend) {
    let server = Server::start(backend);
    for p in ["alpha", "beta", "gamma"] {
        server.project(p, "main");
    }
    let (_, push_alpha) = server.project_token("alpha", "push");
    let (_, push_beta) = server.project_token("beta", "push");
    let (_, push_gamma) = server.project_token("gamma", "push");
    let (_, read_alpha) = server.project_token("alpha", "read");

    // alpha: rule.noisy three times (one in tests/), rule.good once; a secret its own triage
    // file calls a false positive; a dependency finding.
    let mut body = push_body(
        "alpha",
        "run-1",
        &[
            stage(
                "sast",
                vec![
                    at("a1", "rule.noisy", "tests/a1.py"),
                    at("a2", "rule.noisy", "src/a2.py"),
                    at("a3", "rule.noisy", "src/a3.py"),
                    at("a4", "rule.good", "src/a4.py"),
                ],
            ),
            stage("secrets", vec![at("a5", "rule.key", "conf/a5.env"), at("a6", "rule.key", "conf/a6.env")]),
            stage("deps", vec![]),
        ],
    );
    body["sarif"]["runs"][1]["results"][0]["properties"]["sluice/triage"] =
        json!({"status": "false_positive", "reason": "an example key", "who": "alice", "when": "2026-11-30"});
    body["sarif"]["runs"][1]["results"][1]["properties"]["sluice/triage"] = json!({"status": "accepted_risk", "reason": "rotating", "who": "alice", "when": "2026-11-30", "expires": "2999-01-01"});
    body["sarif"]["runs"][2]["results"] =
        json!([dep("a-lodash", "GHSA-35jh-r3h4-6jhm", "lodash", "pkg:npm/lodash@4.17.20", &["CVE-2021-23337"])]);
    server.push(&push_alpha, &body).expect(201);
    let mut body = push_body(
        "beta",
        "run-1",
        &[
            stage(
                "sast",
                vec![
                    at("b1", "rule.noisy", "src/b1.py"),
                    at("b2", "rule.noisy", "src/b2.py"),
                    at("b3", "rule.good", "src/b3.py"),
                ],
            ),
            stage("deps", vec![]),
        ],
    );
    body["sarif"]["runs"][1]["results"] =
        json!([dep("b-lodash", "GHSA-35jh-r3h4-6jhm", "lodash", "pkg:npm/lodash@4.17.19", &["CVE-2021-23337"])]);
    server.push(&push_beta, &body).expect(201);
    server
        .push(&push_gamma, &push_body("gamma", "run-1", &[stage("sast", vec![at("g1", "rule.noisy", "src/g1.py")])]))
        .expect(201);

    let sec = server.user("sec", &[(None, "security")]);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let champ = server.user("champ", &[(Some("alpha"), "champion")]);
    let decide = |body: Value| {
        let id = propose(&server, &dev, body);
        approve(&server, &sec, id);
        id
    };
    let dev_beta = server.user("devb", &[(Some("beta"), "developer"), (Some("gamma"), "developer")]);
    // alpha: rule.noisy is noise in tests/ (a1), and a1 once more by itself: counted once.
    decide(
        json!({"project": "alpha", "scope": "rule", "rule": "rule.noisy", "path": "tests/**", "status": "false_positive", "reason": "fixtures"}),
    );
    decide(
        json!({"project": "alpha", "scope": "finding", "fingerprint": "a1", "status": "false_positive", "reason": "fixture"}),
    );
    // An accepted risk is not noise; a proposal is not a decision.
    decide(
        json!({"project": "alpha", "scope": "finding", "fingerprint": "a2", "status": "accepted_risk", "expires": "2999-01-01", "reason": "later"}),
    );
    propose(
        &server,
        &dev,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "a3", "status": "false_positive", "reason": "proposed"}),
    );
    // beta: b1 by itself.
    let b1 = propose(
        &server,
        &dev_beta,
        json!({"project": "beta", "scope": "finding", "fingerprint": "b1", "status": "false_positive", "reason": "b1"}),
    );
    approve(&server, &sec, b1);
    // gamma: decided, then revoked: not noise any more.
    let g1 = propose(
        &server,
        &dev_beta,
        json!({"project": "gamma", "scope": "finding", "fingerprint": "g1", "status": "false_positive", "reason": "g1"}),
    );
    approve(&server, &sec, g1);
    revoke(&server, &sec, g1);
    // The organisation: lodash's advisory, by its alias, everywhere.
    let org = propose(
        &server,
        &champ,
        json!({"scope": "advisory", "advisory": "CVE-2021-23337", "package": "lodash", "status": "false_positive", "reason": "never called"}),
    );
    approve(&server, &sec, org);

    let report = server.get("/api/v1/rules/noise", Some(&sec.token)).expect(200).json();
    let row = |tool: &str, rule: &str, findings: i64, fps: i64, rate: f64, projects: i64, noisy: &[&str]| {
        json!({"tool": tool, "rule": rule, "findings": findings, "false_positives": fps, "rate": rate,
               "projects": projects, "noisy_projects": noisy.len(), "noisy_in": noisy})
    };
    assert_eq!(
        report["rules"],
        json!([
            row("deps", "GHSA-35jh-r3h4-6jhm", 2, 2, 1.0, 2, &["alpha", "beta"]),
            row("secrets", "rule.key", 2, 1, 0.5, 1, &["alpha"]),
            row("sast", "rule.noisy", 6, 2, 0.3333, 3, &["alpha", "beta"]),
            row("sast", "rule.good", 2, 0, 0.0, 2, &[]),
        ]),
        "{report:#}"
    );
    assert_eq!(
        report["tools"],
        json!([
            {"tool": "deps", "findings": 2, "false_positives": 2, "rate": 1.0, "noisy_projects": 2},
            {"tool": "secrets", "findings": 2, "false_positives": 1, "rate": 0.5, "noisy_projects": 1},
            {"tool": "sast", "findings": 8, "false_positives": 2, "rate": 0.25, "noisy_projects": 2},
        ])
    );
    assert_eq!(report["next"], Value::Null);

    // Filters and pages.
    let sast = server.get("/api/v1/rules/noise?tool=sast&min_findings=3", Some(&sec.token)).expect(200).json();
    assert_eq!(sast["rules"], json!([row("sast", "rule.noisy", 6, 2, 0.3333, 3, &["alpha", "beta"])]));
    assert_eq!(sast["tools"].as_array().map(Vec::len), Some(1));
    let page = server.get("/api/v1/rules/noise?limit=3", Some(&sec.token)).expect(200).json();
    assert_eq!(page["next"], "3");
    let rest = server.get("/api/v1/rules/noise?limit=3&cursor=3", Some(&sec.token)).expect(200).json();
    assert_eq!(rest["rules"], json!([row("sast", "rule.good", 2, 0, 0.0, 2, &[])]));
    assert_eq!(rest["next"], Value::Null);
    server.get("/api/v1/rules/noise?min_findings=0", Some(&sec.token)).expect(400);
    server.get("/api/v1/rules/noise?cursor=-1", Some(&sec.token)).expect(400);

    // A project's champion sees the organisation's numbers, and names only of what they read.
    let seen = server.get("/api/v1/rules/noise?tool=sast&min_findings=3", Some(&champ.token)).expect(200).json();
    let mut expected = row("sast", "rule.noisy", 6, 2, 0.3333, 3, &["alpha"]);
    expected["noisy_projects"] = json!(2);
    assert_eq!(seen["rules"], json!([expected]));
    server.get("/api/v1/rules/noise", Some(&dev.token)).expect(403);
    server.get("/api/v1/rules/noise", Some(&read_alpha)).expect(403);
    server.get("/api/v1/rules/noise", None).expect(401);

    // The repository takes its decision back: the next default-branch run no longer carries
    // it, and the secret is no longer counted as noise.
    let body = push_body(
        "alpha",
        "run-2",
        &[stage("secrets", vec![at("a5", "rule.key", "conf/a5.env"), at("a6", "rule.key", "conf/a6.env")])],
    );
    server.push(&push_alpha, &body).expect(201);
    let report = server.get("/api/v1/rules/noise?tool=secrets", Some(&sec.token)).expect(200).json();
    assert_eq!(report["rules"], json!([row("secrets", "rule.key", 2, 0, 0.0, 1, &[])]));
}
