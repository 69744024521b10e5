//! The on-disk database: one file, read once, searched in place.
//!
//! ```text
//! "SLUICEDB" | u32 format | u32 n + meta JSON | u32 keys | keys × (u32 off, u32 len, u32 first, u32 count)
//! | u32 n + key bytes | u32 n + postings (u32 record indexes) | u32 records | records × (u64 off, u32 len)
//! | record bytes (JSON, one `Stored` each)
//! ```
//!
//! Keys are `<ecosystem>\0<name>` sorted bytewise, so a lookup is a binary search over the
//! fixed-size key table of the bytes as read; only the records of the packages asked about
//! are decoded. Opening therefore costs one read of the file and a header check — a few
//! milliseconds even for every OSV ecosystem — and nothing is built in memory. All integers
//! are little-endian; every offset is bounds-checked, so a truncated or corrupt file is an
//! error naming it, never a panic. The format is versioned: an older sluice refuses a newer
//! file with a message to run `sluice db update` again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::Advisory;
use crate::{Error, SourceKind};

const MAGIC: &[u8; 8] = b"SLUICEDB";
/// Bump when `Stored`, `Meta` or the layout change incompatibly.
pub const FORMAT_VERSION: u32 = 1;

/// One imported source, as `sluice db status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMeta {
    pub kind: SourceKind,
    /// The path or URL it was imported from.
    pub location: String,
    /// Unix seconds.
    pub imported_at: u64,
    pub advisories: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Unix seconds of the last update.
    pub updated_at: u64,
    pub sources: Vec<SourceMeta>,
    /// Advisories per OSV ecosystem (an advisory affecting two ecosystems counts in both).
    pub per_ecosystem: BTreeMap<String, usize>,
    pub withdrawn: usize,
    pub total: usize,
}

/// A record as stored: the advisory and the index of its source in `Meta::sources`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub source: usize,
    pub advisory: Advisory,
}

/// The index key of a package: the ecosystem without its `:release` suffix, and the name as
/// the ecosystem compares names (PyPI per PEP 503; NuGet, Packagist and Hex case-folded).
pub fn key(ecosystem: &str, name: &str) -> Vec<u8> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    let name = normalize_name(base, name);
    let mut key = Vec::with_capacity(base.len() + 1 + name.len());
    key.extend_from_slice(base.as_bytes());
    key.push(0);
    key.extend_from_slice(name.as_bytes());
    key
}

pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "NuGet" | "Packagist" | "Hex" => name.trim().to_lowercase(),
        _ => name.trim().to_owned(),
    }
}

/// Serializes a database.
pub fn build(meta: &Meta, records: &[Stored]) -> Result<Vec<u8>, serde_json::Error> {
    let mut postings: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
    let mut blobs = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let mut keys: Vec<Vec<u8>> = record.advisory.affected.iter().map(|a| key(&a.ecosystem, &a.name)).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            postings.entry(k).or_default().push(i as u32);
        }
        blobs.push(serde_json::to_vec(record)?);
    }
    let meta_json = serde_json::to_vec(meta)?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    put_bytes(&mut out, &meta_json);
    out.extend_from_slice(&(postings.len() as u32).to_le_bytes());
    let (mut key_bytes, mut post_bytes) = (Vec::new(), Vec::new());
    let mut first = 0u32;
    for (k, list) in &postings {
        out.extend_from_slice(&(key_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&first.to_le_bytes());
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        key_bytes.extend_from_slice(k);
        for r in list {
            post_bytes.extend_from_slice(&r.to_le_bytes());
        }
        first += list.len() as u32;
    }
    put_bytes(&mut out, &key_bytes);
    put_bytes(&mut out, &post_bytes);
    out.extend_from_slice(&(blobs.len() as u32).to_le_bytes());
    let mut offset = 0u64;
    for blob in &blobs {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        offset += blob.len() as u64;
    }
    for blob in blobs {
        out.extend_from_slice(&blob);
    }
    Ok(out)
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// An opened database: the file's bytes and the positions of its sections.
pub struct Database {
    path: PathBuf,
    bytes: Vec<u8>,
    meta: Meta,
    keys_at: usize,
    key_count: usize,
    key_bytes_at: usize,
    postings_at: usize,
    records_at: usize,
    record_count: usize,
    blobs_at: usize,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<usize> {
        let start = self.at;
        let end = start.checked_add(n)?;
        (end <= self.bytes.len()).then(|| {
            self.at = end;
            start
        })
    }

    fn u32(&mut self) -> Option<usize> {
        let at = self.take(4)?;
        read_u32(self.bytes, at)
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) as usize)
}

fn read_u64(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    usize::try_from(u64::from_le_bytes(b)).ok()
}

