//! Go build info: the modules a Go binary was built from, read from the binary itself.
//!
//! Since Go 1.18 the linker writes a 32-byte header at a 16-byte-aligned address of the data
//! segment — the magic `\xff Go buildinf:`, the pointer size, a flags byte (bit 1: strings
//! inline), 16 zero bytes — followed by two uvarint-length-prefixed strings: the Go version
//! (`go1.21.5`) and the module info (`path`/`mod`/`dep`/`=>`/`build` lines, tab-separated,
//! framed by 16-byte sentinels). This follows Go's `debug/buildinfo.readRawBuildInfo` and
//! `runtime/debug.ParseBuildInfo`.
//!
//! Written here rather than with an object-file crate: the binary is a tar entry being
//! streamed, never held whole, so instead of mapping ELF sections this scans the stream in
//! chunks for the aligned magic (file offsets of ELF segments keep their addresses' 16-byte
//! alignment) and validates the header before believing it. Binaries from Go < 1.18 store
//! pointers into the data segment instead of inline strings; those are reported as not read
//! rather than guessed at.

use std::io::{ErrorKind, Read};

use sluice_inventory::{purl::purl, Ecosystem, Location, Package, Relationship, Source};

/// The build info magic (`buildInfoMagic` in Go).
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const ALIGN: usize = 16;
const HEADER: usize = 32;
/// Bytes read after the magic for the two strings. trivy's own module info is about 40 KiB;
/// a blob needing more is reported as not read.
pub const MAX_BLOB: usize = 4 << 20;
/// Bytes of one executable searched for the magic; the build info sits at the start of the
/// data segment, which follows the code, so the whole of any ordinary binary is covered.
pub const MAX_SCAN: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;

/// What scanning an executable found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Not an ELF file: not looked at further.
    NotElf,
    /// An ELF file without build info (C programs, Go binaries built without it).
    NotGo,
    /// The build info blob: the 32-byte header and what follows it, as far as the strings need
    /// (at most [`MAX_BLOB`] bytes; a chunk's worth more may follow them).
    Found(Vec<u8>),
    /// [`MAX_SCAN`] bytes searched without finding it.
    TooLarge,
}

/// Why a found build info blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildInfoError {
    #[error("it is not Go build info")]
    NotBuildInfo,
    #[error("it was built before Go 1.18 (pointer-based build info, not read)")]
    OldFormat,
    #[error("its build info is cut short (the binary is truncated, or the info is over {MAX_BLOB} bytes)")]
    Truncated,
    #[error("its module info line {line} is malformed: {reason}")]
    Malformed { line: usize, reason: &'static str },
}

/// Whether the 32 bytes at a candidate offset are a build info header (Go's linker writes the
/// pointer size, flags, then zeros in the inline format; a stray copy of the magic string in
/// read-only data is followed by other text).
fn header_ok(h: &[u8]) -> bool {
    if h.len() < HEADER || &h[..MAGIC.len()] != MAGIC || !matches!(h[14], 4 | 8) || h[15] & !3 != 0 {
        return false;
    }
    h[15] & 2 == 0 || h[16..HEADER].iter().all(|b| *b == 0)
}

