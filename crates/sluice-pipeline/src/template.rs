//! Org templates: `extends` in `sluice.toml`, locked keys, and `sluice.lock`.
//!
//! A repository's `sluice.toml` may extend one template, which may extend another, and so on.
//! A template is a `sluice.toml` like any other, from one of three sources:
//!
//! ```toml
//! extends = "../org/sluice-template.toml"                  # a local path
//! extends = { git = "https://git.example.org/sec/templates.git", rev = "v1.4.0", path = "sluice.toml" }
//! extends = { url = "https://example.org/sluice.toml", sha256 = "9f86d0…" }
//! ```
//!
//! Resolution reads the chain from the repository's file up to the root template, then merges
//! it top-down: tables merge key by key, any other value (strings, numbers, arrays) in a closer
//! file replaces the template's. Every leaf remembers the file it came from, for
//! `sluice config show`.
//!
//! A template protects what the organization requires with a `[template]` table:
//!
//! ```toml
//! [template]
//! name = "acme-baseline"
//! required_stages = ["secrets", "sast"]       # cannot be disabled, replaced, or left out of [run] stages
//! locked = ["policy.profile", "stages.container.allowed_registries"]
//! ```
//!
//! A locked key may only be made stricter below the template: `policy.profile` may move from
//! `velocity` to `constrained`, a locked list may only lose entries (locked lists are
//! allowlists), and any other locked value cannot change. Trying is an error naming the key,
//! the file that tries and the template that locked it.
//!
//! Remote templates (git and https) are pinned in `sluice.lock` beside `sluice.toml`: the
//! commit a git `rev` resolved to and the sha256 of every template's text. A run uses exactly
//! what the lock says; when `sluice.toml` asks for something the lock does not cover (a new
//! tag, a new template), the run stops and says to run `sluice config lock`, so an upgrade is
//! a reviewed change to a committed file. Without a lock file, the first resolution writes
//! one. Local paths are not locked: they are part of a checkout that is already reviewed.
//!
//! git is run as a child process (as everywhere in sluice); https downloads use `curl`, and
//! only ever for a `url` source whose content is pinned by sha256. Fetched templates are
//! cached under `$SLUICE_CACHE_DIR` (default `$XDG_CACHE_HOME/sluice`, else
//! `~/.cache/sluice`), so a locked run works offline once the cache is warm.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ConfigError;

/// Templates extending templates deeper than this are certainly a mistake (or a cycle through
/// moving tags); stop with a message instead of recursing.
const MAX_DEPTH: usize = 16;

/// The name of the lock file, beside the repository's `sluice.toml`.
pub const LOCK_FILE: &str = "sluice.lock";

/// Policy profiles from weakest to strictest, for "cannot be weakened".
const PROFILES: &[&str] = &["velocity", "constrained"];

/// Where a template comes from, as written in `extends`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path relative to the file that extends it (or absolute).
    Path(PathBuf),
    /// A file in a git repository at a tag, branch or commit.
    Git { repo: String, rev: String, path: String },
    /// A file over https, pinned by the sha256 of its content.
    Url { url: String, sha256: String },
}

