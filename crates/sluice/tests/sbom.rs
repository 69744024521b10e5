//! `sluice sbom` on a real monorepo made of the inventory crate's fixtures: the documents
//! validate against CycloneDX 1.5 (cyclonedx-python-lib's strict JSON validator) and SPDX 2.3
//! (spdx-tools), carry purls, hashes and the dependency graph, and are reproducible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../sluice-container/tests/common/mod.rs"]
mod images;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{find_tool, sluice, tools_dir};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sluice-inventory/tests/fixtures")
}

fn copy(from: &str, root: &Path, to: &str) {
    let dest = root.join(to);
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    fs::copy(fixtures().join(from), dest).unwrap();
}

/// A monorepo: a Rust crate, a JS app locked by npm, a Python service and a Java module.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("shop").tempdir().unwrap();
    let root = dir.path();
    copy("cargo/v3.Cargo.lock", root, "Cargo.lock");
    copy("npm/v3.package-lock.json", root, "web/package-lock.json");
    copy("npm/package.json", root, "web/package.json");
    copy("pip/requirements.txt", root, "api/requirements.txt");
    copy("maven/pom.xml", root, "java/pom.xml");
    dir
}

fn python() -> Option<PathBuf> {
    find_tool("python-with-cyclonedx", &[tools_dir().join("venv/bin/python")]).filter(|py| {
        let ok = Command::new(py).args(["-c", "import cyclonedx.validation.json"]).status().is_ok_and(|s| s.success());
        if !ok && std::env::var_os("SLUICE_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("cyclonedx-python-lib is required: run scripts/install-test-tools.sh");
        }
        ok
    })
}

