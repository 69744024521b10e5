//! Scores for `security-severity`: CVSS v3.x and v4.0 base scores computed from the vector
//! (the RustSec `cvss` crate), else the database's word (GHSA's `severity: HIGH`).

use crate::model::{Advisory, SeverityEntry};

/// A 0.0–10.0 score and who gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub value: f64,
    /// The database that rated it (`GHSA`, `NVD`, `RustSec`, `PyPA`, `Debian`…).
    pub source: String,
    /// The CVSS vector, or the qualitative word.
    pub basis: String,
}

/// The base score of a CVSS v3.x or v4.0 vector; `None` for anything else (v2 is not scored).
pub fn cvss_score(vector: &str) -> Option<f64> {
    let parsed: cvss::Cvss = vector.trim().parse().ok()?;
    let score = parsed.score();
    (0.0..=10.0).contains(&score).then_some(score)
}

/// What a word means on GitHub's scale: the low end of its band, so a rating never claims
/// more than the database said (critical 9.0, high 7.0, moderate/medium 4.0, low 0.1 → 1.0).
fn qualitative_score(word: &str) -> Option<f64> {
    match word.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(9.0),
        "HIGH" => Some(7.0),
        "MODERATE" | "MEDIUM" => Some(4.0),
        "LOW" => Some(1.0),
        _ => None,
    }
}

fn entry_score(entry: &SeverityEntry) -> Option<(u8, f64)> {
    // Preference: v3 (what GitHub's security-severity is defined on), v4, then a word.
    match entry.kind.as_str() {
        "CVSS_V3" => cvss_score(&entry.value).map(|s| (0, s)),
        "CVSS_V4" => cvss_score(&entry.value).map(|s| (1, s)),
        "QUALITATIVE" => qualitative_score(&entry.value).map(|s| (2, s)),
        _ => None,
    }
}

/// The advisory's own score: its best-preferred severity entry, record level first, then the
/// entries of the affected package named `package`.
pub fn advisory_score(advisory: &Advisory, affected_severity: &[SeverityEntry]) -> Option<Score> {
    advisory
        .severity
        .iter()
        .chain(affected_severity)
        .filter_map(|e| entry_score(e).map(|(pref, s)| (pref, s, e)))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.total_cmp(&a.1)))
        .map(|(_, value, e)| Score {
            value: (value * 10.0).round() / 10.0,
            source: advisory.source.clone(),
            basis: e.value.clone(),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nvd_cvss_examples() {
        // NVD's calculator: CVE-2021-44228 (log4shell) 10.0, CVE-2014-0160 (heartbleed) 7.5,
        // CVE-2021-25900 (smallvec) 9.8.
        assert_eq!(cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), Some(10.0));
        assert_eq!(cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), Some(7.5));
        assert_eq!(cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(9.8));
        // By the v3.1 formula: 8.22·0.55·0.44·0.62·0.62 + 6.42·0.22 = 2.177 → 2.2.
        assert_eq!(cvss_score("CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N"), Some(2.2));
        // FIRST's CVSS v4.0 examples: all high, no subsequent impact → 9.3.
        assert_eq!(cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"), Some(9.3));
        assert_eq!(cvss_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
        assert_eq!(cvss_score("garbage"), None);
    }

    #[test]
    fn prefers_v3_then_v4_then_words() {
        let mut a = crate::model::Advisory {
            id: "GHSA-x".into(),
            aliases: vec![],
            summary: String::new(),
            details: String::new(),
            published: None,
            modified: None,
            withdrawn: None,
            kind: crate::model::Kind::Vulnerability,
            severity: vec![SeverityEntry { kind: "QUALITATIVE".into(), value: "HIGH".into() }],
            source: "GHSA".into(),
            affected: vec![],
            references: vec![],
            cwes: vec![],
        };
        assert_eq!(advisory_score(&a, &[]).unwrap().value, 7.0);
        a.severity.push(SeverityEntry {
            kind: "CVSS_V3".into(),
            value: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into(),
        });
        let s = advisory_score(&a, &[]).unwrap();
        assert_eq!((s.value, s.source.as_str()), (7.5, "GHSA"));
        assert!(advisory_score(&crate::model::Advisory { severity: vec![], ..a }, &[]).is_none());
    }
}
