//! The events metrics are computed from: deployments, incidents and scan runs. Internal types
//! here; their JSON-lines form (`jsonl.rs`) and their SQLite form (`store.rs`) are the
//! compatibility promises.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    Success,
    Failure,
}

impl DeployStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployStatus::Success => "success",
            DeployStatus::Failure => "failure",
        }
    }

    pub fn parse(text: &str) -> Option<DeployStatus> {
        match text {
            "success" => Some(DeployStatus::Success),
            "failure" => Some(DeployStatus::Failure),
            _ => None,
        }
    }
}

/// A deployment of one commit to one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: i64,
    pub env: String,
    /// The full commit id when the repository knew it at recording time, else as given.
    pub commit: String,
    pub at: i64,
    pub status: DeployStatus,
    /// The monorepo service path this deployment ships; `None` ships the whole repository.
    pub service: Option<String>,
    /// Where the event came from: `cli`, `tag:<name>`, `import`.
    pub source: String,
}

/// Something that hurt users in production, linked to the deployment that caused it either
/// directly or through the commit that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: String,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub deploy: Option<i64>,
    pub cause: Option<String>,
}

/// The summary of one `sluice run`: every finding's identity, never its message or snippet (so
/// no secret can reach the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRun {
    pub id: i64,
    pub at: i64,
    pub commit: Option<String>,
    pub findings: Vec<ScanFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScanFinding {
    pub stage: String,
    pub rule: String,
    pub fingerprint: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    pub suppressed: bool,
    /// The triage status applied to it (`false_positive`, `accepted_risk`, `mitigated`,
    /// `confirmed`), if any.
    pub triage: Option<String>,
}
