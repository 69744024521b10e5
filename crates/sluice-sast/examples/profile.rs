//! Times each shipped rule alone over a directory, to find slow rules:
//! `cargo run --release -p sluice-sast --example profile -- DIR [FILTER]`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use sluice_sast::{Config, Engine, Target};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let filter = args.get(2).cloned().unwrap_or_default();
    let base = Config {
        max_file_size: 2 << 20,
        max_depth: 1000,
        file_timeout: Duration::from_secs(20),
        builtin_rules: true,
        rule_dirs: vec![],
        disabled_rules: vec![],
        exclude_paths: vec![],
        languages: vec![],
        peer_annotations: true,
    };
    let all: Vec<String> = Engine::new(&base).unwrap().rules().iter().map(|r| r.id.clone()).collect();
    let mut config = base.clone();
    config.disabled_rules = all.clone();
    let t = Instant::now();
    let scan = Engine::new(&config).unwrap().scan(Target::Dir(&dir)).unwrap();
    println!("{:>8.3}s {:>5} parsed  (no rules)", t.elapsed().as_secs_f64(), scan.files_parsed);
    let mut rows = Vec::new();
    for id in all.iter().filter(|id| id.contains(&filter)) {
        let mut config = base.clone();
        config.disabled_rules = all.iter().filter(|x| *x != id).cloned().collect();
        let engine = Engine::new(&config).unwrap();
        let t = Instant::now();
        let scan = engine.scan(Target::Dir(&dir)).unwrap();
        rows.push((t.elapsed(), id.clone(), scan.files_parsed, scan.findings.len()));
    }
    rows.sort();
    for (t, id, parsed, found) in rows.iter().rev() {
        println!("{:>8.3}s {parsed:>5} parsed {found:>5} found  {id}", t.as_secs_f64());
    }
}
