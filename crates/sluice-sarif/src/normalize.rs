//! Normalization: what sluice guarantees about every run it passes on, whoever wrote it.
//!
//! After `normalize_run`, every result has an explicit `level`, a `security-severity`, a
//! `sluice/severity-source`, `sluice/cwe` when the rule names CWEs, `sluice/stage`, a
//! repository-relative URI on its primary location, and `partialFingerprints["sluice/v1"]`;
//! results are in file order. The tool's own rule metadata and properties are kept as they are.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use serde_sarif::sarif::{
    Invocation, Message, MultiformatMessageString, Notification, PropertyBag, Region, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails,
};

use crate::fingerprint::{assign_fingerprints, content_hash, normalize_content};
use crate::keys;
use crate::provenance::stage_from;
use crate::severity::{score_for_level, security_severity};
use crate::source::SourceFiles;

/// The base id sluice puts on normalized URIs: the repository root.
const SRCROOT: &str = "%SRCROOT%";
/// Lines of a region read for a fingerprint; longer regions are cut, which keeps identity
/// meaningful for whole-function findings without hashing whole files.
const MAX_FINGERPRINT_LINES: usize = 30;

pub struct NormalizeOptions<'a> {
    /// The stage name recorded in `sluice/stage`.
    pub stage: &'a str,
    /// Repository root; URIs are made relative to it.
    pub root: &'a Path,
    /// Where relative URIs without a base id resolve: the directory the tool ran in.
    pub base: &'a Path,
    /// Read source files to fingerprint results by their code (external tools). When false, or
    /// when the file cannot be read, the region's snippet or the message stands in.
    pub read_files: bool,
}

/// Normalizes a run in place; see the module documentation for what holds afterwards.
pub fn normalize_run(run: &mut Run, opts: &NormalizeOptions<'_>) {
    let base_ids = resolved_base_ids(run);
    let artifact_uris: Vec<Option<String>> =
        run.artifacts.iter().flatten().map(|a| a.location.as_ref().and_then(|l| l.uri.clone())).collect();
    let tool_name = run.tool.driver.name.clone();
    let rules = run.tool.driver.rules.take().unwrap_or_default();
    let rule_index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();

    let mut results = run.results.take().unwrap_or_default();
    for result in &mut results {
        let rule = rule_ref(result, &rules, &rule_index);
        if result.rule_id.is_none() {
            result.rule_id = rule.map(|r| r.id.clone());
        }
        if let Some(loc) = primary_artifact_mut(result) {
            if loc.uri.is_none() {
                loc.uri = loc
                    .index
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| artifact_uris.get(i).cloned().flatten());
            }
            if let Some(uri) = loc.uri.take() {
                let path = resolve_uri(&uri, loc.uri_base_id.as_deref(), &base_ids, opts);
                match path {
                    Resolved::InRoot(rel) => {
                        loc.uri = Some(encode_uri_path(&rel));
                        loc.uri_base_id = Some(SRCROOT.to_owned());
                    }
                    Resolved::Outside(abs) => {
                        loc.uri = Some(format!("file://{}", encode_uri_path(&abs)));
                        loc.uri_base_id = None;
                    }
                    Resolved::Other(original) => loc.uri = Some(original),
                }
            }
        }
        let level = result.level.or_else(|| rule.and_then(rule_default_level)).unwrap_or(ResultLevel::Warning);
        result.level = Some(level);

        let existing_score = security_severity(result, rule);
        let cwes = result_cwes(result, rule);
        let bag = result.properties.get_or_insert_with(PropertyBag::default);
        let props = &mut bag.additional_properties;
        let (score, source) = match existing_score {
            Some(score) => {
                let source = props
                    .get(keys::SEVERITY_SOURCE)
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("tool:{tool_name}"), str::to_owned);
                (score, source)
            }
            None => (score_for_level(level), "sluice:level".to_owned()),
        };
        props.insert(keys::SECURITY_SEVERITY.into(), Value::String(format_score(score)));
        props.insert(keys::SEVERITY_SOURCE.into(), Value::String(source));
        if !cwes.is_empty() {
            props.insert(keys::CWE.into(), Value::from(cwes));
        }
        props.insert(keys::STAGE.into(), Value::String(opts.stage.to_owned()));
        // Any stage's credential finding may quote the credential (a SAST hard-coded-password
        // rule, gitleaks without --redact): drop its snippets unless the stage redacted them
        // itself, as the secrets stage does (it marks results with `sluice/redacted`).
        let redacted_by_stage =
            result.properties.as_ref().is_some_and(|p| p.additional_properties.contains_key(keys::REDACTED));
        if !redacted_by_stage && crate::redact::is_credential(&tool_name, result, rule) {
            redact_snippets(result);
        }
    }

    sort_results(&mut results);

    // Only results without a sluice fingerprint get one here: a built-in stage that knows the
    // finding's identity better (a secret's hash) has already set it.
    let needs = |r: &SarifResult| !r.partial_fingerprints.as_ref().is_some_and(|f| f.contains_key(keys::FINGERPRINT));
    let mut files = SourceFiles::new(opts.read_files.then_some(opts.root));
    let keys: Vec<(String, String, String)> = results
        .iter()
        .filter(|r| needs(r))
        .map(|result| {
            let path = artifact_path(result).unwrap_or_default();
            let content = fingerprint_content(result, &path, opts, &mut files);
            (result.rule_id.clone().unwrap_or_default(), path, content_hash(&normalize_content(&content)))
        })
        .collect();
    assign_fingerprints(results.iter_mut().filter(|r| needs(r)), &keys);

    let mut rules = rules;
    rules.iter_mut().for_each(complete_rule);
    // Always present, even empty: GitHub code scanning rejects a driver without `rules`.
    run.tool.driver.rules = Some(rules);
    run.results = Some(results);
    let category = keys::category(opts.stage);
    match &mut run.automation_details {
        Some(details) if details.id.is_some() => {}
        Some(details) => details.id = Some(category),
        None => {
            run.automation_details = Some(RunAutomationDetails {
                correlation_guid: None,
                description: None,
                guid: None,
                id: Some(category),
                properties: None,
            })
        }
    }
    // A tool's own category (GitHub's upload category) is kept; then the stage is recorded on
    // the run, so that `stage_of` never has to guess it from the tool's name.
    let id = run.automation_details.as_ref().and_then(|d| d.id.as_deref());
    if stage_from(id, None, &tool_name) != opts.stage {
        run.properties
            .get_or_insert_with(PropertyBag::default)
            .additional_properties
            .insert(keys::STAGE.into(), Value::String(opts.stage.to_owned()));
    }
}

