//! Renames between two trees, as git detects them, so identities follow moved files.

use std::collections::HashMap;

/// Original path → current path for files renamed since a commit (both repository-relative).
///
/// Built from git's own rename detection, one commit at a time when the history is known: a
/// file renamed in one commit and reformatted in another is still followed, where comparing the
/// two ends directly would see too little similarity. Chains compose (`a → b → c` is `a → c`).
#[derive(Debug, Clone, Default)]
pub struct RenameMap {
    forward: HashMap<String, String>,
    backward: HashMap<String, String>,
}

impl RenameMap {
    pub fn new() -> RenameMap {
        RenameMap::default()
    }

    /// Records one rename on top of those already known.
    pub fn insert(&mut self, old: &str, new: &str) {
        self.step(&[(old.to_owned(), new.to_owned())]);
    }

    /// The renames of one commit, which happen at once (`a → b` with `b → a` is a swap).
    fn step(&mut self, renames: &[(String, String)]) {
        let resolved: Vec<(String, String)> = renames
            .iter()
            .map(|(old, new)| (self.backward.get(old).cloned().unwrap_or_else(|| old.clone()), new.clone()))
            .collect();
        for (old, _) in renames {
            self.backward.remove(old);
        }
        for (orig, new) in resolved {
            if orig == new {
                self.forward.remove(&orig);
            } else {
                self.forward.insert(orig.clone(), new.clone());
                self.backward.insert(new, orig);
            }
        }
    }

    /// Parses `git diff --find-renames --name-status -z` output: `R<score>\0old\0new\0` for
    /// renames, `<status>\0path\0` for the rest (ignored), `C<score>\0old\0new\0` for copies
    /// (ignored: the original is still there). Applied as one step on top of this map.
    pub fn add_diff(&mut self, output: &[u8]) {
        self.step(&renames_in(output.split(|&b| b == 0)));
    }

    /// A map from one `git diff --find-renames --name-status -z` output.
    pub fn from_name_status(output: &[u8]) -> RenameMap {
        let mut map = RenameMap::new();
        map.add_diff(output);
        map
    }

    /// Parses `git log --reverse --find-renames --name-status -z --format=%x01%H` output: each
    /// commit's renames, oldest first, composed.
    pub fn from_log(output: &[u8]) -> RenameMap {
        let mut map = RenameMap::new();
        for commit in output.split(|&b| b == 1).filter(|c| !c.is_empty()) {
            // The first field is the commit id; the changes follow.
            let fields = commit.split(|&b| b == 0).skip(1);
            map.step(&renames_in(fields));
        }
        map
    }

    /// Where a path of the old tree is now (itself when it was not renamed).
    pub fn map<'a>(&'a self, old: &'a str) -> &'a str {
        self.forward.get(old).map_or(old, String::as_str)
    }

    /// The old path of a renamed file.
    pub fn old_of(&self, new: &str) -> Option<&str> {
        self.backward.get(new).map(String::as_str)
    }

    pub fn renamed(&self, old: &str) -> Option<&str> {
        self.forward.get(old).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.forward.len()
    }

    pub fn is_empty(&self) -> bool {
        self.forward.is_empty()
    }
}

fn renames_in<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Vec<(String, String)> {
    let mut fields = fields.map(|f| f.trim_ascii()).filter(|f| !f.is_empty());
    let mut out = Vec::new();
    while let Some(status) = fields.next() {
        let two_paths = matches!(status.first(), Some(b'R' | b'C'));
        let first = fields.next();
        let second = if two_paths { fields.next() } else { None };
        if status.first() == Some(&b'R') {
            if let (Some(old), Some(new)) = (first, second) {
                out.push((String::from_utf8_lossy(old).into_owned(), String::from_utf8_lossy(new).into_owned()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_name_status() {
        let out = b"M\0a.py\0R087\0old/b.py\0new/b.py\0D\0c.py\0C100\0d.py\0e.py\0A\0f.py\0";
        let map = RenameMap::from_name_status(out);
        assert_eq!(map.len(), 1);
        assert_eq!(map.map("old/b.py"), "new/b.py");
        assert_eq!(map.map("a.py"), "a.py");
        assert_eq!(map.old_of("new/b.py"), Some("old/b.py"));
        assert_eq!(map.old_of("e.py"), None);
    }

    #[test]
    fn composes_commits_in_order() {
        let log = b"\x01c1\0\nR100\0a.py\0b.py\0M\0x.py\0\x01c2\0\x01c3\0\nR090\0b.py\0src/c.py\0R100\0p.py\0q.py\0R100\0q0.py\0p.py\0";
        let map = RenameMap::from_log(log);
        assert_eq!(map.map("a.py"), "src/c.py");
        assert_eq!(map.old_of("src/c.py"), Some("a.py"));
        assert_eq!(map.old_of("b.py"), None);
        assert_eq!(map.map("p.py"), "q.py");
        assert_eq!(map.map("q0.py"), "p.py");
        let mut back = RenameMap::new();
        back.insert("a", "b");
        back.insert("b", "a");
        assert!(back.is_empty(), "renamed back: no rename");
    }
}
