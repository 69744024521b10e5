//! Times what the server's decisions add to `sluice run` (issue 18), on the input of
//! `bench/triage/gen_server_decisions.py`: reading the cached decision set, verifying its
//! signature, parsing it, applying it (`apply_server`), and writing the larger log. The steps
//! are the ones `sluice run` takes (`crates/sluice/src/decision_sync.rs`: `read_cache`, `check`,
//! `ServerDecisionSet::parse`; `commands.rs`: the `Merger` that writes results.sarif), with the
//! same types.
//!
//! usage: cargo run --release -p sluice-triage --example server_bench -- DIR [apply|none] [RUNS]
//! `none` reads and writes the log only (the baseline for peak memory); `apply` (the default)
//! does everything; RUNS (default 5) repeats the timed steps on fresh copies of the log and
//! prints each step's median.

use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::Digest as _;
use sluice_policy::attest;
use sluice_sarif::sarif::Sarif;
use sluice_sarif::Merger;
use sluice_triage::{apply_server, Date, ServerDecision, ServerDecisionSet, ServerOptions};

/// `decision_sync::Cache`: the envelope borrowed from the bytes read.
#[derive(Deserialize)]
struct Cache<'a> {
    #[serde(borrow)]
    envelope: &'a serde_json::value::RawValue,
}

/// The log as `sluice run` writes it: its size and SHA-256 (to compare outputs across changes).
fn write(log: &Sarif) -> Result<(usize, String), Box<dyn std::error::Error>> {
    let mut merger = Merger::new();
    for run in &log.runs {
        merger.add_run(run)?;
    }
    let mut bytes = Vec::new();
    merger.write(&mut bytes)?;
    Ok((bytes.len(), hex::encode(sha2::Sha256::digest(&bytes))))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `sluice run` has run its stages on threads before it applies decisions: the allocator is
    // in its multi-threaded mode by then, and is here from the start, whatever the steps do.
    std::thread::spawn(|| ()).join().map_err(|_| "thread")?;
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: server_bench DIR [apply|none] [RUNS]")?);
    let mode = args.next().unwrap_or_else(|| "apply".into());
    let runs: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let root = dir.join("root");
    let log_bytes = std::fs::read(dir.join("results.sarif"))?;
    let pristine = sluice_sarif::read_log(&log_bytes, "results.sarif")?;
    drop(log_bytes);
    let results: usize = pristine.runs.iter().map(|r| r.results.as_ref().map_or(0, Vec::len)).sum();
    if mode == "none" {
        let t = Instant::now();
        let size = write(&pristine)?;
        println!("{results} results; write without server decisions {:.1} ms, {} bytes", ms(t.elapsed()), size.0);
        return Ok(());
    }
    let pem = std::fs::read_to_string(root.join("server-key.pem"))?;
    let key = attest::verifying_key("server-key.pem", &pem)?;
    let today = Date::parse("2026-12-07").ok_or("date")?;

    let mut steps: [Vec<Duration>; 6] = Default::default();
    let mut summary = String::new();
    for _ in 0..runs {
        let mut log = pristine.clone();
        let total = Instant::now();
        // decision_sync::read_cache
        let t = Instant::now();
        let bytes = std::fs::read(root.join(".sluice/cache/decision-set.json"))?;
        let cache: Cache<'_> = serde_json::from_slice(&bytes)?;
        steps[0].push(t.elapsed());
        // decision_sync::check: the envelope as read, its signature verified while its payload
        // is parsed.
        let t = Instant::now();
        let (payload_type, parsed) =
            attest::verify_and_parse("cache", cache.envelope.get(), &key, ServerDecisionSet::parse)?;
        let set = parsed?;
        if payload_type != attest::DECISIONS_PAYLOAD_TYPE
            || set.type_ != attest::DECISION_SET_TYPE
            || set.project != "bench"
        {
            return Err("not the bench decision set".into());
        }
        steps[1].push(t.elapsed());
        let t = Instant::now();
        let decisions: Vec<ServerDecision> = set.decisions;
        drop(bytes);
        steps[2].push(t.elapsed());
        let t = Instant::now();
        let opts = ServerOptions {
            today,
            verified: true,
            decision_base: "https://sluice.example/api/v1/decisions",
            repository: None,
        };
        let outcome = apply_server(&mut log, &decisions, &opts);
        steps[3].push(t.elapsed());
        steps[4].push(total.elapsed());
        let t = Instant::now();
        let size = write(&log)?;
        steps[5].push(t.elapsed());
        summary = format!(
            "{} decisions, {results} results: {} suppressed, {} confirmed, {} expired; log written {} bytes, sha256 {}",
            decisions.len(),
            outcome.suppressed,
            outcome.confirmed,
            outcome.expired,
            size.0,
            size.1
        );
    }
    println!("{summary}");
    let names = [
        "read the cache",
        "verify and parse (two threads)",
        "drop the cache's bytes",
        "apply_server",
        "total added before writing",
        "write the log (with decisions)",
    ];
    for (name, times) in names.iter().zip(steps) {
        println!("{name:<32} {:>8.1} ms (median of {runs})", ms(median(times)));
    }
    Ok(())
}