/// Drops snippet text that may hold a credential. Invariant: no secret leaves sluice
/// unredacted, including secrets other tools put in their SARIF.
fn redact_snippets(result: &mut SarifResult) {
    let related = result.related_locations.iter_mut().flatten();
    for location in result.locations.iter_mut().flatten().chain(related) {
        if let Some(physical) = location.physical_location.as_mut() {
            for region in [physical.region.as_mut(), physical.context_region.as_mut()].into_iter().flatten() {
                region.snippet = None;
            }
        }
    }
}

/// Fills the descriptions GitHub code scanning requires to show a rule (short and full
/// description, help) from what the tool did give: its name, its other description, its help
/// URI. Nothing the tool wrote is changed.
fn complete_rule(rule: &mut ReportingDescriptor) {
    let text = |t: String| MultiformatMessageString { markdown: None, properties: None, text: t };
    if rule.short_description.is_none() {
        let short = rule.name.clone().unwrap_or_else(|| rule.id.clone());
        rule.short_description = Some(text(short));
    }
    if rule.full_description.is_none() {
        rule.full_description = rule.short_description.as_ref().map(|s| text(s.text.clone()));
    }
    if rule.help.is_none() {
        let help = match &rule.help_uri {
            Some(uri) => format!("See {uri}"),
            None => rule.full_description.as_ref().map_or_else(|| rule.id.clone(), |d| d.text.clone()),
        };
        rule.help = Some(text(help));
    }
}

/// Sorts results into file order: path, line, column, rule, then message, so output is stable
/// whatever order a tool (or a parallel walk) produced.
pub fn sort_results(results: &mut [SarifResult]) {
    results.sort_by_cached_key(|r| {
        let region = primary_region(r);
        (
            artifact_path(r).unwrap_or_default(),
            region.and_then(|g| g.start_line).unwrap_or(0),
            region.and_then(|g| g.start_column).unwrap_or(0),
            r.rule_id.clone().unwrap_or_default(),
            r.message.text.clone().unwrap_or_default(),
        )
    });
}

/// The repository-relative path of a normalized result's primary location, decoded.
pub fn artifact_path(result: &SarifResult) -> Option<String> {
    let uri =
        result.locations.as_ref()?.first()?.physical_location.as_ref()?.artifact_location.as_ref()?.uri.as_deref()?;
    Some(decode_uri_path(uri.strip_prefix("file://").unwrap_or(uri)))
}

/// The region of the primary location.
pub fn primary_region(result: &SarifResult) -> Option<&Region> {
    result.locations.as_ref()?.first()?.physical_location.as_ref()?.region.as_ref()
}

/// The rule a result refers to, by `ruleIndex` or id.
pub fn rule_for<'r>(result: &SarifResult, run: &'r Run) -> Option<&'r ReportingDescriptor> {
    let rules = run.tool.driver.rules.as_deref()?;
    let by_index = result
        .rule_index
        .or_else(|| result.rule.as_ref().and_then(|r| r.index))
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| rules.get(i));
    by_index.or_else(|| {
        let id = result.rule_id.as_deref().or_else(|| result.rule.as_ref()?.id.as_deref())?;
        rules.iter().find(|r| r.id == id)
    })
}

