//! Runs the shipped rules (or the rules of one directory) on files and prints the findings:
//! `cargo run -p sluice-sast --example check -- [--rules DIR] [--only ID-SUBSTRING] FILE…`.
//! For writing rules: quicker to iterate on than the whole test suite.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sluice_sast::{Config, Engine, Lang};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut rule_dirs = Vec::new();
    let mut only = String::new();
    while args.first().is_some_and(|a| a.starts_with("--")) {
        let flag = args.remove(0);
        let value = args.remove(0);
        match flag.as_str() {
            "--rules" => rule_dirs.push(value.into()),
            "--only" => only = value,
            _ => panic!("unknown flag {flag}"),
        }
    }
    let config = Config {
        max_file_size: 2 << 20,
        max_depth: 1000,
        file_timeout: Duration::from_secs(20),
        builtin_rules: rule_dirs.is_empty(),
        rule_dirs,
        disabled_rules: vec![],
        exclude_paths: vec![],
        languages: vec![],
        peer_annotations: true,
    };
    let engine = Engine::new(&config).unwrap();
    for file in args {
        let Ok(source) = std::fs::read_to_string(&file) else {
            eprintln!("{file}: unreadable or not UTF-8, skipped");
            continue;
        };
        let Some(lang) = Lang::of_path(std::path::Path::new(&file), source.as_bytes()) else {
            eprintln!("{file}: no shipped language, skipped");
            continue;
        };
        for f in engine.scan_source(&file, lang, &source) {
            if f.rule_id.contains(&only) {
                println!("{file}:{}:{} {} {}", f.line, f.column, f.rule_id, f.message);
            }
        }
    }
}
