//! Turning byte spans into reported findings: positions, redaction, snippets. Everything a
//! finding carries is safe to print; the secret itself never leaves this module.

use sha2::{Digest, Sha256};

/// A secret found in a file. Nothing in it reveals the secret: `redacted` and
/// `line_redacted` show at most four characters of it, `secret_sha256` is a one-way digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    /// 1-based line of the first character of the secret.
    pub line: u32,
    /// 1-based column, in characters, of the first character of the secret.
    pub column: u32,
    /// Line of the position just after the secret.
    pub end_line: u32,
    /// Column of the position just after the secret (exclusive, as in SARIF regions).
    pub end_column: u32,
    /// `ghp_…(40 chars)`: at most the first four characters, fewer for short secrets.
    pub redacted: String,
    /// Hex SHA-256 of the secret's bytes; stable across moves, used for fingerprints.
    pub secret_sha256: String,
    /// The line holding the secret, every secret on it replaced by its redacted form,
    /// cut to about 200 characters around this one.
    pub line_redacted: String,
    /// Shannon entropy of the secret in bits per byte.
    pub entropy: f32,
    /// The secret is in the file's path (its name or a directory's), not in its content:
    /// `path` then ends with the name that holds it (a directory's secret is reported once, at
    /// the directory), `line` is 1, columns count characters of `path`, and `line_redacted` is
    /// `path` with the secret redacted.
    pub in_path: bool,
    /// Silenced by a `sluice:allow` comment on its line: the comment's reason (the text after
    /// the directive, never a secret; else `sluice:allow`), at most about 120 characters. The
    /// finding is still reported, as suppressed in the source.
    pub suppressed_by: Option<String>,
}

/// A secret's location in the file, after all filtering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) rule: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) entropy: f32,
    /// Offset just after a `sluice:allow` directive on the secret's first line, if any.
    pub(crate) allowed: Option<usize>,
}

/// How many characters of the secret a redacted form shows: a quarter of it, at most four,
/// so short secrets keep most of their strength.
pub(crate) fn redact(secret: &str) -> String {
    let total = secret.chars().count();
    let shown: String = secret.chars().take((total / 4).min(4)).collect();
    format!("{shown}…({total} chars)")
}

const SNIPPET_CHARS: usize = 200;
/// Characters of context kept before the secret when a long line is cut.
const SNIPPET_LEAD: usize = 60;

/// Builds findings for spans sorted by start and not overlapping. Lines and columns are only
/// computed here, for matches, by one forward pass over the file.
pub(crate) fn build(path: &str, content: &[u8], spans: &[Span], rule_id: impl Fn(usize) -> String) -> Vec<Finding> {
    let mut cursor = Cursor::new(content);
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let (line, line_start) = cursor.seek(span.start);
        let column = chars(&content[line_start..span.start]) + 1;
        let (end_line, end_line_start) = cursor.seek(span.end);
        let end_column = chars(&content[end_line_start..span.end]) + 1;
        let secret = &content[span.start..span.end];
        let secret_text = String::from_utf8_lossy(secret);
        out.push(Finding {
            rule_id: rule_id(span.rule),
            path: path.to_owned(),
            line,
            column: to_u32(column),
            end_line,
            end_column: to_u32(end_column),
            redacted: redact(&secret_text),
            secret_sha256: hex::encode(Sha256::digest(secret)),
            line_redacted: snippet(content, line_start, span, spans),
            entropy: span.entropy,
            in_path: false,
            suppressed_by: span.allowed.map(|at| allow_reason(content, at, spans)),
        });
    }
    out
}

/// The longest `sluice:allow` reason kept, in characters.
const MAX_REASON: usize = 120;

/// The reason after a `sluice:allow` directive ending at `at`: the rest of its line up to the
/// first secret after it (so no secret is ever part of it), on one line, without comment
/// terminators or leading punctuation, cut to [`MAX_REASON`]; `sluice:allow` when empty.
fn allow_reason(content: &[u8], at: usize, spans: &[Span]) -> String {
    let line_end = content[at..].iter().position(|&b| b == b'\n').map_or(content.len(), |i| at + i);
    let end = spans.iter().map(|s| s.start).filter(|&s| s >= at && s < line_end).min().unwrap_or(line_end);
    let text = String::from_utf8_lossy(&content[at..end]);
    let text = text.trim_end().trim_end_matches("*/").trim_end_matches("-->");
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | '—' | '–' | ',' | ';'));
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        // The directive itself: `sluice:allow`, or the peer's that was honoured.
        let directive = crate::filter::allow_directives(true)
            .find(|d| content[..at].ends_with(d.as_bytes()))
            .unwrap_or(crate::filter::ALLOW_COMMENT);
        return directive.to_owned();
    }
    if text.chars().count() <= MAX_REASON {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_REASON).collect();
    cut.push('…');
    cut
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn chars(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).chars().count()
}

