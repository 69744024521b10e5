//! The policy gate: Rego policies, evaluated in-process with `regorus`, decide over a
//! versioned input built from the merged SARIF log and facts about the run.
//!
//! - [`input`] — the input document (version 1), a compatibility promise with a JSON Schema.
//! - [`detect`] — languages, manifests, lockfiles and Dockerfiles in a tree.
//! - [`policy`] — loading policies (conftest conventions, Rego v1 or v0), their digest.
//! - [`eval`] — decisions, queries and Rego unit tests, with a time limit; fails closed.
//! - [`builtins`] — the `time.*` and `crypto.sha256` builtins regorus lacks here.
//! - [`verdict`] — the decision, its reasons, and its record in SARIF.
//! - [`profiles`] — the built-in `constrained` and `velocity` profiles (embedded Rego).
//! - [`attest`] — in-toto Statement v1 evidence, DSSE signing with ed25519, verification.
//! - [`ssdf`] — the NIST SSDF tasks the gate and its stages evidence.
//!
//! Engines never print: everything returns values or [`PolicyError`]s.

pub mod attest;
pub mod builtins;
pub mod detect;
mod error;
pub mod eval;
pub mod input;
pub mod policy;
pub mod profiles;
pub mod ssdf;
pub mod stream;
pub mod verdict;

pub use detect::{detect, is_vendored, language_of, Detected};
pub use error::PolicyError;
pub use eval::{collect, decide, decide_input, decide_text, query, run_tests, EvalOptions, TestOutcome, TestStatus};
pub use input::{build as build_input, Facts, Input, RunFacts, INPUT_VERSION};
/// The evaluation clock's type (`EvalOptions::now`).
pub use jiff::Timestamp;
pub use policy::Policy;
pub use verdict::{record, recorded, Outcome, PolicyRef, Reason, Verdict};
