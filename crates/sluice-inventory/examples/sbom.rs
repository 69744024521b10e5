//! The library half of `sluice sbom`, as a standalone program for benchmarks
//! (`bench/inventory.sh`): a release build of this crate alone compiles far faster than the
//! whole sluice binary on a small machine, and does the same work (discover, parse, write).
//!
//! usage: cargo run --release -p sluice-inventory --example sbom -- ROOT OUT.json
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sluice_inventory::sbom::{cyclonedx, SbomInfo};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, out) = (Path::new(&args[1]), &args[2]);
    let inventory = sluice_inventory::discover(root);
    let info = SbomInfo { name: "bench".to_string(), tool_version: "bench".to_string(), created: 0, container: false };
    std::fs::write(out, cyclonedx(&inventory, &info)).expect("write");
    for err in inventory.errors() {
        eprintln!("error: {err}");
    }
    eprintln!("{} lockfiles, {} packages", inventory.lockfiles.len(), inventory.packages().count());
}
