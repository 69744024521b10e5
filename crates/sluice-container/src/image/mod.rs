//! Image inventory: which OS and language packages a built image contains, and which layer
//! brought each one.
//!
//! The archive is never extracted. Layers are streamed in order through their decompressor
//! and tar reader; a metadata-only view of the filesystem keeps just the files an inventory
//! needs (os-release, package databases, Python `METADATA`, `node_modules/*/package.json`,
//! application lockfiles, the build info of Go executables: [`gobuild`]) and the symlinks, applying whiteouts (`.wh.name`) and opaque directories (`.wh..wh..opq`)
//! to them. Memory is bounded by [`Limits`], not by the image's size; nothing is written to
//! disk, so `../` paths, absolute paths and symlinks that point outside cannot escape
//! anything — they are refused or resolved inside the image, and reported.

mod archive;
pub mod gobuild;
mod layer;
mod lockfile;
pub mod pkgdb;
pub mod rpmdb;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;

use sluice_inventory::purl::encode;
use sluice_inventory::{Ecosystem, Location, Package, Relationship};

pub use archive::{clean as clean_path, parse_manifest_bytes};
pub use layer::Compression;

/// Bounds on what one image may cost. Every field is a decision; see [`Limits::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Layers in a manifest; more is refused (Docker itself stops at 127).
    pub max_layers: usize,
    /// Bytes decompressed over all layers.
    pub max_uncompressed_bytes: u64,
    /// Decompressed ÷ compressed bytes allowed for a layer once it passed `ratio_floor`.
    pub max_ratio: u64,
    pub ratio_floor: u64,
    /// One kept file (a package database, a METADATA) may be this large.
    pub max_file_bytes: u64,
    /// All kept files together.
    pub max_kept_bytes: u64,
    /// Manifests, indexes, configs.
    pub max_json_bytes: u64,
    /// Tar entries over all layers.
    pub max_entries: u64,
    /// Problems recorded before the rest are only counted.
    pub max_problems: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_layers: 1000,
        max_uncompressed_bytes: 64 << 30,
        max_ratio: 200,
        ratio_floor: 64 << 20,
        max_file_bytes: 64 << 20,
        max_kept_bytes: 512 << 20,
        max_json_bytes: 16 << 20,
        max_entries: 20_000_000,
        max_problems: 200,
    };
}

/// Why an image could not be inventoried at all.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{image}: cannot read: {reason}")]
    Io { image: String, reason: String },
    #[error("{image}: not an image archive: {reason}; give a tarball from `docker save` or an OCI image layout")]
    NotAnArchive { image: String, reason: String },
    #[error("{image}: invalid image manifest: {reason}")]
    Manifest { image: String, reason: String },
    #[error("{image}: refused: {message}")]
    Limit { image: String, message: String },
}

/// Something wrong with part of an image that did not stop the inventory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub layer: Option<String>,
    pub message: String,
}

/// What one layer held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub digest: String,
    /// The media type the manifest gives (OCI), if any.
    pub media_type: Option<String>,
    /// The build step that made it (`RUN apt-get install …`), from the image config's
    /// history, with build-argument values removed.
    pub created_by: Option<String>,
    pub compression: &'static str,
    pub entries: u64,
    /// Read completely (false when truncated or corrupt).
    pub complete: bool,
}

/// The operating system from `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// `ID` (`debian`, `alpine`, `ubuntu`…).
    pub id: String,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

/// The inventory of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// `docker-archive` or `oci-layout`.
    pub format: &'static str,
    pub repo_tags: Vec<String>,
    pub layers: Vec<LayerInfo>,
    pub os: Option<OsInfo>,
    /// Sorted by ecosystem, name, version, location.
    pub packages: Vec<Package>,
    pub problems: Vec<Problem>,
}

/// Inventories the image tarball at `path`.
pub fn inventory(path: &Path, limits: &Limits) -> Result<Inventory, ImageError> {
    let origin = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| ImageError::Io { image: origin.clone(), reason: e.to_string() })?;
    inventory_from(&mut std::io::BufReader::new(file), &origin, limits)
}

