//! The server process: its options, first start, listening and graceful shutdown.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::api::{AppState, Cidr, Metrics, RateLimiter};
use crate::db::Db;
use crate::ingest::Limits;

/// Everything `sluice serve` takes.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Where the SQLite database and the first admin's login token live.
    pub data: PathBuf,
    /// `postgres://…`; None: SQLite in `data`.
    pub database: Option<String>,
    /// Largest request body, after decompression.
    pub max_body: usize,
    /// Requests per minute per token; 0: no limit.
    pub rate_limit: u32,
    pub trusted_proxies: Vec<Cidr>,
    /// Time to answer one request.
    pub request_timeout: Duration,
    pub limits: Limits,
    /// Logs as JSON lines rather than text.
    pub json_logs: bool,
    /// OIDC login, when configured (discovered at start).
    pub oidc: Option<crate::oidc::OidcConfig>,
    /// The master key file (`--key-file`); None: `$SLUICE_SERVER_KEY`, else `DATA/server.key`
    /// (created on first start).
    pub key_file: Option<PathBuf>,
}

impl ServeOptions {
    pub fn new(data: PathBuf) -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data,
            database: None,
            max_body: 256 * 1024 * 1024,
            rate_limit: 6000,
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(120),
            limits: Limits::default(),
            json_logs: false,
            oidc: None,
            key_file: None,
        }
    }
}

/// The default data directory: `$XDG_DATA_HOME/sluice/server`, else `~/.local/share/sluice/server`.
pub fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("sluice/server")
}

/// The file the first admin's one-time login token is written to.
pub fn login_token_path(data: &Path) -> PathBuf {
    data.join("first-admin-login-token")
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (tests) is not an error.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Creates the data directory, readable by its owner only.
fn data_dir(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("{}: cannot create the data directory", path.display()))
}

/// Writes the login token to a new file only its owner can read; replaces an old token file,
/// never following a link.
fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        std::fs::remove_file(path)
            .with_context(|| format!("{}: cannot replace the old login token", path.display()))?;
    }
    create_private_file(path, &format!("{secret}\n"))
        .with_context(|| format!("{}: cannot write the login token", path.display()))
}

/// Creates `path` (it must not exist; a link there is refused, not followed), readable and
/// writable by its owner only, with `text`, synced to disk: the server's secret files.
pub(crate) fn create_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Opens the database, prepares the first start, and serves until SIGTERM or Ctrl-C.
pub async fn run(options: ServeOptions) -> anyhow::Result<()> {
    init_logs(options.json_logs);
    data_dir(&options.data)?;
    let url = match &options.database {
        Some(url) => url.clone(),
        None => options.data.join("sluice.db").to_string_lossy().into_owned(),
    };
    let db = Db::open(&url).await.with_context(|| match &options.database {
        Some(_) => "cannot open the PostgreSQL database given by --database".to_owned(),
        None => format!("cannot open the SQLite database in {}", options.data.display()),
    })?;
    if let Some(token) = db.bootstrap_admin().await? {
        let path = login_token_path(&options.data);
        write_secret(&path, &token)?;
        // The path is printed, never the token.
        eprintln!(
            "sluice serve: first start; the first admin's one-time login token is in {} (readable by you only; \
             it expires in 24 hours)",
            path.display()
        );
    }
    let oidc = match options.oidc.clone() {
        Some(config) => {
            let oidc = crate::oidc::Oidc::discover(config)
                .await
                .context("OIDC login: the provider given by --oidc-issuer cannot be used")?;
            tracing::info!(issuer = oidc.issuer(), redirect_uri = oidc.redirect_uri(), "OIDC login enabled");
            Some(Arc::new(oidc))
        }
        None => None,
    };
    // Background upkeep: the planner's statistics (PostgreSQL), once a minute.
    let upkeep = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                match db.refresh_statistics().await {
                    Ok(tables) if !tables.is_empty() => tracing::info!(?tables, "planner statistics refreshed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot refresh the planner statistics"),
                }
            }
        })
    };
    let source = match (&options.key_file, std::env::var(crate::keys::MASTER_KEY_ENV).ok().filter(|v| !v.is_empty())) {
        (Some(file), _) => crate::keys::MasterKeySource::File(file.clone()),
        (None, Some(value)) => crate::keys::MasterKeySource::Env(value),
        (None, None) => crate::keys::MasterKeySource::DefaultFile(options.data.join("server.key")),
    };
    let master = crate::keys::MasterKey::load(&source)?;
    let keys = crate::keys::ServerKeys::load(&db, &master).await?;
    drop(master);
    tracing::info!(keyid = keys.keyid(), "signing key ready");
    let attestation_keys = crate::attestations::load_dir(&options.data.join("attestation-keys"))
        .context("the attestation keys (DATA/attestation-keys/*.pub)")?;
    tracing::info!(keys = attestation_keys.len(), "attestation keys read");
    let state = AppState {
        db: db.clone(),
        keys: Arc::new(keys),
        attestation_keys: Arc::new(attestation_keys),
        limits: options.limits.clone(),
        metrics: Arc::new(Metrics::default()),
        trusted_proxies: Arc::new(options.trusted_proxies.clone()),
        limiter: Arc::new(RateLimiter::new(options.rate_limit)),
        oidc,
    };
    let app = crate::api::router(state, options.max_body)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            options.request_timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let local = listener.local_addr()?;
    tracing::info!(listen = %local, backend = db.backend(), "sluice serve ready");
    eprintln!("sluice serve: listening on http://{local} ({} database)", db.backend());
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    upkeep.abort();
    tracing::info!("stopping: requests in flight answered");
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
