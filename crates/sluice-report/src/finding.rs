//! A flat, owned view of a normalized result: what every report format shows.

use serde::Serialize;
use serde_json::Value;
use sluice_sarif::sarif::{ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif};
use sluice_sarif::{artifact_path, keys, primary_region, result_cwes, rule_for, severity_of, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub stage: String,
    pub tool: String,
    pub rule_id: String,
    pub rule_name: Option<String>,
    pub level: &'static str,
    pub severity: Severity,
    pub security_severity: Option<f64>,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    /// The region's snippet as the stage wrote it (redacted for secrets).
    pub snippet: Option<String>,
    pub help: Option<String>,
    pub help_uri: Option<String>,
    pub cwe: Vec<String>,
    pub fingerprint: Option<String>,
    pub suppressed: bool,
    pub baseline_state: Option<String>,
    /// A proposal on the server that would decide it once approved (`sluice/pending-decision`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// The result is about a credential (`sluice_sarif::is_credential`): its source is never
    /// read back from disk.
    #[serde(skip)]
    pub credential: bool,
}

/// A proposal awaiting approval on the server, as `sluice run` marked the result.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Pending {
    pub id: i64,
    pub status: String,
    /// `champion` or `security`.
    #[serde(default)]
    pub required_role: Option<String>,
    pub proposed_by: String,
    /// The decision's URL on the server.
    pub decision: String,
}

/// A stage's run-level outcome, from its invocations.
#[derive(Debug, Clone, Serialize)]
pub struct StageSummary {
    pub stage: String,
    pub tool: String,
    pub results: usize,
    /// Error notifications of failed invocations.
    pub failures: Vec<String>,
}

/// A file a stage did not scan: a notification with a `sluice/skipped` reason code and a
/// location (see docs/stage-contract.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub stage: String,
    /// The reason code: `too-large`, `generated`, `minified`, …
    pub reason: String,
    /// Why, as the stage said it (without the `path: not scanned: ` prefix).
    pub why: String,
    /// A documented rule skipped it (SARIF level `note`); otherwise the file did.
    pub note: bool,
}

/// Every file the log's runs say was not scanned, sorted by path then stage.
pub fn skipped_files(log: &Sarif) -> Vec<SkippedFile> {
    let mut out = Vec::new();
    for run in &log.runs {
        for s in sluice_sarif::skipped_files(run) {
            let prefix = format!("{}: not scanned: ", s.path);
            out.push(SkippedFile {
                path: s.path.to_owned(),
                stage: stage_of_run(run),
                reason: s.reason.to_owned(),
                why: s.message.strip_prefix(&prefix).unwrap_or(s.message).to_owned(),
                note: s.note,
            });
        }
    }
    out.sort_by(|a, b| (&a.path, &a.stage).cmp(&(&b.path, &b.stage)));
    out.dedup();
    out
}

/// What a run's summary counts: findings shown, and, when the log went through triage,
/// suppressed ones and (compared with a baseline) new and fixed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Unsuppressed findings.
    pub active: usize,
    /// Unsuppressed findings the baseline does not have; `None` without a baseline.
    pub new: Option<usize>,
    pub suppressed: usize,
    /// Baseline findings that are gone; `None` without a baseline.
    pub fixed: Option<usize>,
}

pub fn counts(log: &Sarif) -> Counts {
    let all = findings(log);
    let active: Vec<&Finding> = all.iter().filter(|f| !f.suppressed).collect();
    let fixed = log
        .runs
        .iter()
        .filter(|r| r.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(keys::TRIAGE_CATEGORY))
        .filter_map(|r| r.properties.as_ref()?.additional_properties.get(keys::FIXED)?.as_u64())
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .reduce(|a, b| a.saturating_add(b));
    let compared = fixed.is_some() || all.iter().any(|f| f.baseline_state.is_some());
    Counts {
        active: active.len(),
        new: compared.then(|| active.iter().filter(|f| f.baseline_state.as_deref() == Some("new")).count()),
        suppressed: all.len() - active.len(),
        fixed: compared.then_some(fixed.unwrap_or(0)),
    }
}

