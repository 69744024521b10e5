//! Finding Dockerfiles under a directory (names as `sluice_inventory::layout` decides, the
//! table the plan and the gate share), honouring `.gitignore` files (also outside a git
//! repository) and skipping `.git`.

use std::path::{Path, PathBuf};

pub use sluice_inventory::layout::is_dockerfile_name;

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
