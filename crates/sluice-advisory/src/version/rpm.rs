//! rpm's version order (rpm's `rpmvercmp` and `rpmVersionCompare`), used by the Red Hat
//! family (RHEL, Rocky Linux, AlmaLinux, Fedora, CentOS) and SUSE: `[epoch:]version[-release]`;
//! a missing epoch is 0; epochs compare numerically, then version, then release, each with
//! `rpmvercmp`:
//!
//! - the string is split into runs of ASCII letters and runs of ASCII digits; every other
//!   character only separates runs (`1.0`, `1_0` and `1+0` are equal);
//! - `~` sorts before anything, even the end of the string (`1.0~rc1` < `1.0`);
//! - `^` sorts after the end of the string but before anything else (`1.0` < `1.0^git1` <
//!   `1.0.1`);
//! - digit runs compare numerically (leading zeros ignored) and are newer than letter runs;
//!   letter runs compare as byte strings;
//! - when one string runs out first, the longer one is newer.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: u64,
    version: String,
    release: String,
}

/// A byte `rpmvercmp` skips: anything but ASCII letters, digits, `~` and `^`.
fn separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

/// rpm's `rpmvercmp` (lib/rpmvercmp.c), step for step.
fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    let at = |s: &[u8], k: usize| s.get(k).copied();
    while i < a.len() || j < b.len() {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        // Tilde: before anything.
        if at(a, i) == Some(b'~') || at(b, j) == Some(b'~') {
            if at(a, i) != Some(b'~') {
                return Ordering::Greater;
            }
            if at(b, j) != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret: after the end of the string, before anything else.
        if at(a, i) == Some(b'^') || at(b, j) == Some(b'^') {
            if i >= a.len() {
                return Ordering::Less;
            }
            if j >= b.len() {
                return Ordering::Greater;
            }
            if a[i] != b'^' {
                return Ordering::Greater;
            }
            if b[j] != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let run = |s: &[u8], start: usize| {
            let mut end = start;
            while end < s.len() && if numeric { s[end].is_ascii_digit() } else { s[end].is_ascii_alphabetic() } {
                end += 1;
            }
            end
        };
        let (ei, ej) = (run(a, i), run(b, j));
        // `a` starts a run of one kind and `b` has none of it: numbers are newer than letters.
        if ej == j {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let (mut sa, mut sb) = (&a[i..ei], &b[j..ej]);
        if numeric {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                longer => return longer,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = ei;
        j = ej;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

impl RpmVersion {
    /// Parses `[epoch:]version[-release]` (rpm's `rpmverParse`: the epoch is the digits before
    /// the first `:`, the release follows the last `-`).
    pub fn parse(text: &str) -> Result<RpmVersion, String> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) => {
                let epoch = if e.is_empty() {
                    0
                } else {
                    e.parse::<u64>().map_err(|_| format!("epoch `{e}` is not a number"))?
                };
                (epoch, rest)
            }
            None => (0, text),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, r),
            None => (rest, ""),
        };
        if version.is_empty() {
            return Err("the version is empty".into());
        }
        if text.chars().any(char::is_whitespace) {
            return Err("rpm versions contain no whitespace".into());
        }
        Ok(RpmVersion { epoch, version: version.to_owned(), release: release.to_owned() })
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(self.version.as_bytes(), other.version.as_bytes()))
            .then_with(|| rpmvercmp(self.release.as_bytes(), other.release.as_bytes()))
    }
}

