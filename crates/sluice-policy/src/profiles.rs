//! The built-in profiles, embedded: Rego sources with their unit tests.

use crate::policy::Source;

/// Built-in profile names, in the order `sluice plan --help` lists them.
pub const PROFILES: &[&str] = &["constrained", "velocity"];

const LIB: (&str, &str) = ("builtin/lib.rego", include_str!("../policies/lib.rego"));
const LIB_TEST: (&str, &str) = ("builtin/lib_test.rego", include_str!("../policies/lib_test.rego"));
const CONSTRAINED: (&str, &str) = ("builtin/constrained.rego", include_str!("../policies/constrained.rego"));
const CONSTRAINED_TEST: (&str, &str) =
    ("builtin/constrained_test.rego", include_str!("../policies/constrained_test.rego"));
const VELOCITY: (&str, &str) = ("builtin/velocity.rego", include_str!("../policies/velocity.rego"));
const VELOCITY_TEST: (&str, &str) = ("builtin/velocity_test.rego", include_str!("../policies/velocity_test.rego"));

/// The modules of a profile (its own and the shared library), optionally with their tests.
pub fn sources(name: &str, with_tests: bool) -> Option<Vec<Source>> {
    let (main, test) = match name {
        "constrained" => (CONSTRAINED, CONSTRAINED_TEST),
        "velocity" => (VELOCITY, VELOCITY_TEST),
        _ => return None,
    };
    let mut files = vec![LIB, main];
    if with_tests {
        files.extend([LIB_TEST, test]);
    }
    Some(files.into_iter().map(|(path, text)| Source { path: path.to_owned(), text: text.to_owned() }).collect())
}

/// Every built-in module once: the library and both profiles (and their tests).
pub fn all_sources(with_tests: bool) -> Vec<Source> {
    let mut files = vec![LIB, CONSTRAINED, VELOCITY];
    if with_tests {
        files.extend([LIB_TEST, CONSTRAINED_TEST, VELOCITY_TEST]);
    }
    files.into_iter().map(|(path, text)| Source { path: path.to_owned(), text: text.to_owned() }).collect()
}

/// The package a profile's decisions live in (`data.sluice.<name>`).
pub fn package(name: &str) -> String {
    format!("sluice.{name}")
}
