//! Getting source files to the engine: a parallel, gitignore-aware directory walk, or an
//! explicit list of changed files. Per-file problems become [`Skipped`] or [`Warning`]
//! entries, never errors.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::engine::Engine;
use crate::error::Error;
use crate::finding::Finding;
use crate::lang::Lang;

pub use sluice_repo::Target;

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Sorted by path, line, column, then rule id.
    pub findings: Vec<Finding>,
    /// Files in a supported language that were not scanned, and why; sorted by path.
    pub skipped: Vec<Skipped>,
    /// Files scanned with a caveat (syntax errors, invalid UTF-8); sorted by path.
    pub warnings: Vec<Warning>,
    /// Files in a supported language that were read.
    pub files_scanned: u64,
    /// Of those, files some rule could apply to, which were parsed.
    pub files_parsed: u64,
    pub bytes_scanned: u64,
}

impl Scan {
    /// Diff-aware mode at line granularity: keeps only findings whose lines overlap a
    /// change (files absent from `changed` keep nothing).
    pub fn retain_changed_lines(&mut self, changed: &crate::ChangedLines) {
        self.findings.retain(|f| changed.touches(&f.path, f.line, f.end_line));
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    pub reason: SkipReason,
}

/// Why a file was not scanned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB.
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// A built JavaScript asset by name (`*.min.js`, `*-min.js`, `*.bundle.js`, `*.chunk.js`)
    /// whose lines are far longer than hand-written code has.
    Minified {
        average_line: u64,
    },
    /// Lines far longer than hand-written code has in a file not named like a built asset:
    /// one huge literal, or minified code under an ordinary name. The file decides this.
    LongLines {
        average_line: u64,
    },
    /// The file says it is generated (`@generated`, `Code generated … DO NOT EDIT.`,
    /// bindgen's header): findings belong to the generator or its input, and nobody edits
    /// the output to fix them.
    Generated {
        marker: &'static str,
    },
    /// The syntax tree nests deeper than the limit.
    TooDeep {
        limit: usize,
    },
    /// Parsing and matching took longer than the per-file limit.
    Timeout {
        seconds: f32,
    },
    /// The file could not be read; the message says why.
    Unreadable(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "file of {size} bytes is larger than the {limit}-byte limit (raise `max_file_size` to scan it)"
                )
            }
            SkipReason::Minified { average_line } => {
                write!(f, "a minified asset (lines average {average_line} bytes)")
            }
            SkipReason::LongLines { average_line } => write!(
                f,
                "lines average {average_line} bytes (a huge literal or minified code); name a built asset `*.min.js`, or exclude it with `exclude_paths`"
            ),
            SkipReason::Generated { marker } => write!(f, "generated code (its header says `{marker}`)"),
            SkipReason::TooDeep { limit } => write!(f, "syntax nests deeper than {limit} levels"),
            SkipReason::Timeout { seconds } => write!(f, "parsing and matching took longer than {seconds:.0} s"),
            SkipReason::Unreadable(why) => write!(f, "unreadable: {why}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub kind: WarningKind,
}

/// A caveat on a scanned file's results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// The parser recovered from syntax errors; matches inside the broken parts may be
    /// missing.
    SyntaxErrors { count: usize, first_line: usize },
    /// Invalid UTF-8 sequences were read as U+FFFD; columns after them may be off.
    InvalidUtf8,
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WarningKind::SyntaxErrors { count, first_line } => write!(
                f,
                "{count} syntax error{} (first on line {first_line}); results may be incomplete",
                if *count == 1 { "" } else { "s" }
            ),
            WarningKind::InvalidUtf8 => f.write_str("not valid UTF-8; invalid bytes were read as U+FFFD"),
        }
    }
}

/// Files at least this large with lines this long on average are bundles, not source.
const MINIFIED_MIN_SIZE: usize = 16 * 1024;
const MINIFIED_AVERAGE_LINE: usize = 400;

#[derive(Default)]
struct Collector {
    findings: Mutex<Vec<Finding>>,
    skipped: Mutex<Vec<Skipped>>,
    warnings: Mutex<Vec<Warning>>,
    files: AtomicU64,
    parsed: AtomicU64,
    bytes: AtomicU64,
}

impl Collector {
    fn skip(&self, path: String, reason: SkipReason) {
        lock(&self.skipped).push(Skipped { path, reason });
    }

    fn finish(self) -> Scan {
        let mut findings = self.findings.into_inner().unwrap_or_else(|p| p.into_inner());
        findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id, a.end_line, a.end_column).cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule_id,
                b.end_line,
                b.end_column,
            ))
        });
        let mut skipped = self.skipped.into_inner().unwrap_or_else(|p| p.into_inner());
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let mut warnings = self.warnings.into_inner().unwrap_or_else(|p| p.into_inner());
        warnings.sort_by(|a, b| a.path.cmp(&b.path));
        Scan {
            findings,
            skipped,
            warnings,
            files_scanned: self.files.into_inner(),
            files_parsed: self.parsed.into_inner(),
            bytes_scanned: self.bytes.into_inner(),
        }
    }
}

