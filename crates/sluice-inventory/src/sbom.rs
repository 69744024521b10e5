//! SBOM writers: CycloneDX 1.5 JSON and SPDX 2.3 JSON from an [`Inventory`].
//!
//! Written with serde_json rather than the `cyclonedx-bom` crate: sluice needs byte-for-byte
//! reproducible documents (its own component order, a serial number derived from the content,
//! a timestamp from `SOURCE_DATE_EPOCH`), SPDX has no maintained Rust writer so a hand-made
//! model is needed anyway, and both outputs are checked against the official JSON schemas in
//! the test suite (`crates/sluice/tests/sbom.rs`), which is what the crate's model would buy.
//!
//! One component per purl: a package locked in several lockfiles appears once, with every
//! place it is declared as a `sluice:location` property (CycloneDX) or in its comment (SPDX).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{Ecosystem, Hash, Inventory, Package, Relationship};

/// Who made the document and when.
#[derive(Debug, Clone)]
pub struct SbomInfo {
    /// The described project's name (the scanned directory's name).
    pub name: String,
    pub tool_version: String,
    /// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set, for reproducible builds.
    pub created: u64,
    /// The subject is a container image (CycloneDX `container`, SPDX purpose `CONTAINER`)
    /// rather than a project.
    pub container: bool,
}

/// A component after merging the packages of all lockfiles with the same purl.
struct Component {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    purl: String,
    hashes: BTreeSet<Hash>,
    locations: BTreeSet<String>,
    dependencies: BTreeSet<String>,
    direct: bool,
    /// Image layers that installed it (digests).
    layers: BTreeSet<String>,
    /// `Debian:12` and the source package, for OS packages.
    distro: Option<(String, Option<String>)>,
}

fn components<'a>(packages: impl Iterator<Item = &'a Package>) -> BTreeMap<String, Component> {
    let mut out: BTreeMap<String, Component> = BTreeMap::new();
    for p in packages {
        let c = out.entry(p.purl.clone()).or_insert_with(|| Component {
            ecosystem: p.ecosystem,
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.clone(),
            hashes: BTreeSet::new(),
            locations: BTreeSet::new(),
            dependencies: BTreeSet::new(),
            direct: false,
            layers: BTreeSet::new(),
            distro: p.distro.as_ref().map(|d| (d.osv_ecosystem(), d.source_name.clone())),
        });
        c.layers.extend(p.layer.iter().cloned());
        c.hashes.extend(p.hashes.iter().cloned());
        c.locations.insert(format!("{}:{}", p.location.path, p.location.line));
        c.dependencies.extend(p.dependencies.iter().cloned());
        c.direct |= p.relationship == Relationship::Direct;
    }
    // Edges only to components in the document.
    let known: BTreeSet<String> = out.keys().cloned().collect();
    for c in out.values_mut() {
        c.dependencies.retain(|d| known.contains(d) && *d != c.purl);
    }
    out
}

/// What the described project depends on: direct packages, plus every package nothing else
/// depends on (formats that do not record the graph), so each component is reachable.
fn root_dependencies(components: &BTreeMap<String, Component>) -> Vec<String> {
    let depended: BTreeSet<&String> = components.values().flat_map(|c| c.dependencies.iter()).collect();
    components.values().filter(|c| c.direct || !depended.contains(&c.purl)).map(|c| c.purl.clone()).collect()
}

