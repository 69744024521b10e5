//! Alpine's apk version order (apk-tools `apk_version_compare`):
//! `number(.number)*[letter](_suffix[number])*[~hash][-r<revision>]`. Numbers compare
//! numerically, except that after the first component a component with a leading zero
//! compares as a decimal fraction (string-wise: `1.01` < `1.1`); more components is newer;
//! a letter is newer than none; suffixes `_alpha` < `_beta` < `_pre` < `_rc` < (none) <
//! `_cvs` < `_svn` < `_git` < `_hg` < `_p`, each with an optional number; then the
//! revision, where an explicit `-r0` is newer than none (apk compares token kinds, and the end
//! of the string sorts before a revision). The `~hash` part does not affect the order.

use std::cmp::Ordering;

const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Index in `SUFFIXES` from which suffixes are post-release.
const FIRST_POST: usize = 4;

#[derive(Debug, Clone)]
pub struct AlpineVersion {
    numbers: Vec<String>,
    letter: Option<u8>,
    /// (rank relative to "no suffix" — negative before the release — and its number).
    suffixes: Vec<(i8, String)>,
    revision: Option<String>,
}

fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl AlpineVersion {
    pub fn parse(text: &str) -> Result<AlpineVersion, String> {
        let text = text.trim();
        let (rest, revision) = match text.rsplit_once("-r") {
            Some((r, rev)) if !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit()) => (r, Some(rev.to_owned())),
            _ => (text, None),
        };
        let rest = rest.split_once('~').map_or(rest, |(v, _)| v);
        let (core, suffix_text) = match rest.split_once('_') {
            Some((c, s)) => (c, Some(s)),
            None => (rest, None),
        };
        let (numeric, letter) = match core.as_bytes().last() {
            Some(c) if c.is_ascii_lowercase() => (&core[..core.len() - 1], Some(*c)),
            _ => (core, None),
        };
        let numbers: Vec<String> = numeric.split('.').map(str::to_owned).collect();
        if numbers.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
            return Err("expected dot-separated numbers, an optional letter, _suffixes and -rN".into());
        }
        let mut suffixes = Vec::new();
        for part in suffix_text.into_iter().flat_map(|s| s.split('_')) {
            let name_len = part.bytes().take_while(u8::is_ascii_lowercase).count();
            let (name, number) = part.split_at(name_len);
            let index = SUFFIXES.iter().position(|s| *s == name).ok_or_else(|| format!("unknown suffix `_{name}`"))?;
            if !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("suffix `_{part}`: expected a number after `_{name}`"));
            }
            // Pre-release suffixes rank below the (absent) suffix 0, post-release above.
            let rank =
                if index < FIRST_POST { index as i8 - FIRST_POST as i8 } else { index as i8 - FIRST_POST as i8 + 1 };
            suffixes.push((rank, number.to_owned()));
        }
        Ok(AlpineVersion { numbers, letter, suffixes, revision })
    }
}

impl Ord for AlpineVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (i, (a, b)) in self.numbers.iter().zip(&other.numbers).enumerate() {
            let o = if i > 0 && (a.starts_with('0') || b.starts_with('0')) {
                // A fractional component: compared as digits after a decimal point.
                let (a, b) = (a.trim_end_matches('0'), b.trim_end_matches('0'));
                a.cmp(b)
            } else {
                cmp_digits(a, b)
            };
            if o.is_ne() {
                return o;
            }
        }
        self.numbers
            .len()
            .cmp(&other.numbers.len())
            .then_with(|| self.letter.cmp(&other.letter))
            .then_with(|| {
                let none = (0i8, String::new());
                for i in 0..self.suffixes.len().max(other.suffixes.len()) {
                    let a = self.suffixes.get(i).unwrap_or(&none);
                    let b = other.suffixes.get(i).unwrap_or(&none);
                    let o = a.0.cmp(&b.0).then_with(|| cmp_digits(&a.1, &b.1));
                    if o.is_ne() {
                        return o;
                    }
                }
                Ordering::Equal
            })
            .then_with(|| match (&self.revision, &other.revision) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_digits(a, b),
            })
    }
}

super::order_from_cmp!(AlpineVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> AlpineVersion {
        AlpineVersion::parse(s).unwrap()
    }

    #[test]
    fn apk_suffix_order() {
        // Alpine's APKBUILD reference: _alpha < _beta < _pre < _rc < release < _cvs < _svn < _git < _hg < _p.
        assert_ascending(
            &[
                "1.0_alpha",
                "1.0_alpha1",
                "1.0_beta",
                "1.0_pre1",
                "1.0_rc1",
                "1.0",
                "1.0_cvs",
                "1.0_svn",
                "1.0_git20200101",
                "1.0_hg",
                "1.0_p1",
                "1.0_p2",
            ]
            .map(v),
        );
    }

    #[test]
    fn apk_numbers_letters_revisions() {
        assert_ascending(
            &["1.0", "1.0-r0", "1.0-r1", "1.0-r10", "1.0a", "1.0b-r1", "1.0.1", "1.1", "1.10", "2"].map(v),
        );
        // apk-tools' test data: fractional components with leading zeros.
        assert!(v("1.01") < v("1.1"));
        assert!(v("0.1.0_p1") < v("0.1.1"));
        assert_eq!(v("1.2.3~abcdef-r1"), v("1.2.3-r1"));
        assert!(AlpineVersion::parse("1.0_bogus").is_err());
        assert!(AlpineVersion::parse("x").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(0u8..3, 1..4),
            prop::option::of(prop_oneof![Just('a'), Just('b')]),
            prop::collection::vec(
                (prop_oneof![Just("alpha"), Just("rc"), Just("p"), Just("git")], prop::option::of(0u8..3)),
                0..3,
            ),
            prop::option::of(0u8..3),
        )
            .prop_map(|(nums, letter, suffixes, rev)| {
                let mut s = nums.iter().map(u8::to_string).collect::<Vec<_>>().join(".");
                if let Some(l) = letter {
                    s.push(l);
                }
                for (name, n) in suffixes {
                    s.push('_');
                    s.push_str(name);
                    if let Some(n) = n {
                        s.push_str(&n.to_string());
                    }
                }
                if let Some(r) = rev {
                    s.push_str(&format!("-r{r}"));
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
