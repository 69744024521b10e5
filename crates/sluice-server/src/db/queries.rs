// The queries, compiled once per backend: included by `db::sqlite` and `db::postgres`, each of
// which defines `DB`, `begin` (a write transaction), `lock_audit` and `lock_project` before
// including this.
// Keep to the SQL both backends speak (see `db/mod.rs`).

use std::collections::{BTreeMap, HashMap};

use sqlx::{QueryBuilder, Row};

use super::{
    audit_hash, gzip, rank_name, severity_rank, Caller, FindingFilter, Login, Result, StoreError, AUDIT_GENESIS,
    SLA_DAYS,
};
use crate::auth::{self, Principal, Scope, TokenKind};
use crate::ingest::Prepared;
use crate::model::*;
use crate::time::{now_ms, rfc3339, DAY_MS};

type Tx = Transaction<'static, DB>;

/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const CHUNK: usize = 1000;

/// ` AND {column} IN (…ids)`, the ids bound.
fn push_in(q: &mut QueryBuilder<DB>, column: &str, ids: &[i64]) {
    q.push(format!(" AND {column} IN ("));
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    q.push(")");
}

/// Session tokens from a login last this long.
const SESSION_MS: i64 = 12 * 3600 * 1000;
/// The first admin's login token lasts this long.
const LOGIN_TOKEN_MS: i64 = 24 * 3600 * 1000;
/// Failed logins counted over this window…
const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// …at most this many per user name, and this many per address.
const LOGIN_FAILURES_PER_USER: i64 = 5;
const LOGIN_FAILURES_PER_ADDR: i64 = 20;

pub async fn ping(pool: &Pool<DB>) -> Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Appends a row to the audit chain, inside the write's own transaction.
async fn audit(tx: &mut Tx, caller: &Caller<'_>, action: &str, target: &str, detail: serde_json::Value) -> Result<()> {
    lock_audit(tx).await?;
    let prev: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let prev = prev.unwrap_or_else(|| AUDIT_GENESIS.to_owned());
    let at = now_ms();
    let actor = caller.actor();
    let detail = detail.to_string();
    let hash = audit_hash(&prev, at, &actor, action, target, caller.addr, &detail);
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, addr, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(at)
    .bind(&actor)
    .bind(action)
    .bind(target)
    .bind(caller.addr)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn bootstrap_admin(pool: &Pool<DB>) -> Result<Option<String>> {
    let mut tx = begin(pool).await?;
    // Two replicas starting at once: the audit lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite)
    // lets one of them look and create.
    lock_audit(&mut tx).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
    if users > 0 {
        return Ok(None);
    }
    let now = now_ms();
    let user_id: i64 = sqlx::query_scalar("INSERT INTO users (username, created_at) VALUES ('admin', $1) RETURNING id")
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO roles (user_id, project_id, role, created_at) VALUES ($1, NULL, 'admin', $2)")
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let token = auth::new_token(TokenKind::Login);
    sqlx::query(
        "INSERT INTO tokens (hash, kind, scope, name, user_id, created_at, expires_at) \
         VALUES ($1, 'login', 'all', 'first admin login', $2, $3, $4)",
    )
    .bind(auth::token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + LOGIN_TOKEN_MS)
    .execute(&mut *tx)
    .await?;
    let caller = Caller { principal: None, addr: "local" };
    audit(&mut tx, &caller, "user.bootstrap", "user:admin", serde_json::json!({"role": "admin"})).await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// The principal a token stands for, and whether its last use is worth recording (at most
/// once a minute; the caller records it without making the request wait for a write).
pub async fn authenticate(pool: &Pool<DB>, hash: &str) -> Result<Option<(Principal, bool)>> {
    let now = now_ms();
    // The token, its user and the user's roles in one statement (a row per role): every request
    // starts here, so it is one round trip to the database, not two.
    let rows = sqlx::query(
        "SELECT t.id, t.kind, t.scope, t.user_id, t.project_id, u.username, u.disabled, t.last_used_at, \
         r.project_id, r.role \
         FROM tokens t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN roles r ON r.user_id = u.id \
         WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(hash)
    .bind(now)
    .fetch_all(pool)
    .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let token_id: i64 = row.try_get(0)?;
    let kind: String = row.try_get(1)?;
    let scope: String = row.try_get(2)?;
    let user_id: Option<i64> = row.try_get(3)?;
    let project_id: Option<i64> = row.try_get(4)?;
    let username: Option<String> = row.try_get(5)?;
    let disabled: Option<i64> = row.try_get(6)?;
    let last_used: Option<i64> = row.try_get(7)?;
    let touch = last_used.is_none_or(|t| t < now - 60_000);
    let principal = match TokenKind::parse(&kind) {
        Some(TokenKind::Personal | TokenKind::Session) => {
            let (Some(user_id), Some(username)) = (user_id, username) else { return Ok(None) };
            if disabled.unwrap_or(0) != 0 {
                return Ok(None);
            }
            let mut roles = Vec::new();
            for row in &rows {
                let role: Option<String> = row.try_get(9)?;
                if let Some(role) = role {
                    roles.push((row.try_get::<Option<i64>, _>(8)?, role));
                }
            }
            let (org_role, project_roles) = fold_roles(roles);
            Principal::User { user_id, username, token_id, org_role, project_roles }
        }
        Some(TokenKind::Project) => {
            let Some(project_id) = project_id else { return Ok(None) };
            let scope = if scope == "push" { Scope::Push } else { Scope::Read };
            Principal::Project { token_id, project_id, scope }
        }
        Some(TokenKind::Organisation) => Principal::Organisation { token_id },
        // A login token only logs in.
        Some(TokenKind::Login) | None => return Ok(None),
    };
    Ok(Some((principal, touch)))
}

pub async fn touch_token(pool: &Pool<DB>, id: i64) -> Result<()> {
    let now = now_ms();
    sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(now)
        .bind(id)
        .bind(now - 60_000)
        .execute(pool)
        .await?;
    Ok(())
}

async fn user_roles(pool: &Pool<DB>, user_id: i64) -> Result<(Option<Role>, BTreeMap<i64, Role>)> {
    let rows: Vec<(Option<i64>, String)> = sqlx::query_as("SELECT project_id, role FROM roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    Ok(fold_roles(rows))
}

/// A user's organisation role and project roles from their (project, role) rows.
fn fold_roles(rows: Vec<(Option<i64>, String)>) -> (Option<Role>, BTreeMap<i64, Role>) {
    let mut org = None;
    let mut projects = BTreeMap::new();
    for (project, role) in rows {
        let Some(role) = Role::parse(&role) else { continue };
        match project {
            None => org = Some(role),
            Some(p) => {
                projects.insert(p, role);
            }
        }
    }
    (org, projects)
}

pub async fn login(pool: &Pool<DB>, request: &LoginRequest, addr: &str) -> Result<Login> {
    let now = now_ms();
    let username = request.username.clone().unwrap_or_default();
    let key = if request.login_token.is_some() { "(login token)".to_owned() } else { username.clone() };
    let recent_user: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $2")
        .bind(&key)
        .bind(now - LOGIN_WINDOW_MS)
        .fetch_one(pool)
        .await?;
    let recent_addr: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE addr = $1 AND at > $2")
        .bind(addr)
        .bind(now - LOGIN_WINDOW_MS)
        .fetch_one(pool)
        .await?;
    if recent_user >= LOGIN_FAILURES_PER_USER || recent_addr >= LOGIN_FAILURES_PER_ADDR {
        return Err(StoreError::RateLimited("too many failed logins; wait 15 minutes".into()));
    }

    let user: Option<(i64, String)> = if let Some(token) = &request.login_token {
        if auth::well_formed(token) {
            let mut tx = begin(pool).await?;
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT id, user_id FROM tokens WHERE hash = $1 AND kind = 'login' AND revoked_at IS NULL \
                 AND expires_at > $2",
            )
            .bind(auth::token_hash(token))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some((token_id, user_id)) => {
                    // One use: the token is spent by this login.
                    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2").bind(now).bind(token_id).execute(&mut *tx).await?;
                    let name: String =
                        sqlx::query_scalar("SELECT username FROM users WHERE id = $1").bind(user_id).fetch_one(&mut *tx).await?;
                    tx.commit().await?;
                    Some((user_id, name))
                }
                None => None,
            }
        } else {
            None
        }
    } else {
        let row: Option<(i64, Option<String>, i64)> =
            sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE username = $1")
                .bind(&username)
                .fetch_optional(pool)
                .await?;
        let password = request.password.clone().unwrap_or_default();
        match row {
            Some((id, Some(hash), 0)) if auth::verify_password(&password, &hash) => Some((id, username.clone())),
            _ => {
                // As long as a real check, whether or not the user exists.
                let _ = auth::verify_password(&password, auth::dummy_hash());
                None
            }
        }
    };

    let Some((user_id, name)) = user else {
        sqlx::query("INSERT INTO login_failures (username, addr, at) VALUES ($1, $2, $3)")
            .bind(&key)
            .bind(addr)
            .bind(now)
            .execute(pool)
            .await?;
        return Ok(Login::Refused);
    };
    Ok(Login::Token(issue_session(pool, user_id, &name, addr).await?))
}

/// A session token for a user who has logged in (by password, login token or OIDC).
async fn issue_session(pool: &Pool<DB>, user_id: i64, name: &str, addr: &str) -> Result<TokenCreated> {
    let (org_role, project_roles) = user_roles(pool, user_id).await?;
    let principal = Principal::User { user_id, username: name.to_owned(), token_id: 0, org_role, project_roles };
    let caller = Caller { principal: Some(&principal), addr };
    create_token(
        pool,
        &caller,
        TokenKind::Session,
        "all",
        "login session",
        Some(user_id),
        None,
        Some(now_ms() + SESSION_MS),
    )
    .await
}

pub async fn create_user(pool: &Pool<DB>, caller: &Caller<'_>, user: &NewUser) -> Result<User> {
    let hash = match &user.password {
        Some(p) if p.chars().count() < auth::MIN_PASSWORD => {
            return Err(StoreError::Invalid(format!("password: at least {} characters", auth::MIN_PASSWORD)))
        }
        Some(p) => Some(auth::hash_password(p).map_err(|e| StoreError::Invalid(e.to_string()))?),
        None => None,
    };
    let mut tx = begin(pool).await?;
    let inserted = sqlx::query("INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&user.username)
        .bind(&hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("user `{}` exists", user.username)));
    }
    audit(&mut tx, caller, "user.create", &format!("user:{}", user.username), serde_json::json!({})).await?;
    tx.commit().await?;
    get_user(pool, &user.username).await
}

pub async fn get_user(pool: &Pool<DB>, username: &str) -> Result<User> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as("SELECT id, disabled, created_at FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    let Some((id, disabled, created_at)) = row else {
        return Err(StoreError::NotFound(format!("no user `{username}`")));
    };
    let roles: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT p.name, r.role FROM roles r LEFT JOIN projects p ON p.id = r.project_id WHERE r.user_id = $1 \
         ORDER BY p.name, r.role",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(User {
        username: username.to_owned(),
        disabled: disabled != 0,
        created_at: rfc3339(created_at),
        roles: roles
            .into_iter()
            .filter_map(|(project, role)| Some(RoleGrant { project, role: Role::parse(&role)? }))
            .collect(),
    })
}

pub async fn list_users(pool: &Pool<DB>) -> Result<Vec<User>> {
    let names: Vec<String> = sqlx::query_scalar("SELECT username FROM users ORDER BY username").fetch_all(pool).await?;
    let mut users = Vec::with_capacity(names.len());
    for name in names {
        users.push(get_user(pool, &name).await?);
    }
    Ok(users)
}

