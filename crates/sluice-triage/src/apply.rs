//! Applying decisions to a log: SARIF `suppressions`, never deletion.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use globset::{GlobSet, GlobSetBuilder};
use serde_json::{json, Value};
use sluice_sarif::sarif::{Result as SarifResult, Run, Sarif, Suppression};
use sluice_sarif::{artifact_path, keys, primary_region};

use crate::content::{fingerprint_at, Sources};
use crate::date::Date;
use crate::decisions::{Decision, Decisions, Selector};
use crate::renames::RenameMap;
use crate::version::Version;

/// Tool name of that run.
pub const TRIAGE_TOOL: &str = "sluice-triage";

pub struct ApplyOptions<'a> {
    pub today: Date,
    /// Repository root, to re-derive fingerprints of renamed files (`None`: no renames followed).
    pub root: Option<&'a Path>,
    /// The decisions file as an artifact URI relative to `%SRCROOT%` (`.sluice/triage.toml`),
    /// for the suppressions' locations and the notifications.
    pub decisions_uri: &'a str,
    /// Files renamed since a commit, as git sees them; `None` when that cannot be known.
    pub renames: &'a mut dyn FnMut(&str) -> Option<RenameMap>,
    /// Report decisions that match nothing. Off for logs that cover only some files
    /// (diff-aware runs), where "matches nothing here" says nothing.
    pub check_stale: bool,
}

/// A decision that followed its finding to a renamed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub decision: usize,
    pub from: String,
    pub to: String,
}

/// What applying decisions did. Indexes point into `Decisions::items`.
#[derive(Debug, Clone, Default)]
pub struct TriageOutcome {
    /// Findings matched, per decision.
    pub matches: Vec<usize>,
    /// Results now suppressed by a decision.
    pub suppressed: usize,
    /// Results with a `confirmed` decision (recorded, not suppressed).
    pub confirmed: usize,
    /// Live decisions that matched nothing in this log.
    pub stale: Vec<usize>,
    /// Expired decisions, with the number of findings each would still match.
    pub expired: Vec<(usize, usize)>,
    pub followed: Vec<Followed>,
}

/// One finding that more than one decision matches.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub lines: Vec<usize>,
    pub finding: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{}", render_conflicts(origin, conflicts))]
pub struct ConflictError {
    pub origin: String,
    pub conflicts: Vec<Conflict>,
}

fn render_conflicts(origin: &str, conflicts: &[Conflict]) -> String {
    const SHOWN: usize = 20;
    let mut out: Vec<String> = conflicts
        .iter()
        .take(SHOWN)
        .map(|c| {
            let lines: Vec<String> = c.lines.iter().map(ToString::to_string).collect();
            let listed = match lines.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => lines.join(""),
            };
            format!(
                "{origin}:{}: decisions at lines {listed} all match {}; a finding takes one decision: remove one, or narrow a rule's path glob",
                c.lines.first().copied().unwrap_or(0),
                c.finding
            )
        })
        .collect();
    if conflicts.len() > SHOWN {
        out.push(format!("{origin}: … and {} more conflicting findings", conflicts.len() - SHOWN));
    }
    out.push(format!("{origin}: no decision was applied"));
    out.join("\n")
}

/// The facts about a result that decisions match on, borrowed from it where they can be.
pub(crate) struct Facts<'r> {
    pub(crate) fingerprint: Option<&'r str>,
    pub(crate) rule: &'r str,
    path: Option<String>,
    stage: &'r str,
    /// Lowercased advisory ids: `sluice/advisory`, `sluice/aliases`, the rule id.
    advisories: Vec<String>,
    package: Option<&'r str>,
    purl: Option<&'r str>,
    version: Option<Version>,
    /// The package's ecosystem's version order, from its purl type.
    scheme: Option<sluice_advisory::version::Scheme>,
}

pub(crate) fn prop<'r>(result: &'r SarifResult, key: &str) -> Option<&'r Value> {
    result.properties.as_ref()?.additional_properties.get(key)
}

