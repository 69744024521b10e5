//! Applying the server's decisions (org-wide triage) to a log that the repository's own
//! decisions (`.sluice/triage.toml`) were already applied to.
//!
//! Matching is the repository's: a finding by fingerprint, a rule in the files a glob matches,
//! an advisory (by id or any alias) in a package. Expired decisions do not apply.
//!
//! Precedence, when both the repository and the server decide one finding: the more specific
//! decision wins (one finding, over a rule or an advisory in the project, over an
//! organisation-wide rule or advisory); on equal specificity the server's wins, because it
//! carries what the repository's cannot: who approved it, with which role, nobody approving
//! their own proposal. So a project's `confirmed` finding stays confirmed whatever the
//! organisation decided about the advisory, and a security approval of one finding replaces a
//! developer's decision about it in `triage.toml`. Among the server's own decisions the most
//! specific wins, then the newest (highest id). Never an error: two sources deciding is normal.

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_sarif::sarif::{ResultLevel, Run, Sarif, Suppression};
use sluice_sarif::{keys, rule_for, severity_of, Severity};

use crate::apply::{decision_suppression, facts, prop, run_stage, Index};
use crate::date::Date;
use crate::decisions::{Decisions, Selector, Status};

/// One approved decision of the server, as its decision set carries it.
#[derive(Debug, Clone)]
pub struct ServerDecision {
    pub id: i64,
    /// None: organisation-wide.
    pub project: Option<String>,
    /// `Fingerprint` (without rename data), `RulePath` or `Advisory` (without versions).
    pub selector: Selector,
    pub stage: Option<String>,
    pub status: Status,
    pub reason: String,
    pub vex_justification: Option<String>,
    pub expires: Option<Date>,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub decided_role: Option<String>,
    /// RFC 3339.
    pub approved_at: Option<String>,
    /// Who may approve it (`champion`, `security`); shown for a proposal.
    pub required_role: Option<String>,
    /// A `confirmed` rule decision may re-rate the findings it covers.
    pub set_severity: Option<Severity>,
}

/// A string of the decision set, borrowed from the payload unless it has escapes (a large set
/// is a million strings: parsed without copying them, copied once where they are kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireStr<'a>(pub Cow<'a, str>);

impl WireStr<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for WireStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = WireStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A decision as the server's signed decision set carries it: the fields of
/// `sluice_server::model::DecisionView` that a run reads (the others are ignored). The one
/// place the wire form becomes the engine's [`ServerDecision`], for `sluice run` and the
/// benchmark alike.
#[derive(Debug, Clone, Deserialize)]
pub struct WireDecision<'a> {
    pub id: i64,
    #[serde(borrow)]
    pub project: Option<WireStr<'a>>,
    /// `finding`, `rule` or `advisory`.
    #[serde(borrow)]
    pub scope: WireStr<'a>,
    #[serde(borrow)]
    pub fingerprint: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub rule: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub path: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub advisory: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub package: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub stage: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub status: WireStr<'a>,
    #[serde(borrow)]
    pub vex_justification: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub reason: WireStr<'a>,
    /// `YYYY-MM-DD`.
    #[serde(borrow)]
    pub expires: Option<WireStr<'a>>,
    /// Only `approved` decisions apply.
    #[serde(borrow)]
    pub state: WireStr<'a>,
    #[serde(borrow)]
    pub proposed_by: WireStr<'a>,
    #[serde(borrow)]
    pub decided_by: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub decided_role: Option<WireStr<'a>>,
    #[serde(borrow)]
    pub decided_at: Option<WireStr<'a>>,
    /// `champion` or `security`: who may approve it.
    #[serde(default, borrow)]
    pub required_role: Option<WireStr<'a>>,
    /// For a `rule` decision that re-rates the rule's findings: their new severity.
    #[serde(default, borrow)]
    pub set_severity: Option<WireStr<'a>>,
}

