//! RustSec advisory-db records (markdown with a TOML front matter in a ```toml fence),
//! converted to the model.
//!
//! `[versions] patched` and `unaffected` are semver requirements of the safe versions; the
//! affected ranges are their complement, computed exactly as the `rustsec` crate does for
//! its own OSV export and for cargo-audit (`osv::ranges_for_advisory`): each requirement is
//! one interval, intervals are sorted, and the gaps between them become `introduced`/`fixed`
//! events, an exclusive bound `> v` becoming `v` with its patch incremented and a `-0`
//! pre-release (the smallest version above `v`). The result is a `SEMVER` range, so sluice
//! and cargo-audit agree on what is affected.

use semver::{Comparator, Op, Prerelease, Version, VersionReq};
use serde::Deserialize;

use crate::model::{Advisory, Affected, Event, Kind, Range, RangeKind, SeverityEntry};

#[derive(Debug, Deserialize)]
struct Front {
    advisory: Meta,
    #[serde(default)]
    versions: Option<Versions>,
    #[serde(default)]
    affected: Option<AffectedMeta>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    id: String,
    package: String,
    #[serde(default)]
    date: Option<toml::Value>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    withdrawn: Option<toml::Value>,
    #[serde(default)]
    references: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AffectedMeta {
    #[serde(default)]
    functions: Option<toml::Table>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    Unbounded,
    Exclusive(Version),
    Inclusive(Version),
}

impl Bound {
    fn version(&self) -> Option<&Version> {
        match self {
            Bound::Unbounded => None,
            Bound::Exclusive(v) | Bound::Inclusive(v) => Some(v),
        }
    }
}

fn comparator_version(c: &Comparator) -> Version {
    Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: Default::default(),
    }
}

fn zero_pre(mut v: Version) -> Version {
    v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    v
}

/// One requirement as an interval of safe versions (`UnaffectedRange::try_from`).
fn interval(req: &VersionReq) -> Result<(Bound, Bound), String> {
    if req.comparators.len() > 2 {
        return Err(format!("too many comparators in `{req}`"));
    }
    let (mut start, mut end) = (Bound::Unbounded, Bound::Unbounded);
    let alone = |what: &str| -> Result<(), String> {
        if req.comparators.len() == 1 {
            Ok(())
        } else {
            Err(format!("`{req}`: {what} must be alone in its requirement"))
        }
    };
    for c in &req.comparators {
        let v = comparator_version(c);
        match c.op {
            Op::Greater | Op::GreaterEq if start != Bound::Unbounded => {
                return Err(format!("`{req}`: two lower bounds"))
            }
            Op::Less | Op::LessEq if end != Bound::Unbounded => return Err(format!("`{req}`: two upper bounds")),
            Op::Greater => start = Bound::Exclusive(v),
            Op::GreaterEq => start = Bound::Inclusive(v),
            Op::Less => end = Bound::Exclusive(v),
            Op::LessEq => end = Bound::Inclusive(v),
            Op::Exact => {
                alone("`=`")?;
                start = Bound::Inclusive(v.clone());
                end = Bound::Inclusive(v);
            }
            Op::Caret => {
                alone("`^`")?;
                let upper = if c.major == 0 {
                    match (c.minor, c.patch) {
                        (Some(0), Some(patch)) => Version::new(0, 0, patch.saturating_add(1)),
                        (Some(minor), _) => Version::new(0, minor.saturating_add(1), 0),
                        (None, _) => Version::new(1, 0, 0),
                    }
                } else {
                    Version::new(c.major.saturating_add(1), 0, 0)
                };
                start = Bound::Inclusive(v);
                end = Bound::Exclusive(zero_pre(upper));
            }
            Op::Tilde => {
                alone("`~`")?;
                let upper = match c.minor {
                    None => Version::new(c.major.saturating_add(1), 0, 0),
                    Some(minor) => Version::new(c.major, minor.saturating_add(1), 0),
                };
                start = Bound::Inclusive(v);
                end = Bound::Exclusive(zero_pre(upper));
            }
            _ => return Err(format!("`{req}`: unsupported operator")),
        }
    }
    Ok((start, end))
}

