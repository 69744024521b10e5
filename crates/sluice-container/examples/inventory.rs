//! Prints the inventory of an image tarball as JSON lines (one per package) and a summary on
//! stderr: what `bench/container/inventory.sh` measures, without building the whole CLI.
//! Usage: `cargo run --release -p sluice-container --example inventory -- IMAGE.tar`

use std::io::Write;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: inventory IMAGE.tar");
        return std::process::ExitCode::from(2);
    };
    match sluice_container::inventory(std::path::Path::new(&path), &sluice_container::Limits::DEFAULT) {
        Ok(inv) => {
            let mut out = std::io::stdout().lock();
            for p in &inv.packages {
                let _ = writeln!(out, "{}\t{}\t{}", p.purl, p.layer.as_deref().unwrap_or("-"), p.location.path);
            }
            let entries: u64 = inv.layers.iter().map(|l| l.entries).sum();
            eprintln!(
                "{} layers, {} tar entries, {} packages, os {:?}, {} problems",
                inv.layers.len(),
                entries,
                inv.packages.len(),
                inv.os.map(|o| o.id),
                inv.problems.len()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
