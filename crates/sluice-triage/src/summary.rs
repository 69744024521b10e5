//! The `sluice-triage` run: what applying decisions and a baseline found, for people (stale
//! and expired decisions as notifications pointing at the decisions file) and for reports
//! (counts in the run's properties).

use serde_json::{json, Map, Value};
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::apply::{artifact_location, TriageOutcome, TRIAGE_TOOL};
use crate::baseline::BaselineOutcome;
use crate::decisions::Decisions;

/// Fixed findings listed one by one in the run's properties; the count is always exact.
const MAX_FIXED_LISTED: usize = 1000;

pub struct Summary<'a> {
    pub decisions: Option<(&'a Decisions, &'a TriageOutcome)>,
    /// The decisions file's URI relative to `%SRCROOT%`.
    pub decisions_uri: &'a str,
    pub baseline: Option<&'a BaselineOutcome>,
    /// Other warnings to record (a baseline commit git does not know, …).
    pub warnings: &'a [String],
    pub version: &'a str,
}

/// Notification descriptors: id, what it says, what to do.
const DESCRIPTORS: &[(&str, &str, &str)] = &[
    (
        "stale-decision",
        "A decision that matches no finding: the finding was fixed or its code changed.",
        "Remove the decision (`sluice triage prune --sarif results.sarif`), or mark the finding again if its code changed.",
    ),
    (
        "expired-decision",
        "A decision past its `expires` date: it no longer applies and its findings are shown again.",
        "Decide again with a new reason and expiry date (`sluice triage mark`), or remove the decision.",
    ),
    (
        "followed-rename",
        "A decision that followed its finding to a file git saw renamed.",
        "Nothing to do; mark the finding again to record its new path and fingerprint.",
    ),
    (
        "triage-warning",
        "Something that limited what triage could do, such as a baseline commit missing from a shallow clone.",
        "Follow the advice in the message.",
    ),
];

fn notification(id: &str, level: &str, text: String, location: Option<Value>) -> Value {
    let mut n = json!({ "descriptor": { "id": id }, "level": level, "message": { "text": text } });
    if let Some(l) = location {
        n["locations"] = json!([l]);
    }
    n
}

/// Builds the triage run. It has no results; everything is in its invocation's notifications
/// and the run's properties.
pub fn triage_run(s: &Summary<'_>) -> Run {
    let mut props = Map::new();
    let mut notes = Vec::new();
    if let Some((decisions, outcome)) = s.decisions {
        props.insert(keys::DECISIONS.into(), json!(decisions.items.len()));
        props.insert(keys::SUPPRESSED.into(), json!(outcome.suppressed));
        props.insert(keys::CONFIRMED.into(), json!(outcome.confirmed));
        props.insert(keys::STALE.into(), json!(outcome.stale.len()));
        props.insert(keys::EXPIRED.into(), json!(outcome.expired.len()));
        for &i in &outcome.stale {
            let d = &decisions.items[i];
            notes.push(notification(
                "stale-decision",
                "warning",
                format!(
                    "{}:{}: the decision for {} matches no finding: the finding was fixed or its code changed; remove the decision (`sluice triage prune`) or mark the finding again",
                    decisions.origin,
                    d.line,
                    d.describe()
                ),
                Some(artifact_location(s.decisions_uri, d.line)),
            ));
        }
        for &(i, would) in &outcome.expired {
            let d = &decisions.items[i];
            let expires = d.expires.map(|e| e.to_string()).unwrap_or_default();
            notes.push(notification(
                "expired-decision",
                "warning",
                format!(
                    "{}:{}: the decision for {} expired on {expires} and no longer applies ({would} finding{} shown again); decide again with a new reason and date, or remove it",
                    decisions.origin,
                    d.line,
                    d.describe(),
                    if would == 1 { " is" } else { "s are" },
                ),
                Some(artifact_location(s.decisions_uri, d.line)),
            ));
        }
        for f in &outcome.followed {
            let d = &decisions.items[f.decision];
            notes.push(notification(
                "followed-rename",
                "note",
                format!(
                    "{}:{}: the decision followed its finding from {} to {} (renamed); update its `path` when convenient",
                    decisions.origin, d.line, f.from, f.to
                ),
                Some(artifact_location(s.decisions_uri, d.line)),
            ));
        }
    }
    if let Some(b) = s.baseline {
        props.insert(keys::NEW.into(), json!(b.new));
        props.insert(keys::UNCHANGED.into(), json!(b.unchanged));
        props.insert(keys::UPDATED.into(), json!(b.updated));
        props.insert(keys::FIXED.into(), json!(b.fixed.len()));
        if let Some(c) = &b.commit {
            props.insert(keys::BASELINE_COMMIT.into(), json!(c));
        }
        let listed: Vec<Value> = b
            .fixed
            .iter()
            .take(MAX_FIXED_LISTED)
            .map(|f| {
                let mut v = json!({ "stage": f.stage, "ruleId": f.rule });
                if let Some(p) = &f.path {
                    v["path"] = json!(p);
                }
                if let Some(l) = f.line {
                    v["line"] = json!(l);
                }
                if let Some(fp) = &f.fingerprint {
                    v["fingerprint"] = json!(fp);
                }
                v
            })
            .collect();
        props.insert(keys::FIXED_FINDINGS.into(), Value::Array(listed));
    }
    for w in s.warnings {
        notes.push(notification("triage-warning", "warning", w.clone(), None));
    }
    let descriptors: Vec<Value> = DESCRIPTORS
        .iter()
        .map(|(id, text, help)| {
            json!({
                "id": id,
                "shortDescription": { "text": text },
                "fullDescription": { "text": text },
                "help": { "text": help },
            })
        })
        .collect();
    let run = json!({
        "tool": { "driver": {
            "name": TRIAGE_TOOL,
            "version": s.version,
            "semanticVersion": s.version,
            "informationUri": "https://github.com/sluice-sec/sluice/blob/main/docs/triage.md",
            "rules": [],
            "notifications": descriptors,
        } },
        "automationDetails": { "id": keys::TRIAGE_CATEGORY },
        "invocations": [{ "executionSuccessful": true, "toolConfigurationNotifications": notes }],
        "results": [],
        "properties": props,
    });
    // Built from SARIF-shaped JSON above; a failure would be a bug in this function.
    serde_json::from_value(run).unwrap_or_else(|_| sluice_sarif::empty_run(TRIAGE_TOOL))
}
