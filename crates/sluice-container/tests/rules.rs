//! Every rule's documented examples: the bad one fires the rule, the fixed one does not.
#![allow(clippy::unwrap_used)]

use sluice_container::{check, parse, CheckConfig, RULES};

fn engine() -> sluice_secrets::Engine {
    let config = sluice_secrets::Config { max_file_size: 1 << 20, extra_rules: Vec::new(), allow_paths: Vec::new() };
    sluice_secrets::Engine::new(&config).unwrap()
}

fn config() -> CheckConfig {
    CheckConfig {
        allowed_registries: vec!["docker.io".into(), "registry.example.com".into()],
        disabled_rules: Vec::new(),
    }
}

fn ids(text: &str) -> Vec<&'static str> {
    let engine = engine();
    check(&parse(text), "Dockerfile", &config(), &engine).iter().map(|f| f.rule.id).collect()
}

#[test]
fn every_rule_has_examples_that_behave() {
    for rule in RULES {
        let bad = ids(rule.bad);
        assert!(bad.contains(&rule.id), "{}: bad example does not fire; got {bad:?}", rule.id);
        let good = ids(rule.good);
        assert!(!good.contains(&rule.id), "{}: good example fires; got {good:?}", rule.id);
        assert!(!rule.help.is_empty() && !rule.description.is_empty());
    }
}
