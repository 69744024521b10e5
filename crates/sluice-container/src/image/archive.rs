//! The outer image archive: an index of its members (offset and size, read with seeks, no
//! content loaded), and the manifests of the two formats — `docker save`'s `manifest.json`
//! and the OCI image layout's `index.json` → manifest → layers.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use serde::Deserialize;

use super::{ImageError, Limits};

/// Where a member's bytes are in the archive.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub offset: u64,
    pub size: u64,
}

/// The archive's members by normalized path; symlinks and hard links resolved to their
/// targets (old `docker save` archives link duplicate `layer.tar`s).
pub struct Index {
    members: BTreeMap<String, Member>,
    links: BTreeMap<String, String>,
}

/// Most members an image archive may have: a few per layer plus blobs.
const MAX_MEMBERS: usize = 100_000;

impl Index {
    pub fn read<R: Read + Seek>(reader: &mut R, origin: &str) -> Result<Index, ImageError> {
        let mut members = BTreeMap::new();
        let mut links = BTreeMap::new();
        let bad = |e: std::io::Error| ImageError::NotAnArchive { image: origin.to_owned(), reason: e.to_string() };
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            if members.len() + links.len() >= MAX_MEMBERS {
                return Err(ImageError::Limit {
                    image: origin.to_owned(),
                    message: format!("the archive has more than {MAX_MEMBERS} members; this is not an image archive"),
                });
            }
            let Some(path) = clean(&entry.path_bytes()) else { continue };
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let joined = if kind.is_symlink() && !target.starts_with('/') {
                        match path.rsplit_once('/') {
                            Some((dir, _)) => format!("{dir}/{target}"),
                            None => target,
                        }
                    } else {
                        target
                    };
                    if let Some(t) = clean(joined.as_bytes()) {
                        links.insert(path, t);
                    }
                }
            } else if kind.is_file() {
                members.insert(path, Member { offset: entry.raw_file_position(), size: entry.size() });
            }
        }
        if members.is_empty() {
            return Err(ImageError::NotAnArchive {
                image: origin.to_owned(),
                reason: "no files in the archive (is it an image tarball from `docker save` or an OCI layout?)".into(),
            });
        }
        Ok(Index { members, links })
    }

    /// The member at `path`, following links (at most 16).
    pub fn get(&self, path: &str) -> Option<Member> {
        let mut p = clean(path.as_bytes())?;
        for _ in 0..16 {
            if let Some(m) = self.members.get(&p) {
                return Some(*m);
            }
            p = self.links.get(&p)?.clone();
        }
        None
    }

    pub fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }
}

/// `./a//b/../c` → `a/c`; `None` when `..` would leave the archive or nothing remains.
pub fn clean(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Reads a small member (a manifest, an index, a config) whole, refusing large ones.
pub fn read_small<R: Read + Seek>(
    reader: &mut R,
    member: Member,
    what: &str,
    origin: &str,
    limits: &Limits,
) -> Result<Vec<u8>, ImageError> {
    if member.size > limits.max_json_bytes {
        return Err(ImageError::Limit {
            image: origin.to_owned(),
            message: format!("{what} is {} bytes; at most {} are read", member.size, limits.max_json_bytes),
        });
    }
    let io = |e: std::io::Error| ImageError::Io { image: origin.to_owned(), reason: format!("{what}: {e}") };
    reader.seek(SeekFrom::Start(member.offset)).map_err(io)?;
    let mut buf = Vec::with_capacity(usize::try_from(member.size).unwrap_or(0));
    reader.take(member.size).read_to_end(&mut buf).map_err(io)?;
    if (buf.len() as u64) < member.size {
        return Err(ImageError::Io { image: origin.to_owned(), reason: format!("{what}: truncated") });
    }
    Ok(buf)
}

/// One layer to apply, in order.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// The archive member holding the blob.
    pub member_path: String,
    /// The digest that names it in reports (`sha256:…`), else the member path.
    pub digest: String,
    pub media_type: Option<String>,
    /// The build step that made the layer, from the image config's `history`.
    pub created_by: Option<String>,
}

/// The image found in the archive.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub format: &'static str,
    pub repo_tags: Vec<String>,
    pub layers: Vec<LayerRef>,
    /// More images were in the archive; only the first is read.
    pub other_images: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: Option<String>,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct DockerConfig {
    rootfs: Option<RootFs>,
    #[serde(default)]
    history: Vec<History>,
}

