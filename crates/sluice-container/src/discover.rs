//! Finding Dockerfiles under a directory: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`,
//! `*.dockerfile` and `Containerfile` (and `Containerfile.*`), honouring `.gitignore` files
//! (also outside a git repository) and skipping `.git`.

use std::path::{Path, PathBuf};

/// Extensions that make a `Dockerfile.*` name a document or a leftover, not a Dockerfile.
const NOT_DOCKERFILES: &[&str] =
    &["md", "txt", "rst", "html", "adoc", "json", "yml", "yaml", "orig", "rej", "bak", "swp", "sh", "go", "py", "j2"];

/// Whether a file name is a Dockerfile's.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // `Dockerfile.5.md` (moby's man page), `Dockerfile.orig`: documents and leftovers.
    if let Some((_, ext)) = lower.rsplit_once('.') {
        if NOT_DOCKERFILES.contains(&ext) {
            return false;
        }
    }
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// The Dockerfiles under `root`, sorted, as paths relative to it. A walk error (an unreadable
/// directory) is returned with the files found, not instead of them.
pub fn discover(root: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.file_type().is_some_and(|t| t.is_file()) && e.file_name().to_str().is_some_and(is_dockerfile_name)
                {
                    let rel = e.path().strip_prefix(root).unwrap_or(e.path()).to_path_buf();
                    files.push(rel);
                }
            }
            Err(err) => errors.push(err.to_string()),
        }
    }
    files.sort();
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in ["Dockerfile", "Dockerfile.prod", "api.Dockerfile", "Containerfile", "dockerfile"] {
            assert!(is_dockerfile_name(n), "{n}");
        }
        for n in ["Dockerfile-old.txt", "docker-compose.yml", "Makefile", "Dockerfile.5.md", "Dockerfile.orig"] {
            assert!(!is_dockerfile_name(n), "{n}");
        }
    }
}
