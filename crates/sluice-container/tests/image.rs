//! Image inventory on real image archives built here: real Debian dpkg status stanzas (taken
//! from this machine's /var/lib/dpkg/status), a real os-release, a real pip METADATA and npm
//! package.json; an Alpine apk database written to the documented format (no Alpine package
//! is reachable from this machine).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use common::{
    docker_archive, fixture, go_binary, go_oracle_deps, inventory_fixture, layer, layer_tar, oci_archive, Comp, Node,
};
use sluice_container::{inventory_from, ImageError, Inventory, Limits};
use sluice_inventory::{Ecosystem, Format, Source};

fn inv(bytes: Vec<u8>) -> Result<Inventory, ImageError> {
    inventory_from(&mut Cursor::new(bytes), "test.tar", &Limits::DEFAULT)
}

fn find<'a>(inv: &'a Inventory, name: &str) -> &'a sluice_inventory::Package {
    inv.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not in inventory"))
}

fn debian_layers(second: Comp) -> Vec<Vec<u8>> {
    let base = layer(
        &[
            Node::Dir("etc"),
            Node::Symlink("etc/os-release", "../usr/lib/os-release"),
            Node::File("usr/lib/os-release", fixture("os-release.debian")),
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.base")),
            Node::File("usr/bin/filler", vec![7; 10_000]),
        ],
        Comp::Gzip,
    );
    let app = layer(
        &[
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.layer2")),
            Node::File(
                "usr/local/lib/python3.12/site-packages/pip-24.2.dist-info/METADATA",
                fixture("pip-24.2.METADATA"),
            ),
            Node::File(
                "app/node_modules/@microsoft/sarif-multitool/package.json",
                fixture("sarif-multitool.package.json"),
            ),
        ],
        second,
    );
    vec![base, app]
}

#[test]
fn docker_archive_debian_two_layers() {
    let (archive, diff_ids) = docker_archive(&debian_layers(Comp::Zstd), "app:1");
    let inv = inv(archive).unwrap();
    assert_eq!(inv.format, "docker-archive");
    assert_eq!(inv.repo_tags, ["app:1"]);
    let os = inv.os.as_ref().unwrap();
    assert_eq!((os.id.as_str(), os.version_id.as_deref()), ("debian", Some("12")));
    assert_eq!(inv.layers.iter().map(|l| l.compression).collect::<Vec<_>>(), ["gzip", "zstd"]);
    let debs: Vec<_> = inv.packages.iter().filter(|p| p.ecosystem == Ecosystem::Debian).collect();
    assert_eq!(debs.len(), 13, "{debs:#?}");
    // base-files came with the first layer; openssl with the second.
    assert_eq!(find(&inv, "bash").layer.as_deref(), Some(diff_ids[0].as_str()));
    assert_eq!(find(&inv, "openssl").layer.as_deref(), Some(diff_ids[1].as_str()));
    let libc = find(&inv, "libc6");
    assert!(libc.purl.starts_with("pkg:deb/debian/libc6@"), "{}", libc.purl);
    assert!(libc.purl.contains("arch=amd64") && libc.purl.contains("distro=debian-12"), "{}", libc.purl);
    assert_eq!(libc.location.path, "/var/lib/dpkg/status");
    let pip = find(&inv, "pip");
    assert_eq!(
        (pip.ecosystem, pip.version.as_str(), pip.purl.as_str()),
        (Ecosystem::PyPI, "24.2", "pkg:pypi/pip@24.2")
    );
    let npm = find(&inv, "@microsoft/sarif-multitool");
    assert_eq!(npm.purl, "pkg:npm/%40microsoft/sarif-multitool@5.7.0");
    assert_eq!(npm.layer.as_deref(), Some(diff_ids[1].as_str()));
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
}

#[test]
fn plain_tar_layers_read_too() {
    let (archive, _) = docker_archive(&debian_layers(Comp::None), "app:1");
    let inv = inv(archive).unwrap();
    assert_eq!(inv.layers[1].compression, "none");
    assert!(inv.packages.iter().any(|p| p.name == "openssl"));
}

