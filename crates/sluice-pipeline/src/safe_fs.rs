//! Every file sluice writes inside a repository goes through here.
//!
//! A repository is untrusted input: a committed symbolic link (`sluice-out -> ~`,
//! `.sluice/triage.toml -> ~/.bashrc`) must not make sluice write outside it. So a write is
//! relative to a trusted directory (the repository root the user named) and every directory
//! between it and the file is opened with `O_NOFOLLOW` from its parent's descriptor
//! (`openat`), created one by one when missing (`mkdirat`), never followed through a link. The
//! file itself is replaced atomically: a temporary file created in the same directory with
//! `O_CREAT | O_EXCL | O_NOFOLLOW`, written, `fsync`ed, then renamed over the name — readers
//! see the old content or the new, never a half-written file, and a link at the name is refused
//! rather than replaced or followed. Paths the user names on the command line
//! (`--output FILE`, `-o /dev/stdout`) are theirs: [`write_user_file`] follows them.
//!
//! Read-modify-write cycles (decisions, `.gitignore` entries) hold [`lock_dir_in`] on the
//! directory of the file across the read, the edit and the write, so concurrent sluice
//! processes serialize instead of losing each other's edits.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, mkdirat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

/// Why a write inside a repository was refused or failed. Messages name the path and what to do.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{path}: is a symbolic link inside the repository; sluice does not write through links (a committed link can point anywhere): remove it, or name an output path on the command line"
    )]
    Symlink { path: PathBuf },
    #[error("{path}: not a relative path inside {root}; sluice writes only inside the repository (name another place on the command line)")]
    Outside { path: PathBuf, root: PathBuf },
    #[error("{path}: exists and is not a {expected}; move it away and retry")]
    WrongType { path: PathBuf, expected: &'static str },
    #[error("{path}: cannot write: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl WriteError {
    /// The message without the path, for errors that name it already.
    pub fn reason(&self) -> String {
        let text = self.to_string();
        let path = match self {
            WriteError::Symlink { path } | WriteError::Outside { path, .. } | WriteError::WrongType { path, .. } => {
                path
            }
            WriteError::Io { path, .. } => path,
        };
        text.strip_prefix(&format!("{}: ", path.display())).map_or(text.clone(), str::to_owned)
    }

    fn io(path: &Path, source: impl Into<std::io::Error>) -> WriteError {
        WriteError::Io { path: path.to_owned(), source: source.into() }
    }
}

fn errno_io(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

/// The directory components of `rel`; `..`, absolute paths and prefixes are refused.
fn components<'a>(root: &Path, rel: &'a Path) -> Result<Vec<&'a OsStr>, WriteError> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            _ => return Err(WriteError::Outside { path: rel.to_owned(), root: root.to_owned() }),
        }
    }
    Ok(out)
}

/// Why `name` in `dir` could not be opened as a directory: a link, another kind of file, or `err`.
fn classify(dir: &OwnedFd, name: &OsStr, shown: &Path, err: Errno) -> WriteError {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK => {
            WriteError::Symlink { path: shown.to_owned() }
        }
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFDIR => {
            WriteError::WrongType { path: shown.to_owned(), expected: "directory" }
        }
        _ => WriteError::io(shown, errno_io(err)),
    }
}

const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY.union(OFlag::O_RDONLY).union(OFlag::O_CLOEXEC);