/// Inventories an image archive from any seekable reader (`origin` names it in messages).
pub fn inventory_from<R: Read + Seek>(reader: &mut R, origin: &str, limits: &Limits) -> Result<Inventory, ImageError> {
    let index = archive::Index::read(reader, origin)?;
    let manifest = if let Some(m) = index.get("manifest.json") {
        let bytes = archive::read_small(reader, m, "manifest.json", origin, limits)?;
        archive::docker_manifest(reader, &index, &bytes, origin, limits)?
    } else if let Some(m) = index.get("index.json") {
        if !index.has("oci-layout") {
            return Err(ImageError::NotAnArchive {
                image: origin.to_owned(),
                reason: "index.json without oci-layout".into(),
            });
        }
        let bytes = archive::read_small(reader, m, "index.json", origin, limits)?;
        archive::oci_manifest(reader, &index, &bytes, origin, limits)?
    } else {
        return Err(ImageError::NotAnArchive {
            image: origin.to_owned(),
            reason: "neither manifest.json nor index.json is in it".into(),
        });
    };
    let mut fs = Fs::new(*limits);
    if manifest.other_images > 0 {
        fs.problem(
            None,
            format!("the archive holds {} more image(s); only the first is inventoried", manifest.other_images),
        );
    }
    // A layer the manifest names but the archive lacks: whatever it installed or removed is
    // unknown, so "no findings" would be a guess. Refused, like any missing blob, before any
    // layer is read.
    let missing = manifest.layers.iter().enumerate().find(|(_, l)| !index.has(&l.member_path));
    if let Some((n, layer_ref)) = missing {
        return Err(ImageError::Manifest {
            image: origin.to_owned(),
            reason: format!(
                "layer `{}` ({}, {} of {}) is missing from the archive; save the image again (`docker save IMAGE -o FILE`)",
                layer_ref.member_path,
                layer_ref.digest,
                n + 1,
                manifest.layers.len()
            ),
        });
    }
    let total_out = Rc::new(Cell::new(0u64));
    let mut layers = Vec::new();
    for (n, layer_ref) in manifest.layers.iter().enumerate() {
        let Some(member) = index.get(&layer_ref.member_path) else { continue };
        reader
            .seek(SeekFrom::Start(member.offset))
            .map_err(|e| ImageError::Io { image: origin.to_owned(), reason: e.to_string() })?;
        let tripped: layer::Tripped = Rc::new(Cell::new(None));
        let blob = (&mut *reader).take(member.size);
        let mut info = fs.apply_layer(n, &layer_ref.digest, blob, total_out.clone(), tripped.clone());
        info.media_type = layer_ref.media_type.clone();
        info.created_by = layer_ref.created_by.clone();
        if let Some(why) = tripped.get() {
            return Err(ImageError::Limit {
                image: origin.to_owned(),
                message: format!("layer {}: {why}", layer_ref.digest),
            });
        }
        if fs.entries > limits.max_entries {
            return Err(ImageError::Limit {
                image: origin.to_owned(),
                message: format!("more than {} files in the layers", limits.max_entries),
            });
        }
        layers.push(info);
    }
    let digests: Vec<String> = layers.iter().map(|l| l.digest.clone()).collect();
    let (os, packages) = fs.packages(&digests);
    let mut problems = fs.problems;
    if fs.dropped_problems > 0 {
        problems.push(Problem { layer: None, message: format!("{} more problems not listed", fs.dropped_problems) });
    }
    Ok(Inventory { format: manifest.format, repo_tags: manifest.repo_tags, layers, os, packages, problems })
}

/// Which kept files an inventory reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OsRelease,
    Dpkg,
    Apk,
    Rpm,
    Python,
    Npm,
    /// The build info blob of a Go executable (found by content, not by name).
    GoBinary,
    Lockfile(sluice_inventory::Format),
}

