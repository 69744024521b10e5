//! `sluice.toml`: the serialized configuration (a compatibility promise) and its validation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::template::{self, LockMode, Resolved};

/// Stages sluice ships. A `[stages.<name>]` table with one of these names and no `command`
/// configures the built-in stage; with a `command`, an external tool takes its place.
pub const BUILTIN_STAGES: &[&str] = sluice_sarif::BUILTIN_STAGES;

/// Applies when a stage sets no `timeout`: long enough for a full SAST scan of a large
/// repository, short enough that a hung tool does not hold a CI runner for its whole budget.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: stage `{stage}`: {message}")]
    Stage { path: PathBuf, stage: String, message: String },
    /// A built-in stage's option that its type refuses (a typo, a wrong type); `line` is where
    /// the key is written in the repository's `sluice.toml`, when it is written there.
    #[error("{}: [stages.{stage}]: {message}", match line { Some(l) => format!("{}:{l}", path.display()), None => path.display().to_string() })]
    Option { path: PathBuf, line: Option<usize>, stage: String, message: String },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// `[run]`: what `sluice run` does by default.
    #[serde(default)]
    run: RawRun,
    /// `[stages.<name>]`: the built-in stages' settings, and external tools as stages.
    #[serde(default)]
    #[schemars(with = "crate::schema::Stages")]
    stages: BTreeMap<String, RawStage>,
    /// `[policy]`: what the gate evaluates.
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    server: ServerConfig,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    /// A built-in profile: `constrained` or `velocity`.
    profile: Option<String>,
    /// Rego policy files, relative to the repository root.
    files: Option<Vec<PathBuf>>,
}

/// `[metrics]`: where DORA and security events are stored, and SLA targets.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    /// The events database, relative to the repository root (default `.sluice/events.db`).
    db: Option<PathBuf>,
    /// Whether `sluice run` records its summary (default: when the database exists).
    record_runs: Option<bool>,
    /// Remediation targets in days, by severity (`critical`, `high`, `medium`, `low`).
    #[serde(default)]
    sla: BTreeMap<String, u32>,
    /// How far clocks may disagree before contradictory commit dates count as clock skew in
    /// lead time (`0s`, `10m`, `1h`; default `10m`).
    clock_skew: Option<String>,
}

/// `[server]`: where `sluice push` sends runs (`sluice serve`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The server's address, `https://…` (plain `http://` only to loopback).
    pub url: Option<String>,
    /// The project's name on the server (default: the repository directory's name).
    pub project: Option<String>,
    /// The server's public signing key (SPKI PEM, or a path to a file holding it, relative to
    /// the repository root): `sluice run` applies only decision sets it signed. Without it the
    /// first key seen is cached and its decisions are marked unverified.
    pub public_key: Option<String>,
    /// How old (by the server's signed issue time) a cached decision set may be and still
    /// apply, e.g. `7d`, `36h` (default 7 days).
    pub max_decision_age: Option<String>,
}

/// The validated `[metrics]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// The events database, relative to the repository root (default `.sluice/events.db`).
    pub db: Option<PathBuf>,
    /// Whether `sluice run` records its summary: `None` means "when the database exists".
    pub record_runs: Option<bool>,
    /// Remediation targets in days, by severity; unset severities keep the defaults.
    pub sla_days: BTreeMap<String, u32>,
    /// How far clocks may disagree before contradictory commit dates count as skew
    /// (`sluice metrics --clock-skew`; default `10m`).
    pub clock_skew: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRun {
    /// Where `sluice run` writes `results.sarif`, relative to the repository root (default
    /// `sluice-out`).
    out_dir: Option<PathBuf>,
    /// Only the stages listed run (default: every enabled stage).
    stages: Option<Vec<String>>,
}

// No `deny_unknown_fields`: the flattened `options` take the rest, and are checked per stage.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawStage {
    /// Run this stage (default true).
    enabled: Option<bool>,
    /// The command of an external tool that writes SARIF on stdout: a shell-like string or an
    /// argument list; `{files}` expands to the files the stage applies to.
    command: Option<CommandLine>,
    /// How long the stage may run: seconds, or a duration such as `10m` (default 10 minutes).
    timeout: Option<TimeoutValue>,
    /// Where the command runs, relative to the repository root.
    working_dir: Option<PathBuf>,
    /// Globs of the files the stage applies to; with none of them in scope it is skipped.
    files: Option<Vec<String>>,
    /// Exit codes that mean the tool ran (default 0 and 1: many tools exit 1 on findings).
    ok_exit_codes: Option<Vec<i32>>,
    /// The built-in stage an external tool stands in for (`fills = "secrets"`).
    fills: Option<String>,
    /// Built-in stage options, passed through to the engine (e.g. secrets `allow_paths`).
    #[serde(flatten)]
    #[schemars(skip)]
    options: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum CommandLine {
    Shell(String),
    Argv(Vec<String>),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum TimeoutValue {
    Seconds(u64),
    Human(String),
}

/// The validated configuration of a repository.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file came from, for messages; `None` when defaults were used.
    pub source: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub stages: Vec<StageConfig>,
    pub policy: PolicyConfig,
    pub metrics: MetricsConfig,
    pub server: ServerConfig,
}

