//! Helpers shared by the CLI tests: the real binary, real tools, temp repositories.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn sluice() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("sluice").expect("the sluice binary is built");
    // The deps stage reads the advisory database from SLUICE_DB: tests use one built from the
    // vendored snapshots, never whatever the machine has in ~/.cache.
    cmd.env("NO_COLOR", "1").env("CI", "1").env("SLUICE_DB", advisory_db());
    cmd
}

/// The advisory snapshots vendored for the example and the tests (RustSec and PyPA subsets,
/// and a few Debian and Alpine records).
pub fn advisory_sources() -> [PathBuf; 3] {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories");
    [dir.join("rustsec"), dir.join("pypa"), dir.join("distro")]
}

/// A database built once per test process from `advisory_sources()` with `sluice db update`.
pub fn advisory_db() -> &'static Path {
    static DB: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("advisories.db");
        let [rustsec, pypa, distro] = advisory_sources();
        let out = Command::new(assert_cmd::cargo::cargo_bin("sluice"))
            .args(["db", "update", "--db"])
            .arg(&path)
            .arg("--from")
            .arg(&rustsec)
            .arg("--from")
            .arg(&pypa)
            .arg("--from")
            .arg(&distro)
            .output()
            .expect("sluice db update runs");
        assert!(out.status.success(), "sluice db update: {}", String::from_utf8_lossy(&out.stderr));
        (dir, path)
    });
    path
}

/// Where `scripts/install-test-tools.sh` puts the external tools the suite runs.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("SLUICE_TOOLS").map_or_else(|| PathBuf::from("/tmp/sluice-tools"), PathBuf::from)
}

/// A tool's path, or `None` (with a note) when it is not installed. CI sets
/// `SLUICE_REQUIRE_TOOLS=1` so a missing tool fails the suite instead of skipping a check.
pub fn find_tool(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    for c in candidates {
        if c.is_file() {
            return Some(c.clone());
        }
    }
    if let Ok(path) = which(name) {
        return Some(path);
    }
    if std::env::var_os("SLUICE_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{name} is required (SLUICE_REQUIRE_TOOLS=1) but not installed: run scripts/install-test-tools.sh");
    }
    eprintln!("note: {name} not installed; skipping the checks that need it (run scripts/install-test-tools.sh)");
    None
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or(())
}

pub fn multitool() -> Option<PathBuf> {
    find_tool("sarif-multitool", &[tools_dir().join("node_modules/.bin/sarif-multitool")])
}

pub fn bandit() -> Option<PathBuf> {
    find_tool("bandit", &[tools_dir().join("venv/bin/bandit")])
}

/// Validates a SARIF file with Microsoft's SARIF Multitool, with the SARIF and GitHub rule
/// sets; returns the error- and warning-level complaints (empty means valid).
pub fn validate(sarif: &Path) -> Option<Vec<String>> {
    let tool = multitool()?;
    let out = tempfile::tempdir().expect("tempdir");
    let report = out.path().join("validation.sarif");
    let status = Command::new(&tool)
        .arg("validate")
        .arg(sarif)
        .arg("-o")
        .arg(&report)
        .args(["--rule-kind", "Gh;Sarif", "--level", "Error;Warning", "--force"])
        .output()
        .expect("sarif-multitool runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "sarif-multitool wrote no report: {}\n{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    });
    let log: serde_json::Value = serde_json::from_str(&text).expect("the validation report is JSON");
    let mut problems = Vec::new();
    for run in log["runs"].as_array().into_iter().flatten() {
        for result in run["results"].as_array().into_iter().flatten() {
            problems.push(format!("{} {} {}", result["level"], result["ruleId"], result["message"]));
        }
    }
    Some(problems)
}

pub fn assert_valid(sarif: &Path) {
    if let Some(problems) = validate(sarif) {
        assert!(problems.is_empty(), "{} is not valid SARIF:\n{}", sarif.display(), problems.join("\n"));
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fake GitHub classic token with a valid CRC32 checksum, built at test time.
pub fn github_token(payload: &str) -> String {
    assert_eq!(payload.len(), 30);
    const ALPHA: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = crc32(payload.as_bytes());
    let mut sum = Vec::new();
    while n > 0 {
        sum.push(ALPHA[(n % 62) as usize]);
        n /= 62;
    }
    while sum.len() < 6 {
        sum.push(b'0');
    }
    sum.reverse();
    format!("ghp_{payload}{}", String::from_utf8(sum).expect("ascii"))
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn parse(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes[..bytes.len().min(500)])))
}

pub fn results(log: &serde_json::Value) -> Vec<serde_json::Value> {
    log["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn fingerprint(result: &serde_json::Value) -> String {
    result["partialFingerprints"]["sluice/v1"].as_str().expect("a sluice/v1 fingerprint").to_owned()
}

/// Writes `text` to `root/rel`, creating its directories; the path written.
pub fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a relative path under the root")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

/// `sluice gate --profile PROFILE` on `input` at a fixed clock: exit code and stderr.
pub fn gate_profile(root: &Path, input: &Path, profile: &str, now: &str) -> (i32, String) {
    let out = sluice()
        .arg("gate")
        .arg(input)
        .arg("--root")
        .arg(root)
        .args(["--now", now, "--profile", profile])
        .output()
        .expect("sluice gate runs");
    (out.status.code().expect("an exit code"), String::from_utf8_lossy(&out.stderr).into_owned())
}
