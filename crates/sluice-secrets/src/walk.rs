//! Getting bytes to the engine: a parallel, gitignore-aware directory walk, or an explicit
//! list of changed files. Per-file problems become [`Skipped`] entries, never errors.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::engine::Engine;
use crate::error::Error;
use crate::finding::Finding;
use crate::stream::{Windows, WINDOW};

pub use sluice_repo::Target;

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Sorted by path, line, column, then rule id.
    pub findings: Vec<Finding>,
    /// Files not scanned and why, sorted by path.
    pub skipped: Vec<Skipped>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    pub reason: SkipReason,
}

/// Why a file was not scanned. Invalid UTF-8 is not a reason: such files are scanned as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Not produced by the walk any more: text files above the size cap are scanned in
    /// windows. Kept for callers that match on it.
    TooLarge { size: u64, limit: u64 },
    /// The file or directory could not be read; the message says why.
    Unreadable(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "file of {size} bytes is larger than the {limit}-byte limit")
            }
            SkipReason::Unreadable(why) => write!(f, "unreadable: {why}"),
        }
    }
}

/// Per-scan accumulator shared by worker threads; findings are rare, so a mutex is cheap.
#[derive(Default)]
struct Collector {
    findings: Mutex<Vec<Finding>>,
    skipped: Mutex<Vec<Skipped>>,
    files: AtomicU64,
    bytes: AtomicU64,
}

impl Collector {
    fn skip(&self, path: String, reason: SkipReason) {
        lock(&self.skipped).push(Skipped { path, reason });
    }

    fn finish(self) -> Scan {
        let mut findings = self.findings.into_inner().unwrap_or_else(|p| p.into_inner());
        findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id, a.in_path).cmp(&(&b.path, b.line, b.column, &b.rule_id, b.in_path))
        });
        // A secret in a directory's name is found through every file under it.
        findings.dedup_by(|a, b| a.in_path && b.in_path && a == b);
        let mut skipped = self.skipped.into_inner().unwrap_or_else(|p| p.into_inner());
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        Scan { findings, skipped, files_scanned: self.files.into_inner(), bytes_scanned: self.bytes.into_inner() }
    }
}

/// A poisoned lock only means another worker panicked mid-push; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Scans a target with this engine's rules.
    pub fn scan(&self, target: Target<'_>) -> Result<Scan, Error> {
        let collector = Collector::default();
        let exclude = |rel: &str, is_dir: bool| self.is_allowed_path(rel, is_dir);
        let file = |path: &Path, rel, size, buf: &mut Vec<u8>| self.scan_file(path, rel, size, buf, &collector);
        let unreadable = |e: sluice_repo::WalkError| collector.skip(e.path, SkipReason::Unreadable(e.message));
        target
            .for_each_file(&exclude, file, unreadable)
            .map_err(|source| Error::Root { path: target.root().to_owned(), source })?;
        Ok(collector.finish())
    }

    /// Reads one file into `buf` (reused across files by a worker) and scans it, and its name.
    /// Files above the size cap are scanned in windows ([`crate::stream`]).
    fn scan_file(&self, full: &Path, rel: String, size: Option<u64>, buf: &mut Vec<u8>, collector: &Collector) {
        // Names first: a binary, unreadable or empty file can still be named after a secret.
        let named = self.scan_names(&rel);
        if !named.is_empty() {
            lock(&collector.findings).extend(named);
        }
        buf.clear();
        let mut file = match std::fs::File::open(full) {
            Ok(file) => file,
            Err(e) => {
                collector.skip(rel, SkipReason::Unreadable(e.to_string()));
                return;
            }
        };
        // The probe comes first so that binaries (archives, images, compiled translations)
        // are never read past their first block.
        if let Err(e) = sluice_repo::read_probe(&mut file, buf) {
            collector.skip(rel, SkipReason::Unreadable(e.to_string()));
            return;
        }
        if sluice_repo::is_binary(buf) {
            collector.skip(rel, SkipReason::Binary);
            return;
        }
        let oversized = size.is_some_and(|s| s > self.max_file_size);
        if !oversized {
            // Reading at most limit + 1 bytes catches files that grew since they were listed.
            if let Err(e) = sluice_repo::read_capped(&mut file, buf, self.max_file_size) {
                collector.skip(rel, SkipReason::Unreadable(e.to_string()));
                return;
            }
        }
        let found = if oversized || buf.len() as u64 > self.max_file_size {
            match self.scan_stream(&rel, buf, &mut file) {
                Ok((found, len)) => {
                    collector.bytes.fetch_add(len, Ordering::Relaxed);
                    found
                }
                Err(e) => {
                    collector.skip(rel, SkipReason::Unreadable(e.to_string()));
                    return;
                }
            }
        } else {
            collector.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            self.scan_bytes(&rel, buf)
        };
        collector.files.fetch_add(1, Ordering::Relaxed);
        if !found.is_empty() {
            lock(&collector.findings).extend(found);
        }
    }

    /// Scans what `buf` holds of the file and then the rest of it, window by window; returns
    /// the findings and the number of bytes read.
    fn scan_stream(
        &self,
        rel: &str,
        buf: &mut Vec<u8>,
        file: &mut std::fs::File,
    ) -> std::io::Result<(Vec<Finding>, u64)> {
        let mut windows = Windows::new(self, rel);
        let mut len = buf.len() as u64;
        windows.push(buf);
        loop {
            buf.clear();
            let read = (&mut *file).take(WINDOW as u64).read_to_end(buf)?;
            if read == 0 {
                break;
            }
            len += read as u64;
            windows.push(buf);
        }
        Ok((windows.finish(), len))
    }
}
