//! Diff-aware scans at line granularity: which lines of which files a change touched, read
//! from a unified diff (`git diff -U0 <base>`), so findings can be kept only on those lines.

use std::collections::BTreeMap;

/// Changed line ranges per root-relative path (`/`-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedLines {
    files: BTreeMap<String, Vec<(u32, u32)>>,
}

impl ChangedLines {
    /// Reads the `+++ b/<path>` headers and `@@ -a,b +c,d @@` hunks of a unified diff. Lines
    /// only deleted leave nothing to report on; deleted files are absent.
    pub fn from_unified_diff(diff: &str) -> ChangedLines {
        let mut files: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in diff.lines() {
            if let Some(target) = line.strip_prefix("+++ ") {
                let target = unquote_git_path(target.trim_end());
                current = match target.strip_prefix("b/") {
                    Some(path) => Some(path.to_owned()),
                    None if target == "/dev/null" => None,
                    None => Some(target),
                };
                if let Some(path) = &current {
                    files.entry(path.clone()).or_default();
                }
            } else if let (Some(hunk), Some(path)) = (line.strip_prefix("@@ "), &current) {
                let Some(new) = hunk.split_whitespace().find_map(|w| w.strip_prefix('+')) else { continue };
                let (start, count) = match new.split_once(',') {
                    Some((s, c)) => (s.parse::<u32>().ok(), c.parse::<u32>().ok()),
                    None => (new.parse::<u32>().ok(), Some(1)),
                };
                if let (Some(start), Some(count)) = (start, count) {
                    if count > 0 {
                        files.entry(path.clone()).or_default().push((start, start + count - 1));
                    }
                }
            }
        }
        ChangedLines { files }
    }

    /// Marks every line of `path` as changed: a file git does not track yet is new as a whole.
    pub fn add_whole_file(&mut self, path: &str) {
        self.files.insert(path.to_owned(), vec![(1, u32::MAX)]);
    }

    /// The files the diff names (added or modified).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Whether lines `start..=end` of `path` overlap a change.
    pub fn touches(&self, path: &str, start: u32, end: u32) -> bool {
        self.files.get(path).is_some_and(|ranges| ranges.iter().any(|&(a, b)| a <= end && start <= b))
    }
}

/// git quotes paths with unusual bytes: `"b/sp\303\244ce"`.
fn unquote_git_path(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else { return text.to_owned() };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(u8::try_from(value).unwrap_or(b'?'));
            }
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_and_paths() {
        let diff = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -3,0 +4,2 @@ def f():\n+x\n+y\n@@ -10 +12 @@\n-a\n+b\n@@ -20,3 +22,0 @@\n-gone\ndiff --git a/old.py b/old.py\n--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n+++ \"b/sp\\303\\244ce.py\"\n@@ -0,0 +1 @@\n+z\n";
        let c = ChangedLines::from_unified_diff(diff);
        assert_eq!(c.paths().collect::<Vec<_>>(), ["app.py", "späce.py"]);
        assert!(c.touches("app.py", 4, 4) && c.touches("app.py", 5, 9) && c.touches("app.py", 12, 12));
        assert!(!c.touches("app.py", 6, 11) && !c.touches("app.py", 22, 22) && !c.touches("old.py", 1, 1));
        assert!(c.touches("späce.py", 1, 1));
    }
}
