//! What a match becomes: a location, a message, the flagged code.

/// A rule's match in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: String,
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    /// 1-based line of the first character of the match.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    pub end_line: u32,
    /// Column just after the match (exclusive, as in SARIF regions).
    pub end_column: u32,
    /// The rule's message with its meta-variables filled in.
    pub message: String,
    /// The source lines the match spans (at most 10, each cut to about 240 characters).
    pub snippet: String,
    /// The matched code (at most its first 30 lines): the finding's identity, for
    /// fingerprints that survive moves and re-indentation.
    pub matched: String,
    /// Silenced by a `sluice:ignore` comment: its reason (else the directive), at most about
    /// 120 characters. The finding is still reported, as suppressed in the source.
    pub suppressed_by: Option<String>,
}

const SNIPPET_LINES: usize = 10;
const SNIPPET_LINE_CHARS: usize = 240;
const MATCHED_LINES: usize = 30;

/// A match at bytes `range`; `start` and `end` are tree-sitter's (0-based line, byte column)
/// points of its ends, so no line counting is needed.
pub(crate) fn build(
    rule_id: &str,
    path: &str,
    source: &str,
    range: std::ops::Range<usize>,
    start: (usize, usize),
    end: (usize, usize),
    message: String,
) -> Finding {
    let (line, column) = position(source, range.start, start);
    let (end_line, end_column) = position(source, range.end, end);
    let line_start = source[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[range.end..].find('\n').map_or(source.len(), |i| range.end + i);
    let snippet: Vec<String> = source[line_start..line_end]
        .split('\n')
        .take(SNIPPET_LINES)
        .map(|l| cut(l.trim_end_matches('\r'), SNIPPET_LINE_CHARS))
        .collect();
    let matched: Vec<&str> = source[range.clone()].split('\n').take(MATCHED_LINES).collect();
    Finding {
        rule_id: rule_id.to_owned(),
        path: path.to_owned(),
        line,
        column,
        end_line,
        end_column,
        message,
        snippet: snippet.join("\n"),
        matched: matched.join("\n"),
        suppressed_by: None,
    }
}

/// 1-based line and character column of a byte offset at tree-sitter point `(row, byte column)`.
fn position(source: &str, offset: usize, (row, byte_column): (usize, usize)) -> (u32, u32) {
    let line_start = offset.saturating_sub(byte_column);
    let column = source.get(line_start..offset).map_or(byte_column, |s| s.chars().count()) + 1;
    (u32::try_from(row + 1).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// Whitespace runs collapsed to one space, cut to `max` characters: for messages.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&joined, max)
}
