//! The built-in stages, each behind the same face: root + scope + options in, one SARIF run out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_pipeline::options::{SastOptions, SecretsOptions};
use sluice_pipeline::Scope;
use sluice_sarif::sarif::Run;
use sluice_sarif::{assign_fingerprints, empty_run, keys};

/// The secrets stage reads files up to this size whole; larger text files (generated bundles,
/// data dumps) are scanned in windows, so their size hides nothing.
const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The SAST stage skips source files larger than this (with a note): hand-written code is
/// far smaller, and parsing a generated bundle costs seconds for findings in vendored code.
const SAST_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;
/// Syntax nested deeper than this is generated or hostile; matching cost grows with depth.
const SAST_MAX_DEPTH: usize = 1000;
/// Parsing and matching one file may take this long before the file is skipped.
const SAST_FILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INFORMATION_URI: &str = "https://github.com/sluice-sec/sluice";

/// What a built-in stage is asked to look at.
pub struct StageInput<'a> {
    pub root: &'a Path,
    pub scope: &'a Scope,
    /// Scan the git history (every blob reachable from a ref) instead of the tree.
    pub history: bool,
    /// Scan the staged content (the index), for pre-commit hooks.
    pub staged: bool,
    /// `--since REF`: the reference a diff-aware run compares with.
    pub since: Option<&'a str>,
    /// `--changed-lines`: keep only findings on changed lines (sast stage).
    pub changed_lines: bool,
    /// The stage's table from sluice.toml.
    pub options: &'a BTreeMap<String, toml::Value>,
    pub config_path: &'a Path,
    /// `[run] out_dir`: sluice's own output, which the secrets and SAST stages do not scan.
    pub out_dir: &'a Path,
    /// An image tarball to inventory (container stage).
    pub image: Option<&'a Path>,
    /// The advisory database given on the command line (deps stage).
    pub db: Option<&'a Path>,
}

/// Runs built-in stage `name`.
pub fn run(name: &str, input: &StageInput<'_>) -> Result<Run> {
    if input.history && name != "secrets" {
        bail!("--history applies to the secrets stage only");
    }
    if input.changed_lines && name != "sast" {
        bail!("--changed-lines applies to the sast stage only");
    }
    if input.image.is_some() && name != "container" {
        bail!("--image applies to the container stage only");
    }
    match name {
        "secrets" => secrets(input),
        "sast" => sast(input),
        "container" => crate::container_cmd::run(input),
        "deps" => crate::deps_cmd::stage(input, input.db),
        other => bail!("unknown stage `{other}`; built-in stages: {}", sluice_pipeline::BUILTIN_STAGES.join(", ")),
    }
}

pub(crate) fn stage_options<T: for<'de> Deserialize<'de>>(
    options: &BTreeMap<String, toml::Value>,
    stage: &str,
    config_path: &Path,
) -> Result<T> {
    sluice_pipeline::options::parse(options)
        .map_err(|e| anyhow::anyhow!("{}: [stages.{stage}]: {e}", config_path.display()))
}

