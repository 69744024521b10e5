//! The Dockerfile parser and every rule on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static ENGINE: OnceLock<sluice_secrets::Engine> = OnceLock::new();

fuzz_target!(|text: &str| {
    let engine = ENGINE.get_or_init(|| {
        let config = sluice_secrets::Config { max_file_size: 1 << 20, extra_rules: Vec::new(), allow_paths: Vec::new() };
        sluice_secrets::Engine::new(&config).expect("embedded rules")
    });
    let df = sluice_container::parse(text);
    let config = sluice_container::CheckConfig { allowed_registries: vec!["docker.io".into()], disabled_rules: Vec::new() };
    let _ = sluice_container::check(&df, "Dockerfile", &config, engine);
});
