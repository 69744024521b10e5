//! The gate's decision, its reasons, how they read on a terminal, and how they are recorded
//! in SARIF (a `sluice-gate` run, so the verdict travels with the results).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use sluice_report::escape::terminal;
use sluice_sarif::keys;
use sluice_sarif::sarif::Sarif;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// `allowed` or `denied`.
    pub decision: String,
    pub denials: Vec<Reason>,
    pub warnings: Vec<Reason>,
}

/// One message of a decision rule. Strings become `{msg}`; objects keep their fields: sluice
/// reads `msg`, `id`, `ssdf`, `findings` and `fix`, and keeps the rest as `details`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reason {
    /// The rule that produced it (`data.main.deny`).
    pub rule: String,
    pub id: Option<String>,
    pub msg: String,
    /// NIST SSDF (SP 800-218) tasks this rule evidences.
    pub ssdf: Vec<String>,
    /// The findings it concerns, as the policy listed them.
    pub findings: Vec<Json>,
    /// What would satisfy the rule.
    pub fix: Option<String>,
    pub details: Map<String, Json>,
}

impl Reason {
    pub(crate) fn from_json(rule: &str, item: Json) -> Result<Reason, String> {
        match item {
            Json::String(msg) => Ok(Reason {
                rule: rule.to_owned(),
                id: None,
                msg,
                ssdf: Vec::new(),
                findings: Vec::new(),
                fix: None,
                details: Map::new(),
            }),
            Json::Object(mut obj) => {
                let msg = match obj.remove("msg") {
                    Some(Json::String(s)) => s,
                    Some(other) => return Err(format!("a message whose `msg` is {other}, not a string")),
                    None => return Err(format!("an object without `msg`: {}", Json::Object(obj))),
                };
                let text = |v: Option<Json>| v.and_then(|v| v.as_str().map(str::to_owned));
                let id = text(obj.remove("id"));
                let fix = text(obj.remove("fix"));
                let mut ssdf: Vec<String> = match obj.remove("ssdf") {
                    Some(Json::Array(a)) => a.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                    Some(Json::String(s)) => vec![s],
                    _ => Vec::new(),
                };
                ssdf.sort();
                ssdf.dedup();
                let findings = match obj.remove("findings") {
                    Some(Json::Array(a)) => a,
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                Ok(Reason { rule: rule.to_owned(), id, msg, ssdf, findings, fix, details: obj })
            }
            other => Err(format!("a message that is {other}")),
        }
    }
}

impl Verdict {
    pub(crate) fn new(mut denials: Vec<Reason>, mut warnings: Vec<Reason>) -> Verdict {
        let key = |r: &Reason| (r.rule.clone(), r.id.clone(), r.msg.clone());
        denials.sort_by_key(key);
        warnings.sort_by_key(key);
        Verdict { decision: if denials.is_empty() { "allowed" } else { "denied" }.to_owned(), denials, warnings }
    }

    pub fn allowed(&self) -> bool {
        self.denials.is_empty()
    }

    /// The human report (stderr): each reason with the findings it concerns (at most
    /// `max_findings` each, then a count) and what would satisfy it.
    ///
    /// Messages and findings quote the log (rule ids, paths, a tool's failure), so every value is
    /// escaped for the terminal or CI log it goes to: one line each, no control sequence.
    pub fn render(&self, policy_name: &str, digest: &str, max_findings: usize) -> String {
        let mut out = String::new();
        for (label, reasons) in [("DENY", &self.denials), ("WARN", &self.warnings)] {
            for r in reasons {
                let id = r.id.as_deref().map(|i| format!("[{}] ", terminal(i))).unwrap_or_default();
                out.push_str(&format!("{label} {id}{}\n", terminal(&r.msg)));
                if !r.ssdf.is_empty() {
                    out.push_str(&format!("  ssdf: {}\n", terminal(&r.ssdf.join(", "))));
                }
                for f in r.findings.iter().take(max_findings) {
                    out.push_str(&format!("  - {}\n", terminal(&describe_finding(f))));
                }
                if r.findings.len() > max_findings {
                    out.push_str(&format!("  … and {} more\n", r.findings.len() - max_findings));
                }
                if let Some(fix) = &r.fix {
                    out.push_str(&format!("  fix: {}\n", terminal(fix)));
                }
            }
        }
        let (policy_name, digest) = (terminal(policy_name), terminal(digest));
        out.push_str(&format!(
            "gate: {} ({} denial{}, {} warning{}) by policy {policy_name} ({digest})\n",
            self.decision,
            self.denials.len(),
            if self.denials.len() == 1 { "" } else { "s" },
            self.warnings.len(),
            if self.warnings.len() == 1 { "" } else { "s" },
        ));
        out
    }
}

/// One line for a finding a policy listed: sluice's finding objects get a fixed layout,
/// anything else is shown as JSON.
fn describe_finding(f: &Json) -> String {
    let Some(obj) = f.as_object() else {
        return f.as_str().map_or_else(|| f.to_string(), str::to_owned);
    };
    let s = |k: &str| obj.get(k).and_then(Json::as_str);
    if s("rule").is_none() {
        return f.to_string();
    }
    let mut line = String::new();
    if let Some(sev) = s("severity") {
        line.push_str(sev);
        line.push(' ');
    }
    line.push_str(s("rule").unwrap_or_default());
    let location = obj.get("location").and_then(Json::as_object);
    if let Some(path) = location.and_then(|l| l.get("path")).and_then(Json::as_str) {
        line.push_str(&format!(" at {path}"));
        if let Some(n) = location.and_then(|l| l.get("line")).and_then(Json::as_u64) {
            line.push_str(&format!(":{n}"));
        }
    }
    if let Some(stage) = s("stage") {
        line.push_str(&format!(" ({stage})"));
    }
    if let Some(state) = s("baseline_state") {
        line.push_str(&format!(" [{state}]"));
    }
    if let Some(fp) = s("fingerprint") {
        line.push_str(&format!(" {fp}"));
    }
    line
}

/// What the gate knew when it decided: recorded with the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolicyRef {
    pub name: String,
    pub digest: String,
    pub files: Vec<String>,
}

