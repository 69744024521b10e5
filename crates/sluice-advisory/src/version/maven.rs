//! Maven's version order: a port of `org.apache.maven.artifact.versioning.ComparableVersion`
//! (the Maven 3.6–3.8 algorithm, which Maven resolves ranges with and the "Version Order
//! Specification" of the POM reference describes).
//!
//! A version is split on `.`, `-` and every digit/letter transition into a tree of items:
//! integers, qualifiers and sub-lists (a `-` or a transition opens a sub-list). Qualifiers
//! order `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < `` = `ga` = `final` =
//! `release` < `sp`, unknown qualifiers after those, alphabetically; `a1`, `b1` and `m1` are
//! `alpha-1`, `beta-1`, `milestone-1`. Trailing "null" items (`0`, ``, `ga`) are dropped, so
//! `1` = `1.0` = `1.0.0` = `1-ga`. Written here because no maintained crate implements it.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Item {
    /// Decimal digits without leading zeros (`0` is the empty string).
    Int(String),
    /// The qualifier's comparable form: its rank as a digit, or `7-<qualifier>`.
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The rank of ``, the release itself.
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    let q = match q {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(text: &str, followed_by_digit: bool) -> Item {
    let text = match (followed_by_digit, text) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, other) => other,
    };
    Item::Str(comparable_qualifier(text))
}

fn int_item(digits: &str) -> Item {
    Item::Int(digits.trim_start_matches('0').to_owned())
}

