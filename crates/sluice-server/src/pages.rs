//! The security team's web pages, under `/ui`: log in, the portfolio, a project, a finding
//! (with its decisions and the forms to propose, approve and reject), the triage queue, impact
//! search over the stored SBOMs and findings, and each run's evidence.
//!
//! - **Rendered on the server** with maud: the templates are Rust, checked and compiled into
//!   the binary, and every interpolated string is HTML-escaped. Strings from repositories
//!   (paths, messages, rule ids, snippets) also have their control and bidirectional-override
//!   characters shown as `\u{…}` ([`clean`]), so a file name cannot hide its extension.
//! - **No script, no inline style**: one stylesheet, embedded, served under its digest and
//!   cached for a year. The Content-Security-Policy is `default-src 'none'` with only `style-src
//!   'self'`, `img-src 'self'`, `form-action 'self'`; violations are reported to
//!   `/ui/csp-report` (counted in `/metrics`).
//! - **Who may read or decide what is the API's**: the pages call the same functions
//!   ([`api::readable_project`], [`api::readable_ids`], [`api::may_decide`], [`api::act`],
//!   [`api::propose`], [`api::decision_page`]) with the same principal a session token gives.
//! - **Sessions**: the session token `POST /auth/login` (or the OIDC callback) gives, in a
//!   cookie `HttpOnly`, `SameSite=Strict`, `Path=/ui`, `Secure` when browsers reach the server
//!   over https; it ends when the token does (12 hours) or at log out (the token is revoked).
//! - **CSRF**: every form carries a token derived from the session token (SHA-256 with a
//!   label); a post without it, or from another site (`Sec-Fetch-Site`), is refused. The login
//!   form, before there is a session, uses a random cookie and the same value in the form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{html, Markup, DOCTYPE};
use sha2::{Digest, Sha256};

use crate::api::{self, ApiError, AppState, ClientAddr};
use crate::auth::Principal;
use crate::db::{FindingFilter, Login, StoreError};
use crate::model::*;

const CSS: &str = include_str!("pages/sluice.css");

/// The session cookie: the session token itself, only ever sent to `/ui`.
const SESSION_COOKIE: &str = "sluice_session";
/// The login form's CSRF cookie (before there is a session).
const LOGIN_COOKIE: &str = "sluice_login_csrf";

/// The policy every page is served with.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; report-uri /ui/csp-report";

/// The longest query string or form body a page reads.
const MAX_QUERY: usize = 8 * 1024;
const MAX_FORM: usize = 64 * 1024;
/// Rows a page shows at most.
const PAGE_ROWS: i64 = 100;

/// `/ui/static/<first 16 hex of the stylesheet's SHA-256>.css`.
fn css_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/ui/static/{}.css", &hex::encode(Sha256::digest(CSS.as_bytes()))[..16]))
}

/// The pages' routes (merged into the application by [`api::router`]).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(|| async { redirect("/ui/") }))
        .route("/ui", get(|| async { redirect("/ui/") }))
        .route("/ui/", get(portfolio))
        .route("/ui/static/{file}", get(stylesheet))
        .route("/ui/login", get(login_form).post(login_submit))
        .route("/ui/login/oidc", get(login_oidc))
        .route("/ui/logout", post(logout))
        .route("/ui/projects/{project}", get(project_page))
        .route("/ui/projects/{project}/findings.csv", get(findings_csv))
        .route("/ui/projects/{project}/trend.csv", get(trend_csv))
        .route("/ui/projects/{project}/trends.csv", get(trends_csv))
        .route("/ui/projects/{project}/trends.json", get(trends_json))
        .route("/ui/projects/{project}/findings/{fingerprint}", get(finding_page))
        .route("/ui/projects/{project}/findings/{fingerprint}/propose", post(propose))
        .route("/ui/triage", get(triage).post(triage_act))
        .route("/ui/impact", get(impact))
        .route("/ui/runs/{run}", get(run_page))
        .route("/ui/runs/{run}/{document}", get(run_document))
        .route("/ui/csp-report", post(csp_report))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
}

/// The headers every page answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    secure(response.headers_mut());
    response
}

fn secure(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

// ---------------------------------------------------------------------------------------------
// Errors, sessions, CSRF

/// A page that could not be shown: its status and an HTML page saying why.
pub struct PageError(Response);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(error_page(e.status, &e.message))
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

type PageResult = Result<Response, PageError>;

fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = html! {
        h1 { (status.as_u16()) " " (title) }
        div.card { p.wrap { (clean(message)) } p { a href="/ui/" { "Back to the portfolio" } } }
    };
    (status, html_page(title, None, "", body)).into_response()
}

fn html_page(title: &str, session: Option<&Session>, active: &str, body: Markup) -> Response {
    let markup = layout(title, session, active, body);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string()).into_response()
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The connection's peer, when the server was started with it (`sluice serve` always is).
struct Peer(Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

/// A logged-in person.
struct Session {
    principal: Principal,
    username: String,
    csrf: String,
}

/// The CSRF token of a session: not guessable without the session token, which scripts of
/// other origins cannot read (an `HttpOnly` cookie).
fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sluice pages csrf v1\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, PageError> {
    let Some(token) = api::cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    // Only session tokens: a personal or project token is not a browser's.
    if !token.starts_with("sluice_ses_") {
        return Ok(None);
    }
    let Some(principal) = state.db.authenticate(token).await? else { return Ok(None) };
    let Principal::User { username, .. } = &principal else { return Ok(None) };
    Ok(Some(Session { username: username.clone(), csrf: csrf_token(token), principal }))
}

/// The session, or the answer that sends the browser to log in (and back here after).
async fn require(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Session, PageError> {
    match session(state, headers).await? {
        Some(s) => Ok(s),
        None => {
            let here = uri.path_and_query().map_or("/ui/", |p| p.as_str());
            Err(PageError(redirect(&format!("/ui/login?next={}", qs(here)))))
        }
    }
}

/// Refuses a form post that is not this site's own: `Sec-Fetch-Site` (when the browser sends
/// it) must be same-origin, and the form's `csrf` the session's.
fn check_post(headers: &HeaderMap, form: &Form, expected: &str) -> Result<(), PageError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(PageError(error_page(StatusCode::FORBIDDEN, "a form posted from another site")));
        }
    }
    if !form.get("csrf").is_some_and(|c| crate::oidc::same(c, expected)) {
        return Err(PageError(error_page(
            StatusCode::FORBIDDEN,
            "this form has expired or did not come from this site; reload the page and try again",
        )));
    }
    Ok(())
}

/// Whether browsers reach this server over https: its public URL says so, or a trusted proxy
/// in front of it does (`X-Forwarded-Proto`).
fn https(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    let public_https = state.oidc.as_ref().is_some_and(|o| o.secure_cookies());
    over_https(public_https, &state.trusted_proxies, headers, peer)
}

fn over_https(public_https: bool, trusted: &[api::Cidr], headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    if public_https {
        return true;
    }
    let trusted = peer.is_some_and(|p| trusted.iter().any(|c| c.contains(p.ip())));
    trusted && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("sluice_session=; Max-Age=0"))
}

/// Seconds until an RFC 3339 expiry (at least 0).
fn seconds_until(expires_at: Option<&str>) -> i64 {
    let now = crate::time::now_ms();
    expires_at.and_then(crate::time::parse).map_or(12 * 3600, |at| ((at - now) / 1000).max(0))
}

/// What the OIDC callback answers when the login started from these pages: the session cookie,
/// and a page that refreshes to the portfolio (a same-site navigation, so the `SameSite=Strict`
/// cookie goes with it; a redirect would still count as the provider's cross-site one).
pub(crate) fn oidc_logged_in(state: &AppState, headers: &HeaderMap, token: &TokenCreated) -> Response {
    let secure = https(state, headers, None);
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="0; url=/ui/";
                title { "Logged in · sluice" }
                link rel="stylesheet" href=(css_path());
            }
            body { main { p { "Logged in. " a href="/ui/" { "Continue to the portfolio" } } } }
        }
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.into_string()).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(&token.token, seconds_until(token.expires_at.as_deref()), secure));
    secure_headers_on(&mut response);
    response
}

/// The OIDC callback's refusal, as a page, when the login started from these pages.
pub(crate) fn oidc_refused(error: &ApiError) -> Response {
    let body = html! {
        h1 { "Login refused" }
        div.card { p.wrap { (clean(&error.message)) } p { a href="/ui/login" { "Try again" } } }
    };
    let mut response = (error.status, html_page("Login refused", None, "", body)).into_response();
    secure_headers_on(&mut response);
    response
}

fn secure_headers_on(response: &mut Response) {
    secure(response.headers_mut());
}

// ---------------------------------------------------------------------------------------------
// Query strings and forms

