//! The typed SARIF run of a built-in stage.
//!
//! A stage says what it found in sluice's terms — [`Rule`]s, [`Hit`]s, [`Note`]s, counters —
//! and [`RunBuilder`] writes the run: the tool (`sluice-<stage>`, sluice's version and home),
//! the rule descriptors with their CWE and OWASP tags and `problem.severity`, each result's
//! `ruleIndex` and `sluice/v1` fingerprint, and the one invocation with its notifications and
//! counters. Every built-in stage's run is assembled here and nowhere else, so a shape mistake is
//! a compile error, not a failed `from_value` at run time.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sluice_sarif::keys;
use sluice_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, Run,
    Suppression,
};

/// sluice's version: every built-in stage's `tool.driver.version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Every built-in stage's `tool.driver.informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/sluice-sec/sluice";
/// The base every built-in stage's locations are relative to.
pub const SRCROOT: &str = "%SRCROOT%";

pub use sluice_sarif::Level;

/// A SARIF property bag under construction: sluice's keys ([`keys`]) and the conventional
/// ones, with typed setters for what every stage writes the same way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Props(BTreeMap<String, Value>);

impl Props {
    pub fn new() -> Props {
        Props::default()
    }

    /// Sets `key` (replacing an earlier value).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Props {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    /// Builder form of [`Props::set`].
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Props {
        self.set(key, value);
        self
    }

    /// `security-severity` (GitHub's 0–10 score, one decimal, as a string) and where it came from.
    pub fn severity(&mut self, score: f64, source: &str) -> &mut Props {
        self.set(keys::SECURITY_SEVERITY, security_severity(score));
        self.set(keys::SEVERITY_SOURCE, source)
    }

    /// `sluice/cwe`: the CWE ids (`CWE-798`) a result or rule is an instance of.
    pub fn cwe<S: AsRef<str>>(&mut self, ids: impl IntoIterator<Item = S>) -> &mut Props {
        self.strings(keys::CWE, ids)
    }

    /// Sets `key` to a list of strings.
    pub fn strings<S: AsRef<str>>(&mut self, key: &str, values: impl IntoIterator<Item = S>) -> &mut Props {
        let values: Vec<Value> = values.into_iter().map(|s| Value::from(s.as_ref())).collect();
        self.set(key, values)
    }

    /// Every entry of `other`, replacing those of the same key.
    pub fn extend(&mut self, other: Props) -> &mut Props {
        self.0.extend(other.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn bag(self) -> PropertyBag {
        PropertyBag::builder().additional_properties(self.0).build()
    }
}

/// `7.5` → `"7.5"`: `security-severity` as GitHub reads it.
pub fn security_severity(score: f64) -> String {
    format!("{score:.1}")
}

/// `github-pat-classic` → `GithubPatClassic`: SARIF's `name` is an identifier-like string.
pub fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A rule as a stage describes it; [`RunBuilder`] writes it as a reportingDescriptor.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    /// Identifier-like; [`pascal_case`] of the id unless a stage says otherwise.
    pub name: String,
    pub short_description: String,
    pub full_description: String,
    /// Plain-text help: what terminals and the text report show.
    pub help_text: String,
    /// The same help as markdown: the fix first, then examples and references.
    pub help_markdown: String,
    pub help_uri: Option<String>,
    /// The default level; also gives `problem.severity`.
    pub level: Level,
    /// `very-high`, `high`, `medium`, `low`.
    pub precision: String,
    /// GitHub's 0–10 score; `None` when the rule has none of its own (an advisory without CVSS).
    pub security_severity: Option<f64>,
    /// The rule's own tags; the builder adds `external/cwe/…` and `external/owasp/…`.
    pub tags: Vec<String>,
    pub cwe: Vec<String>,
    /// OWASP Top 10 categories (`A03:2021 Injection`), written as `sluice/owasp` when
    /// [`Rule::owasp_property`] is set and as tags always.
    pub owasp: Vec<String>,
    /// Write `sluice/owasp` even when empty (the SAST rules' documented shape).
    pub owasp_property: bool,
    /// The stage's own descriptor properties.
    pub properties: Props,
}

impl Rule {
    /// A rule with the given id and level and everything else empty.
    pub fn new(id: impl Into<String>, level: Level) -> Rule {
        let id = id.into();
        Rule {
            name: pascal_case(&id),
            id,
            short_description: String::new(),
            full_description: String::new(),
            help_text: String::new(),
            help_markdown: String::new(),
            help_uri: None,
            level,
            precision: "medium".to_owned(),
            security_severity: None,
            tags: Vec::new(),
            cwe: Vec::new(),
            owasp: Vec::new(),
            owasp_property: false,
            properties: Props::new(),
        }
    }

