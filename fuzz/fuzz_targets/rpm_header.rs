//! rpm header blobs (the rows of rpmdb.sqlite's Packages table) and whole rpm sqlite databases.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sluice_container::image::rpmdb;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = rpmdb::parse_header(data) {
        let _ = h.evr();
        let _ = h.source_name();
    }
    let _ = rpmdb::read_sqlite(data);
});
