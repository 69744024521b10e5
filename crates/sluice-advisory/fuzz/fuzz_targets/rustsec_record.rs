//! RustSec advisories (markdown + TOML front matter, semver requirements → ranges) never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sluice_advisory::parse_rustsec(text);
    }
});
