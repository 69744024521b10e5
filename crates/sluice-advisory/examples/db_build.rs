//! Builds a database from sources without the CLI, printing what was skipped.
//! `cargo run -p sluice-advisory --example db_build -- OUT.db SOURCE...`
#![allow(clippy::unwrap_used)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, sources) = args.split_first().expect("usage: db_build OUT SOURCE...");
    let mut imports = Vec::new();
    for s in sources {
        let start = std::time::Instant::now();
        let import = sluice_advisory::import(std::path::Path::new(s)).unwrap();
        eprintln!(
            "{s}: {} advisories, {} skipped in {:?}",
            import.advisories.len(),
            import.skipped.len(),
            start.elapsed()
        );
        for sk in import.skipped.iter().take(10) {
            eprintln!("  skipped {}: {}", sk.file, sk.reason);
        }
        imports.push((s.clone(), import));
    }
    let outcome = sluice_advisory::update(std::path::Path::new(out), imports, 0).unwrap();
    eprintln!("{:?}", outcome.meta.per_ecosystem);
}
