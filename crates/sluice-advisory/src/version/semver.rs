//! Semantic Versioning 2.0.0 precedence, for crates.io, npm, Go and OSV `SEMVER` ranges.
//!
//! Parsing is the `semver` crate's; the order is SemVer §11 precedence, which is not the
//! crate's `Ord` (that one also orders build metadata, which precedence ignores:
//! `1.0.0+a` and `1.0.0+b` are the same version to an advisory).
//!
//! Leniency, because the ecosystems are lenient: a leading `v` (Go's `v1.2.3`, npm's loose
//! mode) or `=` is dropped, and a missing minor or patch is zero (`1.2` → `1.2.0`, which
//! OSV records for Go and npm sometimes contain). Go pseudo-versions
//! (`v0.0.0-20191109021931-daa7c04131f5`) are ordinary pre-releases and `+incompatible` is
//! build metadata, so both order as Go's module system orders them.

use std::cmp::Ordering;

/// A semver version ordered by precedence.
#[derive(Debug, Clone)]
pub struct SemverVersion(semver::Version);

impl SemverVersion {
    pub fn parse(text: &str) -> Result<SemverVersion, String> {
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix('=').unwrap_or(trimmed).trim_start();
        let trimmed = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        if let Ok(v) = semver::Version::parse(trimmed) {
            return Ok(SemverVersion(v));
        }
        // `1.2` / `1` / `1.2-beta`: pad the numeric core.
        let split = trimmed.find(['-', '+']).unwrap_or(trimmed.len());
        let (core, rest) = trimmed.split_at(split);
        let parts = core.split('.').count();
        if parts < 3
            && !core.is_empty()
            && core.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let padded = format!("{core}{}{rest}", ".0".repeat(3 - parts));
            if let Ok(v) = semver::Version::parse(&padded) {
                return Ok(SemverVersion(v));
            }
        }
        semver::Version::parse(trimmed).map(SemverVersion).map_err(|e| e.to_string())
    }

    pub fn inner(&self) -> &semver::Version {
        &self.0
    }
}

impl From<semver::Version> for SemverVersion {
    fn from(v: semver::Version) -> Self {
        SemverVersion(v)
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        (a.major, a.minor, a.patch).cmp(&(b.major, b.minor, b.patch)).then_with(|| a.pre.cmp(&b.pre))
    }
}

super::order_from_cmp!(SemverVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> SemverVersion {
        SemverVersion::parse(s).unwrap()
    }

    #[test]
    fn semver_spec_precedence_examples() {
        // SemVer 2.0.0 §11, verbatim.
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        assert_ascending(&order.map(v));
    }

    #[test]
    fn build_metadata_is_ignored() {
        assert_eq!(v("1.0.0+20130313144700"), v("1.0.0+exp.sha.5114f85"));
        assert_eq!(v("2.0.0+incompatible"), v("v2.0.0"));
    }

    #[test]
    fn go_versions_and_pseudo_versions() {
        assert_eq!(v("v1.2.3"), v("1.2.3"));
        // A pseudo-version sorts before the release it precedes and after the one it follows.
        assert_ascending(&[
            v("v0.0.0-20191109021931-daa7c04131f5"),
            v("v0.0.0-20200101000000-aaaaaaaaaaaa"),
            v("v0.1.0"),
            v("v0.1.1-0.20200101000000-aaaaaaaaaaaa"),
            v("v0.1.1"),
        ]);
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(v("1.2"), v("1.2.0"));
        assert_eq!(v("1"), v("1.0.0"));
        assert_eq!(v("=1.2.3"), v("1.2.3"));
        assert!(v("1.2-beta") < v("1.2.0"));
        assert!(SemverVersion::parse("1.02.3").is_err());
        assert!(SemverVersion::parse("latest").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        let pre = prop::collection::vec(
            prop_oneof![
                Just("alpha".to_owned()),
                Just("beta".to_owned()),
                "[0-9]{1,2}".prop_map(|s| s.trim_start_matches('0').to_owned()).prop_map(|s| if s.is_empty() {
                    "0".into()
                } else {
                    s
                })
            ],
            0..3,
        );
        (0u64..3, 0u64..3, 0u64..3, pre, prop::option::of("[a-z0-9]{1,3}")).prop_map(|(a, b, c, pre, build)| {
            let mut s = format!("{a}.{b}.{c}");
            if !pre.is_empty() {
                s.push('-');
                s.push_str(&pre.join("."));
            }
            if let Some(build) = build {
                s.push('+');
                s.push_str(&build);
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
