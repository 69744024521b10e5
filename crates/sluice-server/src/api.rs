//! The REST API under `/api/v1`, its OpenAPI 3.1 document (`/api/openapi.json`, generated from
//! the handlers below: only what is registered with `routes!` is in it), health, readiness and
//! Prometheus metrics.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, TokenKind};
use crate::db::{Caller, Db, FindingFilter, Login, StoreError};
use crate::ingest::{IngestError, Limits};
use crate::model::*;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    /// Peers whose `X-Forwarded-For` is believed: the client address is the last hop they add.
    pub trusted_proxies: Arc<Vec<Cidr>>,
    pub limiter: Arc<RateLimiter>,
    /// The OIDC provider, when `sluice serve` is given one.
    pub oidc: Option<Arc<crate::oidc::Oidc>>,
    /// The server's signing key (decision sets, the decision log's export).
    pub keys: Arc<crate::keys::ServerKeys>,
    /// Public keys attestations may be signed with (`DATA/attestation-keys/*.pub`).
    pub attestation_keys: Arc<Vec<crate::attestations::TrustedKey>>,
}

/// An error answer: a status and a JSON body naming the problem.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid token is required (Authorization: Bearer …)")
    }
    pub(crate) fn forbidden() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this token may not do that")
    }
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub(crate) fn bad_request(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", what)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { error: self.code.to_owned(), message: self.message })).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", m),
            StoreError::RateLimited(m) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", m),
            // PostgreSQL text cannot hold NUL (SQLite's can): a name with one names nothing.
            StoreError::Db(e) if is_nul_text(&e) => {
                ApiError::bad_request("text with a character the database cannot store (NUL)")
            }
            StoreError::Db(e) if is_unavailable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is not answering; retry")
            }
            other => {
                // The detail goes to the log, not to the client.
                tracing::error!(error = %other, "storage error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
        }
    }
}

/// PostgreSQL's answer to text with a NUL character (`character_not_in_repertoire`): SQLite
/// stores such text, PostgreSQL cannot, so it is the caller's input that is at fault.
fn is_nul_text(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("22021"))
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        match err {
            IngestError::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", other.to_string()),
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejections are [`ApiError`]s too (axum's are plain text).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, "too_large", "the request body is over the server's limit");
    }
    let code = match status {
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "bad_request",
    };
    ApiError::new(status, code, text)
}

/// A URL part with `%00`: no name, filter or cursor this API knows has a NUL character, and
/// PostgreSQL cannot even compare such text.
fn refuse_nul(part: Option<&str>) -> ApiResult<()> {
    if part.is_some_and(|p| p.contains("%00")) {
        return Err(ApiError::bad_request("the URL has a NUL character (%00)"));
    }
    Ok(())
}

/// The path's parameters, as axum's `Path`, with rejections that are [`ApiError`]s (JSON) like
/// every other error of the API (axum's are plain text).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(Some(parts.uri.path()))?;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::BAD_REQUEST { "bad_request" } else { "internal" };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

/// The query string, as axum's `Query`, with rejections that are [`ApiError`]s (JSON).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(parts.uri.query())?;
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// The caller's address: the peer, or the last address a trusted proxy names.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(client_addr(peer, &parts.headers, &state.trusted_proxies)))
    }
}

/// X-Forwarded-For is read right to left, over trusted proxies only: what the first untrusted
/// hop says cannot be taken on its word.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> String {
    let Some(peer) = peer else { return "unknown".into() };
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer.to_string();
    }
    let mut addr = peer;
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    for hop in hops.into_iter().rev() {
        addr = hop;
        if !trusted.iter().any(|c| c.contains(hop)) {
            break;
        }
    }
    addr.to_string()
}

/// An address block, `10.0.0.0/8` or one address.
#[derive(Debug, Clone, Copy)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an address or address/bits"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("`{s}`: bad prefix length"))?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.bits == 0 { 0 } else { u32::MAX << (32 - u32::from(self.bits)) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.bits == 0 { 0 } else { u128::MAX << (128 - u32::from(self.bits)) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The authenticated caller.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        match state.db.authenticate(token).await? {
            Some(principal) => Ok(Auth(principal)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Requests per minute per token (or per address without one), in this process. A limit on
/// load, not on access: replicas each count their own.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    fn allow(&self, key: &str) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Ok(mut windows) = self.windows.lock() else { return true };
        let now = Instant::now();
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = match bearer(request.headers()) {
        // The token's hash, so the limiter's keys are not themselves credentials.
        Some(token) => crate::auth::token_hash(token),
        None => {
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            client_addr(peer, request.headers(), &state.trusted_proxies)
        }
    };
    if !state.limiter.allow(&key) {
        return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; retry in a minute")
            .into_response();
    }
    next.run(request).await
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Prometheus metrics of this process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    pub pushes: Counter,
    pub pushed_results: Counter,
    /// Content-Security-Policy violations browsers reported from the web pages.
    pub csp_reports: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sluice");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        let latency = Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]);
        registry.register("http_request_duration_seconds", "Time to answer a request", latency.clone());
        let pushes = Counter::default();
        registry.register("pushes", "Runs stored (duplicates not counted)", pushes.clone());
        let pushed_results = Counter::default();
        registry.register("pushed_results", "Results in stored runs", pushed_results.clone());
        let csp_reports = Counter::default();
        registry.register(
            "csp_reports",
            "Content-Security-Policy violations reported by browsers",
            csp_reports.clone(),
        );
        Metrics { registry, requests, latency, pushes, pushed_results, csp_reports }
    }
}

pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.latency.observe(start.elapsed().as_secs_f64());
    state.metrics.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sluice server API", description = "Runs, findings and decisions of every repository."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "runs"), (name = "findings"), (name = "decisions"), (name = "projects"), (name = "access"), (name = "audit"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every endpoint under `/api/v1`, with its part of the OpenAPI document.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(push_run))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(get_run_document))
        .routes(routes!(list_findings))
        .routes(routes!(get_finding))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(oidc_start))
        .routes(routes!(oidc_callback))
        .routes(routes!(list_users, create_user))
        .routes(routes!(set_password))
        .routes(routes!(grant_role, revoke_role))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(list_project_tokens, create_project_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_decisions, propose_decision))
        .routes(routes!(get_decision))
        .routes(routes!(approve_decision))
        .routes(routes!(reject_decision))
        .routes(routes!(revoke_decision))
        .routes(routes!(applicable_decisions))
        .routes(routes!(server_key))
        .routes(routes!(decision_set))
        .routes(routes!(export_decisions))
        .routes(routes!(audit_log))
        .routes(routes!(audit_verify))
        .routes(routes!(export_vex))
        .routes(routes!(rule_noise))
}