/// `application/x-www-form-urlencoded` pairs, bounded, without NUL (no name or filter has one).
#[derive(Default)]
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(text: &[u8], max: usize) -> Result<Form, PageError> {
        if text.len() > max {
            return Err(PageError(error_page(StatusCode::BAD_REQUEST, "the request is too long")));
        }
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(text).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(PageError(error_page(StatusCode::BAD_REQUEST, "a NUL character in the request")));
        }
        Ok(Form(pairs))
    }

    fn query(raw: Option<&str>) -> Result<Form, PageError> {
        Form::parse(raw.unwrap_or_default().as_bytes(), MAX_QUERY)
    }

    fn body(headers: &HeaderMap, body: &Bytes) -> Result<Form, PageError> {
        let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !kind.starts_with("application/x-www-form-urlencoded") {
            return Err(PageError(error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected a form")));
        }
        Form::parse(body, MAX_FORM)
    }

    /// The first non-empty value of `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A value for a query string.
fn qs(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A path segment: everything but unreserved characters percent-encoded.
fn seg(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Where to go after logging in: a page of ours, nothing else (no open redirect).
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && n.len() <= 2048
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/ui/".to_owned(),
    }
}

fn project_href(project: &str) -> String {
    format!("/ui/projects/{}", seg(project))
}

fn finding_href(project: &str, fingerprint: &str) -> String {
    format!("/ui/projects/{}/findings/{}", seg(project), seg(fingerprint))
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers

/// Text from a repository, made visible: control characters (ANSI escapes among them),
/// bidirectional overrides and isolates, and invisible joiners are shown as `\u{…}` rather
/// than acting on the page. Escaping for HTML is maud's, on top.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let hidden = (c.is_control() && c != '\n')
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}');
        if hidden {
            let _ = write!(out, "\\u{{{:04X}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// `2026-12-07T04:55:12.345Z` → `2026-12-07 04:55`.
fn when(rfc3339: &str) -> String {
    let text: String = rfc3339.chars().take(16).collect();
    text.replacen('T', " ", 1)
}

fn severity_badge(severity: &str) -> Markup {
    let class = match severity {
        "critical" => "sev sev-critical",
        "high" => "sev sev-high",
        "medium" => "sev sev-medium",
        "low" => "sev sev-low",
        _ => "sev sev-info",
    };
    html! { span class=(class) { (clean(severity)) } }
}

fn verdict(v: Option<&str>) -> Markup {
    match v {
        Some("allowed") => html! { span.verdict.verdict-allowed { "allowed" } },
        Some("denied") => html! { span.verdict.verdict-denied { "denied" } },
        Some(other) => html! { span.verdict { (clean(other)) } },
        None => html! { span.verdict.verdict-none { "no verdict" } },
    }
}

/// A decision status as people read it: `false_positive` → "false positive".
fn status_label(status: &str) -> String {
    clean(status).replace('_', " ")
}

/// `1 project`, `2 projects`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A stage's outcome as stored (`{"complete": true, "succeeded": true}`) in words.
fn outcome(value: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Bool(true) => clean(k),
                serde_json::Value::Bool(false) => format!("not {}", clean(k)),
                other => format!("{}: {}", clean(k), clean(&other.to_string())),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => clean(value),
    }
}

/// A count of findings past their SLA: marked when there is one.
fn sla_cell(n: i64) -> Markup {
    if n == 0 {
        html! { td.num.zero { "0" } }
    } else {
        html! { td.num.past-sla { (n) } }
    }
}

/// The SLA as people read it: `critical 7 days, high 30, medium 90, low 180`.
fn sla_terms() -> String {
    let parts: Vec<String> = crate::db::SLA_DAYS
        .iter()
        .enumerate()
        .map(|(i, (rank, days))| {
            let unit = if i == 0 { " days" } else { "" };
            format!("{} {days}{unit}", crate::db::rank_name(*rank))
        })
        .collect();
    parts.join(", ")
}

fn count_cell(n: i64) -> Markup {
    if n == 0 {
        html! { td.num.zero { "0" } }
    } else {
        html! { td.num { (n) } }
    }
}

/// A URL from a repository (a pipeline, a merge request) as a link only when it is http(s).
fn external_link(url: &str) -> Markup {
    let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if ok {
        html! { a href=(url) rel="noopener noreferrer nofollow" { (clean(url)) } }
    } else {
        html! { span.mono { (clean(url)) } }
    }
}

fn layout(title: &str, session: Option<&Session>, active: &str, body: Markup) -> Markup {
    let nav =
        [("portfolio", "/ui/", "Portfolio"), ("triage", "/ui/triage", "Triage"), ("impact", "/ui/impact", "Impact")];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                // Titles hold repository strings (a project name, a rule id).
                title { (clean(title)) " · sluice" }
                link rel="stylesheet" href=(css_path());
            }
            body {
                header.top {
                    a.brand href="/ui/" { "sluice" }
                    nav {
                        @if session.is_some() {
                            @for (key, href, label) in nav {
                                a href=(href) class=[(key == active).then_some("active")] { (label) }
                            }
                        }
                    }
                    @if let Some(s) = session {
                        span.who { (clean(&s.username)) }
                        form method="post" action="/ui/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

async fn stylesheet(Path(file): Path<String>) -> Response {
    if format!("/ui/static/{file}") != css_path() {
        return error_page(StatusCode::NOT_FOUND, "no such file");
    }
    let mut response = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    response
}

/// `report-uri` reports: logged (bounded) and counted; a page that breaks its own policy is a bug.
async fn csp_report(State(state): State<AppState>, body: Bytes) -> Response {
    state.metrics.csp_reports.inc();
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
    tracing::warn!(report = %crate::oidc::bounded(&text), "Content-Security-Policy violation reported");
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------------------------------------
// Log in and out

async fn login_form(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let query = Form::query(raw.as_deref())?;
    if session(&state, &headers).await?.is_some() {
        return Ok(redirect(&local_next(query.get("next"))));
    }
    Ok(login_page(&state, &headers, peer, query.get("next"), None, StatusCode::OK))
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    // The login form's own CSRF token: the cookie's value, or a new one.
    let existing =
        api::cookie(headers, LOGIN_COOKIE).filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let token = existing.map_or_else(
        || {
            let mut bytes = [0u8; 32];
            rand::RngExt::fill(&mut rand::rng(), &mut bytes);
            hex::encode(bytes)
        },
        str::to_owned,
    );
    let next = local_next(next);
    let body = html! {
        div.login.card {
            h1 { "Log in to sluice" }
            @if let Some(e) = error { div.banner.banner-bad role="alert" { (e) } }
            form method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="username" { "User name" }
                input #username type="text" name="username" autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
            @if state.oidc.is_some() {
                p { a.button href="/ui/login/oidc" { "Log in with your company account" } }
            }
        }
    };
    let mut response = (status, html_page("Log in", None, "", body)).into_response();
    if existing.is_none() {
        let secure = if https(state, headers, peer) { "; Secure" } else { "" };
        let text = format!("{LOGIN_COOKIE}={token}; Path=/ui/login; Max-Age=3600; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn login_submit(
    State(state): State<AppState>,
    addr: ClientAddr,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = Form::body(&headers, &body)?;
    let expected = api::cookie(&headers, LOGIN_COOKIE).unwrap_or_default().to_owned();
    if expected.is_empty() {
        return Ok(login_page(
            &state,
            &headers,
            peer,
            form.get("next"),
            Some("Your browser did not keep the login form's cookie; try again."),
            StatusCode::FORBIDDEN,
        ));
    }
    check_post(&headers, &form, &expected)?;
    let request = LoginRequest {
        username: Some(form.get("username").unwrap_or_default().to_owned()),
        password: Some(form.get("password").unwrap_or_default().to_owned()),
        login_token: None,
    };
    api::check_login(&request)?;
    match state.db.login(&request, &addr.0).await {
        Ok(Login::Token(token)) => {
            let mut response = redirect(&local_next(form.get("next")));
            let secure = https(&state, &headers, peer);
            response.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&token.token, seconds_until(token.expires_at.as_deref()), secure),
            );
            Ok(response)
        }
        Ok(Login::Refused) => Ok(login_page(
            &state,
            &headers,
            peer,
            form.get("next"),
            Some("Wrong user name or password."),
            StatusCode::UNAUTHORIZED,
        )),
        Err(StoreError::RateLimited(m)) => {
            Ok(login_page(&state, &headers, peer, form.get("next"), Some(&m), StatusCode::TOO_MANY_REQUESTS))
        }
        Err(e) => Err(e.into()),
    }
}

async fn login_oidc(State(state): State<AppState>) -> PageResult {
    Ok(api::oidc_redirect(&state, true).await?)
}

async fn logout(
    State(state): State<AppState>,
    addr: ClientAddr,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = Form::body(&headers, &body)?;
    let Some(s) = session(&state, &headers).await? else { return Ok(redirect("/ui/login")) };
    check_post(&headers, &form, &s.csrf)?;
    // The token is revoked, not only forgotten by this browser.
    state.db.revoke_token(&api::caller(&s.principal, &addr), s.principal.token_id()).await?;
    let mut response = redirect("/ui/login");
    response.headers_mut().append(header::SET_COOKIE, session_cookie("", 0, https(&state, &headers, peer)));
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Portfolio

/// Rows a page of the portfolio shows; `page=N` shows the next ones.
const PORTFOLIO_ROWS: usize = 100;

const SORTS: [(&str, &str); 7] = [
    ("name", "Project"),
    ("severity", "Most severe"),
    ("open", "Open"),
    ("sla", "Past SLA"),
    ("new", "New this week"),
    ("fixed", "Fixed this week"),
    ("last_run", "Last run"),
];

async fn portfolio(State(state): State<AppState>, headers: HeaderMap, uri: Uri, RawQuery(raw): RawQuery) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let today = crate::time::now_ms().div_euclid(crate::time::DAY_MS);
    let only = api::readable_ids(&s.principal)?;
    // The SLA counts kept on projects last counted on an earlier UTC day are brought up to date.
    state.db.refresh_sla(only.as_deref(), today).await?;
    let sort = query.get("sort").filter(|s| SORTS.iter().any(|(k, _)| k == s)).unwrap_or("severity");
    let verdict_filter = query.get("verdict");
    // 1-based; past the end is an empty page that says so.
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).filter(|p| (1..=100_000).contains(p)).unwrap_or(1);
    let (shown, total, totals, past_sla) = state
        .db
        .portfolio(&crate::db::PortfolioQuery {
            readable: only,
            name_contains: query.get("q").filter(|q| !q.is_empty()).map(|q| q.chars().take(256).collect()),
            min_rank: query.get("severity").map_or(0, crate::db::severity_rank),
            verdict: verdict_filter.map(str::to_owned),
            sort: sort.to_owned(),
            // This week: today and the six UTC days before it.
            since_day: today - 6,
            limit: PORTFOLIO_ROWS as i64,
            offset: ((page - 1) * PORTFOLIO_ROWS) as i64,
        })
        .await?;
    let total = total as usize;
    let keep = |sort_key: &str| {
        let mut parts = vec![format!("sort={}", qs(sort_key))];
        for name in ["q", "severity", "verdict"] {
            if let Some(v) = query.get(name) {
                parts.push(format!("{name}={}", qs(v)));
            }
        }
        format!("/ui/?{}", parts.join("&"))
    };
    let header = |key: &str, label: &str, num: bool| {
        let class = match (key == sort, num) {
            (true, true) => "num sorted",
            (true, false) => "sorted",
            (false, true) => "num",
            (false, false) => "",
        };
        html! { th class=(class) { a href=(keep(key)) { (label) } } }
    };
    let body = html! {
        h1 { "Portfolio" }
        p.sub { (plural(total, "project", "projects")) " · open findings: "
            (totals.critical) " critical, " (totals.high) " high, " (totals.medium) " medium, " (totals.low) " low"
            " · " (past_sla) " past their SLA" }
        form.filters method="get" action="/ui/" {
            div { label for="q" { "Project name contains" } input #q type="search" name="q" value=[query.get("q")]; }
            div { label for="severity" { "With open findings of at least" }
                select #severity name="severity" {
                    option value="" { "any severity" }
                    @for sev in ["critical", "high", "medium", "low"] {
                        option value=(sev) selected[query.get("severity") == Some(sev)] { (sev) }
                    }
                }
            }
            div { label for="verdict" { "Default-branch verdict" }
                select #verdict name="verdict" {
                    option value="" { "any" }
                    @for v in ["allowed", "denied", "none"] {
                        option value=(v) selected[verdict_filter == Some(v)] { (v) }
                    }
                }
            }
            input type="hidden" name="sort" value=(sort);
            div { button type="submit" { "Filter" } }
        }
        table #portfolio {
            thead { tr {
                (header("name", "Project", false))
                th.num { "Critical" } th.num { "High" } th.num { "Medium" } th.num { "Low" }
                (header("open", "Open", true))
                (header("sla", "Past SLA", true))
                (header("new", "New this week", true))
                (header("fixed", "Fixed this week", true))
                th { "Default-branch verdict" }
                (header("last_run", "Last run", false))
            } }
            tbody {
                @for r in &shown {
                    tr {
                        td { a href=(project_href(&r.name)) { (clean(&r.name)) } }
                        (count_cell(r.open.critical)) (count_cell(r.open.high))
                        (count_cell(r.open.medium)) (count_cell(r.open.low))
                        (count_cell(r.open.critical + r.open.high + r.open.medium + r.open.low + r.open.info))
                        (sla_cell(r.past_sla)) (count_cell(r.new_week)) (count_cell(r.fixed_week))
                        td {
                            @match &r.default_run {
                                Some((id, v)) => { a href=(format!("/ui/runs/{id}")) { (verdict(v.as_deref())) } }
                                None => { span.muted { "no default-branch run" } }
                            }
                        }
                        td {
                            @match r.last_run {
                                Some((id, at)) => { a href=(format!("/ui/runs/{id}")) { (when(&crate::time::rfc3339(at))) } }
                                None => { span.muted { "never" } }
                            }
                        }
                    }
                }
                @if shown.is_empty() { tr { td colspan="11" .muted { "No project matches." } } }
            }
        }
        p.muted #sla-note { "Past SLA: open findings first seen longer ago than their severity allows ("
            (sla_terms()) "), counted in UTC days." }
        @if total > shown.len() {
            @let first = (page - 1) * PORTFOLIO_ROWS;
            p.pages {
                @if shown.is_empty() { "No project on this page; " } @else { "Projects " (first + 1) "–" (first + shown.len()) " of " (total) ". " }
                @if page > 1 { a rel="prev" href=(format!("{}&page={}", keep(sort), page - 1)) { "Previous page" } " " }
                @if first + shown.len() < total { a rel="next" href=(format!("{}&page={}", keep(sort), page + 1)) { "Next page" } }
            }
        }
    };
    Ok(html_page("Portfolio", Some(&s), "portfolio", body))
}

// ---------------------------------------------------------------------------------------------
// Project

async fn project_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let id = api::readable_project(&state, &s.principal, &name).await?;
    let project = state.db.get_project(id).await?;
    let groups = state.db.finding_groups(id, 200).await?;
    let mut filter = FindingFilter {
        project_id: Some(id),
        state: Some("open".into()),
        limit: PAGE_ROWS,
        stage: query.get("stage").map(str::to_owned),
        rule: query.get("rule").map(str::to_owned),
        min_rank: query.get("severity").map_or(0, crate::db::severity_rank),
        ..Default::default()
    };
    if let Some(cursor) = query.get("cursor") {
        filter.after = cursor.split_once('.').and_then(|(r, i)| Some((r.parse().ok()?, i.parse().ok()?)));
    }
    let findings = state.db.list_findings(&filter).await?;
    let runs = state.db.list_runs(id, None, 15).await?;
    let trend = trend_points(&state, id).await?;
    let weeks = weekly_trends(&state, id).await?;
    let today = crate::time::now_ms().div_euclid(crate::time::DAY_MS);
    let past_sla = state.db.sla_breaches(Some(&[id]), today).await?.get(&id).copied().unwrap_or_default();
    let o = &project.open;
    let filtered = filter.stage.is_some() || filter.rule.is_some() || filter.min_rank > 0;
    let next_href = findings.next.as_ref().map(|c| {
        let mut parts = vec![format!("cursor={}", qs(c))];
        for name in ["stage", "rule", "severity"] {
            if let Some(v) = query.get(name) {
                parts.push(format!("{name}={}", qs(v)));
            }
        }
        format!("{}?{}", project_href(&name), parts.join("&"))
    });
    let body = html! {
        h1 { (clean(&project.name)) }
        p.sub { "default branch " code { (clean(project.default_branch.as_deref().unwrap_or("unknown"))) }
            " · profile " code { (clean(&project.profile)) } }
        div.counts {
            span { (severity_badge("critical")) " " (o.critical) }
            span { (severity_badge("high")) " " (o.high) }
            span { (severity_badge("medium")) " " (o.medium) }
            span { (severity_badge("low")) " " (o.low) }
            span { (severity_badge("info")) " " (o.info) }
            span #past-sla title=(format!("open findings first seen longer ago than their severity allows: {}", sla_terms())) {
                @if past_sla > 0 { strong.past-sla { (past_sla) } } @else { (past_sla) }
                " past their SLA"
            }
        }
        p.downloads {
            a href=(format!("{}/findings.csv", project_href(&name))) download { "Open findings (CSV)" }
            a href=(format!("{}/findings.csv?state=all", project_href(&name))) download { "All findings (CSV)" }
        }
        h2 #trends { "The last " (WEEKS) " weeks" }
        (weekly_chart(&project.name, &weeks))
        details.numbers {
            summary { "The numbers" }
            (weekly_table(&weeks))
        }
        p.downloads {
            a href=(format!("{}/trends.csv", project_href(&name))) download { "The same data (CSV)" }
            a href=(format!("{}/trends.json", project_href(&name))) download { "The same data (JSON)" }
        }
        h2 { "Open findings by stage and rule" }
        table #groups {
            thead { tr { th { "Stage" } th { "Rule" } th { "Highest severity" } th.num { "Open" } } }
            tbody {
                @for (stage, rule, rank, n) in &groups {
                    tr {
                        td { code { (clean(stage)) } }
                        td { a href=(format!("{}?stage={}&rule={}", project_href(&name), qs(stage), qs(rule))) { code { (clean(rule)) } } }
                        td { (severity_badge(crate::db::rank_name(*rank))) }
                        td.num { (n) }
                    }
                }
                @if groups.is_empty() { tr { td colspan="4" .muted { "No open finding." } } }
            }
        }
        h2 { "Open findings" @if filtered { " (filtered) " a href=(project_href(&name)) { "show all" } } }
        (findings_table(&findings.items))
        @if let Some(href) = next_href { p.pager { a href=(href) { "Next page" } } }
        h2 { "Open findings per run" }
        (trend_chart(&trend))
        p.downloads { a href=(format!("{}/trend.csv", project_href(&name))) download { "The same data (CSV)" } }
        h2 { "Recent runs" }
        (runs_table(&runs.items))
    };
    Ok(html_page(&project.name, Some(&s), "portfolio", body))
}

