//! Variable substitution as the Dockerfile frontend does it for `FROM`, `COPY --from`, `ENV`,
//! `USER`, `EXPOSE` …: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
//! `${VAR+alt}`, and the escape character before `$` for a literal dollar.

use std::collections::BTreeMap;

/// Variables in scope: `None` means declared (`ARG NAME`) without a value.
pub type Vars = BTreeMap<String, Option<String>>;

/// The expanded text and whether every reference had a value (an unresolved reference
/// expands to the empty string, as Docker does, but the caller may want to say so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    pub resolved: bool,
}

/// Expands variable references in `s`.
pub fn expand(s: &str, vars: &Vars, escape: char) -> Expanded {
    let mut out = String::with_capacity(s.len());
    let mut resolved = true;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('{') => {
                // Find the matching brace (nested `${…}` in a default are allowed).
                let mut depth = 1;
                let mut j = i + 2;
                while j < chars.len() && depth > 0 {
                    match chars[j] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if depth != 0 {
                    out.extend(&chars[i..]);
                    break;
                }
                let inner: String = chars[i + 2..j - 1].iter().collect();
                let name_end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
                let (name, op) = inner.split_at(name_end);
                let value = vars.get(name).cloned().flatten();
                let (text, ok) = match op {
                    "" => (value.clone().unwrap_or_default(), value.is_some()),
                    _ if op.starts_with(":-") => match value.filter(|v| !v.is_empty()) {
                        Some(v) => (v, true),
                        None => {
                            let e = expand(&op[2..], vars, escape);
                            (e.text, e.resolved)
                        }
                    },
                    _ if op.starts_with('-') => match value {
                        Some(v) => (v, true),
                        None => {
                            let e = expand(&op[1..], vars, escape);
                            (e.text, e.resolved)
                        }
                    },
                    _ if op.starts_with(":+") => match value.filter(|v| !v.is_empty()) {
                        Some(_) => {
                            let e = expand(&op[2..], vars, escape);
                            (e.text, e.resolved)
                        }
                        None => (String::new(), true),
                    },
                    _ if op.starts_with('+') => match value {
                        Some(_) => {
                            let e = expand(&op[1..], vars, escape);
                            (e.text, e.resolved)
                        }
                        None => (String::new(), true),
                    },
                    // `${VAR?msg}`, `${VAR#pattern}` and friends: keep the value, if any.
                    _ => (value.clone().unwrap_or_default(), value.is_some()),
                };
                resolved &= ok;
                out.push_str(&text);
                i = j;
            }
            Some(n) if n.is_ascii_alphabetic() || *n == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                match vars.get(&name).cloned().flatten() {
                    Some(v) => out.push_str(&v),
                    None => resolved = false,
                }
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Expanded { text: out, resolved }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned))).collect()
    }

    #[test]
    fn forms() {
        let v = vars(&[("A", Some("x")), ("E", Some("")), ("U", None)]);
        let e = |s: &str| expand(s, &v, '\\');
        assert_eq!(e("$A/${A}").text, "x/x");
        assert_eq!(e("${E:-d}|${E-d}|${U:-d}|${N-d}").text, "d||d|d");
        assert_eq!(e("${A:+y}|${E:+y}|${E+y}|${U+y}").text, "y||y|");
        assert_eq!(e("\\$A").text, "$A");
        assert_eq!(e("${N:-${A}1}").text, "x1");
        assert!(!e("$U").resolved);
        assert!(!e("img:$N").resolved);
        assert!(e("${N:-ok}").resolved);
    }
}
