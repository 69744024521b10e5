//! Reading advisory sources: an OSV `all.zip`, a directory of OSV JSON/YAML records, or a
//! RustSec advisory-db checkout. One unreadable record never stops an import: it is
//! reported in `Import::skipped` with its file and reason.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::model::Advisory;
use crate::{osv, rustsec, Error};

/// Records larger than this are not advisories (the largest OSV records are a few MiB).
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What kind of source a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SourceKind {
    /// A zip of OSV JSON records (OSV's per-ecosystem `all.zip`).
    OsvZip,
    /// A directory tree of OSV `.json`/`.yaml` records.
    OsvDir,
    /// A RustSec advisory-db checkout (`crates/<name>/RUSTSEC-*.md`).
    RustSec,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::OsvZip => "OSV zip",
            SourceKind::OsvDir => "OSV directory",
            SourceKind::RustSec => "RustSec advisory-db",
        }
    }
}

/// A record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file (or `zip!entry`).
    pub file: String,
    pub reason: String,
}

#[derive(Debug)]
pub struct Import {
    pub kind: SourceKind,
    pub advisories: Vec<Advisory>,
    pub skipped: Vec<Skipped>,
}

/// Detects the kind of `path`: a `.zip` file, a directory with `crates/` holding RustSec
/// markdown, or any other directory (OSV records).
pub fn detect(path: &Path) -> Result<SourceKind, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if meta.is_file() {
        let mut magic = [0u8; 4];
        let mut file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let n = file.read(&mut magic).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if n == 4 && &magic == b"PK\x03\x04" {
            return Ok(SourceKind::OsvZip);
        }
        return Err(Error::Source {
            path: path.to_owned(),
            message:
                "not a zip archive; give an OSV all.zip, a directory of OSV records, or a RustSec advisory-db checkout"
                    .into(),
        });
    }
    if path.join("crates").is_dir() && std::fs::read_dir(path.join("crates")).is_ok() {
        return Ok(SourceKind::RustSec);
    }
    Ok(SourceKind::OsvDir)
}

/// Imports every record of the source at `path`.
pub fn import(path: &Path) -> Result<Import, Error> {
    let kind = detect(path)?;
    let mut import = Import { kind, advisories: Vec::new(), skipped: Vec::new() };
    match kind {
        SourceKind::OsvZip => import_zip(path, &mut import)?,
        SourceKind::OsvDir | SourceKind::RustSec => {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|source| Error::Io { path: path.to_owned(), source })?;
            files.sort();
            for file in files {
                import_file(path, &file, kind, &mut import);
            }
        }
    }
    if import.advisories.is_empty() {
        let first =
            import.skipped.first().map(|s| format!(" (first problem: {}: {})", s.file, s.reason)).unwrap_or_default();
        return Err(Error::Source {
            path: path.to_owned(),
            message: format!("no advisories found in this {}{first}", kind.as_str()),
        });
    }
    Ok(import)
}

/// Collects files below `dir`, skipping hidden directories (`.git`, `.github`).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&entry.path(), out)?;
        } else if ty.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn import_file(root: &Path, file: &Path, kind: SourceKind, import: &mut Import) {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let wanted = match kind {
        SourceKind::RustSec => {
            ext == "md" && file.file_name().is_some_and(|n| n.to_string_lossy().starts_with("RUSTSEC-"))
        }
        _ => matches!(ext, "json" | "yaml" | "yml"),
    };
    if !wanted {
        return;
    }
    let display = file.strip_prefix(root).unwrap_or(file).to_string_lossy().replace('\\', "/");
    let skip = |import: &mut Import, reason: String| import.skipped.push(Skipped { file: display.clone(), reason });
    match std::fs::metadata(file) {
        Ok(m) if m.len() > MAX_RECORD_BYTES => return skip(import, format!("larger than {MAX_RECORD_BYTES} bytes")),
        Err(e) => return skip(import, e.to_string()),
        Ok(_) => {}
    }
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return skip(import, e.to_string()),
    };
    let parsed = match (kind, ext) {
        (_, "json") => osv::parse_json(&bytes),
        (SourceKind::RustSec, _) => {
            std::str::from_utf8(&bytes).map_err(|_| "not UTF-8".to_owned()).and_then(rustsec::parse)
        }
        _ => std::str::from_utf8(&bytes).map_err(|_| "not UTF-8".to_owned()).and_then(osv::parse_yaml),
    };
    match parsed {
        Ok(a) => import.advisories.push(a),
        Err(reason) => skip(import, reason),
    }
}

fn import_zip(path: &Path, import: &mut Import) -> Result<(), Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::Source { path: path.to_owned(), message: format!("not a readable zip archive: {e}") })?;
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                import.skipped.push(Skipped { file: format!("{}!#{i}", path.display()), reason: e.to_string() });
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                import.skipped.push(Skipped { file: format!("{}!#{i}", path.display()), reason: e.to_string() });
                continue;
            }
        };
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        let label = format!("{}!{name}", path.display());
        if entry.size() > MAX_RECORD_BYTES {
            import.skipped.push(Skipped { file: label, reason: format!("larger than {MAX_RECORD_BYTES} bytes") });
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        // `take` bounds what a lying size field can make us allocate.
        if let Err(e) = (&mut entry).take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes) {
            import.skipped.push(Skipped { file: label, reason: e.to_string() });
            continue;
        }
        match osv::parse_json(&bytes) {
            Ok(a) => import.advisories.push(a),
            Err(reason) => import.skipped.push(Skipped { file: label, reason }),
        }
    }
    Ok(())
}