#[test]
fn oci_layout_alpine() {
    let rootfs = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.alpine")),
            Node::File("lib/apk/db/installed", fixture("apk-installed.alpine")),
        ],
        Comp::Zstd,
    );
    let (archive, digests) = oci_archive(&[(rootfs, "application/vnd.oci.image.layer.v1.tar+zstd")]);
    let inv = inv(archive).unwrap();
    assert_eq!(inv.format, "oci-layout");
    assert_eq!(inv.repo_tags, ["alpine:3.20"]);
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["busybox", "libcrypto3", "musl", "zlib"]);
    let crypto = find(&inv, "libcrypto3");
    assert_eq!(crypto.ecosystem, Ecosystem::Alpine);
    assert_eq!(crypto.purl, "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3&upstream=openssl");
    assert_eq!(crypto.layer.as_deref(), Some(digests[0].as_str()));
    assert_eq!(inv.layers[0].media_type.as_deref(), Some("application/vnd.oci.image.layer.v1.tar+zstd"));
}

#[test]
fn whiteouts_and_opaque_directories() {
    let lower = layer(
        &[
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.base")),
            Node::File("app/node_modules/left-pad/package.json", br#"{"name":"left-pad","version":"1.3.0"}"#.to_vec()),
            Node::File("app/node_modules/kept/package.json", br#"{"name":"kept","version":"2.0.0"}"#.to_vec()),
            Node::File("site/a-1.0.dist-info/METADATA", b"Name: a\nVersion: 1.0\n".to_vec()),
        ],
        Comp::Gzip,
    );
    let upper = layer(
        &[
            Node::File("app/node_modules/.wh.left-pad", Vec::new()),
            Node::File("site/.wh..wh..opq", Vec::new()),
            Node::File("site/b-2.0.dist-info/METADATA", b"Name: b\nVersion: 2.0\n".to_vec()),
            // dpkg's database removed entirely: its packages are gone from the image.
            Node::File("var/lib/dpkg/.wh.status", Vec::new()),
        ],
        Comp::Gzip,
    );
    let (archive, _) = docker_archive(&[lower, upper], "w:1");
    let inv = inv(archive).unwrap();
    let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["kept", "b"]);
}

#[test]
fn removed_then_reinstalled_package_is_attributed_to_the_later_layer() {
    let l1 = layer(&[Node::File("var/lib/dpkg/status", fixture("dpkg-status.layer2"))], Comp::Gzip);
    let l2 = layer(&[Node::File("var/lib/dpkg/status", fixture("dpkg-status.base"))], Comp::Gzip);
    let l3 = layer(&[Node::File("var/lib/dpkg/status", fixture("dpkg-status.layer2"))], Comp::Gzip);
    let (archive, ids) = docker_archive(&[l1, l2, l3], "r:1");
    let inv = inv(archive).unwrap();
    assert_eq!(find(&inv, "openssl").layer.as_deref(), Some(ids[2].as_str()));
    assert_eq!(find(&inv, "bash").layer.as_deref(), Some(ids[0].as_str()));
}

// ---- hostile archives ----

#[test]
fn dot_dot_and_absolute_paths_are_ignored_with_a_message() {
    let evil = layer(
        &[
            Node::RawFile("../../var/lib/dpkg/status", fixture("dpkg-status.base")),
            Node::RawFile("/var/lib/dpkg/status", fixture("dpkg-status.base")),
            Node::RawFile("a/../../etc/os-release", fixture("os-release.debian")),
        ],
        Comp::Gzip,
    );
    let (archive, _) = docker_archive(&[evil], "evil:1");
    let inv = inv(archive).unwrap();
    assert!(inv.packages.is_empty());
    let messages: Vec<&str> = inv.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("`../../var/lib/dpkg/status` climbs out with `..`"), "{messages:?}");
    assert!(messages[1].contains("absolute path"), "{messages:?}");
}

