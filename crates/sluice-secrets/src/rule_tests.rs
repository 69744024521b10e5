//! The rule files test themselves: every embedded rule must ship positive and negative
//! examples, each positive must yield exactly one finding of that rule (and nothing else) with
//! the secret redacted, and no negative may yield a finding of that rule.

use crate::engine::{literal_prefix, Config, Engine};
use crate::finding::Finding;
use crate::spec::{self, FamilySpec};

fn engine() -> Engine {
    let config =
        Config { max_file_size: 1 << 20, extra_rules: Vec::new(), allow_paths: Vec::new(), peer_annotations: true };
    Engine::new(&config).expect("embedded rules compile")
}

/// The secret's text, recovered from the finding's region.
fn secret_of(content: &str, f: &Finding) -> String {
    let mut out = String::new();
    for (i, line) in content.split('\n').enumerate() {
        let n = u32::try_from(i + 1).expect("few lines");
        if n < f.line || n > f.end_line {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let from = if n == f.line { f.column as usize - 1 } else { 0 };
        let to = if n == f.end_line { f.end_column as usize - 1 } else { chars.len() };
        out.extend(&chars[from.min(chars.len())..to.min(chars.len())]);
        if n != f.end_line {
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_embedded_rule_passes_its_examples() {
    let engine = engine();
    let specs = spec::embedded().expect("embedded rules parse");
    let mut failures = Vec::new();
    for FamilySpec { family, spec } in specs {
        let id = &spec.id;
        if spec.examples.positive.is_empty() {
            failures.push(format!("{family}/{id}: no positive example"));
        }
        if spec.examples.negative.is_empty() {
            failures.push(format!("{family}/{id}: no negative example"));
        }
        for example in &spec.examples.positive {
            let found = engine.scan_bytes("example.txt", example.as_bytes());
            let ids: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
            if ids != [id.as_str()] {
                failures.push(format!("{family}/{id}: positive gave {ids:?}: {example}"));
                continue;
            }
            let f = &found[0];
            let secret = secret_of(example, f);
            let shown: String = secret.chars().take((secret.chars().count() / 4).min(4)).collect();
            if secret.chars().count() < 8
                || f.redacted.contains(&secret)
                || f.line_redacted.contains(&secret)
                || !f.redacted.starts_with(&shown)
            {
                failures.push(format!(
                    "{family}/{id}: bad redaction {:?} / {:?} of a {}-char secret",
                    f.redacted,
                    f.line_redacted,
                    secret.chars().count()
                ));
            }
        }
        for example in &spec.examples.negative {
            let found = engine.scan_bytes("example.txt", example.as_bytes());
            // A `sluice:allow` example is reported, as suppressed in the source: not open.
            if found.iter().any(|f| f.rule_id == *id && f.suppressed_by.is_none()) {
                failures.push(format!("{family}/{id}: negative matched: {example}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn embedded_rules_are_well_formed() {
    let specs = spec::embedded().expect("embedded rules parse");
    let mut failures = Vec::new();
    for FamilySpec { family, spec } in specs {
        let id = &spec.id;
        if spec.description.trim().is_empty() || spec.help.trim().is_empty() {
            failures.push(format!("{family}/{id}: description and help are required"));
        }
        // A rule without keywords runs on every file: only a pattern that starts with a
        // case-sensitive literal, which the regex engine finds as fast as the prefilter finds
        // keywords, may do without.
        if spec.keywords.is_empty() && literal_prefix(&spec.regex).len() < 2 {
            failures.push(format!("{family}/{id}: embedded rules need keywords or a case-sensitive literal prefix"));
        }
        if spec.keywords.iter().any(|k| *k != k.to_ascii_lowercase() || k.len() < 3) {
            failures.push(format!("{family}/{id}: keywords must be lowercase, 3+ chars"));
        }
        // The prefilter only finds a match when one of its keywords is in the text.
        for example in spec.examples.positive.iter().filter(|_| !spec.keywords.is_empty()) {
            let lower = example.to_ascii_lowercase();
            if !spec.keywords.iter().any(|k| lower.contains(k.as_str())) {
                failures.push(format!("{family}/{id}: no keyword in positive: {example}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn keywordless_rules_start_with_a_literal() {
    assert_eq!(literal_prefix(r"\b(?P<secret>SK[0-9a-f]{32})\b"), "SK");
    assert_eq!(literal_prefix(r"(?i)\b(?P<secret>SK[0-9a-f]{32})"), "");
    assert_eq!(literal_prefix(r"[a-z]+"), "");
}

#[test]
fn there_are_at_least_150_rules() {
    assert!(engine().rules().len() >= 150, "{}", engine().rules().len());
}

#[test]
fn every_embedded_pattern_compiles() {
    let specs = spec::embedded().expect("embedded rules parse");
    let broken: Vec<String> = specs
        .iter()
        .filter_map(|f| crate::engine::compile_regex(&f.spec.regex).err().map(|e| format!("{}: {e}", f.spec.id)))
        .collect();
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
