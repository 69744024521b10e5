//! Measures what `sluice scan deps` pays for the database: opening it and looking packages up.
//! `cargo run --release -p sluice-advisory --example db_load -- DB [ECOSYSTEM NAME VERSION]...`
#![allow(clippy::unwrap_used)]

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: db_load DB [ECOSYSTEM NAME VERSION]...");
        std::process::exit(2);
    };
    let runs = 20;
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let db = sluice_advisory::Database::open(std::path::Path::new(path)).unwrap();
        std::hint::black_box(db.len());
        best = best.min(start.elapsed().as_secs_f64());
    }
    let db = sluice_advisory::Database::open(std::path::Path::new(path)).unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    println!("{} records, {} bytes; open: best of {runs} = {:.2} ms", db.len(), size, best * 1000.0);
    for chunk in args[1..].chunks(3) {
        if let [eco, name, version] = chunk {
            let eco = sluice_inventory::Ecosystem::from_osv_name(eco).unwrap();
            let start = Instant::now();
            let m = sluice_advisory::match_package(&db, eco, name, version).unwrap();
            let took = start.elapsed().as_secs_f64() * 1000.0;
            for f in &m.findings {
                println!(
                    "{name} {version}: {} {:?} aliases={:?} upgrade_to={:?} score={:?} ({took:.2} ms)",
                    f.id,
                    f.kind,
                    f.aliases,
                    f.upgrade_to,
                    f.score.as_ref().map(|s| (s.value, s.source.clone()))
                );
            }
            for n in &m.notes {
                println!("note: {n}");
            }
        }
    }
}