pub async fn set_password(pool: &Pool<DB>, caller: &Caller<'_>, username: &str, password: &str) -> Result<()> {
    if password.chars().count() < auth::MIN_PASSWORD {
        return Err(StoreError::Invalid(format!("password: at least {} characters", auth::MIN_PASSWORD)));
    }
    let hash = auth::hash_password(password).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = begin(pool).await?;
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(&hash)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no user `{username}`")));
    }
    audit(&mut tx, caller, "user.password", &format!("user:{username}"), serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}

async fn ids_for_grant(tx: &mut Tx, username: &str, grant: &RoleGrant) -> Result<(i64, Option<i64>)> {
    let user: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(&mut **tx).await?;
    let user = user.ok_or_else(|| StoreError::NotFound(format!("no user `{username}`")))?;
    let project = match &grant.project {
        Some(name) => {
            let id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM projects WHERE name = $1").bind(name).fetch_optional(&mut **tx).await?;
            Some(id.ok_or_else(|| StoreError::NotFound(format!("no project `{name}`")))?)
        }
        None => None,
    };
    Ok((user, project))
}

/// Refuses a change of roles that leaves no enabled user with the organisation's admin role:
/// nobody could then manage users, roles or organisation tokens. Called after `audit`, which
/// holds the writers' lock, so two revocations cannot each leave the other's admin as the last.
async fn keep_an_admin(tx: &mut Tx) -> Result<()> {
    let admins: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM roles r JOIN users u ON u.id = r.user_id \
         WHERE r.project_id IS NULL AND r.role = 'admin' AND u.disabled = 0",
    )
    .fetch_one(&mut **tx)
    .await?;
    if admins == 0 {
        return Err(StoreError::Conflict("that would leave no admin: make another user admin first".into()));
    }
    Ok(())
}

pub async fn grant_role(pool: &Pool<DB>, caller: &Caller<'_>, username: &str, grant: &RoleGrant) -> Result<User> {
    let mut tx = begin(pool).await?;
    let (user, project) = ids_for_grant(&mut tx, username, grant).await?;
    // One role per user and scope: a new grant replaces the old one.
    sqlx::query("DELETE FROM roles WHERE user_id = $1 AND COALESCE(project_id, 0) = COALESCE($2, 0)")
        .bind(user)
        .bind(project)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO roles (user_id, project_id, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user)
        .bind(project)
        .bind(grant.role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"project": grant.project, "role": grant.role.as_str()});
    audit(&mut tx, caller, "role.grant", &format!("user:{username}"), detail).await?;
    keep_an_admin(&mut tx).await?;
    tx.commit().await?;
    get_user(pool, username).await
}

pub async fn revoke_role(pool: &Pool<DB>, caller: &Caller<'_>, username: &str, grant: &RoleGrant) -> Result<User> {
    let mut tx = begin(pool).await?;
    let (user, project) = ids_for_grant(&mut tx, username, grant).await?;
    let done = sqlx::query("DELETE FROM roles WHERE user_id = $1 AND COALESCE(project_id, 0) = COALESCE($2, 0) AND role = $3")
        .bind(user)
        .bind(project)
        .bind(grant.role.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("`{username}` does not hold that role")));
    }
    let detail = serde_json::json!({"project": grant.project, "role": grant.role.as_str()});
    audit(&mut tx, caller, "role.revoke", &format!("user:{username}"), detail).await?;
    keep_an_admin(&mut tx).await?;
    tx.commit().await?;
    get_user(pool, username).await
}

async fn insert_project(tx: &mut Tx, caller: &Caller<'_>, project: &NewProject) -> Result<i64> {
    let profile = project.profile.clone().unwrap_or_else(|| "velocity".into());
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO projects (name, default_branch, profile, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&project.name)
    .bind(&project.default_branch)
    .bind(&profile)
    .bind(now_ms())
    .fetch_optional(&mut **tx)
    .await?;
    let id = id.ok_or_else(|| StoreError::Conflict(format!("project `{}` exists", project.name)))?;
    let detail = serde_json::json!({"default_branch": project.default_branch, "profile": profile});
    audit(tx, caller, "project.create", &format!("project:{}", project.name), detail).await?;
    Ok(id)
}

pub async fn create_project(pool: &Pool<DB>, caller: &Caller<'_>, project: &NewProject) -> Result<Project> {
    let mut tx = begin(pool).await?;
    let id = insert_project(&mut tx, caller, project).await?;
    tx.commit().await?;
    get_project(pool, id).await
}

pub async fn project_id(pool: &Pool<DB>, name: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM projects WHERE name = $1").bind(name).fetch_optional(pool).await?)
}

pub async fn project_profile(pool: &Pool<DB>, name: &str) -> Result<Option<(i64, String)>> {
    Ok(sqlx::query_as("SELECT id, profile FROM projects WHERE name = $1").bind(name).fetch_optional(pool).await?)
}

pub async fn get_project(pool: &Pool<DB>, id: i64) -> Result<Project> {
    let projects = list_projects(pool, Some(&[id])).await?;
    projects.into_iter().next().ok_or_else(|| StoreError::NotFound("no such project".into()))
}

pub async fn list_projects(pool: &Pool<DB>, only: Option<&[i64]>) -> Result<Vec<Project>> {
    // The open counts are kept on the project by each push (migration 0010), not counted here:
    // a portfolio of thousands of projects is one read of `projects`.
    let mut q = QueryBuilder::<DB>::new(
        "SELECT id, name, default_branch, profile, created_at, open_critical, open_high, open_medium, open_low, \
         open_info, last_run_id FROM projects",
    );
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        q.push(" WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        q.push(")");
    }
    q.push(" ORDER BY name");
    type ProjectRow = (i64, String, Option<String>, String, i64, i64, i64, i64, i64, i64, Option<i64>);
    let rows: Vec<ProjectRow> = q.build_query_as().fetch_all(pool).await?;
    // Each project's last run, by primary key.
    let last_ids: Vec<i64> = rows.iter().filter_map(|r| r.10).collect();
    let mut last_by_project: HashMap<i64, RunSummary> = HashMap::new();
    for chunk in last_ids.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id IN ("
        ));
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        q.push(")");
        let last_runs: Vec<RunRow> = q.build_query_as().fetch_all(pool).await?;
        last_by_project.extend(last_runs.into_iter().map(|row| (row.project_id, run_summary(row))));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (id, name, default_branch, profile, created_at, critical, high, medium, low, info, _) in rows {
        out.push(Project {
            open: SeverityCounts { critical, high, medium, low, info },
            name,
            default_branch,
            profile,
            created_at: rfc3339(created_at),
            last_run: last_by_project.remove(&id),
        });
    }
    Ok(out)
}

pub async fn create_token(
    pool: &Pool<DB>,
    caller: &Caller<'_>,
    kind: TokenKind,
    scope: &str,
    name: &str,
    user_id: Option<i64>,
    project_id: Option<i64>,
    expires_at: Option<i64>,
) -> Result<TokenCreated> {
    let token = auth::new_token(kind);
    let created_by = match caller.principal {
        Some(Principal::User { user_id, .. }) => Some(*user_id),
        _ => None,
    };
    let mut tx = begin(pool).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tokens (hash, kind, scope, name, user_id, project_id, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(auth::token_hash(&token))
    .bind(kind.as_str())
    .bind(scope)
    .bind(name)
    .bind(user_id)
    .bind(project_id)
    .bind(created_by)
    .bind(now_ms())
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?;
    let detail = serde_json::json!({"kind": kind.as_str(), "scope": scope, "name": name, "project_id": project_id, "user_id": user_id});
    audit(&mut tx, caller, "token.create", &format!("token:{id}"), detail).await?;
    tx.commit().await?;
    Ok(TokenCreated { id, token, kind: kind.as_str().into(), scope: scope.into(), expires_at: expires_at.map(rfc3339) })
}

pub async fn list_tokens(pool: &Pool<DB>, project_id: Option<i64>, user_id: Option<i64>) -> Result<Vec<TokenInfo>> {
    let rows: Vec<(i64, String, String, String, Option<String>, Option<String>, i64, Option<i64>, Option<i64>, Option<i64>)> =
        sqlx::query_as(
            "SELECT t.id, t.name, t.kind, t.scope, p.name, u.username, t.created_at, t.expires_at, t.revoked_at, \
             t.last_used_at FROM tokens t LEFT JOIN projects p ON p.id = t.project_id \
             LEFT JOIN users u ON u.id = t.user_id \
             WHERE ($1 IS NULL OR t.project_id = $1) AND ($2 IS NULL OR t.user_id = $2) \
             AND t.kind NOT IN ('login', 'session') ORDER BY t.id",
        )
        .bind(project_id)
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind, scope, project, user, created, expires, revoked, used)| TokenInfo {
            id,
            name,
            kind,
            scope,
            project,
            user,
            created_at: rfc3339(created),
            expires_at: expires.map(rfc3339),
            revoked_at: revoked.map(rfc3339),
            last_used_at: used.map(rfc3339),
        })
        .collect())
}

pub async fn token_owner(pool: &Pool<DB>, id: i64) -> Result<Option<(String, Option<i64>, Option<i64>)>> {
    Ok(sqlx::query_as("SELECT kind, project_id, user_id FROM tokens WHERE id = $1").bind(id).fetch_optional(pool).await?)
}

pub async fn revoke_token(pool: &Pool<DB>, caller: &Caller<'_>, id: i64) -> Result<()> {
    let mut tx = begin(pool).await?;
    let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no live token {id}")));
    }
    audit(&mut tx, caller, "token.revoke", &format!("token:{id}"), serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A run already stored under this client id, answered as it was the first time.
/// The answer a run id already pushed to this project got, if it was.
pub async fn existing_run<'e>(
    db: impl sqlx::Executor<'e, Database = DB>,
    project_id: i64,
    project: &str,
    run_id: &str,
) -> Result<Option<PushResponse>> {
    let row: Option<(i64, i64, i64, i64, i64, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, results, new_findings, closed_findings, reintroduced, open_after, on_default, verdict \
         FROM runs WHERE project_id = $1 AND client_run_id = $2",
    )
    .bind(project_id)
    .bind(run_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(run, results, new, closed, reintroduced, open, on_default, verdict)| PushResponse {
        run,
        project: project.to_owned(),
        duplicate: true,
        results,
        new,
        closed,
        reintroduced,
        open,
        on_default_branch: on_default != 0,
        verdict,
    }))
}

