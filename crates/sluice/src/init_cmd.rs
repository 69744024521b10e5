//! `sluice init`: look at a repository, write a minimal `sluice.toml`, and wire sluice into the
//! CI system and git hooks the team already uses.
//!
//! The generated files are deliberately short: the built-in stages run without configuration,
//! and an org template (`--template`) carries everything else. Nothing existing is overwritten
//! without `--force`; a file sluice would have to edit (an existing `.gitlab-ci.yml`) is left
//! alone and the line to add is printed instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use sluice_pipeline::safe_fs;

use crate::exit;

/// Where sluice is installed from in generated CI files.
const INSTALL: &str = "cargo install --locked --git https://github.com/sluice-sec/sluice sluice";
/// The pre-commit hooks repository (this repository's `.pre-commit-hooks.yaml`).
const HOOKS_REPO: &str = "https://github.com/sluice-sec/sluice";
const HOOKS_REV: &str = concat!("v", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Extend an org template: a path, `git+URL@REV#FILE`, or an https URL (with --sha256).
    #[arg(long, value_name = "SOURCE")]
    pub template: Option<String>,
    /// The sha256 of an https template's content.
    #[arg(long, requires = "template")]
    pub sha256: Option<String>,
    /// Also write CI wiring (repeatable): a GitHub Actions workflow, a GitLab CI include, a
    /// pre-commit configuration and git hook. Default: what the repository already uses.
    #[arg(long, value_enum)]
    pub ci: Vec<Ci>,
    /// The policy profile for the generated configuration.
    #[arg(long, default_value = "velocity", value_parser = ["velocity", "constrained"])]
    pub profile: String,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Ci {
    Github,
    Gitlab,
    PreCommit,
}

/// What a repository contains, as far as choosing stages goes: what `sluice plan` and the
/// policy input see (`sluice_policy::detect`), plus file counts and the CI systems in use.
#[derive(Debug, Default)]
pub struct Detected {
    /// Language → number of files.
    pub languages: BTreeMap<&'static str, usize>,
    /// Lockfiles and dependency manifests.
    pub lockfiles: Vec<String>,
    pub dockerfiles: Vec<String>,
    pub ci: Vec<Ci>,
}

/// Walks the repository (the one walk, `sluice_pipeline::list_files`, as `sluice plan` does)
/// and reports what it contains.
pub fn detect(root: &Path) -> Detected {
    let paths = sluice_pipeline::list_files(root);
    let found = sluice_policy::detect(paths.iter().map(String::as_str));
    let mut detected = Detected::default();
    for path in &paths {
        if path.split('/').any(sluice_policy::is_vendored) {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        if let Some(language) = sluice_policy::language_of(name) {
            *detected.languages.entry(language).or_default() += 1;
        }
    }
    detected.lockfiles = found.lockfiles.iter().chain(&found.manifests).cloned().collect();
    detected.lockfiles.sort();
    detected.dockerfiles = found.dockerfiles.into_iter().collect();
    if root.join(".github/workflows").is_dir() {
        detected.ci.push(Ci::Github);
    }
    if root.join(".gitlab-ci.yml").is_file() {
        detected.ci.push(Ci::Gitlab);
    }
    if root.join(".pre-commit-config.yaml").is_file() {
        detected.ci.push(Ci::PreCommit);
    }
    detected
}

pub fn init(args: InitArgs) -> Result<u8> {
    let root =
        args.path.canonicalize().with_context(|| format!("{}: cannot open the directory", args.path.display()))?;
    let detected = detect(&root);
    let extends = args.template.as_deref().map(|t| extends_line(t, args.sha256.as_deref())).transpose()?;
    let mut files: Vec<(PathBuf, String)> =
        vec![(root.join("sluice.toml"), sluice_toml(&detected, extends.as_deref(), &args.profile))];
    let ci = if args.ci.is_empty() { detected.ci.clone() } else { args.ci.clone() };
    let mut notes = Vec::new();
    for system in &ci {
        match system {
            Ci::Github => files.push((root.join(".github/workflows/sluice.yml"), github_workflow())),
            Ci::Gitlab => {
                files.push((root.join(".gitlab/sluice.gitlab-ci.yml"), gitlab_job()));
                if root.join(".gitlab-ci.yml").exists() {
                    notes.push(
                        "add to .gitlab-ci.yml:\n  include:\n    - local: .gitlab/sluice.gitlab-ci.yml".to_owned(),
                    );
                } else {
                    files.push((root.join(".gitlab-ci.yml"), gitlab_root()));
                }
            }
            Ci::PreCommit => {
                files.push((root.join(".pre-commit-config.yaml"), pre_commit_config()));
                match git_hooks_dir(&root) {
                    Some(hooks) => files.push((hooks.join("pre-commit"), git_hook())),
                    None => notes.push("not a git repository: no git hook written".to_owned()),
                }
            }
        }
    }
    let existing: Vec<_> = files.iter().filter(|(p, _)| p.exists()).map(|(p, _)| p.display().to_string()).collect();
    if !existing.is_empty() && !args.force {
        bail!("{} already exist(s); rerun with --force to overwrite", existing.join(", "));
    }
    // Every target is checked before anything is written: no half-initialized repository.
    for (path, _) in &files {
        if let Ok(rel) = path.strip_prefix(&root) {
            safe_fs::check_in(&root, rel)?;
        }
    }
    for (path, text) in &files {
        let mode = path.ends_with("hooks/pre-commit").then_some(0o755);
        match path.strip_prefix(&root) {
            // In the repository: a committed link (`.github -> ~`) is refused, never followed.
            Ok(rel) => {
                safe_fs::write_in(&root, rel, text.as_bytes(), mode)?;
            }
            // A hooks directory git keeps elsewhere (worktrees, `core.hooksPath`): the user's.
            Err(_) => {
                safe_fs::write_user_file(path, text.as_bytes())?;
                if let Some(mode) = mode {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                        .with_context(|| format!("{}: cannot make executable", path.display()))?;
                }
            }
        }
        eprintln!("wrote {}", path.strip_prefix(&root).unwrap_or(path).display());
    }
    eprintln!("{}", summary(&detected));
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(exit::OK)
}

fn git_hooks_dir(root: &Path) -> Option<PathBuf> {
    let hooks = PathBuf::from(sluice_repo::Git::new(root).value(&["rev-parse", "--git-path", "hooks"])?);
    Some(if hooks.is_absolute() { hooks } else { root.join(hooks) })
}

/// `extends = …` for a template source given on the command line.
fn extends_line(source: &str, sha256: Option<&str>) -> Result<String> {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    if let Some(rest) = source.strip_prefix("git+") {
        let (repo_rev, path) = rest.split_once('#').unwrap_or((rest, "sluice.toml"));
        let Some((repo, rev)) = repo_rev.rsplit_once('@').filter(|(repo, _)| !repo.ends_with(':')) else {
            bail!("--template {source}: write git+URL@REV#FILE (a tag or commit after `@`)");
        };
        return Ok(format!("extends = {{ git = {}, rev = {}, path = {} }}", quote(repo), quote(rev), quote(path)));
    }
    if source.starts_with("https://") {
        let Some(sha) = sha256 else { bail!("--template {source}: an https template needs --sha256 of its content") };
        return Ok(format!("extends = {{ url = {}, sha256 = {} }}", quote(source), quote(sha)));
    }
    Ok(format!("extends = {}", quote(source)))
}

fn summary(detected: &Detected) -> String {
    let languages: Vec<_> = detected.languages.iter().map(|(l, n)| format!("{l} ({n} files)")).collect();
    let none = || "none".to_owned();
    let list = |v: &[String]| if v.is_empty() { none() } else { v.join(", ") };
    format!(
        "detected: languages {}; lockfiles and manifests {}; Dockerfiles {}",
        if languages.is_empty() { none() } else { languages.join(", ") },
        list(&detected.lockfiles),
        list(&detected.dockerfiles)
    )
}

fn sluice_toml(detected: &Detected, extends: Option<&str>, profile: &str) -> String {
    let mut out =
        String::from("# sluice configuration, written by `sluice init`. The built-in stages run without any\n");
    out.push_str("# configuration; see docs/templates.md for extending an org template and adding tools.\n");
    let _ = writeln!(out, "# {}", summary(detected));
    if let Some(extends) = extends {
        let _ = writeln!(out, "{extends}");
    }
    let _ = write!(out, "\n[policy]\n# `velocity` blocks only new critical findings and leaked secrets; `constrained` blocks\n# every high and critical one.\nprofile = \"{profile}\"\n");
    out.push_str("\n# An external SARIF tool is a stage too, e.g.:\n# [stages.bandit]\n# command = \"bandit -r . -f sarif -q\"\n# files = [\"*.py\"]\n");
    out
}

fn github_workflow() -> String {
    format!(
        r#"# Written by `sluice init --ci github`: sluice on every pull request (only what it changes)
# and on the default branch (everything), with results in GitHub code scanning.
name: sluice
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
  security-events: write
jobs:
  sluice:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Install sluice
        run: {INSTALL}
      - name: Scan
        env:
          EVENT: ${{{{ github.event_name }}}}
          BASE_REF: ${{{{ github.base_ref }}}}
        run: |
          if [ "$EVENT" = pull_request ]; then
            sluice run . --since "origin/$BASE_REF" --format github --fail-on high
          else
            sluice run . --format github --fail-on high
          fi
      - name: Upload to code scanning
        if: always()
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: sluice-out/results.sarif
          category: sluice
"#
    )
}

fn gitlab_job() -> String {
    format!(
        r#"# Written by `sluice init --ci gitlab`: sluice on merge requests (only what they change) and
# on the default branch; the SAST report artifact puts findings in the merge request widget.
sluice:
  stage: test
  image: rust:1
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  variables:
    GIT_DEPTH: "0"
  script:
    - {INSTALL}
    - |
      if [ -n "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" ]; then
        git fetch origin "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
        sluice run . --since "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" --format gitlab-sast --fail-on high > gl-sast-report.json
      else
        sluice run . --format gitlab-sast --fail-on high > gl-sast-report.json
      fi
  artifacts:
    when: always
    reports:
      sast: gl-sast-report.json
    paths:
      - sluice-out/results.sarif
"#
    )
}

fn gitlab_root() -> String {
    "# Written by `sluice init --ci gitlab`.\nstages:\n  - test\n\ninclude:\n  - local: .gitlab/sluice.gitlab-ci.yml\n"
        .to_owned()
}

fn pre_commit_config() -> String {
    format!(
        "# Written by `sluice init --ci pre-commit`: `pre-commit install` runs sluice on what is staged.\n\
         repos:\n  - repo: {HOOKS_REPO}\n    rev: {HOOKS_REV}\n    hooks:\n      - id: sluice\n"
    )
}

fn git_hook() -> String {
    "#!/bin/sh\n# Written by `sluice init --ci pre-commit`: scan only what is staged, block on high and critical.\n\
     # Skip once with `git commit --no-verify`.\nexec sluice run --staged --fail-on high .\n"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_sources_become_extends_lines() {
        assert_eq!(extends_line("../org/t.toml", None).unwrap(), "extends = \"../org/t.toml\"");
        assert_eq!(
            extends_line("git+https://git.example.org/t.git@v1.2#base.toml", None).unwrap(),
            "extends = { git = \"https://git.example.org/t.git\", rev = \"v1.2\", path = \"base.toml\" }"
        );
        assert!(extends_line("git+https://git.example.org/t.git", None).is_err());
        assert!(extends_line("https://example.org/t.toml", None).unwrap_err().to_string().contains("--sha256"));
    }

    #[test]
    fn generated_sluice_toml_parses() {
        let detected = Detected::default();
        let text = sluice_toml(&detected, None, "constrained");
        let config = sluice_pipeline::Config::parse(&text, Path::new("sluice.toml")).unwrap();
        assert_eq!(config.policy.profile.as_deref(), Some("constrained"));
    }
}
