//! The web pages under `/ui`: sessions, CSRF, headers, escaping and who sees what over HTTP on
//! both backends; then in a real browser (Debian's Chromium driven by playwright-core, run by
//! `tests/browser/pages.mjs`): the journey a champion takes (log in, portfolio, finding, approve
//! a proposal, see the finding suppressed, impact search, download evidence) and hostile
//! repository strings on every page. Without node, playwright-core or Chromium the browser
//! tests say so and pass, unless SLUICE_REQUIRE_TOOLS=1 (as scripts/test and CI set it).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{push_body, r, stage, Backend, Server, Stage, R};
use serde_json::{json, Value};

const PROJECT: &str = "payments-api";
const OTHER: &str = "billing";
const FINDING: &str = "fp-medium-password";
const PACKAGE: &str = "lodash";

/// Payloads a repository controls, each of which would set `window.__pwned` if it ran.
const SCRIPT: &str = "<script>window.__pwned=1</script>";
const IMG: &str = "\"><img src=x onerror=\"window.__pwned=1\">";
const JS_URL: &str = "javascript:window.__pwned=1";
const ANSI: &str = "\u{1b}[31mred\u{1b}[0m \u{7}bell \u{8}back";
const RTL: &str = "src/invoice\u{202E}fdp.exe";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"x\")";

fn hostile(fingerprint: &str, rule: &str, message: &str, path: &str) -> R {
    R {
        fingerprint: fingerprint.into(),
        rule: rule.into(),
        score: 5.0,
        message: message.into(),
        path: path.into(),
        line: 7,
    }
}

/// A dependency finding: an advisory in a package, with an alias.
fn advisory_result() -> Value {
    json!({
        "ruleId": "GHSA-35jh-r3h4-6jhm",
        "level": "error",
        "message": { "text": "lodash 4.17.20: command injection in template" },
        "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "package-lock.json" }, "region": { "startLine": 1 } } }],
        "partialFingerprints": { "sluice/v1": "fp-lodash-advisory" },
        "properties": {
            "security-severity": "7.2",
            "sluice/package": "lodash",
            "sluice/purl": "pkg:npm/lodash@4.17.20",
            "sluice/aliases": ["CVE-2021-23337"]
        }
    })
}

fn sbom(packages: &[(&str, &str)]) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": packages.iter().map(|(name, version)| json!({
            "type": "library", "name": name, "version": version, "purl": format!("pkg:npm/{name}@{version}")
        })).collect::<Vec<_>>()
    })
}

/// What the tests made: users, the proposal, the run.
struct Seeded {
    champion: common::TestUser,
    developer: common::TestUser,
    outsider: common::TestUser,
    proposal: i64,
    run: i64,
}

fn seed(server: &Server) -> Seeded {
    server.project(PROJECT, "main");
    server.project(OTHER, "main");
    let stages: Vec<Stage> = vec![stage(
        "sast",
        vec![
            r(FINDING, "python.hardcoded-password", 5.0),
            hostile("fp-script", SCRIPT, SCRIPT, "src/app.py"),
            hostile("fp-img", "rule.img", IMG, IMG),
            hostile("fp-js", "rule.js", JS_URL, JS_URL),
            hostile("fp-ansi", "rule.ansi", ANSI, "src/ansi.rs"),
            hostile("fp-rtl", "rule.rtl", "an attachment", RTL),
            hostile("fp-formula", "rule.formula", FORMULA, "-cmd|' /C calc'!A0"),
            r("fp-high", "python.sql-injection", 7.5),
        ],
    )];
    let mut body = push_body(PROJECT, "run-1", &stages);
    let mut sarif = body["sarif"].clone();
    let deps = json!({
        "tool": { "driver": { "name": "sluice", "rules": [] } },
        "automationDetails": { "id": "sluice/deps/" },
        "invocations": [{ "executionSuccessful": true }],
        "results": [advisory_result()]
    });
    sarif["runs"].as_array_mut().expect("runs").push(deps);
    body["sarif"] = sarif;
    body["sbom"] = sbom(&[(PACKAGE, "4.17.20"), ("express", "4.18.2")]);
    body["pipeline_url"] = json!(JS_URL);
    let pushed = server.push(&server.admin, &body).expect(201).json();
    let run = pushed["run"].as_i64().expect("run id");
    let mut other = push_body(OTHER, "run-1", &[stage("sast", vec![r("fp-other", "go.unsafe", 9.5)])]);
    other["sbom"] = sbom(&[(PACKAGE, "4.17.21")]);
    server.push(&server.admin, &other).expect(201);

    let champion = server.user("champ", &[(Some(PROJECT), "champion")]);
    let developer = server.user("dev", &[(Some(PROJECT), "developer")]);
    let outsider = server.user("outsider", &[(Some(OTHER), "developer")]);
    let proposal = server
        .post(
            "/api/v1/decisions",
            Some(&developer.token),
            &json!({ "project": PROJECT, "scope": "finding", "fingerprint": FINDING, "status": "false_positive",
                     "reason": "test fixture, not a credential" }),
        )
        .expect(201)
        .json()["id"]
        .as_i64()
        .expect("proposal id");
    // A hostile reason in the triage queue.
    server
        .post(
            "/api/v1/decisions",
            Some(&developer.token),
            &json!({ "project": PROJECT, "scope": "finding", "fingerprint": "fp-img", "status": "false_positive",
                     "reason": format!("{SCRIPT} {IMG}") }),
        )
        .expect(201);
    // A proposal in the other project: not the champion's to see.
    let other_dev = server.user("otherdev", &[(Some(OTHER), "developer")]);
    server
        .post(
            "/api/v1/decisions",
            Some(&other_dev.token),
            &json!({ "project": OTHER, "scope": "finding", "fingerprint": "fp-other", "status": "false_positive",
                     "reason": "secret-other-reason" }),
        )
        .expect(201);
    Seeded { champion, developer, outsider, proposal, run }
}

// ---------------------------------------------------------------------------------------------
// Over HTTP, without a browser

/// An HTTP client that follows no redirect and keeps cookies by hand.
struct Browser<'a> {
    server: &'a Server,
    agent: ureq::Agent,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }

    /// The value of a hidden input named `name`.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no {name} field in {}", self.body)) + marker.len();
        self.body[start..].split('"').next().unwrap_or_default().to_owned()
    }
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_idle_connections(0)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        Browser { server, agent, cookies: Vec::new() }
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>, extra: &[(&str, &str)]) -> Page {
        let mut builder = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.server.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header("Cookie", jar.join("; "));
        }
        for (k, v) in extra {
            builder = builder.header(*k, *v);
        }
        let result = match form {
            Some(pairs) => {
                let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
                self.agent.run(
                    builder
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body.into_bytes())
                        .expect("request"),
                )
            }
            None => self.agent.run(builder.body(()).expect("request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string().unwrap_or_default();
        let page = Page { status, headers, body };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !v.is_empty() && !cookie.contains("Max-Age=0") {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        page
    }

    fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None, &[])
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(form), &[])
    }

    fn login(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/ui/login");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.hidden("csrf");
        self.post("/ui/login", &[("csrf", &csrf), ("next", "/ui/"), ("username", user), ("password", password)])
    }

    /// The CSRF token of the current session, from a page's logout form.
    fn csrf(&mut self) -> String {
        self.get("/ui/").hidden("csrf")
    }
}