/// The open findings after each of a project's last 60 default-branch runs, oldest first.
async fn trend_points(state: &AppState, project_id: i64) -> Result<Vec<RunSummary>, PageError> {
    let mut points: Vec<RunSummary> = state
        .db
        .list_runs(project_id, None, 200)
        .await?
        .items
        .into_iter()
        .filter(|r| r.on_default_branch)
        .take(60)
        .collect();
    points.reverse();
    Ok(points)
}

/// A line chart of open findings per default-branch run, as SVG in the page (numbers only: no
/// repository string goes into it), with labelled axes and a legend.
fn trend_chart(points: &[RunSummary]) -> Markup {
    if points.len() < 2 {
        return html! { p.muted { "A trend needs two default-branch runs." } };
    }
    let (width, height, left, right, top, bottom) = (720.0_f64, 240.0_f64, 56.0, 16.0, 28.0, 44.0);
    let max = points.iter().map(|p| p.open_after).max().unwrap_or(0).max(1);
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let mut top_value = 1_i64;
    while top_value < max {
        top_value = match top_value.to_string().chars().next() {
            Some('1') => top_value * 2,
            Some('2') => top_value / 2 * 5,
            _ => top_value * 2,
        };
    }
    let x = |i: usize| left + (width - left - right) * i as f64 / (points.len() - 1) as f64;
    let y = |v: i64| top + (height - top - bottom) * (1.0 - v as f64 / top_value as f64);
    let line: Vec<String> =
        points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.open_after))).collect();
    let ticks = [0, top_value / 2, top_value];
    let first = when(&points[0].created_at);
    let last = when(&points[points.len() - 1].created_at);
    html! {
        svg.chart viewBox=(format!("0 0 {width} {height}")) role="img" aria-labelledby="trend-title" {
            title #trend-title { "Open findings after each default-branch run, " (first) " to " (last) }
            @for t in ticks {
                line.grid x1=(left) x2=(width - right) y1=(format!("{:.1}", y(t))) y2=(format!("{:.1}", y(t))) {}
                text.tick x=(left - 6.0) y=(format!("{:.1}", y(t) + 4.0)) text-anchor="end" { (t) }
            }
            line.axis x1=(left) x2=(left) y1=(top) y2=(height - bottom) {}
            line.axis x1=(left) x2=(width - right) y1=(height - bottom) y2=(height - bottom) {}
            polyline.series points=(line.join(" ")) {}
            @for (i, p) in points.iter().enumerate() {
                circle.point cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(p.open_after))) r="2.5" {
                    title { "run #" (p.id) ", " (when(&p.created_at)) ": " (p.open_after) " open" }
                }
            }
            text.label x=(left) y=(height - 10.0) { (first) }
            text.label x=(width - right) y=(height - 10.0) text-anchor="end" { (last) }
            text.label x=((left + width - right) / 2.0) y=(height - 10.0) text-anchor="middle" { "default-branch runs (time →)" }
            text.label x="14" y=((top + height - bottom) / 2.0) text-anchor="middle" transform=(format!("rotate(-90 14 {})", (top + height - bottom) / 2.0)) { "open findings (count)" }
            line.series x1=(width - 210.0) x2=(width - 190.0) y1="12" y2="12" {}
            text.label x=(width - 184.0) y="16" { "open findings after the run" }
        }
    }
}

