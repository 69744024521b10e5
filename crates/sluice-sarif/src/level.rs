//! The level of a rule and of its results, as SARIF names it: one type for every built-in
//! engine (SAST, container) and the run builder that writes their SARIF.

/// SARIF's `level` of a rule's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    /// SARIF's name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }

    /// The level as the SARIF model writes it on a result.
    pub fn result_level(self) -> crate::sarif::ResultLevel {
        match self {
            Level::Error => crate::sarif::ResultLevel::Error,
            Level::Warning => crate::sarif::ResultLevel::Warning,
            Level::Note => crate::sarif::ResultLevel::Note,
        }
    }

    /// GitHub code scanning's `problem.severity` of a rule at this level.
    pub fn problem_severity(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "recommendation",
        }
    }
}
