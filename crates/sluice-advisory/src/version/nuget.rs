//! NuGet's version order (`NuGet.Versioning.VersionComparer.Default`): SemVer 2.0 with an
//! optional fourth "revision" number (`1.2.3.4`, from .NET's System.Version), missing parts
//! as 0 (`1.0` = `1.0.0` = `1.0.0.0`), pre-release labels compared as SemVer 2.0 says but
//! case-insensitively, and build metadata ignored. Leading zeros are accepted as NuGet's
//! parser accepts them (`1.01` = `1.1`).

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct NugetVersion {
    numbers: [u64; 4],
    /// Lower-cased dot-separated labels; empty for a release.
    pre: Vec<String>,
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    fn num(s: &str) -> Option<&str> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.trim_start_matches('0'))
    }
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

impl NugetVersion {
    pub fn parse(text: &str) -> Result<NugetVersion, String> {
        let text = text.trim();
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (core, pre) = match text.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (text, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return Err("expected 1 to 4 dot-separated numbers".into());
        }
        let mut numbers = [0u64; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{part}` is not a number"));
            }
            *slot = part.parse().map_err(|_| format!("`{part}` is too large"))?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let labels: Vec<String> = p.split('.').map(str::to_ascii_lowercase).collect();
                if labels.iter().any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
                    return Err("pre-release labels are letters, digits and `-`, separated by dots".into());
                }
                labels
            }
        };
        Ok(NugetVersion { numbers, pre })
    }
}

impl Ord for NugetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.pre.iter().zip(&other.pre) {
                    let o = cmp_label(a, b);
                    if o.is_ne() {
                        return o;
                    }
                }
                self.pre.len().cmp(&other.pre.len())
            }
        })
    }
}

super::order_from_cmp!(NugetVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> NugetVersion {
        NugetVersion::parse(s).unwrap()
    }

    #[test]
    fn nuget_documented_order() {
        // docs.microsoft.com "NuGet package versioning": pre-release sorting and 4-part versions.
        assert_ascending(
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.0.1",
                "1.0.1",
                "1.1",
            ]
            .map(v),
        );
    }

    #[test]
    fn nuget_equalities() {
        assert_eq!(v("1.0"), v("1.0.0.0"));
        assert_eq!(v("1.0.0-Beta"), v("1.0.0-beta"));
        assert_eq!(v("1.0.0+git.abc"), v("1.0.0"));
        assert_eq!(v("1.01"), v("1.1"));
        assert!(NugetVersion::parse("1.2.3.4.5").is_err());
        assert!(NugetVersion::parse("1.x").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(0u8..3, 1..5),
            prop::collection::vec(
                prop_oneof![Just("alpha".to_owned()), Just("Beta".to_owned()), Just("beta".to_owned()), "[0-9]{1,2}"],
                0..3,
            ),
        )
            .prop_map(|(nums, pre)| {
                let mut s = nums.iter().map(u8::to_string).collect::<Vec<_>>().join(".");
                if !pre.is_empty() {
                    s.push('-');
                    s.push_str(&pre.join("."));
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
