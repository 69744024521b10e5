//! Re-deriving a `sluice/v1` fingerprint for another path, so an identity survives a rename.
//!
//! The fingerprint is `SHA-256(rule ‖ 0 ‖ path ‖ 0 ‖ SHA-256(content) ‖ 0)[..16]` plus
//! `:occurrence` (docs/stage-contract.md). The content is not in the log, so the candidates a
//! stage or normalization may have hashed are tried (the region's lines, its exact text by
//! columns, the snippet, the message) and one is trusted only when it reproduces the result's
//! fingerprint at its current path; then it gives the fingerprint at the old path. A match
//! that cannot be verified this way is not made: it must not suppress anything. (The secrets
//! stage's identity is the secret's hash and its region is the secret, so the "exact text"
//! candidate reproduces it: the secret is hashed in memory, as the stage did, never kept.)

use std::path::Path;

use sha2::{Digest, Sha256};
use sluice_sarif::sarif::Result as SarifResult;
use sluice_sarif::{artifact_path, content_hash, keys, normalize_content, primary_region, SourceFiles};

/// Lines of a region that normalization hashes (sluice-sarif's `MAX_FINGERPRINT_LINES`).
const MAX_FINGERPRINT_LINES: usize = 30;

pub(crate) fn base_fingerprint(rule: &str, path: &str, content_hash: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule, path, content_hash] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Source files read from the repository root, each once, and only inside it (sluice-sarif's
/// guarded reader: no file outside the root after symlinks).
pub(crate) struct Sources<'a> {
    files: SourceFiles<'a>,
}

