//! Runs the rules of [`crate::rules`] over a parsed Dockerfile. Stages, `ARG` and `ENV`
//! scopes are tracked the way BuildKit does: `ARG`s before the first `FROM` are usable in
//! `FROM` lines and, redeclared with `ARG NAME`, inside a stage; `USER` is inherited from a
//! stage used as a base.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::dockerfile::{Args, Dockerfile, Instruction};
use crate::image_ref::ImageRef;
use crate::rules::{self, RuleInfo};
use crate::shell::{self, Command, Join};
use crate::subst::{expand, Vars};

/// What the checks need to know beyond the file.
#[derive(Debug, Clone, Default)]
pub struct CheckConfig {
    /// Registries (or registry/path prefixes) images may come from; empty = no check.
    pub allowed_registries: Vec<String>,
    /// Rule ids not to run.
    pub disabled_rules: Vec<String>,
    /// Images built from Dockerfiles of the same repository, by the name of the directory
    /// holding the Dockerfile (`images/base-notebook/Dockerfile` builds `…/base-notebook`), with
    /// the user their final stage runs as (`None`: the Dockerfile sets none). A `FROM
    /// owner/base-notebook` inherits that user instead of being assumed to run as root.
    pub repository_images: BTreeMap<String, Option<String>>,
}

/// The user the final stage of `df` runs as: its last `USER`, its own or a base stage's, or
/// that of an image of the same repository it is built on ([`CheckConfig::repository_images`]);
/// `None` when nothing says.
pub fn final_user(df: &Dockerfile, config: &CheckConfig, secrets: &sluice_secrets::Engine) -> Option<String> {
    let mut c = Checker { df, path: "", config, secrets, findings: Vec::new(), cache: Vec::new(), final_user: None };
    c.run();
    c.final_user
}

/// The key of [`CheckConfig::repository_images`] an image reference would be found under: the
/// last component of its repository, for a reference with a namespace (`quay.io/jupyter/
/// base-notebook` → `base-notebook`; `python` is Docker Hub's, never a directory's).
pub fn repository_image_key(image: &str) -> Option<String> {
    let reference = ImageRef::parse(image);
    let (namespace, name) = reference.repository.rsplit_once('/')?;
    (!namespace.is_empty() && namespace != "library").then(|| name.to_ascii_lowercase())
}

/// One problem found in a Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static RuleInfo,
    pub line: u32,
    pub end_line: u32,
    pub message: String,
    /// The instruction as written; for secret findings, with the secret redacted.
    pub snippet: String,
    /// For secret findings: hex SHA-256 of the secret (the fingerprint's content), never
    /// the secret itself.
    pub secret_sha256: Option<String>,
    /// What the finding rests on cannot be seen from here (the user of an external base image):
    /// reported at lower confidence, as a note.
    pub uncertain: bool,
}

/// A build stage as the checks track it.
struct Stage {
    name: Option<String>,
    vars: Vars,
    /// The last `USER` (expanded) and its line; inherited from a stage used as base.
    user: Option<(String, u32)>,
    from_line: u32,
    /// The stage this one is built on, when it is one.
    base: Option<usize>,
    /// The base is an image whose default user is known not to be root (`…:nonroot`).
    nonroot_base: bool,
    /// Built (directly or through stages) on an image neither this file nor this repository
    /// builds: its default user is unknown here.
    external_base: bool,
    pip_no_cache: bool,
}

/// Checks one Dockerfile. `secrets` is the secrets engine used on `ENV`/`ARG` values.
pub fn check(df: &Dockerfile, path: &str, config: &CheckConfig, secrets: &sluice_secrets::Engine) -> Vec<Finding> {
    let mut c = Checker { df, path, config, secrets, findings: Vec::new(), cache: Vec::new(), final_user: None };
    c.run();
    let mut findings = c.findings;
    findings.retain(|f| !config.disabled_rules.iter().any(|d| d == f.rule.id));
    findings.sort_by(|a, b| (a.line, a.rule.id, &a.message).cmp(&(b.line, b.rule.id, &b.message)));
    findings.dedup_by(|a, b| a.line == b.line && a.rule.id == b.rule.id && a.message == b.message);
    findings
}

struct Checker<'a> {
    df: &'a Dockerfile,
    path: &'a str,
    config: &'a CheckConfig,
    secrets: &'a sluice_secrets::Engine,
    findings: Vec<Finding>,
    /// Package-cache findings with their stage: kept only for stages the final image is
    /// built on.
    cache: Vec<(usize, Finding)>,
    /// The user the final stage runs as, when known (set by `run`).
    final_user: Option<String>,
}

