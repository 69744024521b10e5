//! The developer's side of org-wide triage: `sluice run` pulls the decisions the server signed
//! for the project, caches them, checks their signature and age, and applies them after the
//! repository's own (`sluice_triage::apply_server` says which wins); `sluice triage propose`
//! files a proposal.
//!
//! The cache (`.sluice/cache/decision-set.json`, replaced atomically) holds the last envelope
//! exactly as the server signed it, its `ETag`, and when the server last confirmed it. It is
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
use sluice_pipeline::{safe_fs, Config};
use sluice_policy::attest;
use sluice_report::escape::terminal;
use sluice_sarif::sarif::Sarif;
use sluice_server::model::{DecisionSet, DecisionView};
use sluice_triage::{Date, Decisions, Selector, ServerDecision, ServerOptions, Status};

/// The cache of the last decision set, relative to the repository root.
pub const CACHE_FILE: &str = ".sluice/cache/decision-set.json";
/// The server key trusted on first use (no `[server] public_key`), relative to the root.
pub const TOFU_KEY_FILE: &str = ".sluice/cache/server-key.pem";
/// `max_decision_age` when sluice.toml does not say.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
const TOKEN_VAR: &str = "SLUICE_TOKEN";
/// The largest decision set read (100,000 decisions fit in well under this).
const MAX_BODY: u64 = 256 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct Cache {
    server: String,
    project: String,
    etag: Option<String>,
    /// When the server last answered 200 or 304 for it (RFC 3339).
    validated_at: String,
    /// The DSSE envelope, as the server sent it.
    envelope: serde_json::Value,
}

