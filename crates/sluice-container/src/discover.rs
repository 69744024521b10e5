//! Finding Dockerfiles under a directory (names as `sluice_inventory::layout` decides, the
//! table the plan and the gate share), with the one walk of `sluice_repo::Walker`
//! (`.gitignore` honoured also outside a git repository, `.git` skipped, links not followed).

use std::path::{Path, PathBuf};

pub use sluice_inventory::layout::is_dockerfile_name;

/// The Dockerfiles under `root`, sorted, as paths relative to it. A walk error (an unreadable
/// directory) is returned with the files found, not instead of them.
pub fn discover(root: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let listing = sluice_repo::Walker::new(root).files();
    let files = listing
        .files
        .into_iter()
        .filter(|f| f.path.file_name().and_then(|n| n.to_str()).is_some_and(is_dockerfile_name))
        .map(|f| PathBuf::from(f.rel))
        .collect();
    (files, listing.errors.into_iter().map(|e| e.message).collect())
}
