//! OIDC login against a real OpenID provider: the npm package `oidc-provider`, run on loopback
//! by `tests/fixtures/oidc-provider.mjs` (installed by scripts/install-test-tools.sh into
//! `$SLUICE_TOOLS/node`; without it these tests say so and pass, unless SLUICE_REQUIRE_TOOLS=1).
//! A browser is played over HTTP: a cookie jar, redirects followed by hand, the provider's
//! login and consent forms submitted.
//!
//! The pending-login and identity queries run on both backends without the provider.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::{Backend, Server};
use serde_json::{json, Value};
use sluice_server::oidc::{ClientSecret, Identity, Oidc, OidcConfig, OidcError};

backends! {
    pending_logins_are_spent_once => sqlite_pending_logins_are_spent_once, postgres_pending_logins_are_spent_once;
    identities_map_to_users => sqlite_identities_map_to_users, postgres_identities_map_to_users;
}

const CALLBACK: &str = "/api/v1/auth/oidc/callback";

fn tools_dir() -> PathBuf {
    std::env::var_os("SLUICE_TOOLS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp/sluice-tools"))
}

/// `node` and the `oidc-provider` package, or None (with a note) when they are not installed.
fn node_and_provider() -> Option<(PathBuf, PathBuf)> {
    let modules = tools_dir().join("node");
    let node =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("node")).find(|p| p.is_file()));
    match node {
        Some(node) if modules.join("node_modules/oidc-provider/package.json").is_file() => Some((node, modules)),
        _ => {
            assert!(
                std::env::var_os("SLUICE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
                "node and oidc-provider are required (SLUICE_REQUIRE_TOOLS=1) but not installed: run \
                 scripts/install-test-tools.sh"
            );
            eprintln!("note: node or oidc-provider not installed; skipping the OIDC login tests (run scripts/install-test-tools.sh)");
            None
        }
    }
}

/// The provider process; stopped when dropped (its stdin closes, then it is killed).
struct Provider {
    child: Child,
    issuer: String,
    secrets: BTreeMap<String, String>,
}

