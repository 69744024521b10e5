//! The server in-process, on 127.0.0.1:0, over SQLite (a temporary directory) or PostgreSQL
//! (a database of its own, copied from a migrated template), and a blocking HTTP client.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/postgres` (trust auth). One template
//! database per set of migrations (`sluice_tmpl_<hash of migrations/postgres>`) is made once,
//! under an advisory lock, since nextest runs each test in a process of its own; each test then
//! copies it (`CREATE DATABASE … TEMPLATE …`) and drops its copy when the server is dropped,
//! on a panic too.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sluice_server::api::{AppState, Metrics, RateLimiter};
use sluice_server::db::Db;
use sluice_server::ingest::Limits;
use sqlx::Connection;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432";
/// Held while the template database is looked for or made (any key of this suite's own).
const TEMPLATE_LOCK: i64 = 7_301_200_517;

/// The largest request body the test servers take (after decompression).
pub const MAX_BODY: usize = 1024 * 1024;
/// The limits the test servers apply to a push: small, so tests can go over them cheaply.
pub fn test_limits() -> Limits {
    Limits { max_results: 50, max_runs: 8, max_events: 10 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test function per backend: `backends!(body, sqlite_name, postgres_name);` defines
/// `#[test] fn sqlite_name()` and `#[test] fn postgres_name()`, each calling `body(Backend)`.
#[macro_export]
macro_rules! backends {
    ($($body:ident => $sqlite:ident, $postgres:ident;)*) => {
        $(
            #[test]
            fn $sqlite() {
                $body($crate::common::Backend::Sqlite)
            }
            #[test]
            fn $postgres() {
                $body($crate::common::Backend::Postgres)
            }
        )*
    };
}

/// An answer: status, headers, body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("status {}: body is not JSON ({e}): {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts the status, showing the body when it is not the one expected.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        self
    }
}

/// A user made through the API, with a session token from logging in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub token: String,
}

