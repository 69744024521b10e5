//! The serialized form of a rule: an ast-grep rule (YAML, one rule per document) whose
//! `metadata` holds sluice's part. Embedded packs and users' rule directories share it, so it
//! is a compatibility promise: any ast-grep rule loads, and sluice's keys live where ast-grep
//! allows free-form data.
//!
//! ```yaml
//! id: python.eval-injection
//! language: python
//! severity: error                 # error | warning | info | hint | off (ast-grep's)
//! message: "`$FN` evaluates a string that is not a constant"
//! note: |                         # help: how to fix, markdown
//!   Parse the value instead (`ast.literal_eval`, `json.loads`) …
//! rule:
//!   pattern: $FN($CODE, $$$)
//! metadata:
//!   title: Code injection through eval      # SARIF shortDescription
//!   description: …                          # SARIF fullDescription
//!   cwe: [CWE-95]
//!   owasp: ["A03:2021 Injection"]
//!   precision: high                         # very-high | high | medium | low
//!   security-severity: 8.8                  # GitHub's 0–10 score
//!   tags: [injection]
//!   semantic:                               # checks ast-grep cannot express
//!     FN: { resolves-to: [eval, builtins.eval] }  # the callee's canonical name after imports
//!     CODE: { literal: false }              # not built only from constants
//!     # or: X: { tainted-by: [web-input] }    # holds request data, maybe through variables
//!   examples:
//!     positive: ["eval(request.args['x'])"]
//!     negative: ["eval('1 + 2')"]
//! ```

use std::collections::BTreeMap;

use ast_grep_config::SerializableRuleConfig;
use ast_grep_language::SupportLang;
use serde::Deserialize;

/// sluice's view of one YAML document. Read separately from ast-grep's, which keeps its
/// `metadata` opaque.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DocSpec {
    pub id: String,
    #[serde(default)]
    pub message: String,
    pub note: Option<String>,
    pub url: Option<String>,
    #[serde(default)]
    pub metadata: Meta,
}

/// The keys sluice reads from a rule's `metadata`. Other keys are the user's and are kept out
/// of sluice's way (no `deny_unknown_fields`: `metadata` is a free-form bag in ast-grep); the
/// embedded packs are checked strictly by the test suite instead.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Meta {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub cwe: OneOrMany,
    #[serde(default)]
    pub owasp: OneOrMany,
    pub precision: Option<String>,
    pub security_severity: Option<f64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub semantic: BTreeMap<String, VarSemantic>,
    #[serde(default)]
    pub examples: Examples,
}

/// Checks on what a meta-variable matched, beyond syntax. They apply where the variable
/// matched something: a variable bound in only one branch of an `any` leaves the others
/// unconstrained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct VarSemantic {
    /// The matched expression, with imports and aliases resolved (`from hashlib import md5 as
    /// h; h` is `hashlib.md5`), must be one of these dotted names. A name ending in `.*`
    /// matches every member below it.
    #[serde(default)]
    pub resolves_to: Vec<String>,
    /// `false`: the match must not be built only from literals and constants (an injection
    /// sink given a constant string is not an injection). `true`: it must be.
    pub literal: Option<bool>,
    /// The match must contain data from one of these sources: a name whose canonical form
    /// is or starts with one of them (`flask.request.args`), directly or through variables
    /// assigned from it in the scopes the use sees. `web-input` stands for the language's
    /// request objects (Flask, Django, Tornado; Express, Koa), `web-params` for only their
    /// query and body parameters, and `dom-input` for the browser's attacker-controlled
    /// values (`location.hash`, `document.referrer`…).
    #[serde(default)]
    pub tainted_by: Vec<String>,
    /// Calls to these clean what they are given: with `tainted-by`, data inside them does not
    /// count (`html.escape`); with `literal: false`, their result counts as a constant
    /// (`*.quote_name`). Dotted names as for `resolves-to`; `*.name` is any receiver's `name`.
    #[serde(default)]
    pub sanitized_by: Vec<String>,
}

/// Snippets the test suite runs each rule on: every positive must yield exactly one finding
/// of the rule, no negative any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

/// `cwe: CWE-89` or `cwe: [CWE-89, CWE-564]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "OneOrManyRaw")]
pub(crate) struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> Self {
        match raw {
            OneOrManyRaw::One(s) => OneOrMany(vec![s]),
            OneOrManyRaw::Many(v) => OneOrMany(v),
        }
    }
}

/// One rule document, both views.
pub(crate) struct RuleDoc {
    pub ast_grep: SerializableRuleConfig<SupportLang>,
    pub sluice: DocSpec,
}

/// Parses a YAML stream of rules. The error says which document failed and why.
pub(crate) fn parse_stream(text: &str) -> Result<Vec<RuleDoc>, String> {
    let ast: Vec<SerializableRuleConfig<SupportLang>> =
        ast_grep_config::from_multiple(text).map_err(|e| format!("not an ast-grep rule: {e}"))?;
    let ours: Vec<DocSpec> = ast_grep_config::from_multiple(text)
        .map_err(|e| format!("invalid sluice metadata (title, cwe, semantic, examples…): {e}"))?;
    if ast.len() != ours.len() {
        return Err("documents could not be paired; remove empty documents".into());
    }
    Ok(ast.into_iter().zip(ours).map(|(ast_grep, sluice)| RuleDoc { ast_grep, sluice }).collect())
}

/// An embedded rule file: where it lives in the crate, and its text.
pub(crate) struct EmbeddedFile {
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(EmbeddedFile { path: $path, text: include_str!(concat!("../", $path)) }),*]
    };
}

/// The packs sluice ships, by language then topic.
pub(crate) const EMBEDDED: &[EmbeddedFile] = embed![
    "rules/python/injection.yml",
    "rules/python/web.yml",
    "rules/python/crypto.yml",
    "rules/python/deserialization.yml",
    "rules/python/config.yml",
    "rules/javascript/injection.yml",
    "rules/javascript/web.yml",
    "rules/javascript/crypto.yml",
    "rules/javascript/config.yml",
    "rules/go/injection.yml",
    "rules/go/config.yml",
    "rules/java/injection.yml",
    "rules/java/config.yml",
    "rules/rust/unsafe.yml",
    "rules/ruby/injection.yml",
    "rules/ruby/config.yml",
    "rules/php/injection.yml",
    "rules/php/config.yml",
    "rules/bash/shell.yml",
];
