//! Times the library alone on the triage benchmark's input (bench/triage.sh): parsing the
//! decisions, applying them, reading a baseline and comparing. No process start, no SARIF
//! writing.
//!
//! usage: cargo run --release -p sluice-triage --example apply_bench -- DIR

use std::time::Instant;

use sluice_triage::{apply, compare, ApplyOptions, Baseline, CompareOptions, Date, Decisions, RenameMap};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: apply_bench DIR")?);
    let log_bytes = std::fs::read(dir.join("results.sarif"))?;
    let mut log = sluice_sarif::read_log(&log_bytes, "results.sarif")?;
    let text = std::fs::read_to_string(dir.join("triage.toml"))?;
    let baseline_bytes = std::fs::read(dir.join("baseline.sarif"))?;
    let results: usize = log.runs.iter().map(|r| r.results.as_ref().map_or(0, Vec::len)).sum();

    let t = Instant::now();
    let decisions = Decisions::parse(&text, "triage.toml")?;
    let parse = t.elapsed();

    let t = Instant::now();
    let mut no_renames = |_: &str| None;
    let mut opts = ApplyOptions {
        today: Date::today(),
        root: None,
        decisions_uri: ".sluice/triage.toml",
        renames: &mut no_renames,
        check_stale: true,
    };
    let outcome = apply(&mut log, &decisions, &mut opts)?;
    let applied = t.elapsed();

    let t = Instant::now();
    let baseline = Baseline::from_json(&baseline_bytes, "baseline.sarif")?;
    let read = t.elapsed();
    let t = Instant::now();
    let renames = RenameMap::new();
    let compared = compare(&mut log, &baseline, &CompareOptions { root: None, renames: &renames, in_scope: &|_| true });
    let comparing = t.elapsed();

    println!("{} decisions, {results} results, baseline of {}", decisions.items.len(), baseline.len());
    println!("parse decisions    {:>8.1} ms", parse.as_secs_f64() * 1e3);
    println!(
        "apply              {:>8.1} ms  ({} suppressed, {} confirmed, {} stale, {} expired)",
        applied.as_secs_f64() * 1e3,
        outcome.suppressed,
        outcome.confirmed,
        outcome.stale.len(),
        outcome.expired.len()
    );
    println!("read baseline      {:>8.1} ms", read.as_secs_f64() * 1e3);
    println!(
        "compare            {:>8.1} ms  ({} new, {} unchanged, {} fixed)",
        comparing.as_secs_f64() * 1e3,
        compared.new,
        compared.unchanged,
        compared.fixed.len()
    );
    Ok(())
}