/// One build step of the image config's `history`; steps with `empty_layer` (ENV, LABEL…)
/// made no layer, so the others map to the layers in order.
#[derive(Deserialize)]
struct History {
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

/// The build step of each layer, in layer order.
fn layer_steps(history: Vec<History>) -> Vec<Option<String>> {
    history.into_iter().filter(|h| !h.empty_layer).map(|h| h.created_by.map(|c| build_step(&c))).collect()
}

/// A history `created_by` as a Dockerfile-like step: `/bin/sh -c #(nop) ` and `/bin/sh -c `
/// prefixes become the instruction, and build arguments lose their values (they are often
/// tokens), so the step can be shown in a report. See [`mask_build_args`].
pub fn build_step(created_by: &str) -> String {
    let text = created_by.trim();
    // Build arguments first, before anything else reads the text.
    let text = mask_build_args(text).unwrap_or_else(|| text.to_owned());
    let text = text.as_str();
    let text = match text.strip_prefix("/bin/sh -c #(nop) ") {
        Some(rest) => rest.trim().to_owned(),
        // Classic builder: `/bin/sh -c cmd`; BuildKit: `RUN /bin/sh -c cmd # buildkit`.
        None => match text.strip_prefix("/bin/sh -c ").or_else(|| text.strip_prefix("RUN /bin/sh -c ")) {
            Some(rest) => format!("RUN {}", rest.trim()),
            None => text.to_owned(),
        },
    };
    text.chars().take(500).collect()
}

/// A step that starts with build arguments, `|N KEY=value … cmd` (classic builder) or
/// `RUN |N KEY=value … cmd # buildkit` (BuildKit), as `RUN |N KEY=*** … cmd`; `None` for any
/// other step.
///
/// Neither builder quotes values, so a value may hold spaces (or quotes, or `=`). `N` says how
/// many `KEY=` words start an argument; everything from the first one up to the command is
/// values and is dropped. The command is the shell the step ran (`/bin/sh -c …`, or any
/// absolute path to a shell followed by `-c`, as `SHELL` sets it). When no shell can be found
/// (an exec-form `RUN ["make"]` leaves nothing to tell a value from the command), all of the
/// rest is dropped: a step shown short is better than a token shown.
pub fn mask_build_args(step: &str) -> Option<String> {
    let rest = step.strip_prefix("RUN ").unwrap_or(step).trim_start();
    let rest = rest.strip_prefix('|')?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let count: usize = rest[..digits].parse().ok()?;
    let args = rest[digits..].strip_prefix(' ').unwrap_or(&rest[digits..]);
    let words: Vec<&str> = args.split(' ').collect();
    fn key_of(word: &str) -> Option<&str> {
        let (key, _) = word.split_once('=')?;
        let mut chars = key.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then_some(key)
    }
    // The keys, in order: up to `count` words that start an argument.
    let mut keys = Vec::new();
    let mut last_key = None;
    for (i, w) in words.iter().enumerate() {
        if keys.len() == count {
            break;
        }
        if let Some(k) = key_of(w) {
            keys.push(k);
            last_key = Some(i);
        }
    }
    let mut out = vec![format!("RUN |{count}")];
    out.extend(keys.iter().map(|k| format!("{k}=***")));
    let from = last_key.map_or(0, |i| i + 1);
    let shell = (from..words.len()).find(|&i| is_shell(words[i]) && words[i + 1..].contains(&"-c"));
    // Fewer arguments than announced: the text is not what a builder writes; show none of it.
    let shell = shell.filter(|_| keys.len() == count);
    match shell {
        Some(i) => {
            let command = words[i..].join(" ");
            let command = command.strip_prefix("/bin/sh -c ").unwrap_or(&command);
            out.push(command.to_owned());
        }
        None if count == 0 => out.push(words.join(" ")),
        None => out.push("…".to_owned()),
    }
    Some(out.join(" "))
}

/// An absolute path to a shell: `/bin/sh`, `/usr/bin/bash`, `/bin/busybox`…
fn is_shell(word: &str) -> bool {
    const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"];
    word.starts_with('/') && word.rsplit('/').next().is_some_and(|name| SHELLS.contains(&name))
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciIndex {
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    config: Option<Descriptor>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    platform: Option<Platform>,
}

#[derive(Deserialize, Clone)]
struct Platform {
    architecture: Option<String>,
    os: Option<String>,
}

fn json_err(origin: &str, what: &str, e: &serde_json::Error) -> ImageError {
    ImageError::Manifest { image: origin.to_owned(), reason: format!("{what}: {e}") }
}

fn check_layers(count: usize, origin: &str, limits: &Limits) -> Result<(), ImageError> {
    if count > limits.max_layers {
        return Err(ImageError::Limit {
            image: origin.to_owned(),
            message: format!(
                "the manifest lists {count} layers; at most {} are read (Docker builds at most 127)",
                limits.max_layers
            ),
        });
    }
    Ok(())
}

/// `docker save`'s `manifest.json`.
pub fn docker_manifest<R: Read + Seek>(
    reader: &mut R,
    index: &Index,
    bytes: &[u8],
    origin: &str,
    limits: &Limits,
) -> Result<Manifest, ImageError> {
    let entries: Vec<DockerEntry> = serde_json::from_slice(bytes).map_err(|e| json_err(origin, "manifest.json", &e))?;
    let count = entries.len();
    let Some(first) = entries.into_iter().next() else {
        return Err(ImageError::Manifest { image: origin.to_owned(), reason: "manifest.json lists no image".into() });
    };
    check_layers(first.layers.len(), origin, limits)?;
    let (diff_ids, steps) = match first.config.as_deref().and_then(|c| index.get(c).map(|m| (c, m))) {
        Some((c, m)) => {
            let bytes = read_small(reader, m, c, origin, limits)?;
            match serde_json::from_slice::<DockerConfig>(&bytes) {
                Ok(config) => (config.rootfs.map(|r| r.diff_ids).unwrap_or_default(), layer_steps(config.history)),
                Err(_) => (Vec::new(), Vec::new()),
            }
        }
        None => (Vec::new(), Vec::new()),
    };
    let layers = first
        .layers
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let digest = blob_digest(path).or_else(|| diff_ids.get(i).cloned()).unwrap_or_else(|| path.clone());
            LayerRef {
                member_path: path.clone(),
                digest,
                media_type: None,
                created_by: steps.get(i).cloned().flatten(),
            }
        })
        .collect();
    Ok(Manifest {
        format: "docker-archive",
        repo_tags: first.repo_tags.unwrap_or_default(),
        layers,
        other_images: count - 1,
    })
}

