//! History mode: every blob reachable from any ref, each unique blob scanned once, each secret
//! reported once with the commit that introduced it.
//!
//! Reads the repository through the `git` command (`git log --raw` for which commit introduced
//! which blob, `git cat-file --batch` for contents): git's own object code is the fastest
//! reader of packfiles there is, it is wherever the repository is, and it keeps the build free
//! of a second git implementation. Blobs are scanned in parallel in batches of bounded size, so
//! memory stays flat however large the history.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sluice_repo::{Git, GitError};

use rayon::prelude::*;

use crate::engine::Engine;
use crate::finding::Finding;
use crate::stream::Windows;

/// Bytes of blob content held at once before a batch is scanned.
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// The commit that first brought a blob into the history (oldest first, over all refs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub author: String,
    /// Author date, ISO 8601 with offset.
    pub date: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryFinding {
    pub finding: Finding,
    pub commit: Commit,
}

#[derive(Debug, Default)]
pub struct HistoryScan {
    /// One per (rule, path, secret), sorted by path, line, rule.
    pub findings: Vec<HistoryFinding>,
    pub commits: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    /// Blobs not scanned: binary, or missing from a shallow clone. Blobs above the size limit
    /// are scanned in windows.
    pub blobs_skipped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// git could not run, the directory is not a repository, or git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{dir}: reading git objects failed: {source}")]
    Read { dir: PathBuf, source: std::io::Error },
}

struct BlobRef {
    blob: String,
    path: String,
    commit: usize,
}

/// Scans the history of the repository at `repo`.
pub fn scan_history(repo: &Path, engine: &Engine) -> Result<HistoryScan, HistoryError> {
    let (commits, blobs) = introduced_blobs(repo)?;
    let mut scan = HistoryScan { commits: commits.len() as u64, ..HistoryScan::default() };
    let mut seen: HashSet<SeenKey> = HashSet::new();
    // Names first, in history order: the first blob at a path is the commit that named it.
    let mut named: HashSet<&str> = HashSet::new();
    for blob in &blobs {
        if named.insert(&blob.path) {
            let found = engine.scan_names(&blob.path);
            record(found, &commits[blob.commit], &mut seen, &mut scan.findings);
        }
    }

    let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let ids: Vec<String> = blobs.iter().map(|b| b.blob.clone()).collect();
    read_blobs(repo, ids, |i, content| {
        let Some(content) = content else {
            // A missing object (shallow clone) or a non-blob: nothing to read.
            scan.blobs_skipped += 1;
            return;
        };
        let binary = sluice_repo::is_binary(&content);
        if binary {
            scan.blobs_skipped += 1;
            return;
        }
        scan.blobs_scanned += 1;
        scan.bytes_scanned += content.len() as u64;
        if content.len() as u64 > engine.max_file_size {
            // In history order: what is batched so far comes first.
            flush(&mut batch, &blobs, &commits, engine, &mut seen, &mut scan.findings);
            batch_bytes = 0;
            let found = scan_large(engine, &blobs[i].path, &content);
            record(found, &commits[blobs[i].commit], &mut seen, &mut scan.findings);
            return;
        }
        batch_bytes += content.len();
        batch.push((i, content));
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch, &blobs, &commits, engine, &mut seen, &mut scan.findings);
            batch_bytes = 0;
        }
    })?;
    flush(&mut batch, &blobs, &commits, engine, &mut seen, &mut scan.findings);
    scan.findings.sort_by(|a, b| {
        (&a.finding.path, a.finding.line, a.finding.column, &a.finding.rule_id).cmp(&(
            &b.finding.path,
            b.finding.line,
            b.finding.column,
            &b.finding.rule_id,
        ))
    });
    Ok(scan)
}

/// Streams the contents of the objects `ids` from `git cat-file --batch` to `each(index,
/// content)`; `None` for an object that is missing or not a blob.
fn read_blobs(repo: &Path, ids: Vec<String>, mut each: impl FnMut(usize, Option<Vec<u8>>)) -> Result<(), HistoryError> {
    let read_err = |source| HistoryError::Read { dir: repo.to_owned(), source };
    let mut child = Git::new(repo).spawn_piped(&["cat-file", "--batch"])?;
    let mut stdin = child.stdin.take().ok_or_else(|| read_err(std::io::Error::other("no stdin")))?;
    let stdout = child.stdout.take().ok_or_else(|| read_err(std::io::Error::other("no stdout")))?;
    let count = ids.len();
    // Feed the object ids from a thread: git answers while we write, and a full pipe in both
    // directions would deadlock a single thread.
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(&mut stdin);
        for id in ids {
            writeln!(out, "{id}")?;
        }
        out.flush()
    });
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut header = String::new();
    for i in 0..count {
        header.clear();
        reader.read_line(&mut header).map_err(read_err)?;
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            each(i, None);
            continue;
        }
        let size: usize = size.and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut content = vec![0u8; size];
        reader.read_exact(&mut content).map_err(read_err)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline).map_err(read_err)?;
        each(i, Some(content));
    }
    feeder.join().map_err(|_| read_err(std::io::Error::other("the git feeder thread panicked")))?.map_err(read_err)?;
    let _ = child.wait();
    Ok(())
}