impl Source {
    /// The key of this source in `sluice.lock`: the repository and path without the revision,
    /// so a changed `rev` is recognised as an upgrade of the same template.
    fn lock_key(&self) -> Option<String> {
        match self {
            Source::Path(_) => None,
            Source::Git { repo, path, .. } => Some(format!("git+{repo}#{path}")),
            Source::Url { url, .. } => Some(url.clone()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => write!(f, "{}", path.display()),
            Source::Git { repo, rev, path } => write!(f, "git+{repo}@{rev}#{path}"),
            Source::Url { url, .. } => f.write_str(url),
        }
    }
}

/// One file of the chain: the repository's own `sluice.toml` is layer 0.
#[derive(Debug, Clone)]
pub struct Layer {
    /// How the layer is named in messages and in `config show`: a path for files on disk, the
    /// source for fetched templates.
    pub name: String,
    /// The `[template] name`, if the template gives one.
    pub template_name: Option<String>,
    /// sha256 of the text, hex.
    pub sha256: String,
    /// The commit a git source resolved to.
    pub commit: Option<String>,
    source: Option<Source>,
}

impl Layer {
    /// How a template is named in errors: its declared name and where it came from.
    fn describe(&self) -> String {
        match &self.template_name {
            Some(name) => format!("template `{name}` ({})", self.name),
            None => format!("template {}", self.name),
        }
    }
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Resolved::layers`].
    pub layer: usize,
    /// Locked by a template (its layer index).
    pub locked_by: Option<usize>,
}

/// The merged configuration of a repository and where each value came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The merged table, without `extends` and `[template]`.
    pub table: toml::Table,
    /// The chain, the repository's file first.
    pub layers: Vec<Layer>,
    /// Dotted key → origin, for every leaf value of `table`.
    pub origins: BTreeMap<String, Origin>,
    /// Stages some template requires, with the requiring layer.
    pub required_stages: BTreeMap<String, usize>,
    /// Whether resolution wrote `sluice.lock` (first use, or `LockMode::Update`).
    pub wrote_lock: bool,
}

/// How `sluice.lock` is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Use the lock; write it when there is none; refuse what it does not cover.
    Use,
    /// Resolve every revision afresh (fetching) and rewrite the lock: `sluice config lock`.
    Update,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default, rename = "template")]
    templates: Vec<LockEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockEntry {
    /// `git+<repo>#<path>` or the URL.
    source: String,
    /// The `rev` as written in `extends` (git only).
    #[serde(skip_serializing_if = "Option::is_none")]
    rev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    sha256: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateMeta {
    /// The template's name, shown by `sluice config show`.
    name: Option<String>,
    /// Stages every repository extending this template must keep enabled.
    #[serde(default)]
    required_stages: Vec<String>,
    /// Keys (`stages.secrets.allow_paths`, `policy.profile`) files extending this template may
    /// not change.
    #[serde(default)]
    locked: Vec<String>,
}

/// Resolves the chain starting at the repository's `sluice.toml` (`file`, which exists).
pub fn resolve(file: &Path, mode: LockMode) -> Result<Resolved, ConfigError> {
    let lock_path = file.parent().unwrap_or(Path::new(".")).join(LOCK_FILE);
    let lock = read_lock(&lock_path)?;
    let mut resolver = Resolver { lock: lock.as_ref(), mode, new_entries: Vec::new() };

    // Read the chain bottom-up.
    let mut tables: Vec<(toml::Table, TemplateMeta)> = Vec::new();
    let mut layers: Vec<Layer> = Vec::new();
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read { path: file.to_owned(), source })?;
    let mut current = Fetched { text, name: file.display().to_string(), commit: None, source: None, dir: dir_of(file) };
    loop {
        let mut table: toml::Table = toml::from_str(&current.text).map_err(|err| ConfigError::Parse {
            path: PathBuf::from(&current.name),
            message: err.to_string().trim_end().replace('\n', "\n  "),
        })?;
        let extends = table.remove("extends");
        let meta = match table.remove("template") {
            None => TemplateMeta::default(),
            Some(value) => TemplateMeta::deserialize(value).map_err(|err| ConfigError::Parse {
                path: PathBuf::from(&current.name),
                message: format!("[template]: {}", err.to_string().trim_end()),
            })?,
        };
        layers.push(Layer {
            name: current.name.clone(),
            template_name: meta.name.clone(),
            sha256: sha256_hex(current.text.as_bytes()),
            commit: current.commit.clone(),
            source: current.source.clone(),
        });
        tables.push((table, meta));
        let Some(extends) = extends else { break };
        if layers.len() > MAX_DEPTH {
            return Err(ConfigError::Parse {
                path: PathBuf::from(&current.name),
                message: format!("templates extend each other more than {MAX_DEPTH} levels deep (a cycle?)"),
            });
        }
        let source = parse_source(&extends, current.dir.as_deref()).map_err(|message| ConfigError::Parse {
            path: PathBuf::from(&current.name),
            message: format!("`extends`: {message}"),
        })?;
        let next = resolver.fetch(&source).map_err(|message| ConfigError::Parse {
            path: PathBuf::from(&current.name),
            message: format!("`extends = {source}`: {message}"),
        })?;
        if layers.iter().any(|l| l.sha256 == sha256_hex(next.text.as_bytes()) && l.name == next.name) {
            return Err(ConfigError::Parse {
                path: PathBuf::from(&current.name),
                message: format!("`extends = {source}`: templates extend each other in a cycle"),
            });
        }
        current = next;
    }