impl Database {
    /// Reads and checks the database at `path`.
    pub fn open(path: &Path) -> Result<Database, Error> {
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::Missing { path: path.to_owned() }
            } else {
                Error::Io { path: path.to_owned(), source }
            }
        })?;
        Database::from_bytes(path, bytes)
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Database, Error> {
        let corrupt = |what: &str| Error::Corrupt { path: path.to_owned(), message: what.to_owned() };
        if bytes.get(..8) != Some(&MAGIC[..]) {
            return Err(corrupt("not a sluice advisory database (bad magic)"));
        }
        let mut c = Cursor { bytes: &bytes, at: 8 };
        let format = c.u32().ok_or_else(|| corrupt("truncated header"))?;
        if format != FORMAT_VERSION as usize {
            return Err(Error::Format { path: path.to_owned(), found: format as u32 });
        }
        let meta_len = c.u32().ok_or_else(|| corrupt("truncated header"))?;
        let meta_at = c.take(meta_len).ok_or_else(|| corrupt("truncated metadata"))?;
        let meta: Meta = serde_json::from_slice(&bytes[meta_at..meta_at + meta_len])
            .map_err(|e| corrupt(&format!("unreadable metadata: {e}")))?;
        let key_count = c.u32().ok_or_else(|| corrupt("truncated key table"))?;
        let keys_at = c
            .take(key_count.checked_mul(16).ok_or_else(|| corrupt("key table too large"))?)
            .ok_or_else(|| corrupt("truncated key table"))?;
        let key_bytes_len = c.u32().ok_or_else(|| corrupt("truncated keys"))?;
        let key_bytes_at = c.take(key_bytes_len).ok_or_else(|| corrupt("truncated keys"))?;
        let post_len = c.u32().ok_or_else(|| corrupt("truncated postings"))?;
        let postings_at = c.take(post_len).ok_or_else(|| corrupt("truncated postings"))?;
        let record_count = c.u32().ok_or_else(|| corrupt("truncated record table"))?;
        let records_at = c
            .take(record_count.checked_mul(12).ok_or_else(|| corrupt("record table too large"))?)
            .ok_or_else(|| corrupt("truncated record table"))?;
        let blobs_at = c.at;
        Ok(Database {
            path: path.to_owned(),
            bytes,
            meta,
            keys_at,
            key_count,
            key_bytes_at,
            postings_at,
            records_at,
            record_count,
            blobs_at,
        })
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.record_count
    }

    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    fn corrupt(&self, what: &str) -> Error {
        Error::Corrupt { path: self.path.clone(), message: what.to_owned() }
    }

    fn key_at(&self, i: usize) -> Option<(&[u8], usize, usize)> {
        let at = self.keys_at + i * 16;
        let off = read_u32(&self.bytes, at)?;
        let len = read_u32(&self.bytes, at + 4)?;
        let first = read_u32(&self.bytes, at + 8)?;
        let count = read_u32(&self.bytes, at + 12)?;
        let start = self.key_bytes_at.checked_add(off)?;
        Some((self.bytes.get(start..start.checked_add(len)?)?, first, count))
    }

    /// Decodes record `index`.
    pub fn record(&self, index: usize) -> Result<Stored, Error> {
        if index >= self.record_count {
            return Err(self.corrupt("record index out of range"));
        }
        let at = self.records_at + index * 12;
        let (off, len) = read_u64(&self.bytes, at)
            .zip(read_u32(&self.bytes, at + 8))
            .ok_or_else(|| self.corrupt("truncated record table"))?;
        let start = self.blobs_at.checked_add(off).ok_or_else(|| self.corrupt("bad record offset"))?;
        let blob = start
            .checked_add(len)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| self.corrupt("truncated record"))?;
        serde_json::from_slice(blob).map_err(|e| self.corrupt(&format!("unreadable record {index}: {e}")))
    }

    /// The advisories that name package `name` of `ecosystem`.
    pub fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Stored>, Error> {
        let wanted = key(ecosystem, name);
        let (mut lo, mut hi) = (0, self.key_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, first, count) = self.key_at(mid).ok_or_else(|| self.corrupt("truncated key table"))?;
            match k.cmp(&wanted[..]) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let mut out = Vec::with_capacity(count);
                    for j in 0..count {
                        let at = first
                            .checked_add(j)
                            .and_then(|p| p.checked_mul(4))
                            .and_then(|p| p.checked_add(self.postings_at));
                        let index = at
                            .and_then(|at| read_u32(&self.bytes, at))
                            .ok_or_else(|| self.corrupt("truncated postings"))?;
                        out.push(self.record(index)?);
                    }
                    return Ok(out);
                }
            }
        }
        Ok(Vec::new())
    }

    /// Every record (for `db update`, which rebuilds the file).
    pub fn all(&self) -> Result<Vec<Stored>, Error> {
        (0..self.record_count).map(|i| self.record(i)).collect()
    }
}
