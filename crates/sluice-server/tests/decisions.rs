//! Org-wide triage on the server, on both backends: who may propose and approve what, that a
//! proposal suppresses nothing until approved, that nobody approves their own, that concurrent
//! approvals give one approval and lose nothing, and that expired or revoked decisions stop
//! applying.

mod common;

use common::{push_body, r, stage, Backend, Server};
use serde_json::{json, Value};

backends! {
    approval_follows_severity_and_scope => sqlite_approval_follows_severity_and_scope, postgres_approval_follows_severity_and_scope;
    concurrent_approvals_give_one => sqlite_concurrent_approvals_give_one, postgres_concurrent_approvals_give_one;
    revoked_and_expired_decisions_stop_applying => sqlite_revoked_and_expired_decisions_stop_applying, postgres_revoked_and_expired_decisions_stop_applying;
    decisions_are_visible_only_where_they_apply => sqlite_decisions_are_visible_only_where_they_apply, postgres_decisions_are_visible_only_where_they_apply;
    repository_decisions_are_shown => sqlite_repository_decisions_are_shown, postgres_repository_decisions_are_shown;
    a_proposal_sent_again_with_its_key_is_stored_once => sqlite_a_proposal_sent_again_with_its_key_is_stored_once, postgres_a_proposal_sent_again_with_its_key_is_stored_once;
}

/// Project `alpha` with a critical and a low finding on its default branch.
fn setup(server: &Server) -> String {
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let log = [stage("sast", vec![r("fp-critical", "rule.critical", 9.5), r("fp-low", "rule.low", 2.0)])];
    server.push(&push, &push_body("alpha", "run-1", &log)).expect(201);
    push
}

fn propose(server: &Server, token: &str, body: Value) -> Value {
    server.post("/api/v1/decisions", Some(token), &body).expect(201).json()
}

fn applicable(server: &Server, token: &str) -> Vec<i64> {
    let doc = server.get("/api/v1/projects/alpha/decisions", Some(token)).expect(200).json();
    doc["decisions"].as_array().expect("decisions").iter().map(|d| d["id"].as_i64().expect("id")).collect()
}

fn act(server: &Server, token: &str, id: i64, action: &str, note: Option<&str>) -> u16 {
    server.post(&format!("/api/v1/decisions/{id}/{action}"), Some(token), &json!({ "note": note })).status
}

