//! Baselines: the findings of a commit, so a later run can say which findings are new.
//!
//! A baseline is a normalized SARIF log (`.sluice/baseline.sarif`) whose runs carry the commit
//! it was computed for in `properties["sluice/baseline-commit"]`. Comparing a log to it sets
//! every result's `baselineState`; findings of the baseline that are gone are reported as
//! fixed (absent). Results are paired one to one, within the same tool and category, in
//! passes from the most to the least certain:
//!
//! 1. same `sluice/v1` fingerprint (same rule, path and whitespace-free content: survives line
//!    moves and reformatting) → `unchanged`;
//! 2. in a file git saw renamed since the baseline's commit, the fingerprint the result would
//!    have had at the old path (re-derived from its content, see `content.rs`) → `unchanged`;
//! 3. same rule, same path (after renames) and the same whitespace-free snippet → `updated`;
//! 4. same rule, same path (after renames) and the same message, nearest line first →
//!    `updated`;
//!
//! and anything left is `new`. `updated` means "matched by rule and place, not by identity": a
//! strict gate can treat it like `new`. Credentials never take passes 3 and 4: another secret
//! on a similar line (the secrets stage's messages and snippets are redacted, so two tokens of
//! one kind look alike) is a new leak, not an update of the old one.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};
use sluice_sarif::sarif::{Result as SarifResult, Sarif};
use sluice_sarif::{artifact_path, keys, normalize_content, primary_region};

use crate::apply::{clear, is_triage_run, run_stage, run_succeeded};
use crate::content::{fingerprint_at, Sources};
use crate::renames::RenameMap;

/// Where the baseline lives, relative to the repository root.
pub const BASELINE_FILE: &str = ".sluice/baseline.sarif";

/// Turns a normalized log into a baseline: sluice's triage is removed (decisions are kept
/// apart, in the decisions file), and so are results already absent and their states; every
/// run records `commit`.
pub fn make_baseline(log: &mut Sarif, commit: Option<&str>) {
    clear(log);
    for run in &mut log.runs {
        if let Some(results) = run.results.as_mut() {
            results.retain(|r| r.baseline_state.as_ref().and_then(Value::as_str) != Some("absent"));
            for r in results.iter_mut() {
                r.baseline_state = None;
            }
        }
        let props = run.properties.get_or_insert_with(Default::default);
        match commit {
            Some(c) => props.additional_properties.insert(keys::BASELINE_COMMIT.into(), json!(c)),
            None => props.additional_properties.remove(keys::BASELINE_COMMIT),
        };
        run.baseline_guid = None;
    }
}

/// Whether a result is about a credential: its identity is the secret, nothing looser.
fn is_credential(run: &sluice_sarif::sarif::Run, stage: &str, result: &SarifResult) -> bool {
    stage == "secrets"
        || sluice_sarif::is_credential(&run.tool.driver.name, result, sluice_sarif::rule_for(result, run))
}

#[derive(Debug, Clone)]
struct Entry {
    fingerprint: Option<String>,
    rule: String,
    path: Option<String>,
    line: Option<i64>,
    snippet: Option<String>,
    message: String,
    stage: String,
    credential: bool,
}

/// A baseline ready for comparisons.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    commit: Option<String>,
    groups: HashMap<(String, String), Vec<Entry>>,
    results: usize,
}

fn group_key(run: &sluice_sarif::sarif::Run) -> (String, String) {
    let category = run.automation_details.as_ref().and_then(|d| d.id.clone()).unwrap_or_default();
    (run.tool.driver.name.clone(), category)
}

fn snippet_key(result: &SarifResult) -> Option<String> {
    let text = primary_region(result)?.snippet.as_ref()?.text.as_deref()?;
    let key = normalize_content(text);
    (!key.is_empty()).then_some(key)
}

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: not a SARIF log sluice can use as a baseline ({message}); record it again with `sluice baseline`")]
pub struct BaselineError {
    pub origin: String,
    pub message: String,
}