pub(crate) fn facts<'r>(result: &'r SarifResult, run_stage: &'r str, want_deps: bool) -> Facts<'r> {
    let rule = result.rule_id.as_deref().unwrap_or_default();
    let str_prop = |key: &str| prop(result, key).and_then(Value::as_str);
    let (mut advisories, mut version, mut scheme) = (Vec::new(), None, None);
    let (package, purl) = if want_deps { (str_prop(keys::PACKAGE), str_prop(keys::PURL)) } else { (None, None) };
    // An advisory decision names a package: a result without one (code, secrets) cannot match.
    if package.is_some() || purl.is_some() {
        advisories.push(rule.to_ascii_lowercase());
        if let Some(a) = str_prop(keys::ADVISORY) {
            advisories.push(a.to_ascii_lowercase());
        }
        for alias in prop(result, keys::ALIASES).and_then(Value::as_array).into_iter().flatten() {
            if let Some(a) = alias.as_str() {
                advisories.push(a.to_ascii_lowercase());
            }
        }
        let purl_version = purl.and_then(|p| split_purl(p).1);
        version = str_prop(keys::PACKAGE_VERSION).or(purl_version).and_then(Version::parse);
        scheme = purl
            .and_then(sluice_inventory::purl::parse)
            .and_then(|p| sluice_advisory::version::Scheme::for_ecosystem(p.ecosystem));
    }
    Facts {
        fingerprint: result.partial_fingerprints.as_ref().and_then(|f| f.get(keys::FINGERPRINT)).map(String::as_str),
        rule,
        path: artifact_path(result),
        stage: run_stage,
        advisories,
        package,
        purl,
        version,
        scheme,
    }
}

/// `pkg:npm/%40scope/name@1.2.3?q=1#sub` → (`pkg:npm/%40scope/name`, `1.2.3`).
pub(crate) fn split_purl(purl: &str) -> (&str, Option<&str>) {
    let core = purl.split(['?', '#']).next().unwrap_or(purl);
    // The version separator is the last `@` after the type's slash (`%40` encodes a scope's @).
    match core.rfind('@') {
        Some(at) if core[..at].contains('/') => (&core[..at], Some(&core[at + 1..])),
        _ => (core, None),
    }
}

fn purl_name(purl: &str) -> &str {
    let base = split_purl(purl).0;
    base.rsplit('/').next().unwrap_or(base)
}

/// The stage a run belongs to: sluice's one answer, [`sluice_sarif::stage_of`].
pub fn run_stage(run: &Run) -> String {
    sluice_sarif::stage_of(run)
}

pub(crate) fn run_succeeded(run: &Run) -> bool {
    run.invocations.iter().flatten().all(|i| i.execution_successful)
}

pub(crate) fn is_triage_run(run: &Run) -> bool {
    run.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(keys::TRIAGE_CATEGORY)
}

/// Decisions by what they select: a fingerprint, a rule (its globs compiled into one set), an
/// advisory id. Built over the selectors and stages of a list of decisions; a match is an index
/// into that list.
pub(crate) struct Index<'d> {
    by_fingerprint: HashMap<&'d str, usize>,
    by_rule: HashMap<&'d str, RuleGlobs<'d>>,
    pub(crate) by_advisory: HashMap<String, Vec<usize>>,
    selectors: Vec<&'d Selector>,
    stages: Vec<Option<&'d str>>,
}