/// A running server and what it needs to stop cleanly.
pub struct Server {
    pub base: String,
    pub backend: Backend,
    /// The first admin's session token (from the one-time login token).
    pub admin: String,
    pub db: Db,
    /// The database's own URL (a path for SQLite), for statements made directly in SQL.
    pub db_url: String,
    agent: ureq::Agent,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    rt: Option<tokio::runtime::Runtime>,
    // Dropped after the runtime (and with it every connection) is gone.
    _pg: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test (in this process or another) uses.
pub fn unique(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl Server {
    pub fn start(backend: Backend) -> Server {
        Server::start_with(backend, test_limits(), MAX_BODY)
    }

    pub fn start_with(backend: Backend, limits: Limits, max_body: usize) -> Server {
        Server::start_full(backend, limits, max_body, |_| None)
    }

    /// A server with OIDC login: `oidc` is given the server's base URL (its public URL) and
    /// answers the configuration, discovered before the server answers.
    pub fn start_oidc(backend: Backend, oidc: impl FnOnce(&str) -> sluice_server::oidc::OidcConfig) -> Server {
        Server::start_full(backend, test_limits(), MAX_BODY, |base| Some(oidc(base)))
    }

    pub fn start_full(
        backend: Backend,
        limits: Limits,
        max_body: usize,
        oidc: impl FnOnce(&str) -> Option<sluice_server::oidc::OidcConfig>,
    ) -> Server {
        Server::start_keys(backend, limits, max_body, oidc, Vec::new())
    }

    /// A server that trusts these attestation keys (`DATA/attestation-keys/*.pub`).
    pub fn start_attest(backend: Backend, keys: Vec<sluice_server::attestations::TrustedKey>) -> Server {
        Server::start_keys(backend, test_limits(), MAX_BODY, |_| None, keys)
    }

    fn start_keys(
        backend: Backend,
        limits: Limits,
        max_body: usize,
        oidc: impl FnOnce(&str) -> Option<sluice_server::oidc::OidcConfig>,
        attestation_keys: Vec<sluice_server::attestations::TrustedKey>,
    ) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (db_url, pg, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = dir.path().join("sluice.db").to_string_lossy().into_owned();
                (url, None, Some(dir))
            }
            Backend::Postgres => {
                let pg = rt.block_on(PgDatabase::create());
                (pg.url(), Some(pg), None)
            }
        };
        let db = rt.block_on(Db::open(&db_url)).unwrap_or_else(|e| panic!("opening {db_url}: {e}"));
        let login_token = rt
            .block_on(db.bootstrap_admin())
            .expect("first start")
            .expect("a new database has no user, so the first start makes the admin");
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("listening on loopback");
        let addr = listener.local_addr().expect("the listener's address");
        let oidc = oidc(&format!("http://{addr}")).map(|config| {
            Arc::new(
                rt.block_on(sluice_server::oidc::Oidc::discover(config))
                    .unwrap_or_else(|e| panic!("OIDC discovery: {e}")),
            )
        });
        let master = sluice_server::keys::MasterKey::from_bytes([42; 32], "test");
        let keys = rt.block_on(sluice_server::keys::ServerKeys::load(&db, &master)).expect("the signing key");
        let state = AppState {
            db: db.clone(),
            keys: Arc::new(keys),
            attestation_keys: Arc::new(attestation_keys),
            limits,
            metrics: Arc::new(Metrics::default()),
            trusted_proxies: Arc::new(Vec::new()),
            limiter: Arc::new(RateLimiter::new(0)),
            oidc,
        };
        // The layers `sluice serve` puts around the router (serve.rs), but the log.
        let app = sluice_server::api::router(state, max_body)
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(60),
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::new());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                // A new connection per request: the server closes one whose request body it
                // did not read (a 401 before the body), which a pooled connection would
                // only find out on its next request.
                .max_idle_connections(0)
                .max_idle_connections_per_host(0)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        let mut server = Server {
            base: format!("http://{addr}"),
            backend,
            admin: String::new(),
            db,
            db_url,
            agent,
            shutdown: Some(tx),
            rt: Some(rt),
            _pg: pg,
            _dir: dir,
        };
        let session = server.post("/api/v1/auth/login", None, &json!({ "login_token": login_token })).expect(200);
        server.admin = session.json()["token"].as_str().expect("a session token").to_owned();
        server
    }

    /// Any request. `body` is sent as is; JSON unless `headers` say otherwise.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut builder = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            builder = builder.header("Content-Type", "application/json");
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let result = match body {
            Some(body) => self.agent.run(builder.body(body).expect("a request")),
            None => self.agent.run(builder.body(()).expect("a request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the answer: {e}"));
        Resp { status, headers, body }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request("GET", path, token, None, &[])
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request("POST", path, token, Some(body.to_string().into_bytes()), &[])
    }

    pub fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request("PUT", path, token, Some(body.to_string().into_bytes()), &[])
    }

    pub fn delete(&self, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
        self.request("DELETE", path, token, body.map(|b| b.to_string().into_bytes()), &[])
    }

    /// Pushes a run (`POST /api/v1/runs`).
    pub fn push(&self, token: &str, body: &Value) -> Resp {
        self.post("/api/v1/runs", Some(token), body)
    }

    /// Creates a project as the admin.
    pub fn project(&self, name: &str, default_branch: &str) {
        self.post("/api/v1/projects", Some(&self.admin), &json!({ "name": name, "default_branch": default_branch }))
            .expect(201);
    }

    /// Creates a user with a password, grants `roles` (project None: organisation-wide), and
    /// logs them in.
    pub fn user(&self, name: &str, roles: &[(Option<&str>, &str)]) -> TestUser {
        let password = format!("{name}-password-long-enough");
        self.post("/api/v1/users", Some(&self.admin), &json!({ "username": name, "password": password })).expect(201);
        for (project, role) in roles {
            self.post(
                &format!("/api/v1/users/{name}/roles"),
                Some(&self.admin),
                &json!({ "project": project, "role": role }),
            )
            .expect(200);
        }
        let token = self.login(name, &password);
        TestUser { name: name.to_owned(), password, token }
    }

    pub fn login(&self, name: &str, password: &str) -> String {
        let session =
            self.post("/api/v1/auth/login", None, &json!({ "username": name, "password": password })).expect(200);
        session.json()["token"].as_str().expect("a session token").to_owned()
    }

    /// A project token (`push` or `read`), made by the admin: (id, token).
    pub fn project_token(&self, project: &str, scope: &str) -> (i64, String) {
        let made = self
            .post(
                &format!("/api/v1/projects/{project}/tokens"),
                Some(&self.admin),
                &json!({ "name": format!("{scope} token"), "scope": scope }),
            )
            .expect(201)
            .json();
        (made["id"].as_i64().expect("id"), made["token"].as_str().expect("token").to_owned())
    }

    /// An organisation token, made by the admin: (id, token).
    pub fn org_token(&self) -> (i64, String) {
        let made = self
            .post("/api/v1/tokens", Some(&self.admin), &json!({ "name": "org push", "kind": "organisation" }))
            .expect(201)
            .json();
        (made["id"].as_i64().expect("id"), made["token"].as_str().expect("token").to_owned())
    }

    /// A personal token of the user whose session `session` is: (id, token).
    pub fn personal_token(&self, session: &str) -> (i64, String) {
        let made = self
            .post("/api/v1/tokens", Some(session), &json!({ "name": "personal", "kind": "personal" }))
            .expect(201)
            .json();
        (made["id"].as_i64().expect("id"), made["token"].as_str().expect("token").to_owned())
    }

    /// Every page of a list endpoint that pages with `cursor` (`path` may carry a query).
    pub fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_owned(),
            };
            let page = self.get(&url, Some(token)).expect(200).json();
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: the pages never end");
    }

    /// Runs a future on the server's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.as_ref().expect("the runtime").block_on(f)
    }

    /// Executes one statement directly on the database, beside the server: Err(message) when
    /// the database refuses it.
    pub fn sql(&self, statement: &str) -> Result<u64, String> {
        let statement = statement.to_owned();
        let url = self.db_url.clone();
        let backend = self.backend;
        self.block_on(async move {
            match backend {
                Backend::Sqlite => {
                    let mut conn =
                        sqlx::SqliteConnection::connect(&format!("sqlite://{url}")).await.map_err(|e| e.to_string())?;
                    let done = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
                    let _ = conn.close().await;
                    done.map(|d| d.rows_affected()).map_err(|e| e.to_string())
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                    let done = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
                    let _ = conn.close().await;
                    done.map(|d| d.rows_affected()).map_err(|e| e.to_string())
                }
            }
        })
    }

    /// One integer from a query made directly on the database.
    pub fn sql_i64(&self, query: &str) -> i64 {
        let query = query.to_owned();
        let url = self.db_url.clone();
        let backend = self.backend;
        self.block_on(async move {
            match backend {
                Backend::Sqlite => {
                    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{url}")).await.expect("connect");
                    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{query}: {e}"));
                    let _ = conn.close().await;
                    n
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{query}: {e}"));
                    let _ = conn.close().await;
                    n
                }
            }
        })
    }

    /// Text values of one column, read directly from the database.
    pub fn sql_texts(&self, query: &str) -> Vec<String> {
        let query = query.to_owned();
        let url = self.db_url.clone();
        let backend = self.backend;
        self.block_on(async move {
            match backend {
                Backend::Sqlite => {
                    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{url}")).await.expect("connect");
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{query}: {e}"));
                    let _ = conn.close().await;
                    rows
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{query}: {e}"));
                    let _ = conn.close().await;
                    rows
                }
            }
        })
    }

    /// Rows in `runs`, read directly: what a refused push must not have added to.
    pub fn run_rows(&self) -> i64 {
        self.sql_i64("SELECT COUNT(*) FROM runs")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(rt) = self.rt.take() {
            let db = self.db.clone();
            rt.block_on(async move { db.close().await });
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// A PostgreSQL database of one test, dropped with it.
pub struct PgDatabase {
    name: String,
}

impl PgDatabase {
    async fn create() -> PgDatabase {
        let template = ensure_template().await;
        let name = unique("sluice_test");
        let mut conn = admin_connection().await;
        let statement = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        let mut attempt = 0;
        loop {
            match sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&mut conn).await {
                Ok(_) => break,
                // Another process copying the template at the same moment.
                Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{statement}: {e}"),
            }
        }
        let _ = conn.close().await;
        PgDatabase { name }
    }

    fn url(&self) -> String {
        format!("{PG_BASE}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            eprintln!("cannot drop the test database {name}: no runtime");
            return;
        };
        rt.block_on(async move {
            match sqlx::PgConnection::connect(PG_ADMIN_URL).await {
                Ok(mut conn) => {
                    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await {
                        eprintln!("cannot drop the test database {name}: {e}");
                    }
                    let _ = conn.close().await;
                }
                Err(e) => eprintln!("cannot drop the test database {name}: {e}"),
            }
        });
    }
}

async fn admin_connection() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(PG_ADMIN_URL)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {PG_ADMIN_URL} (trust auth, user postgres): {e}"))
}

