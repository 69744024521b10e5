//! The terminal report, in the style of cargo and ruff: location, rule, the code, what to do.

use std::io::Write;

use sluice_sarif::sarif::Sarif;
use sluice_sarif::{is_sluice_fingerprint, Severity, SourceFiles};

use crate::escape::terminal;
use crate::finding::{findings, stage_summaries, Finding};
use crate::{is_secret_finding, Options};

/// Long lines are cut so a minified file does not flood the terminal.
const MAX_LINE_CHARS: usize = 160;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Info => "1;37",
        };
        self.wrap(code, text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn blue(&self, text: &str) -> String {
        self.wrap("1;34", text)
    }
}

pub fn render(log: &Sarif, opts: &Options<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let paint = Paint { on: opts.color };
    let all = findings(log);
    let (suppressed, active): (Vec<&Finding>, Vec<&Finding>) = all.iter().partition(|f| f.suppressed);
    // Invariant: source lines come only from files inside the root (sluice-sarif's guarded
    // reader), and every string from the log or the repository is escaped for the terminal.
    let mut sources = SourceFiles::for_display(opts.root);
    for f in &active {
        render_one(f, &paint, &mut sources, out)?;
    }
    // Files a stage did not scan, one line each: their findings are unknown.
    let skipped = crate::finding::skipped_files(log);
    for f in &skipped {
        let label = if f.note { paint.bold("note") } else { paint.severity(Severity::Medium, "warning") };
        let (path, why) = (terminal(&f.path), terminal(&f.why));
        writeln!(out, "{label}: not scanned: {path} ({}): {why}", terminal(&f.stage))?;
    }
    for stage in stage_summaries(log) {
        for failure in &stage.failures {
            writeln!(
                out,
                "{}: stage `{}` failed: {}",
                paint.severity(Severity::High, "error"),
                terminal(&stage.stage),
                terminal(failure)
            )?;
        }
    }
    let mut counts: Vec<(Severity, usize)> = Vec::new();
    for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info] {
        let n = active.iter().filter(|f| f.severity == s).count();
        if n > 0 {
            counts.push((s, n));
        }
    }
    let noun = if active.len() == 1 { "finding" } else { "findings" };
    if active.is_empty() {
        write!(out, "{}", paint.bold("no findings"))?;
    } else {
        let parts: Vec<String> = counts.iter().map(|(s, n)| paint.severity(*s, &format!("{n} {s}"))).collect();
        write!(out, "{} {noun}: {}", paint.bold(&active.len().to_string()), parts.join(", "))?;
    }
    // New, suppressed and fixed apart: what a change introduced, what was decided, what went away.
    let c = crate::finding::counts(log);
    let mut extra = Vec::new();
    if let Some(n) = c.new {
        extra.push(format!("{n} new"));
    }
    if !suppressed.is_empty() {
        extra.push(format!("{} suppressed", suppressed.len()));
    }
    if let Some(n) = c.fixed {
        extra.push(format!("{n} fixed"));
    }
    if !skipped.is_empty() {
        let files = if skipped.len() == 1 { "file" } else { "files" };
        extra.push(format!("{} {files} not scanned", skipped.len()));
    }
    if !extra.is_empty() {
        write!(out, " ({})", extra.join(", "))?;
    }
    writeln!(out)
}

