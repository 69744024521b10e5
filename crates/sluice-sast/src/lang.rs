//! The languages sluice ships grammars for, and which files are written in them.
//!
//! `ast_grep_language::SupportLang` names every language ast-grep knows, but only the grammars
//! enabled in the workspace manifest are compiled in; asking ast-grep for another one panics.
//! So every language a rule or a file can have goes through [`Lang`], which only holds shipped
//! grammars.

use std::path::Path;

use ast_grep_language::SupportLang;

/// A language whose grammar is compiled into sluice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Python,
    JavaScript,
    TypeScript,
    /// TypeScript with JSX (`.tsx`): a separate tree-sitter grammar.
    Tsx,
    Go,
    Java,
    Rust,
    Ruby,
    /// PHP code (ast-grep's `php_only` grammar: a file's HTML outside `<?php … ?>` is not parsed
    /// as markup).
    Php,
    /// Bash and POSIX shell scripts.
    Bash,
}

/// The syntax family whose semantic model (imports, bindings, literals) a language uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Python,
    Js,
    Go,
    Java,
    Rust,
    Ruby,
    Php,
    Bash,
}

impl Lang {
    pub const ALL: [Lang; 10] = [
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Go,
        Lang::Java,
        Lang::Rust,
        Lang::Ruby,
        Lang::Php,
        Lang::Bash,
    ];

