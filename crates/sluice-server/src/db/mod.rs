//! Storage: SQLite (one file, the default) or PostgreSQL (several replicas).
//!
//! The queries are written once, in `queries.rs`, and compiled twice: into [`sqlite`] with
//! `DB = sqlx::Sqlite` and into [`postgres`] with `DB = sqlx::Postgres` (sqlx's `Any` driver
//! lacks the types and transaction control this needs). The SQL itself is the subset both
//! speak: `$n` parameters, `ON CONFLICT`, `RETURNING`, times as Unix milliseconds, JSON as
//! text. What differs lives in each module: how a write transaction begins (SQLite
//! `BEGIN IMMEDIATE`, so writers queue instead of failing on upgrade), how the audit log's
//! tail is locked (PostgreSQL: a transaction-scoped advisory lock) and how pushes to one
//! project are kept one at a time (PostgreSQL: the project's row, `FOR NO KEY UPDATE`).
//! Migrations are embedded, one directory per backend, forward only; on PostgreSQL the
//! migrator holds an advisory lock, so replicas starting together apply them once.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::auth::Principal;
use crate::ingest::Prepared;
use crate::model::*;

/// Why a storage operation did not happen. The API turns each into its status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// A row that was not there when the transaction looked is there when it writes.
    fn is_unique_conflict(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// Where a request came from, for the audit log and the login limit.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    pub principal: Option<&'a Principal>,
    pub addr: &'a str,
}

impl Caller<'_> {
    fn actor(&self) -> String {
        self.principal.map_or_else(|| "anonymous".to_owned(), Principal::actor)
    }
}

/// The portfolio's question: which projects, in what order, how many at most.
#[derive(Debug, Clone, Default)]
pub struct PortfolioQuery {
    /// None: every project; Some: only these.
    pub readable: Option<Vec<i64>>,
    /// Name contains this (ASCII case-insensitive).
    pub name_contains: Option<String>,
    /// Has an open finding at least this severe (rank; 0: any project).
    pub min_rank: i64,
    /// The default branch's last verdict: `allowed`, `denied`, or `none` (no verdict, no run).
    pub verdict: Option<String>,
    /// `name`, `severity`, `open`, `new`, `fixed` or `last_run`.
    pub sort: String,
    /// Findings new and fixed on the UTC days from this one on.
    pub since_day: i64,
    pub limit: i64,
    /// Rows of the sorted list skipped (pages after the first).
    pub offset: i64,
}

/// A row of the portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioRow {
    pub name: String,
    pub open: crate::model::SeverityCounts,
    pub new_week: i64,
    pub fixed_week: i64,
    /// The default branch's last run: id and server verdict.
    pub default_run: Option<(i64, Option<String>)>,
    /// The last run: id and when (Unix ms).
    pub last_run: Option<(i64, i64)>,
    /// Open findings past their severity's SLA, as last counted.
    pub past_sla: i64,
}

/// Filters of the finding list, checked.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// None: every project the caller may read (`readable`).
    pub project_id: Option<i64>,
    /// None: every project; Some: only these.
    pub readable: Option<Vec<i64>>,
    pub min_rank: i64,
    pub stage: Option<String>,
    pub rule: Option<String>,
    /// None: both states.
    pub state: Option<String>,
    pub since: Option<i64>,
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// What logging in gave.
#[derive(Debug)]
pub enum Login {
    Token(TokenCreated),
    Refused,
}

// Rows are read as tuples, as sqlx reads them; the queries' functions take what the SQL binds.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
mod sqlite {
    use sqlx::{Pool, Transaction};
    pub type DB = sqlx::Sqlite;

    async fn begin(pool: &Pool<DB>) -> sqlx::Result<Transaction<'static, DB>> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Writers are serialised by `BEGIN IMMEDIATE` already.
    async fn lock_audit(_tx: &mut Transaction<'static, DB>) -> sqlx::Result<()> {
        Ok(())
    }

