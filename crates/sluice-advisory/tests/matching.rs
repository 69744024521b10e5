//! OSV matching semantics end to end: records written as files, imported, stored, opened,
//! matched.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::json;
use sluice_advisory::{import, match_package, update, Database, Error, SourceKind};
use sluice_inventory::Ecosystem;

fn db_from(records: &[serde_json::Value]) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("osv");
    std::fs::create_dir(&src).unwrap();
    for (i, r) in records.iter().enumerate() {
        std::fs::write(src.join(format!("{i}.json")), serde_json::to_vec(r).unwrap()).unwrap();
    }
    let imported = import(&src).unwrap();
    assert_eq!(imported.kind, SourceKind::OsvDir);
    let db_path = dir.path().join("advisories.db");
    update(&db_path, vec![("osv".into(), imported)], 1_700_000_000).unwrap();
    let db = Database::open(&db_path).unwrap();
    (dir, db)
}

fn record(id: &str, eco: &str, name: &str, ranges: serde_json::Value) -> serde_json::Value {
    json!({"id": id, "modified": "2024-01-01T00:00:00Z", "summary": format!("{id} summary"),
           "affected": [{"package": {"ecosystem": eco, "name": name}, "ranges": ranges}]})
}

fn ids(db: &Database, eco: Ecosystem, name: &str, version: &str) -> Vec<String> {
    match_package(db, eco, name, version).unwrap().findings.into_iter().map(|f| f.id).collect()
}

#[test]
fn introduced_fixed_last_affected_and_limit() {
    let (_d, db) = db_from(&[
        record(
            "OSV-1",
            "npm",
            "left",
            json!([{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}, {"introduced": "2.0.0"}, {"fixed": "2.0.5"}]}]),
        ),
        record(
            "OSV-2",
            "npm",
            "last",
            json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "3.1.0"}]}]),
        ),
        record(
            "OSV-3",
            "npm",
            "limit",
            json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "2.0.0"}]}]),
        ),
    ]);
    for (v, hit) in [
        ("0.9.9", false),
        ("1.0.0", true),
        ("1.1.9", true),
        ("1.2.0", false),
        ("1.9.0", false),
        ("2.0.0", true),
        ("2.0.4", true),
        ("2.0.5", false),
        ("3.0.0", false),
    ] {
        assert_eq!(!ids(&db, Ecosystem::Npm, "left", v).is_empty(), hit, "left@{v}");
    }
    assert_eq!(ids(&db, Ecosystem::Npm, "last", "3.1.0"), ["OSV-2"]);
    assert!(ids(&db, Ecosystem::Npm, "last", "3.1.1").is_empty());
    assert_eq!(ids(&db, Ecosystem::Npm, "limit", "1.9.9"), ["OSV-2".replace('2', "3")]);
    assert!(ids(&db, Ecosystem::Npm, "limit", "2.0.0").is_empty());
    let m = match_package(&db, Ecosystem::Npm, "left", "2.0.1").unwrap();
    assert_eq!(m.findings[0].upgrade_to.as_deref(), Some("2.0.5"));
    assert_eq!(m.findings[0].fixed, ["1.2.0", "2.0.5"]);
}

