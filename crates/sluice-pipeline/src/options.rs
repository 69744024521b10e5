//! The options of the built-in stages (`[stages.secrets]`, `[stages.sast]`, `[stages.deps]`,
//! `[stages.container]`): serde types at the edge, unknown keys refused. `Config::load` checks
//! them before any stage runs, so a typo is an error naming the file, the line and the key,
//! not a failure inside a stage (or a silently ignored setting).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

/// `[stages.secrets]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsOptions {
    /// Gitignore-style paths never scanned or reported.
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Files above this many bytes are scanned in bounded windows.
    pub max_file_size: Option<u64>,
    /// User rules (`[[stages.secrets.rules]]`), the embedded rules' format.
    #[serde(default)]
    pub rules: Vec<sluice_secrets::RuleSpec>,
    /// Honour other tools' allow comments (`gitleaks:allow`) as `sluice:allow` (default true).
    pub peer_annotations: Option<bool>,
}

/// `[stages.sast]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SastOptions {
    /// Directories of ast-grep YAML rules, relative to the repository root.
    #[serde(default)]
    pub rule_dirs: Vec<PathBuf>,
    /// Run the rule packs sluice ships (default true).
    pub builtin_rules: Option<bool>,
    /// Rule ids not to run.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Gitignore-style paths never scanned.
    #[serde(default)]
    pub exclude_paths: Vec<String>,
    /// Only the rules for these languages (default: all).
    #[serde(default)]
    pub languages: Vec<String>,
    pub max_file_size: Option<u64>,
    /// In diff-aware runs (`--since`, `--staged`), report only findings on changed lines.
    #[serde(default)]
    pub changed_lines: bool,
    /// Honour other tools' suppression comments (`# nosec`, `# nosemgrep`) as
    /// `sluice:ignore` (default true).
    pub peer_annotations: Option<bool>,
}

/// `[stages.container]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerOptions {
    /// Registries (or `registry/path` prefixes) base images may come from; empty: no check.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Rule ids not to run.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Image tarballs (relative to the repository root) to inventory on every run.
    #[serde(default)]
    pub images: Vec<PathBuf>,
    /// Refuse images with more layers than this (default 1000).
    pub max_layers: Option<usize>,
    /// The advisory database for image packages (relative to the repository root); default:
    /// `--db`, else the deps stage's default (`$SLUICE_DB`, `~/.cache/sluice/advisories.db`).
    pub db: Option<PathBuf>,
    /// Warn when the database is older than this many days (default 7).
    pub max_db_age_days: Option<u64>,
}

/// `[stages.deps]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepsOptions {
    /// The advisory database (relative to the repository root).
    pub db: Option<PathBuf>,
    /// Warn when the database is older than this many days (default 7).
    pub max_db_age_days: Option<u64>,
}

/// The options of built-in stage `stage` as written, typed; the error is serde's, with the
/// path of the offending field inside the table (`rules[0].regx`).
pub fn check(stage: &str, options: &BTreeMap<String, toml::Value>) -> Result<(), String> {
    let typed = |options: &BTreeMap<String, toml::Value>| match stage {
        "secrets" => parse::<SecretsOptions>(options).map(drop),
        "sast" => parse::<SastOptions>(options).map(drop),
        "container" => parse::<ContainerOptions>(options).map(drop),
        "deps" => parse::<DepsOptions>(options).map(drop),
        // A built-in stage without options of its own takes none.
        _ if options.is_empty() => Ok(()),
        _ => Err(format!("unknown keys: {}", options.keys().cloned().collect::<Vec<_>>().join(", "))),
    };
    let Err(message) = typed(options) else {
        return Ok(());
    };
    let named = message.split('`').nth(1).unwrap_or_default();
    if message.contains("unknown field") && options.contains_key(named) {
        return Err(message);
    }
    // A value of the wrong type, or a field inside a nested table (`[[stages.secrets.rules]]`):
    // serde does not say whose. The key without which the options read is the one to name.
    let culprit = options.keys().find(|key| {
        let mut rest = options.clone();
        rest.remove(*key);
        typed(&rest).is_ok()
    });
    Err(match culprit {
        Some(key) => format!("`{key}`: {message}"),
        None => message,
    })
}