impl Checker<'_> {
    fn report(&mut self, id: &str, ins: &Instruction, message: String) {
        let Some(rule) = rules::rule(id) else { return };
        self.findings.push(Finding {
            rule,
            line: ins.line,
            end_line: ins.end_line,
            message,
            snippet: ins.source.clone(),
            secret_sha256: None,
            uncertain: false,
        });
    }

    fn run(&mut self) {
        let escape = self.df.escape;
        let mut global: Vars = BTreeMap::new();
        let mut stages: Vec<Stage> = Vec::new();
        for ins in &self.df.instructions {
            match ins.keyword.as_str() {
                "ARG" => {
                    for (name, value) in arg_pairs(&ins.text()) {
                        let vars = stages.last().map_or(&global, |s| &s.vars);
                        let value = match value {
                            Some(v) => Some(expand(&v, vars, escape).text),
                            // `ARG NAME` inside a stage takes the global default.
                            None if !stages.is_empty() => global.get(&name).cloned().flatten(),
                            None => None,
                        };
                        self.secret_in_arg(ins, &name, value.as_deref());
                        match stages.last_mut() {
                            Some(s) => s.vars.insert(name, value),
                            None => global.insert(name, value),
                        };
                    }
                }
                "FROM" => {
                    let stage = self.from(ins, &global, &stages, escape);
                    stages.push(stage);
                }
                _ if stages.is_empty() => {}
                "ENV" => {
                    let Some(stage) = stages.last_mut() else { continue };
                    let pairs = env_pairs(&ins.text());
                    let mut expanded = Vec::new();
                    for (name, value) in pairs {
                        let v = expand(&value, &stage.vars, escape).text;
                        if name == "PIP_NO_CACHE_DIR" {
                            stage.pip_no_cache = true;
                        }
                        stage.vars.insert(name.clone(), Some(v.clone()));
                        expanded.push((name, v));
                    }
                    self.secret_values(ins, &expanded);
                }
                "USER" => {
                    let Some(stage) = stages.last_mut() else { continue };
                    stage.user = Some((expand(ins.text().trim(), &stage.vars, escape).text, ins.line));
                }
                "RUN" => {
                    let stage_pip = stages.last().is_some_and(|s| s.pip_no_cache);
                    let before = self.findings.len();
                    self.run_instruction(ins, stage_pip);
                    let stage = stages.len() - 1;
                    let mut i = before;
                    while i < self.findings.len() {
                        if self.findings[i].rule.id == rules::CACHE {
                            let f = self.findings.remove(i);
                            self.cache.push((stage, f));
                        } else {
                            i += 1;
                        }
                    }
                }
                "ADD" | "COPY" => {
                    if let Some(stage) = stages.last() {
                        let vars = stage.vars.clone();
                        self.copy(ins, &stages, &vars, escape);
                    }
                }
                "EXPOSE" => {
                    let vars = stages.last().map(|s| s.vars.clone()).unwrap_or_default();
                    for port in expand(&ins.text(), &vars, escape).text.split_whitespace() {
                        if exposes_ssh(port) {
                            self.report(
                                rules::EXPOSE_SSH,
                                ins,
                                format!("EXPOSE {port} publishes SSH; use `docker exec` instead of an SSH server"),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        // The final stage and the stages it is built on ship their files.
        let mut shipped = Vec::new();
        let mut at = stages.len().checked_sub(1);
        while let Some(i) = at {
            if shipped.contains(&i) {
                break;
            }
            shipped.push(i);
            at = stages[i].base;
        }
        for (stage, f) in std::mem::take(&mut self.cache) {
            if shipped.contains(&stage) {
                self.findings.push(f);
            }
        }
        self.final_user = stages.last().and_then(|s| s.user.as_ref()).map(|(u, _)| u.clone());
        if let Some(last) = stages.last() {
            let root = match &last.user {
                Some((user, _)) => is_root(user),
                None => !last.nonroot_base,
            };
            if root {
                let (line, message) = match &last.user {
                    Some((user, line)) => (
                        *line,
                        format!("the final stage runs as `{user}`: switch to an unprivileged user at the end"),
                    ),
                    None if last.external_base => (
                        last.from_line,
                        "the final stage sets no USER, so it runs as the base image's user, which sluice cannot see from here (root for most images): add `USER <uid>`".to_owned(),
                    ),
                    None => (
                        last.from_line,
                        "the final stage sets no USER, so it runs as the base image's user (root for most images): add `USER <uid>`".to_owned(),
                    ),
                };
                if let Some(ins) = self.df.instructions.iter().find(|i| i.line == line) {
                    self.report(rules::USER_ROOT, ins, message);
                    if last.user.is_none() && last.external_base {
                        if let Some(f) = self.findings.last_mut() {
                            f.uncertain = true;
                        }
                    }
                }
            }
        }
    }

    fn from(&mut self, ins: &Instruction, global: &Vars, stages: &[Stage], escape: char) -> Stage {
        let text = ins.text();
        let words: Vec<&str> = text.split_whitespace().collect();
        let name = match words.as_slice() {
            [_, as_kw, name, ..] if as_kw.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
            _ => None,
        };
        let raw = words.first().copied().unwrap_or_default();
        let expanded = expand(raw, global, escape);
        let image = expanded.text.clone();
        let base_index = stages.iter().position(|s| s.name.as_deref() == Some(image.to_ascii_lowercase().as_str()));
        let base_stage = base_index.map(|i| &stages[i]);
        let mut stage = Stage {
            name,
            vars: BTreeMap::new(),
            base: base_index,
            user: base_stage.and_then(|s| s.user.clone()),
            from_line: ins.line,
            nonroot_base: base_stage.is_some_and(|s| s.nonroot_base),
            external_base: base_stage.is_some_and(|s| s.external_base),
            pip_no_cache: base_stage.is_some_and(|s| s.pip_no_cache),
        };
        if base_stage.is_some() || image.eq_ignore_ascii_case("scratch") {
            return stage;
        }
        if !expanded.resolved && names_a_stage(raw, stages) {
            // `FROM build-${VARIANT}` with stages `build-alpine`, `build-debian`: a stage.
            return stage;
        }
        if !expanded.resolved || image.is_empty() {
            // `FROM ${BASE}` without a default: the image is chosen at build time.
            self.report(
                rules::BASE_NO_DIGEST,
                ins,
                format!("base image `{raw}` depends on a build argument without a default; give the ARG a pinned default (`ARG BASE=debian:12@sha256:…`)"),
            );
            return stage;
        }
        let reference = ImageRef::parse(&image);
        stage.nonroot_base = reference.tag.as_deref().is_some_and(|t| t.contains("nonroot"));
        // An image this repository builds: its final user carries over.
        match repository_image_key(&image).and_then(|k| self.config.repository_images.get(&k)) {
            Some(user) => stage.user = user.clone().map(|u| (u, ins.line)),
            None => stage.external_base = true,
        }
        self.image_checks(ins, &image, &reference, "base image");
        stage
    }

    fn image_checks(&mut self, ins: &Instruction, image: &str, reference: &ImageRef, what: &str) {
        if reference.digest.is_none() {
            self.report(
                rules::BASE_NO_DIGEST,
                ins,
                format!("{what} `{image}` is not pinned by digest: add `@sha256:…` so the build uses exactly the content you reviewed"),
            );
            match reference.tag.as_deref() {
                None => self.report(
                    rules::BASE_LATEST,
                    ins,
                    format!("{what} `{image}` has no tag, which means `latest`: name a version"),
                ),
                Some("latest") => self.report(
                    rules::BASE_LATEST,
                    ins,
                    format!("{what} `{image}` uses the `latest` tag: name a version"),
                ),
                Some(_) => {}
            }
        }
        let allowed = &self.config.allowed_registries;
        if !allowed.is_empty() && !allowed.iter().any(|a| reference.allowed_by(a)) {
            self.report(
                rules::REGISTRY,
                ins,
                format!(
                    "{what} `{image}` comes from `{}`, which is not in allowed_registries ({})",
                    reference.registry,
                    allowed.join(", ")
                ),
            );
        }
    }

    fn copy(&mut self, ins: &Instruction, stages: &[Stage], vars: &Vars, escape: char) {
        let chmod = ins.flag("chmod").map(str::to_owned);
        if let Some(mode) = chmod {
            if world_writable(&mode) {
                self.report(
                    rules::CHMOD_777,
                    ins,
                    format!("{} --chmod={mode} makes the files world-writable", ins.keyword),
                );
            }
        }
        if ins.keyword == "ADD" && ins.flag("checksum").is_none() {
            let words = match &ins.args {
                Args::Json(w) => w.clone(),
                Args::Shell(t) => t.split_whitespace().map(str::to_owned).collect(),
            };
            let sources = words.len().saturating_sub(1);
            for src in &words[..sources] {
                let lower = src.to_ascii_lowercase();
                if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("git@") {
                    self.report(
                        rules::ADD_URL,
                        ins,
                        format!("ADD downloads `{src}` without verifying it: add `--checksum=sha256:…` or download and check it in a RUN"),
                    );
                }
            }
        }
        let Some(from) = ins.flag("from") else { return };
        let from = expand(from, vars, escape).text;
        let current = stages.len() - 1;
        let lower = from.to_ascii_lowercase();
        if let Ok(n) = from.parse::<usize>() {
            if n >= current {
                self.report(
                    rules::COPY_FROM,
                    ins,
                    format!("COPY --from={n} names no earlier stage (stage {current} is this one)"),
                );
            }
            return;
        }
        if stages[current].name.as_deref() == Some(lower.as_str()) {
            self.report(rules::COPY_FROM, ins, format!("COPY --from={from} names the stage it is in"));
            return;
        }
        if stages[..current].iter().any(|s| s.name.as_deref() == Some(lower.as_str())) {
            return;
        }
        if from.contains(['/', ':', '@', '.']) {
            // An image reference: Docker pulls it, so it is checked like a base image.
            let reference = ImageRef::parse(&from);
            self.image_checks(ins, &from, &reference, "COPY --from image");
        } else {
            let known: Vec<&str> = stages[..current].iter().filter_map(|s| s.name.as_deref()).collect();
            self.report(
                rules::COPY_FROM,
                ins,
                format!(
                    "COPY --from={from} names no earlier stage ({}), so Docker pulls the image `{from}` from Docker Hub",
                    if known.is_empty() { "none is named".to_owned() } else { format!("stages: {}", known.join(", ")) }
                ),
            );
        }
    }

    fn run_instruction(&mut self, ins: &Instruction, stage_pip_no_cache: bool) {
        let mut commands: Vec<Command> = Vec::new();
        match &ins.args {
            Args::Json(words) => {
                let shell = words.first().map(|w| w.rsplit('/').next().unwrap_or(w));
                if matches!(shell, Some("sh" | "bash" | "ash" | "dash" | "zsh"))
                    && words.get(1).is_some_and(|w| w == "-c")
                {
                    commands.extend(shell::split(words.get(2).map_or("", String::as_str)));
                } else {
                    commands.push(Command { words: words.clone(), redirects: Vec::new(), join: Join::Sequence });
                }
            }
            Args::Shell(text) => {
                let script = shell::split(text);
                // `RUN <<EOF` (or `RUN bash <<EOF`): the heredoc is the script.
                let runs_heredoc = script.first().is_none_or(|c| {
                    c.words.first().is_some_and(|w| w.starts_with("<<"))
                        || (matches!(c.name(), "sh" | "bash" | "ash" | "dash" | "zsh") && c.words.len() <= 2)
                });
                commands.extend(script);
                if runs_heredoc {
                    for doc in &ins.heredocs {
                        commands.extend(shell::split(&doc.body));
                    }
                }
            }
        }
        let cache_mount =
            ins.flags.iter().any(|f| f.name == "mount" && f.value.as_deref().is_some_and(|v| v.contains("type=cache")));
        let verifies = commands.iter().any(|c| {
            let n = c.name();
            matches!(
                n,
                "sha256sum"
                    | "sha512sum"
                    | "sha384sum"
                    | "sha224sum"
                    | "sha1sum"
                    | "shasum"
                    | "md5sum"
                    | "b2sum"
                    | "gpgv"
                    | "cosign"
                    | "minisign"
                    | "slsa-verifier"
                    | "signify"
            ) || (n == "gpg" && c.words.iter().any(|w| w == "--verify"))
                || (n == "openssl" && c.words.iter().any(|w| w == "dgst"))
                || c.words.iter().any(|w| w == "--checksum" || w.starts_with("--checksum="))
        });

        // sudo
        if commands.iter().any(|c| c.words.iter().find(|w| !is_assignment(w)).is_some_and(|w| w == "sudo")) {
            self.report(rules::SUDO, ins, "RUN uses sudo: use `USER root` for privileged steps instead".to_owned());
        }
        // chmod 777
        for c in &commands {
            if c.name() == "chmod" {
                if let Some(mode) = c.program()[1..].iter().find(|w| !w.starts_with('-') || world_writable(w)) {
                    if world_writable(mode) {
                        self.report(rules::CHMOD_777, ins, format!("chmod {mode} makes files world-writable"));
                    }
                }
            }
        }
        // Downloads: piped to a shell, or saved without verification.
        let mut piped_to_shell = false;
        let mut unverified: Option<String> = None;
        for (i, c) in commands.iter().enumerate() {
            let n = c.name();
            if n == "curl" || n == "wget" {
                let Some(url) = c.program().iter().find(|w| w.contains("://")).cloned() else { continue };
                if is_local(&url) || is_verification_material(&url) {
                    continue;
                }
                // The rest of this pipeline.
                let mut j = i;
                let mut sink_shell = false;
                let mut key_import = false;
                while commands[j].join == Join::Pipe && j + 1 < commands.len() {
                    j += 1;
                    let sink = commands[j].name();
                    sink_shell |= is_interpreter(sink) && !commands[j].program().iter().any(|w| w == "-n");
                    key_import |= matches!(sink, "gpg" | "apt-key" | "tee")
                        && commands[j].program().iter().any(|w| w.contains("key") || w.contains("gpg"));
                }
                if sink_shell {
                    piped_to_shell = true;
                    self.report(
                        rules::PIPE_SHELL,
                        ins,
                        format!("`{n} {url}` is piped to `{}`: the script runs unverified", commands[j].name()),
                    );
                } else if !key_import && unverified.is_none() {
                    unverified = Some(format!("{n} {url}"));
                }
            } else if is_interpreter(n) || n == "eval" {
                // `sh -c "$(curl …)"`, `bash <(curl …)`.
                if let Some(w) = c
                    .words
                    .iter()
                    .find(|w| ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"].iter().any(|p| w.contains(p)))
                {
                    piped_to_shell = true;
                    self.report(
                        rules::PIPE_SHELL,
                        ins,
                        format!("`{n}` runs a downloaded script unverified (`{}`)", truncate_chars(w, 80)),
                    );
                }
            }
        }
        if let (Some(what), false, false) = (unverified, verifies, piped_to_shell) {
            self.report(
                rules::NO_CHECKSUM,
                ins,
                format!(
                    "`{what}` downloads a file that this RUN never verifies (no sha256sum, gpg --verify, cosign …)"
                ),
            );
        }
        // Package managers.
        let mut apt = false;
        let mut apk_cached = false;
        let mut pip_cached = false;
        for c in &commands {
            if let Some((manager, unpinned)) = unpinned_packages(c) {
                if !unpinned.is_empty() {
                    let shown: Vec<&str> = unpinned.iter().take(5).map(String::as_str).collect();
                    let more =
                        if unpinned.len() > 5 { format!(" and {} more", unpinned.len() - 5) } else { String::new() };
                    self.report(
                        rules::UNPINNED,
                        ins,
                        format!("{manager} installs {}{more} without a version: pin it", shown.join(", ")),
                    );
                }
                let p = c.program();
                match manager {
                    "apt-get" => apt = true,
                    "apk" => apk_cached |= !p.iter().any(|w| w == "--no-cache"),
                    "pip" => pip_cached |= !p.iter().any(|w| w == "--no-cache-dir") && !stage_pip_no_cache,
                    _ => {}
                }
            }
        }
        if !cache_mount {
            let removes = |prefix: &str| {
                commands.iter().any(|c| c.name() == "rm" && c.program().iter().any(|w| w.starts_with(prefix)))
            };
            if apt && !removes("/var/lib/apt/lists") {
                self.report(
                    rules::CACHE,
                    ins,
                    "apt lists are left in the image: end the RUN with `rm -rf /var/lib/apt/lists/*`".to_owned(),
                );
            }
            if apk_cached && !removes("/var/cache/apk") {
                self.report(rules::CACHE, ins, "apk's cache is left in the image: use `apk add --no-cache`".to_owned());
            }
            if pip_cached && !removes("/root/.cache") {
                self.report(
                    rules::CACHE,
                    ins,
                    "pip's cache is left in the image: use `pip install --no-cache-dir`".to_owned(),
                );
            }
        }
    }

    /// `ARG NAME[=value]`: secret-looking names as build arguments, and secret values.
    fn secret_in_arg(&mut self, ins: &Instruction, name: &str, value: Option<&str>) {
        match value {
            Some(v) if !v.is_empty() && !is_placeholder(v) => {
                self.secret_values(ins, &[(name.to_owned(), v.to_owned())])
            }
            // No default, or a placeholder one: the secret comes at build time, into the history.
            _ if secret_name(name) => {
                self.report(
                    rules::SECRET_ARG,
                    ins,
                    format!(
                        "build argument `{name}` looks like a secret; build arguments are kept in the image history"
                    ),
                );
            }
            _ => {}
        }
    }

    /// Secrets in `ENV`/`ARG` values: the secrets engine on the instruction, then secret-looking
    /// names with literal values. Every message and snippet is redacted.
    fn secret_values(&mut self, ins: &Instruction, pairs: &[(String, String)]) {
        let found = self.secrets.scan_bytes(self.path, ins.source.as_bytes());
        let mut reported_lines = Vec::new();
        for f in &found {
            let line = ins.line + f.line.saturating_sub(1);
            reported_lines.push(line);
            let Some(rule) = rules::rule(rules::SECRET_VALUE) else { return };
            self.findings.push(Finding {
                rule,
                line,
                end_line: line,
                message: format!(
                    "{} stores a secret ({}, rule {}) in the image: revoke and rotate it",
                    ins.keyword, f.redacted, f.rule_id
                ),
                snippet: f.line_redacted.clone(),
                secret_sha256: Some(f.secret_sha256.clone()),
                uncertain: false,
            });
        }
        if !found.is_empty() {
            return;
        }
        for (name, value) in pairs {
            let named = secret_name(name) && literal_secret_value(value);
            // `ARG CTF_KEY=TRwzkRJnHOTckssAeyJbysWgP!Qc2T`: a key by name, random by content.
            let keyed = key_name(name) && high_entropy_literal(value);
            if !named && !keyed {
                continue;
            }
            let redacted = redact(value);
            let Some(rule) = rules::rule(rules::SECRET_VALUE) else { return };
            self.findings.push(Finding {
                rule,
                line: ins.line,
                end_line: ins.end_line,
                message: format!(
                    "{} {name} holds a literal secret ({redacted}) stored in the image: revoke and rotate it",
                    ins.keyword
                ),
                snippet: format!("{} {name}={redacted}", ins.keyword),
                secret_sha256: Some(hex::encode(Sha256::digest(value.as_bytes()))),
                uncertain: false,
            });
        }
    }
}

/// Whether an unresolved `FROM` reference is the name of an earlier stage with a variable
/// part: its literal text before the first `$` starts a stage name.
fn names_a_stage(raw: &str, stages: &[Stage]) -> bool {
    let prefix = raw.split('$').next().unwrap_or("").to_ascii_lowercase();
    !prefix.is_empty() && stages.iter().filter_map(|s| s.name.as_deref()).any(|n| n.starts_with(&prefix))
}

fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The redacted form the secrets engine uses: at most a quarter of the value, at most four
/// characters, then the length.
fn redact(secret: &str) -> String {
    let total = secret.chars().count();
    let shown: String = secret.chars().take((total / 4).min(4)).collect();
    format!("{shown}…({total} chars)")
}

/// Names that say they hold a credential (`DB_PASSWORD`, `NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`)
/// but not names of files, paths or ids that point at one (`PASSWORD_FILE`, `TOKEN_URL`).
pub(crate) fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let hit = [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "private_key",
        "access_key",
        "credential",
        "auth_key",
    ]
    .iter()
    .any(|k| n.contains(k));
    let pointer = ["_file", "_path", "_dir", "_url", "_name", "_id", "_type", "_length", "_len", "_size", "_env"]
        .iter()
        .any(|s| n.ends_with(s));
    hit && !pointer
}

fn literal_secret_value(value: &str) -> bool {
    let v = value.trim();
    v.chars().count() >= 6
        && !v.starts_with(['$', '/', '<', '{'])
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "none" | "null" | "changeme" | "secret" | "password"
        )
        && !is_placeholder(v)
}

/// A default that says what to put there rather than being it: lowercase words, maybe joined
/// (`default`, `if_you_see_this_please_use_k8s`, `your-token-here`). A credential has digits,
/// capitals or symbols.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lowered = v.trim_start_matches("<").trim_end_matches(">");
    lowered.chars().all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '-' | ' ' | '.'))
        || lowered.chars().all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '_'))
        || (lowered.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
            && lowered.split(['_', '-', '.']).filter(|w| w.chars().any(|c| c.is_ascii_lowercase())).count() >= 3)
        // A sentence in words of any case: `if_you_see_this_please_use_K8S_and_Vault`.
        || lowered.split(['_', '-', ' ']).filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic())).count()
            >= 5
}

