//! `sluice serve` (the server, in `sluice_server`) and `sluice push` (a run, to it).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};
use sluice_pipeline::Config;
use sluice_report::escape::terminal;

use crate::exit;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Data directory: the SQLite database and the first admin's login token
    /// (default: $XDG_DATA_HOME/sluice/server, else ~/.local/share/sluice/server).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL database instead of SQLite: postgres://USER@HOST:PORT/DB (also $SLUICE_DATABASE).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Largest request body in MiB, after decompression.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_body_mib: usize,
    /// Requests per minute per token (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 6000)]
    pub rate_limit: u32,
    /// A proxy (address or CIDR block) whose X-Forwarded-For is believed; repeat for several.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<String>,
    /// Log JSON lines instead of text (SLUICE_LOG sets the filter, e.g. `debug`).
    #[arg(long)]
    pub json_logs: bool,
    /// OIDC login: the provider's issuer URL (https://, or http:// to this machine), exactly as
    /// its discovery document names it. Needs --oidc-client-id, --public-url and the client
    /// secret ($SLUICE_OIDC_CLIENT_SECRET or --oidc-client-secret-file).
    #[arg(long, value_name = "URL", requires_all = ["oidc_client_id", "public_url"])]
    pub oidc_issuer: Option<String>,
    /// OIDC login: this server's client id at the provider.
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// OIDC login: a file holding the client secret (else $SLUICE_OIDC_CLIENT_SECRET; never a
    /// flag, which `ps` would show).
    #[arg(long, value_name = "PATH", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// The server's external base URL, as browsers reach it (e.g. https://sluice.example.org);
    /// the OIDC redirect URI is {public-url}/api/v1/auth/oidc/callback.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The master key that encrypts the server's secrets (its signing key) in the database: a
    /// file holding 32 bytes as base64 (default: $SLUICE_SERVER_KEY, else DATA/server.key,
    /// created on first start). Replicas sharing a database need the same one.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// The OIDC options, when --oidc-issuer is given; the secret from the file or the environment.
fn oidc_config(args: &ServeArgs) -> Result<Option<sluice_server::oidc::OidcConfig>> {
    let Some(issuer) = &args.oidc_issuer else { return Ok(None) };
    let from_env = std::env::var("SLUICE_OIDC_CLIENT_SECRET").ok().filter(|v| !v.is_empty());
    let secret = match (&args.oidc_client_secret_file, from_env) {
        (Some(_), Some(_)) => {
            bail!("the OIDC client secret is given twice: use --oidc-client-secret-file or $SLUICE_OIDC_CLIENT_SECRET")
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read the OIDC client secret", path.display()))?;
            // One trailing newline (an editor's, `echo`'s) is not part of the secret.
            let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
            if text.is_empty() {
                bail!("{}: the OIDC client secret file is empty", path.display());
            }
            text.to_owned()
        }
        (None, Some(secret)) => secret,
        (None, None) => bail!(
            "--oidc-issuer needs the client secret: set $SLUICE_OIDC_CLIENT_SECRET or give --oidc-client-secret-file"
        ),
    };
    Ok(Some(sluice_server::oidc::OidcConfig {
        issuer: issuer.clone(),
        client_id: args.oidc_client_id.clone().unwrap_or_default(),
        client_secret: sluice_server::oidc::ClientSecret::new(secret),
        public_url: args.public_url.clone().unwrap_or_default(),
    }))
}

