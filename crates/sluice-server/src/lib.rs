//! `sluice serve`: every repository's runs, findings and decisions in one place.
//!
//! - [`db`]: the two backends (SQLite by default, PostgreSQL at scale), their embedded
//!   migrations, and the one [`db::Repo`] interface the API uses. The SQL is written once and
//!   compiled for each backend (`db/repo.rs`).
//! - [`ingest`]: what a push carries, checked, bounded and redacted before anything is stored.
//! - [`auth`]: tokens, passwords, roles, who may do what.
//! - [`keys`]: secrets the server holds (its signing key), encrypted under a master key.
//! - [`api`]: the REST API under `/api/v1`, its OpenAPI document, health and metrics.
//! - [`oidc`]: OIDC login (authorization code with PKCE), discovery and ID token checks.
//! - [`pages`]: the security team's web pages under `/ui` (server-rendered, no script).
//! - [`serve`]: the process — options, first start, listening, graceful shutdown.
//!
//! ARCHITECTURE.md ("The server") describes the design and the decisions behind it.

pub mod api;
pub mod attestations;
pub mod auth;
pub mod db;
pub mod decisions;
pub mod evidence;
pub mod ingest;
pub mod keys;
pub mod model;
pub mod oidc;
pub mod pages;
pub mod serve;
pub mod time;

pub use serve::{run, ServeOptions};

/// [`run`] on a runtime of its own, for the `sluice` command.
pub fn run_blocking(options: ServeOptions) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(options))
}
