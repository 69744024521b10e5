//! Scans a directory and prints a summary: findings per rule, files and bytes scanned.
//! `cargo run --release -p sluice-secrets --example scan -- PATH [-v]`; `-v` also lists each
//! finding (redacted). A benchmark harness, not the CLI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use sluice_secrets::{scan, Config, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".to_owned()));
    let verbose = args.any(|a| a == "-v");
    let config =
        Config { max_file_size: 10 << 20, extra_rules: Vec::new(), allow_paths: Vec::new(), peer_annotations: true };
    let start = Instant::now();
    let result = scan(Target::Dir(&root), &config)?;
    let elapsed = start.elapsed();
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &result.findings {
        *per_rule.entry(f.rule_id.as_str()).or_default() += 1;
        if verbose {
            println!("{}:{}:{} {} {} | {}", f.path, f.line, f.column, f.rule_id, f.redacted, f.line_redacted);
        }
    }
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for s in &result.skipped {
        let reason = s.reason.to_string();
        let kind = reason.split(':').next().unwrap_or_default().split(" of ").next().unwrap_or_default();
        *skip_reasons.entry(kind.to_owned()).or_default() += 1;
        if verbose {
            println!("skipped {}: {}", s.path, s.reason);
        }
    }
    for (reason, n) in &skip_reasons {
        println!("{n:6} skipped: {reason}");
    }
    for (rule, n) in &per_rule {
        println!("{n:6} {rule}");
    }
    println!(
        "{} findings, {} files, {} bytes scanned, {} skipped, {:.3}s",
        result.findings.len(),
        result.files_scanned,
        result.bytes_scanned,
        result.skipped.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