impl<'a> Sources<'a> {
    pub(crate) fn new(root: Option<&'a Path>) -> Sources<'a> {
        Sources { files: SourceFiles::new(root) }
    }

    fn lines(&mut self, rel: &str) -> Option<&[String]> {
        self.files.lines(rel)
    }

    /// What a fingerprint may have been computed from, most likely first: the region's lines
    /// (normalization reading the file), the region's exact text by columns (stages that hash
    /// the matched code, such as SAST), the snippet, the message.
    fn candidates(&mut self, result: &SarifResult, path: &str) -> Vec<String> {
        let mut out = Vec::with_capacity(4);
        let region = primary_region(result);
        if let (false, Some(region)) = (path.is_empty(), region) {
            if let Some(start) = region.start_line.filter(|&l| l >= 1) {
                let end = region.end_line.unwrap_or(start).max(start);
                if let Some(lines) = self.lines(path) {
                    let first = usize::try_from(start - 1).unwrap_or(usize::MAX);
                    let last = usize::try_from(end).unwrap_or(usize::MAX).min(first + MAX_FINGERPRINT_LINES);
                    if first < lines.len() {
                        let span = &lines[first..last.min(lines.len())];
                        out.push(span.join("\n"));
                        let whole = usize::try_from(end - start + 1).is_ok_and(|n| n <= span.len());
                        if let Some(exact) = by_columns(span, region.start_column, region.end_column, whole) {
                            out.push(exact);
                        }
                    }
                }
            }
        }
        if let Some(snippet) = region.and_then(|r| r.snippet.as_ref()).and_then(|s| s.text.as_deref()) {
            out.push(snippet.to_owned());
        }
        out.push(result.message.text.clone().unwrap_or_default());
        out
    }
}

/// The text between 1-based character columns: from `start` on the first line to before `end`
/// on the last (SARIF's exclusive end column). When the span was cut short (`whole` false), its
/// last line is kept whole, as stages cut matched code by lines.
fn by_columns(span: &[String], start: Option<i64>, end: Option<i64>, whole: bool) -> Option<String> {
    let start = usize::try_from(start?).ok()?.checked_sub(1)?;
    let end = usize::try_from(end?).ok()?.checked_sub(1)?;
    let (first, rest) = span.split_first()?;
    if rest.is_empty() {
        return Some(if whole {
            first.chars().skip(start).take(end.saturating_sub(start)).collect()
        } else {
            first.chars().skip(start).collect()
        });
    }
    let mut text: String = first.chars().skip(start).collect();
    for (i, line) in rest.iter().enumerate() {
        text.push('\n');
        if whole && i + 1 == rest.len() {
            text.extend(line.chars().take(end));
        } else {
            text.push_str(line);
        }
    }
    Some(text)
}

/// The fingerprint the result would have had at `old_path`, or `None` when no content at hand
/// reproduces its current fingerprint.
pub(crate) fn fingerprint_at(result: &SarifResult, old_path: &str, sources: &mut Sources<'_>) -> Option<String> {
    let current = result.partial_fingerprints.as_ref()?.get(keys::FINGERPRINT)?;
    let (base, occurrence) = current.split_once(':')?;
    let path = artifact_path(result)?;
    let rule = result.rule_id.as_deref().unwrap_or_default();
    let hash = sources
        .candidates(result, &path)
        .iter()
        .map(|c| content_hash(&normalize_content(c)))
        .find(|h| base_fingerprint(rule, &path, h) == base)?;
    Some(format!("{}:{occurrence}", base_fingerprint(rule, old_path, &hash)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_sarif::{normalize_run, read_log, NormalizeOptions};

    #[test]
    fn reproduces_normalization_and_moves_to_the_old_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("new")).unwrap();
        std::fs::write(root.join("new/app.py"), "import os\n\nos.system(cmd)  \n").unwrap();
        let text = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[
            {"ruleId":"B605","message":{"text":"shell"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"new/app.py"},"region":{"startLine":3}}}]}]}]}"#;
        let mut log = read_log(text.as_bytes(), "t").unwrap();
        normalize_run(&mut log.runs[0], &NormalizeOptions { stage: "t", root, base: root, read_files: true });
        let result = &log.runs[0].results.as_ref().unwrap()[0];
        let mut sources = Sources::new(Some(root));
        let at_new = fingerprint_at(result, "new/app.py", &mut sources).unwrap();
        assert_eq!(&at_new, result.partial_fingerprints.as_ref().unwrap().get(keys::FINGERPRINT).unwrap());

        // The same code at the old path has the fingerprint the re-derivation predicts.
        std::fs::create_dir_all(root.join("old")).unwrap();
        std::fs::write(root.join("old/app.py"), "import os\nos.system( cmd )\n").unwrap();
        let old = text.replace("new/app.py", "old/app.py").replace("\"startLine\":3", "\"startLine\":2");
        let mut old_log = read_log(old.as_bytes(), "t").unwrap();
        normalize_run(&mut old_log.runs[0], &NormalizeOptions { stage: "t", root, base: root, read_files: true });
        let old_fp = old_log.runs[0].results.as_ref().unwrap()[0].partial_fingerprints.as_ref().unwrap()
            [keys::FINGERPRINT]
            .clone();
        assert_eq!(fingerprint_at(result, "old/app.py", &mut sources).unwrap(), old_fp);

        // A fingerprint sluice did not compute from this content is not re-derived.
        let mut foreign = result.clone();
        foreign.partial_fingerprints.as_mut().unwrap().insert(keys::FINGERPRINT.into(), "0".repeat(32) + ":1");
        assert_eq!(fingerprint_at(&foreign, "old/app.py", &mut sources), None);
    }

    #[test]
    fn region_text_by_columns() {
        let span: Vec<String> =
            ["    x = eval(a) + 1", "  more(b)", "  end(c) # tail"].iter().map(|s| s.to_string()).collect();
        assert_eq!(by_columns(&span[..1], Some(9), Some(16), true).as_deref(), Some("eval(a)"));
        assert_eq!(by_columns(&span, Some(9), Some(9), true).as_deref(), Some("eval(a) + 1\n  more(b)\n  end(c)"));
        assert_eq!(by_columns(&span[..2], Some(9), Some(9), false).as_deref(), Some("eval(a) + 1\n  more(b)"));
        assert_eq!(by_columns(&span, None, Some(9), true), None);
    }
}