impl<'d> Index<'d> {
    /// `decisions`: each one's selector and stage, in the list's order.
    pub(crate) fn new(decisions: impl IntoIterator<Item = (&'d Selector, Option<&'d str>)>) -> Index<'d> {
        let mut rule_globs: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
        let mut by_advisory: HashMap<String, Vec<usize>> = HashMap::new();
        let (selectors, stages): (Vec<&Selector>, Vec<_>) = decisions.into_iter().unzip();
        let mut by_fingerprint = HashMap::with_capacity(selectors.len());
        for (i, selector) in selectors.iter().enumerate() {
            match selector {
                Selector::Fingerprint { fingerprint, .. } => {
                    by_fingerprint.insert(fingerprint.as_str(), i);
                }
                Selector::RulePath { rule, glob } => rule_globs.entry(rule.as_str()).or_default().push((i, glob)),
                Selector::Advisory { advisory, .. } => {
                    by_advisory.entry(advisory.to_ascii_lowercase()).or_default().push(i)
                }
            }
        }
        let by_rule = rule_globs.into_iter().map(|(rule, globs)| (rule, RuleGlobs::new(globs))).collect();
        Index { by_fingerprint, by_rule, by_advisory, selectors, stages }
    }

    /// The decisions that select the result `f` describes, into `out` (cleared first).
    pub(crate) fn matches(&self, f: &Facts<'_>, out: &mut Vec<usize>) {
        out.clear();
        if let Some(&i) = f.fingerprint.and_then(|fp| self.by_fingerprint.get(fp)) {
            out.push(i);
        }
        if let (Some(globs), Some(path)) = (self.by_rule.get(f.rule), &f.path) {
            globs.matches(path, out);
        }
        if !self.by_advisory.is_empty() {
            for adv in &f.advisories {
                for &i in self.by_advisory.get(adv).into_iter().flatten() {
                    if !out.contains(&i) && advisory_matches(self.selectors[i], f) {
                        out.push(i);
                    }
                }
            }
        }
        out.retain(|&i| self.stages[i].is_none_or(|s| s == f.stage));
    }
}

/// One rule's path globs. The common `dir/**` is a literal directory, looked up by the path's
/// parent directories (a compiled set per rule costs megabytes of automaton when an
/// organisation has thousands of such decisions); the rest are one compiled set.
struct RuleGlobs<'d> {
    /// `dir/` (with its slash) → decisions whose glob is `dir/**`.
    under: HashMap<&'d str, Vec<usize>>,
    other: Option<(GlobSet, Vec<usize>)>,
}