/// Validation errors from CycloneDX's strict 1.5 JSON schema validator (`None`: not installed).
fn validate_cyclonedx(file: &Path) -> Option<String> {
    let py = python()?;
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\n\
                  err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(err or '')\n";
    let out = Command::new(py).arg("-c").arg(script).arg(file).output().unwrap();
    assert!(out.status.success(), "validator crashed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// pyspdxtools parses the document and validates it against SPDX 2.3 (`None`: not installed).
fn validate_spdx(file: &Path) -> Option<(bool, String)> {
    let tool = find_tool("pyspdxtools", &[tools_dir().join("venv/bin/pyspdxtools")])?;
    let out = Command::new(tool).arg("-i").arg(file).arg("--version").arg("SPDX-2.3").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Some((out.status.success() && !text.contains("invalid"), text))
}

fn run_sbom(root: &Path, format: &str, out: &Path) {
    sluice()
        .args(["sbom", "--format", format, "-o"])
        .arg(out)
        .arg(root)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .assert()
        .success();
}

#[test]
fn cyclonedx_is_valid_complete_and_reproducible() {
    let repo = monorepo();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("bom.json");
    run_sbom(repo.path(), "cyclonedx", &file);
    let text = fs::read_to_string(&file).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let components = doc["components"].as_array().unwrap();
    let purls: Vec<&str> = components.iter().map(|c| c["purl"].as_str().unwrap()).collect();
    for expected in [
        "pkg:cargo/memchr@2.8.3",
        "pkg:npm/lodash@4.17.15",
        "pkg:npm/%40babel/code-frame@7.10.4",
        "pkg:pypi/django@4.2",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    ] {
        assert!(purls.contains(&expected), "{expected} missing");
    }
    let lodash = components.iter().find(|c| c["purl"] == "pkg:npm/lodash@4.17.15").unwrap();
    assert_eq!(lodash["hashes"][0]["alg"], "SHA-512");
    assert_eq!(lodash["properties"][0]["value"], "web/package-lock.json:119");
    // The graph: the project depends on its direct packages; mkdirp on its nested minimist.
    let deps = doc["dependencies"].as_array().unwrap();
    let of = |r: &str| deps.iter().find(|d| d["ref"] == r).unwrap()["dependsOn"].clone();
    assert!(of("sluice:root").as_array().unwrap().iter().any(|d| d == "pkg:npm/lodash@4.17.15"));
    assert_eq!(of("pkg:npm/mkdirp@0.5.1"), serde_json::json!(["pkg:npm/minimist@0.0.8"]));
    // Reproducible: same input, same bytes (serial number included).
    let again = out.path().join("again.json");
    run_sbom(repo.path(), "cyclonedx", &again);
    assert_eq!(fs::read_to_string(&again).unwrap(), text);
    if let Some(errors) = validate_cyclonedx(&file) {
        assert_eq!(errors, "", "CycloneDX 1.5 schema validation");
    }
}

#[test]
fn spdx_is_valid_with_relationships() {
    let repo = monorepo();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("sbom.spdx.json");
    run_sbom(repo.path(), "spdx", &file);
    let doc: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let packages = doc["packages"].as_array().unwrap();
    let django = packages
        .iter()
        .find(|p| p["externalRefs"][0]["referenceLocator"] == "pkg:pypi/django@4.2")
        .expect("django listed with its purl");
    assert_eq!(django["checksums"][0]["algorithm"], "SHA256");
    let rels = doc["relationships"].as_array().unwrap();
    assert!(rels.iter().any(|r| r["relationshipType"] == "DESCRIBES"));
    assert!(rels.iter().any(|r| r["spdxElementId"] == "SPDXRef-Root"
        && r["relationshipType"] == "DEPENDS_ON"
        && r["relatedSpdxElement"] == django["SPDXID"]));
    if let Some((ok, output)) = validate_spdx(&file) {
        assert!(ok, "SPDX 2.3 validation failed:\n{output}");
    }
}

#[test]
fn a_broken_lockfile_is_named_and_the_rest_is_still_written() {
    let repo = monorepo();
    fs::write(repo.path().join("api/requirements.txt"), "-r nowhere.txt\n").unwrap();
    fs::write(repo.path().join("Cargo.lock"), "[[package]\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("bom.json");
    let assert = sluice().args(["sbom", "-o"]).arg(&file).arg(repo.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("error: Cargo.lock: line 1"), "{stderr}");
    assert!(stderr.contains("error: api/requirements.txt: line 1") && stderr.contains("nowhere.txt"), "{stderr}");
    let doc: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert!(doc["components"].as_array().unwrap().iter().any(|c| c["purl"] == "pkg:npm/lodash@4.17.15"));
}

#[test]
fn missing_path_is_a_clear_error() {
    let assert = sluice().args(["sbom", "/nonexistent/sluice-sbom-test"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("/nonexistent/sluice-sbom-test: no such file or directory"), "{stderr}");
}

#[test]
fn an_image_sbom_lists_os_and_language_packages_with_their_layers_and_validates() {
    use images::{docker_archive, fixture, layer, Comp, Node};
    let dir = tempfile::tempdir().unwrap();
    let base = layer(
        &[
            Node::File("etc/os-release", fixture("os-release.alpine")),
            Node::File("lib/apk/db/installed", fixture("apk-installed.alpine")),
        ],
        Comp::Gzip,
    );
    let app = layer(
        &[Node::File("usr/lib/python3.12/site-packages/pip-24.2.dist-info/METADATA", fixture("pip-24.2.METADATA"))],
        Comp::Zstd,
    );
    let (archive, ids) = docker_archive(&[base, app], "shop:1.0");
    let image = dir.path().join("shop.tar");
    fs::write(&image, archive).unwrap();
    let sbom = |format: &str, name: &str| {
        let file = dir.path().join(name);
        sluice()
            .args(["sbom", "--format", format, "--image"])
            .arg(&image)
            .arg("-o")
            .arg(&file)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .assert()
            .success();
        file
    };
    let cdx = sbom("cyclonedx", "image.cdx.json");
    let doc: Value = serde_json::from_str(&fs::read_to_string(&cdx).unwrap()).unwrap();
    assert_eq!(doc["metadata"]["component"]["type"], "container");
    assert_eq!(doc["metadata"]["component"]["name"], "shop:1.0");
    let components = doc["components"].as_array().unwrap();
    let by_name = |n: &str| components.iter().find(|c| c["name"] == n).unwrap_or_else(|| panic!("{n} missing"));
    let prop = |c: &Value, k: &str| -> Vec<String> {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == k)
            .map(|p| p["value"].as_str().unwrap().to_owned())
            .collect()
    };
    let crypto = by_name("libcrypto3");
    assert!(crypto["purl"].as_str().unwrap().starts_with("pkg:apk/alpine/libcrypto3@3.3.2-r0?"), "{crypto}");
    assert_eq!(prop(crypto, "sluice:layer"), [ids[0].clone()]);
    assert_eq!(prop(crypto, "sluice:distro"), ["Alpine:v3.20"]);
    assert_eq!(prop(crypto, "sluice:source-package"), ["openssl"]);
    let pip = by_name("pip");
    assert_eq!(pip["purl"], "pkg:pypi/pip@24.2");
    assert_eq!(prop(pip, "sluice:layer"), [ids[1].clone()]);
    // Every apk package of the fixture is listed, once.
    let apk_count =
        String::from_utf8(fixture("apk-installed.alpine")).unwrap().lines().filter(|l| l.starts_with("P:")).count();
    let listed = components.iter().filter(|c| c["purl"].as_str().unwrap().starts_with("pkg:apk/")).count();
    assert_eq!(listed, apk_count);
    if let Some(errors) = validate_cyclonedx(&cdx) {
        assert_eq!(errors, "", "CycloneDX 1.5 schema validation");
    }
    let spdx = sbom("spdx", "image.spdx.json");
    let doc: Value = serde_json::from_str(&fs::read_to_string(&spdx).unwrap()).unwrap();
    assert_eq!(doc["packages"][0]["primaryPackagePurpose"], "CONTAINER");
    if let Some((ok, output)) = validate_spdx(&spdx) {
        assert!(ok, "SPDX 2.3 validation failed:\n{output}");
    }
}
