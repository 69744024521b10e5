//! Lockfiles of applications installed in an image (`/app/package-lock.json`,
//! `/srv/Cargo.lock`), parsed with the inventory's own parsers.
//!
//! Only formats that pin exact versions are read. Manifests that declare ranges or that
//! package caches hold by the thousand are not: `pom.xml` (every artifact in `~/.m2`),
//! `go.mod` (every module in the module cache and GOROOT; Go binaries give the truth),
//! `requirements*.txt` (often unpinned, and shipped as test data inside packages), CycloneDX
//! `bom.json` (any file of that name). Lockfiles inside installed packages and caches
//! (`node_modules`, `site-packages`, Cargo's registry, Go's module cache, installed gems,
//! `/usr/share/doc`) are skipped as trivy does: they describe how a dependency was developed,
//! not what the image runs, and the installed package itself is already inventoried.

use sluice_inventory::Format;

/// Directory names under which lockfiles are not read.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "site-packages",
    "dist-packages",
    ".cargo",
    ".rustup",
    ".npm",
    ".yarn",
    ".cache",
    "gems",
    "vendor",
    "testdata",
];

/// The lockfile format of an image path (relative, no leading `/`), if it is one read here.
pub fn format_of(path: &str) -> Option<Format> {
    let format = Format::detect_path(path)?;
    let read = matches!(
        format,
        Format::CargoLock
            | Format::NpmPackageLock
            | Format::NpmShrinkwrap
            | Format::YarnLock
            | Format::PnpmLock
            | Format::PoetryLock
            | Format::PipfileLock
            | Format::UvLock
            | Format::GemfileLock
            | Format::ComposerLock
            | Format::GradleLockfile
            | Format::NugetLock
    );
    if !read || path.starts_with("usr/share/doc/") || path.contains("/pkg/mod/") {
        return None;
    }
    let mut dirs = path.split('/').rev().skip(1);
    (!dirs.any(|d| SKIPPED_DIRS.contains(&d))).then_some(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_paths() {
        assert_eq!(format_of("app/package-lock.json"), Some(Format::NpmPackageLock));
        assert_eq!(format_of("srv/Cargo.lock"), Some(Format::CargoLock));
        assert_eq!(format_of("app/node_modules/x/package-lock.json"), None);
        assert_eq!(format_of("root/.cargo/registry/src/x/Cargo.lock"), None);
        assert_eq!(format_of("root/go/pkg/mod/a@v1/go.mod"), None);
        assert_eq!(format_of("app/go.mod"), None);
        assert_eq!(format_of("app/pom.xml"), None);
        assert_eq!(format_of("app/requirements.txt"), None);
        assert_eq!(format_of("usr/share/doc/x/yarn.lock"), None);
        assert_eq!(format_of("usr/lib/python3/site-packages/x/poetry.lock"), None);
    }
}
