//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::Path;

/// A classic GitHub token with a valid checksum: `ghp_` + 30 characters + base62 CRC32.
pub fn github_token(payload: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    assert_eq!(payload.len(), 30);
    let mut n = crc32fast::hash(payload.as_bytes());
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{payload}{}", String::from_utf8_lossy(&sum))
}

/// Writes `content` to `root/rel`, creating its directories.
pub fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}
