//! Evidence and feedback from the organisation's decisions: the OpenVEX document of its
//! advisory decisions (`GET /vex`), and the false-positive rate of every rule and analyzer
//! (`GET /rules/noise`). The storage side gathers the rows (`db/queries.rs`); what they mean
//! is decided here, without the database, so it is the same on both backends.
//!
//! OpenVEX statuses from sluice's (the mapping `sluice_triage`'s export uses for
//! `.sluice/triage.toml`, so a decision reads the same from either place):
//!
//! | decision | OpenVEX |
//! |---|---|
//! | `false_positive` | `not_affected`, the decision's justification if it gave one, its reason as `impact_statement` |
//! | `mitigated` | `not_affected`, justification `inline_mitigations_already_exist` unless it gave another |
//! | `accepted_risk` | `affected`, `action_statement` "risk accepted until DAY: reason" |
//! | `confirmed` | `affected`, the reason as `action_statement` |
//!
//! No decision says `fixed` (a fix is what the deps stage sees when the finding goes away,
//! not something a person decides) or `under_investigation` (a proposal is not a decision of
//! the organisation; only approved decisions are its word).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::model::{DecisionView, RuleNoise, ToolNoise};

/// The OpenVEX version this server writes.
pub const OPENVEX_CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";
/// The document's author: the organisation, speaking through its security team's approvals.
pub const VEX_AUTHOR: &str = "sluice server: the organisation's approved triage decisions";

/// A finding of an advisory, as the export needs it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdvisoryFinding {
    pub project_id: i64,
    pub rule_id: String,
    pub package: Option<String>,
    pub purl: Option<String>,
}

/// A decision's path glob, as `.sluice/triage.toml` reads it (`sluice_triage`'s own rule): `*`
/// stays within a directory, `**` crosses them, a glob without `/` matches at any depth.
pub fn path_glob(pattern: &str) -> Option<globset::GlobMatcher> {
    let anchored = if pattern.contains('/') { pattern.to_owned() } else { format!("**/{pattern}") };
    globset::GlobBuilder::new(&anchored).literal_separator(true).build().ok().map(|g| g.compile_matcher())
}

/// `pkg:npm/lodash@4.17.20?x=y` → `pkg:npm/lodash`.
/// A package an SBOM lists, with the keys impact search looks it up by (lowercased: the
/// comparison is ASCII case-insensitive, as [`package_matches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
}

impl Component {
    /// (name, purl without version, the purl's last path segment), lowercased.
    pub fn keys(&self) -> (String, Option<String>, Option<String>) {
        let purl = self.purl.as_deref().map(|p| purl_base(p).to_ascii_lowercase());
        let purl_name = purl.as_deref().and_then(|p| p.rsplit('/').next()).map(str::to_owned);
        (self.name.to_ascii_lowercase(), purl, purl_name)
    }
}

/// How impact search finds `wanted` among [`Component::keys`]: by purl (without version) when
/// it is one, else by name or the purl's last segment — what [`package_matches`] accepts.
pub enum ComponentKey {
    Purl(String),
    Name(String),
}

impl ComponentKey {
    pub fn new(wanted: &str) -> ComponentKey {
        if wanted.starts_with("pkg:") {
            ComponentKey::Purl(purl_base(wanted).to_ascii_lowercase())
        } else {
            ComponentKey::Name(wanted.to_ascii_lowercase())
        }
    }
}

/// Components an SBOM more than this lists are not indexed past it (a bound, not a real size).
pub const MAX_COMPONENTS: usize = 100_000;