pub fn serve(args: ServeArgs) -> Result<u8> {
    let oidc = oidc_config(&args)?;
    let data = args.data.unwrap_or_else(sluice_server::serve::default_data_dir);
    let mut options = sluice_server::ServeOptions::new(data);
    options.listen = args.listen;
    options.database = args.database.or_else(|| std::env::var("SLUICE_DATABASE").ok().filter(|v| !v.is_empty()));
    options.max_body = args.max_body_mib.saturating_mul(1024 * 1024);
    options.rate_limit = args.rate_limit;
    options.json_logs = args.json_logs;
    options.oidc = oidc;
    options.key_file = args.key_file;
    for proxy in &args.trusted_proxies {
        options.trusted_proxies.push(proxy.parse().map_err(|e: String| anyhow::anyhow!("--trusted-proxy: {e}"))?);
    }
    sluice_server::run_blocking(options)?;
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The repository whose run is pushed.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The server (default: `[server] url` in sluice.toml).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The project's name on the server (default: `[server] project`, else the directory's name).
    #[arg(long)]
    pub project: Option<String>,
    /// The SARIF log to push (default: sluice-out/results.sarif).
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// The SBOM to push (default: one made now from the repository's lockfiles).
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// The gate's verdict (`sluice gate --verdict FILE` output or a verdict JSON), if any.
    #[arg(long, value_name = "FILE")]
    pub verdict: Option<PathBuf>,
    /// An attestation (`sluice attest` output), if any.
    #[arg(long, value_name = "FILE")]
    pub attestation: Option<PathBuf>,
    /// The run's id, the same for every retry of this push (default: from the CI job, else a
    /// digest of what is pushed).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Defaults for these come from CI's variables (GitHub Actions, GitLab CI), else git.
    #[arg(long)]
    pub commit: Option<String>,
    #[arg(long)]
    pub branch: Option<String>,
    #[arg(long)]
    pub default_branch: Option<String>,
    #[arg(long)]
    pub merge_request: Option<String>,
    #[arg(long)]
    pub pipeline_url: Option<String>,
    /// The run looked at part of the tree: it closes nothing on the server.
    #[arg(long)]
    pub partial: bool,
    /// Do not send the events `sluice record` keeps.
    #[arg(long)]
    pub no_events: bool,
    /// Attempts before giving up when the server cannot be reached.
    #[arg(long, default_value_t = 5)]
    pub attempts: u32,
    /// Seconds to wait for one attempt.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// The token comes from the environment only: a flag would be in the shell history and `ps`.
const TOKEN_VAR: &str = "SLUICE_TOKEN";

