//! `.sluice/triage.toml`: decisions as data, reviewed in merge requests.
//!
//! The serde types here (`Raw*`) are the file format, a compatibility promise; [`Decision`] is
//! the validated, internal form. Every problem found is reported with the file, line and
//! column, all of them at once, and a file with any problem applies nothing: a decision that
//! silently does not apply is a finding silently shown, or worse, one silently hidden.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::version::VersionRange;

/// Where decisions live, relative to the repository root.
pub const DECISIONS_FILE: &str = ".sluice/triage.toml";
/// The format version sluice reads and writes.
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Not a vulnerability: the tool is wrong here.
    FalsePositive,
    /// A vulnerability the owners accept (for now: give `expires`).
    AcceptedRisk,
    /// A vulnerability made harmless by something the tool cannot see.
    Mitigated,
    /// A real vulnerability, triaged: recorded, never suppressed.
    Confirmed,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::FalsePositive, Status::AcceptedRisk, Status::Mitigated, Status::Confirmed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::FalsePositive => "false_positive",
            Status::AcceptedRisk => "accepted_risk",
            Status::Mitigated => "mitigated",
            Status::Confirmed => "confirmed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the decision hides the finding (as a SARIF suppression). `confirmed` does not.
    pub fn suppresses(self) -> bool {
        self != Status::Confirmed
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OpenVEX statuses a decision can record (`under_investigation` records nothing yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
        }
    }
    pub fn parse(text: &str) -> Option<VexStatus> {
        [VexStatus::NotAffected, VexStatus::Affected, VexStatus::Fixed].into_iter().find(|s| s.as_str() == text)
    }
}

/// OpenVEX's justifications for `not_affected`.
pub const VEX_JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// What a decision matches.
#[derive(Debug, Clone)]
pub enum Selector {
    /// One finding, by `partialFingerprints["sluice/v1"]`. `rule`, `path` and `commit` say where
    /// it was when it was marked; with them the decision follows the file through renames.
    Fingerprint { fingerprint: String, rule: Option<String>, path: Option<String>, commit: Option<String> },
    /// Every finding of a rule in the files a glob matches (`*` stays within a directory, `**`
    /// crosses them).
    RulePath { rule: String, glob: String },
    /// Dependency findings of an advisory (or one of its aliases) in a package, optionally
    /// only in some versions.
    Advisory { advisory: String, package: String, versions: Option<VersionRange> },
}

#[derive(Debug, Clone)]
pub struct Decision {
    /// 1-based line of the decision's `[[decision]]` header.
    pub line: usize,
    pub selector: Selector,
    /// Only findings of this stage (`sluice/stage`); also how sluice knows whether a decision
    /// could have matched in a log that holds only some stages.
    pub stage: Option<String>,
    pub status: Status,
    pub reason: String,
    pub who: String,
    pub when: Date,
    pub expires: Option<Date>,
    /// Who rated the finding a vulnerability (`sluice/severity-source` when it was marked).
    pub source: Option<String>,
    pub vex_status: Option<VexStatus>,
    pub vex_justification: Option<String>,
}

impl Selector {
    /// `finding`, `rule` or `advisory`: the server's names for the three kinds.
    pub fn scope(&self) -> &'static str {
        match self {
            Selector::Fingerprint { .. } => "finding",
            Selector::RulePath { .. } => "rule",
            Selector::Advisory { .. } => "advisory",
        }
    }
}

impl Decision {
    /// Expired decisions stop applying on their `expires` date.
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| e <= today)
    }

    /// A one-line description of what the decision matches.
    pub fn describe(&self) -> String {
        let stage = self.stage.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
        match &self.selector {
            Selector::Fingerprint { fingerprint, rule, path, .. } => match (rule, path) {
                (Some(r), Some(p)) => format!("fingerprint {fingerprint} ({r} in {p}){stage}"),
                _ => format!("fingerprint {fingerprint}{stage}"),
            },
            Selector::RulePath { rule, glob } => format!("rule {rule} in {glob}{stage}"),
            Selector::Advisory { advisory, package, versions } => match versions {
                Some(v) => format!("advisory {advisory} in {package} {v}{stage}"),
                None => format!("advisory {advisory} in {package}{stage}"),
            },
        }
    }
}