fn secrets(input: &StageInput<'_>) -> Result<Run> {
    let (root, config_path) = (input.root, input.config_path);
    let opts: SecretsOptions = stage_options(input.options, "secrets", config_path)?;
    let mut allow_paths = opts.allow_paths;
    allow_paths.extend(own_output(root, input.out_dir));
    let config = sluice_secrets::Config {
        max_file_size: opts.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
        extra_rules: opts.rules,
        allow_paths,
    };
    let engine = sluice_secrets::Engine::new(&config)
        .with_context(|| format!("{}: [stages.secrets]: cannot build the rules", config_path.display()))?;
    let files: Vec<PathBuf>;
    let target = match input.scope {
        Scope::All => sluice_secrets::Target::Dir(root),
        Scope::Changed(changed) => {
            files = changed.iter().map(PathBuf::from).collect();
            sluice_secrets::Target::Files { root, files: &files }
        }
    };
    let (findings, commits, skipped, counters) = if input.staged {
        let findings = sluice_secrets::scan_staged(root, &engine)?;
        let commits = vec![None; findings.len()];
        (findings, commits, Vec::new(), json!({ keys::SCANNED: "staged content (the git index)" }))
    } else if input.history {
        let scan = sluice_secrets::scan_history(root, &engine)?;
        let counters = json!({
            keys::COMMITS_SCANNED: scan.commits,
            keys::BLOBS_SCANNED: scan.blobs_scanned,
            keys::BYTES_SCANNED: scan.bytes_scanned,
            keys::BLOBS_SKIPPED: scan.blobs_skipped,
        });
        let (findings, commits): (Vec<_>, Vec<_>) =
            scan.findings.into_iter().map(|h| (h.finding, Some(h.commit))).unzip();
        (findings, commits, Vec::new(), counters)
    } else {
        let scan = engine.scan(target).context("secrets scan failed")?;
        let binaries = scan.skipped.iter().filter(|s| matches!(s.reason, sluice_secrets::SkipReason::Binary)).count();
        let counters = json!({
            keys::FILES_SCANNED: scan.files_scanned,
            keys::BYTES_SCANNED: scan.bytes_scanned,
            keys::BINARY_FILES_SKIPPED: binaries,
        });
        let commits = vec![None; scan.findings.len()];
        (scan.findings, commits, scan.skipped, counters)
    };

    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &findings {
        let next = used.len();
        used.entry(finding.rule_id.as_str()).or_insert(next);
    }
    // Rule indexes follow first use in file order, so equal scans give equal logs.
    let mut rules: Vec<(&str, usize)> = used.iter().map(|(k, v)| (*k, *v)).collect();
    rules.sort_by_key(|(_, i)| *i);
    let by_id: BTreeMap<&str, &sluice_secrets::Rule> = engine.rules().iter().map(|r| (r.id.as_str(), r)).collect();
    let descriptors: Vec<Value> = rules
        .iter()
        .filter_map(|(id, _)| by_id.get(id))
        .map(|rule| {
            let precision = if rule.family == "generic" { "medium" } else { "high" };
            json!({
                "id": rule.id,
                "name": pascal_case(&rule.id),
                "shortDescription": { "text": rule.name },
                "fullDescription": { "text": non_empty(&rule.description, &rule.name) },
                "help": { "text": non_empty(&rule.help, "Revoke the credential at its provider, issue a new one, and load it from a secret store or the environment instead of the source."), "markdown": non_empty(&rule.help, "Revoke the credential at its provider, issue a new one, and load it from a secret store or the environment instead of the source.") },
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "tags": rule.tags,
                    "precision": precision,
                    "security-severity": format!("{:.1}", rule.severity),
                    keys::CWE: [rule.cwe],
                },
            })
        })
        .collect();

    let mut results = Vec::with_capacity(findings.len());
    let mut fingerprint_keys = Vec::with_capacity(findings.len());
    for (f, commit) in findings.iter().zip(&commits) {
        let rule = by_id.get(f.rule_id.as_str());
        let name = rule.map_or(f.rule_id.as_str(), |r| r.name.as_str());
        let severity = rule.map_or(7.0, |r| r.severity);
        if f.in_path {
            results.push(name_result(f, name, severity, used.get(f.rule_id.as_str()), commit.as_ref()));
            fingerprint_keys.push((f.rule_id.clone(), f.path.clone(), format!("name:{}", f.secret_sha256)));
            continue;
        }
        results.push(json!({
            "ruleId": f.rule_id,
            "ruleIndex": used.get(f.rule_id.as_str()),
            "level": "error",
            "message": { "text": match commit {
                None => format!("{name} found: {}. Revoke and rotate it; a secret in a repository is compromised even after it is removed.", f.redacted),
                Some(c) => format!("{name} found: {}, introduced in commit {} ({}). Revoke and rotate it; rewriting history does not un-leak it.", f.redacted, &c.id[..c.id.len().min(12)], c.date),
            } },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                        "snippet": { "text": f.line_redacted },
                    },
                },
            }],
            "properties": {
                keys::SECURITY_SEVERITY: format!("{severity:.1}"),
                keys::SEVERITY_SOURCE: "sluice secrets rules",
                keys::CWE: ["CWE-798"],
                keys::REDACTED: f.redacted,
                keys::ENTROPY: (f64::from(f.entropy) * 100.0).round() / 100.0,
            },
        }));
        if let (Some(why), Some(result)) = (&f.suppressed_by, results.last_mut().and_then(Value::as_object_mut)) {
            // The engine keeps secrets out of the reason; it is still bounded and checked here.
            result.insert("suppressions".into(), in_source_suppression(why, Some(&engine)));
        }
        if let (Some(c), Some(props)) = (commit, results.last_mut().and_then(|r| r["properties"].as_object_mut())) {
            props.insert(keys::COMMIT.into(), json!(c.id));
            props.insert(keys::COMMIT_DATE.into(), json!(c.date));
            props.insert(keys::COMMIT_AUTHOR.into(), json!(c.author));
        }
        fingerprint_keys.push((f.rule_id.clone(), f.path.clone(), f.secret_sha256.clone()));
    }

    let notifications: Vec<Value> = skipped
        .iter()
        .filter_map(|s| {
            let reason = match s.reason {
                sluice_secrets::SkipReason::Binary => return None,
                sluice_secrets::SkipReason::TooLarge { .. } => "too-large",
                sluice_secrets::SkipReason::Unreadable(_) => "unreadable",
                _ => "other",
            };
            Some(skip_notification(&s.path, reason, &s.reason.to_string()))
        })
        .collect();

    assemble_run("secrets", descriptors, results, &fingerprint_keys, notifications, counters, true)
}

