//! pip requirements files: the pinned lines (`name==version`), their `--hash` options and
//! `-r` includes.
//!
//! Unpinned lines (`>=`, no version, URLs, `-e`) name no exact version an advisory can be
//! matched against, so they are not listed. `-c` constraint files only restrict versions of
//! packages something else asks for, so they add no packages. pip-compile's `# via` comments
//! tell direct (`# via -r requirements.in`) from transitive lines; without them every line is
//! direct.

use std::collections::HashSet;

use super::{hash, package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::format::Format;
use crate::{Ecosystem, Package, Relationship};

const MAX_INCLUDE_DEPTH: usize = 16;

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let mut out = Vec::new();
    let mut seen = HashSet::from([ctx.path.to_string()]);
    parse_one(text, ctx.path, ctx, &mut seen, &mut out, 0)?;
    Ok(out)
}

/// One logical line: continuation lines joined, with the 1-based line it starts on, and the
/// comment lines that follow it (pip-compile's `# via` annotations).
struct Logical {
    line: u32,
    text: String,
    via: Vec<String>,
}

fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out: Vec<Logical> = Vec::new();
    let mut current: Option<Logical> = None;
    let mut via_block = false;
    for (i, raw) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(cur) = current.as_mut() {
            // Continuation of the previous line.
            cur.text.push(' ');
            cur.text.push_str(raw.trim_end_matches('\\'));
            if !raw.trim_end().ends_with('\\') {
                out.extend(current.take());
            }
            continue;
        }
        let trimmed = raw.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(last) = out.last_mut() {
                if let Some(rest) = comment.strip_prefix("via") {
                    via_block = true;
                    let rest = rest.trim();
                    if !rest.is_empty() {
                        last.via.push(rest.to_string());
                    }
                } else if via_block && !comment.is_empty() && raw.starts_with(char::is_whitespace) {
                    last.via.push(comment.to_string());
                } else {
                    via_block = false;
                }
            }
            continue;
        }
        via_block = false;
        if trimmed.is_empty() {
            continue;
        }
        let logical = Logical { line: number, text: raw.trim_end_matches('\\').to_string(), via: Vec::new() };
        if raw.trim_end().ends_with('\\') {
            current = Some(logical);
        } else {
            out.push(logical);
        }
    }
    out.extend(current);
    out
}

/// Removes a ` # comment` (pip: `#` at the start or after whitespace).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn parse_one(
    text: &str,
    path: &str,
    ctx: &Ctx<'_>,
    seen: &mut HashSet<String>,
    out: &mut Vec<Package>,
    depth: usize,
) -> Result<(), ErrorKind> {
    for logical in logical_lines(text) {
        let line = strip_comment(&logical.text).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(include) = option_value(line, &["-r", "--requirement"]) {
            include_file(include, logical.line, ctx, seen, out, depth)?;
            continue;
        }
        if line.starts_with('-') {
            // -c, -e, --index-url, --hash on its own line, … : no package of its own.
            continue;
        }
        if let Some(mut pkg) = pinned(line, path, logical.line) {
            pkg.relationship = if logical.via.is_empty() || logical.via.iter().any(|v| v.starts_with("-r")) {
                Relationship::Direct
            } else {
                Relationship::Transitive
            };
            out.push(pkg);
        }
    }
    Ok(())
}

fn include_file(
    include: &str,
    line: u32,
    ctx: &Ctx<'_>,
    seen: &mut HashSet<String>,
    out: &mut Vec<Package>,
    depth: usize,
) -> Result<(), ErrorKind> {
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(syntax(Some(line), format!("-r includes nest more than {MAX_INCLUDE_DEPTH} deep")));
    }
    if include.contains("://") {
        // A remote include: never fetched (scans are offline).
        return Ok(());
    }
    let (rel, included) = (ctx.read_include)(include)
        .map_err(|e| syntax(Some(line), format!("cannot read the included requirements file: {e}")))?;
    // A file that discovery finds on its own is reported there, not twice.
    if Format::detect_path(&rel) == Some(Format::Requirements) || !seen.insert(rel.clone()) {
        return Ok(());
    }
    let nested = Ctx { path: &rel, read_include: ctx.read_include };
    parse_one(&included, &rel, &nested, seen, out, depth + 1)
}

/// `-r file`, `-rfile`, `--requirement file`, `--requirement=file`.
fn option_value<'a>(line: &'a str, names: &[&str]) -> Option<&'a str> {
    for name in names {
        if let Some(rest) = line.strip_prefix(name) {
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            let value = rest.trim();
            if !value.is_empty() && (name.len() == 2 || rest.starts_with([' ', '\t']) || line.contains('=')) {
                return Some(value.split_whitespace().next().unwrap_or(value));
            }
        }
    }
    None
}

/// `name[extras]==version ; markers --hash=sha256:…` → a package; `None` when not pinned.
fn pinned(line: &str, path: &str, number: u32) -> Option<Package> {
    let (spec, options) = match line.find(" --") {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let spec = spec.split(';').next()?.trim();
    let (name_part, version) = spec.split_once("===").or_else(|| spec.split_once("=="))?;
    let version = version.trim();
    // `==1.*` is a range, and `==1.0,<2` a compound specifier: neither is one version.
    if version.is_empty() || version.contains(['*', ',', ' ', '<', '>', '!', '~', '@']) {
        return None;
    }
    let name = name_part.split('[').next()?.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return None;
    }
    let mut pkg = package(Ecosystem::PyPI, &crate::purl::pep503(name), version, path, number);
    for option in options.split_whitespace() {
        if let Some(value) = option.strip_prefix("--hash=").or_else(|| option.strip_prefix("--hash:")) {
            if let Some(h) = value.split_once(':').and_then(|(alg, v)| hash(alg, v, false)) {
                pkg.hashes.push(h);
            }
        }
    }
    pkg.hashes.sort();
    pkg.hashes.dedup();
    Some(pkg)
}
