//! Which file names are which lockfile or manifest formats.

use serde::{Deserialize, Serialize};

use crate::Ecosystem;

/// A lockfile or manifest format sluice reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Format {
    /// `Cargo.lock`, versions 1 to 4.
    CargoLock,
    /// `package-lock.json`, lockfileVersion 1 to 3.
    NpmPackageLock,
    /// `npm-shrinkwrap.json` (the package-lock format, published with a package).
    NpmShrinkwrap,
    /// `yarn.lock`, classic (v1) and berry (v2+).
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// `requirements*.txt` (pinned `==` lines).
    Requirements,
    /// `poetry.lock`.
    PoetryLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `uv.lock`.
    UvLock,
    /// `go.mod`.
    GoMod,
    /// `Gemfile.lock`.
    GemfileLock,
    /// `composer.lock`.
    ComposerLock,
    /// `pom.xml` (declared versions).
    PomXml,
    /// `gradle.lockfile`.
    GradleLockfile,
    /// NuGet's `packages.lock.json`.
    NugetLock,
    /// A CycloneDX JSON SBOM (`bom.json`, `*.cdx.json`).
    CycloneDx,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::CargoLock,
        Format::NpmPackageLock,
        Format::NpmShrinkwrap,
        Format::YarnLock,
        Format::PnpmLock,
        Format::Requirements,
        Format::PoetryLock,
        Format::PipfileLock,
        Format::UvLock,
        Format::GoMod,
        Format::GemfileLock,
        Format::ComposerLock,
        Format::PomXml,
        Format::GradleLockfile,
        Format::NugetLock,
        Format::CycloneDx,
    ];

    /// The format a file name says, if any: the inventory's column of the table detection
    /// shares ([`crate::layout::package_file_name`]). Names are matched exactly as the tools
    /// write them, except `requirements*.txt`, which projects vary (`requirements/base.txt` is
    /// matched only as a path: see [`Format::detect_path`]).
    pub fn detect(file_name: &str) -> Option<Format> {
        crate::layout::package_file_name(file_name)?.format
    }

    /// Like [`Format::detect`] on the last component, plus `*.txt` files inside a directory
    /// named `requirements` (`requirements/base.txt`, a common layout):
    /// [`crate::layout::package_file`].
    pub fn detect_path(relative: &str) -> Option<Format> {
        crate::layout::package_file(relative)?.format
    }

    /// A short stable name (`cargo-lock`, `package-lock`, …) for messages and SARIF properties.
    pub fn name(self) -> &'static str {
        match self {
            Format::CargoLock => "Cargo.lock",
            Format::NpmPackageLock => "package-lock.json",
            Format::NpmShrinkwrap => "npm-shrinkwrap.json",
            Format::YarnLock => "yarn.lock",
            Format::PnpmLock => "pnpm-lock.yaml",
            Format::Requirements => "requirements.txt",
            Format::PoetryLock => "poetry.lock",
            Format::PipfileLock => "Pipfile.lock",
            Format::UvLock => "uv.lock",
            Format::GoMod => "go.mod",
            Format::GemfileLock => "Gemfile.lock",
            Format::ComposerLock => "composer.lock",
            Format::PomXml => "pom.xml",
            Format::GradleLockfile => "gradle.lockfile",
            Format::NugetLock => "packages.lock.json",
            Format::CycloneDx => "CycloneDX SBOM",
        }
    }

    /// The ecosystem of the packages the format lists (`None` for SBOMs, which mix them).
    pub fn ecosystem(self) -> Option<Ecosystem> {
        Some(match self {
            Format::CargoLock => Ecosystem::CratesIo,
            Format::NpmPackageLock | Format::NpmShrinkwrap | Format::YarnLock | Format::PnpmLock => Ecosystem::Npm,
            Format::Requirements | Format::PoetryLock | Format::PipfileLock | Format::UvLock => Ecosystem::PyPI,
            Format::GoMod => Ecosystem::Go,
            Format::GemfileLock => Ecosystem::RubyGems,
            Format::ComposerLock => Ecosystem::Packagist,
            Format::PomXml | Format::GradleLockfile => Ecosystem::Maven,
            Format::NugetLock => Ecosystem::NuGet,
            Format::CycloneDx => return None,
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