/// A secret in a file's or directory's name: reported at that path, line 1, without a snippet
/// (the file's first line has nothing to do with it).
fn name_result(
    f: &sluice_secrets::Finding,
    name: &str,
    severity: f32,
    rule_index: Option<&usize>,
    commit: Option<&sluice_secrets::Commit>,
) -> Value {
    let introduced = commit
        .map_or_else(String::new, |c| format!(", introduced in commit {} ({})", &c.id[..c.id.len().min(12)], c.date));
    let mut result = json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": { "text": format!(
            "{name} found in a file or directory name: {}{introduced}. Rename the path, then revoke and rotate the credential; a secret in a repository is compromised even after it is removed.",
            f.line_redacted
        ) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": 1 },
            },
        }],
        "properties": {
            keys::SECURITY_SEVERITY: format!("{severity:.1}"),
            keys::SEVERITY_SOURCE: "sluice secrets rules",
            keys::CWE: ["CWE-798"],
            keys::REDACTED: f.redacted,
            keys::IN_PATH: true,
            keys::ENTROPY: (f64::from(f.entropy) * 100.0).round() / 100.0,
        },
    });
    if let (Some(c), Some(props)) = (commit, result["properties"].as_object_mut()) {
        props.insert(keys::COMMIT.into(), json!(c.id));
        props.insert(keys::COMMIT_DATE.into(), json!(c.date));
        props.insert(keys::COMMIT_AUTHOR.into(), json!(c.author));
    }
    result
}

/// Gitignore globs, anchored at the root, of what sluice writes into the repository: the
/// output directory (results, reports people keep next to them) and the baseline. Scanning
/// them would report the rule documentation they carry and the redacted findings of the last
/// run. `.sluice/triage.toml` is not among them: people write its reasons, and a pasted
/// credential there is a leak like any other.
fn own_output(root: &Path, out_dir: &Path) -> Vec<String> {
    let mut globs = vec![format!("/{}", sluice_triage::BASELINE_FILE)];
    let relative = if out_dir.is_absolute() {
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        canonical(out_dir).strip_prefix(canonical(root)).ok().map(Path::to_path_buf)
    } else {
        Some(out_dir.to_path_buf())
    };
    if let Some(dir) = relative.filter(|d| !d.as_os_str().is_empty()) {
        let dir = dir.to_string_lossy().replace('\\', "/");
        let dir = dir.trim_start_matches("./").trim_matches('/');
        if !dir.is_empty() && dir != "." && !dir.split('/').any(|c| c == "..") {
            // Glob metacharacters in a directory name are taken literally.
            let escaped: String = dir
                .chars()
                .flat_map(
                    |c| if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#') { vec!['\\', c] } else { vec![c] },
                )
                .collect();
            globs.push(format!("/{escaped}/"));
        }
    }
    globs
}