async fn trend_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let id = api::readable_project(&state, &s.principal, &name).await?;
    let mut out = String::from("run,created_at,open_after,new,closed,reintroduced\r\n");
    for p in trend_points(&state, id).await? {
        let _ = write!(
            out,
            "{},{},{},{},{},{}\r\n",
            p.id,
            csv_cell(&p.created_at),
            p.open_after,
            p.new,
            p.closed,
            p.reintroduced
        );
    }
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}-trend.csv\"", seg(&name))) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The weekly trend: new, fixed and open findings over the last 12 ISO weeks (Monday to Sunday,
// UTC), from what each default-branch push keeps (`project_days`, `runs.open_after`).

/// Weeks the trend shows, the current one (to date) last.
const WEEKS: i64 = 12;

/// One week of a project's default branch.
#[derive(Debug, Clone, PartialEq)]
struct Week {
    /// The Monday that starts it, in UTC days since the epoch.
    start: i64,
    /// Findings its default-branch runs saw for the first time.
    new: i64,
    /// Findings its default-branch runs closed (no longer detected).
    fixed: i64,
    /// Open findings after its last default-branch run, or after the last one before it (None:
    /// the default branch had no run yet).
    open: Option<i64>,
}

/// The Monday (UTC day number) of the ISO week holding `day` (1970-01-01 was a Thursday).
fn week_start(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// `day` (UTC days since the epoch) as `2026-11-30`.
fn iso_day(day: i64) -> String {
    jiff::Timestamp::from_millisecond(day * crate::time::DAY_MS)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

/// `day` as `Nov 30`, for the chart's axis.
fn short_day(day: i64) -> String {
    jiff::Timestamp::from_millisecond(day * crate::time::DAY_MS)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%b %-d").to_string())
        .unwrap_or_default()
}

/// The weeks from the kept rows (see [`crate::db::Db::project_weeks`]), `today` a UTC day.
fn weeks_from(today: i64, days: &[(i64, i64, i64)], ends: &[(i64, i64)], before: Option<i64>) -> Vec<Week> {
    let first = week_start(today) - 7 * (WEEKS - 1);
    let mut weeks: Vec<Week> =
        (0..WEEKS).map(|k| Week { start: first + 7 * k, new: 0, fixed: 0, open: None }).collect();
    for &(day, new, closed) in days {
        let k = (week_start(day) - first) / 7;
        if let Some(w) = usize::try_from(k).ok().and_then(|k| weeks.get_mut(k)) {
            w.new += new;
            w.fixed += closed;
        }
    }
    let mut open = before;
    let mut ends = ends.iter().peekable();
    for w in &mut weeks {
        while let Some(&&(at, after)) = ends.peek() {
            if week_start(at.div_euclid(crate::time::DAY_MS)) > w.start {
                break;
            }
            open = Some(after);
            ends.next();
        }
        w.open = open;
    }
    weeks
}

async fn weekly_trends(state: &AppState, project_id: i64) -> Result<Vec<Week>, PageError> {
    let today = crate::time::now_ms().div_euclid(crate::time::DAY_MS);
    let first = week_start(today) - 7 * (WEEKS - 1);
    let (days, ends, before) = state.db.project_weeks(project_id, first).await?;
    Ok(weeks_from(today, &days, &ends, before))
}

/// A round top for an axis: 1, 2 or 5 times a power of ten, at least `max` (and at least 1).
fn axis_top(max: i64) -> i64 {
    let max = max.max(1);
    let mut base = 1_i64;
    loop {
        for m in [1, 2, 5] {
            if base * m >= max {
                return base * m;
            }
        }
        base *= 10;
    }
}

/// The ticks of an axis from 0 to `top`: 0, the middle, the top (once each).
fn ticks(top: i64) -> Vec<i64> {
    let mut t = vec![0, top / 2, top];
    t.dedup();
    t
}

/// Two panels over the same weeks, as SVG in the page: open findings at the end of each week
/// (a line), and findings new and fixed in each week (bars), each with its axis, units, a legend,
/// a title and a description for screen readers. The project's name is the only repository
/// string in it (escaped, and its hidden characters shown).
fn weekly_chart(project: &str, weeks: &[Week]) -> Markup {
    let (width, height) = (760.0_f64, 420.0_f64);
    let (left, right) = (64.0_f64, 16.0_f64);
    let (open_top, open_bottom) = (64.0_f64, 184.0_f64);
    let (bars_top, bars_bottom) = (236.0_f64, 356.0_f64);
    let n = weeks.len().max(1);
    let slot = (width - left - right) / n as f64;
    let centre = |i: usize| left + slot * (i as f64 + 0.5);
    let open_max = axis_top(weeks.iter().filter_map(|w| w.open).max().unwrap_or(0));
    let bars_max = axis_top(weeks.iter().map(|w| w.new.max(w.fixed)).max().unwrap_or(0));
    let y_open = |v: i64| open_bottom - (open_bottom - open_top) * v as f64 / open_max as f64;
    let y_bars = |v: i64| bars_bottom - (bars_bottom - bars_top) * v as f64 / bars_max as f64;
    let line: Vec<String> = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.open.map(|o| format!("{:.1},{:.1}", centre(i), y_open(o))))
        .collect();
    let bar = slot * 0.32;
    let new_total: i64 = weeks.iter().map(|w| w.new).sum();
    let fixed_total: i64 = weeks.iter().map(|w| w.fixed).sum();
    let first_open = weeks.iter().find_map(|w| w.open);
    let last_open = weeks.last().and_then(|w| w.open);
    let (from, to) = (
        weeks.first().map(|w| iso_day(w.start)).unwrap_or_default(),
        weeks.last().map(|w| iso_day(w.start + 6)).unwrap_or_default(),
    );
    let summary = match (first_open, last_open) {
        (Some(a), Some(b)) => format!(
            "From {from} to {to}: {new_total} findings new and {fixed_total} fixed on the default branch; \
             open findings went from {a} to {b}."
        ),
        _ => format!("From {from} to {to}: no default-branch run yet."),
    };
    let mid = |top: f64, bottom: f64| (top + bottom) / 2.0;
    let f1 = |v: f64| format!("{v:.1}");
    html! {
        svg.chart.weekly viewBox=(format!("0 0 {width} {height}")) role="img" aria-labelledby="trends-title trends-desc" {
            title #trends-title { "Findings of " (clean(project)) " per week, last " (WEEKS) " weeks" }
            desc #trends-desc { (summary) }
            text.heading x=(left) y="22" { "Findings of " (clean(project)) ", last " (WEEKS) " weeks (default branch)" }
            // The legend.
            line.open-line x1=(left) x2=(left + 22.0) y1="40" y2="40" {}
            text.label x=(left + 28.0) y="44" { "open at the end of the week" }
            rect.bar-new x=(left + 220.0) y="34" width="12" height="12" {}
            text.label x=(left + 238.0) y="44" { "new in the week" }
            rect.bar-fixed x=(left + 350.0) y="34" width="12" height="12" {}
            text.label x=(left + 368.0) y="44" { "fixed in the week" }
            // Open findings.
            @for t in ticks(open_max) {
                line.grid x1=(left) x2=(width - right) y1=(f1(y_open(t))) y2=(f1(y_open(t))) {}
                text.tick x=(left - 6.0) y=(f1(y_open(t) + 4.0)) text-anchor="end" { (t) }
            }
            line.axis x1=(left) x2=(left) y1=(open_top) y2=(open_bottom) {}
            line.axis x1=(left) x2=(width - right) y1=(open_bottom) y2=(open_bottom) {}
            text.label x="16" y=(f1(mid(open_top, open_bottom))) text-anchor="middle"
                transform=(format!("rotate(-90 16 {})", f1(mid(open_top, open_bottom)))) { "open (findings)" }
            @if line.len() > 1 { polyline.open-line points=(line.join(" ")) {} }
            @for (i, w) in weeks.iter().enumerate() {
                @if let Some(o) = w.open {
                    circle.open-point cx=(f1(centre(i))) cy=(f1(y_open(o))) r="3" {
                        title { "week of " (iso_day(w.start)) ": " (o) " open at the end" }
                    }
                }
            }
            // New and fixed.
            @for t in ticks(bars_max) {
                line.grid x1=(left) x2=(width - right) y1=(f1(y_bars(t))) y2=(f1(y_bars(t))) {}
                text.tick x=(left - 6.0) y=(f1(y_bars(t) + 4.0)) text-anchor="end" { (t) }
            }
            line.axis x1=(left) x2=(left) y1=(bars_top) y2=(bars_bottom) {}
            line.axis x1=(left) x2=(width - right) y1=(bars_bottom) y2=(bars_bottom) {}
            text.label x="16" y=(f1(mid(bars_top, bars_bottom))) text-anchor="middle"
                transform=(format!("rotate(-90 16 {})", f1(mid(bars_top, bars_bottom)))) { "per week (findings)" }
            @for (i, w) in weeks.iter().enumerate() {
                rect.bar-new x=(f1(centre(i) - bar - 1.0)) y=(f1(y_bars(w.new))) width=(f1(bar))
                    height=(f1(bars_bottom - y_bars(w.new))) {
                    title { "week of " (iso_day(w.start)) ": " (w.new) " new" }
                }
                rect.bar-fixed x=(f1(centre(i) + 1.0)) y=(f1(y_bars(w.fixed))) width=(f1(bar))
                    height=(f1(bars_bottom - y_bars(w.fixed))) {
                    title { "week of " (iso_day(w.start)) ": " (w.fixed) " fixed" }
                }
                text.tick x=(f1(centre(i))) y=(f1(bars_bottom + 16.0)) text-anchor="middle" { (short_day(w.start)) }
            }
            text.label x=(f1(mid(left, width - right))) y=(f1(height - 22.0)) text-anchor="middle" {
                "week starting Monday (UTC); the last week is the current one, to date"
            }
        }
    }
}

/// The weekly numbers as a table (under the chart, folded).
fn weekly_table(weeks: &[Week]) -> Markup {
    html! {
        table #trends-table {
            thead { tr { th { "Week starting" } th.num { "New" } th.num { "Fixed" } th.num { "Open at the end" } } }
            tbody {
                @for w in weeks {
                    tr {
                        td.when { (iso_day(w.start)) }
                        (count_cell(w.new)) (count_cell(w.fixed))
                        td.num { @match w.open { Some(o) => { (o) } None => { span.muted { "no run yet" } } } }
                    }
                }
            }
        }
    }
}

/// The downloads' common part: a signed-in reader of the project, the project and its weeks.
async fn project_trends(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    name: &str,
) -> Result<(crate::model::Project, Vec<Week>), PageError> {
    let s = require(state, headers, uri).await?;
    let id = api::readable_project(state, &s.principal, name).await?;
    let project = state.db.get_project(id).await?;
    Ok((project, weekly_trends(state, id).await?))
}

async fn trends_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> PageResult {
    let (project, weeks) = project_trends(&state, &headers, &uri, &name).await?;
    let mut out = String::from("project,week_start,week_end,new,fixed,open_at_end\r\n");
    for w in weeks {
        let open = w.open.map(|o| o.to_string()).unwrap_or_default();
        let cells = [
            project.name.clone(),
            iso_day(w.start),
            iso_day(w.start + 6),
            w.new.to_string(),
            w.fixed.to_string(),
            open,
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(download(out, "text/csv; charset=utf-8", &format!("{}-trends.csv", seg(&name))))
}

async fn trends_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> PageResult {
    let (project, weeks) = project_trends(&state, &headers, &uri, &name).await?;
    let weeks: Vec<serde_json::Value> = weeks
        .iter()
        .map(|w| {
            serde_json::json!({
                "week_start": iso_day(w.start), "week_end": iso_day(w.start + 6),
                "new": w.new, "fixed": w.fixed, "open_at_end": w.open,
            })
        })
        .collect();
    let body = serde_json::json!({
        "project": project.name,
        "weeks_start_on": "Monday, UTC",
        "new": "findings default-branch runs saw for the first time in the week",
        "fixed": "findings default-branch runs closed in the week",
        "open_at_end": "open findings after the week's last default-branch run (or the last before it; null: none yet)",
        "weeks": weeks,
    });
    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
    Ok(download(text, "application/json", &format!("{}-trends.json", seg(&name))))
}

/// An attachment: `file` must already be safe in a header (made of [`seg`]'s characters).
fn download(body: String, kind: &'static str, file: &str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, kind)], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

fn findings_table(items: &[Finding]) -> Markup {
    html! {
        table.findings {
            thead { tr { th { "Severity" } th { "Rule" } th { "Location" } th { "Message" } th { "First seen" } } }
            tbody {
                @for f in items {
                    tr {
                        td { (severity_badge(&f.severity)) }
                        td { a href=(finding_href(&f.project, &f.fingerprint)) { code { (clean(&f.rule_id)) } } }
                        td { code { (location(f)) } }
                        td.wrap { (clean(&f.message))
                            @if let Some(sup) = &f.suppressed { " " span.state { "suppressed in the repository: " (clean(sup)) } } }
                        td.when { (when(&f.first_seen_at)) }
                    }
                }
                @if items.is_empty() { tr { td colspan="5" .muted { "None." } } }
            }
        }
    }
}

fn location(f: &Finding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{}:{l}", clean(p)),
        (Some(p), None) => clean(p),
        _ => "(no location)".into(),
    }
}

fn runs_table(runs: &[RunSummary]) -> Markup {
    html! {
        table.runs {
            thead { tr { th { "Run" } th { "When" } th { "Branch" } th { "Commit" } th { "Verdict" } th.num { "Results" } th.num { "New" } th.num { "Closed" } } }
            tbody {
                @for r in runs {
                    tr {
                        td { a href=(format!("/ui/runs/{}", r.id)) { "#" (r.id) } }
                        td.when { (when(&r.created_at)) }
                        td { code { (clean(r.branch.as_deref().unwrap_or("-"))) }
                            @if r.merge_request.is_some() { " " span.state { "merge request" } }
                            @if r.on_default_branch { " " span.state { "default" } } }
                        td { code { (clean(&r.commit.as_deref().unwrap_or("-").chars().take(12).collect::<String>())) } }
                        td { (verdict(r.verdict.as_deref())) }
                        td.num { (r.results) } td.num { (r.new) } td.num { (r.closed) }
                    }
                }
                @if runs.is_empty() { tr { td colspan="8" .muted { "No run yet." } } }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finding

async fn finding_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, fingerprint)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let id = api::readable_project(&state, &s.principal, &name).await?;
    let detail = state.db.finding_detail(id, &fingerprint).await?;
    let f = &detail.finding;
    let decisions = state.db.finding_decisions(id, f).await?;
    let mut histories = BTreeMap::new();
    for (d, _) in decisions.iter().take(20) {
        if let Ok((_, detail)) = state.db.get_decision(d.id).await {
            histories.insert(d.id, detail.history);
        }
    }
    let in_force: Vec<&DecisionView> = decisions.iter().filter(|(_, f)| *f).map(|(d, _)| d).collect();
    let suppressing = in_force.iter().find(|d| d.status != "confirmed");
    let confirmed = in_force.iter().find(|d| d.status == "confirmed");
    let here = finding_href(&name, &fingerprint);
    let may_propose = matches!(s.principal, Principal::User { .. }) && s.principal.role_on(id).is_some();
    let body = html! {
        p.sub { a href=(project_href(&name)) { (clean(&name)) } " / finding" }
        h1 { (severity_badge(&f.severity)) " " code { (clean(&f.rule_id)) } }
        @if let Some(msg) = query.get("done") { div.banner.banner-ok role="status" { (clean(msg)) } }
        @if let Some(msg) = query.get("error") { div.banner.banner-bad role="alert" { (clean(msg)) } }
        @if let Some(d) = suppressing {
            div #suppressed .banner.banner-ok {
                strong { "Suppressed" } " by decision #" (d.id) ": " (status_label(&d.status)) " — " (clean(&d.reason))
                " (proposed by " (clean(&d.proposed_by)) ", approved by " (clean(d.decided_by.as_deref().unwrap_or("?")))
                " as " (clean(d.decided_role.as_deref().unwrap_or("?"))) ")"
                @if let Some(e) = &d.expires { " until " (e) }
            }
        } @else if let Some(d) = confirmed {
            div.banner.banner-bad { strong { "Confirmed" } " by decision #" (d.id) ": " (clean(&d.reason)) }
        } @else if let Some(sup) = &f.suppressed {
            div.banner.banner-ok { strong { "Suppressed in the repository" } ": " (clean(sup)) }
        } @else if f.state == "open" {
            div #open .banner.banner-warn { strong { "Open" } ": no decision in force covers it." }
        }
        div.card {
            dl.facts {
                dt { "Message" } dd.wrap { (clean(&f.message)) }
                dt { "Location" } dd { code { (location(f)) } }
                dt { "Stage" } dd { code { (clean(&f.stage)) } }
                dt { "Rule" } dd { code { (clean(&f.rule_id)) } }
                dt { "State" } dd { (clean(&f.state)) @if let Some(c) = &f.closed_at { " (not detected since " (when(c)) ")" } }
                dt { "First seen" } dd { (when(&f.first_seen_at)) }
                dt { "Last seen" } dd { (when(&f.last_seen_at)) }
                dt { "Reintroduced" } dd { (f.reintroduced) " times" }
                dt { "Fingerprint" } dd { code { (clean(&f.fingerprint)) } }
                @if let Some(repo) = &f.repository_decision {
                    dt { "Repository's decision" } dd.wrap { code { (clean(&repo.to_string())) } }
                }
            }
            p.muted { "Messages and snippets are stored redacted: secrets never reach the server in clear." }
        }
        h2 { "Decisions" }
        @if decisions.is_empty() { p.muted { "No decision covers this finding." } }
        @for (d, force) in &decisions {
            div.card.decision id=(format!("decision-{}", d.id)) {
                p {
                    strong { "#" (d.id) " " (status_label(&d.status)) } " "
                    span class=(format!("state state-{}", match d.state.as_str() { "approved" => "approved", "proposed" => "proposed", "rejected" => "rejected", _ => "revoked" })) { (clean(&d.state)) }
                    @if *force { " " span.state.state-approved { "in force" } }
                    " · " (clean(&d.scope)) " scope"
                    @if d.project.is_none() { " · organisation-wide" }
                    @if let Some(r) = &d.rule { " · rule " code { (clean(r)) } }
                    @if let Some(p) = &d.path { " in " code { (clean(p)) } }
                    @if let Some(a) = &d.advisory { " · advisory " code { (clean(a)) } }
                    @if let Some(p) = &d.package { " in " code { (clean(p)) } }
                    " · needs " (clean(&d.required_role))
                }
                p.wrap { "Why: " (clean(&d.reason)) }
                @if let Some(h) = histories.get(&d.id) {
                    ul.history {
                        @for e in h {
                            li { (when(&e.at)) " — " (clean(&e.actor))
                                @if let Some(r) = &e.role { " (" (clean(r)) ")" }
                                " " (clean(&e.action))
                                @if let Some(n) = &e.note { ": " (clean(n)) } }
                        }
                    }
                }
                @if api::may_decide(&s.principal, d.project.as_ref().map(|_| id), d) {
                    (decide_form(&s, d.id, &here))
                }
            }
        }
        @if may_propose {
            h2 { "Propose a decision" }
            form.card #propose method="post" action=(format!("{here}/propose")) {
                input type="hidden" name="csrf" value=(s.csrf);
                div.filters {
                    div { label for="scope" { "Covering" }
                        select #scope name="scope" {
                            option value="finding" { "this finding" }
                            option value="rule" { "this rule in this project" }
                        }
                    }
                    div { label for="status" { "Status" }
                        select #status name="status" {
                            option value="false_positive" { "false positive" }
                            option value="accepted_risk" { "accepted risk (needs an expiry)" }
                            option value="mitigated" { "mitigated" }
                            option value="confirmed" { "confirmed" }
                        }
                    }
                    div { label for="path" { "Files (rule scope; glob)" } input #path type="text" name="path" placeholder="**"; }
                    div { label for="expires" { "Expires" } input #expires type="date" name="expires"; }
                }
                label for="reason" { "Reason" }
                textarea #reason name="reason" required maxlength="4096" {}
                div.actions { button type="submit" { "Propose" } }
            }
        }
        h2 { "Runs that reported it" }
        (runs_table(&detail.seen_in))
    };
    Ok(html_page(&format!("{} in {}", f.rule_id, name), Some(&s), "portfolio", body))
}

fn decide_form(s: &Session, id: i64, back: &str) -> Markup {
    html! {
        form.decide method="post" action="/ui/triage" {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="back" value=(back);
            input type="hidden" name="id" value=(id);
            label for=(format!("note-{id}")) { "Note (required to reject)" }
            textarea id=(format!("note-{id}")) name="note" maxlength="4096" {}
            div.actions {
                button type="submit" name="action" value="approve" { "Approve" }
                button.danger type="submit" name="action" value="reject" { "Reject" }
            }
        }
    }
}

async fn propose(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    Path((name, fingerprint)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let form = Form::body(&headers, &body)?;
    check_post(&headers, &form, &s.csrf)?;
    let id = api::readable_project(&state, &s.principal, &name).await?;
    let finding = state.db.finding_detail(id, &fingerprint).await?.finding;
    let scope = form.get("scope").unwrap_or("finding");
    let new = NewDecision {
        project: Some(name.clone()),
        scope: scope.to_owned(),
        fingerprint: (scope == "finding").then(|| fingerprint.clone()),
        rule: (scope == "rule").then(|| finding.rule_id.clone()),
        path: if scope == "rule" { form.get("path").map(str::to_owned) } else { None },
        advisory: None,
        package: None,
        stage: None,
        status: form.get("status").unwrap_or_default().to_owned(),
        reason: form.get("reason").unwrap_or_default().to_owned(),
        expires: form.get("expires").map(str::to_owned),
        vex_justification: None,
        set_severity: None,
    };
    let here = finding_href(&name, &fingerprint);
    Ok(match api::propose(&state, &addr, &s.principal, &new, None).await {
        Ok(d) => redirect(&format!(
            "{here}?done={}",
            qs(&format!("Proposed as decision #{}; it needs the {} role to approve it.", d.id, d.required_role))
        )),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            redirect(&format!("{here}?error={}", qs(&e.message)))
        }
        Err(e) => return Err(e.into()),
    })
}

// ---------------------------------------------------------------------------------------------
// Triage queue

async fn triage(State(state): State<AppState>, headers: HeaderMap, uri: Uri, RawQuery(raw): RawQuery) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let page = api::decision_page(
        &state,
        &s.principal,
        &DecisionQuery {
            awaiting_me: Some(true),
            cursor: query.get("cursor").map(str::to_owned),
            limit: Some(PAGE_ROWS),
            ..Default::default()
        },
    )
    .await?;
    let body = html! {
        h1 { "Triage: proposals awaiting you" }
        p.sub { "Proposals you may approve: a champion's for low and medium findings of their projects, the security role's for high and critical ones and organisation-wide decisions. Nobody approves their own." }
        @if let Some(n) = query.get("done") { div.banner.banner-ok role="status" { (clean(n)) } }
        @if let Some(n) = query.get("error") { div.banner.banner-bad role="alert" { (clean(n)) } }
        form #queue method="post" action="/ui/triage" {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="back" value="/ui/triage";
            table {
                thead { tr { th { "" } th { "#" } th { "Project" } th { "Covers" } th { "Status" } th { "Severity" } th { "Why" } th { "Proposed by" } th { "Needs" } } }
                tbody {
                    @for d in &page.items {
                        tr id=(format!("proposal-{}", d.id)) {
                            td { input type="checkbox" name="id" value=(d.id) aria-label=(format!("select proposal {}", d.id)); }
                            td { (d.id) }
                            td.nowrap { @match &d.project {
                                Some(p) => { a href=(project_href(p)) { (clean(p)) } }
                                None => { span.muted { "organisation" } } } }
                            td.wrap {
                                @match (d.project.as_deref(), d.fingerprint.as_deref()) {
                                    (Some(p), Some(fp)) => { a href=(finding_href(p, fp)) { "finding " code { (clean(&fp.chars().take(12).collect::<String>())) } } }
                                    _ => {
                                        (clean(&d.scope))
                                        @if let Some(r) = &d.rule { " " code { (clean(r)) } }
                                        @if let Some(p) = &d.path { " in " code { (clean(p)) } }
                                        @if let Some(a) = &d.advisory { " " code { (clean(a)) } }
                                        @if let Some(p) = &d.package { " in " code { (clean(p)) } }
                                    }
                                }
                            }
                            td.nowrap { (status_label(&d.status)) @if let Some(e) = &d.expires { br; span.muted { "until " (e) } } }
                            td { (severity_badge(&d.severity)) }
                            td.wrap { (clean(&d.reason)) }
                            td.nowrap { (clean(&d.proposed_by)) br; span.muted { (when(&d.proposed_at)) } }
                            td { (clean(&d.required_role)) }
                        }
                    }
                    @if page.items.is_empty() { tr { td colspan="9" .muted { "Nothing awaits you." } } }
                }
            }
            @if !page.items.is_empty() {
                div.card {
                    label for="note" { "Note for the selected proposals (required to reject)" }
                    textarea #note name="note" maxlength="4096" {}
                    div.actions {
                        button type="submit" name="action" value="approve" { "Approve selected" }
                        button.danger type="submit" name="action" value="reject" { "Reject selected" }
                    }
                }
            }
        }
        @if let Some(next) = &page.next { p.pager { a href=(format!("/ui/triage?cursor={}", qs(next))) { "Next page" } } }
    };
    Ok(html_page("Triage", Some(&s), "triage", body))
}

/// Approves or rejects the proposals a form names (one or many), each through the API's own
/// `act` (its checks, its transaction, its audit row), then back to the page it came from.
async fn triage_act(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let form = Form::body(&headers, &body)?;
    check_post(&headers, &form, &s.csrf)?;
    let back = local_next(form.get("back"));
    let action = match form.get("action") {
        Some(a @ ("approve" | "reject")) => a,
        _ => return Err(PageError(error_page(StatusCode::BAD_REQUEST, "approve or reject?"))),
    };
    let ids: Vec<i64> = form.all("id").filter_map(|v| v.parse().ok()).take(500).collect();
    if ids.is_empty() {
        return Ok(redirect(&with_message(&back, "error", "Select at least one proposal.")));
    }
    let note = form.get("note").map(|n| n.replace("\r\n", "\n"));
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for id in ids {
        match api::act(&state, &addr, &s.principal, id, action, note.clone()).await {
            Ok(_) => done.push(id),
            Err(e) if e.status.is_client_error() => failed.push(format!("#{id}: {}", e.message)),
            Err(e) => return Err(e.into()),
        }
    }
    let verb = if action == "approve" { "Approved" } else { "Rejected" };
    let mut target = back;
    if !done.is_empty() {
        let list: Vec<String> = done.iter().map(|i| format!("#{i}")).collect();
        target = with_message(&target, "done", &format!("{verb} {}.", list.join(", ")));
    }
    if !failed.is_empty() {
        target = with_message(&target, "error", &failed.join("; "));
    }
    Ok(redirect(&target))
}

fn with_message(target: &str, key: &str, message: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    let message: String = message.chars().take(600).collect();
    format!("{target}{sep}{key}={}", qs(&message))
}

// ---------------------------------------------------------------------------------------------
// Impact search

/// A package found in an SBOM.
struct Shipped {
    project: String,
    run: i64,
    name: String,
    version: Option<String>,
    purl: Option<String>,
}

/// A version range: comparisons joined by commas (`>=1.2, <2`), or one version (`=` implied).
/// Versions compare by their dot-separated parts, numerically where both are numbers.
pub fn version_matches(range: &str, version: &str) -> bool {
    fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
        let a = a.trim_start_matches('v');
        let b = b.trim_start_matches('v');
        let mut left = a.split(['.', '-', '+']);
        let mut right = b.split(['.', '-', '+']);
        loop {
            match (left.next(), right.next()) {
                (None, None) => return std::cmp::Ordering::Equal,
                (Some(_), None) => return std::cmp::Ordering::Greater,
                (None, Some(_)) => return std::cmp::Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        _ => x.cmp(y),
                    };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    }
    range.split(',').map(str::trim).filter(|c| !c.is_empty()).all(|c| {
        let (op, v) = [">=", "<=", "==", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|v| (*op, v.trim())))
            .unwrap_or(("=", c));
        let o = cmp(version, v);
        match op {
            ">=" => o.is_ge(),
            "<=" => o.is_le(),
            ">" => o.is_gt(),
            "<" => o.is_lt(),
            "!=" => o.is_ne(),
            _ => o.is_eq(),
        }
    })
}

