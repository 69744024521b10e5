//! Who may do what: every endpoint of the API against every kind of caller, on both backends.
//! The expected statuses are the table below; on any difference the whole matrix is printed.
//! Reads of a project's runs, findings, documents and tokens by a caller who may not read the
//! project answer 404, as for a project that does not exist, so that names do not leak; and a
//! 2xx answer to a caller of project B alone never mentions project A.

mod common;

use common::{push_body, r, stage, Backend, Resp, Server};
use serde_json::{json, Value};

backends! {
    authorization_matrix => sqlite_authorization_matrix, postgres_authorization_matrix;
}

/// The callers, in the order of the table's columns.
const WHO: [&str; 14] = [
    "anonymous",
    "garbage",
    "unknown",
    "revoked",
    "expired",
    "admin",
    "org-security",
    "champion-a",
    "developer-a",
    "developer-b",
    "push-a",
    "read-a",
    "push-b",
    "org-token",
];

/// Callers who may read project A (alpha) and project B (beta).
const READS_A: [&str; 5] = ["admin", "org-security", "champion-a", "developer-a", "read-a"];
const READS_B: [&str; 3] = ["admin", "org-security", "developer-b"];
/// Callers who know of project A and B: their readers, their push tokens, and the
/// organisation token (which may push to, and so pull the decisions of, every project).
const KNOWS_A: [&str; 7] = ["admin", "org-security", "champion-a", "developer-a", "read-a", "push-a", "org-token"];
const KNOWS_B: [&str; 5] = ["admin", "org-security", "developer-b", "push-b", "org-token"];

