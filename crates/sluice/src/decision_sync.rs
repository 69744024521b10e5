//! The developer's side of org-wide triage: `sluice run` pulls the decisions the server signed
//! for the project, caches them, checks their signature and age, and applies them after the
//! repository's own (`sluice_triage::apply_server` says which wins); `sluice triage propose`
//! files a proposal.
//!
//! The cache (`.sluice/cache/decision-set.json`, replaced atomically) holds the last envelope
//! exactly as the server signed it, its `ETag`, and when it was fetched. It is
//! verified again at every use, so a changed cache applies nothing. Its age is the server's
//! signed issue time: while that is younger than half the maximum age the run revalidates with
//! `If-None-Match` (a 304 costs nothing); older, it fetches a freshly signed set, so a set that
//! is applied is never older than `max_decision_age` by the server's own clock, and an old
//! envelope replayed into the cache does not pass for a new one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sluice_pipeline::{safe_fs, Config};
use sluice_policy::attest;
use sluice_report::escape::terminal;
use sluice_sarif::sarif::Sarif;
use sluice_server::model::NewDecision;
use sluice_triage::{Date, Decisions, ServerDecision, ServerDecisionSet, ServerOptions};

/// The cache of the last decision set, relative to the repository root.
pub const CACHE_FILE: &str = ".sluice/cache/decision-set.json";
/// The server key trusted on first use (no `[server] public_key`), relative to the root.
pub const TOFU_KEY_FILE: &str = ".sluice/cache/server-key.pem";
/// `max_decision_age` when sluice.toml does not say.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
const TOKEN_VAR: &str = "SLUICE_TOKEN";
/// The largest decision set read (100,000 decisions fit in well under this).
const MAX_BODY: u64 = 256 * 1024 * 1024;
/// Tries of `sluice triage propose` (its `Idempotency-Key` makes a retry safe).
const PROPOSE_ATTEMPTS: u32 = 3;

/// The cache file, its envelope borrowed from the text read (or from the server's answer when
/// written): tens of megabytes for a large decision set, never copied.
#[derive(Debug, Serialize, Deserialize)]
struct Cache<'a> {
    server: String,
    project: String,
    etag: Option<String>,
    /// When the server sent it (RFC 3339). A 304 does not rewrite the file: its age that counts
    /// is the signed issue time.
    #[serde(alias = "validated_at")]
    fetched_at: String,
    /// The signed issue time, copied out when the set verified: only to decide whether to
    /// revalidate (the age that counts is read from the verified payload at every use).
    #[serde(default)]
    issued_at: Option<String>,
    /// The DSSE envelope, byte for byte as the server sent it: verified as read, never
    /// re-serialised.
    #[serde(borrow)]
    envelope: &'a RawValue,
}

/// What `sluice run` applies, with what trust.
pub struct Pulled {
    pub decisions: Vec<ServerDecision>,
    /// The project's proposals awaiting approval: they mark, never suppress.
    pub pending: Vec<ServerDecision>,
    pub verified: bool,
    pub decision_base: String,
}

fn api_base(server: &str) -> Result<String> {
    crate::server_cmd::api_base(server)
}

/// A project name as one path segment.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn project_name(root: &Path, config: &Config) -> String {
    config
        .server
        .project
        .clone()
        .unwrap_or_else(|| root.file_name().map_or_else(|| "project".to_owned(), |n| n.to_string_lossy().into_owned()))
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            // The token goes to the server named, never where a redirect points.
            .max_redirects(0)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build(),
    )
}

fn token() -> Option<String> {
    std::env::var(TOKEN_VAR).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// How a duration reads in a note: `40 s`, `12 min`, `3 h`, `2 d`.
pub fn age_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..172_800 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

fn max_age(config: &Config) -> Duration {
    // Checked when sluice.toml was loaded.
    config.server.max_decision_age.as_deref().and_then(|a| humantime::parse_duration(a).ok()).unwrap_or(DEFAULT_MAX_AGE)
}

/// The pinned key: PEM in sluice.toml, or a file relative to the root.
fn pinned_key(root: &Path, config: &Config) -> Result<Option<PinnedKey>> {
    let Some(value) = config.server.public_key.as_deref() else { return Ok(None) };
    let (pem, origin) = if value.trim_start().starts_with("-----BEGIN") {
        (value.to_owned(), "[server] public_key in sluice.toml".to_owned())
    } else {
        let path = root.join(value);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("{}: cannot read the server's public key ([server] public_key)", path.display())
        })?;
        (text, path.display().to_string())
    };
    Ok(Some(PinnedKey { key: attest::verifying_key(&origin, &pem)?, origin }))
}

