//! What a run looks at: the whole tree, or only what changed (diff-aware mode).
//!
//! Changed files come from the `git` command line rather than `gix`: the user has git wherever
//! they have a repository, its rename and ignore semantics are the reference, and it keeps
//! sluice's build small. Paths are relative to the scanned root (`git diff --relative`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sluice_repo::{Git, GitError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Root-relative paths with `/` separators. Deleted files are not in the set.
    Changed(BTreeSet<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// git could not run, the root is not in a repository, the ref is unknown, or git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{path}: cannot read the changed-files list: {source}")]
    List { path: PathBuf, source: std::io::Error },
}

impl Scope {
    /// Files changed between the merge base of `reference` and HEAD, plus uncommitted and
    /// untracked (not ignored) files: what a merge request would bring.
    pub fn since(root: &Path, reference: &str) -> Result<Scope, ScopeError> {
        let git = Git::new(root);
        let base = git.merge_base(reference)?;
        let mut files = z_list(&git.text(&["diff", "--name-only", "--relative", "--diff-filter=d", "-z", &base])?);
        files.extend(z_list(&git.text(&["ls-files", "--others", "--exclude-standard", "-z"])?));
        Ok(Scope::Changed(files))
    }

    /// Files with staged changes (pre-commit).
    pub fn staged(root: &Path) -> Result<Scope, ScopeError> {
        let out = Git::new(root).text(&["diff", "--cached", "--name-only", "--relative", "--diff-filter=d", "-z"])?;
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

/// Root-relative paths of the files under `root`, sorted: the one walk of
/// [`sluice_repo::Walker`] (`.gitignore` honoured, `.git` skipped, links not followed).
pub fn list_files(root: &Path) -> Vec<String> {
    sluice_repo::Walker::new(root).files().files.into_iter().map(|f| f.rel).collect()
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