/// Forward-only line counter: offsets must be requested in non-decreasing order.
struct Cursor<'a> {
    content: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
}

impl<'a> Cursor<'a> {
    fn new(content: &'a [u8]) -> Self {
        Cursor { content, pos: 0, line: 1, line_start: 0 }
    }

    fn seek(&mut self, to: usize) -> (u32, usize) {
        let to = to.min(self.content.len());
        if to > self.pos {
            for (i, &b) in self.content[self.pos..to].iter().enumerate() {
                if b == b'\n' {
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos + i + 1;
                }
            }
            self.pos = to;
        }
        (self.line, self.line_start)
    }
}

/// The line starting at `line_start`, with every span that touches it redacted, cut around
/// `this`.
fn snippet(content: &[u8], line_start: usize, this: &Span, spans: &[Span]) -> String {
    let line_end = content[line_start..].iter().position(|&b| b == b'\n').map_or(content.len(), |i| line_start + i);
    let line_end = if line_end > line_start && content[line_end - 1] == b'\r' { line_end - 1 } else { line_end };
    let mut text = String::new();
    let mut at = line_start;
    let mut marker_chars = 0;
    for span in spans.iter().filter(|s| s.start < line_end && s.end > line_start) {
        if span.start >= at {
            text.push_str(&String::from_utf8_lossy(&content[at..span.start]));
        }
        if span.start == this.start {
            marker_chars = text.chars().count();
        }
        if span.start >= line_start {
            let secret = String::from_utf8_lossy(&content[span.start..span.end]);
            text.push_str(&redact(&secret));
        } else {
            // A secret that began on an earlier line (a PEM body): its rest stays hidden.
            text.push('…');
        }
        at = span.end.max(at);
        if at >= line_end {
            break;
        }
    }
    if at < line_end {
        text.push_str(&String::from_utf8_lossy(&content[at..line_end]));
    }
    cut(&text, marker_chars)
}

fn cut(text: &str, focus: usize) -> String {
    let total = text.chars().count();
    if total <= SNIPPET_CHARS {
        return text.to_owned();
    }
    let start = focus.saturating_sub(SNIPPET_LEAD).min(total - SNIPPET_CHARS);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(text.chars().skip(start).take(SNIPPET_CHARS));
    if start + SNIPPET_CHARS < total {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_at_most_four_chars() {
        assert_eq!(redact("ghp_Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e0000"), "ghp_…(38 chars)");
        assert_eq!(redact("s3cr3tpw"), "s3…(8 chars)");
        assert_eq!(redact("abc"), "…(3 chars)");
        assert_eq!(redact("ñandú-pässwörd-2024"), "ñand…(19 chars)");
    }

    fn span(start: usize, end: usize) -> Span {
        Span { rule: 0, start, end, entropy: 0.0, allowed: None }
    }

    #[test]
    fn positions_are_one_based_chars() {
        let content = "first\nä key=AbCdEfGh12345678 tail\n".as_bytes();
        let start = content.windows(4).position(|w| w == b"AbCd").unwrap_or(0);
        let spans = [span(start, start + 16)];
        let f = build("a.txt", content, &spans, |_| "r".into());
        assert_eq!((f[0].line, f[0].column, f[0].end_line, f[0].end_column), (2, 7, 2, 23));
        assert_eq!(f[0].line_redacted, "ä key=AbCd…(16 chars) tail");
        assert!(!f[0].line_redacted.contains("AbCdEfGh12345678"));
    }

    #[test]
    fn every_secret_on_the_line_is_redacted() {
        let content = b"id=AKIAQWERTZUIOPASDFGH secret=Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA";
        let s1 = 3;
        let s2 = content.windows(4).position(|w| w == b"Zm9v").unwrap_or(0);
        let spans = [span(s1, s1 + 20), span(s2, content.len())];
        let f = build("a", content, &spans, |_| "r".into());
        for finding in &f {
            assert!(!finding.line_redacted.contains("QWERTZ"));
            assert!(!finding.line_redacted.contains("YmFyYmF6"));
        }
    }

    #[test]
    fn long_lines_are_cut_around_the_secret() {
        let mut content = "x".repeat(5000);
        let start = content.len();
        content.push_str("Q9w8E7r6T5y4U3i2O1p0");
        content.push_str(&"y".repeat(5000));
        let f = build("min.js", content.as_bytes(), &[span(start, start + 20)], |_| "r".into());
        let snip = &f[0].line_redacted;
        assert!(snip.chars().count() <= SNIPPET_CHARS + 2);
        assert!(snip.contains("Q9w8…(20 chars)"));
    }
}
