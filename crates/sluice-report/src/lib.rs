//! Reports: sluice's SARIF rendered for people (terminal, merge request comments) and for CI
//! systems (JUnit, GitHub Actions annotations, GitLab's SAST report).
//!
//! Invariant: reports show only what the SARIF carries or, for non-secret findings, the source
//! line it points at, read only from a file inside the root after symlinks
//! (`sluice_sarif::SourceFiles`). A result that looks like a credential finding never has its
//! source line read, so a third-party secrets tool's finding cannot leak through the terminal.
//! Every string from the log or the repository is escaped for the medium it goes to
//! ([`escape`]).

pub mod escape;
mod finding;
mod formats;
mod text;

use std::io::Write;
use std::path::Path;

pub use finding::{counts, findings, skipped_files, stage_summaries, Counts, Finding, SkippedFile, StageSummary};
pub use formats::utc_timestamp;
use sluice_sarif::sarif::Sarif;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
    Github,
    GitlabSast,
}

impl Format {
    pub const ALL: &'static [(&'static str, Format)] = &[
        ("text", Format::Text),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("junit", Format::Junit),
        ("markdown", Format::Markdown),
        ("github", Format::Github),
        ("gitlab-sast", Format::GitlabSast),
    ];

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

pub struct Options<'a> {
    /// Where the scanned files are, to show source lines; `None` shows only SARIF snippets.
    pub root: Option<&'a Path>,
    pub color: bool,
    pub tool_version: &'a str,
    /// Scan start and end, UTC, `YYYY-MM-DDTHH:MM:SS` (GitLab's report requires them).
    pub started: &'a str,
    pub finished: &'a str,
}

pub fn render(log: &Sarif, format: Format, opts: &Options<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => text::render(log, opts, out),
        Format::Sarif => sluice_sarif::write_log_pretty(log, out),
        Format::Json => formats::json(log, out),
        Format::Junit => formats::junit(log, out),
        Format::Markdown => formats::markdown(log, out),
        Format::Github => formats::github(log, out),
        Format::GitlabSast => formats::gitlab_sast(log, opts, out),
    }
}

/// Whether a finding is about a credential, so its source must never be printed.
pub(crate) fn is_secret_finding(f: &Finding) -> bool {
    f.credential
}
