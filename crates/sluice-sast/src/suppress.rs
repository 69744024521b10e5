//! `sluice:ignore` comments: `# sluice:ignore[python.sql-injection]` at the end of the flagged
//! line, or alone on the line before it. Without a rule list (`sluice:ignore`) every rule is
//! silenced there. Only comments count: the text in a string literal is data.
//!
//! A silenced finding is still reported, marked with the comment's reason (the text after the
//! directive): the SARIF carries it as an `inSource` suppression, so a policy decides whether
//! a comment in the code is enough (`velocity`) or not (`constrained`).

const DIRECTIVE: &str = "sluice:ignore";

/// Other tools' directives, honoured like `sluice:ignore` unless `peer_annotations = false`:
/// bandit's and gosec's `nosec` (`# nosec`, `# nosec B602,B607`: a list names their own rule
/// ids, so it silences only findings of a rule with that id) and semgrep's `nosemgrep`
/// (`# nosemgrep`, `# nosemgrep: rule-id, …`).
const PEER_DIRECTIVES: [&str; 2] = ["nosemgrep", "nosec"];

/// The suppressions of one file.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    entries: Vec<Entry>,
    /// Whether [`PEER_DIRECTIVES`] count.
    peer: bool,
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
    /// Only rules about a credential (`sluice:allow`, the secrets stage's directive: one
    /// allow comment covers every credential rule on its line).
    credentials_only: bool,
    /// What the finding's suppression says: the comment's reason, else the directive.
    justification: String,
}

/// The longest justification kept, in characters: a comment is not a place for essays, and
/// the text goes into every report.
const MAX_JUSTIFICATION: usize = 120;

impl Suppressions {
    /// Records a comment if it holds a directive. `code_before` says whether anything but
    /// whitespace precedes it on its line.
    pub(crate) fn new(peer: bool) -> Suppressions {
        Suppressions { entries: Vec::new(), peer }
    }

    pub(crate) fn observe_comment(&mut self, text: &str, line: u32, code_before: bool) {
        // The secrets stage's allow comment, after code on its line (as that stage reads it).
        if code_before {
            let allows = sluice_secrets::allow_directives(self.peer);
            if let Some((at, directive)) = allows.into_iter().find_map(|d| text.find(d).map(|at| (at, d))) {
                let reason = &text[at + directive.len()..];
                let justification = justification(reason).unwrap_or_else(|| directive.to_owned());
                let entry = Entry { line, trailing: true, rules: None, credentials_only: true, justification };
                self.entries.push(entry);
            }
        }
        let Some(at) = text.find(DIRECTIVE) else {
            if self.peer {
                self.observe_peer(text, line, code_before);
            }
            return;
        };
        let rest = &text[at + DIRECTIVE.len()..];
        let (rules, reason) = match rest.strip_prefix('[') {
            Some(list) => match list.split_once(']') {
                Some((ids, reason)) => (
                    Some(
                        ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>(),
                    ),
                    reason,
                ),
                // An unclosed list is a typo; silencing everything would hide it.
                None => return,
            },
            None if rest.starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_') => return,
            None => (None, rest),
        };
        let directive = &text[at..text.len() - reason.len()];
        let justification = justification(reason).unwrap_or_else(|| directive.to_owned());
        self.entries.push(Entry { line, trailing: code_before, rules, credentials_only: false, justification });
    }

