//! What a push carries, made safe to store: checked against the limits, parsed as SARIF 2.1.0,
//! every string redacted (whatever the client did before), and turned into finding rows.
//!
//! Nothing here trusts the client: a log from an old sluice, a third-party tool or an attacker
//! with a push token goes through the same path. A problem is an [`IngestError`] naming the
//! part of the push and what is wrong; nothing is stored unless the whole push is good.

use std::collections::BTreeMap;

use serde_json::Value;
use sluice_sarif::sarif::{ResultKind, Sarif};
use sluice_sarif::{artifact_path, keys, primary_region, rule_for, severity_of, stage_of, Severity};

use crate::model::{EventIn, PushRequest};

/// Limits on one push. The body size itself is bounded before parsing (`ServeOptions`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Results across all runs of the log.
    pub max_results: usize,
    /// Runs in the log.
    pub max_runs: usize,
    /// Events in one push.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_results: 200_000, max_runs: 256, max_events: 10_000 }
    }
}

/// Stored text is cut to these many bytes (on a character boundary).
const MAX_MESSAGE: usize = 2048;
const MAX_FIELD: usize = 1024;
const MAX_NAME: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{field}: {message}")]
    Field { field: &'static str, message: String },
    #[error("sarif: {0}")]
    Sarif(String),
    #[error("too large: {0}")]
    TooLarge(String),
}

/// One finding as the log reports it, redacted and bounded.
#[derive(Debug, Clone)]
pub struct FindingRow {
    pub fingerprint: String,
    pub stage: String,
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub suppressed: Option<String>,
    /// The repository's own triage decision the run applied (`sluice/triage`), as JSON.
    pub repo_decision: Option<String>,
    /// That decision's status (`false_positive`, …), kept apart so it can be counted.
    pub repo_status: Option<String>,
    /// A dependency finding's package (`sluice/package`) and purl (`sluice/purl`).
    pub package: Option<String>,
    pub purl: Option<String>,
    /// The other names of the finding's advisory (`sluice/aliases`), at most [`MAX_ALIASES`].
    pub aliases: Vec<String>,
}

/// Aliases kept per finding: an advisory has a handful (CVE, GHSA, distribution ids).
const MAX_ALIASES: usize = 32;

/// A stage of the run and whether it can close findings: it ran over the whole tree and
/// succeeded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageRun {
    pub complete: bool,
    pub succeeded: bool,
}

/// A push, ready to store.
#[derive(Debug)]
pub struct Prepared {
    pub project: String,
    pub run_id: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub default_branch: Option<String>,
    pub merge_request: Option<String>,
    pub pipeline_url: Option<String>,
    pub partial: bool,
    pub stages: BTreeMap<String, StageRun>,
    pub findings: Vec<FindingRow>,
    /// The redacted log, as JSON.
    pub sarif: Vec<u8>,
    pub sbom: Option<Vec<u8>>,
    /// The SBOM's packages, for impact search (kept per project from its latest default-branch
    /// SBOM).
    pub components: Vec<crate::evidence::Component>,
    pub attestation: Option<Vec<u8>>,
    /// The client's verdict's decision (`allowed`/`denied`), kept as a claim.
    pub claimed_verdict: Option<String>,
    pub events: Vec<PreparedEvent>,
    pub log: Sarif,
}

#[derive(Debug)]
pub struct PreparedEvent {
    pub id: String,
    pub kind: String,
    pub at: i64,
    pub body: String,
}

/// A name a client chooses (project, run id, event id): short, printable, no path tricks.
pub fn check_name(field: &'static str, text: &str, max: usize) -> Result<(), IngestError> {
    let ok = !text.is_empty()
        && text.len() <= max
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'/' | b'@'))
        && !text.starts_with(['.', '/', '-'])
        && !text.contains("..");
    if ok {
        Ok(())
    } else {
        Err(IngestError::Field {
            field,
            message: format!(
                "must be 1–{max} characters of letters, digits and `._-:/@`, not starting with `.`, `/` or `-`"
            ),
        })
    }
}

/// Optional free text from the client (commit, branch, URL): bounded, control characters
/// refused, credentials redacted.
fn optional_text(field: &'static str, text: Option<String>) -> Result<Option<String>, IngestError> {
    let Some(text) = text else { return Ok(None) };
    if text.len() > MAX_FIELD {
        return Err(IngestError::Field { field, message: format!("longer than {MAX_FIELD} bytes") });
    }
    if text.chars().any(char::is_control) {
        return Err(IngestError::Field { field, message: "contains control characters".into() });
    }
    Ok(Some(sluice_sarif::redact_text(&text).into_owned()))
}