    /// So are pushes.
    async fn lock_project(_tx: &mut Transaction<'static, DB>, _project_id: i64) -> sqlx::Result<()> {
        Ok(())
    }

    /// SQLite plans every statement with its values.
    async fn plan_with_values(_tx: &mut Transaction<'static, DB>, _on: bool) -> sqlx::Result<()> {
        Ok(())
    }

    include!("queries.rs");
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
mod postgres {
    use sqlx::{Pool, Transaction};
    pub type DB = sqlx::Postgres;

    async fn begin(pool: &Pool<DB>) -> sqlx::Result<Transaction<'static, DB>> {
        pool.begin().await
    }

    /// The audit log is a chain: one writer appends at a time, until its transaction ends.
    async fn lock_audit(tx: &mut Transaction<'static, DB>) -> sqlx::Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(7301200417)").execute(&mut **tx).await.map(|_| ())
    }

    /// Pushes to one project, one at a time, until the transaction ends: two at once would
    /// both store a retried run id (one failing on the unique key), and would lock the same
    /// findings in different orders (upserts by fingerprint, closing by whatever the scan
    /// meets) and deadlock. `NO KEY UPDATE` leaves other projects' writers, and the foreign
    /// keys that name this project, alone.
    async fn lock_project(tx: &mut Transaction<'static, DB>, project_id: i64) -> sqlx::Result<()> {
        sqlx::query("SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE")
            .bind(project_id)
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }

    /// A push's fingerprint lookups are planned with their values (`on`), then planning goes
    /// back to PostgreSQL's choice: after five runs of a prepared `fingerprint IN ($2, …,
    /// $1001)` PostgreSQL switched to a generic plan that compares each row with the thousand
    /// parameters one by one (270 ms a statement, 2.7 s a 10,000-finding re-push); with the
    /// values the list is hashed. Not for the whole push: planning every 1,000-row insert
    /// afresh costs more than it saves.
    async fn plan_with_values(tx: &mut Transaction<'static, DB>, on: bool) -> sqlx::Result<()> {
        let mode = if on { "force_custom_plan" } else { "auto" };
        sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL plan_cache_mode = {mode}")))
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }

    include!("queries.rs");
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database, whichever backend.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
}

macro_rules! dispatch {
    ($self:ident . $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.pool {
            Pool::Sqlite(p) => sqlite::$f(p, $($arg),*).await,
            Pool::Postgres(p) => postgres::$f(p, $($arg),*).await,
        }
    };
}

/// The advisory lock one replica holds while it refreshes the planner's statistics.
const STATISTICS_LOCK: i64 = 0x736c_7569_6365_5354; // "sluiceST"

impl Db {
    /// Opens (creating it if needed) and migrates the database `url` names: `postgres://…`,
    /// or `sqlite://PATH` / a plain path for SQLite.
    pub async fn open(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            let db = Db { pool: Pool::Postgres(pool) };
            db.index_stored_sboms().await?;
            return Ok(db);
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Db::open_sqlite(Path::new(path)).await
    }

