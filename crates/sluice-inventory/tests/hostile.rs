//! Malformed, truncated and hostile input: every parser returns an error naming the file (or
//! parses what it can), never panics, never overflows the stack, and refuses oversized files.

use std::path::Path;

use proptest::prelude::*;
use sluice_inventory::{discover_with, parse_bytes, Config, ErrorKind, Format};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)).expect("fixture")
}

/// One real file per format (the mutation seeds).
fn seeds() -> Vec<(Format, Vec<u8>)> {
    let mut seeds = vec![
        (Format::CargoLock, fixture("cargo/v3.Cargo.lock")),
        (Format::NpmPackageLock, fixture("npm/v3.package-lock.json")),
        (Format::NpmPackageLock, fixture("npm/v1.package-lock.json")),
        (Format::Requirements, fixture("pip/requirements.txt")),
        (Format::UvLock, fixture("uv/uv.lock")),
    ];
    for (format, rel) in [
        (Format::PoetryLock, "poetry/poetry.lock"),
        (Format::PipfileLock, "pipenv/Pipfile.lock"),
        (Format::YarnLock, "yarn/classic/yarn.lock"),
        (Format::YarnLock, "yarn/berry/yarn.lock"),
        (Format::PnpmLock, "pnpm/v9/pnpm-lock.yaml"),
        (Format::PnpmLock, "pnpm/v6/pnpm-lock.yaml"),
        (Format::GoMod, "go/go.mod"),
        (Format::GemfileLock, "ruby/Gemfile.lock"),
        (Format::ComposerLock, "composer/composer.lock"),
        (Format::PomXml, "maven/pom.xml"),
        (Format::GradleLockfile, "gradle/gradle.lockfile"),
        (Format::NugetLock, "nuget/packages.lock.json"),
        (Format::CycloneDx, "cyclonedx/npm.cdx.json"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
        if let Ok(bytes) = std::fs::read(path) {
            seeds.push((format, bytes));
        }
    }
    seeds
}

#[test]
fn truncated_files_never_panic_and_errors_name_the_file() {
    for (format, bytes) in seeds() {
        // Every prefix at a few hundred cut points, including mid-UTF-8 and mid-token.
        let step = (bytes.len() / 300).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let lock = parse_bytes(&bytes[..cut], "dir/lockfile", format);
            if let Some(err) = &lock.error {
                assert!(err.to_string().starts_with("dir/lockfile: "), "{format}: {err}");
                assert!(lock.packages.is_empty());
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let json_obj = format!("{{\"packages\":{}{}}}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let toml = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
    let yaml = format!("lockfileVersion: '9.0'\npackages: {}{}", "[".repeat(depth), "]".repeat(depth));
    let yaml_block: String = (0..5_000).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let xml = format!("<project>{}{}</project>", "<a>".repeat(depth), "</a>".repeat(depth));
    let cases: Vec<(Format, &str)> = vec![
        (Format::NpmPackageLock, &json),
        (Format::NpmPackageLock, &json_obj),
        (Format::ComposerLock, &json),
        (Format::PipfileLock, &json_obj),
        (Format::NugetLock, &json_obj),
        (Format::CycloneDx, &json),
        (Format::CargoLock, &toml),
        (Format::PoetryLock, &toml),
        (Format::UvLock, &toml),
        (Format::PnpmLock, &yaml),
        (Format::PnpmLock, &yaml_block),
        (Format::PomXml, &xml),
    ];
    for (format, text) in cases {
        let lock = parse_bytes(text.as_bytes(), "deep", format);
        let err = lock.error.unwrap_or_else(|| panic!("{format}: deep nesting must be an error"));
        assert!(err.to_string().starts_with("deep: "), "{err}");
        assert!(lock.packages.is_empty());
    }
}

#[test]
fn invalid_utf8_is_a_clear_error() {
    for format in Format::ALL {
        let mut bytes = b"name = \"ok\"\n".to_vec();
        bytes.extend([0xc3, 0x28]);
        let lock = parse_bytes(&bytes, "bad.lock", *format);
        assert_eq!(lock.error.as_ref().map(|e| e.kind.clone()), Some(ErrorKind::NotUtf8 { offset: 12 }), "{format}");
        assert!(lock.error.as_ref().is_some_and(|e| e.to_string().contains("bad.lock: not UTF-8")));
    }
}

#[test]
fn a_100_mb_lockfile_is_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("package-lock.json");
    // Sparse: 100 MB of size without writing 100 MB.
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(100 * 1024 * 1024).expect("set_len");
    let inventory = discover_with(dir.path(), &Config::default());
    let err = inventory.lockfiles[0].error.as_ref().expect("refused");
    assert_eq!(err.kind, ErrorKind::TooLarge { size: 100 * 1024 * 1024, limit: Config::DEFAULT_MAX_FILE_BYTES });
    assert!(err.to_string().starts_with("package-lock.json: the file is 104857600 bytes"), "{err}");
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let mut bomb =
        String::from("lockfileVersion: '9.0'\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 0..12 {
        let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
        bomb.push_str(&format!(
            "l{i}: &l{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    let lock = parse_bytes(bomb.as_bytes(), "pnpm-lock.yaml", Format::PnpmLock);
    assert!(lock.error.is_some(), "a billion-laughs document must be refused");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), which in 0usize..16) {
        let format = Format::ALL[which % Format::ALL.len()];
        let lock = parse_bytes(&bytes, "fuzz", format);
        if let Some(err) = lock.error {
            prop_assert!(err.to_string().starts_with("fuzz: "));
        }
    }

    #[test]
    fn mutated_real_lockfiles_never_panic(
        seed in 0usize..64,
        edits in proptest::collection::vec((any::<u32>(), any::<u8>(), 0u8..3), 1..24),
    ) {
        let seeds = seeds();
        let (format, mut bytes) = seeds[seed % seeds.len()].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let at = at as usize % bytes.len();
            match op {
                0 => bytes[at] = byte,
                1 => { bytes.remove(at); }
                _ => bytes.insert(at, byte),
            }
        }
        let lock = parse_bytes(&bytes, "mutated", format);
        if let Some(err) = &lock.error {
            prop_assert!(err.to_string().starts_with("mutated: "));
        }
        for p in &lock.packages {
            prop_assert_eq!(&p.location.path, "mutated");
            prop_assert!(p.location.line >= 1);
        }
    }
}
