//! One flaw, one finding: a credential the secrets stage reports is not reported again by
//! another stage's hard-coded-credential rule on the same span (SAST's
//! `python.hardcoded-password` on the line of an AWS secret key). The secrets stage's result is
//! the one kept: it knows the provider, redacts the value and fingerprints it by its digest.

use std::collections::HashMap;

use crate::sarif::{Result as SarifResult, Sarif};
use crate::{artifact_path, is_credential, primary_region, rule_for, stage_of};

/// path → line → the secrets' column spans on it (`None`: the whole line).
type SecretLines = HashMap<String, HashMap<i64, Vec<Option<(i64, i64)>>>>;

/// Removes, from the runs of every stage but `secrets`, the results about a credential
/// ([`is_credential`]) whose region overlaps a secrets result's: on a line the secret is on,
/// and across its columns when both say them. Returns how many were removed. A log without a
/// secrets run is left as it is: the other stages' findings are then the only ones.
pub fn one_finding_per_credential(log: &mut Sarif) -> usize {
    let mut secrets = SecretLines::new();
    for run in log.runs.iter().filter(|r| stage_of(r) == "secrets") {
        for result in run.results.iter().flatten() {
            let (Some(path), Some(region)) = (artifact_path(result), primary_region(result)) else { continue };
            let Some(line) = region.start_line else { continue };
            let columns = region.start_column.zip(region.end_column);
            secrets.entry(path).or_default().entry(line).or_default().push(columns);
        }
    }
    if secrets.is_empty() {
        return 0;
    }
    let mut removed = 0;
    for run in log.runs.iter_mut().filter(|r| stage_of(r) != "secrets") {
        let Some(mut results) = run.results.take() else { continue };
        let tool = run.tool.driver.name.clone();
        let before = results.len();
        results.retain(|r| !(is_credential(&tool, r, rule_for(r, run)) && overlaps_secret(r, &secrets)));
        removed += before - results.len();
        run.results = Some(results);
    }
    removed
}

fn overlaps_secret(result: &SarifResult, secrets: &SecretLines) -> bool {
    let (Some(path), Some(region)) = (artifact_path(result), primary_region(result)) else { return false };
    let Some(start) = region.start_line else { return false };
    let end = region.end_line.unwrap_or(start).max(start);
    // A region of a few lines at most: a rule that flags a whole file is not "the same span".
    if end - start > 20 {
        return false;
    }
    let Some(lines) = secrets.get(&path) else { return false };
    (start..=end).any(|line| {
        lines.get(&line).is_some_and(|spans| {
            spans.iter().any(|span| match (span, region.start_column, region.end_column) {
                // Columns on both sides, on a one-line region: they must overlap.
                (Some((s, e)), Some(rs), Some(re)) if start == end => rs < *e && *s < re,
                _ => true,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(json: serde_json::Value) -> Sarif {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn result(rule: &str, line: i64, cols: (i64, i64), cwe: Option<&str>) -> serde_json::Value {
        let mut r = serde_json::json!({
            "ruleId": rule, "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "settings.py"},
                "region": {"startLine": line, "startColumn": cols.0, "endColumn": cols.1}}}]
        });
        if let Some(cwe) = cwe {
            r["properties"] = serde_json::json!({"sluice/cwe": [cwe]});
        }
        r
    }

    #[test]
    fn the_secrets_finding_is_kept_and_the_same_span_elsewhere_is_dropped() {
        let mut l = log(serde_json::json!({"version": "2.1.0", "runs": [
            {"tool": {"driver": {"name": "sluice-secrets"}}, "automationDetails": {"id": "sluice/secrets/"},
             "results": [result("aws-secret-access-key", 3, (26, 66), None)]},
            {"tool": {"driver": {"name": "sluice-sast"}}, "automationDetails": {"id": "sluice/sast/"},
             "results": [
                result("python.hardcoded-password", 3, (1, 67), Some("CWE-798")),
                // Same line, columns apart: another flaw.
                result("python.hardcoded-password", 3, (68, 90), Some("CWE-798")),
                // Not about a credential.
                result("python.eval-injection", 3, (1, 67), Some("CWE-95")),
                // Another line.
                result("python.hardcoded-password", 4, (1, 34), Some("CWE-798")),
             ]}
        ]}));
        assert_eq!(one_finding_per_credential(&mut l), 1);
        let kept: Vec<(String, i64)> = l.runs[1]
            .results
            .iter()
            .flatten()
            .map(|r| {
                (r.rule_id.clone().unwrap_or_default(), primary_region(r).and_then(|g| g.start_column).unwrap_or(0))
            })
            .collect();
        assert_eq!(
            kept,
            [
                ("python.hardcoded-password".to_owned(), 68),
                ("python.eval-injection".to_owned(), 1),
                ("python.hardcoded-password".to_owned(), 1)
            ]
        );
        assert_eq!(l.runs[0].results.as_ref().map(Vec::len), Some(1), "the secret stays");
    }

    #[test]
    fn without_a_secrets_run_nothing_changes() {
        let mut l = log(serde_json::json!({"version": "2.1.0", "runs": [
            {"tool": {"driver": {"name": "sluice-sast"}}, "automationDetails": {"id": "sluice/sast/"},
             "results": [result("python.hardcoded-password", 3, (1, 67), Some("CWE-798"))]}
        ]}));
        assert_eq!(one_finding_per_credential(&mut l), 0);
        assert_eq!(l.runs[0].results.as_ref().map(Vec::len), Some(1));
    }
}
