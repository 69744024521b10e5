//! The one walk of a repository's files.
//!
//! Every walk in sluice is this one: `.gitignore`, `.ignore` and `.git/info/exclude` are
//! honoured, also outside a git checkout (a tarball of a repository is scanned as its
//! checkout would be), but never the user's global excludes (results must not differ between
//! machines); hidden files are walked (`.env` is where secrets live); `.git` is never entered;
//! links are never followed, and a listed file that resolves outside the root is refused.
//! Paths are reported relative to the root, `/`-separated.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{WalkBuilder, WalkState};

/// How much of a file's start is inspected for a NUL byte, as git and ripgrep do.
pub const BINARY_PROBE: usize = 8 * 1024;

/// What a stage scans.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Everything under a directory (or that one file), honouring `.gitignore`, `.ignore` and
    /// `.git/info/exclude` even outside a git repository; `.git` itself is never read.
    Dir(&'a Path),
    /// Only these files, relative to `root` (diff-aware mode). Files that do not exist were
    /// deleted by the change and are skipped silently; ignore files do not apply.
    Files { root: &'a Path, files: &'a [PathBuf] },
}

impl Target<'_> {
    /// The directory (or file) the target's paths are relative to.
    pub fn root(&self) -> &Path {
        match self {
            Target::Dir(root) | Target::Files { root, .. } => root,
        }
    }

    /// Visits the target's files as [`Walker::for_each`] (a directory) or
    /// [`Walker::for_each_listed`] (a list) do. The one error is a root that cannot be read:
    /// the stage cannot scan at all; every other problem is a [`Visit::Error`].
    pub fn visit<E, M, V>(&self, exclude: &E, make: M) -> std::io::Result<()>
    where
        E: Fn(&str, bool) -> bool + Sync,
        M: Fn() -> V + Sync,
        V: FnMut(Visit<'_>) + Send,
    {
        std::fs::metadata(self.root())?;
        match self {
            Target::Dir(root) => Walker::new(root).for_each(exclude, make),
            Target::Files { root, files } => Walker::new(root).for_each_listed(files, exclude, make),
        }
        Ok(())
    }

    /// Reads the target's files as an engine does: [`Target::visit`] with, on each walker
    /// thread, one buffer reused across its files. `file(path, rel, size, buf)` for each file;
    /// `error(e)` for what could not be walked.
    pub fn for_each_file<E, F, R>(&self, exclude: &E, file: F, error: R) -> std::io::Result<()>
    where
        E: Fn(&str, bool) -> bool + Sync,
        F: Fn(&Path, String, Option<u64>, &mut Vec<u8>) + Sync,
        R: Fn(WalkError) + Sync,
    {
        let (file, error) = (&file, &error);
        self.visit(exclude, || {
            let mut buf = Vec::new();
            move |visit: Visit<'_>| match visit {
                Visit::File { path, rel, size } => file(path, rel, size, &mut buf),
                Visit::Error(e) => error(e),
            }
        })
    }
}

/// The walk of one root. [`Walker::files`] lists; [`Walker::for_each`] visits in parallel;
/// [`Walker::for_each_listed`] visits a given list of files (diff-aware runs).
#[derive(Debug, Clone)]
pub struct Walker {
    root: PathBuf,
    skip_dirs: Vec<String>,
    ignore_files: bool,
    threads: usize,
}

/// A file of a [`Walker::files`] listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkFile {
    /// The path to open: the root joined with the relative path.
    pub path: PathBuf,
    /// Relative to the root, `/`-separated; the file's name when the root is that file.
    pub rel: String,
}

/// A directory or file the walk could not read, or an ignore file it could not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    /// Relative to the root, `/`-separated; empty when the error names no path.
    pub path: String,
    /// What went wrong, naming the path.
    pub message: String,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a visitor of [`Walker::for_each`] or [`Walker::for_each_listed`] is given.
