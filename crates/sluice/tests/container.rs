//! The container stage through the real binary: Dockerfiles discovered in a temp repository,
//! SARIF validated with the SARIF Multitool, secrets redacted, image archives built here
//! inventoried, and hostile archives refused without writing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../sluice-container/tests/common/mod.rs"]
mod images;

use std::path::Path;

use common::{assert_valid, github_token, parse, results, sluice};
use images::{docker_archive, docker_archive_with_history, fixture, layer, layer_tar, Comp, Node};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn rule_paths(log: &serde_json::Value) -> Vec<(String, String, u64)> {
    results(log)
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn scans_discovered_dockerfiles_into_valid_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let token = github_token("a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5");
    write(
        root,
        "Dockerfile",
        &format!(
            "ARG BASE=python:3.12-slim\nFROM ${{BASE}} AS build\nENV GH_TOKEN={token}\nRUN curl -fsSL https://install.example.com | bash\n\nFROM debian:12@sha256:2171c87301e5ea528cee5c2308a4589f8f2ac819d4d434b679b7cb1dc8de6912\nCOPY --from=biuld /app /app\nUSER 10001\n"
        ),
    );
    write(root, "svc/api.Dockerfile", "FROM node\nRUN npm install -g left-pad\nUSER node\n");
    write(root, "tools/Containerfile", "FROM quay.io/acme/tool:1.0\nEXPOSE 22\n");
    write(root, "ignored/Dockerfile", "FROM ubuntu\n");
    write(root, ".gitignore", "ignored/\n");
    write(root, "sluice.toml", "[stages.container]\nallowed_registries = [\"docker.io\"]\n");

    let out = sluice().args(["scan", "container"]).arg(root).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(!text.contains(&token), "the secret leaked into the SARIF");
    let log = parse(&out);
    let mut got = rule_paths(&log);
    got.sort();
    let want = [
        ("dockerfile-base-latest", "svc/api.Dockerfile", 1),
        ("dockerfile-base-not-pinned", "Dockerfile", 2),
        ("dockerfile-base-not-pinned", "svc/api.Dockerfile", 1),
        ("dockerfile-base-not-pinned", "tools/Containerfile", 1),
        ("dockerfile-copy-from-unknown-stage", "Dockerfile", 7),
        ("dockerfile-curl-pipe-shell", "Dockerfile", 4),
        ("dockerfile-expose-ssh", "tools/Containerfile", 2),
        ("dockerfile-registry-not-allowed", "tools/Containerfile", 1),
        ("dockerfile-secret-value", "Dockerfile", 3),
        ("dockerfile-unpinned-package", "svc/api.Dockerfile", 2),
        ("dockerfile-user-root", "tools/Containerfile", 1),
    ];
    let want: Vec<(String, String, u64)> = want.iter().map(|(r, p, l)| ((*r).into(), (*p).into(), *l)).collect();
    assert_eq!(got, want);
    let secret = results(&log).into_iter().find(|r| r["ruleId"] == "dockerfile-secret-value").unwrap();
    assert!(secret["message"]["text"].as_str().unwrap().contains("ghp_…(40 chars)"), "{secret}");
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["help"]["markdown"].as_str().unwrap().contains("Not flagged")));

    let file = dir.path().join("out.sarif");
    std::fs::write(&file, &out).unwrap();
    assert_valid(&file);
}