fn kind_of(path: &str) -> Option<Kind> {
    match path {
        "etc/os-release" | "usr/lib/os-release" => return Some(Kind::OsRelease),
        "var/lib/dpkg/status" => return Some(Kind::Dpkg),
        "lib/apk/db/installed" => return Some(Kind::Apk),
        "var/lib/rpm/rpmdb.sqlite"
        | "var/lib/rpm/Packages"
        | "usr/lib/sysimage/rpm/rpmdb.sqlite"
        | "usr/lib/sysimage/rpm/Packages.db" => return Some(Kind::Rpm),
        _ => {}
    }
    if let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") {
        return (!name.contains('/') && !name.ends_with(".md5sums")).then_some(Kind::Dpkg);
    }
    if let Some(dir) = path.strip_suffix("/METADATA") {
        return dir.ends_with(".dist-info").then_some(Kind::Python);
    }
    if let Some(dir) = path.strip_suffix("/PKG-INFO") {
        return dir.ends_with(".egg-info").then_some(Kind::Python);
    }
    if let Some(dir) = path.strip_suffix("/package.json") {
        // node_modules/<name>/package.json or node_modules/@scope/<name>/package.json.
        let parts: Vec<&str> = dir.rsplit('/').take(3).collect();
        return match parts.as_slice() {
            [_, "node_modules", ..] => Some(Kind::Npm),
            [_, scope, "node_modules"] if scope.starts_with('@') => Some(Kind::Npm),
            _ => None,
        };
    }
    lockfile::format_of(path).map(Kind::Lockfile)
}

struct Kept {
    layer: usize,
    kind: Kind,
    data: Vec<u8>,
}

/// The metadata-only filesystem: kept files and symlinks, with the layer that wrote each.
struct Fs {
    limits: Limits,
    files: BTreeMap<String, Kept>,
    symlinks: BTreeMap<String, (usize, String)>,
    kept_bytes: u64,
    entries: u64,
    problems: Vec<Problem>,
    dropped_problems: usize,
    /// (ecosystem, name, version) → the layer that introduced it, from each state of the
    /// OS package databases.
    introduced: BTreeMap<(String, String), usize>,
}

const MAX_SYMLINKS: usize = 1_000_000;

impl Fs {
    fn new(limits: Limits) -> Fs {
        Fs {
            limits,
            files: BTreeMap::new(),
            symlinks: BTreeMap::new(),
            kept_bytes: 0,
            entries: 0,
            problems: Vec::new(),
            dropped_problems: 0,
            introduced: BTreeMap::new(),
        }
    }

    fn problem(&mut self, layer: Option<&str>, message: String) {
        if self.problems.len() >= self.limits.max_problems {
            self.dropped_problems += 1;
        } else {
            self.problems.push(Problem { layer: layer.map(str::to_owned), message });
        }
    }

    fn remove_lower(&mut self, prefix: &str, exact: Option<&str>, layer: usize) {
        let under = |p: &str| p.starts_with(prefix) || exact == Some(p);
        self.files.retain(|p, k| !(k.layer < layer && under(p)));
        self.symlinks.retain(|p, (l, _)| !(*l < layer && under(p)));
    }