/// The routes and their OpenAPI document, with the answers every operation shares.
fn split() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = api_routes().split_for_parts();
    shared_responses(&mut openapi);
    (router, openapi)
}

/// Documents the answers that come from the layers every operation passes through rather than
/// from its handler: 429 (the rate limit, on every route under `/api/v1`); 400 wherever a path,
/// query or body can be malformed; 413 and 415 wherever there is a body (the body limit, and a
/// request without `Content-Type: application/json`).
fn shared_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = || {
        ResponseBuilder::new()
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let body = operation.request_body.is_some();
            let params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut codes = vec!["429"];
            if body || params {
                codes.push("400");
            }
            if body {
                codes.extend(["413", "415"]);
            }
            for code in codes {
                operation.responses.responses.entry(code.to_owned()).or_insert_with(|| error().into());
            }
        }
    }
}

/// The OpenAPI document, as the server serves it at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    split().1
}

/// The application: API, OpenAPI document, health and metrics.
pub fn router(state: AppState, max_body: usize) -> axum::Router {
    let (api, openapi) = split();
    let openapi = Arc::new(openapi);
    let api = api
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    axum::Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics))
        // The pages, under the same per-address request limit as the API (a browser carries no
        // Bearer token): the login form and the CSP report endpoint take anonymous posts.
        .merge(crate::pages::router().layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit)))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

pub(crate) fn caller<'a>(principal: &'a Principal, addr: &'a ClientAddr) -> Caller<'a> {
    Caller { principal: Some(principal), addr: &addr.0 }
}

/// A project the caller may read, by name; 404 both when it does not exist and when the
/// caller may not see it, so names do not leak.
pub(crate) async fn readable_project(state: &AppState, principal: &Principal, name: &str) -> ApiResult<i64> {
    match state.db.project_id(name).await? {
        Some(id) if principal.may_read(id) => Ok(id),
        _ => Err(ApiError::not_found(format!("no project `{name}` you may read"))),
    }
}

fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!("limit: {n} is not within 1–500"))),
    }
}

fn cursor_id(cursor: Option<&str>) -> ApiResult<Option<i64>> {
    cursor
        .map(|c| c.parse::<i64>().map_err(|_| ApiError::bad_request(format!("cursor: `{c}` is not one this API gave"))))
        .transpose()
}

/// Push a run (what `sluice push` sends). Idempotent on (project, run_id).
#[utoipa::path(post, path = "/runs", tag = "runs", request_body = PushRequest,
    responses(
        (status = 201, description = "Stored", body = PushResponse),
        (status = 200, description = "This run id was pushed before; nothing stored again", body = PushResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn push_run(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Body(push): Body<PushRequest>,
) -> ApiResult<Response> {
    crate::ingest::check_name("project", &push.project, 256)?;
    // May this token push here at all? Decided before the log is parsed.
    let (create, profile) = match state.db.project_profile(&push.project).await? {
        Some((id, profile)) if principal.may_push(id) => {
            // A retried push is answered from what is stored, before its log is parsed again.
            crate::ingest::check_name("run_id", &push.run_id, 128)?;
            if let Some(done) = state.db.existing_run(id, &push.project, &push.run_id).await? {
                return Ok((StatusCode::OK, Json(done)).into_response());
            }
            (false, profile)
        }
        // Not "forbidden": whether a project exists is not told to whoever may not push to it.
        Some(_) => return Err(ApiError::not_found(format!("no project `{}` you may push to", push.project))),
        None if principal.may_create_by_push() => (true, "velocity".to_owned()),
        None => return Err(ApiError::not_found(format!("no project `{}` you may push to", push.project))),
    };
    let limits = state.limits.clone();
    // Parsing and redaction are CPU work: off the async threads, and before the write
    // transaction, which then holds its lock only for the writes.
    let prepared = tokio::task::spawn_blocking(move || crate::ingest::prepare(push, &limits))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the push could not be read"))??;
    let prepared = Arc::new(prepared);
    // The server's verdict (the project's profile over the redacted log) is computed beside
    // the writes, so the policy's CPU overlaps the database's; the transaction waits for it
    // before its last statement, so a run is never stored without it.
    let (verdict_tx, verdict) = tokio::sync::watch::channel(None);
    {
        let prepared = prepared.clone();
        tokio::task::spawn_blocking(move || {
            let decided =
                crate::ingest::verdict(&prepared.log, &profile, prepared.commit.as_deref(), prepared.branch.as_deref());
            let _ = verdict_tx.send(Some(decided));
        });
    }
    let outcome = state.db.ingest(&caller(&principal, &addr), &prepared, create, &verdict).await?;
    let status = if outcome.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    if !outcome.duplicate {
        state.metrics.pushes.inc();
        state.metrics.pushed_results.inc_by(outcome.results as u64);
        tracing::info!(project = %outcome.project, run = outcome.run, results = outcome.results, new = outcome.new, closed = outcome.closed, "run stored");
    }
    Ok((status, Json(outcome)).into_response())
}

/// Projects the caller may read, with open findings by severity and the last run.
#[utoipa::path(get, path = "/projects", tag = "projects",
    responses((status = 200, body = Vec<Project>), (status = 401, body = ErrorBody)))]
async fn list_projects(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<Vec<Project>>> {
    let only: Option<Vec<i64>> = match &principal {
        p if p.reads_everything() => None,
        Principal::User { project_roles, .. } => Some(project_roles.keys().copied().collect()),
        Principal::Project { project_id, scope: crate::auth::Scope::Read, .. } => Some(vec![*project_id]),
        _ => return Err(ApiError::forbidden()),
    };
    Ok(Json(state.db.list_projects(only.as_deref()).await?))
}

/// Create a project (admin).
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = Project), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_project(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Body(project): Body<NewProject>,
) -> ApiResult<Response> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    crate::ingest::check_name("name", &project.name, 256)?;
    if let Some(profile) = &project.profile {
        if sluice_policy::Policy::profile(profile, false).is_err() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                format!("profile: no built-in profile `{profile}`"),
            ));
        }
    }
    if let Some(branch) = &project.default_branch {
        if branch.is_empty() || branch.len() > 256 || branch.chars().any(char::is_control) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "default_branch: 1–256 characters, no control characters",
            ));
        }
    }
    let created = state.db.create_project(&caller(&principal, &addr), &project).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One project.