pub async fn ingest(
    pool: &Pool<DB>,
    caller: &Caller<'_>,
    push: &Prepared,
    create: bool,
    verdict: &crate::ingest::VerdictSlot,
) -> Result<PushResponse> {
    let now = now_ms();
    let mut tx = begin(pool).await?;
    let row: Option<(i64, Option<String>, String)> =
        sqlx::query_as("SELECT id, default_branch, profile FROM projects WHERE name = $1")
            .bind(&push.project)
            .fetch_optional(&mut *tx)
            .await?;
    let project_id = match row {
        Some((id, _, _)) => id,
        None if create => {
            let new = NewProject { name: push.project.clone(), default_branch: push.default_branch.clone(), profile: None };
            match insert_project(&mut tx, caller, &new).await {
                Ok(id) => id,
                // Another push (another replica) created it since the SELECT above; the insert
                // waited for that commit, so the next statement sees the project.
                Err(StoreError::Conflict(_)) => {
                    sqlx::query_scalar("SELECT id FROM projects WHERE name = $1").bind(&push.project).fetch_one(&mut *tx).await?
                }
                Err(e) => return Err(e),
            }
        }
        None => return Err(StoreError::NotFound(format!("no project `{}`", push.project))),
    };
    // One push per project at a time; what the push before this one left is read after it.
    lock_project(&mut tx, project_id).await?;
    let mut default_branch: Option<String> =
        sqlx::query_scalar("SELECT default_branch FROM projects WHERE id = $1").bind(project_id).fetch_one(&mut *tx).await?;
    if let Some(done) = existing_run(&mut *tx, project_id, &push.project, &push.run_id).await? {
        return Ok(done);
    }
    // The project learns its default branch from the first push that knows it.
    if default_branch.is_none() {
        if let Some(branch) = push.default_branch.clone().or_else(|| push.merge_request.is_none().then(|| push.branch.clone()).flatten()) {
            sqlx::query("UPDATE projects SET default_branch = $1 WHERE id = $2").bind(&branch).bind(project_id).execute(&mut *tx).await?;
            default_branch = Some(branch);
        }
    }
    let on_default = push.merge_request.is_none() && push.branch.is_some() && push.branch == default_branch;
    let stages = serde_json::to_string(&push.stages).unwrap_or_else(|_| "{}".into());
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO runs (project_id, client_run_id, commit_sha, branch, merge_request, pipeline_url, on_default, \
         partial, stages, verdict, claimed_verdict, results, new_findings, closed_findings, reintroduced, open_after, \
         pushed_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, 0, 0, 0, $12, $13) \
         RETURNING id",
    )
    .bind(project_id)
    .bind(&push.run_id)
    .bind(&push.commit)
    .bind(&push.branch)
    .bind(&push.merge_request)
    .bind(&push.pipeline_url)
    .bind(i64::from(on_default))
    .bind(i64::from(push.partial))
    .bind(&stages)
    // The verdict is written with the counts at the end, when it has been computed.
    .bind(None::<String>)
    .bind(&push.claimed_verdict)
    .bind(caller.actor())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;

    // What the project knows of these fingerprints: one query, not one per finding.
    let mut known: HashMap<String, (i64, String)> = HashMap::new();
    if on_default {
        plan_with_values(&mut tx, true).await?;
        for chunk in push.findings.chunks(CHUNK) {
            let mut q = QueryBuilder::<DB>::new("SELECT fingerprint, id, state FROM findings WHERE project_id = ");
            q.push_bind(project_id);
            q.push(" AND fingerprint IN (");
            let mut sep = q.separated(", ");
            for f in chunk {
                sep.push_bind(&f.fingerprint);
            }
            q.push(")");
            let rows: Vec<(String, i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
            known.extend(rows.into_iter().map(|(fp, id, state)| (fp, (id, state))));
        }
        plan_with_values(&mut tx, false).await?;
    }

    let mut new = 0i64;
    let mut reintroduced = 0i64;
    let mut closed = 0i64;
    if on_default {
        for f in &push.findings {
            match known.get(&f.fingerprint) {
                None => new += 1,
                Some((_, state)) if state == "not_detected" => reintroduced += 1,
                Some(_) => {}
            }
        }
        // Every finding of the run, inserted or brought up to date, in a few statements.
        let mut ids: Vec<i64> = Vec::with_capacity(push.findings.len());
        for chunk in push.findings.chunks(CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO findings (project_id, fingerprint, stage, rule_id, severity, severity_rank, message, path, \
                 line, state, suppressed, first_seen_run, first_seen_at, last_seen_run, last_seen_at, reintroduced, \
                 repo_decision, repo_status, package, purl) ",
            );
            q.push_values(chunk, |mut b, f| {
                b.push_bind(project_id)
                    .push_bind(&f.fingerprint)
                    .push_bind(&f.stage)
                    .push_bind(&f.rule_id)
                    .push_bind(f.severity.as_str())
                    .push_bind(severity_rank(f.severity.as_str()))
                    .push_bind(&f.message)
                    .push_bind(&f.path)
                    .push_bind(f.line)
                    .push_bind("open")
                    .push_bind(&f.suppressed)
                    .push_bind(run_id)
                    .push_bind(now)
                    .push_bind(run_id)
                    .push_bind(now)
                    .push_bind(0i64)
                    .push_bind(&f.repo_decision)
                    .push_bind(&f.repo_status)
                    .push_bind(&f.package)
                    .push_bind(&f.purl);
            });
            q.push(
                " ON CONFLICT (project_id, fingerprint) DO UPDATE SET stage = excluded.stage, rule_id = excluded.rule_id, \
                 severity = excluded.severity, severity_rank = excluded.severity_rank, message = excluded.message, \
                 path = excluded.path, line = excluded.line, suppressed = excluded.suppressed, \
                 repo_decision = excluded.repo_decision, repo_status = excluded.repo_status, \
                 package = excluded.package, purl = excluded.purl, \
                 last_seen_run = excluded.last_seen_run, last_seen_at = excluded.last_seen_at, \
                 reintroduced = findings.reintroduced + CASE WHEN findings.state = 'not_detected' THEN 1 ELSE 0 END, \
                 state = 'open', closed_run = NULL, closed_at = NULL RETURNING id",
            );
            let chunk_ids: Vec<i64> = q.build_query_scalar().fetch_all(&mut *tx).await?;
            ids.extend(chunk_ids);
        }
        // The names each advisory goes by, for decisions that name an alias.
        let aliases: std::collections::BTreeSet<(&str, &str)> = push
            .findings
            .iter()
            .flat_map(|f| f.aliases.iter().filter(|a| **a != f.rule_id).map(|a| (a.as_str(), f.rule_id.as_str())))
            .collect();
        let aliases: Vec<(&str, &str)> = aliases.into_iter().collect();
        for chunk in aliases.chunks(CHUNK) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO advisory_aliases (alias, advisory) ");
            q.push_values(chunk, |mut b, (alias, advisory)| {
                b.push_bind(*alias).push_bind(*advisory);
            });
            q.push(" ON CONFLICT (alias, advisory) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        for chunk in ids.chunks(CHUNK) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO sightings (run_id, finding_id) ");
            q.push_values(chunk, |mut b, id| {
                b.push_bind(run_id).push_bind(*id);
            });
            q.build().execute(&mut *tx).await?;
        }
        // A stage that ran over the whole tree and succeeded says what is gone.
        for (stage, run) in &push.stages {
            if !(run.complete && run.succeeded) {
                continue;
            }
            let done = sqlx::query(
                "UPDATE findings SET state = 'not_detected', closed_run = $1, closed_at = $2 \
                 WHERE project_id = $3 AND stage = $4 AND state = 'open' AND last_seen_run <> $1",
            )
            .bind(run_id)
            .bind(now)
            .bind(project_id)
            .bind(stage)
            .execute(&mut *tx)
            .await?;
            closed += done.rows_affected() as i64;
        }
    } else {
        // A branch or merge-request run changes no finding: what it brings is counted
        // against what is open on the default branch.
        let mut open_known = 0i64;
        plan_with_values(&mut tx, true).await?;
        for chunk in push.findings.chunks(CHUNK) {
            let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM findings WHERE state = 'open' AND project_id = ");
            q.push_bind(project_id);
            q.push(" AND fingerprint IN (");
            let mut sep = q.separated(", ");
            for f in chunk {
                sep.push_bind(&f.fingerprint);
            }
            q.push(")");
            let n: i64 = q.build_query_scalar().fetch_one(&mut *tx).await?;
            open_known += n;
        }
        plan_with_values(&mut tx, false).await?;
        new = push.findings.len() as i64 - open_known;
    }
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE project_id = $1 AND state = 'open'")
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await?;
    let results = push.findings.len() as i64;
    // A verdict task that died (it cannot, short of a panic in the policy engine) leaves none.
    let verdict: Option<String> = verdict.clone().wait_for(Option::is_some).await.map(|v| v.clone().flatten()).unwrap_or(None);
    sqlx::query(
        "UPDATE runs SET results = $1, new_findings = $2, closed_findings = $3, reintroduced = $4, open_after = $5, \
         verdict = $6 WHERE id = $7",
    )
    .bind(results)
    .bind(new)
    .bind(closed)
    .bind(reintroduced)
    .bind(open)
    .bind(&verdict)
    .bind(run_id)
    .execute(&mut *tx)
    .await?;

    // What the portfolio shows, kept where it changes (migration 0010): the project's open
    // counts and last runs, and the day's new and closed findings.
    if on_default {
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT severity_rank, COUNT(*) FROM findings WHERE project_id = $1 AND state = 'open' AND suppressed IS NULL \
             GROUP BY severity_rank",
        )
        .bind(project_id)
        .fetch_all(&mut *tx)
        .await?;
        let by_rank = |wanted: i64| counts.iter().filter(|(rank, _)| (*rank).clamp(0, 4) == wanted).map(|(_, n)| n).sum::<i64>();
        sqlx::query(
            "UPDATE projects SET open_critical = $1, open_high = $2, open_medium = $3, open_low = $4, open_info = $5, \
             last_run_id = $6, last_default_run_id = $6, last_run_at = $7, default_verdict = $8 WHERE id = $9",
        )
        .bind(by_rank(4))
        .bind(by_rank(3))
        .bind(by_rank(2))
        .bind(by_rank(1))
        .bind(by_rank(0))
        .bind(run_id)
        .bind(now)
        .bind(&verdict)
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO project_days (project_id, day, new_findings, closed_findings) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, day) DO UPDATE SET new_findings = project_days.new_findings + excluded.new_findings, \
             closed_findings = project_days.closed_findings + excluded.closed_findings",
        )
        .bind(project_id)
        .bind(now.div_euclid(DAY_MS))
        .bind(new)
        .bind(closed)
        .execute(&mut *tx)
        .await?;
        keep_breaches(&mut tx, project_id, now).await?;
    } else {
        sqlx::query("UPDATE projects SET last_run_id = $1, last_run_at = $2 WHERE id = $3")
            .bind(run_id)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
    }
    // Impact search reads the latest default-branch SBOM's packages from an index.
    if on_default && push.sbom.is_some() {
        replace_components(&mut tx, project_id, run_id, &push.components).await?;
    }

    let documents = [("sarif", Some(&push.sarif)), ("sbom", push.sbom.as_ref()), ("attestation", push.attestation.as_ref())];
    for (kind, body) in documents {
        let Some(body) = body else { continue };
        use sha2::Digest;
        sqlx::query("INSERT INTO run_documents (run_id, kind, sha256, size, body) VALUES ($1, $2, $3, $4, $5)")
            .bind(run_id)
            .bind(kind)
            .bind(hex::encode(sha2::Sha256::digest(body)))
            .bind(body.len() as i64)
            .bind(gzip(body))
            .execute(&mut *tx)
            .await?;
    }
    for chunk in push.events.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("INSERT INTO events (project_id, client_id, kind, body, at) ");
        q.push_values(chunk, |mut b, e| {
            b.push_bind(project_id).push_bind(&e.id).push_bind(&e.kind).push_bind(&e.body).push_bind(e.at);
        });
        q.push(" ON CONFLICT (project_id, client_id) DO UPDATE SET kind = excluded.kind, body = excluded.body, at = excluded.at");
        q.build().execute(&mut *tx).await?;
    }
    let detail = serde_json::json!({
        "run_id": push.run_id, "branch": push.branch, "commit": push.commit, "results": results,
        "new": new, "closed": closed, "reintroduced": reintroduced, "events": push.events.len(),
    });
    audit(&mut tx, caller, "run.push", &format!("project:{}/run:{run_id}", push.project), detail).await?;
    tx.commit().await?;
    Ok(PushResponse {
        run: run_id,
        project: push.project.clone(),
        duplicate: false,
        results,
        new,
        closed,
        reintroduced,
        open,
        on_default_branch: on_default,
        verdict,
    })
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    project: String,
    commit_sha: Option<String>,
    branch: Option<String>,
    merge_request: Option<String>,
    pipeline_url: Option<String>,
    on_default: i64,
    partial: i64,
    stages: String,
    verdict: Option<String>,
    claimed_verdict: Option<String>,
    results: i64,
    new_findings: i64,
    closed_findings: i64,
    reintroduced: i64,
    open_after: i64,
    pushed_by: String,
    created_at: i64,
    project_id: i64,
}