/// Deserializes a built-in stage's options into its type.
pub fn parse<T: for<'de> Deserialize<'de>>(options: &BTreeMap<String, toml::Value>) -> Result<T, String> {
    let table: toml::Table = options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    T::deserialize(toml::Value::Table(table)).map_err(|e| e.message().trim_end().to_owned())
}

/// The 1-based line of `key` under `[stages.<stage>]` in a TOML text, in any of TOML's ways of
/// writing it (a table, a dotted key, an inline table); with `field`, the line of that key
/// inside the value of `key` (an array of tables such as `[[stages.secrets.rules]]`), else of
/// `key` itself.
pub fn key_line(text: &str, stage: &str, key: &str, field: Option<&str>) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let stages = doc.get("stages")?.as_table_like()?;
    let table = stages.get(stage)?.as_table_like()?;
    let (found, item) = table.get_key_value(key)?;
    let line = |span: std::ops::Range<usize>| text[..span.start].matches('\n').count() + 1;
    let nested = field.and_then(|field| {
        let tables: Vec<&dyn toml_edit::TableLike> = match item {
            toml_edit::Item::ArrayOfTables(a) => a.iter().map(|t| t as &dyn toml_edit::TableLike).collect(),
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
                a.iter().filter_map(|v| v.as_inline_table().map(|t| t as &dyn toml_edit::TableLike)).collect()
            }
            other => other.as_table_like().into_iter().collect(),
        };
        tables.into_iter().find_map(|t| t.get_key_value(field).and_then(|(k, _)| k.span()))
    });
    nested.or_else(|| found.span()).map(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> BTreeMap<String, toml::Value> {
        let table: toml::Table = toml::from_str(text).unwrap_or_default();
        table.into_iter().collect()
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = check("secrets", &options("alow_paths = [\"x\"]")).unwrap_err();
        assert!(err.contains("alow_paths") && err.contains("allow_paths"), "{err}");
        let err = check("sast", &options("exclude_path = [\"x\"]")).unwrap_err();
        assert!(err.contains("exclude_path"), "{err}");
        let err = check("secrets", &options("[[rules]]\nid = \"a-b\"\nregx = \"x\"")).unwrap_err();
        assert!(err.contains("regx"), "{err}");
        assert!(check("deps", &options("db = \"x.db\"\nmax_db_age_days = 3")).is_ok());
        assert!(check("container", &options("images = [\"a.tar\"]")).is_ok());
        let err = check("secrets", &options("max_file_size = \"big\"")).unwrap_err();
        assert!(err.starts_with("`max_file_size`: invalid type"), "{err}");
    }

    #[test]
    fn key_lines_in_every_toml_spelling() {
        let text = "[run]\nstages = []\n\n[stages.secrets]\nallow_paths = []\nalow_paths = []\n";
        assert_eq!(key_line(text, "secrets", "alow_paths", None), Some(6));
        let dotted = "# c\nstages.sast.exclude_path = [\"x\"]\n";
        assert_eq!(key_line(dotted, "sast", "exclude_path", None), Some(2));
        let inline = "[stages]\nsecrets = { allow_paths = [], x = 1 }\n";
        assert_eq!(key_line(inline, "secrets", "x", None), Some(2));
        assert_eq!(key_line(text, "secrets", "missing", None), None);
        let rules = "[[stages.secrets.rules]]\nid = \"a\"\n\n[[stages.secrets.rules]]\nid = \"b\"\nregx = \"x\"\n";
        assert_eq!(key_line(rules, "secrets", "rules", Some("regx")), Some(6));
    }
}
