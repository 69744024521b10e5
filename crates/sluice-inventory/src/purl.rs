//! Package URLs (<https://github.com/package-url/purl-spec>), built per the type rules of each
//! ecosystem and parsed back for SBOM input.
//!
//! Written here rather than taken from the `packageurl` crate: sluice needs only the
//! ecosystems it inventories, the crate's build pulls in more than the ~100 lines below, and
//! the per-type normalization (PEP 503 names, npm scopes, Maven group/artifact) lives next to
//! the parsers that need it.

use crate::Ecosystem;

/// `pkg:<type>/<namespace>/<name>@<version>` for a package of `ecosystem`. `name` is the
/// ecosystem's own spelling (`@babel/core`, `org.slf4j:slf4j-api`, `github.com/x/y`).
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let (namespace, name) = split_name(ecosystem, name);
    let mut out = format!("pkg:{}/", ecosystem.purl_type());
    if let Some(namespace) = namespace {
        for segment in namespace.split('/').filter(|s| !s.is_empty()) {
            out.push_str(&encode(segment));
            out.push('/');
        }
    }
    out.push_str(&encode(&name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    out
}

/// The purl namespace and name of a package name, normalized as the purl type requires.
fn split_name(ecosystem: Ecosystem, name: &str) -> (Option<String>, String) {
    match ecosystem {
        Ecosystem::Npm => match name.strip_prefix('@').and_then(|rest| rest.split_once('/')) {
            Some((scope, n)) => (Some(format!("@{}", scope.to_lowercase())), n.to_lowercase()),
            None => (None, name.to_lowercase()),
        },
        Ecosystem::PyPI => (None, pep503(name)),
        Ecosystem::Maven => match name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_string()), artifact.to_string()),
            None => (None, name.to_string()),
        },
        Ecosystem::Go => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
            None => (None, name.to_string()),
        },
        Ecosystem::Packagist => match name.split_once('/') {
            Some((vendor, n)) => (Some(vendor.to_lowercase()), n.to_lowercase()),
            None => (None, name.to_lowercase()),
        },
        _ => (None, name.to_string()),
    }
}

/// PEP 503 normalization: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters: one purl segment (namespace
/// part, name, version, qualifier value). Shared with the container stage's OS-package purls.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed purl: the ecosystem sluice knows it by, the name in the ecosystem's spelling, and
/// the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
}

/// Parses a purl of a type sluice knows; `None` for other types or malformed purls.
pub fn parse(purl: &str) -> Option<Parsed> {
    let rest = purl.strip_prefix("pkg:")?.trim_start_matches('/');
    // Qualifiers and subpath do not change the identity sluice matches on.
    let rest = rest.split(['?', '#']).next()?;
    let (ty, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) if !p.is_empty() => (p, decode(v)),
        _ => (path, String::new()),
    };
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(decode).collect();
    let (name, namespace) = segments.split_last()?;
    let ty = ty.to_ascii_lowercase();
    let ecosystem = Ecosystem::ALL.iter().copied().find(|e| e.purl_type() == ty && !matches!(e, Ecosystem::Ubuntu))?;
    let name = match (ecosystem, namespace.is_empty()) {
        (_, true) => name.clone(),
        (Ecosystem::Maven, false) => format!("{}:{name}", namespace.join(".")),
        _ => format!("{}/{name}", namespace.join("/")),
    };
    let name = if ecosystem == Ecosystem::PyPI { pep503(&name) } else { name };
    Some(Parsed { ecosystem, name, version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_purls_per_type() {
        assert_eq!(purl(Ecosystem::Npm, "@Babel/Core", "7.0.0"), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(purl(Ecosystem::PyPI, "Django_Rest.framework", "3.1"), "pkg:pypi/django-rest-framework@3.1");
        assert_eq!(
            purl(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1"),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            purl(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.1"),
            "pkg:golang/github.com/gin-gonic/gin@v1.9.1"
        );
        assert_eq!(purl(Ecosystem::CratesIo, "serde", "1.0.0+build"), "pkg:cargo/serde@1.0.0%2Bbuild");
        assert_eq!(purl(Ecosystem::Packagist, "Symfony/Console", "v6.0.0"), "pkg:composer/symfony/console@v6.0.0");
    }

    #[test]
    fn parses_back() {
        for (eco, name, version) in [
            (Ecosystem::Npm, "@babel/core", "7.0.0"),
            (Ecosystem::Maven, "org.slf4j:slf4j-api", "1.7.36"),
            (Ecosystem::Go, "golang.org/x/net", "v0.1.0"),
            (Ecosystem::CratesIo, "serde", "1.0.0+build"),
            (Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1"),
        ] {
            let p = parse(&purl(eco, name, version)).expect("parses");
            assert_eq!((p.ecosystem, p.name.as_str(), p.version.as_str()), (eco, name, version));
        }
        assert_eq!(parse("pkg:pypi/Foo_Bar@1.0?x=1#sub").map(|p| p.name), Some("foo-bar".to_string()));
        assert_eq!(parse("not a purl"), None);
        assert_eq!(parse("pkg:unknown/x@1"), None);
    }

    #[test]
    fn pep503_collapses_runs() {
        assert_eq!(pep503("Foo.__Bar-baz"), "foo-bar-baz");
    }
}
