//! The pipeline: configuration, scope (what changed), and running stages in parallel.
//!
//! A library with no terminal output: progress goes through the [`Progress`] trait and every
//! outcome is returned to the caller, which decides what to print.

mod config;
pub mod options;
pub mod orchestrate;
mod plan;
mod runner;
pub mod safe_fs;
mod schema;
mod scope;
pub mod template;

pub use config::{
    Config, ConfigError, MetricsConfig, PolicyConfig, ServerConfig, StageConfig, StageKind, BUILTIN_STAGES,
    DEFAULT_TIMEOUT,
};
pub use plan::{plan, Plan, PlanError};
pub use runner::{
    execute, failed_run, run_stage, run_stages, Execution, Exit, Progress, StageJob, StageOutcome, StageStatus,
};
pub use schema::{sluice_toml_schema, SCHEMA_ID};
pub use scope::{glob_set, list_files, Scope, ScopeError};
