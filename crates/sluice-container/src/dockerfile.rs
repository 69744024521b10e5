//! A Dockerfile parser that follows BuildKit's frontend (`dockerfile/parser`): parser
//! directives (`# escape=`, `# syntax=`), line continuations with the active escape character,
//! comment and blank lines inside continuations, heredocs (`<<EOF`, `<<-EOF`, quoted
//! delimiters, several per instruction), flags (`--from=`, `--platform=`), and JSON versus
//! shell form. Every instruction keeps the lines it spans.
//!
//! Why not a crate: `dockerfile-parser` (the only maintained-looking one on crates.io) has no
//! heredoc support, drops comment lines inside continuations incorrectly and has seen no
//! release since 2021; the Dockerfile grammar is line-oriented and small enough that a
//! hand-written parser is easier to make exact (and to fuzz) than to patch a pest grammar.

use serde::Serialize;

/// A parsed Dockerfile. Parsing never fails: what cannot be understood is a [`ParseProblem`]
/// and the rest of the file is still parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dockerfile {
    /// The escape character (`\` unless a `# escape=` directive says `` ` ``).
    pub escape: char,
    pub instructions: Vec<Instruction>,
    pub problems: Vec<ParseProblem>,
}

/// One instruction, after continuations are joined and heredoc bodies collected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instruction {
    /// Upper-cased (`RUN`, `FROM`, …); unknown keywords are kept as written, upper-cased.
    pub keyword: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// 1-based last line (of the continuation or of the last heredoc's terminator).
    pub end_line: u32,
    /// Leading `--name[=value]` flags, in order.
    pub flags: Vec<Flag>,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
    /// The original source lines of the instruction, as written (for snippets).
    pub source: String,
}

/// `--name=value` (or a bare `--name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// JSON ("exec") form or shell form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Args {
    Json(Vec<String>),
    /// The joined text after the keyword and flags (continuations removed).
    Shell(String),
}

/// A heredoc body (`<<EOF` … `EOF`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    pub delimiter: String,
    /// `<<-`: leading tabs were stripped from the body and terminator.
    pub strip_tabs: bool,
    /// A quoted delimiter (`<<"EOF"`): no variable expansion in the body.
    pub quoted: bool,
    /// First line of the body.
    pub line: u32,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseProblem {
    pub line: u32,
    pub message: String,
}

impl Instruction {
    /// The value of flag `--name`, if given.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|f| f.name == name).and_then(|f| f.value.as_deref())
    }

    /// The arguments as one string (JSON form joined by spaces).
    pub fn text(&self) -> String {
        match &self.args {
            Args::Json(words) => words.join(" "),
            Args::Shell(text) => text.clone(),
        }
    }
}

/// Instructions whose arguments may start with heredocs (BuildKit's list).
const HEREDOC_INSTRUCTIONS: &[&str] = &["RUN", "COPY", "ADD"];

/// Lines longer than this are cut in snippets; the parse itself is linear in input size.
const MAX_SOURCE_SNIPPET: usize = 4096;

