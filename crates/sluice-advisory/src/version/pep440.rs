//! PEP 440 ordering for PyPI, by `pep440_rs` (the parser uv and ruff use): epochs,
//! pre/post/dev releases, local versions, and the normalizations PEP 440 allows
//! (`1.0-RC1` = `1.0rc1`, `v1.0` = `1.0`, `1.0` = `1.0.0`).

use std::cmp::Ordering;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Pep440Version(pep440_rs::Version);

impl Pep440Version {
    pub fn parse(text: &str) -> Result<Pep440Version, String> {
        pep440_rs::Version::from_str(text.trim()).map(Pep440Version).map_err(|e| e.to_string())
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

super::order_from_cmp!(Pep440Version);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> Pep440Version {
        Pep440Version::parse(s).unwrap()
    }

    #[test]
    fn pep440_summary_of_ordering() {
        // PEP 440, "Summary of permitted suffixes and relative ordering".
        let order = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        assert_ascending(&order.map(v));
    }

    #[test]
    fn normalization_and_epochs() {
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0-RC1"), v("1.0rc1"));
        assert_eq!(v("v1.0"), v("1.0"));
        assert_eq!(v("1.0.post1"), v("1.0-1"));
        assert!(v("1!0.1") > v("2024.1"));
        assert!(Pep440Version::parse("not a version").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (
            prop::option::of(0u8..2),
            prop::collection::vec(0u8..3, 1..4),
            prop::option::of((prop_oneof![Just("a"), Just("b"), Just("rc")], 0u8..3)),
            prop::option::of(0u8..3),
            prop::option::of(0u8..3),
            prop::option::of("[a-z0-9]{1,3}"),
        )
            .prop_map(|(epoch, release, pre, post, dev, local)| {
                let mut s = String::new();
                if let Some(e) = epoch {
                    s.push_str(&format!("{e}!"));
                }
                s.push_str(&release.iter().map(u8::to_string).collect::<Vec<_>>().join("."));
                if let Some((kind, n)) = pre {
                    s.push_str(&format!("{kind}{n}"));
                }
                if let Some(p) = post {
                    s.push_str(&format!(".post{p}"));
                }
                if let Some(d) = dev {
                    s.push_str(&format!(".dev{d}"));
                }
                if let Some(l) = local {
                    s.push_str(&format!("+{l}"));
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
