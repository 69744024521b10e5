//! OIDC login: the authorization code flow with PKCE (S256), `state` and `nonce`, against one
//! provider configured at start (`--oidc-issuer`, `--oidc-client-id`, the client secret from
//! `$SLUICE_OIDC_CLIENT_SECRET` or a file).
//!
//! - At start: discovery (`{issuer}/.well-known/openid-configuration`, whose `issuer` must be the
//!   configured one exactly) and the provider's keys (JWKS). Every endpoint must be `https://`,
//!   or `http://` to this machine.
//! - [`Oidc::begin`] makes a [`Pending`] login (random state, nonce and PKCE verifier) and the
//!   provider URL to send the browser to. The API stores the pending login in the database (so
//!   any replica can answer the callback) and spends it once.
//! - [`Oidc::complete`] exchanges the code at the token endpoint (`client_secret_basic`, else
//!   `client_secret_post`, as discovery offers) and verifies the ID token: signature against
//!   the JWKS (RSA and ECDSA algorithms only; the keys are fetched again, at most every
//!   [`JWKS_REFRESH`], when a token names a key not known), `iss`, `aud` (and `azp` when there
//!   are several audiences), `exp`, `nbf` and `iat` with [`LEEWAY`], and the `nonce`.
//!
//! Everything the provider sends is untrusted input: each answer is read with a size limit
//! ([`MAX_ANSWER`]) and a time limit ([`TIMEOUT`]), redirects are not followed, and nothing it
//! says is put in an error unbounded. The calls block, so they run on tokio's blocking pool.
//! The client secret is never logged, stored or shown: [`ClientSecret`]'s `Debug` hides it.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

/// How long a login may take between `start` and the callback.
pub const PENDING_TTL: Duration = Duration::from_secs(600);
/// Clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY: u64 = 60;
/// Largest answer read from the provider (discovery, JWKS, token endpoint).
pub const MAX_ANSWER: u64 = 512 * 1024;
/// Time for one call to the provider, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The keys are fetched again for an unknown `kid` at most this often.
pub const JWKS_REFRESH: Duration = Duration::from_secs(30);
/// Longest ID token taken.
const MAX_ID_TOKEN: usize = 16 * 1024;
/// Most keys kept from a JWKS.
const MAX_KEYS: usize = 64;
/// The signature algorithms taken. HMAC ones (keyed with the client secret) and `none` are not.
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];
/// The scopes asked for: the subject, and a name to make the local user name from.
const SCOPES: &str = "openid profile email";

/// The client secret. Its `Debug` shows nothing of it, and there is no `Display`.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: String) -> Self {
        ClientSecret(secret)
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(redacted)")
    }
}

/// The OIDC options of `sluice serve`.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as its discovery document names it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// The server's external base URL; the redirect URI is `{public_url}/api/v1/auth/oidc/callback`.
    pub public_url: String,
}

/// Why an OIDC step failed. The API answers `Provider` 502, `Refused` 400, `Token` 401.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The configuration, or what discovery says, cannot be used (at start).
    #[error("{0}")]
    Config(String),
    /// The provider could not be reached or answered something unusable.
    #[error("{0}")]
    Provider(String),
    /// The provider refused the code (spent, expired, issued to another client).
    #[error("{0}")]
    Refused(String),
    /// The ID token is not acceptable.
    #[error("{0}")]
    Token(String),
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthMethod {
    Basic,
    Post,
}

/// One key of the provider's JWKS.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    /// The key's own `alg`, when the JWKS names it.
    alg: Option<Algorithm>,
    rsa: bool,
    key: DecodingKey,
}

struct Keys {
    keys: Vec<Key>,
    fetched: Instant,
}

/// A login between `start` and its callback: what the database keeps (the state's hash, the
/// nonce, the verifier) and what the browser carries (the state).
#[derive(Clone)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(redacted)")
    }
}

/// Who the provider says logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// A local user name made from `preferred_username`, else the email's local part, else
    /// `user`; checked like any user name, not yet made unique.
    pub username_hint: String,
}

/// The configured provider, discovered.
pub struct Oidc {
    config: OidcConfig,
    redirect_uri: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    jwks_uri: Url,
    auth_method: AuthMethod,
    agent: ureq::Agent,
    keys: RwLock<Keys>,
    /// Serialises refetches of the keys.
    refetch: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("config", &self.config).field("redirect_uri", &self.redirect_uri).finish()
    }
}