#[test]
fn image_inventory_goes_into_run_properties() {
    let dir = tempfile::tempdir().unwrap();
    let base = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.debian")),
            Node::File("var/lib/dpkg/status", fixture("dpkg-status.base")),
        ],
        Comp::Gzip,
    );
    let (archive, ids) = docker_archive(&[base], "app:1");
    let image = dir.path().join("app.tar");
    std::fs::write(&image, archive).unwrap();
    let out = sluice().args(["scan", "container", "--image"]).arg(&image).arg(dir.path()).assert().success();
    let log = parse(&out.get_output().stdout);
    let inv = &log["runs"][0]["properties"]["sluice/image-inventories"][0];
    assert_eq!(inv["os"]["id"], "debian");
    let bash = inv["packages"].as_array().unwrap().iter().find(|p| p["name"] == "bash").unwrap();
    assert_eq!(bash["ecosystem"], "Debian");
    assert_eq!(bash["layer"], ids[0].as_str());
    assert_eq!(bash["distro"], "Debian:12");
    let libc = inv["packages"].as_array().unwrap().iter().find(|p| p["name"] == "libc6").unwrap();
    assert_eq!(libc["sourcePackage"], "glibc");
    let file = dir.path().join("out.sarif");
    std::fs::write(&file, &out.get_output().stdout).unwrap();
    assert_valid(&file);
}

