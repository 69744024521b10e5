//! Go build info: the streaming scanner over an ELF-looking input, then the blob parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sluice_container::image::gobuild;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = gobuild::parse(data) {
        let _ = gobuild::packages(&info, "/bin/x");
    }
    let mut elf = b"\x7fELF".to_vec();
    elf.extend_from_slice(data);
    if let Ok(gobuild::Scan::Found(blob)) = gobuild::scan(elf.as_slice()) {
        let _ = gobuild::parse(&blob);
    }
});