#[derive(Debug)]
pub enum Visit<'a> {
    File {
        /// The path to open.
        path: &'a Path,
        /// Relative to the root, `/`-separated.
        rel: String,
        /// The size the walk saw (the file may change before it is read).
        size: Option<u64>,
    },
    Error(WalkError),
}

/// Every regular file of a walk, sorted by relative path, and what could not be walked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub files: Vec<WalkFile>,
    pub errors: Vec<WalkError>,
}

impl Walker {
    /// A walk of `root` (a directory, or a single file) with the rules of the module
    /// documentation, on as many threads as there are cores.
    pub fn new(root: impl Into<PathBuf>) -> Walker {
        Walker {
            root: root.into(),
            skip_dirs: Vec::new(),
            ignore_files: true,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// Directory names never entered below the root, besides `.git` (installed and vendored
    /// trees, build output: `sluice_inventory::layout::VENDORED_DIRS`).
    #[must_use]
    pub fn skip_dirs<I, S>(mut self, names: I) -> Walker
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.skip_dirs = names.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `.gitignore`, `.ignore` and git's exclude file are honoured (the default).
    #[must_use]
    pub fn ignore_files(mut self, honour: bool) -> Walker {
        self.ignore_files = honour;
        self
    }

    /// Threads of [`Walker::for_each`] and [`Walker::for_each_listed`] (at least one).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Walker {
        self.threads = threads.max(1);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn builder(&self) -> WalkBuilder {
        let honour = self.ignore_files;
        let mut builder = WalkBuilder::new(&self.root);
        builder
            .hidden(false)
            .parents(honour)
            .ignore(honour)
            .git_ignore(honour)
            .git_exclude(honour)
            // The user's global excludes differ between machines; results must not.
            .git_global(false)
            .require_git(false)
            .follow_links(false);
        let skip = self.skip_dirs.clone();
        builder.filter_entry(move |entry| {
            if entry.file_name() == ".git" {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir && entry.depth() > 0 && skip.iter().any(|s| entry.file_name() == s.as_str()))
        });
        builder
    }

    /// Every regular file, sorted by relative path, one thread. Links are not files here.
    pub fn files(&self) -> Listing {
        let mut listing = Listing::default();
        for entry in self.builder().build() {
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                    let rel = relative_or_name(&self.root, entry.path());
                    listing.files.push(WalkFile { path: entry.into_path(), rel });
                }
                Ok(_) => {}
                Err(err) => listing.errors.push(walk_error(&self.root, &err)),
            }
        }
        listing.files.sort_by(|a, b| a.rel.cmp(&b.rel));
        listing
    }

    /// Visits every regular file in parallel. `exclude(rel, is_dir)` is asked about every
    /// entry below the root: an excluded directory is not entered. `make` makes one visitor
    /// per thread (so each can keep a buffer). The order of visits is not defined.
    pub fn for_each<E, M, V>(&self, exclude: &E, make: M)
    where
        E: Fn(&str, bool) -> bool + Sync,
        M: Fn() -> V + Sync,
        V: FnMut(Visit<'_>) + Send,
    {
        let root = self.root.as_path();
        if let Ok(meta) = std::fs::metadata(root) {
            if meta.is_file() {
                let rel = relative_or_name(root, root);
                make()(Visit::File { path: root, rel, size: Some(meta.len()) });
                return;
            }
        }
        let mut builder = self.builder();
        builder.threads(self.threads);
        builder.build_parallel().run(|| {
            let mut visit = make();
            Box::new(move |entry| {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(err) => {
                        visit(Visit::Error(walk_error(root, &err)));
                        return WalkState::Continue;
                    }
                };
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                if entry.depth() == 0 || !(is_dir || is_file) {
                    // The root, and links and special files: nothing to read.
                    return WalkState::Continue;
                }
                let rel = relative(root, entry.path());
                if exclude(&rel, is_dir) {
                    return if is_dir { WalkState::Skip } else { WalkState::Continue };
                }
                if is_file {
                    let size = entry.metadata().ok().map(|m| m.len());
                    visit(Visit::File { path: entry.path(), rel, size });
                }
                WalkState::Continue
            })
        });
    }