async fn impact(State(state): State<AppState>, headers: HeaderMap, uri: Uri, RawQuery(raw): RawQuery) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let package = query.get("package").map(|p| p.chars().take(256).collect::<String>());
    let range = query.get("version").map(|v| v.chars().take(256).collect::<String>());
    let advisory = query.get("advisory").map(|a| a.chars().take(256).collect::<String>());
    let only = api::readable_ids(&s.principal)?;
    let mut shipped: Vec<Shipped> = Vec::new();
    let mut truncated = false;
    if let Some(wanted) = package.clone() {
        // From the index of each project's latest default-branch SBOM (kept at push).
        const LIMIT: usize = 5000;
        let key = crate::evidence::ComponentKey::new(&wanted);
        let rows = state.db.impact_components(&key, only.as_deref(), LIMIT as i64 + 1).await?;
        truncated = rows.len() > LIMIT;
        for (project, run, name, version, purl) in rows.into_iter().take(LIMIT) {
            if let Some(r) = &range {
                if !version.as_deref().is_some_and(|v| version_matches(r, v)) {
                    continue;
                }
            }
            shipped.push(Shipped { project, run, name, version, purl });
        }
        shipped.sort_by(|a, b| (&a.project, &a.name, &a.version).cmp(&(&b.project, &b.name, &b.version)));
        shipped
            .dedup_by(|a, b| a.project == b.project && a.name == b.name && a.version == b.version && a.purl == b.purl);
    }
    // The worst projects first; how many in all.
    const AFFECTED: usize = 200;
    let (affected, affected_total) = match &advisory {
        Some(a) => state.db.impact_projects(a, only.as_deref(), AFFECTED as i64).await?,
        None => (Vec::new(), 0),
    };
    let projects_shipping: std::collections::BTreeSet<&str> = shipped.iter().map(|s| s.project.as_str()).collect();
    let body = html! {
        h1 { "Impact search" }
        p.sub { "Which projects ship a package (from each project's latest default-branch SBOM), and which are affected by an advisory (from their findings, by any of its aliases)." }
        form.filters method="get" action="/ui/impact" {
            div { label for="package" { "Package (name or purl)" } input #package type="search" name="package" value=[package.as_deref()] placeholder="lodash or pkg:npm/lodash"; }
            div { label for="version" { "Versions" } input #version type="text" name="version" value=[range.as_deref()] placeholder=">=4.0, <4.17.21"; }
            div { label for="advisory" { "Advisory" } input #advisory type="search" name="advisory" value=[advisory.as_deref()] placeholder="CVE-2021-23337 or GHSA-…"; }
            div { button type="submit" { "Search" } }
        }
        @if let Some(p) = &package {
            h2 #shipping { (plural(projects_shipping.len(), "project ships", "projects ship")) " " code { (clean(p)) }
                @if let Some(r) = &range { " " code { (clean(r)) } } }
            @if truncated { p.muted { "Only the first 5,000 packages that match are shown; narrow the search." } }
            table #shipped {
                thead { tr { th { "Project" } th { "Package" } th { "Version" } th { "purl" } th { "From run" } } }
                tbody {
                    @for row in &shipped {
                        tr {
                            td { a href=(project_href(&row.project)) { (clean(&row.project)) } }
                            td { code { (clean(&row.name)) } }
                            td { code { (clean(row.version.as_deref().unwrap_or("-"))) } }
                            td { code { (clean(row.purl.as_deref().unwrap_or("-"))) } }
                            td { a href=(format!("/ui/runs/{}", row.run)) { "#" (row.run) } }
                        }
                    }
                    @if shipped.is_empty() { tr { td colspan="5" .muted { "No project's SBOM has it." } } }
                }
            }
        }
        @if let Some(a) = &advisory {
            h2 #affected { (plural(affected_total as usize, "project", "projects")) " affected by " code { (clean(a)) } }
            @if (affected.len() as i64) < affected_total { p.muted { "The " (affected.len()) " with the most severe findings are listed." } }
            table #advisory-findings {
                thead { tr { th { "Project" } th { "Worst severity" } th.num { "Open findings" } th.num { "All findings" } th { "Advisory id there" } } }
                tbody {
                    @for (project, all, open, rank, rule) in &affected {
                        tr {
                            td { a href=(project_href(project)) { (clean(project)) } }
                            td { (severity_badge(crate::db::rank_name(*rank))) }
                            (count_cell(*open)) (count_cell(*all))
                            td { a href=(format!("{}?rule={}", project_href(project), qs(rule))) { code { (clean(rule)) } } }
                        }
                    }
                    @if affected.is_empty() { tr { td colspan="5" .muted { "No finding of this advisory." } } }
                }
            }
        }
    };
    Ok(html_page("Impact", Some(&s), "impact", body))
}

