//! Debian's version order (Debian Policy §5.6.12, dpkg's `verrevcmp`):
//! `[epoch:]upstream[-revision]`; epochs compare numerically; upstream and revision compare
//! by alternating non-digit and digit runs, where in non-digit runs `~` sorts before
//! everything (even the end of the string), then letters, then other characters, and digit
//! runs compare numerically. Also used for Ubuntu.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct DebianVersion {
    epoch: u64,
    upstream: String,
    revision: String,
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

impl DebianVersion {
    pub fn parse(text: &str) -> Result<DebianVersion, String> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) => {
                let epoch = e.parse::<u64>().map_err(|_| format!("epoch `{e}` is not a number"))?;
                (epoch, rest)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("the upstream version must start with a digit".into());
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':');
        if !upstream.chars().all(allowed) || !revision.chars().all(|c| allowed(c) && c != '-' && c != ':') {
            return Err("only letters, digits and . + - ~ are allowed".into());
        }
        Ok(DebianVersion { epoch, upstream: upstream.to_owned(), revision: revision.to_owned() })
    }
}

impl Ord for DebianVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

super::order_from_cmp!(DebianVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> DebianVersion {
        DebianVersion::parse(s).unwrap()
    }

    #[test]
    fn debian_policy_tilde_example() {
        // Policy §5.6.12: "~~" < "~~a" < "~" < "" < "a".
        assert_ascending(&["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"].map(v));
    }

    #[test]
    fn epochs_revisions_and_numbers() {
        assert_ascending(&["1.0-1", "1.0-2", "1.0-10", "1.1-1", "2.0~rc1-1", "2.0-1", "1:0.1-1"].map(v));
        assert_eq!(v("1.0-01"), v("1.0-1"));
        assert_eq!(v("0:1.0"), v("1.0"));
        assert_ascending(&["2.36-9+deb12u3", "2.36-9+deb12u4", "2.36-9+deb12u10"].map(v));
        assert!(v("1.2.3") < v("1.2.3+dfsg"));
        assert!(DebianVersion::parse("a1.0").is_err());
        assert!(DebianVersion::parse("x:1.0").is_err());
    }

    fn version() -> impl Strategy<Value = String> {
        (prop::option::of(0u8..2), "[0-9][0-9a-z.~+]{0,5}", prop::option::of("[0-9a-z.~+]{1,4}")).prop_map(
            |(e, up, rev)| {
                let mut s = e.map(|e| format!("{e}:")).unwrap_or_default();
                s.push_str(&up);
                if let Some(r) = rev {
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