#[utoipa::path(get, path = "/projects/{project}", tag = "projects", params(("project" = String, Path)),
    responses((status = 200, body = Project), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<Project>> {
    let id = readable_project(&state, &principal, &project).await?;
    Ok(Json(state.db.get_project(id).await?))
}

/// A project's runs, newest first.
#[utoipa::path(get, path = "/projects/{project}/runs", tag = "runs", params(("project" = String, Path), PageQuery),
    responses((status = 200, body = RunPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_runs(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(project): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<RunPage>> {
    let id = readable_project(&state, &principal, &project).await?;
    let limit = page_limit(page.limit)?;
    Ok(Json(state.db.list_runs(id, cursor_id(page.cursor.as_deref())?, limit).await?))
}

/// One run.
#[utoipa::path(get, path = "/runs/{run}", tag = "runs", params(("run" = i64, Path)),
    responses((status = 200, body = RunSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_run(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(run): Path<i64>,
) -> ApiResult<Json<RunSummary>> {
    Ok(Json(readable_run(&state, &principal, run).await?.1))
}

/// A run the caller may read, and its project's id; 404 both when it does not exist and when
/// the caller may not read its project.
pub(crate) async fn readable_run(state: &AppState, principal: &Principal, run: i64) -> ApiResult<(i64, RunSummary)> {
    let (project, summary) =
        state.db.get_run(run).await.map_err(|_| ApiError::not_found(format!("no run {run} you may read")))?;
    if !principal.may_read(project) {
        return Err(ApiError::not_found(format!("no run {run} you may read")));
    }
    Ok((project, summary))
}

/// A document the run carried: `sarif` (redacted on arrival), `sbom` or `attestation`.
#[utoipa::path(get, path = "/runs/{run}/{document}", tag = "runs",
    params(("run" = i64, Path), ("document" = String, Path, description = "sarif, sbom or attestation")),
    responses((status = 200, description = "The document, JSON", content_type = "application/json"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_run_document(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((run, document)): Path<(i64, String)>,
) -> ApiResult<Response> {
    if !matches!(document.as_str(), "sarif" | "sbom" | "attestation") {
        return Err(ApiError::not_found("documents are sarif, sbom and attestation"));
    }
    readable_run(&state, &principal, run).await?;
    let body = state
        .db
        .run_document(run, &document)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("run {run} carried no {document}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CONTENT_ENCODING, "gzip")], body).into_response())
}

/// Findings, most severe first, across the projects the caller may read.
#[utoipa::path(get, path = "/findings", tag = "findings", params(FindingQuery),
    responses((status = 200, body = FindingPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_findings(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(query): Query<FindingQuery>,
) -> ApiResult<Json<FindingPage>> {
    let mut filter = FindingFilter { limit: page_limit(query.limit)?, ..Default::default() };
    match &query.project {
        Some(name) => filter.project_id = Some(readable_project(&state, &principal, name).await?),
        None => filter.readable = readable_ids(&principal)?,
    }
    if let Some(severity) = &query.severity {
        filter.min_rank = match severity.as_str() {
            "critical" | "high" | "medium" | "low" | "info" => crate::db::severity_rank(severity),
            other => {
                return Err(ApiError::bad_request(format!(
                    "severity: `{other}` is not critical, high, medium, low or info"
                )))
            }
        };
    }
    filter.state = match query.state.as_deref() {
        None | Some("open") => Some("open".into()),
        Some("not_detected") => Some("not_detected".into()),
        Some("all") => None,
        Some(other) => return Err(ApiError::bad_request(format!("state: `{other}` is not open, not_detected or all"))),
    };
    filter.stage = query.stage.clone();
    filter.rule = query.rule.clone();
    if let Some(since) = &query.since {
        filter.since = Some(
            crate::time::parse(since)
                .ok_or_else(|| ApiError::bad_request(format!("since: `{since}` is not an RFC 3339 time or a date")))?,
        );
    }
    if let Some(cursor) = &query.cursor {
        let parsed = cursor.split_once('.').and_then(|(r, i)| Some((r.parse().ok()?, i.parse().ok()?)));
        filter.after =
            Some(parsed.ok_or_else(|| ApiError::bad_request(format!("cursor: `{cursor}` is not one this API gave")))?);
    }
    Ok(Json(state.db.list_findings(&filter).await?))
}

/// One finding and the runs that reported it.
#[utoipa::path(get, path = "/projects/{project}/findings/{fingerprint}", tag = "findings",
    params(("project" = String, Path), ("fingerprint" = String, Path)),
    responses((status = 200, body = FindingDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_finding(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((project, fingerprint)): Path<(String, String)>,
) -> ApiResult<Json<FindingDetail>> {
    let id = readable_project(&state, &principal, &project).await?;
    Ok(Json(state.db.finding_detail(id, &fingerprint).await?))
}

/// Log in with a user name and password, or the first admin's one-time login token. Answers a
/// session token (12 hours). Failed attempts are limited per user and per address.
#[utoipa::path(post, path = "/auth/login", tag = "access", request_body = LoginRequest, security(()),
    responses((status = 200, body = TokenCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    Body(request): Body<LoginRequest>,
) -> ApiResult<Json<TokenCreated>> {
    check_login(&request)?;
    match state.db.login(&request, &addr.0).await? {
        Login::Token(token) => Ok(Json(token)),
        Login::Refused => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "wrong user name, password or login token"))
        }
    }
}

/// What a login request must be before the database is asked (the API's and the login page's).
pub(crate) fn check_login(request: &LoginRequest) -> ApiResult<()> {
    let by_token = request.login_token.is_some();
    let by_password = request.username.is_some() || request.password.is_some();
    if by_token == by_password {
        return Err(ApiError::bad_request("give either username and password, or login_token"));
    }
    if request.username.as_ref().is_some_and(|u| u.len() > 256)
        || request.password.as_ref().is_some_and(|p| p.len() > 1024)
    {
        return Err(ApiError::bad_request("username or password too long"));
    }
    // No user name or token has one, and PostgreSQL cannot compare text that does.
    if [&request.username, &request.password, &request.login_token].into_iter().flatten().any(|t| t.contains('\0')) {
        return Err(ApiError::bad_request("a NUL character in the user name, password or login token"));
    }
    Ok(())
}

/// The cookie that ties an OIDC login to the browser that started it (login CSRF).
const OIDC_COOKIE: &str = "sluice_oidc_state";

fn oidc_configured(state: &AppState) -> ApiResult<Arc<crate::oidc::Oidc>> {
    state.oidc.clone().ok_or_else(|| ApiError::not_found("OIDC login is not configured on this server"))
}

/// Start an OIDC login: a redirect to the provider (authorization code flow, PKCE S256, state
/// and nonce). The login must come back to the callback within 10 minutes, in the same browser.
#[utoipa::path(get, path = "/auth/oidc/start", tag = "access", security(()),
    responses((status = 302, description = "to the provider's login page; sets the `sluice_oidc_state` cookie",
            headers(("location" = String, description = "the provider's authorization URL"))),
        (status = 404, body = ErrorBody, description = "OIDC login is not configured"), (status = 429, body = ErrorBody)))]
async fn oidc_start(State(state): State<AppState>) -> ApiResult<Response> {
    oidc_redirect(&state, false).await
}

/// The cookie that marks an OIDC login started from the web pages (`/ui/login/oidc`): its
/// callback sets the pages' session cookie and sends the browser to them, instead of answering
/// the session token as JSON.
pub(crate) const OIDC_UI_COOKIE: &str = "sluice_oidc_ui";

/// The redirect to the provider, and the cookies that tie the login to this browser.
pub(crate) async fn oidc_redirect(state: &AppState, ui: bool) -> ApiResult<Response> {
    let oidc = oidc_configured(state)?;
    let (pending, url) = oidc.begin();
    let expires = crate::time::now_ms() + crate::oidc::PENDING_TTL.as_millis() as i64;
    state.db.oidc_begin(&crate::oidc::state_hash(&pending.state), &pending.nonce, &pending.verifier, expires).await?;
    let cookie = oidc_cookie(&oidc, &pending.state, crate::oidc::PENDING_TTL.as_secs());
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers
        .insert(header::LOCATION, HeaderValue::from_str(&url).map_err(|_| ApiError::bad_request("bad provider URL"))?);
    headers.insert(header::SET_COOKIE, cookie);
    if ui {
        headers.append(header::SET_COOKIE, oidc_ui_cookie(&oidc, "1", crate::oidc::PENDING_TTL.as_secs()));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn oidc_ui_cookie(oidc: &crate::oidc::Oidc, value: &str, max_age: u64) -> HeaderValue {
    let secure = if oidc.secure_cookies() { "; Secure" } else { "" };
    let text =
        format!("{OIDC_UI_COOKIE}={value}; Path=/api/v1/auth/oidc; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("sluice_oidc_ui=; Max-Age=0"))
}

/// `Set-Cookie` for the login's state: sent only back to the callback's path, not readable by
/// scripts, `Secure` when the server is reached over https, `SameSite=Lax` (the provider's
/// redirect back is a cross-site top-level navigation, which `Strict` would strip).
fn oidc_cookie(oidc: &crate::oidc::Oidc, value: &str, max_age: u64) -> HeaderValue {
    let secure = if oidc.secure_cookies() { "; Secure" } else { "" };
    let text =
        format!("{OIDC_COOKIE}={value}; Path=/api/v1/auth/oidc; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("sluice_oidc_state=; Max-Age=0"))
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Where the provider sends the browser back: the state is spent (once, on any replica), the
/// code exchanged, the ID token verified, the person mapped to their user (made, with no role,
/// on their first login), and a session token answered as `POST /auth/login` does.
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "access", security(()), params(OidcCallbackQuery),
    responses((status = 200, description = "the session: as JSON; as an HTML page that sets the web pages' session cookie and \
            refreshes to them when the login was started at `/ui/login/oidc` (the `sluice_oidc_ui` cookie)",
            content((TokenCreated = "application/json"), (String = "text/html"))),
        (status = 400, body = ErrorBody, description = "no, unknown, spent or expired state; the provider's error; a refused code"),
        (status = 401, body = ErrorBody, description = "the ID token is not acceptable, or the user is disabled"),
        (status = 404, body = ErrorBody, description = "OIDC login is not configured"), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "the provider could not be reached or answered badly")))]
async fn oidc_callback(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    Query(query): Query<OidcCallbackQuery>,
) -> ApiResult<Response> {
    let oidc = oidc_configured(&state)?;
    state.db.login_allowed(&addr.0).await?;
    let answer = oidc_finish(&state, &oidc, &addr, &headers, query).await;
    let ui = cookie(&headers, OIDC_UI_COOKIE) == Some("1");
    let mut response = match answer {
        Ok(token) if ui => crate::pages::oidc_logged_in(&state, &headers, &token),
        Ok(token) => Json(token).into_response(),
        Err((error, counts)) => {
            tracing::warn!(addr = %addr.0, status = error.status.as_u16(), reason = %error.message, "OIDC login refused");
            if counts {
                state.db.login_failed("(oidc)", &addr.0).await?;
            }
            if ui {
                crate::pages::oidc_refused(&error)
            } else {
                error.into_response()
            }
        }
    };
    // The state is spent either way: the cookies go.
    response.headers_mut().append(header::SET_COOKIE, oidc_cookie(&oidc, "", 0));
    if ui {
        response.headers_mut().append(header::SET_COOKIE, oidc_ui_cookie(&oidc, "", 0));
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The callback's steps; an error says whether it counts as a failed login (a person giving
/// up at the provider does not).
async fn oidc_finish(
    state: &AppState,
    oidc: &Arc<crate::oidc::Oidc>,
    addr: &ClientAddr,
    headers: &HeaderMap,
    query: OidcCallbackQuery,
) -> Result<TokenCreated, (ApiError, bool)> {
    use crate::oidc::{bounded, OidcError};
    let refuse = |m: String| (ApiError::bad_request(m), true);
    let fields = [&query.code, &query.state, &query.iss, &query.error, &query.error_description];
    if fields.into_iter().flatten().any(|f| f.len() > 4096) {
        return Err(refuse("a callback parameter is longer than 4096 bytes".into()));
    }
    let Some(login_state) = query.state.as_deref().filter(|s| !s.is_empty()) else {
        return Err(refuse("the callback has no state; start the login at /api/v1/auth/oidc/start".into()));
    };
    // The state must come back to the browser that started the login: otherwise someone could
    // have a victim's browser finish a login they began (and be logged in as them).
    if !cookie(headers, OIDC_COOKIE).is_some_and(|c| crate::oidc::same(c, login_state)) {
        return Err(refuse(format!(
            "this login was not started in this browser (no {OIDC_COOKIE} cookie with its state); start again"
        )));
    }
    let taken =
        state.db.oidc_take(&crate::oidc::state_hash(login_state)).await.map_err(|e| (ApiError::from(e), false))?;
    let Some((nonce, verifier, expires_at)) = taken else {
        return Err(refuse("unknown or already used state; start the login again".into()));
    };
    if expires_at < crate::time::now_ms() {
        return Err(refuse("this login expired (10 minutes); start again".into()));
    }
    // RFC 9207: a provider that names itself must be the one configured (mix-up attacks).
    if query.iss.as_deref().is_some_and(|iss| iss != oidc.issuer()) {
        return Err(refuse("the callback's iss is not the configured provider".into()));
    }
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().map(|d| format!(": {}", bounded(d))).unwrap_or_default();
        return Err((ApiError::bad_request(format!("the provider answered {}{description}", bounded(error))), false));
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return Err(refuse("the callback has neither a code nor an error".into()));
    };
    let identity = oidc.clone().complete(code, verifier, nonce).await.map_err(|e| match e {
        OidcError::Refused(m) => refuse(m),
        OidcError::Token(m) => (ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m), true),
        OidcError::Provider(m) | OidcError::Config(m) => {
            (ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", format!("the OIDC provider: {m}")), false)
        }
    })?;
    match state.db.oidc_login(&identity, &addr.0).await.map_err(|e| (ApiError::from(e), false))? {
        Login::Token(token) => Ok(token),
        Login::Refused => Err((
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the user this login is linked to is disabled"),
            true,
        )),
    }
}

/// Who the token is.
#[utoipa::path(get, path = "/me", tag = "access", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<Me>> {
    Ok(Json(match principal {
        Principal::User { username, .. } => {
            let user = state.db.get_user(&username).await.ok();
            Me {
                kind: "user".into(),
                username: Some(username),
                project: None,
                scope: None,
                roles: user.map(|u| u.roles).unwrap_or_default(),
            }
        }
        Principal::Project { project_id, scope, .. } => {
            let project = state.db.get_project(project_id).await?.name;
            let scope = if scope == crate::auth::Scope::Push { "push" } else { "read" };
            Me {
                kind: "project-token".into(),
                username: None,
                project: Some(project),
                scope: Some(scope.into()),
                roles: Vec::new(),
            }
        }
        Principal::Organisation { .. } => Me {
            kind: "organisation-token".into(),
            username: None,
            project: None,
            scope: Some("push".into()),
            roles: Vec::new(),
        },
    }))
}

/// Users (admin).
#[utoipa::path(get, path = "/users", tag = "access", responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_users(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<Vec<User>>> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.list_users().await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/users", tag = "access", request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Body(user): Body<NewUser>,
) -> ApiResult<Response> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    crate::ingest::check_name("username", &user.username, 64)?;
    let created = state.db.create_user(&caller(&principal, &addr), &user).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Set a password: your own, or anyone's as admin.
#[utoipa::path(put, path = "/users/{username}/password", tag = "access", params(("username" = String, Path)), request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(username): Path<String>,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    let own = matches!(&principal, Principal::User { username: me, .. } if *me == username);
    if !own && !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    if change.password.len() > 1024 {
        return Err(ApiError::bad_request("password: at most 1024 bytes"));
    }
    state.db.set_password(&caller(&principal, &addr), &username, &change.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a role on a project or across the organisation (admin). Replaces the user's role in that scope;
/// refused (409) when it would leave no admin.
#[utoipa::path(post, path = "/users/{username}/roles", tag = "access", params(("username" = String, Path)), request_body = RoleGrant,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn grant_role(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(username): Path<String>,
    Body(grant): Body<RoleGrant>,
) -> ApiResult<Json<User>> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.grant_role(&caller(&principal, &addr), &username, &grant).await?))
}

/// Revoke a role (admin); refused (409) when it would leave no admin.
#[utoipa::path(delete, path = "/users/{username}/roles", tag = "access", params(("username" = String, Path)), request_body = RoleGrant,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn revoke_role(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(username): Path<String>,
    Body(grant): Body<RoleGrant>,
) -> ApiResult<Json<User>> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.revoke_role(&caller(&principal, &addr), &username, &grant).await?))
}

fn expiry(days: Option<i64>) -> ApiResult<Option<i64>> {
    match days {
        None => Ok(None),
        Some(d) if (1..=3650).contains(&d) => Ok(Some(crate::time::now_ms() + d * 86_400_000)),
        Some(d) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!("expires_in_days: {d} is not within 1–3650"),
        )),
    }
}

fn token_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "name: 1–128 characters, no control characters",
        ));
    }
    Ok(())
}

