#![no_main]
//! Any bytes given to the CycloneDx parser: an error or packages, never a panic.

use libfuzzer_sys::fuzz_target;
use sluice_inventory::{parse_bytes, Format};

fuzz_target!(|data: &[u8]| {
    let lock = parse_bytes(data, "fuzz", Format::CycloneDx);
    if let Some(err) = lock.error {
        assert!(err.to_string().starts_with("fuzz: "));
    }
});