    // Locks: each file is checked against what the templates above it lock.
    let mut required_stages: BTreeMap<String, usize> = BTreeMap::new();
    let mut locked: Vec<(String, usize)> = Vec::new();
    for index in (0..tables.len()).rev() {
        let (table, meta) = &tables[index];
        for (key, owner) in &locked {
            check_locked(table, key, &tables[*owner].0, &layers[index], &layers[*owner])?;
        }
        for (stage, owner) in &required_stages {
            check_required(table, stage, &layers[index], &layers[*owner])?;
        }
        for stage in &meta.required_stages {
            required_stages.entry(stage.clone()).or_insert(index);
        }
        for key in &meta.locked {
            if !locked.iter().any(|(k, _)| k == key) {
                locked.push((key.clone(), index));
            }
        }
    }

    // Merge top-down, remembering origins.
    let mut merged = toml::Table::new();
    let mut origins = BTreeMap::new();
    for index in (0..tables.len()).rev() {
        merge_into(&mut merged, &tables[index].0, "", index, &mut origins);
    }
    for (key, origin) in origins.iter_mut() {
        origin.locked_by = locked
            .iter()
            .find(|(k, _)| key == k || key.starts_with(&format!("{k}.")))
            .map(|(_, owner)| *owner)
            .or_else(|| {
                required_stages
                    .iter()
                    .find(|(stage, _)| key.starts_with(&format!("stages.{stage}.")))
                    .map(|(_, owner)| *owner)
            });
    }

    let wrote_lock = resolver.finish(&lock_path, &layers)?;
    Ok(Resolved { table: merged, layers, origins, required_stages, wrote_lock })
}

struct Fetched {
    text: String,
    name: String,
    commit: Option<String>,
    source: Option<Source>,
    /// The directory relative paths in this file's `extends` are relative to (files on disk).
    dir: Option<PathBuf>,
}

fn dir_of(file: &Path) -> Option<PathBuf> {
    Some(file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf))
}

