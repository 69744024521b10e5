//! The one way sluice runs git: the `git` command line in a directory, output captured, and
//! errors that name the command and the directory and tell "not a git repository" and "unknown
//! ref" apart from other failures.
//!
//! The command line rather than a library: the user has git wherever they have a repository,
//! its rename, ignore and config semantics are the reference, and it keeps sluice's build
//! small. (`sluice metrics` reads history with `gix`, which it needs for speed on long
//! histories.)

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// git run in one directory (`git -C <dir>`), with optional environment variables.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    env: Vec<(OsString, OsString)>,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `git {args}` in {dir}: {source} (is git installed and on PATH?)")]
    Spawn { dir: PathBuf, args: String, source: std::io::Error },
    #[error("{dir}: not a git repository (`git {args}`: {stderr})")]
    NotARepository { dir: PathBuf, args: String, stderr: String },
    #[error(
        "unknown git ref `{reference}` in {dir}: fetch it first (e.g. `git fetch origin main`) or name another ref"
    )]
    UnknownRef { dir: PathBuf, reference: String },
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Failed { dir: PathBuf, args: String, stderr: String },
}

impl Git {
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git { dir: dir.into(), env: Vec::new() }
    }

    /// Sets an environment variable for every command (`GIT_INDEX_FILE`, `GIT_TERMINAL_PROMPT`).
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Git {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command, not yet run: for callers that stream (`git cat-file --batch`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.dir).args(args);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Starts `git args` with stdin and stdout piped and stderr discarded.
    pub fn spawn_piped(&self, args: &[&str]) -> Result<Child, GitError> {
        self.command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| self.spawn_error(args, source))
    }

    /// Runs `git args` and returns what it printed, whatever its exit status. Only failing to
    /// start git is an error.
    pub fn run(&self, args: &[&str]) -> Result<Output, GitError> {
        self.command(args).output().map_err(|source| self.spawn_error(args, source))
    }

    /// Runs `git args`: its standard output when it succeeds, else an error naming the command,
    /// the directory and what git said, [`GitError::NotARepository`] when the directory is not
    /// in a repository.
    pub fn bytes(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let output = self.run(args)?;
        if output.status.success() {
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        let stderr = if stderr.is_empty() { format!("no message, {}", output.status) } else { stderr };
        if self.is_repository() {
            Err(GitError::Failed { dir: self.dir.clone(), args: args.join(" "), stderr })
        } else {
            Err(GitError::NotARepository { dir: self.dir.clone(), args: args.join(" "), stderr })
        }
    }

    /// [`Git::bytes`] as text (invalid UTF-8 replaced).
    pub fn text(&self, args: &[&str]) -> Result<String, GitError> {
        self.bytes(args).map(|out| String::from_utf8_lossy(&out).into_owned())
    }

    /// The trimmed output of `git args` when it succeeds and prints something: for questions
    /// whose "no" is a failure (`symbolic-ref` on a detached HEAD, `rev-parse` of a missing
    /// ref), where the caller falls back to something else.
    pub fn value(&self, args: &[&str]) -> Option<String> {
        let output = self.run(args).ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    }

    /// Whether the directory is inside a git work tree or repository.
    pub fn is_repository(&self) -> bool {
        self.run(&["rev-parse", "--git-dir"]).is_ok_and(|o| o.status.success())
    }

    /// The full id of the commit `reference` names: [`GitError::UnknownRef`] when it names
    /// none.
    pub fn commit(&self, reference: &str) -> Result<String, GitError> {
        let spec = format!("{reference}^{{commit}}");
        match self.value(&["rev-parse", "--verify", "--quiet", &spec]) {
            Some(id) => Ok(id),
            None => Err(self.unknown_ref(reference)),
        }
    }

    /// The merge base of `reference` and HEAD: what a merge request of HEAD into `reference`
    /// would bring is the change since it.
    pub fn merge_base(&self, reference: &str) -> Result<String, GitError> {
        match self.text(&["merge-base", reference, "HEAD"]) {
            Ok(out) => Ok(out.trim().to_owned()),
            Err(GitError::Failed { dir, args, stderr: _ }) => {
                if self.commit(reference).is_err() {
                    Err(GitError::UnknownRef { dir, reference: reference.to_owned() })
                } else if self.commit("HEAD").is_err() {
                    Err(GitError::Failed { dir, args, stderr: "HEAD names no commit yet".to_owned() })
                } else {
                    Err(GitError::Failed {
                        dir,
                        args,
                        stderr: format!("`{reference}` and HEAD have no common ancestor"),
                    })
                }
            }
            Err(other) => Err(other),
        }
    }

    fn unknown_ref(&self, reference: &str) -> GitError {
        if self.is_repository() {
            GitError::UnknownRef { dir: self.dir.clone(), reference: reference.to_owned() }
        } else {
            GitError::NotARepository {
                dir: self.dir.clone(),
                args: format!("rev-parse {reference}"),
                stderr: "no repository here".to_owned(),
            }
        }
    }

    fn spawn_error(&self, args: &[&str], source: std::io::Error) -> GitError {
        GitError::Spawn { dir: self.dir.clone(), args: args.join(" "), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let git = Git::new(dir.path());
        for args in [
            &["init", "--quiet", "--initial-branch=main"][..],
            &["config", "user.email", "t@example.com"],
            &["config", "user.name", "t"],
            &["config", "commit.gpgsign", "false"],
            &["commit", "--quiet", "--allow-empty", "-m", "one"],
        ] {
            git.bytes(args).unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    #[test]
    fn output_of_a_command_that_succeeds() {
        let dir = repo();
        let git = Git::new(dir.path());
        let head = git.commit("HEAD").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(head.len(), 40);
        assert_eq!(git.merge_base("main").unwrap_or_else(|e| panic!("{e}")), head);
        assert_eq!(git.value(&["symbolic-ref", "--short", "HEAD"]).as_deref(), Some("main"));
        assert!(git.is_repository());
    }

    #[test]
    fn an_unknown_ref_is_told_apart_from_a_missing_repository_and_other_failures() {
        let dir = repo();
        let git = Git::new(dir.path());
        let e = git.merge_base("no-such-ref").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("unknown git ref `no-such-ref` in "), "{e}");
        assert!(matches!(git.commit("no-such-ref"), Err(GitError::UnknownRef { .. })));
        let failed = git.bytes(&["cat-file", "-p", "no-such-object"]).err();
        let Some(GitError::Failed { args, .. }) = &failed else { panic!("{failed:?}") };
        assert_eq!(args, "cat-file -p no-such-object");
        let message = failed.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(&dir.path().display().to_string()), "{message}");

        let plain = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temporary one.
        let parent = plain.path().parent().map(Path::to_path_buf).unwrap_or_default();
        let outside = Git::new(plain.path()).env("GIT_CEILING_DIRECTORIES", parent);
        let e = outside.bytes(&["log"]).err();
        assert!(matches!(e, Some(GitError::NotARepository { .. })), "{e:?}");
        let text = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("not a git repository") && text.contains("`git log`"), "{text}");
        assert!(matches!(outside.merge_base("main"), Err(GitError::NotARepository { .. })));
        assert_eq!(outside.value(&["rev-parse", "HEAD"]), None);
    }

    #[test]
    fn git_that_cannot_start_names_the_command_and_the_directory() {
        let git = Git::new("/nonexistent/dir/for/sluice");
        let e = git.bytes(&["status"]).err().map(|e| e.to_string()).unwrap_or_default();
        // `-C` on a missing directory: git starts and refuses; either way the message says where.
        assert!(e.contains("/nonexistent/dir/for/sluice") && e.contains("status"), "{e}");
    }
}