    /// Visits `files` (relative to the root) in parallel: the diff-aware mode, where ignore
    /// files do not apply. A file that no longer exists (deleted by the change) or is not a
    /// regular file is passed over silently; one that resolves outside the root (through a
    /// link, or `..`) is refused with an error, never read.
    pub fn for_each_listed<E, M, V>(&self, files: &[PathBuf], exclude: &E, make: M)
    where
        E: Fn(&str, bool) -> bool + Sync,
        M: Fn() -> V + Sync,
        V: FnMut(Visit<'_>) + Send,
    {
        let root = self.root.as_path();
        let real_root = root.canonicalize().ok();
        let next = AtomicUsize::new(0);
        let threads = self.threads.min(files.len());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut visit = make();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        let full = root.join(file);
                        let rel = relative(root, &full);
                        if exclude(&rel, false) {
                            continue;
                        }
                        match std::fs::metadata(&full) {
                            Ok(meta) if meta.is_file() => {
                                let inside = match (&real_root, full.canonicalize()) {
                                    (Some(real_root), Ok(real)) => real.starts_with(real_root),
                                    _ => false,
                                };
                                if inside {
                                    visit(Visit::File { path: &full, rel, size: Some(meta.len()) });
                                } else {
                                    let message = format!("{rel}: resolves outside the scanned root; not followed");
                                    visit(Visit::Error(WalkError { path: rel, message }));
                                }
                            }
                            // Deleted by the change, or not a regular file: nothing to scan.
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => visit(Visit::Error(WalkError { message: e.to_string(), path: rel })),
                        }
                    }
                });
            }
        });
    }
}

/// `path` relative to `root`, `/`-separated; `path` itself when it is not under `root`.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            // Joined with `/`, an empty first part keeps an absolute path absolute.
            Component::RootDir => String::new(),
            c => c.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    parts.join("/")
}

/// [`relative`], or the file's name when `path` is the root itself.
fn relative_or_name(root: &Path, path: &Path) -> String {
    let rel = relative(root, path);
    if rel.is_empty() {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        rel
    }
}

fn walk_error(root: &Path, err: &ignore::Error) -> WalkError {
    WalkError { path: error_path(err).map(|p| relative(root, p)).unwrap_or_default(), message: err.to_string() }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

/// Reads the start of a file, at most [`BINARY_PROBE`] bytes, into `buf` (cleared first):
/// enough to tell a binary ([`is_binary`]) before reading further.
pub fn read_probe(file: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    file.take(BINARY_PROBE as u64).read_to_end(buf)?;
    Ok(())
}

/// A NUL byte in the first [`BINARY_PROBE`] bytes: a binary, as git and ripgrep decide.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_PROBE)].contains(&0)
}