/// The SHA-256 of the PostgreSQL migrations (names and contents, in order).
fn migrations_hash() -> String {
    use sha2::{Digest, Sha256};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let body = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((body.len() as u64).to_be_bytes());
        h.update(&body);
    }
    hex::encode(h.finalize())
}

/// The migrated template database for these migrations, made by whichever test process gets
/// there first. Also drops test databases whose process is gone (killed before its guard ran).
async fn ensure_template() -> String {
    let name = format!("sluice_tmpl_{}", &migrations_hash()[..16]);
    let mut conn = admin_connection().await;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut conn).await.expect("advisory lock");
    let result = make_template(&mut conn, &name).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut conn).await;
    let _ = conn.close().await;
    if let Err(e) = result {
        panic!("making the template database {name}: {e}");
    }
    name
}

async fn make_template(conn: &mut sqlx::PgConnection, name: &str) -> Result<(), String> {
    let err = |e: sqlx::Error| e.to_string();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(err)?;
    // Leftovers of test processes that were killed.
    let tests: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'sluice\\_test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .map_err(err)?;
    for db in tests {
        let pid = db.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")))
                .execute(&mut *conn)
                .await;
        }
    }
    if exists {
        return Ok(());
    }
    let building = format!("{name}_building");
    for statement in
        [format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"), format!("CREATE DATABASE \"{building}\"")]
    {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await.map_err(err)?;
    }
    let db = Db::open(&format!("{PG_BASE}/{building}")).await.map_err(|e| e.to_string())?;
    db.close().await;
    // Renamed only once migrated, so a template that exists is a complete one; then closed to
    // connections, so copying it never finds someone connected.
    let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"");
    let mut attempt = 0;
    loop {
        match sqlx::query(sqlx::AssertSqlSafe(rename.clone())).execute(&mut *conn).await {
            Ok(_) => break,
            Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
    )))
    .execute(&mut *conn)
    .await
    .map_err(err)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SARIF logs and pushes