super::order_from_cmp!(RpmVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> RpmVersion {
        RpmVersion::parse(s).unwrap()
    }

    /// rpm's own expectations: tests/rpmvercmp.at (`RPMVERCMP(a, b, result)`); every row was
    /// also checked with rpm 4.18's `rpm --eval '%{lua: print(rpm.vercmp("a", "b"))}'`.
    const RPMVERCMP_AT: &[(&str, &str, i8)] = &[
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0", "1.0", 1),
        ("2.0.1", "2.0.1", 0),
        ("2.0", "2.0.1", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1a", 0),
        ("2.0.1a", "2.0.1", 1),
        ("2.0.1", "2.0.1a", -1),
        ("5.5p1", "5.5p1", 0),
        ("5.5p1", "5.5p2", -1),
        ("5.5p2", "5.5p1", 1),
        ("5.5p10", "5.5p10", 0),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("10.1xyz", "10xyz", 1),
        ("xyz10", "xyz10", 0),
        ("xyz10", "xyz10.1", -1),
        ("xyz10.1", "xyz10", 1),
        ("xyz.4", "xyz.4", 0),
        ("xyz.4", "8", -1),
        ("8", "xyz.4", 1),
        ("xyz.4", "2", -1),
        ("2", "xyz.4", 1),
        ("5.5p2", "5.6p1", -1),
        ("5.6p1", "5.5p2", 1),
        ("5.6p1", "6.5p1", -1),
        ("6.5p1", "5.6p1", 1),
        ("6.0.rc1", "6.0", 1),
        ("6.0", "6.0.rc1", -1),
        ("10b2", "10a1", 1),
        ("10a2", "10b2", -1),
        ("1.0aa", "1.0aa", 0),
        ("1.0a", "1.0aa", -1),
        ("1.0aa", "1.0a", 1),
        ("10.0001", "10.0001", 0),
        ("10.0001", "10.1", 0),
        ("10.1", "10.0001", 0),
        ("10.0001", "10.0039", -1),
        ("10.0039", "10.0001", 1),
        ("4.999.9", "5.0", -1),
        ("5.0", "4.999.9", 1),
        ("20101121", "20101121", 0),
        ("20101121", "20101122", -1),
        ("20101122", "20101121", 1),
        ("2_0", "2_0", 0),
        ("2.0", "2_0", 0),
        ("2_0", "2.0", 0),
        ("a", "a", 0),
        ("a+", "a+", 0),
        ("a+", "a_", 0),
        ("a_", "a+", 0),
        ("+a", "+a", 0),
        ("+a", "_a", 0),
        ("_a", "+a", 0),
        ("+_", "+_", 0),
        ("_+", "+_", 0),
        ("_+", "_", 0),
        ("+", "_", 0),
        ("1.0~rc1", "1.0~rc1", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc2", "1.0~rc1", 1),
        ("1.0~rc1~git123", "1.0~rc1~git123", 0),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0~rc1", "1.0~rc1~git123", 1),
        ("1.0^", "1.0^", 0),
        ("1.0^", "1.0", 1),
        ("1.0", "1.0^", -1),
        ("1.0^git1", "1.0^git1", 0),
        ("1.0^git1", "1.0", 1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git2", "1.0^git1", 1),
        ("1.0^git1", "1.01", -1),
        ("1.01", "1.0^git1", 1),
        ("1.0^20160101", "1.0^20160101", 0),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0.1", "1.0^20160101", 1),
        ("1.0^20160101^git1", "1.0^20160101^git1", 0),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0^20160101^git1", "1.0^20160102", -1),
        ("1.0~rc1^git1", "1.0~rc1^git1", 0),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc1^git1", -1),
        ("1.0^git1~pre", "1.0^git1~pre", 0),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
    ];

    #[test]
    fn rpm_test_suite_rpmvercmp_at() {
        for (a, b, want) in RPMVERCMP_AT {
            let got = rpmvercmp(a.as_bytes(), b.as_bytes());
            assert_eq!(got, want.cmp(&0), "rpmvercmp({a}, {b})");
        }
    }

    #[test]
    fn epoch_version_release() {
        // The epoch wins over everything; a missing epoch is 0.
        assert_ascending(&["1.0-1.el9", "1.0-2.el9", "1.0-10.el9", "1.1-1.el9", "1:0.1-1.el9"].map(v));
        assert_eq!(v("0:1.0-1"), v("1.0-1"));
        // Real RHEL 9 errata versions.
        assert_ascending(&["1:3.0.7-24.el9", "1:3.0.7-25.el9_3", "1:3.0.7-27.el9", "1:3.0.7-27.el9_4.1"].map(v));
        assert!(v("2.34-83.el9_3.7") < v("2.34-83.el9_3.12"));
        assert!(v("1.0~rc1-1") < v("1.0-1"));
        assert!(RpmVersion::parse("x:1.0").is_err());
        assert!(RpmVersion::parse("").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (prop::option::of(0u8..2), "[0-9a-z.~^_]{1,6}", prop::option::of("[0-9a-z.~^_]{1,4}")).prop_map(
            |(e, ver, rel)| {
                let mut s = e.map(|e| format!("{e}:")).unwrap_or_default();
                s.push_str(&ver);
                if let Some(r) = rel {
                    s.push('-');
                    s.push_str(&r);
                }
                s
            },
        )
    }

    proptest! {
        #[test]
        fn total_order(a in version(), b in version(), c in version()) {
            check_total_order(&v(&a), &v(&b), &v(&c));
        }
    }
}