fn rule_ref<'r>(
    result: &SarifResult,
    rules: &'r [ReportingDescriptor],
    index: &HashMap<&str, usize>,
) -> Option<&'r ReportingDescriptor> {
    let by_index = result
        .rule_index
        .or_else(|| result.rule.as_ref().and_then(|r| r.index))
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| rules.get(i));
    by_index.or_else(|| {
        let id = result.rule_id.as_deref().or_else(|| result.rule.as_ref()?.id.as_deref())?;
        index.get(id).map(|&i| &rules[i])
    })
}

fn rule_default_level(rule: &ReportingDescriptor) -> Option<ResultLevel> {
    let level = rule.default_configuration.as_ref()?.level.as_ref()?.as_str()?;
    Some(match level {
        "error" => ResultLevel::Error,
        "warning" => ResultLevel::Warning,
        "note" => ResultLevel::Note,
        "none" => ResultLevel::None,
        _ => return None,
    })
}

/// CWE ids of a result as `CWE-<n>`, from its own `sluice/cwe`, or from tags and properties of
/// it and its rule in the shapes tools use: `CWE-79`, `external/cwe/cwe-79`,
/// `CWE-89: Improper Neutralization…`, a `cwe` property holding a string, number or list.
pub fn result_cwes(result: &SarifResult, rule: Option<&ReportingDescriptor>) -> Vec<String> {
    let mut found = Vec::new();
    let bags = [result.properties.as_ref(), rule.and_then(|r| r.properties.as_ref())];
    for bag in bags.into_iter().flatten() {
        for tag in bag.tags.iter().flatten() {
            push_cwe(tag, &mut found);
        }
        for (key, value) in &bag.additional_properties {
            let key = key.to_ascii_lowercase();
            if key == keys::CWE || key == "cwe" || key == "cwes" || key == "tags" {
                collect_cwes(value, &mut found);
            }
        }
    }
    found.sort_by_key(|c| c[4..].parse::<u32>().unwrap_or(u32::MAX));
    found.dedup();
    found
}

fn collect_cwes(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) => push_cwe(s, found),
        Value::Number(n) => {
            if let Some(n) = n.as_u64() {
                found.push(format!("CWE-{n}"));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_cwes(v, found)),
        _ => {}
    }
}

