//! The component inventory: which packages, at which exact versions, a repository (or a
//! container image) contains, and where each one is declared.
//!
//! This crate is the shared vocabulary of the dependency stage, the SBOM writer and the
//! container stage. Parsers for lockfiles and package databases produce [`Package`]s; the
//! advisory matcher (`sluice-advisory`) consumes them; nothing here touches the network.

use std::fmt;

use serde::{Deserialize, Serialize};

mod discover;
mod error;
mod format;
mod json_lines;
pub mod layout;
mod parsers;
pub mod purl;
pub mod sbom;
mod text;

pub use discover::{discover, discover_with, parse_bytes, parse_file, Config, Inventory, Lockfile};
pub use error::{ErrorKind, InventoryError};
pub use format::Format;

/// A package ecosystem, named as OSV names it (`osv_name`), so advisories match directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    CratesIo,
    Npm,
    PyPI,
    Go,
    Maven,
    RubyGems,
    Packagist,
    NuGet,
    Debian,
    Ubuntu,
    Alpine,
    /// Red Hat family (rpm); OSV names vary by distribution, see `osv_name`.
    Rpm,
}

impl Ecosystem {
    pub const ALL: &'static [Ecosystem] = &[
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::Maven,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::NuGet,
        Ecosystem::Debian,
        Ecosystem::Ubuntu,
        Ecosystem::Alpine,
        Ecosystem::Rpm,
    ];

    /// The ecosystem's name in OSV records (`affected[].package.ecosystem`, before any `:`
    /// release suffix such as `Debian:12`).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "Red Hat",
        }
    }

    /// Parses an OSV ecosystem name (the part before any `:`).
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or(name);
        Ecosystem::ALL.iter().copied().find(|e| e.osv_name() == base)
    }

    /// The package-url type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Debian | Ecosystem::Ubuntu => "deb",
            Ecosystem::Alpine => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// Whether the manifest asks for the package itself or it comes in through another package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Relationship {
    Direct,
    Transitive,
    /// The format does not say.
    Unknown,
}

/// Where a package is declared: a repository-relative path (`/`-separated) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

/// A checksum the lockfile records for the package artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hash {
    /// `SHA-256`, `SHA-512`, `SHA-1`, `MD5` (CycloneDX's algorithm names).
    pub algorithm: String,
    /// Lower-case hex.
    pub value: String,
}

/// Where a package's code comes from, as far as the lockfile says.
///
/// Advisory databases describe packages published to the ecosystem's registries; a git
/// checkout or a local path with the same name is another piece of code (cargo-audit, for
/// example, only matches registry packages).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Source {
    /// A package registry (crates.io, npmjs, PyPI, a mirror or a private registry).
    #[default]
    Registry,
    /// A git repository (URL, with the revision when the lockfile records it).
    Git(String),
    /// A local directory, relative to the lockfile.
    Path(String),
    /// A direct archive URL that is not a registry.
    Url(String),
}

/// One package at one exact version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// The name as the ecosystem's advisories spell it (`serde`, `@babel/core`,
    /// `org.apache.logging.log4j:log4j-core`, `github.com/gin-gonic/gin`). PyPI names are
    /// normalized per PEP 503.
    pub name: String,
    pub version: String,
    pub purl: String,
    pub relationship: Relationship,
    pub location: Location,
    pub hashes: Vec<Hash>,
    /// purls of the packages this one depends on, when the format records them.
    pub dependencies: Vec<String>,
    /// For image inventories: the layer (digest) that introduced the package.
    pub layer: Option<String>,
    /// Registry, git, path or URL.
    #[serde(default)]
    pub source: Source,
    /// For packages an OS package manager installed (image inventories): the distribution
    /// and source package, which is what distribution advisories name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
}

/// The distribution an OS package belongs to, as OSV's distribution ecosystems need it.
///
/// Distribution advisories (Debian's DSA/DLA, Alpine's secdb, Ubuntu's USN, the Red Hat
/// family's errata) are written per release (`Debian:12`, `Alpine:v3.20`,
/// `Ubuntu:22.04:LTS`, `Rocky Linux:9`) and, for Debian and Alpine, per *source* package:
/// `libc6` is fixed through `glibc`, `libcrypto3` through `openssl`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Distro {
    /// The OSV ecosystem without its release suffix (`Debian`, `Alpine`, `Ubuntu`,
    /// `Rocky Linux`, `AlmaLinux`, `Red Hat`).
    pub ecosystem: String,
    /// The release as OSV spells it after the `:` (`12`, `v3.20`, `22.04`, `9`); `None` when
    /// the image has no os-release, and then only release-less advisories can match.
    pub release: Option<String>,
    /// The source package (dpkg `Source:`, apk origin `o:`, the rpm's source rpm), when it
    /// differs from the binary package.
    pub source_name: Option<String>,
    /// The source package's version, when dpkg records one different from the binary's
    /// (binNMUs: `bash 5.2.15-2+b8` is built from source `5.2.15-2`).
    pub source_version: Option<String>,
}

impl Distro {
    /// The OSV ecosystem with its release (`Debian:12`), or without one when unknown.
    pub fn osv_ecosystem(&self) -> String {
        match &self.release {
            Some(r) => format!("{}:{r}", self.ecosystem),
            None => self.ecosystem.clone(),
        }
    }
}