/// `https://`, or `http://` to this machine (`localhost`, a loopback address).
pub fn check_url(what: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{what} `{}` is not a URL: {e}", bounded(text)))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{what} `{}`: plain http:// would carry logins unencrypted; use https:// (http:// is allowed only \
                 to this machine)",
                bounded(text)
            ))
        }
        _ => return Err(format!("{what} `{}` must start with https://", bounded(text))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{what} `{}` has no host", bounded(text)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{what} must not carry a user name or password"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Text from the provider or the user, made fit for an error message: at most 200 characters,
/// control characters replaced.
pub fn bounded(text: &str) -> String {
    let mut out: String = text.chars().take(200).map(|c| if c.is_control() { '?' } else { c }).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the database keys a pending login by: the state itself is not stored.
pub fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Equal, in a time that does not depend on where two strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    response_types_supported: Vec<String>,
}

/// The claims of an ID token this server reads. `aud`, `iss`, `exp` and `nbf` are checked by
/// `jsonwebtoken` as well; `aud` and `azp` are read again here for the several-audiences rule.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// One audience or a list.
    aud: serde_json::Value,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    iat: f64,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl Oidc {
    /// Discovery and the provider's keys. Blocks: call it from the blocking pool
    /// ([`Oidc::discover`] does).
    pub fn discover_blocking(config: OidcConfig) -> Result<Oidc, OidcError> {
        let issuer = check_url("--oidc-issuer", &config.issuer).map_err(OidcError::Config)?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(OidcError::Config("--oidc-issuer must not have a query or fragment".into()));
        }
        if config.client_id.is_empty() || config.client_id.len() > 256 || config.client_id.chars().any(char::is_control)
        {
            return Err(OidcError::Config("--oidc-client-id must be 1–256 printable characters".into()));
        }
        if config.client_secret.expose().is_empty() {
            return Err(OidcError::Config("the OIDC client secret is empty".into()));
        }
        let public = check_url("--public-url", &config.public_url).map_err(OidcError::Config)?;
        if public.query().is_some() || public.fragment().is_some() {
            return Err(OidcError::Config("--public-url must not have a query or fragment".into()));
        }
        let redirect_uri = format!("{}/api/v1/auth/oidc/callback", config.public_url.trim_end_matches('/'));
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .timeout_global(Some(TIMEOUT))
                .user_agent(concat!("sluice-server/", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
        let (status, body) = get(&agent, &url).map_err(OidcError::Config)?;
        if status != 200 {
            return Err(OidcError::Config(format!(
                "{url}: the provider answered {status}, not its discovery document"
            )));
        }
        let found: Discovery = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Config(format!("{url}: not an OpenID discovery document: {e}")))?;
        // OpenID Connect Discovery §4.3: the document's issuer is the one asked for, exactly.
        if found.issuer != config.issuer {
            return Err(OidcError::Config(format!(
                "{url}: the document's issuer is `{}`, not `{}` (give --oidc-issuer exactly as the provider names itself)",
                bounded(&found.issuer),
                config.issuer
            )));
        }
        let endpoint = |what: &str, text: &str| {
            check_url(&format!("the provider's {what}"), text).map_err(|e| OidcError::Config(format!("{url}: {e}")))
        };
        let authorization_endpoint = endpoint("authorization_endpoint", &found.authorization_endpoint)?;
        let token_endpoint = endpoint("token_endpoint", &found.token_endpoint)?;
        let jwks_uri = endpoint("jwks_uri", &found.jwks_uri)?;
        if !found.response_types_supported.is_empty() && !found.response_types_supported.iter().any(|t| t == "code") {
            return Err(OidcError::Config(format!("{url}: the provider does not offer the authorization code flow")));
        }
        if let Some(methods) = &found.code_challenge_methods_supported {
            if !methods.iter().any(|m| m == "S256") {
                return Err(OidcError::Config(format!("{url}: the provider does not offer PKCE with S256")));
            }
        }
        // OpenID Connect Discovery §3: absent means client_secret_basic.
        let methods = found.token_endpoint_auth_methods_supported.unwrap_or_else(|| vec!["client_secret_basic".into()]);
        let auth_method = if methods.iter().any(|m| m == "client_secret_basic") {
            AuthMethod::Basic
        } else if methods.iter().any(|m| m == "client_secret_post") {
            AuthMethod::Post
        } else {
            return Err(OidcError::Config(format!(
                "{url}: the token endpoint takes neither client_secret_basic nor client_secret_post"
            )));
        };
        let keys = fetch_keys(&agent, &jwks_uri).map_err(OidcError::Config)?;
        Ok(Oidc {
            config,
            redirect_uri,
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            auth_method,
            agent,
            keys: RwLock::new(Keys { keys, fetched: Instant::now() }),
            refetch: std::sync::Mutex::new(()),
        })
    }

    /// [`Oidc::discover_blocking`] on the blocking pool.
    pub async fn discover(config: OidcConfig) -> Result<Oidc, OidcError> {
        tokio::task::spawn_blocking(move || Oidc::discover_blocking(config))
            .await
            .map_err(|e| OidcError::Config(format!("discovery did not finish: {e}")))?
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Whether cookies must be `Secure`: the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.config.public_url.starts_with("https:")
    }

    /// A new login: its secrets, and where to send the browser.
    pub fn begin(&self) -> (Pending, String) {
        // 256 bits each; the verifier is 43 characters, within RFC 7636's 43–128.
        let pending = Pending { state: random_b64(32), nonce: random_b64(32), verifier: random_b64(32) };
        let mut url = self.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &pkce_challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256");
        (pending, url.into())
    }

    /// The code exchanged and its ID token verified, on the blocking pool.
    pub async fn complete(
        self: Arc<Self>,
        code: String,
        verifier: String,
        nonce: String,
    ) -> Result<Identity, OidcError> {
        tokio::task::spawn_blocking(move || {
            let id_token = self.exchange(&code, &verifier)?;
            self.verify(&id_token, &nonce)
        })
        .await
        .map_err(|e| OidcError::Provider(format!("the login did not finish: {e}")))?
    }

    /// The token endpoint: the code and the PKCE verifier for an ID token.
    fn exchange(&self, code: &str, verifier: &str) -> Result<String, OidcError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let mut request = self.agent.post(self.token_endpoint.as_str()).header("accept", "application/json");
        match self.auth_method {
            AuthMethod::Basic => {
                // RFC 6749 §2.3.1: each part form-encoded before the two are joined.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(&self.config.client_id), encode(self.config.client_secret.expose()));
                request = request.header("authorization", format!("Basic {}", STANDARD.encode(pair)));
            }
            AuthMethod::Post => {
                form.push(("client_id", self.config.client_id.as_str()));
                form.push(("client_secret", self.config.client_secret.expose()));
            }
        }
        let where_ = self.token_endpoint.as_str();
        let mut response =
            request.send_form(form).map_err(|e| OidcError::Provider(format!("{where_}: no answer: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| OidcError::Provider(format!("{where_}: reading the answer: {e}")))?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if status != 200 {
            // RFC 6749 §5.2: a refusal names an error code; only that is repeated.
            let error = answer.get("error").and_then(|e| e.as_str()).map(bounded);
            return Err(match (status, error) {
                (400 | 401, Some(error)) => OidcError::Refused(format!("the provider refused the code: {error}")),
                (_, error) => OidcError::Provider(format!(
                    "{where_}: the provider answered {status}{}",
                    error.map(|e| format!(" ({e})")).unwrap_or_default()
                )),
            });
        }
        match answer.get("id_token").and_then(|t| t.as_str()) {
            Some(token) if token.len() <= MAX_ID_TOKEN => Ok(token.to_owned()),
            Some(_) => Err(OidcError::Token(format!("the ID token is longer than {MAX_ID_TOKEN} bytes"))),
            None => Err(OidcError::Provider(format!("{where_}: the answer has no id_token"))),
        }
    }

    /// The ID token's signature and claims; who it names.
    fn verify(&self, id_token: &str, nonce: &str) -> Result<Identity, OidcError> {
        let bad = |m: String| OidcError::Token(m);
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|e| bad(format!("the ID token is malformed: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(bad(format!("the ID token is signed with {:?}, which this server does not take", header.alg)));
        }
        let mut candidates = self.keys_for(header.kid.as_deref(), header.alg);
        if candidates.is_empty() && header.kid.is_some() {
            self.refresh_keys();
            candidates = self.keys_for(header.kid.as_deref(), header.alg);
        }
        if candidates.is_empty() {
            return Err(bad("no key of the provider's JWKS matches the ID token's kid and algorithm".into()));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let mut last = None;
        let mut claims = None;
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(id_token, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(claims) = claims else {
            let why = last.map(|e| e.to_string()).unwrap_or_default();
            return Err(bad(format!("the ID token is not acceptable: {why}")));
        };
        // OpenID Connect Core §3.1.3.7: with several audiences, azp must be there and be this
        // client; when there, it is this client.
        let several = claims.aud.as_array().is_some_and(|list| list.len() > 1);
        match &claims.azp {
            Some(azp) if azp != &self.config.client_id => {
                return Err(bad(format!("the ID token was issued to `{}` (azp), not this server", bounded(azp))))
            }
            None if several => return Err(bad("the ID token has several audiences and no azp".into())),
            _ => {}
        }
        let now = jsonwebtoken::get_current_timestamp() as f64;
        if claims.iat > now + LEEWAY as f64 {
            return Err(bad("the ID token was issued in the future (iat)".into()));
        }
        if claims.iat < now - (PENDING_TTL.as_secs() + LEEWAY) as f64 {
            return Err(bad("the ID token was issued before this login began (iat)".into()));
        }
        match &claims.nonce {
            Some(n) if same(n, nonce) => {}
            Some(_) => return Err(bad("the ID token's nonce is not this login's".into())),
            None => return Err(bad("the ID token has no nonce".into())),
        }
        // OpenID Connect Core §2: at most 255 ASCII characters.
        if claims.sub.is_empty()
            || claims.sub.len() > 255
            || claims.sub.chars().any(|c| !c.is_ascii() || c.is_control())
        {
            return Err(bad("the ID token's subject (sub) is empty, too long or not printable ASCII".into()));
        }
        Ok(Identity {
            issuer: self.config.issuer.clone(),
            username_hint: username_hint(claims.preferred_username.as_deref(), claims.email.as_deref()),
            subject: claims.sub,
        })
    }

    /// The keys an ID token may be signed with: by `kid` when it names one, else every key
    /// of the algorithm's family.
    fn keys_for(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Key> {
        let rsa = !matches!(alg, Algorithm::ES256 | Algorithm::ES384);
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.keys
            .iter()
            .filter(|k| k.rsa == rsa && k.alg.is_none_or(|a| a == alg))
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .cloned()
            .collect()
    }

    /// The JWKS again (the provider rotated its keys), at most every [`JWKS_REFRESH`]. A failure
    /// keeps the keys known.
    fn refresh_keys(&self) {
        let _one = self.refetch.lock().unwrap_or_else(|p| p.into_inner());
        if self.keys.read().unwrap_or_else(|p| p.into_inner()).fetched.elapsed() < JWKS_REFRESH {
            return;
        }
        match fetch_keys(&self.agent, &self.jwks_uri) {
            Ok(keys) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Keys { keys, fetched: Instant::now() },
            Err(e) => {
                tracing::warn!(error = %e, "the provider's keys could not be fetched again");
                self.keys.write().unwrap_or_else(|p| p.into_inner()).fetched = Instant::now();
            }
        }
    }
}

/// A GET with the limits every call to the provider has: (status, body).
fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Vec<u8>), String> {
    let mut response = agent.get(url).header("accept", "application/json").call().map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec()
        .map_err(|e| format!("{url}: reading the answer: {e}"))?;
    Ok((status, body))
}

/// The provider's signing keys: RSA and P-256/P-384 keys meant for signatures; others
/// (encryption keys, key types this server does not verify with) are left out.
fn fetch_keys(agent: &ureq::Agent, url: &Url) -> Result<Vec<Key>, String> {
    let (status, body) = get(agent, url.as_str())?;
    if status != 200 {
        return Err(format!("{url}: the provider answered {status}, not its keys"));
    }
    let set: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("{url}: not a JWKS: {e}"))?;
    let list = set.get("keys").and_then(|k| k.as_array()).ok_or_else(|| format!("{url}: not a JWKS (no `keys`)"))?;
    let keys: Vec<Key> = list.iter().filter_map(parse_key).take(MAX_KEYS).collect();
    if keys.is_empty() {
        return Err(format!("{url}: the JWKS has no RSA or EC signing key"));
    }
    Ok(keys)
}

fn parse_key(jwk: &serde_json::Value) -> Option<Key> {
    let text = |name: &str| jwk.get(name).and_then(|v| v.as_str());
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let alg = match text("alg") {
        None => None,
        Some(name) => Some(*ALGORITHMS.iter().find(|a| format!("{a:?}") == name)?),
    };
    let kid = text("kid").map(str::to_owned);
    match text("kty")? {
        "RSA" => {
            let key = DecodingKey::from_rsa_components(text("n")?, text("e")?).ok()?;
            Some(Key { kid, alg, rsa: true, key })
        }
        "EC" => {
            let alg = match (text("crv")?, alg) {
                ("P-256", None | Some(Algorithm::ES256)) => Algorithm::ES256,
                ("P-384", None | Some(Algorithm::ES384)) => Algorithm::ES384,
                _ => return None,
            };
            let key = DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?;
            Some(Key { kid, alg: Some(alg), rsa: false, key })
        }
        _ => None,
    }
}

/// A user name from what the provider says: `preferred_username` (its local part, if it is an
/// address), else the email's local part, else `user`; letters, digits and `._-` only (others
/// become `-`), at most 48 characters, so a `-N` to make it unique still fits the 64 allowed.
pub fn username_hint(preferred: Option<&str>, email: Option<&str>) -> String {
    let local = |s: &str| s.split('@').next().unwrap_or_default().to_owned();
    let raw = [preferred, email].into_iter().flatten().map(local).find(|s| !s.trim().is_empty()).unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .take(48)
        .collect();
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    let name = name.trim_start_matches(['.', '-']).trim_end_matches('.').to_owned();
    if name.chars().all(|c| c == '-' || c == '_') {
        return "user".to_owned();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    const ISSUER: &str = "https://idp.example.org";

    /// A provider whose one key is a fresh P-256 key, and a way to sign with it.
    fn provider(kid: &str) -> (Oidc, EncodingKey) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("a key");
        let point = pair.public_key().as_ref();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        let key = parse_key(&jwk).expect("the JWK parses");
        let oidc = Oidc {
            config: OidcConfig {
                issuer: ISSUER.into(),
                client_id: "sluice".into(),
                client_secret: ClientSecret::new("s3cret-never-shown".into()),
                public_url: "https://sluice.example.org".into(),
            },
            redirect_uri: "https://sluice.example.org/api/v1/auth/oidc/callback".into(),
            authorization_endpoint: Url::parse("https://idp.example.org/auth").expect("a URL"),
            token_endpoint: Url::parse("https://idp.example.org/token").expect("a URL"),
            jwks_uri: Url::parse("https://idp.example.org/jwks").expect("a URL"),
            auth_method: AuthMethod::Basic,
            agent: ureq::Agent::new_with_defaults(),
            keys: RwLock::new(Keys { keys: vec![key], fetched: Instant::now() }),
            refetch: std::sync::Mutex::new(()),
        };
        (oidc, EncodingKey::from_ec_der(pkcs8.as_ref()))
    }

    fn sign(key: &EncodingKey, kid: &str, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).expect("signed")
    }

    fn claims() -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        serde_json::json!({
            "iss": ISSUER, "aud": "sluice", "sub": "248289761001", "nonce": "n-0S6_WzA2Mj",
            "iat": now, "exp": now + 300, "preferred_username": "Jane Doe",
        })
    }

    #[track_caller]
    fn refused(oidc: &Oidc, token: &str, why: &str) {
        match oidc.verify(token, "n-0S6_WzA2Mj") {
            Err(OidcError::Token(m)) => assert!(m.contains(why), "{m:?} does not say {why:?}"),
            other => panic!("expected a refusal naming {why:?}, got {other:?}"),
        }
    }

    #[test]
    fn a_good_token_names_its_subject() {
        let (oidc, key) = provider("k1");
        let id = oidc.verify(&sign(&key, "k1", claims()), "n-0S6_WzA2Mj").expect("accepted");
        assert_eq!(
            id,
            Identity { issuer: ISSUER.into(), subject: "248289761001".into(), username_hint: "Jane-Doe".into() }
        );
    }

    #[test]
    fn every_claim_is_checked() {
        let (oidc, key) = provider("k1");
        let with = |field: &str, value: serde_json::Value| {
            let mut c = claims();
            c[field] = value;
            sign(&key, "k1", c)
        };
        let now = jsonwebtoken::get_current_timestamp();
        refused(&oidc, &with("iss", "https://evil.example.org".into()), "Issuer");
        refused(&oidc, &with("aud", "other-client".into()), "Audience");
        refused(&oidc, &with("aud", serde_json::json!(["sluice", "other"])), "no azp");
        refused(&oidc, &with("azp", "other".into()), "azp");
        refused(&oidc, &with("exp", (now - 3600).into()), "Expired");
        refused(&oidc, &with("nbf", (now + 3600).into()), "Immature");
        refused(&oidc, &with("iat", (now + 3600).into()), "future");
        refused(&oidc, &with("iat", (now - 7200).into()), "before this login");
        refused(&oidc, &with("nonce", "another".into()), "nonce");
        refused(&oidc, &with("sub", "".into()), "subject");
        let mut several = claims();
        several["aud"] = serde_json::json!(["sluice", "other"]);
        several["azp"] = "sluice".into();
        assert!(oidc.verify(&sign(&key, "k1", several), "n-0S6_WzA2Mj").is_ok());
        let mut no_nonce = claims();
        if let Some(object) = no_nonce.as_object_mut() {
            object.remove("nonce");
        }
        refused(&oidc, &sign(&key, "k1", no_nonce), "no nonce");
    }

    #[test]
    fn only_the_providers_keys_and_algorithms_sign() {
        let (oidc, _) = provider("k1");
        let (_, stranger) = provider("k1");
        refused(&oidc, &sign(&stranger, "k1", claims()), "InvalidSignature");
        // A token made with the HMAC algorithm (keyed with something public, e.g. a public
        // key's bytes) is refused before any key is tried.
        let hs = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(b"k"))
            .expect("signed");
        refused(&oidc, &hs, "HS256");
        // An unsigned token: `alg: none` is not an algorithm jsonwebtoken parses.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        refused(&oidc, &none, "malformed");
    }

    #[test]
    fn user_names_are_made_safe() {
        assert_eq!(username_hint(Some("alice"), None), "alice");
        assert_eq!(username_hint(Some("alice@corp.example"), None), "alice");
        assert_eq!(username_hint(None, Some("bob.smith@example.org")), "bob.smith");
        assert_eq!(username_hint(Some("  "), Some("carol@example.org")), "carol");
        assert_eq!(username_hint(Some("../../etc"), None), "etc");
        assert_eq!(username_hint(Some("Zoë Ünïcode"), None), "Zo---n-code");
        assert_eq!(username_hint(Some("---"), None), "user");
        assert_eq!(username_hint(None, None), "user");
        assert_eq!(username_hint(Some(&"x".repeat(300)), None).len(), 48);
        for hint in ["alice", "Zo---n-code", "user", "etc"] {
            assert!(crate::ingest::check_name("username", hint, 64).is_ok(), "{hint}");
        }
    }

    #[test]
    fn urls_must_be_encrypted_unless_local() {
        assert!(check_url("x", "https://idp.example.org").is_ok());
        assert!(check_url("x", "http://127.0.0.1:8080").is_ok());
        assert!(check_url("x", "http://[::1]:8080").is_ok());
        assert!(check_url("x", "http://localhost:8080").is_ok());
        assert!(check_url("x", "http://idp.example.org").unwrap_err().contains("https"));
        assert!(check_url("x", "ftp://idp.example.org").is_err());
        assert!(check_url("x", "https://user:pw@idp.example.org").is_err());
    }

    #[test]
    fn the_secret_does_not_show() {
        let (oidc, _) = provider("k1");
        let shown = format!("{oidc:?} {:?}", oidc.config);
        assert!(!shown.contains("s3cret"), "{shown}");
        let (pending, url) = oidc.begin();
        assert!(!format!("{pending:?}").contains(&pending.state));
        assert!(url.contains(&format!("code_challenge={}", pkce_challenge(&pending.verifier))));
        assert!(!url.contains(&pending.verifier));
        assert!(url.contains("code_challenge_method=S256") && url.contains("response_type=code"));
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