impl Provider {
    fn start(redirect_uri: &str) -> Option<Provider> {
        let (node, modules) = node_and_provider()?;
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc-provider.mjs");
        let mut child = Command::new(node)
            .arg(script)
            .arg(redirect_uri)
            .env("OIDC_PROVIDER_MODULES", &modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("the provider's first line");
        // The development interactions print to stdout: drained, so that node never writes to a
        // closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let hello: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("the provider did not start ({e}): {line:?}"));
        let secrets = hello["clients"]
            .as_object()
            .expect("clients")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a secret").to_owned()))
            .collect();
        Some(Provider { child, issuer: hello["issuer"].as_str().expect("issuer").to_owned(), secrets })
    }

    fn config(&self, client: &str, public_url: &str) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            client_id: client.to_owned(),
            client_secret: ClientSecret::new(self.secrets[client].clone()),
            public_url: public_url.to_owned(),
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose OIDC client is `sluice` at a provider started for it.
fn start() -> Option<(Server, Provider)> {
    node_and_provider()?;
    let mut provider = None;
    let server = Server::start_oidc(Backend::Sqlite, |base| {
        let p = Provider::start(&format!("{base}{CALLBACK}")).expect("the provider starts");
        let config = p.config("sluice", base);
        provider = Some(p);
        config
    });
    Some((server, provider.expect("the provider")))
}

/// A browser: cookies by name (every server here is 127.0.0.1), redirects not followed.
struct Browser {
    agent: ureq::Agent,
    cookies: Mutex<BTreeMap<String, String>>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
    set_cookies: Vec<String>,
}

impl Browser {
    fn new() -> Browser {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build(),
        );
        Browser { agent, cookies: Mutex::new(BTreeMap::new()) }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    fn set_cookie(&self, name: &str, value: Option<&str>) {
        let mut jar = self.cookies.lock().expect("jar");
        match value {
            Some(v) => jar.insert(name.to_owned(), v.to_owned()),
            None => jar.remove(name),
        };
    }

    fn request(&self, method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let cookie_header =
            self.cookies.lock().expect("jar").iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        if !cookie_header.is_empty() {
            builder = builder.header("cookie", cookie_header);
        }
        let result = match form {
            Some(form) => {
                let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                builder = builder.header("content-type", "application/x-www-form-urlencoded");
                self.agent.run(builder.body(body.into_bytes()).expect("a request"))
            }
            None => self.agent.run(builder.body(()).expect("a request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let header = |name: &str| -> Vec<String> {
            response
                .headers()
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect()
        };
        let location = header("location").into_iter().next();
        let set_cookies = header("set-cookie");
        for line in &set_cookies {
            let (pair, attributes) = line.split_once(';').unwrap_or((line.as_str(), ""));
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            let attributes = attributes.to_ascii_lowercase();
            let gone = value.is_empty() || attributes.contains("max-age=0") || attributes.contains("01 jan 1970");
            self.set_cookie(name, (!gone).then_some(value));
        }
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Page { status, location, body, set_cookies }
    }

    fn get(&self, url: &str) -> Page {
        self.request("GET", url, None)
    }

    /// From a URL at the provider, through its login and consent pages, to the redirect back to
    /// sluice's callback: that URL, not followed.
    fn through_provider(&self, mut url: String, issuer: &str, login: &str) -> String {
        for _ in 0..20 {
            if url.contains(CALLBACK) {
                return url;
            }
            let page = self.get(&url);
            let next = match (page.status, page.location) {
                (301..=303 | 307 | 308, Some(location)) => location,
                (200, None) if page.body.contains("name=\"login\"") => {
                    let to =
                        self.request("POST", &url, Some(&[("prompt", "login"), ("login", login), ("password", "x")]));
                    to.location.unwrap_or_else(|| panic!("login at the provider: {} {}", to.status, to.body))
                }
                (200, None) if page.body.contains("value=\"consent\"") => {
                    let to = self.request("POST", &url, Some(&[("prompt", "consent")]));
                    to.location.unwrap_or_else(|| panic!("consent at the provider: {} {}", to.status, to.body))
                }
                (status, _) => panic!("unexpected page at {url}: {status}: {}", page.body),
            };
            url = if next.starts_with('/') { format!("{issuer}{next}") } else { next };
        }
        panic!("no way back to sluice from the provider");
    }

    /// `start` at sluice: the provider URL it redirects to (and its state cookie kept).
    fn start(&self, server: &Server) -> String {
        let page = self.get(&format!("{}/api/v1/auth/oidc/start", server.base));
        assert_eq!(page.status, 302, "start: {}", page.body);
        let cookie = page.set_cookies.iter().find(|c| c.starts_with("sluice_oidc_state=")).expect("a state cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/v1/auth/oidc", "Max-Age=600"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        page.location.expect("a redirect to the provider")
    }

    /// A whole login as `login`, up to the URL of the callback.
    fn login_to_callback(&self, server: &Server, provider: &Provider, login: &str) -> String {
        let at_provider = self.start(server);
        self.through_provider(at_provider, &provider.issuer, login)
    }
}

fn me(server: &Server, token: &str) -> Value {
    server.get("/api/v1/me", Some(token)).expect(200).json()
}

#[test]
fn login_through_a_real_provider() {
    let Some((server, provider)) = start() else { return };
    let browser = Browser::new();
    let at_provider = browser.start(&server);
    for part in ["response_type=code", "client_id=sluice", "code_challenge_method=S256", "nonce=", "state="] {
        assert!(at_provider.contains(part), "{at_provider}");
    }
    assert!(at_provider.starts_with(&provider.issuer), "{at_provider}");
    let callback = browser.through_provider(at_provider, &provider.issuer, "alice");
    let page = browser.get(&callback);
    assert_eq!(page.status, 200, "callback: {}", page.body);
    let session: Value = serde_json::from_str(&page.body).expect("JSON");
    let token = session["token"].as_str().expect("a token");
    assert!(token.starts_with("sluice_ses_"), "{session}");
    assert_eq!(session["kind"], "session");
    assert!(session["expires_at"].is_string(), "{session}");
    assert_eq!(browser.cookie("sluice_oidc_state"), None, "the state cookie is cleared");
    let who = me(&server, token);
    assert_eq!(who["username"], "alice", "{who}");
    assert_eq!(who["roles"], json!([]), "a new user has no role: {who}");

    // The same callback again (the cookie put back, as a replaying attacker would): the state is spent.
    let state = callback.split("state=").nth(1).and_then(|s| s.split('&').next()).expect("state").to_owned();
    browser.set_cookie("sluice_oidc_state", Some(&state));
    let replay = browser.get(&callback);
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);

    // A second login is the same user; nobody else is made.
    let again = browser.get(&browser.login_to_callback(&server, &provider, "alice"));
    assert_eq!(again.status, 200, "{}", again.body);
    let second: Value = serde_json::from_str(&again.body).expect("JSON");
    assert_ne!(second["token"], session["token"]);
    assert_eq!(me(&server, second["token"].as_str().expect("token"))["username"], "alice");

    // A role granted by the admin is the OIDC user's.
    server.project("proj-alpha", "main");
    server
        .post("/api/v1/users/alice/roles", Some(&server.admin), &json!({"project": "proj-alpha", "role": "developer"}))
        .expect(200);
    server.get("/api/v1/projects/proj-alpha", Some(second["token"].as_str().expect("token"))).expect(200);

    // No preferred_username: the email's local part. A name taken by a local user: made unique,
    // never merged with the local account.
    // Each person in a browser of their own (the provider remembers who logged in).
    let browser = Browser::new();
    let bob = browser.get(&browser.login_to_callback(&server, &provider, "nouser:bob"));
    assert_eq!(bob.status, 200, "{}", bob.body);
    let bob: Value = serde_json::from_str(&bob.body).expect("JSON");
    assert_eq!(me(&server, bob["token"].as_str().expect("token"))["username"], "bob");
    let carol_local = server.user("carol", &[(None, "admin")]);
    let browser = Browser::new();
    let carol = browser.get(&browser.login_to_callback(&server, &provider, "carol"));
    assert_eq!(carol.status, 200, "{}", carol.body);
    let carol: Value = serde_json::from_str(&carol.body).expect("JSON");
    let carol_me = me(&server, carol["token"].as_str().expect("token"));
    assert_eq!(carol_me["username"], "carol-2", "{carol_me}");
    assert_eq!(carol_me["roles"], json!([]), "the local admin's roles are not the OIDC user's");
    assert_eq!(me(&server, &carol_local.token)["username"], "carol");
    let users = server.get("/api/v1/users", Some(&server.admin)).expect(200).json();
    let names: Vec<&str> = users.as_array().expect("users").iter().filter_map(|u| u["username"].as_str()).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("alice")).count(), 1, "{names:?}");

    // Audited, with the client's address; the client secret nowhere.
    let audit = server.get("/api/v1/audit?limit=500", Some(&server.admin)).expect(200);
    let text = audit.text();
    let rows = audit.json()["items"].as_array().cloned().unwrap_or_default();
    let logins: Vec<&Value> = rows.iter().filter(|r| r["action"] == "user.login").collect();
    assert_eq!(logins.len(), 4, "{text}");
    assert!(
        logins.iter().all(|r| r["addr"] == "127.0.0.1" && r["actor"].as_str().is_some_and(|a| a.starts_with("user:"))),
        "{text}"
    );
    let created: Vec<&Value> =
        rows.iter().filter(|r| r["action"] == "user.create" && r["detail"].to_string().contains("oidc")).collect();
    assert_eq!(created.len(), 3, "alice, bob, carol-2: {text}");
    assert!(!text.contains(&provider.secrets["sluice"]), "the client secret is in the audit log");
    let verify = server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json();
    assert_eq!(verify["intact"], json!(true), "{verify}");
    // The database holds the state's hash, not the state.
    assert_eq!(server.sql_i64(&format!("SELECT COUNT(*) FROM oidc_logins WHERE state_hash = '{state}'")), 0);
}

/// Started from the web pages (`/ui/login/oidc`), the callback answers the pages: the session
/// cookie (HttpOnly, SameSite=Strict, for `/ui`) and a page that refreshes to the portfolio;
/// a refused login is a page too. Started from the API, it still answers JSON.
#[test]
fn a_login_from_the_pages_lands_on_the_pages() {
    let Some((server, provider)) = start() else { return };
    let browser = Browser::new();
    let start = browser.get(&format!("{}/ui/login/oidc", server.base));
    assert_eq!(start.status, 302, "{}", start.body);
    let marker = start.set_cookies.iter().find(|c| c.starts_with("sluice_oidc_ui=1")).expect("the pages' marker");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/v1/auth/oidc"] {
        assert!(marker.contains(attribute), "{marker}");
    }
    let callback = browser.through_provider(start.location.expect("to the provider"), &provider.issuer, "dora");
    let page = browser.get(&callback);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("http-equiv=\"refresh\" content=\"0; url=/ui/\""), "{}", page.body);
    let session =
        page.set_cookies.iter().find(|c| c.starts_with("sluice_session=sluice_ses_")).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert_eq!(browser.cookie("sluice_oidc_ui"), None, "the marker is cleared");
    assert_eq!(browser.cookie("sluice_oidc_state"), None, "the state cookie is cleared");
    // The cookie is a session at the pages (dora has no role yet: an empty portfolio).
    let portfolio = browser.get(&format!("{}/ui/", server.base));
    assert_eq!(portfolio.status, 200, "{}", portfolio.body);
    assert!(portfolio.body.contains("dora"), "{}", portfolio.body);
    // A replayed callback from the pages: a page saying why, not JSON.
    let state = callback.split("state=").nth(1).and_then(|s| s.split('&').next()).expect("state").to_owned();
    browser.set_cookie("sluice_oidc_state", Some(&state));
    browser.set_cookie("sluice_oidc_ui", Some("1"));
    let replay = browser.get(&callback);
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("<h1>Login refused</h1>") && replay.body.contains("already used"), "{}", replay.body);
}