fn render_one(f: &Finding, paint: &Paint, sources: &mut SourceFiles<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let label = paint.severity(f.severity, f.severity.as_str());
    let title = terminal(f.rule_name.as_deref().unwrap_or(&f.message));
    let message = terminal(&f.message);
    writeln!(out, "{label}[{}]: {}", paint.bold(&terminal(&f.rule_id)), paint.bold(&title))?;
    let location = match (f.path.as_deref().map(terminal), f.line, f.column) {
        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}"),
        (Some(p), Some(l), None) => format!("{p}:{l}"),
        (Some(p), None, _) => p,
        (None, _, _) => "(no location)".into(),
    };
    writeln!(out, "  {} {location} {}", paint.blue("-->"), paint.dim(&format!("({})", terminal(&f.stage))))?;
    // The code: the stage's own snippet (redacted by secrets stages) or, when the finding is
    // not about a secret, the line from the file.
    let line_no = f.line.unwrap_or(0);
    let source_line = if is_secret_finding(f) {
        None
    } else {
        match (&f.path, f.line) {
            (Some(path), Some(line)) => sources.line(path, line).map(str::to_owned),
            _ => None,
        }
    };
    let gutter = " ".repeat(line_no.to_string().len());
    if let Some(code) = source_line {
        let chars: Vec<char> = code.trim_end().chars().collect();
        let shown = shown_code(&chars);
        writeln!(out, "{gutter} {}", paint.blue("|"))?;
        writeln!(out, "{} {} {shown}", paint.blue(&line_no.to_string()), paint.blue("|"))?;
        // Columns count characters of the file; carets go under what they became when shown
        // (a tab as spaces, a control character as its escape).
        let col = f.column.unwrap_or(1).max(1) as usize;
        let shown_len = shown.chars().count();
        let at = |c: usize| shown_code(&chars[..c.min(chars.len())]).chars().count();
        if col <= chars.len() && at(col - 1) < shown_len {
            let start = at(col - 1);
            let end = match (f.end_line, f.end_column) {
                (Some(el), Some(ec)) if el == line_no && ec as usize > col => at(ec as usize - 1),
                _ => shown_len,
            };
            let width = end.saturating_sub(start).clamp(1, shown_len + 1 - start);
            let marks = paint.severity(f.severity, &"^".repeat(width));
            writeln!(out, "{gutter} {} {}{marks} {message}", paint.blue("|"), " ".repeat(start))?;
        } else {
            writeln!(out, "{gutter} {} {message}", paint.blue("|"))?;
        }
    } else if let Some(snippet) = f.snippet.as_deref().filter(|s| !s.trim().is_empty()) {
        writeln!(out, "{gutter} {}", paint.blue("|"))?;
        for (i, text) in snippet.lines().take(5).enumerate() {
            let n = if i == 0 { line_no.to_string() } else { gutter.clone() };
            let chars: Vec<char> = text.trim_end().chars().collect();
            writeln!(out, "{} {} {}", paint.blue(&n), paint.blue("|"), shown_code(&chars))?;
        }
        writeln!(out, "{gutter} {} {message}", paint.blue("|"))?;
    } else {
        writeln!(out, "{gutter} {} {message}", paint.blue("="))?;
    }
    if let Some(help) = f.help.as_deref() {
        let first = help.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        writeln!(out, "{gutter} {} {} {}", paint.blue("="), paint.bold("help:"), terminal(first))?;
    }
    if !f.cwe.is_empty() {
        writeln!(out, "{gutter} {} {} {}", paint.blue("="), paint.bold("cwe:"), terminal(&f.cwe.join(", ")))?;
    }
    if let Some(uri) = f.help_uri.as_ref().filter(|u| !f.help.as_deref().unwrap_or("").contains(u.as_str())) {
        writeln!(out, "{gutter} {} {} {}", paint.blue("="), paint.bold("docs:"), terminal(uri))?;
    }
    if !f.suppressed {
        if let Some(how) = how_to_suppress(f) {
            writeln!(out, "{gutter} {} {} {how}", paint.blue("="), paint.bold("if wrong:"))?;
        }
    }
    writeln!(out)
}

/// How to record that a finding is wrong, with a reason that is reviewed like code: a triage
/// decision by fingerprint, or for SAST an ignore comment on the line. A command to paste is
/// offered only for a fingerprint of the shape sluice makes: a log's own value could be
/// anything, `; curl … | sh` included.
fn how_to_suppress(f: &Finding) -> Option<String> {
    let fingerprint = f.fingerprint.as_deref().filter(|fp| is_sluice_fingerprint(fp))?;
    let mark = format!("sluice triage mark {fingerprint} --status false_positive --reason \"…\"");
    let plain_rule = f.rule_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    Some(if f.stage == "sast" && plain_rule {
        format!("{mark} (or a `sluice:ignore[{}]` comment on the line above, with the reason)", f.rule_id)
    } else {
        mark
    })
}

/// A line of code as shown: tabs as four spaces, control characters escaped, cut after
/// [`MAX_LINE_CHARS`] characters so a minified file does not flood the terminal.
fn shown_code(chars: &[char]) -> String {
    let cut = chars.len() > MAX_LINE_CHARS;
    let text: String = chars.iter().take(MAX_LINE_CHARS).collect();
    let mut shown = terminal(&text.replace('\t', "    "));
    if cut {
        shown.push('…');
    }
    shown
}
