//! manifest.json / index.json parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sluice_container::image::parse_manifest_bytes(data);
});