    /// The tags written: the rule's own, then one `external/cwe/cwe-<n>` per CWE and one
    /// `external/owasp/<code>` per OWASP category (`A03:2021 Injection` → `a03:2021`),
    /// without a tag twice in a row.
    pub fn all_tags(&self) -> Vec<String> {
        let mut tags = self.tags.clone();
        for cwe in &self.cwe {
            if let Some(n) = cwe.strip_prefix("CWE-") {
                tags.push(format!("external/cwe/cwe-{n}"));
            }
        }
        for category in &self.owasp {
            let code = category.split_whitespace().next().unwrap_or(category);
            tags.push(format!("external/owasp/{}", code.to_ascii_lowercase()));
        }
        tags.dedup();
        tags
    }

    fn descriptor(self) -> ReportingDescriptor {
        let tags = self.all_tags();
        let mut props = Props::new();
        props.set("precision", self.precision.as_str());
        props.set("problem.severity", self.level.problem_severity());
        if let Some(score) = self.security_severity {
            props.set("security-severity", security_severity(score));
        }
        props.cwe(&self.cwe);
        if self.owasp_property || !self.owasp.is_empty() {
            props.strings(keys::OWASP, &self.owasp);
        }
        props.extend(self.properties);
        let mut bag = props.bag();
        bag.tags = Some(tags);
        let mut descriptor = ReportingDescriptor::builder()
            .id(self.id)
            .name(self.name)
            .short_description(text(self.short_description))
            .full_description(text(self.full_description))
            .help(MultiformatMessageString::builder().text(self.help_text).markdown(self.help_markdown).build())
            .default_configuration(ReportingConfiguration::builder().level(self.level.as_str()).build())
            .properties(bag)
            .build();
        descriptor.help_uri = self.help_uri;
        descriptor
    }
}

fn text(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

/// Where in a file a result is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    pub start_line: u32,
    pub start_column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    /// The source shown with the result (redacted where it held a secret).
    pub snippet: Option<String>,
}

impl Span {
    /// Line `line`, nothing more.
    pub fn line(line: u32) -> Span {
        Span { start_line: line, ..Span::default() }
    }

    fn region(self) -> Region {
        let mut region = Region::builder().start_line(i64::from(self.start_line)).build();
        region.start_column = self.start_column.map(i64::from);
        region.end_line = self.end_line.map(i64::from);
        region.end_column = self.end_column.map(i64::from);
        region.snippet = self.snippet.map(|s| ArtifactContent::builder().text(s).build());
        region
    }
}

/// One finding as a stage reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rule_id: String,
    pub level: Level,
    pub message: String,
    /// Repository-relative path (or, for an image, the image as shown), under `%SRCROOT%`.
    pub uri: String,
    pub span: Span,
    pub properties: Props,
    /// An in-source suppression (`sluice:ignore`, `sluice:allow`): its justification, already
    /// free of credentials.
    pub suppressed: Option<String>,
    /// The content the `sluice/v1` fingerprint is computed from (with the rule and `uri`): a
    /// hash of the normalized match, or of the secret, never the secret itself.
    pub content: String,
}

/// A notification of the stage's invocation: something it could not do, or skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub level: Level,
    pub text: String,
    /// The file it is about, when it is about one.
    pub uri: Option<String>,
    /// `sluice/skipped`: the reason code of a file not scanned (see docs/policy-input.md).
    pub skipped: Option<String>,
}

/// Skip reasons a reader can take as a documented rule rather than the file's own doing:
/// built assets recognised by name. They are notes; every other skip is a warning.
const DOCUMENTED_SKIPS: &[&str] = &["minified"];

