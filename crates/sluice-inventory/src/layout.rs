//! What a repository's file names say, in one table every stage, the plan and the gate share:
//! which files are Dockerfiles, which are lockfiles, manifests and SBOMs (and which of them the
//! inventory reads, as which [`Format`]), which directories hold other people's code or build
//! output.

use crate::{Ecosystem, Format};

/// Extensions that make a `Dockerfile.*` or `Dockerfile_*` name a document, a leftover or
/// source code about Dockerfiles, not a Dockerfile (`Dockerfile.5.md`, moby's man page;
/// `Dockerfile.orig`; `dockerfile_parser.py`).
const NOT_DOCKERFILES: &[&str] = &[
    "md", "txt", "rst", "html", "adoc", "json", "yml", "yaml", "orig", "rej", "bak", "swp", "sh", "go", "py", "j2",
    "js", "mjs", "cjs", "ts", "rs", "java", "rb", "php", "c", "h", "cc", "cpp", "cs", "kt", "scala", "toml", "ini",
    "cfg", "xml", "lock", "log", "patch", "diff", "pdf", "png", "svg", "gz", "tar", "zip",
];

/// Whether a file name is a Dockerfile's, in the spellings projects use: `Dockerfile`,
/// `Containerfile`, `Dockerfile.prod`, `Dockerfile-web`, `Dockerfile_web` (OWASP
/// wrongsecrets), `Containerfile.prod`, `api.Dockerfile`, `api.containerfile`; any case.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if let Some((_, ext)) = lower.rsplit_once('.') {
        if NOT_DOCKERFILES.contains(&ext) {
            return false;
        }
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower.strip_prefix(base).is_some_and(|rest| rest.len() > 1 && rest.starts_with(['.', '-', '_']))
            || lower.strip_suffix(base).is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
    })
}

/// What a dependency file is: one row of the table detection (`sluice plan`, the gate,
/// `sluice init`) and the inventory (the deps stage, `sluice sbom`) share, so that what the plan
/// calls a lockfile is what the deps stage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageFile {
    /// The ecosystem of the packages it lists; `None` for an SBOM, which mixes them.
    pub ecosystem: Option<Ecosystem>,
    pub kind: PackageFileKind,
    /// How the inventory reads it; `None` when it is detected but not read (`package.json`,
    /// `go.sum`: the lockfile or `go.mod` beside it says more).
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageFileKind {
    /// Exact versions of every package: `Cargo.lock`, `poetry.lock`, a `requirements-lock.txt`.
    Lockfile,
    /// Declared dependencies, ranges allowed: `package.json`, `pyproject.toml`, `requirements.txt`.
    Manifest,
    /// A software bill of materials: `bom.json`, `*.cdx.json`.
    Sbom,
}

const fn row(ecosystem: Ecosystem, kind: PackageFileKind, format: Option<Format>) -> PackageFile {
    PackageFile { ecosystem: Some(ecosystem), kind, format }
}

const LOCK: PackageFileKind = PackageFileKind::Lockfile;
const MANIFEST: PackageFileKind = PackageFileKind::Manifest;
const SBOM: PackageFile = PackageFile { ecosystem: None, kind: PackageFileKind::Sbom, format: Some(Format::CycloneDx) };

/// Dependency files by exact name, as the tools write them. Besides these: `requirements*.txt`
/// and `requirements/*.txt`, and `*.cdx.json` ([`package_file`]).
pub const PACKAGE_FILES: &[(&str, PackageFile)] = &[
    ("package-lock.json", row(Ecosystem::Npm, LOCK, Some(Format::NpmPackageLock))),
    ("npm-shrinkwrap.json", row(Ecosystem::Npm, LOCK, Some(Format::NpmShrinkwrap))),
    ("yarn.lock", row(Ecosystem::Npm, LOCK, Some(Format::YarnLock))),
    ("pnpm-lock.yaml", row(Ecosystem::Npm, LOCK, Some(Format::PnpmLock))),
    ("package.json", row(Ecosystem::Npm, MANIFEST, None)),
    ("poetry.lock", row(Ecosystem::PyPI, LOCK, Some(Format::PoetryLock))),
    ("Pipfile.lock", row(Ecosystem::PyPI, LOCK, Some(Format::PipfileLock))),
    ("uv.lock", row(Ecosystem::PyPI, LOCK, Some(Format::UvLock))),
    ("pdm.lock", row(Ecosystem::PyPI, LOCK, None)),
    ("pyproject.toml", row(Ecosystem::PyPI, MANIFEST, None)),
    ("Pipfile", row(Ecosystem::PyPI, MANIFEST, None)),
    ("setup.py", row(Ecosystem::PyPI, MANIFEST, None)),
    ("Cargo.lock", row(Ecosystem::CratesIo, LOCK, Some(Format::CargoLock))),
    ("Cargo.toml", row(Ecosystem::CratesIo, MANIFEST, None)),
    ("go.sum", row(Ecosystem::Go, LOCK, None)),
    ("go.mod", row(Ecosystem::Go, MANIFEST, Some(Format::GoMod))),
    ("Gemfile.lock", row(Ecosystem::RubyGems, LOCK, Some(Format::GemfileLock))),
    ("gems.locked", row(Ecosystem::RubyGems, LOCK, Some(Format::GemfileLock))),
    ("Gemfile", row(Ecosystem::RubyGems, MANIFEST, None)),
    ("gems.rb", row(Ecosystem::RubyGems, MANIFEST, None)),
    ("composer.lock", row(Ecosystem::Packagist, LOCK, Some(Format::ComposerLock))),
    ("composer.json", row(Ecosystem::Packagist, MANIFEST, None)),
    ("packages.lock.json", row(Ecosystem::NuGet, LOCK, Some(Format::NugetLock))),
    ("pom.xml", row(Ecosystem::Maven, MANIFEST, Some(Format::PomXml))),
    ("gradle.lockfile", row(Ecosystem::Maven, LOCK, Some(Format::GradleLockfile))),
    ("build.gradle", row(Ecosystem::Maven, MANIFEST, None)),
    ("build.gradle.kts", row(Ecosystem::Maven, MANIFEST, None)),
    ("bom.json", SBOM),
];

