//! Every scheme parses and compares arbitrary strings without panicking.
#![no_main]
use sluice_advisory::version::Scheme;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\n').unwrap_or((text, "1.0"));
    for scheme in [Scheme::Semver, Scheme::Pep440, Scheme::Maven, Scheme::RubyGems, Scheme::NuGet, Scheme::Composer, Scheme::Debian, Scheme::Alpine, Scheme::Rpm] {
        let _ = scheme.compare(a, b);
    }
});
