//! Contract tests of `sluice serve` with schemathesis (PyPI): a real server on loopback, with a
//! project, a pushed run, users, roles and tokens in it, is driven from its own OpenAPI document
//! (`/api/openapi.json`) and every answer is checked: no 5xx, the status code is one the
//! document lists for that operation, and the body's media type and content conform to what
//! it gives. On SQLite and on PostgreSQL (127.0.0.1:5432), which differ on odd text.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{find_tool, tools_dir};

fn schemathesis() -> Option<PathBuf> {
    find_tool("schemathesis", &[tools_dir().join("venv/bin/schemathesis")])
}

/// `sluice serve` on a free loopback port, stopped (and reaped) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
    data: tempfile::TempDir,
    /// The PostgreSQL database this server uses, dropped with it.
    postgres: Option<Postgres>,
}

/// A database of its own on the PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres).
struct Postgres {
    psql: PathBuf,
    name: String,
}

impl Postgres {
    /// None (with a note) when there is no PostgreSQL to use; CI (SLUICE_REQUIRE_TOOLS=1)
    /// fails instead.
    fn create() -> Option<Postgres> {
        let psql = find_tool("psql", &[PathBuf::from("/usr/bin/psql")])?;
        let up = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], 5432).into(), Duration::from_secs(2)).is_ok();
        if !up {
            assert!(
                std::env::var_os("SLUICE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
                "PostgreSQL is required (SLUICE_REQUIRE_TOOLS=1) but nothing listens on 127.0.0.1:5432"
            );
            eprintln!("note: no PostgreSQL on 127.0.0.1:5432; skipping the PostgreSQL contract test");
            return None;
        }
        let name = format!("sluice_contract_{}", std::process::id());
        let db = Postgres { psql, name };
        db.sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name));
        db.sql(&format!("CREATE DATABASE {}", db.name));
        Some(db)
    }

    fn sql(&self, sql: &str) {
        let out = Command::new(&self.psql)
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(&self.psql)
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .output();
    }
}

