//! A damaged or hostile database file is an error, never a panic or an out-of-bounds read.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.db");
    if let Ok(db) = sluice_advisory::Database::from_bytes(path, data.to_vec()) {
        let _ = db.lookup("crates.io", "smallvec");
        let _ = db.all();
    }
});
