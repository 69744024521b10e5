use std::path::PathBuf;
use std::time::Duration;

/// Why a policy could not decide. Every variant fails the gate closed: the CLI exits 2 and
/// records the verdict as `error`, never as allowed.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read the policy: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: no .rego files in this directory; give a policy file or a directory of them")]
    EmptyDir { path: PathBuf },
    #[error("unknown profile `{0}`; the built-in profiles are `constrained` and `velocity`")]
    UnknownProfile(String),
    #[error("{file}: syntax error: {message}\n  fix the policy (it is neither valid Rego v1 nor Rego v0) and run `sluice policy test` on it")]
    Syntax { file: String, message: String },
    #[error("{file}: {message}")]
    Compile { file: String, message: String },
    #[error("policy `{policy}` has no deny, violation or warn rule (conftest conventions), so it cannot decide anything; add e.g. `deny contains msg if {{ … }}` to a package")]
    NoDecisionRules { policy: String },
    #[error("{file}:{line}: the policy reads `input.{field}`, which sluice's policy input (version {version}) does not have; `{parent}` has {known}. Fix the name (see docs/policy-input.md)")]
    UnknownInputField { file: String, line: u32, field: String, parent: String, version: u32, known: String },
    #[error("policy `{policy}`: evaluating `{rule}` failed: {message}")]
    Eval { policy: String, rule: String, message: String },
    #[error("policy `{policy}`: evaluation stopped after the {limit:?} time limit (at `{rule}`): a rule runs away (an unbounded comprehension or walk?); fix it or raise --time-limit")]
    Timeout { policy: String, rule: String, limit: Duration },
    #[error("policy `{policy}`: `{rule}` returned {found}; deny, violation and warn rules must be sets of strings or of objects with a `msg`")]
    BadDecision { policy: String, rule: String, found: String },
}