/// The payload of the server's signed decision set (`sluice_server::model::DecisionSet`).
#[derive(Debug, Clone, Deserialize)]
pub struct WireDecisionSet<'a> {
    /// `sluice_policy::attest::DECISION_SET_TYPE`.
    #[serde(rename = "_type")]
    pub type_: String,
    pub project: String,
    /// RFC 3339: when the server signed it.
    pub issued_at: String,
    #[serde(borrow)]
    pub decisions: Vec<WireDecision<'a>>,
    /// The project's proposals awaiting approval (a server before them sent none).
    #[serde(default, borrow)]
    pub pending: Vec<WireDecision<'a>>,
}

/// A decision set as a run applies it: what the server signed about it, its approved
/// decisions and its proposals in the engine's form.
#[derive(Debug, Clone)]
pub struct ServerDecisionSet {
    /// `sluice_policy::attest::DECISION_SET_TYPE`.
    pub type_: String,
    pub project: String,
    /// RFC 3339: when the server signed it.
    pub issued_at: String,
    /// The approved decisions this version can apply, in the set's order.
    pub decisions: Vec<ServerDecision>,
    /// The proposals awaiting approval.
    pub pending: Vec<ServerDecision>,
}

impl ServerDecisionSet {
    /// Reads a decision set's payload: parsed without copying its strings, then turned into
    /// the engine's form on every core (100,000 decisions are a million strings to copy).
    pub fn parse(payload: &[u8]) -> Result<ServerDecisionSet, serde_json::Error> {
        // UTF-8 checked once over the whole payload (fast on ASCII), not string by string.
        let text = std::str::from_utf8(payload)
            .map_err(|e| <serde_json::Error as serde::de::Error>::custom(format!("the payload is not UTF-8: {e}")))?;
        let wire: WireDecisionSet<'_> = serde_json::from_str(text)?;
        let decisions =
            wire.decisions.into_par_iter().with_min_len(CHUNK).filter_map(WireDecision::into_server).collect();
        let pending = wire.pending.into_iter().filter_map(WireDecision::into_pending).collect();
        Ok(ServerDecisionSet {
            type_: wire.type_,
            project: wire.project,
            issued_at: wire.issued_at,
            decisions,
            pending,
        })
    }
}

impl WireDecision<'_> {
    /// The engine's form of an approved decision; `None` for a proposal, a rejected or revoked
    /// decision, or one whose scope, selector, status or severity this version does not know.
    pub fn into_server(self) -> Option<ServerDecision> {
        if self.state.as_str() != "approved" {
            return None;
        }
        self.into_decision()
    }

    /// The engine's form of a proposal awaiting approval, to mark what it covers.
    pub fn into_pending(self) -> Option<ServerDecision> {
        if self.state.as_str() != "proposed" {
            return None;
        }
        self.into_decision()
    }

    fn into_decision(self) -> Option<ServerDecision> {
        let own = |s: Option<WireStr<'_>>| s.map(WireStr::into_owned);
        let selector = match self.scope.as_str() {
            "finding" => {
                Selector::Fingerprint { fingerprint: own(self.fingerprint)?, rule: None, path: None, commit: None }
            }
            "rule" => Selector::RulePath { rule: own(self.rule)?, glob: own(self.path).unwrap_or_else(|| "**".into()) },
            "advisory" => {
                Selector::Advisory { advisory: own(self.advisory)?, package: own(self.package)?, versions: None }
            }
            _ => return None,
        };
        Some(ServerDecision {
            id: self.id,
            project: own(self.project),
            selector,
            stage: own(self.stage),
            status: Status::parse(self.status.as_str())?,
            reason: self.reason.into_owned(),
            vex_justification: own(self.vex_justification),
            expires: self.expires.as_ref().and_then(|e| Date::parse(e.as_str())),
            proposed_by: self.proposed_by.into_owned(),
            decided_by: own(self.decided_by),
            decided_role: own(self.decided_role),
            approved_at: own(self.decided_at),
            required_role: own(self.required_role).filter(|r| !r.is_empty()),
            set_severity: match &self.set_severity {
                None => None,
                // A severity this version cannot read: the decision is not applied at all.
                Some(s) => Some(Severity::parse(s.as_str())?),
            },
        })
    }
}

