//! One error type for the crate: every message names the file (database, repository, JSON
//! lines) and says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{path}: events database: {source} (check the path, or delete the file to start over)")]
    Db { path: PathBuf, source: rusqlite::Error },
    #[error("{path}: events database has schema version {found}, this sluice knows up to {supported}: upgrade sluice")]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("{path}: git repository: {message}")]
    Git { path: PathBuf, message: String },
    #[error("{file}:{line}: {message}")]
    Line { file: String, line: usize, message: String },
    #[error("{0}")]
    Input(String),
}

pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