/// Your personal tokens; every personal and organisation token for an admin.
#[utoipa::path(get, path = "/tokens", tag = "access", responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_tokens(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<Vec<TokenInfo>>> {
    match &principal {
        p if p.is_admin() => {
            Ok(Json(state.db.list_tokens(None, None).await?.into_iter().filter(|t| t.project.is_none()).collect()))
        }
        Principal::User { user_id, .. } => Ok(Json(state.db.list_tokens(None, Some(*user_id)).await?)),
        _ => Err(ApiError::forbidden()),
    }
}

/// Make a personal token (any user, for themselves) or an organisation token (admin).
#[utoipa::path(post, path = "/tokens", tag = "access", request_body = NewToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Body(new): Body<NewToken>,
) -> ApiResult<Response> {
    token_name(&new.name)?;
    let expires = expiry(new.expires_in_days)?;
    let Principal::User { user_id, .. } = &principal else { return Err(ApiError::forbidden()) };
    let created = match new.kind.as_str() {
        "personal" => {
            state
                .db
                .create_token(
                    &caller(&principal, &addr),
                    TokenKind::Personal,
                    "all",
                    &new.name,
                    Some(*user_id),
                    None,
                    expires,
                )
                .await?
        }
        "organisation" if principal.is_admin() => {
            state
                .db
                .create_token(
                    &caller(&principal, &addr),
                    TokenKind::Organisation,
                    "push",
                    &new.name,
                    None,
                    None,
                    expires,
                )
                .await?
        }
        "organisation" => return Err(ApiError::forbidden()),
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                format!("kind: `{other}` is not personal or organisation"),
            ))
        }
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// A project's tokens (security or admin).
#[utoipa::path(get, path = "/projects/{project}/tokens", tag = "access", params(("project" = String, Path)),
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_project_tokens(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let id = readable_project(&state, &principal, &project).await?;
    if !principal.may_manage_project(id) {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.list_tokens(Some(id), None).await?))
}

