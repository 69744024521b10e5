//! The container stage through the real binary: Dockerfiles discovered in a temp repository,
//! SARIF validated with the SARIF Multitool, secrets redacted, image archives built here
//! inventoried, and hostile archives refused without writing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../sluice-container/tests/common/mod.rs"]
mod images;

use std::path::Path;

use common::{assert_valid, github_token, parse, results, sluice};
use images::{docker_archive, fixture, layer, layer_tar, Comp, Node};

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
