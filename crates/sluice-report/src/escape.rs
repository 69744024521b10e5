//! Escaping of repository-controlled text for the medium it is shown in.
//!
//! Invariant: every string that comes from a scanned repository or a SARIF log (file names,
//! source lines, rule ids, messages, help, fingerprints, a decisions file's reasons) goes
//! through exactly one of these functions before sluice prints or writes it for people or CI:
//! [`terminal`] for terminals and CI logs, [`github_data`]/[`github_property`] for GitHub
//! workflow commands, [`markdown`]/[`markdown_code`] for merge request comments, [`html`] for
//! HTML, [`xml_text`]/[`xml_attr`] for XML. Machine formats (SARIF, JSON) carry the data as it
//! is; their readers escape for their own media.

use std::fmt::Write as _;

/// Whether a character changes how a terminal or a text viewer shows what follows: C0 and C1
/// controls, DEL, bidirectional formatting (which can reorder what is read: "Trojan Source"),
/// and the Unicode line and paragraph separators.
fn is_invisible_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Text for a terminal or a CI log, on one line: control characters (escape sequences, new
/// lines, tabs, C1 controls) and bidi overrides are shown escaped, `\x1b`, `\n`, `\u{202e}`,
/// and the legacy workflow command marker `##[` is broken (`#\x23[`), as GitHub's runner finds
/// it anywhere in a line. The result holds no line break, so it cannot start a line of its own
/// (a `::command::` only counts at the start of a line).
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible_control(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    break_legacy_commands(out)
}

/// `##[` shown as `#\x23[`: GitHub's runner takes `##[name]` anywhere in a line for a (legacy)
/// workflow command.
fn break_legacy_commands(text: String) -> String {
    if text.contains("##[") {
        text.replace("##[", "#\\x23[")
    } else {
        text
    }
}

/// Text of several lines for a terminal or a CI log (an error with its context, a tool's
/// stderr): like [`terminal`] but new lines are kept, and a line that would start a GitHub
/// workflow command (`::name::`, after leading blanks, as the runner trims them) shows its
/// first colon escaped.
pub fn terminal_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let escaped = terminal(line);
        let blanks = escaped.len() - escaped.trim_start().len();
        if escaped[blanks..].starts_with("::") {
            out.push_str(&escaped[..blanks]);
            out.push_str("\\x3a");
            out.push_str(&escaped[blanks + 1..]);
        } else {
            out.push_str(&escaped);
        }
    }
    out
}

/// The data (message) part of a GitHub workflow command (`::error …::DATA`): `%`, CR and LF
/// percent-encoded as the runner decodes them, so the command stays on its line; other
/// control characters and bidi overrides shown escaped as for [`terminal`].
pub fn github_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if is_invisible_control(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    break_legacy_commands(out)
}

/// A property value of a GitHub workflow command (`::error file=VALUE,title=VALUE::`): as
/// [`github_data`], and `:` and `,`, which end a property, percent-encoded too.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Text for HTML (element content or a quoted attribute): `& < > " '` as entities, control
/// characters and bidi overrides shown escaped.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match html_entity(c) {
            Some(entity) => out.push_str(entity),
            None if is_invisible_control(c) => push_escaped(&mut out, c),
            None => out.push(c),
        }
    }
    out
}

/// The entity for a character HTML gives meaning to (`& < > " '`).
fn html_entity(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' => "&quot;",
        '\'' => "&#39;",
        _ => return None,
    })
}

/// Inline text for markdown as GitHub and GitLab render it (a table cell, a list item, a
/// paragraph), inert: HTML (`<`, `>`, `&`, quotes), links and images (`[`, `]`), code spans
/// and fences (`` ` ``, `~`), table cells (`|`), headings and quotes (`#`, `>`), emphasis and
/// escapes (`*`, `_`, `\`) become entities, `@` too so `@team` mentions no one, and
/// line breaks become spaces, so the text stays on its line, in its cell.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(entity) = html_entity(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '|' => out.push_str("&#124;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '`' => out.push_str("&#96;"),
            '~' => out.push_str("&#126;"),
            '@' => out.push_str("&#64;"),
            '#' => out.push_str("&#35;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '\\' => out.push_str("&#92;"),
            '!' => out.push_str("&#33;"),
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if is_invisible_control(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Whether text shows the same in a markdown code span as it is: no character that could end
/// the span, start markup, or mention anyone.
fn plain_code(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '+' | '=' | ','))
}

/// Text as code in markdown: a plain identifier or path as a `` `code span` ``, anything else
/// as `<code>` with every character that means something escaped, as for [`markdown`] (code
/// spans cannot escape a backtick; `<code>` can).
pub fn markdown_code(text: &str) -> String {
    if plain_code(text) {
        format!("`{text}`")
    } else {
        format!("<code>{}</code>", markdown(text))
    }
}