/// The portfolio's filters and sorts, answered by the database: the projects listed, in order.
fn portfolio_filters_and_sorts(backend: Backend) {
    let server = Server::start(backend);
    seed(&server);
    // A project with one low finding, pushed last; one that never pushed.
    server.project("a_b", "main");
    server
        .push(&server.admin, &push_body("a_b", "run-1", &[stage("sast", vec![r("fp-low", "rule.low", 2.0)])]))
        .expect(201);
    server.project("zeta", "main");
    let lead = server.user("lead", &[(None, "security")]);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&lead.name, &lead.password).status, 303);
    let mut listed = |query: &str| -> Vec<String> {
        let page = b.get(&format!("/ui/?{query}"));
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        let table = page
            .body
            .split("<table id=\"portfolio\">")
            .nth(1)
            .unwrap_or_default()
            .split("</table>")
            .next()
            .unwrap_or_default()
            .to_owned();
        table
            .split("<td><a href=\"/ui/projects/")
            .skip(1)
            .map(|cell| cell.split('"').next().unwrap_or_default().to_owned())
            .collect()
    };
    // Most severe first: billing has a critical, payments-api a high, a_b a low, zeta nothing.
    assert_eq!(listed(""), ["billing", "payments-api", "a_b", "zeta"]);
    assert_eq!(listed("sort=name"), ["a_b", "billing", "payments-api", "zeta"]);
    assert_eq!(listed("sort=last_run"), ["a_b", "billing", "payments-api", "zeta"]);
    assert_eq!(listed("sort=open")[0], "payments-api", "the most open findings");
    assert_eq!(listed("sort=new")[3], "zeta");
    // A name filter is a substring, any case; `_` is a character, not a wildcard.
    assert_eq!(listed("q=BILL"), ["billing"]);
    assert_eq!(listed("q=_"), ["a_b"]);
    assert_eq!(listed("q=nothing-like-it"), Vec::<String>::new());
    assert_eq!(listed("severity=critical"), ["billing"]);
    assert_eq!(listed("severity=low&sort=name"), ["a_b", "billing", "payments-api"]);
    assert_eq!(listed("verdict=none"), ["zeta"], "only the project without a default-branch run has no verdict");
    assert_eq!(listed("sort=name&q=payments"), ["payments-api"]);
    // A hundred projects a page.
    for i in 0..100 {
        server.project(&format!("p-{i:03}"), "main");
    }
    let first = listed("sort=name");
    assert_eq!(first.len(), 100);
    assert_eq!(first[..3], ["a_b", "billing", "p-000"]);
    let second = listed("sort=name&page=2");
    assert_eq!(second, ["p-098", "p-099", "payments-api", "zeta"]);
    assert!(listed("sort=name&page=3").is_empty());
    let page = b.get("/ui/?severity=high");
    assert!(page.body.contains("2 projects"), "{}", page.body);
    let page = b.get("/ui/?sort=name");
    assert!(page.body.contains("Projects 1–100 of 104.") && page.body.contains("page=2\">Next page"), "{}", page.body);
}

/// Impact search by package answers from each project's latest default-branch SBOM (indexed at
/// push): by name or purl, any case, within a version range; a later SBOM replaces the earlier
/// one, a push without one keeps it; SBOMs stored before the index are indexed at start.
fn impact_search_reads_the_latest_sboms(backend: Backend) {
    let server = Server::start(backend);
    seed(&server);
    let lead = server.user("lead", &[(None, "security")]);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&lead.name, &lead.password).status, 303);
    let mut ships = |query: &str| -> (String, Vec<String>) {
        let page = b.get(&format!("/ui/impact?{query}"));
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        let heading =
            page.body.split("<h2 id=\"shipping\">").nth(1).and_then(|h| h.split(' ').next()).unwrap_or("?").to_owned();
        let versions = page
            .body
            .split("<table id=\"shipped\">")
            .nth(1)
            .unwrap_or_default()
            .split("</table>")
            .next()
            .unwrap_or_default()
            .split("<td><code>")
            .skip(1)
            .map(|cell| cell.split('<').next().unwrap_or_default().to_owned())
            .collect();
        (heading, versions)
    };
    let (n, cells) = ships("package=lodash");
    assert_eq!(n, "2", "{cells:?}");
    assert!(cells.contains(&"4.17.20".to_owned()) && cells.contains(&"4.17.21".to_owned()), "{cells:?}");
    assert_eq!(ships("package=LoDash&version=%3C4.17.21").0, "1");
    assert_eq!(ships("package=pkg%3Anpm%2Flodash%409.9.9").0, "2", "a purl's version is not part of the match");
    assert_eq!(ships("package=pkg%3Apypi%2Flodash").0, "0", "another ecosystem");
    assert_eq!(ships("package=express").0, "1");
    assert_eq!(ships("package=lodas").0, "0", "no prefix match");

    // A default-branch push without an SBOM keeps the project's; one with an SBOM replaces it.
    server.push(&server.admin, &push_body(PROJECT, "run-2", &[stage("sast", vec![])])).expect(201);
    assert_eq!(ships("package=express").0, "1");
    let mut next = push_body(PROJECT, "run-3", &[stage("sast", vec![])]);
    next["sbom"] = sbom(&[("left-pad", "1.3.0")]);
    server.push(&server.admin, &next).expect(201);
    assert_eq!(ships("package=express").0, "0");
    assert_eq!(ships("package=lodash").0, "1");
    assert_eq!(ships("package=left-pad").0, "1");
    // A merge-request run's SBOM is not what the project ships.
    let mut mr = push_body(PROJECT, "run-4", &[stage("sast", vec![])]);
    mr["merge_request"] = json!("7");
    mr["branch"] = json!("feature");
    mr["sbom"] = sbom(&[("express", "5.0.0")]);
    server.push(&server.admin, &mr).expect(201);
    assert_eq!(ships("package=express").0, "0");

    // As stored before the index existed: opening the database indexes them again.
    server.sql("DELETE FROM sbom_components").expect("delete");
    server.sql("UPDATE projects SET components_run_id = NULL").expect("update");
    assert_eq!(ships("package=lodash").0, "0");
    let url = server.db_url.clone();
    let indexed = server.block_on(async move {
        sluice_server::db::Db::open(&url).await.expect("open").index_stored_sboms().await.expect("index")
    });
    assert_eq!(indexed, 0, "opening the database already indexed both projects");
    assert_eq!(ships("package=lodash").0, "1");
    assert_eq!(ships("package=left-pad").0, "1");
    assert_eq!(ships("package=lodash&version=4.17.21").0, "1");

    // By advisory, under its alias: one row per project, counted.
    let page = b.get("/ui/impact?advisory=CVE-2021-23337");
    assert!(page.body.contains("<h2 id=\"affected\">1 project affected by"), "{}", page.body);
    let table = page.body.split("<table id=\"advisory-findings\">").nth(1).unwrap_or_default();
    assert!(table.contains(&format!("href=\"/ui/projects/{PROJECT}\"")) && !table.contains(OTHER), "{table}");
    assert!(b.get("/ui/impact?advisory=CVE-0000-0000").body.contains("No finding of this advisory."));
}

