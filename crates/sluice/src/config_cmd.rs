//! `sluice config show` (the resolved configuration and where each value came from) and
//! `sluice config lock` (resolve the templates afresh and rewrite `sluice.lock`). The work is in
//! `sluice_pipeline::template`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use sluice_pipeline::template::{LockMode, Resolved, LOCK_FILE};
use sluice_pipeline::{Config, StageKind};

use crate::exit;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the resolved configuration: every value with the file (or template) it came from.
    Show {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Resolve the templates `sluice.toml` extends afresh (fetching git tags and URLs) and
    /// rewrite sluice.lock. Commit the result: that is how a template upgrade is reviewed.
    Lock {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
}

pub fn config(args: ConfigArgs) -> Result<u8> {
    match args.action {
        ConfigAction::Show { path, format } => {
            let root = path.canonicalize().with_context(|| format!("{}: cannot open the directory", path.display()))?;
            let (config, resolved) = Config::load_resolved(&root, LockMode::Use)?;
            let text = match format {
                ShowFormat::Text => show_text(&config, resolved.as_ref()),
                ShowFormat::Json => show_json(&config, resolved.as_ref())?,
            };
            print!("{text}");
            Ok(exit::OK)
        }
        ConfigAction::Lock { path } => {
            let root = path.canonicalize().with_context(|| format!("{}: cannot open the directory", path.display()))?;
            let (_, resolved) = Config::load_resolved(&root, LockMode::Update)?;
            match resolved {
                Some(resolved) if resolved.layers.iter().any(|l| l.commit.is_some() || l.name.contains("://")) => {
                    eprintln!("wrote {LOCK_FILE}:");
                    for layer in resolved.layers.iter().skip(1) {
                        let commit = layer.commit.as_deref().map(|c| format!(" at {c}")).unwrap_or_default();
                        eprintln!("  {}{commit} (sha256 {})", layer.name, &layer.sha256[..16]);
                    }
                }
                Some(_) => eprintln!("wrote {LOCK_FILE} (no git or url templates to pin)"),
                None => eprintln!("no sluice.toml in {}: nothing to lock", root.display()),
            }
            Ok(exit::OK)
        }
    }
}

fn layer_label(resolved: &Resolved, index: usize) -> String {
    let layer = &resolved.layers[index];
    match (&layer.template_name, index) {
        (_, 0) => layer.name.clone(),
        (Some(name), _) => format!("template `{name}`"),
        (None, _) => format!("template {}", layer.name),
    }
}

fn show_text(config: &Config, resolved: Option<&Resolved>) -> String {
    let mut out = String::new();
    let Some(resolved) = resolved else {
        out.push_str("# no sluice.toml: the defaults (every built-in stage)\n");
        push_effective(&mut out, config);
        return out;
    };
    out.push_str("# layers, closest first:\n");
    for (index, layer) in resolved.layers.iter().enumerate() {
        let commit = layer.commit.as_deref().map(|c| format!(" commit {}", &c[..c.len().min(12)])).unwrap_or_default();
        let name = layer.template_name.as_deref().map(|n| format!("`{n}` ")).unwrap_or_default();
        let _ = writeln!(out, "#   [{index}] {name}{}{commit} sha256 {}", layer.name, &layer.sha256[..16]);
    }
    let width = resolved.origins.keys().map(|k| k.len()).max().unwrap_or(0).min(40);
    for (key, origin) in &resolved.origins {
        let value = lookup(&resolved.table, key).map_or_else(|| "{}".to_owned(), |v| v.to_string());
        let locked =
            origin.locked_by.map(|owner| format!(", locked by {}", layer_label(resolved, owner))).unwrap_or_default();
        let _ = writeln!(
            out,
            "{key:<width$} = {value}    # [{}] {}{locked}",
            origin.layer,
            layer_label(resolved, origin.layer)
        );
    }
    for (stage, owner) in &resolved.required_stages {
        let _ = writeln!(out, "# stage `{stage}` is required by {}", layer_label(resolved, *owner));
    }
    push_effective(&mut out, config);
    out
}

fn push_effective(out: &mut String, config: &Config) {
    let _ = writeln!(out, "# effective: out_dir = {}", config.out_dir.display());
    for stage in &config.stages {
        let kind = match &stage.kind {
            StageKind::Builtin => "built-in".to_owned(),
            StageKind::External { argv } => format!("command {}", argv.join(" ")),
        };
        let _ = writeln!(out, "#   stage {} ({kind}, timeout {}s)", stage.name, stage.timeout.as_secs());
    }
    if let Some(profile) = &config.policy.profile {
        let _ = writeln!(out, "#   policy profile {profile}");
    }
}

fn lookup<'t>(table: &'t toml::Table, dotted: &str) -> Option<&'t toml::Value> {
    let mut parts = dotted.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

fn show_json(config: &Config, resolved: Option<&Resolved>) -> Result<String> {
    let stages: Vec<_> = config.stages.iter().map(|s| s.name.clone()).collect();
    let doc = match resolved {
        None => ShowDoc { layers: Vec::new(), values: BTreeMap::new(), required_stages: None, stages },
        Some(resolved) => ShowDoc {
            layers: resolved
                .layers
                .iter()
                .map(|l| ShowLayer {
                    name: &l.name,
                    template: l.template_name.as_deref(),
                    sha256: &l.sha256,
                    commit: l.commit.as_deref(),
                })
                .collect(),
            values: resolved
                .origins
                .iter()
                .map(|(key, origin)| {
                    let value = lookup(&resolved.table, key)
                        .and_then(|v| serde_json::to_value(v).ok())
                        .unwrap_or(serde_json::Value::Null);
                    (key.as_str(), ShowValue { value, layer: origin.layer, locked_by: origin.locked_by })
                })
                .collect(),
            required_stages: Some(&resolved.required_stages),
            stages,
        },
    };
    // Through a `Value`: keys sorted at every level, as this document has always been written.
    Ok(serde_json::to_string_pretty(&serde_json::to_value(&doc)?)? + "\n")
}

/// `sluice config show --format json`.
#[derive(serde::Serialize)]
struct ShowDoc<'a> {
    layers: Vec<ShowLayer<'a>>,
    values: BTreeMap<&'a str, ShowValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_stages: Option<&'a BTreeMap<String, usize>>,
    stages: Vec<String>,
}

#[derive(serde::Serialize)]
struct ShowLayer<'a> {
    name: &'a str,
    template: Option<&'a str>,
    sha256: &'a str,
    commit: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct ShowValue {
    value: serde_json::Value,
    layer: usize,
    locked_by: Option<usize>,
}