/// One result of a sluice SARIF log.
#[derive(Debug, Clone)]
pub struct R {
    pub fingerprint: String,
    pub rule: String,
    /// `security-severity`: 9.5 critical, 7.5 high, 5.0 medium, 2.0 low, 0.0 info.
    pub score: f64,
    pub message: String,
    pub path: String,
    pub line: i64,
}

pub fn r(fingerprint: &str, rule: &str, score: f64) -> R {
    R {
        fingerprint: fingerprint.to_owned(),
        rule: rule.to_owned(),
        score,
        message: format!("{rule} at {fingerprint}"),
        path: format!("src/{fingerprint}.rs"),
        line: 3,
    }
}

impl R {
    pub fn to_json(&self) -> Value {
        json!({
            "ruleId": self.rule,
            "level": "warning",
            "message": { "text": self.message },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": self.path },
                "region": { "startLine": self.line }
            }}],
            "partialFingerprints": { "sluice/v1": self.fingerprint },
            "properties": { "security-severity": format!("{:.1}", self.score) }
        })
    }
}

/// One run (a stage) of a log.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub succeeded: bool,
    /// `sluice/scope` on the run: `changed` for a run over changed files only.
    pub scope: Option<String>,
    pub results: Vec<R>,
}

pub fn stage(name: &str, results: Vec<R>) -> Stage {
    Stage { name: name.to_owned(), succeeded: true, scope: None, results }
}

impl Stage {
    pub fn failed(mut self) -> Self {
        self.succeeded = false;
        self
    }

    pub fn changed_only(mut self) -> Self {
        self.scope = Some("changed".into());
        self
    }

    pub fn to_json(&self) -> Value {
        let mut run = json!({
            "tool": { "driver": { "name": "sluice", "rules": [] } },
            "automationDetails": { "id": format!("sluice/{}/", self.name) },
            "invocations": [{ "executionSuccessful": self.succeeded }],
            "results": self.results.iter().map(R::to_json).collect::<Vec<_>>()
        });
        if let Some(scope) = &self.scope {
            run["properties"] = json!({ "sluice/scope": scope });
        }
        run
    }
}

pub fn sarif(stages: &[Stage]) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": stages.iter().map(Stage::to_json).collect::<Vec<_>>()
    })
}

/// A push of `stages` to `project` from its default branch `main`.
pub fn push_body(project: &str, run_id: &str, stages: &[Stage]) -> Value {
    json!({
        "project": project,
        "run_id": run_id,
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "branch": "main",
        "default_branch": "main",
        "sarif": sarif(stages),
    })
}

// ---------------------------------------------------------------------------------------------
// Credentials in real formats, assembled at run time so no file of the repository holds one.

/// A GitHub classic personal access token with a valid CRC32 checksum (30 characters of
/// payload), as `crates/sluice/tests/common/mod.rs` makes them.
pub fn github_token(payload: &str) -> String {
    assert_eq!(payload.len(), 30);
    const ALPHA: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = crc32fast::hash(payload.as_bytes());
    let mut sum = Vec::new();
    while n > 0 {
        sum.push(ALPHA[(n % 62) as usize]);
        n /= 62;
    }
    while sum.len() < 6 {
        sum.push(b'0');
    }
    sum.reverse();
    format!("{}{payload}{}", ["gh", "p_"].concat(), String::from_utf8(sum).expect("ascii"))
}

/// An AWS access key id and its secret access key (fake, real format).
pub fn aws_key_pair() -> (String, String) {
    (["AKIA", "Q7ZR2WXK5TBN3HJM"].concat(), ["Hq8vX2mPz7LcN4tR", "w9YbK3sDf6GjU1eA5oZiQ0nE"].concat())
}

/// Inflates a gzip body.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a gzip body");
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}