impl<'d> RuleGlobs<'d> {
    fn new(globs: Vec<(usize, &'d str)>) -> RuleGlobs<'d> {
        let mut under: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut builder = GlobSetBuilder::new();
        let mut ids = Vec::new();
        for (i, glob) in globs {
            if let Some(dir) = literal_directory(glob) {
                under.entry(dir).or_default().push(i);
            // Globs were compiled when the file was parsed; one that fails here cannot match.
            } else if let Ok(g) = crate::decisions::glob(glob) {
                builder.add(g);
                ids.push(i);
            }
        }
        let other = if ids.is_empty() { None } else { builder.build().ok().map(|set| (set, ids)) };
        RuleGlobs { under, other }
    }

    fn matches(&self, path: &str, out: &mut Vec<usize>) {
        if !self.under.is_empty() {
            for (at, _) in path.match_indices('/') {
                if let Some(ids) = self.under.get(&path[..=at]) {
                    out.extend_from_slice(ids);
                }
            }
        }
        if let Some((set, ids)) = &self.other {
            out.extend(set.matches(path).into_iter().map(|k| ids[k]));
        }
    }
}

/// `dir/sub/**` → `dir/sub/`: a glob that matches exactly the paths under a literal directory
/// (as globset compiles it: `^dir/sub/.*$`). `None` for any other glob.
fn literal_directory(glob: &str) -> Option<&str> {
    let dir = glob.strip_suffix("**")?;
    let ok = dir.len() > 1 && dir.ends_with('/') && !dir.contains(['*', '?', '[', ']', '{', '}', '\\']);
    ok.then_some(dir)
}

fn advisory_matches(selector: &Selector, f: &Facts<'_>) -> bool {
    let Selector::Advisory { package, versions, .. } = selector else { return false };
    let (wanted, pinned) = if package.starts_with("pkg:") { split_purl(package) } else { (package.as_str(), None) };
    let package_ok = if wanted.starts_with("pkg:") {
        f.purl.is_some_and(|p| split_purl(p).0.eq_ignore_ascii_case(wanted))
    } else {
        f.package.is_some_and(|p| p.eq_ignore_ascii_case(wanted))
            || f.purl.is_some_and(|p| purl_name(p).eq_ignore_ascii_case(wanted))
    };
    if !package_ok {
        return false;
    }
    let pinned_ok = match pinned {
        Some(v) => match (Version::parse(v), &f.version) {
            (Some(want), Some(have)) => have.compare_in(&want, f.scheme) == Some(std::cmp::Ordering::Equal),
            _ => false,
        },
        None => true,
    };
    // A range needs a known version: an unknown one is not assumed to be inside it.
    let range_ok = match versions {
        Some(range) => f.version.as_ref().is_some_and(|v| range.contains_in(v, f.scheme)),
        None => true,
    };
    pinned_ok && range_ok
}

fn describe_finding(f: &Facts<'_>, result: &SarifResult) -> String {
    let line = primary_region(result).and_then(|r| r.start_line);
    let place = match (&f.path, line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => "(no location)".into(),
    };
    match &f.fingerprint {
        Some(fp) => format!("the finding {} at {place} (fingerprint {fp})", f.rule),
        None => format!("the finding {} at {place}", f.rule),
    }
}

/// Removes what an earlier application left: sluice's suppressions, `sluice/triage`
/// properties and the triage run. Suppressions from the tool itself (`inSource`) stay.
pub fn clear(log: &mut Sarif) {
    log.runs.retain(|r| !is_triage_run(r));
    for run in &mut log.runs {
        for result in run.results.iter_mut().flatten() {
            if let Some(props) = result.properties.as_mut() {
                props.additional_properties.remove(keys::TRIAGE);
            }
            if let Some(list) = result.suppressions.as_mut() {
                list.retain(|s| {
                    !s.properties.as_ref().is_some_and(|p| p.additional_properties.contains_key(keys::DECISION))
                });
                if list.is_empty() {
                    result.suppressions = None;
                }
            }
        }
    }
}

/// Applies decisions: each matching result gets the decision in `properties["sluice/triage"]`
/// and, unless the status is `confirmed`, a suppression (`kind: external`, `status: accepted`,
/// the reason as justification, the decision's line as location). Nothing is removed.
///
/// Errors when a finding is matched by more than one live decision; then the log is unchanged.
pub fn apply(
    log: &mut Sarif,
    decisions: &Decisions,
    opts: &mut ApplyOptions<'_>,
) -> Result<TriageOutcome, ConflictError> {
    clear(log);
    let items = &decisions.items;
    let index = Index::new(items.iter().map(|d| (&d.selector, d.stage.as_deref())));
    let want_deps = !index.by_advisory.is_empty();
    let expired: Vec<bool> = items.iter().map(|d| d.is_expired(opts.today)).collect();
    let mut outcome = TriageOutcome { matches: vec![0; items.len()], ..TriageOutcome::default() };
    let mut would_match = vec![0usize; items.len()];
    let mut assigned: HashMap<(usize, usize), usize> = HashMap::new();
    let mut conflicts = Vec::new();
    let mut found = Vec::new();
    // Results of (rule, path) not yet decided, for decisions that follow renames.
    let mut undecided: HashMap<(String, String), Vec<(usize, usize)>> = HashMap::new();
    let follow_candidates = items.iter().enumerate().any(|(i, d)| {
        !expired[i]
            && matches!(&d.selector, Selector::Fingerprint { commit: Some(_), path: Some(_), rule: Some(_), .. })
    });

    for (ri, run) in log.runs.iter().enumerate() {
        let stage = run_stage(run);
        for (xi, result) in run.results.iter().flatten().enumerate() {
            let f = facts(result, &stage, want_deps);
            index.matches(&f, &mut found);
            let mut live = Vec::new();
            for &i in &found {
                if expired[i] {
                    would_match[i] += 1;
                } else {
                    live.push(i);
                }
            }
            match live.as_slice() {
                [] => {
                    if follow_candidates {
                        if let Some(path) = &f.path {
                            undecided.entry((f.rule.to_owned(), path.clone())).or_default().push((ri, xi));
                        }
                    }
                }
                [one] => {
                    assigned.insert((ri, xi), *one);
                    outcome.matches[*one] += 1;
                }
                many => {
                    let mut lines: Vec<usize> = many.iter().map(|&i| items[i].line).collect();
                    lines.sort_unstable();
                    conflicts.push(Conflict { lines, finding: describe_finding(&f, result) });
                }
            }
        }
    }

    // Fingerprint decisions that matched nothing may have a finding whose file was renamed.
    if follow_candidates {
        let mut sources = Sources::new(opts.root);
        let mut maps: BTreeMap<String, Option<RenameMap>> = BTreeMap::new();
        for (i, d) in items.iter().enumerate() {
            let Selector::Fingerprint { fingerprint, rule: Some(rule), path: Some(path), commit: Some(commit) } =
                &d.selector
            else {
                continue;
            };
            if expired[i] || outcome.matches[i] > 0 {
                continue;
            }
            let map = maps.entry(commit.clone()).or_insert_with(|| (opts.renames)(commit));
            let Some(new_path) = map.as_ref().and_then(|m| m.renamed(path)) else { continue };
            let key = (rule.clone(), new_path.to_owned());
            let Some(candidates) = undecided.get_mut(&key) else { continue };
            let hit = candidates.iter().position(|&(ri, xi)| {
                let run = &log.runs[ri];
                let result = &run.results.as_deref().unwrap_or_default()[xi];
                let stage_ok = d.stage.as_deref().is_none_or(|s| run_stage(run) == s);
                stage_ok && fingerprint_at(result, path, &mut sources).as_deref() == Some(fingerprint.as_str())
            });
            if let Some(k) = hit {
                let at = candidates.remove(k);
                assigned.insert(at, i);
                outcome.matches[i] += 1;
                outcome.followed.push(Followed { decision: i, from: path.clone(), to: new_path.to_owned() });
            }
        }
    }

    if !conflicts.is_empty() {
        return Err(ConflictError { origin: decisions.origin.clone(), conflicts });
    }

    let mut rendered: HashMap<usize, (Value, Option<Suppression>)> = HashMap::new();
    for ((ri, xi), i) in assigned {
        let d = &items[i];
        let (triage, suppression) = rendered.entry(i).or_insert_with(|| render_decision(d, opts.decisions_uri));
        let Some(result) = log.runs[ri].results.as_mut().and_then(|r| r.get_mut(xi)) else { continue };
        result
            .properties
            .get_or_insert_with(Default::default)
            .additional_properties
            .insert(keys::TRIAGE.into(), triage.clone());
        match suppression {
            Some(s) => {
                result.suppressions.get_or_insert_with(Vec::new).push(s.clone());
                outcome.suppressed += 1;
            }
            None => outcome.confirmed += 1,
        }
    }

    let stages: Vec<String> = log.runs.iter().filter(|r| run_succeeded(r)).map(run_stage).collect();
    for (i, d) in items.iter().enumerate() {
        if expired[i] {
            outcome.expired.push((i, would_match[i]));
        } else if opts.check_stale && outcome.matches[i] == 0 {
            // A decision for a stage that did not run (or failed) here could not have matched.
            let could_match = d.stage.as_ref().is_none_or(|s| stages.contains(s));
            if could_match {
                outcome.stale.push(i);
            }
        }
    }
    Ok(outcome)
}

/// The `sluice/triage` property and, for suppressing statuses, the suppression.
fn render_decision(d: &Decision, decisions_uri: &str) -> (Value, Option<Suppression>) {
    let mut triage = serde_json::Map::new();
    triage.insert("status".into(), json!(d.status.as_str()));
    triage.insert("origin".into(), json!("repository"));
    triage.insert("scope".into(), json!(d.selector.scope()));
    triage.insert("reason".into(), json!(d.reason));
    triage.insert("who".into(), json!(d.who));
    triage.insert("when".into(), json!(d.when.to_string()));
    if let Some(e) = d.expires {
        triage.insert("expires".into(), json!(e.to_string()));
    }
    if let Some(s) = &d.source {
        triage.insert("source".into(), json!(s));
    }
    if let Some(v) = d.vex_status {
        triage.insert("vex_status".into(), json!(v.as_str()));
    }
    if let Some(j) = &d.vex_justification {
        triage.insert("vex_justification".into(), json!(j));
    }
    triage.insert("decision".into(), json!(format!("{decisions_uri}:{}", d.line)));
    let suppression = d.status.suppresses().then(|| {
        // The JSON location is a valid SARIF location by construction.
        let location = serde_json::from_value(artifact_location(decisions_uri, d.line)).ok();
        let uri = format!("{decisions_uri}:{}", d.line);
        decision_suppression(uri, format!("{}: {}", d.status.as_str(), d.reason), location)
    });
    (Value::Object(triage), suppression)
}

/// The suppression a decision makes (a repository's or the server's): `external`, `accepted`,
/// the justification, and `sluice/decision` pointing at the decision, whose record
/// (`sluice/triage`, beside it on the result) says who decided and how.
pub(crate) fn decision_suppression(
    decision: String,
    justification: String,
    location: Option<sluice_sarif::sarif::Location>,
) -> Suppression {
    let props = BTreeMap::from([(keys::DECISION.to_owned(), Value::String(decision))]);
    Suppression {
        guid: None,
        justification: Some(justification),
        kind: json!("external"),
        location,
        properties: Some(sluice_sarif::sarif::PropertyBag { tags: None, additional_properties: props }),
        status: Some(json!("accepted")),
    }
}

/// A SARIF location of a line in a file given by a `%SRCROOT%`-relative URI (or a `file://`
/// one outside the root).
pub(crate) fn artifact_location(uri: &str, line: usize) -> Value {
    let artifact = if uri.starts_with("file://") {
        json!({ "uri": uri })
    } else {
        json!({ "uri": uri, "uriBaseId": "%SRCROOT%" })
    };
    json!({ "physicalLocation": { "artifactLocation": artifact, "region": { "startLine": line } } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_sarif::read_log;

    const FP_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1";
    const FP_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:1";

    fn log() -> Sarif {
        let text = format!(
            r#"{{"version":"2.1.0","runs":[
            {{"tool":{{"driver":{{"name":"bandit"}}}},"automationDetails":{{"id":"sluice/bandit/"}},"results":[
              {{"ruleId":"B602","message":{{"text":"shell"}},"partialFingerprints":{{"sluice/v1":"{FP_A}"}},"properties":{{"sluice/stage":"bandit"}},
                "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"app/a.py"}},"region":{{"startLine":3}}}}}}]}},
              {{"ruleId":"B101","message":{{"text":"assert"}},"partialFingerprints":{{"sluice/v1":"{FP_B}"}},"properties":{{"sluice/stage":"bandit"}},
                "suppressions":[{{"kind":"inSource","justification":"nosec"}}],
                "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"tests/t.py"}},"region":{{"startLine":9}}}}}}]}}]}},
            {{"tool":{{"driver":{{"name":"osv"}}}},"automationDetails":{{"id":"sluice/deps/"}},"results":[
              {{"ruleId":"GHSA-jf85-cpcp-j695","message":{{"text":"lodash"}},"properties":{{"sluice/stage":"deps","sluice/purl":"pkg:npm/lodash@4.17.20","sluice/aliases":["CVE-2019-10744"]}}}},
              {{"ruleId":"GHSA-jf85-cpcp-j695","message":{{"text":"lodash"}},"properties":{{"sluice/stage":"deps","sluice/purl":"pkg:npm/lodash@4.17.21"}}}}]}}]}}"#
        );
        read_log(text.as_bytes(), "t").unwrap()
    }

    fn decisions(body: &str) -> Decisions {
        Decisions::parse(body, ".sluice/triage.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn block(selector: &str, status: &str, extra: &str) -> String {
        format!("[[decision]]\n{selector}\nstatus = \"{status}\"\nreason = \"r\"\nwho = \"w\"\nwhen = 2025-01-01\n{extra}\n")
    }

    fn run(log: &mut Sarif, d: &Decisions, today: &str) -> Result<TriageOutcome, ConflictError> {
        let mut none = |_: &str| None;
        let mut opts = ApplyOptions {
            today: Date::parse(today).unwrap(),
            root: None,
            decisions_uri: ".sluice/triage.toml",
            renames: &mut none,
            check_stale: true,
        };
        apply(log, d, &mut opts)
    }

    fn results(log: &Sarif) -> Vec<&SarifResult> {
        log.runs.iter().flat_map(|r| r.results.iter().flatten()).collect()
    }

    #[test]
    fn suppresses_without_deleting_and_replaces_on_reapply() {
        let d = decisions(
            &[
                block(&format!("fingerprint = \"{FP_A}\""), "false_positive", "source = \"tool:bandit\""),
                block("rule = \"B101\"\npath = \"tests/**\"", "accepted_risk", "expires = 2099-01-01"),
                block("advisory = \"cve-2019-10744\"\npackage = \"lodash\"\nversions = \"<4.17.21\"", "confirmed", ""),
            ]
            .concat(),
        );
        let mut log = log();
        let outcome = run(&mut log, &d, "2025-06-01").unwrap();
        assert_eq!((outcome.suppressed, outcome.confirmed), (2, 1));
        assert_eq!(outcome.matches, [1, 1, 1]);
        assert!(outcome.stale.is_empty() && outcome.expired.is_empty());
        let r = results(&log);
        assert_eq!(r.len(), 4, "nothing is deleted");
        let s = &r[0].suppressions.as_ref().unwrap()[0];
        assert_eq!(s.kind, json!("external"));
        assert_eq!(s.status, Some(json!("accepted")));
        assert_eq!(s.justification.as_deref(), Some("false_positive: r"));
        let props = &s.properties.as_ref().unwrap().additional_properties;
        assert_eq!(props.keys().collect::<Vec<_>>(), [keys::DECISION], "the suppression points at its decision");
        assert_eq!(props[keys::DECISION], ".sluice/triage.toml:1");
        let record = &r[0].properties.as_ref().unwrap().additional_properties[keys::TRIAGE];
        assert_eq!(record["source"], "tool:bandit");
        assert_eq!(record["decision"], ".sluice/triage.toml:1");
        // The tool's own suppression stays next to sluice's.
        assert_eq!(r[1].suppressions.as_ref().unwrap().len(), 2);
        // confirmed: recorded, not suppressed; the version outside the range is untouched.
        assert!(r[2].suppressions.is_none());
        assert_eq!(r[2].properties.as_ref().unwrap().additional_properties[keys::TRIAGE]["status"], "confirmed");
        assert!(!r[3].properties.as_ref().unwrap().additional_properties.contains_key(keys::TRIAGE));

        let before = serde_json::to_string(&log).unwrap();
        run(&mut log, &d, "2025-06-01").unwrap();
        assert_eq!(serde_json::to_string(&log).unwrap(), before, "applying twice changes nothing");
    }

    #[test]
    fn a_decision_pinned_to_a_debian_version_covers_that_version_only() {
        let result = |version: &str| {
            format!(
                r#"{{"ruleId":"DSA-5514-1","message":{{"text":"glibc"}},"properties":{{"sluice/stage":"container","sluice/purl":"pkg:deb/debian/glibc@{version}?distro=debian-12"}}}}"#
            )
        };
        let text = format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"sluice"}}}},"automationDetails":{{"id":"sluice/container/"}},"results":[{},{},{}]}}]}}"#,
            result("2.36-9+deb12u4"),
            result("2.36-9+deb12u5"),
            result("1:2.36-9+deb12u4")
        );
        let mut log = read_log(text.as_bytes(), "t").unwrap();
        let d = decisions(&block(
            "advisory = \"DSA-5514-1\"\npackage = \"pkg:deb/debian/glibc@2.36-9+deb12u4\"",
            "mitigated",
            "",
        ));
        let outcome = run(&mut log, &d, "2025-06-01").unwrap();
        assert_eq!(outcome.suppressed, 1, "only the pinned Debian version: deb12u5 and an epoch are other versions");
        let r = results(&log);
        assert!(r[0].suppressions.is_some());
        assert!(r[1].suppressions.is_none(), "2.36-9+deb12u5 is not 2.36-9+deb12u4");
        assert!(r[2].suppressions.is_none(), "1:2.36-9+deb12u4 has an epoch");