/// Names that end in a key (`CTF_KEY`, `SIGNING_KEY`): a key only when its value is random.
fn key_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "key" || n.ends_with("_key") || n.ends_with("-key")
}

/// A literal that looks generated: at least 16 characters of three kinds or more (lower,
/// upper, digit, symbol), 3.5 bits of entropy per character or more, and not a hex digest
/// (a `GPG_KEY` fingerprint is public).
fn high_entropy_literal(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 16 || v.starts_with('$') || v.chars().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    let kinds = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    kinds.iter().filter(|k| **k).count() >= 3 && sluice_secrets::entropy(v.as_bytes()) >= 3.5
}

fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or(user).trim();
    u == "root" || u == "0"
}

fn exposes_ssh(port: &str) -> bool {
    let p = port.split('/').next().unwrap_or(port);
    match p.split_once('-') {
        Some((a, b)) => matches!((a.parse::<u32>(), b.parse::<u32>()), (Ok(a), Ok(b)) if a <= 22 && 22 <= b),
        None => p == "22",
    }
}

/// A chmod mode that gives "others" write permission (`777`, `0666`, `a+w`, `o+rwx`, `+w`),
/// but not sticky-bit modes (`1777`, the normal mode of /tmp).
pub(crate) fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        let digits: Vec<u32> = mode.chars().filter_map(|c| c.to_digit(8)).collect();
        if digits.len() == 4 && digits[0] & 1 == 1 {
            return false;
        }
        return digits.len() >= 3 && digits[digits.len() - 1] & 2 == 2;
    }
    mode.split(',').any(|clause| {
        let Some(op) = clause.find(['+', '=']) else { return false };
        let who = &clause[..op];
        (who.is_empty() || who.contains(['a', 'o'])) && clause[op..].contains('w')
    })
}