/// Just what comparisons need of a baseline log: a baseline of 100,000 results read this way
/// takes a fraction of the memory and time of the full SARIF model.
mod lean {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    pub struct Log {
        pub version: Value,
        pub runs: Vec<Run>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Run {
        pub tool: Tool,
        pub automation_details: Option<Details>,
        pub properties: Option<BTreeMap<String, Value>>,
        #[serde(default)]
        pub results: Vec<Result>,
    }
    #[derive(Deserialize)]
    pub struct Tool {
        pub driver: Driver,
    }
    #[derive(Deserialize)]
    pub struct Driver {
        pub name: String,
    }
    #[derive(Deserialize)]
    pub struct Details {
        pub id: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Result {
        pub rule_id: Option<String>,
        pub message: Option<Message>,
        pub partial_fingerprints: Option<BTreeMap<String, String>>,
        #[serde(default)]
        pub locations: Vec<Location>,
        pub properties: Option<BTreeMap<String, Value>>,
        pub baseline_state: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct Message {
        pub text: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Location {
        pub physical_location: Option<Physical>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Physical {
        pub artifact_location: Option<Artifact>,
        pub region: Option<Region>,
    }
    #[derive(Deserialize)]
    pub struct Artifact {
        pub uri: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Region {
        pub start_line: Option<i64>,
        pub snippet: Option<Message>,
    }
}

/// Percent-decoding of a normalized URI path (as `sluice_sarif::artifact_path` reads it).
fn decode_uri(uri: &str) -> String {
    sluice_sarif::decode_uri_path(uri.strip_prefix("file://").unwrap_or(uri))
}

impl Baseline {
    /// Reads a baseline from the bytes of its SARIF file; `origin` names it in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Baseline, BaselineError> {
        let fail = |message: String| BaselineError { origin: origin.to_owned(), message };
        let log: lean::Log = serde_json::from_slice(bytes).map_err(|e| fail(e.to_string()))?;
        if log.version != Value::String("2.1.0".into()) {
            return Err(fail(format!("SARIF version {} instead of 2.1.0", log.version)));
        }
        let mut baseline = Baseline::default();
        for run in log.runs {
            let category = run.automation_details.and_then(|d| d.id).unwrap_or_default();
            if category == keys::TRIAGE_CATEGORY {
                continue;
            }
            let props = run.properties.unwrap_or_default();
            if baseline.commit.is_none() {
                baseline.commit = props.get(keys::BASELINE_COMMIT).and_then(Value::as_str).map(str::to_owned);
            }
            let run_stage = props.get(sluice_sarif::keys::STAGE).and_then(Value::as_str);
            let stage = sluice_sarif::stage_from(Some(&category), run_stage, &run.tool.driver.name);
            let tool = run.tool.driver.name;
            let entries = baseline.groups.entry((tool.clone(), category)).or_default();
            for r in run.results {
                if r.baseline_state.as_deref() == Some("absent") {
                    continue;
                }
                let physical = r.locations.into_iter().next().and_then(|l| l.physical_location);
                let (uri, region) = match physical {
                    Some(p) => (p.artifact_location.and_then(|a| a.uri), p.region),
                    None => (None, None),
                };
                let props = r.properties.unwrap_or_default();
                let rule = r.rule_id.unwrap_or_default();
                let own_stage = stage.clone();
                let cwes = props.get(sluice_sarif::keys::CWE).and_then(Value::as_array);
                let credential = sluice_sarif::is_credential_parts(
                    &tool,
                    &own_stage,
                    &rule,
                    cwes.into_iter().flatten().filter_map(Value::as_str),
                );
                entries.push(Entry {
                    fingerprint: r.partial_fingerprints.and_then(|mut f| f.remove(keys::FINGERPRINT)),
                    path: uri.as_deref().map(decode_uri),
                    line: region.as_ref().and_then(|g| g.start_line),
                    snippet: region
                        .and_then(|g| g.snippet)
                        .and_then(|s| s.text)
                        .map(|t| normalize_content(&t))
                        .filter(|k| !k.is_empty()),
                    message: r.message.and_then(|m| m.text).unwrap_or_default(),
                    rule,
                    stage: own_stage,
                    credential,
                });
                baseline.results += 1;
            }
        }
        Ok(baseline)
    }

    pub fn from_log(log: &Sarif) -> Baseline {
        let mut baseline = Baseline::default();
        for run in log.runs.iter().filter(|r| !is_triage_run(r)) {
            if baseline.commit.is_none() {
                baseline.commit = run
                    .properties
                    .as_ref()
                    .and_then(|p| p.additional_properties.get(keys::BASELINE_COMMIT))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            let stage = run_stage(run);
            let entries = baseline.groups.entry(group_key(run)).or_default();
            for result in run.results.iter().flatten() {
                if result.baseline_state.as_ref().and_then(Value::as_str) == Some("absent") {
                    continue;
                }
                entries.push(Entry {
                    fingerprint: result.partial_fingerprints.as_ref().and_then(|f| f.get(keys::FINGERPRINT).cloned()),
                    rule: result.rule_id.clone().unwrap_or_default(),
                    path: artifact_path(result),
                    line: primary_region(result).and_then(|r| r.start_line),
                    snippet: snippet_key(result),
                    message: result.message.text.clone().unwrap_or_default(),
                    stage: stage.clone(),
                    credential: is_credential(run, &stage, result),
                });
                baseline.results += 1;
            }
        }
        baseline
    }

    /// The commit the baseline was computed for, when it says.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    pub fn len(&self) -> usize {
        self.results
    }

    pub fn is_empty(&self) -> bool {
        self.results == 0
    }
}

pub struct CompareOptions<'a> {
    /// Repository root, to re-derive fingerprints in renamed files.
    pub root: Option<&'a Path>,
    /// Files renamed since the baseline's commit.
    pub renames: &'a RenameMap,
    /// Whether a path was looked at in this run: a baseline finding in a file the run did not
    /// scan (diff-aware runs) is not reported fixed.
    pub in_scope: &'a dyn Fn(&str) -> bool,
}

/// A baseline finding that the log no longer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    pub stage: String,
    pub rule: String,
    /// Where it was (its path at the baseline's commit).
    pub path: Option<String>,
    pub line: Option<i64>,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct BaselineOutcome {
    pub commit: Option<String>,
    pub new: usize,
    pub unchanged: usize,
    pub updated: usize,
    /// Matched through a file rename (included in `unchanged` or `updated`).
    pub through_renames: usize,
    pub fixed: Vec<Fixed>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    Unchanged,
    Updated,
}

/// Sets `baselineState` on every result of the log (the triage run aside).
pub fn compare(log: &mut Sarif, baseline: &Baseline, opts: &CompareOptions<'_>) -> BaselineOutcome {
    let mut outcome = BaselineOutcome { commit: baseline.commit.clone(), ..BaselineOutcome::default() };
    let mut sources = Sources::new(opts.root);
    let empty = Vec::new();
    for run in log.runs.iter_mut().filter(|r| !is_triage_run(r)) {
        let entries = baseline.groups.get(&group_key(run)).unwrap_or(&empty);
        let succeeded = run_succeeded(run);
        let stage = run_stage(run);
        let credentials: Vec<bool> = run.results.iter().flatten().map(|r| is_credential(run, &stage, r)).collect();
        let results = run.results.get_or_insert_with(Vec::new);
        let states = pair(results, &credentials, entries, opts, &mut sources);
        for (result, (state, renamed)) in results.iter_mut().zip(&states.current) {
            let name = match state {
                State::New => {
                    outcome.new += 1;
                    "new"
                }
                State::Unchanged => {
                    outcome.unchanged += 1;
                    "unchanged"
                }
                State::Updated => {
                    outcome.updated += 1;
                    "updated"
                }
            };
            if *renamed {
                outcome.through_renames += 1;
            }
            result.baseline_state = Some(Value::String(name.into()));
        }
        // A failed stage found nothing because it did not run: its baseline findings are not fixed.
        if succeeded {
            for (entry, matched) in entries.iter().zip(&states.baseline_matched) {
                let in_scope = entry.path.as_deref().is_none_or(|p| (opts.in_scope)(opts.renames.map(p)));
                if !matched && in_scope {
                    outcome.fixed.push(Fixed {
                        stage: entry.stage.clone(),
                        rule: entry.rule.clone(),
                        path: entry.path.clone(),
                        line: entry.line,
                        fingerprint: entry.fingerprint.clone(),
                    });
                }
            }
        }
    }
    outcome.fixed.sort_by(|a, b| (&a.path, a.line, &a.rule).cmp(&(&b.path, b.line, &b.rule)));
    outcome
}

struct Pairing {
    current: Vec<(State, bool)>,
    baseline_matched: Vec<bool>,
}

fn pair(
    results: &[SarifResult],
    credentials: &[bool],
    entries: &[Entry],
    opts: &CompareOptions<'_>,
    sources: &mut Sources<'_>,
) -> Pairing {
    let mut current = vec![(State::New, false); results.len()];
    let mut done = vec![false; results.len()];
    let mut taken = vec![false; entries.len()];
    let mapped = |e: &Entry| e.path.as_deref().map(|p| opts.renames.map(p).to_owned());

    // 1. Fingerprints.
    let mut by_fp: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, e) in entries.iter().enumerate() {
        if let Some(fp) = &e.fingerprint {
            by_fp.entry(fp.as_str()).or_default().push(k);
        }
    }
    for (i, r) in results.iter().enumerate() {
        let Some(fp) = r.partial_fingerprints.as_ref().and_then(|f| f.get(keys::FINGERPRINT)) else { continue };
        if let Some(k) = by_fp.get(fp.as_str()).and_then(|ks| ks.iter().copied().find(|&k| !taken[k])) {
            taken[k] = true;
            done[i] = true;
            current[i] = (State::Unchanged, false);
        }
    }

    // 2. Renamed files: the fingerprint at the old path.
    if !opts.renames.is_empty() {
        for (i, r) in results.iter().enumerate() {
            if done[i] {
                continue;
            }
            let Some(path) = artifact_path(r) else { continue };
            let Some(old) = opts.renames.old_of(&path) else { continue };
            let Some(fp) = fingerprint_at(r, old, sources) else { continue };
            if let Some(k) = by_fp.get(fp.as_str()).and_then(|ks| ks.iter().copied().find(|&k| !taken[k])) {
                taken[k] = true;
                done[i] = true;
                current[i] = (State::Unchanged, true);
            }
        }
    }

    // 3 and 4. Rule and place, then the same snippet or message.
    type Key = (String, Option<String>, String);
    for pass in [Pass::Snippet, Pass::Message] {
        let mut index: HashMap<Key, Vec<usize>> = HashMap::new();
        for (k, e) in entries.iter().enumerate() {
            if taken[k] || e.credential {
                continue;
            }
            let third = match pass {
                Pass::Snippet => match &e.snippet {
                    Some(s) => s.clone(),
                    None => continue,
                },
                Pass::Message => e.message.clone(),
            };
            index.entry((e.rule.clone(), mapped(e), third)).or_default().push(k);
        }
        if index.is_empty() {
            continue;
        }
        for (i, r) in results.iter().enumerate() {
            if done[i] || credentials[i] {
                continue;
            }
            let third = match pass {
                Pass::Snippet => match snippet_key(r) {
                    Some(s) => s,
                    None => continue,
                },
                Pass::Message => r.message.text.clone().unwrap_or_default(),
            };
            let path = artifact_path(r);
            let renamed = path.as_deref().is_some_and(|p| opts.renames.old_of(p).is_some());
            let key = (r.rule_id.clone().unwrap_or_default(), path, third);
            let Some(candidates) = index.get(&key) else { continue };
            let line = primary_region(r).and_then(|g| g.start_line).unwrap_or(0);
            let best = candidates
                .iter()
                .copied()
                .filter(|&k| !taken[k])
                .min_by_key(|&k| (entries[k].line.unwrap_or(0) - line).abs());
            if let Some(k) = best {
                taken[k] = true;
                done[i] = true;
                current[i] = (State::Updated, renamed);
            }
        }
    }
    Pairing { current, baseline_matched: taken }
}

#[derive(Clone, Copy)]
enum Pass {
    Snippet,
    Message,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_sarif::read_log;