/// Text to store, cut to `max` bytes. A NUL character becomes U+FFFD: PostgreSQL cannot store
/// it in text, and the same log must read the same on either backend.
fn cut(text: &str, max: usize) -> String {
    let text: std::borrow::Cow<'_, str> =
        if text.contains('\0') { text.replace('\0', "\u{FFFD}").into() } else { text.into() };
    if text.len() <= max {
        return text.into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Checks, parses and redacts a push.
pub fn prepare(push: PushRequest, limits: &Limits) -> Result<Prepared, IngestError> {
    check_name("project", &push.project, MAX_NAME)?;
    check_name("run_id", &push.run_id, 128)?;
    let commit = optional_text("commit", push.commit)?;
    let branch = optional_text("branch", push.branch)?;
    let default_branch = optional_text("default_branch", push.default_branch)?;
    let merge_request = optional_text("merge_request", push.merge_request)?;
    let pipeline_url = optional_text("pipeline_url", push.pipeline_url)?;
    if push.events.len() > limits.max_events {
        return Err(IngestError::TooLarge(format!(
            "{} events in one push; at most {}",
            push.events.len(),
            limits.max_events
        )));
    }

    // The log is parsed and redacted by the same reader every sluice command uses.
    let log = sluice_sarif::read_log(push.sarif.get().as_bytes(), "sarif").map_err(|e| {
        let text = e.to_string();
        IngestError::Sarif(text.strip_prefix("sarif: ").unwrap_or(&text).to_owned())
    })?;
    if log.runs.len() > limits.max_runs {
        return Err(IngestError::TooLarge(format!("{} runs in the log; at most {}", log.runs.len(), limits.max_runs)));
    }
    let total: usize = log.runs.iter().map(|r| r.results.as_ref().map_or(0, Vec::len)).sum();
    if total > limits.max_results {
        return Err(IngestError::TooLarge(format!("{total} results in the log; at most {}", limits.max_results)));
    }

    let mut stages: BTreeMap<String, StageRun> = BTreeMap::new();
    let mut by_fingerprint: BTreeMap<String, FindingRow> = BTreeMap::new();
    for (run_index, run) in log.runs.iter().enumerate() {
        let stage = cut(&stage_of(run), MAX_NAME);
        // The gate's and triage's own runs record decisions, not findings.
        if stage == "gate" || stage == "triage" {
            continue;
        }
        let succeeded =
            run.invocations.iter().flatten().all(|inv| inv.execution_successful) && run.invocations.is_some();
        let changed_only = run
            .properties
            .as_ref()
            .and_then(|p| p.additional_properties.get(sluice_sarif::keys::SCOPE))
            .and_then(Value::as_str)
            .is_some_and(|s| s != "all");
        let entry = stages.entry(stage.clone()).or_insert(StageRun { complete: true, succeeded: true });
        entry.succeeded &= succeeded;
        entry.complete &= !changed_only && !push.partial;
        for (result_index, result) in run.results.iter().flatten().enumerate() {
            if result
                .kind
                .as_ref()
                .is_some_and(|k| !matches!(k, ResultKind::Fail | ResultKind::Open | ResultKind::Review))
            {
                continue;
            }
            let Some(fingerprint) = result.partial_fingerprints.as_ref().and_then(|f| f.get(keys::FINGERPRINT)) else {
                return Err(IngestError::Sarif(format!(
                    "runs[{run_index}].results[{result_index}] has no `{}` fingerprint: push the \
                     results.sarif `sluice run` writes, or a log passed through `sluice merge`",
                    keys::FINGERPRINT
                )));
            };
            if fingerprint.is_empty() || fingerprint.len() > 128 || !fingerprint.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(IngestError::Sarif(format!(
                    "runs[{run_index}].results[{result_index}]: the `{}` fingerprint is not 1–128 \
                     printable characters",
                    keys::FINGERPRINT
                )));
            }
            let rule = rule_for(result, run);
            let rule_id = result.rule_id.as_deref().or(rule.map(|r| r.id.as_str())).unwrap_or("(no rule)");
            let message = result.message.text.as_deref().or(result.message.markdown.as_deref()).unwrap_or("");
            let suppressed = result.suppressions.as_ref().and_then(|s| s.first()).map(|s| {
                let status = s
                    .status
                    .as_ref()
                    .and_then(|v| serde_json::to_value(v).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "accepted".into());
                let kind = serde_json::to_value(&s.kind).ok().and_then(|v| v.as_str().map(str::to_owned));
                cut(&format!("{}:{}", kind.unwrap_or_default(), status), MAX_NAME)
            });
            // What `.sluice/triage.toml` decided, as the run recorded it: kept to be shown as
            // a decision made in the repository (a claim of the repository's CI, labelled so).
            let repo_decision = result
                .properties
                .as_ref()
                .and_then(|p| p.additional_properties.get(sluice_sarif::keys::TRIAGE))
                .filter(|v| v.is_object())
                .map(|v| {
                    let keep = ["status", "reason", "who", "when", "expires", "vex_justification"];
                    let picked: serde_json::Map<String, Value> =
                        keep.iter().filter_map(|k| v.get(*k).map(|x| ((*k).to_owned(), x.clone()))).collect();
                    cut(&Value::Object(picked).to_string(), MAX_MESSAGE)
                })
                .filter(|text| serde_json::from_str::<Value>(text).is_ok());
            let repo_status = repo_decision
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .and_then(|v| v.get("status").and_then(Value::as_str).map(|s| cut(s, 64)));
            let property = |key: &str| result.properties.as_ref().and_then(|p| p.additional_properties.get(key));
            let name =
                |key: &str| property(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(|s| cut(s, MAX_NAME));
            let mut aliases: Vec<String> = property(keys::ALIASES)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|a| !a.is_empty() && a.len() <= 128 && !a.chars().any(char::is_control))
                .map(|a| cut(a, 128))
                .collect();
            aliases.sort();
            aliases.dedup();
            aliases.truncate(MAX_ALIASES);
            let row = FindingRow {
                repo_decision,
                repo_status,
                package: name(keys::PACKAGE),
                purl: name(keys::PURL).filter(|p| p.starts_with("pkg:")),
                aliases,
                fingerprint: fingerprint.clone(),
                stage: stage.clone(),
                rule_id: cut(rule_id, MAX_NAME),
                severity: severity_of(result, rule),
                message: cut(message, MAX_MESSAGE),
                path: artifact_path(result).map(|p| cut(&p, MAX_FIELD)),
                line: primary_region(result).and_then(|r| r.start_line),
                suppressed,
            };
            // One finding per fingerprint: the most severe report of it wins.
            match by_fingerprint.get(&row.fingerprint) {
                Some(kept) if kept.severity >= row.severity => {}
                _ => {
                    by_fingerprint.insert(row.fingerprint.clone(), row);
                }
            }
        }
    }

    let sarif = serde_json::to_vec(&log).map_err(|e| IngestError::Sarif(e.to_string()))?;
    let document = |field: &'static str, raw: Option<Box<serde_json::value::RawValue>>| -> Result<_, IngestError> {
        let Some(raw) = raw else { return Ok(None) };
        let mut value: Value = serde_json::from_str(raw.get())
            .map_err(|e| IngestError::Field { field, message: format!("not JSON: {e}") })?;
        sluice_sarif::redact_json(&mut value);
        Ok(Some(value))
    };
    let sbom = document("sbom", push.sbom)?;
    let components = sbom.as_ref().map(crate::evidence::sbom_components).unwrap_or_default();
    let sbom = sbom.map(|v| serde_json::to_vec(&v).unwrap_or_default());
    let attestation = document("attestation", push.attestation)?.map(|v| serde_json::to_vec(&v).unwrap_or_default());
    let claimed_verdict = document("verdict", push.verdict)?
        .map(|v| v.get("decision").and_then(Value::as_str).map(|d| cut(d, 32)).unwrap_or_else(|| "unknown".into()));
    let events = push.events.into_iter().map(prepare_event).collect::<Result<Vec<_>, _>>()?;

    Ok(Prepared {
        project: push.project,
        run_id: push.run_id,
        commit,
        branch,
        default_branch,
        merge_request,
        pipeline_url,
        partial: push.partial,
        stages,
        findings: by_fingerprint.into_values().collect(),
        sarif,
        sbom,
        components,
        attestation,
        claimed_verdict,
        events,
        log,
    })
}

