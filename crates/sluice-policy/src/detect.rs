//! What a repository contains, as far as a policy cares: languages (by file extension),
//! package manifests and lockfiles (by file name, with their ecosystem), and Dockerfiles.
//!
//! Input is a list of root-relative paths (the CLI walks the tree with the pipeline's
//! gitignore-aware `list_files`), so detection is pure and tested on plain lists.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sluice_inventory::layout::{package_file, PackageFileKind};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Detected {
    /// Lowercase language names: `python`, `javascript`, `typescript`, `go`, `rust`, …
    pub languages: BTreeSet<String>,
    /// OSV ecosystem names of the manifests and lockfiles found: `npm`, `PyPI`, `crates.io`, …
    pub ecosystems: BTreeSet<String>,
    /// Lockfiles (exact dependency versions): `package-lock.json`, `Cargo.lock`,
    /// `requirements-lock.txt`, … (`sluice_inventory::layout::PACKAGE_FILES`, the table the
    /// inventory reads by)
    pub lockfiles: BTreeSet<String>,
    /// Manifests that declare dependencies without locking them: `package.json`, `requirements.txt`, …
    pub manifests: BTreeSet<String>,
    /// Dockerfiles and Containerfiles, as `sluice_inventory::layout::is_dockerfile_name` says.
    pub dockerfiles: BTreeSet<String>,
}

const LANGUAGES: &[(&str, &str)] = &[
    ("py", "python"),
    ("pyi", "python"),
    ("js", "javascript"),
    ("mjs", "javascript"),
    ("cjs", "javascript"),
    ("jsx", "javascript"),
    ("ts", "typescript"),
    ("mts", "typescript"),
    ("cts", "typescript"),
    ("tsx", "typescript"),
    ("go", "go"),
    ("rs", "rust"),
    ("java", "java"),
    ("kt", "kotlin"),
    ("rb", "ruby"),
    ("php", "php"),
    ("cs", "csharp"),
    ("c", "c"),
    ("h", "c"),
    ("cc", "cpp"),
    ("cpp", "cpp"),
    ("hpp", "cpp"),
    ("swift", "swift"),
    ("scala", "scala"),
    ("sh", "shell"),
    ("bash", "shell"),
    ("tf", "terraform"),
];

pub fn detect<'a>(paths: impl IntoIterator<Item = &'a str>) -> Detected {
    let mut d = Detected::default();
    for path in paths {
        let mut parts = path.split('/');
        let name = parts.next_back().unwrap_or(path);
        if path.split('/').any(is_vendored) {
            continue;
        }
        // The table the inventory reads by (`requirements-dev.txt`, `requirements/base.txt` are
        // requirements files too), so the plan's lockfiles are what the deps stage reads.
        if let Some(file) = package_file(path) {
            if let Some(ecosystem) = file.ecosystem {
                d.ecosystems.insert(ecosystem.osv_name().to_owned());
            }
            match file.kind {
                PackageFileKind::Lockfile => d.lockfiles.insert(path.to_owned()),
                PackageFileKind::Manifest => d.manifests.insert(path.to_owned()),
                // An SBOM lists packages of several ecosystems; it requires no stage.
                PackageFileKind::Sbom => false,
            };
        }
        if sluice_inventory::layout::is_dockerfile_name(name) {
            d.dockerfiles.insert(path.to_owned());
        }
        if let Some(lang) = language_of(name) {
            d.languages.insert(lang.to_owned());
        }
    }
    d
}

/// The language of a file, by its extension (lowercase names, as in [`Detected::languages`]).
pub fn language_of(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    LANGUAGES.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)).map(|&(_, lang)| lang)
}

/// Whether a directory holds other people's code or build output (`node_modules`, `vendor`,
/// `target`…), which detection leaves out.
pub fn is_vendored(dir: &str) -> bool {
    sluice_inventory::layout::is_vendored_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_languages_lockfiles_and_dockerfiles() {
        let d = detect([
            "app/main.py",
            "web/index.TS",
            "package.json",
            "package-lock.json",
            "requirements-dev.txt",
            "deploy/Dockerfile.prod",
            "Containerfile",
            "svc/api.Dockerfile",
            "README.md",
            "node_modules/left-pad/index.js",
            "node_modules/left-pad/package.json",
        ]);
        assert_eq!(d.languages.iter().map(String::as_str).collect::<Vec<_>>(), ["python", "typescript"]);
        assert_eq!(d.ecosystems.iter().map(String::as_str).collect::<Vec<_>>(), ["PyPI", "npm"]);
        assert_eq!(d.lockfiles.iter().map(String::as_str).collect::<Vec<_>>(), ["package-lock.json"]);
        assert_eq!(
            d.manifests.iter().map(String::as_str).collect::<Vec<_>>(),
            ["package.json", "requirements-dev.txt"]
        );
        assert_eq!(
            d.dockerfiles.iter().map(String::as_str).collect::<Vec<_>>(),
            ["Containerfile", "deploy/Dockerfile.prod", "svc/api.Dockerfile"]
        );
    }

    #[test]
    fn lockfiles_are_what_the_inventory_reads_as_locked() {
        let d = detect([
            "requirements-lock.txt",
            "requirements/base.txt",
            "gems.locked",
            "go.mod",
            "go.sum",
            "bom.json",
            "vendor/x/Cargo.lock",
        ]);
        assert_eq!(
            d.lockfiles.iter().map(String::as_str).collect::<Vec<_>>(),
            ["gems.locked", "go.sum", "requirements-lock.txt"]
        );
        assert_eq!(d.manifests.iter().map(String::as_str).collect::<Vec<_>>(), ["go.mod", "requirements/base.txt"]);
        assert_eq!(d.ecosystems.iter().map(String::as_str).collect::<Vec<_>>(), ["Go", "PyPI", "RubyGems"]);
    }

    #[test]
    fn an_empty_tree_detects_nothing() {
        assert_eq!(detect(["README.md", "LICENSE"]), Detected::default());
    }
}