impl Server {
    fn start(postgres: Option<Postgres>) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let log = data.path().join("server.log");
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sluice"));
        if let Some(db) = &postgres {
            cmd.args(["serve", "--database", &db.url()]);
        } else {
            cmd.arg("serve");
        }
        let child = cmd
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--data"])
            .arg(data.path().join("server"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("sluice serve starts");
        let mut server = Server { child, base: String::new(), log, data, postgres };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = server.log_text();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().expect("an address");
                server.base = format!("http://{addr}");
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("sluice serve exited ({status}) before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "sluice serve did not listen within 30 s:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.data.path().join("server")
    }

    /// A JSON request to `/api/v1`; the status and the parsed body.
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let agent = ureq::Agent::new_with_config(ureq::Agent::config_builder().http_status_as_error(false).build());
        let url = format!("{}/api/v1{path}", self.base);
        let auth = token.map(|t| format!("Bearer {t}"));
        let response = match (method, body) {
            ("GET", _) => {
                let mut req = agent.get(&url);
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            (_, body) => {
                let mut req = agent.post(&url).header("Content-Type", "application/json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.send(body.unwrap_or(serde_json::Value::Null).to_string())
            }
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let mut text = String::new();
        response.body_mut().as_reader().read_to_string(&mut text).expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The server is gone before its database is dropped.
        self.postgres.take();
    }
}

/// Fills the server: the admin's session, a second user with a project role, a project with a
/// pushed run (through `sluice push`, with the organisation token), project tokens. Returns the
/// admin's session token.
fn populate(server: &Server) -> String {
    let login_token = std::fs::read_to_string(server.data().join("first-admin-login-token")).expect("login token");
    let (status, session) =
        server.call("POST", "/auth/login", None, Some(serde_json::json!({"login_token": login_token.trim()})));
    assert_eq!(status, 200, "login: {session}");
    let session = session["token"].as_str().expect("a session token").to_owned();
    let auth = Some(session.as_str());

    let (status, body) = server.call(
        "POST",
        "/projects",
        auth,
        Some(serde_json::json!({"name": "contract-demo", "default_branch": "main"})),
    );
    assert_eq!(status, 201, "create project: {body}");
    let (status, body) = server.call(
        "POST",
        "/users",
        auth,
        Some(serde_json::json!({"username": "dev", "password": "a long enough password"})),
    );
    assert_eq!(status, 201, "create user: {body}");
    let (status, body) = server.call(
        "POST",
        "/users/dev/roles",
        auth,
        Some(serde_json::json!({"project": "contract-demo", "role": "developer"})),
    );
    assert_eq!(status, 200, "grant role: {body}");
    let (status, body) = server.call(
        "POST",
        "/projects/contract-demo/tokens",
        auth,
        Some(serde_json::json!({"name": "ci", "scope": "push"})),
    );
    assert_eq!(status, 201, "project token: {body}");
    let (status, org) =
        server.call("POST", "/tokens", auth, Some(serde_json::json!({"name": "org", "kind": "organisation"})));
    assert_eq!(status, 201, "organisation token: {org}");

    // A run, pushed the way CI pushes it.
    let repo = tempfile::tempdir().expect("tempdir");
    let sarif = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gate/results.sarif");
    let out = Command::new(assert_cmd::cargo::cargo_bin("sluice"))
        .arg("push")
        .arg(repo.path())
        .args(["--server", &server.base, "--project", "contract-demo", "--run-id", "contract-1"])
        .args(["--branch", "main", "--default-branch", "main", "--commit", "0123456789abcdef0123456789abcdef01234567"])
        .arg("--results")
        .arg(&sarif)
        .env("SLUICE_TOKEN", org["token"].as_str().expect("token"))
        .env("NO_COLOR", "1")
        .env("CI", "1")
        .output()
        .expect("sluice push runs");
    assert!(out.status.success(), "sluice push: {}\n{}", String::from_utf8_lossy(&out.stderr), server.log_text());
    let (status, findings) = server.call("GET", "/findings?project=contract-demo", auth, None);
    assert_eq!(status, 200, "findings: {findings}");
    assert!(!findings["items"].as_array().expect("items").is_empty(), "the pushed run has findings: {findings}");
    session
}

/// Runs schemathesis over the operations `filter` selects; its output when a check fails.
fn run_schemathesis(tool: &Path, server: &Server, token: &str, filter: &[&str]) -> Result<(), String> {
    let work = tempfile::tempdir().expect("tempdir");
    let out = Command::new(tool)
        .current_dir(work.path())
        .arg("run")
        .arg(format!("{}/api/openapi.json", server.base))
        .args(["--url", &format!("{}/api/v1", server.base)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        // Bounded and reproducible: a fixed seed, few examples per operation.
        .args(["--max-examples", "5", "--seed", "20261206", "--workers", "2", "--request-timeout", "20"])
        .args(["--phases", "coverage,fuzzing"])
        .args(["--suppress-health-check", "all", "--warnings", "off", "--no-color"])
        .args(filter)
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr)))
    }
}

/// Fills a server and runs schemathesis over every operation.
fn contract(server: Server) {
    let Some(tool) = schemathesis() else { return };
    let token = populate(&server);

    // The operations that can take the caller's own access away run last, on their own:
    // schemathesis picks token ids and user names at random and from what it has seen, and
    // revoking the admin's session (id 2 on a new server) or role would turn every later
    // request into a 401 or a 403 and so test nothing more.
    let own_access = r"^/(tokens/\{id\}|users/\{username\}/roles)$";
    let first = run_schemathesis(&tool, &server, &token, &["--exclude-path-regex", own_access]);
    let second = run_schemathesis(&tool, &server, &token, &["--include-path-regex", own_access]);
    let log = server.log_text();
    drop(server);
    let failures: Vec<String> = [first, second].into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{}\nserver log (last 40 lines):\n{}",
        failures.join("\n"),
        log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    // The server logs the cause of every 500 it answers; none may be there.
    assert!(!log.contains("storage error"), "the server hit storage errors:\n{log}");
}

#[test]
fn the_api_keeps_its_openapi_contract_on_sqlite() {
    if schemathesis().is_none() {
        return;
    }
    contract(Server::start(None));
}

#[test]
fn the_api_keeps_its_openapi_contract_on_postgres() {
    if schemathesis().is_none() {
        return;
    }
    let Some(db) = Postgres::create() else { return };
    contract(Server::start(Some(db)));
}