/// The outcome to record: a verdict, or the error that stopped the policy (fail closed).
pub enum Outcome<'a> {
    Decided(&'a Verdict),
    Failed(&'a str),
}

/// Replaces any earlier gate run in `log` with one recording `outcome`: the verdict and its
/// reasons in the run's properties, each reason also as a notification (error for a denial,
/// warning for a warning), so SARIF viewers show them. A failed evaluation is an invocation
/// with `executionSuccessful: false`, as for any failed stage.
pub fn record(log: &mut Sarif, outcome: &Outcome<'_>, policy: &PolicyRef, version: &str) {
    log.runs.retain(|r| r.automation_details.as_ref().and_then(|d| d.id.as_deref()) != Some(keys::GATE_CATEGORY));
    let mut props = Map::new();
    let mut notes = Vec::new();
    // Notification descriptors, one per reason id (GitHub requires `rules`, empty here, and
    // descriptors with descriptions and help for what notifications reference).
    let mut descriptors: std::collections::BTreeMap<String, Json> = std::collections::BTreeMap::new();
    let success = match outcome {
        Outcome::Decided(v) => {
            props.insert(keys::VERDICT.into(), json!(v.decision));
            props.insert(keys::DENIALS.into(), json!(v.denials));
            props.insert(keys::WARNINGS.into(), json!(v.warnings));
            for (level, reasons) in [("error", &v.denials), ("warning", &v.warnings)] {
                for r in reasons {
                    let mut text = r.msg.clone();
                    if !r.ssdf.is_empty() {
                        text.push_str(&format!(" (SSDF {})", r.ssdf.join(", ")));
                    }
                    if let Some(fix) = &r.fix {
                        text.push_str(&format!(". Fix: {fix}"));
                    }
                    let mut note = json!({ "level": level, "message": { "text": text } });
                    if let Some(id) = &r.id {
                        note["descriptor"] = json!({ "id": id });
                        descriptors.entry(id.clone()).or_insert_with(|| {
                            json!({
                                "id": id,
                                "shortDescription": { "text": format!("policy rule {id}") },
                                "fullDescription": { "text": format!("{} ({})", r.rule, id) },
                                "help": { "text": r.fix.clone().unwrap_or_else(|| "see the policy".to_owned()) },
                            })
                        });
                    }
                    notes.push(note);
                }
            }
            true
        }
        Outcome::Failed(message) => {
            props.insert(keys::VERDICT.into(), json!("error"));
            props.insert(keys::ERROR.into(), json!(message));
            notes.push(
                json!({ "level": "error", "message": { "text": message }, "descriptor": { "id": "policy-error" } }),
            );
            descriptors.insert(
                "policy-error".into(),
                json!({
                    "id": "policy-error",
                    "shortDescription": { "text": "the policy could not decide" },
                    "fullDescription": { "text": "The policy could not be loaded or evaluated; the gate failed closed." },
                    "help": { "text": "Fix the policy (see the message) and run `sluice policy test` on it." },
                }),
            );
            false
        }
    };
    props.insert(keys::POLICY.into(), json!(policy));
    props.insert(keys::POLICY_INPUT_VERSION.into(), json!(crate::input::INPUT_VERSION));
    let mut invocation = json!({ "executionSuccessful": success });
    if !notes.is_empty() {
        invocation["toolExecutionNotifications"] = Json::Array(notes);
    }
    let run = json!({
        "tool": { "driver": {
            "name": "sluice-gate",
            "version": version,
            "semanticVersion": version,
            "informationUri": "https://github.com/sluice-sec/sluice/blob/main/docs/policy.md",
            "rules": [],
            "notifications": descriptors.into_values().collect::<Vec<_>>(),
        } },
        "automationDetails": { "id": keys::GATE_CATEGORY },
        "invocations": [invocation],
        "results": [],
        "properties": props,
    });
    // The run is built from literals and serializable values, so this cannot fail; if it did,
    // the verdict would still be on stderr and in the exit code (no panic in the gate).
    if let Ok(run) = serde_json::from_value(run) {
        log.runs.push(run);
    }
}

/// The verdict recorded in a log's gate run, if it has one.
pub fn recorded(log: &Sarif) -> Option<(String, Option<PolicyRef>)> {
    let run = log
        .runs
        .iter()
        .find(|r| r.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(keys::GATE_CATEGORY))?;
    let props = &run.properties.as_ref()?.additional_properties;
    let verdict = props.get(keys::VERDICT)?.as_str()?.to_owned();
    let policy = props.get(keys::POLICY).and_then(|p| serde_json::from_value(p.clone()).ok());
    Some((verdict, policy))
}