#[test]
fn symlinks_outside_the_root_resolve_inside_it() {
    let l = layer(
        &[
            Node::Symlink("etc/os-release", "../../../../../usr/lib/os-release"),
            Node::File("usr/lib/os-release", fixture("os-release.alpine")),
            Node::Symlink("lib", "/../../../../tmp"),
        ],
        Comp::Gzip,
    );
    let (archive, _) = docker_archive(&[l], "s:1");
    let inv = inv(archive).unwrap();
    // Resolved inside the image, as a container would: /../ is /.
    assert_eq!(inv.os.unwrap().id, "alpine");
    assert!(inv.problems.iter().any(|p| p.message.contains("points outside the image")), "{:?}", inv.problems);
}

#[test]
fn hard_link_to_a_missing_file() {
    let l = layer(&[Node::Hardlink("var/lib/dpkg/status", "nowhere/status")], Comp::None);
    let (archive, _) = docker_archive(&[l], "h:1");
    let inv = inv(archive).unwrap();
    assert!(inv.packages.is_empty());
    assert!(inv.problems[0]
        .message
        .contains("hard link `var/lib/dpkg/status` points to a file that is not in the image"));
}

#[test]
fn hard_link_to_a_file_of_the_same_layer() {
    let l = layer(
        &[
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.base")),
            Node::Hardlink("var/lib/dpkg/status.d/copy", "var/lib/dpkg/status"),
        ],
        Comp::None,
    );
    let (archive, _) = docker_archive(&[l], "h:1");
    let inv = inv(archive).unwrap();
    assert_eq!(inv.packages.iter().filter(|p| p.name == "bash").count(), 2);
}

#[test]
fn truncated_layer_keeps_the_other_layers() {
    let good = layer(&[Node::File("var/lib/dpkg/status", fixture("dpkg-status.base"))], Comp::Gzip);
    let full = layer(
        &[
            Node::File("usr/bin/big", vec![1; 200_000]),
            Node::File("app/node_modules/x/package.json", br#"{"name":"x","version":"1.0.0"}"#.to_vec()),
        ],
        Comp::Gzip,
    );
    let cut = full[..full.len() / 3].to_vec();
    let (archive, ids) = docker_archive(&[good, cut], "t:1");
    let inv = inv(archive).unwrap();
    assert!(inv.packages.iter().any(|p| p.name == "bash"));
    assert!(!inv.layers[1].complete);
    let p = &inv.problems[0];
    assert_eq!(p.layer.as_deref(), Some(ids[1].as_str()));
    assert!(p.message.contains("truncated or corrupt"), "{}", p.message);
}

#[test]
fn decompression_bomb_is_refused() {
    // 64 MiB of zeros gzip to about 64 KiB: a ratio near 1000.
    let tar = layer_tar(&[Node::File("zeros", vec![0; 64 << 20])]);
    let bomb = common::compress(&tar, Comp::Gzip);
    let (archive, _) = docker_archive(&[bomb], "b:1");
    let limits = Limits { ratio_floor: 1 << 20, max_ratio: 100, ..Limits::DEFAULT };
    let err = inventory_from(&mut Cursor::new(archive), "bomb.tar", &limits).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("bomb.tar: refused: layer sha256:"), "{text}");
    assert!(text.contains("decompression bomb"), "{text}");
}

#[test]
fn total_size_cap_is_enforced() {
    let l = layer(&[Node::File("f", vec![3; 3 << 20])], Comp::Zstd);
    let (archive, _) = docker_archive(&[l.clone(), l], "c:1");
    let limits = Limits { max_uncompressed_bytes: 4 << 20, ..Limits::DEFAULT };
    let err = inventory_from(&mut Cursor::new(archive), "c.tar", &limits).unwrap_err();
    assert!(err.to_string().contains("total uncompressed bytes"), "{err}");
}

#[test]
fn ten_thousand_layer_manifest_is_refused() {
    let l = layer(&[Node::File("a", b"x".to_vec())], Comp::None);
    let manifest: Vec<String> = (0..10_000).map(|_| "l/layer.tar".to_owned()).collect();
    let mut b = tar::Builder::new(Vec::new());
    let json = serde_json::json!([{ "Config": null, "RepoTags": [], "Layers": manifest }]).to_string();
    for (path, data) in [("l/layer.tar", l), ("manifest.json", json.into_bytes())] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let err = inv(b.into_inner().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "test.tar: refused: the manifest lists 10000 layers; at most 1000 are read (Docker builds at most 127)"
    );
}

