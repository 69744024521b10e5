//! Version ranges for advisory decisions (`versions = ">=1.2, <1.4.7"`).
//!
//! A finding whose package has a purl of a known type is compared in its ecosystem's exact
//! order: the advisory matcher's schemes (`sluice_advisory::version`), so `2.36-9+deb12u4` and
//! `2.36-9+deb12u5` are different Debian versions and `1:2.0~rc1` has its epoch and tilde.
//! Only when the ecosystem is unknown does a generic ordering serve: segments split at `.`,
//! `-`, `_`, `+`, `~`, `:` and at digit/letter boundaries, numbers compared as numbers, a
//! trailing letter segment (`rc1`, `-alpha`, `.beta2`) sorts before the release it precedes and
//! `post` after it, a leading `v` ignored. So `1.0.0-alpha < 1.0.0 < 1.0.0-1 < 1.0.1` and
//! `2.0rc1 < 2.0 < 2.0.post1`; what follows `+` counts, so a pin never covers another build.

use sluice_advisory::version::Scheme;

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(u64),
    /// Lowercased; `post` sorts after a release, every other word before it.
    Word(String),
}

#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    segs: Vec<Seg>,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let trimmed = text.trim();
        let core = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        if core.is_empty() || !core.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut segs = Vec::new();
        let mut current = String::new();
        let flush = |current: &mut String, segs: &mut Vec<Seg>| -> Option<()> {
            if current.is_empty() {
                return Some(());
            }
            let seg = if current.bytes().all(|b| b.is_ascii_digit()) {
                Seg::Num(current.parse().ok()?)
            } else {
                Seg::Word(current.to_ascii_lowercase())
            };
            segs.push(seg);
            current.clear();
            Some(())
        };
        for c in core.chars() {
            if matches!(c, '.' | '-' | '_' | '+' | '~' | ':') {
                flush(&mut current, &mut segs)?;
            } else if c.is_ascii_alphanumeric() {
                let boundary = current.chars().last().is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit());
                if boundary {
                    flush(&mut current, &mut segs)?;
                }
                current.push(c);
            } else {
                return None;
            }
        }
        flush(&mut current, &mut segs)?;
        Some(Version { text: trimmed.to_owned(), segs })
    }
}