    /// A `nosec` or `nosemgrep` directive: a word of its own in the comment, optionally
    /// followed by `:` and a list of rule ids (for `nosec`, ids like `B602` without the colon).
    fn observe_peer(&mut self, text: &str, line: u32, code_before: bool) {
        for directive in PEER_DIRECTIVES {
            // Right after a comment marker (`# nosec`, `//nosemgrep`, `/* nosemgrep */`), as
            // bandit and semgrep read them: "see nosec docs" in prose is not a directive.
            let Some(at) = text.match_indices(directive).map(|(i, _)| i).find(|&i| {
                let before = text[..i].trim_end().chars().next_back();
                let after = text[i + directive.len()..].chars().next();
                before.is_none_or(|c| "#/*-!<;".contains(c))
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            }) else {
                continue;
            };
            let rest = &text[at + directive.len()..];
            let listed = rest.trim_start();
            let (ids, reason) = match listed.strip_prefix(':') {
                Some(list) => split_ids(list, |_| true),
                // `# nosec B602, B607`: bandit's and gosec's ids without a colon.
                None if directive == "nosec" => split_ids(listed, |id| {
                    id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit()) && id.starts_with(['B', 'G'])
                }),
                None => (Vec::new(), rest),
            };
            let rules = (!ids.is_empty()).then_some(ids);
            let justification = justification(reason).unwrap_or_else(|| directive.to_owned());
            self.entries.push(Entry { line, trailing: code_before, rules, credentials_only: false, justification });
            return;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The justification of the comment that silences a finding of `rule` spanning lines
    /// `start..=end`, if one does.
    /// `credential`: whether the rule is about a credential (`sluice_sarif::is_credential_parts`).
    pub(crate) fn covers(&self, rule: &str, credential: bool, start: u32, end: u32) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| {
                let placed =
                    if e.trailing { (start..=end).contains(&e.line) } else { e.line + 1 == start || e.line == start };
                placed
                    && (credential || !e.credentials_only)
                    && e.rules.as_ref().is_none_or(|ids| ids.iter().any(|id| id == rule))
            })
            .map(|e| e.justification.as_str())
    }
}

/// `a, b -- reason` → (`[a, b]`, `-- reason`): the leading comma-separated ids that `is_id`
/// accepts, and the rest.
fn split_ids(text: &str, is_id: impl Fn(&str) -> bool) -> (Vec<String>, &str) {
    let mut ids = Vec::new();
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        let end = trimmed.find(|c: char| c.is_whitespace() || c == ',').unwrap_or(trimmed.len());
        let id = &trimmed[..end];
        if id.is_empty() || !is_id(id) || !id.chars().all(|c| c.is_alphanumeric() || "._-/".contains(c)) {
            return (ids, rest);
        }
        ids.push(id.to_owned());
        rest = &trimmed[end..];
        match rest.trim_start().strip_prefix(',') {
            Some(more) => rest = more,
            None => return (ids, rest),
        }
    }
}

