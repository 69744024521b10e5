//! Errors name the file and say what to do: one broken lockfile is reported next to the
//! packages of every other one, never instead of them.

use serde::{Deserialize, Serialize};

/// Why a lockfile or manifest could not be read. `path` is the root-relative path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct InventoryError {
    pub path: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read the file ({0}); check that it exists and is readable")]
    Io(String),
    #[error(
        "the file is {size} bytes, over the {limit}-byte limit for lockfiles; \
         raise the limit (--max-lockfile-size) if it is a genuine lockfile"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "not UTF-8 text (invalid byte at offset {offset}); lockfiles are UTF-8, regenerate it with its package manager"
    )]
    NotUtf8 { offset: usize },
    #[error("{}{message}; fix the file or regenerate it with its package manager", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Syntax { line: Option<u32>, message: String },
    #[error("{0}")]
    Unsupported(String),
}

impl InventoryError {
    pub fn new(path: &str, kind: ErrorKind) -> Self {
        InventoryError { path: path.to_string(), kind }
    }
}

/// A parser's failure, before the file name is attached.
pub(crate) fn syntax(line: Option<u32>, message: impl Into<String>) -> ErrorKind {
    ErrorKind::Syntax { line, message: message.into() }
}