fn is_local(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

fn is_verification_material(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    [
        ".asc",
        ".sig",
        ".sha256",
        ".sha512",
        ".sha256sum",
        "sha256sums",
        "shasums",
        ".gpg",
        ".pub",
        ".key",
        "checksums.txt",
    ]
    .iter()
    .any(|s| u.ends_with(s))
}

fn is_interpreter(name: &str) -> bool {
    matches!(name, "sh" | "bash" | "zsh" | "dash" | "ash" | "ksh" | "python" | "python3" | "perl" | "ruby" | "node")
}

/// The package manager a command runs and the packages it installs without a version.
fn unpinned_packages(c: &Command) -> Option<(&'static str, Vec<String>)> {
    let p = c.program();
    let name = c.name();
    let (manager, args, takes_value): (&str, &[String], &[&str]) = match name {
        "apt-get" | "apt" | "aptitude" => {
            let at = p.iter().position(|w| w == "install")?;
            ("apt-get", &p[at + 1..], &["-o", "-t", "--target-release", "-c"])
        }
        "apk" => {
            let at = p.iter().position(|w| w == "add")?;
            (
                "apk",
                &p[at + 1..],
                &[
                    "-t",
                    "--virtual",
                    "-X",
                    "--repository",
                    "--arch",
                    "-p",
                    "--root",
                    "--repositories-file",
                    "--keys-dir",
                ],
            )
        }
        "pip" | "pip3" => {
            let at = p.iter().position(|w| w == "install")?;
            ("pip", &p[at + 1..], PIP_VALUE_OPTIONS)
        }
        "python" | "python3"
            if p.get(1).is_some_and(|w| w == "-m") && p.get(2).is_some_and(|w| w == "pip" || w == "pip3") =>
        {
            let at = p.iter().position(|w| w == "install")?;
            ("pip", &p[at + 1..], PIP_VALUE_OPTIONS)
        }
        "npm" | "yarn" | "pnpm" => {
            let verb = p.get(1)?;
            if !matches!(verb.as_str(), "install" | "i" | "add") {
                return None;
            }
            ("npm", &p[2..], &["--prefix", "--registry"])
        }
        _ => return None,
    };
    let mut unpinned = Vec::new();
    let mut skip = false;
    for arg in args {
        if skip {
            skip = false;
            continue;
        }
        if arg.starts_with('-') {
            skip = takes_value.contains(&arg.as_str());
            if manager == "pip"
                && matches!(arg.as_str(), "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable")
            {
                skip = true;
            }
            continue;
        }
        if manager == "pip" && arg.starts_with("git+") {
            // `git+https://host/repo.git@v1.2` is pinned to a ref; without `@`, a branch head.
            let path = arg.split("://").nth(1).unwrap_or(arg);
            if !path.contains('@') {
                unpinned.push(arg.clone());
            }
            continue;
        }
        if arg.contains('$') || arg.contains("://") || arg.starts_with(['.', '/', '~']) {
            continue;
        }
        let pinned = match manager {
            "apt-get" => arg.contains('=') || arg.ends_with(".deb"),
            "apk" => arg.contains(['=', '~', '>', '<']) || arg.ends_with(".apk"),
            "pip" => {
                arg.contains("==")
                    || arg.contains(" @ ")
                    || arg.contains('@')
                    || [".whl", ".tar.gz", ".zip"].iter().any(|s| arg.ends_with(s))
            }
            _ => arg.get(1..).is_some_and(|rest| rest.contains('@')) || arg.starts_with("git") || arg.ends_with(".tgz"),
        };
        if !pinned {
            unpinned.push(arg.clone());
        }
    }
    Some((manager, unpinned))
}

const PIP_VALUE_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--trusted-host",
    "--cache-dir",
    "--src",
    "--upgrade-strategy",
];