    fn apply_layer<R: Read>(
        &mut self,
        n: usize,
        digest: &str,
        blob: R,
        total_out: Rc<Cell<u64>>,
        tripped: layer::Tripped,
    ) -> LayerInfo {
        let mut info = LayerInfo {
            digest: digest.to_owned(),
            media_type: None,
            created_by: None,
            compression: "none",
            entries: 0,
            complete: false,
        };
        let (stream, compression) = match layer::open(blob, &self.limits, total_out, tripped) {
            Ok(s) => s,
            Err(e) => {
                self.problem(
                    Some(digest),
                    format!("cannot decompress the layer: {e}; its files are not in the inventory"),
                );
                return info;
            }
        };
        info.compression = compression.as_str();
        // Whether this layer may have changed an OS package database (written, or removed by
        // a whiteout): then the databases are re-read to see which packages it introduced.
        let mut db_changed = false;
        let mut archive = tar::Archive::new(stream);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.problem(Some(digest), format!("not a tar layer: {e}"));
                return info;
            }
        };
        let mut failed = false;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.problem(
                        Some(digest),
                        format!(
                            "layer is truncated or corrupt: {e}; later files of this layer are not in the inventory"
                        ),
                    );
                    failed = true;
                    break;
                }
            };
            info.entries += 1;
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                failed = true;
                break;
            }
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).chars().take(200).collect::<String>();
            if raw.starts_with(b"/") {
                self.problem(
                    Some(digest),
                    format!("entry `{shown}` has an absolute path; ignored (layers hold relative paths)"),
                );
                continue;
            }
            if raw.split(|b| *b == b'/').any(|c| c == b"..") {
                self.problem(Some(digest), format!("entry `{shown}` climbs out with `..`; ignored"));
                continue;
            }
            let Some(path) = archive::clean(&raw) else { continue };
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (format!("{d}/"), n.to_owned()),
                None => (String::new(), path.clone()),
            };
            if name == ".wh..wh..opq" {
                self.remove_lower(&dir, None, n);
                db_changed = true;
                continue;
            }
            if let Some(target) = name.strip_prefix(".wh.") {
                let gone = format!("{dir}{target}");
                self.remove_lower(&format!("{gone}/"), Some(&gone), n);
                db_changed = true;
                continue;
            }
            let kind = entry.header().entry_type();
            // A later entry replaces an earlier one at the same path, whatever its type.
            self.files.remove(&path);
            self.symlinks.remove(&path);
            if kind.is_symlink() {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                if !target.starts_with('/') && escapes(&dir, &target) {
                    self.problem(
                        Some(digest),
                        format!("symlink `{path}` → `{target}` points outside the image; resolved inside it, as in a container"),
                    );
                }
                if self.symlinks.len() < MAX_SYMLINKS {
                    self.symlinks.insert(path, (n, target));
                }
                continue;
            }
            let Some(k) = kind_of(&path) else {
                if let Err(e) = self.go_binary(n, digest, &path, &mut entry) {
                    self.problem(Some(digest), format!("layer is truncated or corrupt while reading `{path}`: {e}"));
                    failed = true;
                    break;
                }
                continue;
            };
            db_changed |= matches!(k, Kind::Dpkg | Kind::Apk | Kind::Rpm);
            // Only the SQLite rpm database is read; BerkeleyDB and ndb files are just noted.
            if k == Kind::Rpm && !path.ends_with(".sqlite") {
                self.files.insert(path, Kept { layer: n, kind: k, data: Vec::new() });
                continue;
            }
            if kind.is_hard_link() {
                let target = entry.link_name_bytes().and_then(|t| archive::clean(&t));
                match target.and_then(|t| self.files.get(&t).map(|f| f.data.clone())) {
                    Some(data) => {
                        self.kept_bytes += data.len() as u64;
                        self.files.insert(path, Kept { layer: n, kind: k, data });
                    }
                    None => self.problem(
                        Some(digest),
                        format!("hard link `{path}` points to a file that is not in the image; ignored"),
                    ),
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let size = entry.size();
            if size > self.limits.max_file_bytes || self.kept_bytes + size > self.limits.max_kept_bytes {
                self.problem(
                    Some(digest),
                    format!("`{path}` is {size} bytes, over the limit for a package database; not read"),
                );
                continue;
            }
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            if let Err(e) = (&mut entry).take(size).read_to_end(&mut data) {
                self.problem(Some(digest), format!("layer is truncated or corrupt while reading `{path}`: {e}"));
                failed = true;
                break;
            }
            self.kept_bytes += data.len() as u64;
            self.files.insert(path, Kept { layer: n, kind: k, data });
        }
        info.complete = !failed;
        if db_changed {
            self.snapshot(n);
        }
        info
    }

    /// Scans a regular executable entry for Go build info ([`gobuild::scan`]); keeps the blob
    /// when found. Hard links to a kept Go binary keep a copy. Err only when the layer itself
    /// fails to read.
    fn go_binary<R: Read>(
        &mut self,
        n: usize,
        digest: &str,
        path: &str,
        entry: &mut tar::Entry<'_, R>,
    ) -> std::io::Result<()> {
        let header = entry.header();
        let kind = header.entry_type();
        if kind.is_hard_link() {
            let target = entry.link_name_bytes().and_then(|t| archive::clean(&t));
            if let Some(kept) = target.and_then(|t| self.files.get(&t)).filter(|k| k.kind == Kind::GoBinary) {
                let data = kept.data.clone();
                self.kept_bytes += data.len() as u64;
                self.files.insert(path.to_owned(), Kept { layer: n, kind: Kind::GoBinary, data });
            }
            return Ok(());
        }
        if !kind.is_file() || header.mode().map_or(true, |m| m & 0o111 == 0) || entry.size() < 64 {
            return Ok(());
        }
        let blob = match gobuild::scan(&mut *entry)? {
            gobuild::Scan::Found(blob) => blob,
            gobuild::Scan::TooLarge => {
                self.problem(
                    Some(digest),
                    format!("`{path}` is over {} bytes; not searched for Go build info", gobuild::MAX_SCAN),
                );
                return Ok(());
            }
            gobuild::Scan::NotElf | gobuild::Scan::NotGo => return Ok(()),
        };
        match gobuild::parse(&blob) {
            Ok(info) if self.kept_bytes + info.len as u64 <= self.limits.max_kept_bytes => {
                let mut data = blob;
                data.truncate(info.len);
                self.kept_bytes += data.len() as u64;
                self.files.insert(path.to_owned(), Kept { layer: n, kind: Kind::GoBinary, data });
            }
            Ok(_) => self.problem(
                Some(digest),
                format!("`{path}`: Go build info over the limit on kept bytes; its modules are not read"),
            ),
            Err(e) => self.problem(Some(digest), format!("`{path}` is a Go binary but {e}; its modules are not read")),
        }
        Ok(())
    }

    /// Records which OS packages exist after layer `n`: new (name, version) pairs were
    /// introduced by it; pairs gone from the database are forgotten.
    fn snapshot(&mut self, n: usize) {
        let mut now: BTreeSet<(String, String)> = BTreeSet::new();
        for kept in self.files.values() {
            let pkgs = match kept.kind {
                Kind::Dpkg => pkgdb::dpkg_status(&kept.data),
                Kind::Apk => pkgdb::apk_installed(&kept.data),
                Kind::Rpm => {
                    let db = rpmdb::read_sqlite(&kept.data).unwrap_or_default();
                    now.extend(db.packages.iter().map(|h| (h.name.clone(), h.evr())));
                    continue;
                }
                _ => continue,
            };
            now.extend(pkgs.into_iter().map(|p| (p.name, p.version)));
        }
        self.introduced.retain(|k, _| now.contains(k));
        for k in now {
            self.introduced.entry(k).or_insert(n);
        }
    }

    /// Resolves `path` through the kept symlinks, inside the image root (at most 40 links).
    fn resolve(&self, path: &str) -> Option<&Kept> {
        let mut current = path.to_owned();
        for _ in 0..40 {
            if let Some(k) = self.files.get(&current) {
                return Some(k);
            }
            // The longest symlinked prefix of the path.
            let parts: Vec<&str> = current.split('/').collect();
            let mut next = None;
            for i in (1..=parts.len()).rev() {
                let prefix = parts[..i].join("/");
                if let Some((_, target)) = self.symlinks.get(&prefix) {
                    let base = if target.starts_with('/') { String::new() } else { parts[..i - 1].join("/") };
                    let joined = format!("{base}/{target}/{}", parts[i..].join("/"));
                    next = archive::clean(joined.as_bytes());
                    break;
                }
            }
            current = next?;
        }
        None
    }

    fn packages(&mut self, digests: &[String]) -> (Option<OsInfo>, Vec<Package>) {
        let os = self.resolve("etc/os-release").or_else(|| self.resolve("usr/lib/os-release")).map(|k| {
            let fields = pkgdb::os_release(&k.data);
            OsInfo {
                id: fields.get("ID").cloned().unwrap_or_default(),
                version_id: fields.get("VERSION_ID").cloned(),
                pretty_name: fields.get("PRETTY_NAME").cloned(),
            }
        });
        let layer = |i: usize| digests.get(i).cloned();
        let mut out = Vec::new();
        let mut rpm_problems = Vec::new();
        // Problems found while `self.files` is borrowed.
        let mut later = Vec::new();
        for (path, kept) in &self.files {
            let location = Location { path: format!("/{path}"), line: 1 };
            match kept.kind {
                Kind::Dpkg | Kind::Apk => {
                    let (pkgs, default_eco) = if kept.kind == Kind::Dpkg {
                        (pkgdb::dpkg_status(&kept.data), Ecosystem::Debian)
                    } else {
                        (pkgdb::apk_installed(&kept.data), Ecosystem::Alpine)
                    };
                    // dpkg serves Debian and Ubuntu (OSV tracks them apart); apk is Alpine's.
                    let eco = match (kept.kind, os.as_ref().map(|o| o.id.as_str())) {
                        (Kind::Dpkg, Some("ubuntu")) => Ecosystem::Ubuntu,
                        _ => default_eco,
                    };
                    for p in pkgs {
                        let introduced =
                            self.introduced.get(&(p.name.clone(), p.version.clone())).copied().unwrap_or(kept.layer);
                        let distro = sluice_inventory::Distro {
                            ecosystem: eco.osv_name().to_owned(),
                            release: os.as_ref().and_then(osv_release),
                            source_name: p.source.clone(),
                            source_version: p.source_version.clone(),
                        };
                        out.push(Package {
                            ecosystem: eco,
                            purl: os_purl(eco, &p, os.as_ref()),
                            name: p.name,
                            version: p.version,
                            relationship: Relationship::Unknown,
                            location: Location { path: location.path.clone(), line: p.line },
                            hashes: Vec::new(),
                            dependencies: Vec::new(),
                            layer: layer(introduced),
                            source: sluice_inventory::Source::Registry,
                            distro: Some(distro),
                        });
                    }
                }
                Kind::Python => {
                    if let Some((name, version)) = pkgdb::python_metadata(&kept.data) {
                        out.push(Package {
                            ecosystem: Ecosystem::PyPI,
                            purl: format!("pkg:pypi/{}@{}", encode(&name), encode(&version)),
                            name,
                            version,
                            relationship: Relationship::Unknown,
                            location,
                            hashes: Vec::new(),
                            dependencies: Vec::new(),
                            layer: layer(kept.layer),
                            source: sluice_inventory::Source::Registry,
                            distro: None,
                        });
                    }
                }
                Kind::Npm => {
                    if let Some((name, version)) = pkgdb::npm_package_json(&kept.data) {
                        let purl_name = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
                            Some((scope, n)) => format!("%40{}/{}", encode(scope), encode(n)),
                            None => encode(&name),
                        };
                        out.push(Package {
                            ecosystem: Ecosystem::Npm,
                            purl: format!("pkg:npm/{purl_name}@{}", encode(&version)),
                            name,
                            version,
                            relationship: Relationship::Unknown,
                            location,
                            hashes: Vec::new(),
                            dependencies: Vec::new(),
                            layer: layer(kept.layer),
                            source: sluice_inventory::Source::Registry,
                            distro: None,
                        });
                    }
                }
                Kind::GoBinary => match gobuild::parse(&kept.data) {
                    Ok(info) => out.extend(gobuild::packages(&info, &location.path).into_iter().map(|mut p| {
                        p.layer = layer(kept.layer);
                        p
                    })),
                    Err(e) => later.push(format!("`/{path}`: {e}; its Go modules are not in the inventory")),
                },
                Kind::Lockfile(format) => {
                    let parsed = sluice_inventory::parse_bytes(&kept.data, &location.path, format);
                    match parsed.error {
                        Some(e) => later.push(format!("{e}; its packages are not in the inventory")),
                        None => out.extend(parsed.packages.into_iter().map(|mut p| {
                            p.layer = layer(kept.layer);
                            p
                        })),
                    }
                }
                Kind::Rpm => {
                    let introduced = |h: &rpmdb::RpmHeader| {
                        layer(self.introduced.get(&(h.name.clone(), h.evr())).copied().unwrap_or(kept.layer))
                    };
                    match rpmdb::inventory(path, &kept.data, os.as_ref(), &introduced) {
                        Ok((pkgs, bad)) => {
                            out.extend(pkgs);
                            rpm_problems.extend(bad.into_iter().map(|b| (layer(kept.layer), b)));
                        }
                        Err(e) => rpm_problems.push((layer(kept.layer), e)),
                    }
                }
                Kind::OsRelease => {}
            }
        }
        for (layer, message) in rpm_problems {
            self.problem(layer.as_deref(), message);
        }
        for message in later {
            self.problem(None, message);
        }
        out.sort();
        out.dedup();
        (os, out)
    }
}