/// Make a project token: `push` for CI, or `read` (security or admin).
#[utoipa::path(post, path = "/projects/{project}/tokens", tag = "access", params(("project" = String, Path)), request_body = NewProjectToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_project_token(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(project): Path<String>,
    Body(new): Body<NewProjectToken>,
) -> ApiResult<Response> {
    let id = readable_project(&state, &principal, &project).await?;
    if !principal.may_manage_project(id) {
        return Err(ApiError::forbidden());
    }
    token_name(&new.name)?;
    if !matches!(new.scope.as_str(), "push" | "read") {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!("scope: `{}` is not push or read", new.scope),
        ));
    }
    let expires = expiry(new.expires_in_days)?;
    let created = state
        .db
        .create_token(&caller(&principal, &addr), TokenKind::Project, &new.scope, &new.name, None, Some(id), expires)
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Revoke a token: your own personal token, a project token (security or admin on the project), any token (admin).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "access", params(("id" = i64, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let owner = state.db.token_owner(id).await?.ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    let allowed = principal.is_admin()
        || match (&principal, owner) {
            (Principal::User { user_id, .. }, (_, None, Some(owner))) => *user_id == owner,
            (_, (_, Some(project), _)) => principal.may_manage_project(project),
            _ => false,
        };
    if !allowed {
        return Err(ApiError::not_found(format!("no token {id}")));
    }
    state.db.revoke_token(&caller(&principal, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log, oldest first (security or admin).
#[utoipa::path(get, path = "/audit", tag = "audit", params(PageQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit_log(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<AuditPage>> {
    if !principal.may_audit() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.audit_page(cursor_id(page.cursor.as_deref())?, page_limit(page.limit)?).await?))
}

/// Checks the audit log's hash chain from its first row (security or admin).
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerification), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit_verify(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<AuditVerification>> {
    if !principal.may_audit() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(state.db.audit_verify().await?))
}