#[test]
fn not_an_archive() {
    for bytes in [Vec::new(), b"hello world".to_vec(), vec![0u8; 4096]] {
        let err = inv(bytes).unwrap_err();
        assert!(err.to_string().starts_with("test.tar: not an image archive"), "{err}");
    }
}

#[test]
fn oci_digest_with_path_tricks_is_refused() {
    let mut b = tar::Builder::new(Vec::new());
    let index = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:../../../etc/passwd","mediaType":"application/vnd.oci.image.manifest.v1+json"}]}"#;
    for (path, data) in [("oci-layout", b"{}".to_vec()), ("index.json", index.as_bytes().to_vec())] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let err = inv(b.into_inner().unwrap()).unwrap_err();
    assert!(err.to_string().contains("invalid digest"), "{err}");
}

// ---- Go binaries and application lockfiles ----

/// Layer 0: the real Go binary (and a non-executable copy, and a shell script); layer 1: a
/// package-lock.json and a Cargo.lock, plus one under node_modules that is skipped.
fn go_and_lockfile_layers() -> Vec<Vec<u8>> {
    let bin = go_binary();
    let base = layer(
        &[
            Node::Exec("usr/local/bin/sluicedemo", bin.clone()),
            Node::File("srv/not-executable", bin),
            Node::Exec("usr/local/bin/script", b"#!/bin/sh\necho hi\n".to_vec()),
        ],
        Comp::Gzip,
    );
    let app = layer(
        &[
            Node::File("app/package-lock.json", inventory_fixture("npm/v3.package-lock.json")),
            Node::File("app/node_modules/x/package-lock.json", inventory_fixture("npm/v3.package-lock.json")),
            Node::File("srv/Cargo.lock", inventory_fixture("cargo/v4.Cargo.lock")),
        ],
        Comp::Zstd,
    );
    vec![base, app]
}

#[test]
fn go_binary_modules_match_go_version_m() {
    let (archive, ids) = docker_archive(&go_and_lockfile_layers(), "go:1");
    let inv = inv(archive).unwrap();
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let go: Vec<_> = inv.packages.iter().filter(|p| p.ecosystem == Ecosystem::Go).collect();
    // Expected from the oracle: each dep (replacement applied), the main module, stdlib.
    let mut expected: Vec<(String, String, Source)> = go_oracle_deps()
        .into_iter()
        .map(|(path, version, replace)| match replace {
            Some((dir, v)) if dir.starts_with("./") => (path, v, Source::Path(dir)),
            Some((module, v)) => (module, v, Source::Registry),
            None => (path, version, Source::Registry),
        })
        .collect();
    expected.push(("example.com/sluicedemo".into(), "(devel)".into(), Source::Path(".".into())));
    expected.push(("stdlib".into(), "1.19.8".into(), Source::Registry));
    expected.sort();
    let mut got: Vec<(String, String, Source)> =
        go.iter().map(|p| (p.name.clone(), p.version.clone(), p.source.clone())).collect();
    got.sort();
    assert_eq!(got, expected);
    for p in &go {
        assert_eq!(p.location.path, "/usr/local/bin/sluicedemo", "{p:?}");
        assert_eq!(p.layer.as_deref(), Some(ids[0].as_str()), "{p:?}");
    }
    assert_eq!(find(&inv, "github.com/google/uuid").purl, "pkg:golang/github.com/google/uuid@v1.3.0");
    assert_eq!(find(&inv, "stdlib").purl, "pkg:golang/stdlib@1.19.8");
}

