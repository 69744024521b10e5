//! The policy input document, version 1: what a policy sees as `input`.
//!
//! A compatibility promise (policies are written against it), specified in
//! `docs/policy-input.md` with the JSON Schema `docs/policy-input.v1.schema.json`. These serde types
//! are that edge; they are built from a SARIF log plus facts the CLI gathers (git, the tree).
//! Adding an optional field is compatible; renaming or removing one bumps [`INPUT_VERSION`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_sarif::sarif::{Result as SarifResult, ResultLevel, Run, Sarif};
use sluice_sarif::{artifact_path, keys, primary_region, result_cwes, rule_for, security_severity, severity_of};

use crate::detect::Detected;

/// `input.version`. Policies may check it; built-in profiles deny any other version.
pub const INPUT_VERSION: u32 = 1;

/// The top-level fields of a version 1 input.
pub const TOP_LEVEL_FIELDS: &[&str] =
    &["version", "run", "detected", "stages", "results", "skipped", "triage", "sbom", "summary"];

/// The JSON Schema of the version 1 input: the unknown-field check on user policies follows it.
pub const SCHEMA: &str = include_str!("../../../docs/policy-input.v1.schema.json");

/// [`SCHEMA`], parsed.
pub fn schema() -> Value {
    // The schema is part of the source tree and checked by the tests; `Null` checks nothing.
    serde_json::from_str(SCHEMA).unwrap_or(Value::Null)
}

/// The schema of `step` inside `node`: `Ok(Some)` to go on, `Ok(None)` when the schema does not
/// say (an open map, any value), `Err(fields)` when the step names nothing there (with the
/// fields that do exist, sorted).
pub fn schema_child<'s>(
    root: &'s Value,
    node: &'s Value,
    step: &crate::policy::Step,
) -> Result<Option<&'s Value>, Vec<String>> {
    let node = resolve(root, node);
    // `oneOf: [null, {object}]`: the variant that has structure.
    let variants: Vec<&Value> = match node.get("oneOf").or_else(|| node.get("anyOf")).and_then(Value::as_array) {
        Some(list) => list.iter().map(|v| resolve(root, v)).collect(),
        None => vec![node],
    };
    let object = variants.iter().find(|v| v.get("properties").is_some()).copied();
    let array = variants.iter().find(|v| v.get("items").is_some()).copied();
    let types: Vec<&str> = variants
        .iter()
        .flat_map(|v| match v.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    let scalar_only = object.is_none()
        && array.is_none()
        && variants.iter().all(|v| v.get("type").is_some() || v.get("const").is_some() || v.get("enum").is_some())
        && !types.iter().any(|t| *t == "object" || *t == "array");
    match step {
        crate::policy::Step::Field(name) => match object {
            Some(obj) => match obj.get("properties").and_then(|p| p.get(name)) {
                Some(child) => Ok(Some(child)),
                None if obj.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    let mut known: Vec<String> =
                        obj["properties"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                    known.sort();
                    Err(known)
                }
                None => Ok(None),
            },
            None if array.is_some() || scalar_only => Err(Vec::new()),
            None => Ok(None),
        },
        crate::policy::Step::Index => match (array, object) {
            (Some(arr), _) => Ok(arr.get("items")),
            (None, Some(_)) => Ok(None),
            (None, None) if scalar_only => Err(Vec::new()),
            (None, None) => Ok(None),
        },
    }
}

/// Follows `$ref: "#/$defs/name"` (the only kind of reference the schema uses).
fn resolve<'s>(root: &'s Value, mut node: &'s Value) -> &'s Value {
    for _ in 0..8 {
        let Some(target) = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/")) else {
            break;
        };
        match target.split('/').try_fold(root, |v, key| v.get(key)) {
            Some(next) => node = next,
            None => break,
        }
    }
    node
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Input {
    pub version: u32,
    pub run: RunFacts,
    pub detected: Detected,
    /// Every stage that produced a run in the log, sorted by name.
    pub stages: Vec<Stage>,
    pub results: Vec<Finding>,
    /// Files a stage did not scan, and why (absent in inputs written before it existed).
    #[serde(default)]
    pub skipped: Skipped,
    pub triage: Triage,
    pub sbom: Option<Sbom>,
    pub summary: Summary,
}