/// Opens `root` (trusted: the user named it) and then each of `dirs` below it without following
/// links, creating missing ones when `create`. Returns the last directory and its path.
fn open_dirs(root: &Path, dirs: &[&OsStr], create: bool) -> Result<(OwnedFd, PathBuf), WriteError> {
    let mut shown = root.to_path_buf();
    let mut fd = nix::fcntl::open(root, DIR_FLAGS, Mode::empty()).map_err(|e| WriteError::io(root, errno_io(e)))?;
    for name in dirs {
        shown.push(name);
        let flags = DIR_FLAGS | OFlag::O_NOFOLLOW;
        let next = match openat(&fd, *name, flags, Mode::empty()) {
            Ok(next) => next,
            Err(Errno::ENOENT) if create => {
                match mkdirat(&fd, *name, Mode::from_bits_truncate(0o777)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(WriteError::io(&shown, errno_io(e))),
                }
                openat(&fd, *name, flags, Mode::empty()).map_err(|e| classify(&fd, name, &shown, e))?
            }
            Err(e) => return Err(classify(&fd, name, &shown, e)),
        };
        fd = next;
    }
    Ok((fd, shown))
}

/// Splits `rel` into its directories and its file name.
fn split<'a>(root: &Path, rel: &'a Path) -> Result<(Vec<&'a OsStr>, &'a OsStr), WriteError> {
    let mut parts = components(root, rel)?;
    let name = parts.pop().ok_or_else(|| WriteError::Outside { path: rel.to_owned(), root: root.to_owned() })?;
    Ok((parts, name))
}

/// Checks, creating nothing, that no existing component of `root/rel` below `root` is a
/// symbolic link (so that several files can be checked before any is written).
pub fn check_in(root: &Path, rel: &Path) -> Result<(), WriteError> {
    let (dirs, name) = split(root, rel)?;
    let mut shown = root.to_path_buf();
    let mut fd = nix::fcntl::open(root, DIR_FLAGS, Mode::empty()).map_err(|e| WriteError::io(root, errno_io(e)))?;
    for dir in dirs {
        shown.push(dir);
        match openat(&fd, dir, DIR_FLAGS | OFlag::O_NOFOLLOW, Mode::empty()) {
            Ok(next) => fd = next,
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(classify(&fd, dir, &shown, e)),
        }
    }
    match fstatat(&fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK => {
            Err(WriteError::Symlink { path: shown.join(name) })
        }
        _ => Ok(()),
    }
}

/// Creates the directory `root/rel` (and its parents) without following links; returns its path.
pub fn create_dir_in(root: &Path, rel: &Path) -> Result<PathBuf, WriteError> {
    let dirs = components(root, rel)?;
    open_dirs(root, &dirs, true).map(|(_, path)| path)
}

/// Checks that no component of `root/rel` below `root` is a symbolic link (missing ones are
/// fine), creating the parent directories of `rel`. For files another library opens itself
/// (the SQLite events database).
pub fn prepare_file_in(root: &Path, rel: &Path) -> Result<PathBuf, WriteError> {
    let (dirs, name) = split(root, rel)?;
    let (dir, shown) = open_dirs(root, &dirs, true)?;
    let path = shown.join(name);
    match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK => {
            Err(WriteError::Symlink { path })
        }
        _ => Ok(path),
    }
}

/// Atomically writes `bytes` to `root/rel` (see the module doc). A new file gets the usual
/// `0666 & !umask`; an existing one keeps its permissions; `mode` sets them.
pub fn write_in(root: &Path, rel: &Path, bytes: &[u8], mode: Option<u32>) -> Result<PathBuf, WriteError> {
    let (dirs, name) = split(root, rel)?;
    let (dir, shown) = open_dirs(root, &dirs, true)?;
    let path = shown.join(name);
    let existing = match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            if kind == SFlag::S_IFLNK {
                return Err(WriteError::Symlink { path });
            }
            if kind != SFlag::S_IFREG {
                return Err(WriteError::WrongType { path, expected: "regular file" });
            }
            Some(st.st_mode & 0o7777)
        }
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(WriteError::io(&path, errno_io(e))),
    };
    replace(&dir, name, &path, bytes, mode.or(existing))?;
    Ok(path)
}