/// The reason written after the directive (`# sluice:ignore[rule] -- legacy protocol`), on one
/// line, without comment terminators or leading punctuation, cut to [`MAX_JUSTIFICATION`];
/// `None` when nothing is written.
fn justification(reason: &str) -> Option<String> {
    let first = reason.lines().next().unwrap_or_default();
    let first = first.trim_end().trim_end_matches("*/").trim_end_matches("-->");
    let text = first.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | '—' | '–' | ',' | ';'));
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= MAX_JUSTIFICATION {
        return Some(text);
    }
    let mut cut: String = text.chars().take(MAX_JUSTIFICATION).collect();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_comment_covers_the_credential_rules_of_its_line() {
        let mut s = Suppressions::new(true);
        s.observe_comment("# sluice:allow rotated in 2024", 3, true);
        s.observe_comment("# gitleaks:allow", 5, true);
        s.observe_comment("# sluice:allow", 7, false);
        assert_eq!(s.covers("python.hardcoded-password", true, 3, 3), Some("rotated in 2024"));
        assert_eq!(s.covers("python.eval-injection", false, 3, 3), None, "not a credential rule");
        assert_eq!(s.covers("python.hardcoded-password", true, 4, 4), None, "its line only");
        assert_eq!(s.covers("python.hardcoded-password", true, 5, 5), Some("gitleaks:allow"));
        assert_eq!(s.covers("python.hardcoded-password", true, 8, 8), None, "not from the line before");
        let mut off = Suppressions::new(false);
        off.observe_comment("# gitleaks:allow", 5, true);
        assert_eq!(off.covers("python.hardcoded-password", true, 5, 5), None);
    }

    #[test]
    fn peer_directives_when_honoured() {
        let mut s = Suppressions::new(true);
        s.observe_comment("# nosec", 1, true);
        s.observe_comment("# nosec B602, B607 -- shell is fixed", 2, true);
        s.observe_comment("// nosemgrep: python.sql-injection, other", 3, true);
        s.observe_comment("/* nosemgrep */", 4, false);
        s.observe_comment("# see the nosec docs", 10, true);
        s.observe_comment("# nosecurity", 11, true);
        s.observe_comment("# nosemgrep-like", 12, true);
        s.observe_comment("#nosec because the input is a constant", 13, true);
        assert_eq!(s.covers("python.any", false, 1, 1), Some("nosec"));
        // Bandit's ids name bandit's rules: not sluice's, which they do not cover.
        assert_eq!(s.covers("B602", false, 2, 2), Some("shell is fixed"));
        assert_eq!(s.covers("python.subprocess-shell", false, 2, 2), None);
        assert_eq!(s.covers("python.sql-injection", false, 3, 3), Some("nosemgrep"));
        assert_eq!(s.covers("python.eval", false, 3, 3), None);
        assert_eq!(s.covers("python.eval", false, 5, 5), Some("nosemgrep"), "the line after a comment on its own");
        for line in [10, 11, 12] {
            assert_eq!(s.covers("python.eval", false, line, line), None, "line {line}");
        }
        // `because …` is a reason, not a list of ids.
        assert_eq!(s.covers("python.eval", false, 13, 13), Some("because the input is a constant"));
        // Switched off: only sluice's own directive counts.
        let mut off = Suppressions::new(false);
        off.observe_comment("# nosec", 1, true);
        off.observe_comment("# nosemgrep", 2, true);
        off.observe_comment("# sluice:ignore", 3, true);
        assert_eq!((off.covers("r", false, 1, 1), off.covers("r", false, 2, 2)), (None, None));
        assert!(off.covers("r", false, 3, 3).is_some());
    }

    #[test]
    fn placement_and_lists() {
        let mut s = Suppressions::default();
        s.observe_comment("# sluice:ignore[a, b]", 10, true);
        s.observe_comment("// sluice:ignore", 20, false);
        s.observe_comment("# sluice:ignore[c", 30, true);
        s.observe_comment("# sluice:ignored", 40, true);
        assert!(s.covers("a", false, 10, 10).is_some() && s.covers("b", false, 9, 11).is_some());
        assert!(s.covers("c", false, 10, 10).is_none());
        assert!(s.covers("a", false, 11, 11).is_none(), "a trailing comment covers only its own statement");
        assert!(s.covers("anything", false, 21, 21).is_some() && s.covers("x", false, 22, 22).is_none());
        assert!(s.covers("c", false, 30, 30).is_none(), "an unclosed list silences nothing");
        assert!(s.covers("x", false, 40, 40).is_none(), "`sluice:ignored` is prose, not a directive");
    }

    #[test]
    fn justification_is_the_reason_else_the_directive() {
        let mut s = Suppressions::default();
        s.observe_comment("# sluice:ignore[a] -- legacy protocol, reviewed", 1, true);
        s.observe_comment("/* sluice:ignore: test data */", 2, true);
        s.observe_comment("// sluice:ignore[b]", 3, true);
        s.observe_comment(&format!("# sluice:ignore {}", "x".repeat(500)), 4, true);
        assert_eq!(s.covers("a", false, 1, 1), Some("legacy protocol, reviewed"));
        assert_eq!(s.covers("z", false, 2, 2), Some("test data"));
        assert_eq!(s.covers("b", false, 3, 3), Some("sluice:ignore[b]"));
        assert_eq!(s.covers("z", false, 4, 4).map(|j| j.chars().count()), Some(MAX_JUSTIFICATION + 1));
    }
}
