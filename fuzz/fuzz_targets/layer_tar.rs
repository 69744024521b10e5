//! One layer blob (compression sniffing, decompression, tar entries, whiteouts, package
//! files): arbitrary bytes wrapped as the only layer of a well-formed docker archive.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|layer: &[u8]| {
    let archive = sluice_container::image::single_layer_archive(layer);
    let limits = sluice_container::Limits { max_uncompressed_bytes: 64 << 20, ..sluice_container::Limits::DEFAULT };
    let _ = sluice_container::inventory_from(&mut std::io::Cursor::new(archive), "fuzz.tar", &limits);
});
