//! Discovery over real directory trees: monorepos, ignore files, skipped directories, and one
//! broken file next to good ones.

use std::fs;
use std::path::Path;

use sluice_inventory::{discover, discover_with, Config, ErrorKind, Format};

fn fixture(rel: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)).expect("fixture")
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

#[test]
fn finds_every_lockfile_in_a_monorepo_sorted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "Cargo.lock", &fixture("cargo/v4.Cargo.lock"));
    write(root, "web/package-lock.json", &fixture("npm/v3.package-lock.json"));
    write(root, "services/api/requirements.txt", &fixture("pip/requirements.txt"));
    write(root, "services/api/requirements/dev.txt", b"pytest==7.0.0\n");
    write(root, "services/api/notes.txt", b"pytest==7.0.0\n");
    // Ignored, skipped, or not a lockfile at all.
    write(root, ".gitignore", b"build/\n");
    write(root, "build/Cargo.lock", &fixture("cargo/v3.Cargo.lock"));
    write(root, "web/node_modules/x/package-lock.json", &fixture("npm/v2.package-lock.json"));
    write(root, "target/Cargo.lock", &fixture("cargo/v3.Cargo.lock"));
    write(root, "README.md", b"Cargo.lock\n");

    let inventory = discover(root);
    let found: Vec<(&str, Format)> = inventory.lockfiles.iter().map(|l| (l.path.as_str(), l.format)).collect();
    assert_eq!(
        found,
        vec![
            ("Cargo.lock", Format::CargoLock),
            ("services/api/requirements.txt", Format::Requirements),
            ("services/api/requirements/dev.txt", Format::Requirements),
            ("web/package-lock.json", Format::NpmPackageLock),
        ]
    );
    assert_eq!(inventory.errors().count(), 0);
    for lock in &inventory.lockfiles {
        assert!(lock.packages.iter().all(|p| p.location.path == lock.path), "{}", lock.path);
        let mut sorted = lock.packages.clone();
        sorted.sort();
        assert_eq!(sorted, lock.packages);
    }
    // Deterministic: a second walk (parallel parsing) gives the same inventory.
    assert_eq!(discover(root), inventory);

    // Without ignore files the gitignored build/ lockfile is found too.
    let config = Config { respect_ignore_files: false, ..Config::default() };
    assert!(discover_with(root, &config).lockfiles.iter().any(|l| l.path == "build/Cargo.lock"));
}

#[test]
fn a_broken_lockfile_is_reported_next_to_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "a/Cargo.lock", b"[[package]\nname = \"x\"\n");
    write(root, "b/Cargo.lock", &fixture("cargo/v2.Cargo.lock"));
    write(root, "c/package-lock.json", &[0xff, 0xfe, b'{']);
    let inventory = discover(root);
    assert_eq!(inventory.lockfiles.len(), 3);
    let broken = inventory.lockfiles[0].error.as_ref().expect("a/Cargo.lock is broken");
    assert!(broken.to_string().starts_with("a/Cargo.lock: "), "{broken}");
    assert!(matches!(broken.kind, ErrorKind::Syntax { line: Some(1), .. }), "{broken:?}");
    assert!(inventory.lockfiles[1].error.is_none());
    assert!(!inventory.lockfiles[1].packages.is_empty());
    let not_utf8 = inventory.lockfiles[2].error.as_ref().expect("c is not UTF-8");
    assert_eq!(not_utf8.kind, ErrorKind::NotUtf8 { offset: 0 });
    assert!(not_utf8.to_string().contains("c/package-lock.json"));
}

#[test]
fn requirements_includes_are_followed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "requirements.txt", b"-r base.in\n--requirement=requirements-dev.txt\nflask==2.0.0\n");
    write(root, "base.in", b"# shared\n-r base.in\nrequests==2.25.0\n");
    write(root, "requirements-dev.txt", b"pytest==7.0.0\n");
    let inventory = discover(root);
    let main = inventory.lockfiles.iter().find(|l| l.path == "requirements.txt").expect("found");
    let got: Vec<(&str, &str, u32)> =
        main.packages.iter().map(|p| (p.name.as_str(), p.location.path.as_str(), p.location.line)).collect();
    // base.in is read (with its own path and line); requirements-dev.txt is its own lockfile.
    assert_eq!(got, vec![("flask", "requirements.txt", 3), ("requests", "base.in", 3)]);
    let dev = inventory.lockfiles.iter().find(|l| l.path == "requirements-dev.txt").expect("found");
    assert_eq!(dev.packages.len(), 1);

    write(root, "requirements.txt", b"-r missing.txt\n");
    let inventory = discover(root);
    let err = inventory.lockfiles.iter().find(|l| l.path == "requirements.txt").and_then(|l| l.error.clone());
    let err = err.expect("missing include is an error").to_string();
    assert!(err.contains("requirements.txt: line 1") && err.contains("missing.txt"), "{err}");
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "Cargo.lock", &fixture("cargo/v4.Cargo.lock"));
    let config = Config { max_file_bytes: 100, ..Config::default() };
    let inventory = discover_with(root, &config);
    let err = inventory.lockfiles[0].error.as_ref().expect("too large");
    assert!(matches!(err.kind, ErrorKind::TooLarge { limit: 100, .. }), "{err:?}");
    assert!(err.to_string().contains("--max-lockfile-size"));
}
