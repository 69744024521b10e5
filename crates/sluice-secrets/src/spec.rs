//! The serialized form of a rule: the embedded `rules/*.toml` files and user rules from
//! `sluice.toml` share this type, so it is a compatibility promise. Nothing here is compiled;
//! `engine` turns specs into matchers.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// One detection rule as written in a rule file.
///
/// ```toml
/// [[rule]]
/// id = "github-pat-classic"
/// name = "GitHub personal access token (classic)"
/// description = "…"
/// help = "…"
/// severity = 9.0
/// keywords = ["ghp_"]
/// regex = '''\b(?P<secret>ghp_[A-Za-z0-9]{36})\b'''
/// validators = ["github-crc32"]
/// examples.positive = ["…"]
/// examples.negative = ["…"]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable kebab-case identifier; it is part of every finding's fingerprint.
    pub id: String,
    /// Short human name (SARIF `shortDescription`).
    pub name: String,
    /// What the credential is and why a leak matters (SARIF `fullDescription`).
    #[serde(default)]
    pub description: String,
    /// How to revoke and rotate the credential; markdown.
    #[serde(default)]
    pub help: String,
    /// GitHub's 0–10 `security-severity`.
    pub severity: f32,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Literal strings, matched ASCII-case-insensitively, one of which must occur in the match
    /// or at most a few hundred bytes before it on the same line. A rule without keywords runs
    /// on every file, which is slow: keep such rules rare.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A `regex` crate pattern over bytes, Unicode classes off. The secret is the group named
    /// `secret`, else the first group that took part in the match, else the whole match.
    /// `{assign}` stands for a name-to-value separator in any of the forms code, configuration
    /// and prose use (`=`, `:`, `=>`, `"key"] =`, `("KEY", `, "`KEY` to `…`"; see
    /// `engine::ASSIGN`).
    pub regex: String,
    /// Minimum Shannon entropy, in bits per byte, of the secret.
    #[serde(default)]
    pub min_entropy: Option<f32>,
    #[serde(default)]
    pub validators: Vec<Validator>,
    /// Shapes that the shared false-positive filters drop but this rule's secrets legitimately
    /// have (a Heroku key is a UUID; an OpenSSH key has long runs of `A`).
    #[serde(default)]
    pub accepts: Vec<Shape>,
    /// Lowercase words that, in the match before the secret (usually the variable name),
    /// mark the value as something else: `next` in `NextToken`, `csrf` in `csrf_token`.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// The match may span lines (PEM blocks); the search window then ignores line ends.
    #[serde(default)]
    pub multiline: bool,
    #[serde(default)]
    pub examples: Examples,
}

/// Snippets the test suite runs the rule against: every positive must yield exactly one
/// finding of this rule, no negative may yield any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

/// Structural checks on a candidate secret beyond what a regex can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Validator {
    /// GitHub (and npm) tokens: the last 6 characters are the base62 CRC32 of the payload
    /// between the 4-character prefix and the checksum.
    GithubCrc32,
    /// Three base64url parts whose header decodes to a JSON object with an `alg` member.
    Jwt,
    /// Standard base64 that decodes to printable `user:password`.
    Base64UserPass,
    /// Has both an upper- and a lowercase ASCII letter.
    MixedCase,
    /// Has both an ASCII letter and a digit.
    LetterAndDigit,
    /// The value of a generic `password = "…"` assignment: not an identifier, a path, a
    /// format string, a version, a hash digest or a common placeholder word.
    CredentialLike,
}

/// Secret shapes that are dropped by default because they are usually not secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Shape {
    /// `8-4-4-4-12` hex.
    Uuid,
    /// Exactly 40 hex digits, the shape of a git commit id or a SHA-1.
    Hex40,
    /// Runs of five or more identical characters.
    Repeats,
}

/// A rule file: `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleSpec>,
}

/// A rule spec together with the family (file stem) it came from.
#[derive(Debug, Clone)]
pub(crate) struct FamilySpec {
    pub(crate) family: &'static str,
    pub(crate) spec: RuleSpec,
}

/// The rule files compiled into the binary, by family. Adding a file here is all it takes to
/// ship a new family; the test suite then runs its examples.
const EMBEDDED: &[(&str, &str)] = &[
    ("cloud", include_str!("../rules/cloud.toml")),
    ("vcs", include_str!("../rules/vcs.toml")),
    ("ci", include_str!("../rules/ci.toml")),
    ("chat", include_str!("../rules/chat.toml")),
    ("email", include_str!("../rules/email.toml")),
    ("payment", include_str!("../rules/payment.toml")),
    ("ai", include_str!("../rules/ai.toml")),
    ("registries", include_str!("../rules/registries.toml")),
    ("observability", include_str!("../rules/observability.toml")),
    ("saas", include_str!("../rules/saas.toml")),
    // After the provider families: on a tie over the same bytes the earlier rule wins, and a
    // provider's password format (`AVNS_…` in a URI) says more than the URI scheme.
    ("databases", include_str!("../rules/databases.toml")),
    ("keys", include_str!("../rules/keys.toml")),
    ("generic", include_str!("../rules/generic.toml")),
];

/// Parsed once per process. A parse error is a bug in a shipped file (the test suite parses
/// them all), but it still surfaces as an error rather than a panic.
static EMBEDDED_SPECS: LazyLock<Result<Vec<FamilySpec>, String>> = LazyLock::new(|| {
    let mut all = Vec::new();
    for (family, text) in EMBEDDED {
        let file: RuleFile = toml::from_str(text).map_err(|e| format!("rules/{family}.toml: {e}"))?;
        all.extend(file.rule.into_iter().map(|spec| FamilySpec { family, spec }));
    }
    Ok(all)
});

pub(crate) fn embedded() -> Result<&'static [FamilySpec], String> {
    EMBEDDED_SPECS.as_deref().map_err(Clone::clone)
}

/// Family of rules that match on naming conventions rather than a provider's token format.
pub(crate) const GENERIC_FAMILY: &str = "generic";
/// Family given to rules from the user's configuration.
pub(crate) const CUSTOM_FAMILY: &str = "custom";
