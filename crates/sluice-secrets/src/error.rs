use std::path::PathBuf;

/// A problem that stops a scan before it starts. Problems with single files never are: they
/// are reported in [`crate::Scan::skipped`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot scan `{}`: {source}; check that the path exists and is readable", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret rule `{id}` has an invalid regex; fix `regex` in its definition")]
    RuleRegex {
        id: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("secret rule `{id}` is invalid: {reason}")]
    InvalidRule { id: String, reason: String },
    #[error("invalid allow path `{glob}`; use gitignore syntax")]
    AllowPath {
        glob: String,
        #[source]
        source: ignore::Error,
    },
    /// A shipped rule file does not parse: a bug in sluice, not in the user's input.
    #[error("embedded secret rules are broken (a bug in sluice): {0}")]
    EmbeddedRules(String),
}