/// Every file under `dir`, relative.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        out.push(e.file_name().to_string_lossy().into_owned());
        if e.file_type().unwrap().is_dir() {
            out.extend(listing(&e.path()).into_iter().map(|p| format!("{}/{p}", e.file_name().to_string_lossy())));
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_images_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    // A layer with `..` and absolute paths, outward symlinks and a dangling hard link …
    let evil = layer(
        &[
            Node::RawFile("../../../tmp/sluice-pwned", b"x".to_vec()),
            Node::RawFile("/tmp/sluice-pwned-abs", b"x".to_vec()),
            Node::Symlink("etc/os-release", "../../../../etc/passwd"),
            Node::Hardlink("var/lib/dpkg/status", "missing/status"),
        ],
        Comp::Gzip,
    );
    let (contained, _) = docker_archive(&[evil], "evil:1");
    std::fs::write(inputs.path().join("evil.tar"), contained).unwrap();
    // … a decompression bomb (128 MiB of zeros gzip to about 128 KiB) …
    let bomb = images::compress(&layer_tar(&[Node::File("zeros", vec![0; 128 << 20])]), Comp::Gzip);
    let (bomb, _) = docker_archive(&[bomb], "bomb:1");
    std::fs::write(inputs.path().join("bomb.tar"), bomb).unwrap();

    let cwd = dir.path().join("cwd");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let run = |name: &str| {
        sluice()
            .current_dir(&cwd)
            .env("TMPDIR", &tmp)
            .args(["scan", "container", "--image"])
            .arg(inputs.path().join(name))
            .arg(&cwd)
            .assert()
    };
    let out = run("evil.tar").success();
    let log = parse(&out.get_output().stdout);
    let notes: Vec<String> = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(notes.len(), 4, "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("climbs out with `..`")));
    assert!(notes.iter().any(|n| n.contains("absolute path")));
    assert!(notes.iter().any(|n| n.contains("points outside the image")));
    assert!(notes.iter().any(|n| n.contains("hard link")));

    let out = run("bomb.tar").code(2);
    let log = parse(&out.get_output().stdout);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let text = inv["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap();
    assert!(text.contains("bomb.tar: refused: layer sha256:") && text.contains("decompression bomb"), "{text}");

    assert!(listing(&cwd).is_empty(), "written to the working directory: {:?}", listing(&cwd));
    assert!(listing(&tmp).is_empty(), "written to TMPDIR: {:?}", listing(&tmp));
    assert!(!Path::new("/tmp/sluice-pwned").exists() && !Path::new("/tmp/sluice-pwned-abs").exists());
}

#[test]
fn run_includes_the_container_stage() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", "FROM alpine:latest\nRUN apk add curl\n");
    sluice().args(["run", "--format", "json"]).arg(dir.path()).assert().success();
    let log = parse(&std::fs::read(dir.path().join("sluice-out/results.sarif")).unwrap());
    let ids: Vec<String> = results(&log).iter().map(|r| r["ruleId"].as_str().unwrap().to_owned()).collect();
    assert!(ids.contains(&"dockerfile-base-latest".to_owned()), "{ids:?}");
    assert!(ids.contains(&"dockerfile-package-cache".to_owned()), "{ids:?}");
}

/// A Debian 12 image built in September 2023: the base layer's glibc predates DSA-5514-1 and
/// the second layer installs an openssl that predates DSA-5532-1.
fn debian_image_of_2023() -> (Vec<u8>, Vec<String>) {
    debian_2023_archive(&[
        ("/bin/sh -c #(nop) ADD file:6fef7a4ab2de57c438dad76949e7eb87cfb1ea6f45b0f2423f71188efdaa0d8e in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
        ("RUN |1 APT_TOKEN=s3cr3t-value /bin/sh -c apt-get update && apt-get install -y openssl ca-certificates # buildkit", false),
    ])
}

/// `docker save` of the Debian 12 layers of 2023 with a build history, and the layers' digests.
fn debian_2023_archive(history: &[(&str, bool)]) -> (Vec<u8>, Vec<String>) {
    let text = |name: &str| String::from_utf8(fixture(name)).unwrap();
    let old_glibc = |s: String| s.replace("Version: 2.36-9+deb12u14", "Version: 2.36-9+deb12u1");
    let base = old_glibc(text("dpkg-status.base"));
    let installed = old_glibc(text("dpkg-status.layer2")).replace("3.0.19-1~deb12u2", "3.0.11-1~deb12u1");
    let layers = [
        layer(
            &[
                Node::File("etc/os-release", fixture("os-release.debian")),
                Node::File("var/lib/dpkg/status", base.into_bytes()),
            ],
            Comp::Gzip,
        ),
        layer(&[Node::File("var/lib/dpkg/status", installed.into_bytes())], Comp::Gzip),
    ];
    docker_archive_with_history(&layers, "app:2023", history)
}

#[test]
fn image_packages_are_matched_on_their_release_and_source_package_with_the_layer_that_installed_them() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, ids) = debian_image_of_2023();
    std::fs::write(dir.path().join("app.tar"), archive).unwrap();
    let out =
        sluice().args(["scan", "container", "--image", "app.tar", "."]).current_dir(dir.path()).assert().success();
    let stdout = out.get_output().stdout.clone();
    let text = String::from_utf8_lossy(&stdout).into_owned();
    assert!(!text.contains("s3cr3t-value"), "a build argument's value leaked into the report");
    let log = parse(&stdout);
    let found = results(&log);
    let mut summary: Vec<(String, String, String, u64)> = found
        .iter()
        .map(|r| {
            let p = &r["properties"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                p["sluice/package"].as_str().unwrap().to_owned(),
                p["sluice/upgrade-to"].as_str().unwrap_or("-").to_owned(),
                p["sluice/layer-index"].as_u64().unwrap(),
            )
        })
        .collect();
    summary.sort();
    let expect = |id: &str, pkg: &str, fix: &str, layer: u64| (id.to_owned(), pkg.to_owned(), fix.to_owned(), layer);
    assert_eq!(
        summary,
        vec![
            // Debian tracks no fix for zlib's MiniZip: reported with no upgrade.
            expect("DEBIAN-CVE-2023-45853", "zlib1g", "-", 1),
            // DSA-5514-1 and DEBIAN-CVE-2023-4911 are one flaw (same upstream CVE): one finding.
            expect("DEBIAN-CVE-2023-4911", "libc6", "2.36-9+deb12u3", 1),
            // Both binaries of the openssl source package, from the layer that installed them.
            expect("DSA-5532-1", "libssl3", "3.0.11-1~deb12u2", 2),
            expect("DSA-5532-1", "openssl", "3.0.11-1~deb12u2", 2),
        ]
    );
    let glibc = found.iter().find(|r| r["properties"]["sluice/package"] == "libc6").unwrap();
    let aliases: Vec<&str> =
        glibc["properties"]["sluice/aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(aliases, ["CVE-2023-4911", "DSA-5514-1"]);
    assert_eq!(glibc["properties"]["sluice/distro"], "Debian:12");
    assert_eq!(glibc["properties"]["sluice/source-package"], "glibc");
    assert_eq!(glibc["properties"]["sluice/image-path"], "/var/lib/dpkg/status");
    assert_eq!(glibc["properties"]["sluice/layer"], ids[0].as_str());
    assert_eq!(glibc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app.tar");
    let message = glibc["message"]["text"].as_str().unwrap();
    assert!(message.contains("Upgrade glibc to 2.36-9+deb12u3"), "{message}");
    assert!(message.contains("layer 1 of 2") && message.contains("ADD file:6fef7a4ab2de"), "{message}");
    let ssl = found.iter().find(|r| r["properties"]["sluice/package"] == "libssl3").unwrap();
    let step = ssl["properties"]["sluice/layer-created-by"].as_str().unwrap();
    assert_eq!(step, "RUN |1 APT_TOKEN=*** apt-get update && apt-get install -y openssl ca-certificates # buildkit");
    // Each advisory is described once among the run's rules.
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["DEBIAN-CVE-2023-45853", "DEBIAN-CVE-2023-4911", "DSA-5532-1"]);
    let file = dir.path().join("out.sarif");
    std::fs::write(&file, &stdout).unwrap();
    assert_valid(&file);
}

#[test]
fn image_packages_without_an_advisory_database_fail_the_stage_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, _) = debian_image_of_2023();
    std::fs::write(dir.path().join("app.tar"), archive).unwrap();
    let out = sluice()
        .env("SLUICE_DB", dir.path().join("none.db"))
        .args(["scan", "container", "--image", "app.tar", "."])
        .current_dir(dir.path())
        .assert();
    let stdout = out.get_output().stdout.clone();
    let log = parse(&stdout);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].to_string();
    assert!(notes.contains("image packages were not checked") && notes.contains("sluice db update"), "{notes}");
}