fn approval_follows_severity_and_scope(backend: Backend) {
    let server = Server::start(backend);
    let push = setup(&server);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let champ = server.user("champ", &[(Some("alpha"), "champion")]);
    let sec = server.user("sec", &[(None, "security")]);

    // A critical finding: the security role decides.
    let critical = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-critical", "status": "false_positive",
               "reason": "the value is a test fixture"}),
    );
    let critical_id = critical["id"].as_i64().expect("id");
    assert_eq!(critical["state"], "proposed");
    assert_eq!(critical["required_role"], "security");
    assert_eq!(critical["severity"], "critical");
    assert_eq!(applicable(&server, &push), Vec::<i64>::new(), "a proposal suppresses nothing");
    assert_eq!(act(&server, &dev.token, critical_id, "approve", None), 403, "nobody approves their own proposal");
    assert_eq!(act(&server, &champ.token, critical_id, "approve", None), 403, "a champion does not approve a critical");
    // The champion's queue does not list it; the security engineer's does.
    let queue = |token: &str| -> Vec<i64> {
        server
            .all_pages("/api/v1/decisions?awaiting_me=true&limit=1", token)
            .iter()
            .map(|d| d["id"].as_i64().expect("id"))
            .collect()
    };
    assert_eq!(queue(&champ.token), Vec::<i64>::new());
    assert_eq!(queue(&sec.token), vec![critical_id]);
    assert_eq!(act(&server, &sec.token, critical_id, "approve", Some("checked the fixture")), 200);
    assert_eq!(act(&server, &sec.token, critical_id, "approve", None), 409, "approved once");
    assert_eq!(applicable(&server, &push), vec![critical_id]);

    // A low finding: a champion of the project decides; a reject needs a reason.
    let low = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-low", "status": "accepted_risk",
               "reason": "internal tool", "expires": "2999-01-01"}),
    );
    let low_id = low["id"].as_i64().expect("id");
    assert_eq!(low["required_role"], "champion");
    assert_eq!(act(&server, &champ.token, low_id, "reject", None), 422);
    assert_eq!(act(&server, &champ.token, low_id, "approve", None), 200);

    // Organisation-wide: the organisation's security role, whoever proposes.
    let org = propose(
        &server,
        &champ.token,
        json!({"scope": "rule", "rule": "rule.low", "path": "tests/**", "status": "false_positive",
               "reason": "this rule is noise in tests"}),
    );
    let org_id = org["id"].as_i64().expect("id");
    assert_eq!(org["project"], Value::Null);
    assert_eq!(org["required_role"], "security");
    assert_eq!(act(&server, &champ.token, org_id, "approve", None), 403);
    assert_eq!(act(&server, &sec.token, org_id, "approve", None), 200);
    let mut ids = applicable(&server, &push);
    ids.sort_unstable();
    assert_eq!(ids, vec![critical_id, low_id, org_id]);

    // Who said what, with what role.
    let detail = server.get(&format!("/api/v1/decisions/{critical_id}"), Some(&dev.token)).expect(200).json();
    let history: Vec<(String, String, Option<String>)> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_owned(),
                e["actor"].as_str().unwrap_or("").to_owned(),
                e["role"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("proposed".to_owned(), "user:dev".to_owned(), Some("developer".to_owned())),
            ("approved".to_owned(), "user:sec".to_owned(), Some("security".to_owned())),
        ]
    );
    assert_eq!(detail["decision"]["decided_by"], "user:sec");
    // Every change is in the audit log, and the chain holds.
    let actions = server.sql_texts("SELECT action FROM audit_log WHERE action LIKE 'decision.%' ORDER BY seq");
    assert_eq!(
        actions,
        [
            "decision.propose",
            "decision.approve",
            "decision.propose",
            "decision.approve",
            "decision.propose",
            "decision.approve"
        ]
    );
    assert_eq!(server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json()["intact"], json!(true));

    // What a proposal must say, checked before anything is stored.
    let before = server.sql_i64("SELECT COUNT(*) FROM decisions");
    for (body, expected) in [
        (
            json!({"project": "alpha", "scope": "finding", "fingerprint": "no-such", "status": "false_positive", "reason": "x"}),
            "no finding",
        ),
        (
            json!({"project": "alpha", "scope": "finding", "status": "false_positive", "reason": "x"}),
            "fingerprint: required",
        ),
        (
            json!({"project": "alpha", "scope": "rule", "rule": "r", "status": "accepted_risk", "reason": "x"}),
            "expires",
        ),
        (json!({"project": "alpha", "scope": "rule", "rule": "r", "status": "ignored", "reason": "x"}), "status:"),
    ] {
        let resp = server.post("/api/v1/decisions", Some(&dev.token), &body).expect(422);
        assert!(resp.text().contains(expected), "{body}: {}", resp.text());
    }
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM decisions"), before);
    // Tokens of CI do not decide.
    assert_eq!(
        server
            .post(
                "/api/v1/decisions",
                Some(&push),
                &json!({"project": "alpha", "scope": "rule", "rule": "r", "status": "false_positive", "reason": "x"})
            )
            .status,
        403
    );
}