const RUN_COLUMNS: &str = "r.id, p.name AS project, r.commit_sha, r.branch, r.merge_request, r.pipeline_url, \
     r.on_default, r.partial, r.stages, r.verdict, r.claimed_verdict, r.results, r.new_findings, r.closed_findings, \
     r.reintroduced, r.open_after, r.pushed_by, r.created_at, r.project_id";

fn run_summary(r: RunRow) -> RunSummary {
    RunSummary {
        id: r.id,
        project: r.project,
        commit: r.commit_sha,
        branch: r.branch,
        merge_request: r.merge_request,
        pipeline_url: r.pipeline_url,
        on_default_branch: r.on_default != 0,
        partial: r.partial != 0,
        stages: serde_json::from_str(&r.stages).unwrap_or_default(),
        verdict: r.verdict,
        claimed_verdict: r.claimed_verdict,
        results: r.results,
        new: r.new_findings,
        closed: r.closed_findings,
        reintroduced: r.reintroduced,
        open_after: r.open_after,
        pushed_by: r.pushed_by,
        created_at: rfc3339(r.created_at),
    }
}

/// Runs matching `condition` (on `$1`), newest first, before `before` if given.
async fn runs_where(pool: &Pool<DB>, condition: &str, value: i64, before: Option<i64>, limit: i64) -> Result<Vec<RunSummary>> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs r JOIN projects p ON p.id = r.project_id WHERE {condition} \
         AND r.id < $2 ORDER BY r.id DESC LIMIT $3"
    );
    let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(value).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(pool).await?;
    Ok(rows.into_iter().map(run_summary).collect())
}

pub async fn list_runs(pool: &Pool<DB>, project_id: i64, before: Option<i64>, limit: i64) -> Result<RunPage> {
    let mut items = runs_where(pool, "r.project_id = $1", project_id, before, limit + 1).await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(RunPage { items, next })
}

pub async fn get_run(pool: &Pool<DB>, id: i64) -> Result<(i64, RunSummary)> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = $1");
    let row: Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    let Some(row) = row else { return Err(StoreError::NotFound(format!("no run {id}"))) };
    Ok((row.project_id, run_summary(row)))
}

pub async fn run_document(pool: &Pool<DB>, run_id: i64, kind: &str) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT body FROM run_documents WHERE run_id = $1 AND kind = $2")
        .bind(run_id)
        .bind(kind)
        .fetch_optional(pool)
        .await?)
}

type FindingRowDb = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    i64,
    Option<String>,
);

const FINDING_COLUMNS: &str = "f.id, p.name, f.fingerprint, f.stage, f.rule_id, f.severity_rank, f.message, f.path, \
     f.line, f.state, f.suppressed, f.first_seen_at, f.last_seen_at, f.closed_at, f.reintroduced, f.repo_decision";

fn finding(row: FindingRowDb) -> (i64, i64, Finding) {
    let (id, project, fingerprint, stage, rule_id, rank, message, path, line, state, suppressed, first, last, closed, re, repo) =
        row;
    (
        id,
        rank,
        Finding {
            project,
            fingerprint,
            stage,
            rule_id,
            severity: rank_name(rank).to_owned(),
            message,
            path,
            line,
            state,
            suppressed,
            first_seen_at: rfc3339(first),
            last_seen_at: rfc3339(last),
            closed_at: closed.map(rfc3339),
            reintroduced: re,
            repository_decision: repo.and_then(|text| serde_json::from_str(&text).ok()),
        },
    )
}

/// Where a page of the finding list starts, in the list's order (severity_rank DESC, id ASC).
#[derive(Clone, Copy)]
enum PagePart {
    /// The first page.
    Start,
    /// After (rank, id): the rest of that rank…
    SameRank(i64, i64),
    /// …then every lower rank.
    LowerRanks(i64),
}

pub async fn list_findings(pool: &Pool<DB>, filter: &FindingFilter) -> Result<FindingPage> {
    if filter.readable.as_ref().is_some_and(Vec::is_empty) {
        return Ok(FindingPage { items: Vec::new(), next: None });
    }
    let want = filter.limit + 1;
    // A later page is two seeks, each an index range in the list's order: "this rank, id after
    // the cursor", then "lower ranks". One `(rank < r OR (rank = r AND id > i))` condition
    // would scan from the top of rank r to the cursor instead.
    let mut rows = match filter.after {
        None => finding_rows(pool, filter, PagePart::Start, want).await?,
        // A cursor below the severity floor (only a made-up one can be) ends the list: asked
        // anyway, `severity_rank = r AND severity_rank >= floor` is a contradiction the
        // planner does not see, and PostgreSQL walked the primary key to the table's end.
        Some((rank, _)) if rank < filter.min_rank => Vec::new(),
        Some((rank, id)) => {
            let mut rows = finding_rows(pool, filter, PagePart::SameRank(rank, id), want).await?;
            if (rows.len() as i64) < want {
                rows.extend(finding_rows(pool, filter, PagePart::LowerRanks(rank), want - rows.len() as i64).await?);
            }
            rows
        }
    };
    let next = if rows.len() as i64 > filter.limit {
        rows.truncate(filter.limit as usize);
        rows.last().map(|(id, rank, _)| format!("{rank}.{id}"))
    } else {
        None
    };
    Ok(FindingPage { items: rows.into_iter().map(|(_, _, f)| f).collect(), next })
}

async fn finding_rows(pool: &Pool<DB>, filter: &FindingFilter, part: PagePart, limit: i64) -> Result<Vec<(i64, i64, Finding)>> {
    let mut q = QueryBuilder::<DB>::new(format!(
        "SELECT {FINDING_COLUMNS} FROM findings f JOIN projects p ON p.id = f.project_id WHERE f.severity_rank >= "
    ));
    q.push_bind(filter.min_rank);
    if let Some(project) = filter.project_id {
        q.push(" AND f.project_id = ").push_bind(project);
    }
    if let Some(ids) = &filter.readable {
        q.push(" AND f.project_id IN (");
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        q.push(")");
    }
    if let Some(stage) = &filter.stage {
        q.push(" AND f.stage = ").push_bind(stage.clone());
    }
    if let Some(rule) = &filter.rule {
        q.push(" AND f.rule_id = ").push_bind(rule.clone());
    }
    if let Some(state) = &filter.state {
        q.push(" AND f.state = ").push_bind(state.clone());
    }
    if let Some(since) = filter.since {
        q.push(" AND f.first_seen_at >= ").push_bind(since);
    }
    match part {
        PagePart::Start => {}
        PagePart::SameRank(rank, id) => {
            q.push(" AND f.severity_rank = ").push_bind(rank);
            q.push(" AND f.id > ").push_bind(id);
        }
        PagePart::LowerRanks(rank) => {
            q.push(" AND f.severity_rank < ").push_bind(rank);
        }
    }
    q.push(" ORDER BY f.severity_rank DESC, f.id ASC LIMIT ").push_bind(limit);
    let rows: Vec<FindingRowDb> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(finding).collect())
}

pub async fn finding_detail(pool: &Pool<DB>, project_id: i64, fingerprint: &str) -> Result<FindingDetail> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS} FROM findings f JOIN projects p ON p.id = f.project_id \
         WHERE f.project_id = $1 AND f.fingerprint = $2"
    );
    let row: Option<FindingRowDb> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).bind(fingerprint).fetch_optional(pool).await?;
    let Some(row) = row else { return Err(StoreError::NotFound(format!("no finding `{fingerprint}` in this project"))) };
    let (id, _, finding) = finding(row);
    let seen_in = runs_where(pool, "r.id IN (SELECT run_id FROM sightings WHERE finding_id = $1)", id, None, 100).await?;
    Ok(FindingDetail { finding, seen_in })
}

pub async fn audit_page(pool: &Pool<DB>, after: Option<i64>, limit: i64) -> Result<AuditPage> {
    let rows: Vec<(i64, i64, String, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, at, actor, action, target, addr, detail, prev_hash, hash FROM audit_log WHERE seq > $1 \
         ORDER BY seq LIMIT $2",
    )
    .bind(after.unwrap_or(0))
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let mut items: Vec<AuditEntry> = rows
        .into_iter()
        .map(|(seq, at, actor, action, target, addr, detail, prev_hash, hash)| AuditEntry {
            seq,
            at: rfc3339(at),
            actor,
            action,
            target,
            addr,
            detail: serde_json::from_str(&detail).unwrap_or_default(),
            prev_hash,
            hash,
        })
        .collect();
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok(AuditPage { items, next })
}

pub async fn audit_verify(pool: &Pool<DB>) -> Result<AuditVerification> {
    let mut prev = AUDIT_GENESIS.to_owned();
    let mut rows = 0i64;
    let mut after = 0i64;
    loop {
        let page: Vec<(i64, i64, String, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, action, target, addr, detail, prev_hash, hash FROM audit_log WHERE seq > $1 \
             ORDER BY seq LIMIT 5000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        if page.is_empty() {
            return Ok(AuditVerification { rows, intact: true, broken_at: None });
        }
        for (seq, at, actor, action, target, addr, detail, prev_hash, hash) in page {
            let expected = audit_hash(&prev, at, &actor, &action, &target, &addr, &detail);
            if prev_hash != prev || hash != expected {
                return Ok(AuditVerification { rows, intact: false, broken_at: Some(seq) });
            }
            prev = hash;
            rows += 1;
            after = seq;
        }
    }
}

const DECISION_COLUMNS: &str = "d.id, p.name AS project, d.scope, d.fingerprint, d.rule_id, d.path_glob, d.advisory, \
     d.package, d.stage, d.status, d.vex_justification, d.reason, d.expires_at, d.severity, d.required_role, d.state, \
     d.proposed_by, d.proposed_at, d.decided_by, d.decided_role, d.decided_at, d.note, d.project_id, d.set_severity";

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    project: Option<String>,
    scope: String,
    fingerprint: Option<String>,
    rule_id: Option<String>,
    path_glob: Option<String>,
    advisory: Option<String>,
    package: Option<String>,
    stage: Option<String>,
    status: String,
    vex_justification: Option<String>,
    reason: String,
    expires_at: Option<i64>,
    severity: String,
    required_role: String,
    state: String,
    proposed_by: String,
    proposed_at: i64,
    decided_by: Option<String>,
    decided_role: Option<String>,
    decided_at: Option<i64>,
    note: Option<String>,
    project_id: Option<i64>,
    set_severity: Option<String>,
}

fn decision_view(r: DecisionRow) -> (Option<i64>, DecisionView) {
    (
        r.project_id,
        DecisionView {
            id: r.id,
            project: r.project,
            scope: r.scope,
            fingerprint: r.fingerprint,
            rule: r.rule_id,
            path: r.path_glob,
            advisory: r.advisory,
            package: r.package,
            stage: r.stage,
            status: r.status,
            vex_justification: r.vex_justification,
            reason: r.reason,
            expires: r.expires_at.map(crate::decisions::day),
            severity: r.severity,
            required_role: r.required_role,
            state: r.state,
            proposed_by: r.proposed_by,
            proposed_at: rfc3339(r.proposed_at),
            decided_by: r.decided_by,
            decided_role: r.decided_role,
            decided_at: r.decided_at.map(rfc3339),
            note: r.note,
            set_severity: r.set_severity,
        },
    )
}

