//! What a run looks at: the whole tree, or only what changed (diff-aware mode).
//!
//! Changed files come from the `git` command line rather than `gix`: the user has git wherever
//! they have a repository, its rename and ignore semantics are the reference, and it keeps
//! sluice's build small. Paths are relative to the scanned root (`git diff --relative`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Root-relative paths with `/` separators. Deleted files are not in the set.
    Changed(BTreeSet<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("cannot run git in {dir}: {source} (is git installed?)")]
    Spawn { dir: PathBuf, source: std::io::Error },
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Git { dir: PathBuf, args: String, stderr: String },
    #[error(
        "unknown git ref `{reference}` in {dir}: fetch it first (e.g. `git fetch origin main`) or name another ref"
    )]
    UnknownRef { dir: PathBuf, reference: String },
    #[error("{path}: cannot read the changed-files list: {source}")]
    List { path: PathBuf, source: std::io::Error },
}

impl Scope {
    /// Files changed between the merge base of `reference` and HEAD, plus uncommitted and
    /// untracked (not ignored) files: what a merge request would bring.
    pub fn since(root: &Path, reference: &str) -> Result<Scope, ScopeError> {
        let base = match git(root, &["merge-base", reference, "HEAD"]) {
            Ok(out) => out.trim().to_owned(),
            Err(ScopeError::Git { .. }) => {
                return Err(ScopeError::UnknownRef { dir: root.to_owned(), reference: reference.to_owned() })
            }
            Err(other) => return Err(other),
        };
        let mut files = z_list(&git(root, &["diff", "--name-only", "--relative", "--diff-filter=d", "-z", &base])?);
        files.extend(z_list(&git(root, &["ls-files", "--others", "--exclude-standard", "-z"])?));
        Ok(Scope::Changed(files))
    }

    /// Files with staged changes (pre-commit).
    pub fn staged(root: &Path) -> Result<Scope, ScopeError> {
        let out = git(root, &["diff", "--cached", "--name-only", "--relative", "--diff-filter=d", "-z"])?;
        Ok(Scope::Changed(z_list(&out)))
    }

    /// A newline-separated list of root-relative paths (blank lines and `#` comments skipped).
    pub fn from_list_file(path: &Path) -> Result<Scope, ScopeError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ScopeError::List { path: path.to_owned(), source })?;
        Ok(Scope::from_list(&text))
    }

    pub fn from_list(text: &str) -> Scope {
        let files = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.trim_start_matches("./").replace('\\', "/"))
            .collect();
        Scope::Changed(files)
    }

    pub fn contains(&self, path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Changed(files) => files.contains(path),
        }
    }

    pub fn is_diff_aware(&self) -> bool {
        matches!(self, Scope::Changed(_))
    }
}

fn z_list(out: &str) -> BTreeSet<String> {
    out.split('\0').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn git(dir: &Path, args: &[&str]) -> Result<String, ScopeError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|source| ScopeError::Spawn { dir: dir.to_owned(), source })?;
    if !output.status.success() {
        return Err(ScopeError::Git {
            dir: dir.to_owned(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Root-relative paths of the files under `root` (respecting `.gitignore`), sorted.
pub fn list_files(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter_map(|e| {
            let rel = e.path().strip_prefix(root).ok()?;
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    files.sort();
    files
}

/// Compiles a stage's `files` globs. A glob without `/` matches at any depth, as in
/// `.gitignore` (`*.py` is `**/*.py`).
pub fn glob_set(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let pattern = if glob.contains('/') { glob.clone() } else { format!("**/{glob}") };
        builder.add(GlobBuilder::new(&pattern).literal_separator(true).build()?);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_at_any_depth() {
        let set = glob_set(&["*.py".into(), "docker/**".into()]).unwrap();
        assert!(set.is_match("a/b/c.py"));
        assert!(set.is_match("c.py"));
        assert!(set.is_match("docker/x/Dockerfile"));
        assert!(!set.is_match("a/docker/x"));
        assert!(!set.is_match("c.pyc"));
    }

    #[test]
    fn list_parsing() {
        let scope = Scope::from_list("./a.py\n\n# note\nb/c.js\r\n");
        assert!(scope.contains("a.py") && scope.contains("b/c.js"));
        assert!(!scope.contains("d"));
    }
}