    /// The name used in rule files (`language: python`) and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::Java => "java",
            Lang::Rust => "rust",
            Lang::Ruby => "ruby",
            Lang::Php => "php",
            Lang::Bash => "bash",
        }
    }

    /// A language by the name rule files and configuration use (`python`, `py`, `js`…).
    pub fn from_name(name: &str) -> Option<Lang> {
        let lang: SupportLang = name.parse().ok()?;
        Lang::from_support(lang)
    }

    pub(crate) fn support(self) -> SupportLang {
        match self {
            Lang::Python => SupportLang::Python,
            Lang::JavaScript => SupportLang::JavaScript,
            Lang::TypeScript => SupportLang::TypeScript,
            Lang::Tsx => SupportLang::Tsx,
            Lang::Go => SupportLang::Go,
            Lang::Java => SupportLang::Java,
            Lang::Rust => SupportLang::Rust,
            Lang::Ruby => SupportLang::Ruby,
            Lang::Php => SupportLang::Php,
            Lang::Bash => SupportLang::Bash,
        }
    }

    pub(crate) fn from_support(lang: SupportLang) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.support() == lang)
    }

    /// The languages a rule written for `self` runs on. TypeScript is a superset of
    /// JavaScript, so JavaScript rules also run on `.ts` and `.tsx` files, and TypeScript
    /// rules on `.tsx` files.
    pub(crate) fn family(self) -> &'static [Lang] {
        match self {
            Lang::Python => &[Lang::Python],
            Lang::JavaScript => &[Lang::JavaScript, Lang::TypeScript, Lang::Tsx],
            Lang::TypeScript => &[Lang::TypeScript, Lang::Tsx],
            Lang::Tsx => &[Lang::Tsx],
            Lang::Go => &[Lang::Go],
            Lang::Java => &[Lang::Java],
            Lang::Rust => &[Lang::Rust],
            Lang::Ruby => &[Lang::Ruby],
            Lang::Php => &[Lang::Php],
            Lang::Bash => &[Lang::Bash],
        }
    }

    /// The semantic model (imports, literals) shared by the family.
    pub(crate) fn syntax(self) -> Syntax {
        match self {
            Lang::Python => Syntax::Python,
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => Syntax::Js,
            Lang::Go => Syntax::Go,
            Lang::Java => Syntax::Java,
            Lang::Rust => Syntax::Rust,
            Lang::Ruby => Syntax::Ruby,
            Lang::Php => Syntax::Php,
            Lang::Bash => Syntax::Bash,
        }
    }

    /// The language of a file, from its extension, else from a `#!` line in `head`.
    pub fn of_path(path: &Path, head: &[u8]) -> Option<Lang> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) => match ext {
                "py" | "py3" | "pyw" => Some(Lang::Python),
                "js" | "mjs" | "cjs" | "jsx" => Some(Lang::JavaScript),
                "ts" | "mts" | "cts" => Some(Lang::TypeScript),
                "tsx" => Some(Lang::Tsx),
                "go" => Some(Lang::Go),
                "java" => Some(Lang::Java),
                "rs" => Some(Lang::Rust),
                "rb" | "rake" | "gemspec" | "ru" => Some(Lang::Ruby),
                "php" | "phtml" | "php5" | "php7" | "php8" => Some(Lang::Php),
                "sh" | "bash" => Some(Lang::Bash),
                _ => None,
            },
            None => Lang::of_shebang(head),
        }
    }

    fn of_shebang(head: &[u8]) -> Option<Lang> {
        let line = head.strip_prefix(b"#!")?;
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        let line = String::from_utf8_lossy(line);
        // `#!/usr/bin/env -S python3 -u` or `#!/usr/bin/python3.12`: the interpreter is the
        // first word after the path (and after `env` and its options).
        let mut words = line.split_whitespace();
        let mut program = words.next()?.rsplit('/').next()?.to_owned();
        if program == "env" {
            program = words.find(|w| !w.starts_with('-'))?.to_owned();
        }
        let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match program {
            "python" => Some(Lang::Python),
            "node" | "nodejs" => Some(Lang::JavaScript),
            "ruby" => Some(Lang::Ruby),
            "php" => Some(Lang::Php),
            "sh" | "bash" | "dash" => Some(Lang::Bash),
            _ => None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_shebangs() {
        assert_eq!(Lang::of_path(Path::new("a/b.py"), b""), Some(Lang::Python));
        assert_eq!(Lang::of_path(Path::new("x.tsx"), b""), Some(Lang::Tsx));
        assert_eq!(Lang::of_path(Path::new("x.kt"), b"#!/usr/bin/env python"), None);
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/usr/bin/env -S python3 -u\n"), Some(Lang::Python));
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/usr/bin/python3.12\nimport os"), Some(Lang::Python));
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/usr/bin/env node\n"), Some(Lang::JavaScript));
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/bin/sh\n"), Some(Lang::Bash));
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/usr/bin/env ruby\n"), Some(Lang::Ruby));
        assert_eq!(Lang::of_path(Path::new("bin/tool"), b"#!/usr/bin/zsh\n"), None);
        assert_eq!(Lang::of_path(Path::new("main.go"), b""), Some(Lang::Go));
        assert_eq!(Lang::of_path(Path::new("A.java"), b""), Some(Lang::Java));
        assert_eq!(Lang::of_path(Path::new("lib.rs"), b""), Some(Lang::Rust));
        assert_eq!(Lang::of_path(Path::new("app/x.rb"), b""), Some(Lang::Ruby));
        assert_eq!(Lang::of_path(Path::new("index.php"), b""), Some(Lang::Php));
        assert_eq!(Lang::of_path(Path::new("install.sh"), b""), Some(Lang::Bash));
        assert_eq!(Lang::of_path(Path::new("Makefile"), b"all:\n"), None);
    }

    #[test]
    fn names() {
        assert_eq!(Lang::from_name("py"), Some(Lang::Python));
        assert_eq!(Lang::from_name("TypeScript"), Some(Lang::TypeScript));
        assert_eq!(Lang::from_name("kotlin"), None);
        assert_eq!(Lang::from_name("rs"), Some(Lang::Rust));
        assert_eq!(Lang::from_name("golang"), Some(Lang::Go));
        assert_eq!(Lang::from_name("cobol"), None);
    }

    #[test]
    fn support_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_support(lang.support()), Some(lang));
        }
    }
}