#[test]
fn a_login_must_come_back_to_its_browser_in_time() {
    let Some((server, provider)) = start() else { return };
    let browser = Browser::new();

    // Without the cookie the start set: refused, and the state is not spent by that.
    let callback = browser.login_to_callback(&server, &provider, "dave");
    let cookie = browser.cookie("sluice_oidc_state").expect("the state cookie");
    browser.set_cookie("sluice_oidc_state", None);
    let refused = browser.get(&callback);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("not started in this browser"), "{}", refused.body);
    browser.set_cookie("sluice_oidc_state", Some("another-login's-state"));
    assert_eq!(browser.get(&callback).status, 400);
    browser.set_cookie("sluice_oidc_state", Some(&cookie));
    let page = browser.get(&callback);
    assert_eq!(page.status, 200, "{}", page.body);

    // Older than its ten minutes (made so in the database): refused, spent.
    let callback = browser.login_to_callback(&server, &provider, "dave");
    assert_eq!(server.sql("UPDATE oidc_logins SET expires_at = 1"), Ok(1));
    let expired = browser.get(&callback);
    assert_eq!(expired.status, 400, "{}", expired.body);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM oidc_logins"), 0);

    // An error from the provider (the person said no) is passed on, bounded; it spends the state.
    browser.start(&server);
    let state = browser.cookie("sluice_oidc_state").expect("state");
    let denied = browser.get(&format!(
        "{}{CALLBACK}?state={state}&error=access_denied&error_description=End-User%20aborted%0Ainteraction",
        server.base
    ));
    assert_eq!(denied.status, 400, "{}", denied.body);
    assert!(denied.body.contains("access_denied: End-User aborted?interaction"), "{}", denied.body);

    // A code with no state, a state with no code.
    assert_eq!(browser.get(&format!("{}{CALLBACK}?code=abc", server.base)).status, 400);
    browser.start(&server);
    let state = browser.cookie("sluice_oidc_state").expect("state");
    let no_code = browser.get(&format!("{}{CALLBACK}?state={state}", server.base));
    assert_eq!(no_code.status, 400, "{}", no_code.body);
    assert!(no_code.body.contains("neither a code"), "{}", no_code.body);

    // A mix-up: the callback names another issuer.
    let callback = browser.login_to_callback(&server, &provider, "dave");
    let mixed = browser.get(&callback.replace("iss=", "iss=https%3A%2F%2Fevil.example&was="));
    assert_eq!(mixed.status, 400, "{}", mixed.body);
    assert!(mixed.body.contains("iss"), "{}", mixed.body);
}