impl ServerDecision {
    /// 3: one finding; 2: a rule or an advisory in a project; 1: organisation-wide.
    fn specificity(&self) -> u8 {
        match (&self.selector, &self.project) {
            (Selector::Fingerprint { .. }, _) => 3,
            (_, Some(_)) => 2,
            (_, None) => 1,
        }
    }
}

pub struct ServerOptions<'a> {
    pub today: Date,
    /// Whether the decision set's signature held with a pinned key.
    pub verified: bool,
    /// Where a decision is shown: `{decision_base}/{id}` (the server's decision URL).
    pub decision_base: &'a str,
    /// The repository's decisions that were applied, to weigh them against the server's.
    pub repository: Option<&'a Decisions>,
}

/// What applying the server's decisions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOutcome {
    /// Results now suppressed by a server decision.
    pub suppressed: usize,
    /// Results a `confirmed` server decision recorded.
    pub confirmed: usize,
    /// Results whose repository decision a server decision replaced.
    pub overrode: usize,
    /// Results whose repository decision was kept over a less specific server decision.
    pub kept: usize,
    /// Decisions past their expiry, not applied.
    pub expired: usize,
    /// Results a decision re-rated (`set_severity`).
    pub rerated: usize,
}

/// Results handled by one task when a run's results are shared between threads.
const CHUNK: usize = 2048;

/// Applies `decisions` to `log` in place (see the module's precedence). A large run's results
/// are matched and rendered on every core (each result is decided on its own).
pub fn apply_server(log: &mut Sarif, decisions: &[ServerDecision], opts: &ServerOptions<'_>) -> ServerOutcome {
    let mut outcome = ServerOutcome::default();
    let live: Vec<&ServerDecision> = decisions
        .iter()
        .filter(|d| {
            let expired = d.expires.is_some_and(|e| e <= opts.today);
            outcome.expired += usize::from(expired);
            !expired
        })
        .collect();
    if live.is_empty() {
        return outcome;
    }
    // The repository's matcher, over the server's selectors. Several decisions of one
    // fingerprint: the index keeps the last, the newest (the set is sorted by id).
    let index = Index::new(live.iter().map(|d| (&d.selector, d.stage.as_deref())));
    let want_deps = !index.by_advisory.is_empty();
    let ctx = Ctx { live: &live, index: &index, want_deps, opts };
    for run in &mut log.runs {
        let stage = run_stage(run);
        // Out of the run while they change, so the run's rules can be read beside them.
        // (A run without `results` keeps none: absent is not the same as empty in SARIF.)
        let Some(mut results) = run.results.take() else { continue };
        let shared: &Run = run;
        let counts = if results.len() > CHUNK {
            results
                .par_chunks_mut(CHUNK)
                .map(|chunk| ctx.decide(chunk, shared, &stage))
                .reduce(ServerOutcome::default, ServerOutcome::sum)
        } else {
            ctx.decide(&mut results, shared, &stage)
        };
        outcome = outcome.sum(counts);
        run.results = Some(results);
    }
    outcome
}

/// What deciding a run's results needs, shared by the threads that do it.
struct Ctx<'a> {
    live: &'a [&'a ServerDecision],
    index: &'a Index<'a>,
    want_deps: bool,
    opts: &'a ServerOptions<'a>,
}