/// The smallest version above `v` (rustsec's `increment`).
fn increment(v: &Version) -> Version {
    let mut v = v.clone();
    v.build = Default::default();
    if v.pre.is_empty() {
        v.patch = v.patch.saturating_add(1);
        v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    } else {
        v.pre = Prerelease::new(&format!("{}.0", v.pre)).unwrap_or(Prerelease::EMPTY);
    }
    v
}

/// Affected SEMVER ranges from RustSec's `patched` and `unaffected` requirements.
pub(crate) fn ranges_from_requirements(patched: &[String], unaffected: &[String]) -> Result<Vec<Range>, String> {
    let mut safe = Vec::new();
    for text in unaffected.iter().chain(patched) {
        let req = VersionReq::parse(text).map_err(|e| format!("requirement `{text}`: {e}"))?;
        safe.push(interval(&req)?);
    }
    let range = |introduced: Option<Version>, fixed: Option<Version>| {
        let mut events = vec![Event::Introduced(introduced.map_or_else(|| "0".to_owned(), |v| v.to_string()))];
        if let Some(f) = fixed {
            events.push(Event::Fixed(f.to_string()));
        }
        Range { kind: RangeKind::Semver, events }
    };
    if safe.is_empty() {
        return Ok(vec![range(None, None)]);
    }
    safe.sort_by(|a, b| match (a.0.version(), b.0.version()) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    });
    for pair in safe.windows(2) {
        let (a_end, b_start) = (&pair[0].1, &pair[1].0);
        let disjoint = match (a_end, b_start) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Inclusive(x), Bound::Inclusive(y)) => x < y,
            (x, y) => x.version() <= y.version(),
        };
        if !disjoint {
            return Err("overlapping `patched`/`unaffected` requirements".into());
        }
    }
    let mut ranges = Vec::new();
    if let Some(first) = safe.first() {
        match &first.0 {
            Bound::Unbounded => {}
            Bound::Exclusive(v) => ranges.push(range(None, Some(increment(v)))),
            Bound::Inclusive(v) => ranges.push(range(None, Some(v.clone()))),
        }
    }
    for pair in safe.windows(2) {
        let start = match &pair[0].1 {
            Bound::Unbounded => continue,
            Bound::Exclusive(v) => v.clone(),
            Bound::Inclusive(v) => increment(v),
        };
        let end = match &pair[1].0 {
            Bound::Unbounded => continue,
            Bound::Exclusive(v) => increment(v),
            Bound::Inclusive(v) => v.clone(),
        };
        ranges.push(range(Some(start), Some(end)));
    }
    if let Some(last) = safe.last() {
        match &last.1 {
            Bound::Unbounded => {}
            Bound::Exclusive(v) => ranges.push(range(Some(v.clone()), None)),
            Bound::Inclusive(v) => ranges.push(range(Some(increment(v)), None)),
        }
    }
    Ok(ranges)
}

