//! Advisories for sluice's dependency stage, offline: import OSV and RustSec databases into
//! an indexed file, and match packages against it with each ecosystem's exact version order.
//!
//! - [`version`]: version ordering per ecosystem (semver, PEP 440, Maven, RubyGems, NuGet,
//!   Composer, Debian, Alpine).
//! - [`import`]: reading an OSV `all.zip`, a directory of OSV JSON/YAML, or RustSec's
//!   advisory-db into the [`model`].
//! - [`store`]: the on-disk database, read once and searched in place.
//! - [`match_package`]: OSV range evaluation and alias merging into [`Finding`]s.
//!
//! A pure library: no printing, no network (downloading a source is the CLI's business).

mod import;
mod matching;
pub mod model;
mod osv;
mod rustsec;
mod severity;
mod store;
mod update;
pub mod version;

use std::path::PathBuf;

pub use import::{detect, import, Import, Skipped, SourceKind};
pub use matching::{
    canonical_id, match_installed, match_package, match_queries, Finding, PackageMatch, Query, Release,
};
pub use severity::{cvss_score, Score};
pub use store::{build, key, normalize_name, Database, Meta, SourceMeta, Stored, FORMAT_VERSION};
pub use update::{update, UpdateOutcome};

/// Errors of the advisory library; each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: no advisory database here; create it with `sluice db update --from <advisory source>` (an OSV all.zip, a directory of OSV records, or a RustSec advisory-db checkout)", path.display())]
    Missing { path: PathBuf },
    #[error("{}: the advisory database is damaged ({message}); rebuild it with `sluice db update --from <advisory source>`", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("{}: advisory database format {found} is not the one this sluice reads ({}); rebuild it with `sluice db update --from <advisory source>`", path.display(), FORMAT_VERSION)]
    Format { path: PathBuf, found: u32 },
    #[error("{}: {message}", path.display())]
    Source { path: PathBuf, message: String },
    #[error("cannot serialize the database: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Parses one OSV record from JSON (also what the fuzz targets call).
pub fn parse_osv_json(bytes: &[u8]) -> Result<model::Advisory, String> {
    osv::parse_json(bytes)
}

/// Parses one OSV record from YAML.
pub fn parse_osv_yaml(text: &str) -> Result<model::Advisory, String> {
    osv::parse_yaml(text)
}

/// Parses one RustSec advisory (markdown with TOML front matter).
pub fn parse_rustsec(text: &str) -> Result<model::Advisory, String> {
    rustsec::parse(text)
}
