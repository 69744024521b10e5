//! Property tests: no parser of untrusted input panics, whatever it is given (the cargo-fuzz
//! targets in `fuzz/` explore the same entry points for longer), and what the Dockerfile
//! parser returns stays consistent with its input.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use common::{docker_archive, fixture, layer, Comp, Node};
use proptest::prelude::*;
use sluice_container::image::{gobuild, pkgdb, rpmdb, single_layer_archive};
use sluice_container::{check, inventory_from, parse, split_shell, CheckConfig, Limits};

fn limits() -> Limits {
    Limits { max_uncompressed_bytes: 32 << 20, ..Limits::DEFAULT }
}

fn engine() -> &'static sluice_secrets::Engine {
    static E: std::sync::OnceLock<sluice_secrets::Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        let config = sluice_secrets::Config {
            max_file_size: 1 << 20,
            extra_rules: Vec::new(),
            allow_paths: Vec::new(),
            peer_annotations: true,
        };
        sluice_secrets::Engine::new(&config).unwrap()
    })
}

/// Dockerfile-ish text: keywords, flags, quotes, heredocs, continuations, variables.
fn dockerfile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("FROM ".to_owned()),
        Just("RUN ".to_owned()),
        Just("COPY --from=".to_owned()),
        Just("ARG ".to_owned()),
        Just("ENV ".to_owned()),
        Just("USER ".to_owned()),
        Just("<<EOF".to_owned()),
        Just("<<-'X'".to_owned()),
        Just("EOF".to_owned()),
        Just("\\\n".to_owned()),
        Just("\n".to_owned()),
        Just("# escape=`\n".to_owned()),
        Just("${A:-b}".to_owned()),
        Just(" && ".to_owned()),
        Just(" | sh".to_owned()),
        Just("curl https://x".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("$(".to_owned()),
        "[ -~]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn dockerfile_parse_and_check_never_panic(text in dockerfile_text()) {
        let df = parse(&text);
        let lines = text.split('\n').count() as u32;
        let mut last = 0;
        for ins in &df.instructions {
            prop_assert!(ins.line >= 1 && ins.line <= ins.end_line && ins.end_line <= lines.max(1));
            prop_assert!(ins.line > last, "instructions are in file order");
            last = ins.end_line;
        }
        let config = CheckConfig { allowed_registries: vec!["docker.io".into()], ..CheckConfig::default() };
        for f in check(&df, "Dockerfile", &config, engine()) {
            prop_assert!(f.line >= 1 && f.line <= lines.max(1));
        }
    }

    #[test]
    fn shell_split_never_panics(text in any::<String>()) {
        let _ = split_shell(&text);
    }

    #[test]
    fn package_databases_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = pkgdb::dpkg_status(&bytes);
        let _ = pkgdb::apk_installed(&bytes);
        let _ = pkgdb::os_release(&bytes);
        let _ = pkgdb::python_metadata(&bytes);
        let _ = pkgdb::npm_package_json(&bytes);
    }

    #[test]
    fn arbitrary_bytes_as_archive_or_layer(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = inventory_from(&mut Cursor::new(bytes.clone()), "p.tar", &limits());
        let _ = inventory_from(&mut Cursor::new(single_layer_archive(&bytes)), "p.tar", &limits());
    }
}

/// A valid two-layer archive, mutated: bytes flipped, cut short, or both.
fn valid_archive(comp: Comp) -> Vec<u8> {
    let l1 = layer(
        &[
            Node::Symlink("etc/os-release", "../usr/lib/os-release"),
            Node::File("usr/lib/os-release", fixture("os-release.debian")),
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.base")),
        ],
        comp,
    );
    let l2 = layer(&[Node::File("lib/apk/db/installed", fixture("apk-installed.alpine"))], comp);
    docker_archive(&[l1, l2], "m:1").0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_archives_never_panic(
        comp in prop_oneof![Just(0u8), Just(1u8), Just(2u8)],
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let comp = match comp { 0 => Comp::None, 1 => Comp::Gzip, _ => Comp::Zstd };
        let mut bytes = valid_archive(comp);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value;
        }
        if do_cut {
            let n = cut.index(bytes.len());
            bytes.truncate(n);
        }
        let _ = inventory_from(&mut Cursor::new(bytes), "m.tar", &limits());
    }
}