impl Note {
    pub fn new(level: Level, text: impl Into<String>) -> Note {
        Note { level, text: text.into(), uri: None, skipped: None }
    }

    /// A file a stage did not scan, located at the file, with the reason's code in
    /// `sluice/skipped` (what the policy input counts).
    pub fn skipped(path: &str, reason: &str, why: &str) -> Note {
        let level = if DOCUMENTED_SKIPS.contains(&reason) { Level::Note } else { Level::Warning };
        Note {
            level,
            text: format!("{path}: not scanned: {why}"),
            uri: (!path.is_empty()).then(|| path.to_owned()),
            skipped: Some(reason.to_owned()),
        }
    }

    fn notification(self) -> Notification {
        let mut note = Notification::builder().message(Message::builder().text(self.text).build()).build();
        note.level = Some(Value::from(self.level.as_str()));
        if let Some(reason) = self.skipped {
            note.properties = Some(Props::new().with(keys::SKIPPED, reason).bag());
        }
        if let Some(uri) = self.uri {
            note.locations = Some(vec![location(uri, None)]);
        }
        note
    }
}

fn location(uri: String, span: Option<Span>) -> Location {
    let mut physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).uri_base_id(SRCROOT).build())
        .build();
    physical.region = span.map(Span::region);
    Location::builder().physical_location(physical).build()
}

/// Collects a stage's rules, results, notifications and counters, and writes its run.
#[derive(Debug)]
pub struct RunBuilder {
    stage: String,
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
    hits: Vec<Hit>,
    notes: Vec<Note>,
    counters: Props,
    properties: Props,
    successful: bool,
}

impl RunBuilder {
    /// The run of built-in stage `stage` (tool `sluice-<stage>`).
    pub fn new(stage: &str) -> RunBuilder {
        RunBuilder {
            stage: stage.to_owned(),
            rules: Vec::new(),
            index: HashMap::new(),
            hits: Vec::new(),
            notes: Vec::new(),
            counters: Props::new(),
            properties: Props::new(),
            successful: true,
        }
    }

    /// The tool name of built-in stage `stage`: `sluice-<stage>`.
    pub fn tool_name(stage: &str) -> String {
        format!("sluice-{stage}")
    }

    /// Whether rule `id` is described already.
    pub fn has_rule(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Describes rule `id` with `make()` unless it is described already; returns its
    /// `ruleIndex`. Rules are written in the order first described.
    pub fn rule(&mut self, id: &str, make: impl FnOnce() -> Rule) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let rule = make();
        debug_assert_eq!(rule.id, id);
        let i = self.rules.len();
        self.index.insert(id.to_owned(), i);
        self.rules.push(rule);
        i
    }

    /// Adds a result. Its rule, if described (before or after), gives its `ruleIndex`.
    pub fn hit(&mut self, hit: Hit) {
        self.hits.push(hit);
    }

    pub fn note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// The invocation's counters (`sluice/files-scanned`, …).
    pub fn counters(&mut self) -> &mut Props {
        &mut self.counters
    }

    /// The run's own properties (`sluice/image-inventories`).
    pub fn properties(&mut self) -> &mut Props {
        &mut self.properties
    }

    /// Marks the invocation unsuccessful: the stage could not do its job, and says why in a note.
    pub fn failed(&mut self) {
        self.successful = false;
    }

    pub fn is_successful(&self) -> bool {
        self.successful
    }

