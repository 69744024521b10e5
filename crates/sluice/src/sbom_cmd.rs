//! `sluice sbom`: inventory every lockfile under a directory and write a CycloneDX 1.5 or
//! SPDX 2.3 JSON document. The work is in `sluice_inventory` (discovery, parsers, writers).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sluice_inventory::sbom::{self, SbomInfo};
use sluice_inventory::{discover_with, Config};
use sluice_report::escape::{terminal, terminal_lines};

use crate::exit;

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The directory (or one lockfile) to inventory.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Document format.
    #[arg(long, value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,
    /// Write the document to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Refuse lockfiles larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Config::DEFAULT_MAX_FILE_BYTES)]
    pub max_lockfile_size: u64,
    /// Also read lockfiles that .gitignore excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// Describe a container image instead: a `docker save` tarball or an OCI image layout
    /// archive (its OS and language packages, each with the layer that installed it).
    #[arg(long, value_name = "FILE.tar", conflicts_with_all = ["no_ignore"])]
    pub image: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.5 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// Seconds since the epoch for the document's creation time: `SOURCE_DATE_EPOCH` when set
/// (reproducible builds), else now.
fn created() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds")),
        Err(_) => {
            Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
        }
    }
}

fn project_name(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = if abs.is_file() { abs.parent().map(Path::to_path_buf).unwrap_or(abs) } else { abs };
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".to_string())
}

/// `sluice sbom --image`: the image's inventory as the document's components.
fn image_sbom(image: &Path, args: &SbomArgs) -> Result<u8> {
    let inv = sluice_container::inventory(image, &sluice_container::Limits::DEFAULT)?;
    for p in &inv.problems {
        let layer = p.layer.as_deref().map(|l| format!(" (layer {})", terminal(l))).unwrap_or_default();
        eprintln!("warning: {}{layer}: {}", image.display(), terminal_lines(&p.message));
    }
    let name =
        inv.repo_tags.first().cloned().unwrap_or_else(|| {
            image.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned())
        });
    let info =
        SbomInfo { name, tool_version: env!("CARGO_PKG_VERSION").to_string(), created: created()?, container: true };
    let text = match args.format {
        SbomFormat::Cyclonedx => sbom::cyclonedx_of(inv.packages.iter(), &info),
        SbomFormat::Spdx => sbom::spdx_of(inv.packages.iter(), &info),
    };
    write_out(args.output.as_deref(), &text)?;
    let os = inv.os.as_ref().and_then(|o| o.pretty_name.clone()).unwrap_or_else(|| "unknown OS".to_owned());
    eprintln!("{}: {os}, {} layers, {} packages", image.display(), inv.layers.len(), inv.packages.len());
    Ok(exit::OK)
}

fn write_out(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(file) => std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display())),
        None => std::io::stdout().lock().write_all(text.as_bytes()).context("cannot write to stdout"),
    }
}

pub fn sbom(args: SbomArgs) -> Result<u8> {
    if let Some(image) = &args.image {
        return image_sbom(image, &args);
    }
    if !args.path.exists() {
        bail!("{}: no such file or directory; pass the project directory to inventory", args.path.display());
    }
    let defaults = Config::default();
    let config = Config { max_file_bytes: args.max_lockfile_size, respect_ignore_files: !args.no_ignore, ..defaults };
    let inventory = discover_with(&args.path, &config);
    for problem in &inventory.walk_errors {
        eprintln!("warning: {}", terminal_lines(&problem.to_string()));
    }
    let errors: Vec<String> = inventory.errors().map(ToString::to_string).collect();
    for error in &errors {
        eprintln!("error: {}", terminal_lines(error));
    }
    if inventory.lockfiles.is_empty() {
        eprintln!(
            "warning: no lockfiles or manifests found under {}; the SBOM lists no components",
            args.path.display()
        );
    }
    let info = SbomInfo {
        name: project_name(&args.path),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created: created()?,
        container: false,
    };
    let text = match args.format {
        SbomFormat::Cyclonedx => sbom::cyclonedx(&inventory, &info),
        SbomFormat::Spdx => sbom::spdx(&inventory, &info),
    };
    write_out(args.output.as_deref(), &text)?;
    let packages = inventory.packages().count();
    eprintln!("{} lockfiles, {} packages", inventory.lockfiles.len(), packages);
    if errors.is_empty() {
        Ok(exit::OK)
    } else {
        eprintln!("error: {} lockfiles could not be read; the SBOM lacks their packages", errors.len());
        Ok(exit::FAILED)
    }
}

/// The repository's CycloneDX SBOM, as `sluice sbom` writes it, for `sluice push`.
pub fn repository_sbom(root: &Path) -> Result<String> {
    let inventory = discover_with(root, &Config::default());
    let info = SbomInfo {
        name: project_name(root),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created: created()?,
        container: false,
    };
    Ok(sbom::cyclonedx(&inventory, &info))
}