/// The projects whose findings and decisions a caller reads (None: all of them). Push and
/// organisation tokens read neither (they pull only the decisions in force,
/// `/projects/{p}/decisions`).
pub(crate) fn readable_ids(principal: &Principal) -> ApiResult<Option<Vec<i64>>> {
    Ok(match principal {
        p if p.reads_everything() => None,
        Principal::User { project_roles, .. } => Some(project_roles.keys().copied().collect()),
        Principal::Project { project_id, scope: crate::auth::Scope::Read, .. } => Some(vec![*project_id]),
        _ => return Err(ApiError::forbidden()),
    })
}

/// Propose a triage decision: one finding, a rule (in files a glob matches), or an advisory in
/// a package; for a project or, without one, the whole organisation. It suppresses nothing
/// until someone with the role it needs approves it: a champion of the project for low and
/// medium findings, the security role for high and critical ones and for every
/// organisation-wide decision.
///
/// With an `Idempotency-Key` header, a proposal sent again (its answer lost) is stored once: the
/// retry is answered with the decision first stored under that key, or 422 if it proposes
/// something else.
#[utoipa::path(post, path = "/decisions", tag = "decisions", request_body = NewDecision,
    params(("Idempotency-Key" = Option<String>, Header, description = "The proposer's key for this proposal (1–128 of `A-Za-z0-9._:-`)")),
    responses((status = 201, body = DecisionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn propose_decision(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    headers: HeaderMap,
    Body(new): Body<NewDecision>,
) -> ApiResult<Response> {
    let created = propose(&state, &addr, &principal, &new, headers.get("idempotency-key")).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Files a proposal (the API's and the finding page's); see `propose_decision` for the key.
pub(crate) async fn propose(
    state: &AppState,
    addr: &ClientAddr,
    principal: &Principal,
    new: &NewDecision,
    idempotency_key: Option<&HeaderValue>,
) -> ApiResult<DecisionView> {
    // People decide; tokens of CI do not.
    let Principal::User { project_roles, org_role, .. } = principal else { return Err(ApiError::forbidden()) };
    let project_id = match &new.project {
        Some(name) => Some(readable_project(state, principal, name).await?),
        None if org_role.is_some() || !project_roles.is_empty() => None,
        None => return Err(ApiError::forbidden()),
    };
    let mut checked = crate::decisions::check(new, project_id.is_some())
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", m))?;
    if let Some(value) = idempotency_key {
        checked.idempotency_key =
            Some(crate::decisions::idempotency_key(value.as_bytes()).map_err(ApiError::bad_request)?);
    }
    Ok(state.db.propose_decision(&caller(principal, addr), project_id, &checked).await?)
}

/// Decisions the caller may see (their projects' and the organisation's), newest first.
#[utoipa::path(get, path = "/decisions", tag = "decisions", params(DecisionQuery),
    responses((status = 200, body = DecisionPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_decisions(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(query): Query<DecisionQuery>,
) -> ApiResult<Json<DecisionPage>> {
    Ok(Json(decision_page(&state, &principal, &query).await?))
}

/// A page of the decisions a caller may see (the API's list and the triage page's queue).
pub(crate) async fn decision_page(
    state: &AppState,
    principal: &Principal,
    query: &DecisionQuery,
) -> ApiResult<DecisionPage> {
    let limit = page_limit(query.limit)?;
    let projects = match &query.project {
        Some(name) => Some(vec![readable_project(state, principal, name).await?]),
        None => readable_ids(principal)?,
    };
    if let Some(s) = &query.state {
        if !matches!(s.as_str(), "proposed" | "approved" | "rejected" | "revoked") {
            return Err(ApiError::bad_request(format!("state: `{s}` is not proposed, approved, rejected or revoked")));
        }
    }
    let awaiting = query.awaiting_me.unwrap_or(false);
    let state_filter = if awaiting { Some("proposed") } else { query.state.as_deref() };
    let mut before = cursor_id(query.cursor.as_deref())?;
    let mut items = Vec::new();
    let mut next = None;
    // Filtering "awaiting me" happens here, so a page may need more than one query.
    'pages: loop {
        let rows = state.db.list_decisions(projects.as_deref(), state_filter, before, limit + 1).await?;
        let exhausted = (rows.len() as i64) <= limit;
        for (project, view) in rows {
            before = Some(view.id);
            if awaiting && !may_decide(principal, project, &view) {
                continue;
            }
            if items.len() as i64 == limit {
                next = Some(items.last().map_or(view.id + 1, |v: &DecisionView| v.id).to_string());
                break 'pages;
            }
            items.push(view);
        }
        if exhausted {
            break;
        }
    }
    Ok(DecisionPage { items, next })
}

pub(crate) fn may_decide(principal: &Principal, project: Option<i64>, view: &DecisionView) -> bool {
    let role = match project {
        Some(p) => principal.role_on(p),
        None => principal.org_role(),
    };
    let required = Role::parse(&view.required_role).unwrap_or(Role::Security);
    view.state == "proposed" && role.is_some_and(|r| r >= required) && view.proposed_by != principal.actor()
}

pub(crate) async fn visible_decision(state: &AppState, principal: &Principal, id: i64) -> ApiResult<DecisionDetail> {
    let (project, detail) =
        state.db.get_decision(id).await.map_err(|_| ApiError::not_found(format!("no decision {id} you may read")))?;
    let visible = match project {
        Some(p) => principal.may_read(p),
        None => {
            matches!(principal, Principal::User { .. } | Principal::Project { scope: crate::auth::Scope::Read, .. })
        }
    };
    if !visible {
        return Err(ApiError::not_found(format!("no decision {id} you may read")));
    }
    Ok(detail)
}

/// One decision and every change to it: who, with what role, when, why.
#[utoipa::path(get, path = "/decisions/{id}", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = DecisionDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_decision(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<DecisionDetail>> {
    Ok(Json(visible_decision(&state, &principal, id).await?))
}

pub(crate) async fn act(
    state: &AppState,
    addr: &ClientAddr,
    principal: &Principal,
    id: i64,
    action: &str,
    note: Option<String>,
) -> ApiResult<Json<DecisionView>> {
    visible_decision(state, principal, id).await?;
    if let Some(n) = &note {
        if n.len() > 4096 || n.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "note: at most 4096 bytes, no control characters",
            ));
        }
    }
    if action != "approve" && note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!("note: say why you {action} it"),
        ));
    }
    Ok(Json(state.db.decide(&caller(principal, addr), id, action, note.as_deref()).await?))
}