/// A requirements file: read for its pinned `==` lines. It is a lockfile when its name says
/// so (`requirements-lock.txt`, `requirements_lock.txt` of Bazel's rules_python,
/// `requirements.lock.txt`), else a manifest.
fn requirements(name: &str) -> PackageFile {
    let kind = if name.to_ascii_lowercase().contains("lock") { LOCK } else { MANIFEST };
    row(Ecosystem::PyPI, kind, Some(Format::Requirements))
}

/// The dependency file a file name is, if any: [`PACKAGE_FILES`], `requirements*.txt`,
/// `*.cdx.json`. See [`package_file`] for paths.
pub fn package_file_name(name: &str) -> Option<PackageFile> {
    if let Some((_, file)) = PACKAGE_FILES.iter().find(|(n, _)| *n == name) {
        return Some(*file);
    }
    if name.ends_with(".cdx.json") {
        return Some(SBOM);
    }
    (name.starts_with("requirements") && name.ends_with(".txt")).then(|| requirements(name))
}

/// [`package_file_name`] of a root-relative path's last component, plus `*.txt` files in a
/// directory named `requirements` (`requirements/base.txt`, a common layout).
pub fn package_file(path: &str) -> Option<PackageFile> {
    let mut parts = path.rsplit('/');
    let name = parts.next()?;
    package_file_name(name)
        .or_else(|| (name.ends_with(".txt") && parts.next() == Some("requirements")).then(|| requirements(name)))
}

/// Directories of other people's code: installed packages, vendored trees, virtual
/// environments, compiled output. Neither detection (plan, gate, `init`) nor the lockfile
/// inventory enters them.
pub const VENDORED_DIRS: &[&str] =
    &["node_modules", "bower_components", "vendor", "target", ".venv", "venv", "site-packages", "__pycache__"];

/// Build output directories: detection leaves them out (a `dist/` copy of the sources is not
/// more code to require stages for), the inventory reads them unless an ignore file says not
/// to (some projects keep real lockfiles under `build/`).
pub const BUILD_OUTPUT_DIRS: &[&str] = &["dist", "build"];

/// Whether detection leaves a directory out: [`VENDORED_DIRS`] and [`BUILD_OUTPUT_DIRS`].
pub fn is_vendored_dir(name: &str) -> bool {
    VENDORED_DIRS.contains(&name) || BUILD_OUTPUT_DIRS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for n in [
            "Dockerfile",
            "dockerfile",
            "Containerfile",
            "Dockerfile.prod",
            "Dockerfile_web",
            "Dockerfile-web",
            "Containerfile.prod",
            "containerfile_dev",
            "api.Dockerfile",
            "api.containerfile",
        ] {
            assert!(is_dockerfile_name(n), "{n}");
        }
        for n in [
            "Dockerfile-old.txt",
            "docker-compose.yml",
            "Makefile",
            "Dockerfile.5.md",
            "Dockerfile.orig",
            "dockerfile_parser.py",
            "dockerfile-lint.js",
            "Dockerfile.",
            "Dockerfiles",
            ".dockerfile",
        ] {
            assert!(!is_dockerfile_name(n), "{n}");
        }
    }

    #[test]
    fn one_table_says_what_detection_counts_and_what_the_inventory_reads() {
        // Every format the inventory reads has a row (or a pattern) in the table.
        let mut read: Vec<Format> = PACKAGE_FILES.iter().filter_map(|(_, f)| f.format).collect();
        read.extend(package_file("requirements.txt").and_then(|f| f.format));
        for format in Format::ALL {
            assert!(read.contains(format), "{format:?} is read by the inventory but has no row");
        }
        for (name, file) in PACKAGE_FILES {
            assert_eq!(Format::detect(name), file.format, "{name}");
            assert_eq!(package_file(&format!("sub/dir/{name}")), Some(*file), "{name}");
            assert_eq!(file.ecosystem.is_none(), file.kind == PackageFileKind::Sbom, "{name}");
        }
        let kind = |path: &str| package_file(path).map(|f| (f.kind, f.format));
        let requirements = Some(Format::Requirements);
        assert_eq!(kind("requirements-lock.txt"), Some((PackageFileKind::Lockfile, requirements)));
        assert_eq!(kind("py/requirements_lock.txt"), Some((PackageFileKind::Lockfile, requirements)));
        assert_eq!(kind("requirements.txt"), Some((PackageFileKind::Manifest, requirements)));
        assert_eq!(kind("requirements/base.txt"), Some((PackageFileKind::Manifest, requirements)));
        assert_eq!(kind("app.cdx.json"), Some((PackageFileKind::Sbom, Some(Format::CycloneDx))));
        assert_eq!(kind("go.sum"), Some((PackageFileKind::Lockfile, None)));
        assert_eq!(kind("docs/base.txt"), None);
        assert_eq!(kind("README.md"), None);
    }
}