#[test]
fn unmutated_archive_is_read_in_every_compression() {
    for comp in [Comp::None, Comp::Gzip, Comp::Zstd] {
        let inv = inventory_from(&mut Cursor::new(valid_archive(comp)), "m.tar", &limits()).unwrap();
        assert_eq!(inv.packages.len(), 14, "{:?}", inv.packages.iter().map(|p| &p.name).collect::<Vec<_>>());
    }
}

/// The fixture binary's build info blob (header and strings), the seed of the mutations.
fn go_blob() -> &'static [u8] {
    static B: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let bin = common::go_binary();
        let at = bin.windows(14).position(|w| w == gobuild::MAGIC).unwrap();
        bin[at..at + 400].to_vec()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random bytes after a valid header, and the real blob with bytes overwritten or cut:
    /// parsing never panics, and what it reports lies inside the blob.
    #[test]
    fn go_buildinfo_parse_never_panics(
        tail in prop::collection::vec(any::<u8>(), 0..300),
        edits in prop::collection::vec((0usize..400, any::<u8>()), 0..8),
        cut in 0usize..400,
    ) {
        let mut random = go_blob()[..32].to_vec();
        random.extend_from_slice(&tail);
        if let Ok(info) = gobuild::parse(&random) {
            prop_assert!(info.len <= random.len());
        }
        let mut mutated = go_blob().to_vec();
        for (at, byte) in edits {
            mutated[at] = byte;
        }
        mutated.truncate(cut.max(1));
        if let Ok(info) = gobuild::parse(&mutated) {
            prop_assert!(info.len <= mutated.len());
            let _ = gobuild::packages(&info, "/bin/x");
        }
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(64, 0);
        elf.extend_from_slice(&mutated);
        let _ = gobuild::scan(elf.as_slice()).unwrap();
    }
}

/// The header blobs of the real rpm database (tests/fixtures/rpmdb.sqlite), read with SQLite.
fn real_rpm_headers() -> Vec<Vec<u8>> {
    let mut bytes = fixture("rpmdb.sqlite");
    bytes[18] = 1; // WAL → rollback journal, to open it in memory.
    bytes[19] = 1;
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    let size = bytes.len();
    db.deserialize_read_exact(rusqlite::MAIN_DB, bytes.as_slice(), size, true).unwrap();
    let mut stmt = db.prepare("SELECT blob FROM Packages ORDER BY hnum").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Arbitrary bytes and real rpm headers with bytes overwritten (index counts, offsets,
    /// counts, the data store) never panic the header parser; what it accepts has a name.
    #[test]
    fn rpm_headers_never_panic(
        junk in prop::collection::vec(any::<u8>(), 0..512),
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
    ) {
        let _ = rpmdb::parse_header(&junk);
        let mut blob = real_rpm_headers()[which].clone();
        for (at, byte) in edits {
            let i = at.index(blob.len());
            blob[i] = byte;
        }
        if let Ok(h) = rpmdb::parse_header(&blob) {
            prop_assert!(!h.name.is_empty());
        }
    }

    /// The real rpm database with bytes overwritten: SQLite and the reader report damage,
    /// never panic.
    #[test]
    fn damaged_rpm_sqlite_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
    ) {
        let mut db = fixture("rpmdb.sqlite");
        for (at, byte) in edits {
            let i = at.index(db.len());
            db[i] = byte;
        }
        if let Ok(read) = rpmdb::read_sqlite(&db) {
            prop_assert!(read.packages.len() <= 3);
        }
    }
}