#[rustfmt::skip]
fn table() -> Vec<(&'static str, [u16; 14])> {
    vec![
    //                                                anon garb unkn revk expd admn osec chmA devA devB pshA rdA  pshB org
        ("POST /runs (alpha)",                        [401, 401, 401, 401, 401, 201, 201, 201, 201, 404, 201, 404, 404, 201]),
        ("POST /runs (a new project)",                [401, 401, 401, 401, 401, 201, 404, 404, 404, 404, 404, 404, 404, 201]),
        ("GET /projects",                             [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 403, 200, 403, 403]),
        ("POST /projects",                            [401, 401, 401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /projects/alpha",                       [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /projects/missing",                     [401, 401, 401, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("GET /projects/alpha/runs",                  [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /runs/{alpha run}",                     [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /runs/{alpha run}/sarif",               [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /runs/{alpha run}/sbom",                [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /runs/{missing run}",                   [401, 401, 401, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("GET /runs/{beta run}",                      [401, 401, 401, 401, 401, 200, 200, 404, 404, 200, 404, 404, 404, 404]),
        ("GET /findings",                             [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 403, 200, 403, 403]),
        ("GET /findings?project=alpha",               [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /projects/alpha/findings/{fp}",         [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /projects/beta/findings/{fp}",          [401, 401, 401, 401, 401, 200, 200, 404, 404, 200, 404, 404, 404, 404]),
        ("POST /auth/login",                          [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /auth/oidc/start (not configured)",     [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("GET /auth/oidc/callback (not configured)",  [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("GET /me",                                   [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /users",                                [401, 401, 401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("POST /users",                               [401, 401, 401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("PUT /users/developer-a/password",           [401, 401, 401, 401, 401, 204, 403, 403, 204, 403, 403, 403, 403, 403]),
        ("POST /users/victim/roles",                  [401, 401, 401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("DELETE /users/victim/roles",                [401, 401, 401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /tokens",                               [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 403, 403, 403, 403]),
        ("POST /tokens (personal)",                   [401, 401, 401, 401, 401, 201, 201, 201, 201, 201, 403, 403, 403, 403]),
        ("POST /tokens (organisation)",               [401, 401, 401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /projects/alpha/tokens",                [401, 401, 401, 401, 401, 200, 200, 403, 403, 404, 404, 403, 404, 404]),
        ("POST /projects/alpha/tokens",               [401, 401, 401, 401, 401, 201, 201, 403, 403, 404, 404, 403, 404, 404]),
        ("DELETE /tokens/{an alpha push token}",      [401, 401, 401, 401, 401, 204, 204, 404, 404, 404, 404, 404, 404, 404]),
        ("DELETE /tokens/{developer-a's token}",      [401, 401, 401, 401, 401, 204, 404, 404, 204, 404, 404, 404, 404, 404]),
        ("DELETE /tokens/{missing}",                  [401, 401, 401, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("POST /decisions (alpha finding)",           [401, 401, 401, 401, 401, 201, 201, 201, 201, 404, 403, 403, 403, 403]),
        ("GET /decisions",                            [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 403, 200, 403, 403]),
        ("GET /decisions/{alpha decision}",           [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 404, 200, 404, 404]),
        ("GET /decisions/{org decision}",             [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
        ("POST /decisions/{alpha proposal}/approve",  [401, 401, 401, 401, 401, 200, 200, 403, 403, 404, 404, 403, 404, 404]),
        ("POST /decisions/{alpha proposal}/reject",   [401, 401, 401, 401, 401, 200, 200, 403, 403, 404, 404, 403, 404, 404]),
        ("POST /decisions/{alpha approved}/revoke",   [401, 401, 401, 401, 401, 200, 200, 403, 403, 404, 404, 403, 404, 404]),
        ("POST /decisions/{org proposal}/approve",    [401, 401, 401, 401, 401, 200, 200, 403, 403, 403, 404, 403, 404, 404]),
        ("GET /projects/alpha/decisions",             [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 200, 200, 404, 200]),
        ("GET /projects/alpha/decision-set",          [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 200, 200, 404, 200]),
        ("GET /server-key",                           [401, 401, 401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /decisions/export",                     [401, 401, 401, 401, 401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /vex",                                  [401, 401, 401, 401, 401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /vex?project=alpha",                    [401, 401, 401, 401, 401, 200, 200, 200, 200, 404, 200, 200, 404, 200]),
        ("GET /vex?project=missing",                  [401, 401, 401, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("GET /rules/noise",                          [401, 401, 401, 401, 401, 200, 200, 200, 403, 403, 403, 403, 403, 403]),
        ("GET /audit",                                [401, 401, 401, 401, 401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /audit/verify",                         [401, 401, 401, 401, 401, 200, 200, 403, 403, 403, 403, 403, 403, 403]),
        ("GET /healthz",                              [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /readyz",                               [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /api/openapi.json",                     [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("GET /api/v1/nothing",                       [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ]
}

struct World {
    server: Server,
    /// Each caller's bearer token (None: no Authorization header).
    tokens: Vec<Option<String>>,
    dev_a_session: String,
    login_password: String,
    alpha_run: i64,
    beta_run: i64,
}

fn setup(backend: Backend) -> World {
    let server = Server::start(backend);
    server.project("proj-alpha", "main");
    server.project("proj-beta", "main");
    let security = server.user("org-security", &[(None, "security")]);
    let champion = server.user("champion-a", &[(Some("proj-alpha"), "champion")]);
    let dev_a = server.user("developer-a", &[(Some("proj-alpha"), "developer")]);
    let dev_b = server.user("developer-b", &[(Some("proj-beta"), "developer")]);
    server.user("victim", &[]);
    let login = server.user("loginuser", &[]);
    let (_, push_a) = server.project_token("proj-alpha", "push");
    let (_, read_a) = server.project_token("proj-alpha", "read");
    let (_, push_b) = server.project_token("proj-beta", "push");
    let (_, org) = server.org_token();
    let (revoked_id, revoked) = server.personal_token(&dev_a.token);
    server.delete(&format!("/api/v1/tokens/{revoked_id}"), Some(&dev_a.token), None).expect(204);
    let (expired_id, expired) = server.personal_token(&dev_a.token);
    assert_eq!(server.sql(&format!("UPDATE tokens SET expires_at = 1 WHERE id = {expired_id}")), Ok(1));
    let unknown = sluice_server::auth::new_token(sluice_server::auth::TokenKind::Personal);
    assert!(sluice_server::auth::well_formed(&unknown));

    let mut alpha = push_body("proj-alpha", "seed", &[stage("secrets", vec![r("fp-alpha", "rule", 7.5)])]);
    alpha["sbom"] = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []});
    let alpha_run = server.push(&push_a, &alpha).expect(201).json()["run"].as_i64().expect("run");
    let beta = push_body("proj-beta", "seed", &[stage("secrets", vec![r("fp-beta", "rule", 7.5)])]);
    let beta_run = server.push(&push_b, &beta).expect(201).json()["run"].as_i64().expect("run");

    // An organisation-wide advisory decision in force, for the OpenVEX export.
    let advisory = json!({"scope": "advisory", "advisory": "GHSA-aaaa-bbbb-cccc", "package": "lodash",
                          "status": "false_positive", "vex_justification": "component_not_present", "reason": "not shipped"});
    let id = server.post("/api/v1/decisions", Some(&security.token), &advisory).expect(201).json()["id"]
        .as_i64()
        .expect("id");
    server.post(&format!("/api/v1/decisions/{id}/approve"), Some(&server.admin), &json!({})).expect(200);

    let tokens = vec![
        None,
        Some("garbage".to_owned()),
        Some(unknown),
        Some(revoked),
        Some(expired),
        Some(server.admin.clone()),
        Some(security.token),
        Some(champion.token),
        Some(dev_a.token.clone()),
        Some(dev_b.token),
        Some(push_a),
        Some(read_a),
        Some(push_b),
        Some(org),
    ];
    World { dev_a_session: dev_a.token, login_password: login.password, server, tokens, alpha_run, beta_run }
}

/// A new proposal by developer-a on alpha's high finding (the security role approves it).
fn alpha_proposal(world: &World) -> i64 {
    let body = json!({"project": "proj-alpha", "scope": "finding", "fingerprint": "fp-alpha",
                      "status": "false_positive", "reason": "fixture"});
    world.server.post("/api/v1/decisions", Some(&world.dev_a_session), &body).expect(201).json()["id"]
        .as_i64()
        .expect("id")
}

/// A new organisation-wide proposal by developer-a.
fn org_proposal(world: &World) -> i64 {
    let body = json!({"scope": "rule", "rule": "rule", "status": "false_positive", "reason": "noise"});
    world.server.post("/api/v1/decisions", Some(&world.dev_a_session), &body).expect(201).json()["id"]
        .as_i64()
        .expect("id")
}

/// Makes the request a row of the table names, as caller `who`.
fn call(world: &World, row: &str, who: usize) -> Resp {
    let s = &world.server;
    let token = world.tokens[who].as_deref();
    let name = WHO[who];
    let v1 = |path: &str| format!("/api/v1{path}");
    match row {
        "POST /runs (alpha)" => s.post(
            &v1("/runs"),
            token,
            &push_body("proj-alpha", &format!("m-{name}"), &[stage("secrets", vec![r("fp-alpha", "rule", 7.5)])]),
        ),
        "POST /runs (a new project)" => s.post(
            &v1("/runs"),
            token,
            &push_body(&format!("new-{name}"), "m", &[stage("secrets", vec![r("fp-new", "rule", 7.5)])]),
        ),
        "GET /projects" => s.get(&v1("/projects"), token),
        "POST /projects" => s.post(&v1("/projects"), token, &json!({"name": format!("made-by-{name}")})),
        "GET /projects/alpha" => s.get(&v1("/projects/proj-alpha"), token),
        "GET /projects/missing" => s.get(&v1("/projects/proj-missing"), token),
        "GET /projects/alpha/runs" => s.get(&v1("/projects/proj-alpha/runs"), token),
        "GET /runs/{alpha run}" => s.get(&v1(&format!("/runs/{}", world.alpha_run)), token),
        "GET /runs/{alpha run}/sarif" => s.get(&v1(&format!("/runs/{}/sarif", world.alpha_run)), token),
        "GET /runs/{alpha run}/sbom" => s.get(&v1(&format!("/runs/{}/sbom", world.alpha_run)), token),
        "GET /runs/{missing run}" => s.get(&v1("/runs/999999"), token),
        "GET /runs/{beta run}" => s.get(&v1(&format!("/runs/{}", world.beta_run)), token),
        "GET /findings" => s.get(&v1("/findings"), token),
        "GET /findings?project=alpha" => s.get(&v1("/findings?project=proj-alpha"), token),
        "GET /projects/alpha/findings/{fp}" => s.get(&v1("/projects/proj-alpha/findings/fp-alpha"), token),
        "GET /projects/beta/findings/{fp}" => s.get(&v1("/projects/proj-beta/findings/fp-beta"), token),
        "POST /auth/login" => {
            // The header, whatever it holds, plays no part in logging in.
            let body = json!({"username": "loginuser", "password": world.login_password});
            s.post(&v1("/auth/login"), token, &body)
        }
        // The matrix's server has no OIDC provider: both answer 404, whoever asks (tests/oidc.rs
        // has a provider; there, as here, no bearer token is read).
        "GET /auth/oidc/start (not configured)" => s.get(&v1("/auth/oidc/start"), token),
        "GET /auth/oidc/callback (not configured)" => s.get(&v1("/auth/oidc/callback?code=c&state=s"), token),
        "GET /me" => s.get(&v1("/me"), token),
        "POST /decisions (alpha finding)" => s.post(
            &v1("/decisions"),
            token,
            &json!({"project": "proj-alpha", "scope": "finding", "fingerprint": "fp-alpha",
                    "status": "false_positive", "reason": format!("by {name}")}),
        ),
        "GET /decisions" => s.get(&v1("/decisions"), token),
        "GET /decisions/{alpha decision}" => s.get(&v1(&format!("/decisions/{}", alpha_proposal(world))), token),
        "GET /decisions/{org decision}" => s.get(&v1(&format!("/decisions/{}", org_proposal(world))), token),
        "POST /decisions/{alpha proposal}/approve" => {
            s.post(&v1(&format!("/decisions/{}/approve", alpha_proposal(world))), token, &json!({}))
        }
        "POST /decisions/{alpha proposal}/reject" => {
            s.post(&v1(&format!("/decisions/{}/reject", alpha_proposal(world))), token, &json!({"note": "no"}))
        }
        "POST /decisions/{alpha approved}/revoke" => {
            let id = alpha_proposal(world);
            s.post(&v1(&format!("/decisions/{id}/approve")), Some(&s.admin), &json!({})).expect(200);
            s.post(&v1(&format!("/decisions/{id}/revoke")), token, &json!({"note": "no longer true"}))
        }
        "POST /decisions/{org proposal}/approve" => {
            s.post(&v1(&format!("/decisions/{}/approve", org_proposal(world))), token, &json!({}))
        }
        "GET /projects/alpha/decisions" => s.get(&v1("/projects/proj-alpha/decisions"), token),
        "GET /projects/alpha/decision-set" => s.get(&v1("/projects/proj-alpha/decision-set"), token),
        "GET /server-key" => s.get(&v1("/server-key"), token),
        "GET /decisions/export" => s.get(&v1("/decisions/export"), token),
        "GET /users" => s.get(&v1("/users"), token),
        "POST /users" => s.post(&v1("/users"), token, &json!({"username": format!("u-{name}")})),
        "PUT /users/developer-a/password" => s.put(
            &v1("/users/developer-a/password"),
            token,
            &json!({"password": format!("set by {name}, long enough")}),
        ),
        "POST /users/victim/roles" => {
            s.post(&v1("/users/victim/roles"), token, &json!({"project": "proj-alpha", "role": "developer"}))
        }
        "DELETE /users/victim/roles" => {
            s.delete(&v1("/users/victim/roles"), token, Some(&json!({"project": "proj-alpha", "role": "developer"})))
        }
        "GET /tokens" => s.get(&v1("/tokens"), token),
        "POST /tokens (personal)" => s.post(&v1("/tokens"), token, &json!({"name": "mine", "kind": "personal"})),
        "POST /tokens (organisation)" => s.post(&v1("/tokens"), token, &json!({"name": "org", "kind": "organisation"})),
        "GET /projects/alpha/tokens" => s.get(&v1("/projects/proj-alpha/tokens"), token),
        "POST /projects/alpha/tokens" => {
            s.post(&v1("/projects/proj-alpha/tokens"), token, &json!({"name": "ci", "scope": "read"}))
        }
        "DELETE /tokens/{an alpha push token}" => {
            let (id, _) = s.project_token("proj-alpha", "push");
            s.delete(&v1(&format!("/tokens/{id}")), token, None)
        }
        "DELETE /tokens/{developer-a's token}" => {
            let (id, _) = s.personal_token(&world.dev_a_session);
            s.delete(&v1(&format!("/tokens/{id}")), token, None)
        }
        "DELETE /tokens/{missing}" => s.delete(&v1("/tokens/999999"), token, None),
        "GET /vex" => s.get(&v1("/vex"), token),
        "GET /vex?project=alpha" => s.get(&v1("/vex?project=proj-alpha"), token),
        "GET /vex?project=missing" => s.get(&v1("/vex?project=proj-missing"), token),
        "GET /rules/noise" => s.get(&v1("/rules/noise"), token),
        "GET /audit" => s.get(&v1("/audit"), token),
        "GET /audit/verify" => s.get(&v1("/audit/verify"), token),
        "GET /healthz" => s.get("/healthz", token),
        "GET /readyz" => s.get("/readyz", token),
        "GET /api/openapi.json" => s.get("/api/openapi.json", token),
        "GET /api/v1/nothing" => s.get(&v1("/nothing"), token),
        other => panic!("no request for the row `{other}`"),
    }
}

/// What a 2xx answer may mention: a caller of B alone never sees A's name or finding, and
/// the reverse.
fn leaks(row: &str, who: &str, resp: &Resp) -> Option<String> {
    if !(200..300).contains(&resp.status) || row.starts_with("POST /runs") {
        return None;
    }
    let text = resp.text();
    for (name, fp, knowers) in [("proj-alpha", "fp-alpha", &KNOWS_A[..]), ("proj-beta", "fp-beta", &KNOWS_B[..])] {
        if knowers.contains(&who) {
            continue;
        }
        if text.contains(name) || text.contains(fp) {
            return Some(format!("mentions {name}: {}", &text[..text.len().min(300)]));
        }
    }
    // And those who may read see what is theirs.
    if matches!(row, "GET /projects" | "GET /findings") {
        for (name, readers) in [("proj-alpha", &READS_A[..]), ("proj-beta", &READS_B[..])] {
            if readers.contains(&who) && !text.contains(name) {
                return Some(format!("does not list {name}: {}", &text[..text.len().min(300)]));
            }
        }
    }
    None
}

fn authorization_matrix(backend: Backend) {
    let world = setup(backend);
    let table = table();
    let mut lines = Vec::new();
    let mut wrong = 0;
    let mut problems = Vec::new();
    for (row, expected) in &table {
        let mut cells = Vec::new();
        for (who, want) in expected.iter().enumerate() {
            let resp = call(&world, row, who);
            if resp.status >= 500 {
                problems.push(format!("{row} as {}: {} {}", WHO[who], resp.status, resp.text()));
            }
            if resp.status >= 400 {
                // Every refusal is the API's JSON error body.
                let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
                if !body["error"].is_string() || !body["message"].is_string() {
                    problems.push(format!(
                        "{row} as {}: {} without an error body: {}",
                        WHO[who],
                        resp.status,
                        resp.text()
                    ));
                }
            }
            if let Some(leak) = leaks(row, WHO[who], &resp) {
                problems.push(format!("{row} as {}: {leak}", WHO[who]));
            }
            if resp.status == *want {
                cells.push(format!("{:>4}", resp.status));
            } else {
                wrong += 1;
                cells.push(format!("{:>4}", format!("{}!", resp.status)));
                problems.push(format!("{row} as {}: {} (expected {want}): {}", WHO[who], resp.status, resp.text()));
            }
        }
        lines.push(format!("{row:<42}{}", cells.join(" ")));
    }
    let header = format!(
        "{:<42}{}",
        "",
        ["anon", "garb", "unkn", "revk", "expd", "admn", "osec", "chmA", "devA", "devB", "pshA", "rdA", "pshB", "org"]
            .iter()
            .map(|h| format!("{h:>4}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(
        problems.is_empty(),
        "{wrong} cells differ from the table (marked !)\n{header}\n{}\n\n{}",
        lines.join("\n"),
        problems.join("\n")
    );
    // The audit chain is whole after all that.
    let verify = world.server.get("/api/v1/audit/verify", Some(&world.server.admin)).expect(200).json();
    assert_eq!(verify["intact"], json!(true), "{verify}");
}
