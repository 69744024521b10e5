//! The container stage's engines: Dockerfile analysis before the build, and an inventory of
//! the packages inside a built image (from a `docker save` or OCI image-layout tarball) after
//! it. Pure library: inputs in, findings and inventories out; no printing, no SARIF (the
//! CLI's `container_cmd.rs` adapts them), no Docker engine, and nothing extracted to disk.

mod check;
mod discover;
mod dockerfile;
mod image_ref;
mod rules;
mod shell;
mod subst;

pub use check::{check, final_user, repository_image_key, CheckConfig, Finding};
pub use discover::{discover, is_dockerfile_name};
pub use dockerfile::{parse, Args, Dockerfile, Flag, Heredoc, Instruction, ParseProblem};
pub use image_ref::ImageRef;
pub use rules::{rule, Level, RuleInfo, RULES};
pub use shell::{split as split_shell, Command as ShellCommand, Join};
pub use subst::{expand, Expanded, Vars};

pub mod image;
pub use image::{inventory, inventory_from, ImageError, Inventory, LayerInfo, Limits, OsInfo};
