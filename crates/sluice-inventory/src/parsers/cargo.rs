//! `Cargo.lock`, versions 1 to 4, through RustSec's `cargo-lock` crate (the parser
//! cargo-audit uses, so both see the same packages).
//!
//! Local packages (workspace members and path dependencies, which have no `source`) are the
//! project's own code: they are not listed, and their dependencies are the direct ones.

use std::collections::HashSet;
use std::str::FromStr;

use super::{package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{purl, Ecosystem, Package, Relationship, Source};

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    super::check_toml_nesting(text)?;
    let lock = cargo_lock::Lockfile::from_str(text).map_err(|e| {
        let message = e.to_string();
        syntax(line_in_message(&message), format!("not a valid Cargo.lock: {}", first_line(&message)))
    })?;
    let lines = crate::text::toml_package_lines(text);
    let is_local = |p: &cargo_lock::Package| p.source.as_ref().is_none_or(|s| s.is_path());
    let direct: HashSet<(String, String)> = lock
        .packages
        .iter()
        .filter(|p| is_local(p))
        .flat_map(|p| p.dependencies.iter())
        .map(|d| (d.name.as_str().to_string(), d.version.to_string()))
        .collect();
    let local: HashSet<(String, String)> = lock
        .packages
        .iter()
        .filter(|p| is_local(p))
        .map(|p| (p.name.as_str().to_string(), p.version.to_string()))
        .collect();

    let mut out = Vec::new();
    for p in lock.packages.iter().filter(|p| !is_local(p)) {
        let (name, version) = (p.name.as_str().to_string(), p.version.to_string());
        let line = lines.get(&(name.clone(), version.clone())).copied().unwrap_or(1);
        let mut pkg = package(Ecosystem::CratesIo, &name, &version, ctx.path, line);
        pkg.relationship = if direct.contains(&(name.clone(), version.clone())) {
            Relationship::Direct
        } else {
            Relationship::Transitive
        };
        pkg.source = match &p.source {
            Some(s) if s.is_git() => Source::Git(match s.precise() {
                Some(rev) => format!("{}#{rev}", s.url()),
                None => s.url().to_string(),
            }),
            _ => Source::Registry,
        };
        if let Some(sum) = p.checksum.as_ref().and_then(|c| c.as_sha256()) {
            pkg.hashes.push(crate::Hash {
                algorithm: "SHA-256".to_string(),
                value: sum.iter().map(|b| format!("{b:02x}")).collect(),
            });
        }
        pkg.dependencies = p
            .dependencies
            .iter()
            .filter(|d| !local.contains(&(d.name.as_str().to_string(), d.version.to_string())))
            .map(|d| purl::purl(Ecosystem::CratesIo, d.name.as_str(), &d.version.to_string()))
            .collect();
        pkg.dependencies.sort();
        out.push(pkg);
    }
    Ok(out)
}

/// toml's messages say "at line N, column M".
fn line_in_message(message: &str) -> Option<u32> {
    let rest = &message[message.find("line ")? + 5..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}