/// Files the stages did not scan: sluice's notifications with a `sluice/skipped` reason code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Skipped {
    /// Sorted by path, then stage.
    pub files: Vec<SkippedFile>,
    /// How many files each reason code covers (only reasons that occur).
    pub by_reason: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedFile {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub stage: String,
    /// `too-large`, `too-deep`, `timeout`, `long-lines`, `generated` (the file decides),
    /// `minified` (a built asset by name), `unreadable`, `other`.
    pub reason: String,
    /// What the stage said, capped like result messages.
    pub message: String,
}

/// Key of a notification's property bag holding the skip reason code.
pub const SKIPPED_KEY: &str = sluice_sarif::keys::SKIPPED;

/// Facts about this run that are not in the SARIF.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RunFacts {
    /// The commit (`git rev-parse HEAD`), when the tree is a git repository.
    pub commit: Option<String>,
    /// The branch (`git symbolic-ref --short HEAD`, else CI variables), when known.
    pub branch: Option<String>,
    /// The evaluation time (RFC 3339, UTC); what `time.now_ns()` returns.
    pub now: String,
    /// Stages configured in `sluice.toml` or built in and enabled (whether or not they ran).
    pub configured_stages: Vec<String>,
    /// The server whose decisions apply (`[server] url`), if one is configured.
    #[serde(default)]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stage {
    pub name: String,
    pub tool: String,
    pub version: Option<String>,
    /// `succeeded` or `failed` (an invocation with `executionSuccessful: false`).
    pub status: String,
    pub results: usize,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub stage: String,
    pub tool: String,
    /// SARIF level: `error`, `warning`, `note`, `none`.
    pub level: String,
    /// GitHub's bucket: `critical`, `high`, `medium`, `low`, `info`.
    pub severity: String,
    /// `security-severity` (0–10), when the stage gave one.
    pub score: Option<f64>,
    /// `new`, `unchanged`, `updated`, `absent`, or null when no baseline was compared.
    pub baseline_state: Option<String>,
    /// `open`, or `suppressed` (an accepted suppression: triage decision or in-source).
    pub status: String,
    /// A leaked credential: the secrets stage, or what `sluice_sarif::is_credential` says is one (a
    /// known secrets scanner, a credential CWE such as CWE-798, a rule whose id, name or tags say
    /// "secret", "credential", "api-key", …).
    pub secret: bool,
    /// The triage decision applied to it, if any.
    pub triage: Option<TriageDecision>,
    /// Suppression kinds (`external`, `inSource`) of accepted suppressions.
    pub suppressions: Vec<String>,
    pub cwe: Vec<String>,
    pub fingerprint: Option<String>,
    pub location: Option<Location>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Location {
    pub path: String,
    pub line: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TriageDecision {
    /// `false_positive`, `accepted_risk`, `mitigated`, `confirmed`.
    pub status: String,
    pub reason: Option<String>,
    pub who: Option<String>,
    pub when: Option<String>,
    /// First day (UTC, `YYYY-MM-DD`) the decision no longer applies; null: never expires.
    pub expires: Option<String>,
    /// Where the decision is (`.sluice/triage.toml:12`, or the server's decision URL).
    pub decision: Option<String>,
    /// Where it was made: `repository` (`.sluice/triage.toml`) or `server` (org-wide triage).
    #[serde(default = "repository")]
    pub source: String,
    /// `finding`, `rule` or `advisory`.
    #[serde(default)]
    pub scope: Option<String>,
    /// A server decision for every project of the organisation.
    #[serde(default)]
    pub organisation_wide: bool,
    /// Who approved it (a server decision); who wrote it (a repository decision).
    #[serde(default)]
    pub decided_by: Option<String>,
    /// The approver's role on the server (`champion`, `security`, `admin`); null for a
    /// repository decision.
    #[serde(default)]
    pub role: Option<String>,
    /// Approved on the server by someone other than its proposer, with the role it needs.
    #[serde(default)]
    pub approved: bool,
    #[serde(default)]
    pub approved_at: Option<String>,
    /// The server's decision set verified with the key pinned in `sluice.toml`.
    #[serde(default)]
    pub signature_verified: bool,
}

fn repository() -> String {
    "repository".to_owned()
}

/// What the triage stage recorded (its summary run), when the log went through triage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Triage {
    pub applied: bool,
    /// Compared with a baseline (results carry `baseline_state`).
    pub baseline: bool,
    pub decisions: u64,
    pub stale: u64,
    pub expired: u64,
    pub fixed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sbom {
    pub path: String,
    /// `cyclonedx` or `spdx`.
    pub format: String,
    pub components: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Summary {
    pub results: usize,
    pub open: usize,
    pub suppressed: usize,
    /// Open results with `baseline_state: new`.
    pub new: usize,
    /// Open results by severity bucket (every bucket present, zero included).
    pub open_by_severity: BTreeMap<String, usize>,
}

/// Facts the CLI gathers outside the SARIF.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub run: RunFacts,
    pub detected: Detected,
    pub sbom: Option<Sbom>,
}

/// Builds the input from a (normalized, merged) log. Earlier gate runs are skipped, so gating
/// a gated log gives the same verdict.
pub fn build(log: &Sarif, facts: Facts) -> Input {
    let mut builder = Builder::default();
    for run in &log.runs {
        builder.add_run(run);
    }
    builder.finish(facts)
}

/// [`build`] one run at a time, so a caller can parse a large log run by run and drop each
/// run once it is added.
#[derive(Debug, Default)]
pub struct Builder {
    stages: Vec<Stage>,
    results: Vec<Finding>,
    skipped: Skipped,
    triage: Triage,
}

impl Builder {
    pub fn add_run(&mut self, run: &Run) {
        let category = run.automation_details.as_ref().and_then(|d| d.id.as_deref());
        if category == Some(keys::GATE_CATEGORY) {
            return;
        }
        if category == Some(keys::TRIAGE_CATEGORY) {
            self.triage = triage_summary(run);
            return;
        }
        let name = stage_of(run);
        for result in run.results.iter().flatten() {
            self.results.push(finding(run, result, &name));
        }
        skipped_files(run, &name, &mut self.skipped.files);
        self.stages.push(stage(run, name));
    }

    /// Starts a run whose results come one at a time ([`RunStream::add`], then
    /// [`Builder::end_run`]); `run` has no results. `None` for runs that are not stages.
    pub fn begin_run(&mut self, run: &Run) -> Option<RunStream> {
        let category = run.automation_details.as_ref().and_then(|d| d.id.as_deref());
        if category == Some(keys::GATE_CATEGORY) {
            return None;
        }
        if category == Some(keys::TRIAGE_CATEGORY) {
            self.triage = triage_summary(run);
            return None;
        }
        Some(RunStream { name: stage_of(run), findings: Vec::new() })
    }

    /// Ends a run begun with [`Builder::begin_run`], which had `count` results.
    pub fn end_run(&mut self, run: &Run, stream: RunStream, count: usize) {
        let RunStream { name, mut findings } = stream;
        self.results.append(&mut findings);
        skipped_files(run, &name, &mut self.skipped.files);
        let mut stage = stage(run, name);
        stage.results = count;
        self.stages.push(stage);
    }

    pub fn finish(self, facts: Facts) -> Input {
        let Builder { mut stages, mut results, mut skipped, mut triage } = self;
        triage.baseline |= results.iter().any(|r| r.baseline_state.is_some());
        stages.sort_by(|a, b| (&a.name, &a.tool).cmp(&(&b.name, &b.tool)));
        results.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        skipped.files.sort_by(|a, b| (&a.path, &a.stage, &a.reason).cmp(&(&b.path, &b.stage, &b.reason)));
        skipped.files.dedup();
        for f in &skipped.files {
            *skipped.by_reason.entry(f.reason.clone()).or_insert(0) += 1;
        }
        let summary = summarize(&results);
        Input {
            version: INPUT_VERSION,
            run: facts.run,
            detected: facts.detected,
            stages,
            results,
            skipped,
            triage,
            sbom: facts.sbom,
            summary,
        }
    }
}

/// The findings of a run being read result by result.
#[derive(Debug)]
pub struct RunStream {
    name: String,
    findings: Vec<Finding>,
}

impl RunStream {
    pub fn add(&mut self, run: &Run, result: &SarifResult) {
        self.findings.push(finding(run, result, &self.name));
    }
}

/// Results are sorted by stage, path, line, rule and fingerprint.
type SortKey<'a> = (&'a str, Option<(&'a str, Option<u32>)>, &'a str, Option<&'a str>);

fn sort_key(f: &Finding) -> SortKey<'_> {
    let location = f.location.as_ref().map(|l| (l.path.as_str(), l.line));
    (f.stage.as_str(), location, f.rule.as_str(), f.fingerprint.as_deref())
}

/// The stage a run belongs to: sluice's one answer, [`sluice_sarif::stage_of`].
pub use sluice_sarif::stage_of;

/// The files a run's notifications say were not scanned (`sluice_sarif::skipped_files`).
fn skipped_files(run: &Run, stage: &str, out: &mut Vec<SkippedFile>) {
    out.extend(sluice_sarif::skipped_files(run).into_iter().map(|s| SkippedFile {
        path: s.path.to_owned(),
        stage: stage.to_owned(),
        reason: s.reason.to_owned(),
        message: cap(s.message.to_owned()),
    }));
}

fn stage(run: &Run, name: String) -> Stage {
    let failed: Vec<&sluice_sarif::sarif::Invocation> =
        run.invocations.iter().flatten().filter(|i| !i.execution_successful).collect();
    let failures = failed
        .iter()
        .flat_map(|i| i.tool_execution_notifications.iter().flatten())
        .filter_map(|n| n.message.text.clone())
        .collect();
    let driver = &run.tool.driver;
    Stage {
        name,
        tool: driver.name.clone(),
        version: driver.version.clone().or_else(|| driver.semantic_version.clone()),
        status: if failed.is_empty() { "succeeded" } else { "failed" }.to_owned(),
        results: run.results.as_ref().map_or(0, Vec::len),
        failures,
    }
}

fn finding(run: &Run, result: &SarifResult, run_stage: &str) -> Finding {
    let rule = rule_for(result, run);
    let props = result.properties.as_ref().map(|p| &p.additional_properties);
    let prop = |key: &str| props.and_then(|p| p.get(key));
    // The run's stage, never a result's own claim.
    let stage = run_stage.to_owned();
    let cwe = result_cwes(result, rule);
    let rule_id = result.rule_id.clone().or_else(|| rule.map(|r| r.id.clone())).unwrap_or_else(|| "(no rule)".into());
    let accepted: Vec<&sluice_sarif::sarif::Suppression> = result
        .suppressions
        .iter()
        .flatten()
        .filter(|s| s.status.as_ref().and_then(Value::as_str).is_none_or(|st| st == "accepted"))
        .collect();
    let suppressions: BTreeSet<String> = accepted.iter().filter_map(|s| s.kind.as_str().map(str::to_owned)).collect();
    // The run's stage, then the contract's one test (a secrets scanner, a credential CWE, a
    // rule that says it is about credentials).
    let secret = stage == "secrets" || sluice_sarif::is_credential(&run.tool.driver.name, result, rule);
    let region = primary_region(result);
    Finding {
        rule: rule_id,
        stage,
        tool: run.tool.driver.name.clone(),
        level: level_str(result.level.unwrap_or(ResultLevel::Warning)).to_owned(),
        severity: severity_of(result, rule).as_str().to_owned(),
        score: security_severity(result, rule),
        baseline_state: result.baseline_state.as_ref().and_then(Value::as_str).map(str::to_owned),
        status: if accepted.is_empty() { "open" } else { "suppressed" }.to_owned(),
        secret,
        triage: prop(keys::TRIAGE).and_then(triage_decision),
        suppressions: suppressions.into_iter().collect(),
        cwe,
        fingerprint: result.partial_fingerprints.as_ref().and_then(|f| f.get(sluice_sarif::keys::FINGERPRINT).cloned()),
        location: artifact_path(result)
            .map(|path| Location { path, line: region.and_then(|r| r.start_line).and_then(|l| u32::try_from(l).ok()) }),
        message: message_text(result),
    }
}

fn triage_decision(value: &Value) -> Option<TriageDecision> {
    let obj = value.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
    let server = text("origin").as_deref() == Some("server");
    Some(TriageDecision {
        status: text("status")?,
        reason: text("reason"),
        who: text("who"),
        when: text("when"),
        expires: text("expires"),
        decision: text("decision"),
        source: if server { "server" } else { "repository" }.to_owned(),
        scope: text("scope").filter(|s| ["finding", "rule", "advisory"].contains(&s.as_str())),
        organisation_wide: server && flag("organisation_wide"),
        decided_by: if server { text("decided_by") } else { text("who") },
        role: if server { text("role") } else { None },
        approved: server && flag("approved"),
        approved_at: if server { text("approved_at") } else { None },
        signature_verified: server && flag("signature_verified"),
    })
}

fn triage_summary(run: &Run) -> Triage {
    let props = run.properties.as_ref().map(|p| &p.additional_properties);
    let count = |k: &str| props.and_then(|p| p.get(k)).and_then(Value::as_u64).unwrap_or(0);
    Triage {
        applied: true,
        baseline: props.is_some_and(|p| p.contains_key(keys::FIXED)),
        decisions: count(keys::DECISIONS),
        stale: count(keys::STALE),
        expired: count(keys::EXPIRED),
        fixed: count(keys::FIXED),
    }
}

/// The message with `{0}` placeholders filled, capped so one long message cannot bloat the
/// input (stages already redact secrets in messages).
fn message_text(result: &SarifResult) -> String {
    let mut text = result.message.text.clone().unwrap_or_default();
    for (i, arg) in result.message.arguments.iter().flatten().enumerate() {
        text = text.replace(&format!("{{{i}}}"), arg);
    }
    cap(text)
}

fn cap(mut text: String) -> String {
    if text.len() > 500 {
        let mut end = 500;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn level_str(level: ResultLevel) -> &'static str {
    match level {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

fn summarize(results: &[Finding]) -> Summary {
    let mut by = BTreeMap::new();
    for s in ["critical", "high", "medium", "low", "info"] {
        by.insert(s.to_owned(), 0);
    }
    let mut summary = Summary { results: results.len(), ..Summary::default() };
    for r in results {
        if r.status == "open" {
            summary.open += 1;
            *by.entry(r.severity.clone()).or_insert(0) += 1;
            if r.baseline_state.as_deref() == Some("new") {
                summary.new += 1;
            }
        } else {
            summary.suppressed += 1;
        }
    }
    summary.open_by_severity = by;
    summary
}

/// A short summary of an SBOM file for `input.sbom`: its format and component count.
/// `None` when the file is neither CycloneDX nor SPDX JSON.
pub fn sbom_summary(path: &str, text: &str) -> Option<Sbom> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let (format, components) = if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        ("cyclonedx", doc.get("components").and_then(Value::as_array).map_or(0, Vec::len))
    } else if doc.get("spdxVersion").is_some() {
        ("spdx", doc.get("packages").and_then(Value::as_array).map_or(0, Vec::len))
    } else {
        return None;
    };
    Some(Sbom { path: path.to_owned(), format: format.to_owned(), components: components as u64 })
}
