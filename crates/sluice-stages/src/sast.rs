//! The SAST stage: `sluice-sast` findings as a SARIF run, and diff-aware SAST at line
//! granularity (`--changed-lines`, or `changed_lines = true` under `[stages.sast]` with
//! `sluice run --since REF`): which lines a change touched, from git.
//!
//! git runs here, not in `sluice-sast`, which stays a pure library: it parses the unified diff
//! ([`sluice_sast::ChangedLines::from_unified_diff`]) and filters findings.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sluice_pipeline::options::SastOptions;
use sluice_pipeline::Scope;
use sluice_repo::Git;
use sluice_sarif::keys;
use sluice_sarif::sarif::Run;
use sluice_sast::ChangedLines;

use crate::run::{Hit, Level, Note, Props, Rule, RunBuilder, Span};
use crate::{in_source_justification, own_output, Stage, StageInput};

/// The SAST stage skips source files larger than this (with a note): hand-written code is
/// far smaller, and parsing a generated bundle costs seconds for findings in vendored code.
pub const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;
/// Syntax nested deeper than this is generated or hostile; matching cost grows with depth.
const MAX_DEPTH: usize = 1000;
/// Parsing and matching one file may take this long before the file is skipped.
const FILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

const SEVERITY_SOURCE: &str = "sluice sast rules";

/// `sluice scan sast`.
pub struct Sast;

impl Stage for Sast {
    fn name(&self) -> &'static str {
        "sast"
    }

    fn run(&self, input: &StageInput<'_>) -> Result<Run> {
        let (root, config_path) = (input.root, input.config_path);
        let opts: SastOptions = crate::options(input, "sast")?;
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
            max_file_size: opts.max_file_size.unwrap_or(MAX_FILE_SIZE),
            max_depth: MAX_DEPTH,
            file_timeout: FILE_TIMEOUT,
            builtin_rules: opts.builtin_rules.unwrap_or(true),
            rule_dirs: opts.rule_dirs.iter().map(|d| root.join(d)).collect(),
            disabled_rules: opts.disable_rules,
            exclude_paths: opts.exclude_paths.into_iter().chain(own_output(root, input.out_dir)).collect(),
            languages,
            peer_annotations: opts.peer_annotations.unwrap_or(true),
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
            let changed = changed_lines(root, input.since, input.staged)?;
            scan.retain_changed_lines(&changed);
        }
        Ok(sast_run(&engine, &scan, root))
    }
}

/// The SARIF run of a SAST scan: one descriptor per rule that fired (in order of first use,
/// so equal scans give equal logs), results with regions and snippets, and per-file problems
/// as notifications.
pub fn sast_run(engine: &sluice_sast::Engine, scan: &sluice_sast::Scan, root: &Path) -> Run {
    let mut run = RunBuilder::new("sast");
    let by_id: std::collections::BTreeMap<&str, &sluice_sast::Rule> =
        engine.rules().iter().map(|r| (r.id.as_str(), r)).collect();
    for f in &scan.findings {
        if let Some(rule) = by_id.get(f.rule_id.as_str()) {
            run.rule(&f.rule_id, || descriptor(rule, root));
        }
    }
    for f in &scan.findings {
        let rule = by_id.get(f.rule_id.as_str());
        let mut properties = Props::new();
        properties
            .severity(rule.map_or(5.0, |r| f64::from(r.security_severity)), SEVERITY_SOURCE)
            .cwe(rule.map(|r| r.cwe.as_slice()).unwrap_or_default());
        run.hit(Hit {
            rule_id: f.rule_id.clone(),
            level: rule.map_or(Level::Warning, |r| r.level),
            message: f.message.clone(),
            uri: f.path.clone(),
            span: Span {
                start_line: f.line,
                start_column: Some(f.column),
                end_line: Some(f.end_line),
                end_column: Some(f.end_column),
                snippet: Some(f.snippet.clone()),
            },
            properties,
            suppressed: f
                .suppressed_by
                .as_deref()
                .map(|why| in_source_justification(why, sluice_secrets::embedded_engine())),
            content: sluice_sarif::content_hash(&sluice_sarif::normalize_content(&f.matched)),
        });
    }

    for s in &scan.skipped {
        use sluice_sast::SkipReason as R;
        let reason = match s.reason {
            R::Binary => continue,
            R::TooLarge { .. } => "too-large",
            R::Minified { .. } => "minified",
            R::LongLines { .. } => "long-lines",
            R::Generated { .. } => "generated",
            R::TooDeep { .. } => "too-deep",
            R::Timeout { .. } => "timeout",
            R::Unreadable(_) => "unreadable",
            _ => "other",
        };
        run.note(Note::skipped(&s.path, reason, &s.reason.to_string()));
    }
    for w in &scan.warnings {
        run.note(Note::new(Level::Note, format!("{}: {}", w.path, w.kind)));
    }
    run.counters()
        .set(keys::FILES_SCANNED, scan.files_scanned)
        .set(keys::FILES_PARSED, scan.files_parsed)
        .set(keys::BYTES_SCANNED, scan.bytes_scanned)
        .set(keys::FILES_SKIPPED, scan.skipped.len())
        .set(keys::RULES, engine.rules().len());
    run.build()
}

