//! OSV records from an untrusted source (a downloaded all.zip): JSON and YAML parsing never panics.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sluice_advisory::parse_osv_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sluice_advisory::parse_osv_yaml(text);
    }
});
