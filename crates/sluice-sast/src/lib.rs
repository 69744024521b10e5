//! The SAST engine of sluice: finds vulnerable code patterns with ast-grep rules over
//! tree-sitter syntax trees, without printing anything.
//!
//! Rules are ast-grep YAML (one rule per document) with sluice's metadata under `metadata`
//! (see [`spec`](crate::VarSemantic) for the format): the packs in `rules/<language>/*.yml`
//! are embedded at build time, and users add directories of their own. A scan reads each
//! file once; a keyword prefilter picks the rules that can match in it (a file no rule can
//! match is never parsed); the file is parsed once, with a deadline, and one traversal runs
//! every applicable rule and builds the file's semantic model (imports, aliases, constants),
//! which then checks the candidates: `sp.run` after `import subprocess as sp` is
//! `subprocess.run`, and a constant string passed to `execute` is not an injection.
//! `sluice:ignore[rule-id]` comments silence a finding on their line or the next.
//!
//! ```no_run
//! use std::time::Duration;
//! use sluice_sast::{Config, Engine, Target};
//! let config = Config {
//!     max_file_size: 2 << 20,
//!     max_depth: 1000,
//!     file_timeout: Duration::from_secs(20),
//!     builtin_rules: true,
//!     rule_dirs: vec![],
//!     disabled_rules: vec![],
//!     exclude_paths: vec![],
//!     languages: vec![],
//!     peer_annotations: true,
//! };
//! let engine = Engine::new(&config)?;
//! let scan = engine.scan(Target::Dir(std::path::Path::new(".")))?;
//! for f in &scan.findings {
//!     eprintln!("{}:{}:{} {} {}", f.path, f.line, f.column, f.rule_id, f.message);
//! }
//! # Ok::<(), sluice_sast::Error>(())
//! ```

mod diff;
mod docs;
mod engine;
mod error;
mod finding;
mod lang;
mod parse;
mod prefilter;
mod semantic;
mod spec;
mod suppress;
mod walk;

#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;

pub use diff::ChangedLines;
pub use docs::reference as rule_reference;
pub use engine::{Config, Engine, Level, Precision, Rule};
pub use error::Error;
pub use finding::Finding;
pub use lang::Lang;
pub use spec::{Examples, VarSemantic};
pub use walk::{Scan, SkipReason, Skipped, Target, Warning, WarningKind};