    fn result(rule: &str, path: &str, line: i64, fp: &str, snippet: &str, message: &str) -> String {
        format!(
            r#"{{"ruleId":"{rule}","message":{{"text":"{message}"}},"partialFingerprints":{{"sluice/v1":"{fp}"}},
            "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":{line},"snippet":{{"text":"{snippet}"}}}}}}}}]}}"#
        )
    }

    fn log(results: &[String]) -> Sarif {
        let text = format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"automationDetails":{{"id":"sluice/t/"}},"results":[{}]}}]}}"#,
            results.join(",")
        );
        read_log(text.as_bytes(), "t").unwrap()
    }

    fn fp(c: char, n: u32) -> String {
        format!("{}:{n}", c.to_string().repeat(32))
    }

    fn states(log: &Sarif) -> Vec<String> {
        log.runs[0]
            .results
            .iter()
            .flatten()
            .map(|r| r.baseline_state.as_ref().unwrap().as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn passes_from_identity_to_place() {
        let mut base = log(&[
            result("R1", "a.py", 10, &fp('a', 1), "eval(x)", "m1"),
            result("R1", "a.py", 20, &fp('b', 1), "exec(y)", "m2"),
            result("R2", "b.py", 5, &fp('c', 1), "os.system(z)", "m3"),
            result("R3", "old.py", 7, &fp('d', 1), "pickle.loads(q)", "m4"),
            result("R4", "gone.py", 1, &fp('e', 1), "x", "m5"),
        ]);
        make_baseline(&mut base, Some("abc123"));
        let baseline = Baseline::from_log(&base);
        assert_eq!(baseline.commit(), Some("abc123"));
        assert_eq!(baseline.len(), 5);

        let mut current = log(&[
            // Moved down 30 lines, same fingerprint.
            result("R1", "a.py", 40, &fp('a', 1), "eval(x)", "m1"),
            // Edited code (new fingerprint), same snippet after reformatting? No: a new snippet, same message.
            result("R1", "a.py", 21, &fp('f', 1), "exec(y2)", "m2"),
            // Reformatted snippet, new fingerprint (a stage-defined identity changed): same snippet key.
            result("R2", "b.py", 5, &fp('g', 1), "os.system( z )", "m3"),
            // In a renamed file: the rename maps old.py → new.py, the snippet matches.
            result("R3", "new.py", 7, &fp('h', 1), "pickle.loads(q)", "m4"),
            // Introduced by the change.
            result("R1", "a.py", 50, &fp('i', 1), "eval(input())", "m9"),
        ]);
        let mut renames = RenameMap::new();
        renames.insert("old.py", "new.py");
        let outcome =
            compare(&mut current, &baseline, &CompareOptions { root: None, renames: &renames, in_scope: &|_| true });
        assert_eq!(states(&current), ["unchanged", "updated", "updated", "updated", "new"]);
        assert_eq!((outcome.new, outcome.unchanged, outcome.updated, outcome.through_renames), (1, 1, 3, 1));
        assert_eq!(outcome.fixed.len(), 1);
        assert_eq!(outcome.fixed[0].path.as_deref(), Some("gone.py"));

        // Out of scope (a diff-aware run that did not look at gone.py): not fixed.
        let outcome = compare(
            &mut current,
            &baseline,
            &CompareOptions { root: None, renames: &renames, in_scope: &|p| p != "gone.py" },
        );
        assert!(outcome.fixed.is_empty());
    }

    #[test]
    fn another_secret_in_the_same_place_is_new() {
        let base = log(&[result("github-pat", "a.env", 1, &fp('a', 1), "T=ghp_…(40 chars)", "token ghp_…")]);
        let baseline = Baseline::from_log(&base);
        let mut current = log(&[result("github-pat", "a.env", 1, &fp('b', 1), "T=ghp_…(40 chars)", "token ghp_…")]);
        current.runs[0].automation_details.as_mut().unwrap().id = Some("sluice/secrets/".into());
        let mut base2 = base.clone();
        base2.runs[0].automation_details.as_mut().unwrap().id = Some("sluice/secrets/".into());
        let baseline2 = Baseline::from_log(&base2);
        let opts = CompareOptions { root: None, renames: &RenameMap::new(), in_scope: &|_| true };
        let outcome = compare(&mut current, &baseline2, &opts);
        assert_eq!(states(&current), ["new"]);
        assert_eq!(outcome.fixed.len(), 1);
        // The same shapes from a SAST tool are the same finding, edited.
        let mut sast = log(&[result("github-pat", "a.env", 1, &fp('b', 1), "T=ghp_…(40 chars)", "token ghp_…")]);
        compare(&mut sast, &baseline, &opts);
        assert_eq!(states(&sast), ["updated"]);
    }

    #[test]
    fn the_lean_reader_reads_what_the_full_model_reads() {
        let mut base = log(&[
            result("R1", "a%20b.py", 10, &fp('a', 1), "eval(x)", "m1"),
            result("github-pat", "c.env", 2, &fp('b', 1), "T=ghp_…", "m2"),
        ]);
        base.runs[0].results.as_mut().unwrap()[1].properties =
            Some(serde_json::from_value(json!({ "sluice/cwe": ["CWE-798"] })).unwrap());
        make_baseline(&mut base, Some("abc"));
        let bytes = serde_json::to_vec(&base).unwrap();
        let lean = Baseline::from_json(&bytes, "b.sarif").unwrap();
        let full = Baseline::from_log(&base);
        let sorted = |b: &Baseline| format!("{:?}", b.groups.iter().collect::<std::collections::BTreeMap<_, _>>());
        assert_eq!(sorted(&lean), sorted(&full));
        assert_eq!(lean.commit(), Some("abc"));
        assert!(lean.groups.values().flatten().any(|e| e.path.as_deref() == Some("a b.py")));
        let err = Baseline::from_json(b"{\"version\":\"2.0.0\",\"runs\":[]}", "b.sarif").unwrap_err();
        assert!(err.to_string().starts_with("b.sarif: not a SARIF log sluice can use as a baseline"), "{err}");
    }

    #[test]
    fn repeated_findings_pair_one_to_one() {
        let base = log(&[result("R", "a.py", 1, &fp('a', 1), "s", "m"), result("R", "a.py", 2, &fp('a', 2), "s", "m")]);
        let baseline = Baseline::from_log(&base);
        let mut current = log(&[
            result("R", "a.py", 1, &fp('a', 1), "s", "m"),
            result("R", "a.py", 2, &fp('a', 2), "s", "m"),
            result("R", "a.py", 3, &fp('a', 3), "s", "m"),
        ]);
        let outcome = compare(
            &mut current,
            &baseline,
            &CompareOptions { root: None, renames: &RenameMap::new(), in_scope: &|_| true },
        );
        assert_eq!(states(&current), ["unchanged", "unchanged", "new"]);
        assert_eq!(outcome.new, 1);
    }

    #[test]
    fn failed_stages_fix_nothing() {
        let base = log(&[result("R", "a.py", 1, &fp('a', 1), "s", "m")]);
        let baseline = Baseline::from_log(&base);
        let mut current = log(&[]);
        current.runs[0].invocations = Some(vec![sluice_sarif::failure_notification("boom", Some(3))]);
        let outcome = compare(
            &mut current,
            &baseline,
            &CompareOptions { root: None, renames: &RenameMap::new(), in_scope: &|_| true },
        );
        assert!(outcome.fixed.is_empty());
    }
}
