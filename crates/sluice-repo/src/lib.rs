//! The repository on disk, as every part of sluice sees it: which files there are
//! ([`Walker`]) and what git says about them ([`Git`]).
//!
//! This is the lowest sluice crate (it depends on no other), so the engines (secrets, SAST,
//! container), the inventory, the pipeline's scope and the binary (`init`, `plan`, triage,
//! the gate) all walk and ask git the same way: the same ignore files, the same skipped
//! directories, the same treatment of links, the same errors.

mod git;
mod walk;

pub use git::{Git, GitError};
pub use walk::{
    is_binary, read_capped, read_probe, relative, Listing, Target, Visit, WalkError, WalkFile, Walker, BINARY_PROBE,
};