fn sessions_and_csrf(backend: Backend) {
    let server = Server::start(backend);
    let seeded = seed(&server);
    let mut b = Browser::new(&server);
    // Not logged in: to the login page, and back after.
    let page = b.get("/ui/triage?x=1");
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/ui/login?next=%2Fui%2Ftriage%3Fx%3D1"));
    // The login form's CSRF: without its cookie's value, refused.
    let form = b.get("/ui/login");
    assert!(form.set_cookies().iter().any(|c| c.starts_with("sluice_login_csrf=") && c.contains("HttpOnly")));
    let refused = b.post(
        "/ui/login",
        &[("csrf", "0000"), ("username", &seeded.champion.name), ("password", &seeded.champion.password)],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A wrong password: 401, said on the page.
    let wrong = b.login(&seeded.champion.name, "not the password at all");
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong user name or password"));
    // Logged in: a session cookie, HttpOnly, SameSite=Strict, only for /ui, not Secure over http.
    let done = b.login(&seeded.champion.name, &seeded.champion.password);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/ui/"));
    let cookie =
        done.set_cookies().into_iter().find(|c| c.starts_with("sluice_session=sluice_ses_")).expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    // Twelve hours, less the second or two the login took (whole seconds, so 43200 too).
    let max_age: u64 = cookie
        .split("; ")
        .find_map(|p| p.strip_prefix("Max-Age="))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no Max-Age in {cookie}"));
    assert!((43_100..=43_200).contains(&max_age), "Max-Age={max_age} in {cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Every page: the strict CSP and its neighbours, and no caching of what it shows.
    let portfolio = b.get("/ui/");
    assert_eq!(portfolio.status, 200);
    let csp = portfolio.header("content-security-policy").expect("CSP");
    for directive in
        ["default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]
    {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(portfolio.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(portfolio.header("cache-control"), Some("no-store"));
    // The stylesheet: immutable, cached for a year, under its digest.
    let href_start = portfolio.body.find("/ui/static/").expect("a stylesheet link");
    let href: String = portfolio.body[href_start..].split('"').next().unwrap_or_default().to_owned();
    let css = b.get(&href);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(css.header("content-type").is_some_and(|t| t.starts_with("text/css")));
    assert_eq!(b.get("/ui/static/0000000000000000.css").status, 404);
    // A form without the session's CSRF token, or posted from another site: refused, nothing done.
    let csrf = b.csrf();
    let id = seeded.proposal.to_string();
    let forged = b.post("/ui/triage", &[("id", &id), ("action", "approve"), ("back", "/ui/triage")]);
    assert_eq!(forged.status, 403);
    let forged = b.post("/ui/triage", &[("csrf", "a".repeat(64).as_str()), ("id", &id), ("action", "approve")]);
    assert_eq!(forged.status, 403);
    let cross = b.send(
        "POST",
        "/ui/triage",
        Some(&[("csrf", csrf.as_str()), ("id", &id), ("action", "approve")]),
        &[("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(cross.status, 403);
    let state = server.get(&format!("/api/v1/decisions/{id}"), Some(&server.admin)).expect(200).json();
    assert_eq!(state["decision"]["state"], "proposed", "a forged form changed the decision");
    // With it: approved, through the API's own checks (the champion's role), and back to the queue.
    let approved = b.post("/ui/triage", &[("csrf", &csrf), ("id", &id), ("action", "approve"), ("back", "/ui/triage")]);
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert!(approved.header("location").is_some_and(|l| l.starts_with("/ui/triage?done=")));
    let state = server.get(&format!("/api/v1/decisions/{id}"), Some(&server.admin)).expect(200).json();
    assert_eq!(state["decision"]["state"], "approved");
    assert_eq!(state["decision"]["decided_by"], "user:champ");
    assert_eq!(state["decision"]["decided_role"], "champion");
    // The finding page says so.
    let finding = b.get(&format!("/ui/projects/{PROJECT}/findings/{FINDING}"));
    assert_eq!(finding.status, 200);
    assert!(finding.body.contains("id=\"suppressed\""), "{}", finding.body);
    // Nobody approves their own: the developer's proposal is not in the developer's queue, and
    // rejecting without a reason is refused by the API's rule.
    let mut dev = Browser::new(&server);
    assert_eq!(dev.login(&seeded.developer.name, &seeded.developer.password).status, 303);
    let queue = dev.get("/ui/triage");
    assert!(queue.body.contains("Nothing awaits you"), "{}", queue.body);
    // Log out: the token is revoked, not only the cookie dropped.
    let session_token = b.cookies.iter().find(|(k, _)| k == "sluice_session").map(|(_, v)| v.clone()).expect("session");
    let csrf = b.csrf();
    let out = b.post("/ui/logout", &[("csrf", &csrf)]);
    assert_eq!(out.status, 303);
    assert!(out.set_cookies().iter().any(|c| c.starts_with("sluice_session=;") && c.contains("Max-Age=0")));
    assert_eq!(
        server.get("/api/v1/me", Some(&session_token)).status,
        401,
        "the session token still works after logging out"
    );
    b.cookies.push(("sluice_session".into(), session_token));
    assert_eq!(b.get("/ui/").status, 303);
    // A personal token in the cookie is not a session.
    let (_, personal) = server.personal_token(&seeded.champion.token);
    let mut p = Browser::new(&server);
    p.cookies.push(("sluice_session".into(), personal));
    assert_eq!(p.get("/ui/").status, 303);
    // After logging in, only our own pages: no open redirect.
    let mut o = Browser::new(&server);
    let form = o.get("/ui/login");
    let csrf = form.hidden("csrf");
    let done = o.post(
        "/ui/login",
        &[
            ("csrf", &csrf),
            ("next", "//evil.example/"),
            ("username", &seeded.champion.name),
            ("password", &seeded.champion.password),
        ],
    );
    assert_eq!(done.header("location"), Some("/ui/"));
}

fn who_sees_what(backend: Backend) {
    let server = Server::start(backend);
    let seeded = seed(&server);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&seeded.outsider.name, &seeded.outsider.password).status, 303);
    // The outsider reads billing only: payments-api is "not found", the same as a project that
    // does not exist, on every page that names it.
    let portfolio = b.get("/ui/");
    assert!(portfolio.body.contains(OTHER) && !portfolio.body.contains(PROJECT), "{}", portfolio.body);
    for path in [
        format!("/ui/projects/{PROJECT}"),
        format!("/ui/projects/{PROJECT}/findings/{FINDING}"),
        format!("/ui/projects/{PROJECT}/findings.csv"),
        format!("/ui/runs/{}", seeded.run),
        format!("/ui/runs/{}/sbom", seeded.run),
        "/ui/projects/no-such-project".to_owned(),
    ] {
        assert_eq!(b.get(&path).status, 404, "{path}");
    }
    let impact = b.get("/ui/impact?package=lodash&advisory=CVE-2021-23337");
    assert!(impact.body.contains(OTHER) && !impact.body.contains(PROJECT), "{}", impact.body);
    // The champion's queue: their project's proposals, not billing's.
    let mut c = Browser::new(&server);
    assert_eq!(c.login(&seeded.champion.name, &seeded.champion.password).status, 303);
    let queue = c.get("/ui/triage");
    assert!(queue.body.contains(&format!("proposal-{}", seeded.proposal)));
    assert!(!queue.body.contains("secret-other-reason"), "another project's proposal in the queue");
    // The champion may not approve another project's proposal by forging its id.
    let other_id = server.get(&format!("/api/v1/decisions?project={OTHER}"), Some(&server.admin)).expect(200).json()
        ["items"][0]["id"]
        .as_i64()
        .expect("id");
    let csrf = c.csrf();
    let tried = c.post("/ui/triage", &[("csrf", &csrf), ("id", &other_id.to_string()), ("action", "approve")]);
    assert_eq!(tried.status, 303);
    assert!(tried.header("location").is_some_and(|l| l.contains("error=")), "{:?}", tried.header("location"));
    let state = server.get(&format!("/api/v1/decisions/{other_id}"), Some(&server.admin)).expect(200).json();
    assert_eq!(state["decision"]["state"], "proposed");
}

/// A proposal from a finding's page is the API's proposal: the user's, the role it needs
/// decided by the API's rule, refused (and said) when the API refuses it.
fn propose_from_the_finding_page(backend: Backend) {
    let server = Server::start(backend);
    let seeded = seed(&server);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&seeded.developer.name, &seeded.developer.password).status, 303);
    let page = b.get(&format!("/ui/projects/{PROJECT}/findings/fp-high"));
    assert_eq!(page.status, 200);
    let csrf = page.hidden("csrf");
    let action = format!("/ui/projects/{PROJECT}/findings/fp-high/propose");
    // Without its CSRF token: refused, nothing stored.
    let before =
        server.get("/api/v1/decisions", Some(&server.admin)).expect(200).json()["items"].as_array().map_or(0, Vec::len);
    let forged = b.post(&action, &[("scope", "finding"), ("status", "false_positive"), ("reason", "forged")]);
    assert_eq!(forged.status, 403);
    // No reason: the API's rule refuses it, and the page says why.
    let refused =
        b.post(&action, &[("csrf", &csrf), ("scope", "finding"), ("status", "false_positive"), ("reason", "")]);
    assert_eq!(refused.status, 303);
    assert!(refused.header("location").is_some_and(|l| l.contains("error=")), "{:?}", refused.header("location"));
    let after =
        server.get("/api/v1/decisions", Some(&server.admin)).expect(200).json()["items"].as_array().map_or(0, Vec::len);
    assert_eq!(before, after, "a refused proposal was stored");
    // A rule in some files: stored as the developer's, needing the security role (a high finding).
    let done = b.post(
        &action,
        &[
            ("csrf", &csrf),
            ("scope", "rule"),
            ("path", "src/**"),
            ("status", "false_positive"),
            ("reason", "test code"),
        ],
    );
    assert_eq!(done.status, 303);
    let location = done.header("location").unwrap_or_default().to_owned();
    assert!(location.contains("done="), "{location}");
    let listed = server.get("/api/v1/decisions?state=proposed", Some(&server.admin)).expect(200).json();
    let mine = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["rule"] == "python.sql-injection")
        .cloned()
        .expect("the proposal");
    assert_eq!(mine["proposed_by"], "user:dev");
    assert_eq!(mine["scope"], "rule");
    assert_eq!(mine["path"], "src/**");
    assert_eq!(mine["required_role"], "security");
    // A rule proposal for other files does not cover this finding: not on its page.
    let other = b.post(
        &action,
        &[("csrf", &csrf), ("scope", "rule"), ("path", "tests/**"), ("status", "false_positive"), ("reason", "tests")],
    );
    assert!(other.header("location").is_some_and(|l| l.contains("done=")));
    let elsewhere = server.get("/api/v1/decisions?state=proposed", Some(&server.admin)).expect(200).json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["path"] == "tests/**")
        .and_then(|d| d["id"].as_i64())
        .expect("the other proposal");
    // The champion may not approve it (it needs security): no form on the page for them.
    let mut c = Browser::new(&server);
    assert_eq!(c.login(&seeded.champion.name, &seeded.champion.password).status, 303);
    let page = c.get(&format!("/ui/projects/{PROJECT}/findings/fp-high"));
    let id = mine["id"].as_i64().expect("id");
    assert!(page.body.contains(&format!("id=\"decision-{id}\"")), "the rule's proposal is not on the finding's page");
    assert!(
        !page.body.contains(&format!("name=\"id\" value=\"{id}\"")),
        "an approve form for a decision the champion may not approve"
    );
    assert!(
        !page.body.contains(&format!("id=\"decision-{elsewhere}\"")),
        "a decision for tests/** on a finding in src/"
    );
}

fn escaped_everywhere(backend: Backend) {
    let server = Server::start(backend);
    let seeded = seed(&server);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&seeded.champion.name, &seeded.champion.password).status, 303);
    let pages = [
        "/ui/".to_owned(),
        format!("/ui/projects/{PROJECT}"),
        "/ui/projects/payments-api/findings/fp-script".to_owned(),
        "/ui/projects/payments-api/findings/fp-img".to_owned(),
        "/ui/projects/payments-api/findings/fp-js".to_owned(),
        "/ui/projects/payments-api/findings/fp-ansi".to_owned(),
        "/ui/projects/payments-api/findings/fp-rtl".to_owned(),
        "/ui/triage".to_owned(),
        format!("/ui/runs/{}", seeded.run),
        format!("/ui/impact?package={}&advisory={}", urlencode(SCRIPT), urlencode(IMG)),
    ];
    for path in &pages {
        let page = b.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        for raw in ["<script", "<img", "onerror=\"", "href=\"javascript:", "\u{1b}", "\u{202E}", "\u{7}"] {
            assert!(!page.body.contains(raw), "{path}: {raw:?} is in the page unescaped");
        }
    }
    let project = b.get(&format!("/ui/projects/{PROJECT}"));
    assert!(project.body.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"), "the payload is not shown as text");
    let rtl = b.get("/ui/projects/payments-api/findings/fp-rtl");
    assert!(rtl.body.contains("src/invoice\\u{202E}fdp.exe"), "the override is not made visible");
    let ansi = b.get("/ui/projects/payments-api/findings/fp-ansi");
    assert!(ansi.body.contains("\\u{001B}[31mred"), "the escape is not made visible");
    // A pipeline URL that is not http(s) is text, not a link.
    let run = b.get(&format!("/ui/runs/{}", seeded.run));
    assert!(run.body.contains("javascript:window.__pwned=1") && !run.body.contains("href=\"javascript"));
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Parses RFC 4180 CSV (quoted cells, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

fn csv_is_not_formulas(backend: Backend) {
    let server = Server::start(backend);
    let seeded = seed(&server);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&seeded.champion.name, &seeded.champion.password).status, 303);
    let csv = b.get(&format!("/ui/projects/{PROJECT}/findings.csv?state=all"));
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
    assert!(csv.header("content-disposition").is_some_and(|d| d.starts_with("attachment")));
    let rows = parse_csv(&csv.body);
    assert_eq!(rows[0][0], "project");
    assert_eq!(rows.len(), 1 + 9, "{rows:?}");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula cell: {cell:?}");
        }
    }
    let formula = rows.iter().find(|r| r[1] == "fp-formula").expect("the formula finding");
    assert_eq!(formula[8], format!("'{FORMULA}"));
    assert_eq!(formula[6], "'-cmd|' /C calc'!A0");
    assert!(!csv.body.contains('\u{1b}'));
    // The trend: one point per default-branch run, on the page (an SVG chart) and as CSV.
    let page = b.get(&format!("/ui/projects/{PROJECT}"));
    assert!(page.body.contains("A trend needs two default-branch runs"));
    server
        .push(
            &server.admin,
            &push_body(PROJECT, "run-2", &[stage("sast", vec![r(FINDING, "python.hardcoded-password", 5.0)])]),
        )
        .expect(201);
    let page = b.get(&format!("/ui/projects/{PROJECT}"));
    assert!(page.body.contains("<svg class=\"chart\"") && page.body.contains("open findings (count)"), "{}", page.body);
    let trend = b.get(&format!("/ui/projects/{PROJECT}/trend.csv"));
    assert_eq!(trend.status, 200);
    let rows = parse_csv(&trend.body);
    assert_eq!(rows[0], ["run", "created_at", "open_after", "new", "closed", "reintroduced"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][2], "9");
    assert_eq!(
        rows[2][2], "2",
        "the sast stage now reports one finding; the deps stage did not run, its finding stays open: {rows:?}"
    );
}