// ---------------------------------------------------------------------------------------------
// Evidence

async fn run_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(run): Path<String>) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let run: i64 = run.parse().map_err(|_| ApiError::not_found("no such run"))?;
    let (_, r) = api::readable_run(&state, &s.principal, run).await?;
    let mut documents = Vec::new();
    for kind in ["sbom", "attestation", "sarif"] {
        if let Some(body) = state.db.run_document(run, kind).await? {
            documents.push((kind, body.len()));
        }
    }
    // Whether the attestation's signature verifies with a key the server was given.
    let signature = match documents.iter().any(|(k, _)| *k == "attestation") {
        true => {
            state.db.run_document(run, "attestation").await?.as_deref().and_then(crate::db::gunzip_json).map(|doc| {
                (crate::attestations::check(&doc, &state.attestation_keys), crate::attestations::payload_decodes(&doc))
            })
        }
        false => None,
    };
    let stages: Vec<(String, String)> = match &r.stages {
        serde_json::Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().map(|(i, v)| (i.to_string(), v.to_string())).collect()
        }
        _ => Vec::new(),
    };
    let body = html! {
        p.sub { a href=(project_href(&r.project)) { (clean(&r.project)) } " / run #" (r.id) }
        h1 { "Run #" (r.id) " " (verdict(r.verdict.as_deref())) }
        div.card {
            dl.facts {
                dt { "When" } dd { (when(&r.created_at)) }
                dt { "Commit" } dd { code { (clean(r.commit.as_deref().unwrap_or("-"))) } }
                dt { "Branch" } dd { code { (clean(r.branch.as_deref().unwrap_or("-"))) } @if r.on_default_branch { " (default branch)" } }
                @if let Some(mr) = &r.merge_request { dt { "Merge request" } dd { (external_link(mr)) } }
                @if let Some(p) = &r.pipeline_url { dt { "Pipeline" } dd { (external_link(p)) } }
                dt { "Server's verdict" } dd { (verdict(r.verdict.as_deref())) " (the project's profile over the stored results)" }
                dt { "Verdict the client claimed" } dd { (verdict(r.claimed_verdict.as_deref())) }
                dt { "Results" } dd { (r.results) " (" (r.new) " new, " (r.closed) " closed, " (r.reintroduced) " reintroduced; " (r.open_after) " open after)" }
                dt { "Pushed by" } dd { (clean(&r.pushed_by)) }
                @if r.partial { dt { "Scope" } dd { "partial (changed files only)" } }
            }
        }
        h2 { "Evidence" }
        p.downloads #downloads {
            a href=(format!("/ui/runs/{run}/verdict")) download { "Verdict (JSON)" }
            @for (kind, size) in &documents {
                a href=(format!("/ui/runs/{run}/{kind}")) download {
                    (match *kind { "sbom" => "SBOM", "attestation" => "Attestation", _ => "SARIF (redacted)" })
                    " (" (size / 1024 + 1) " KiB compressed)"
                }
            }
        }
        @if !documents.iter().any(|(k, _)| *k == "attestation") { p.muted { "This run carried no attestation." } }
        @if let Some((check, decodes)) = &signature {
            h2 { "Attestation signature" }
            (signature_banner(check, *decodes, r.commit.as_deref(), state.attestation_keys.len()))
        }
        @if !stages.is_empty() {
            h2 { "Stages" }
            table { thead { tr { th { "Stage" } th { "Outcome" } } }
                tbody { @for (k, v) in &stages { tr { td { code { (clean(k)) } } td { (outcome(v)) } } } } }
        }
    };
    Ok(html_page(&format!("Run {run}"), Some(&s), "portfolio", body))
}

