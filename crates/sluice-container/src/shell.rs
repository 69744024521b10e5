//! A small POSIX-shell tokenizer for `RUN` lines: enough to split a script into simple
//! commands joined by `&&`, `||`, `;`, `|`, `&` and newlines, with quoting, escapes,
//! `$(…)`/backticks kept inside words, and redirections separated from arguments.
//!
//! Why not `shlex`: it splits words but knows no operators (`a&&b` is one word to it), and
//! the rules need to know which command a pipe feeds. This is not a shell: no expansion runs.

/// How a command is joined to the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `|`: its stdout feeds the next command.
    Pipe,
    /// `&&`, `||`, `;`, `&`, newline, or the end.
    Sequence,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Words with quotes removed (assignments such as `A=b` included).
    pub words: Vec<String>,
    /// Redirection targets (`> file`, `>> file`, `2>&1` is dropped).
    pub redirects: Vec<String>,
    pub join: Join,
}

impl Command {
    /// The words after leading `VAR=value` assignments and wrappers (`sudo`, `env`, `exec`,
    /// `nohup`, `time`, `command`): the program actually run, then its arguments.
    pub fn program(&self) -> &[String] {
        let mut w: &[String] = &self.words;
        loop {
            match w.first().map(String::as_str) {
                Some(first) if is_assignment(first) => w = &w[1..],
                Some("sudo" | "env" | "exec" | "nohup" | "time" | "command" | "doas") => {
                    w = &w[1..];
                    // Options of the wrapper (`sudo -u root`, `env -i`).
                    while let Some(opt) = w.first() {
                        if opt == "-u" || opt == "-g" {
                            w = w.get(2..).unwrap_or(&[]);
                        } else if opt.starts_with('-') {
                            w = &w[1..];
                        } else {
                            break;
                        }
                    }
                }
                _ => return w,
            }
        }
    }

    /// The program's base name (`/usr/bin/curl` → `curl`).
    pub fn name(&self) -> &str {
        self.program().first().map_or("", |p| p.rsplit('/').next().unwrap_or(p))
    }
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Splits a script into simple commands, in order. Unbalanced quotes end the script (the
/// open word is kept): a Dockerfile linter must not fail on a script the shell would reject.
// The word/command-ending macros reset state that the last use does not read again.
#[allow(unused_assignments)]
pub fn split(script: &str) -> Vec<Command> {
    let chars: Vec<char> = script.chars().collect();
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut redirects = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut redirect_next = false;
    let mut i = 0;

    macro_rules! end_word {
        () => {
            if in_word {
                let w = std::mem::take(&mut word);
                if redirect_next {
                    redirects.push(w);
                    redirect_next = false;
                } else {
                    words.push(w);
                }
                in_word = false;
            }
        };
    }
    macro_rules! end_command {
        ($join:expr) => {
            end_word!();
            if !words.is_empty() || !redirects.is_empty() {
                commands.push(Command {
                    words: std::mem::take(&mut words),
                    redirects: std::mem::take(&mut redirects),
                    join: $join,
                });
            }
            redirect_next = false;
        };
    }

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
                continue;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) {
                        i += 1;
                    }
                    if let Some(&ch) = chars.get(i) {
                        word.push(ch);
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                // Command substitution: keep it inside the word, balanced.
                in_word = true;
                let mut depth = 0;
                while i < chars.len() {
                    let ch = chars[i];
                    word.push(ch);
                    if ch == '(' {
                        depth += 1;
                    } else if ch == ')' {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
                continue;
            }
            '`' => {
                in_word = true;
                word.push(c);
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    word.push(chars[i]);
                    i += 1;
                }
                word.push('`');
                i += 1;
                continue;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ' ' | '\t' => {
                end_word!();
            }
            '\n' | ';' => {
                end_command!(Join::Sequence);
            }
            '&' => {
                if chars.get(i + 1) == Some(&'&') {
                    i += 1;
                } else if in_word && word.ends_with('>') {
                    // `2>&1`, `>&2`: a descriptor duplication, not a background job.
                    word.clear();
                    in_word = false;
                    redirect_next = false;
                    while chars.get(i + 1).is_some_and(|c| c.is_ascii_digit() || *c == '-') {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                end_command!(Join::Sequence);
            }
            '|' => {
                if chars.get(i + 1) == Some(&'|') {
                    i += 1;
                    end_command!(Join::Sequence);
                } else {
                    end_command!(Join::Pipe);
                }
            }
            '>' | '<' => {
                // `2>`, `>>`, `<`: a leading descriptor number belongs to the operator.
                if in_word && word.chars().all(|ch| ch.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word!();
                }
                if chars.get(i + 1) == Some(&'&') {
                    word.push('>');
                    in_word = true;
                    i += 1;
                    continue;
                }
                if chars.get(i + 1) == Some(&c) {
                    i += 1;
                }
                if c == '<' && chars.get(i + 1) == Some(&'(') {
                    // Process substitution `<(curl …)`: keep as a word.
                    word.push('<');
                    in_word = true;
                    i += 1;
                    continue;
                }
                redirect_next = true;
            }
            '(' | ')' | '{' | '}' if !in_word => {
                // Subshells and groups: their commands are listed like the others.
                end_command!(Join::Sequence);
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
        i += 1;
    }
    end_command!(Join::Sequence);
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(script: &str) -> Vec<(String, Join)> {
        split(script).iter().map(|c| (c.words.join(" "), c.join)).collect()
    }

    #[test]
    fn operators() {
        let got = names("a b&&c 'd e'||f;g|h & i");
        let want = [
            ("a b", Join::Sequence),
            ("c d e", Join::Sequence),
            ("f", Join::Sequence),
            ("g", Join::Pipe),
            ("h", Join::Sequence),
            ("i", Join::Sequence),
        ];
        assert_eq!(got, want.map(|(w, j)| (w.to_owned(), j)));
    }

    #[test]
    fn redirects_and_substitution() {
        let cmds = split("curl -fsSL https://x/y.sh > /tmp/y.sh 2>&1 && echo \"$(uname -m) ok\" # hi\nsh /tmp/y.sh");
        assert_eq!(cmds[0].words, ["curl", "-fsSL", "https://x/y.sh"]);
        assert_eq!(cmds[0].redirects, ["/tmp/y.sh"]);
        assert_eq!(cmds[1].words, ["echo", "$(uname -m) ok"]);
        assert_eq!(cmds[2].words, ["sh", "/tmp/y.sh"]);
    }

    #[test]
    fn wrappers() {
        let c = &split("DEBIAN_FRONTEND=noninteractive sudo -u root /usr/bin/apt-get install x")[0];
        assert_eq!(c.name(), "apt-get");
        assert_eq!(c.program()[1], "install");
    }
}
