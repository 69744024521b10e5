//! A policy: Rego sources (files, or a built-in profile), their digest, and loading them into
//! a regorus engine the way conftest users expect.

use std::path::{Path, PathBuf};

use regorus::unstable::{Rule, RuleHead};
use regorus::Engine;
use sha2::{Digest, Sha256};

use crate::error::PolicyError;
use crate::profiles;

/// One Rego module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// How errors name it: the path given, or `builtin/<profile>/<file>.rego`.
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// `constrained`, `velocity`, or the files' paths joined with `, `.
    pub name: String,
    pub sources: Vec<Source>,
    /// A built-in profile (its input expectations are known; no unknown-field check needed).
    pub builtin: bool,
}

impl Policy {
    /// A built-in profile with the shared library (`sluice.lib`); `with_tests` adds its Rego
    /// unit tests (for `sluice policy test`).
    pub fn profile(name: &str, with_tests: bool) -> Result<Policy, PolicyError> {
        let sources =
            profiles::sources(name, with_tests).ok_or_else(|| PolicyError::UnknownProfile(name.to_owned()))?;
        Ok(Policy { name: name.to_owned(), sources, builtin: true })
    }

    /// Every built-in profile and the shared library in one policy (each module once), for
    /// testing them all together.
    pub fn builtin_all(with_tests: bool) -> Policy {
        Policy { name: "built-in profiles".to_owned(), sources: profiles::all_sources(with_tests), builtin: true }
    }

    /// Policy files; a directory contributes its `.rego` files (recursively, sorted).
    pub fn from_paths(paths: &[PathBuf]) -> Result<Policy, PolicyError> {
        let mut files = Vec::new();
        for path in paths {
            if path.is_dir() {
                let before = files.len();
                collect_rego(path, &mut files)?;
                if files.len() == before {
                    return Err(PolicyError::EmptyDir { path: path.clone() });
                }
            } else {
                files.push(path.clone());
            }
        }
        let mut sources = Vec::new();
        for file in &files {
            let text =
                std::fs::read_to_string(file).map_err(|source| PolicyError::Read { path: file.clone(), source })?;
            sources.push(Source { path: file.display().to_string(), text });
        }
        let name = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
        Ok(Policy { name, sources, builtin: false })
    }