/// A link target for markdown, when it is an `http`/`https` URL made only of characters that
/// cannot end the link; anything else (`javascript:`, `data:`, spaces, parentheses) is `None`
/// and no link is made.
pub fn markdown_url(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let ok = !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-._~:/?#@!$&*+,;=%".contains(c))
        && !rest.starts_with('/');
    ok.then_some(url)
}

/// Whether XML 1.0 allows a character (its `Char` production); C1 controls, which it allows but
/// discourages, are refused too.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Text content for XML 1.0: markup characters as entities, and characters XML forbids (C0
/// controls but tab, LF and CR; U+FFFE, U+FFFF) or discourages (DEL, C1 controls) replaced by
/// U+FFFD, since not even a character reference may carry them.
pub fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    text.chars().for_each(|c| push_xml_text(&mut out, c));
    out
}

fn push_xml_text(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c if !xml_char(c) => out.push('\u{FFFD}'),
        c => out.push(c),
    }
}

/// An XML 1.0 attribute value in double quotes: as [`xml_text`], with quotes escaped, and tab,
/// LF and CR as character references so parsers do not turn them into spaces.
pub fn xml_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => push_xml_text(&mut out, c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_controls_escaped() {
        assert_eq!(terminal("a\x1b[2Jb\nc\td\u{202e}e\u{9b}f\x7f"), r"a\x1b[2Jb\nc\td\u{202e}e\u{9b}f\x7f");
        assert_eq!(terminal("x = \"ü\" # ok"), "x = \"ü\" # ok");
        assert_eq!(terminal("##[add-mask]x"), r"#\x23[add-mask]x");
        assert_eq!(terminal("#[derive(Debug)]"), "#[derive(Debug)]");
    }

    #[test]
    fn terminal_lines_cannot_start_a_workflow_command() {
        assert_eq!(terminal_lines("ok\n  ::add-mask::x\r\n::error::y"), "ok\n  \\x3a:add-mask::x\n\\x3a:error::y");
        assert_eq!(terminal_lines("a\x1b]52;c;eA==\x07"), r"a\x1b]52;c;eA==\x07");
    }

    #[test]
    fn github_commands() {
        assert_eq!(github_data("50%\r\n::add-mask::x"), "50%25%0D%0A::add-mask::x");
        assert_eq!(github_property("a,b:c\n"), "a%2Cb%3Ac%0A");
        assert_eq!(github_data("\x1b[2J"), r"\x1b[2J");
    }

    #[test]
    fn markdown_is_inert() {
        let m = markdown("</details><img src=x onerror=alert(1)> @team [x](javascript:y) `a` | b\nc");
        for raw in ["<", ">", "@", "[", "]", "`", "|", "\n"] {
            assert!(!m.contains(raw), "{raw:?} in {m}");
        }
        assert_eq!(markdown_code("python.eval-use"), "`python.eval-use`");
        assert_eq!(markdown_code("a`b"), "<code>a&#96;b</code>");
        assert_eq!(markdown_url("https://example.com/rules#x"), Some("https://example.com/rules#x"));
        for bad in ["javascript:alert(1)", "https://x/a)b", "https://x y", "//x", "http:///x"] {
            assert_eq!(markdown_url(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever the input, each medium's output holds nothing that medium interprets.
        #[test]
        fn outputs_are_inert(text in "(\\PC|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}\u{2066}-\u{2069}\u{fffe}\u{ffff}:#\\[<>|`@&])*") {
            let t = terminal(&text);
            proptest::prop_assert!(!t.chars().any(is_invisible_control), "{:?}", t);
            proptest::prop_assert!(!t.contains("##["), "{:?}", t);
            for line in terminal_lines(&text).lines() {
                proptest::prop_assert!(!line.trim_start().starts_with("::"), "{:?}", line);
                proptest::prop_assert!(!line.chars().any(is_invisible_control), "{:?}", line);
            }
            let g = github_property(&text);
            proptest::prop_assert!(!g.contains(['\r', '\n', ':', ',']), "{:?}", g);
            let m = markdown(&text);
            proptest::prop_assert!(!m.contains(['<', '>', '[', ']', '|', '`', '@', '\n', '\r']), "{:?}", m);
            let x = xml_attr(&text);
            proptest::prop_assert!(x.chars().all(|c| xml_char(c) && !matches!(c, '<' | '"' | '\n')), "{:?}", x);
        }
    }

    #[test]
    fn xml_drops_what_xml_forbids() {
        assert_eq!(xml_text("a<b&\u{1}\u{FFFE}\u{FFFF}\u{9b}\t\n"), "a&lt;b&amp;\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\t\n");
        assert_eq!(xml_attr("\"x\"\n"), "&quot;x&quot;&#10;");
        assert_eq!(html("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