#[test]
fn rpm_packages_of_a_rocky_image_are_matched_on_rocky_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let base = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.rocky")),
            Node::File("var/lib/rpm/rpmdb.sqlite", fixture("rpmdb.sqlite")),
        ],
        Comp::Gzip,
    );
    let (archive, ids) = docker_archive(&[base], "rocky:9");
    std::fs::write(dir.path().join("rocky.tar"), archive).unwrap();
    // A Rocky Linux 9 record (and a Rocky 8 one that must not apply), imported as OSV.
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    let record = serde_json::json!({"id": "RLSA-2099:0001", "modified": "2024-01-01T00:00:00Z", "upstream": ["CVE-2099-2"],
        "summary": "openssl security update", "affected": [
        {"package": {"ecosystem": "Rocky Linux:9", "name": "openssl-libs"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-28.el9"}]}]},
        {"package": {"ecosystem": "Rocky Linux:8", "name": "tzdata"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
    ]});
    std::fs::write(osv.join("RLSA-2099-0001.json"), record.to_string()).unwrap();
    let db = dir.path().join("advisories.db");
    sluice().args(["db", "update", "--db"]).arg(&db).arg("--from").arg(&osv).assert().success();
    let out = sluice()
        .args(["scan", "container", "--image", "rocky.tar", "--db"])
        .arg(&db)
        .arg(".")
        .current_dir(dir.path())
        .assert()
        .success();
    let stdout = out.get_output().stdout.clone();
    let log = parse(&stdout);
    let found = results(&log);
    assert_eq!(found.len(), 1, "{found:?}");
    let p = &found[0]["properties"];
    assert_eq!(found[0]["ruleId"], "RLSA-2099:0001");
    assert_eq!(p["sluice/package"], "openssl-libs");
    assert_eq!(p["sluice/package-version"], "1:3.0.7-27.el9");
    assert_eq!(p["sluice/upgrade-to"], "1:3.0.7-28.el9");
    assert_eq!(p["sluice/distro"], "Rocky Linux:9");
    assert_eq!(p["sluice/source-package"], "openssl");
    assert_eq!(p["sluice/image-path"], "/var/lib/rpm/rpmdb.sqlite");
    assert_eq!(p["sluice/layer"], ids[0].as_str());
    let file = dir.path().join("out.sarif");
    std::fs::write(&file, &stdout).unwrap();
    assert_valid(&file);
}

/// `docker save` of [`debian_image_of_2023`]'s layers with another build history.
fn debian_2023_with_history(history: &[(&str, bool)]) -> Vec<u8> {
    debian_2023_archive(history).0
}

#[test]
fn build_argument_values_never_leave_the_image_history() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("Qw7eR4tY1uI8oP5aS2dF9gH6jK3lZx");
    // The classic builder writes `|N KEY=value … /bin/sh -c cmd` (no `RUN`); BuildKit writes
    // `RUN |N KEY=value … /bin/sh -c cmd # buildkit`. Neither quotes values, which may hold spaces.
    let legacy = format!("|2 GH_TOKEN={token} NOTE=legacy-secret-a legacy-secret-b /bin/sh -c make install");
    let buildkit = "RUN |2 SPACED=bk-secret-one bk-secret-two QUOTED=\"bk-quoted-one bk-quoted-two\" /bin/sh -c apt-get install -y openssl # buildkit";
    let archive = debian_2023_with_history(&[(legacy.as_str(), false), (buildkit, false)]);
    std::fs::write(dir.path().join("app.tar"), archive).unwrap();
    let secrets = [
        token.as_str(),
        "legacy-secret-a",
        "legacy-secret-b",
        "bk-secret-one",
        "bk-secret-two",
        "bk-quoted-one",
        "bk-quoted-two",
    ];
    let leaks = |what: &str, bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let found: Vec<&str> = secrets.iter().copied().filter(|s| text.contains(s)).collect();
        assert!(found.is_empty(), "{what} prints build-argument values {found:?}:\n{text}");
    };

    let out =
        sluice().args(["scan", "container", "--image", "app.tar", "."]).current_dir(dir.path()).assert().success();
    let sarif = out.get_output().stdout.clone();
    leaks("the container stage's SARIF", &sarif);
    leaks("its stderr", &out.get_output().stderr);
    let log = parse(&sarif);
    let steps: Vec<String> =
        results(&log).iter().map(|r| r["properties"]["sluice/layer-created-by"].as_str().unwrap().to_owned()).collect();
    assert!(steps.contains(&"RUN |2 GH_TOKEN=*** NOTE=*** make install".to_owned()), "{steps:?}");
    assert!(
        steps.contains(&"RUN |2 SPACED=*** QUOTED=*** apt-get install -y openssl # buildkit".to_owned()),
        "{steps:?}"
    );
    std::fs::write(dir.path().join("image.sarif"), &sarif).unwrap();
    for format in ["text", "json", "markdown", "github", "sarif"] {
        let out =
            sluice().args(["report", "--format", format, "image.sarif"]).current_dir(dir.path()).assert().success();
        leaks(&format!("report --format {format}"), &out.get_output().stdout);
    }
    for format in ["cyclonedx", "spdx"] {
        let out = sluice()
            .args(["sbom", "--format", format, "--image", "app.tar"])
            .current_dir(dir.path())
            .assert()
            .success();
        leaks(&format!("sbom --format {format}"), &out.get_output().stdout);
    }
}

#[test]
fn an_image_whose_manifest_names_a_missing_layer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let present = layer(&[Node::File("etc/os-release", fixture("os-release.debian"))], Comp::Gzip);
    // A real archive, then the same manifest naming a second layer that is not in the tarball.
    let (good, _) = docker_archive(&[present], "app:1");
    let mut archive = tar::Archive::new(good.as_slice());
    let mut b = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if path == "manifest.json" {
            let mut manifest = parse(&data);
            manifest[0]["Layers"].as_array_mut().unwrap().push("gone/layer.tar".into());
            data = manifest.to_string().into_bytes();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, &path, data.as_slice()).unwrap();
    }
    std::fs::write(dir.path().join("app.tar"), b.into_inner().unwrap()).unwrap();

    let out = sluice().args(["scan", "container", "--image", "app.tar", "."]).current_dir(dir.path()).assert();
    let output = out.get_output();
    let log = parse(&output.stdout);
    let invocation = &log["runs"][0]["invocations"][0];
    let notes = invocation["toolExecutionNotifications"].to_string();
    assert_eq!(output.status.code(), Some(2), "a missing layer gave 'no findings': {notes}");
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(notes.contains("gone/layer.tar") && notes.contains("missing"), "{notes}");
    let out = sluice().args(["sbom", "--image", "app.tar"]).current_dir(dir.path()).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("gone/layer.tar"), "{err}");
}