fn parse_item(is_digit: bool, text: &str) -> Item {
    if is_digit {
        int_item(text)
    } else {
        string_item(text, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s == RELEASE_INDEX,
            Item::List(l) => l.is_empty(),
        }
    }

    /// `ComparableVersion`'s `compareTo`, with `None` for Java's `null` (a missing item).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => s.as_str().cmp(RELEASE_INDEX),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => a.cmp(b),
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            (Item::List(items), None) => {
                items.iter().map(|i| i.compare(None)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            }
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => {
                for i in 0..a.len().max(b.len()) {
                    let result = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if result.is_ne() {
                        return result;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Drops trailing null items, looking past non-null sub-lists (as `ListItem.normalize`).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Builds the item tree. The Java code keeps a stack of open lists; here the stack holds the
/// lists being filled, and closing one appends it to its parent.
fn parse_items(version: &str) -> Vec<Item> {
    let version = version.to_lowercase();
    let chars: Vec<(usize, char)> = version.char_indices().collect();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0usize;
    let top = |stack: &mut Vec<Vec<Item>>| -> usize { stack.len() - 1 };
    for &(i, c) in &chars {
        if c == '.' || c == '-' {
            let t = top(&mut stack);
            if i == start {
                stack[t].push(Item::Int(String::new()));
            } else {
                stack[t].push(parse_item(is_digit, &version[start..i]));
            }
            start = i + c.len_utf8();
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                let t = top(&mut stack);
                stack[t].push(string_item(&version[start..i], true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                let t = top(&mut stack);
                stack[t].push(parse_item(true, &version[start..i]));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        let t = top(&mut stack);
        stack[t].push(parse_item(is_digit, &version[start..]));
    }
    // Close the open lists innermost first, normalizing each as the Java code does.
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        let t = top(&mut stack);
        stack[t].push(Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// A Maven version ordered as `ComparableVersion`.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    items: Item,
}

impl MavenVersion {
    pub fn parse(text: &str) -> Result<MavenVersion, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty version".into());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains whitespace or control characters".into());
        }
        Ok(MavenVersion { items: Item::List(parse_items(text)) })
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.items.compare(Some(&other.items))
    }
}

super::order_from_cmp!(MavenVersion);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::order_props::{assert_ascending, check_total_order};
    use proptest::prelude::*;

    fn v(s: &str) -> MavenVersion {
        MavenVersion::parse(s).unwrap()
    }

    #[test]
    fn comparable_version_test_qualifiers() {
        // Maven's ComparableVersionTest.VERSIONS_QUALIFIER.
        let order = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ];
        assert_ascending(&order.map(v));
    }

    #[test]
    fn comparable_version_test_numbers() {
        // Maven's ComparableVersionTest.VERSIONS_NUMBER.
        let order = [
            "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b",
            "11c", "11m",
        ];
        assert_ascending(&order.map(v));
    }

    #[test]
    fn comparable_version_test_equal() {
        // Maven's ComparableVersionTest.testVersionsEqual (a selection).
        for group in [
            &["1", "1.0", "1.0.0", "1-0", "1.0-0", "1-ga", "1-GA", "1-final", "1-release", "1.0-ga"][..],
            &["1a1", "1-a1", "1-alpha-1", "1alpha1"],
            &["1b2", "1-b2", "1-beta-2", "1beta2"],
            &["1m3", "1-m3", "1-milestone-3", "1milestone3"],
            &["1rc4", "1-rc-4", "1-cr-4", "1cr4"],
            &["1x", "1-x", "1.0.0-x"],
        ] {
            for pair in group.windows(2) {
                assert_eq!(v(pair[0]), v(pair[1]), "{} = {}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn log4j_versions() {
        assert_ascending(&["2.0-beta9", "2.0-rc1", "2.0", "2.14.1", "2.15.0", "2.16.0", "2.17.1"].map(v));
        assert!(MavenVersion::parse("").is_err());
    }

    /// Maven's own order is not transitive when a qualifier follows a `.`: `1.a` < `1-alpha`
    /// < `1` but `1.a` > `1` (ComparableVersion compares a string item against a sub-list and
    /// against nothing inconsistently). That is Maven's behaviour, kept for exactness; the
    /// property is checked on the shapes real releases use: qualifiers after `-` or directly
    /// after digits, numbers after `.` or `-`. A zero after `-` is left out too: Maven drops it
    /// and nests what follows (`1-0-beta` → `[1, [[beta]]]`), which is again not transitive
    /// (`1-ga` < `1-a` < `1-0-beta` < `1`; checked with Maven 3.8.7's ComparableVersion), and
    /// so is a release qualifier (`ga`, `final`) that does not end the version (`1-ga-beta`).
    fn version() -> impl Strategy<Value = String> {
        let qualifier = prop_oneof![
            Just("alpha"),
            Just("a"),
            Just("beta"),
            Just("rc"),
            Just("cr"),
            Just("snapshot"),
            Just("ga"),
            Just("final"),
            Just("sp"),
            Just("foo"),
        ];
        let part = prop_oneof![
            "[0-9]{1,2}".prop_map(|n| format!(".{n}")),
            "[1-9][0-9]?".prop_map(|n| format!("-{n}")),
            (prop_oneof![Just("-"), Just("")], qualifier).prop_map(|(sep, q)| format!("{sep}{q}")),
        ];
        // A release qualifier (`ga`, `final`) is dropped like a zero, so it only ends a version.
        prop::collection::vec(part, 1..5).prop_map(|parts| {
            let last = parts.len() - 1;
            let kept: Vec<String> = parts
                .into_iter()
                .enumerate()
                .filter(|(i, p)| *i == last || !(p.ends_with("ga") || p.ends_with("final")))
                .map(|(_, p)| p)
                .collect();
            format!("1{}", kept.concat())
        })
    }

    #[test]
    fn maven_is_not_transitive_after_a_dropped_zero() {
        // What Maven 3.8.7's ComparableVersion prints for these four (see `version`).
        assert!(v("1-ga") < v("1-a") && v("1-a") < v("1-0-beta") && v("1-0-beta") < v("1"));
        assert!(v("1-ga") == v("1"));
        assert!(v("1-alphaalpha") < v("1-ga-beta") && v("1-ga-beta") < v("1") && v("1") < v("1-alphaalpha"));
    }

    #[test]
    fn maven_is_not_transitive_after_a_dot() {
        // Documents the quirk the generator avoids (see `version`).
        assert!(v("1.a") < v("1-alpha") && v("1-alpha") < v("1") && v("1.a") > v("1"));
    }

    proptest! {
        #[test]
        fn total_order(a in version(), b in version(), c in version()) {
            check_total_order(&v(&a), &v(&b), &v(&c));
        }
    }
}