/// A UUID (version-5 layout) from the SHA-256 of `content`: same inventory, same serial.
fn content_uuid(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// `2024-01-02T03:04:05Z` for seconds since the epoch (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let ts = i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// CycloneDX group/name split: npm scopes, Maven groupIds and Composer vendors are groups.
fn group_and_name(c: &Component) -> (Option<String>, String) {
    match c.ecosystem {
        Ecosystem::Npm if c.name.starts_with('@') => match c.name.split_once('/') {
            Some((g, n)) => (Some(g.to_string()), n.to_string()),
            None => (None, c.name.clone()),
        },
        Ecosystem::Maven => match c.name.split_once(':') {
            Some((g, n)) => (Some(g.to_string()), n.to_string()),
            None => (None, c.name.clone()),
        },
        Ecosystem::Packagist => match c.name.split_once('/') {
            Some((g, n)) => (Some(g.to_string()), n.to_string()),
            None => (None, c.name.clone()),
        },
        _ => (None, c.name.clone()),
    }
}

const ROOT_REF: &str = "sluice:root";

/// A CycloneDX 1.5 JSON document (pretty-printed, trailing newline).
pub fn cyclonedx(inventory: &Inventory, info: &SbomInfo) -> String {
    cyclonedx_of(inventory.packages(), info)
}

/// [`cyclonedx`] of any packages (an image inventory's).
pub fn cyclonedx_of<'a>(packages: impl Iterator<Item = &'a Package>, info: &SbomInfo) -> String {
    let components = components(packages);
    let mut list = Vec::new();
    for c in components.values() {
        let (group, name) = group_and_name(c);
        let mut obj = json!({
            "type": "library",
            "bom-ref": c.purl,
            "name": name,
            "version": c.version,
            "purl": c.purl,
        });
        if let Some(group) = group {
            obj["group"] = json!(group);
        }
        if !c.hashes.is_empty() {
            obj["hashes"] = c.hashes.iter().map(|h| json!({"alg": h.algorithm, "content": h.value})).collect();
        }
        let mut props: Vec<Value> =
            c.locations.iter().map(|l| json!({"name": "sluice:location", "value": l})).collect();
        if !info.container {
            props.push(json!({"name": "sluice:relationship", "value": if c.direct { "direct" } else { "transitive" }}));
        }
        props.extend(c.layers.iter().map(|l| json!({"name": "sluice:layer", "value": l})));
        if let Some((distro, source)) = &c.distro {
            props.push(json!({"name": "sluice:distro", "value": distro}));
            if let Some(src) = source {
                props.push(json!({"name": "sluice:source-package", "value": src}));
            }
        }
        obj["properties"] = Value::Array(props);
        list.push(obj);
    }
    let mut dependencies = vec![json!({"ref": ROOT_REF, "dependsOn": root_dependencies(&components)})];
    for c in components.values() {
        dependencies.push(json!({"ref": c.purl, "dependsOn": c.dependencies}));
    }
    let body = json!({"components": list, "dependencies": dependencies});
    let serial = content_uuid(&format!("{}\n{}", info.name, body));
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(info.created),
            "tools": {"components": [{"type": "application", "name": "sluice", "version": info.tool_version}]},
            "component": {
                "type": if info.container { "container" } else { "application" },
                "bom-ref": ROOT_REF,
                "name": info.name,
            },
        },
    });
    doc["components"] = body["components"].clone();
    doc["dependencies"] = body["dependencies"].clone();
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// SPDX's checksum algorithm names (no dash).
fn spdx_algorithm(alg: &str) -> String {
    alg.replace('-', "")
}

/// An SPDX 2.3 JSON document (pretty-printed, trailing newline).
pub fn spdx(inventory: &Inventory, info: &SbomInfo) -> String {
    spdx_of(inventory.packages(), info)
}

/// [`spdx`] of any packages (an image inventory's).
pub fn spdx_of<'a>(packages: impl Iterator<Item = &'a Package>, info: &SbomInfo) -> String {
    let components = components(packages);
    let ids: BTreeMap<&str, String> =
        components.keys().enumerate().map(|(i, purl)| (purl.as_str(), format!("SPDXRef-Package-{}", i + 1))).collect();
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Root",
        "name": info.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": if info.container { "CONTAINER" } else { "APPLICATION" },
    })];
    for c in components.values() {
        let mut comment = format!("Declared at {}", c.locations.iter().cloned().collect::<Vec<_>>().join(", "));
        if !c.layers.is_empty() {
            comment
                .push_str(&format!("; installed by layer {}", c.layers.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        if let Some((distro, source)) = &c.distro {
            comment.push_str(&format!("; {distro}"));
            if let Some(src) = source {
                comment.push_str(&format!(", source package {src}"));
            }
        }
        let mut obj = json!({
            "SPDXID": ids[c.purl.as_str()],
            "name": c.name,
            "versionInfo": c.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": c.purl,
            }],
            "comment": comment,
        });
        if !c.hashes.is_empty() {
            obj["checksums"] = c
                .hashes
                .iter()
                .map(|h| json!({"algorithm": spdx_algorithm(&h.algorithm), "checksumValue": h.value}))
                .collect();
        }
        packages.push(obj);
    }
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Root",
    })];
    for purl in root_dependencies(&components) {
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Root",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": ids[purl.as_str()],
        }));
    }
    for c in components.values() {
        for d in &c.dependencies {
            relationships.push(json!({
                "spdxElementId": ids[c.purl.as_str()],
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": ids[d.as_str()],
            }));
        }
    }
    let body = json!({"packages": packages, "relationships": relationships});
    let uuid = content_uuid(&format!("{}\n{}", info.name, body));
    let safe_name: String =
        info.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' }).collect();
    let doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": info.name,
        "documentNamespace": format!("https://sluice.invalid/spdx/{safe_name}-{uuid}"),
        "creationInfo": {
            "created": rfc3339(info.created),
            "creators": [format!("Tool: sluice-{}", info.tool_version)],
        },
        "documentDescribes": ["SPDXRef-Root"],
        "packages": body["packages"],
        "relationships": body["relationships"],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn uuid_has_version_5_layout() {
        let u = content_uuid("x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(content_uuid("y"), u);
    }
}
