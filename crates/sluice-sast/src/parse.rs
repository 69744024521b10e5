//! Parsing with a deadline. ast-grep's own parse has no timeout; tree-sitter's progress
//! callback gives one, so files are parsed here and handed to ast-grep as a `StrDoc`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Instant;

use ast_grep_core::tree_sitter::LanguageExt;
use tree_sitter::{ParseOptions, Parser, Tree};

use crate::lang::Lang;

thread_local! {
    /// One parser per language per worker thread: creating one rebuilds its tables.
    static PARSERS: RefCell<HashMap<Lang, Parser>> = RefCell::new(HashMap::new());
}

/// Parses `source`, or gives up (`None`) when the deadline passes first.
pub(crate) fn parse(lang: Lang, source: &str, deadline: Instant) -> Option<Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = match parsers.entry(lang) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let mut parser = Parser::new();
                // The grammar is compiled in and its ABI is tree-sitter's: a mismatch is a
                // build problem that every test would show.
                parser.set_language(&lang.support().get_ts_language()).ok()?;
                e.insert(parser)
            }
        };
        // A cancelled parse leaves resumable state behind; every call is a new document.
        parser.reset();
        let bytes = source.as_bytes();
        let mut calls = 0u32;
        let mut progress = |_: &tree_sitter::ParseState| {
            calls = calls.wrapping_add(1);
            if calls.is_multiple_of(64) && Instant::now() > deadline {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options = ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(&mut |i, _| bytes.get(i..).unwrap_or_default(), None, Some(options));
        if tree.is_none() {
            parser.reset();
        }
        tree
    })
}