/// What the run page says about its attestation's signature ([`crate::attestations::check`]).
fn signature_banner(
    check: &crate::attestations::Check,
    decodes: bool,
    run_commit: Option<&str>,
    keys: usize,
) -> Markup {
    use crate::attestations::Check;
    let verify = html! { " Check the download with " code { "sluice verify --key KEY.pub" } "." };
    html! {
        @match check {
            Check::Valid { key, keyid, commit } => {
                div.banner.banner-ok #signature {
                    "Signature valid for key " strong { (clean(key)) } " (" code { (clean(keyid)) } ")."
                    @match (commit.as_deref(), run_commit) {
                        (Some(c), Some(run)) if c == run => { " It attests this run's commit " code { (clean(c)) } "." }
                        (Some(c), _) => { " But it attests commit " code { (clean(c)) } ", not this run's." }
                        (None, _) => { " It names no commit." }
                    }
                }
            }
            Check::Invalid { key, keyid } => {
                div.banner.banner-bad #signature {
                    "Invalid: the signature does not verify with key " strong { (clean(key)) } " (" code { (clean(keyid)) } "), "
                    @if decodes { "the attestation was changed after it was signed, or signed by another key." }
                    @else { "and the stored copy's payload is not what was signed (the server redacts what runs send)." }
                }
            }
            Check::NoKey { keyids } => {
                div.banner.banner-warn #signature {
                    "No key to check against: signed with "
                    @if keyids.is_empty() { "no key id" } @else {
                        "key " @for (i, id) in keyids.iter().enumerate() { @if i > 0 { ", " } code { (clean(id)) } }
                    }
                    ", and the server trusts " (plural(keys, "key", "keys")) " (" code { "DATA/attestation-keys/*.pub" } "), none of them this."
                    (verify)
                }
            }
            Check::Unsigned => {
                div.banner.banner-warn #signature {
                    "Not signed: an in-toto statement without a signature envelope; nothing says who wrote it."
                }
            }
            Check::Unknown => {
                div.banner.banner-warn #signature { "Not an attestation sluice reads (neither a DSSE envelope nor an in-toto statement)." }
            }
        }
    }
}