impl Version {
    /// The version as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Compares in `scheme`'s exact order when one is known (`None` if either version is not
    /// valid there), else in the generic order.
    pub fn compare_in(&self, other: &Version, scheme: Option<Scheme>) -> Option<Ordering> {
        match scheme {
            Some(scheme) => scheme.compare(&self.text, &other.text),
            None => Some(self.cmp(other)),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn cmp_segs(a: &[Seg], b: &[Seg]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => cmp_seg(x, y),
            (Some(x), None) => cmp_missing(x),
            (None, Some(y)) => cmp_missing(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A segment against a missing one, which counts as `0`.
fn cmp_missing(x: &Seg) -> Ordering {
    cmp_seg(x, &Seg::Num(0))
}

/// Numbers after words, except that `post` sits between `0` and `1`: `2.0 = 2.0.0 < 2.0.post1 <
/// 2.0.1`, and `2.0rc1 < 2.0`.
fn cmp_seg(x: &Seg, y: &Seg) -> Ordering {
    match (x, y) {
        (Seg::Num(a), Seg::Num(b)) => a.cmp(b),
        (Seg::Word(a), Seg::Word(b)) => a.cmp(b),
        (Seg::Num(n), Seg::Word(w)) => {
            if w == "post" && *n == 0 {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Seg::Word(_), Seg::Num(_)) => cmp_seg(y, x).reverse(),
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_segs(&self.segs, &other.segs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Comparators joined by commas, all of which must hold: `>=1.2, <1.4.7`; a bare version
/// means `=`.
#[derive(Debug, Clone)]
pub struct VersionRange {
    text: String,
    parts: Vec<(Op, Version)>,
}

impl VersionRange {
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut parts = Vec::new();
        for raw in text.split(',') {
            let item = raw.trim();
            let (op, rest) =
                [(">=", Op::Ge), ("<=", Op::Le), ("==", Op::Eq), ("=", Op::Eq), (">", Op::Gt), ("<", Op::Lt)]
                    .iter()
                    .find_map(|(p, op)| item.strip_prefix(p).map(|rest| (*op, rest)))
                    .unwrap_or((Op::Eq, item));
            let version = Version::parse(rest).ok_or_else(|| {
                if item.is_empty() {
                    "an empty comparator; write comparators like `>=1.2, <1.4.7` separated by commas".to_owned()
                } else {
                    format!("`{item}` is not a version comparator; use =, <, <=, > or >= and a version such as 1.4.7")
                }
            })?;
            parts.push((op, version));
        }
        Ok(VersionRange { text: text.trim().to_owned(), parts })
    }

    /// Whether `version` satisfies every comparator, in the generic order.
    pub fn contains(&self, version: &Version) -> bool {
        self.contains_in(version, None)
    }

    /// Whether `version` satisfies every comparator, compared in `scheme`'s order when known;
    /// a version the scheme cannot read is outside the range.
    pub fn contains_in(&self, version: &Version, scheme: Option<Scheme>) -> bool {
        self.parts.iter().all(|(op, bound)| {
            let Some(ord) = version.compare_in(bound, scheme) else {
                return false;
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
            }
        })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn orders_common_schemes() {
        let ordered =
            ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.0-1", "1.0.1", "1.2", "1.10"];
        for w in ordered.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        for w in ["2.0a1", "2.0b2", "2.0rc1", "2.0", "2.0.post1", "2.0.1"].windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_ne!(v("v4.17.21+build.5"), v("4.17.21"));
        assert_eq!(v("v4.17.21"), v("4.17.21"));
        assert!(Version::parse("latest").is_none());
        assert!(Version::parse("1.0 beta").is_none());
    }

    #[test]
    fn ranges() {
        let r = VersionRange::parse(">=4.0, <4.17.21").unwrap();
        assert!(r.contains(&v("4.17.20")));
        assert!(!r.contains(&v("4.17.21")));
        assert!(!r.contains(&v("3.9")));
        assert!(VersionRange::parse("4.17.20").unwrap().contains(&v("4.17.20")));
        assert!(VersionRange::parse("=4.17.20").unwrap().contains(&v("4.17.20")));
        assert!(VersionRange::parse("<=1.2").unwrap().contains(&v("1.2.0")));
        assert!(VersionRange::parse(">1.2").unwrap().contains(&v("1.2.1")));
        let err = VersionRange::parse(">= 1.0, ~1.2").unwrap_err();
        assert!(err.contains("`~1.2`"), "{err}");
        assert!(VersionRange::parse("1.0,").is_err());
    }

    #[test]
    fn known_ecosystems_use_their_exact_order() {
        let debian = Some(Scheme::Debian);
        let pinned = VersionRange::parse("2.36-9+deb12u4").unwrap();
        assert!(pinned.contains_in(&v("2.36-9+deb12u4"), debian));
        assert!(!pinned.contains_in(&v("2.36-9+deb12u5"), debian));
        // Tilde sorts before the release, epochs above everything without one.
        let below = VersionRange::parse("<2.36-9").unwrap();
        assert!(below.contains_in(&v("2.36-9~bpo1"), debian));
        assert!(!VersionRange::parse("<1:1.0").unwrap().contains_in(&v("1:2.0"), debian));
        assert!(VersionRange::parse("<1:1.0").unwrap().contains_in(&v("9.9"), debian));
        // Semver ignores build metadata; PEP 440 says 1.0 == 1.0.0.
        assert!(VersionRange::parse("4.17.21").unwrap().contains_in(&v("4.17.21+build.5"), Some(Scheme::Semver)));
        assert!(VersionRange::parse("1.0").unwrap().contains_in(&v("1.0.0"), Some(Scheme::Pep440)));
        // A version its scheme cannot read is never inside a range.
        assert!(!VersionRange::parse(">=1.0").unwrap().contains_in(&v("1.0.0.0.0-x"), Some(Scheme::Semver)));
    }

    proptest::proptest! {
        #[test]
        fn ordering_is_consistent(a in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(-(alpha|rc|post)[0-9]?)?", b in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}") {
            let (x, y) = (v(&a), v(&b));
            proptest::prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            proptest::prop_assert_eq!(x.cmp(&x), Ordering::Equal);
        }
    }
}