#[test]
fn lockfiles_in_an_image_carry_their_layer_and_location() {
    let (archive, ids) = docker_archive(&go_and_lockfile_layers(), "go:1");
    let inv = inv(archive).unwrap();
    for (path, fixture_name, format) in [
        ("/app/package-lock.json", "npm/v3.package-lock.json", Format::NpmPackageLock),
        ("/srv/Cargo.lock", "cargo/v4.Cargo.lock", Format::CargoLock),
    ] {
        let direct = sluice_inventory::parse_bytes(&inventory_fixture(fixture_name), path, format);
        assert!(direct.error.is_none() && !direct.packages.is_empty());
        let mut in_image: Vec<_> = inv.packages.iter().filter(|p| p.location.path == path).cloned().collect();
        in_image.sort();
        for p in &in_image {
            assert_eq!(p.layer.as_deref(), Some(ids[1].as_str()), "{p:?}");
        }
        let expected: Vec<_> = direct
            .packages
            .into_iter()
            .map(|mut p| {
                p.layer = Some(ids[1].clone());
                p
            })
            .collect();
        assert_eq!(in_image, expected, "{path}");
        assert!(in_image.iter().all(|p| p.location.line > 1), "lines are the lockfile's");
    }
    assert!(!inv.packages.iter().any(|p| p.location.path.contains("node_modules/x/package-lock.json")));
}

#[test]
fn whiteout_of_a_go_binary_removes_its_modules() {
    let mut layers = go_and_lockfile_layers();
    layers.push(layer(&[Node::File("usr/local/bin/.wh.sluicedemo", Vec::new())], Comp::Gzip));
    let (archive, _) = docker_archive(&layers, "go:2");
    let inv = inv(archive).unwrap();
    assert!(!inv.packages.iter().any(|p| p.ecosystem == Ecosystem::Go), "{:?}", inv.packages);
    assert!(inv.packages.iter().any(|p| p.location.path == "/srv/Cargo.lock"));
}

#[test]
fn broken_go_binary_and_lockfile_are_problems_not_errors() {
    let bin = go_binary();
    let at = bin.windows(14).position(|w| w == b"\xff Go buildinf:").unwrap();
    let l = layer(
        &[
            Node::Exec("bin/cut", bin[..at + 100].to_vec()),
            Node::File("app/package-lock.json", b"{ not json".to_vec()),
            Node::Exec("bin/whole", bin),
        ],
        Comp::Gzip,
    );
    let (archive, _) = docker_archive(&[l], "b:1");
    let inv = inv(archive).unwrap();
    let messages: Vec<&str> = inv.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("`bin/cut` is a Go binary but its build info is cut short")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("app/package-lock.json")), "{messages:?}");
    // The intact binary in the same layer is still read.
    assert!(inv.packages.iter().any(|p| p.name == "github.com/google/uuid" && p.location.path == "/bin/whole"));
}