/// `[policy]`: what the gate evaluates.
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    pub profile: Option<String>,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct StageConfig {
    pub name: String,
    pub kind: StageKind,
    pub timeout: Duration,
    /// Relative to the repository root.
    pub working_dir: PathBuf,
    /// Globs of the files the stage applies to; `None` means every file.
    pub files: Option<Vec<String>>,
    /// Exit codes that mean "ran"; many tools exit 1 when they find something.
    pub ok_exit_codes: Vec<i32>,
    /// Engine options of a built-in stage, as written.
    pub options: BTreeMap<String, toml::Value>,
    /// The built-in stage an external tool fills (`fills = "secrets"`): its run is recorded as
    /// that stage, so a policy's requirement for it is met. Only sluice.toml can say this; a
    /// tool's name or category never does.
    pub fills: Option<String>,
}

impl StageConfig {
    /// The stage name the runner records for this stage's runs: what it fills, else its name.
    pub fn stage(&self) -> &str {
        self.fills.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageKind {
    Builtin,
    /// An external command; `{files}` in an argument expands to the applicable files, one
    /// argument each.
    External {
        argv: Vec<String>,
    },
}

impl Config {
    /// Reads `sluice.toml` from `root` if it exists, with the templates it extends (pinned by
    /// `sluice.lock`), else the defaults: every built-in stage.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        Config::load_resolved(root, LockMode::Use).map(|(config, _)| config)
    }

    /// [`Config::load`], also returning the resolved template chain (for `sluice config show`).
    pub fn load_resolved(root: &Path, mode: LockMode) -> Result<(Config, Option<Resolved>), ConfigError> {
        let path = root.join("sluice.toml");
        match std::fs::metadata(&path) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Config::defaults(), None)),
            Err(source) => return Err(ConfigError::Read { path, source }),
        }
        let resolved = template::resolve(&path, mode)?;
        let raw = RawConfig::deserialize(toml::Value::Table(resolved.table.clone())).map_err(|err| {
            ConfigError::Parse { path: path.clone(), message: err.to_string().trim_end().replace('\n', "\n  ") }
        })?;
        Ok((Config::validate(raw, Some(&path), None)?, Some(resolved)))
    }

    pub fn defaults() -> Config {
        let raw = RawConfig::default();
        // Defaults cannot fail validation: no stage tables to check.
        Config::validate(raw, None, None).unwrap_or_else(|_| Config {
            source: None,
            out_dir: PathBuf::from("sluice-out"),
            stages: Vec::new(),
            policy: PolicyConfig::default(),
            metrics: MetricsConfig::default(),
            server: ServerConfig::default(),
        })
    }

    /// Parses one file on its own (no `extends`).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().replace('\n', "\n  "),
        })?;
        Config::validate(raw, Some(path), Some(text))
    }

    /// `text` is the file's text when the caller has it (for the line of a bad option); else
    /// the file is read again only to report one.
    fn validate(raw: RawConfig, path: Option<&Path>, text: Option<&str>) -> Result<Config, ConfigError> {
        let file = path.map_or_else(|| PathBuf::from("sluice.toml"), Path::to_path_buf);
        let stage_err =
            |stage: &str, message: String| ConfigError::Stage { path: file.clone(), stage: stage.to_owned(), message };
        let mut stages = Vec::new();
        let mut tables = raw.stages;
        for builtin in BUILTIN_STAGES {
            tables.entry((*builtin).to_owned()).or_default();
        }
        for (name, table) in tables {
            if table.enabled == Some(false) {
                continue;
            }
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(stage_err(&name, "stage names use letters, digits, `-` and `_`".into()));
            }
            let kind = match table.command {
                Some(CommandLine::Argv(argv)) if argv.is_empty() => {
                    return Err(stage_err(&name, "`command` is empty".into()))
                }
                Some(CommandLine::Argv(argv)) => StageKind::External { argv },
                Some(CommandLine::Shell(line)) => match shlex::split(&line) {
                    Some(argv) if !argv.is_empty() => StageKind::External { argv },
                    _ => {
                        return Err(stage_err(
                            &name,
                            format!("cannot split `command` into arguments: {line:?} (check the quotes)"),
                        ))
                    }
                },
                None if BUILTIN_STAGES.contains(&name.as_str()) => StageKind::Builtin,
                None => {
                    return Err(stage_err(
                        &name,
                        format!(
                            "no `command`, and `{name}` is not a built-in stage (built-in: {})",
                            BUILTIN_STAGES.join(", ")
                        ),
                    ))
                }
            };
            if kind == StageKind::Builtin {
                if let Err(message) = crate::options::check(&name, &table.options) {
                    // The top-level key at fault is named first in the message
                    // (`\`max_db_age_days\`: invalid type …`, `unknown field \`alow_paths\``);
                    // a nested field (`regx` in a rule) is looked for inside it.
                    let mut ticks = message.split('`').skip(1).step_by(2);
                    let first = ticks.next().unwrap_or_default().to_owned();
                    let second = ticks.next().map(str::to_owned);
                    let (key, field) = if table.options.contains_key(&first) {
                        let field = second.filter(|f| message.contains(&format!("unknown field `{f}`")));
                        (Some(first), field)
                    } else {
                        (None, None)
                    };
                    let line = key.as_deref().and_then(|key| {
                        let text = text.map(str::to_owned).or_else(|| std::fs::read_to_string(&file).ok())?;
                        crate::options::key_line(&text, &name, key, field.as_deref())
                    });
                    let hint = "see docs for the stage's options";
                    return Err(ConfigError::Option {
                        path: file.clone(),
                        line,
                        stage: name.clone(),
                        message: format!("{message} ({hint})"),
                    });
                }
            }
            if matches!(kind, StageKind::External { .. }) && !table.options.is_empty() {
                let keys: Vec<_> = table.options.keys().map(String::as_str).collect();
                return Err(stage_err(&name, format!("unknown keys for an external stage: {}", keys.join(", "))));
            }
            let timeout = match table.timeout {
                None => DEFAULT_TIMEOUT,
                Some(TimeoutValue::Seconds(0)) => return Err(stage_err(&name, "`timeout` must be positive".into())),
                Some(TimeoutValue::Seconds(s)) => Duration::from_secs(s),
                Some(TimeoutValue::Human(text)) => humantime::parse_duration(&text).map_err(|e| {
                    stage_err(&name, format!("`timeout = {text:?}`: {e} (write e.g. \"90s\" or \"5m\")"))
                })?,
            };
            if let Some(globs) = &table.files {
                for glob in globs {
                    globset::Glob::new(glob)
                        .map_err(|e| stage_err(&name, format!("`files`: bad glob {glob:?}: {e}")))?;
                }
            }
            if let Some(fills) = &table.fills {
                if !BUILTIN_STAGES.contains(&fills.as_str()) {
                    return Err(stage_err(
                        &name,
                        format!(
                            "`fills = {fills:?}`: an external tool fills one of the built-in stages ({})",
                            BUILTIN_STAGES.join(", ")
                        ),
                    ));
                }
                if kind == StageKind::Builtin {
                    return Err(stage_err(
                        &name,
                        "`fills` is for external stages (with a `command`); this is the built-in stage".into(),
                    ));
                }
                if BUILTIN_STAGES.contains(&name.as_str()) && name != *fills {
                    return Err(stage_err(
                        &name,
                        format!("a stage named `{name}` fills `{name}`; `fills = {fills:?}` contradicts its name"),
                    ));
                }
            }
            let working_dir = table.working_dir.unwrap_or_else(|| PathBuf::from("."));
            if working_dir.is_absolute() {
                return Err(stage_err(&name, "`working_dir` must be relative to the repository root".into()));
            }
            stages.push(StageConfig {
                name,
                kind,
                timeout,
                working_dir,
                files: table.files,
                ok_exit_codes: table.ok_exit_codes.unwrap_or_else(|| vec![0, 1]),
                options: table.options,
                fills: table.fills,
            });
        }
        if let Some(only) = &raw.run.stages {
            for wanted in only {
                if !stages.iter().any(|s| &s.name == wanted) {
                    return Err(ConfigError::Parse {
                        path: file.clone(),
                        message: format!("[run] stages: `{wanted}` is not a configured or built-in stage"),
                    });
                }
            }
            stages.retain(|s| only.contains(&s.name));
        }
        for (severity, days) in &raw.metrics.sla {
            if !["critical", "high", "medium", "low", "info"].contains(&severity.as_str()) || *days == 0 {
                return Err(ConfigError::Parse {
                    path: file.clone(),
                    message: format!(
                        "[metrics.sla] {severity} = {days}: use critical, high, medium, low or info, with a positive number of days"
                    ),
                });
            }
        }
        if let Some(age) = &raw.server.max_decision_age {
            if humantime::parse_duration(age).is_err() {
                return Err(ConfigError::Parse {
                    path: file.clone(),
                    message: format!(
                        "[server] max_decision_age = {age:?}: not a duration; write e.g. \"7d\" or \"36h\""
                    ),
                });
            }
        }
        Ok(Config {
            server: raw.server,
            metrics: MetricsConfig {
                db: raw.metrics.db,
                record_runs: raw.metrics.record_runs,
                sla_days: raw.metrics.sla,
                clock_skew: raw.metrics.clock_skew,
            },
            source: path.map(Path::to_path_buf),
            out_dir: raw.run.out_dir.unwrap_or_else(|| PathBuf::from("sluice-out")),
            stages,
            policy: PolicyConfig { profile: raw.policy.profile, files: raw.policy.files.unwrap_or_default() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("sluice.toml"))
    }

    #[test]
    fn defaults_have_the_builtins() {
        let config = parse("").unwrap();
        let names: Vec<_> = config.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, BUILTIN_STAGES);
        assert_eq!(config.stages[0].kind, StageKind::Builtin);
    }

    #[test]
    fn external_stage() {
        let config = parse(
            r#"
            [stages.bandit]
            command = "bandit -r . -f sarif --exit-zero"
            timeout = "90s"
            files = ["**/*.py"]
            [stages.secrets]
            enabled = false
            [stages.sast]
            enabled = false
            [stages.container]
            enabled = false
            [stages.deps]
            enabled = false
            "#,
        )
        .unwrap();
        assert_eq!(config.stages.len(), 1);
        let bandit = &config.stages[0];
        assert_eq!(bandit.timeout, Duration::from_secs(90));
        assert_eq!(
            bandit.kind,
            StageKind::External {
                argv: ["bandit", "-r", ".", "-f", "sarif", "--exit-zero"].map(String::from).to_vec()
            }
        );
    }

    #[test]
    fn errors_name_file_and_stage() {
        let err = parse("[stages.x]\ntimeout = 5\n").unwrap_err().to_string();
        assert!(err.contains("stage `x`") && err.contains("not a built-in"), "{err}");
        let err = parse("[stages.x]\ncommand = \"a\"\ntimeout = \"soon\"\n").unwrap_err().to_string();
        assert!(err.contains("timeout"), "{err}");
        let err = parse("[stagez.x]\n").unwrap_err().to_string();
        assert!(err.starts_with("sluice.toml:") && err.contains("stagez"), "{err}");
        let err = parse("[stages.x]\ncommand = \"a 'b\"\n").unwrap_err().to_string();
        assert!(err.contains("quotes"), "{err}");
        let err = parse("[stages.x]\ncommand = \"a\"\nfoo = 1\n").unwrap_err().to_string();
        assert!(err.contains("unknown keys") && err.contains("foo"), "{err}");
    }

    #[test]
    fn fills_names_a_builtin_stage_of_an_external_tool() {
        let config = parse("[stages.gitleaks]\ncommand = \"gitleaks\"\nfills = \"secrets\"\n").unwrap();
        let gitleaks = config.stages.iter().find(|s| s.name == "gitleaks").unwrap();
        assert_eq!(gitleaks.stage(), "secrets");
        let err = parse("[stages.x]\ncommand = \"a\"\nfills = \"lint\"\n").unwrap_err().to_string();
        assert!(err.contains("stage `x`") && err.contains("container, deps, sast, secrets"), "{err}");
        let err = parse("[stages.secrets]\nfills = \"secrets\"\n").unwrap_err().to_string();
        assert!(err.contains("external stages"), "{err}");
        let err = parse("[stages.deps]\ncommand = \"a\"\nfills = \"secrets\"\n").unwrap_err().to_string();
        assert!(err.contains("contradicts"), "{err}");
    }

    #[test]
    fn metrics_table() {
        let config =
            parse("[metrics]\ndb = \"/var/lib/sluice/events.db\"\nrecord_runs = true\n[metrics.sla]\ncritical = 3\n")
                .unwrap();
        assert_eq!(config.metrics.db, Some(PathBuf::from("/var/lib/sluice/events.db")));
        assert_eq!(config.metrics.record_runs, Some(true));
        assert_eq!(config.metrics.sla_days.get("critical"), Some(&3));
        assert_eq!(parse("").unwrap().metrics, MetricsConfig::default());
        let err = parse("[metrics.sla]\nurgent = 1\n").unwrap_err().to_string();
        assert!(err.contains("[metrics.sla] urgent"), "{err}");
        let err = parse("[metrics]\ndatabase = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("database"), "{err}");
    }
}