/// `ARG A=1 B` → [(A, Some(1)), (B, None)].
fn arg_pairs(text: &str) -> Vec<(String, Option<String>)> {
    shell::split(text)
        .into_iter()
        .flat_map(|c| c.words)
        .map(|w| match w.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (w, None),
        })
        .collect()
}

/// `ENV A=1 B="x y"` or the legacy `ENV A 1 2`.
fn env_pairs(text: &str) -> Vec<(String, String)> {
    let words: Vec<String> = shell::split(text).into_iter().flat_map(|c| c.words).collect();
    match words.first() {
        Some(first) if !first.contains('=') => {
            // The value is the raw text after the key's word: the key may have been quoted, so
            // its unquoted length says nothing about where it ends in `text`.
            let rest = text.trim_start().split_once(char::is_whitespace).map_or("", |(_, r)| r).trim();
            vec![(first.clone(), rest.trim_matches(['"', '\'']).to_owned())]
        }
        _ => words.into_iter().filter_map(|w| w.split_once('=').map(|(n, v)| (n.to_owned(), v.to_owned()))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_env_with_a_quoted_key_and_multibyte_value() {
        // Found by the property test: the key's unquoted length was used as a byte offset
        // into the raw text, which panicked inside a multibyte character.
        assert_eq!(env_pairs("'a' ᰙᰙ"), [("a".to_owned(), "ᰙᰙ".to_owned())]);
        assert_eq!(env_pairs("'öȺ.¥' x y"), [("öȺ.¥".to_owned(), "x y".to_owned())]);
        assert_eq!(env_pairs("KEY value with spaces"), [("KEY".to_owned(), "value with spaces".to_owned())]);
        assert_eq!(env_pairs("KEY"), [("KEY".to_owned(), String::new())]);
    }

    #[test]
    fn modes() {
        for m in ["777", "0777", "666", "a+w", "o+rwx", "+w", "u+x,o+w"] {
            assert!(world_writable(m), "{m}");
        }
        for m in ["755", "1777", "u+w", "g+w", "0644", "-R"] {
            assert!(!world_writable(m), "{m}");
        }
    }

    #[test]
    fn placeholders_are_not_secrets_and_random_keys_are() {
        for placeholder in [
            "if_you_see_this_please_use_k8s",
            "if_you_see_this_please_use_K8S_and_Vault",
            "default",
            "your-token-here",
            "<token>",
            "xxxxxxxx",
        ] {
            assert!(!literal_secret_value(placeholder), "{placeholder}");
        }
        assert!(literal_secret_value("s3cr3t-Pa55") && literal_secret_value("hunter2!"));
        assert!(key_name("CTF_KEY") && key_name("signing-key") && !key_name("KEYRING") && !key_name("MONKEY_ID"));
        assert!(high_entropy_literal("TRwzkRJnHOTckssAeyJbysWgP!Qc2T"));
        // A GPG fingerprint, a version, a phrase: not random secrets.
        for public in ["A035C8C19219BA821ECEA86B64E628F8D684696D", "3.12.4", "if_you_see_this_please_use_k8s"] {
            assert!(!high_entropy_literal(public), "{public}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(secret_name("DB_PASSWORD") && secret_name("npm_token") && secret_name("AWS_SECRET_ACCESS_KEY"));
        assert!(!secret_name("PASSWORD_FILE") && !secret_name("TOKEN_URL") && !secret_name("VERSION"));
    }

    #[test]
    fn ports() {
        assert!(exposes_ssh("22") && exposes_ssh("22/tcp") && exposes_ssh("20-25"));
        assert!(!exposes_ssh("2222") && !exposes_ssh("8022"));
    }
}