#[test]
fn ecosystem_ranges_use_the_ecosystem_order_and_versions_lists_match_by_equality() {
    let (_d, db) = db_from(&[
        // PEP 440: 1.0rc1 < 1.0 < 1.0.post1; a semver reading would get this wrong.
        record(
            "PYSEC-1",
            "PyPI",
            "Demo_Pkg",
            json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.post1"}]}]),
        ),
        json!({"id": "PYSEC-2", "affected": [{"package": {"ecosystem": "PyPI", "name": "listed"}, "versions": ["1.0", "2.5"]}]}),
        record(
            "GHSA-mvn1-xxxx-xxxx",
            "Maven",
            "org.example:lib",
            json!([{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]),
        ),
        record(
            "DSA-1",
            "Debian:12",
            "openssl",
            json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]),
        ),
    ]);
    // PEP 503 names: Demo_Pkg, demo-pkg and demo.pkg are one package.
    assert_eq!(ids(&db, Ecosystem::PyPI, "demo-pkg", "1.0"), ["PYSEC-1"]);
    assert_eq!(ids(&db, Ecosystem::PyPI, "demo.pkg", "1.0rc1"), ["PYSEC-1"]);
    assert!(ids(&db, Ecosystem::PyPI, "demo-pkg", "1.0.post1").is_empty());
    assert_eq!(ids(&db, Ecosystem::PyPI, "listed", "1.0.0"), ["PYSEC-2"]);
    assert!(ids(&db, Ecosystem::PyPI, "listed", "1.1").is_empty());
    assert_eq!(ids(&db, Ecosystem::Maven, "org.example:lib", "2.14.1"), ["GHSA-mvn1-xxxx-xxxx"]);
    assert_eq!(ids(&db, Ecosystem::Maven, "org.example:lib", "2.0-rc1"), ["GHSA-mvn1-xxxx-xxxx"]);
    assert!(ids(&db, Ecosystem::Maven, "org.example:lib", "2.0-beta8").is_empty());
    assert_eq!(ids(&db, Ecosystem::Debian, "openssl", "3.0.11-1~deb12u1"), ["DSA-1"]);
    assert!(ids(&db, Ecosystem::Debian, "openssl", "3.0.11-1~deb12u2").is_empty());
}

#[test]
fn aliases_merge_into_one_finding_with_a_deterministic_id() {
    let ranges = json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5.0"}]}]);
    let mut ghsa = record("GHSA-aaaa-bbbb-cccc", "crates.io", "dup", ranges.clone());
    ghsa["aliases"] = json!(["CVE-2024-0001"]);
    ghsa["severity"] = json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]);
    let mut rustsec = record(
        "RUSTSEC-2024-0001",
        "crates.io",
        "dup",
        json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.4.0"}]}]),
    );
    rustsec["aliases"] = json!(["CVE-2024-0001"]);
    let mut cve = record("CVE-2024-0001", "crates.io", "dup", ranges);
    cve["severity"] = json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]);
    let other =
        record("RUSTSEC-2024-0002", "crates.io", "dup", json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]));
    let (_d, db) = db_from(&[ghsa, rustsec, cve, other]);
    let m = match_package(&db, Ecosystem::CratesIo, "dup", "1.0.0").unwrap();
    assert_eq!(m.findings.len(), 2);
    let f = &m.findings[0];
    assert_eq!(f.id, "RUSTSEC-2024-0001");
    assert_eq!(f.aliases, ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"]);
    assert_eq!(f.advisories.len(), 3);
    // The highest score wins and names who gave it; every merged advisory must be fixed.
    let score = f.score.as_ref().unwrap();
    assert_eq!((score.value, score.source.as_str()), (9.8, "GHSA"));
    assert_eq!(f.upgrade_to.as_deref(), Some("1.5.0"));
    assert_eq!(m.findings[1].id, "RUSTSEC-2024-0002");
    assert_eq!(m.findings[1].upgrade_to, None);
    // Between the two fixes only the GHSA/CVE pair still applies, under the same canonical rule.
    let m = match_package(&db, Ecosystem::CratesIo, "dup", "1.4.5").unwrap();
    assert_eq!(m.findings[0].id, "CVE-2024-0001");
    assert_eq!(m.findings[0].aliases, ["GHSA-aaaa-bbbb-cccc"]);
}