/// The oracle: what `rpm -qa --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}'`
/// printed for tests/fixtures/rpmdb.sqlite: (name, EVR as rpm prints %{EVR}, arch, source rpm).
fn rpm_oracle() -> Vec<(String, String, String, String)> {
    let text = String::from_utf8(fixture("rpmdb.txt")).unwrap();
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let (epoch, vr) = f[1].split_once(':').unwrap();
            let evr = if epoch == "(none)" { vr.to_owned() } else { format!("{epoch}:{vr}") };
            (f[0].to_owned(), evr, f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

/// The real rpmdb.sqlite with the rows of `drop` deleted, through SQLite itself: an earlier
/// state of the same database, as a base layer would have it.
fn rpmdb_without(drop: &str) -> Vec<u8> {
    let mut bytes = fixture("rpmdb.sqlite");
    bytes[18] = 1; // WAL → rollback journal, so it opens in memory (as the reader does).
    bytes[19] = 1;
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    let size = bytes.len();
    db.deserialize_read_exact(rusqlite::MAIN_DB, bytes.as_slice(), size, false).unwrap();
    let mut gone = 0;
    let rows: Vec<(i64, Vec<u8>)> = db
        .prepare("SELECT hnum, blob FROM Packages")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (hnum, blob) in rows {
        if sluice_container::image::rpmdb::parse_header(&blob).unwrap().name == drop {
            // rpm's index tables (Name, Basenames, Providename…) refer to the row: as `rpm -e`
            // does, remove the package from them first.
            let tables: Vec<String> = db
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('Packages') AND name NOT LIKE 'sqlite_%'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for t in tables {
                db.execute(&format!("DELETE FROM \"{t}\" WHERE hnum = ?1"), [hnum]).unwrap();
            }
            gone += db.execute("DELETE FROM Packages WHERE hnum = ?1", [hnum]).unwrap();
        }
    }
    assert_eq!(gone, 1);
    db.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

#[test]
fn rocky_rpm_database_matches_rpm_qa_with_layers_and_purls() {
    let base = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.rocky")),
            Node::File("var/lib/rpm/rpmdb.sqlite", rpmdb_without("openssl-libs")),
        ],
        Comp::Gzip,
    );
    let app = layer(&[Node::File("var/lib/rpm/rpmdb.sqlite", fixture("rpmdb.sqlite"))], Comp::Zstd);
    let (archive, diff_ids) = docker_archive(&[base, app], "rocky:9");
    let inv = inv(archive).unwrap();
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let rpms: Vec<_> = inv.packages.iter().filter(|p| p.ecosystem == Ecosystem::Rpm).collect();
    let oracle = rpm_oracle();
    assert_eq!(
        rpms.iter().map(|p| (p.name.clone(), p.version.clone())).collect::<Vec<_>>(),
        oracle.iter().map(|(n, v, _, _)| (n.clone(), v.clone())).collect::<Vec<_>>()
    );
    for (p, (name, _, arch, srpm)) in rpms.iter().zip(&oracle) {
        assert!(p.purl.starts_with(&format!("pkg:rpm/rocky/{name}@")), "{}", p.purl);
        assert!(p.purl.contains(&format!("?arch={arch}&distro=rocky-9.3")), "{}", p.purl);
        assert_eq!(p.location.path, "/var/lib/rpm/rpmdb.sqlite");
        let distro = p.distro.as_ref().unwrap();
        assert_eq!((distro.ecosystem.as_str(), distro.release.as_deref()), ("Rocky Linux", Some("9")));
        let src = srpm.strip_suffix(".src.rpm").unwrap().rsplitn(3, '-').nth(2).unwrap();
        assert_eq!(distro.source_name.as_deref(), (src != name).then_some(src), "{name}");
    }
    let ssl = find(&inv, "openssl-libs");
    assert_eq!(ssl.purl, "pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rocky-9.3&epoch=1");
    assert_eq!(ssl.version, "1:3.0.7-27.el9");
    // openssl-libs came with the second layer; the others were already in the first.
    assert_eq!(ssl.layer.as_deref(), Some(diff_ids[1].as_str()));
    assert_eq!(find(&inv, "hello").layer.as_deref(), Some(diff_ids[0].as_str()));
    assert_eq!(find(&inv, "tzdata").layer.as_deref(), Some(diff_ids[0].as_str()));
    assert_eq!(find(&inv, "tzdata").purl, "pkg:rpm/rocky/tzdata@2024a-1.el9?arch=noarch&distro=rocky-9.3");
}

#[test]
fn damaged_and_berkeleydb_rpm_databases_are_problems_not_failures() {
    let mut truncated = fixture("rpmdb.sqlite");
    truncated.truncate(4096);
    let base = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.rocky")),
            Node::File("var/lib/rpm/Packages", vec![0x61; 8192]),
            Node::File("usr/lib/sysimage/rpm/rpmdb.sqlite", truncated),
            Node::File("usr/lib/python3.9/site-packages/pip-24.2.dist-info/METADATA", fixture("pip-24.2.METADATA")),
        ],
        Comp::None,
    );
    let (archive, _) = docker_archive(&[base], "rocky:broken");
    let inv = inv(archive).unwrap();
    let messages: Vec<&str> = inv.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("`/var/lib/rpm/Packages`: BerkeleyDB")), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.starts_with("`/usr/lib/sysimage/rpm/rpmdb.sqlite`: cannot read the rpm database")),
        "{messages:?}"
    );
    // The other packages are still there.
    assert_eq!(find(&inv, "pip").version, "24.2");
}