/// The packages of a CycloneDX (`components`, nested) or SPDX (`packages`) JSON SBOM.
pub fn sbom_components(doc: &serde_json::Value) -> Vec<Component> {
    fn text(v: &serde_json::Value, key: &str) -> Option<String> {
        v.get(key).and_then(serde_json::Value::as_str).map(str::to_owned)
    }
    fn walk(list: &serde_json::Value, out: &mut Vec<Component>, depth: usize) {
        let Some(items) = list.as_array() else { return };
        for c in items {
            if out.len() >= MAX_COMPONENTS {
                return;
            }
            if let Some(name) = text(c, "name") {
                out.push(Component { name, version: text(c, "version"), purl: text(c, "purl") });
            }
            if depth < 16 {
                if let Some(nested) = c.get("components") {
                    walk(nested, out, depth + 1);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(components) = doc.get("components") {
        walk(components, &mut out, 0);
    }
    if let Some(packages) = doc.get("packages").and_then(serde_json::Value::as_array) {
        for p in packages {
            if out.len() >= MAX_COMPONENTS {
                break;
            }
            let Some(name) = text(p, "name") else { continue };
            let purl = p.get("externalRefs").and_then(serde_json::Value::as_array).and_then(|refs| {
                refs.iter()
                    .find(|r| text(r, "referenceType").as_deref() == Some("purl"))
                    .and_then(|r| text(r, "referenceLocator"))
            });
            out.push(Component { name, version: text(p, "versionInfo"), purl });
        }
    }
    out
}

fn purl_base(purl: &str) -> &str {
    let core = purl.split(['?', '#']).next().unwrap_or(purl);
    match core.rfind('@') {
        Some(at) if core[..at].contains('/') => &core[..at],
        _ => core,
    }
}

/// Whether a finding's package is the one a decision names: by purl (without version) when
/// the decision gives one, else by name, as `sluice_triage` matches advisory decisions.
pub fn package_matches(wanted: &str, package: Option<&str>, purl: Option<&str>) -> bool {
    if wanted.starts_with("pkg:") {
        let wanted = purl_base(wanted);
        return purl.is_some_and(|p| purl_base(p).eq_ignore_ascii_case(wanted));
    }
    package.is_some_and(|p| p.eq_ignore_ascii_case(wanted))
        || purl.is_some_and(|p| purl_base(p).rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case(wanted)))
}

/// The names an advisory goes by: `alias → advisories` and `advisory → aliases` both ways.
#[derive(Debug, Default)]
pub struct Aliases {
    names: BTreeMap<String, BTreeSet<String>>,
}

impl Aliases {
    pub fn new(pairs: &[(String, String)]) -> Aliases {
        let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (alias, advisory) in pairs {
            names.entry(alias.clone()).or_default().insert(advisory.clone());
            names.entry(advisory.clone()).or_default().insert(alias.clone());
        }
        Aliases { names }
    }

    /// `name` and every name it is known to share an advisory with.
    pub fn of(&self, name: &str) -> BTreeSet<String> {
        let mut all = BTreeSet::from([name.to_owned()]);
        if let Some(direct) = self.names.get(name) {
            for other in direct {
                all.insert(other.clone());
                all.extend(self.names.get(other).into_iter().flatten().cloned());
            }
        }
        all
    }
}

/// A decision in force with its project's id (None: organisation-wide).
pub type Scoped = (Option<i64>, DecisionView);

/// `text` as a piece of a URN: characters outside `A-Za-z0-9-._~:@/` percent-encoded.
fn urn_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn component(id: &str) -> Value {
    if id.starts_with("pkg:") {
        json!({ "@id": id, "identifiers": { "purl": id } })
    } else {
        json!({ "@id": format!("urn:sluice:package:{}", urn_part(id)) })
    }
}

/// The OpenVEX document of the advisory decisions in force, or None when there is none (an
/// OpenVEX document has at least one statement). `project` names the one project the export
/// is for (None: the organisation). `projects` names projects by id.
///
/// Deterministic: the same decisions and findings give the same bytes. Statements are sorted;
/// the document's `@id` is a digest of what it says; its `timestamp` is the latest decision's,
/// not the time of the request.
pub fn vex_document(
    decisions: &[Scoped],
    findings: &[AdvisoryFinding],
    aliases: &Aliases,
    projects: &HashMap<i64, String>,
    project: Option<&str>,
) -> Option<Value> {
    let mut statements: Vec<(String, String, i64, Value)> = Vec::new();
    // The latest approval: the document's time is the state's, not the request's.
    let mut latest: Option<(jiff::Timestamp, String)> = None;
    for (project_id, d) in decisions {
        let (Some(advisory), Some(package)) = (&d.advisory, &d.package) else { continue };
        let names = aliases.of(advisory);
        let mut purls: BTreeSet<String> = BTreeSet::new();
        for f in findings {
            let here = project_id.is_none_or(|p| p == f.project_id);
            if here && names.contains(&f.rule_id) && package_matches(package, f.package.as_deref(), f.purl.as_deref()) {
                if let Some(purl) = &f.purl {
                    purls.insert(purl.clone());
                }
            }
        }
        let packages: Vec<Value> =
            if purls.is_empty() { vec![component(package)] } else { purls.iter().map(|p| component(p)).collect() };
        // A project's decision is about the packages in that project: the project is the
        // product, its packages the subcomponents. An organisation's is about the packages
        // wherever they are.
        let products = match project_id.and_then(|p| projects.get(&p)) {
            Some(name) => {
                vec![json!({ "@id": format!("urn:sluice:project:{}", urn_part(name)), "subcomponents": packages })]
            }
            None => packages,
        };
        let other_names: Vec<&String> = names.iter().filter(|n| *n != advisory).collect();
        let mut vulnerability = json!({ "name": advisory });
        if !other_names.is_empty() {
            vulnerability["aliases"] = json!(other_names);
        }
        let when = d.decided_at.clone().unwrap_or_else(|| d.proposed_at.clone());
        if let Ok(t) = when.parse::<jiff::Timestamp>() {
            if latest.as_ref().is_none_or(|(l, _)| t > *l) {
                latest = Some((t, when.clone()));
            }
        }
        let mut st = json!({
            "@id": format!("urn:sluice:decision:{}", d.id),
            "vulnerability": vulnerability,
            "timestamp": when,
            "products": products,
        });
        let reason = d.reason.clone();
        match d.status.as_str() {
            "false_positive" | "mitigated" => {
                st["status"] = json!("not_affected");
                let justification = d
                    .vex_justification
                    .clone()
                    .or_else(|| (d.status == "mitigated").then(|| "inline_mitigations_already_exist".to_owned()));
                if let Some(j) = justification {
                    st["justification"] = json!(j);
                }
                st["impact_statement"] = json!(reason);
            }
            "accepted_risk" => {
                st["status"] = json!("affected");
                st["action_statement"] = json!(match &d.expires {
                    Some(day) => format!("risk accepted until {day}: {reason}"),
                    None => format!("risk accepted: {reason}"),
                });
            }
            _ => {
                st["status"] = json!("affected");
                st["action_statement"] = json!(reason);
            }
        }
        let scope = match &d.project {
            Some(p) => format!("for project {p}"),
            None => "for every project of the organisation".to_owned(),
        };
        st["status_notes"] = json!(format!(
            "sluice decision {} ({}) {scope}: proposed by {}, approved by {}{}",
            d.id,
            d.status,
            d.proposed_by,
            d.decided_by.as_deref().unwrap_or("?"),
            d.decided_role.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
        ));
        let first_product = products_key(&st);
        statements.push((advisory.clone(), first_product, d.id, st));
    }
    if statements.is_empty() {
        return None;
    }
    statements.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    let statements: Vec<Value> = statements.into_iter().map(|(_, _, _, st)| st).collect();
    let mut h = Sha256::new();
    h.update(project.unwrap_or("").as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&statements).unwrap_or_default());
    let digest = hex::encode(&h.finalize()[..16]);
    Some(json!({
        "@context": OPENVEX_CONTEXT,
        "@id": format!("urn:sluice:vex:{digest}"),
        "author": VEX_AUTHOR,
        "timestamp": latest.map(|(_, text)| text).unwrap_or_default(),
        "version": 1,
        "tooling": concat!("sluice serve ", env!("CARGO_PKG_VERSION")),
        "statements": statements,
    }))
}

fn products_key(st: &Value) -> String {
    st["products"][0]["@id"].as_str().unwrap_or_default().to_owned()
}

/// A decided false positive: one finding, counted once however many decisions cover it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Covered {
    pub project_id: i64,
    pub stage: String,
    pub rule_id: String,
}

/// Findings and projects of one (stage, rule).
#[derive(Debug, Clone)]
pub struct Total {
    pub stage: String,
    pub rule_id: String,
    pub findings: i64,
    pub projects: i64,
}

/// At most this many project names per rule in the report.
pub const NOISY_NAMES: usize = 20;

fn rate(fp: i64, findings: i64) -> f64 {
    if findings == 0 {
        return 0.0;
    }
    // Four decimals: the same number on every backend and platform.
    (fp as f64 / findings as f64 * 10_000.0).round() / 10_000.0
}

/// Rates per rule and per analyzer, most noisy first: by rate, then by false positives, then
/// by findings, then by name. `named` says which projects' names the caller may see.
pub fn noise(
    totals: &[Total],
    covered: &[Covered],
    projects: &HashMap<i64, String>,
    named: &dyn Fn(i64) -> bool,
    min_findings: i64,
) -> (Vec<ToolNoise>, Vec<RuleNoise>) {
    let mut fp: HashMap<(&str, &str), (i64, BTreeSet<i64>)> = HashMap::new();
    for c in covered {
        let entry = fp.entry((c.stage.as_str(), c.rule_id.as_str())).or_default();
        entry.0 += 1;
        entry.1.insert(c.project_id);
    }
    let mut rules = Vec::new();
    let mut tools: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for t in totals {
        let (count, noisy) = fp.get(&(t.stage.as_str(), t.rule_id.as_str())).cloned().unwrap_or_default();
        let tool = tools.entry(t.stage.as_str()).or_default();
        tool.0 += t.findings;
        tool.1 += count;
        if t.findings < min_findings {
            continue;
        }
        let mut noisy_in: Vec<String> =
            noisy.iter().filter(|p| named(**p)).filter_map(|p| projects.get(p).cloned()).collect();
        noisy_in.sort();
        noisy_in.truncate(NOISY_NAMES);
        rules.push(RuleNoise {
            tool: t.stage.clone(),
            rule: t.rule_id.clone(),
            findings: t.findings,
            false_positives: count,
            rate: rate(count, t.findings),
            projects: t.projects,
            noisy_projects: noisy.len() as i64,
            noisy_in,
        });
    }
    rules.sort_by(|a, b| {
        b.rate
            .total_cmp(&a.rate)
            .then(b.false_positives.cmp(&a.false_positives))
            .then(b.findings.cmp(&a.findings))
            .then_with(|| (&a.tool, &a.rule).cmp(&(&b.tool, &b.rule)))
    });
    // The projects where any of an analyzer's rules was called noise.
    let mut called: HashMap<&str, BTreeSet<i64>> = HashMap::new();
    for c in covered {
        called.entry(c.stage.as_str()).or_default().insert(c.project_id);
    }
    let mut tool_rows: Vec<ToolNoise> = tools
        .into_iter()
        .map(|(tool, (findings, fps))| ToolNoise {
            tool: tool.to_owned(),
            findings,
            false_positives: fps,
            rate: rate(fps, findings),
            noisy_projects: called.get(tool).map_or(0, |s| s.len() as i64),
        })
        .collect();
    tool_rows.sort_by(|a, b| {
        b.rate.total_cmp(&a.rate).then(b.false_positives.cmp(&a.false_positives)).then_with(|| a.tool.cmp(&b.tool))
    });
    (tool_rows, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_match_by_purl_or_name() {
        let purl = Some("pkg:npm/lodash@4.17.20");
        assert!(package_matches("lodash", None, purl));
        assert!(package_matches("Lodash", Some("lodash"), None));
        assert!(package_matches("pkg:npm/lodash", None, purl));
        assert!(
            package_matches("pkg:npm/lodash@1.0.0", None, purl),
            "the version of a decision's purl is not compared"
        );
        assert!(!package_matches("pkg:pypi/lodash", Some("lodash"), purl));
        assert!(!package_matches("lodash-es", Some("lodash"), purl));
        assert!(!package_matches("pkg:npm/lodash", Some("lodash"), None), "a purl needs a purl");
    }

    #[test]
    fn globs_read_as_triage_reads_them() {
        let g = path_glob("tests/**").expect("a glob");
        assert!(g.is_match("tests/a/b.py"));
        assert!(!g.is_match("src/tests/b.py"));
        let any = path_glob("*.py").expect("a glob");
        assert!(any.is_match("src/deep/x.py"));
        let one = path_glob("src/*.py").expect("a glob");
        assert!(!one.is_match("src/deep/x.py"));
    }

    #[test]
    fn aliases_go_both_ways() {
        let a = Aliases::new(&[("CVE-1".into(), "GHSA-1".into()), ("PYSEC-1".into(), "GHSA-1".into())]);
        let want: BTreeSet<String> = ["CVE-1", "GHSA-1", "PYSEC-1"].into_iter().map(str::to_owned).collect();
        assert_eq!(a.of("CVE-1"), want);
        assert_eq!(a.of("GHSA-1"), want);
        assert_eq!(a.of("OTHER"), BTreeSet::from(["OTHER".to_owned()]));
    }

    #[test]
    fn rates_round_and_sort() {
        assert_eq!(rate(1, 3), 0.3333);
        assert_eq!(rate(0, 0), 0.0);
        let totals = vec![
            Total { stage: "sast".into(), rule_id: "a".into(), findings: 4, projects: 2 },
            Total { stage: "sast".into(), rule_id: "b".into(), findings: 2, projects: 1 },
            Total { stage: "secrets".into(), rule_id: "c".into(), findings: 1, projects: 1 },
        ];
        let covered = vec![
            Covered { project_id: 1, stage: "sast".into(), rule_id: "a".into() },
            Covered { project_id: 2, stage: "sast".into(), rule_id: "a".into() },
            Covered { project_id: 1, stage: "sast".into(), rule_id: "b".into() },
        ];
        let names = HashMap::from([(1, "one".to_owned()), (2, "two".to_owned())]);
        let (tools, rules) = noise(&totals, &covered, &names, &|p| p == 1, 1);
        let order: Vec<(&str, i64, f64, Vec<String>)> =
            rules.iter().map(|r| (r.rule.as_str(), r.false_positives, r.rate, r.noisy_in.clone())).collect();
        assert_eq!(
            order,
            vec![("a", 2, 0.5, vec!["one".to_owned()]), ("b", 1, 0.5, vec!["one".to_owned()]), ("c", 0, 0.0, vec![])]
        );
        assert_eq!(tools[0].tool, "sast");
        assert_eq!((tools[0].findings, tools[0].false_positives, tools[0].noisy_projects), (6, 3, 2));
        let (_, few) = noise(&totals, &covered, &names, &|_| true, 3);
        assert_eq!(few.len(), 1);
    }
}
