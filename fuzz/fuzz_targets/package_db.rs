//! dpkg status, apk installed, os-release, Python METADATA and package.json parsers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sluice_container::image::pkgdb;

fuzz_target!(|data: &[u8]| {
    let _ = pkgdb::dpkg_status(data);
    let _ = pkgdb::apk_installed(data);
    let _ = pkgdb::os_release(data);
    let _ = pkgdb::python_metadata(data);
    let _ = pkgdb::npm_package_json(data);
});
