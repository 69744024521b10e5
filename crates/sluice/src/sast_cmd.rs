//! Diff-aware SAST at line granularity (`sluice scan sast --since REF --changed-lines`, or
//! `changed_lines = true` under `[stages.sast]` with `sluice run --since REF`): which lines a
//! change touched, from git, so the stage reports only findings on them.
//!
//! git runs here, not in `sluice-sast`, which stays a pure library: it parses the unified diff
//! ([`sluice_sast::ChangedLines::from_unified_diff`]) and filters findings.

use std::path::Path;

use anyhow::{bail, Result};
use sluice_repo::Git;
use sluice_sast::ChangedLines;

/// The lines changed since the merge base of `since` and HEAD (committed, staged and unstaged
/// changes; untracked files count as changed throughout), or, with `staged`, the lines staged
/// for commit.
pub fn changed_lines(root: &Path, since: Option<&str>, staged: bool) -> Result<ChangedLines> {
    // `-U0`: hunks cover exactly the changed lines; `--relative`: paths relative to the root,
    // like the scan's; no renames, colors or external diff drivers to misread.
    let diff_args = ["diff", "--unified=0", "--relative", "--no-color", "--no-ext-diff", "--no-renames"];
    // Diffs of files that are not UTF-8 still carry UTF-8 headers, which is all that is read.
    let git = Git::new(root);
    let mut changed = match (since, staged) {
        (Some(reference), _) => {
            let base = git.merge_base(reference)?;
            let mut args = diff_args.to_vec();
            args.push(&base);
            ChangedLines::from_unified_diff(&git.text(&args)?)
        }
        (None, true) => {
            let mut args = diff_args.to_vec();
            args.push("--cached");
            ChangedLines::from_unified_diff(&git.text(&args)?)
        }
        (None, false) => {
            bail!("--changed-lines needs to know what changed: add --since REF (e.g. --since origin/main) or --staged")
        }
    };
    if since.is_some() {
        let untracked = git.text(&["ls-files", "--others", "--exclude-standard", "-z"])?;
        for path in untracked.split('\0').filter(|p| !p.is_empty()) {
            changed.add_whole_file(path);
        }
    }
    Ok(changed)
}