fn concurrent_approvals_give_one(backend: Backend) {
    let server = Server::start(backend);
    setup(&server);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let sec1 = server.user("sec1", &[(None, "security")]);
    let sec2 = server.user("sec2", &[(Some("alpha"), "security")]);
    let id = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-critical", "status": "false_positive", "reason": "fixture"}),
    )["id"]
        .as_i64()
        .expect("id");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (token, action) = match i % 4 {
                    0 => (&sec1.token, "approve"),
                    1 => (&sec2.token, "approve"),
                    2 => (&sec1.token, "reject"),
                    _ => (&sec2.token, "reject"),
                };
                let server = &server;
                s.spawn(move || act(server, token, id, action, Some("racing")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 1, "exactly one decision wins: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "the others are told it changed: {statuses:?}");
    let changes = server
        .sql_i64(&format!("SELECT COUNT(*) FROM decision_history WHERE decision_id = {id} AND action <> 'proposed'"));
    assert_eq!(changes, 1, "one change recorded");
    let audit =
        server.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action IN ('decision.approve', 'decision.reject')");
    assert_eq!(audit, 1);
}

fn revoked_and_expired_decisions_stop_applying(backend: Backend) {
    let server = Server::start(backend);
    let push = setup(&server);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let champ = server.user("champ", &[(Some("alpha"), "champion")]);
    let id = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "rule", "rule": "rule.low", "status": "accepted_risk", "reason": "until the rewrite",
               "expires": "2999-01-01"}),
    )["id"]
        .as_i64()
        .expect("id");
    assert_eq!(act(&server, &champ.token, id, "approve", None), 200);
    assert_eq!(applicable(&server, &push), vec![id]);
    // Its expiry passes (moved in the database: the clock is not the test's).
    server.sql(&format!("UPDATE decisions SET expires_at = 1000 WHERE id = {id}")).expect("update");
    assert_eq!(applicable(&server, &push), Vec::<i64>::new(), "an expired decision stops applying");
    server.sql(&format!("UPDATE decisions SET expires_at = NULL WHERE id = {id}")).expect("update");
    assert_eq!(applicable(&server, &push), vec![id]);
    // The proposer cannot revoke an approved decision; the champion can, saying why.
    assert_eq!(act(&server, &dev.token, id, "revoke", Some("no")), 403);
    assert_eq!(act(&server, &champ.token, id, "revoke", None), 422);
    assert_eq!(act(&server, &champ.token, id, "revoke", Some("the rewrite shipped")), 200);
    assert_eq!(applicable(&server, &push), Vec::<i64>::new());
    // A proposer withdraws their own proposal.
    let id2 = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-low", "status": "false_positive", "reason": "fixture"}),
    )["id"]
        .as_i64()
        .expect("id");
    assert_eq!(act(&server, &dev.token, id2, "revoke", Some("wrong finding")), 200);
    assert_eq!(act(&server, &champ.token, id2, "approve", None), 409, "a withdrawn proposal is not approved");
}

fn decisions_are_visible_only_where_they_apply(backend: Backend) {
    let server = Server::start(backend);
    setup(&server);
    server.project("beta", "main");
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let other = server.user("other", &[(Some("beta"), "developer")]);
    let sec = server.user("sec", &[(None, "security")]);
    let own = propose(
        &server,
        &dev.token,
        json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-low", "status": "false_positive", "reason": "fixture"}),
    )["id"]
        .as_i64()
        .expect("id");
    let org = propose(
        &server,
        &sec.token,
        json!({"scope": "advisory", "advisory": "GHSA-aaaa-bbbb-cccc", "package": "requests", "status": "mitigated",
               "vex_justification": "vulnerable_code_not_in_execute_path", "reason": "we never call it"}),
    )["id"]
        .as_i64()
        .expect("id");
    // A developer of another project sees the organisation's decision, not alpha's.
    assert_eq!(server.get(&format!("/api/v1/decisions/{own}"), Some(&other.token)).status, 404);
    assert_eq!(server.get(&format!("/api/v1/decisions/{org}"), Some(&other.token)).status, 200);
    let listed: Vec<i64> =
        server.all_pages("/api/v1/decisions", &other.token).iter().map(|d| d["id"].as_i64().expect("id")).collect();
    assert_eq!(listed, vec![org]);
    assert_eq!(act(&server, &other.token, own, "approve", None), 404);
    assert_eq!(server.get("/api/v1/projects/alpha/decisions", Some(&other.token)).status, 404);
    let (_, beta_push) = server.project_token("beta", "push");
    assert_eq!(server.get("/api/v1/projects/alpha/decisions", Some(&beta_push)).status, 404);
    assert_eq!(server.get("/api/v1/decisions", None).status, 401);
}