struct PinnedKey {
    key: attest::VerifyingKey,
    origin: String,
}

/// The cache file's bytes, for [`Cache`] to borrow from. A file larger than any set the server
/// may send (its envelope is base64, a third larger) is not read: it is not one sluice wrote.
fn read_cache(root: &Path) -> Option<Vec<u8>> {
    read_at_most(&root.join(CACHE_FILE), MAX_BODY * 2)
}

/// A file's bytes when it has at most `limit` of them.
fn read_at_most(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).ok()?.take(limit + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= limit).then_some(bytes)
}

fn write_cache(root: &Path, cache: &Cache<'_>) -> Result<()> {
    let dir = Path::new(CACHE_FILE).parent().unwrap_or(Path::new(".sluice/cache"));
    safe_fs::create_dir_in(root, dir).context("cannot create .sluice/cache")?;
    if std::fs::symlink_metadata(root.join(dir).join(".gitignore")).is_err() {
        safe_fs::write_in(root, &dir.join(".gitignore"), b"# written by sluice\n*\n", None)?;
    }
    let bytes = serde_json::to_vec_pretty(cache)?;
    safe_fs::write_in(root, Path::new(CACHE_FILE), &bytes, None)?;
    Ok(())
}

/// What the server answered.
enum Fetched {
    Fresh {
        envelope: Box<RawValue>,
        etag: Option<String>,
    },
    NotModified,
    /// Could not be asked, or refused: why.
    Failed(String),
}

fn fetch(base: &str, project: &str, token: &str, etag: Option<&str>) -> Fetched {
    let url = format!("{base}/projects/{}/decision-set", segment(project));
    let mut request = agent().get(&url).header("Authorization", &format!("Bearer {token}"));
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let mut response = match request.call() {
        Ok(r) => r,
        Err(e) => return Fetched::Failed(format!("cannot reach the server: {e}")),
    };
    let status = response.status().as_u16();
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut text = String::new();
    if let Err(e) = response.body_mut().as_reader().take(MAX_BODY).read_to_string(&mut text) {
        return Fetched::Failed(format!("the server's answer could not be read: {e}"));
    }
    match status {
        200 => match RawValue::from_string(text) {
            Ok(envelope) => Fetched::Fresh { envelope, etag },
            Err(e) => Fetched::Failed(format!("the server's answer is not JSON: {e}")),
        },
        304 => Fetched::NotModified,
        _ => {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Fetched::Failed(format!("the server answered {status}{}", terminal(&message)))
        }
    }
}

