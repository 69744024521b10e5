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

use std::collections::HashMap;

use serde_json::{json, Value};
use sluice_sarif::keys;
use sluice_sarif::sarif::{PropertyBag, Sarif, Suppression};

use crate::apply::{facts, prop, run_stage, Index};
use crate::date::Date;
use crate::decisions::{Decision, Decisions, Selector, Status};

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
}

/// Applies `decisions` to `log` in place (see the module's precedence).
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
    // The repository's matcher, over the server's selectors.
    let items: Vec<Decision> = live
        .iter()
        .map(|d| Decision {
            line: 0,
            selector: d.selector.clone(),
            stage: d.stage.clone(),
            status: d.status,
            reason: d.reason.clone(),
            who: d.proposed_by.clone(),
            when: opts.today,
            expires: d.expires,
            source: None,
            vex_status: None,
            vex_justification: d.vex_justification.clone(),
        })
        .collect();
    // Several decisions of one fingerprint: the index keeps one; make it the newest.
    let index = Index::new(&items);
    let want_deps = !index.by_advisory.is_empty();
    let mut rendered: HashMap<usize, (Value, Option<Suppression>)> = HashMap::new();
    let mut found = Vec::new();
    for run in &mut log.runs {
        let stage = run_stage(run);
        for result in run.results.iter_mut().flatten() {
            let f = facts(result, &stage, want_deps);
            index.matches(&items, &f, &mut found);
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
                    result.suppressions.get_or_insert_with(Vec::new).push(s);
                    outcome.suppressed += 1;
                }
                None => {
                    if result.suppressions.as_ref().is_some_and(Vec::is_empty) {
                        result.suppressions = None;
                    }
                    outcome.confirmed += 1;
                }
            }
        }
    }
    outcome
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
    let uri = format!("{}/{}", opts.decision_base.trim_end_matches('/'), d.id);
    let role = d.decided_role.clone();
    let when = d.approved_at.as_deref().and_then(|a| a.get(..10)).unwrap_or_default().to_owned();
    let mut triage = serde_json::Map::new();
    triage.insert("status".into(), json!(d.status.as_str()));
    triage.insert("origin".into(), json!("server"));
    triage.insert("scope".into(), json!(d.selector.scope()));
    triage.insert("organisation_wide".into(), json!(d.project.is_none()));
    triage.insert("reason".into(), json!(d.reason));
    triage.insert("who".into(), json!(d.proposed_by));
    triage.insert("when".into(), json!(when));
    if let Some(e) = d.expires {
        triage.insert("expires".into(), json!(e.to_string()));
    }
    if let Some(j) = &d.vex_justification {
        triage.insert("vex_justification".into(), json!(j));
    }
    triage.insert("decided_by".into(), json!(d.decided_by));
    triage.insert("role".into(), json!(role));
    triage.insert("approved".into(), json!(d.decided_by.is_some()));
    triage.insert("approved_at".into(), json!(d.approved_at));
    triage.insert("signature_verified".into(), json!(opts.verified));
    triage.insert("decision".into(), json!(uri));
    // Built directly (not through `serde_json::from_value`): this runs once per decision that
    // matched, 40,000 times in the 100,000-decision benchmark.
    let suppression = d.status.suppresses().then(|| {
        let mut props = std::collections::BTreeMap::new();
        props.insert(keys::DECISION.into(), json!(uri));
        props.insert(keys::STATUS.into(), json!(d.status.as_str()));
        props.insert(keys::WHO.into(), json!(d.proposed_by));
        props.insert(keys::WHEN.into(), json!(when));
        if let Some(e) = d.expires {
            props.insert(keys::EXPIRES.into(), json!(e.to_string()));
        }
        props.insert(keys::DECISION_ORIGIN.into(), json!("server"));
        props.insert(keys::DECISION_SCOPE.into(), json!(d.selector.scope()));
        props.insert(keys::ORGANISATION_WIDE.into(), json!(d.project.is_none()));
        props.insert(keys::DECIDED_BY.into(), json!(d.decided_by));
        props.insert(keys::DECIDED_ROLE.into(), json!(role));
        props.insert(keys::APPROVED_AT.into(), json!(d.approved_at));
        props.insert(keys::SIGNATURE_VERIFIED.into(), json!(opts.verified));
        let by = match (&d.decided_by, &role) {
            (Some(who), Some(role)) => format!(" (approved by {who}, {role})"),
            (Some(who), None) => format!(" (approved by {who})"),
            _ => String::new(),
        };
        Suppression {
            guid: None,
            justification: Some(format!("{}: {}{by}", d.status.as_str(), d.reason)),
            kind: json!("external"),
            location: None,
            properties: Some(PropertyBag { tags: None, additional_properties: props }),
            status: Some(json!("accepted")),
        }
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
        let p = suppression_props(&log, 1).unwrap();
        assert_eq!(p[keys::DECISION], "https://s/api/v1/decisions/4");
        assert_eq!(p[keys::DECIDED_BY], "user:sec");
        assert_eq!(p[keys::DECIDED_ROLE], "security");
        assert_eq!(p[keys::DECISION_ORIGIN], "server");
        assert_eq!(p[keys::ORGANISATION_WIDE], true);
        assert_eq!(p[keys::SIGNATURE_VERIFIED], true);
        assert!(suppression_props(&log, 0).is_none(), "the SAST finding is another one");
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
}