/// A parsed and validated decisions file.
#[derive(Debug, Clone)]
pub struct Decisions {
    /// How the file is named in messages (the path as the user knows it).
    pub origin: String,
    pub items: Vec<Decision>,
}

/// One problem in a decisions file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{}", render(origin, diagnostics))]
pub struct DecisionsError {
    pub origin: String,
    pub diagnostics: Vec<Diagnostic>,
}

fn render(origin: &str, diagnostics: &[Diagnostic]) -> String {
    let mut lines: Vec<String> =
        diagnostics.iter().map(|d| format!("{origin}:{}:{}: {}", d.line, d.column, d.message)).collect();
    let n = diagnostics.len();
    lines.push(format!(
        "{origin}: {n} problem{} found; no decision was applied: fix the file (docs/triage.md describes it)",
        if n == 1 { "" } else { "s" }
    ));
    lines.join("\n")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<toml::Value>>,
    #[serde(default)]
    decision: Vec<Spanned<RawDecision>>,
}

/// Values are kept as TOML values so every type error is reported with the others, with its
/// position.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    fingerprint: Option<Spanned<toml::Value>>,
    rule: Option<Spanned<toml::Value>>,
    path: Option<Spanned<toml::Value>>,
    commit: Option<Spanned<toml::Value>>,
    advisory: Option<Spanned<toml::Value>>,
    package: Option<Spanned<toml::Value>>,
    versions: Option<Spanned<toml::Value>>,
    stage: Option<Spanned<toml::Value>>,
    status: Option<Spanned<toml::Value>>,
    reason: Option<Spanned<toml::Value>>,
    who: Option<Spanned<toml::Value>>,
    when: Option<Spanned<toml::Value>>,
    expires: Option<Spanned<toml::Value>>,
    source: Option<Spanned<toml::Value>>,
    vex_status: Option<Spanned<toml::Value>>,
    vex_justification: Option<Spanned<toml::Value>>,
}

/// Byte offsets → 1-based lines and columns (in characters), for a text with many positions
/// (a decisions file of 10,000 decisions): line starts are found once.
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts }
    }

    pub(crate) fn at(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }
}

/// Byte offset → 1-based line and column (in characters).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).at(offset)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Checker<'t> {
    lines: Lines<'t>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.lines.at(span.start);
        self.diagnostics.push(Diagnostic { line, column, message: message.into() });
    }

    fn string(&mut self, field: &str, value: &Option<Spanned<toml::Value>>) -> Option<(String, Range<usize>)> {
        let value = value.as_ref()?;
        match value.get_ref() {
            toml::Value::String(s) if !s.trim().is_empty() => Some((s.trim().to_owned(), value.span())),
            toml::Value::String(_) => {
                self.error(value.span(), format!("`{field}` is empty"));
                None
            }
            other => {
                self.error(value.span(), format!("`{field}` must be a string, not {}", other.type_str()));
                None
            }
        }
    }

    fn date(&mut self, field: &str, value: &Option<Spanned<toml::Value>>) -> Option<Date> {
        let value = value.as_ref()?;
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            toml::Value::Datetime(d) => {
                self.error(value.span(), format!("`{field}` must be a date (YYYY-MM-DD), not the date-time {d}"));
                return None;
            }
            other => {
                self.error(value.span(), format!("`{field}` must be a date (YYYY-MM-DD), not {}", other.type_str()));
                return None;
            }
        };
        let date = Date::parse(&text);
        if date.is_none() {
            self.error(value.span(), format!("`{field}` = {text:?} is not a date; write YYYY-MM-DD, e.g. 2025-06-30"));
        }
        date
    }
}

/// `<32 lowercase hex>:<occurrence ≥ 1>`, as in `partialFingerprints["sluice/v1"]`.
pub fn is_fingerprint(text: &str) -> bool {
    sluice_sarif::is_sluice_fingerprint(text)
}

