//! The terminal report, in the style of cargo and ruff: location, rule, the code, what to do.

use std::collections::HashMap;
use std::io::Write;

use sluice_sarif::sarif::Sarif;
use sluice_sarif::Severity;

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
    let mut sources = SourceCache::default();
    for f in &active {
        render_one(f, opts, &paint, &mut sources, out)?;
    }
    // Files a stage did not scan, one line each: their findings are unknown.
    let skipped = crate::finding::skipped_files(log);
    for f in &skipped {
        let label = if f.note { paint.bold("note") } else { paint.severity(Severity::Medium, "warning") };
        let (path, why) = (printable(&f.path), printable(&f.why));
        writeln!(out, "{label}: not scanned: {path} ({}): {why}", f.stage)?;
    }
    for stage in stage_summaries(log) {
        for failure in &stage.failures {
            writeln!(out, "{}: stage `{}` failed: {failure}", paint.severity(Severity::High, "error"), stage.stage)?;
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

/// A repository-controlled string on one terminal line: control characters (newlines,
/// escape sequences) are shown as `\u{..}` escapes instead of acting on the terminal.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

fn render_one(
    f: &Finding,
    opts: &Options<'_>,
    paint: &Paint,
    sources: &mut SourceCache,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let label = paint.severity(f.severity, f.severity.as_str());
    let title = f.rule_name.as_deref().unwrap_or(&f.message);
    writeln!(out, "{label}[{}]: {}", paint.bold(&f.rule_id), paint.bold(title))?;
    let location = match (&f.path, f.line, f.column) {
        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}"),
        (Some(p), Some(l), None) => format!("{p}:{l}"),
        (Some(p), None, _) => p.clone(),
        (None, _, _) => "(no location)".into(),
    };
    writeln!(out, "  {} {location} {}", paint.blue("-->"), paint.dim(&format!("({})", f.stage)))?;
    // The code: the stage's own snippet (redacted by secrets stages) or, when the finding is
    // not about a secret, the line from the file.
    let line_no = f.line.unwrap_or(0);
    let source_line = if is_secret_finding(f) {
        None
    } else {
        match (opts.root, &f.path, f.line) {
            (Some(root), Some(path), Some(line)) => sources.line(root, path, line),
            _ => None,
        }
    };
    let gutter = " ".repeat(line_no.to_string().len());
    if let Some(code) = source_line {
        let shown = cut_line(&code);
        writeln!(out, "{gutter} {}", paint.blue("|"))?;
        writeln!(out, "{} {} {shown}", paint.blue(&line_no.to_string()), paint.blue("|"))?;
        let col = f.column.unwrap_or(1).max(1) as usize;
        if col <= shown.chars().count() {
            let end = match (f.end_line, f.end_column) {
                (Some(el), Some(ec)) if el == line_no && ec as usize > col => ec as usize,
                _ => shown.chars().count() + 1,
            };
            let width = end.saturating_sub(col).clamp(1, shown.chars().count() + 1 - col);
            let marks = paint.severity(f.severity, &"^".repeat(width));
            writeln!(out, "{gutter} {} {}{marks} {}", paint.blue("|"), " ".repeat(col - 1), f.message)?;
        } else {
            writeln!(out, "{gutter} {} {}", paint.blue("|"), f.message)?;
        }
    } else if let Some(snippet) = f.snippet.as_deref().filter(|s| !s.trim().is_empty()) {
        writeln!(out, "{gutter} {}", paint.blue("|"))?;
        for (i, text) in snippet.lines().take(5).enumerate() {
            let n = if i == 0 { line_no.to_string() } else { gutter.clone() };
            writeln!(out, "{} {} {}", paint.blue(&n), paint.blue("|"), cut_line(text))?;
        }
        writeln!(out, "{gutter} {} {}", paint.blue("|"), f.message)?;
    } else {
        writeln!(out, "{gutter} {} {}", paint.blue("="), f.message)?;
    }
    if let Some(help) = f.help.as_deref() {
        let first = help.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        writeln!(out, "{gutter} {} {} {first}", paint.blue("="), paint.bold("help:"))?;
    }
    if !f.cwe.is_empty() {
        writeln!(out, "{gutter} {} {} {}", paint.blue("="), paint.bold("cwe:"), f.cwe.join(", "))?;
    }
    if let Some(uri) = f.help_uri.as_ref().filter(|u| !f.help.as_deref().unwrap_or("").contains(u.as_str())) {
        writeln!(out, "{gutter} {} {} {uri}", paint.blue("="), paint.bold("docs:"))?;
    }
    if !f.suppressed {
        if let Some(how) = how_to_suppress(f) {
            writeln!(out, "{gutter} {} {} {how}", paint.blue("="), paint.bold("if wrong:"))?;
        }
    }
    writeln!(out)
}

/// How to record that a finding is wrong, with a reason that is reviewed like code: a triage
/// decision by fingerprint, or for SAST an ignore comment on the line.
fn how_to_suppress(f: &Finding) -> Option<String> {
    let fingerprint = f.fingerprint.as_deref()?;
    let mark = format!("sluice triage mark {fingerprint} --status false_positive --reason \"…\"");
    Some(if f.stage == "sast" {
        format!("{mark} (or a `sluice:ignore[{}]` comment on the line above, with the reason)", f.rule_id)
    } else {
        mark
    })
}

fn cut_line(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() > MAX_LINE_CHARS {
        line.chars().take(MAX_LINE_CHARS).collect::<String>() + "…"
    } else {
        line.to_owned()
    }
}

/// Files larger than this are not read for snippets.
const MAX_SOURCE_BYTES: u64 = 16 << 20;

#[derive(Default)]
struct SourceCache {
    files: HashMap<String, Option<Vec<String>>>,
}

impl SourceCache {
    fn line(&mut self, root: &std::path::Path, path: &str, line: u32) -> Option<String> {
        let lines = self.files.entry(path.to_owned()).or_insert_with(|| {
            // Results may point at image tarballs and other large or binary artifacts: those make
            // no snippet (a NUL byte near the start marks binary, as git decides).
            let full = root.join(path);
            if std::fs::metadata(&full).ok()?.len() > MAX_SOURCE_BYTES {
                return None;
            }
            let bytes = std::fs::read(full).ok()?;
            if bytes.iter().take(8000).any(|b| *b == 0) {
                return None;
            }
            Some(String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect())
        });
        lines.as_ref()?.get(usize::try_from(line).ok()?.checked_sub(1)?).cloned()
    }
}