fn sast(input: &StageInput<'_>) -> Result<Run> {
    let (root, config_path) = (input.root, input.config_path);
    let opts: SastOptions = stage_options(input.options, "sast", config_path)?;
    let mut languages = Vec::new();
    for name in &opts.languages {
        let lang = sluice_sast::Lang::from_name(name).with_context(|| {
            let known: Vec<&str> = sluice_sast::Lang::ALL.iter().map(|l| l.name()).collect();
            format!(
                "{}: [stages.sast] languages: unknown language `{name}`; use {}",
                config_path.display(),
                known.join(", ")
            )
        })?;
        languages.push(lang);
    }
    let config = sluice_sast::Config {
        max_file_size: opts.max_file_size.unwrap_or(SAST_MAX_FILE_SIZE),
        max_depth: SAST_MAX_DEPTH,
        file_timeout: SAST_FILE_TIMEOUT,
        builtin_rules: opts.builtin_rules.unwrap_or(true),
        rule_dirs: opts.rule_dirs.iter().map(|d| root.join(d)).collect(),
        disabled_rules: opts.disable_rules,
        exclude_paths: opts.exclude_paths.into_iter().chain(own_output(root, input.out_dir)).collect(),
        languages,
    };
    let engine = sluice_sast::Engine::new(&config)
        .with_context(|| format!("{}: [stages.sast]: cannot load the rules", config_path.display()))?;
    let files: Vec<PathBuf>;
    let target = match input.scope {
        Scope::All => sluice_sast::Target::Dir(root),
        Scope::Changed(changed) => {
            files = changed.iter().map(PathBuf::from).collect();
            sluice_sast::Target::Files { root, files: &files }
        }
    };
    let mut scan = engine.scan(target).context("SAST scan failed")?;
    if input.changed_lines || (opts.changed_lines && input.scope.is_diff_aware()) {
        let changed = crate::sast_cmd::changed_lines(root, input.since, input.staged)?;
        scan.retain_changed_lines(&changed);
    }
    sast_run(&engine, &scan, root)
}