/// Writes a temporary file next to `name` in `dir` and renames it over `name`.
fn replace(dir: &OwnedFd, name: &OsStr, path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), WriteError> {
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut attempt = 0u32;
    let (tmp_name, fd) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.{stamp}.{attempt}.sluice-tmp", std::process::id()));
        match openat(dir, tmp_name.as_os_str(), flags, Mode::from_bits_truncate(0o666)) {
            Ok(fd) => break (tmp_name, fd),
            Err(Errno::EEXIST) if attempt < 100 => attempt += 1,
            Err(e) => return Err(WriteError::io(path, errno_io(e))),
        }
    };
    let written = (|| -> std::io::Result<()> {
        let mut file = File::from(fd);
        file.write_all(bytes)?;
        if let Some(mode) = mode {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        renameat(dir, tmp_name.as_os_str(), dir, name).map_err(errno_io)
    })();
    if let Err(e) = written {
        let _ = unlinkat(dir, tmp_name.as_os_str(), UnlinkatFlags::NoRemoveDir);
        return Err(WriteError::io(path, e));
    }
    // The rename is durable once the directory is; a failure here loses nothing written.
    let _ = nix::unistd::fsync(dir);
    Ok(())
}

/// Writes a file the user named on the command line: links are followed (the path is theirs);
/// a regular file (or a new one) is replaced atomically in the directory it resolves to, and
/// anything else (`/dev/stdout`, a FIFO) is written to directly.
pub fn write_user_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let resolved = match std::fs::canonicalize(path) {
        Ok(p) => p,
        // A new file: its directory must exist (or be creatable), as with any tool's -o.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|e| WriteError::io(parent, e))?;
            let dir = std::fs::canonicalize(parent).map_err(|e| WriteError::io(parent, e))?;
            match path.file_name() {
                Some(name) => dir.join(name),
                None => return Err(WriteError::WrongType { path: path.to_owned(), expected: "file name" }),
            }
        }
        Err(e) => return Err(WriteError::io(path, e)),
    };
    match std::fs::metadata(&resolved) {
        Ok(meta) if !meta.is_file() => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&resolved)
                .map_err(|e| WriteError::io(path, e))?;
            file.write_all(bytes).and_then(|()| file.flush()).map_err(|e| WriteError::io(path, e))
        }
        _ => {
            let (Some(dir), Some(name)) = (resolved.parent(), resolved.file_name()) else {
                return Err(WriteError::WrongType { path: path.to_owned(), expected: "file name" });
            };
            write_in(dir, Path::new(name), bytes, None).map(|_| ()).map_err(|e| match e {
                WriteError::Io { source, .. } => WriteError::Io { path: path.to_owned(), source },
                other => other,
            })
        }
    }
}

/// An exclusive lock on a directory, held until dropped. `unsupported` says why none could be
/// taken on a file system without locks (the edit then goes ahead unlocked).
#[derive(Debug)]
pub struct DirLock {
    _file: Option<File>,
    pub unsupported: Option<String>,
}

fn lock_fd(fd: OwnedFd, path: &Path) -> Result<DirLock, WriteError> {
    let file = File::from(fd);
    match file.lock() {
        Ok(()) => Ok(DirLock { _file: Some(file), unsupported: None }),
        Err(e)
            if e.kind() == std::io::ErrorKind::Unsupported
                || matches!(e.raw_os_error(), Some(code) if code == Errno::ENOLCK as i32 || code == Errno::EOPNOTSUPP as i32 || code == Errno::EINVAL as i32) =>
        {
            Ok(DirLock { _file: None, unsupported: Some(format!("{}: cannot be locked ({e})", path.display())) })
        }
        Err(e) => Err(WriteError::Io { path: path.to_owned(), source: e }),
    }
}

/// Locks the directory `root/rel` (created, without following links, when missing), waiting for
/// another sluice process that holds it. The directory itself is locked (`flock`), so no lock
/// file is left in the repository.
pub fn lock_dir_in(root: &Path, rel: &Path) -> Result<DirLock, WriteError> {
    let dirs = components(root, rel)?;
    let (fd, shown) = open_dirs(root, &dirs, true)?;
    lock_fd(fd, &shown)
}

