//! `sluice db update`: import sources and rewrite the database file atomically.

use std::collections::BTreeMap;
use std::path::Path;

use crate::import::{Import, Skipped};
use crate::store::{build, Database, Meta, SourceMeta, Stored};
use crate::Error;

/// What an update did.
#[derive(Debug)]
pub struct UpdateOutcome {
    pub meta: Meta,
    /// Records that could not be imported, per source location.
    pub skipped: Vec<(String, Skipped)>,
}

/// Adds or replaces sources in the database at `db_path` (created if missing). A source is
/// identified by its location: importing the same path or URL again replaces its records;
/// other sources are kept. `now` is Unix seconds. The file is written to a temporary file
/// beside it and renamed, so a reader never sees half a database.
pub fn update(db_path: &Path, sources: Vec<(String, Import)>, now: u64) -> Result<UpdateOutcome, Error> {
    let mut kept_sources: Vec<SourceMeta> = Vec::new();
    let mut records: Vec<Stored> = Vec::new();
    match Database::open(db_path) {
        Ok(old) => {
            let replaced: Vec<bool> =
                old.meta().sources.iter().map(|s| sources.iter().any(|(loc, _)| *loc == s.location)).collect();
            let mut remap: BTreeMap<usize, usize> = BTreeMap::new();
            for (i, s) in old.meta().sources.iter().enumerate() {
                if !replaced[i] {
                    remap.insert(i, kept_sources.len());
                    kept_sources.push(s.clone());
                }
            }
            for mut record in old.all()? {
                if let Some(&new_index) = remap.get(&record.source) {
                    record.source = new_index;
                    records.push(record);
                }
            }
        }
        // A missing, damaged or older-format database is simply rebuilt from the new sources.
        Err(Error::Missing { .. } | Error::Corrupt { .. } | Error::Format { .. }) => {}
        Err(e) => return Err(e),
    }
    let mut skipped = Vec::new();
    for (location, import) in sources {
        let index = kept_sources.len();
        kept_sources.push(SourceMeta {
            kind: import.kind,
            location: location.clone(),
            imported_at: now,
            advisories: import.advisories.len(),
            skipped: import.skipped.len(),
        });
        records.extend(import.advisories.into_iter().map(|advisory| Stored { source: index, advisory }));
        skipped.extend(import.skipped.into_iter().map(|s| (location.clone(), s)));
    }
    // Deterministic file contents: records by id, then source.
    records.sort_by(|a, b| a.advisory.id.cmp(&b.advisory.id).then(a.source.cmp(&b.source)));
    let mut per_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    let mut withdrawn = 0;
    for r in &records {
        if r.advisory.withdrawn.is_some() {
            withdrawn += 1;
        }
        let mut ecos: Vec<&str> =
            r.advisory.affected.iter().map(|a| a.ecosystem.split(':').next().unwrap_or(&a.ecosystem)).collect();
        ecos.sort();
        ecos.dedup();
        for e in ecos {
            *per_ecosystem.entry(e.to_owned()).or_default() += 1;
        }
    }
    let meta = Meta { updated_at: now, sources: kept_sources, per_ecosystem, withdrawn, total: records.len() };
    let bytes = build(&meta, &records)?;
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
    }
    let tmp = db_path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(|source| Error::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, db_path).map_err(|source| Error::Io { path: db_path.to_owned(), source })?;
    Ok(UpdateOutcome { meta, skipped })
}
