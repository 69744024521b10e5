//! The JSON Schema of `sluice.toml`, generated from the types `Config::load` reads it with
//! (`RawConfig` and the built-in stages' option types), so editors complete and check keys the
//! way sluice does. `docs/sluice.schema.json` is this schema, committed; a test keeps the two
//! equal.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use crate::config::{RawConfig, RawStage};
use crate::options::{ContainerOptions, DepsOptions, SastOptions, SecretsOptions};
use crate::template::TemplateMeta;

/// Where the schema is published in this repository (its `$id`).
pub const SCHEMA_ID: &str = "https://raw.githubusercontent.com/sluice-sec/sluice/main/docs/sluice.schema.json";

/// A repository's `sluice.toml` (or an org template): the stages sluice runs, the policy, the
/// metrics store and the server.
#[derive(JsonSchema)]
#[schemars(title = "sluice.toml", deny_unknown_fields)]
#[allow(dead_code)]
struct SluiceToml {
    /// The template this file builds on: a path relative to this file, or a table
    /// `{ git = "<repo>", rev = "<tag or commit>", path = "sluice.toml" }` (pinned in
    /// `sluice.lock`), or `{ url = "https://…", sha256 = "<hex>" }`. See docs/templates.md.
    extends: Option<Extends>,
    /// Only in a template: its name, the stages every repository extending it must run, and
    /// the keys it locks.
    template: Option<TemplateMeta>,
    #[serde(flatten)]
    config: RawConfig,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Extends {
    /// A template file, relative to the extending file.
    Path(String),
    Source(ExtendsSource),
}

/// A template fetched from git or a URL, or a local path.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ExtendsSource {
    /// A template file, relative to the extending file (or, with `git`, inside the repository).
    path: Option<String>,
    /// A git repository: URL, or a local path relative to the extending file.
    git: Option<String>,
    /// The tag or commit of `git` (required with `git`).
    rev: Option<String>,
    /// An `https://` URL of a template file.
    url: Option<String>,
    /// The SHA-256 of the file at `url`, hex.
    sha256: Option<String>,
}

/// `[stages.<name>]`: the built-in stages with their typed options, and any other name an
/// external tool that writes SARIF on stdout.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub(crate) struct Stages {
    /// The secrets stage (`sluice scan secrets`), or a tool standing in for it (`command`).
    secrets: Option<Builtin<SecretsOptions>>,
    /// The SAST stage (`sluice scan sast`).
    sast: Option<Builtin<SastOptions>>,
    /// The dependency stage (`sluice scan deps`): lockfiles against the advisory database.
    deps: Option<Builtin<DepsOptions>>,
    /// The container stage (`sluice scan container`): Dockerfiles and image tarballs.
    container: Option<Builtin<ContainerOptions>>,
    /// External stages: `command` runs a tool that writes SARIF on stdout.
    #[serde(flatten)]
    external: BTreeMap<String, RawStage>,
}

/// A built-in stage's table: the keys every stage has, and the stage's own options.
#[derive(JsonSchema)]
#[schemars(rename = "Builtin{T}", deny_unknown_fields)]
#[allow(dead_code)]
struct Builtin<T> {
    #[serde(flatten)]
    stage: RawStage,
    #[serde(flatten)]
    options: T,
}

/// The JSON Schema (draft 2020-12) of `sluice.toml`, as pretty JSON with a final newline.
pub fn sluice_toml_schema() -> String {
    let mut schema =
        schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<SluiceToml>();
    schema.insert("$id".to_owned(), SCHEMA_ID.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