fn parse_source(value: &toml::Value, dir: Option<&Path>) -> Result<Source, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        path: Option<String>,
        git: Option<String>,
        rev: Option<String>,
        url: Option<String>,
        sha256: Option<String>,
    }
    let relative = |path: &str| -> Result<PathBuf, String> {
        let path = PathBuf::from(path);
        if path.is_absolute() {
            return Ok(path);
        }
        match dir {
            Some(dir) => Ok(dir.join(path)),
            None => Err(format!(
                "a relative path ({}) in a fetched template has nothing to be relative to; use git or url",
                path.display()
            )),
        }
    };
    match value {
        toml::Value::String(path) => Ok(Source::Path(relative(path)?)),
        toml::Value::Table(_) => {
            let t = Table::deserialize(value.clone()).map_err(|e| e.to_string().trim_end().to_owned())?;
            match (t.git, t.url, t.path) {
                (Some(repo), None, path) => {
                    let rev = t.rev.ok_or("a git template needs `rev` (a tag or commit) so runs are reproducible")?;
                    if t.sha256.is_some() {
                        return Err("`sha256` is for `url` templates; git templates are pinned in sluice.lock".into());
                    }
                    // A local repository path is relative to the extending file, like a path.
                    let repo = if repo.contains("://") || repo.contains('@') {
                        repo
                    } else {
                        relative(&repo)?.display().to_string()
                    };
                    Ok(Source::Git { repo, rev, path: path.unwrap_or_else(|| "sluice.toml".into()) })
                }
                (None, Some(url), None) => {
                    let sha256 = t.sha256.ok_or("a url template needs `sha256` of its content")?.to_ascii_lowercase();
                    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(format!("`sha256 = {sha256:?}` is not 64 hex digits"));
                    }
                    if !url.starts_with("https://") && !url.starts_with("file://") {
                        return Err(format!("`url = {url:?}`: only https:// (or file://) URLs"));
                    }
                    Ok(Source::Url { url, sha256 })
                }
                (None, None, Some(path)) => Ok(Source::Path(relative(&path)?)),
                _ => Err("write one of `path`, `git` (with `rev`, optional `path`), or `url` (with `sha256`)".into()),
            }
        }
        _ => Err("expected a path string or a table".into()),
    }
}

struct Resolver<'a> {
    lock: Option<&'a LockFile>,
    mode: LockMode,
    new_entries: Vec<LockEntry>,
}

impl Resolver<'_> {
    fn fetch(&mut self, source: &Source) -> Result<Fetched, String> {
        match source {
            Source::Path(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Ok(Fetched {
                    text,
                    name: path.display().to_string(),
                    commit: None,
                    source: Some(source.clone()),
                    dir: dir_of(path),
                })
            }
            Source::Git { repo, rev, path } => {
                let key = source.lock_key().unwrap_or_default();
                let locked = self.locked_entry(&key, Some(rev))?;
                let cache = git_cache(repo)?;
                let commit = match &locked {
                    Some(entry) => entry.commit.clone().ok_or("sluice.lock has no commit for this git template")?,
                    None => {
                        fetch_repo(repo, &cache)?;
                        resolve_rev(&cache, rev)?
                    }
                };
                if !has_commit(&cache, &commit) {
                    fetch_repo(repo, &cache)?;
                }
                let text = git_show(&cache, &commit, path)?;
                let digest = sha256_hex(text.as_bytes());
                match locked {
                    Some(entry) if entry.sha256 != digest => {
                        return Err(format!(
                            "{path} at {commit} has sha256 {digest}, but sluice.lock says {}; \
                             the lock was edited or the repository rewritten — check, then run `sluice config lock`",
                            entry.sha256
                        ))
                    }
                    Some(_) => {}
                    None => self.new_entries.push(LockEntry {
                        source: key,
                        rev: Some(rev.clone()),
                        commit: Some(commit.clone()),
                        sha256: digest,
                    }),
                }
                Ok(Fetched {
                    text,
                    name: source.to_string(),
                    commit: Some(commit),
                    source: Some(source.clone()),
                    dir: None,
                })
            }
            Source::Url { url, sha256 } => {
                let key = source.lock_key().unwrap_or_default();
                let locked = self.locked_entry(&key, None)?;
                if let Some(entry) = &locked {
                    if &entry.sha256 != sha256 {
                        return Err(format!(
                            "sluice.toml pins sha256 {sha256} but sluice.lock says {}; run `sluice config lock` to accept the change",
                            entry.sha256
                        ));
                    }
                }
                let text = fetch_url(url, sha256)?;
                if locked.is_none() {
                    self.new_entries.push(LockEntry { source: key, rev: None, commit: None, sha256: sha256.clone() });
                }
                Ok(Fetched { text, name: url.clone(), commit: None, source: Some(source.clone()), dir: None })
            }
        }
    }

    /// The lock's entry for a source, or `None` when it is to be resolved afresh. An existing
    /// lock that does not cover the source is an error: the upgrade must be reviewed.
    fn locked_entry(&self, key: &str, rev: Option<&String>) -> Result<Option<LockEntry>, String> {
        if self.mode == LockMode::Update {
            return Ok(None);
        }
        let Some(lock) = self.lock else { return Ok(None) };
        match lock.templates.iter().find(|e| e.source == key) {
            Some(entry) if entry.rev.as_ref() == rev => Ok(Some(entry.clone())),
            Some(entry) => Err(format!(
                "sluice.lock pins rev {} of this template; sluice.toml now asks for {}. \
                 Run `sluice config lock` to accept the upgrade, and commit sluice.lock",
                entry.rev.as_deref().unwrap_or("?"),
                rev.map_or("?", String::as_str)
            )),
            None => {
                Err("sluice.lock does not cover this template. Run `sluice config lock`, and commit sluice.lock".into())
            }
        }
    }

    /// Writes the lock when there was none, or when updating. Returns whether it wrote.
    fn finish(self, lock_path: &Path, layers: &[Layer]) -> Result<bool, ConfigError> {
        let needs_lock = layers.iter().any(|l| l.source.as_ref().and_then(Source::lock_key).is_some());
        let write = match self.mode {
            LockMode::Update => true,
            LockMode::Use => self.lock.is_none() && needs_lock,
        };
        if !write {
            return Ok(false);
        }
        let mut entries = self.new_entries;
        entries.sort_by(|a, b| a.source.cmp(&b.source));
        entries.dedup_by(|a, b| a.source == b.source);
        let lock = LockFile { version: 1, templates: entries };
        let body = toml::to_string_pretty(&lock).map_err(|e| ConfigError::Parse {
            path: lock_path.to_owned(),
            message: format!("cannot serialize: {e}"),
        })?;
        let text = format!(
            "# Written by sluice (`sluice config lock`): the exact templates this repository's sluice.toml\n\
             # extends. Commit it; a template upgrade is a reviewed change to this file.\n{body}"
        );
        // Next to sluice.toml, in the repository: never through a committed link.
        let (dir, name) = (lock_path.parent().unwrap_or(Path::new(".")), lock_path.file_name().unwrap_or_default());
        crate::safe_fs::write_in(dir, Path::new(name), text.as_bytes(), None)
            .map_err(|e| ConfigError::Parse { path: lock_path.to_owned(), message: e.reason() })?;
        Ok(true)
    }
}