const DAY_MS: i64 = 86_400_000;

/// The UTC day, and the Monday starting its ISO week, as the server counts them.
fn today_and_monday() -> (i64, i64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970");
    let today = now.as_millis() as i64 / DAY_MS;
    (today, today - (today + 3).rem_euclid(7))
}

fn iso_day(day: i64) -> String {
    jiff::Timestamp::from_millisecond(day * DAY_MS)
        .expect("a time")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// Moves a project's pushes so far `days` into the past: its runs, their days' counts and its
/// findings' times (and forgets its SLA count, which those change).
fn age_pushes(server: &Server, project: &str, days: i64) {
    let id = server.sql_i64(&format!("SELECT id FROM projects WHERE name = '{project}'"));
    let ms = days * DAY_MS;
    server.sql(&format!("UPDATE runs SET created_at = created_at - {ms} WHERE project_id = {id}")).expect("aging runs");
    server.sql(&format!("UPDATE project_days SET day = day - {days} WHERE project_id = {id}")).expect("aging days");
    server
        .sql(&format!(
            "UPDATE findings SET first_seen_at = first_seen_at - {ms}, last_seen_at = last_seen_at - {ms}, \
             closed_at = closed_at - {ms} WHERE project_id = {id}"
        ))
        .expect("aging findings");
    server.sql(&format!("UPDATE projects SET sla_day = -1 WHERE id = {id}")).expect("forgetting the SLA count");
}

/// The project page's weekly trend: new and fixed per ISO week (from what each default-branch
/// push keeps) and open at each week's end (carried over a week without a run), as an SVG chart
/// with axes, units, legend and title, a table, CSV and JSON; a hostile project name escaped.
fn weekly_trends(backend: Backend) {
    const WEEKLY: &str = "weekly";
    let server = Server::start(backend);
    server.project(WEEKLY, "main");
    let push = |run: &str, fingerprints: &[&str]| {
        let results = fingerprints.iter().map(|f| r(f, "rule.weekly", 7.5)).collect();
        server.push(&server.admin, &push_body(WEEKLY, run, &[stage("sast", results)])).expect(201);
    };
    // Three weeks ago: 3 new, 3 open. Last week: 1 new, 2 fixed, 2 open. This week: 2 new, 4 open.
    push("w-3", &["a", "b", "c"]);
    age_pushes(&server, WEEKLY, 14);
    push("w-1", &["a", "d"]);
    age_pushes(&server, WEEKLY, 7);
    push("w-0", &["a", "d", "e", "f"]);
    // The first push is now 21 days old, the second 7: 3 and 1 weeks back, whatever today is.
    let (_, monday) = today_and_monday();
    let sec = server.user("sec", &[(None, "security")]);
    server.project(PROJECT, "main");
    let outsider = server.user("outsider", &[(Some(PROJECT), "developer")]);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&sec.name, &sec.password).status, 303);

    let json = b.get(&format!("/ui/projects/{WEEKLY}/trends.json"));
    assert_eq!(json.status, 200, "{}", json.body);
    assert!(json.header("content-type").is_some_and(|t| t.starts_with("application/json")));
    assert!(json.header("content-disposition").is_some_and(|d| d.contains("weekly-trends.json")));
    let data: Value = serde_json::from_str(&json.body).expect("JSON");
    let weeks = data["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 12);
    let expected = |k: i64, new: i64, fixed: i64, open: Value| {
        let start = monday - 7 * (11 - k);
        json!({ "week_start": iso_day(start), "week_end": iso_day(start + 6), "new": new, "fixed": fixed, "open_at_end": open })
    };
    for k in 0..8 {
        assert_eq!(weeks[k as usize], expected(k, 0, 0, Value::Null), "week {k}");
    }
    assert_eq!(weeks[8], expected(8, 3, 0, json!(3)));
    assert_eq!(weeks[9], expected(9, 0, 0, json!(3)), "a week without a run keeps the last count");
    assert_eq!(weeks[10], expected(10, 1, 2, json!(2)));
    assert_eq!(weeks[11], expected(11, 2, 0, json!(4)));
    assert_eq!(data["project"], WEEKLY);

    let csv = b.get(&format!("/ui/projects/{WEEKLY}/trends.csv"));
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
    let rows = parse_csv(&csv.body);
    assert_eq!(rows[0], ["project", "week_start", "week_end", "new", "fixed", "open_at_end"]);
    assert_eq!(rows.len(), 13, "{rows:?}");
    assert_eq!(rows[1][5], "", "no run yet: no count");
    let week = |k: i64| iso_day(monday - 7 * (11 - k));
    assert_eq!(rows[11], [WEEKLY.to_owned(), week(10), iso_day(monday - 1), "1".into(), "2".into(), "2".into()]);
    assert_eq!(rows[12][3..], ["2", "0", "4"]);

    let page = b.get(&format!("/ui/projects/{WEEKLY}"));
    assert_eq!(page.status, 200);
    let chart = page
        .body
        .split("<svg class=\"chart weekly\"")
        .nth(1)
        .expect("the weekly chart")
        .split("</svg>")
        .next()
        .unwrap_or_default();
    for part in [
        "role=\"img\"",
        "aria-labelledby=\"trends-title trends-desc\"",
        "<title id=\"trends-title\">Findings of weekly per week, last 12 weeks</title>",
        "6 findings new and 2 fixed on the default branch; open findings went from 3 to 4.",
        "open (findings)",
        "per week (findings)",
        "open at the end of the week",
        "new in the week",
        "fixed in the week",
        "week starting Monday (UTC)",
    ] {
        assert!(chart.contains(part), "{part:?} is not in the chart: {chart}");
    }
    assert_eq!(chart.matches("class=\"bar-new\"").count(), 13, "12 bars and the legend's");
    assert_eq!(chart.matches("class=\"open-point\"").count(), 4, "a point for each week with a count");
    assert!(chart.contains(&format!("week of {}: 1 new", week(10))));
    assert!(chart.contains(&format!("week of {}: 2 open at the end", week(10))));
    assert!(!chart.contains("style="), "no inline style (the CSP allows none)");
    assert!(
        page.body.contains("/ui/projects/weekly/trends.csv") && page.body.contains("/ui/projects/weekly/trends.json")
    );
    assert!(page.body.contains("<table id=\"trends-table\">"));

    // Who may not read the project gets nothing of it.
    let mut other = Browser::new(&server);
    assert_eq!(other.login(&outsider.name, &outsider.password).status, 303);
    for path in ["/ui/projects/weekly/trends.csv", "/ui/projects/weekly/trends.json"] {
        assert_eq!(other.get(path).status, 404, "{path}");
    }

    // A hostile project name (names pushed are checked, but one may come from elsewhere): shown
    // as text in the chart, a text cell in the CSV, a JSON string.
    let hostile = format!("=1+{SCRIPT}\u{202E}");
    server.sql(&format!("UPDATE projects SET name = '{hostile}' WHERE name = '{WEEKLY}'")).expect("renaming");
    let base = format!("/ui/projects/{}", urlencode(&hostile).replace('+', "%20"));
    let page = b.get(&base);
    assert_eq!(page.status, 200, "{}", page.body);
    for raw in ["<script", "\u{202E}"] {
        assert!(!page.body.contains(raw), "{raw:?} is in the page unescaped");
    }
    assert!(
        page.body.contains(
            "<title id=\"trends-title\">Findings of =1+&lt;script&gt;window.__pwned=1&lt;/script&gt;\\u{202E} per week"
        ),
        "{}",
        page.body
    );
    let rows = parse_csv(&b.get(&format!("{base}/trends.csv")).body);
    assert_eq!(rows[12][0], format!("'{hostile}"), "a text cell, not a formula");
    let data: Value = serde_json::from_str(&b.get(&format!("{base}/trends.json")).body).expect("JSON");
    assert_eq!(data["project"], hostile.as_str());
}

