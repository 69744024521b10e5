//! RubyGems' `Gem::Version` order.
//!
//! A version is split into numeric and alphabetic segments (`1.0.b1` → 1, 0, "b", 1; a `-`
//! means `.pre.`); trailing zeros of the release part and of the pre-release part are
//! dropped (`canonical_segments`), then segments compare pairwise with a missing segment
//! as 0: numbers numerically, strings lexically, and a string is older than any number, so
//! `1.0.a` < `1.0`. Written here because it is twenty lines and no Rust crate implements it.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits without leading zeros.
    Num(String),
    Str(String),
}

impl Segment {
    fn cmp_num(a: &str, b: &str) -> Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    fn compare(&self, other: &Segment) -> Ordering {
        match (self, other) {
            (Segment::Num(a), Segment::Num(b)) => Segment::cmp_num(a, b),
            (Segment::Str(a), Segment::Str(b)) => a.cmp(b),
            (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
            (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
        }
    }

    fn is_zero(&self) -> bool {
        matches!(self, Segment::Num(d) if d.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct GemVersion {
    canonical: Vec<Segment>,
}

impl GemVersion {
    pub fn parse(text: &str) -> Result<GemVersion, String> {
        let text = text.trim();
        // Gem::Version::ANCHORED_VERSION_PATTERN.
        let valid = text.is_empty() || {
            let (release, pre) = match text.split_once('-') {
                Some((r, p)) => (r, Some(p)),
                None => (text, None),
            };
            let mut parts = release.split('.');
            let first_ok = parts.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            first_ok
                && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
                && pre.is_none_or(|p| {
                    p.split('.').all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                })
        };
        if !valid {
            return Err("not a Gem::Version (digits, then dot-separated letters and digits)".into());
        }
        let text = if text.is_empty() { "0".to_owned() } else { text.replace('-', ".pre.") };
        let mut segments = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                segments.push(Segment::Num(text[start..i].trim_start_matches('0').to_owned()));
            } else if bytes[i].is_ascii_alphabetic() {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segments.push(Segment::Str(text[start..i].to_owned()));
            } else {
                i += 1;
            }
        }
        // canonical_segments: strip trailing zeros of the release and of the pre-release part.
        let split = segments.iter().position(|s| matches!(s, Segment::Str(_))).unwrap_or(segments.len());
        let mut pre = segments.split_off(split);
        while segments.last().is_some_and(Segment::is_zero) {
            segments.pop();
        }
        while pre.last().is_some_and(Segment::is_zero) {
            pre.pop();
        }
        segments.extend(pre);
        Ok(GemVersion { canonical: segments })
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(String::new());
        for i in 0..self.canonical.len().max(other.canonical.len()) {
            let a = self.canonical.get(i).unwrap_or(&zero);
            let b = other.canonical.get(i).unwrap_or(&zero);
            let o = a.compare(b);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }
}

super::order_from_cmp!(GemVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> GemVersion {
        GemVersion::parse(s).unwrap()
    }

    #[test]
    fn gem_version_documented_order() {
        // Gem::Version's documentation: "1.0.a.1" < "1.0.b1" < "1.0"; "1.0.a10" > "1.0.a9".
        assert_ascending(&["1.0.a.1", "1.0.a.2", "1.0.a9", "1.0.a10", "1.0.b1", "1.0", "1.0.1", "1.1", "2"].map(v));
        assert_ascending(&["0.9", "1.0.0.pre", "1.0.0.rc1", "1.0.0", "1.0.1.alpha", "1.0.1"].map(v));
    }

    #[test]
    fn gem_version_equalities() {
        // test_version.rb: "1.0" == "1", "1.0.a" == "1.0.a.0", "1.8.2.a" == "1.8.2.a0".
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1.0.0"), v("1"));
        assert_eq!(v("1.0.a"), v("1.0.a.0"));
        assert_eq!(v("1.8.2.a"), v("1.8.2.a0"));
        assert_eq!(v(""), v("0"));
        assert_eq!(v("1.0.0-rc1"), v("1.0.0.pre.rc1"));
        assert!(v("5.2.4.pre") < v("5.2.4"));
        assert!(GemVersion::parse("junk").is_err());
        assert!(GemVersion::parse("1..2").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(0u8..3, 1..4),
            prop::collection::vec(
                prop_oneof![Just("a".to_owned()), Just("b".to_owned()), Just("pre".to_owned()), "[0-2]"],
                0..3,
            ),
        )
            .prop_map(|(rel, pre)| {
                let mut s = rel.iter().map(u8::to_string).collect::<Vec<_>>().join(".");
                for p in pre {
                    s.push('.');
                    s.push_str(&p);
                }
                s
            })
    }

    proptest! {
        #[test]
        fn total_order(a in version(), b in version(), c in version()) {
            check_total_order(&v(&a), &v(&b), &v(&c));
        }
    }
}
