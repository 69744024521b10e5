//! A whole image archive (outer tar, manifests, layers) from arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = sluice_container::Limits { max_uncompressed_bytes: 64 << 20, ..sluice_container::Limits::DEFAULT };
    let _ = sluice_container::inventory_from(&mut std::io::Cursor::new(data), "fuzz.tar", &limits);
});
