//! NIST SSDF (SP 800-218 v1.1) tasks, and the evidence a sluice run produces for each:
//! `sluice report --format ssdf`.
//!
//! Evidence comes only from the log: which stages ran (and their tools and versions), how many
//! findings they recorded, what triage decided, and what the gate decided under which policy.
//! A task with no evidence in this run is listed as such, so gaps are visible.

use sluice_report::escape::{markdown, markdown_code};
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use sluice_sarif::keys;
use sluice_sarif::sarif::Sarif;

use crate::input::{self, Facts, Input};
use crate::verdict::recorded;

/// (id, task) for every task sluice evidences. Wording shortened from SP 800-218.
pub const TASKS: &[(&str, &str)] = &[
    ("PO.4.1", "Define criteria for software security checks and track them throughout the SDLC"),
    ("PO.4.2", "Gather and safeguard the information that supports the criteria"),
    ("PS.3.2", "Collect, safeguard, maintain and share provenance data for each release (e.g. an SBOM)"),
    ("PW.4.4", "Verify that acquired and open-source components comply with the requirements"),
    ("PW.7.2", "Perform code review and/or code analysis; record and triage every issue found"),
    ("RV.1.1", "Gather information on potential vulnerabilities in the software and its components"),
    ("RV.1.2", "Review, analyze and/or test the code to find previously undetected vulnerabilities"),
    ("RV.2.1", "Analyze each vulnerability to gather enough information about risk to plan its remediation"),
    ("RV.2.2", "Plan and implement risk responses for vulnerabilities"),
];

/// The SSDF tasks a stage's results evidence, by stage name. External tools configured under
/// another name count as code analysis (PW.7.2), which is what most SARIF tools are.
pub fn stage_tasks(stage: &str) -> &'static [&'static str] {
    match stage {
        "secrets" => &["PW.7.2"],
        "sast" => &["PW.7.2", "RV.1.2"],
        "deps" => &["PW.4.4", "RV.1.1"],
        "container" => &["PW.4.4", "RV.1.1"],
        _ => &["PW.7.2"],
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TaskEvidence {
    pub id: String,
    pub task: String,
    /// Markdown: values from the log (stage and tool names, failures, gate messages) are
    /// escaped inert (`sluice_report::escape`).
    pub evidence: Vec<String>,
}

/// Evidence per task from a log (and the SBOM, when one was found next to it).
pub fn evidence(log: &Sarif, sbom: Option<&input::Sbom>) -> Vec<TaskEvidence> {
    let facts = Facts { sbom: sbom.cloned(), ..Facts::default() };
    let input: Input = input::build(log, facts);
    let mut by: BTreeMap<&str, Vec<String>> = TASKS.iter().map(|(id, _)| (*id, Vec::new())).collect();
    let mut push = |task: &str, line: String| {
        if let Some(v) = by.get_mut(task) {
            v.push(line);
        }
    };
    for stage in &input.stages {
        let version = stage.version.as_deref().map(|v| format!(" {}", markdown(v))).unwrap_or_default();
        let (name, tool) = (markdown_code(&stage.name), markdown(&stage.tool));
        let line = if stage.status == "succeeded" {
            format!("stage {name} ran ({tool}{version}): {} result(s) recorded", stage.results)
        } else {
            format!("stage {name} FAILED ({tool}{version}): {}", markdown(&stage.failures.join("; ")))
        };
        for task in stage_tasks(&stage.name) {
            push(task, line.clone());
        }
        push("PO.4.2", line);
    }
    if input.triage.applied {
        let s = &input.summary;
        push(
            "RV.2.1",
            format!(
                "triage applied {} decision(s): {} finding(s) suppressed, {} open ({} stale, {} expired decision(s))",
                input.triage.decisions, s.suppressed, s.open, input.triage.stale, input.triage.expired
            ),
        );
        if input.triage.baseline {
            push("RV.2.1", format!("compared with a baseline: {} new, {} fixed", s.new, input.triage.fixed));
        }
    }
    if let Some(sbom) = &input.sbom {
        push(
            "PS.3.2",
            format!("SBOM {} ({}, {} components)", markdown_code(&sbom.path), markdown(&sbom.format), sbom.components),
        );
    }
    if let Some((verdict, policy)) = recorded(log) {
        let policy = policy
            .map(|p| format!("{} ({})", markdown(&p.name), markdown(&p.digest)))
            .unwrap_or_else(|| "unknown".into());
        let verdict = markdown(&verdict.to_string());
        push("PO.4.1", format!("policy {policy} evaluated: {verdict}"));
        push("RV.2.2", format!("gate verdict `{verdict}` under policy {policy}"));
        for (task, line) in gate_reason_tasks(log) {
            push(&task, line);
        }
    }
    TASKS
        .iter()
        .map(|(id, task)| TaskEvidence {
            id: (*id).to_owned(),
            task: (*task).to_owned(),
            evidence: by.remove(id).unwrap_or_default(),
        })
        .collect()
}

/// Each gate reason under every SSDF task it names.
fn gate_reason_tasks(log: &Sarif) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for run in &log.runs {
        if run.automation_details.as_ref().and_then(|d| d.id.as_deref()) != Some(sluice_sarif::keys::GATE_CATEGORY) {
            continue;
        }
        let Some(props) = run.properties.as_ref().map(|p| &p.additional_properties) else { continue };
        for (key, label) in [(keys::DENIALS, "denied"), (keys::WARNINGS, "warned")] {
            for reason in props.get(key).and_then(Json::as_array).into_iter().flatten() {
                let msg = reason.get("msg").and_then(Json::as_str).unwrap_or_default();
                for task in reason.get("ssdf").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str) {
                    out.push((task.to_owned(), format!("gate {label}: {}", markdown(msg))));
                }
            }
        }
    }
    out
}

/// The report as Markdown (a table of tasks, then the evidence under each).
pub fn render_markdown(tasks: &[TaskEvidence]) -> String {
    let mut out = String::from("# NIST SSDF (SP 800-218) evidence from this run\n\n| task | evidence |\n|---|---|\n");
    for t in tasks {
        let status =
            if t.evidence.is_empty() { "none in this run".to_owned() } else { format!("{} item(s)", t.evidence.len()) };
        out.push_str(&format!("| {} {} | {status} |\n", t.id, t.task));
    }
    for t in tasks {
        out.push_str(&format!("\n## {} — {}\n\n", t.id, t.task));
        if t.evidence.is_empty() {
            out.push_str("No evidence in this run.\n");
        }
        for e in &t.evidence {
            out.push_str(&format!("- {e}\n"));
        }
    }
    out
}