/// jupyter/docker-stacks' shape: each image is `FROM` another image of the same repository,
/// named after the directory of its Dockerfile, and only the foundation sets the notebook user.
/// An image built on one of them inherits its final USER; one built on an image whose final
/// USER is root, or on an external image with none, is still reported.
#[test]
fn user_carries_over_from_images_built_in_the_same_repository() {
    let dir = tempfile::tempdir().unwrap();
    let pinned = "ubuntu:24.04@sha256:2e863c44b718727c860746568e1d54afd13b2fa71b160f5cd9058fc436217b30";
    write(
        dir.path(),
        "images/docker-stacks-foundation/Dockerfile",
        &format!(
            "ARG ROOT_IMAGE={pinned}\nFROM $ROOT_IMAGE\nARG NB_USER=\"jovyan\"\nARG NB_UID=\"1000\"\nUSER root\nRUN useradd --no-log-init --create-home --shell /bin/bash --uid \"${{NB_UID}}\" \"${{NB_USER}}\"\nUSER ${{NB_UID}}\n"
        ),
    );
    let child = |base: &str| {
        format!("ARG REGISTRY=quay.io\nARG OWNER=jupyter\nARG BASE_IMAGE=$REGISTRY/$OWNER/{base}\nFROM $BASE_IMAGE\nRUN echo built\n")
    };
    write(
        dir.path(),
        "images/base-notebook/Dockerfile",
        &(child("docker-stacks-foundation") + "USER root\nRUN echo x\nUSER ${NB_UID}\n"),
    );
    // Two levels down, no USER of its own.
    write(dir.path(), "images/minimal-notebook/Dockerfile", &child("base-notebook"));
    // A parent that ends as root, and its child.
    write(dir.path(), "images/rooty/Dockerfile", &(child("base-notebook") + "USER root\n"));
    write(dir.path(), "images/rooty-child/Dockerfile", &child("rooty"));
    // An external base: its user is not known here.
    write(dir.path(), "tools/Dockerfile", &format!("FROM {pinned}\nRUN echo tool\n"));
    let out = sluice().args(["scan", "container"]).arg(dir.path()).assert().success();
    let log = parse(&out.get_output().stdout);
    let mut flagged: Vec<String> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "dockerfile-user-root")
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().to_owned())
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["images/rooty-child/Dockerfile", "images/rooty/Dockerfile", "tools/Dockerfile"]);
    // Root is known for the repository's own images; for the external base it is a guess, said
    // as one: a note of low severity.
    for r in results(&log).iter().filter(|r| r["ruleId"] == "dockerfile-user-root") {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        let external = uri == "tools/Dockerfile";
        assert_eq!(r["level"], if external { "note" } else { "warning" }, "{uri}");
        assert_eq!(r["properties"]["security-severity"], if external { "2.0" } else { "5.5" }, "{uri}");
        assert_eq!(r["message"]["text"].as_str().unwrap().contains("cannot see"), external, "{uri}");
    }
}