/// A decision's path glob, as `sluice.toml`'s `files` and `.gitignore` read them: `*` stays
/// within a directory, `**` crosses them, and a glob without `/` matches at any depth.
pub(crate) fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    let anchored = if pattern.contains('/') { pattern.to_owned() } else { format!("**/{pattern}") };
    globset::GlobBuilder::new(&anchored).literal_separator(true).build()
}

impl Decisions {
    /// An empty set, as when there is no decisions file.
    pub fn empty(origin: &str) -> Decisions {
        Decisions { origin: origin.to_owned(), items: Vec::new() }
    }

    /// Parses and validates a decisions file; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Decisions, DecisionsError> {
        let fail = |diagnostics| DecisionsError { origin: origin.to_owned(), diagnostics };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(err) => {
                let (line, column) = err.span().map_or((1, 1), |s| line_col(text, s.start));
                // The parser's messages can span lines; one line per problem keeps the output greppable.
                let message = err.message().trim().replace('\n', ": ");
                return Err(fail(vec![Diagnostic { line, column, message }]));
            }
        };
        let mut c = Checker { lines: Lines::new(text), diagnostics: Vec::new() };
        if let Some(version) = &raw.version {
            match version.get_ref() {
                toml::Value::Integer(FORMAT_VERSION) => {}
                other => c.error(
                    version.span(),
                    format!("format version {other} is not supported; this sluice reads version {FORMAT_VERSION}"),
                ),
            }
        }
        let mut items = Vec::with_capacity(raw.decision.len());
        for spanned in &raw.decision {
            let span = spanned.span();
            if let Some(decision) = check_decision(&mut c, spanned.get_ref(), span) {
                items.push(decision);
            }
        }
        check_duplicates(&mut c, &items);
        if c.diagnostics.is_empty() {
            Ok(Decisions { origin: origin.to_owned(), items })
        } else {
            c.diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(fail(c.diagnostics))
        }
    }

    /// The decision whose `[[decision]]` header is on `line`.
    pub fn at_line(&self, line: usize) -> Option<&Decision> {
        self.items.iter().find(|d| d.line == line)
    }
}