/// The cells of a project's row of the portfolio, as text.
fn portfolio_cells(body: &str, project: &str) -> Vec<String> {
    let table = body.split("<table id=\"portfolio\">").nth(1).expect("the portfolio table");
    let row = table
        .split("<tr>")
        .find(|row| row.contains(&format!(">{project}</a>")))
        .unwrap_or_else(|| panic!("no row of {project}"));
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let mut text = String::new();
            let mut in_tag = true; // the rest of the `<td …>` tag first
            for c in cell.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_owned()
        })
        .collect()
}

/// The portfolio's "Past SLA": open findings first seen longer ago than their severity's SLA
/// (critical 7 days, high 30, medium 90, low 180, in UTC days), kept per project by each push and
/// recounted by the portfolio once a day; sortable.
fn sla_breaches_on_the_portfolio(backend: Backend) {
    let server = Server::start(backend);
    server.project("slow", "main");
    server.project("fast", "main");
    let slow = |run: &str, fixed_critical: bool| {
        let mut results = vec![
            r("c2", "rule.c", 9.5),
            r("h1", "rule.h", 7.5),
            r("h2", "rule.h", 7.5),
            r("m1", "rule.m", 5.0),
            r("l1", "rule.l", 2.0),
            r("i1", "rule.i", 0.0),
        ];
        if !fixed_critical {
            results.push(r("c1", "rule.c", 9.5));
        }
        server.push(&server.admin, &push_body("slow", run, &[stage("sast", results)])).expect(201);
    };
    slow("s-1", false);
    server.push(&server.admin, &push_body("fast", "f-1", &[stage("sast", vec![r("x1", "rule.c", 9.5)])])).expect(201);
    let (today, _) = today_and_monday();
    let slow_id = server.sql_i64("SELECT id FROM projects WHERE name = 'slow'");
    // First seen: c1 8 days ago (past 7), c2 7 days ago (its last day within), h1 31 days ago
    // (past 30), h2 30, m1 89 (within 90), l1 181 (past 180), i1 1,000 (info has no SLA).
    let last_ms = DAY_MS - 1;
    for (fp, days) in [("c1", 8), ("c2", 7), ("h1", 31), ("h2", 30), ("m1", 89), ("l1", 181), ("i1", 1000)] {
        let at = (today - days) * DAY_MS + last_ms;
        server
            .sql(&format!(
                "UPDATE findings SET first_seen_at = {at} WHERE project_id = {slow_id} AND fingerprint = '{fp}'"
            ))
            .expect("aging a finding");
    }
    // The push counted today, before the findings aged: as if that count were yesterday's.
    assert_eq!(server.sql_i64(&format!("SELECT sla_breaches FROM projects WHERE id = {slow_id}")), 0);
    server.sql(&format!("UPDATE projects SET sla_day = {} WHERE id = {slow_id}", today - 1)).expect("a day passes");

    let sec = server.user("sec", &[(None, "security")]);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&sec.name, &sec.password).status, 303);
    let page = b.get("/ui/?sort=sla");
    assert_eq!(page.status, 200, "{}", page.body);
    let cells = portfolio_cells(&page.body, "slow");
    // Project, critical, high, medium, low, open, past SLA, …
    assert_eq!(cells[5..7], ["7", "3"], "{cells:?}");
    assert_eq!(portfolio_cells(&page.body, "fast")[6], "0");
    assert!(
        page.body.contains("<th class=\"num sorted\"><a href=\"/ui/?sort=sla\">Past SLA</a></th>"),
        "{}",
        page.body
    );
    assert!(page.body.find(">slow</a>") < page.body.find(">fast</a>"), "most past SLA first");
    assert!(b.get("/ui/?sort=name").body.find(">fast</a>") < b.get("/ui/?sort=name").body.find(">slow</a>"));
    assert!(page.body.contains(" · 3 past their SLA"));
    assert!(page.body.contains("critical 7 days, high 30, medium 90, low 180"));
    // The recount is kept for the day.
    assert_eq!(server.sql_i64(&format!("SELECT sla_breaches FROM projects WHERE id = {slow_id}")), 3);
    assert_eq!(server.sql_i64(&format!("SELECT sla_day FROM projects WHERE id = {slow_id}")), today);
    let project = b.get("/ui/projects/slow");
    assert!(project.body.contains("<strong class=\"past-sla\">3</strong> past their SLA"), "{}", project.body);

    // A push fixes the late critical finding and counts again.
    slow("s-2", true);
    assert_eq!(server.sql_i64(&format!("SELECT sla_breaches FROM projects WHERE id = {slow_id}")), 2);
    let page = b.get("/ui/");
    assert_eq!(portfolio_cells(&page.body, "slow")[5..7], ["6", "2"]);
    // Only what the viewer may read is counted.
    let outsider = server.user("outsider", &[(Some("fast"), "developer")]);
    let mut other = Browser::new(&server);
    assert_eq!(other.login(&outsider.name, &outsider.password).status, 303);
    let page = other.get("/ui/");
    assert!(page.body.contains(" · 0 past their SLA") && !page.body.contains(">slow</a>"));
}

