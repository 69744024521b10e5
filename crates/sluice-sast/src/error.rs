use std::path::PathBuf;

/// A problem that stops a scan before it starts: a rule that does not load, a root that
/// cannot be read. Problems with single files never are: they are listed in
/// [`crate::Scan::skipped`] and [`crate::Scan::warnings`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot scan `{}`: {source}; check that the path exists and is readable", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read rule directory `{}`: {source}; fix `rule_dirs` or create the directory", path.display())]
    RuleDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A rule file or one rule in it is invalid; `file` names it, `rule` the rule when known.
    #[error("{file}: {}{message}", rule.as_ref().map(|r| format!("rule `{r}`: ")).unwrap_or_default())]
    Rule { file: String, rule: Option<String>, message: String },
    #[error("rule `{id}` is defined twice ({first} and {second}); rename one of them")]
    DuplicateRule { id: String, first: String, second: String },
    #[error("unknown rule `{id}` in the disabled rules; the rule ids are listed in crates/sluice-sast/docs/rules.md")]
    UnknownRule { id: String },
    #[error("invalid exclude path `{glob}`: {source}; use gitignore syntax")]
    ExcludePath {
        glob: String,
        #[source]
        source: ignore::Error,
    },
    /// A shipped rule file does not load: a bug in sluice, not in the user's input.
    #[error("embedded SAST rules are broken (a bug in sluice): {0}")]
    EmbeddedRules(Box<Error>),
}
