//! The secrets stage: `sluice-secrets` findings (tree, diff, staged content or history) as a
//! SARIF run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use sluice_pipeline::options::SecretsOptions;
use sluice_pipeline::Scope;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;

use crate::run::{Hit, Level, Note, Props, Rule, RunBuilder, Span};
use crate::{in_source_justification, own_output, Stage, StageInput};

/// The secrets stage reads files up to this size whole; larger text files (generated bundles,
/// data dumps) are scanned in windows, so their size hides nothing.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Where a secret's severity comes from.
const SEVERITY_SOURCE: &str = "sluice secrets rules";

/// What to do about any leaked secret, when a rule has no help of its own.
const DEFAULT_HELP: &str = "Revoke the credential at its provider, issue a new one, and load it from a secret store or the environment instead of the source.";

/// `sluice scan secrets`.
pub struct Secrets;

impl Stage for Secrets {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn run(&self, input: &StageInput<'_>) -> Result<Run> {
        let (root, config_path) = (input.root, input.config_path);
        let opts: SecretsOptions = crate::options(input, "secrets")?;
        let mut allow_paths = opts.allow_paths;
        allow_paths.extend(own_output(root, input.out_dir));
        let config = sluice_secrets::Config {
            max_file_size: opts.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
            extra_rules: opts.rules,
            allow_paths,
            peer_annotations: opts.peer_annotations.unwrap_or(true),
        };
        let engine = sluice_secrets::Engine::new(&config)
            .with_context(|| format!("{}: [stages.secrets]: cannot build the rules", config_path.display()))?;
        let mut run = RunBuilder::new(self.name());
        let files: Vec<PathBuf>;
        let target = match input.scope {
            Scope::All => sluice_secrets::Target::Dir(root),
            Scope::Changed(changed) => {
                files = changed.iter().map(PathBuf::from).collect();
                sluice_secrets::Target::Files { root, files: &files }
            }
        };
        let (findings, commits) = if input.staged {
            let findings = sluice_secrets::scan_staged(root, &engine)?;
            run.counters().set(keys::SCANNED, "staged content (the git index)");
            let commits = vec![None; findings.len()];
            (findings, commits)
        } else if input.history {
            let scan = sluice_secrets::scan_history(root, &engine)?;
            run.counters()
                .set(keys::COMMITS_SCANNED, scan.commits)
                .set(keys::BLOBS_SCANNED, scan.blobs_scanned)
                .set(keys::BYTES_SCANNED, scan.bytes_scanned)
                .set(keys::BLOBS_SKIPPED, scan.blobs_skipped);
            scan.findings.into_iter().map(|h| (h.finding, Some(h.commit))).unzip()
        } else {
            let scan = engine.scan(target).context("secrets scan failed")?;
            let binaries =
                scan.skipped.iter().filter(|s| matches!(s.reason, sluice_secrets::SkipReason::Binary)).count();
            run.counters()
                .set(keys::FILES_SCANNED, scan.files_scanned)
                .set(keys::BYTES_SCANNED, scan.bytes_scanned)
                .set(keys::BINARY_FILES_SKIPPED, binaries);
            for s in &scan.skipped {
                let reason = match s.reason {
                    sluice_secrets::SkipReason::Binary => continue,
                    sluice_secrets::SkipReason::TooLarge { .. } => "too-large",
                    sluice_secrets::SkipReason::Unreadable(_) => "unreadable",
                    _ => "other",
                };
                run.note(Note::skipped(&s.path, reason, &s.reason.to_string()));
            }
            let commits = vec![None; scan.findings.len()];
            (scan.findings, commits)
        };

        // Rules are described in order of first use in file order, so equal scans give equal logs.
        let by_id: BTreeMap<&str, &sluice_secrets::Rule> = engine.rules().iter().map(|r| (r.id.as_str(), r)).collect();
        for f in &findings {
            if let Some(rule) = by_id.get(f.rule_id.as_str()) {
                run.rule(&f.rule_id, || descriptor(rule));
            }
        }
        for (f, commit) in findings.iter().zip(&commits) {
            let rule = by_id.get(f.rule_id.as_str());
            let name = rule.map_or(f.rule_id.as_str(), |r| r.name.as_str());
            let severity = rule.map_or(7.0, |r| r.severity);
            run.hit(hit(f, name, severity, commit.as_ref(), &engine));
        }
        Ok(run.build())
    }
}