impl Ctx<'_> {
    /// Decides `results` (of `run`, whose results are out of it); the counts of what it did.
    fn decide(&self, results: &mut [sluice_sarif::sarif::Result], run: &Run, stage: &str) -> ServerOutcome {
        let (live, opts) = (self.live, self.opts);
        let mut outcome = ServerOutcome::default();
        let mut rendered: HashMap<usize, (Value, Option<Suppression>)> = HashMap::new();
        let mut found = Vec::new();
        for result in results {
            let f = facts(result, stage, self.want_deps);
            self.index.matches(&f, &mut found);
            let Some(&best) = found.iter().max_by_key(|&&i| (live[i].specificity(), live[i].id)) else { continue };
            let repo = prop(result, keys::TRIAGE).map(|t| repository_specificity(t, opts.repository));
            if let Some(repo) = repo {
                if repo > live[best].specificity() {
                    outcome.kept += 1;
                    continue;
                }
                outcome.overrode += 1;
            }
            // A finding decision usually decides one result: rendered for it and moved. The
            // others (rules, advisories) are rendered once and cloned into each result.
            let (triage, suppression) = if matches!(live[best].selector, Selector::Fingerprint { .. }) {
                render(live[best], opts)
            } else {
                let (t, s) = rendered.entry(best).or_insert_with(|| render(live[best], opts));
                (t.clone(), s.clone())
            };
            if let Some(list) = result.suppressions.as_mut() {
                list.retain(|s| {
                    !s.properties.as_ref().is_some_and(|p| p.additional_properties.contains_key(keys::DECISION))
                });
            }
            result
                .properties
                .get_or_insert_with(Default::default)
                .additional_properties
                .insert(keys::TRIAGE.into(), triage);
            match suppression {
                Some(s) => {
                    // Most results get one suppression: room for one (a suppression is hundreds of bytes).
                    result.suppressions.get_or_insert_with(|| Vec::with_capacity(1)).push(s);
                    outcome.suppressed += 1;
                }
                None => {
                    if result.suppressions.as_ref().is_some_and(Vec::is_empty) {
                        result.suppressions = None;
                    }
                    outcome.confirmed += 1;
                }
            }
            if let Some(to) = live[best].set_severity {
                let from = severity_of(result, rule_for(result, run));
                rerate(result, from, to, &decision_uri(live[best], opts));
                outcome.rerated += 1;
            }
        }
        outcome
    }
}

impl ServerOutcome {
    fn sum(self, o: ServerOutcome) -> ServerOutcome {
        ServerOutcome {
            suppressed: self.suppressed + o.suppressed,
            confirmed: self.confirmed + o.confirmed,
            overrode: self.overrode + o.overrode,
            kept: self.kept + o.kept,
            expired: self.expired + o.expired,
            rerated: self.rerated + o.rerated,
        }
    }
}

/// The score and level a re-rated result carries: the middle of the severity's band
/// (`Severity::from_score` gives the severity back), and the SARIF level GitHub and GitLab
/// show for it.
fn score_and_level(severity: Severity) -> (&'static str, ResultLevel) {
    match severity {
        Severity::Critical => ("9.5", ResultLevel::Error),
        Severity::High => ("8.0", ResultLevel::Error),
        Severity::Medium => ("5.5", ResultLevel::Warning),
        Severity::Low => ("2.0", ResultLevel::Note),
        Severity::Info => ("0.0", ResultLevel::Note),
    }
}

/// Re-rates a result as a decision says, keeping what it was.
fn rerate(result: &mut sluice_sarif::sarif::Result, from: Severity, to: Severity, uri: &str) {
    let (score, level) = score_and_level(to);
    result.level = Some(level);
    let props = &mut result.properties.get_or_insert_with(Default::default).additional_properties;
    props.insert(keys::SECURITY_SEVERITY.into(), json!(score));
    props.insert(keys::SEVERITY_CHANGED.into(), json!({"from": from.as_str(), "to": to.as_str(), "decision": uri}));
}

fn decision_uri(d: &ServerDecision, opts: &ServerOptions<'_>) -> String {
    format!("{}/{}", opts.decision_base.trim_end_matches('/'), d.id)
}

