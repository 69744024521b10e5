//! Builds real image archives in memory: layer tars (plain, gzip, zstd), `docker save`
//! archives (manifest.json + config + layer.tar) and OCI image layouts (oci-layout,
//! index.json, blobs/sha256). No Docker engine needed. Hostile entries are written with raw
//! header bytes because the `tar` crate's builder refuses `..` paths, as it should.
#![allow(dead_code, clippy::unwrap_used)]

use sha2::{Digest, Sha256};

pub enum Node {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    /// A file whose name is written as given, unchecked (`../x`, `/etc/x`).
    RawFile(&'static str, Vec<u8>),
    /// A regular file with mode 0755.
    Exec(&'static str, Vec<u8>),
}

#[derive(Clone, Copy)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
    h.set_mtime(1_700_000_000);
    h
}

fn raw_name(h: &mut tar::Header, name: &str) {
    let gnu = h.as_gnu_mut().unwrap();
    gnu.name = [0; 100];
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
}

/// An uncompressed layer tar.
pub fn layer_tar(nodes: &[Node]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for node in nodes {
        match node {
            Node::File(path, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64);
                b.append_data(&mut h, path, data.as_slice()).unwrap();
            }
            Node::Dir(path) => {
                let mut h = header(tar::EntryType::Directory, 0);
                b.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Node::Symlink(path, target) => {
                let mut h = header(tar::EntryType::Symlink, 0);
                b.append_link(&mut h, path, target).unwrap();
            }
            Node::Hardlink(path, target) => {
                let mut h = header(tar::EntryType::Link, 0);
                b.append_link(&mut h, path, target).unwrap();
            }
            Node::Exec(path, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64);
                h.set_mode(0o755);
                b.append_data(&mut h, path, data.as_slice()).unwrap();
            }
            Node::RawFile(path, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64);
                raw_name(&mut h, path);
                h.set_cksum();
                b.append(&h, data.as_slice()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn compress(tar: &[u8], comp: Comp) -> Vec<u8> {
    match comp {
        Comp::None => tar.to_vec(),
        Comp::Gzip => {
            use std::io::Write;
            // `default()`, not `fast()`: with the zlib-rs backend (which `zip` selects for the whole
            // build) level 1 is a quick strategy that barely compresses runs of zeros, and the
            // decompression-bomb fixtures need a real ratio.
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Comp::Zstd => ruzstd::encoding::compress_to_vec(tar, ruzstd::encoding::CompressionLevel::Fastest),
    }
}

pub fn layer(nodes: &[Node], comp: Comp) -> Vec<u8> {
    compress(&layer_tar(nodes), comp)
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn outer(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in members {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        b.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// A classic `docker save` archive: `<n>/layer.tar` members, a config with diff_ids.
pub fn docker_archive(layers: &[Vec<u8>], tag: &str) -> (Vec<u8>, Vec<String>) {
    docker_archive_with_history(layers, tag, &[])
}

/// [`docker_archive`] with the config's build history: `(created_by, empty_layer)` steps.
#[allow(dead_code)]
pub fn docker_archive_with_history(layers: &[Vec<u8>], tag: &str, history: &[(&str, bool)]) -> (Vec<u8>, Vec<String>) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let history: Vec<serde_json::Value> = history
        .iter()
        .map(|(step, empty)| serde_json::json!({ "created": "2023-09-20T00:00:00Z", "created_by": step, "empty_layer": empty }))
        .collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": history,
    })
    .to_string()
    .into_bytes();
    let config_name = format!("{}.json", &sha256(&config)[7..]);
    let layer_paths: Vec<String> = (0..layers.len()).map(|i| format!("layer{i}/layer.tar")).collect();
    let manifest = serde_json::json!([{ "Config": config_name, "RepoTags": [tag], "Layers": layer_paths }]).to_string();
    let mut members = vec![(config_name, config)];
    for (p, l) in layer_paths.iter().zip(layers) {
        members.push((p.clone(), l.clone()));
    }
    members.push(("manifest.json".into(), manifest.into_bytes()));
    (outer(&members), diff_ids)
}

/// An OCI image layout archive; returns it and the layer digests.
pub fn oci_archive(layers: &[(Vec<u8>, &str)]) -> (Vec<u8>, Vec<String>) {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let mut members = vec![("oci-layout".to_owned(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec())];
    let blob = |b: &[u8]| format!("blobs/sha256/{}", &sha256(b)[7..]);
    members.push((blob(&config), config.clone()));
    let mut descriptors = Vec::new();
    let mut digests = Vec::new();
    for (data, media) in layers {
        members.push((blob(data), data.clone()));
        digests.push(sha256(data));
        descriptors.push(serde_json::json!({ "mediaType": media, "digest": sha256(data), "size": data.len() }));
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len() },
        "layers": descriptors,
    })
    .to_string()
    .into_bytes();
    members.push((blob(&manifest), manifest.clone()));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(&manifest), "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": "alpine:3.20" },
            "platform": { "architecture": "amd64", "os": "linux" },
        }],
    });
    members.push(("index.json".into(), index.to_string().into_bytes()));
    (outer(&members), digests)
}

/// A file of `crates/sluice-container/tests/fixtures` (this module is also used by the CLI tests).
pub fn fixture(name: &str) -> Vec<u8> {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = crate_dir.join("tests/fixtures").join(name);
    let path = if own.exists() { own } else { crate_dir.join("../sluice-container/tests/fixtures").join(name) };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Go fixture binary (tests/fixtures/gobin/build.sh), decompressed.
pub fn go_binary() -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fixture("gobin/sluicedemo.gz").as_slice()).read_to_end(&mut out).unwrap();
    out
}

/// A `dep` line of `go version -m`: path, version, and the `=>` replacement (path, version).
pub type OracleDep = (String, String, Option<(String, String)>);

/// Each `dep` line of the fixture's `go version -m` output.
pub fn go_oracle_deps() -> Vec<OracleDep> {
    let text = String::from_utf8(fixture("gobin/sluicedemo.go-version-m.txt")).unwrap();
    let mut deps: Vec<OracleDep> = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match cols.as_slice() {
            ["dep", p, v, ..] => deps.push((p.to_string(), v.to_string(), None)),
            ["=>", p, v, ..] => deps.last_mut().unwrap().2 = Some((p.to_string(), v.to_string())),
            _ => {}
        }
    }
    deps
}

/// A file of `crates/sluice-inventory/tests/fixtures` (real lockfiles).
pub fn inventory_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sluice-inventory/tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