#[test]
fn withdrawn_git_and_unparseable_are_not_matches() {
    let mut withdrawn = record(
        "GHSA-wwww-wwww-wwww",
        "Go",
        "example.com/mod",
        json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]),
    );
    withdrawn["withdrawn"] = json!("2024-02-01T00:00:00Z");
    let git = record(
        "OSV-GIT",
        "Go",
        "example.com/git",
        json!([{"type": "GIT", "repo": "https://example.com/r", "events": [{"introduced": "0"}, {"fixed": "abcdef"}]}]),
    );
    let bad = record(
        "OSV-BAD",
        "Go",
        "example.com/bad",
        json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not-a-version!"}]}]),
    );
    let go = record(
        "GO-2024-0001",
        "Go",
        "example.com/pseudo",
        json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.0.0-20200101000000-aaaaaaaaaaaa"}]}]),
    );
    let (_d, db) = db_from(&[withdrawn, git, bad, go]);
    assert!(ids(&db, Ecosystem::Go, "example.com/mod", "v1.0.0").is_empty());
    assert!(ids(&db, Ecosystem::Go, "example.com/git", "v1.0.0").is_empty());
    let m = match_package(&db, Ecosystem::Go, "example.com/bad", "v1.0.0").unwrap();
    assert!(m.findings.is_empty());
    assert!(m.notes.iter().any(|n| n.contains("OSV-BAD") && n.contains("not-a-version!")), "{:?}", m.notes);
    assert_eq!(ids(&db, Ecosystem::Go, "example.com/pseudo", "v0.0.0-20191109021931-daa7c04131f5"), ["GO-2024-0001"]);
    assert!(ids(&db, Ecosystem::Go, "example.com/pseudo", "v0.0.0-20200102000000-bbbbbbbbbbbb").is_empty());
    let m = match_package(&db, Ecosystem::Go, "example.com/pseudo", "latest").unwrap();
    assert!(m.findings.is_empty() && !m.notes.is_empty());
}

#[test]
fn zip_sources_import_and_bad_records_are_skipped_with_their_name() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("GHSA-1.json", opts).unwrap();
    zip.write_all(
        &serde_json::to_vec(&record(
            "GHSA-1",
            "npm",
            "lodash",
            json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]),
        ))
        .unwrap(),
    )
    .unwrap();
    zip.start_file("broken.json", opts).unwrap();
    zip.write_all(b"{\"id\": ").unwrap();
    zip.finish().unwrap();
    let imported = import(&zip_path).unwrap();
    assert_eq!(imported.kind, SourceKind::OsvZip);
    assert_eq!(imported.advisories.len(), 1);
    assert_eq!(imported.skipped.len(), 1);
    assert!(imported.skipped[0].file.ends_with("all.zip!broken.json"), "{:?}", imported.skipped);

    let not_zip = dir.path().join("notes.txt");
    std::fs::write(&not_zip, "hello").unwrap();
    let err = import(&not_zip).unwrap_err().to_string();
    assert!(err.contains("notes.txt") && err.contains("not a zip"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = import(&empty).unwrap_err().to_string();
    assert!(err.contains("no advisories found"), "{err}");
}

#[test]
fn updates_replace_a_source_and_keep_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    let write = |name: &str, id: &str| {
        let src = dir.path().join(name);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("r.json"), serde_json::to_vec(&record(id, "npm", "p", json!([]))).unwrap()).unwrap();
        src
    };
    let a = write("a", "OSV-A1");
    let b = write("b", "OSV-B1");
    update(&db_path, vec![("a".into(), import(&a).unwrap())], 1).unwrap();
    update(&db_path, vec![("b".into(), import(&b).unwrap())], 2).unwrap();
    let a = write("a", "OSV-A2");
    let outcome = update(&db_path, vec![("a".into(), import(&a).unwrap())], 3).unwrap();
    let db = Database::open(&db_path).unwrap();
    let ids: Vec<String> = db.all().unwrap().into_iter().map(|s| s.advisory.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"OSV-A2".to_owned()) && ids.contains(&"OSV-B1".to_owned()), "{ids:?}");
    assert_eq!(outcome.meta.sources.len(), 2);
    assert_eq!(outcome.meta.updated_at, 3);
}