/// Marks the results that proposals awaiting approval would decide (`sluice/pending-decision`),
/// so the merge-request comment can say what waits for whom. Suppresses nothing; a result
/// already suppressed is left alone. Returns how many results were marked.
pub fn mark_pending(log: &mut Sarif, pending: &[ServerDecision], decision_base: &str) -> usize {
    if pending.is_empty() {
        return 0;
    }
    let index = Index::new(pending.iter().map(|d| (&d.selector, d.stage.as_deref())));
    let want_deps = !index.by_advisory.is_empty();
    let mut found = Vec::new();
    let mut marked = 0;
    for run in &mut log.runs {
        let stage = run_stage(run);
        for result in run.results.iter_mut().flatten() {
            if result.suppressions.as_ref().is_some_and(|s| !s.is_empty()) {
                continue;
            }
            let f = facts(result, &stage, want_deps);
            index.matches(&f, &mut found);
            // The most specific, then the oldest proposal: the one filed first waits longest.
            let Some(&best) = found.iter().max_by_key(|&&i| (pending[i].specificity(), -pending[i].id)) else {
                continue;
            };
            let d = &pending[best];
            let uri = format!("{}/{}", decision_base.trim_end_matches('/'), d.id);
            result.properties.get_or_insert_with(Default::default).additional_properties.insert(
                keys::PENDING_DECISION.into(),
                json!({
                    "id": d.id,
                    "status": d.status.as_str(),
                    "required_role": d.required_role,
                    "proposed_by": d.proposed_by,
                    "decision": uri,
                }),
            );
            marked += 1;
        }
    }
    marked
}

/// How specific the repository decision recorded in a result's `sluice/triage` is; a decision
/// that cannot be found counts as the most specific (the repository keeps it).
fn repository_specificity(triage: &Value, repository: Option<&Decisions>) -> u8 {
    if triage.get("origin").and_then(Value::as_str) == Some("server") {
        return 0;
    }
    let line = triage
        .get("decision")
        .and_then(Value::as_str)
        .and_then(|d| d.rsplit_once(':'))
        .and_then(|(_, line)| line.parse::<usize>().ok());
    match line.and_then(|l| repository?.at_line(l)).map(|d| &d.selector) {
        Some(Selector::RulePath { .. } | Selector::Advisory { .. }) => 2,
        _ => 3,
    }
}

