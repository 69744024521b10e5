//! sluice's built-in stages as a library: each engine (`sluice-secrets`, `sluice-sast`,
//! `sluice-advisory` over `sluice-inventory`, `sluice-container`) behind one face — a
//! repository, a scope and the stage's typed options in, one SARIF run out — and the one typed
//! builder of those runs ([`run::RunBuilder`]).
//!
//! The binary's `sluice scan <stage>` parses arguments, calls [`run_stage`] and prints; nothing
//! about a stage's SARIF is decided there.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use serde::Deserialize;
use sluice_pipeline::Scope;
use sluice_sarif::sarif::Run;

pub mod container;
pub mod deps;
pub mod run;
pub mod sast;
pub mod secrets;

pub use run::{Hit, Level, Note, Props, Rule, RunBuilder, Span, INFORMATION_URI, VERSION};

/// What a built-in stage is asked to look at.
pub struct StageInput<'a> {
    pub root: &'a Path,
    pub scope: &'a Scope,
    /// Scan the git history (every blob reachable from a ref) instead of the tree.
    pub history: bool,
    /// Scan the staged content (the index), for pre-commit hooks.
    pub staged: bool,
    /// `--since REF`: the reference a diff-aware run compares with.
    pub since: Option<&'a str>,
    /// `--changed-lines`: keep only findings on changed lines (sast stage).
    pub changed_lines: bool,
    /// The stage's table from sluice.toml.
    pub options: &'a BTreeMap<String, toml::Value>,
    pub config_path: &'a Path,
    /// `[run] out_dir`: sluice's own output, which the secrets and SAST stages do not scan.
    pub out_dir: &'a Path,
    /// An image tarball to inventory (container stage).
    pub image: Option<&'a Path>,
    /// The advisory database given on the command line (deps and container stages).
    pub db: Option<&'a Path>,
}

/// A built-in stage: a name, and a scan that turns a [`StageInput`] into one SARIF run.
pub trait Stage: Sync {
    /// The stage's name in `sluice.toml` and on the command line (`secrets`).
    fn name(&self) -> &'static str;
    /// Scans and returns the stage's run. An error is a stage that could not start (bad
    /// options, no rules); what it could not scan once started is a notification in the run.
    fn run(&self, input: &StageInput<'_>) -> Result<Run>;
}

/// Every built-in stage, in `sluice_pipeline::BUILTIN_STAGES` order.
pub static STAGES: &[&dyn Stage] = &[&container::Container, &deps::Deps, &sast::Sast, &secrets::Secrets];

/// The built-in stage called `name`.
pub fn stage(name: &str) -> Option<&'static dyn Stage> {
    STAGES.iter().copied().find(|s| s.name() == name)
}

/// Runs built-in stage `name`, after checking that the flags given apply to it.
pub fn run_stage(name: &str, input: &StageInput<'_>) -> Result<Run> {
    if input.history && name != "secrets" {
        bail!("--history applies to the secrets stage only");
    }
    if input.changed_lines && name != "sast" {
        bail!("--changed-lines applies to the sast stage only");
    }
    if input.image.is_some() && name != "container" {
        bail!("--image applies to the container stage only");
    }
    match stage(name) {
        Some(stage) => stage.run(input),
        None => bail!("unknown stage `{name}`; built-in stages: {}", sluice_pipeline::BUILTIN_STAGES.join(", ")),
    }
}

/// A stage's options from its `sluice.toml` table, typed; the error names the file and table.
pub(crate) fn options<T: for<'de> Deserialize<'de>>(input: &StageInput<'_>, stage: &str) -> Result<T> {
    sluice_pipeline::options::parse(input.options)
        .map_err(|e| anyhow::anyhow!("{}: [stages.{stage}]: {e}", input.config_path.display()))
}

/// Gitignore globs, anchored at the root, of what sluice writes into the repository: the
/// output directory (results, reports people keep next to them) and the baseline. Scanning
/// them would report the rule documentation they carry and the redacted findings of the last
/// run. `.sluice/triage.toml` is not among them: people write its reasons, and a pasted
/// credential there is a leak like any other.
pub(crate) fn own_output(root: &Path, out_dir: &Path) -> Vec<String> {
    let mut globs = vec![format!("/{}", sluice_triage::BASELINE_FILE)];
    let relative = if out_dir.is_absolute() {
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        canonical(out_dir).strip_prefix(canonical(root)).ok().map(Path::to_path_buf)
    } else {
        Some(out_dir.to_path_buf())
    };
    if let Some(dir) = relative.filter(|d| !d.as_os_str().is_empty()) {
        let dir = dir.to_string_lossy().replace('\\', "/");
        let dir = dir.trim_start_matches("./").trim_matches('/');
        if !dir.is_empty() && dir != "." && !dir.split('/').any(|c| c == "..") {
            // Glob metacharacters in a directory name are taken literally.
            let escaped: String = dir
                .chars()
                .flat_map(
                    |c| if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#') { vec!['\\', c] } else { vec![c] },
                )
                .collect();
            globs.push(format!("/{escaped}/"));
        }
    }
    globs
}

/// The justification of a finding silenced by a comment in the code (`sluice:ignore`,
/// `sluice:allow`), every credential the secrets engine sees in it redacted. Whether it counts
/// is the policy's decision.
pub(crate) fn in_source_justification(justification: &str, secrets: Option<&sluice_secrets::Engine>) -> String {
    match secrets {
        Some(engine) => engine.redact_text(justification).unwrap_or_else(|| justification.to_owned()),
        // Without the engine nothing can be vouched for: keep no text.
        None => "in-source suppression".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_stage_is_here_in_order() {
        let names: Vec<&str> = STAGES.iter().map(|s| s.name()).collect();
        assert_eq!(names, sluice_pipeline::BUILTIN_STAGES);
    }

    #[test]
    fn own_output_is_anchored_and_escaped() {
        let globs = own_output(Path::new("/r"), Path::new("out[1]"));
        assert_eq!(globs, vec!["/.sluice/baseline.sarif".to_owned(), "/out\\[1\\]/".to_owned()]);
        assert_eq!(own_output(Path::new("/r"), Path::new("../x")).len(), 1);
    }
}
