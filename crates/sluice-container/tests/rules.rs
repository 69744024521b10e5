//! Every rule's documented examples: the bad one fires the rule, the fixed one does not.
#![allow(clippy::unwrap_used)]

use sluice_container::{check, parse, CheckConfig, RULES};

fn engine() -> sluice_secrets::Engine {
    let config = sluice_secrets::Config {
        max_file_size: 1 << 20,
        extra_rules: Vec::new(),
        allow_paths: Vec::new(),
        peer_annotations: true,
    };
    sluice_secrets::Engine::new(&config).unwrap()
}

fn config() -> CheckConfig {
    CheckConfig {
        allowed_registries: vec!["docker.io".into(), "registry.example.com".into()],
        ..CheckConfig::default()
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

#[test]
fn variable_stage_references_and_inherited_caches() {
    let text = "ARG V=alpine\nFROM golang:1.22 AS build-alpine\nRUN apt-get update && apt-get install -y x=1\nFROM build-${V} AS dev\nFROM dev\nUSER 1\n";
    let got = ids(text);
    // `build-${V}` is a stage: no base-image findings on line 4; apt lists ship via dev.
    assert_eq!(got.iter().filter(|id| **id == "dockerfile-base-not-pinned").count(), 1, "{got:?}");
    assert!(got.contains(&"dockerfile-package-cache"), "{got:?}");
    let builder_only = "FROM golang:1.22 AS b\nRUN apt-get update && apt-get install -y x=1\nFROM scratch\nCOPY --from=b /x /x\nUSER 1\n";
    assert!(!ids(builder_only).contains(&"dockerfile-package-cache"));
}

#[test]
fn pip_git_urls_need_a_ref() {
    let got =
        ids("FROM python:3.12@sha256:aaaa\nRUN pip install --no-cache-dir git+https://github.com/a/b.git\nUSER 1\n");
    assert!(got.contains(&"dockerfile-unpinned-package"), "{got:?}");
    let got = ids(
        "FROM python:3.12@sha256:aaaa\nRUN pip install --no-cache-dir git+https://github.com/a/b.git@v1.0\nUSER 1\n",
    );
    assert!(!got.contains(&"dockerfile-unpinned-package"), "{got:?}");
}

/// OWASP wrongsecrets' Dockerfile: placeholder defaults are not secrets, the random CTF key is;
/// a GPG fingerprint (python's official images) is public.
#[test]
fn placeholder_defaults_are_not_secrets_and_random_key_defaults_are() {
    let base = "FROM python:3.12@sha256:aaaa\n";
    let secrets = |line: &str| -> usize {
        ids(&format!("{base}{line}\nUSER 1\n")).iter().filter(|id| **id == "dockerfile-secret-value").count()
    };
    // A password build argument with a placeholder default: the secret arrives at build time
    // (and stays in the image history), which is what is said.
    let got = ids(&format!("{base}ARG argBasedPassword=\"default\"\nUSER 1\n"));
    assert!(got.contains(&"dockerfile-secret-build-arg") && !got.contains(&"dockerfile-secret-value"), "{got:?}");
    assert_eq!(secrets("ENV SPECIAL_K8S_SECRET=if_you_see_this_please_use_k8s"), 0);
    assert_eq!(secrets("ARG CTF_KEY=TRwzkRJnHOTckssAeyJbysWgP!Qc2T"), 1);
    assert_eq!(secrets("ENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D"), 0);
    assert_eq!(secrets("ENV DB_PASSWORD=s3cr3t-Pa55"), 1);
}