/// The SARIF run of a SAST scan: one descriptor per rule that fired (in order of first use,
/// so equal scans give equal logs), results with regions and snippets, and per-file problems
/// as notifications.
fn sast_run(engine: &sluice_sast::Engine, scan: &sluice_sast::Scan, root: &Path) -> Result<Run> {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &scan.findings {
        let next = used.len();
        used.entry(finding.rule_id.as_str()).or_insert(next);
    }
    let mut order: Vec<(&str, usize)> = used.iter().map(|(k, v)| (*k, *v)).collect();
    order.sort_by_key(|(_, i)| *i);
    let by_id: BTreeMap<&str, &sluice_sast::Rule> = engine.rules().iter().map(|r| (r.id.as_str(), r)).collect();
    let descriptors: Vec<Value> =
        order.iter().filter_map(|(id, _)| by_id.get(id)).map(|r| sast_descriptor(r, root)).collect();

    let mut results = Vec::with_capacity(scan.findings.len());
    let mut fingerprint_keys = Vec::with_capacity(scan.findings.len());
    for f in &scan.findings {
        let rule = by_id.get(f.rule_id.as_str());
        let level = rule.map_or("warning", |r| r.level.as_str());
        let severity = rule.map_or(5.0, |r| r.security_severity);
        let cwe: Vec<&str> = rule.map(|r| r.cwe.iter().map(String::as_str).collect()).unwrap_or_default();
        results.push(json!({
            "ruleId": f.rule_id,
            "ruleIndex": used.get(f.rule_id.as_str()),
            "level": level,
            "message": { "text": f.message },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                        "snippet": { "text": f.snippet },
                    },
                },
            }],
            "properties": {
                keys::SECURITY_SEVERITY: format!("{severity:.1}"),
                keys::SEVERITY_SOURCE: "sluice sast rules",
                keys::CWE: cwe,
            },
        }));
        if let (Some(why), Some(result)) = (&f.suppressed_by, results.last_mut().and_then(Value::as_object_mut)) {
            result.insert("suppressions".into(), in_source_suppression(why, sluice_secrets::embedded_engine()));
        }
        let content = sluice_sarif::content_hash(&sluice_sarif::normalize_content(&f.matched));
        fingerprint_keys.push((f.rule_id.clone(), f.path.clone(), content));
    }

    let mut notifications: Vec<Value> = scan
        .skipped
        .iter()
        .filter_map(|s| {
            use sluice_sast::SkipReason as R;
            let reason = match s.reason {
                R::Binary => return None,
                R::TooLarge { .. } => "too-large",
                R::Minified { .. } => "minified",
                R::LongLines { .. } => "long-lines",
                R::Generated { .. } => "generated",
                R::TooDeep { .. } => "too-deep",
                R::Timeout { .. } => "timeout",
                R::Unreadable(_) => "unreadable",
                _ => "other",
            };
            Some(skip_notification(&s.path, reason, &s.reason.to_string()))
        })
        .collect();
    notifications.extend(
        scan.warnings
            .iter()
            .map(|w| json!({ "level": "note", "message": { "text": format!("{}: {}", w.path, w.kind) } })),
    );
    let counters = json!({
        keys::FILES_SCANNED: scan.files_scanned,
        keys::FILES_PARSED: scan.files_parsed,
        keys::BYTES_SCANNED: scan.bytes_scanned,
        keys::FILES_SKIPPED: scan.skipped.len(),
        keys::RULES: engine.rules().len(),
    });

    assemble_run("sast", descriptors, results, &fingerprint_keys, notifications, counters, true)
}

/// The one assembly of a built-in stage's run: the tool (`sluice-<stage>`, sluice's version),
/// its rule descriptors, the results with their `sluice/v1` fingerprints, and one invocation
/// with its notifications and counters.
pub(crate) fn assemble_run(
    stage: &str,
    descriptors: Vec<Value>,
    results: Vec<Value>,
    fingerprint_keys: &[(String, String, String)],
    notifications: Vec<Value>,
    counters: Value,
    successful: bool,
) -> Result<Run> {
    let mut run = empty_run(&format!("sluice-{stage}"));
    run.tool.driver.version = Some(VERSION.to_owned());
    run.tool.driver.semantic_version = Some(VERSION.to_owned());
    run.tool.driver.information_uri = Some(INFORMATION_URI.to_owned());
    run.tool.driver.rules = Some(
        serde_json::from_value(Value::Array(descriptors))
            .with_context(|| format!("internal: {stage} rule descriptors"))?,
    );
    let mut results: Vec<sluice_sarif::sarif::Result> =
        serde_json::from_value(Value::Array(results)).with_context(|| format!("internal: {stage} results"))?;
    assign_fingerprints(&mut results, fingerprint_keys);
    run.results = Some(results);
    run.invocations = Some(
        serde_json::from_value(json!([{
            "executionSuccessful": successful,
            "toolExecutionNotifications": notifications,
            "properties": counters,
        }]))
        .context("internal: invocation")?,
    );
    Ok(run)
}