async fn decision_history_row(tx: &mut Tx, id: i64, actor: &str, role: Option<&str>, action: &str, note: Option<&str>) -> Result<()> {
    sqlx::query("INSERT INTO decision_history (decision_id, at, actor, role, action, note) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(now_ms())
        .bind(actor)
        .bind(role)
        .bind(action)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn propose_decision(
    pool: &Pool<DB>,
    caller: &Caller<'_>,
    project_id: Option<i64>,
    new: &crate::decisions::Checked,
) -> Result<DecisionView> {
    let mut tx = begin(pool).await?;
    // What it covers decides who may approve it: the most severe finding it would suppress.
    let rank: Option<i64> = match (project_id, new.scope.as_str()) {
        (Some(p), "finding") => {
            let rank: Option<i64> =
                sqlx::query_scalar("SELECT severity_rank FROM findings WHERE project_id = $1 AND fingerprint = $2")
                    .bind(p)
                    .bind(&new.fingerprint)
                    .fetch_optional(&mut *tx)
                    .await?;
            Some(rank.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "fingerprint: no finding `{}` in this project",
                    new.fingerprint.as_deref().unwrap_or_default()
                ))
            })?)
        }
        (Some(p), _) => {
            let key = new.rule.clone().or_else(|| new.advisory.clone()).unwrap_or_default();
            sqlx::query_scalar("SELECT MAX(severity_rank) FROM findings WHERE project_id = $1 AND rule_id = $2")
                .bind(p)
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?
        }
        (None, _) => {
            let key = new.rule.clone().or_else(|| new.advisory.clone()).unwrap_or_default();
            sqlx::query_scalar("SELECT MAX(severity_rank) FROM findings WHERE rule_id = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    // Nothing seen yet: treated as high, so the security role decides.
    let rank = rank.unwrap_or(3);
    let required = if project_id.is_none() || rank >= 3 { Role::Security } else { Role::Champion };
    let actor = caller.actor();
    let now = now_ms();
    // With an idempotency key, a second insert does nothing (and, on PostgreSQL, waits for a
    // concurrent first one to commit); the retry then gets the decision stored first.
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO decisions (project_id, scope, fingerprint, rule_id, path_glob, advisory, package, stage, status, \
         vex_justification, reason, expires_at, severity, required_role, state, proposed_by, proposed_at, set_severity, \
         idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'proposed', $15, $16, $17, $18) \
         ON CONFLICT (proposed_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id",
    )
    .bind(project_id)
    .bind(&new.scope)
    .bind(&new.fingerprint)
    .bind(&new.rule)
    .bind(&new.path)
    .bind(&new.advisory)
    .bind(&new.package)
    .bind(&new.stage)
    .bind(&new.status)
    .bind(&new.vex_justification)
    .bind(&new.reason)
    .bind(new.expires_at)
    .bind(rank_name(rank))
    .bind(required.as_str())
    .bind(&actor)
    .bind(now)
    .bind(&new.set_severity)
    .bind(&new.idempotency_key)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        tx.rollback().await?;
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id \
             WHERE d.proposed_by = $1 AND d.idempotency_key = $2"
        );
        let row: DecisionRow =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&actor).bind(&new.idempotency_key).fetch_one(pool).await?;
        let (first_project, first) = decision_view(row);
        let same = first_project == project_id
            && first.scope == new.scope
            && first.fingerprint == new.fingerprint
            && first.rule == new.rule
            && first.path == new.path
            && first.advisory == new.advisory
            && first.package == new.package
            && first.stage == new.stage
            && first.status == new.status
            && first.reason == new.reason
            && first.set_severity == new.set_severity;
        if !same {
            return Err(StoreError::Invalid(
                "Idempotency-Key: already used for another proposal; use a new key for a new proposal".into(),
            ));
        }
        return Ok(first);
    };
    let role = caller.principal.and_then(|p| match project_id {
        Some(project) => p.role_on(project),
        None => p.org_role(),
    });
    decision_history_row(&mut tx, id, &actor, role.map(Role::as_str), "proposed", Some(&new.reason)).await?;
    let detail = serde_json::json!({"scope": new.scope, "status": new.status, "project_id": project_id, "required_role": required.as_str()});
    audit(&mut tx, caller, "decision.propose", &format!("decision:{id}"), detail).await?;
    tx.commit().await?;
    let (_, view) = get_decision_row(pool, id).await?;
    Ok(view)
}

async fn get_decision_row(pool: &Pool<DB>, id: i64) -> Result<(Option<i64>, DecisionView)> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id WHERE d.id = $1");
    let row: Option<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(decision_view).ok_or_else(|| StoreError::NotFound(format!("no decision {id}")))
}

pub async fn get_decision(pool: &Pool<DB>, id: i64) -> Result<(Option<i64>, DecisionDetail)> {
    let (project, decision) = get_decision_row(pool, id).await?;
    let rows: Vec<(i64, String, Option<String>, String, Option<String>)> = sqlx::query_as(
        "SELECT at, actor, role, action, note FROM decision_history WHERE decision_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let history = rows
        .into_iter()
        .map(|(at, actor, role, action, note)| DecisionEvent { at: rfc3339(at), actor, role, action, note })
        .collect();
    Ok((project, DecisionDetail { decision, history }))
}

/// Approves, rejects or revokes a decision. The state it must be in is part of the update, so
/// two people approving at once cannot both succeed, and nothing is lost.
pub async fn decide(pool: &Pool<DB>, caller: &Caller<'_>, id: i64, action: &str, note: Option<&str>) -> Result<DecisionView> {
    let principal = caller.principal.ok_or_else(|| StoreError::Forbidden("log in to decide".into()))?;
    let mut tx = begin(pool).await?;
    let row: Option<(Option<i64>, String, String, String)> =
        sqlx::query_as("SELECT project_id, state, required_role, proposed_by FROM decisions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((project_id, state, required, proposed_by)) = row else {
        return Err(StoreError::NotFound(format!("no decision {id}")));
    };
    let role = match project_id {
        Some(project) => principal.role_on(project),
        None => principal.org_role(),
    };
    let required = Role::parse(&required).unwrap_or(Role::Security);
    let actor = caller.actor();
    let own = actor == proposed_by;
    let enough = role.is_some_and(|r| r >= required);
    let (from, to) = match (action, state.as_str()) {
        ("approve", "proposed") | ("reject", "proposed") => {
            if own {
                return Err(StoreError::Forbidden("nobody approves or rejects their own proposal".into()));
            }
            if !enough {
                return Err(StoreError::Forbidden(format!("this decision needs the {} role", required.as_str())));
            }
            ("proposed", if action == "approve" { "approved" } else { "rejected" })
        }
        // A proposal is withdrawn by its proposer or by whoever could have approved it.
        ("revoke", "proposed") if own || enough => ("proposed", "revoked"),
        ("revoke", "approved") if enough => ("approved", "revoked"),
        ("revoke", "proposed" | "approved") => {
            return Err(StoreError::Forbidden(format!("this decision needs the {} role", required.as_str())))
        }
        (_, current) => {
            let done = match action {
                "approve" => "approved",
                "reject" => "rejected",
                _ => "revoked",
            };
            return Err(StoreError::Conflict(format!("decision {id} is {current}; it cannot be {done}")));
        }
    };
    let done = sqlx::query(
        "UPDATE decisions SET state = $1, decided_by = $2, decided_role = $3, decided_at = $4, note = $5 \
         WHERE id = $6 AND state = $7",
    )
    .bind(to)
    .bind(&actor)
    .bind(role.map(Role::as_str))
    .bind(now_ms())
    .bind(note)
    .bind(id)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!("decision {id} changed meanwhile; look again")));
    }
    decision_history_row(&mut tx, id, &actor, role.map(Role::as_str), to, note).await?;
    audit(&mut tx, caller, &format!("decision.{action}"), &format!("decision:{id}"), serde_json::json!({"note": note})).await?;
    tx.commit().await?;
    Ok(get_decision_row(pool, id).await?.1)
}

/// Decisions visible to a caller: those of `projects` (None: every project) and the
/// organisation's, newest first.
pub async fn list_decisions(
    pool: &Pool<DB>,
    projects: Option<&[i64]>,
    state: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(Option<i64>, DecisionView)>> {
    let mut q = QueryBuilder::<DB>::new(format!(
        "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id WHERE d.id < "
    ));
    q.push_bind(before.unwrap_or(i64::MAX));
    if let Some(ids) = projects {
        q.push(" AND (d.project_id IS NULL");
        for id in ids {
            q.push(" OR d.project_id = ").push_bind(*id);
        }
        q.push(")");
    }
    if let Some(state) = state {
        q.push(" AND d.state = ").push_bind(state.to_owned());
    }
    q.push(" ORDER BY d.id DESC LIMIT ").push_bind(limit);
    let rows: Vec<DecisionRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(decision_view).collect())
}

/// Approved decisions in force for a project: its own and the organisation's.
pub async fn applicable_decisions(pool: &Pool<DB>, project_id: i64) -> Result<Vec<DecisionView>> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id \
         WHERE d.state = 'approved' AND (d.project_id = $1 OR d.project_id IS NULL) \
         AND (d.expires_at IS NULL OR d.expires_at > $2) ORDER BY d.id"
    );
    let rows: Vec<DecisionRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).bind(now_ms()).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|r| decision_view(r).1).collect())
}

/// The project's own proposals awaiting approval, by id (what its merge requests wait for).
pub async fn pending_decisions(pool: &Pool<DB>, project_id: i64) -> Result<Vec<DecisionView>> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id \
         WHERE d.state = 'proposed' AND d.project_id = $1 ORDER BY d.id"
    );
    let rows: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|r| decision_view(r).1).collect())
}

/// How many OIDC logins may be in progress at once (started, not yet back): a bound on what
/// unauthenticated callers can make the database hold.
const OIDC_PENDING_MAX: i64 = 100_000;

/// Failed logins from one address over the window: refused when at the limit. Shared by the
/// password and OIDC logins.
pub async fn login_allowed(pool: &Pool<DB>, addr: &str) -> Result<()> {
    let recent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE addr = $1 AND at > $2")
        .bind(addr)
        .bind(now_ms() - LOGIN_WINDOW_MS)
        .fetch_one(pool)
        .await?;
    if recent >= LOGIN_FAILURES_PER_ADDR {
        return Err(StoreError::RateLimited("too many failed logins; wait 15 minutes".into()));
    }
    Ok(())
}

/// Counts a failed login against its key and address.
pub async fn login_failed(pool: &Pool<DB>, key: &str, addr: &str) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (username, addr, at) VALUES ($1, $2, $3)")
        .bind(key)
        .bind(addr)
        .bind(now_ms())
        .execute(pool)
        .await?;
    Ok(())
}

