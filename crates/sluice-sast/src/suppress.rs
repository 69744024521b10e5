//! `sluice:ignore` comments: `# sluice:ignore[python.sql-injection]` at the end of the flagged
//! line, or alone on the line before it. Without a rule list (`sluice:ignore`) every rule is
//! silenced there. Only comments count: the text in a string literal is data.

const DIRECTIVE: &str = "sluice:ignore";

/// The suppressions of one file.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// 1-based line the comment is on.
    line: u32,
    /// Code precedes the comment on its line: it covers that line's statement; otherwise
    /// the next line.
    trailing: bool,
    /// `None`: every rule.
    rules: Option<Vec<String>>,
}

impl Suppressions {
    /// Records a comment if it holds a directive. `code_before` says whether anything but
    /// whitespace precedes it on its line.
    pub(crate) fn observe_comment(&mut self, text: &str, line: u32, code_before: bool) {
        let Some(at) = text.find(DIRECTIVE) else { return };
        let rest = &text[at + DIRECTIVE.len()..];
        let rules = match rest.strip_prefix('[') {
            Some(list) => match list.split_once(']') {
                Some((ids, _)) => {
                    Some(ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>())
                }
                // An unclosed list is a typo; silencing everything would hide it.
                None => return,
            },
            None if rest.starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_') => return,
            None => None,
        };
        self.entries.push(Entry { line, trailing: code_before, rules });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a finding of `rule` spanning lines `start..=end` is silenced.
    pub(crate) fn covers(&self, rule: &str, start: u32, end: u32) -> bool {
        self.entries.iter().any(|e| {
            let placed =
                if e.trailing { (start..=end).contains(&e.line) } else { e.line + 1 == start || e.line == start };
            placed && e.rules.as_ref().is_none_or(|ids| ids.iter().any(|id| id == rule))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_and_lists() {
        let mut s = Suppressions::default();
        s.observe_comment("# sluice:ignore[a, b]", 10, true);
        s.observe_comment("// sluice:ignore", 20, false);
        s.observe_comment("# sluice:ignore[c", 30, true);
        s.observe_comment("# sluice:ignored", 40, true);
        assert!(s.covers("a", 10, 10) && s.covers("b", 9, 11));
        assert!(!s.covers("c", 10, 10));
        assert!(!s.covers("a", 11, 11), "a trailing comment covers only its own statement");
        assert!(s.covers("anything", 21, 21) && !s.covers("x", 22, 22));
        assert!(!s.covers("c", 30, 30), "an unclosed list silences nothing");
        assert!(!s.covers("x", 40, 40), "`sluice:ignored` is prose, not a directive");
    }
}