pub fn push(args: PushArgs) -> Result<u8> {
    let root =
        args.path.canonicalize().with_context(|| format!("{}: cannot open the repository", args.path.display()))?;
    let config = Config::load(&root)?;
    let server = args
        .server
        .clone()
        .or_else(|| config.server.url.clone())
        .context("no server: pass --server URL or set `[server] url` in sluice.toml")?;
    let endpoint = endpoint(&server)?;
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.trim().is_empty()).with_context(|| {
        format!("no token: set {TOKEN_VAR} to a project push token (or an organisation token) of the server")
    })?;
    let project =
        args.project.clone().or_else(|| config.server.project.clone()).unwrap_or_else(|| {
            root.file_name().map_or_else(|| "project".to_owned(), |n| n.to_string_lossy().into_owned())
        });

    let results_path = args.results.clone().unwrap_or_else(|| root.join(&config.out_dir).join("results.sarif"));
    let results = read_document(&results_path, "results", "run `sluice run` first, or pass --results FILE")?;
    let sbom = match &args.sbom {
        Some(file) => read_document(file, "SBOM", "")?,
        None => crate::sbom_cmd::repository_sbom(&root)?,
    };
    let verdict = args.verdict.as_deref().map(|f| read_document(f, "verdict", "")).transpose()?;
    let attestation = args.attestation.as_deref().map(|f| read_document(f, "attestation", "")).transpose()?;
    let ci = Ci::detect(&root);
    let commit = args.commit.clone().or(ci.commit);
    let branch = args.branch.clone().or(ci.branch);
    let merge_request = args.merge_request.clone().or(ci.merge_request);
    let run_id = args.run_id.clone().or(ci.run_id).unwrap_or_else(|| {
        let mut h = Sha256::new();
        for part in [results.as_str(), commit.as_deref().unwrap_or(""), branch.as_deref().unwrap_or("")] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        format!("sha256-{}", &hex::encode(h.finalize())[..32])
    });
    let events = if args.no_events { Vec::new() } else { crate::metrics_cmd::events_for_push(&root, &config)? };

    let mut body = String::with_capacity(results.len() + sbom.len() + 1024);
    body.push('{');
    let field = |body: &mut String, key: &str, value: &serde_json::Value| {
        body.push_str(&serde_json::to_string(key).unwrap_or_default());
        body.push(':');
        body.push_str(&value.to_string());
        body.push(',');
    };
    field(&mut body, "project", &project.clone().into());
    field(&mut body, "run_id", &run_id.clone().into());
    for (key, value) in [
        ("commit", &commit),
        ("branch", &branch),
        ("default_branch", &args.default_branch.clone().or(ci.default_branch)),
        ("merge_request", &merge_request),
        ("pipeline_url", &args.pipeline_url.clone().or(ci.pipeline_url)),
    ] {
        if let Some(value) = value {
            field(&mut body, key, &value.clone().into());
        }
    }
    field(&mut body, "partial", &args.partial.into());
    field(&mut body, "events", &serde_json::to_value(&events)?);
    // The documents go as they are, not re-serialized: they were checked as JSON on reading.
    for (key, doc) in [("sbom", Some(&sbom)), ("verdict", verdict.as_ref()), ("attestation", attestation.as_ref())] {
        if let Some(doc) = doc {
            body.push_str(&format!("\"{key}\":{},", doc.trim()));
        }
    }
    body.push_str("\"sarif\":");
    body.push_str(results.trim());
    body.push('}');
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes())?;
    let compressed = gz.finish()?;

    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(args.timeout)))
            .http_status_as_error(false)
            // The token goes to the server named, never where a redirect points.
            .max_redirects(0)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let attempts = args.attempts.max(1);
    let mut last_problem = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            let wait = Duration::from_millis(500 * (1 << (attempt - 2).min(5)));
            eprintln!("sluice push: {last_problem}; retrying in {:.1} s ({attempt}/{attempts})", wait.as_secs_f64());
            std::thread::sleep(wait);
        }
        let sent = agent
            .post(&endpoint)
            .header("Authorization", &format!("Bearer {}", token.trim()))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .send(&compressed[..]);
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                last_problem = format!("cannot reach {}: {e}", terminal(&server));
                continue;
            }
        };
        let status = response.status().as_u16();
        let mut text = String::new();
        let _ = response.body_mut().as_reader().take(1 << 20).read_to_string(&mut text);
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200 | 201 => {
                print_outcome(&reply, &server);
                return Ok(exit::OK);
            }
            429 | 500 | 502 | 503 | 504 => {
                last_problem = format!("the server answered {status}{}", server_message(&reply));
                continue;
            }
            _ => {
                bail!(
                    "the server refused the run ({status}){}; the local results are untouched",
                    server_message(&reply)
                );
            }
        }
    }
    eprintln!(
        "error: sluice push: {last_problem}; gave up after {attempts} attempts. The local results are untouched \
         ({}); push again later.",
        results_path.display()
    );
    Ok(exit::UNREACHABLE)
}

fn server_message(reply: &serde_json::Value) -> String {
    match reply.get("message").and_then(|m| m.as_str()) {
        Some(m) => format!(": {}", terminal(m)),
        None => String::new(),
    }
}

fn print_outcome(reply: &serde_json::Value, server: &str) {
    let n = |k: &str| reply.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let project = reply.get("project").and_then(|v| v.as_str()).unwrap_or("?");
    if reply.get("duplicate").and_then(serde_json::Value::as_bool) == Some(true) {
        println!(
            "pushed before: run {} of {} on {}; nothing stored again",
            n("run"),
            terminal(project),
            terminal(server)
        );
        return;
    }
    let branch = if reply.get("on_default_branch").and_then(serde_json::Value::as_bool) == Some(true) {
        "default branch"
    } else {
        "not the default branch: no finding opened or closed"
    };
    let verdict = reply
        .get("verdict")
        .and_then(|v| v.as_str())
        .map(|v| format!(", server's verdict: {}", terminal(v)))
        .unwrap_or_default();
    println!(
        "pushed run {} of {} ({branch}): {} results, {} new, {} no longer detected, {} reintroduced, {} open{verdict}",
        n("run"),
        terminal(project),
        n("results"),
        n("new"),
        n("closed"),
        n("reintroduced"),
        n("open"),
    );
}

