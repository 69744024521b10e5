//! Finding every lockfile under a root (monorepos) and parsing them in parallel.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, InventoryError};
use crate::format::Format;
use crate::parsers::{self, Ctx};
use crate::Package;

/// How discovery walks and how much it is willing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Files larger than this are refused with an error instead of read: parsers hold a whole
    /// file (and its parse tree) in memory, so this bounds memory per file. Real lockfiles of
    /// large monorepos reach tens of megabytes; 64 MiB leaves room.
    pub max_file_bytes: u64,
    /// Directory names never entered: installed or vendored third-party trees and build
    /// output, whose lockfiles belong to other projects (and whose packages the project's own
    /// lockfile already lists).
    pub skip_dirs: Vec<String>,
    /// Honour `.gitignore`, `.ignore` and git's exclude files (also outside a git checkout).
    pub respect_ignore_files: bool,
}

impl Config {
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
    /// `.git` and the shared table of vendored and build directories
    /// ([`crate::layout::VENDORED_DIRS`]).
    pub fn default_skip_dirs() -> Vec<String> {
        std::iter::once(".git").chain(crate::layout::VENDORED_DIRS.iter().copied()).map(str::to_owned).collect()
    }
}

impl Default for Config {
    /// The limits and skipped directories listed on [`Config`]'s fields.
    fn default() -> Self {
        Config {
            max_file_bytes: Config::DEFAULT_MAX_FILE_BYTES,
            skip_dirs: Config::default_skip_dirs(),
            respect_ignore_files: true,
        }
    }
}

/// Every lockfile and manifest found under a root, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub lockfiles: Vec<Lockfile>,
    /// Problems of the walk itself (unreadable directories, bad ignore files), with the path.
    pub walk_errors: Vec<String>,
}

impl Inventory {
    /// All packages of all lockfiles that parsed.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.lockfiles.iter().flat_map(|l| l.packages.iter())
    }

    /// The lockfiles that could not be read, each with a message naming it.
    pub fn errors(&self) -> impl Iterator<Item = &InventoryError> {
        self.lockfiles.iter().filter_map(|l| l.error.as_ref())
    }
}

/// One lockfile or manifest and what it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    /// Root-relative, `/`-separated.
    pub path: String,
    pub format: Format,
    /// Sorted; empty when `error` is set.
    pub packages: Vec<Package>,
    /// Why the file could not be read; the file's other packages are then not known.
    pub error: Option<InventoryError>,
}

/// [`discover_with`] with the default [`Config`].
pub fn discover(root: &Path) -> Inventory {
    discover_with(root, &Config::default())
}

/// Walks `root` (respecting ignore files, skipping [`Config::skip_dirs`]), recognizes
/// lockfiles by name ([`Format::detect_path`]) and parses them in parallel. Never fails as a
/// whole: an unreadable file is a [`Lockfile`] with an `error`.
pub fn discover_with(root: &Path, config: &Config) -> Inventory {
    let (found, walk_errors) = walk(root, config);
    let mut lockfiles: Vec<Lockfile> =
        found.par_iter().map(|(disk, relative, format)| parse_file(disk, relative, *format, config)).collect();
    lockfiles.sort_by(|a, b| a.path.cmp(&b.path));
    Inventory { lockfiles, walk_errors }
}

fn walk(root: &Path, config: &Config) -> (Vec<(PathBuf, String, Format)>, Vec<String>) {
    // A root that is itself a lockfile is that one file, by its name.
    let listing = sluice_repo::Walker::new(root)
        .skip_dirs(config.skip_dirs.iter().cloned())
        .ignore_files(config.respect_ignore_files)
        .files();
    let found = listing
        .files
        .into_iter()
        .filter_map(|f| Format::detect_path(&f.rel).map(|format| (f.path, f.rel, format)))
        .collect();
    (found, listing.errors.into_iter().map(|e| e.message).collect())
}

/// Reads and parses one file. `relative` is the path recorded in locations (root-relative,
/// `/`-separated). Includes (`-r` in requirements files) are read relative to `disk`.
pub fn parse_file(disk: &Path, relative: &str, format: Format, config: &Config) -> Lockfile {
    let base_dir = disk.parent().map(Path::to_path_buf).unwrap_or_default();
    let rel_dir = relative.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
    let read_include = |name: &str| -> Result<(String, String), String> {
        let rel = normalize_join(&rel_dir, name);
        let text = read_text(&base_dir.join(name), config.max_file_bytes).map_err(|e| format!("{rel}: {e}"))?;
        Ok((rel, text))
    };
    let result = read_text(disk, config.max_file_bytes).and_then(|text| {
        let ctx = Ctx { path: relative, read_include: &read_include };
        parsers::parse(format, &text, &ctx)
    });
    finish(relative, format, result)
}

/// Parses in-memory bytes (no includes are followed). For fuzzing, tests and stdin.
pub fn parse_bytes(bytes: &[u8], relative: &str, format: Format) -> Lockfile {
    let no_includes = |name: &str| -> Result<(String, String), String> {
        Err(format!("{name}: includes are not followed when parsing from memory"))
    };
    let result = to_text(bytes.to_vec()).and_then(|text| {
        let ctx = Ctx { path: relative, read_include: &no_includes };
        parsers::parse(format, &text, &ctx)
    });
    finish(relative, format, result)
}

fn finish(relative: &str, format: Format, result: Result<Vec<Package>, ErrorKind>) -> Lockfile {
    match result {
        Ok(mut packages) => {
            packages.sort();
            packages.dedup();
            Lockfile { path: relative.to_string(), format, packages, error: None }
        }
        Err(kind) => Lockfile {
            path: relative.to_string(),
            format,
            packages: Vec::new(),
            error: Some(InventoryError::new(relative, kind)),
        },
    }
}

/// Reads at most `limit` bytes; a larger file is refused before it is held in memory.
fn read_text(path: &Path, limit: u64) -> Result<String, ErrorKind> {
    let mut file = std::fs::File::open(path).map_err(|e| ErrorKind::Io(e.to_string()))?;
    let size = file.metadata().map_err(|e| ErrorKind::Io(e.to_string()))?.len();
    if size > limit {
        return Err(ErrorKind::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Capped: a file that grows while it is read is still refused.
    let over = sluice_repo::read_capped(&mut file, &mut bytes, limit).map_err(|e| ErrorKind::Io(e.to_string()))?;
    if over {
        return Err(ErrorKind::TooLarge { size: bytes.len() as u64, limit });
    }
    to_text(bytes)
}

fn to_text(bytes: Vec<u8>) -> Result<String, ErrorKind> {
    let text = String::from_utf8(bytes).map_err(|e| ErrorKind::NotUtf8 { offset: e.utf8_error().valid_up_to() })?;
    // A byte-order mark is legal in some of these formats (NuGet, pom.xml written on Windows).
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// `dir` + `name` with `.` and `..` resolved lexically, `/`-separated.
fn normalize_join(dir: &str, name: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}