        let mut log = read_log(text.as_bytes(), "t").unwrap();
        let d = decisions(&block(
            "advisory = \"DSA-5514-1\"\npackage = \"pkg:deb/debian/glibc\"\nversions = \"<=2.36-9+deb12u4\"",
            "mitigated",
            "",
        ));
        run(&mut log, &d, "2025-06-01").unwrap();
        let covered: Vec<bool> = results(&log).iter().map(|r| r.suppressions.is_some()).collect();
        assert_eq!(covered, [true, false, false], "a range in Debian's order");
    }

    #[test]
    fn expired_and_stale_decisions_are_reported() {
        let d = decisions(
            &[
                block(&format!("fingerprint = \"{FP_A}\""), "accepted_risk", "expires = 2025-03-01"),
                block("fingerprint = \"cccccccccccccccccccccccccccccccc:1\"", "false_positive", ""),
                block("rule = \"B999\"\npath = \"**\"\nstage = \"semgrep\"", "false_positive", ""),
            ]
            .concat(),
        );
        let mut log = log();
        let outcome = run(&mut log, &d, "2025-03-01").unwrap();
        assert_eq!(outcome.suppressed, 0);
        assert_eq!(outcome.expired, [(0, 1)]);
        // The semgrep decision could not have matched: semgrep did not run.
        assert_eq!(outcome.stale, [1]);
        assert!(results(&log)[0].suppressions.is_none());
    }

    #[test]
    fn two_decisions_for_one_finding_is_an_error() {
        let d = decisions(
            &[
                block(&format!("fingerprint = \"{FP_B}\""), "false_positive", ""),
                block("rule = \"B101\"\npath = \"tests/*.py\"", "accepted_risk", ""),
                block("rule = \"B101\"\npath = \"**/t.py\"", "accepted_risk", ""),
            ]
            .concat(),
        );
        let mut log = log();
        let err = run(&mut log, &d, "2025-06-01").unwrap_err().to_string();
        assert!(err.starts_with(".sluice/triage.toml:1: decisions at lines 1, 8 and 16 all match the finding B101 at tests/t.py:9 (fingerprint bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:1)"), "{err}");
        assert!(err.ends_with("no decision was applied"), "{err}");
        // An expired decision does not conflict: it no longer applies.
        let d = decisions(
            &[
                block(&format!("fingerprint = \"{FP_B}\""), "false_positive", "expires = 2025-02-01"),
                block("rule = \"B101\"\npath = \"tests/*.py\"", "accepted_risk", ""),
            ]
            .concat(),
        );
        let outcome = run(&mut log, &d, "2025-06-01").unwrap();
        assert_eq!(outcome.matches, [0, 1]);
    }

    #[test]
    fn purls() {
        assert_eq!(split_purl("pkg:npm/%40types/node@20.1.0?x=1"), ("pkg:npm/%40types/node", Some("20.1.0")));
        assert_eq!(split_purl("pkg:pypi/requests"), ("pkg:pypi/requests", None));
        assert_eq!(purl_name("pkg:npm/lodash@4.17.20"), "lodash");
    }

    /// What globset says of each glob alone, as the ids of the globs that match `path`.
    fn globset_matches(globs: &[String], path: &str) -> Vec<usize> {
        let mut out: Vec<usize> = globs
            .iter()
            .enumerate()
            .filter(|(_, g)| crate::decisions::glob(g).is_ok_and(|g| g.compile_matcher().is_match(path)))
            .map(|(i, _)| i)
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn literal_directories_are_the_globs_that_match_under_a_directory() {
        assert_eq!(literal_directory("vendor/**"), Some("vendor/"));
        assert_eq!(literal_directory("src/gen/**"), Some("src/gen/"));
        for not in ["**", "/**", "vendor/*", "vendor/**/x", "v*/**", "v[ab]/**", "{a,b}/**", "a\\b/**", "vendor"] {
            assert_eq!(literal_directory(not), None, "{not}");
        }
    }

    proptest::proptest! {
        /// A rule's globs, shortcut or not, match exactly what globset matches.
        #[test]
        fn rule_globs_match_what_globset_matches(
            globs in proptest::collection::vec("(a|b|ab|\\.|x\\*|\\*\\*)(/(a|b|\\*|\\*\\*)){0,3}(/\\*\\*)?", 1..8),
            path in "(a|b|ab|\\.)(/(a|b|c\\.py|\\.)){0,4}/?",
        ) {
            let set = RuleGlobs::new(globs.iter().enumerate().map(|(i, g)| (i, g.as_str())).collect());
            let mut got = Vec::new();
            set.matches(&path, &mut got);
            got.sort_unstable();
            proptest::prop_assert_eq!(got, globset_matches(&globs, &path), "globs {:?} path {}", globs, path);
        }
    }
}