fn check_decision(c: &mut Checker<'_>, raw: &RawDecision, span: Range<usize>) -> Option<Decision> {
    let before = c.diagnostics.len();
    let (line, _) = c.lines.at(span.start);
    let fingerprint = c.string("fingerprint", &raw.fingerprint);
    let rule = c.string("rule", &raw.rule);
    let path = c.string("path", &raw.path);
    let commit = c.string("commit", &raw.commit);
    let advisory = c.string("advisory", &raw.advisory);
    let package = c.string("package", &raw.package);
    let versions = c.string("versions", &raw.versions);
    let stage = c.string("stage", &raw.stage);
    let status = c.string("status", &raw.status);
    let reason = c.string("reason", &raw.reason);
    let who = c.string("who", &raw.who);
    let when = c.date("when", &raw.when);
    let expires = c.date("expires", &raw.expires);
    let source = c.string("source", &raw.source);
    let vex_status = c.string("vex_status", &raw.vex_status);
    let vex_justification = c.string("vex_justification", &raw.vex_justification);

    let status = match (&status, &raw.status) {
        (Some((text, s)), _) => {
            let parsed = Status::parse(text);
            if parsed.is_none() {
                let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                c.error(s.clone(), format!("unknown status `{text}`; use one of {}", known.join(", ")));
            }
            parsed
        }
        (None, None) => {
            c.error(span.clone(), format!("missing `status` ({})", Status::ALL.map(|s| s.as_str()).join(", ")));
            None
        }
        (None, Some(_)) => None,
    };
    for (field, value, present) in [
        ("reason", reason.is_some(), raw.reason.is_some()),
        ("who", who.is_some(), raw.who.is_some()),
        ("when", when.is_some(), raw.when.is_some()),
    ] {
        if !value && !present {
            let hint = match field {
                "reason" => "say why this finding is not (or is) a problem",
                "who" => "who decided, e.g. \"Ada Lovelace <ada@example.com>\"",
                _ => "the date of the decision, YYYY-MM-DD",
            };
            c.error(span.clone(), format!("missing `{field}`: {hint}"));
        }
    }
    if let (Some(w), Some(e), Some(raw_e)) = (when, expires, &raw.expires) {
        if e <= w {
            c.error(raw_e.span(), format!("`expires` ({e}) is not after `when` ({w}): the decision would never apply"));
        }
    }

    let selector = match (&fingerprint, &advisory) {
        (Some(_), Some((_, s))) => {
            c.error(s.clone(), "a decision matches by `fingerprint`, by `rule` + `path`, or by `advisory` + `package`: not two at once");
            None
        }
        (Some((fp, s)), None) => {
            if !is_fingerprint(fp) {
                c.error(s.clone(), format!("`fingerprint` = {fp:?} is not a sluice/v1 fingerprint (32 lowercase hex digits, a colon, an occurrence number, as in partialFingerprints[\"sluice/v1\"])"));
            }
            if let Some((commit, s)) = &commit {
                if !(7..=64).contains(&commit.len()) || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
                    c.error(s.clone(), format!("`commit` = {commit:?} is not a git commit id"));
                }
            }
            for (field, value) in [("package", &package), ("versions", &versions)] {
                if let Some((_, s)) = value {
                    c.error(s.clone(), format!("`{field}` belongs to advisory decisions, not fingerprint ones"));
                }
            }
            Some(Selector::Fingerprint {
                fingerprint: fp.clone(),
                rule: rule.as_ref().map(|r| r.0.clone()),
                path: path.as_ref().map(|p| p.0.clone()),
                commit: commit.as_ref().map(|c| c.0.clone()),
            })
        }
        (None, Some((adv, s))) => {
            for (field, value) in [("rule", &rule), ("path", &path), ("commit", &commit)] {
                if let Some((_, s)) = value {
                    c.error(
                        s.clone(),
                        format!("`{field}` does not go with `advisory`; an advisory decision matches by package"),
                    );
                }
            }
            let range = match &versions {
                Some((text, s)) => match VersionRange::parse(text) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        c.error(s.clone(), format!("`versions`: {e}"));
                        None
                    }
                },
                None => None,
            };
            match &package {
                Some((pkg, _)) => {
                    Some(Selector::Advisory { advisory: adv.clone(), package: pkg.clone(), versions: range })
                }
                None => {
                    c.error(s.clone(), "an `advisory` decision needs `package` (a name such as \"lodash\" or a package URL such as \"pkg:npm/lodash\")");
                    None
                }
            }
        }
        (None, None) => {
            for (field, value) in [("package", &package), ("versions", &versions), ("commit", &commit)] {
                if let Some((_, s)) = value {
                    c.error(s.clone(), format!("`{field}` needs a `fingerprint` or an `advisory` to go with"));
                }
            }
            match (&rule, &path) {
                (Some((r, _)), Some((p, s))) => {
                    if let Err(e) = glob(p) {
                        c.error(s.clone(), format!("`path` = {p:?} is not a valid glob: {}", e.kind()));
                    }
                    Some(Selector::RulePath { rule: r.clone(), glob: p.clone() })
                }
                (Some((_, s)), None) => {
                    c.error(
                        s.clone(),
                        "a `rule` decision needs `path`, a glob of the files it covers (\"**\" for all)",
                    );
                    None
                }
                (None, Some((_, s))) => {
                    c.error(s.clone(), "`path` needs a `rule` (or a `fingerprint`) to go with");
                    None
                }
                (None, None) => {
                    c.error(
                        span.clone(),
                        "the decision matches nothing: give `fingerprint`, `rule` + `path`, or `advisory` + `package`",
                    );
                    None
                }
            }
        }
    };

    let vex_status = vex_status.and_then(|(text, s)| {
        if advisory.is_none() {
            c.error(s.clone(), "`vex_status` belongs to advisory decisions");
        }
        let parsed = VexStatus::parse(&text);
        if parsed.is_none() {
            c.error(s.clone(), format!("unknown `vex_status` `{text}`; use not_affected, affected or fixed"));
        }
        match (parsed, status) {
            (Some(VexStatus::NotAffected), Some(st)) if !matches!(st, Status::FalsePositive | Status::Mitigated) => c
                .error(
                    s,
                    format!("`vex_status` not_affected contradicts status {st}; use false_positive or mitigated"),
                ),
            (Some(v @ (VexStatus::Affected | VexStatus::Fixed)), Some(st)) if st != Status::Confirmed => c.error(
                s,
                format!("`vex_status` {} records the finding without suppressing it: use status confirmed", v.as_str()),
            ),
            _ => {}
        }
        parsed
    });
    if let Some((text, s)) = &vex_justification {
        if !VEX_JUSTIFICATIONS.contains(&text.as_str()) {
            c.error(
                s.clone(),
                format!("unknown `vex_justification` `{text}`; use one of {}", VEX_JUSTIFICATIONS.join(", ")),
            );
        } else if advisory.is_none() {
            c.error(s.clone(), "`vex_justification` belongs to advisory decisions");
        }
    }

    if c.diagnostics.len() > before {
        return None;
    }
    Some(Decision {
        line,
        selector: selector?,
        stage: stage.map(|s| s.0),
        status: status?,
        reason: reason?.0,
        who: who?.0,
        when: when?,
        expires,
        source: source.map(|s| s.0),
        vex_status,
        vex_justification: vex_justification.map(|s| s.0),
    })
}