/// Whether a relative symlink target climbs above the image root from directory `dir`.
fn escapes(dir: &str, target: &str) -> bool {
    let mut depth: i64 = dir.split('/').filter(|p| !p.is_empty()).count() as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// The release suffix OSV gives advisories of this operating system: Debian and Ubuntu use
/// `VERSION_ID` (`12`, `22.04`), Alpine its branch (`3.20.3` → `v3.20`), the Red Hat family
/// the major version (`9.3` → `9`). `None` for rolling releases (Debian sid, Alpine edge).
pub fn osv_release(os: &OsInfo) -> Option<String> {
    let version = os.version_id.as_deref()?.trim();
    if version.is_empty() {
        return None;
    }
    match os.id.as_str() {
        "alpine" => {
            let mut parts = version.split('.');
            let (major, minor) = (parts.next()?, parts.next()?);
            Some(format!("v{major}.{minor}"))
        }
        "rhel" | "rocky" | "almalinux" | "centos" | "ol" | "fedora" => version.split('.').next().map(str::to_owned),
        _ => Some(version.to_owned()),
    }
}

/// `pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12`.
fn os_purl(eco: Ecosystem, p: &pkgdb::OsPackage, os: Option<&OsInfo>) -> String {
    let namespace = match eco {
        Ecosystem::Ubuntu => "ubuntu",
        Ecosystem::Alpine => "alpine",
        _ => "debian",
    };
    let mut q = Vec::new();
    if let Some(a) = &p.arch {
        q.push(format!("arch={}", encode(a)));
    }
    if let Some(os) = os {
        match &os.version_id {
            Some(v) => q.push(format!("distro={}-{}", encode(&os.id), encode(v))),
            None => q.push(format!("distro={}", encode(&os.id))),
        }
    }
    if let Some(src) = &p.source {
        q.push(format!("upstream={}", encode(src)));
    }
    let query = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
    format!("pkg:{}/{namespace}/{}@{}{query}", eco.purl_type(), encode(&p.name), encode(&p.version))
}

/// A `docker save` archive whose only layer is `layer` (any bytes): how the fuzz targets and
/// property tests reach the layer reader through the public entry point.
pub fn single_layer_archive(layer: &[u8]) -> Vec<u8> {
    let manifest = br#"[{"Config":null,"RepoTags":["fuzz:1"],"Layers":["l/layer.tar"]}]"#;
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in [("l/layer.tar", layer), ("manifest.json", manifest.as_slice())] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // Writing to a Vec cannot fail; the paths are valid.
        if builder.append_data(&mut header, path, data).is_err() {
            return Vec::new();
        }
    }
    builder.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"), Some(Kind::Python));
        assert_eq!(kind_of("app/node_modules/@babel/core/package.json"), Some(Kind::Npm));
        assert_eq!(kind_of("app/node_modules/lodash/package.json"), Some(Kind::Npm));
        assert_eq!(kind_of("app/package.json"), None);
        assert_eq!(kind_of("var/lib/dpkg/status.d/base-files"), Some(Kind::Dpkg));
        assert_eq!(kind_of("var/lib/dpkg/status.d/base-files.md5sums"), None);
    }

    #[test]
    fn escaping() {
        assert!(escapes("etc/", "../../x"));
        assert!(!escapes("etc/", "../usr/lib/os-release"));
    }
}