fn push_cwe(text: &str, found: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.rfind("cwe") else { return };
    let digits: String = lower[at + 3..]
        .trim_start_matches(['-', '_', '/', ':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if let Ok(n) = digits.parse::<u32>() {
        found.push(format!("CWE-{n}"));
    }
}

fn format_score(score: f64) -> String {
    format!("{score:.1}")
}

fn primary_artifact_mut(result: &mut SarifResult) -> Option<&mut serde_sarif::sarif::ArtifactLocation> {
    result.locations.as_mut()?.first_mut()?.physical_location.as_mut()?.artifact_location.as_mut()
}

enum Resolved {
    InRoot(String),
    Outside(String),
    /// Not a file path (an http URI, say): left as the tool wrote it.
    Other(String),
}

fn resolved_base_ids(run: &Run) -> HashMap<String, String> {
    let mut ids = HashMap::new();
    for (id, loc) in run.original_uri_base_ids.iter().flatten() {
        if let Some(uri) = loc.uri.as_deref() {
            ids.insert(id.clone(), uri.to_owned());
        }
    }
    ids
}

fn resolve_uri(
    uri: &str,
    base_id: Option<&str>,
    base_ids: &HashMap<String, String>,
    opts: &NormalizeOptions<'_>,
) -> Resolved {
    let file_path = |u: &str| -> Option<PathBuf> {
        if let Some(rest) = u.strip_prefix("file://") {
            // file:///abs and file://localhost/abs
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            return Some(PathBuf::from(decode_uri_path(rest)));
        }
        if let Some(rest) = u.strip_prefix("file:") {
            return Some(PathBuf::from(decode_uri_path(rest)));
        }
        if u.contains("://") {
            return None;
        }
        Some(PathBuf::from(decode_uri_path(u)))
    };
    let Some(path) = file_path(uri) else {
        return Resolved::Other(uri.to_owned());
    };
    let absolute = if path.is_absolute() {
        path
    } else {
        let base = match base_id {
            Some(SRCROOT) if !base_ids.contains_key(SRCROOT) => opts.root.to_path_buf(),
            Some(id) => match base_ids.get(id).and_then(|u| file_path(u)) {
                Some(b) if b.is_absolute() => b,
                Some(b) => opts.root.join(b),
                None => opts.base.to_path_buf(),
            },
            None => opts.base.to_path_buf(),
        };
        base.join(path)
    };
    let absolute = clean(&absolute);
    let root = clean(opts.root);
    match absolute.strip_prefix(&root) {
        Ok(rel) => Resolved::InRoot(to_slash(rel)),
        Err(_) => Resolved::Outside(to_slash(&absolute)),
    }
}

/// Lexical cleanup of `.` and `..` (no file system access: the file may not exist here).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn to_slash(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir => Some(String::new()),
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encodes what may not appear raw in a URI path (RFC 3986 `pchar` plus `/`).
pub(crate) fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; invalid UTF-8 is replaced.
pub fn decode_uri_path(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Both digits are < 16, so the byte fits.
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fingerprint_content(
    result: &SarifResult,
    path: &str,
    opts: &NormalizeOptions<'_>,
    files: &mut SourceFiles<'_>,
) -> String {
    let region = primary_region(result);
    if opts.read_files && !path.is_empty() {
        if let Some(start) = region.and_then(|r| r.start_line).filter(|&l| l >= 1) {
            let end = region.and_then(|r| r.end_line).unwrap_or(start).max(start);
            // Only files inside the root, after symlinks (see `source`): a log's URI must not
            // make sluice hash, and so reveal, a file the repository does not hold.
            if let Some(lines) = files.lines(path) {
                let first = usize::try_from(start - 1).unwrap_or(usize::MAX);
                let last = usize::try_from(end).unwrap_or(usize::MAX).min(first + MAX_FINGERPRINT_LINES);
                if first < lines.len() {
                    return lines[first..last.min(lines.len())].join("\n");
                }
            }
        }
    }
    if let Some(snippet) = region.and_then(|r| r.snippet.as_ref()).and_then(|s| s.text.as_deref()) {
        return snippet.to_owned();
    }
    result.message.text.clone().unwrap_or_default()
}

/// An invocation recording that a stage failed, with the reason as an error notification.
pub fn failure_notification(message: &str, exit_code: Option<i64>) -> Invocation {
    Invocation {
        account: None,
        arguments: None,
        command_line: None,
        end_time_utc: None,
        environment_variables: None,
        executable_location: None,
        execution_successful: false,
        exit_code,
        exit_code_description: None,
        exit_signal_name: None,
        exit_signal_number: None,
        machine: None,
        notification_configuration_overrides: None,
        process_id: None,
        process_start_failure_message: None,
        properties: None,
        response_files: None,
        rule_configuration_overrides: None,
        start_time_utc: None,
        stderr: None,
        stdin: None,
        stdout: None,
        stdout_stderr: None,
        tool_configuration_notifications: None,
        tool_execution_notifications: Some(vec![Notification {
            associated_rule: None,
            descriptor: None,
            exception: None,
            level: Some(Value::String("error".into())),
            locations: None,
            message: Message {
                arguments: None,
                id: None,
                markdown: None,
                properties: None,
                text: Some(message.to_owned()),
            },
            properties: None,
            thread_id: None,
            time_utc: None,
        }]),
        working_directory: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwe_shapes() {
        let mut found = Vec::new();
        for s in ["CWE-79", "external/cwe/cwe-89", "CWE-22: Path Traversal", "cwe_78", "nope"] {
            push_cwe(s, &mut found);
        }
        assert_eq!(found, ["CWE-79", "CWE-89", "CWE-22", "CWE-78"]);
    }

    #[test]
    fn uri_encoding_round_trips() {
        for p in ["src/a b.py", "ü/x%y.js", "plain/path.rs"] {
            assert_eq!(decode_uri_path(&encode_uri_path(p)), p);
        }
        assert_eq!(encode_uri_path("a b"), "a%20b");
        assert_eq!(decode_uri_path("100%"), "100%");
    }

    #[test]
    fn uris_become_root_relative() {
        let opts =
            NormalizeOptions { stage: "s", root: Path::new("/repo"), base: Path::new("/repo/sub"), read_files: false };
        let ids = HashMap::new();
        let rel = |u: &str, b: Option<&str>| match resolve_uri(u, b, &ids, &opts) {
            Resolved::InRoot(p) => format!("in:{p}"),
            Resolved::Outside(p) => format!("out:{p}"),
            Resolved::Other(p) => format!("other:{p}"),
        };
        assert_eq!(rel("./a.py", None), "in:sub/a.py");
        assert_eq!(rel("../b.py", None), "in:b.py");
        assert_eq!(rel("file:///repo/c/d.py", None), "in:c/d.py");
        assert_eq!(rel("c.py", Some("%SRCROOT%")), "in:c.py");
        assert_eq!(rel("/etc/passwd", None), "out:/etc/passwd");
        assert_eq!(rel("https://x.y/z", None), "other:https://x.y/z");
    }
}