/// Reads into `buf` until it is full or the stream ends (retrying interrupted reads).
fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Scans an executable as a stream for its build info: chunks of 64 KiB, only 16-byte-aligned
/// offsets, stopping at the first valid header. Holds at most one chunk plus the blob.
pub fn scan<R: Read>(mut reader: R) -> std::io::Result<Scan> {
    let mut chunk = vec![0u8; CHUNK];
    let n = fill(&mut reader, &mut chunk)?;
    if n < 4 || &chunk[..4] != b"\x7fELF" {
        return Ok(Scan::NotElf);
    }
    // `buf[0]` is always at a 16-byte-aligned file offset.
    let mut buf: Vec<u8> = chunk[..n].to_vec();
    let mut scanned = n as u64;
    loop {
        let mut i = 0;
        while i + HEADER <= buf.len() {
            if buf[i] == 0xff && header_ok(&buf[i..i + HEADER]) {
                let mut blob = buf.split_off(i);
                // Read what the strings need, growing by doubling up to MAX_BLOB: most module
                // infos are a few KiB, so a 4 MiB buffer per binary would be waste.
                let mut step = CHUNK;
                while blob.len() < MAX_BLOB && parse(&blob) == Err(BuildInfoError::Truncated) {
                    let want = (MAX_BLOB - blob.len()).min(step) as u64;
                    if (&mut reader).take(want).read_to_end(&mut blob)? == 0 {
                        break;
                    }
                    step *= 2;
                }
                blob.truncate(MAX_BLOB);
                return Ok(Scan::Found(blob));
            }
            i += ALIGN;
        }
        buf.drain(..i);
        if scanned >= MAX_SCAN {
            return Ok(Scan::TooLarge);
        }
        let n = fill(&mut reader, &mut chunk)?;
        if n == 0 {
            return Ok(Scan::NotGo);
        }
        scanned += n as u64;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A module of the build list (`runtime/debug.Module`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

/// What a binary's build info says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.21.5`.
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    /// The main module (`mod` line); `None` for binaries built outside module mode.
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// Bytes of the blob the build info used (header and both strings).
    pub len: usize,
}

/// A uvarint-prefixed string at `*pos`; advances `pos`.
fn varint_string<'a>(blob: &'a [u8], pos: &mut usize) -> Result<&'a [u8], BuildInfoError> {
    let mut length: u64 = 0;
    for shift in 0..10u32 {
        let Some(&b) = blob.get(*pos) else { return Err(BuildInfoError::Truncated) };
        *pos += 1;
        if shift == 9 && b > 1 {
            return Err(BuildInfoError::NotBuildInfo); // overflows 64 bits, as binary.Uvarint says
        }
        length |= u64::from(b & 0x7f) << (7 * shift);
        if b < 0x80 {
            let start = *pos;
            let end = usize::try_from(length).ok().and_then(|l| start.checked_add(l));
            let Some(s) = end.and_then(|end| blob.get(start..end)) else { return Err(BuildInfoError::Truncated) };
            *pos = start + s.len();
            return Ok(s);
        }
    }
    Err(BuildInfoError::NotBuildInfo)
}

/// Parses a blob starting at the magic (what [`scan`] found).
pub fn parse(blob: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    if blob.len() < HEADER || &blob[..MAGIC.len()] != MAGIC {
        return Err(if blob.starts_with(&MAGIC[..blob.len().min(MAGIC.len())]) {
            BuildInfoError::Truncated
        } else {
            BuildInfoError::NotBuildInfo
        });
    }
    if blob[15] & 2 == 0 {
        return Err(BuildInfoError::OldFormat);
    }
    let mut pos = HEADER;
    let version = varint_string(blob, &mut pos)?;
    let modinfo = varint_string(blob, &mut pos)?;
    let go_version = String::from_utf8_lossy(version).into_owned();
    if go_version.is_empty() {
        return Err(BuildInfoError::NotBuildInfo);
    }
    // Strip the 16-byte sentinels (cmd/go's infoStart/infoEnd), exactly as Go checks them.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    let mut info = BuildInfo { go_version, path: String::new(), main: None, deps: Vec::new(), len: pos };
    parse_modinfo(&String::from_utf8_lossy(modinfo), &mut info)?;
    Ok(info)
}

fn module(cols: &str, line: usize) -> Result<Module, BuildInfoError> {
    let elem: Vec<&str> = cols.split('\t').collect();
    if elem.len() != 2 && elem.len() != 3 {
        return Err(BuildInfoError::Malformed { line, reason: "expected 2 or 3 columns" });
    }
    Ok(Module {
        path: elem[0].to_owned(),
        version: elem[1].to_owned(),
        sum: elem.get(2).copied().unwrap_or_default().to_owned(),
        replace: None,
    })
}