/// Keeps an OIDC login in progress; forgets those expired.
pub async fn oidc_begin(pool: &Pool<DB>, state_hash: &str, nonce: &str, verifier: &str, expires_at: i64) -> Result<()> {
    let now = now_ms();
    sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1").bind(now).execute(pool).await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_logins").fetch_one(pool).await?;
    if pending >= OIDC_PENDING_MAX {
        return Err(StoreError::RateLimited("too many OIDC logins in progress; retry in a few minutes".into()));
    }
    sqlx::query("INSERT INTO oidc_logins (state_hash, nonce, verifier, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(state_hash)
        .bind(nonce)
        .bind(verifier)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Takes an OIDC login in progress: (nonce, verifier, expires_at). One statement, so of two
/// callbacks with the same state (two replicas, a replay) exactly one gets it.
pub async fn oidc_take(pool: &Pool<DB>, state_hash: &str) -> Result<Option<(String, String, i64)>> {
    Ok(sqlx::query_as("DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING nonce, verifier, expires_at")
        .bind(state_hash)
        .fetch_optional(pool)
        .await?)
}

/// The user an OIDC identity is linked to, made on its first login (with no role), and a
/// session for them; refused when the user is disabled.
pub async fn oidc_login(pool: &Pool<DB>, identity: &crate::oidc::Identity, addr: &str) -> Result<Login> {
    // Two replicas logging the same new person in at once: one links, the other's insert hits
    // the key and its second try finds the link.
    let mut linked = oidc_link(pool, identity, addr).await;
    if linked.as_ref().is_err_and(StoreError::is_unique_conflict) {
        linked = oidc_link(pool, identity, addr).await;
    }
    let (user_id, name, disabled) = linked?;
    if disabled {
        return Ok(Login::Refused);
    }
    Ok(Login::Token(issue_session(pool, user_id, &name, addr).await?))
}

async fn oidc_link(pool: &Pool<DB>, identity: &crate::oidc::Identity, addr: &str) -> Result<(i64, String, bool)> {
    let now = now_ms();
    let mut tx = begin(pool).await?;
    let found: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT u.id, u.username, u.disabled FROM oidc_identities i JOIN users u ON u.id = i.user_id \
         WHERE i.issuer = $1 AND i.subject = $2",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, name, disabled, new_user) = match found {
        Some((id, name, disabled)) => {
            sqlx::query("UPDATE oidc_identities SET last_login_at = $1 WHERE issuer = $2 AND subject = $3")
                .bind(now)
                .bind(&identity.issuer)
                .bind(&identity.subject)
                .execute(&mut *tx)
                .await?;
            (id, name, disabled != 0, false)
        }
        None => {
            let hint = match crate::ingest::check_name("username", &identity.username_hint, 48) {
                Ok(()) => identity.username_hint.as_str(),
                Err(_) => "user",
            };
            let mut made = None;
            for n in 1..=100 {
                let candidate = if n == 1 { hint.to_owned() } else { format!("{hint}-{n}") };
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO users (username, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(&candidate)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = id {
                    made = Some((id, candidate));
                    break;
                }
            }
            let Some((id, name)) = made else {
                return Err(StoreError::Conflict(format!("no free user name like `{hint}`; an admin must make room")));
            };
            sqlx::query(
                "INSERT INTO oidc_identities (issuer, subject, user_id, created_at, last_login_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let caller = Caller { principal: None, addr };
            let detail = serde_json::json!({"via": "oidc", "issuer": identity.issuer, "subject": identity.subject});
            audit(&mut tx, &caller, "user.create", &format!("user:{name}"), detail).await?;
            (id, name, false, true)
        }
    };
    let principal = Principal::User {
        user_id,
        username: name.clone(),
        token_id: 0,
        org_role: None,
        project_roles: BTreeMap::new(),
    };
    let caller = Caller { principal: Some(&principal), addr };
    let detail = serde_json::json!({
        "method": "oidc", "issuer": identity.issuer, "subject": identity.subject,
        "new_user": new_user, "refused": disabled.then_some("user disabled"),
    });
    audit(&mut tx, &caller, "user.login", &format!("user:{name}"), detail).await?;
    tx.commit().await?;
    Ok((user_id, name, disabled))
}

/// The secret stored as `name`: the one given, unless another was stored first (a replica
/// starting at the same time), then that one.
pub async fn secret_insert_if_absent(
    pool: &Pool<DB>,
    name: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    sqlx::query(
        "INSERT INTO server_secrets (name, nonce, ciphertext, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(nonce)
    .bind(ciphertext)
    .bind(now_ms())
    .execute(pool)
    .await?;
    let row: (Vec<u8>, Vec<u8>) = sqlx::query_as("SELECT nonce, ciphertext FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(row)
}

/// Every decision with its full history, by id: what the signed decision log export holds.
pub async fn decision_log(pool: &Pool<DB>) -> Result<Vec<(Option<i64>, DecisionDetail)>> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id ORDER BY d.id");
    let rows: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
    let events: Vec<(i64, i64, String, Option<String>, String, Option<String>)> = sqlx::query_as(
        "SELECT decision_id, at, actor, role, action, note FROM decision_history ORDER BY decision_id, id",
    )
    .fetch_all(pool)
    .await?;
    let mut history: HashMap<i64, Vec<DecisionEvent>> = HashMap::new();
    for (id, at, actor, role, action, note) in events {
        history.entry(id).or_default().push(DecisionEvent { at: rfc3339(at), actor, role, action, note });
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (project, decision) = decision_view(r);
            let history = history.remove(&decision.id).unwrap_or_default();
            (project, DecisionDetail { decision, history })
        })
        .collect())
}

/// Every project's name by id.
pub async fn project_names(pool: &Pool<DB>) -> Result<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM projects").fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// `advisory_aliases` rows that name any of `names`, as alias or as advisory.
async fn alias_rows(pool: &Pool<DB>, names: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in names.chunks(CHUNK / 2) {
        let mut q = QueryBuilder::<DB>::new("SELECT alias, advisory FROM advisory_aliases WHERE alias IN (");
        let mut sep = q.separated(", ");
        for n in chunk {
            sep.push_bind(n.clone());
        }
        q.push(") OR advisory IN (");
        let mut sep = q.separated(", ");
        for n in chunk {
            sep.push_bind(n.clone());
        }
        q.push(")");
        let rows: Vec<(String, String)> = q.build_query_as().fetch_all(pool).await?;
        out.extend(rows);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The names of the advisories `names` stand for, and every alias of those advisories.
async fn advisory_names(pool: &Pool<DB>, names: &[String]) -> Result<(Vec<String>, crate::evidence::Aliases)> {
    let first = alias_rows(pool, names).await?;
    let mut all: std::collections::BTreeSet<String> = names.iter().cloned().collect();
    for (alias, advisory) in &first {
        all.insert(alias.clone());
        all.insert(advisory.clone());
    }
    let all: Vec<String> = all.into_iter().collect();
    let rows = alias_rows(pool, &all).await?;
    let aliases = crate::evidence::Aliases::new(&rows);
    let mut ids: std::collections::BTreeSet<String> = all.into_iter().collect();
    for (alias, advisory) in rows {
        ids.insert(alias);
        ids.insert(advisory);
    }
    Ok((ids.into_iter().collect(), aliases))
}

/// What the OpenVEX export says: the advisory decisions in force (of `project` and the
/// organisation's, or every one), the findings of those advisories (in `project`, or
/// anywhere), and the advisories' aliases.
pub async fn vex_inputs(
    pool: &Pool<DB>,
    project: Option<i64>,
) -> Result<(Vec<crate::evidence::Scoped>, Vec<crate::evidence::AdvisoryFinding>, crate::evidence::Aliases)> {
    let mut q = QueryBuilder::<DB>::new(format!(
        "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id \
         WHERE d.state = 'approved' AND d.scope = 'advisory' AND (d.expires_at IS NULL OR d.expires_at > "
    ));
    q.push_bind(now_ms()).push(")");
    if let Some(p) = project {
        q.push(" AND (d.project_id IS NULL OR d.project_id = ").push_bind(p).push(")");
    }
    q.push(" ORDER BY d.id");
    let rows: Vec<DecisionRow> = q.build_query_as().fetch_all(pool).await?;
    let decisions: Vec<crate::evidence::Scoped> = rows.into_iter().map(decision_view).collect();
    let names: Vec<String> = decisions.iter().filter_map(|(_, d)| d.advisory.clone()).collect();
    if names.is_empty() {
        return Ok((decisions, Vec::new(), crate::evidence::Aliases::default()));
    }
    let (ids, aliases) = advisory_names(pool, &names).await?;
    let mut findings = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "SELECT DISTINCT project_id, rule_id, package, purl FROM findings WHERE rule_id IN (",
        );
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(id.clone());
        }
        q.push(")");
        if let Some(p) = project {
            q.push(" AND project_id = ").push_bind(p);
        }
        let rows: Vec<(i64, String, Option<String>, Option<String>)> = q.build_query_as().fetch_all(pool).await?;
        findings.extend(rows.into_iter().map(|(project_id, rule_id, package, purl)| {
            crate::evidence::AdvisoryFinding { project_id, rule_id, package, purl }
        }));
    }
    findings.sort();
    findings.dedup();
    Ok((decisions, findings, aliases))
}