/// A secrets rule as a descriptor: the provider's name, how to revoke and rotate, the rule's
/// severity and precision (generic rules are `medium`).
fn descriptor(rule: &sluice_secrets::Rule) -> Rule {
    let help = non_empty(&rule.help, DEFAULT_HELP);
    let mut descriptor = Rule::new(&rule.id, Level::Error);
    descriptor.short_description = rule.name.clone();
    descriptor.full_description = non_empty(&rule.description, &rule.name).to_owned();
    descriptor.help_text = help.to_owned();
    descriptor.help_markdown = help.to_owned();
    descriptor.precision = if rule.family == "generic" { "medium" } else { "high" }.to_owned();
    descriptor.security_severity = Some(f64::from(rule.severity));
    descriptor.tags = rule.tags.clone();
    descriptor.cwe = vec![rule.cwe.clone()];
    descriptor
}

/// One secret: at its position with the redacted line as snippet, or, for a secret in a
/// file's or directory's name, at that path, line 1, without a snippet (the file's first line
/// has nothing to do with it). The fingerprint's content is the secret's hash, never the secret.
fn hit(
    f: &sluice_secrets::Finding,
    name: &str,
    severity: f32,
    commit: Option<&sluice_secrets::Commit>,
    engine: &sluice_secrets::Engine,
) -> Hit {
    let mut properties = Props::new();
    properties
        .severity(f64::from(severity), SEVERITY_SOURCE)
        .cwe(["CWE-798"])
        .set(keys::REDACTED, f.redacted.as_str())
        .set(keys::ENTROPY, (f64::from(f.entropy) * 100.0).round() / 100.0);
    if let Some(c) = commit {
        properties
            .set(keys::COMMIT, c.id.as_str())
            .set(keys::COMMIT_DATE, c.date.as_str())
            .set(keys::COMMIT_AUTHOR, c.author.as_str());
    }
    let short_commit = |c: &sluice_secrets::Commit| c.id[..c.id.len().min(12)].to_owned();
    if f.in_path {
        properties.set(keys::IN_PATH, true);
        let introduced =
            commit.map_or_else(String::new, |c| format!(", introduced in commit {} ({})", short_commit(c), c.date));
        return Hit {
            rule_id: f.rule_id.clone(),
            level: Level::Error,
            message: format!(
                "{name} found in a file or directory name: {}{introduced}. Rename the path, then revoke and rotate the credential; a secret in a repository is compromised even after it is removed.",
                f.line_redacted
            ),
            uri: f.path.clone(),
            span: Span::line(1),
            properties,
            suppressed: None,
            content: format!("name:{}", f.secret_sha256),
        };
    }
    let message = match commit {
        None => format!(
            "{name} found: {}. Revoke and rotate it; a secret in a repository is compromised even after it is removed.",
            f.redacted
        ),
        Some(c) => format!(
            "{name} found: {}, introduced in commit {} ({}). Revoke and rotate it; rewriting history does not un-leak it.",
            f.redacted,
            short_commit(c),
            c.date
        ),
    };
    Hit {
        rule_id: f.rule_id.clone(),
        level: Level::Error,
        message,
        uri: f.path.clone(),
        span: Span {
            start_line: f.line,
            start_column: Some(f.column),
            end_line: Some(f.end_line),
            end_column: Some(f.end_column),
            snippet: Some(f.line_redacted.clone()),
        },
        properties,
        // The engine keeps secrets out of the reason; it is still bounded and checked here.
        suppressed: f.suppressed_by.as_deref().map(|why| in_source_justification(why, Some(engine))),
        content: f.secret_sha256.clone(),
    }
}

fn non_empty<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() {
        fallback
    } else {
        text
    }
}