pub fn findings(log: &Sarif) -> Vec<Finding> {
    let mut out = Vec::new();
    for run in &log.runs {
        for result in run.results.iter().flatten() {
            out.push(finding(run, result));
        }
    }
    out.sort_by(|a, b| {
        (b.severity, &a.path, a.line, a.column, &a.rule_id).cmp(&(a.severity, &b.path, b.line, b.column, &b.rule_id))
    });
    out
}

pub fn stage_summaries(log: &Sarif) -> Vec<StageSummary> {
    log.runs
        .iter()
        .map(|run| {
            let failures = run
                .invocations
                .iter()
                .flatten()
                .filter(|i| !i.execution_successful)
                .flat_map(|i| i.tool_execution_notifications.iter().flatten())
                .filter_map(|n| n.message.text.clone())
                .collect();
            StageSummary {
                stage: stage_of_run(run),
                tool: run.tool.driver.name.clone(),
                results: run.results.as_ref().map_or(0, Vec::len),
                failures,
            }
        })
        .collect()
}

fn stage_of_run(run: &Run) -> String {
    sluice_sarif::stage_of(run)
}

fn finding(run: &Run, result: &SarifResult) -> Finding {
    let rule = rule_for(result, run);
    let region = primary_region(result);
    let to_u32 = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Finding {
        stage: stage_of_run(run),
        tool: run.tool.driver.name.clone(),
        rule_id: result.rule_id.clone().or_else(|| rule.map(|r| r.id.clone())).unwrap_or_else(|| "(no rule)".into()),
        rule_name: rule.and_then(rule_title),
        level: level_str(result.level.unwrap_or(ResultLevel::Warning)),
        severity: severity_of(result, rule),
        security_severity: sluice_sarif::security_severity(result, rule),
        message: message_text(result, rule),
        path: artifact_path(result),
        line: to_u32(region.and_then(|r| r.start_line)),
        column: to_u32(region.and_then(|r| r.start_column)),
        end_line: to_u32(region.and_then(|r| r.end_line)),
        end_column: to_u32(region.and_then(|r| r.end_column)),
        snippet: region.and_then(|r| r.snippet.as_ref()).and_then(|s| s.text.clone()),
        help: rule.and_then(|r| {
            r.help
                .as_ref()
                .map(|h| h.markdown.clone().unwrap_or_else(|| h.text.clone()))
                .or_else(|| r.full_description.as_ref().map(|d| d.text.clone()))
        }),
        help_uri: rule.and_then(|r| r.help_uri.clone()),
        cwe: result_cwes(result, rule),
        fingerprint: result.partial_fingerprints.as_ref().and_then(|f| f.get(keys::FINGERPRINT).cloned()),
        suppressed: result.suppressions.as_ref().is_some_and(|s| {
            s.iter().any(|s| s.status.as_ref().and_then(Value::as_str).is_none_or(|st| st == "accepted"))
        }),
        baseline_state: result.baseline_state.as_ref().and_then(Value::as_str).map(str::to_owned),
        pending: result
            .properties
            .as_ref()
            .and_then(|p| p.additional_properties.get(keys::PENDING_DECISION))
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        credential: sluice_sarif::is_credential(&run.tool.driver.name, result, rule),
    }
}

fn rule_title(rule: &ReportingDescriptor) -> Option<String> {
    rule.short_description.as_ref().map(|d| d.text.clone()).or_else(|| rule.name.clone())
}

/// The message with `{0}`-style placeholders filled from its arguments, or from the rule's
/// message strings when the result only names one by id.
fn message_text(result: &SarifResult, rule: Option<&ReportingDescriptor>) -> String {
    let message = &result.message;
    let template = message.text.clone().or_else(|| {
        let id = message.id.as_deref()?;
        rule?.message_strings.as_ref()?.get(id).map(|m| m.text.clone())
    });
    let mut text = template.unwrap_or_default();
    for (i, arg) in message.arguments.iter().flatten().enumerate() {
        text = text.replace(&format!("{{{i}}}"), arg);
    }
    // Template and arguments were redacted apart; what they make together is checked again.
    sluice_sarif::redact_text(&text).into_owned()
}

fn level_str(level: ResultLevel) -> &'static str {
    match level {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}