/// Splits a RustSec markdown file into its TOML front matter and markdown body.
fn split_front_matter(text: &str) -> Result<(&str, &str), String> {
    let text = text.trim_start_matches('\u{feff}');
    let rest = text.trim_start().strip_prefix("```toml").ok_or("expected a ```toml front matter block at the top")?;
    let end = rest.find("\n```").ok_or("the ```toml front matter block is not closed")?;
    Ok((&rest[..end], rest[end + 4..].trim_start_matches('`')))
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses one RustSec advisory (`crates/<name>/RUSTSEC-*.md`).
pub(crate) fn parse(text: &str) -> Result<Advisory, String> {
    let (front, body) = split_front_matter(text)?;
    let front: Front = toml::from_str(front).map_err(|e| format!("invalid TOML front matter: {}", e.message()))?;
    let meta = front.advisory;
    let versions = front.versions.unwrap_or(Versions { patched: Vec::new(), unaffected: Vec::new() });
    let ranges = ranges_from_requirements(&versions.patched, &versions.unaffected)?;
    let (summary, details) = {
        let body = body.trim();
        match body.strip_prefix("# ") {
            Some(rest) => {
                let (title, details) = rest.split_once('\n').unwrap_or((rest, ""));
                (title.trim().to_owned(), details.trim().to_owned())
            }
            None => (String::new(), body.to_owned()),
        }
    };
    let kind = match meta.informational.as_deref() {
        None => Kind::Vulnerability,
        Some("unmaintained") => Kind::Unmaintained,
        Some("unsound") => Kind::Unsound,
        Some(_) => Kind::Notice,
    };
    let functions = front.affected.and_then(|a| a.functions).map(|f| f.keys().cloned().collect()).unwrap_or_default();
    let mut references: Vec<String> = meta.url.into_iter().collect();
    references.extend(meta.references);
    references.push(format!("https://rustsec.org/advisories/{}.html", meta.id));
    Ok(Advisory {
        aliases: meta.aliases,
        summary,
        details,
        published: meta.date.as_ref().map(toml_text),
        modified: None,
        withdrawn: meta.withdrawn.as_ref().map(toml_text),
        kind,
        severity: meta
            .cvss
            .map(|v| {
                let kind = if v.starts_with("CVSS:4") { "CVSS_V4" } else { "CVSS_V3" };
                vec![SeverityEntry { kind: kind.into(), value: v }]
            })
            .unwrap_or_default(),
        source: "RustSec".into(),
        affected: vec![Affected {
            ecosystem: "crates.io".into(),
            name: meta.package,
            ranges,
            versions: Vec::new(),
            severity: Vec::new(),
            functions,
        }],
        references,
        cwes: Vec::new(),
        id: meta.id,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn events(patched: &[&str], unaffected: &[&str]) -> Vec<Vec<String>> {
        let p: Vec<String> = patched.iter().map(|s| s.to_string()).collect();
        let u: Vec<String> = unaffected.iter().map(|s| s.to_string()).collect();
        ranges_from_requirements(&p, &u)
            .unwrap()
            .into_iter()
            .map(|r| r.events.iter().map(|e| format!("{e:?}")).collect())
            .collect()
    }

    #[test]
    fn smallvec_requirements_become_ranges() {
        // RUSTSEC-2021-0003.
        let got = events(&[">= 0.6.14, < 1.0.0", ">= 1.6.1"], &["< 0.6.3"]);
        assert_eq!(
            got,
            vec![
                vec!["Introduced(\"0.6.3\")".to_owned(), "Fixed(\"0.6.14\")".to_owned()],
                vec!["Introduced(\"1.0.0\")".to_owned(), "Fixed(\"1.6.1\")".to_owned()],
            ]
        );
    }

    #[test]
    fn caret_and_exclusive_bounds() {
        let got = events(&["^0.2.5", "> 0.3.1"], &[]);
        assert_eq!(
            got,
            vec![
                vec!["Introduced(\"0\")".to_owned(), "Fixed(\"0.2.5\")".to_owned()],
                vec!["Introduced(\"0.3.0-0\")".to_owned(), "Fixed(\"0.3.2-0\")".to_owned()],
            ]
        );
        assert_eq!(events(&[], &[]), vec![vec!["Introduced(\"0\")".to_owned()]]);
        let overlapping = ranges_from_requirements(&[">= 1.0".into()], &[">= 1.2".into()]);
        assert!(overlapping.is_err());
    }

    #[test]
    fn parses_a_record() {
        let text = "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"demo\"\ndate = \"2099-01-01\"\naliases = [\"CVE-2099-1\"]\ninformational = \"unmaintained\"\n\n[versions]\npatched = []\n```\n\n# Demo is unmaintained\n\nUse something else.\n";
        let a = parse(text).unwrap();
        assert_eq!(a.id, "RUSTSEC-2099-0001");
        assert_eq!(a.kind, Kind::Unmaintained);
        assert_eq!(a.summary, "Demo is unmaintained");
        assert_eq!(a.details, "Use something else.");
        assert_eq!(a.affected[0].name, "demo");
        assert!(parse("no front matter").is_err());
        assert!(parse("```toml\n[advisory]\nid = 1\n```").is_err());
    }
}