/// The run page says whether the attestation's signature verifies with a key the server was
/// given (`DATA/attestation-keys/*.pub`): valid (and whether it attests the run's commit),
/// invalid (changed after signing), no key to check against, or not signed at all.
fn attestation_signatures(backend: Backend) {
    use base64::Engine as _;
    use sluice_policy::attest;
    let ci = attest::SigningKey::from_bytes(&[7; 32]);
    let stranger = attest::SigningKey::from_bytes(&[9; 32]);
    let trusted = sluice_server::attestations::TrustedKey::from_pem("ci", &attest::public_key_pem(&ci.verifying_key()))
        .expect("a public key");
    let server = Server::start_attest(backend, vec![trusted.clone()]);
    server.project("signed", "main");
    let commit = push_body("signed", "x", &[])["commit"].as_str().expect("a commit").to_owned();
    let other_commit = "fedcba9876543210fedcba9876543210fedcba98";
    let statement = |commit: &str| {
        json!({ "_type": attest::STATEMENT_TYPE, "predicateType": attest::PREDICATE_TYPE,
                "subject": [{ "name": "signed", "digest": { "gitCommit": commit } }],
                "predicate": { "verdict": "allowed" } })
    };
    let mut tampered = attest::sign(&statement(&commit), &ci);
    tampered["payload"] =
        json!(base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&statement(other_commit)).expect("JSON")));
    let mut hostile_id = attest::sign(&statement(&commit), &stranger);
    hostile_id["signatures"][0]["keyid"] = json!(SCRIPT);
    let sec = server.user("sec", &[(None, "security")]);
    let mut b = Browser::new(&server);
    assert_eq!(b.login(&sec.name, &sec.password).status, 303);
    let stranger_id = attest::key_id(&stranger.verifying_key());
    let cases = [
        ("valid", attest::sign(&statement(&commit), &ci),
         format!("Signature valid for key <strong>ci</strong> (<code>{}</code>). It attests this run's commit <code>{commit}</code>.", trusted.keyid)),
        ("other-commit", attest::sign(&statement(other_commit), &ci),
         format!("Signature valid for key <strong>ci</strong> (<code>{}</code>). But it attests commit <code>{other_commit}</code>, not this run's.", trusted.keyid)),
        ("tampered", tampered,
         format!("Invalid: the signature does not verify with key <strong>ci</strong> (<code>{}</code>), the attestation was changed", trusted.keyid)),
        ("stranger", attest::sign(&statement(&commit), &stranger),
         format!("No key to check against: signed with key <code>{stranger_id}</code>, and the server trusts 1 key")),
        ("hostile-id", hostile_id,
         "No key to check against: signed with key <code>&lt;script&gt;window.__pwned=1&lt;/script&gt;</code>".to_owned()),
        ("unsigned", statement(&commit), "Not signed: an in-toto statement without a signature envelope".to_owned()),
    ];
    for (name, attestation, expected) in cases {
        let mut body = push_body("signed", name, &[stage("sast", vec![])]);
        body["attestation"] = attestation;
        let run = server.push(&server.admin, &body).expect(201).json()["run"].as_i64().expect("a run id");
        let page = b.get(&format!("/ui/runs/{run}"));
        assert_eq!(page.status, 200, "{name}: {}", page.body);
        let banner =
            page.body.split("id=\"signature\">").nth(1).unwrap_or_else(|| panic!("{name}: no banner: {}", page.body));
        assert!(banner.starts_with(&expected), "{name}: {banner}");
        assert!(!page.body.contains("<script"), "{name}");
    }
    // A run without an attestation has no banner.
    let run = server.push(&server.admin, &push_body("signed", "none", &[stage("sast", vec![])])).expect(201).json()
        ["run"]
        .as_i64()
        .expect("a run id");
    assert!(!b.get(&format!("/ui/runs/{run}")).body.contains("id=\"signature\""));
}

