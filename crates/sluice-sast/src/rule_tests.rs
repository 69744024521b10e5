//! The packs test themselves: every shipped rule must carry complete metadata and positive
//! and negative examples; each positive must yield exactly one finding of its rule, no
//! negative any. JavaScript rules' examples also run as TypeScript, where they apply too.
//! And the generated rule reference must be up to date.

use std::time::Duration;

use crate::engine::{Config, Engine, Rule};
use crate::lang::Lang;

fn engine() -> Engine {
    let config = Config {
        max_file_size: 1 << 20,
        max_depth: 1000,
        file_timeout: Duration::from_secs(30),
        builtin_rules: true,
        rule_dirs: Vec::new(),
        disabled_rules: Vec::new(),
        exclude_paths: Vec::new(),
        languages: Vec::new(),
        peer_annotations: true,
    };
    Engine::new(&config).expect("embedded rules compile")
}

fn example_path(rule: &Rule, lang: Lang) -> String {
    // Rules may be limited to some files (`files:` globs): examples run at a path inside.
    let name = match lang {
        Lang::Python => "example.py",
        Lang::JavaScript => "example.js",
        Lang::TypeScript => "example.ts",
        Lang::Tsx => "example.tsx",
        Lang::Go => "example.go",
        Lang::Java => "Example.java",
        Lang::Rust => "example.rs",
        Lang::Ruby => "example.rb",
        Lang::Php => "example.php",
        Lang::Bash => "example.sh",
    };
    if rule.tags.iter().any(|t| t == "settings") {
        format!("project/settings.py{}", if lang == Lang::Python { "" } else { ".js" })
    } else {
        format!("src/{name}")
    }
}

fn metadata_problems(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    let prefix = format!("{}.", rule.language);
    if !rule.id.starts_with(&prefix) || rule.id.len() == prefix.len() {
        out.push(format!("id must start with `{prefix}`"));
    }
    if !rule.id[prefix.len().min(rule.id.len())..]
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        out.push("id after the language must be kebab-case".into());
    }
    for (what, text) in [("title", &rule.title), ("description", &rule.description), ("note (help)", &rule.help)] {
        if text.trim().len() < 10 {
            out.push(format!("{what} is missing or too short"));
        }
    }
    if rule.title.ends_with('.') || rule.title.len() > 80 {
        out.push("title: one line, at most 80 characters, no final period".into());
    }
    if rule.cwe.is_empty() {
        out.push("no CWE".into());
    }
    if rule.owasp.is_empty() {
        out.push("no OWASP category".into());
    }
    if rule.tags.is_empty() {
        out.push("no tags".into());
    }
    if rule.examples.positive.is_empty() {
        out.push("no positive example".into());
    }
    if rule.examples.negative.is_empty() {
        out.push("no negative example".into());
    }
    out
}

#[test]
fn every_embedded_rule_has_metadata_and_passes_its_examples() {
    let engine = engine();
    let mut failures = Vec::new();
    for rule in engine.rules() {
        let id = &rule.id;
        for problem in metadata_problems(rule) {
            failures.push(format!("{id}: {problem}"));
        }
        let langs: Vec<Lang> =
            rule.languages.iter().copied().filter(|l| *l == rule.language || *l == Lang::TypeScript).collect();
        for &lang in &langs {
            let path = example_path(rule, lang);
            for example in &rule.examples.positive {
                let found = engine.scan_source(&path, lang, example);
                let mine: Vec<_> = found.iter().filter(|f| &f.rule_id == id).collect();
                if mine.len() != 1 {
                    failures.push(format!("{id} ({lang}): positive gave {} findings:\n{example}", mine.len()));
                } else if mine[0].message.contains('…') {
                    failures.push(format!("{id} ({lang}): message has an unbound variable: {}", mine[0].message));
                }
            }
            for example in &rule.examples.negative {
                let found = engine.scan_source(&path, lang, example);
                if found.iter().any(|f| &f.rule_id == id && f.suppressed_by.is_none()) {
                    failures.push(format!("{id} ({lang}): negative gave a finding:\n{example}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_embedded_rule_has_a_prefilter() {
    // A rule without required words makes every file of its language be parsed; the packs
    // are written so that none needs that.
    assert_eq!(engine().unfiltered_rules(), Vec::<String>::new());
}

#[test]
fn rule_reference_is_up_to_date() {
    let engine = engine();
    let generated = crate::docs::reference(engine.rules());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("docs dir");
        std::fs::write(&path, &generated).expect("write the reference");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{} is stale: run `SLUICE_BLESS=1 cargo test -p sluice-sast rule_reference` and commit it",
        path.display()
    );
}