    async fn open_sqlite(path: &Path) -> Result<Db> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged write survives a power cut, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let db = Db { pool: Pool::Sqlite(pool) };
        db.index_stored_sboms().await?;
        Ok(db)
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Keeps the query planner's statistics and the visibility map current on PostgreSQL: a
    /// table whose rows changed by more than a tenth since it was last analysed (or that never
    /// was) is vacuumed and analysed, by one replica at a time (a session advisory lock; the
    /// others skip). Autovacuum does
    /// this where it runs, but it can be off, and a planner without statistics sorted every open
    /// finding for an organisation-wide page (a p99 of 5 s at 1,000,000 findings). Returns the
    /// tables analysed. SQLite needs nothing: its plans here do not depend on statistics.
    pub async fn refresh_statistics(&self) -> Result<Vec<String>> {
        let Pool::Postgres(pool) = &self.pool else { return Ok(Vec::new()) };
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables \
             WHERE relname IN ('findings', 'sightings', 'runs', 'projects', 'decisions', 'run_documents', 'events') \
             AND n_mod_since_analyze >= 1000 \
             AND (COALESCE(last_analyze, last_autoanalyze) IS NULL OR n_mod_since_analyze > n_live_tup / 10) \
             ORDER BY relname",
        )
        .fetch_all(pool)
        .await?;
        if stale.is_empty() {
            return Ok(stale);
        }
        // VACUUM cannot run in a transaction: the lock is the session's, released after (or
        // with the connection, if this one dies).
        let mut conn = pool.acquire().await?;
        let mine: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(STATISTICS_LOCK).fetch_one(&mut *conn).await?;
        if !mine {
            return Ok(Vec::new());
        }
        let mut done = Ok(());
        for table in &stale {
            // The names come from the fixed list above, never from input. VACUUM also marks the
            // pages all-visible, so index-only scans (impact search's per-project counts) read
            // no table rows; without it a million-row table answered in 40 ms instead of 5.
            done = sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {table}")))
                .execute(&mut *conn)
                .await
                .map(|_| ());
            if done.is_err() {
                break;
            }
        }
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(STATISTICS_LOCK).execute(&mut *conn).await?;
        done?;
        Ok(stale)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    pub async fn ping(&self) -> Result<()> {
        dispatch!(self.ping())
    }

    /// On a database with no user: the first admin, and a one-time login token for them.
    pub async fn bootstrap_admin(&self) -> Result<Option<String>> {
        dispatch!(self.bootstrap_admin())
    }