fn openapi_has_no_pages(backend: Backend) {
    let server = Server::start(backend);
    let doc = server.get("/api/openapi.json", None).expect(200).json();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.keys().all(|p| !p.starts_with("/ui")), "{:?}", paths.keys().collect::<Vec<_>>());
    // `/` is the pages' front door.
    let mut b = Browser::new(&server);
    let root = b.get("/");
    assert_eq!(root.status, 303);
    assert_eq!(root.header("location"), Some("/ui/"));
    // A CSP report is taken and counted.
    let report = b.send("POST", "/ui/csp-report", Some(&[("x", "y")]), &[]);
    assert_eq!(report.status, 204);
    let metrics = server.get("/metrics", None).expect(200).text();
    assert!(metrics.contains("sluice_csp_reports_total 1"), "{metrics}");
}

backends! {
    sessions_and_csrf => sqlite_sessions_and_csrf, postgres_sessions_and_csrf;
    who_sees_what => sqlite_who_sees_what, postgres_who_sees_what;
    impact_search_reads_the_latest_sboms => sqlite_impact_search_reads_the_latest_sboms, postgres_impact_search_reads_the_latest_sboms;
    portfolio_filters_and_sorts => sqlite_portfolio_filters_and_sorts, postgres_portfolio_filters_and_sorts;
    escaped_everywhere => sqlite_escaped_everywhere, postgres_escaped_everywhere;
    propose_from_the_finding_page => sqlite_propose_from_the_finding_page, postgres_propose_from_the_finding_page;
    csv_is_not_formulas => sqlite_csv_is_not_formulas, postgres_csv_is_not_formulas;
    openapi_has_no_pages => sqlite_openapi_has_no_pages, postgres_openapi_has_no_pages;
    weekly_trends => sqlite_weekly_trends, postgres_weekly_trends;
    sla_breaches_on_the_portfolio => sqlite_sla_breaches_on_the_portfolio, postgres_sla_breaches_on_the_portfolio;
    attestation_signatures => sqlite_attestation_signatures, postgres_attestation_signatures;
}

// ---------------------------------------------------------------------------------------------
// In a real browser

fn tools_dir() -> PathBuf {
    std::env::var_os("SLUICE_TOOLS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp/sluice-tools"))
}