/// A SAST rule as a descriptor, with what GitHub code scanning and editors show: short and
/// full descriptions, help with the fix and examples, CWE and OWASP, precision and severity.
fn descriptor(rule: &sluice_sast::Rule, root: &Path) -> Rule {
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
    let mut descriptor = Rule::new(&rule.id, rule.level);
    descriptor.short_description = rule.title.clone();
    descriptor.full_description = rule.description.trim().to_owned();
    descriptor.help_text = format!("How to fix: {}\n\n{}", rule.help.trim(), rule.description.trim());
    descriptor.help_markdown = markdown;
    descriptor.help_uri = rule.url.clone();
    descriptor.precision = rule.precision.as_str().to_owned();
    descriptor.security_severity = Some(f64::from(rule.security_severity));
    descriptor.tags = std::iter::once("security".to_owned()).chain(rule.tags.iter().cloned()).collect();
    descriptor.cwe = rule.cwe.clone();
    descriptor.owasp = rule.owasp.clone();
    descriptor.owasp_property = true;
    let source = if rule.builtin {
        format!("sluice:{}", rule.origin)
    } else {
        // User rules: the file, relative to the repository when it is inside.
        let origin = Path::new(&rule.origin);
        origin.strip_prefix(root).unwrap_or(origin).to_string_lossy().replace('\\', "/")
    };
    descriptor.properties.set(keys::LANGUAGE, rule.language.name()).set(keys::RULE_SOURCE, source);
    descriptor
}

/// The lines changed since the merge base of `since` and HEAD (committed, staged and unstaged
/// changes; untracked files count as changed throughout), or, with `staged`, the lines staged
/// for commit.
pub fn changed_lines(root: &Path, since: Option<&str>, staged: bool) -> Result<ChangedLines> {
    // `-U0`: hunks cover exactly the changed lines; `--relative`: paths relative to the root,
    // like the scan's; no renames, colors or external diff drivers to misread.
    let diff_args = ["diff", "--unified=0", "--relative", "--no-color", "--no-ext-diff", "--no-renames"];
    // Diffs of files that are not UTF-8 still carry UTF-8 headers, which is all that is read.
    let git = Git::new(root);
    let mut changed = match (since, staged) {
        (Some(reference), _) => {
            let base = git.merge_base(reference)?;
            let mut args = diff_args.to_vec();
            args.push(&base);
            ChangedLines::from_unified_diff(&git.text(&args)?)
        }
        (None, true) => {
            let mut args = diff_args.to_vec();
            args.push("--cached");
            ChangedLines::from_unified_diff(&git.text(&args)?)
        }
        (None, false) => {
            bail!("--changed-lines needs to know what changed: add --since REF (e.g. --since origin/main) or --staged")
        }
    };
    if since.is_some() {
        let untracked = git.text(&["ls-files", "--others", "--exclude-standard", "-z"])?;
        for path in untracked.split('\0').filter(|p| !p.is_empty()) {
            changed.add_whole_file(path);
        }
    }
    Ok(changed)
}