fn prepare_event(event: EventIn) -> Result<PreparedEvent, IngestError> {
    check_name("events[].id", &event.id, 128)?;
    check_name("events[].kind", &event.kind, 64)?;
    let at = crate::time::parse(&event.at).ok_or_else(|| IngestError::Field {
        field: "events[].at",
        message: format!("`{}` is not an RFC 3339 time", cut(&event.at, 64)),
    })?;
    let mut body = event.body;
    sluice_sarif::redact_json(&mut body);
    let body = serde_json::to_string(&body).unwrap_or_default();
    if body.len() > 64 * 1024 {
        return Err(IngestError::TooLarge("an event body over 64 KiB".into()));
    }
    Ok(PreparedEvent { id: event.id, kind: event.kind, at, body })
}

/// Where the server's verdict on a push arrives: `None` until computed, then `Some(verdict)`.
pub type VerdictSlot = tokio::sync::watch::Receiver<Option<Option<String>>>;

/// The server's own verdict on a stored log: the project's built-in profile over the redacted
/// results, never the client's word. Facts only the repository holds (its languages and
/// lockfiles) are not known here, so a rule that needs them sees none.
pub fn verdict(log: &Sarif, profile: &str, commit: Option<&str>, branch: Option<&str>) -> Option<String> {
    let now = jiff::Timestamp::now();
    let decided = sluice_policy::Policy::profile(profile, false).and_then(|policy| {
        let mut facts = sluice_policy::Facts::default();
        facts.run.now = now.to_string();
        facts.run.commit = commit.map(str::to_owned);
        facts.run.branch = branch.map(str::to_owned);
        // The stages that ran are the stages configured, as far as the server can know.
        facts.run.configured_stages = log.runs.iter().map(sluice_sarif::stage_of).collect();
        let input = sluice_policy::build_input(log, facts);
        let opts = sluice_policy::EvalOptions::new(std::time::Duration::from_secs(10), now);
        sluice_policy::decide_input(&policy, input, &opts)
    });
    match decided {
        Ok(verdict) => Some(verdict.decision),
        Err(e) => {
            tracing::warn!(profile, error = %e, "no verdict: the policy could not decide");
            None
        }
    }
}