/// `…/api/v1/runs` of a server URL; plain HTTP only to this machine.
fn endpoint(server: &str) -> Result<String> {
    Ok(format!("{}/runs", api_base(server)?))
}

/// `…/api/v1` of a server URL; plain HTTP only to this machine.
pub(crate) fn api_base(server: &str) -> Result<String> {
    let uri: ureq::http::Uri = server.parse().with_context(|| format!("--server {}: not a URL", terminal(server)))?;
    let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") => {
            let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                bail!(
                    "{}: plain http:// would send the token and the results unencrypted; use https:// (http:// is \
                     allowed only to this machine)",
                    terminal(server)
                );
            }
        }
        _ => bail!("{}: the server URL must start with https://", terminal(server)),
    }
    Ok(format!("{}/api/v1", server.trim_end_matches('/')))
}

fn read_document(path: &Path, what: &str, hint: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        let hint = if hint.is_empty() { String::new() } else { format!(" ({hint})") };
        format!("{}: cannot read the {what}{hint}", path.display())
    })?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .with_context(|| format!("{}: the {what} is not JSON", path.display()))?;
    Ok(text)
}

/// What CI's variables (or git) say about the run.
#[derive(Debug, Default)]
struct Ci {
    commit: Option<String>,
    branch: Option<String>,
    default_branch: Option<String>,
    merge_request: Option<String>,
    pipeline_url: Option<String>,
    run_id: Option<String>,
}

impl Ci {
    fn detect(root: &Path) -> Ci {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut ci = Ci::default();
        if var("GITHUB_ACTIONS").is_some() {
            ci.commit = var("GITHUB_SHA");
            let pull = var("GITHUB_EVENT_NAME").is_some_and(|e| e.starts_with("pull_request"));
            if pull {
                ci.branch = var("GITHUB_HEAD_REF");
                ci.merge_request = var("GITHUB_REF")
                    .and_then(|r| r.strip_prefix("refs/pull/").and_then(|r| r.split('/').next()).map(str::to_owned));
            } else {
                ci.branch = var("GITHUB_REF_NAME");
            }
            ci.default_branch = var("GITHUB_EVENT_PATH").and_then(|p| {
                let event: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
                event.pointer("/repository/default_branch")?.as_str().map(str::to_owned)
            });
            if let (Some(server), Some(repo), Some(id)) =
                (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID"))
            {
                ci.pipeline_url = Some(format!("{server}/{repo}/actions/runs/{id}"));
                ci.run_id = Some(format!(
                    "github-{id}-{}-{}",
                    var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into()),
                    var("GITHUB_JOB").unwrap_or_default()
                ));
            }
        } else if var("GITLAB_CI").is_some() {
            ci.commit = var("CI_COMMIT_SHA");
            ci.branch = var("CI_COMMIT_BRANCH").or_else(|| var("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"));
            ci.default_branch = var("CI_DEFAULT_BRANCH");
            ci.merge_request = var("CI_MERGE_REQUEST_IID");
            ci.pipeline_url = var("CI_PIPELINE_URL");
            ci.run_id = var("CI_JOB_ID").map(|id| format!("gitlab-{id}"));
        }
        let repository = sluice_repo::Git::new(root);
        let git = |args: &[&str]| repository.value(args);
        if ci.commit.is_none() {
            ci.commit = git(&["rev-parse", "HEAD"]);
        }
        if ci.branch.is_none() {
            ci.branch = git(&["branch", "--show-current"]);
        }
        if ci.default_branch.is_none() {
            ci.default_branch = git(&["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
                .map(|r| r.strip_prefix("origin/").map(str::to_owned).unwrap_or(r));
        }
        ci
    }
}