    /// The principal a token stands for. Its last use is recorded in the background, at most
    /// once a minute, so a read never waits for a write (on SQLite, for a push's lock).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        if !crate::auth::well_formed(token) {
            return Ok(None);
        }
        let hash = crate::auth::token_hash(token);
        let found: Option<(Principal, bool)> = dispatch!(self.authenticate(&hash))?;
        let Some((principal, touch)) = found else { return Ok(None) };
        if touch {
            let db = self.clone();
            let id = principal.token_id();
            tokio::spawn(async move {
                if let Err(e) = db.touch_token(id).await {
                    tracing::debug!(error = %e, "token use not recorded");
                }
            });
        }
        Ok(Some(principal))
    }

    async fn touch_token(&self, id: i64) -> Result<()> {
        dispatch!(self.touch_token(id))
    }

    pub async fn login(&self, request: &LoginRequest, addr: &str) -> Result<Login> {
        dispatch!(self.login(request, addr))
    }

    /// Refuses (rate limited) an address with too many failed logins lately.
    pub async fn login_allowed(&self, addr: &str) -> Result<()> {
        dispatch!(self.login_allowed(addr))
    }

    /// Counts a failed login (`key`: the user name, or what was used instead of one).
    pub async fn login_failed(&self, key: &str, addr: &str) -> Result<()> {
        dispatch!(self.login_failed(key, addr))
    }

    /// Keeps an OIDC login in progress, by the hash of its state, until `expires_at`.
    pub async fn oidc_begin(&self, state_hash: &str, nonce: &str, verifier: &str, expires_at: i64) -> Result<()> {
        dispatch!(self.oidc_begin(state_hash, nonce, verifier, expires_at))
    }

    /// Takes (and so spends) an OIDC login in progress: (nonce, verifier, expires_at).
    pub async fn oidc_take(&self, state_hash: &str) -> Result<Option<(String, String, i64)>> {
        dispatch!(self.oidc_take(state_hash))
    }

    /// Logs in the user an OIDC identity is linked to, making and linking one (with no role)
    /// on its first login.
    pub async fn oidc_login(&self, identity: &crate::oidc::Identity, addr: &str) -> Result<Login> {
        dispatch!(self.oidc_login(identity, addr))
    }

    pub async fn create_user(&self, caller: &Caller<'_>, user: &NewUser) -> Result<User> {
        dispatch!(self.create_user(caller, user))
    }

    pub async fn get_user(&self, username: &str) -> Result<User> {
        dispatch!(self.get_user(username))
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        dispatch!(self.list_users())
    }

    pub async fn set_password(&self, caller: &Caller<'_>, username: &str, password: &str) -> Result<()> {
        dispatch!(self.set_password(caller, username, password))
    }

    pub async fn grant_role(&self, caller: &Caller<'_>, username: &str, grant: &RoleGrant) -> Result<User> {
        dispatch!(self.grant_role(caller, username, grant))
    }

    pub async fn revoke_role(&self, caller: &Caller<'_>, username: &str, grant: &RoleGrant) -> Result<User> {
        dispatch!(self.revoke_role(caller, username, grant))
    }

    pub async fn create_project(&self, caller: &Caller<'_>, project: &NewProject) -> Result<Project> {
        dispatch!(self.create_project(caller, project))
    }

    /// Project id by name.
    pub async fn project_id(&self, name: &str) -> Result<Option<i64>> {
        dispatch!(self.project_id(name))
    }

    /// Project id and policy profile by name.
    pub async fn project_profile(&self, name: &str) -> Result<Option<(i64, String)>> {
        dispatch!(self.project_profile(name))
    }

    /// The stored answer to a run id pushed to this project before, if it was.
    pub async fn existing_run(
        &self,
        project_id: i64,
        project: &str,
        run_id: &str,
    ) -> Result<Option<crate::model::PushResponse>> {
        dispatch!(self.existing_run(project_id, project, run_id))
    }

    pub async fn get_project(&self, id: i64) -> Result<Project> {
        dispatch!(self.get_project(id))
    }

    /// Projects, by name; `only` limits them to those ids.
    pub async fn list_projects(&self, only: Option<&[i64]>) -> Result<Vec<Project>> {
        dispatch!(self.list_projects(only))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        caller: &Caller<'_>,
        kind: crate::auth::TokenKind,
        scope: &str,
        name: &str,
        user_id: Option<i64>,
        project_id: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<TokenCreated> {
        dispatch!(self.create_token(caller, kind, scope, name, user_id, project_id, expires_at))
    }

    /// Tokens of a project (`project_id`), or of a user (`user_id`), or every token.
    pub async fn list_tokens(&self, project_id: Option<i64>, user_id: Option<i64>) -> Result<Vec<TokenInfo>> {
        dispatch!(self.list_tokens(project_id, user_id))
    }

    /// (kind, project_id, user_id) of a token, to decide who may revoke it.
    pub async fn token_owner(&self, id: i64) -> Result<Option<(String, Option<i64>, Option<i64>)>> {
        dispatch!(self.token_owner(id))
    }

    pub async fn revoke_token(&self, caller: &Caller<'_>, id: i64) -> Result<()> {
        dispatch!(self.revoke_token(caller, id))
    }

    /// Stores a prepared push in one transaction. `verdict` is the server's own.
    ///
    /// Two replicas storing the same run id (or creating the same project) at once: one
    /// transaction wins, the other fails on the unique key and is tried again, and then finds
    /// what the first stored.
    pub async fn ingest(
        &self,
        caller: &Caller<'_>,
        push: &Prepared,
        create: bool,
        verdict: &crate::ingest::VerdictSlot,
    ) -> Result<PushResponse> {
        match dispatch!(self.ingest(caller, push, create, verdict)) {
            // Another push of the same run id (or the first push creating the same project)
            // committed while this one waited on it (PostgreSQL: both began before either
            // committed). Once more, this push finds that run: a duplicate, not an error.
            Err(e) if e.is_unique_conflict() => dispatch!(self.ingest(caller, push, create, verdict)),
            other => other,
        }
    }

    pub async fn list_runs(&self, project_id: i64, after: Option<i64>, limit: i64) -> Result<RunPage> {
        dispatch!(self.list_runs(project_id, after, limit))
    }

    /// A run and its project's id.
    pub async fn get_run(&self, id: i64) -> Result<(i64, RunSummary)> {
        dispatch!(self.get_run(id))
    }

    /// A document a run carried (gzip-compressed JSON), if it carried it.
    pub async fn run_document(&self, run_id: i64, kind: &str) -> Result<Option<Vec<u8>>> {
        dispatch!(self.run_document(run_id, kind))
    }

    pub async fn list_findings(&self, filter: &FindingFilter) -> Result<FindingPage> {
        dispatch!(self.list_findings(filter))
    }

    pub async fn finding_detail(&self, project_id: i64, fingerprint: &str) -> Result<FindingDetail> {
        dispatch!(self.finding_detail(project_id, fingerprint))
    }

    pub async fn propose_decision(
        &self,
        caller: &Caller<'_>,
        project_id: Option<i64>,
        new: &crate::decisions::Checked,
    ) -> Result<DecisionView> {
        dispatch!(self.propose_decision(caller, project_id, new))
    }

    /// A decision, its project (None: organisation-wide) and its history.
    pub async fn get_decision(&self, id: i64) -> Result<(Option<i64>, DecisionDetail)> {
        dispatch!(self.get_decision(id))
    }

    /// `action`: `approve`, `reject` or `revoke`.
    pub async fn decide(&self, caller: &Caller<'_>, id: i64, action: &str, note: Option<&str>) -> Result<DecisionView> {
        dispatch!(self.decide(caller, id, action, note))
    }

    pub async fn list_decisions(
        &self,
        projects: Option<&[i64]>,
        state: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(Option<i64>, DecisionView)>> {
        dispatch!(self.list_decisions(projects, state, before, limit))
    }

    pub async fn applicable_decisions(&self, project_id: i64) -> Result<Vec<DecisionView>> {
        dispatch!(self.applicable_decisions(project_id))
    }

    /// The project's proposals awaiting approval.
    pub async fn pending_decisions(&self, project_id: i64) -> Result<Vec<DecisionView>> {
        dispatch!(self.pending_decisions(project_id))
    }

    /// Stores a secret unless one of that name exists; returns the one stored.
    pub async fn secret_insert_if_absent(
        &self,
        name: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        dispatch!(self.secret_insert_if_absent(name, nonce, ciphertext))
    }

    /// Every decision with its history, by id.
    pub async fn decision_log(&self) -> Result<Vec<(Option<i64>, DecisionDetail)>> {
        dispatch!(self.decision_log())
    }

    pub async fn audit_page(&self, after: Option<i64>, limit: i64) -> Result<AuditPage> {
        dispatch!(self.audit_page(after, limit))
    }

    pub async fn audit_verify(&self) -> Result<AuditVerification> {
        dispatch!(self.audit_verify())
    }
}

/// The audit chain: each row's hash covers the one before it and its own fields.
pub fn audit_hash(prev: &str, at: i64, actor: &str, action: &str, target: &str, addr: &str, detail: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [prev, &at.to_string(), actor, action, target, addr, detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored (gzip) JSON document, read back; `None` if it is not one. Bounded at 256 MiB.
pub fn gunzip_json(body: &[u8]) -> Option<serde_json::Value> {
    use std::io::Read;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(body).take(256 * 1024 * 1024).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

pub fn severity_rank(severity: &str) -> i64 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The server's SLA: days from a finding's first sighting within which it should be fixed, by
/// severity rank (critical 7, high 30, medium 90, low 180; info has none). The same defaults as
/// `sluice metrics` (`sluice_metrics::security::Sla::defaults`); the server has no setting for
/// them yet. Counted in UTC days: a finding first seen on day D is within its SLA of N days
/// through day D + N and past it from day D + N + 1 on.
pub const SLA_DAYS: [(i64, i64); 4] = [(4, 7), (3, 30), (2, 90), (1, 180)];

pub fn rank_name(rank: i64) -> &'static str {
    match rank {
        4 => "critical",
        3 => "high",
        2 => "medium",
        1 => "low",
        _ => "info",
    }
}

/// Evidence and feedback to rule owners (`crate::evidence`).
impl Db {
    /// Every project's name by id.
    pub async fn project_names(&self) -> Result<std::collections::HashMap<i64, String>> {
        dispatch!(self.project_names())
    }

    /// The advisory decisions in force (for `project` and the organisation, or all of them),
    /// the findings of their advisories, and the advisories' aliases.
    pub async fn vex_inputs(
        &self,
        project: Option<i64>,
    ) -> Result<(Vec<crate::evidence::Scoped>, Vec<crate::evidence::AdvisoryFinding>, crate::evidence::Aliases)> {
        dispatch!(self.vex_inputs(project))
    }

    /// Findings per (stage, rule), and the findings decided false positives.
    pub async fn noise_inputs(
        &self,
        tool: Option<&str>,
    ) -> Result<(Vec<crate::evidence::Total>, Vec<crate::evidence::Covered>)> {
        dispatch!(self.noise_inputs(tool))
    }
}

/// What the web pages (`crate::pages`) read beyond the API's queries.
impl Db {
    /// Indexes for impact search the latest default-branch SBOMs not yet indexed (at start).
    pub async fn index_stored_sboms(&self) -> Result<usize> {
        dispatch!(self.index_stored_sboms())
    }

    /// Packages of the projects' latest default-branch SBOMs that `key` names.
    pub async fn impact_components(
        &self,
        key: &crate::evidence::ComponentKey,
        only: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<(String, i64, String, Option<String>, Option<String>)>> {
        dispatch!(self.impact_components(key, only, limit))
    }

    /// The portfolio: at most `limit` projects, filtered and sorted in the database; how many
    /// match; their open findings by severity and past their SLA, summed.
    pub async fn portfolio(
        &self,
        query: &PortfolioQuery,
    ) -> Result<(Vec<PortfolioRow>, i64, crate::model::SeverityCounts, i64)> {
        dispatch!(self.portfolio(query))
    }

    /// Brings the SLA counts kept on projects (those `only` names, or all) last counted before
    /// the UTC day `today` up to date.
    pub async fn refresh_sla(&self, only: Option<&[i64]>, today: i64) -> Result<()> {
        dispatch!(self.refresh_sla(only, today)).map(|_| ())
    }

    /// A project's weekly trend inputs from `since_day` on: (day, new, closed) rows, each ISO
    /// week's last default-branch run as (created_at, open_after), and the open findings after
    /// the last default-branch run before `since_day`.
    #[allow(clippy::type_complexity)]
    pub async fn project_weeks(
        &self,
        project_id: i64,
        since_day: i64,
    ) -> Result<(Vec<(i64, i64, i64)>, Vec<(i64, i64)>, Option<i64>)> {
        dispatch!(self.project_weeks(project_id, since_day))
    }

    /// Per project (those `only` names, or all): its open findings past their SLA
    /// ([`SLA_DAYS`]) on the UTC day `today`. Kept on the project; the projects last counted on
    /// an earlier day are recounted here and the counts kept.
    pub async fn sla_breaches(&self, only: Option<&[i64]>, today: i64) -> Result<std::collections::HashMap<i64, i64>> {
        dispatch!(self.sla_breaches(only, today))
    }

    /// Open findings by (stage, rule): (stage, rule, highest severity rank, count).
    pub async fn finding_groups(&self, project_id: i64, limit: i64) -> Result<Vec<(String, String, i64, i64)>> {
        dispatch!(self.finding_groups(project_id, limit))
    }

    /// The decisions that cover a finding, any state, with whether each is in force.
    pub async fn finding_decisions(&self, project_id: i64, finding: &Finding) -> Result<Vec<(DecisionView, bool)>> {
        dispatch!(self.finding_decisions(project_id, finding))
    }

    /// The projects with findings of an advisory, by any of its names: (project, findings,
    /// open, worst severity rank, a rule id), worst first.
    pub async fn impact_projects(
        &self,
        advisory: &str,
        only: Option<&[i64]>,
        limit: i64,
    ) -> Result<(Vec<(String, i64, i64, i64, String)>, i64)> {
        dispatch!(self.impact_projects(advisory, only, limit))
    }
}