/// A run's evidence as a download: the documents it carried (as stored, gzip), or the server's
/// verdict as JSON.
async fn run_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path((run, document)): Path<(String, String)>,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let run: i64 = run.parse().map_err(|_| ApiError::not_found("no such run"))?;
    let (_, r) = api::readable_run(&state, &s.principal, run).await?;
    let disposition = |name: &str| {
        HeaderValue::from_str(&format!("attachment; filename=\"run-{run}-{name}.json\""))
            .unwrap_or(HeaderValue::from_static("attachment"))
    };
    if document == "verdict" {
        let body = serde_json::json!({
            "project": r.project, "run": r.id, "commit": r.commit, "branch": r.branch,
            "on_default_branch": r.on_default_branch, "verdict": r.verdict, "claimed_verdict": r.claimed_verdict,
            "stages": r.stages, "results": r.results, "new": r.new, "closed": r.closed, "created_at": r.created_at,
        });
        let mut response =
            ([(header::CONTENT_TYPE, "application/json")], serde_json::to_vec_pretty(&body).unwrap_or_default())
                .into_response();
        response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition("verdict"));
        return Ok(response);
    }
    if !matches!(document.as_str(), "sbom" | "attestation" | "sarif") {
        return Err(ApiError::not_found("documents are verdict, sbom, attestation and sarif").into());
    }
    let body = state
        .db
        .run_document(run, &document)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("run {run} carried no {document}")))?;
    let mut response =
        ([(header::CONTENT_TYPE, "application/json"), (header::CONTENT_ENCODING, "gzip")], body).into_response();
    response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition(&document));
    Ok(response)
}

/// A cell of a CSV file: quoted, quotes doubled, and a cell a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, tab or carriage return first) prefixed with `'` so it stays text.
pub fn csv_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    out.push('"');
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\"\""),
            // Other control characters (an ANSI escape) have no business in a spreadsheet.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:04X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

async fn findings_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let s = require(&state, &headers, &uri).await?;
    let query = Form::query(raw.as_deref())?;
    let id = api::readable_project(&state, &s.principal, &name).await?;
    let mut filter = FindingFilter {
        project_id: Some(id),
        state: if query.get("state") == Some("all") { None } else { Some("open".into()) },
        limit: 500,
        ..Default::default()
    };
    let mut out = String::from(
        "project,fingerprint,stage,rule,severity,state,path,line,message,first_seen,last_seen,closed,suppressed\r\n",
    );
    // At most 100,000 rows.
    for _ in 0..200 {
        let page = state.db.list_findings(&filter).await?;
        for f in &page.items {
            let cells = [
                f.project.clone(),
                f.fingerprint.clone(),
                f.stage.clone(),
                f.rule_id.clone(),
                f.severity.clone(),
                f.state.clone(),
                f.path.clone().unwrap_or_default(),
                f.line.map(|l| l.to_string()).unwrap_or_default(),
                f.message.clone(),
                f.first_seen_at.clone(),
                f.last_seen_at.clone(),
                f.closed_at.clone().unwrap_or_default(),
                f.suppressed.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        match page.next {
            Some(c) => filter.after = c.split_once('.').and_then(|(r, i)| Some((r.parse().ok()?, i.parse().ok()?))),
            None => break,
        }
    }
    let file = format!("attachment; filename=\"{}-findings.csv\"", seg(&name));
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    if let Ok(v) = HeaderValue::from_str(&file) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_be_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for start in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(start).starts_with("\"'"), "{start:?}");
        }
        assert_eq!(csv_cell("plain, text"), "\"plain, text\"");
        assert_eq!(csv_cell("a\u{1b}[31m"), "\"a\\u{001B}[31m\"");
    }

    #[test]
    fn hidden_characters_are_shown() {
        assert_eq!(clean("evil\u{202E}gpj.exe"), "evil\\u{202E}gpj.exe");
        assert_eq!(clean("\u{1b}[2J"), "\\u{001B}[2J");
        assert_eq!(clean("two\nlines"), "two\nlines");
    }

    #[test]
    fn next_stays_on_the_pages() {
        assert_eq!(local_next(Some("/ui/triage?x=1")), "/ui/triage?x=1");
        for bad in
            ["https://evil.example", "//evil.example", "/ui//evil", "/ui/\\evil", "/api/v1/me", "javascript:alert(1)"]
        {
            assert_eq!(local_next(Some(bad)), "/ui/", "{bad}");
        }
    }

    #[test]
    fn version_ranges() {
        assert!(version_matches(">=4.0, <4.17.21", "4.17.20"));
        assert!(!version_matches(">=4.0, <4.17.21", "4.17.21"));
        assert!(version_matches("1.2.3", "1.2.3"));
        assert!(version_matches("<10", "9.9"));
        assert!(!version_matches(">1.10", "1.9"));
    }

    #[test]
    fn secure_cookies_over_https_only() {
        let proxy: api::Cidr = "10.0.0.0/8".parse().unwrap_or_else(|e: String| panic!("{e}"));
        let mut forwarded = HeaderMap::new();
        forwarded.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let from_proxy = Some(SocketAddr::from(([10, 1, 2, 3], 4000)));
        let from_elsewhere = Some(SocketAddr::from(([192, 0, 2, 7], 4000)));
        assert!(over_https(true, &[], &HeaderMap::new(), None));
        assert!(over_https(false, &[proxy], &forwarded, from_proxy));
        // Anyone can send the header: only a trusted proxy's counts.
        assert!(!over_https(false, &[proxy], &forwarded, from_elsewhere));
        assert!(!over_https(false, &[], &forwarded, from_proxy));
        assert!(!over_https(false, &[proxy], &HeaderMap::new(), from_proxy));
        assert!(session_cookie("t", 60, true).to_str().is_ok_and(|c| c.ends_with("; Secure")));
        assert!(session_cookie("t", 60, false).to_str().is_ok_and(|c| !c.contains("Secure")));
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-30 is a Monday, day 20,787; 2026-12-06 the Sunday after it.
        assert_eq!(iso_day(20_787), "2026-11-30");
        for day in 20_787..20_794 {
            assert_eq!(week_start(day), 20_787, "{}", iso_day(day));
        }
        assert_eq!(week_start(20_794), 20_794);
        assert_eq!(week_start(4), 4, "1970-01-05 was a Monday");
        assert_eq!(short_day(20_787), "Nov 30");
    }

    #[test]
    fn weeks_carry_the_open_count_forward() {
        let today = 20_790; // Thursday 2026-12-03
        let day_ms = crate::time::DAY_MS;
        let first = 20_787 - 7 * 11;
        // New and closed on three days of two weeks; one day before the window is ignored.
        let days = [(first - 1, 50, 50), (first, 3, 0), (first + 6, 2, 1), (20_788, 1, 4)];
        // Week 0 ends at 5 open, week 2 at 7 (its last run), the current week at 4.
        let ends = [(first * day_ms + 1, 5), (((first + 14) * day_ms) + 3_600_000, 7), (20_789 * day_ms, 4)];
        let weeks = weeks_from(today, &days, &ends, Some(2));
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks[0], Week { start: first, new: 5, fixed: 1, open: Some(5) });
        assert_eq!(weeks[1].open, Some(5), "no run in week 1: the count carries");
        assert_eq!(weeks[2].open, Some(7));
        assert_eq!(weeks[11], Week { start: 20_787, new: 1, fixed: 4, open: Some(4) });
        assert!(weeks_from(today, &[], &[], None).iter().all(|w| w.open.is_none() && w.new == 0));
        assert_eq!(
            [axis_top(0), axis_top(1), axis_top(3), axis_top(20), axis_top(21), axis_top(501)],
            [1, 1, 5, 20, 50, 1000]
        );
        assert_eq!(ticks(1), [0, 1]);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("org/app"), "org%2Fapp");
        assert_eq!(seg("a b\"<"), "a%20b%22%3C");
    }
}