/// Parses a Dockerfile's text.
pub fn parse(text: &str) -> Dockerfile {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut escape = '\\';
    let mut problems = Vec::new();
    let mut i = directives(&lines, &mut escape, &mut problems);
    let mut instructions = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        // Join continuation lines: a line ending with the escape character continues; comment
        // and blank lines inside a continuation are dropped, as BuildKit does.
        let mut joined = String::new();
        let mut current = line;
        loop {
            match continued(current, escape) {
                Some(head) => {
                    joined.push_str(head);
                    i += 1;
                    // Skip comments and blank lines that sit inside the continuation.
                    while i < lines.len() {
                        let t = lines[i].trim_start();
                        if t.starts_with('#') || t.is_empty() {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    if i >= lines.len() {
                        break;
                    }
                    current = lines[i];
                }
                None => {
                    joined.push_str(current);
                    break;
                }
            }
        }
        let end = i.min(lines.len().saturating_sub(1));
        i = end + 1;
        let line_no = to_line(start);
        let (keyword, rest) = split_keyword(joined.trim_start());
        let keyword = keyword.to_ascii_uppercase();
        let (flags, rest) = split_flags(rest);
        let mut heredocs = Vec::new();
        let mut end_line = to_line(end);
        if HEREDOC_INSTRUCTIONS.contains(&keyword.as_str()) {
            for (delimiter, strip_tabs, quoted) in heredoc_markers(rest) {
                let body_start = i;
                let mut body = String::new();
                let mut closed = false;
                while i < lines.len() {
                    let raw = lines[i];
                    let candidate = if strip_tabs { raw.trim_start_matches('\t') } else { raw };
                    i += 1;
                    if candidate == delimiter {
                        closed = true;
                        break;
                    }
                    body.push_str(candidate);
                    body.push('\n');
                }
                if !closed {
                    problems.push(ParseProblem {
                        line: line_no,
                        message: format!("heredoc `<<{delimiter}` is never closed: add a line `{delimiter}`"),
                    });
                }
                end_line = to_line(i.saturating_sub(1).max(end));
                heredocs.push(Heredoc { delimiter, strip_tabs, quoted, line: to_line(body_start), body });
            }
        }
        let args = match json_form(rest) {
            Some(words) => Args::Json(words),
            None => Args::Shell(rest.trim().to_owned()),
        };
        if keyword.is_empty() || !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
            problems.push(ParseProblem {
                line: line_no,
                message: format!("`{}` is not a Dockerfile instruction", truncate(&keyword, 40)),
            });
        }
        let last = (end_line as usize).min(lines.len());
        let mut source = lines[start..last].join("\n");
        if source.len() > MAX_SOURCE_SNIPPET {
            source = truncate(&source, MAX_SOURCE_SNIPPET).to_owned();
        }
        instructions.push(Instruction { keyword, line: line_no, end_line, flags, args, heredocs, source });
    }
    Dockerfile { escape, instructions, problems }
}

fn to_line(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Reads parser directives (`# escape=`, `# syntax=`, `# check=`) at the top of the file;
/// returns the index of the first line after them.
fn directives(lines: &[&str], escape: &mut char, problems: &mut Vec<ParseProblem>) -> usize {
    let mut i = 0;
    while i < lines.len() {
        let Some(body) = lines[i].trim_start().strip_prefix('#') else { break };
        let Some((name, value)) = body.split_once('=') else { break };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if name == "escape" {
            match value.trim() {
                "\\" => *escape = '\\',
                "`" => *escape = '`',
                other => problems.push(ParseProblem {
                    line: to_line(i),
                    message: format!("invalid escape directive `{}`: use \\ or `", truncate(other, 20)),
                }),
            }
        }
        i += 1;
    }
    i
}

/// When `line` ends with the escape character (trailing whitespace allowed), the part before it.
fn continued(line: &str, escape: char) -> Option<&str> {
    let t = line.trim_end();
    let head = t.strip_suffix(escape)?;
    // An escaped escape (`\\` at the end) is not a continuation.
    if head.ends_with(escape) {
        return None;
    }
    Some(head)
}

fn split_keyword(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(at) => (&s[..at], s[at..].trim_start()),
        None => (s, ""),
    }
}

