//! Prints the syntax tree of a file, with field names, to help write rules:
//! `cargo run -p sluice-sast --example cst -- python file.py`.
#![allow(clippy::unwrap_used)]

use ast_grep_core::tree_sitter::LanguageExt;
use ast_grep_language::SupportLang;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: cst LANGUAGE FILE");
        std::process::exit(2);
    }
    let lang: SupportLang = args[1].parse().unwrap();
    let source = std::fs::read_to_string(&args[2]).unwrap();
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.get_ts_language()).unwrap();
    let tree = parser.parse(&source, None).unwrap();
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        let node = cursor.node();
        let field = cursor.field_name().map(|f| format!("{f}: ")).unwrap_or_default();
        if node.is_named() {
            let text = &source[node.byte_range()];
            let text = if node.child_count() == 0 { format!(" {:?}", text) } else { String::new() };
            println!("{}{field}{}{text}", "  ".repeat(depth), node.kind());
        }
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
            depth -= 1;
        }
    }
}