/// The reverse of `BuildInfo.String()` for the lines an inventory needs (`build` settings are
/// skipped). Like Go, a line without a final newline is ignored.
fn parse_modinfo(text: &str, info: &mut BuildInfo) -> Result<(), BuildInfoError> {
    // Which module a `=>` line replaces: the main module or the last dep.
    #[derive(Clone, Copy)]
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    let mut rest = text;
    let mut line = 0;
    while let Some((current, tail)) = rest.split_once('\n') {
        rest = tail;
        line += 1;
        if let Some(p) = current.strip_prefix("path\t") {
            info.path = p.to_owned();
        } else if let Some(cols) = current.strip_prefix("mod\t") {
            info.main = Some(module(cols, line)?);
            last = Last::Main;
        } else if let Some(cols) = current.strip_prefix("dep\t") {
            info.deps.push(module(cols, line)?);
            last = Last::Dep;
        } else if let Some(cols) = current.strip_prefix("=>\t") {
            let elem: Vec<&str> = cols.split('\t').collect();
            if elem.len() != 3 {
                return Err(BuildInfoError::Malformed { line, reason: "expected 3 columns for a replacement" });
            }
            let target = Module {
                path: elem[0].to_owned(),
                version: elem[1].to_owned(),
                sum: elem[2].to_owned(),
                replace: None,
            };
            let replaced = match last {
                Last::Main => info.main.as_mut(),
                Last::Dep => info.deps.last_mut(),
                Last::None => None,
            };
            let Some(replaced) = replaced else {
                return Err(BuildInfoError::Malformed { line, reason: "a replacement with no module before it" });
            };
            replaced.replace = Some(Box::new(target));
            last = Last::None;
        }
    }
    Ok(())
}

/// Whether a replacement path is a directory rather than a module (`modfile.IsDirectoryPath`).
fn is_directory(path: &str) -> bool {
    path == "."
        || path == ".."
        || ["./", "../", "/", ".\\", "..\\"].iter().any(|p| path.starts_with(p))
        || path.as_bytes().get(1..3) == Some(b":\\".as_slice())
}

/// The stdlib version OSV's Go advisories use: `go1.21.5` → `1.21.5` (trailing build tags such
/// as ` X:boringcrypto` dropped). `None` for development toolchains (`devel go1.22-abc`).
pub fn stdlib_version(go_version: &str) -> Option<&str> {
    let v = go_version.strip_prefix("go")?.split_whitespace().next()?;
    v.starts_with(|c: char| c.is_ascii_digit()).then_some(v)
}

fn go_package(name: &str, version: &str, path: &str, source: Source) -> Package {
    Package {
        ecosystem: Ecosystem::Go,
        name: name.to_owned(),
        version: version.to_owned(),
        purl: purl(Ecosystem::Go, name, version),
        relationship: Relationship::Unknown,
        location: Location { path: path.to_owned(), line: 1 },
        hashes: Vec::new(),
        dependencies: Vec::new(),
        layer: None,
        source,
        distro: None,
    }
}