/// node, playwright-core's modules and Chromium, or None (with a note) when one is missing.
fn browser_tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let modules = tools_dir().join("browser/node_modules");
    let node =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("node")).find(|p| p.is_file()));
    let chromium =
        std::env::var_os("SLUICE_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    match node {
        Some(node) if modules.join("playwright-core/package.json").is_file() && chromium.is_file() => {
            Some((node, modules, chromium))
        }
        _ => {
            assert!(
                std::env::var_os("SLUICE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
                "node, playwright-core and /usr/bin/chromium are required (SLUICE_REQUIRE_TOOLS=1) but not \
                 installed: run scripts/install-test-tools.sh"
            );
            eprintln!("note: node, playwright-core or chromium not installed; skipping the browser tests");
            None
        }
    }
}

/// Runs one spec of `tests/browser/pages.mjs` against a seeded server; panics with its output
/// when it fails.
fn run_spec(server: &Server, seeded: &Seeded, spec: &str, out: &std::path::Path) {
    let Some((node, modules, chromium)) = browser_tools() else { return };
    let config = json!({
        "base": server.base,
        "project": PROJECT,
        "other_project": OTHER,
        "champion": seeded.champion.name,
        "champion_password": seeded.champion.password,
        "fingerprint": FINDING,
        "proposal": seeded.proposal,
        "run": seeded.run,
        "package": PACKAGE,
        "version_range": ">=4.0, <4.17.21",
        "advisory_alias": "CVE-2021-23337",
        "downloads": out.join("downloads"),
        "hostile_rule": SCRIPT,
        "hostile_fingerprints": ["fp-script", "fp-img", "fp-js", "fp-ansi", "fp-rtl", "fp-formula"],
        "hostile_shown": [SCRIPT, IMG, JS_URL],
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/pages.mjs");
    let output = Command::new(node)
        .arg(&script)
        .arg(spec)
        .env("SLUICE_PAGES", config.to_string())
        .env("SLUICE_BROWSER_MODULES", &modules)
        .env("SLUICE_CHROMIUM", &chromium)
        .env("SLUICE_FAILURE_DIR", out)
        .env_remove("SLUICE_SCREENSHOTS")
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser spec {spec} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{spec}: ok")), "{stdout}\n{stderr}");
}

fn browser_journey(backend: Backend) {
    if browser_tools().is_none() {
        return;
    }
    let server = Server::start(backend);
    let seeded = seed(&server);
    let dir = tempfile::tempdir().expect("a directory");
    run_spec(&server, &seeded, "journey", dir.path());
    // What the browser downloaded: the run's SBOM as pushed, the server's verdict, the CSV.
    let downloads = dir.path().join("downloads");
    let sbom: Value = serde_json::from_slice(&std::fs::read(downloads.join("sbom.json")).expect("sbom")).expect("json");
    assert_eq!(sbom["components"][0]["name"], PACKAGE);
    let verdict: Value =
        serde_json::from_slice(&std::fs::read(downloads.join("verdict.json")).expect("verdict")).expect("json");
    assert_eq!(verdict["run"], seeded.run);
    let csv = std::fs::read_to_string(downloads.join("findings.csv")).expect("csv");
    let rows = parse_csv(&csv);
    assert!(rows.iter().skip(1).all(|r| r.iter().all(|c| !c.starts_with(['=', '+', '-', '@']))), "{csv}");
    assert!(rows.iter().any(|r| r[8] == format!("'{FORMULA}")), "{csv}");
    // The approval went through the API's rules: the champion, with their role.
    let decision =
        server.get(&format!("/api/v1/decisions/{}", seeded.proposal), Some(&server.admin)).expect(200).json();
    assert_eq!(decision["decision"]["state"], "approved");
    assert_eq!(decision["decision"]["decided_role"], "champion");
    assert_eq!(decision["history"][1]["note"], "reviewed: test fixture");
    // No page broke its policy.
    let metrics = server.get("/metrics", None).expect(200).text();
    assert!(metrics.contains("sluice_csp_reports_total 0"), "CSP reports: {metrics}");
}

fn browser_hostile(backend: Backend) {
    if browser_tools().is_none() {
        return;
    }
    let server = Server::start(backend);
    let seeded = seed(&server);
    let dir = tempfile::tempdir().expect("a directory");
    run_spec(&server, &seeded, "hostile", dir.path());
    let metrics = server.get("/metrics", None).expect(200).text();
    assert!(metrics.contains("sluice_csp_reports_total 0"), "CSP reports: {metrics}");
}

#[test]
fn sqlite_browser_journey() {
    browser_journey(Backend::Sqlite)
}

#[test]
fn postgres_browser_journey() {
    browser_journey(Backend::Postgres)
}

#[test]
fn sqlite_browser_hostile() {
    browser_hostile(Backend::Sqlite)
}

#[test]
fn postgres_browser_hostile() {
    browser_hostile(Backend::Postgres)
}

/// Regenerates the screenshots in docs/pages (scripts/screenshots runs it with
/// SLUICE_SCREENSHOTS set; otherwise it does nothing).
#[test]
fn screenshots() {
    let Some(dir) = std::env::var_os("SLUICE_SCREENSHOTS").map(PathBuf::from) else { return };
    let Some((node, modules, chromium)) = browser_tools() else { return };
    let server = Server::start(Backend::Sqlite);
    let seeded = seed(&server);
    // A portfolio worth looking at: a few more projects, some findings each.
    for (i, name) in
        ["checkout-web", "identity-service", "ledger", "mobile-gateway", "search-indexer"].iter().enumerate()
    {
        let results: Vec<R> = (0..(3 + i * 4))
            .map(|k| r(&format!("{name}-{k}"), &format!("rule.{}", k % 4), [9.5, 7.5, 5.0, 2.0][(k + i) % 4]))
            .collect();
        server.push(&server.admin, &push_body(name, "run-1", &[stage("sast", results)])).expect(201);
    }
    // A trend worth a chart: checkout-web's default branch over ten runs, a week apart.
    for run in 0..10_usize {
        let n = [12, 14, 15, 13, 16, 11, 9, 10, 7, 5][run];
        let results: Vec<R> = (0..n)
            .map(|k| r(&format!("trend-{}", k + run % 3), &format!("rule.{}", k % 3), [7.5, 5.0, 2.0][k % 3]))
            .collect();
        server
            .push(&server.admin, &push_body("checkout-web", &format!("trend-{run}"), &[stage("sast", results)]))
            .expect(201);
        if run < 9 {
            age_pushes(&server, "checkout-web", 7);
        }
    }
    let viewer = server.user("sec", &[(None, "security")]);
    let config = json!({
        "base": server.base, "project": PROJECT, "other_project": OTHER,
        "viewer": viewer.name, "viewer_password": viewer.password,
        "champion": seeded.champion.name, "champion_password": seeded.champion.password,
        "fingerprint": FINDING, "proposal": seeded.proposal, "run": seeded.run, "package": PACKAGE,
        "version_range": ">=4.0, <4.17.21", "advisory_alias": "CVE-2021-23337",
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/pages.mjs");
    let output = Command::new(node)
        .arg(&script)
        .arg("screenshots")
        .env("SLUICE_PAGES", config.to_string())
        .env("SLUICE_BROWSER_MODULES", &modules)
        .env("SLUICE_CHROMIUM", &chromium)
        .env("SLUICE_SCREENSHOTS", &dir)
        .output()
        .expect("running node");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