/// A poisoned lock only means another worker panicked mid-push; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Scans a target with this engine's rules, in parallel over files.
    pub fn scan(&self, target: Target<'_>) -> Result<Scan, Error> {
        let collector = Collector::default();
        let exclude = |rel: &str, is_dir: bool| self.is_excluded(rel, is_dir);
        let file = |path: &Path, rel, size, buf: &mut Vec<u8>| self.scan_file(path, rel, size, buf, &collector);
        let unreadable = |e: sluice_repo::WalkError| collector.skip(e.path, SkipReason::Unreadable(e.message));
        target
            .for_each_file(&exclude, file, unreadable)
            .map_err(|source| Error::Root { path: target.root().to_owned(), source })?;
        Ok(collector.finish())
    }

    /// Reads one file into `buf` (reused across files by a worker) and scans it. Files in
    /// languages without rules are not read at all.
    fn scan_file(&self, full: &Path, rel: String, size: Option<u64>, buf: &mut Vec<u8>, collector: &Collector) {
        let has_extension = full.extension().is_some();
        let by_extension = Lang::of_path(full, b"");
        if has_extension && by_extension.is_none_or(|l| !self.has_rules_for(l)) {
            return;
        }
        if let Some(size) = size.filter(|&s| s > self.max_file_size) {
            if by_extension.is_some() {
                collector.skip(rel, SkipReason::TooLarge { size, limit: self.max_file_size });
            }
            return;
        }
        buf.clear();
        let mut file = match std::fs::File::open(full) {
            Ok(file) => file,
            Err(e) => {
                if by_extension.is_some() {
                    collector.skip(rel, SkipReason::Unreadable(e.to_string()));
                }
                return;
            }
        };
        if let Err(e) = sluice_repo::read_probe(&mut file, buf) {
            if by_extension.is_some() {
                collector.skip(rel, SkipReason::Unreadable(e.to_string()));
            }
            return;
        }
        // Extensionless files are scripts only when a `#!` line names an interpreter.
        let Some(lang) = by_extension.or_else(|| Lang::of_path(full, buf)) else { return };
        if !self.has_rules_for(lang) {
            return;
        }
        if sluice_repo::is_binary(buf) {
            collector.skip(rel, SkipReason::Binary);
            return;
        }
        // Reading at most limit + 1 bytes catches files that grew since they were listed.
        if let Err(e) = sluice_repo::read_capped(&mut file, buf, self.max_file_size) {
            collector.skip(rel, SkipReason::Unreadable(e.to_string()));
            return;
        }
        let len = buf.len() as u64;
        if len > self.max_file_size {
            collector.skip(rel, SkipReason::TooLarge { size: len, limit: self.max_file_size });
            return;
        }
        if let Some(average_line) = minified(buf) {
            let reason = if built_asset_name(&rel) {
                SkipReason::Minified { average_line }
            } else {
                SkipReason::LongLines { average_line }
            };
            collector.skip(rel, reason);
            return;
        }
        if let Some(marker) = generated(buf) {
            collector.skip(rel, SkipReason::Generated { marker });
            return;
        }
        collector.files.fetch_add(1, Ordering::Relaxed);
        collector.bytes.fetch_add(len, Ordering::Relaxed);
        let source = match std::str::from_utf8(buf) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                lock(&collector.warnings).push(Warning { path: rel.clone(), kind: WarningKind::InvalidUtf8 });
                String::from_utf8_lossy(buf)
            }
        };
        let outcome = self.scan_text(&rel, lang, &source);
        if outcome.parsed {
            collector.parsed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(reason) = outcome.skipped {
            collector.skip(rel.clone(), reason);
        }
        if !outcome.warnings.is_empty() {
            lock(&collector.warnings)
                .extend(outcome.warnings.into_iter().map(|kind| Warning { path: rel.clone(), kind }));
        }
        if !outcome.findings.is_empty() {
            lock(&collector.findings).extend(outcome.findings);
        }
    }
}

/// The average line length when a file looks minified.
fn minified(content: &[u8]) -> Option<u64> {
    if content.len() < MINIFIED_MIN_SIZE {
        return None;
    }
    let lines = content.iter().filter(|&&b| b == b'\n').count() + 1;
    let average = content.len() / lines;
    (average > MINIFIED_AVERAGE_LINE).then_some(average as u64)
}

/// Whether a file is named like a built JavaScript asset (`app.min.js`, `vendor-min.mjs`,
/// `main.bundle.js`, `1.chunk.cjs`): the conventions bundlers follow, visible in any review.
/// Minification is a JavaScript practice; long lines anywhere else are the file's own doing.
fn built_asset_name(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    matches!(ext, "js" | "mjs" | "cjs")
        && [".min", "-min", ".bundle", ".chunk"].iter().any(|suffix| stem.ends_with(suffix))
}

/// Lines at the top of a file where a generator's notice is looked for.
const GENERATED_HEADER_LINES: usize = 10;

/// The marker a generated file announces itself with in its first lines, following the
/// conventions tools agree on: `@generated` (Facebook's, used by Cargo and many code
/// generators), Go's `// Code generated … DO NOT EDIT.` (golang.org/s/generatedcode), the
/// "Generated … DO NOT EDIT" notices of protoc and friends, and rust-bindgen's header.
fn generated(content: &[u8]) -> Option<&'static str> {
    let head = content.split(|b| *b == b'\n').take(GENERATED_HEADER_LINES);
    for line in head {
        let line = String::from_utf8_lossy(line);
        if line.contains("@generated") {
            return Some("@generated");
        }
        if line.contains("automatically generated by rust-bindgen") {
            return Some("automatically generated by rust-bindgen");
        }
        if line.contains("DO NOT EDIT") && line.to_ascii_lowercase().contains("generated") {
            return Some("generated … DO NOT EDIT");
        }
    }
    None
}
