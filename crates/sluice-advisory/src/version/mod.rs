//! Version ordering, one module per scheme, each as its ecosystem documents it.
//!
//! An advisory range is only as exact as the ordering it is evaluated with: `1.0.0-rc.1` is
//! older than `1.0.0` in semver but `1.0rc1` and `1.0-rc1` mean different things in Maven and
//! RubyGems. Each scheme parses a version into a key whose `Ord` is the ecosystem's order;
//! keys of different schemes are never compared.

/// `PartialOrd`, `PartialEq` and `Eq` from a scheme's `Ord`: equality is the scheme's own
/// (`1.0` = `1.0.0` on PyPI), never the derived field-by-field one.
macro_rules! order_from_cmp {
    ($t:ty) => {
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }

        impl Eq for $t {}
    };
}
use order_from_cmp;

mod alpine;
mod composer;
mod debian;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

use std::cmp::Ordering;

use sluice_inventory::Ecosystem;

pub use self::alpine::AlpineVersion;
pub use self::composer::ComposerVersion;
pub use self::debian::DebianVersion;
pub use self::maven::MavenVersion;
pub use self::nuget::NugetVersion;
pub use self::pep440::Pep440Version;
pub use self::rpm::RpmVersion;
pub use self::rubygems::GemVersion;
pub use self::semver::SemverVersion;

/// A version ordering scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Semantic Versioning 2.0.0 precedence (crates.io, npm, Go, and every OSV `SEMVER` range).
    Semver,
    Pep440,
    Maven,
    RubyGems,
    NuGet,
    Composer,
    Debian,
    Alpine,
    /// rpm's `rpmvercmp` with epoch and release (the Red Hat family, SUSE).
    Rpm,
}

impl Scheme {
    /// The ordering an ecosystem's `ECOSYSTEM` ranges use; `None` where sluice has none.
    pub fn for_ecosystem(ecosystem: Ecosystem) -> Option<Scheme> {
        Some(match ecosystem {
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go => Scheme::Semver,
            Ecosystem::PyPI => Scheme::Pep440,
            Ecosystem::Maven => Scheme::Maven,
            Ecosystem::RubyGems => Scheme::RubyGems,
            Ecosystem::NuGet => Scheme::NuGet,
            Ecosystem::Packagist => Scheme::Composer,
            Ecosystem::Debian | Ecosystem::Ubuntu => Scheme::Debian,
            Ecosystem::Alpine => Scheme::Alpine,
            Ecosystem::Rpm => Scheme::Rpm,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Semver => "semver",
            Scheme::Pep440 => "PEP 440",
            Scheme::Maven => "Maven",
            Scheme::RubyGems => "RubyGems",
            Scheme::NuGet => "NuGet",
            Scheme::Composer => "Composer",
            Scheme::Debian => "Debian",
            Scheme::Alpine => "Alpine",
            Scheme::Rpm => "rpm",
        }
    }

    /// Parses `text` as a version of this scheme.
    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        let err = |reason: String| VersionError { scheme: self, version: text.to_owned(), reason };
        Ok(match self {
            Scheme::Semver => Version::Semver(SemverVersion::parse(text).map_err(err)?),
            Scheme::Pep440 => Version::Pep440(Pep440Version::parse(text).map_err(err)?),
            Scheme::Maven => Version::Maven(MavenVersion::parse(text).map_err(err)?),
            Scheme::RubyGems => Version::RubyGems(GemVersion::parse(text).map_err(err)?),
            Scheme::NuGet => Version::NuGet(NugetVersion::parse(text).map_err(err)?),
            Scheme::Composer => Version::Composer(ComposerVersion::parse(text).map_err(err)?),
            Scheme::Debian => Version::Debian(DebianVersion::parse(text).map_err(err)?),
            Scheme::Alpine => Version::Alpine(AlpineVersion::parse(text).map_err(err)?),
            Scheme::Rpm => Version::Rpm(RpmVersion::parse(text).map_err(err)?),
        })
    }

