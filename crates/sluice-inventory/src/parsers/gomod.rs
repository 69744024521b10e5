//! `go.mod`: `require` lines (single and blocks); `// indirect` marks transitive modules.
//! Since Go 1.17 go.mod lists every module the build needs, so go.sum (which also holds
//! modules that were only considered) adds no packages; its `h1:` values hash a module's file
//! tree, not an artifact, so they are not recorded as hashes either.
//!
//! `replace` directives are applied: a module replaced by another module at a version is
//! that module; one replaced by a local directory is a `Path` source.

use std::collections::HashMap;

use super::{package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{Ecosystem, Package, Relationship, Source};

struct Require {
    path: String,
    version: String,
    indirect: bool,
    line: u32,
}

enum Target {
    Module(String, String),
    Dir(String),
}

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let mut requires = Vec::new();
    // (path, version or "") → replacement.
    let mut replaces: HashMap<(String, String), Target> = HashMap::new();
    let mut block: Option<String> = None;
    let mut saw_module = false;
    for (i, raw) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (code, comment) = match raw.find("//") {
            Some(at) => (&raw[..at], &raw[at + 2..]),
            None => (raw, ""),
        };
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        let (verb, rest) = match &block {
            Some(verb) if code == ")" => {
                let _ = verb;
                block = None;
                continue;
            }
            Some(verb) => (verb.clone(), code),
            None => {
                let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(verb.to_string());
                    continue;
                }
                (verb.to_string(), rest)
            }
        };
        match verb.as_str() {
            "module" => saw_module = true,
            "require" => {
                let mut words = rest.split_whitespace();
                let (Some(path), Some(version)) = (words.next(), words.next()) else {
                    return Err(syntax(Some(number), "a require line needs a module path and a version"));
                };
                requires.push(Require {
                    path: unquote(path),
                    version: version.to_string(),
                    indirect: comment.split(';').any(|c| c.trim() == "indirect"),
                    line: number,
                });
            }
            "replace" => {
                let Some((from, to)) = rest.split_once("=>") else {
                    return Err(syntax(Some(number), "a replace line needs `=>`"));
                };
                let mut from = from.split_whitespace();
                let from_path = unquote(from.next().unwrap_or_default());
                let from_version = from.next().unwrap_or_default().to_string();
                let mut to = to.split_whitespace();
                let to_path = unquote(to.next().unwrap_or_default());
                let target = match to.next() {
                    Some(v) => Target::Module(to_path, v.to_string()),
                    None => Target::Dir(to_path),
                };
                replaces.insert((from_path, from_version), target);
            }
            _ => {}
        }
    }
    if !saw_module && requires.is_empty() {
        return Err(syntax(None, "no module directive: this is not a go.mod file"));
    }
    let mut out = Vec::new();
    for req in requires {
        let replaced = replaces
            .get(&(req.path.clone(), req.version.clone()))
            .or_else(|| replaces.get(&(req.path.clone(), String::new())));
        let mut pkg = match replaced {
            Some(Target::Module(path, version)) => package(Ecosystem::Go, path, version, ctx.path, req.line),
            Some(Target::Dir(dir)) => {
                let mut p = package(Ecosystem::Go, &req.path, &req.version, ctx.path, req.line);
                p.source = Source::Path(dir.clone());
                p
            }
            None => package(Ecosystem::Go, &req.path, &req.version, ctx.path, req.line),
        };
        pkg.relationship = if req.indirect { Relationship::Transitive } else { Relationship::Direct };
        out.push(pkg);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '`').to_string()
}
