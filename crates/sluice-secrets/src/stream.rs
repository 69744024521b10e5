//! Text too large to hold at once: scanned in overlapping windows, each reporting only the
//! secrets that start in its own part, with lines and columns counted across windows. Memory
//! stays at about one window whatever the size of the text.

use crate::engine::{Engine, AFTER, BEFORE, MULTILINE_AFTER, TOKEN_TAIL};
use crate::finding::{self, Finding};

/// New bytes per window. Window boundaries fall on multiples of this in the text.
pub(crate) const WINDOW: usize = 1 << 20;
/// Bytes a window shares with the next one.
const OVERLAP: usize = 128 * 1024;
/// Except in the first window, a window reports the secrets that start at least this far into
/// it: the text a match needs before its secret (keyword, assignment, PEM header) is there.
/// It reports those that start up to `OVERLAP - LEAD` before its end: the longest match after
/// its keyword (a PEM body) fits in what follows. A secret in the shared part is owned by
/// exactly one of the two windows.
const LEAD: usize = 16 * 1024;

const _: () = assert!(LEAD >= 4 * BEFORE + TOKEN_TAIL);
const _: () = assert!(OVERLAP - LEAD >= MULTILINE_AFTER + TOKEN_TAIL + AFTER + BEFORE);

/// Feeds text in pieces of any size; findings come out of [`Windows::finish`], in order.
pub(crate) struct Windows<'a> {
    engine: &'a Engine,
    path: &'a str,
    buf: Vec<u8>,
    /// Lines that ended before the window's first byte.
    lines_before: u32,
    /// Characters of the window's first line that precede the window.
    columns_before: u32,
    first: bool,
    findings: Vec<Finding>,
}

impl<'a> Windows<'a> {
    pub(crate) fn new(engine: &'a Engine, path: &'a str) -> Self {
        Windows {
            engine,
            path,
            buf: Vec::with_capacity(OVERLAP + WINDOW),
            lines_before: 0,
            columns_before: 0,
            first: true,
            findings: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (OVERLAP + WINDOW).saturating_sub(self.buf.len()).max(1);
            let take = room.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() >= OVERLAP + WINDOW {
                self.scan(false);
            }
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Finding> {
        self.scan(true);
        self.findings
    }

    fn scan(&mut self, last: bool) {
        let len = self.buf.len();
        let own_lo = if self.first { 0 } else { LEAD };
        let own_hi = if last { len } else { len - OVERLAP + LEAD };
        let owned = own_lo..own_hi;
        let spans = self.engine.spans(self.path, &self.buf);
        if spans.iter().any(|s| owned.contains(&s.start)) {
            // Every span goes to `build`, so that snippets redact the neighbours too.
            let found = finding::build(self.path, &self.buf, &spans, |rule| self.engine.rule_id(rule));
            for (span, mut f) in spans.iter().zip(found) {
                if !owned.contains(&span.start) {
                    continue;
                }
                if f.line == 1 {
                    f.column = f.column.saturating_add(self.columns_before);
                }
                if f.end_line == 1 {
                    f.end_column = f.end_column.saturating_add(self.columns_before);
                }
                f.line = f.line.saturating_add(self.lines_before);
                f.end_line = f.end_line.saturating_add(self.lines_before);
                self.findings.push(f);
            }
        }
        if last {
            return;
        }
        let drop = len - OVERLAP;
        let dropped = &self.buf[..drop];
        match dropped.iter().rposition(|&b| b == b'\n') {
            Some(newline) => {
                let lines = dropped.iter().filter(|&&b| b == b'\n').count();
                self.lines_before = self.lines_before.saturating_add(to_u32(lines));
                self.columns_before = to_u32(chars(&dropped[newline + 1..]));
            }
            None => self.columns_before = self.columns_before.saturating_add(to_u32(chars(dropped))),
        }
        self.buf.drain(..drop);
        // A character cut in two by the boundary was counted above by its first byte; the
        // next window counts each of its remaining bytes as one (invalid) character.
        let cut = self.buf.iter().take(3).take_while(|&&b| b & 0xC0 == 0x80).count();
        self.columns_before = self.columns_before.saturating_sub(to_u32(cut));
        self.first = false;
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Characters in UTF-8 text: bytes that do not continue a sequence.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Config;

    fn engine() -> Engine {
        Engine::new(&Config {
            max_file_size: 1 << 20,
            extra_rules: Vec::new(),
            allow_paths: Vec::new(),
            peer_annotations: true,
        })
        .expect("engine")
    }

    /// Fake, assembled at run time.
    fn token() -> String {
        ["xoxb-", "4829105736", "-", "7301946285", "-", "Qw7Zr2LkVb9NfT3XcHm4Jp8Y"].concat()
    }

    fn positions(found: &[Finding]) -> Vec<(u32, u32, u32, u32)> {
        found.iter().map(|f| (f.line, f.column, f.end_line, f.end_column)).collect()
    }

    #[test]
    fn windows_find_what_one_pass_finds_wherever_the_boundaries_fall() {
        let engine = engine();
        let tok = token();
        // Long lines and short ones, secrets near every boundary, one line crossing several
        // windows.
        let mut text = String::new();
        let mut i = 0usize;
        while text.len() < 3 * WINDOW + 300_000 {
            match i % 7 {
                0 => text.push_str(&"é".repeat(150_000)),
                1 => text.push_str(&format!(" slack = \"{tok}\" ")),
                _ => text.push_str("short line\n"),
            }
            if i.is_multiple_of(11) {
                text.push('\n');
            }
            i += 1;
        }
        let whole = engine.scan_bytes("big.txt", text.as_bytes());
        assert!(whole.len() > 8, "{}", whole.len());
        for piece in [1usize, 4093, WINDOW, 3 * WINDOW] {
            let mut windows = Windows::new(&engine, "big.txt");
            for chunk in text.as_bytes().chunks(piece.min(text.len())) {
                windows.push(chunk);
            }
            let streamed = windows.finish();
            assert_eq!(positions(&streamed), positions(&whole), "pieces of {piece}");
            assert!(streamed.iter().all(|f| !f.line_redacted.contains(&tok)));
        }
    }
}
