//! `sluice db update|status`: the offline advisory database of the deps and container stages
//! (`sluice_stages::deps`), filled from OSV and RustSec sources.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sluice_advisory::Database;
use sluice_stages::deps::{age_text, default_db_path, now, DEFAULT_MAX_AGE_DAYS};

use crate::cli::{DbArgs, DbCommand};

// ---------------------------------------------------------------------------------------
// sluice db

pub fn db(args: DbArgs) -> Result<u8> {
    let path = match &args.db {
        Some(p) => p.clone(),
        None => default_db_path()?,
    };
    match args.command {
        DbCommand::Update { from } => update(&path, &from),
        DbCommand::Status => status(&path),
    }
}

/// Fetches a URL with `curl` (the one network access sluice makes, and only when asked).
fn download(url: &str, dir: &Path) -> Result<PathBuf> {
    let target = dir.join("download.zip");
    let status = std::process::Command::new("curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--output"])
        .arg(&target)
        .arg(url)
        .status();
    match status {
        Ok(s) if s.success() => Ok(target),
        Ok(s) => {
            bail!("{url}: download failed (curl exited with {s}); download it yourself and pass the file to --from")
        }
        Err(e) => {
            bail!("{url}: cannot run curl to download it ({e}); download it yourself and pass the file to --from")
        }
    }
}

fn update(db_path: &Path, sources: &[String]) -> Result<u8> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut imports = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let (location, path) = if source.starts_with("https://") || source.starts_with("http://") {
            let dir = work.path().join(i.to_string());
            std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            eprintln!("downloading {source}");
            (source.clone(), download(source, &dir)?)
        } else {
            let path = PathBuf::from(source);
            let absolute = path.canonicalize().with_context(|| format!("{source}: cannot open the advisory source"))?;
            (absolute.display().to_string(), absolute)
        };
        let import = sluice_advisory::import(&path)?;
        eprintln!(
            "{location}: {} advisories ({}){}",
            import.advisories.len(),
            import.kind.as_str(),
            if import.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} records skipped", import.skipped.len())
            }
        );
        imports.push((location, import));
    }
    let outcome = sluice_advisory::update(db_path, imports, now())?;
    for (location, skipped) in &outcome.skipped {
        eprintln!("warning: {location}: skipped {}: {}", skipped.file, skipped.reason);
    }
    eprintln!("{}: {} advisories from {} sources", db_path.display(), outcome.meta.total, outcome.meta.sources.len());
    Ok(crate::exit::OK)
}

fn status(db_path: &Path) -> Result<u8> {
    let db = Database::open(db_path)?;
    // Status is also the integrity check: every record is decoded once.
    let records = db.all()?.len();
    let meta = db.meta();
    let age = now().saturating_sub(meta.updated_at);
    println!("database: {}", db_path.display());
    println!(
        "updated:  {} ago{}",
        age_text(age),
        if age > DEFAULT_MAX_AGE_DAYS * 86_400 { " (stale: run sluice db update)" } else { "" }
    );
    println!("advisories: {records} ({} withdrawn)", meta.withdrawn);
    println!("sources:");
    for s in &meta.sources {
        println!(
            "  {} ({}): {} advisories, {} skipped, imported {} ago",
            s.location,
            s.kind.as_str(),
            s.advisories,
            s.skipped,
            age_text(now().saturating_sub(s.imported_at))
        );
    }
    println!("per ecosystem:");
    for (eco, n) in &meta.per_ecosystem {
        println!("  {eco}: {n}");
    }
    Ok(crate::exit::OK)
}