/// The packages of a binary at `path` (the location, e.g. `/usr/local/bin/app`): every `dep`
/// with its replacement applied, the main module, and `stdlib` at the Go version.
///
/// - A dep replaced by another module reports the replacement's path and version (that is the
///   code in the binary); one replaced by a directory keeps its own module path, takes the
///   replacement's version (`(devel)`) and is [`Source::Path`], so advisories are not matched
///   against code that never came from the module proxy.
/// - The main module is kept; with version `(devel)` (any `go build` of a checkout before Go
///   1.24) it is [`Source::Path`] `.`, so it is listed but not matched. So is a `(devel)` dep
///   (`go build main.go` inside a checkout names its own module that way).
pub fn packages(info: &BuildInfo, path: &str) -> Vec<Package> {
    let mut out = Vec::new();
    if let Some(v) = stdlib_version(&info.go_version) {
        out.push(go_package("stdlib", v, path, Source::Registry));
    }
    if let Some(main) = &info.main {
        let source = if main.version == "(devel)" || main.version.is_empty() {
            Source::Path(".".into())
        } else {
            Source::Registry
        };
        out.push(go_package(&main.path, &main.version, path, source));
    }
    for dep in &info.deps {
        let p = match dep.replace.as_deref() {
            Some(r) if is_directory(&r.path) => go_package(&dep.path, &r.version, path, Source::Path(r.path.clone())),
            Some(r) => go_package(&r.path, &r.version, path, Source::Registry),
            // `go build file.go` inside a module checkout lists that module as a `(devel)`
            // dep (gitleaks' release binaries do): local code, like a `(devel)` main module.
            None if dep.version == "(devel)" => go_package(&dep.path, &dep.version, path, Source::Path(".".into())),
            None => go_package(&dep.path, &dep.version, path, Source::Registry),
        };
        out.push(p);
    }
    out.retain(|p| !p.name.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header plus the two strings, as Go's linker writes them.
    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 2]);
        b.extend_from_slice(&[0; 16]);
        for s in [version, modinfo] {
            let mut n = s.len();
            while n >= 0x80 {
                b.push((n as u8) | 0x80);
                n >>= 7;
            }
            b.push(n as u8);
            b.extend_from_slice(s.as_bytes());
        }
        b
    }

    #[test]
    fn sentinel_framing_as_go_checks_it() {
        // 16-byte sentinels around the lines (Go's are binary; any 16 bytes are stripped).
        let text = "0123456789abcdefpath\tx\nmod\tx\t(devel)\t\ndep\ta.b/c\tv1.0.0\th1:abc=\nfedcba9876543210";
        // `mod[len-17]` must be a newline: the last line's own newline.
        let info = parse(&blob("go1.22.1", text)).unwrap();
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].sum, "h1:abc=");
        // Without the framing Go treats the module info as absent.
        let info = parse(&blob("go1.22.1", "path\tx\n")).unwrap();
        assert!(info.main.is_none() && info.path.is_empty());
    }

    #[test]
    fn hostile_lengths() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 2]);
        b.extend_from_slice(&[0; 16]);
        // A length of 2^63: must not allocate or overflow.
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(parse(&b), Err(BuildInfoError::Truncated));
        // Ten continuation bytes: not a uvarint.
        let mut c = b[..HEADER].to_vec();
        c.extend_from_slice(&[0x80; 11]);
        assert_eq!(parse(&c), Err(BuildInfoError::NotBuildInfo));
        // A length past the end.
        let mut d = b[..HEADER].to_vec();
        d.extend_from_slice(&[40, b'g', b'o']);
        assert_eq!(parse(&d), Err(BuildInfoError::Truncated));
    }

    #[test]
    fn old_pointer_format_is_not_read() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 0]);
        b.extend_from_slice(&[0x10, 0x20, 0x30, 0, 0, 0, 0, 0, 0x40, 0x50, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&b), Err(BuildInfoError::OldFormat));
        let Scan::Found(found) = scan(elf_with(&b, 4096).as_slice()).unwrap() else { panic!("not found") };
        assert_eq!(parse(&found), Err(BuildInfoError::OldFormat));
    }

    fn elf_with(blob: &[u8], at: usize) -> Vec<u8> {
        let mut f = b"\x7fELF".to_vec();
        f.resize(at, 0);
        f.extend_from_slice(blob);
        f.extend_from_slice(&[0; 100]);
        f
    }

    #[test]
    fn replacements_and_stdlib() {
        let text = "0123456789abcdefpath\tex.com/app\nmod\tex.com/app\tv1.2.3\th1:x=\n\
                    dep\tex.com/old\tv1.0.0\n=>\tex.com/new\tv1.1.0\th1:y=\n\
                    dep\tex.com/local\tv0.1.0\n=>\t../local\t(devel)\t\n\n\
                    dep\tex.com/plain\tv2.0.0\th1:z=\ndep\tex.com/self\t(devel)\t\nbuild\tGOOS=linux\n\n123456789abcdef";
        let info = parse(&blob("go1.21.5 X:boringcrypto", text)).unwrap();
        let got: Vec<(String, String, Source)> =
            packages(&info, "/app").into_iter().map(|p| (p.name, p.version, p.source)).collect();
        assert_eq!(
            got,
            [
                ("stdlib".into(), "1.21.5".into(), Source::Registry),
                ("ex.com/app".into(), "v1.2.3".into(), Source::Registry),
                ("ex.com/new".into(), "v1.1.0".into(), Source::Registry),
                ("ex.com/local".into(), "(devel)".into(), Source::Path("../local".into())),
                ("ex.com/plain".into(), "v2.0.0".into(), Source::Registry),
                // gitleaks' release binaries list their own module as a `(devel)` dep.
                ("ex.com/self".into(), "(devel)".into(), Source::Path(".".into())),
            ]
        );
        let p = packages(&info, "/app");
        assert_eq!(p[2].purl, "pkg:golang/ex.com/new@v1.1.0");
        assert_eq!(stdlib_version("devel go1.22-abc"), None);
    }

    #[test]
    fn malformed_lines() {
        let text = "0123456789abcdef=>\tx\tv1\th1:\n\n123456789abcdef";
        assert!(matches!(parse(&blob("go1.20", text)), Err(BuildInfoError::Malformed { line: 1, .. })));
        let text = "0123456789abcdefdep\tonly-one-column\n\n123456789abcdef";
        assert!(matches!(parse(&blob("go1.20", text)), Err(BuildInfoError::Malformed { line: 1, .. })));
    }

    #[test]
    fn scan_finds_only_aligned_valid_headers() {
        let b = blob("go1.22.0", "");
        // Aligned, across a chunk boundary.
        let at = CHUNK - 16;
        assert_eq!(
            scan(elf_with(&b, at).as_slice()).unwrap(),
            Scan::Found({
                let mut x = b.clone();
                x.extend_from_slice(&[0; 100]);
                x
            })
        );
        // Unaligned: ignored.
        assert_eq!(scan(elf_with(&b, 4097).as_slice()).unwrap(), Scan::NotGo);
        // The magic as a string in read-only data, followed by text: ignored.
        let mut stray = MAGIC.to_vec();
        stray.extend_from_slice(b"readRawBuildInfo and more text");
        assert_eq!(scan(elf_with(&stray, 4096).as_slice()).unwrap(), Scan::NotGo);
        // Not ELF: not scanned.
        assert_eq!(scan(&b"#!/bin/sh\n"[..]).unwrap(), Scan::NotElf);
    }

    /// The real binary built by tests/fixtures/gobin/build.sh, against `go version -m`'s output.
    #[test]
    fn fixture_binary_matches_go_version_m() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gobin");
        let gz = std::fs::read(dir.join("sluicedemo.gz")).unwrap();
        let oracle = std::fs::read_to_string(dir.join("sluicedemo.go-version-m.txt")).unwrap();
        let Scan::Found(found) = scan(flate2::read::GzDecoder::new(gz.as_slice())).unwrap() else {
            panic!("no build info found")
        };
        let info = parse(&found).unwrap();
        // Oracle: `sluicedemo: go1.19.8`, then tab-indented module lines.
        let first = oracle.lines().next().unwrap();
        assert_eq!(Some(info.go_version.as_str()), first.split(": ").nth(1));
        let mut expected = Vec::new();
        for line in oracle.lines().skip(1) {
            let cols: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
            match cols.as_slice() {
                ["path", p] => assert_eq!(&info.path, p),
                ["mod", p, v, ..] => {
                    assert_eq!(info.main.as_ref().map(|m| (m.path.as_str(), m.version.as_str())), Some((*p, *v)))
                }
                ["dep", p, v, ..] => expected.push((p.to_string(), v.to_string(), None)),
                ["=>", p, v, ..] => expected.last_mut().unwrap().2 = Some((p.to_string(), v.to_string())),
                _ => {}
            }
        }
        let got: Vec<_> = info
            .deps
            .iter()
            .map(|d| {
                (d.path.clone(), d.version.clone(), d.replace.as_ref().map(|r| (r.path.clone(), r.version.clone())))
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got.len(), 2);
        // Only what the strings need was read, not the rest of the binary.
        assert!(info.len <= found.len() && found.len() <= info.len + 2 * CHUNK, "{} {}", info.len, found.len());
    }

    #[test]
    fn truncated_fixture_binary() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gobin");
        let mut bin = Vec::new();
        flate2::read::GzDecoder::new(std::fs::read(dir.join("sluicedemo.gz")).unwrap().as_slice())
            .read_to_end(&mut bin)
            .unwrap();
        let Scan::Found(found) = scan(bin.as_slice()).unwrap() else { panic!("no build info") };
        let at = bin.windows(HEADER).position(|w| w == &found[..HEADER]).unwrap();
        assert_eq!(at % ALIGN, 0);
        // Cut inside the module info: found, but not readable.
        let Scan::Found(cut) = scan(&bin[..at + 100]).unwrap() else { panic!("no build info") };
        assert_eq!(parse(&cut), Err(BuildInfoError::Truncated));
        // Cut inside the header: not a Go binary any more.
        assert_eq!(scan(&bin[..at + 20]).unwrap(), Scan::NotGo);
    }
}