/// Splits leading `--flag[=value]` words off the arguments.
fn split_flags(mut rest: &str) -> (Vec<Flag>, &str) {
    let mut flags = Vec::new();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let word = &after[..end];
        if word.is_empty() {
            break;
        }
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v).to_owned())),
            None => (word, None),
        };
        flags.push(Flag { name: name.to_owned(), value });
        rest = after[end..].trim_start();
    }
    (flags, rest)
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `["a", "b"]` → words; anything else (including invalid JSON) is shell form, as in Docker.
fn json_form(rest: &str) -> Option<Vec<String>> {
    let t = rest.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// The heredoc markers of an instruction line, in order: (delimiter, `<<-`, quoted). Markers
/// inside quotes are not heredocs; `<<<` (a here-string) is not either.
fn heredoc_markers(line: &str) -> Vec<(String, bool, bool)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if bytes[i..].starts_with(b"<<<") => {
                i += 3;
                continue;
            }
            None if b == b'<' && bytes.get(i + 1) == Some(&b'<') && bytes.get(i + 2) != Some(&b'<') => {
                let mut j = i + 2;
                let strip = bytes.get(j) == Some(&b'-');
                if strip {
                    j += 1;
                }
                let quote_char = bytes.get(j).copied().filter(|c| *c == b'"' || *c == b'\'');
                if quote_char.is_some() {
                    j += 1;
                }
                let start = j;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-') {
                    j += 1;
                }
                if j > start {
                    let word = line[start..j].to_owned();
                    if let Some(q) = quote_char {
                        if bytes.get(j) == Some(&q) {
                            j += 1;
                        }
                    }
                    out.push((word, strip, quote_char.is_some()));
                    i = j;
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn continuation_with_comments_and_lines() {
        let df =
            parse("FROM debian:12\nRUN apt-get update \\\n# a comment\n\n    && apt-get install -y curl\nUSER app\n");
        assert_eq!(df.instructions.len(), 3);
        let run = &df.instructions[1];
        assert_eq!((run.line, run.end_line), (2, 5));
        assert_eq!(run.args, Args::Shell("apt-get update     && apt-get install -y curl".into()));
        assert_eq!(df.instructions[2].line, 6);
    }

    #[test]
    fn escape_directive_backtick() {
        let df = parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\nUSER x\n");
        assert_eq!(df.escape, '`');
        assert_eq!(df.instructions[1].args, Args::Shell("dir   c:\\".into()));
        assert_eq!(df.instructions[2].line, 5);
    }

    #[test]
    fn heredocs_several_and_dash() {
        let text =
            "FROM alpine\nRUN <<EOF cat > /a && sh <<-'END'\necho one\nEOF\n\techo two\n\tEND\nCOPY <<x /y\nhi\nx\n";
        let df = parse(text);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(run.heredocs[0].body, "echo one\n");
        assert!(run.heredocs[1].strip_tabs && run.heredocs[1].quoted);
        assert_eq!(run.heredocs[1].body, "echo two\n");
        assert_eq!(run.end_line, 6);
        assert_eq!(df.instructions[2].keyword, "COPY");
        assert_eq!(df.instructions[2].heredocs[0].body, "hi\n");
        assert!(df.problems.is_empty());
    }

    #[test]
    fn unclosed_heredoc_is_a_problem() {
        let df = parse("FROM a\nRUN <<EOF\necho\n");
        assert_eq!(df.problems.len(), 1);
        assert!(df.problems[0].message.contains("never closed"));
    }

    #[test]
    fn json_and_flags() {
        let df = parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nCOPY --from=build --chmod=755 /a /b\nCMD [\"/b\", \"--x\"]\nCMD [not json\n");
        assert_eq!(df.instructions[0].flag("platform"), Some("$BUILDPLATFORM"));
        assert_eq!(df.instructions[0].args, Args::Shell("golang:1.22 AS build".into()));
        assert_eq!(df.instructions[1].flag("from"), Some("build"));
        assert_eq!(df.instructions[2].args, Args::Json(vec!["/b".into(), "--x".into()]));
        assert!(matches!(df.instructions[3].args, Args::Shell(_)));
    }

    #[test]
    fn here_string_and_quoted_markers_are_not_heredocs() {
        let df = parse("FROM a\nRUN cat <<<\"x\" && echo '<<EOF'\nUSER b\n");
        assert!(df.instructions[1].heredocs.is_empty());
        assert_eq!(df.instructions.len(), 3);
    }
}
