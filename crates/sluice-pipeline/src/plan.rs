//! Planning: which stages run, on which files, with which command line.

use std::collections::BTreeSet;
use std::path::Path;

use crate::config::{Config, StageKind};
use crate::runner::StageJob;
use crate::scope::{glob_set, list_files, Scope};

#[derive(Debug)]
pub struct Plan {
    pub jobs: Vec<StageJob>,
    /// Stages left out, with the reason (`no files it applies to`).
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("`{0}` is not a configured or built-in stage")]
    UnknownStage(String),
    #[error("stage `{stage}`: bad `files` glob: {source}")]
    Glob { stage: String, source: globset::Error },
}

/// Plans the configured stages (or only those named in `only`) over `root`.
///
/// `builtin_argv` gives the command line of a built-in stage: the caller knows where its own
/// executable is and how to pass the scope (a changed-files list) to it.
pub fn plan(
    config: &Config,
    root: &Path,
    scope: &Scope,
    only: Option<&[String]>,
    builtin_argv: &dyn Fn(&str) -> Vec<String>,
) -> Result<Plan, PlanError> {
    if let Some(only) = only {
        if let Some(unknown) = only.iter().find(|n| !config.stages.iter().any(|s| &s.name == *n)) {
            return Err(PlanError::UnknownStage(unknown.clone()));
        }
    }
    // Candidate files: everything (ignore files respected), or the changed files that exist.
    let candidates: Vec<String> = match scope {
        Scope::All => list_files(root),
        Scope::Changed(files) => files.iter().filter(|f| root.join(f).is_file()).cloned().collect(),
    };
    let only_files: Option<BTreeSet<String>> = match scope {
        Scope::All => None,
        Scope::Changed(files) => Some(files.clone()),
    };
    let mut jobs = Vec::new();
    let mut skipped = Vec::new();
    for stage in &config.stages {
        if only.is_some_and(|o| !o.contains(&stage.name)) {
            continue;
        }
        let applicable: Vec<&String> = match &stage.files {
            Some(globs) => {
                let set = glob_set(globs).map_err(|source| PlanError::Glob { stage: stage.name.clone(), source })?;
                candidates.iter().filter(|f| set.is_match(f.as_str())).collect()
            }
            None => candidates.iter().collect(),
        };
        if stage.files.is_some() && applicable.is_empty() {
            skipped.push((stage.name.clone(), "no files it applies to".to_owned()));
            continue;
        }
        let working_dir = root.join(&stage.working_dir);
        let argv = match &stage.kind {
            StageKind::Builtin => builtin_argv(&stage.name),
            StageKind::External { argv } => expand_command(argv, root, &working_dir, &applicable),
        };
        jobs.push(StageJob {
            name: stage.name.clone(),
            stage: stage.stage().to_owned(),
            argv,
            working_dir,
            timeout: stage.timeout,
            ok_exit_codes: stage.ok_exit_codes.clone(),
            only_files: only_files.clone(),
            builtin: stage.kind == StageKind::Builtin,
        });
    }
    Ok(Plan { jobs, skipped })
}

/// Expands `{files}` (one argument per applicable file) and `{root}` in an external command.
fn expand_command(argv: &[String], root: &Path, working_dir: &Path, files: &[&String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len() + files.len());
    for arg in argv {
        if arg == "{files}" {
            for f in files {
                let abs = root.join(f.as_str());
                // Relative to where the tool runs when possible: tools echo these paths back.
                let shown = abs
                    .strip_prefix(working_dir)
                    .map_or_else(|_| abs.display().to_string(), |p| p.display().to_string());
                out.push(shown);
            }
        } else {
            out.push(arg.replace("{root}", &root.display().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_placeholder_expands_relative_to_the_working_dir() {
        let files = ["sub/a.py".to_owned(), "b.py".to_owned()];
        let refs: Vec<&String> = files.iter().collect();
        let argv = ["tool".to_owned(), "{files}".to_owned(), "--root={root}".to_owned()];
        let out = expand_command(&argv, Path::new("/r"), Path::new("/r/sub"), &refs);
        assert_eq!(out, ["tool", "a.py", "/r/b.py", "--root=/r"]);
    }
}