/// What the noise report counts: findings per (stage, rule), and the findings decided false
/// positives, each once (`tool`: one stage only).
pub async fn noise_inputs(
    pool: &Pool<DB>,
    tool: Option<&str>,
) -> Result<(Vec<crate::evidence::Total>, Vec<crate::evidence::Covered>)> {
    use crate::evidence::{package_matches, path_glob, Covered, Total};
    let mut q = QueryBuilder::<DB>::new(
        "SELECT stage, rule_id, COUNT(*), COUNT(DISTINCT project_id) FROM findings",
    );
    if let Some(t) = tool {
        q.push(" WHERE stage = ").push_bind(t.to_owned());
    }
    q.push(" GROUP BY rule_id, stage");
    let rows: Vec<(String, String, i64, i64)> = q.build_query_as().fetch_all(pool).await?;
    let totals: Vec<Total> = rows
        .into_iter()
        .map(|(stage, rule_id, findings, projects)| Total { stage, rule_id, findings, projects })
        .collect();

    // The decisions that call something a false positive now.
    let decisions: Vec<(Option<i64>, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as(
            "SELECT project_id, scope, fingerprint, rule_id, path_glob, advisory, package, stage FROM decisions \
             WHERE state = 'approved' AND status = 'false_positive' AND (expires_at IS NULL OR expires_at > $1) \
             ORDER BY id",
        )
        .bind(now_ms())
        .fetch_all(pool)
        .await?;
    // Finding ids already counted, with what they count as.
    let mut covered: HashMap<i64, Covered> = HashMap::new();
    let stage_ok = |wanted: &Option<String>, stage: &str| wanted.as_deref().is_none_or(|w| w == stage);

    // One finding each.
    let by_finding: Vec<_> = decisions.iter().filter(|d| d.1 == "finding" && d.0.is_some() && d.2.is_some()).collect();
    for chunk in by_finding.chunks(CHUNK / 2) {
        let mut q =
            QueryBuilder::<DB>::new("SELECT id, project_id, stage, rule_id, fingerprint FROM findings WHERE ");
        for (i, d) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(project_id = ").push_bind(d.0.unwrap_or_default());
            q.push(" AND fingerprint = ").push_bind(d.2.clone().unwrap_or_default()).push(")");
        }
        let rows: Vec<(i64, i64, String, String, String)> = q.build_query_as().fetch_all(pool).await?;
        for (id, project_id, stage, rule_id, fingerprint) in rows {
            let decided = chunk
                .iter()
                .any(|d| d.0 == Some(project_id) && d.2.as_deref() == Some(fingerprint.as_str()) && stage_ok(&d.7, &stage));
            if decided && tool.is_none_or(|t| t == stage) {
                covered.insert(id, Covered { project_id, stage, rule_id });
            }
        }
    }

    // A rule in files a glob matches; an advisory in a package. Both read the findings of the
    // rules they name (an advisory's findings have its id, or an alias, as their rule), each
    // rule's findings once: all of them when an organisation-wide decision names the rule, else
    // only those of the projects whose decisions name it.
    enum Cover {
        Rule { project: Option<i64>, glob: Option<globset::GlobMatcher>, stage: Option<String> },
        Advisory { project: Option<i64>, package: String, stage: Option<String> },
    }
    let mut by_rule: HashMap<String, Vec<Cover>> = HashMap::new();
    for d in decisions.iter().filter(|d| d.1 == "rule") {
        let Some(rule) = d.3.clone() else { continue };
        // `**` (the default) is every finding of the rule, those without a path too.
        let glob = match d.4.as_deref() {
            None | Some("**") => None,
            Some(g) => match path_glob(g) {
                Some(m) => Some(m),
                None => continue,
            },
        };
        by_rule.entry(rule).or_default().push(Cover::Rule { project: d.0, glob, stage: d.7.clone() });
    }
    let advisory_decisions: Vec<_> = decisions.iter().filter(|d| d.1 == "advisory" && d.5.is_some() && d.6.is_some()).collect();
    if !advisory_decisions.is_empty() {
        let keys: Vec<String> = advisory_decisions.iter().filter_map(|d| d.5.clone()).collect();
        let (_, aliases) = advisory_names(pool, &keys).await?;
        for d in advisory_decisions {
            for name in aliases.of(d.5.as_deref().unwrap_or_default()) {
                by_rule.entry(name).or_default().push(Cover::Advisory {
                    project: d.0,
                    package: d.6.clone().unwrap_or_default(),
                    stage: d.7.clone(),
                });
            }
        }
    }
    let project_of = |c: &Cover| match c {
        Cover::Rule { project, .. } | Cover::Advisory { project, .. } => *project,
    };
    let mut everywhere: Vec<String> = Vec::new();
    let mut in_projects: Vec<(String, i64)> = Vec::new();
    for (rule, covers) in &by_rule {
        if covers.iter().any(|c| project_of(c).is_none()) {
            everywhere.push(rule.clone());
        } else {
            let projects: std::collections::BTreeSet<i64> = covers.iter().filter_map(project_of).collect();
            in_projects.extend(projects.into_iter().map(|p| (rule.clone(), p)));
        }
    }
    everywhere.sort();
    in_projects.sort();
    let columns = "SELECT id, project_id, stage, rule_id, path, package, purl FROM findings WHERE ";
    let mut batches: Vec<QueryBuilder<DB>> = Vec::new();
    for chunk in everywhere.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(columns);
        q.push("rule_id IN (");
        let mut sep = q.separated(", ");
        for r in chunk {
            sep.push_bind(r.clone());
        }
        q.push(")");
        batches.push(q);
    }
    for chunk in in_projects.chunks(CHUNK / 2) {
        let mut q = QueryBuilder::<DB>::new(columns);
        q.push("(");
        for (i, (rule, project)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(rule_id = ").push_bind(rule.clone());
            q.push(" AND project_id = ").push_bind(*project).push(")");
        }
        q.push(")");
        batches.push(q);
    }
    for mut q in batches {
        if let Some(t) = tool {
            q.push(" AND stage = ").push_bind(t.to_owned());
        }
        let rows: Vec<(i64, i64, String, String, Option<String>, Option<String>, Option<String>)> =
            q.build_query_as().fetch_all(pool).await?;
        for (id, project_id, stage, rule_id, path, package, purl) in rows {
            if covered.contains_key(&id) {
                continue;
            }
            let Some(covers) = by_rule.get(&rule_id) else { continue };
            let hit = covers.iter().any(|c| match c {
                Cover::Rule { project, glob, stage: st } => {
                    project.is_none_or(|p| p == project_id)
                        && stage_ok(st, &stage)
                        && glob.as_ref().is_none_or(|g| path.as_deref().is_some_and(|path| g.is_match(path)))
                }
                Cover::Advisory { project, package: wanted, stage: st } => {
                    project.is_none_or(|p| p == project_id)
                        && stage_ok(st, &stage)
                        && package_matches(wanted, package.as_deref(), purl.as_deref())
                }
            });
            if hit {
                covered.insert(id, Covered { project_id, stage, rule_id });
            }
        }
    }

    // What repositories decided in their own triage files.
    let mut q = QueryBuilder::<DB>::new(
        "SELECT id, project_id, stage, rule_id FROM findings WHERE repo_status = 'false_positive'",
    );
    if let Some(t) = tool {
        q.push(" AND stage = ").push_bind(t.to_owned());
    }
    let rows: Vec<(i64, i64, String, String)> = q.build_query_as().fetch_all(pool).await?;
    for (id, project_id, stage, rule_id) in rows {
        covered.entry(id).or_insert(Covered { project_id, stage, rule_id });
    }
    let mut covered: Vec<Covered> = covered.into_values().collect();
    covered.sort();
    Ok((totals, covered))
}

// ---------------------------------------------------------------------------------------------
// The web pages (`crate::pages`): what they show beyond what the API answers.

/// A project's indexed SBOM packages become `components`, from run `run_id`'s SBOM.
async fn replace_components(
    tx: &mut Tx,
    project_id: i64,
    run_id: i64,
    components: &[crate::evidence::Component],
) -> Result<()> {
    sqlx::query("DELETE FROM sbom_components WHERE project_id = $1").bind(project_id).execute(&mut **tx).await?;
    for chunk in components.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO sbom_components (project_id, run_id, name, version, purl, name_key, purl_key, purl_name) ",
        );
        q.push_values(chunk, |mut b, c| {
            let (name_key, purl_key, purl_name) = c.keys();
            b.push_bind(project_id)
                .push_bind(run_id)
                .push_bind(&c.name)
                .push_bind(&c.version)
                .push_bind(&c.purl)
                .push_bind(name_key)
                .push_bind(purl_key)
                .push_bind(purl_name);
        });
        q.build().execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE projects SET components_run_id = $1 WHERE id = $2").bind(run_id).bind(project_id).execute(&mut **tx).await?;
    Ok(())
}

