//! The server's signing key and what it signs, on both backends: the decision set a project
//! applies (DSSE, verified with `/server-key`; `ETag` and 304), the decision log's export with
//! every decision's history, a changed payload that no longer verifies, replicas starting
//! together that end with one key, and a wrong master key that stops the start with a clear
//! error instead of a new key.

mod common;

use base64::Engine as _;
use common::{push_body, r, stage, Backend, Server};
use serde_json::{json, Value};
use sluice_policy::attest;
use sluice_server::keys::{MasterKey, ServerKeys};

backends! {
    decision_sets_are_signed_and_revalidate => sqlite_decision_sets_are_signed_and_revalidate, postgres_decision_sets_are_signed_and_revalidate;
    replicas_share_one_key_and_a_wrong_master_key_is_refused => sqlite_replicas_share_one_key_and_a_wrong_master_key_is_refused, postgres_replicas_share_one_key_and_a_wrong_master_key_is_refused;
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn payload(envelope: &Value) -> Value {
    let bytes = b64().decode(envelope["payload"].as_str().expect("payload")).expect("base64");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn header<'r>(resp: &'r common::Resp, name: &str) -> Option<&'r str> {
    resp.header(name)
}

fn decision_sets_are_signed_and_revalidate(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let log = [stage("sast", vec![r("fp-critical", "rule.critical", 9.5)])];
    server.push(&push, &push_body("alpha", "run-1", &log)).expect(201);
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let sec = server.user("sec", &[(None, "security")]);

    let key_doc = server.get("/api/v1/server-key", Some(&push)).expect(200).json();
    let key = attest::verifying_key("server-key", key_doc["public_key"].as_str().expect("pem")).expect("SPKI PEM");
    assert_eq!(key_doc["keyid"], attest::key_id(&key));
    assert!(!key_doc.to_string().contains("PRIVATE"), "only the public key is served");

    // Nothing approved yet: a signed, empty set.
    let first = server.get("/api/v1/projects/alpha/decision-set", Some(&push)).expect(200);
    let empty_etag = header(&first, "etag").expect("an ETag").to_owned();
    let (kind, bytes) = attest::verify_envelope("set", &first.text(), &key).expect("the signature verifies");
    assert_eq!(kind, attest::DECISIONS_PAYLOAD_TYPE);
    let set: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(set["_type"], attest::DECISION_SET_TYPE);
    assert_eq!(set["project"], "alpha");
    assert_eq!(set["decisions"], json!([]));

    let proposal = server
        .post(
            "/api/v1/decisions",
            Some(&dev.token),
            &json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-critical", "status": "false_positive",
                   "reason": "a test fixture"}),
        )
        .expect(201)
        .json();
    let id = proposal["id"].as_i64().expect("id");
    // A proposal applies nothing, but the set lists it as pending (for the merge request).
    let proposed = server.request(
        "GET",
        "/api/v1/projects/alpha/decision-set",
        Some(&push),
        None,
        &[("If-None-Match", &empty_etag)],
    );
    assert_eq!(proposed.status, 200, "the pending list changed");
    let pending_etag = header(&proposed, "etag").expect("an ETag").to_owned();
    let set = payload(&proposed.json());
    assert_eq!(set["decisions"], json!([]), "a proposal applies nothing");
    assert_eq!(set["pending"][0]["id"], id);
    assert_eq!(set["pending"][0]["state"], "proposed");
    assert_eq!(set["pending"][0]["required_role"], "security", "it covers a critical finding");
    // An organisation-wide re-rating of a rule, and a re-rating refused where it means nothing.
    let rerate = server
        .post(
            "/api/v1/decisions",
            Some(&dev.token),
            &json!({"scope": "rule", "rule": "rule.critical", "status": "confirmed", "set_severity": "low",
                   "reason": "noisy for us"}),
        )
        .expect(201)
        .json();
    assert_eq!(rerate["set_severity"], "low");
    assert_eq!(rerate["required_role"], "security", "organisation-wide");
    let refused = server.post(
        "/api/v1/decisions",
        Some(&dev.token),
        &json!({"project": "alpha", "scope": "finding", "fingerprint": "fp-critical", "status": "false_positive",
               "set_severity": "low", "reason": "r"}),
    );
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("set_severity"), "{}", refused.text());
    let org_pending = server.get("/api/v1/projects/alpha/decision-set", Some(&push)).expect(200);
    assert_eq!(
        header(&org_pending, "etag"),
        Some(pending_etag.as_str()),
        "an organisation-wide proposal is not the project's"
    );
    let rerate_id = rerate["id"].as_i64().expect("id");
    server.post(&format!("/api/v1/decisions/{rerate_id}/approve"), Some(&sec.token), &json!({})).expect(200);
    let rerated = payload(&server.get("/api/v1/projects/alpha/decision-set", Some(&push)).expect(200).json());
    assert_eq!(rerated["decisions"][0]["id"], rerate_id);
    assert_eq!(rerated["decisions"][0]["set_severity"], "low");
    server
        .post(&format!("/api/v1/decisions/{rerate_id}/revoke"), Some(&sec.token), &json!({"note": "undo"}))
        .expect(200);

    server.post(&format!("/api/v1/decisions/{id}/approve"), Some(&sec.token), &json!({})).expect(200);
    let approved = server.request(
        "GET",
        "/api/v1/projects/alpha/decision-set",
        Some(&push),
        None,
        &[("If-None-Match", &empty_etag)],
    );
    assert_eq!(approved.status, 200, "an approval changes the set");
    let etag = header(&approved, "etag").expect("an ETag").to_owned();
    assert_ne!(etag, empty_etag);
    let envelope: Value = approved.json();
    let set = payload(&envelope);
    assert_eq!(set["decisions"][0]["id"], id);
    assert_eq!(set["decisions"][0]["decided_by"], "user:sec");
    assert_eq!(set["decisions"][0]["decided_role"], "security");
    // The ETag covers the decisions, not the issue time: asked again, same ETag; with it, 304.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = server.get("/api/v1/projects/alpha/decision-set", Some(&push)).expect(200);
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    assert_ne!(payload(&again.json())["issued_at"], set["issued_at"]);
    server
        .request("GET", "/api/v1/projects/alpha/decision-set", Some(&push), None, &[("If-None-Match", &etag)])
        .expect(304);

    // A changed payload does not verify.
    let mut forged = envelope.clone();
    let mut changed = set.clone();
    changed["decisions"][0]["reason"] = json!("something else");
    forged["payload"] = json!(b64().encode(serde_json::to_vec(&changed).expect("JSON")));
    let err = attest::verify_envelope("set", &forged.to_string(), &key).expect_err("a forgery");
    assert!(matches!(err, attest::AttestError::BadSignature { .. }), "{err}");

    // Revoked: gone from the set; the log keeps it, with its whole history, signed.
    server.post(&format!("/api/v1/decisions/{id}/revoke"), Some(&sec.token), &json!({"note": "fixed"})).expect(200);
    let after =
        server.request("GET", "/api/v1/projects/alpha/decision-set", Some(&push), None, &[("If-None-Match", &etag)]);
    assert_eq!(after.status, 200);
    assert_eq!(payload(&after.json())["decisions"], json!([]));
    assert_eq!(payload(&after.json())["pending"], json!([]));
    assert_eq!(header(&after, "etag"), Some(empty_etag.as_str()), "the same decisions, the same ETag");
    server.get("/api/v1/decisions/export", Some(&dev.token)).expect(403);
    let export = server.get("/api/v1/decisions/export", Some(&sec.token)).expect(200);
    let (_, bytes) = attest::verify_envelope("log", &export.text(), &key).expect("the log verifies");
    let log: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(log["_type"], attest::DECISION_LOG_TYPE);
    let actions: Vec<&str> = log["decisions"][0]["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["proposed", "approved", "revoked"]);
}

fn replicas_share_one_key_and_a_wrong_master_key_is_refused(backend: Backend) {
    let server = Server::start(backend);
    let served = server.get("/api/v1/server-key", Some(&server.admin)).expect(200).json();
    // Replicas starting at once with the same master key: each loads (or would insert) the key.
    let keyids: Vec<String> = server.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let db = server.db.clone();
                tokio::spawn(async move {
                    let master = MasterKey::from_bytes([42; 32], "test");
                    ServerKeys::load(&db, &master).await.map(|k| k.keyid().to_owned()).map_err(|e| format!("{e:#}"))
                })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.expect("the task").expect("the key"));
        }
        ids
    });
    assert!(keyids.iter().all(|k| k == served["keyid"].as_str().expect("keyid")), "{keyids:?} vs {served}");
    let err = server
        .block_on(ServerKeys::load(&server.db, &MasterKey::from_bytes([7; 32], "--key-file other.key")))
        .expect_err("another master key");
    let message = format!("{err:#}");
    assert!(message.contains("does not decrypt") && message.contains("other.key"), "{message}");
    // The stored key was not replaced.
    let still = server.get("/api/v1/server-key", Some(&server.admin)).expect(200).json();
    assert_eq!(still["keyid"], served["keyid"]);
}