fn read_lock(path: &Path) -> Result<Option<LockFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
    };
    let lock: LockFile = toml::from_str(&text).map_err(|err| ConfigError::Parse {
        path: path.to_owned(),
        message: format!("{} (delete it and run `sluice config lock` to rewrite it)", err.to_string().trim_end()),
    })?;
    if lock.version != 1 {
        return Err(ConfigError::Parse {
            path: path.to_owned(),
            message: format!("lock file version {} is not supported by this sluice (1)", lock.version),
        });
    }
    Ok(Some(lock))
}

fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("SLUICE_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("sluice"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("sluice")),
        None => Err("no cache directory: set SLUICE_CACHE_DIR".into()),
    }
}

fn git_cache(repo: &str) -> Result<PathBuf, String> {
    Ok(cache_dir()?.join("templates").join(&sha256_hex(repo.as_bytes())[..16]))
}

/// git in the template cache: never prompting for credentials.
fn git(cache: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    sluice_repo::Git::new(cache).env("GIT_TERMINAL_PROMPT", "0").bytes(args).map_err(|e| e.to_string())
}

/// A bare mirror of the repository in the cache, with every branch and tag as the remote has
/// them now (tags forced: a moved tag is visible, and the lock is what protects the run).
fn fetch_repo(repo: &str, cache: &Path) -> Result<(), String> {
    if !cache.join("HEAD").exists() {
        std::fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
        git(cache, &["init", "--quiet", "--bare", "."])?;
    }
    git(
        cache,
        &["fetch", "--quiet", "--force", "--prune", repo, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
    )
    .map_err(|e| format!("cannot fetch the template repository: {e}"))?;
    Ok(())
}

fn resolve_rev(cache: &Path, rev: &str) -> Result<String, String> {
    let out = git(cache, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("no tag, branch or commit `{rev}` in the template repository"))?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

fn has_commit(cache: &Path, commit: &str) -> bool {
    git(cache, &["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_ok()
}

fn git_show(cache: &Path, commit: &str, path: &str) -> Result<String, String> {
    let bytes = git(cache, &["show", &format!("{commit}:{path}")])
        .map_err(|_| format!("no file `{path}` at commit {commit} of the template repository"))?;
    String::from_utf8(bytes).map_err(|_| format!("`{path}` at {commit} is not UTF-8"))
}

fn fetch_url(url: &str, sha256: &str) -> Result<String, String> {
    let cached = cache_dir()?.join("templates").join(format!("{sha256}.toml"));
    let bytes = match std::fs::read(&cached) {
        Ok(bytes) => bytes,
        Err(_) => {
            let output = Command::new("curl")
                .args(["--fail", "--silent", "--show-error", "--location", "--max-time", "60", "--", url])
                .output()
                .map_err(|e| format!("cannot run curl to download the template: {e}"))?;
            if !output.status.success() {
                return Err(format!("download failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
            }
            output.stdout
        }
    };
    let digest = sha256_hex(&bytes);
    if digest != sha256 {
        return Err(format!("content has sha256 {digest}, not the pinned {sha256}: refusing it"));
    }
    if let Some(parent) = cached.parent() {
        // The cache is an optimisation: failing to write it is not an error.
        let _ = std::fs::create_dir_all(parent).and_then(|()| std::fs::write(&cached, &bytes));
    }
    String::from_utf8(bytes).map_err(|_| "the template is not UTF-8".into())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn merge_into(
    into: &mut toml::Table,
    from: &toml::Table,
    prefix: &str,
    layer: usize,
    origins: &mut BTreeMap<String, Origin>,
) {
    for (key, value) in from {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(table)) => {
                merge_into(existing, table, &path, layer, origins);
            }
            _ => {
                // A replaced subtree forgets the origins of what it replaced.
                origins.retain(|k, _| !(k == &path || k.starts_with(&format!("{path}."))));
                into.insert(key.clone(), value.clone());
                record_origins(value, &path, layer, origins);
            }
        }
    }
}

fn record_origins(value: &toml::Value, path: &str, layer: usize, origins: &mut BTreeMap<String, Origin>) {
    match value {
        toml::Value::Table(table) if !table.is_empty() => {
            for (key, value) in table {
                record_origins(value, &format!("{path}.{key}"), layer, origins);
            }
        }
        _ => {
            origins.insert(path.to_owned(), Origin { layer, locked_by: None });
        }
    }
}

fn lookup<'t>(table: &'t toml::Table, dotted: &str) -> Option<&'t toml::Value> {
    let mut parts = dotted.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// A file below a template may not weaken a key the template locked.
fn check_locked(
    table: &toml::Table,
    key: &str,
    template: &toml::Table,
    layer: &Layer,
    owner: &Layer,
) -> Result<(), ConfigError> {
    let Some(local) = lookup(table, key) else { return Ok(()) };
    let theirs = lookup(template, key);
    let refuse = |why: String| ConfigError::Parse {
        path: PathBuf::from(&layer.name),
        message: format!("`{key}` is locked by {}: {why}", owner.describe()),
    };
    match (key, theirs, local) {
        (_, Some(theirs), local) if theirs == local => Ok(()),
        ("policy.profile", Some(toml::Value::String(theirs)), toml::Value::String(local)) => {
            let rank = |p: &str| PROFILES.iter().position(|x| *x == p);
            match (rank(theirs), rank(local)) {
                (Some(t), Some(l)) if l >= t => Ok(()),
                _ => Err(refuse(format!(
                    "the profile can only be made stricter than `{theirs}` here (not `{local}`); remove the line"
                ))),
            }
        }
        (_, Some(toml::Value::Array(theirs)), toml::Value::Array(local)) => {
            let extra: Vec<String> = local.iter().filter(|v| !theirs.contains(v)).map(ToString::to_string).collect();
            if extra.is_empty() {
                Ok(())
            } else {
                Err(refuse(format!(
                    "this list can only be narrowed here; {} not allowed by the template — remove them",
                    extra.join(", ")
                )))
            }
        }
        (_, Some(theirs), _) => {
            Err(refuse(format!("it cannot be changed here (the template sets {theirs}); remove it")))
        }
        (_, None, _) => Err(refuse("it cannot be set here; remove it".into())),
    }
}

/// A stage a template requires cannot be disabled, replaced by a command, or left out of
/// `[run] stages` below it.
fn check_required(table: &toml::Table, stage: &str, layer: &Layer, owner: &Layer) -> Result<(), ConfigError> {
    let refuse = |why: &str| ConfigError::Parse {
        path: PathBuf::from(&layer.name),
        message: format!("stage `{stage}` is required by {}: {why}", owner.describe()),
    };
    if let Some(stage_table) = lookup(table, &format!("stages.{stage}")).and_then(toml::Value::as_table) {
        if stage_table.get("enabled") == Some(&toml::Value::Boolean(false)) {
            return Err(refuse("it cannot be disabled here; remove `enabled = false`"));
        }
        if stage_table.contains_key("command") {
            return Err(refuse("its `command` cannot be replaced here; remove `command`"));
        }
    }
    if let Some(toml::Value::Array(only)) = lookup(table, "run.stages") {
        if !only.iter().any(|s| s.as_str() == Some(stage)) {
            return Err(refuse("`[run] stages` must include it"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn merges_and_remembers_origins() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "org/base.toml", "[run]\nout_dir = \"out\"\n[stages.secrets]\nallow_paths = [\"a\"]\n");
        write(dir.path(), "org/team.toml", "extends = \"base.toml\"\n[stages.sast]\nenabled = false\n");
        let file = write(dir.path(), "repo/sluice.toml", "extends = \"../org/team.toml\"\n[run]\nout_dir = \"mine\"\n");
        let resolved = resolve(&file, LockMode::Use).unwrap();
        assert_eq!(resolved.layers.len(), 3);
        assert_eq!(lookup(&resolved.table, "run.out_dir").unwrap().as_str(), Some("mine"));
        assert_eq!(resolved.origins["run.out_dir"].layer, 0);
        assert_eq!(resolved.origins["stages.sast.enabled"].layer, 1);
        assert_eq!(resolved.origins["stages.secrets.allow_paths"].layer, 2);
        assert!(!resolved.wrote_lock, "local paths are not locked");
        assert!(!dir.path().join("repo/sluice.lock").exists());
    }

    #[test]
    fn locked_keys_can_only_be_tightened() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "base.toml",
            "[template]\nname = \"acme\"\nlocked = [\"policy.profile\", \"stages.container.allowed_registries\"]\n\
             [policy]\nprofile = \"velocity\"\n[stages.container]\nallowed_registries = [\"docker.io\", \"ghcr.io\"]\n",
        );
        let ok = write(
            dir.path(),
            "ok.toml",
            "extends = \"base.toml\"\n[policy]\nprofile = \"constrained\"\n[stages.container]\nallowed_registries = [\"ghcr.io\"]\n",
        );
        resolve(&ok, LockMode::Use).unwrap();
        let widen = write(
            dir.path(),
            "widen.toml",
            "extends = \"base.toml\"\n[stages.container]\nallowed_registries = [\"ghcr.io\", \"evil.example\"]\n",
        );
        let err = resolve(&widen, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("widen.toml") && err.contains("stages.container.allowed_registries"), "{err}");
        assert!(err.contains("template `acme`") && err.contains("evil.example"), "{err}");
        let weaker = write(dir.path(), "weak.toml", "extends = \"ok.toml\"\n[policy]\nprofile = \"velocity\"\n");
        // `ok.toml` set constrained but only `base.toml` locks: velocity is still allowed by base.
        resolve(&weaker, LockMode::Use).unwrap();
        let nonsense = write(dir.path(), "bad.toml", "extends = \"base.toml\"\n[policy]\nprofile = \"yolo\"\n");
        let err = resolve(&nonsense, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("policy.profile") && err.contains("yolo"), "{err}");
    }

    #[test]
    fn required_stages_cannot_be_dropped() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "base.toml", "[template]\nrequired_stages = [\"secrets\"]\n");
        for (name, text, needle) in [
            ("a.toml", "[stages.secrets]\nenabled = false\n", "enabled = false"),
            ("b.toml", "[stages.secrets]\ncommand = \"true\"\n", "command"),
            ("c.toml", "[run]\nstages = [\"sast\"]\n", "[run] stages"),
        ] {
            let file = write(dir.path(), name, &format!("extends = \"base.toml\"\n{text}"));
            let err = resolve(&file, LockMode::Use).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains("stage `secrets` is required") && err.contains(needle), "{err}");
        }
        let fine = write(dir.path(), "d.toml", "extends = \"base.toml\"\n[stages.secrets]\nallow_paths = [\"x\"]\n");
        let resolved = resolve(&fine, LockMode::Use).unwrap();
        assert_eq!(resolved.origins["stages.secrets.allow_paths"].locked_by, Some(1));
    }

    #[test]
    fn cycles_and_bad_sources_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.toml", "extends = \"b.toml\"\n");
        let b = write(dir.path(), "b.toml", "extends = \"a.toml\"\n");
        let err = resolve(&b, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
        let c = write(dir.path(), "c.toml", "extends = { git = \"https://example.org/t.git\" }\n");
        let err = resolve(&c, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("c.toml") && err.contains("needs `rev`"), "{err}");
        let d = write(dir.path(), "d.toml", "extends = { url = \"http://example.org/t.toml\", sha256 = \"00\" }\n");
        let err = resolve(&d, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("64 hex"), "{err}");
        let e = write(dir.path(), "e.toml", "extends = \"missing.toml\"\n");
        let err = resolve(&e, LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("e.toml") && err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn url_templates_are_pinned_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("SLUICE_CACHE_DIR", dir.path().join("cache"));
        let text = "[run]\nout_dir = \"from-url\"\n";
        let template = write(dir.path(), "t.toml", text);
        let url = format!("file://{}", template.display());
        let good = sha256_hex(text.as_bytes());
        let file =
            write(dir.path(), "repo/sluice.toml", &format!("extends = {{ url = \"{url}\", sha256 = \"{good}\" }}\n"));
        let resolved = resolve(&file, LockMode::Use).unwrap();
        assert!(resolved.wrote_lock);
        assert_eq!(lookup(&resolved.table, "run.out_dir").unwrap().as_str(), Some("from-url"));
        let lock = std::fs::read_to_string(dir.path().join("repo/sluice.lock")).unwrap();
        assert!(lock.contains(&good), "{lock}");
        let bad = "0".repeat(64);
        write(dir.path(), "repo2/sluice.toml", &format!("extends = {{ url = \"{url}\", sha256 = \"{bad}\" }}\n"));
        let err = resolve(&dir.path().join("repo2/sluice.toml"), LockMode::Use).unwrap_err().to_string();
        assert!(err.contains("not the pinned"), "{err}");
    }
}