/// Approve a proposal (not your own): it applies from now on.
#[utoipa::path(post, path = "/decisions/{id}/approve", tag = "decisions", params(("id" = i64, Path)), request_body = DecisionAction,
    responses((status = 200, body = DecisionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve_decision(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(id): Path<i64>,
    Body(action): Body<DecisionAction>,
) -> ApiResult<Json<DecisionView>> {
    act(&state, &addr, &principal, id, "approve", action.note).await
}

/// Reject a proposal (not your own), saying why.
#[utoipa::path(post, path = "/decisions/{id}/reject", tag = "decisions", params(("id" = i64, Path)), request_body = DecisionAction,
    responses((status = 200, body = DecisionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reject_decision(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(id): Path<i64>,
    Body(action): Body<DecisionAction>,
) -> ApiResult<Json<DecisionView>> {
    act(&state, &addr, &principal, id, "reject", action.note).await
}

/// Revoke an approved decision (the role it needs), or withdraw a proposal (its proposer).
#[utoipa::path(post, path = "/decisions/{id}/revoke", tag = "decisions", params(("id" = i64, Path)), request_body = DecisionAction,
    responses((status = 200, body = DecisionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn revoke_decision(
    State(state): State<AppState>,
    addr: ClientAddr,
    Auth(principal): Auth,
    Path(id): Path<i64>,
    Body(action): Body<DecisionAction>,
) -> ApiResult<Json<DecisionView>> {
    act(&state, &addr, &principal, id, "revoke", action.note).await
}

/// The decisions in force for a project (approved, not expired; its own and the
/// organisation's): what `sluice run` applies. Readable by the project's tokens (push tokens
/// too: CI pulls with the token it pushes with).
#[utoipa::path(get, path = "/projects/{project}/decisions", tag = "decisions", params(("project" = String, Path)),
    responses((status = 200, body = ApplicableDecisions), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn applicable_decisions(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<ApplicableDecisions>> {
    let id = match state.db.project_id(&project).await? {
        Some(id) if principal.may_read(id) || principal.may_push(id) => id,
        _ => return Err(ApiError::not_found(format!("no project `{project}` you may read"))),
    };
    let decisions = state.db.applicable_decisions(id).await?;
    Ok(Json(ApplicableDecisions { project, generated_at: crate::time::rfc3339(crate::time::now_ms()), decisions }))
}

/// The server's public signing key: pin it in `sluice.toml` (`[server] public_key`) so `sluice
/// run` trusts only decision sets this server signed; `sluice verify --key` reads it too.
#[utoipa::path(get, path = "/server-key", tag = "decisions",
    responses((status = 200, body = ServerKey), (status = 401, body = ErrorBody)))]
async fn server_key(State(state): State<AppState>, Auth(_principal): Auth) -> ApiResult<Json<ServerKey>> {
    Ok(Json(ServerKey { keyid: state.keys.keyid().to_owned(), public_key: state.keys.public_pem().to_owned() }))
}

/// The strong validator of a decision set: its project, decisions and proposals, not when it
/// was issued.
fn decision_set_etag(project: &str, decisions: &[DecisionView], pending: &[DecisionView]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update((project.len() as u64).to_be_bytes());
    h.update(project.as_bytes());
    h.update(serde_json::to_vec(decisions).unwrap_or_default());
    h.update(b"\0pending\0");
    h.update(serde_json::to_vec(pending).unwrap_or_default());
    format!("\"{}\"", hex::encode(h.finalize()))
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)))
}

/// The decisions in force for a project (as `/projects/{project}/decisions`), signed by the
/// server: a DSSE envelope whose payload is a decision set. What `sluice run` applies. The
/// `ETag` covers the decisions (not the issue time): `If-None-Match` with it answers 304 while
/// they are unchanged. The set also lists the project's proposals awaiting approval, which
/// suppress nothing: a run marks what they cover so its merge request says what waits.
#[utoipa::path(get, path = "/projects/{project}/decision-set", tag = "decisions", params(("project" = String, Path)),
    responses((status = 200, body = DsseEnvelope, headers(("ETag" = String))), (status = 304, description = "Unchanged since the ETag given"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn decision_set(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = match state.db.project_id(&project).await? {
        Some(id) if principal.may_read(id) || principal.may_push(id) => id,
        _ => return Err(ApiError::not_found(format!("no project `{project}` you may read"))),
    };
    let decisions = state.db.applicable_decisions(id).await?;
    let pending = state.db.pending_decisions(id).await?;
    let etag = decision_set_etag(&project, &decisions, &pending);
    let etag_value = HeaderValue::from_str(&etag)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "etag"))?;
    if none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let set = DecisionSet {
        type_: sluice_policy::attest::DECISION_SET_TYPE.to_owned(),
        project,
        issued_at: crate::time::rfc3339(crate::time::now_ms()),
        decisions,
        pending,
    };
    let payload = serde_json::to_vec(&set).unwrap_or_default();
    let envelope = state.keys.sign(&payload);
    Ok(([(header::ETAG, etag_value), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], Json(envelope))
        .into_response())
}

/// Every decision of the organisation with its full history, signed by the server (a DSSE
/// envelope whose payload is a decision log): evidence that verifies offline with `sluice
/// verify FILE --key server.pub`. The security role and admins only.
#[utoipa::path(get, path = "/decisions/export", tag = "decisions",
    responses((status = 200, body = DsseEnvelope), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn export_decisions(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<Json<serde_json::Value>> {
    if principal.org_role().is_none_or(|r| r < Role::Security) {
        return Err(ApiError::forbidden());
    }
    let decisions = state.db.decision_log().await?.into_iter().map(|(_, d)| d).collect();
    let log = DecisionLog {
        type_: sluice_policy::attest::DECISION_LOG_TYPE.to_owned(),
        issued_at: crate::time::rfc3339(crate::time::now_ms()),
        decisions,
    };
    let payload = serde_json::to_vec(&log).unwrap_or_default();
    Ok(Json(state.keys.sign(&payload)))
}

/// The organisation's advisory decisions in force, as an OpenVEX 0.2.0 document: `not_affected`
/// (false positive, mitigated) with the justification and the reason, `affected` (accepted
/// risk, confirmed) with what to do. Packages are named by the purls the deps stage found,
/// vulnerabilities by the decision's id with every alias. The same decisions give the same
/// bytes. Without `project`: every project's decisions and the organisation's (the
/// organisation's champion, security or admin role); with it, that project's readers and its
/// tokens (CI can hand it to a scanner). 404 when no decision is in force: an OpenVEX document
/// holds at least one statement.
#[utoipa::path(get, path = "/vex", tag = "decisions", params(VexQuery),
    responses((status = 200, description = "An OpenVEX 0.2.0 document", body = serde_json::Value, content_type = "application/json"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn export_vex(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(query): Query<VexQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let project = match &query.project {
        Some(name) => match state.db.project_id(name).await? {
            Some(id) if principal.may_read(id) || principal.may_push(id) => Some((id, name.clone())),
            _ => return Err(ApiError::not_found(format!("no project `{name}` you may read"))),
        },
        None if principal.org_role().is_some_and(|r| r >= Role::Champion) => None,
        None => return Err(ApiError::forbidden()),
    };
    let (decisions, findings, aliases) = state.db.vex_inputs(project.as_ref().map(|p| p.0)).await?;
    let names = state.db.project_names().await?;
    crate::evidence::vex_document(&decisions, &findings, &aliases, &names, project.as_ref().map(|p| p.1.as_str()))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no approved advisory decision is in force here: nothing to state"))
}

/// False-positive rates per analyzer and per rule across the organisation: for each rule, the
/// findings ever seen on default branches, how many were decided false positives (an approved
/// `false_positive` decision in force, at any scope, or the repository's own triage file), in
/// how many projects it fired and was called noise. Most noisy first. For the organisation's
/// roles and every project's champions; project names only where the caller may read.
#[utoipa::path(get, path = "/rules/noise", tag = "findings", params(NoiseQuery),
    responses((status = 200, body = NoiseReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn rule_noise(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(query): Query<NoiseQuery>,
) -> ApiResult<Json<NoiseReport>> {
    let allowed = match &principal {
        Principal::User { org_role, project_roles, .. } => {
            org_role.is_some_and(|r| r >= Role::Champion) || project_roles.values().any(|r| *r >= Role::Champion)
        }
        _ => false,
    };
    if !allowed {
        return Err(ApiError::forbidden());
    }
    let limit = page_limit(query.limit)?;
    let min_findings = match query.min_findings {
        None => 1,
        Some(n) if (1..=1_000_000_000).contains(&n) => n,
        Some(n) => return Err(ApiError::bad_request(format!("min_findings: {n} is not within 1–1000000000"))),
    };
    if let Some(t) = &query.tool {
        if t.is_empty() || t.len() > 256 {
            return Err(ApiError::bad_request("tool: 1–256 characters"));
        }
    }
    let offset = match cursor_id(query.cursor.as_deref())? {
        None => 0,
        Some(n) if n >= 0 => n as usize,
        Some(n) => return Err(ApiError::bad_request(format!("cursor: `{n}` is not one this API gave"))),
    };
    let (totals, covered) = state.db.noise_inputs(query.tool.as_deref()).await?;
    let names = state.db.project_names().await?;
    let (tools, rules) = crate::evidence::noise(&totals, &covered, &names, &|p| principal.may_read(p), min_findings);
    let end = offset.saturating_add(limit as usize).min(rules.len());
    let next = (end < rules.len()).then(|| end.to_string());
    let rules = rules.get(offset..end).map(<[RuleNoise]>::to_vec).unwrap_or_default();
    Ok(Json(NoiseReport { tools, rules, next }))
}