    /// Compares two version strings; `None` when either does not parse.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        let (a, b) = (self.parse(a).ok()?, self.parse(b).ok()?);
        a.partial_cmp(&b)
    }
}

/// A parsed version. Versions of different schemes are unordered (`partial_cmp` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Semver(SemverVersion),
    Pep440(Pep440Version),
    Maven(MavenVersion),
    RubyGems(GemVersion),
    NuGet(NugetVersion),
    Composer(ComposerVersion),
    Debian(DebianVersion),
    Alpine(AlpineVersion),
    Rpm(RpmVersion),
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        use Version as V;
        Some(match (self, other) {
            (V::Semver(a), V::Semver(b)) => a.cmp(b),
            (V::Pep440(a), V::Pep440(b)) => a.cmp(b),
            (V::Maven(a), V::Maven(b)) => a.cmp(b),
            (V::RubyGems(a), V::RubyGems(b)) => a.cmp(b),
            (V::NuGet(a), V::NuGet(b)) => a.cmp(b),
            (V::Composer(a), V::Composer(b)) => a.cmp(b),
            (V::Debian(a), V::Debian(b)) => a.cmp(b),
            (V::Alpine(a), V::Alpine(b)) => a.cmp(b),
            (V::Rpm(a), V::Rpm(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

/// A version string the scheme cannot order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{version}` is not a valid {} version: {reason}", scheme.name())]
pub struct VersionError {
    pub scheme: Scheme,
    pub version: String,
    pub reason: String,
}

/// Shared property checks: every scheme's order must be a total order consistent with its
/// equality, on versions generated from the characters the scheme accepts.
#[cfg(test)]
pub(crate) mod order_props {
    use std::cmp::Ordering;

    pub fn check_total_order<T: Ord + Eq + std::fmt::Debug>(a: &T, b: &T, c: &T) {
        // Antisymmetry.
        assert_eq!(a.cmp(b), b.cmp(a).reverse(), "antisymmetry: {a:?} vs {b:?}");
        // Consistency with equality.
        assert_eq!(a.cmp(b) == Ordering::Equal, a == b, "cmp/eq agree: {a:?} vs {b:?}");
        assert_eq!(a.cmp(a), Ordering::Equal);
        // Transitivity.
        if a <= b && b <= c {
            assert!(a <= c, "transitivity: {a:?} <= {b:?} <= {c:?}");
        }
        if a == b {
            assert_eq!(a.cmp(c), b.cmp(c), "equal versions compare alike: {a:?} {b:?} {c:?}");
        }
    }

    proptest::proptest! {
        /// Hostile input: every scheme parses and compares any string without panicking, and
        /// the record parsers return errors rather than panic.
        #[test]
        fn arbitrary_strings_never_panic(a in "\\PC{0,24}", b in "[0-9a-zA-Z.+~_:-]{0,16}") {
            for scheme in [super::Scheme::Semver, super::Scheme::Pep440, super::Scheme::Maven, super::Scheme::RubyGems,
                           super::Scheme::NuGet, super::Scheme::Composer, super::Scheme::Debian, super::Scheme::Alpine,
                           super::Scheme::Rpm] {
                let _ = scheme.compare(&a, &b);
                let _ = scheme.compare(&b, &b);
            }
            let _ = crate::parse_rustsec(&format!("```toml\n[advisory]\nid = \"X\"\npackage = \"p\"\n[versions]\npatched = [\"{b}\"]\n```\n"));
            let _ = crate::parse_osv_yaml(&a);
            let _ = crate::parse_osv_json(a.as_bytes());
        }
    }

    /// Asserts that `versions` are in strictly increasing order.
    pub fn assert_ascending<T: Ord + std::fmt::Debug>(versions: &[T]) {
        for pair in versions.windows(2) {
            assert!(pair[0] < pair[1], "expected {:?} < {:?}", pair[0], pair[1]);
        }
    }
}
