//! Git history, read with gix: commits (parents, author and committer times), tags, and
//! which commits touch a monorepo service path. Only what the metrics need is kept: about 40
//! bytes per commit, so 100,000 commits fit in a few MiB.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gix::ObjectId;

use crate::error::{MetricsError, Result};

/// A repository opened for reading.
pub struct Repo {
    repo: gix::Repository,
    path: PathBuf,
}

/// A tag peeled to its commit, with the tag's date: the tagger's time for an annotated tag,
/// else the commit's committer time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: String,
    pub at: i64,
}

/// The commits reachable from some tips, indexed densely.
#[derive(Debug, Default)]
pub struct History {
    ids: Vec<ObjectId>,
    index: HashMap<ObjectId, u32>,
    /// Parents of commit `i` are `parent_list[parent_start[i]..parent_start[i + 1]]`.
    parent_start: Vec<u32>,
    parent_list: Vec<u32>,
    pub author: Vec<i64>,
    pub committer: Vec<i64>,
    /// Parents named by a commit but absent (a shallow clone): such commits are roots here.
    pub missing_parents: usize,
    /// With a service path: whether each commit changed something under it.
    pub touches: Option<Vec<bool>>,
}

impl History {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn find(&self, hex: &str) -> Option<u32> {
        let id = ObjectId::from_hex(hex.as_bytes()).ok()?;
        self.index.get(&id).copied()
    }

    pub fn id(&self, i: u32) -> String {
        self.ids[i as usize].to_string()
    }

    pub fn parents(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.parent_list[self.parent_start[i] as usize..self.parent_start[i + 1] as usize]
    }

    /// A commit counts as a change unless it is a merge: a merge's content is its branch's
    /// commits, which are counted themselves.
    pub fn is_merge(&self, i: u32) -> bool {
        self.parents(i).len() > 1
    }

    pub fn touches(&self, i: u32) -> bool {
        self.touches.as_ref().is_none_or(|t| t[i as usize])
    }
}

impl Repo {
    /// Opens the repository that holds `dir`.
    pub fn discover(dir: &Path) -> Result<Repo> {
        let repo = gix::discover(dir).map_err(|e| MetricsError::Git {
            path: dir.to_owned(),
            message: format!("{e} (run sluice inside a git repository, or pass --repo)"),
        })?;
        let mut repo = repo;
        repo.object_cache_size_if_unset(16 * 1024 * 1024);
        Ok(Repo { repo, path: dir.to_owned() })
    }

    fn err(&self, message: impl std::fmt::Display) -> MetricsError {
        MetricsError::Git { path: self.path.clone(), message: message.to_string() }
    }

    /// The full id of the commit a revision (full or abbreviated id, tag, branch) names, or
    /// `None` when the repository has no such commit.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        let id = self.repo.rev_parse_single(rev).ok()?;
        let commit = id.object().ok()?.peel_to_commit().ok()?;
        Some(commit.id.to_string())
    }

    pub fn head(&self) -> Option<String> {
        self.repo.head_id().ok().map(|id| id.to_string())
    }

    /// Tags whose short name matches `pattern` (a glob such as `v*`), sorted by date then name.
    pub fn tags(&self, pattern: &globset::GlobMatcher) -> Result<Vec<Tag>> {
        let refs = self.repo.references().map_err(|e| self.err(e))?;
        let mut tags = Vec::new();
        for reference in refs.tags().map_err(|e| self.err(e))? {
            let mut reference = reference.map_err(|e| self.err(e))?;
            let name = reference.name().shorten().to_string();
            if !pattern.is_match(&name) {
                continue;
            }
            let tagger_time = reference
                .try_id()
                .and_then(|id| id.object().ok())
                .and_then(|o| o.try_into_tag().ok())
                .and_then(|t| t.tagger().ok().flatten().and_then(|s| s.time().ok()).map(|t| t.seconds));
            // A tag of a tree or blob is no deployment of code: skip it.
            let Ok(commit) = reference.peel_to_commit() else { continue };
            let at = match tagger_time {
                Some(at) => at,
                None => commit.committer().ok().and_then(|s| s.time().ok()).map_or(0, |t| t.seconds),
            };
            tags.push(Tag { name, commit: commit.id.to_string(), at });
        }
        tags.sort_by(|a, b| (a.at, &a.name).cmp(&(b.at, &b.name)));
        Ok(tags)
    }

    /// Every commit reachable from `tips` (full ids that exist), with `path` (a directory
    /// relative to the repository root) marking which commits change it.
    pub fn history(&self, tips: &[String], path: Option<&str>) -> Result<History> {
        let mut h = History::default();
        let mut parent_ids: Vec<Vec<ObjectId>> = Vec::new();
        let mut subtree: Vec<Option<ObjectId>> = Vec::new();
        let mut stack: Vec<ObjectId> = Vec::new();
        for tip in tips {
            if let Ok(id) = ObjectId::from_hex(tip.as_bytes()) {
                stack.push(id);
            }
        }
        let path = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty() && *p != ".");
        while let Some(id) = stack.pop() {
            if h.index.contains_key(&id) {
                continue;
            }
            // A parent absent from the object database (a shallow clone) is counted below.
            let Ok(commit) = self.repo.find_commit(id) else { continue };
            let decoded = commit.decode().map_err(|e| self.err(format!("commit {id}: {e}")))?;
            let time = |s: Result<gix::actor::SignatureRef<'_>, _>| {
                s.ok().and_then(|s| s.time().ok()).map_or(0, |t| t.seconds)
            };
            let author = time(decoded.author());
            let committer = time(decoded.committer());
            let parents: Vec<ObjectId> = decoded.parents().collect();
            if let Some(p) = path {
                let tree = commit.tree().map_err(|e| self.err(format!("commit {id}: {e}")))?;
                let entry = tree.lookup_entry_by_path(p).map_err(|e| self.err(format!("commit {id}: {e}")))?;
                subtree.push(entry.map(|e| e.object_id()));
            }
            h.index.insert(id, h.ids.len() as u32);
            h.ids.push(id);
            h.author.push(author);
            h.committer.push(committer);
            stack.extend(parents.iter().rev().copied());
            parent_ids.push(parents);
        }
        h.parent_start.push(0);
        for parents in &parent_ids {
            for p in parents {
                match h.index.get(p) {
                    Some(&pi) => h.parent_list.push(pi),
                    None => h.missing_parents += 1,
                }
            }
            h.parent_start.push(h.parent_list.len() as u32);
        }
        if path.is_some() {
            let touches = (0..h.ids.len() as u32)
                .map(|i| match h.parents(i).first() {
                    Some(&p) => subtree[i as usize] != subtree[p as usize],
                    None => subtree[i as usize].is_some(),
                })
                .collect();
            h.touches = Some(touches);
        }
        Ok(h)
    }
}

impl Repo {
    /// The working tree's root (the repository directory for a bare repository).
    pub fn root(&self) -> PathBuf {
        self.repo.workdir().map_or_else(|| self.repo.git_dir().to_owned(), Path::to_path_buf)
    }
}
