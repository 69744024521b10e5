//! Triage for sluice: decisions about findings as data, applied as SARIF suppressions; baselines
//! that say which findings a change introduced; OpenVEX in and out.
//!
//! A pure library: text and logs in, logs and outcomes out, typed errors naming the file and
//! line. The only I/O is reading source files under a given root to re-derive fingerprints of
//! renamed files; git is the caller's business (it passes renames in as a [`RenameMap`]).
//! See `docs/triage.md` for the file format and the matching rules.

mod apply;
mod baseline;
mod content;
mod date;
mod decisions;
mod edit;
mod renames;
mod server;
mod summary;
mod version;
mod vex;

pub use apply::{apply, clear, run_stage, ApplyOptions, Conflict, ConflictError, Followed, TriageOutcome, TRIAGE_TOOL};
pub use baseline::{
    compare, make_baseline, Baseline, BaselineError, BaselineOutcome, CompareOptions, Fixed, BASELINE_FILE,
};
pub use date::Date;
pub use decisions::{
    is_fingerprint, Decision, Decisions, DecisionsError, Diagnostic, Selector, Status, VexStatus, DECISIONS_FILE,
    FORMAT_VERSION, VEX_JUSTIFICATIONS,
};
pub use edit::{remove, upsert, Edit, EditError, NewDecision, NewSelector, HEADER};
pub use renames::RenameMap;
pub use server::{
    apply_server, mark_pending, ServerDecision, ServerDecisionSet, ServerOptions, ServerOutcome, WireDecision,
    WireDecisionSet, WireStr,
};
pub use summary::{triage_run, Summary};
pub use version::{Version, VersionRange};
pub use vex::{export as export_vex, import as import_vex, Import as VexImport, VexError, OPENVEX_CONTEXT};