fn render(d: &ServerDecision, opts: &ServerOptions<'_>) -> (Value, Option<Suppression>) {
    let uri = decision_uri(d, opts);
    let role = d.decided_role.clone();
    let when = d.approved_at.as_deref().and_then(|a| a.get(..10)).unwrap_or_default().to_owned();
    // Collected, not inserted one by one: the map is built in one pass from its sorted fields.
    let mut fields = vec![
        ("status", json!(d.status.as_str())),
        ("origin", json!("server")),
        ("scope", json!(d.selector.scope())),
        ("organisation_wide", json!(d.project.is_none())),
        ("reason", json!(d.reason)),
        ("who", json!(d.proposed_by)),
        ("when", json!(when)),
        ("decided_by", json!(d.decided_by)),
        ("role", json!(role)),
        ("approved", json!(d.decided_by.is_some())),
        ("approved_at", json!(d.approved_at)),
        ("signature_verified", json!(opts.verified)),
        ("decision", json!(uri)),
    ];
    if let Some(e) = d.expires {
        fields.push(("expires", json!(e.to_string())));
    }
    if let Some(j) = &d.vex_justification {
        fields.push(("vex_justification", json!(j)));
    }
    if let Some(s) = d.set_severity {
        fields.push(("set_severity", json!(s.as_str())));
    }
    let triage: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let suppression = d.status.suppresses().then(|| {
        let by = match (&d.decided_by, &role) {
            (Some(who), Some(role)) => format!(" (approved by {who}, {role})"),
            (Some(who), None) => format!(" (approved by {who})"),
            _ => String::new(),
        };
        decision_suppression(uri, format!("{}: {}{by}", d.status.as_str(), d.reason), None)
    });
    (Value::Object(triage), suppression)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_sarif::read_log;

    const FP: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1";

    fn log() -> Sarif {
        let text = format!(
            r#"{{"version":"2.1.0","runs":[
            {{"tool":{{"driver":{{"name":"bandit"}}}},"automationDetails":{{"id":"sluice/bandit/"}},"results":[
              {{"ruleId":"B602","message":{{"text":"shell"}},"partialFingerprints":{{"sluice/v1":"{FP}"}},
                "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"app/a.py"}},"region":{{"startLine":3}}}}}}]}}]}},
            {{"tool":{{"driver":{{"name":"osv"}}}},"automationDetails":{{"id":"sluice/deps/"}},"results":[
              {{"ruleId":"GHSA-jf85-cpcp-j695","message":{{"text":"lodash"}},"properties":{{"sluice/purl":"pkg:npm/lodash@4.17.20","sluice/aliases":["CVE-2019-10744"]}}}}]}}]}}"#
        );
        read_log(text.as_bytes(), "t").unwrap()
    }

    fn decision(id: i64, project: Option<&str>, selector: Selector, status: Status) -> ServerDecision {
        ServerDecision {
            id,
            project: project.map(str::to_owned),
            selector,
            stage: None,
            status,
            reason: "why".into(),
            vex_justification: None,
            expires: None,
            proposed_by: "user:dev".into(),
            decided_by: Some("user:sec".into()),
            decided_role: Some("security".into()),
            approved_at: Some("2026-01-02T03:04:05Z".into()),
            required_role: None,
            set_severity: None,
        }
    }

    fn opts(repository: Option<&Decisions>) -> ServerOptions<'_> {
        ServerOptions {
            today: Date::parse("2026-06-01").unwrap(),
            verified: true,
            decision_base: "https://s/api/v1/decisions",
            repository,
        }
    }

    fn suppression_props(log: &Sarif, run: usize) -> Option<std::collections::BTreeMap<String, Value>> {
        let r = &log.runs[run].results.as_ref().unwrap()[0];
        r.suppressions.as_ref()?.first()?.properties.as_ref().map(|p| p.additional_properties.clone())
    }

    #[test]
    fn an_advisory_alias_matches_and_the_suppression_says_who_and_how() {
        let mut log = log();
        let adv = Selector::Advisory { advisory: "cve-2019-10744".into(), package: "lodash".into(), versions: None };
        let out = apply_server(&mut log, &[decision(4, None, adv, Status::Mitigated)], &opts(None));
        assert_eq!(out, ServerOutcome { suppressed: 1, ..Default::default() });
        // The suppression points at the decision; the record beside it says who and how.
        let p = suppression_props(&log, 1).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), [keys::DECISION]);
        assert_eq!(p[keys::DECISION], "https://s/api/v1/decisions/4");
        let r = &log.runs[1].results.as_ref().unwrap()[0];
        let record = &r.properties.as_ref().unwrap().additional_properties[keys::TRIAGE];
        assert_eq!(record["decision"], "https://s/api/v1/decisions/4");
        assert_eq!(record["decided_by"], "user:sec");
        assert_eq!(record["role"], "security");
        assert_eq!(record["origin"], "server");
        assert_eq!(record["organisation_wide"], true);
        assert_eq!(record["signature_verified"], true);
        let justification = r.suppressions.as_ref().unwrap()[0].justification.as_deref();
        assert_eq!(justification, Some("mitigated: why (approved by user:sec, security)"));
        assert!(suppression_props(&log, 0).is_none(), "the SAST finding is another one");
    }

    /// Strings without escapes are borrowed from the payload, the others decoded; both read
    /// the same as owned strings would. A payload that is not UTF-8 is refused.
    #[test]
    fn the_set_reads_strings_with_and_without_escapes() {
        let payload = br#"{"_type":"t","project":"p","issued_at":"2026-12-07T00:00:00Z","decisions":[
            {"id":1,"scope":"rule","rule":"py.sql","path":"src\/db\/**","status":"false_positive",
             "reason":"a \"quoted\" reason\nwith a line and \u00e9","state":"approved","proposed_by":"user:dev",
             "decided_by":"user:sec","decided_role":"security","decided_at":"2026-12-01T00:00:00Z"},
            {"id":2,"scope":"finding","fingerprint":"ab:1","status":"confirmed","reason":"plain",
             "state":"proposed","proposed_by":"user:dev","required_role":"champion"}],
            "pending":[{"id":2,"scope":"finding","fingerprint":"ab:1","status":"confirmed","reason":"plain",
             "state":"proposed","proposed_by":"user:dev","required_role":"champion"}]}"#;
        let set = ServerDecisionSet::parse(payload).unwrap();
        assert_eq!(set.decisions.len(), 1, "a proposal is not applied");
        let d = &set.decisions[0];
        assert_eq!(d.reason, "a \"quoted\" reason\nwith a line and \u{e9}");
        assert!(matches!(&d.selector, Selector::RulePath { rule, glob } if rule == "py.sql" && glob == "src/db/**"));
        assert_eq!((d.decided_by.as_deref(), d.decided_role.as_deref()), (Some("user:sec"), Some("security")));
        assert_eq!(set.pending.len(), 1);
        assert_eq!(set.pending[0].required_role.as_deref(), Some("champion"));
        let mut bad = payload.to_vec();
        bad[60] = 0xff;
        let err = ServerDecisionSet::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_run_without_results_keeps_none_and_a_large_run_is_decided_whole() {
        let mut log = log();
        log.runs[1].results = None;
        // More results than one thread's chunk: every copy of the finding is decided.
        let one = log.runs[0].results.as_ref().unwrap()[0].clone();
        log.runs[0].results = Some(vec![one; 3 * CHUNK + 5]);
        let fp = Selector::Fingerprint { fingerprint: FP.into(), rule: None, path: None, commit: None };
        let out = apply_server(&mut log, &[decision(1, Some("p"), fp, Status::FalsePositive)], &opts(None));
        assert_eq!(out.suppressed, 3 * CHUNK + 5);
        assert!(log.runs[0]
            .results
            .as_ref()
            .unwrap()
            .iter()
            .all(|r| r.suppressions.as_ref().is_some_and(|s| s.len() == 1)));
        assert!(log.runs[1].results.is_none(), "absent results are not made empty");
    }

    #[test]
    fn expired_decisions_and_other_packages_do_not_apply() {
        let mut log = log();
        let mut d =
            decision(1, None, Selector::RulePath { rule: "B602".into(), glob: "app/**".into() }, Status::FalsePositive);
        d.expires = Some(Date::parse("2026-06-01").unwrap());
        let other =
            Selector::Advisory { advisory: "CVE-2019-10744".into(), package: "underscore".into(), versions: None };
        let out = apply_server(&mut log, &[d, decision(2, None, other, Status::Mitigated)], &opts(None));
        assert_eq!(out, ServerOutcome { expired: 1, ..Default::default() });
        assert!(suppression_props(&log, 0).is_none() && suppression_props(&log, 1).is_none());
    }

    #[test]
    fn the_more_specific_decision_wins_and_the_server_wins_ties() {
        let repo = Decisions::parse(
            &format!("[[decision]]\nfingerprint = \"{FP}\"\nstatus = \"confirmed\"\nreason = \"r\"\nwho = \"w\"\nwhen = 2026-01-01\n"),
            ".sluice/triage.toml",
        )
        .unwrap();
        let mut log = log();
        let mut none = |_: &str| None;
        let mut a = crate::ApplyOptions {
            today: Date::parse("2026-06-01").unwrap(),
            root: None,
            decisions_uri: ".sluice/triage.toml",
            renames: &mut none,
            check_stale: false,
        };
        crate::apply(&mut log, &repo, &mut a).unwrap();
        // An organisation-wide rule decision does not override the repository's finding decision.
        let rule = Selector::RulePath { rule: "B602".into(), glob: "**".into() };
        let out = apply_server(&mut log, &[decision(1, None, rule, Status::FalsePositive)], &opts(Some(&repo)));
        assert_eq!((out.kept, out.suppressed), (1, 0));
        assert!(suppression_props(&log, 0).is_none());
        // A decision about that finding does, and replaces the repository's.
        let one = Selector::Fingerprint { fingerprint: FP.into(), rule: None, path: None, commit: None };
        let out = apply_server(&mut log, &[decision(2, Some("p"), one, Status::FalsePositive)], &opts(Some(&repo)));
        assert_eq!((out.overrode, out.suppressed), (1, 1));
        let r = &log.runs[0].results.as_ref().unwrap()[0];
        assert_eq!(r.suppressions.as_ref().unwrap().len(), 1);
        assert_eq!(r.properties.as_ref().unwrap().additional_properties[keys::TRIAGE]["origin"], "server");
    }

    #[test]
    fn an_organisation_wide_severity_change_rerates_and_keeps_what_it_was() {
        let mut log = log();
        let mut d = decision(7, None, Selector::RulePath { rule: "B602".into(), glob: "**".into() }, Status::Confirmed);
        d.set_severity = Some(Severity::Low);
        let before = severity_of(&log.runs[0].results.as_ref().unwrap()[0], None);
        assert_eq!(before, Severity::Medium, "no score, level warning");
        let out = apply_server(&mut log, &[d], &opts(None));
        assert_eq!((out.rerated, out.confirmed, out.suppressed), (1, 1, 0));
        let r = &log.runs[0].results.as_ref().unwrap()[0];
        assert_eq!(severity_of(r, None), Severity::Low);
        assert_eq!(r.level, Some(ResultLevel::Note));
        let props = &r.properties.as_ref().unwrap().additional_properties;
        assert_eq!(
            props[keys::SEVERITY_CHANGED],
            json!({"from": "medium", "to": "low", "decision": "https://s/api/v1/decisions/7"})
        );
        assert_eq!(props[keys::TRIAGE]["set_severity"], "low");
        assert!(r.suppressions.is_none(), "a re-rated finding is still reported");
        // The dependency finding is another rule: untouched.
        assert!(!log.runs[1].results.as_ref().unwrap()[0]
            .properties
            .as_ref()
            .unwrap()
            .additional_properties
            .contains_key(keys::SEVERITY_CHANGED));
    }

    #[test]
    fn a_pending_proposal_marks_what_it_covers_and_suppresses_nothing() {
        let mut log = log();
        let mut p = decision(
            9,
            Some("p"),
            Selector::RulePath { rule: "B602".into(), glob: "app/**".into() },
            Status::FalsePositive,
        );
        p.decided_by = None;
        p.required_role = Some("champion".into());
        let other = decision(
            10,
            Some("p"),
            Selector::RulePath { rule: "B999".into(), glob: "**".into() },
            Status::FalsePositive,
        );
        assert_eq!(mark_pending(&mut log, &[p, other], "https://s/api/v1/decisions/"), 1);
        let r = &log.runs[0].results.as_ref().unwrap()[0];
        assert!(r.suppressions.is_none());
        let mark = &r.properties.as_ref().unwrap().additional_properties[keys::PENDING_DECISION];
        assert_eq!(mark["id"], 9);
        assert_eq!(mark["required_role"], "champion");
        assert_eq!(mark["decision"], "https://s/api/v1/decisions/9");
        // An already suppressed result is not marked.
        let mut log = super::tests::log();
        let fp = Selector::Fingerprint { fingerprint: FP.into(), rule: None, path: None, commit: None };
        apply_server(&mut log, &[decision(1, Some("p"), fp.clone(), Status::FalsePositive)], &opts(None));
        assert_eq!(mark_pending(&mut log, &[decision(2, Some("p"), fp, Status::AcceptedRisk)], "https://s"), 0);
    }
}