fn repository_decisions_are_shown(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let mut body =
        push_body("alpha", "run-1", &[stage("secrets", vec![r("fp-1", "rule.x", 7.5), r("fp-2", "rule.x", 7.5)])]);
    let decided = &mut body["sarif"]["runs"][0]["results"][0];
    decided["properties"]["sluice/triage"] = json!({"status": "false_positive", "reason": "a test fixture", "who": "alice",
        "when": "2026-11-30", "decision": ".sluice/triage.toml:4", "unrelated": "dropped"});
    decided["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": "a test fixture"}]);
    server.push(&push, &body).expect(201);
    let f1 = server.get("/api/v1/projects/alpha/findings/fp-1", Some(&server.admin)).expect(200).json();
    assert_eq!(
        f1["finding"]["repository_decision"],
        json!({"status": "false_positive", "reason": "a test fixture", "who": "alice", "when": "2026-11-30"})
    );
    assert_eq!(f1["finding"]["suppressed"], "external:accepted");
    let f2 = server.get("/api/v1/projects/alpha/findings/fp-2", Some(&server.admin)).expect(200).json();
    assert_eq!(f2["finding"]["repository_decision"], Value::Null);
    // The decision is removed from triage.toml: the next default-branch run says so.
    let body =
        push_body("alpha", "run-2", &[stage("secrets", vec![r("fp-1", "rule.x", 7.5), r("fp-2", "rule.x", 7.5)])]);
    server.push(&push, &body).expect(201);
    let f1 = server.get("/api/v1/projects/alpha/findings/fp-1", Some(&server.admin)).expect(200).json();
    assert_eq!(f1["finding"]["repository_decision"], Value::Null);
    assert_eq!(f1["finding"]["suppressed"], Value::Null);
}

/// A proposal whose answer was lost is sent again with the same `Idempotency-Key`: stored once,
/// however many copies race; the same key for another proposal is refused; a bad key is a 400.
fn a_proposal_sent_again_with_its_key_is_stored_once(backend: Backend) {
    let server = Server::start(backend);
    setup(&server);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let other = server.user("other", &[(Some("alpha"), "developer")]);
    let body = json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-low", "status": "false_positive",
                      "reason": "a fixture"});
    let send = |token: &str, key: &str, body: &Value| {
        server.request(
            "POST",
            "/api/v1/decisions",
            Some(token),
            Some(body.to_string().into_bytes()),
            &[("Idempotency-Key", key)],
        )
    };
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let r = send(&dev.token, "propose-7f3a", &body);
                    (r.status, r.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a thread")).collect()
    });
    assert!(answers.iter().all(|(status, _)| *status == 201), "{answers:?}");
    let ids: std::collections::BTreeSet<i64> = answers.iter().map(|(_, v)| v["id"].as_i64().expect("id")).collect();
    assert_eq!(ids.len(), 1, "one decision for one key: {ids:?}");
    let id = *ids.iter().next().expect("an id");
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM decisions"), 1);
    assert_eq!(server.sql_i64(&format!("SELECT COUNT(*) FROM decision_history WHERE decision_id = {id}")), 1);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'decision.propose'"), 1);

    // The same key for something else: refused, nothing stored.
    let mut changed = body.clone();
    changed["reason"] = json!("another reason");
    let refused = send(&dev.token, "propose-7f3a", &changed);
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(refused.text().contains("Idempotency-Key"), "{}", refused.text());
    // Keys are the proposer's: another person's same key is another proposal.
    assert_eq!(send(&other.token, "propose-7f3a", &body).status, 201);
    // Without a key, every request is a proposal.
    assert_eq!(server.post("/api/v1/decisions", Some(&dev.token), &body).status, 201);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM decisions"), 3);
    for bad in ["", "a b", "a/../b", &"k".repeat(129)] {
        let r = send(&dev.token, bad, &body);
        assert_eq!(r.status, 400, "key {bad:?}: {}", r.text());
    }
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM decisions"), 3);
}