/// Indexes the SBOMs stored before the index existed (or by a replica that did not keep it):
/// each project whose latest default-branch SBOM is not the one indexed. Run at start; a push
/// indexing a newer SBOM meanwhile is not undone (checked under the project's lock).
pub async fn index_stored_sboms(pool: &Pool<DB>) -> Result<usize> {
    let todo: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT p.id, x.run FROM projects p JOIN (SELECT r.project_id, MAX(r.id) AS run FROM runs r \
         JOIN run_documents d ON d.run_id = r.id AND d.kind = 'sbom' WHERE r.on_default = 1 GROUP BY r.project_id) x \
         ON x.project_id = p.id WHERE p.components_run_id IS NULL OR p.components_run_id < x.run",
    )
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for (project_id, run_id) in todo {
        let mut tx = begin(pool).await?;
        lock_project(&mut tx, project_id).await?;
        let indexed: Option<i64> = sqlx::query_scalar("SELECT components_run_id FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await?;
        if indexed.is_some_and(|i| i >= run_id) {
            continue;
        }
        let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM run_documents WHERE run_id = $1 AND kind = 'sbom'")
            .bind(run_id)
            .fetch_one(&mut *tx)
            .await?;
        let components = super::gunzip_json(&body).map(|doc| crate::evidence::sbom_components(&doc)).unwrap_or_default();
        replace_components(&mut tx, project_id, run_id, &components).await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Packages of the projects' latest default-branch SBOMs that `key` names, in the projects
/// `only` names: (project, run id, name, version, purl), at most `limit`.
pub async fn impact_components(
    pool: &Pool<DB>,
    key: &crate::evidence::ComponentKey,
    only: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<(String, i64, String, Option<String>, Option<String>)>> {
    use crate::evidence::ComponentKey;
    if only.is_some_and(<[i64]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<DB>::new(
        "SELECT p.name, c.run_id, c.name, c.version, c.purl FROM sbom_components c JOIN projects p ON p.id = c.project_id WHERE ",
    );
    match key {
        ComponentKey::Purl(purl) => {
            q.push("c.purl_key = ").push_bind(purl.clone());
        }
        ComponentKey::Name(name) => {
            q.push("(c.name_key = ").push_bind(name.clone()).push(" OR c.purl_name = ").push_bind(name.clone()).push(")");
        }
    }
    if let Some(ids) = only {
        push_in(&mut q, "c.project_id", ids);
    }
    q.push(" ORDER BY p.name, c.name, c.version LIMIT ").push_bind(limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The portfolio, from what each push keeps on its project (migration 0010): one query for the
/// page's rows (filtered, sorted and cut in the database, so a page view moves at most `limit`
/// rows, not one per project per table), one for the totals.
pub async fn portfolio(
    pool: &Pool<DB>,
    query: &super::PortfolioQuery,
) -> Result<(Vec<super::PortfolioRow>, i64, SeverityCounts, i64)> {
    if query.readable.as_ref().is_some_and(Vec::is_empty) {
        return Ok((Vec::new(), 0, SeverityCounts::default(), 0));
    }
    fn conditions(q: &mut QueryBuilder<DB>, query: &super::PortfolioQuery) {
        q.push(" WHERE 1 = 1");
        if let Some(ids) = &query.readable {
            push_in(q, "p.id", ids);
        }
        if let Some(text) = &query.name_contains {
            let escaped: String = text
                .to_ascii_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            q.push(" AND LOWER(p.name) LIKE ").push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
        }
        let open = ["p.open_critical", "p.open_high", "p.open_medium", "p.open_low"];
        if (1..=4).contains(&query.min_rank) {
            let wanted = &open[..(5 - query.min_rank) as usize];
            q.push(format!(" AND ({}) > 0", wanted.join(" + ")));
        }
        match query.verdict.as_deref() {
            None => {}
            Some("none") => {
                q.push(" AND p.default_verdict IS NULL");
            }
            Some(v) => {
                q.push(" AND p.default_verdict = ").push_bind(v.to_owned());
            }
        }
    }
    let mut q = QueryBuilder::<DB>::new(
        "SELECT p.name, p.open_critical, p.open_high, p.open_medium, p.open_low, p.open_info, \
         CAST(COALESCE(w.new, 0) AS BIGINT), CAST(COALESCE(w.fixed, 0) AS BIGINT), p.last_default_run_id, \
         p.default_verdict, p.last_run_id, p.last_run_at, p.sla_breaches FROM projects p \
         LEFT JOIN (SELECT project_id, SUM(new_findings) AS new, SUM(closed_findings) AS fixed FROM project_days \
         WHERE day >= ",
    );
    q.push_bind(query.since_day);
    q.push(
        " GROUP BY project_id) w ON w.project_id = p.id",
    );
    conditions(&mut q, query);
    q.push(match query.sort.as_str() {
        "name" => " ORDER BY p.name",
        "open" => " ORDER BY p.open_critical + p.open_high + p.open_medium + p.open_low + p.open_info DESC, p.name",
        "new" => " ORDER BY COALESCE(w.new, 0) DESC, p.name",
        "fixed" => " ORDER BY COALESCE(w.fixed, 0) DESC, p.name",
        "last_run" => " ORDER BY COALESCE(p.last_run_id, 0) DESC, p.name",
        "sla" => " ORDER BY p.sla_breaches DESC, p.name",
        _ => " ORDER BY p.open_critical DESC, p.open_high DESC, p.open_medium DESC, p.open_low DESC, p.open_info DESC, p.name",
    });
    q.push(" LIMIT ").push_bind(query.limit).push(" OFFSET ").push_bind(query.offset);
    type Row = (String, i64, i64, i64, i64, i64, i64, i64, Option<i64>, Option<String>, Option<i64>, Option<i64>, i64);
    let rows: Vec<Row> = q.build_query_as().fetch_all(pool).await?;
    let rows = rows
        .into_iter()
        .map(|(name, critical, high, medium, low, info, new_week, fixed_week, default_run, verdict, last, last_at, past_sla)| {
            super::PortfolioRow {
                name,
                open: SeverityCounts { critical, high, medium, low, info },
                new_week,
                fixed_week,
                default_run: default_run.map(|id| (id, verdict)),
                last_run: last.zip(last_at),
                past_sla,
            }
        })
        .collect();
    let mut q = QueryBuilder::<DB>::new(
        "SELECT COUNT(*), CAST(COALESCE(SUM(p.open_critical), 0) AS BIGINT), CAST(COALESCE(SUM(p.open_high), 0) AS BIGINT), \
         CAST(COALESCE(SUM(p.open_medium), 0) AS BIGINT), CAST(COALESCE(SUM(p.open_low), 0) AS BIGINT), \
         CAST(COALESCE(SUM(p.open_info), 0) AS BIGINT), CAST(COALESCE(SUM(p.sla_breaches), 0) AS BIGINT) \
         FROM projects p",
    );
    conditions(&mut q, query);
    let (total, critical, high, medium, low, info, past_sla): (i64, i64, i64, i64, i64, i64, i64) =
        q.build_query_as().fetch_one(pool).await?;
    Ok((rows, total, SeverityCounts { critical, high, medium, low, info }, past_sla))
}

/// One project's default-branch history from the UTC day `since_day` on, for the weekly trend:
/// its `project_days` rows (day, new, closed), the last default-branch run of each ISO week
/// (weeks start on Mondays, UTC) as (created_at, open_after), oldest first, and the open
/// findings after its last default-branch run before the window (None: there was none).
#[allow(clippy::type_complexity)]
pub async fn project_weeks(
    pool: &Pool<DB>,
    project_id: i64,
    since_day: i64,
) -> Result<(Vec<(i64, i64, i64)>, Vec<(i64, i64)>, Option<i64>)> {
    let days: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT day, new_findings, closed_findings FROM project_days WHERE project_id = $1 AND day >= $2 ORDER BY day",
    )
    .bind(project_id)
    .bind(since_day)
    .fetch_all(pool)
    .await?;
    let since = since_day * DAY_MS;
    // Day 0 (1970-01-01) was a Thursday: (day + 3) / 7 numbers the weeks from Monday.
    let ends: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT created_at, open_after FROM runs WHERE id IN (SELECT MAX(id) FROM runs \
         WHERE project_id = $1 AND on_default = 1 AND created_at >= $2 GROUP BY (created_at / 86400000 + 3) / 7) \
         ORDER BY id",
    )
    .bind(project_id)
    .bind(since)
    .fetch_all(pool)
    .await?;
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT open_after FROM runs WHERE project_id = $1 AND on_default = 1 AND created_at < $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(project_id)
    .bind(since)
    .fetch_optional(pool)
    .await?;
    Ok((days, ends, before))
}

/// Each project's (of `ids`, at most [`CHUNK`]) open findings past their SLA on the UTC day
/// `today`: one range of `findings_open_age` per project and severity, as (project, count).
async fn count_breaches<'e, E: sqlx::Executor<'e, Database = DB>>(e: E, ids: &[i64], today: i64) -> Result<Vec<(i64, i64)>> {
    let mut q = QueryBuilder::<DB>::new("SELECT p.id, ");
    for (i, (rank, days)) in SLA_DAYS.iter().enumerate() {
        if i > 0 {
            q.push(" + ");
        }
        q.push(format!(
            "(SELECT COUNT(*) FROM findings f WHERE f.project_id = p.id AND f.state = 'open' AND f.suppressed IS NULL \
             AND f.severity_rank = {rank} AND f.first_seen_at < "
        ));
        q.push_bind((today - days) * DAY_MS);
        q.push(")");
    }
    q.push(" FROM projects p WHERE p.id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    q.push(")");
    Ok(q.build_query_as().fetch_all(e).await?)
}

/// Recounts a project's SLA breaches for today, in a push's transaction.
async fn keep_breaches(tx: &mut Tx, project_id: i64, now: i64) -> Result<()> {
    let today = now.div_euclid(DAY_MS);
    let n = count_breaches(&mut **tx, &[project_id], today).await?.first().map_or(0, |(_, n)| *n);
    sqlx::query("UPDATE projects SET sla_breaches = $1, sla_day = $2 WHERE id = $3")
        .bind(n)
        .bind(today)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn sla_breaches(pool: &Pool<DB>, only: Option<&[i64]>, today: i64) -> Result<HashMap<i64, i64>> {
    let mut out = refresh_sla(pool, only, today).await?;
    let mut q = QueryBuilder::<DB>::new("SELECT id, sla_breaches FROM projects WHERE sla_day = ");
    q.push_bind(today);
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        push_in(&mut q, "id", ids);
    }
    let rows: Vec<(i64, i64)> = q.build_query_as().fetch_all(pool).await?;
    for (id, kept) in rows {
        out.entry(id).or_insert(kept);
    }
    Ok(out)
}

/// Recounts the SLA breaches of the projects (those `only` names, or all) last counted before
/// the UTC day `today` — on most views none — and keeps the counts; returns what it counted.
pub async fn refresh_sla(pool: &Pool<DB>, only: Option<&[i64]>, today: i64) -> Result<HashMap<i64, i64>> {
    let mut q = QueryBuilder::<DB>::new("SELECT id FROM projects WHERE sla_day < ");
    q.push_bind(today);
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        push_in(&mut q, "id", ids);
    }
    let stale: Vec<i64> = q.build_query_scalar().fetch_all(pool).await?;
    // Counted on an earlier day (or never): recounted, 1,000 projects a statement.
    let mut recounted = Vec::with_capacity(stale.len());
    for chunk in stale.chunks(CHUNK) {
        recounted.extend(count_breaches(pool, chunk, today).await?);
    }
    if !recounted.is_empty() {
        // Kept only where no push has counted today since (a push counts what it wrote).
        let kept = async {
            let mut tx = begin(pool).await?;
            for (id, n) in &recounted {
                sqlx::query("UPDATE projects SET sla_breaches = $1, sla_day = $2 WHERE id = $3 AND sla_day < $2")
                    .bind(*n)
                    .bind(today)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        };
        // The counts are right either way; a page that reads the kept ones (the portfolio)
        // shows the day before's until a later view keeps them.
        if let Err(e) = kept.await {
            tracing::warn!(error = %e, "keeping recounted SLA breaches");
        }
    }
    Ok(recounted.into_iter().collect())
}

/// A project's open findings by (stage, rule): highest severity rank, how many; most severe
/// and most numerous first, at most `limit` groups.
pub async fn finding_groups(pool: &Pool<DB>, project_id: i64, limit: i64) -> Result<Vec<(String, String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT stage, rule_id, MAX(severity_rank) AS top, COUNT(*) AS n FROM findings \
         WHERE project_id = $1 AND state = 'open' GROUP BY stage, rule_id ORDER BY top DESC, n DESC, stage, rule_id LIMIT $2",
    )
    .bind(project_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Every decision (any state) of a finding's project or the organisation that covers the
/// finding, as `sluice run` would match it (fingerprint; rule and path glob; advisory, by any
/// alias, and package), newest first, with whether it is in force (approved, not expired).
pub async fn finding_decisions(pool: &Pool<DB>, project_id: i64, finding: &Finding) -> Result<Vec<(DecisionView, bool)>> {
    use crate::evidence::{package_matches, path_glob};
    let (package, purl): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT package, purl FROM findings WHERE project_id = $1 AND fingerprint = $2")
            .bind(project_id)
            .bind(&finding.fingerprint)
            .fetch_optional(pool)
            .await?
            .unwrap_or((None, None));
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decisions d LEFT JOIN projects p ON p.id = d.project_id \
         WHERE (d.project_id = $1 OR d.project_id IS NULL) \
         AND ((d.scope = 'finding' AND d.fingerprint = $2) OR (d.scope = 'rule' AND d.rule_id = $3) OR d.scope = 'advisory') \
         ORDER BY d.id DESC LIMIT 1000"
    );
    let rows: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(project_id)
        .bind(&finding.fingerprint)
        .bind(&finding.rule_id)
        .fetch_all(pool)
        .await?;
    let views: Vec<DecisionView> = rows.into_iter().map(|r| decision_view(r).1).collect();
    let advisories: Vec<String> = views.iter().filter(|d| d.scope == "advisory").filter_map(|d| d.advisory.clone()).collect();
    let aliases = if advisories.is_empty() { None } else { Some(advisory_names(pool, &advisories).await?.1) };
    let today = crate::decisions::day(now_ms());
    let mut out = Vec::new();
    for d in views {
        if d.stage.as_deref().is_some_and(|s| s != finding.stage) {
            continue;
        }
        let covers = match d.scope.as_str() {
            "finding" => true,
            "rule" => match d.path.as_deref() {
                None | Some("**") => true,
                Some(g) => path_glob(g).is_some_and(|m| finding.path.as_deref().is_some_and(|p| m.is_match(p))),
            },
            _ => {
                let named = d.advisory.as_deref().unwrap_or_default();
                let names = aliases.as_ref().map(|a| a.of(named)).unwrap_or_default();
                (named == finding.rule_id || names.contains(&finding.rule_id))
                    && d.package.as_deref().is_some_and(|w| package_matches(w, package.as_deref(), purl.as_deref()))
            }
        };
        if covers {
            let in_force = d.state == "approved" && d.expires.as_deref().is_none_or(|e| e > today.as_str());
            out.push((d, in_force));
        }
    }
    Ok(out)
}

/// The projects (of those `only` names) with findings of an advisory, by any of its names: (project,
/// findings, open findings, worst severity rank, a rule id it goes by there), worst first, at
/// most `limit`. Counted in the database from the covering index `findings_impact`, so an
/// advisory every project has is one index range, not a row read per finding.
/// Also how many projects there are in all (more than `limit` rows: counted apart).
pub async fn impact_projects(
    pool: &Pool<DB>,
    advisory: &str,
    only: Option<&[i64]>,
    limit: i64,
) -> Result<(Vec<(String, i64, i64, i64, String)>, i64)> {
    if only.is_some_and(<[i64]>::is_empty) {
        return Ok((Vec::new(), 0));
    }
    let (names, _) = advisory_names(pool, &[advisory.to_owned()]).await?;
    let mut q = QueryBuilder::<DB>::new(
        "SELECT p.name, COUNT(*), CAST(SUM(CASE WHEN f.state = 'open' THEN 1 ELSE 0 END) AS BIGINT), \
         MAX(f.severity_rank), MIN(f.rule_id) FROM findings f JOIN projects p ON p.id = f.project_id WHERE f.rule_id IN (",
    );
    let mut sep = q.separated(", ");
    for n in names.iter().take(CHUNK / 2) {
        sep.push_bind(n.clone());
    }
    q.push(")");
    if let Some(ids) = only {
        q.push(" AND f.project_id IN (");
        let mut sep = q.separated(", ");
        for id in ids.iter().take(CHUNK) {
            sep.push_bind(*id);
        }
        q.push(")");
    }
    q.push(" GROUP BY p.name ORDER BY 4 DESC, 3 DESC, 1 LIMIT ").push_bind(limit);
    let rows = q.build_query_as().fetch_all(pool).await?;
    if (rows.len() as i64) < limit {
        let n = rows.len() as i64;
        return Ok((rows, n));
    }
    let mut q = QueryBuilder::<DB>::new("SELECT COUNT(DISTINCT project_id) FROM findings WHERE rule_id IN (");
    let mut sep = q.separated(", ");
    for n in names.iter().take(CHUNK / 2) {
        sep.push_bind(n.clone());
    }
    q.push(")");
    if let Some(ids) = only {
        q.push(" AND project_id IN (");
        let mut sep = q.separated(", ");
        for id in ids.iter().take(CHUNK) {
            sep.push_bind(*id);
        }
        q.push(")");
    }
    let total: i64 = q.build_query_scalar().fetch_one(pool).await?;
    Ok((rows, total))
}