    /// `sha256:<hex>` over every module's path and text, in path order: what an attestation
    /// records, so an auditor can tell exactly which policy decided.
    pub fn digest(&self) -> String {
        let mut sorted: Vec<&Source> = self.sources.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        let mut h = Sha256::new();
        for s in sorted {
            h.update(s.path.as_bytes());
            h.update([0]);
            h.update(s.text.as_bytes());
            h.update([0]);
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

fn collect_rego(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PolicyError> {
    let read = |p: &Path| std::fs::read_dir(p).map_err(|source| PolicyError::Read { path: p.to_owned(), source });
    let mut entries: Vec<PathBuf> = read(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_rego(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "rego") {
            out.push(entry);
        }
    }
    Ok(())
}

/// Adds every module to `engine`. Each file is read as Rego v1 (OPA 1.0, conftest ≥ 0.56) and,
/// failing that, as Rego v0 (`deny[msg] { … }`), so conftest policies of either era load
/// unchanged; a file valid in neither is a syntax error reporting the v1 parser's message.
pub fn load(engine: &mut Engine, policy: &Policy) -> Result<(), PolicyError> {
    for source in &policy.sources {
        engine.set_rego_v0(false);
        if let Err(v1) = engine.add_policy(source.path.clone(), source.text.clone()) {
            engine.set_rego_v0(true);
            let v0 = engine.add_policy(source.path.clone(), source.text.clone());
            engine.set_rego_v0(false);
            if v0.is_err() {
                return Err(PolicyError::Syntax { file: source.path.clone(), message: clean(&v1.to_string()) });
            }
        }
    }
    Ok(())
}

/// regorus errors start with the file name and carry a source excerpt; keep them whole but
/// without trailing blank lines.
pub(crate) fn clean(message: &str) -> String {
    message.trim_end().to_owned()
}

/// A rule defined in a loaded module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleRef {
    /// Package path without `data.` (`main`, `sluice.constrained`).
    pub package: String,
    pub name: String,
    pub file: String,
    pub line: u32,
}

impl RuleRef {
    pub fn query(&self) -> String {
        format!("data.{}.{}", self.package, self.name)
    }
}

/// Every distinct (package, rule name) defined in the engine's modules, sorted. Function
/// definitions are left out (they are not decisions or tests).
pub fn rules(engine: &mut Engine) -> Vec<RuleRef> {
    let mut out: Vec<RuleRef> = Vec::new();
    for module in engine.get_modules().iter() {
        let Ok(components) = regorus::unstable::Parser::get_path_ref_components(&module.package.refr) else {
            continue;
        };
        let mut parts: Vec<&str> = components.iter().map(|s| s.text()).collect();
        if parts.first() == Some(&"data") {
            parts.remove(0);
        }
        let package = parts.join(".");
        for rule in &module.policy {
            let (refr, span) = match rule.as_ref() {
                Rule::Spec { head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. }, span, .. } => {
                    (refr, span)
                }
                Rule::Default { refr, span, .. } => (refr, span),
                Rule::Spec { head: RuleHead::Func { .. }, .. } => continue,
            };
            let Ok(components) = regorus::unstable::Parser::get_path_ref_components(refr) else {
                continue;
            };
            let Some(name) = components.first().map(|s| s.text().to_owned()) else {
                continue;
            };
            if !out.iter().any(|r| r.package == package && r.name == name) {
                out.push(RuleRef {
                    package: package.clone(),
                    name,
                    file: span.source.get_path().clone(),
                    line: span.line,
                });
            }
        }
    }
    out.sort();
    out
}

/// conftest's decision rules: `deny`, `violation`, `warn`, and the same names with a `_suffix`.
pub fn decision_kind(name: &str) -> Option<DecisionKind> {
    let is = |base: &str| name == base || name.strip_prefix(base).is_some_and(|rest| rest.starts_with('_'));
    if is("deny") || is("violation") {
        Some(DecisionKind::Deny)
    } else if is("warn") {
        Some(DecisionKind::Warn)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    Deny,
    Warn,
}

/// Checks that a user policy reads only input fields that exist, at any depth of the documented
/// input (`docs/policy-input.v1.schema.json`): `input.kind`, `input.run.brnach` or
/// `input.results[_].propertes` would otherwise be undefined, find nothing to deny and silently
/// allow; this turns that into an error naming the file and line. Paths are followed through
/// `.field`, `["field"]` and `[index]`; what a variable bound to part of the input reads is not.
pub fn check_input_fields(policy: &Policy, version: u32) -> Result<(), PolicyError> {
    let schema = crate::input::schema();
    for source in &policy.sources {
        let Ok(src) = regorus::Source::from_contents(source.path.clone(), source.text.clone()) else {
            continue; // parse errors are reported by `load`
        };
        use regorus::unstable::TokenKind;
        let mut lexer = regorus::unstable::Lexer::new(&src);
        let mut tokens = Vec::new();
        while let Ok(token) = lexer.next_token() {
            if token.0 == TokenKind::Eof {
                break;
            }
            tokens.push(token);
        }
        let text = |i: usize| tokens.get(i).map(|t| t.1.text());
        let kind = |i: usize| tokens.get(i).map(|t| t.0.clone());
        for i in 0..tokens.len() {
            let after_dot = i > 0 && text(i - 1) == Some(".");
            if kind(i) != Some(TokenKind::Ident) || text(i) != Some("input") || after_dot {
                continue;
            }
            let mut node = Some(&schema);
            let mut path = String::new();
            let mut at = i + 1;
            while let Some(current) = node {
                let (step, line, next) = match text(at) {
                    Some(".") if kind(at + 1) == Some(TokenKind::Ident) => {
                        (Step::Field(text(at + 1).unwrap_or_default().to_owned()), tokens[at + 1].1.line, at + 2)
                    }
                    Some("[") if kind(at + 1) == Some(TokenKind::String) && text(at + 2) == Some("]") => {
                        let name = text(at + 1).unwrap_or_default().trim_matches('"').to_owned();
                        (Step::Field(name), tokens[at + 1].1.line, at + 3)
                    }
                    Some("[") => {
                        // Skip to the matching `]`: an index or a key the policy computes.
                        let mut depth = 0usize;
                        let mut j = at;
                        while let Some(t) = text(j) {
                            match t {
                                "[" => depth += 1,
                                "]" => {
                                    depth -= 1;
                                    if depth == 0 {
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            j += 1;
                        }
                        (Step::Index, tokens[at].1.line, j + 1)
                    }
                    _ => break,
                };
                match &step {
                    Step::Field(name) => {
                        path.push('.');
                        path.push_str(name);
                    }
                    Step::Index => path.push_str("[_]"),
                }
                match crate::input::schema_child(&schema, current, &step) {
                    Ok(child) => node = child,
                    Err(known) => {
                        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
                        return Err(PolicyError::UnknownInputField {
                            file: source.path.clone(),
                            line,
                            field: path.trim_start_matches('.').to_owned(),
                            parent: format!("input{parent}"),
                            version,
                            known: if known.is_empty() { "no fields".to_owned() } else { known.join(", ") },
                        });
                    }
                }
                at = next;
            }
        }
    }
    Ok(())
}

/// One step of a path into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Field(String),
    /// `[i]`, `[_]`, `[key]`: an element or a computed key.
    Index,
}