/// `blobs/sha256/<hex>` → `sha256:<hex>`.
fn blob_digest(path: &str) -> Option<String> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    valid_digest(&format!("{alg}:{hex}"))
}

/// A digest that is safe to turn into a path: `alg:hex`.
fn valid_digest(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let ok = !alg.is_empty()
        && alg
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '.' || c == '_' || c == '-')
        && hex.len() >= 32
        && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| digest.to_owned())
}

fn blob_path(digest: &str, origin: &str) -> Result<String, ImageError> {
    let d = valid_digest(digest).ok_or_else(|| ImageError::Manifest {
        image: origin.to_owned(),
        reason: format!("invalid digest `{}`", digest.chars().take(100).collect::<String>()),
    })?;
    let (alg, hex) = d.split_once(':').unwrap_or(("", ""));
    Ok(format!("blobs/{alg}/{hex}"))
}

const MANIFEST_TYPES: &[&str] =
    &["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

/// The OCI image layout: `index.json` → (nested indexes) → an image manifest → layers.
/// For multi-platform indexes, linux/amd64 is preferred, else the first image.
pub fn oci_manifest<R: Read + Seek>(
    reader: &mut R,
    index: &Index,
    bytes: &[u8],
    origin: &str,
    limits: &Limits,
) -> Result<Manifest, ImageError> {
    let mut doc: OciIndex = serde_json::from_slice(bytes).map_err(|e| json_err(origin, "index.json", &e))?;
    let mut tags = Vec::new();
    let mut other_images = 0;
    for depth in 0..4 {
        if doc.config.is_some() || !doc.layers.is_empty() {
            check_layers(doc.layers.len(), origin, limits)?;
            // The config blob's history names each layer's build step; a missing or odd config
            // only loses those names.
            let steps = match doc.config.as_ref().and_then(|c| blob_path(&c.digest, origin).ok()) {
                Some(path) => match index.get(&path) {
                    Some(member) => {
                        let bytes = read_small(reader, member, &path, origin, limits)?;
                        serde_json::from_slice::<DockerConfig>(&bytes)
                            .map(|c| layer_steps(c.history))
                            .unwrap_or_default()
                    }
                    None => Vec::new(),
                },
                None => Vec::new(),
            };
            let layers = doc
                .layers
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    Ok(LayerRef {
                        member_path: blob_path(&d.digest, origin)?,
                        digest: d.digest.clone(),
                        media_type: d.media_type.clone(),
                        created_by: steps.get(i).cloned().flatten(),
                    })
                })
                .collect::<Result<Vec<_>, ImageError>>()?;
            return Ok(Manifest { format: "oci-layout", repo_tags: tags, layers, other_images });
        }
        if depth == 0 {
            other_images = doc.manifests.len().saturating_sub(1);
        }
        let pick = doc
            .manifests
            .iter()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.os.as_deref() == Some("linux") && p.architecture.as_deref() == Some("amd64"))
            })
            .or_else(|| {
                doc.manifests.iter().find(|d| d.media_type.as_deref().is_some_and(|t| MANIFEST_TYPES.contains(&t)))
            })
            .or_else(|| doc.manifests.first())
            .cloned()
            .ok_or_else(|| ImageError::Manifest {
                image: origin.to_owned(),
                reason: "index.json lists no manifest".into(),
            })?;
        if let Some(tag) = pick.annotations.get("org.opencontainers.image.ref.name") {
            tags.push(tag.clone());
        }
        let path = blob_path(&pick.digest, origin)?;
        let member = index.get(&path).ok_or_else(|| ImageError::Manifest {
            image: origin.to_owned(),
            reason: format!("manifest blob {} is missing from the archive", pick.digest),
        })?;
        let bytes = read_small(reader, member, &path, origin, limits)?;
        doc = serde_json::from_slice(&bytes).map_err(|e| json_err(origin, &path, &e))?;
    }
    Err(ImageError::Manifest { image: origin.to_owned(), reason: "indexes nest deeper than 4 levels".into() })
}