/// The server's key, asked for when none is pinned and none was trusted before.
fn fetch_key(base: &str, token: &str) -> Result<String> {
    let mut response = agent()
        .get(&format!("{base}/server-key"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .context("cannot reach the server for its key")?;
    if response.status().as_u16() != 200 {
        bail!("the server answered {} for its key", response.status().as_u16());
    }
    let mut text = String::new();
    response.body_mut().as_reader().take(1 << 16).read_to_string(&mut text)?;
    let v: serde_json::Value = serde_json::from_str(&text).context("the server's key answer is not JSON")?;
    v.get("public_key").and_then(|k| k.as_str()).map(str::to_owned).context("the server's key answer has no public_key")
}

fn now_ts() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Checks an envelope with `key`: a decision set for `project`, signed by it. The error says why not.
fn check(
    envelope: &RawValue,
    key: &attest::VerifyingKey,
    whose: &str,
    project: &str,
) -> Result<ServerDecisionSet, String> {
    let (payload_type, parsed) = attest::verify_and_parse(CACHE_FILE, envelope.get(), key, ServerDecisionSet::parse).map_err(|e| match e {
        attest::AttestError::BadSignature { .. } => format!(
            "the decision set's signature does not verify with {whose}: it was changed, or the server's key changed (compare with GET /api/v1/server-key)"
        ),
        other => other.to_string(),
    })?;
    if payload_type != attest::DECISIONS_PAYLOAD_TYPE {
        return Err(format!("the envelope holds {}, not decisions", terminal(&payload_type)));
    }
    let set = parsed.map_err(|e| format!("the signed payload is not a decision set: {e}"))?;
    if set.type_ != attest::DECISION_SET_TYPE || set.project != project {
        return Err(format!(
            "the signed payload is a `{}` for project `{}`, not a decision set for `{}`",
            terminal(&set.type_),
            terminal(&set.project),
            terminal(project)
        ));
    }
    Ok(set)
}

/// Pulls (or takes from the cache) the decisions to apply. `Ok(None)`: no server configured,
/// or none to apply (the reason is in the notes).
pub fn pull(root: &Path, config: &Config, note: &dyn Fn(&str)) -> Result<Option<Pulled>> {
    let Some(server) = config.server.url.clone() else { return Ok(None) };
    let base = api_base(&server)?;
    let project = project_name(root, config);
    let max_age = max_age(config);
    let pinned = pinned_key(root, config)?;
    let now = now_ts();
    let cache_bytes = read_cache(root);
    let cache = cache_bytes
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Cache<'_>>(b).ok())
        .filter(|c| c.server == server && c.project == project);
    let cached_issue = cache.as_ref().and_then(|c| c.issued_at.as_deref()?.parse::<jiff::Timestamp>().ok());
    let fresh_enough = cached_issue.is_some_and(|t| now.duration_since(t).unsigned_abs() < max_age / 2);
    let etag = cache.as_ref().filter(|_| fresh_enough).and_then(|c| c.etag.clone());
    let token = token();
    // The first key, trusted on first use, when none is pinned.
    let mut problem = None;
    if let (None, Some(token)) = (&pinned, &token) {
        if !root.join(TOFU_KEY_FILE).exists() {
            match fetch_key(&base, token) {
                Ok(pem) => {
                    let key = attest::verifying_key("the server's key", &pem)?;
                    write_cache_file(root, TOFU_KEY_FILE, pem.as_bytes())?;
                    note(&format!(
                        "warning: server decisions: no [server] public_key in sluice.toml; trusting the server's key {} on first use (cached in {TOFU_KEY_FILE}); its decisions are marked unverified until you pin it",
                        attest::key_id(&key)
                    ));
                }
                Err(e) => problem = Some(format!("{e:#}")),
            }
        }
    }
    let (key, verified, whose) = match &pinned {
        Some(k) => (k.key, true, format!("the key pinned in {}", k.origin)),
        None => match std::fs::read_to_string(root.join(TOFU_KEY_FILE))
            .ok()
            .and_then(|pem| attest::verifying_key(TOFU_KEY_FILE, &pem).ok())
        {
            Some(k) => (k, false, format!("the key trusted on first use ({TOFU_KEY_FILE})")),
            None => {
                let why = problem.unwrap_or_else(|| format!("{TOKEN_VAR} is not set"));
                note(&format!(
                    "warning: server decisions not applied: no [server] public_key is pinned and the server's key could not be fetched ({why})"
                ));
                return Ok(None);
            }
        },
    };
    let fetched = match (&token, problem) {
        (_, Some(why)) => Fetched::Failed(why),
        (None, None) => Fetched::Failed(format!("{TOKEN_VAR} is not set")),
        (Some(token), None) => fetch(&base, &project, token, etag.as_deref()),
    };
    let not_applied = |why: &str| note(&format!("error: server decisions not applied: {why}"));
    let mut set = match fetched {
        Fetched::Fresh { envelope, etag } => match check(&envelope, &key, &whose, &project) {
            Ok(set) => {
                let fresh = Cache {
                    server: server.clone(),
                    project: project.clone(),
                    etag,
                    fetched_at: now.to_string(),
                    issued_at: Some(set.issued_at.clone()),
                    envelope: &envelope,
                };
                write_cache(root, &fresh)?;
                set
            }
            // What arrived is not kept: the cache keeps the last set that verified.
            Err(why) => {
                not_applied(&format!("the server sent a set that does not check: {why}"));
                return Ok(None);
            }
        },
        Fetched::NotModified => {
            let Some(c) = cache.as_ref() else {
                not_applied("the server answered 304 to a request that had no ETag");
                return Ok(None);
            };
            match check(c.envelope, &key, &whose, &project) {
                Ok(set) => set,
                Err(why) => {
                    not_applied(&why);
                    return Ok(None);
                }
            }
        }
        Fetched::Failed(why) => {
            let Some(c) = cache.as_ref() else {
                note(&format!("warning: server decisions not applied: {why}, and there is no cached decision set"));
                return Ok(None);
            };
            match check(c.envelope, &key, &whose, &project) {
                Ok(set) => {
                    let age = set
                        .issued_at
                        .parse::<jiff::Timestamp>()
                        .map(|t| age_text(now.duration_since(t).unsigned_abs()))
                        .unwrap_or_else(|_| "?".into());
                    note(&format!("server decisions from cache, {age} old ({why})"));
                    set
                }
                Err(why) => {
                    not_applied(&why);
                    return Ok(None);
                }
            }
        }
    };
    let Ok(issued) = set.issued_at.parse::<jiff::Timestamp>() else {
        not_applied("the decision set has no readable issue time");
        return Ok(None);
    };
    let age = now.duration_since(issued).unsigned_abs();
    if age > max_age {
        note(&format!(
            "warning: server decisions not applied: the decision set is {} old, more than max_decision_age ({}); reach the server to refresh it",
            age_text(age),
            age_text(max_age)
        ));
        return Ok(None);
    }
    let decisions = std::mem::take(&mut set.decisions);
    let pending = std::mem::take(&mut set.pending);
    note(&format!(
        "server decisions: {} for `{}` from {}, signed {} ({})",
        decisions.len(),
        terminal(&project),
        terminal(&server),
        terminal(&set.issued_at),
        if verified {
            "signature verified with the pinned key"
        } else {
            "UNVERIFIED: key trusted on first use; pin [server] public_key"
        }
    ));
    Ok(Some(Pulled { decisions, pending, verified, decision_base: format!("{base}/decisions") }))
}

fn write_cache_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let rel = PathBuf::from(rel);
    if let Some(dir) = rel.parent() {
        safe_fs::create_dir_in(root, dir)?;
    }
    safe_fs::write_in(root, &rel, bytes, None)?;
    Ok(())
}

/// [`pull`] with its notes kept, not printed: `sluice run` pulls on a thread of its own while
/// the stages run (fetching, verifying and parsing a large set takes as long as a small scan)
/// and prints the notes after the repository's decisions, in the order a sequential run would.
pub fn pull_aside(root: &Path, config: &Config) -> (Result<Option<Pulled>>, Vec<String>) {
    let notes = std::cell::RefCell::new(Vec::new());
    let pulled = pull(root, config, &|n| notes.borrow_mut().push(n.to_owned()));
    (pulled, notes.into_inner())
}

/// The `sluice run` hook, after the repository's decisions: applies what [`pull`] brought.
pub fn apply_in_run(
    pulled: Option<Pulled>,
    log: &mut Sarif,
    repository: Option<&Decisions>,
    note: &dyn Fn(&str),
) -> Result<()> {
    let Some(pulled) = pulled else { return Ok(()) };
    let opts = ServerOptions {
        today: Date::today(),
        verified: pulled.verified,
        decision_base: &pulled.decision_base,
        repository,
    };
    let outcome = sluice_triage::apply_server(log, &pulled.decisions, &opts);
    let awaiting = sluice_triage::mark_pending(log, &pulled.pending, &pulled.decision_base);
    let rerated = if outcome.rerated > 0 { format!(", {} re-rated", outcome.rerated) } else { String::new() };
    let awaiting = if awaiting > 0 { format!(", {awaiting} awaiting approval of a proposal") } else { String::new() };
    note(&format!(
        "server decisions: {} finding{} suppressed by server decisions, {} confirmed{rerated}, {} repository decision{} replaced, {} expired{awaiting}",
        outcome.suppressed,
        if outcome.suppressed == 1 { "" } else { "s" },
        outcome.confirmed,
        outcome.overrode,
        if outcome.overrode == 1 { "" } else { "s" },
        outcome.expired
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// sluice triage propose

#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// The finding's `sluice/v1` fingerprint; or give --rule, or --advisory with --package.
    #[arg(required_unless_present_any = ["rule", "advisory"], conflicts_with_all = ["rule", "advisory"])]
    pub fingerprint: Option<String>,
    /// Every finding of this rule (in the files --path matches).
    #[arg(long, conflicts_with = "advisory")]
    pub rule: Option<String>,
    /// With --rule: a glob of the files it covers (default: all).
    #[arg(long, requires = "rule", value_name = "GLOB")]
    pub path: Option<String>,
    /// Dependency findings of this advisory (its id or any alias) in --package.
    #[arg(long, requires = "package")]
    pub advisory: Option<String>,
    /// With --advisory: the package (name or purl).
    #[arg(long, requires = "advisory")]
    pub package: Option<String>,
    /// For every project of the organisation, not only this one (not for a fingerprint).
    #[arg(long, conflicts_with = "fingerprint")]
    pub organisation: bool,
    /// false_positive, accepted_risk, mitigated or confirmed.
    #[arg(long)]
    pub status: String,
    /// Why: required; the approver reads it.
    #[arg(long)]
    pub reason: String,
    /// The date (YYYY-MM-DD) from which the decision no longer applies (required for accepted_risk).
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,
    /// For an advisory that does not affect you: OpenVEX's justification
    /// (e.g. vulnerable_code_not_in_execute_path).
    #[arg(long, value_name = "JUSTIFICATION")]
    pub vex_justification: Option<String>,
    /// With --rule and --status confirmed: re-rate the rule's findings (critical, high, medium,
    /// low, info) instead of suppressing them; with --organisation, for every project.
    #[arg(long, requires = "rule", value_name = "SEVERITY")]
    pub set_severity: Option<String>,
    /// The repository whose sluice.toml names the server and project.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

/// Files a proposal with the server; prints its id and who may approve it.
pub fn propose(args: ProposeArgs) -> Result<u8> {
    let root =
        args.root.canonicalize().with_context(|| format!("{}: cannot open the repository", args.root.display()))?;
    let config = Config::load(&root)?;
    let server = config.server.url.clone().context("no server: set `[server] url` in sluice.toml")?;
    let base = api_base(&server)?;
    let token = token().with_context(|| format!("no token: set {TOKEN_VAR} to your personal token of the server"))?;
    let project = project_name(&root, &config);
    let selected = |scope: &str| NewDecision {
        project: (!args.organisation).then(|| project.clone()),
        scope: scope.to_owned(),
        fingerprint: None,
        rule: None,
        path: None,
        advisory: None,
        package: None,
        stage: None,
        status: args.status.replace('-', "_"),
        reason: args.reason.clone(),
        expires: args.expires.clone(),
        vex_justification: args.vex_justification.clone(),
        set_severity: args.set_severity.as_ref().map(|s| s.to_ascii_lowercase()),
    };
    let (scope, body) = match (&args.fingerprint, &args.rule, &args.advisory) {
        (Some(fp), _, _) => {
            let fp = fp.trim();
            if !sluice_triage::is_fingerprint(fp) {
                bail!("`{fp}` is not a sluice/v1 fingerprint (32 hex digits, a colon, a number, as in partialFingerprints[\"sluice/v1\"])");
            }
            ("finding", NewDecision { fingerprint: Some(fp.to_owned()), ..selected("finding") })
        }
        (None, Some(rule), _) => {
            ("rule", NewDecision { rule: Some(rule.clone()), path: args.path.clone(), ..selected("rule") })
        }
        (None, None, Some(advisory)) => (
            "advisory",
            NewDecision {
                advisory: Some(advisory.clone()),
                package: Some(args.package.clone().unwrap_or_default()),
                ..selected("advisory")
            },
        ),
        (None, None, None) => {
            bail!("say what the decision covers: a FINGERPRINT, --rule, or --advisory with --package")
        }
    };
    let status = body.status.clone();
    let body = serde_json::to_string(&body)?;
    // One key for this proposal, the same on every retry: the server stores it once even when
    // an answer was lost and the request is sent again.
    let key = {
        use sha2::{Digest, Sha256};
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let digest = Sha256::new()
            .chain_update(&body)
            .chain_update(nanos.to_be_bytes())
            .chain_update(std::process::id().to_be_bytes())
            .finalize();
        format!("sluice-propose-{}", hex::encode(&digest[..16]))
    };
    let mut attempt = 0;
    let mut response = loop {
        attempt += 1;
        let sent = agent()
            .post(&format!("{base}/decisions"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &key)
            .send(body.as_bytes());
        match sent {
            Ok(r) if r.status().as_u16() >= 500 && attempt < PROPOSE_ATTEMPTS => {}
            Ok(r) => break r,
            Err(e) if attempt >= PROPOSE_ATTEMPTS => {
                eprintln!(
                    "error: cannot reach {}: {e}; the proposal was not confirmed (check `GET /api/v1/decisions?state=proposed` before proposing it again)",
                    terminal(&server)
                );
                return Ok(crate::exit::UNREACHABLE);
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(500 << attempt));
    };
    let status_code = response.status().as_u16();
    let mut text = String::new();
    response.body_mut().as_reader().take(1 << 20).read_to_string(&mut text)?;
    let reply: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status_code != 201 {
        let message = reply.get("message").and_then(|m| m.as_str()).unwrap_or("");
        bail!("the server refused the proposal ({status_code}): {}", terminal(message));
    }
    let id = reply.get("id").and_then(serde_json::Value::as_i64).unwrap_or_default();
    let role = reply.get("required_role").and_then(|r| r.as_str()).unwrap_or("security");
    let severity = reply.get("severity").and_then(|r| r.as_str()).unwrap_or("?");
    let who = match role {
        "champion" => format!("a champion of `{}` (or the security role)", terminal(&project)),
        _ => "someone with the security role (or an admin)".to_owned(),
    };
    eprintln!(
        "proposed decision {id} ({scope}, {status}, covers {severity} findings): it needs approval by {who}, not you; it suppresses nothing until then"
    );
    println!("{id}");
    Ok(crate::exit::OK)
}

#[cfg(test)]
mod tests {
    use sluice_server::model::{DecisionSet, DecisionView};
    use sluice_triage::{Selector, ServerDecisionSet, Status};

    #[test]
    fn a_cache_written_by_an_earlier_version_still_reads_and_borrows_its_envelope() {
        let text = br#"{"server":"https://s","project":"p","etag":"\"e\"","validated_at":"2026-12-01T00:00:00Z","issued_at":null,"envelope":{"payloadType":"t","payload":"","signatures":[]}}"#;
        let cache: super::Cache<'_> = serde_json::from_slice(text).unwrap();
        assert_eq!(cache.fetched_at, "2026-12-01T00:00:00Z");
        assert_eq!(cache.envelope.get(), r#"{"payloadType":"t","payload":"","signatures":[]}"#);
        // Written back under the new name, the envelope byte for byte.
        let out = serde_json::to_string(&cache).unwrap();
        assert!(out.contains(r#""fetched_at":"2026-12-01T00:00:00Z""#) && out.contains(cache.envelope.get()), "{out}");
        assert!(serde_json::from_slice::<super::Cache<'_>>(b"{\"server\": 1}").is_err());
    }

    #[test]
    fn a_cache_larger_than_any_set_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(super::read_at_most(&path, 10).as_deref(), Some(&b"0123456789"[..]));
        assert_eq!(super::read_at_most(&path, 9), None);
        assert_eq!(super::read_at_most(&dir.path().join("none"), 9), None);
    }

    fn view(id: i64, scope: &str, state: &str) -> DecisionView {
        DecisionView {
            id,
            project: (scope != "advisory").then(|| "shop".to_owned()),
            scope: scope.into(),
            fingerprint: (scope == "finding").then(|| "0123456789abcdef0123456789abcdef:1".to_owned()),
            rule: (scope == "rule").then(|| "python.sql-injection".to_owned()),
            path: (scope == "rule").then(|| "tests/**".to_owned()),
            advisory: (scope == "advisory").then(|| "GHSA-xxxx-yyyy-zzzz".to_owned()),
            package: (scope == "advisory").then(|| "pkg:pypi/requests".to_owned()),
            stage: None,
            status: "accepted_risk".into(),
            vex_justification: None,
            reason: "behind the VPN".into(),
            expires: Some("2999-01-31".into()),
            severity: "high".into(),
            required_role: "security".into(),
            state: state.into(),
            proposed_by: "dev".into(),
            proposed_at: "2026-12-01T00:00:00Z".into(),
            decided_by: Some("sec".into()),
            decided_role: Some("security".into()),
            decided_at: Some("2026-12-02T00:00:00Z".into()),
            note: None,
            set_severity: None,
        }
    }

    /// The server writes `DecisionSet`, the client reads `WireDecisionSet` (through
    /// `ServerDecisionSet::parse`): a field renamed on one side only would silently stop
    /// decisions applying.
    #[test]
    fn the_servers_decision_set_reads_as_the_engines_wire_form() {
        let set = DecisionSet {
            type_: sluice_policy::attest::DECISION_SET_TYPE.into(),
            project: "shop".into(),
            issued_at: "2026-12-07T00:00:00Z".into(),
            decisions: vec![
                view(1, "finding", "approved"),
                view(2, "rule", "approved"),
                view(3, "advisory", "approved"),
                view(4, "rule", "proposed"),
            ],
            pending: vec![view(5, "rule", "proposed")],
        };
        let text = serde_json::to_string(&set).unwrap();
        // Sent without its empty fields, read back whole.
        assert!(!text.contains("null"), "{text}");
        let back: DecisionSet = serde_json::from_str(&text).unwrap();
        assert_eq!((back.decisions, back.pending), (set.decisions.clone(), set.pending.clone()));
        let wire = ServerDecisionSet::parse(text.as_bytes()).unwrap();
        assert_eq!((wire.type_.as_str(), wire.project.as_str()), (set.type_.as_str(), "shop"));
        assert_eq!(wire.issued_at, set.issued_at);
        let applied = wire.decisions;
        assert_eq!(applied.iter().map(|d| d.id).collect::<Vec<_>>(), [1, 2, 3], "a proposal does not apply");
        let rule = &applied[1];
        assert!(
            matches!(&rule.selector, Selector::RulePath { rule, glob } if rule == "python.sql-injection" && glob == "tests/**")
        );
        assert!(
            matches!(&applied[2].selector, Selector::Advisory { advisory, package, .. } if advisory == "GHSA-xxxx-yyyy-zzzz" && package == "pkg:pypi/requests")
        );
        assert!(
            matches!(&applied[0].selector, Selector::Fingerprint { fingerprint, .. } if fingerprint.ends_with(":1"))
        );
        assert_eq!(rule.status, Status::AcceptedRisk);
        assert_eq!(rule.expires.map(|d| d.to_string()), Some("2999-01-31".to_owned()));
        assert_eq!((rule.decided_by.as_deref(), rule.decided_role.as_deref()), (Some("sec"), Some("security")));
        assert_eq!(rule.approved_at.as_deref(), Some("2026-12-02T00:00:00Z"));
        assert_eq!(applied[2].project, None, "organisation-wide");
        let pending = wire.pending;
        assert_eq!(
            pending.iter().map(|d| (d.id, d.required_role.as_deref())).collect::<Vec<_>>(),
            [(5, Some("security"))]
        );
    }
}