/// What `sluice run` applies, with what trust.
pub struct Pulled {
    pub decisions: Vec<ServerDecision>,
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

fn read_cache(root: &Path) -> Option<Cache> {
    let bytes = std::fs::read(root.join(CACHE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write_cache(root: &Path, cache: &Cache) -> Result<()> {
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
        envelope: serde_json::Value,
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
        200 => match serde_json::from_str(&text) {
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

fn selector_of(d: &DecisionView) -> Option<Selector> {
    Some(match d.scope.as_str() {
        "finding" => {
            Selector::Fingerprint { fingerprint: d.fingerprint.clone()?, rule: None, path: None, commit: None }
        }
        "rule" => Selector::RulePath { rule: d.rule.clone()?, glob: d.path.clone().unwrap_or_else(|| "**".into()) },
        "advisory" => Selector::Advisory { advisory: d.advisory.clone()?, package: d.package.clone()?, versions: None },
        _ => return None,
    })
}

fn server_decision(d: &DecisionView) -> Option<ServerDecision> {
    if d.state != "approved" {
        return None;
    }
    Some(ServerDecision {
        id: d.id,
        project: d.project.clone(),
        selector: selector_of(d)?,
        stage: d.stage.clone(),
        status: Status::parse(&d.status)?,
        reason: d.reason.clone(),
        vex_justification: d.vex_justification.clone(),
        expires: d.expires.as_deref().and_then(Date::parse),
        proposed_by: d.proposed_by.clone(),
        decided_by: d.decided_by.clone(),
        decided_role: d.decided_role.clone(),
        approved_at: d.decided_at.clone(),
    })
}

/// Checks an envelope with `key`: a decision set for `project`, signed by it. The error says why not.
fn check(
    envelope: &serde_json::Value,
    key: &attest::VerifyingKey,
    whose: &str,
    project: &str,
) -> Result<DecisionSet, String> {
    let (payload_type, payload) = attest::verify_envelope(CACHE_FILE, &envelope.to_string(), key).map_err(|e| match e {
        attest::AttestError::BadSignature { .. } => format!(
            "the decision set's signature does not verify with {whose}: it was changed, or the server's key changed (compare with GET /api/v1/server-key)"
        ),
        other => other.to_string(),
    })?;
    if payload_type != attest::DECISIONS_PAYLOAD_TYPE {
        return Err(format!("the envelope holds {}, not decisions", terminal(&payload_type)));
    }
    let set: DecisionSet =
        serde_json::from_slice(&payload).map_err(|e| format!("the signed payload is not a decision set: {e}"))?;
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
    let mut cache = read_cache(root).filter(|c| c.server == server && c.project == project);
    let cached_issue = cache.as_ref().and_then(|c| envelope_issued_at(&c.envelope));
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
    let set = match fetched {
        Fetched::Fresh { envelope, etag } => match check(&envelope, &key, &whose, &project) {
            Ok(set) => {
                let fresh = Cache {
                    server: server.clone(),
                    project: project.clone(),
                    etag,
                    validated_at: now.to_string(),
                    envelope,
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
            let Some(c) = cache.as_mut() else {
                not_applied("the server answered 304 to a request that had no ETag");
                return Ok(None);
            };
            c.validated_at = now.to_string();
            write_cache(root, c)?;
            match check(&c.envelope, &key, &whose, &project) {
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
            match check(&c.envelope, &key, &whose, &project) {
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
    let decisions: Vec<ServerDecision> = set.decisions.iter().filter_map(server_decision).collect();
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
    Ok(Some(Pulled { decisions, verified, decision_base: format!("{base}/decisions") }))
}

fn write_cache_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let rel = PathBuf::from(rel);
    if let Some(dir) = rel.parent() {
        safe_fs::create_dir_in(root, dir)?;
    }
    safe_fs::write_in(root, &rel, bytes, None)?;
    Ok(())
}

/// The signed issue time inside an envelope, unverified (only to decide whether to revalidate).
fn envelope_issued_at(envelope: &serde_json::Value) -> Option<jiff::Timestamp> {
    use base64::Engine as _;
    let payload = envelope.get("payload")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("issued_at")?.as_str()?.parse().ok()
}

/// The `sluice run` hook, after the repository's decisions: pulls and applies the server's.
pub fn apply_in_run(
    root: &Path,
    config: &Config,
    log: &mut Sarif,
    repository: Option<&Decisions>,
    note: &dyn Fn(&str),
) -> Result<()> {
    let Some(pulled) = pull(root, config, note)? else { return Ok(()) };
    let opts = ServerOptions {
        today: Date::today(),
        verified: pulled.verified,
        decision_base: &pulled.decision_base,
        repository,
    };
    let outcome = sluice_triage::apply_server(log, &pulled.decisions, &opts);
    note(&format!(
        "server decisions: {} finding{} suppressed by server decisions, {} confirmed, {} repository decision{} replaced, {} expired",
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
    let status = args.status.replace('-', "_");
    let mut body = serde_json::json!({
        "project": if args.organisation { serde_json::Value::Null } else { project.clone().into() },
        "status": status,
        "reason": args.reason,
    });
    let scope = match (&args.fingerprint, &args.rule, &args.advisory) {
        (Some(fp), _, _) => {
            let fp = fp.trim();
            if !sluice_triage::is_fingerprint(fp) {
                bail!("`{fp}` is not a sluice/v1 fingerprint (32 hex digits, a colon, a number, as in partialFingerprints[\"sluice/v1\"])");
            }
            body["fingerprint"] = fp.into();
            "finding"
        }
        (None, Some(rule), _) => {
            body["rule"] = rule.clone().into();
            if let Some(p) = &args.path {
                body["path"] = p.clone().into();
            }
            "rule"
        }
        (None, None, Some(advisory)) => {
            body["advisory"] = advisory.clone().into();
            body["package"] = args.package.clone().unwrap_or_default().into();
            "advisory"
        }
        (None, None, None) => {
            bail!("say what the decision covers: a FINGERPRINT, --rule, or --advisory with --package")
        }
    };
    body["scope"] = scope.into();
    if let Some(e) = &args.expires {
        body["expires"] = e.clone().into();
    }
    if let Some(j) = &args.vex_justification {
        body["vex_justification"] = j.clone().into();
    }
    let sent = agent()
        .post(&format!("{base}/decisions"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes());
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot reach {}: {e}; nothing was proposed", terminal(&server));
            return Ok(crate::exit::UNREACHABLE);
        }
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