/// Scans what is staged for commit: the index's version of every added or modified file, not
/// the working tree's (a secret that is staged and then edited out of the working copy is
/// still about to be committed). Paths are relative to `repo`.
pub fn scan_staged(repo: &Path, engine: &Engine) -> Result<Vec<Finding>, HistoryError> {
    let repository = Git::new(repo);
    let git = |args: &[&str]| repository.bytes(args);
    let names = git(&["diff", "--cached", "--name-only", "--relative", "--diff-filter=d", "-z"])?;
    let names: Vec<String> =
        names.split(|&b| b == 0).filter(|n| !n.is_empty()).map(|n| String::from_utf8_lossy(n).into_owned()).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // `ls-files -s` names the staged blob of each path: "<mode> <id> <stage>\t<path>".
    let mut args = vec!["ls-files", "-s", "-z", "--"];
    args.extend(names.iter().map(String::as_str));
    let listing = git(&args)?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else { continue };
        let parts: Vec<&str> = meta.split(' ').collect();
        if let [mode, id, _stage] = parts[..] {
            if mode.starts_with("100") {
                entries.push((id.to_owned(), path.to_owned()));
            }
        }
    }
    let mut findings: Vec<Finding> = entries.iter().flat_map(|(_, path)| engine.scan_names(path)).collect();
    let ids = entries.iter().map(|(id, _)| id.clone()).collect();
    read_blobs(repo, ids, |i, content| {
        if let Some(content) = content {
            let binary = sluice_repo::is_binary(&content);
            if binary {
                return;
            }
            if content.len() as u64 > engine.max_file_size {
                findings.extend(scan_large(engine, &entries[i].1, &content));
            } else {
                findings.extend(engine.scan_bytes(&entries[i].1, &content));
            }
        }
    })?;
    // A secret in a directory's name is found through every staged file under it.
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id, a.in_path).cmp(&(&b.path, b.line, b.column, &b.rule_id, b.in_path))
    });
    findings.dedup_by(|a, b| a.in_path && b.in_path && a == b);
    findings.sort_by(|a, b| (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id)));
    Ok(findings)
}

/// (rule, path, secret digest, in the path rather than the content): what is reported once.
type SeenKey = (String, String, String, bool);

fn flush(
    batch: &mut Vec<(usize, Vec<u8>)>,
    blobs: &[BlobRef],
    commits: &[Commit],
    engine: &Engine,
    seen: &mut HashSet<SeenKey>,
    out: &mut Vec<HistoryFinding>,
) {
    let found: Vec<(usize, Vec<Finding>)> =
        batch.par_iter().map(|(i, content)| (*i, engine.scan_bytes(&blobs[*i].path, content))).collect();
    // Batches hold blobs in history order, so the first time a secret is seen is the commit
    // that introduced it.
    for (i, findings) in found {
        record(findings, &commits[blobs[i].commit], seen, out);
    }
    batch.clear();
}

/// Keeps the findings not seen before, with the commit that introduced them.
fn record(findings: Vec<Finding>, commit: &Commit, seen: &mut HashSet<SeenKey>, out: &mut Vec<HistoryFinding>) {
    for finding in findings {
        let key = (finding.rule_id.clone(), finding.path.clone(), finding.secret_sha256.clone(), finding.in_path);
        if seen.insert(key) {
            out.push(HistoryFinding { finding, commit: commit.clone() });
        }
    }
}

/// A blob above the size limit, scanned in windows like a large file.
fn scan_large(engine: &Engine, path: &str, content: &[u8]) -> Vec<Finding> {
    if engine.is_allowed_path(path, false) {
        return Vec::new();
    }
    let mut windows = Windows::new(engine, path);
    windows.push(content);
    windows.finish()
}

/// Every commit reachable from any ref, oldest first, and for each blob the first commit and
/// path that added or modified it.
fn introduced_blobs(repo: &Path) -> Result<(Vec<Commit>, Vec<BlobRef>), HistoryError> {
    let output = Git::new(repo).bytes(&[
        "log",
        "--all",
        "--reverse",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-m",
        "-z",
        "--diff-filter=AM",
        "--format=%x01%H%x00%an%x00%aI",
    ])?;
    let text = String::from_utf8_lossy(&output);
    let mut commits = Vec::new();
    let mut blobs = Vec::new();
    let mut first: HashMap<String, ()> = HashMap::new();
    // With -z: each commit is "\x01<id>\0<author>\0<date>" then, per changed file,
    // "\0:<mode> <mode> <old> <new> <status>\0<path>" (the first separator may be "\n").
    for chunk in text.split('\u{1}').filter(|c| !c.is_empty()) {
        let mut fields = chunk.split('\0');
        let (Some(id), Some(author), Some(date)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let date = date.trim_end_matches('\n');
        let (date, first_raw) = match date.split_once('\n') {
            Some((d, rest)) => (d, Some(rest)),
            None => (date, None),
        };
        let index = commits.len();
        commits.push(Commit { id: id.trim().to_owned(), author: author.to_owned(), date: date.to_owned() });
        let mut rest = first_raw.into_iter().chain(fields).map(|f| f.trim_start_matches('\n'));
        while let Some(meta) = rest.next() {
            if !meta.starts_with(':') {
                continue;
            }
            let Some(path) = rest.next() else { break };
            let parts: Vec<&str> = meta[1..].split(' ').collect();
            // :old_mode new_mode old_id new_id status
            let [_, new_mode, _, new_id, _] = parts[..] else { continue };
            // Regular files only: not symlinks (120000) nor submodules (160000).
            if !new_mode.starts_with("100") || new_id.bytes().all(|b| b == b'0') {
                continue;
            }
            if first.insert(new_id.to_owned(), ()).is_none() {
                blobs.push(BlobRef { blob: new_id.to_owned(), path: path.to_owned(), commit: index });
            }
        }
    }
    Ok((commits, blobs))
}