    /// The run.
    pub fn build(self) -> Run {
        let mut run = sluice_sarif::empty_run(&RunBuilder::tool_name(&self.stage));
        let driver = &mut run.tool.driver;
        driver.version = Some(VERSION.to_owned());
        driver.semantic_version = Some(VERSION.to_owned());
        driver.information_uri = Some(INFORMATION_URI.to_owned());
        driver.rules = Some(self.rules.into_iter().map(Rule::descriptor).collect());

        let mut fingerprint_keys = Vec::with_capacity(self.hits.len());
        let mut results: Vec<SarifResult> = Vec::with_capacity(self.hits.len());
        for hit in self.hits {
            fingerprint_keys.push((hit.rule_id.clone(), hit.uri.clone(), hit.content));
            let mut result = SarifResult::builder().message(Message::builder().text(hit.message).build()).build();
            result.rule_index = self.index.get(&hit.rule_id).map(|&i| i as i64);
            result.rule_id = Some(hit.rule_id);
            result.level = Some(hit.level.result_level());
            result.locations = Some(vec![location(hit.uri, Some(hit.span))]);
            result.properties = Some(hit.properties.bag());
            if let Some(justification) = hit.suppressed {
                let mut suppression = Suppression::builder().kind("inSource").build();
                suppression.status = Some(Value::from("accepted"));
                suppression.justification = Some(justification);
                result.suppressions = Some(vec![suppression]);
            }
            results.push(result);
        }
        sluice_sarif::assign_fingerprints(&mut results, &fingerprint_keys);
        run.results = Some(results);

        let mut invocation = Invocation::builder().execution_successful(self.successful).build();
        invocation.tool_execution_notifications = Some(self.notes.into_iter().map(Note::notification).collect());
        invocation.properties = Some(self.counters.bag());
        run.invocations = Some(vec![invocation]);
        if !self.properties.is_empty() {
            run.properties = Some(self.properties.bag());
        }
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(rule: &str, content: &str) -> Hit {
        Hit {
            rule_id: rule.to_owned(),
            level: Level::Warning,
            message: "m".to_owned(),
            uri: "src/a.py".to_owned(),
            span: Span::line(3),
            properties: Props::new(),
            suppressed: None,
            content: content.to_owned(),
        }
    }

    #[test]
    fn the_builder_owns_indexes_fingerprints_tags_and_problem_severity() {
        let mut builder = RunBuilder::new("sast");
        // A result may come before its rule is described.
        builder.hit(hit("b", "x"));
        let a = builder.rule("a", || {
            let mut rule = Rule::new("a", Level::Warning);
            rule.tags = vec!["security".to_owned()];
            rule.cwe = vec!["CWE-79".to_owned()];
            rule.owasp = vec!["A03:2021 Injection".to_owned()];
            rule
        });
        let b = builder.rule("b", || Rule::new("b", Level::Note));
        assert_eq!((a, b, builder.rule("a", || unreachable!())), (0, 1, 0));
        builder.hit(hit("a", "y"));
        builder.hit(hit("a", "y"));
        builder.note(Note::skipped("big.js", "minified", "minified"));
        let run = builder.build();

        assert_eq!(run.tool.driver.name, "sluice-sast");
        let rules = run.tool.driver.rules.as_ref().unwrap();
        let props = |i: usize| rules[i].properties.as_ref().unwrap();
        assert_eq!(props(0).tags.as_deref().unwrap(), ["security", "external/cwe/cwe-79", "external/owasp/a03:2021"]);
        assert_eq!(props(0).additional_properties["problem.severity"], "warning");
        assert_eq!(props(1).additional_properties["problem.severity"], "recommendation");
        assert_eq!(props(0).additional_properties[keys::OWASP][0], "A03:2021 Injection");

        let results = run.results.as_ref().unwrap();
        let indexes: Vec<Option<i64>> = results.iter().map(|r| r.rule_index).collect();
        assert_eq!(indexes, [Some(1), Some(0), Some(0)]);
        let fingerprint = |i: usize| results[i].partial_fingerprints.as_ref().unwrap()[keys::FINGERPRINT].clone();
        // The same finding twice: one base, two occurrences.
        let (first, second) = (fingerprint(1), fingerprint(2));
        assert_eq!(first.rsplit_once(':').unwrap().0, second.rsplit_once(':').unwrap().0);
        assert!(first.ends_with(":1") && second.ends_with(":2"), "{first} {second}");

        let invocation = &run.invocations.as_ref().unwrap()[0];
        assert!(invocation.execution_successful);
        let note = &invocation.tool_execution_notifications.as_ref().unwrap()[0];
        assert_eq!(note.level.as_ref().unwrap(), "note");
        assert_eq!(note.properties.as_ref().unwrap().additional_properties[keys::SKIPPED], "minified");
    }
}