#[test]
fn a_code_issued_to_another_client_is_refused() {
    let Some((server, provider)) = start() else { return };
    let browser = Browser::new();
    // The login sluice started, but taken at the provider as the client `other` (which has the
    // same redirect URI): the code that comes back is not sluice's to spend.
    let at_provider = browser.start(&server).replace("client_id=sluice", "client_id=other");
    let callback = browser.through_provider(at_provider, &provider.issuer, "mallory");
    let page = browser.get(&callback);
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("refused the code"), "{}", page.body);
    // Nobody was made.
    let users = server.get("/api/v1/users", Some(&server.admin)).expect(200).json();
    assert!(!users.to_string().contains("mallory"), "{users}");

    // Failed logins count towards the address's limit, shared with the password login.
    for _ in 0..20 {
        server
            .sql("INSERT INTO login_failures (username, addr, at) VALUES ('(oidc)', '127.0.0.1', 9999999999999)")
            .expect("a row");
    }
    let callback = browser.login_to_callback(&server, &provider, "erin");
    let limited = browser.get(&callback);
    assert_eq!(limited.status, 429, "{}", limited.body);
    let password =
        server.post("/api/v1/auth/login", None, &json!({"username": "admin", "password": "wrong password!"}));
    assert_eq!(password.status, 429, "{}", password.text());
}

