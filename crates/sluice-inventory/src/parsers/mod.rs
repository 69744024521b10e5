//! One module per format. Each takes the file's text and returns its packages or an
//! [`ErrorKind`] saying what is wrong; none of them panics on any input (the proptest suite
//! and the fuzz targets check this).

use crate::error::ErrorKind;
use crate::format::Format;
use crate::{purl, Ecosystem, Hash, Location, Package, Relationship, Source};

mod cargo;
mod composer;
mod cyclonedx;
mod gemfile;
mod gomod;
mod gradle;
mod npm;
mod nuget;
mod pipfile;
mod pnpm;
mod poetry;
mod pom;
mod requirements;
mod uv;
mod yarn;

/// Reads a file named relative to the lockfile's directory: `(root-relative path, text)`.
pub(crate) type ReadInclude<'a> = dyn Fn(&str) -> Result<(String, String), String> + 'a;

/// What a parser may know about the file besides its text.
pub(crate) struct Ctx<'a> {
    /// Root-relative path, for locations.
    pub path: &'a str,
    /// Reads a file named relative to this file's directory; returns its root-relative path
    /// and text. Used for `-r` includes and sibling manifests (pyproject.toml).
    pub read_include: &'a ReadInclude<'a>,
}

pub(crate) fn parse(format: Format, text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    match format {
        Format::CargoLock => cargo::parse(text, ctx),
        Format::NpmPackageLock | Format::NpmShrinkwrap => npm::parse(text, ctx),
        Format::Requirements => requirements::parse(text, ctx),
        Format::PoetryLock => poetry::parse(text, ctx),
        Format::PipfileLock => pipfile::parse(text, ctx),
        Format::UvLock => uv::parse(text, ctx),
        Format::YarnLock => yarn::parse(text, ctx),
        Format::PnpmLock => pnpm::parse(text, ctx),
        Format::GoMod => gomod::parse(text, ctx),
        Format::GemfileLock => gemfile::parse(text, ctx),
        Format::ComposerLock => composer::parse(text, ctx),
        Format::PomXml => pom::parse(text, ctx),
        Format::GradleLockfile => gradle::parse(text, ctx),
        Format::NugetLock => nuget::parse(text, ctx),
        Format::CycloneDx => cyclonedx::parse(text, ctx),
    }
}

/// A registry package with its purl; callers set relationship, hashes, dependencies, source.
pub(crate) fn package(ecosystem: Ecosystem, name: &str, version: &str, path: &str, line: u32) -> Package {
    Package {
        ecosystem,
        name: name.to_string(),
        version: version.to_string(),
        purl: purl::purl(ecosystem, name, version),
        relationship: Relationship::Unknown,
        location: Location { path: path.to_string(), line },
        hashes: Vec::new(),
        dependencies: Vec::new(),
        layer: None,
        source: Source::Registry,
        distro: None,
    }
}

/// `sha256:abcd…` / `sha512-<base64>` (SRI) → a [`Hash`]; `None` for unknown algorithms.
pub(crate) fn hash(algorithm: &str, value: &str, base64: bool) -> Option<Hash> {
    let algorithm = match algorithm.to_ascii_lowercase().as_str() {
        "sha1" => "SHA-1",
        "sha256" => "SHA-256",
        "sha384" => "SHA-384",
        "sha512" => "SHA-512",
        "md5" => "MD5",
        _ => return None,
    };
    let value = if base64 {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    } else {
        let v = value.trim().to_ascii_lowercase();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        v
    };
    Some(Hash { algorithm: algorithm.to_string(), value })
}

/// An SRI integrity string (`sha512-… sha1-…`), as npm, yarn and pnpm record it.
pub(crate) fn sri_hashes(integrity: &str) -> Vec<Hash> {
    integrity
        .split_whitespace()
        .filter_map(|part| part.split_once('-'))
        .filter_map(|(alg, value)| hash(alg, value, true))
        .collect()
}

/// A JSON syntax error as an [`ErrorKind`] with its line.
pub(crate) fn json_error(err: &serde_json::Error) -> ErrorKind {
    crate::error::syntax(u32::try_from(err.line()).ok().filter(|l| *l > 0), format!("invalid JSON: {err}"))
}

/// A TOML syntax error with its line (toml reports a byte span).
pub(crate) fn toml_error(text: &str, err: &toml::de::Error) -> ErrorKind {
    let line = err.span().map(|span| crate::text::LineIndex::new(text).line(span.start));
    let message = err.message().to_string();
    crate::error::syntax(line, format!("invalid TOML: {message}"))
}

/// Refuses TOML nested deeper than any lockfile needs, before a recursive parser sees it.
pub(crate) fn check_toml_nesting(text: &str) -> Result<(), ErrorKind> {
    const LIMIT: usize = 32;
    match crate::text::toml_nesting_exceeds(text, LIMIT) {
        Some(line) => {
            Err(crate::error::syntax(Some(line), format!("arrays or tables nest more than {LIMIT} levels deep")))
        }
        None => Ok(()),
    }
}