/// Reads the rest of `file` onto `buf`, stopping one byte past `cap` bytes in all: `true`
/// when the file holds more than `cap` bytes (it may have grown since its size was seen), so
/// a file is never held in memory beyond the cap.
pub fn read_capped(file: &mut impl Read, buf: &mut Vec<u8>, cap: u64) -> std::io::Result<bool> {
    let rest = cap.saturating_add(1).saturating_sub(buf.len() as u64);
    file.take(rest).read_to_end(buf)?;
    Ok(buf.len() as u64 > cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path())).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
        };
        write(".gitignore", "ignored.txt\nbuild/\n");
        write(".env", "TOKEN=1\n");
        write("src/main.py", "print(1)\n");
        write("ignored.txt", "x\n");
        write("build/out.txt", "x\n");
        write("node_modules/pkg/index.js", "x\n");
        write(".git/config", "[core]\n");
        write("sub/.git", "gitdir: elsewhere\n");
        dir
    }

    fn rels(listing: &Listing) -> Vec<&str> {
        listing.files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn honours_ignore_files_outside_git_walks_hidden_files_and_never_enters_git() {
        let dir = tree();
        let all = Walker::new(dir.path()).files();
        assert_eq!(rels(&all), [".env", ".gitignore", "node_modules/pkg/index.js", "src/main.py"]);
        assert!(all.errors.is_empty(), "{:?}", all.errors);
        let skipping = Walker::new(dir.path()).skip_dirs(["node_modules"]).files();
        assert_eq!(rels(&skipping), [".env", ".gitignore", "src/main.py"]);
        let everything = Walker::new(dir.path()).ignore_files(false).files();
        assert_eq!(
            rels(&everything),
            [".env", ".gitignore", "build/out.txt", "ignored.txt", "node_modules/pkg/index.js", "src/main.py"]
        );
    }

    #[test]
    fn a_root_that_is_a_file_is_that_file_by_name() {
        let dir = tree();
        let root = dir.path().join("src/main.py");
        assert_eq!(rels(&Walker::new(&root).files()), ["main.py"]);
        let seen = Mutex::new(Vec::new());
        Walker::new(&root).for_each(&|_, _| false, || {
            |v: Visit<'_>| {
                if let Visit::File { rel, size, .. } = v {
                    seen.lock().unwrap_or_else(|p| p.into_inner()).push((rel, size));
                }
            }
        });
        assert_eq!(seen.into_inner().unwrap_or_default(), [("main.py".to_owned(), Some(9))]);
    }

    #[test]
    fn the_parallel_walk_sees_what_the_listing_sees_and_skips_excluded_directories() {
        let dir = tree();
        let seen = Mutex::new(Vec::new());
        let exclude = |rel: &str, is_dir: bool| is_dir && rel == "src";
        Walker::new(dir.path()).threads(3).for_each(&exclude, || {
            |v: Visit<'_>| {
                if let Visit::File { rel, .. } = v {
                    seen.lock().unwrap_or_else(|p| p.into_inner()).push(rel);
                }
            }
        });
        let mut seen = seen.into_inner().unwrap_or_default();
        seen.sort();
        assert_eq!(seen, [".env", ".gitignore", "node_modules/pkg/index.js"]);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_not_followed_and_listed_files_outside_the_root_are_refused() {
        let dir = tree();
        let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(outside.path().join("secret.txt"), "s\n").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("link.txt"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap_or_else(|e| panic!("{e}"));
        let listing = Walker::new(dir.path()).files();
        assert!(!rels(&listing).iter().any(|r| r.starts_with("link")), "{:?}", rels(&listing));

        let listed: Vec<PathBuf> =
            ["link.txt", "linkdir/secret.txt", "src/main.py", "deleted.py", "../x"].iter().map(PathBuf::from).collect();
        let files = Mutex::new(Vec::new());
        let errors = Mutex::new(Vec::new());
        Walker::new(dir.path()).for_each_listed(&listed, &|_, _| false, || {
            |v: Visit<'_>| match v {
                Visit::File { rel, .. } => files.lock().unwrap_or_else(|p| p.into_inner()).push(rel),
                Visit::Error(e) => errors.lock().unwrap_or_else(|p| p.into_inner()).push(e.path),
            }
        });
        assert_eq!(files.into_inner().unwrap_or_default(), ["src/main.py"]);
        let mut errors = errors.into_inner().unwrap_or_default();
        errors.sort();
        assert_eq!(errors, ["link.txt", "linkdir/secret.txt"]);
    }

    #[test]
    fn probe_and_cap() {
        let mut buf = Vec::new();
        let data = vec![b'a'; BINARY_PROBE + 10];
        read_probe(&mut data.as_slice(), &mut buf).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(buf.len(), BINARY_PROBE);
        assert!(!is_binary(&buf));
        assert!(is_binary(b"ab\0c"));
        let mut rest = &data[BINARY_PROBE..];
        assert!(read_capped(&mut rest, &mut buf, BINARY_PROBE as u64 + 5).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(buf.len(), BINARY_PROBE + 6);
        let mut small = Vec::new();
        assert!(!read_capped(&mut b"abc".as_slice(), &mut small, 3).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(small, b"abc");
    }
}