/// Locks the directory of a file the user named (links followed), creating it when missing.
pub fn lock_user_dir(file: &Path) -> Result<DirLock, WriteError> {
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| WriteError::io(dir, e))?;
    let fd = nix::fcntl::open(dir, DIR_FLAGS, Mode::empty()).map_err(|e| WriteError::io(dir, errno_io(e)))?;
    lock_fd(fd, dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn writes_atomically_and_creates_directories() {
        let root = tempfile::tempdir().unwrap();
        let path = write_in(root.path(), Path::new("a/b/c.txt"), b"one", None).unwrap();
        assert_eq!(path, root.path().join("a/b/c.txt"));
        write_in(root.path(), Path::new("a/b/c.txt"), b"two", None).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> =
            std::fs::read_dir(root.path().join("a/b")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["c.txt"], "no temporary file is left");
    }

    #[test]
    fn keeps_the_mode_of_an_existing_file_and_sets_a_given_one() {
        let root = tempfile::tempdir().unwrap();
        let path = write_in(root.path(), Path::new("hook"), b"#!/bin/sh\n", Some(0o755)).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755);
        write_in(root.path(), Path::new("hook"), b"#!/bin/sh\nexit 0\n", None).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn refuses_links_at_every_level_and_paths_outside() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim"), "keep").unwrap();
        symlink(outside.path(), root.path().join("out")).unwrap();
        std::fs::create_dir(root.path().join("real")).unwrap();
        symlink(outside.path().join("victim"), root.path().join("real/file")).unwrap();
        symlink(outside.path().join("new"), root.path().join("real/dangling")).unwrap();

        for rel in ["out/x", "out/deeper/x", "real/file", "real/dangling"] {
            let err = write_in(root.path(), Path::new(rel), b"pwned", None).unwrap_err();
            assert!(matches!(err, WriteError::Symlink { .. }), "{rel}: {err}");
            assert!(err.to_string().contains("symbolic link"), "{err}");
        }
        assert!(matches!(create_dir_in(root.path(), Path::new("out/sub")), Err(WriteError::Symlink { .. })));
        assert!(matches!(lock_dir_in(root.path(), Path::new("out")), Err(WriteError::Symlink { .. })));
        assert!(matches!(prepare_file_in(root.path(), Path::new("real/file")), Err(WriteError::Symlink { .. })));
        assert!(matches!(check_in(root.path(), Path::new("out/a/b")), Err(WriteError::Symlink { .. })));
        assert!(matches!(check_in(root.path(), Path::new("real/dangling")), Err(WriteError::Symlink { .. })));
        assert!(check_in(root.path(), Path::new("real/new/deeper")).is_ok());
        assert!(!root.path().join("real/new").exists(), "check_in creates nothing");
        for rel in ["../x", "/tmp/x", "a/../../x"] {
            assert!(
                matches!(write_in(root.path(), Path::new(rel), b"x", None), Err(WriteError::Outside { .. })),
                "{rel}"
            );
        }
        assert_eq!(std::fs::read_to_string(outside.path().join("victim")).unwrap(), "keep");
        let left: Vec<_> = std::fs::read_dir(outside.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["victim"]);
    }

    #[test]
    fn user_paths_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.sarif");
        std::fs::write(&target, "old").unwrap();
        symlink(&target, dir.path().join("link.sarif")).unwrap();
        write_user_file(&dir.path().join("link.sarif"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert!(std::fs::symlink_metadata(dir.path().join("link.sarif")).unwrap().file_type().is_symlink());
        write_user_file(&dir.path().join("sub/new.sarif"), b"x").unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("sub/new.sarif")).unwrap(), "x");
        write_user_file(Path::new("/dev/null"), b"discarded").unwrap();
    }
}
