//! Which words a file must contain for a rule to match there, so that one Aho-Corasick pass
//! decides which rules run on a file, and a file no rule can match is never parsed.
//!
//! A requirement is a disjunction of conjunctions of words ([`Dnf`]): the file must contain
//! every word of at least one conjunction. It is derived, never declared, so it cannot go
//! stale: every identifier of an ast-grep pattern is spelled in what the pattern matches; a
//! meta-variable constrained to `^(execute|executemany)$` spells one of those; a name that
//! must resolve to `subprocess.run` needs both `subprocess` (in the import) and `run` (in
//! the call) in the file. `not` contributes nothing; `any` needs one branch; `all`, `has`,
//! `inside` and friends need everything they contain.

use serde_value::Value;

/// Alternatives, each a set of words that must all occur. `None` elsewhere means "no
/// requirement": the rule runs on every file.
pub(crate) type Dnf = Vec<Vec<String>>;

/// More alternatives than this from combining requirements are not worth the matching
/// time; the more selective side is kept instead.
const MAX_ALTERNATIVES: usize = 32;
/// Words kept from one pattern (the longest ones).
const MAX_PATTERN_WORDS: usize = 3;

/// Both requirements: the cross product, or the more selective one when that grows too big.
pub(crate) fn and(a: Option<Dnf>, b: Option<Dnf>) -> Option<Dnf> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            if a.len() * b.len() <= MAX_ALTERNATIVES {
                let mut out = Vec::with_capacity(a.len() * b.len());
                for x in &a {
                    for y in &b {
                        let mut words: Vec<String> = x.iter().chain(y).cloned().collect();
                        words.sort();
                        words.dedup();
                        out.push(words);
                    }
                }
                Some(out)
            } else if score(&a) >= score(&b) {
                Some(a)
            } else {
                Some(b)
            }
        }
    }
}

/// Any of the requirements; unconstrained if one of them is.
fn or(items: Vec<Option<Dnf>>) -> Option<Dnf> {
    let mut out: Dnf = Vec::new();
    for item in items {
        out.extend(item?);
    }
    out.sort();
    out.dedup();
    (!out.is_empty() && out.len() <= MAX_ALTERNATIVES * 4).then_some(out)
}

/// Higher is more selective: the weakest alternative's longest word, then fewer alternatives.
fn score(dnf: &Dnf) -> (usize, std::cmp::Reverse<usize>) {
    let weakest = dnf.iter().map(|c| c.iter().map(String::len).max().unwrap_or(0)).min().unwrap_or(0);
    (weakest, std::cmp::Reverse(dnf.len()))
}

/// The requirement of a serialized ast-grep rule (`SerializableRule` through serde).
pub(crate) fn of_rule(value: &Value) -> Option<Dnf> {
    let Value::Map(map) = value else { return None };
    let get = |key: &str| map.get(&Value::String(key.to_owned()));
    let mut req: Option<Dnf> = None;
    match get("pattern") {
        Some(Value::String(p)) => req = and(req, of_pattern(p)),
        Some(Value::Map(m)) => {
            if let Some(Value::String(p)) = m.get(&Value::String("context".into())) {
                req = and(req, of_pattern(p));
            }
        }
        _ => {}
    }
    if let Some(Value::String(re)) = get("regex") {
        req = and(req, of_regex(re));
    }
    for key in ["has", "inside", "follows", "precedes"] {
        if let Some(sub) = get(key) {
            req = and(req, of_rule(sub));
        }
    }
    if let Some(Value::Seq(all)) = get("all") {
        for sub in all {
            req = and(req, of_rule(sub));
        }
    }
    if let Some(Value::Seq(any)) = get("any") {
        req = and(req, or(any.iter().map(of_rule).collect()));
    }
    req
}

/// Every identifier of a pattern that is not a meta-variable (the longest few).
fn of_pattern(pattern: &str) -> Option<Dnf> {
    let bytes = pattern.as_bytes();
    let mut words: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'$' {
            while i < bytes.len() && bytes[i] == b'$' {
                i += 1;
            }
            while i < bytes.len() && (bytes[i].is_ascii_uppercase() || bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // One-letter words (`_` in a context like `func _() { … }`) say nothing.
            if i - start > 1 {
                words.push(&pattern[start..i]);
            }
            continue;
        }
        i += 1;
    }
    words.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    words.dedup();
    words.truncate(MAX_PATTERN_WORDS);
    (!words.is_empty()).then(|| vec![words.into_iter().map(str::to_owned).collect()])
}

/// Marks a word matched ASCII-case-insensitively (from a `(?i)` regex).
pub(crate) const CASE_INSENSITIVE: char = '\u{1}';