/// Two decisions with the same selector are a conflict whatever they say: which one holds
/// would be an accident of order.
fn check_duplicates(c: &mut Checker<'_>, items: &[Decision]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    for d in items {
        let key = match &d.selector {
            Selector::Fingerprint { fingerprint, .. } => format!("fp\0{fingerprint}"),
            Selector::RulePath { rule, glob } => format!("rp\0{rule}\0{glob}\0{}", d.stage.as_deref().unwrap_or("")),
            Selector::Advisory { advisory, package, versions } => format!(
                "adv\0{}\0{package}\0{}\0{}",
                advisory.to_ascii_lowercase(),
                versions.as_ref().map(ToString::to_string).unwrap_or_default(),
                d.stage.as_deref().unwrap_or("")
            ),
        };
        if let Some(first) = seen.get(&key) {
            errors.push((
                d.line,
                format!("a second decision for {} (the first is at line {first}); keep one", d.describe()),
            ));
        } else {
            seen.insert(key, d.line);
        }
    }
    for (line, message) in errors {
        c.diagnostics.push(Diagnostic { line, column: 1, message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "0123456789abcdef0123456789abcdef:1";

    fn ok(text: &str) -> Decisions {
        Decisions::parse(text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: &str) -> String {
        Decisions::parse(text, ".sluice/triage.toml").unwrap_err().to_string()
    }

    #[test]
    fn parses_the_three_kinds() {
        let d = ok(&format!(
            r#"version = 1

[[decision]]
fingerprint = "{FP}"
rule = "B602"
path = "app/x.py"
status = "false_positive"
reason = "constant command"
who = "Ada <ada@example.com>"
when = 2025-03-01
expires = "2026-03-01"
source = "tool:bandit"

[[decision]]
rule = "B101"
path = "tests/**"
stage = "bandit"
status = "accepted_risk"
reason = "pytest asserts"
who = "Ada"
when = "2025-03-01"

[[decision]]
advisory = "GHSA-jf85-cpcp-j695"
package = "pkg:npm/lodash"
versions = "<4.17.21"
status = "mitigated"
vex_status = "not_affected"
vex_justification = "inline_mitigations_already_exist"
reason = "input is validated"
who = "Ada"
when = 2025-03-01
"#
        ));
        assert_eq!(d.items.len(), 3);
        assert_eq!(d.items.iter().map(|i| i.line).collect::<Vec<_>>(), [3, 14, 23]);
        assert!(matches!(d.items[0].selector, Selector::Fingerprint { .. }));
        assert_eq!(d.items[0].expires.map(|e| e.to_string()).as_deref(), Some("2026-03-01"));
        assert_eq!(d.items[1].status, Status::AcceptedRisk);
        assert!(matches!(&d.items[2].selector, Selector::Advisory { versions: Some(_), .. }));
        assert!(d.items[0].is_expired(Date::parse("2026-03-01").unwrap()));
        assert!(!d.items[0].is_expired(Date::parse("2026-02-28").unwrap()));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = format!(
            r#"[[decision]]
fingerprint = "{FP}"
status = "wontfix"
reason = "x"
who = "me"
when = "2025-02-30"

[[decision]]
rule = "B101"
status = "confirmed"
who = "me"
when = "2025-01-01"
expires = "soon"
"#
        );
        let e = err(&text);
        assert!(e.contains(".sluice/triage.toml:3:10: unknown status `wontfix`; use one of false_positive, accepted_risk, mitigated, confirmed"), "{e}");
        assert!(e.contains(".sluice/triage.toml:6:8: `when` = \"2025-02-30\" is not a date"), "{e}");
        assert!(e.contains(".sluice/triage.toml:8:1: missing `reason`"), "{e}");
        assert!(e.contains(".sluice/triage.toml:9:8: a `rule` decision needs `path`"), "{e}");
        assert!(e.contains(".sluice/triage.toml:13:11: `expires` = \"soon\" is not a date"), "{e}");
        assert!(
            e.ends_with("5 problems found; no decision was applied: fix the file (docs/triage.md describes it)"),
            "{e}"
        );
    }

    #[test]
    fn duplicates_are_conflicts() {
        let one = |status: &str| {
            format!("[[decision]]\nfingerprint = \"{FP}\"\nstatus = \"{status}\"\nreason = \"r\"\nwho = \"w\"\nwhen = 2025-01-01\n\n")
        };
        let e = err(&(one("false_positive") + &one("confirmed")));
        assert!(e.contains(".sluice/triage.toml:8:1: a second decision for fingerprint 0123456789abcdef0123456789abcdef:1 (the first is at line 1); keep one"), "{e}");
    }

    #[test]
    fn syntax_and_unknown_fields_have_positions() {
        let e = err("[[decision]]\nstatus = \"x\nreason = 1\n");
        assert!(e.starts_with(".sluice/triage.toml:2:"), "{e}");
        let e = err("[[decision]]\nstatus = \"confirmed\"\nreasons = \"typo\"\n");
        assert!(e.starts_with(".sluice/triage.toml:3:1: unknown field `reasons`"), "{e}");
        let e = err("[[decision]]\nwhen = 2025-02-30\n");
        assert!(e.starts_with(".sluice/triage.toml:2:"), "{e}");
        assert!(!e.lines().next().unwrap().ends_with(':'), "{e}");
        let e = err("version = 2\n");
        assert!(e.contains(":1:11: format version 2 is not supported"), "{e}");
        let e = err("[[decision]]\nfingerprint = \"abc\"\nstatus = \"confirmed\"\nreason = 1\nwho = \"w\"\nwhen = 2025-01-01T10:00:00Z\n");
        assert!(e.contains(":2:15: `fingerprint` = \"abc\" is not a sluice/v1 fingerprint"), "{e}");
        assert!(e.contains(":4:10: `reason` must be a string, not integer"), "{e}");
        assert!(e.contains(":6:8: `when` must be a date (YYYY-MM-DD), not the date-time"), "{e}");
    }

    #[test]
    fn fingerprints_have_a_shape() {
        assert!(is_fingerprint(FP));
        assert!(is_fingerprint("0123456789abcdef0123456789abcdef:12"));
        for bad in [
            "0123456789abcdef0123456789abcdef",
            "0123456789ABCDEF0123456789abcdef:1",
            "0123456789abcdef0123456789abcdef:0",
            "0123456789abcdef0123456789abcde:1",
            "x:1",
        ] {
            assert!(!is_fingerprint(bad), "{bad}");
        }
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
