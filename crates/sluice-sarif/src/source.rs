//! The one reader of source files for what a result points at: report snippets and the
//! fingerprints of third-party results.
//!
//! Invariant: a path from a SARIF log is read only when it names a regular file inside the
//! scanned root after every symlink is resolved. Absolute paths, `file://` URIs, `..` that
//! leaves the root, and symlinks (committed ones included) that lead out of it are never read,
//! so a hostile log cannot make sluice show or hash a file the repository does not hold.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Files larger than this are not read: results may point at image tarballs and other large
/// artifacts.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// The real path of `rel` when it is a regular file inside `root` (which need not be canonical)
/// after resolving symlinks; `None` for anything else.
pub fn resolve_in_root(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.is_empty() || rel.contains('\0') || rel.contains("://") {
        return None;
    }
    if rel_path.components().any(|c| matches!(c, Component::RootDir | Component::Prefix(_))) {
        return None;
    }
    let root = root.canonicalize().ok()?;
    let full = root.join(rel_path).canonicalize().ok()?;
    if !full.starts_with(&root) || !std::fs::metadata(&full).ok()?.is_file() {
        return None;
    }
    Some(full)
}

/// Source files under one root, each read at most once, through [`resolve_in_root`].
pub struct SourceFiles<'a> {
    root: Option<&'a Path>,
    canonical_root: Option<PathBuf>,
    /// Whether the lines are for showing: then large and binary files give none.
    display: bool,
    files: HashMap<String, Option<Vec<String>>>,
}

impl<'a> SourceFiles<'a> {
    /// A reader for files under `root`, to hash what a result points at; `None` reads nothing.
    pub fn new(root: Option<&'a Path>) -> SourceFiles<'a> {
        SourceFiles {
            root,
            canonical_root: root.and_then(|r| r.canonicalize().ok()),
            display: false,
            files: HashMap::new(),
        }
    }

    /// A reader for files under `root`, to show lines: files over [`MAX_SOURCE_BYTES`] and
    /// binary files (a NUL byte near the start, as git decides) give no lines, and every
    /// credential is redacted (`crate::redact_text`).
    pub fn for_display(root: Option<&'a Path>) -> SourceFiles<'a> {
        SourceFiles { display: true, ..SourceFiles::new(root) }
    }

    /// The lines of the file at `rel` (repository-relative), or `None` when it is outside the
    /// root, not a regular file, or unreadable (or, for display, too large or binary).
    /// Invalid UTF-8 is replaced.
    pub fn lines(&mut self, rel: &str) -> Option<&[String]> {
        let (Some(_), Some(root)) = (self.root, self.canonical_root.as_deref()) else {
            return None;
        };
        let display = self.display;
        self.files
            .entry(rel.to_owned())
            .or_insert_with(|| {
                let full = resolve_in_root(root, rel)?;
                if display && std::fs::metadata(&full).ok()?.len() > MAX_SOURCE_BYTES {
                    return None;
                }
                let bytes = std::fs::read(&full).ok()?;
                if display && bytes.iter().take(8000).any(|b| *b == 0) {
                    return None;
                }
                let text = String::from_utf8_lossy(&bytes);
                if display {
                    // Any credential in the file is redacted before a line of it can be shown;
                    // the whole text at once, so a multi-line key is seen whole (redaction
                    // keeps the line breaks, so line numbers still hold).
                    return Some(crate::redact::redact_text(&text).lines().map(str::to_owned).collect());
                }
                Some(text.lines().map(str::to_owned).collect())
            })
            .as_deref()
    }

    /// Line `line` (1-based) of the file at `rel`, under the same conditions as [`Self::lines`].
    pub fn line(&mut self, rel: &str, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.lines(rel)?.get(index).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_root() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().join("repo");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("a")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&outside).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(root.join("a/in.txt"), "in\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(outside.join("out.txt"), "out\n").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.join("out.txt"), root.join("link")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(root.join("a/in.txt"), root.join("inner")).unwrap_or_else(|e| panic!("{e}"));
        let out = outside.join("out.txt").display().to_string();
        let mut files = SourceFiles::new(Some(&root));
        assert_eq!(files.line("a/in.txt", 1), Some("in"));
        assert_eq!(files.line("a/../a/in.txt", 1), Some("in"));
        assert_eq!(files.line("inner", 1), Some("in"), "a symlink inside the root is followed");
        for bad in ["../outside/out.txt", "a/../../outside/out.txt", out.as_str(), "link", "a", ""] {
            assert_eq!(files.line(bad, 1), None, "{bad}");
        }
        assert_eq!(files.line(&format!("file://{out}"), 1), None);
        assert_eq!(SourceFiles::new(None).line("a/in.txt", 1), None);
    }
}