#[test]
fn discovery_refuses_what_it_cannot_trust() {
    if node_and_provider().is_none() {
        return;
    }
    let provider = Provider::start("http://127.0.0.1:9/api/v1/auth/oidc/callback").expect("the provider");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let discover = |config: OidcConfig| rt.block_on(Oidc::discover(config));
    let good = provider.config("sluice", "http://127.0.0.1:9");
    let oidc = discover(good.clone()).expect("the provider is usable");
    assert_eq!(oidc.redirect_uri(), "http://127.0.0.1:9/api/v1/auth/oidc/callback");
    // The issuer must be exactly the one the document names.
    let mut slash = good.clone();
    slash.issuer.push('/');
    match discover(slash) {
        Err(OidcError::Config(m)) => assert!(m.contains("the document's issuer"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut plain = good.clone();
    plain.issuer = "http://idp.example.org".into();
    match discover(plain) {
        Err(OidcError::Config(m)) => assert!(m.contains("https"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut public = good.clone();
    public.public_url = "http://sluice.example.org".into();
    assert!(matches!(discover(public), Err(OidcError::Config(m)) if m.contains("--public-url")));
    let mut nothing = good;
    nothing.issuer = format!("{}/nowhere", provider.issuer);
    match discover(nothing) {
        Err(OidcError::Config(m)) => assert!(m.contains("404"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// The pending-login queries on either backend: taken once, by one of two callers at once.
fn pending_logins_are_spent_once(backend: Backend) {
    let server = Server::start(backend);
    let db = server.db.clone();
    let far = sluice_server::time::now_ms() + 600_000;
    server.block_on(async {
        db.oidc_begin("hash-1", "nonce-1", "verifier-1", far).await.expect("kept");
        db.oidc_begin("hash-old", "n", "v", 1).await.expect("kept");
        assert_eq!(
            db.oidc_take("hash-1").await.expect("taken"),
            Some(("nonce-1".to_owned(), "verifier-1".to_owned(), far))
        );
        assert_eq!(db.oidc_take("hash-1").await.expect("asked"), None, "spent");
        // An expired one is still taken (the caller says it expired), and forgotten by the next start.
        assert_eq!(db.oidc_take("hash-old").await.expect("taken").map(|t| t.2), Some(1));
        db.oidc_begin("hash-older", "n", "v", 1).await.expect("kept");
        db.oidc_begin("hash-2", "n", "v", far).await.expect("kept");
        assert_eq!(db.oidc_take("hash-older").await.expect("asked"), None, "forgotten");
        // Two callbacks with the same state at once: one gets it.
        let (a, b) = tokio::join!(db.oidc_take("hash-2"), db.oidc_take("hash-2"));
        assert_eq!(
            [a.expect("a"), b.expect("b")].iter().filter(|t| t.is_some()).count(),
            1,
            "exactly one of two takes gets the login"
        );
    });
}

/// Identities to users on either backend: by (issuer, subject) only, names made unique.
fn identities_map_to_users(backend: Backend) {
    let server = Server::start(backend);
    let db = server.db.clone();
    let id = |issuer: &str, subject: &str, hint: &str| Identity {
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        username_hint: hint.to_owned(),
    };
    let session = |login: sluice_server::db::Login| match login {
        sluice_server::db::Login::Token(t) => t.token,
        sluice_server::db::Login::Refused => panic!("refused"),
    };
    let (a, b, c, d) = server.block_on(async {
        let a = session(db.oidc_login(&id("https://one", "1", "admin"), "10.0.0.1").await.expect("first"));
        let b = session(db.oidc_login(&id("https://one", "1", "renamed"), "10.0.0.1").await.expect("again"));
        let c = session(db.oidc_login(&id("https://two", "1", "admin"), "10.0.0.1").await.expect("other issuer"));
        let d = session(db.oidc_login(&id("https://one", "2", "../bad name"), "10.0.0.1").await.expect("bad hint"));
        (a, b, c, d)
    });
    let name = |t: &str| me(&server, t)["username"].as_str().expect("name").to_owned();
    assert_eq!(name(&a), "admin-2", "the first admin keeps `admin`");
    assert_eq!(name(&b), "admin-2", "the same subject is the same user, whatever its name now");
    assert_eq!(name(&c), "admin-3", "the same subject at another issuer is someone else");
    assert_eq!(name(&d), "user");
    // A disabled user is refused.
    server.sql("UPDATE users SET disabled = 1 WHERE username = 'admin-2'").expect("disabled");
    let refused = server.block_on(db.oidc_login(&id("https://one", "1", "x"), "10.0.0.1")).expect("answered");
    assert!(matches!(refused, sluice_server::db::Login::Refused));
}