#[test]
fn damaged_databases_are_errors_naming_the_file() {
    let (dir, db) =
        db_from(&[record("OSV-1", "npm", "x", json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]))]);
    drop(db);
    let path = dir.path().join("advisories.db");
    let bytes = std::fs::read(&path).unwrap();
    // Every truncation is an error (never a panic), and names the file.
    for cut in (0..bytes.len()).step_by(7) {
        let result =
            Database::from_bytes(&path, bytes[..cut].to_vec()).and_then(|db| db.lookup("npm", "x").map(|_| ()));
        let err = result.expect_err("a truncated database is an error");
        assert!(err.to_string().contains("advisories.db"), "{err}");
    }
    let missing = Database::open(&dir.path().join("nope.db")).err().unwrap();
    assert!(matches!(missing, Error::Missing { .. }));
    assert!(missing.to_string().contains("sluice db update --from"), "{missing}");
    let mut future = bytes.clone();
    future[8] = 99;
    let err = Database::from_bytes(Path::new("x.db"), future).err().unwrap();
    assert!(matches!(err, Error::Format { found: 99, .. }));
}

fn os_package(
    eco: Ecosystem,
    distro: &str,
    release: Option<&str>,
    name: &str,
    version: &str,
    source: Option<(&str, Option<&str>)>,
) -> sluice_inventory::Package {
    sluice_inventory::Package {
        ecosystem: eco,
        name: name.into(),
        version: version.into(),
        purl: format!("pkg:deb/debian/{name}@{version}"),
        relationship: sluice_inventory::Relationship::Unknown,
        location: sluice_inventory::Location { path: "/var/lib/dpkg/status".into(), line: 1 },
        hashes: Vec::new(),
        dependencies: Vec::new(),
        layer: None,
        source: sluice_inventory::Source::Registry,
        distro: Some(sluice_inventory::Distro {
            ecosystem: distro.into(),
            release: release.map(str::to_owned),
            source_name: source.map(|s| s.0.to_owned()),
            source_version: source.and_then(|s| s.1.map(str::to_owned)),
        }),
    }
}

fn installed_ids(db: &Database, package: &sluice_inventory::Package) -> Vec<String> {
    sluice_advisory::match_installed(db, package).unwrap().findings.into_iter().map(|f| f.id).collect()
}

#[test]
fn distribution_advisories_apply_to_their_release_only() {
    // Unfixed in Debian 11, fixed in 12: a Debian 12 package past the fix must not borrow the
    // Debian 11 entry, and a Debian 11 package is affected whatever its version.
    let unfixed_in_11 = json!({"id": "DEBIAN-CVE-2024-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:11", "name": "curl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
        {"package": {"ecosystem": "Debian:12", "name": "curl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u5"}]}]},
    ]});
    let alpine = json!({"id": "ALPINE-CVE-2024-2", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Alpine:v3.19", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.7-r1"}]}]},
    ]});
    let ubuntu = json!({"id": "UBUNTU-CVE-2024-3", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.11.dfsg-2ubuntu9.2"}]}]},
        {"package": {"ecosystem": "Ubuntu:Pro:18.04:LTS", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.11.dfsg-0ubuntu2.2+esm1"}]}]},
    ]});
    let (_d, db) = db_from(&[unfixed_in_11, alpine, ubuntu]);
    let deb = |release, version| os_package(Ecosystem::Debian, "Debian", release, "curl", version, None);
    assert_eq!(installed_ids(&db, &deb(Some("12"), "7.88.1-10+deb12u4")), ["DEBIAN-CVE-2024-1"]);
    assert!(installed_ids(&db, &deb(Some("12"), "7.88.1-10+deb12u5")).is_empty());
    assert_eq!(installed_ids(&db, &deb(Some("11"), "7.74.0-1.3+deb11u14")), ["DEBIAN-CVE-2024-1"]);
    assert!(installed_ids(&db, &deb(Some("13"), "8.14.1-2")).is_empty());
    // Unknown release: only release-less entries could match, and the note says so.
    let unknown = sluice_advisory::match_installed(&db, &deb(None, "7.88.1-10+deb12u4")).unwrap();
    assert!(unknown.findings.is_empty());
    assert!(unknown.notes.iter().any(|n| n.contains("no Debian release")), "{:?}", unknown.notes);
    // Alpine: by origin package, per branch.
    let apk = |release| {
        os_package(Ecosystem::Alpine, "Alpine", Some(release), "libcrypto3", "3.1.4-r5", Some(("openssl", None)))
    };
    assert_eq!(installed_ids(&db, &apk("v3.19")), ["ALPINE-CVE-2024-2"]);
    assert!(installed_ids(&db, &apk("v3.20")).is_empty());
    // Ubuntu: `22.04` matches `Ubuntu:22.04:LTS`; Ubuntu Pro (ESM) entries never apply.
    let ubu = |release, version| {
        os_package(Ecosystem::Ubuntu, "Ubuntu", Some(release), "zlib1g", version, Some(("zlib", None)))
    };
    assert_eq!(installed_ids(&db, &ubu("22.04", "1:1.2.11.dfsg-2ubuntu9")), ["UBUNTU-CVE-2024-3"]);
    assert!(installed_ids(&db, &ubu("18.04", "1:1.2.11.dfsg-0ubuntu2")).is_empty());
}

