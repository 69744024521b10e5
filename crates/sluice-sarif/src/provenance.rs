//! Which stage a run is, and what a log sluice did not produce may claim.
//!
//! Stage identity is decided in one place, [`stage_of`]: the `sluice/<stage>/` category (or the
//! run's `sluice/stage` property) that sluice's own normalization wrote — the runner for the
//! stages it ran, `sluice merge` for the logs it was given. A tool's name never makes it a
//! built-in stage: a run without sluice's mark is named after its tool, and a tool whose name is
//! a reserved stage name (`secrets`, `gate`, …) gets `external-<name>`.
//!
//! [`neutralize_foreign`] is the trust boundary: every run sluice did not produce itself (each
//! input of `sluice merge`, each external stage of `sluice run`) goes through it before
//! normalization, and loses the claims only sluice may make — `sluice/…` properties (a triage
//! decision, a redaction mark, a severity source), suppressions that claim to be sluice triage
//! decisions and a category in the `sluice/` namespace. A `sluice/v1` fingerprint is kept: it
//! is an identity, not a claim, and a log that forges one only gets its own result matched.

use serde_json::Value;
use serde_sarif::sarif::{Result as SarifResult, Run};

use crate::keys;

/// The stages sluice ships. Only sluice's own runs, or a tool the user explicitly names for one
/// (`fills` in sluice.toml, `sluice merge --fills`), are these stages.
pub const BUILTIN_STAGES: &[&str] = &["container", "deps", "sast", "secrets"];

/// Stage names no external tool may take by its name: the built-in stages and sluice's own
/// transform runs (`sluice/gate/`, `sluice/triage/`).
pub const RESERVED_STAGES: &[&str] = &["container", "deps", "gate", "sast", "secrets", "triage"];

/// The stage a run belongs to. See the module documentation.
pub fn stage_of(run: &Run) -> String {
    let category = run.automation_details.as_ref().and_then(|d| d.id.as_deref());
    let prop = run.properties.as_ref().and_then(|p| p.additional_properties.get(keys::STAGE)).and_then(Value::as_str);
    stage_from(category, prop, &run.tool.driver.name)
}

/// [`stage_of`] from the parts of a run, for readers that do not hold a full [`Run`].
pub fn stage_from(category: Option<&str>, stage_property: Option<&str>, tool: &str) -> String {
    let from_category = category
        .and_then(|id| id.strip_prefix(keys::NAMESPACE))
        .map(|id| id.trim_end_matches('/'))
        .filter(|id| !id.is_empty() && !id.contains('/'));
    match from_category.or(stage_property.filter(|s| !s.is_empty())) {
        Some(stage) => stage.to_owned(),
        None => foreign_stage(tool),
    }
}

/// The stage name of a run sluice did not produce, from its tool's name: lowercased, never a
/// reserved stage name.
pub fn foreign_stage(tool: &str) -> String {
    let name: String = tool
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let name = if name.is_empty() { "unnamed".to_owned() } else { name };
    if RESERVED_STAGES.contains(&name.as_str()) || name.starts_with("sluice") {
        format!("external-{name}")
    } else {
        name
    }
}

/// Strips what a run sluice did not produce may not claim (see the module documentation).
/// Everything else the tool wrote is kept.
pub fn neutralize_foreign(run: &mut Run) {
    if let Some(details) = run.automation_details.as_mut() {
        if details.id.as_deref().is_some_and(|id| id.starts_with(keys::NAMESPACE)) {
            details.id = None;
        }
    }
    if let Some(props) = run.properties.as_mut() {
        props.additional_properties.retain(|k, _| !k.starts_with(keys::NAMESPACE));
    }
    for result in run.results.iter_mut().flatten() {
        neutralize_result(result);
    }
}

fn neutralize_result(result: &mut SarifResult) {
    if let Some(props) = result.properties.as_mut() {
        props.additional_properties.retain(|k, _| !k.starts_with(keys::NAMESPACE));
    }
    if let Some(list) = result.suppressions.as_mut() {
        // A suppression carrying sluice's properties claims to be a triage decision; only
        // `sluice triage` makes those, from .sluice/triage.toml.
        list.retain(|s| {
            !s.properties
                .as_ref()
                .is_some_and(|p| p.additional_properties.keys().any(|k| k.starts_with(keys::NAMESPACE)))
        });
        if list.is_empty() {
            result.suppressions = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names() {
        assert_eq!(stage_from(Some("sluice/secrets/"), None, "anything"), "secrets");
        assert_eq!(stage_from(Some("/language:python"), Some("bandit"), "Bandit"), "bandit");
        assert_eq!(stage_from(None, None, "Secrets"), "external-secrets");
        assert_eq!(stage_from(None, None, "sluice-secrets"), "external-sluice-secrets");
        assert_eq!(stage_from(None, None, "Semgrep OSS"), "semgrep-oss");
        assert_eq!(stage_from(Some("sluice/"), None, "gitleaks"), "gitleaks");
    }
}
