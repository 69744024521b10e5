//! Composer (Packagist) order: PHP's `version_compare` on Composer-normalized versions.
//!
//! Composer normalizes `v1.2` to `1.2.0.0` (a leading `v` dropped, the numeric part padded
//! to four components) and compares with PHP's `version_compare`: the string is
//! canonicalized (`-`, `_`, `+` and any other non-alphanumeric become `.`, and a `.` is put
//! between digits and letters: `1.0rc1` → `1.0.rc.1`), then parts compare pairwise —
//! numbers numerically, words by their special form (`dev` < `alpha` = `a` < `beta` = `b` <
//! `RC` = `rc` < a number < `pl` = `p`; a word matches a form by prefix, unknown words rank
//! below `dev`), and a number ranks as `#`. When one version runs out, the first extra part
//! decides: a number makes the longer newer, a word ranks against `#`.
//!
//! A part is turned into a key with that order, and a missing part into the key of `#` that
//! is older than every number, which is exactly `version_compare`'s rule for extra parts.

use std::cmp::Ordering;

/// (rank, is-number, number length, digits): missing = (4, 0, ..), number = (4, 1, ..).
type Part = (i8, u8, usize, String);

const MISSING: Part = (4, 0, 0, String::new());

fn special_rank(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS.iter().find(|(name, _)| word.starts_with(name)).map_or(-1, |(_, rank)| *rank)
}

/// PHP's `php_canonicalize_version`.
fn canonicalize(version: &str) -> String {
    let mut out = String::with_capacity(version.len() * 2);
    let mut chars = version.chars();
    let Some(first) = chars.next() else { return out };
    out.push(first);
    let mut last = first;
    let is_ndig = |c: char| !c.is_ascii_digit() && c != '.';
    for c in chars {
        let prev_out = out.chars().last();
        if matches!(c, '-' | '_' | '+') {
            if prev_out != Some('.') {
                out.push('.');
            }
        } else if (is_ndig(last) && c.is_ascii_digit()) || (last.is_ascii_digit() && is_ndig(c)) {
            if prev_out != Some('.') {
                out.push('.');
            }
            out.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if prev_out != Some('.') {
                out.push('.');
            }
        } else {
            out.push(c);
        }
        last = c;
    }
    out
}

#[derive(Debug, Clone)]
pub struct ComposerVersion {
    parts: Vec<Part>,
}

impl ComposerVersion {
    pub fn parse(text: &str) -> Result<ComposerVersion, String> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        if text.is_empty() || !text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("a version starts with a digit (branches such as dev-main have no order)".into());
        }
        // Composer's normalization: the leading numeric components padded to four.
        let numeric_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let numeric = text[..numeric_end].trim_end_matches('.');
        let count = numeric.split('.').count();
        let padded = if count < 4 && numeric.split('.').all(|p| !p.is_empty()) {
            format!("{numeric}{}{}", ".0".repeat(4 - count), &text[numeric.len()..])
        } else {
            text.to_owned()
        };
        let parts = canonicalize(&padded)
            .split('.')
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    let digits = p.trim_start_matches('0');
                    (4, 1, digits.len(), digits.to_owned())
                } else {
                    (special_rank(p), 0, 0, String::new())
                }
            })
            .collect();
        Ok(ComposerVersion { parts })
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let missing = MISSING;
        for i in 0..self.parts.len().max(other.parts.len()) {
            let a = self.parts.get(i).unwrap_or(&missing);
            let b = other.parts.get(i).unwrap_or(&missing);
            let o = a.cmp(b);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }
}

super::order_from_cmp!(ComposerVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> ComposerVersion {
        ComposerVersion::parse(s).unwrap()
    }

    #[test]
    fn php_version_compare_documented_order() {
        // php.net version_compare: "dev" < "alpha" = "a" < "beta" = "b" < "RC" = "rc" < "#" < "pl" = "p".
        assert_ascending(
            &[
                "1.0.0-dev",
                "1.0.0-alpha1",
                "1.0.0-alpha2",
                "1.0.0-beta1",
                "1.0.0-RC1",
                "1.0.0-RC2",
                "1.0.0",
                "1.0.0-pl1",
                "1.0.1",
                "1.1",
            ]
            .map(v),
        );
        assert_eq!(v("1.0.0-a1"), v("1.0.0-alpha1"));
        assert_eq!(v("1.0.0-rc1"), v("1.0.0RC1"));
        assert_eq!(v("1.0.0-p1"), v("1.0.0-patch1"));
    }

    #[test]
    fn composer_normalization() {
        assert_eq!(v("v1.2"), v("1.2.0.0"));
        assert_eq!(v("1"), v("1.0.0"));
        assert!(v("5.4.0") < v("5.4.10"));
        assert!(v("1.0.0-foo") < v("1.0.0-dev"), "unknown words rank below dev");
        assert!(ComposerVersion::parse("dev-main").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(0u8..3, 1..4),
            prop::collection::vec(
                prop_oneof![
                    Just("dev"),
                    Just("alpha"),
                    Just("a"),
                    Just("beta"),
                    Just("RC"),
                    Just("p"),
                    Just("x"),
                    Just("1"),
                    Just("2")
                ],
                0..3,
            ),
        )
            .prop_map(|(nums, suffixes)| {
                let mut s = nums.iter().map(u8::to_string).collect::<Vec<_>>().join(".");
                for suffix in suffixes {
                    s.push('-');
                    s.push_str(suffix);
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