/// `^(execute|executemany)$`, `^name$`: the literal words a regex can only match as. Also
/// `(?i)…(password|secret)…` with exactly one group of literal alternatives and no other
/// alternation or group: one of those words, in any case, is in every match. Anything
/// fancier gives no requirement.
pub(crate) fn of_regex(regex: &str) -> Option<Dnf> {
    if let Some(rest) = regex.strip_prefix("(?i)") {
        return of_case_insensitive_group(rest);
    }
    // A regex without metacharacters matches its text literally, somewhere in the node:
    // the file must contain its longest word.
    if !regex.contains(['\\', '.', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']) {
        let word = regex.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').max_by_key(|w| w.len())?;
        if word.len() >= 3 {
            return Some(vec![vec![word.to_owned()]]);
        }
        // Short literals such as a backtick or `%x` are requirements as good as a word.
        return (!regex.is_empty()).then(|| vec![vec![regex.to_owned()]]);
    }
    let inner = regex.strip_prefix('^')?.strip_suffix('$')?;
    // Optional quotes around the word (a key written `name` or `"name"`) do not change it.
    let inner = inner.strip_prefix("['\"]?").unwrap_or(inner);
    let inner = inner.strip_suffix("['\"]?").unwrap_or(inner);
    let inner = inner
        .strip_prefix("(?:")
        .or_else(|| inner.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(inner);
    let mut out = Vec::new();
    for alt in inner.split('|') {
        let word = alt.replace("\\$", "$");
        let ok = !word.is_empty()
            && word.chars().enumerate().all(|(i, c)| c.is_ascii_alphanumeric() || c == '_' || (c == '$' && i == 0));
        if !ok {
            return None;
        }
        out.push(vec![word]);
    }
    Some(out)
}

fn of_case_insensitive_group(regex: &str) -> Option<Dnf> {
    let open = regex.find('(')?;
    let close = open + regex[open..].find(')')?;
    let (before, group, after) = (&regex[..open], &regex[open + 1..close], &regex[close + 1..]);
    let plain = |s: &str| !s.contains(['(', ')', '|']);
    if !plain(before) || !plain(after) || after.starts_with(['?', '*', '{']) {
        return None;
    }
    let mut out = Vec::new();
    for alt in group.split('|') {
        if alt.is_empty() || !alt.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        out.push(vec![format!("{CASE_INSENSITIVE}{}", alt.to_ascii_lowercase())]);
    }
    Some(out)
}

/// A name that must resolve to one of `targets` (`subprocess.run`, `child_process.exec`,
/// `pickle.*`): its first segment is spelled by the import or the call, and so is its last.
pub(crate) fn of_names(targets: &[String]) -> Option<Dnf> {
    let mut out = Vec::new();
    for target in targets {
        let (prefix_only, name) = match target.strip_suffix(".*") {
            Some(p) => (true, p),
            None => (false, target.as_str()),
        };
        let segments: Vec<&str> = name.split('.').filter(|s| !s.is_empty()).collect();
        let (Some(first), Some(last)) = (segments.first(), segments.last()) else { return None };
        // `fs/promises` is imported as such; its last path part is spelled too.
        let first = first.rsplit('/').next().unwrap_or(first);
        let mut words = vec![first.to_owned()];
        if !prefix_only && last != &first {
            words.push((*last).to_owned());
        }
        words.sort();
        words.dedup();
        out.push(words);
    }
    out.sort();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(items: &[&[&str]]) -> Option<Dnf> {
        Some(items.iter().map(|c| c.iter().map(|s| (*s).to_owned()).collect()).collect())
    }

    #[test]
    fn patterns_regexes_and_names() {
        assert_eq!(of_pattern("$C.execute($Q, $$$)"), w(&[&["execute"]]));
        assert_eq!(of_pattern("$FN($$$ARGS)"), None);
        assert_eq!(of_pattern("new Function($$$)"), w(&[&["Function", "new"]]));
        assert_eq!(of_regex("^(execute|\\$queryRawUnsafe)$"), w(&[&["execute"], &["$queryRawUnsafe"]]));
        assert_eq!(of_regex("\"net/http/pprof\""), w(&[&["pprof"]]));
        assert_eq!(of_regex("a.b"), None);
        assert_eq!(of_regex("`"), w(&[&["`"]]));
        assert_eq!(of_regex("^shell\\s*=\\s*True$"), None);
        assert_eq!(of_regex("^['\"]?(\\$where|x)['\"]?$"), w(&[&["$where"], &["x"]]));
        assert_eq!(of_regex("(?i)^['\"]?[a-z_]*(Password|pwd)['\"]?$"), w(&[&["\u{1}password"], &["\u{1}pwd"]]));
        assert_eq!(of_regex("(?i)^(a|b)?x$"), None);
        assert_eq!(of_regex("(?i)(a|b)|c"), None);
        assert_eq!(of_regex("(?i)(pass(word)?)"), None);
        assert_eq!(of_names(&["subprocess.run".into(), "eval".into()]), w(&[&["eval"], &["run", "subprocess"]]));
        assert_eq!(of_names(&["fs/promises.readFile".into()]), w(&[&["promises", "readFile"]]));
    }

    #[test]
    fn combinators() {
        let any = serde_value::to_value(std::collections::BTreeMap::from([(
            "any",
            vec![
                std::collections::BTreeMap::from([("pattern", "os.system($X)")]),
                std::collections::BTreeMap::from([("pattern", "os.popen($X)")]),
            ],
        )]))
        .unwrap();
        assert_eq!(of_rule(&any), w(&[&["popen", "os"], &["system", "os"]]));
        assert_eq!(and(w(&[&["a"]]), w(&[&["b"], &["c"]])), w(&[&["a", "b"], &["a", "c"]]));
        assert_eq!(and(None, w(&[&["b"]])), w(&[&["b"]]));
    }
}
