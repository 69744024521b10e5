//! The secrets engine of sluice: finds credentials of public providers, private keys and
//! generic hard-coded passwords in files, without printing anything.
//!
//! Rules are data (`rules/*.toml`, embedded at build time, plus user rules of the same
//! [`RuleSpec`] type). A scan is one Aho-Corasick pass over each file for the rules'
//! keywords, then only the triggered rules' regexes on windows around the hits, then shared
//! false-positive filters (placeholders, documented examples, environment lookups, digests,
//! UUIDs, `sluice:allow` comments). Secrets never leave the crate unredacted: a [`Finding`]
//! carries a redacted form and a SHA-256, not the secret.
//!
//! ```no_run
//! use sluice_secrets::{scan, Config, Target};
//! let config = Config { max_file_size: 10 << 20, extra_rules: vec![], allow_paths: vec![], peer_annotations: true };
//! let result = scan(Target::Dir(std::path::Path::new(".")), &config)?;
//! for f in &result.findings {
//!     eprintln!("{}:{}:{} {} {}", f.path, f.line, f.column, f.rule_id, f.redacted);
//! }
//! # Ok::<(), sluice_secrets::Error>(())
//! ```

mod engine;
mod error;
mod filter;
mod finding;
mod history;
mod spec;
mod stream;
mod validate;
mod walk;

#[cfg(test)]
mod rule_tests;

pub use engine::{Config, Engine, Rule};
pub use error::Error;
pub use filter::{allow_directives, entropy, ALLOW_COMMENT, PEER_ALLOW_COMMENTS};
pub use finding::Finding;
pub use history::{scan_history, scan_staged, Commit, HistoryError, HistoryFinding, HistoryScan};
pub use spec::{Examples, RuleSpec, Shape, Validator};
pub use walk::{Scan, SkipReason, Skipped, Target};

/// Scans a directory or a list of files with the embedded rules and the configured ones.
/// Fails only when the scan cannot start (invalid user rule, missing root); problems with
/// single files are listed in [`Scan::skipped`].
pub fn scan(target: Target<'_>, config: &Config) -> Result<Scan, Error> {
    Engine::new(config)?.scan(target)
}

/// Finds the secrets in one blob (stdin, a git object). Build the [`Engine`] once.
pub fn scan_bytes(path: &str, content: &[u8], engine: &Engine) -> Vec<Finding> {
    engine.scan_bytes(path, content)
}

/// The engine with the embedded rules only, built once per process: what redaction uses
/// wherever sluice prints or stores text. `None` only if the embedded rules fail to load,
/// which the test suite rules out; callers must then fail closed.
pub fn embedded_engine() -> Option<&'static Engine> {
    static ENGINE: std::sync::OnceLock<Option<Engine>> = std::sync::OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Engine::new(&Config {
                max_file_size: u64::MAX,
                extra_rules: Vec::new(),
                allow_paths: Vec::new(),
                peer_annotations: true,
            })
            .ok()
        })
        .as_ref()
}

/// The embedded rules as written, examples included: for tests elsewhere that must hold for
/// every rule's positive examples (redaction of every string sluice prints).
pub fn embedded_specs() -> Result<Vec<RuleSpec>, Error> {
    Ok(spec::embedded().map_err(Error::EmbeddedRules)?.iter().map(|f| f.spec.clone()).collect())
}

/// The metadata of every rule a scan with this configuration runs.
pub fn rules(config: &Config) -> Result<Vec<Rule>, Error> {
    Ok(Engine::new(config)?.rules().to_vec())
}