/// A SAST rule as a SARIF reportingDescriptor, with what GitHub code scanning and editors
/// show: short and full descriptions, help with the fix and examples, CWE and OWASP tags,
/// precision and `security-severity`.
fn sast_descriptor(rule: &sluice_sast::Rule, root: &Path) -> Value {
    let mut tags: Vec<String> = vec!["security".to_owned()];
    tags.extend(rule.tags.iter().cloned());
    for cwe in &rule.cwe {
        if let Some(n) = cwe.strip_prefix("CWE-") {
            tags.push(format!("external/cwe/cwe-{n}"));
        }
    }
    for category in &rule.owasp {
        // `A03:2021 Injection` → `external/owasp/a03:2021`.
        let code = category.split_whitespace().next().unwrap_or(category);
        tags.push(format!("external/owasp/{}", code.to_ascii_lowercase()));
    }
    tags.dedup();
    let fence = rule.language.name();
    // The fix comes first: reports and editors show the first line of the help.
    let mut markdown = format!("{}\n\n{}\n", rule.help.trim(), rule.description.trim());
    for (title, examples) in [("Flagged", &rule.examples.positive), ("Not flagged", &rule.examples.negative)] {
        if let Some(example) = examples.first() {
            markdown.push_str(&format!("\n{title}:\n\n```{fence}\n{}\n```\n", example.trim_end()));
        }
    }
    if !rule.cwe.is_empty() || !rule.owasp.is_empty() {
        let mut refs: Vec<String> = rule.cwe.clone();
        refs.extend(rule.owasp.iter().cloned());
        markdown.push_str(&format!("\n{}\n", refs.join(" · ")));
    }
    let text = format!("How to fix: {}\n\n{}", rule.help.trim(), rule.description.trim());
    let mut descriptor = json!({
        "id": rule.id,
        "name": pascal_case(&rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": rule.description.trim() },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": rule.level.as_str() },
        "properties": {
            "tags": tags,
            "precision": rule.precision.as_str(),
            "problem.severity": match rule.level {
                sluice_sast::Level::Error => "error",
                sluice_sast::Level::Warning => "warning",
                sluice_sast::Level::Note => "recommendation",
            },
            "security-severity": format!("{:.1}", rule.security_severity),
            keys::CWE: rule.cwe,
            keys::OWASP: rule.owasp,
            keys::LANGUAGE: rule.language.name(),
            keys::RULE_SOURCE: if rule.builtin {
                format!("sluice:{}", rule.origin)
            } else {
                // User rules: the file, relative to the repository when it is inside.
                let origin = Path::new(&rule.origin);
                origin.strip_prefix(root).unwrap_or(origin).to_string_lossy().replace('\\', "/")
            },
        },
    });
    if let (Some(url), Some(obj)) = (&rule.url, descriptor.as_object_mut()) {
        obj.insert("helpUri".into(), json!(url));
    }
    descriptor
}

/// Skip reasons a reader can take as a documented rule rather than the file's own doing:
/// built assets recognised by name. They are notes; every other skip is a warning.
const DOCUMENTED_SKIPS: &[&str] = &["minified"];

/// A file a stage did not scan, as a notification located at the file, with the reason's code
/// in `properties["sluice/skipped"]` (what the policy input counts, see docs/policy-input.md).
fn skip_notification(path: &str, reason: &str, why: &str) -> Value {
    let level = if DOCUMENTED_SKIPS.contains(&reason) { "note" } else { "warning" };
    let mut note = json!({
        "level": level,
        "message": { "text": format!("{path}: not scanned: {why}") },
        "properties": { keys::SKIPPED: reason },
    });
    if let (false, Some(obj)) = (path.is_empty(), note.as_object_mut()) {
        obj.insert(
            "locations".into(),
            json!([{ "physicalLocation": { "artifactLocation": { "uri": path, "uriBaseId": "%SRCROOT%" } } }]),
        );
    }
    note
}

/// The SARIF `suppressions` of a finding silenced by a comment in the code (`sluice:ignore`,
/// `sluice:allow`): kind `inSource`, the comment's reason as justification, every credential
/// the secrets engine sees in it redacted. Whether it counts is the policy's decision.
fn in_source_suppression(justification: &str, secrets: Option<&sluice_secrets::Engine>) -> Value {
    let text = match secrets {
        Some(engine) => engine.redact_text(justification).unwrap_or_else(|| justification.to_owned()),
        // Without the engine nothing can be vouched for: keep no text.
        None => "in-source suppression".to_owned(),
    };
    json!([{ "kind": "inSource", "status": "accepted", "justification": text }])
}

fn non_empty<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() {
        fallback
    } else {
        text
    }
}

/// `github-pat-classic` → `GithubPatClassic`: SARIF's `name` is an identifier-like string.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}
