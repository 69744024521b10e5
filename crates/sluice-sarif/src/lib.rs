//! SARIF 2.1.0 for sluice: the one public interface between stages.
//!
//! The model is `serde-sarif`'s generated types (re-exported as [`sarif`]); this crate adds what
//! the stage contract needs on top of it: reading with clear errors, deterministic writing,
//! normalization of third-party logs, `sluice/v1` fingerprints, severity mapping and merging.
//! See `docs/stage-contract.md` for the contract itself.

mod dedupe;
mod fingerprint;
mod io;
pub mod keys;
mod level;
mod merge;
mod normalize;
mod provenance;
mod redact;
mod severity;
mod source;

pub use dedupe::one_finding_per_credential;
pub use fingerprint::{assign_fingerprints, content_hash, is_sluice_fingerprint, normalize_content};
pub use io::{empty_log, empty_run, read_log, write_log, write_log_pretty, ReadError, SCHEMA_URI};
pub use level::Level;
pub use merge::{MergeError, Merger, SerializedRun};
pub use normalize::{
    artifact_path, decode_uri_path, failure_notification, normalize_run, primary_region, result_cwes, rule_for,
    sort_results, NormalizeOptions,
};
pub use provenance::{foreign_stage, neutralize_foreign, stage_from, stage_of, BUILTIN_STAGES, RESERVED_STAGES};
pub use redact::{
    is_credential, is_credential_parts, redact_json, redact_log, redact_result, redact_result_into, redact_run,
    redact_text, CREDENTIAL_CWES,
};
pub use serde_sarif::sarif;
pub use severity::{security_severity, severity_of, Severity};

/// A file a run says it did not scan: a notification with a [`keys::SKIPPED`] reason code and a
/// location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile<'a> {
    /// The notification's artifact URI (repository-relative for sluice's stages).
    pub path: &'a str,
    pub reason: &'a str,
    /// The notification's text.
    pub message: &'a str,
    /// Level `note`: a documented rule skipped the file; otherwise the file itself did.
    pub note: bool,
}

/// Every file `run`'s notifications say was not scanned, in the order written.
pub fn skipped_files(run: &sarif::Run) -> Vec<SkippedFile<'_>> {
    let notes = run.invocations.iter().flatten().flat_map(|i| i.tool_execution_notifications.iter().flatten());
    notes
        .filter_map(|n| {
            let reason = n.properties.as_ref()?.additional_properties.get(keys::SKIPPED)?.as_str()?;
            let path = n
                .locations
                .iter()
                .flatten()
                .find_map(|l| l.physical_location.as_ref()?.artifact_location.as_ref()?.uri.as_deref())?;
            Some(SkippedFile {
                path,
                reason,
                message: n.message.text.as_deref().unwrap_or_default(),
                note: n.level.as_ref().and_then(serde_json::Value::as_str) == Some("note"),
            })
        })
        .collect()
}
pub use source::{resolve_in_root, SourceFiles, MAX_SOURCE_BYTES};
