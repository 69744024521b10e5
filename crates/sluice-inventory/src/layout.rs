//! What a repository's file names say, in one table every stage, the plan and the gate share:
//! which files are Dockerfiles, which directories hold other people's code or build output.
//! (`crate::Format::detect_path` is the table of lockfile names.)

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
}