#[test]
fn debian_advisories_match_the_source_package_at_its_source_version() {
    // bash 5.2.15-2+b8 is a binNMU of source bash 5.2.15-2: the advisory's range is over
    // source versions, so the source version decides.
    let rec = json!({"id": "DSA-9-1", "modified": "2024-01-01T00:00:00Z", "upstream": ["CVE-2099-1"], "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "bash"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.15-2+b9"}]}]},
        {"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}]},
    ]});
    let (_d, db) = db_from(&[rec]);
    let bash =
        os_package(Ecosystem::Debian, "Debian", Some("12"), "bash", "5.2.15-2+b8", Some(("bash", Some("5.2.15-2"))));
    let found = sluice_advisory::match_installed(&db, &bash).unwrap().findings;
    assert_eq!(found.len(), 1, "reached under the binary and the source name, reported once");
    assert_eq!(found[0].aliases, ["CVE-2099-1"]);
    let libc = |v| os_package(Ecosystem::Debian, "Debian", Some("12"), "libc6", v, Some(("glibc", None)));
    assert_eq!(installed_ids(&db, &libc("2.36-9+deb12u1")), ["DSA-9-1"]);
    assert!(installed_ids(&db, &libc("2.36-9+deb12u3")).is_empty());
}

#[test]
fn rpm_packages_match_their_distribution_release_and_epoch() {
    let rec = json!({"id": "RLSA-2099:0001", "modified": "2024-01-01T00:00:00Z", "upstream": ["CVE-2099-2"], "affected": [
        {"package": {"ecosystem": "Rocky Linux:9", "name": "openssl-libs"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-28.el9"}]}]},
        {"package": {"ecosystem": "Rocky Linux:8", "name": "openssl-libs"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.1.1k-12.el8"}]}]},
    ]});
    let alma = json!({"id": "ALSA-2099:0002", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "AlmaLinux:9", "name": "openssl-libs"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-99.el9"}]}]},
    ]});
    let (_d, db) = db_from(&[rec, alma]);
    let rpm = |release, version| {
        let mut p =
            os_package(Ecosystem::Rpm, "Rocky Linux", Some(release), "openssl-libs", version, Some(("openssl", None)));
        p.purl = format!("pkg:rpm/rocky/openssl-libs@{version}");
        p
    };
    let found = sluice_advisory::match_installed(&db, &rpm("9", "1:3.0.7-27.el9")).unwrap().findings;
    assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["RLSA-2099:0001"]);
    assert_eq!(found[0].upgrade_to.as_deref(), Some("1:3.0.7-28.el9"));
    assert!(installed_ids(&db, &rpm("9", "1:3.0.7-28.el9")).is_empty());
    // rpm order: `.el9_2` after `.el9`; no epoch is epoch 0, below 1.
    assert!(installed_ids(&db, &rpm("9", "1:3.0.7-28.el9_2")).is_empty());
    assert_eq!(installed_ids(&db, &rpm("9", "3.0.9-1.el9")), ["RLSA-2099:0001"]);
    // Rocky 8's fix is not Rocky 9's, and AlmaLinux's records never apply to Rocky.
    assert_eq!(installed_ids(&db, &rpm("8", "1:1.1.1k-11.el8")), ["RLSA-2099:0001"]);
    assert!(installed_ids(&db, &rpm("8", "1:1.1.1k-12.el8")).is_empty());
}