/// Parses manifest bytes alone (for fuzzing): docker `manifest.json` or OCI `index.json`.
pub fn parse_manifest_bytes(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Vec<DockerEntry>>(bytes).is_ok() || serde_json::from_slice::<OciIndex>(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(b"./a//b/../c").as_deref(), Some("a/c"));
        assert_eq!(clean(b"/etc/x").as_deref(), Some("etc/x"));
        assert_eq!(clean(b"../x"), None);
        assert_eq!(clean(b"./"), None);
    }

    #[test]
    fn build_steps() {
        assert_eq!(build_step("/bin/sh -c #(nop) ADD file:abc in / "), "ADD file:abc in /");
        assert_eq!(build_step("/bin/sh -c apt-get update"), "RUN apt-get update");
        assert_eq!(
            build_step("RUN |2 TOKEN=ghp_secret MODE=x /bin/sh -c make # buildkit"),
            "RUN |2 TOKEN=*** MODE=*** make # buildkit"
        );
        assert_eq!(build_step("COPY . /app # buildkit"), "COPY . /app # buildkit");
        // The classic builder: no `RUN`, sorted arguments.
        assert_eq!(build_step("|1 GH_TOKEN=ghp_secret /bin/sh -c make"), "RUN |1 GH_TOKEN=*** make");
        // Values with spaces, quotes and `=`, unquoted as both builders write them.
        assert_eq!(
            build_step("RUN |2 A=x y z B=\"p q\" /bin/sh -c make # buildkit"),
            "RUN |2 A=*** B=*** make # buildkit"
        );
        assert_eq!(build_step("|1 T=a b=c d /bin/sh -c make"), "RUN |1 T=*** make");
        // SHELL ["/bin/bash", "-o", "pipefail", "-c"].
        assert_eq!(
            build_step("RUN |1 T=s e c r e t /bin/bash -o pipefail -c make # buildkit"),
            "RUN |1 T=*** /bin/bash -o pipefail -c make # buildkit"
        );
        // Exec form: the value cannot be told from the command, so neither is shown.
        assert_eq!(build_step("RUN |1 T=secret part make all # buildkit"), "RUN |1 T=*** …");
        // Fewer arguments than announced: all of it is dropped.
        assert_eq!(build_step("|3 T=secret /bin/sh -c make"), "RUN |3 T=*** …");
        assert_eq!(build_step("|0 /bin/sh -c make"), "RUN |0 make");
        assert_eq!(build_step("RUN /bin/sh -c pip install x # buildkit"), "RUN pip install x # buildkit");
    }

    #[test]
    fn digests() {
        assert!(blob_path("sha256:../../etc", "x").is_err());
        assert_eq!(
            blob_path(&format!("sha256:{}", "a".repeat(64)), "x").unwrap_or_default(),
            format!("blobs/sha256/{}", "a".repeat(64))
        );
    }
}
