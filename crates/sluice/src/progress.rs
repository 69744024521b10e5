//! Stage progress on stderr: spinners on a terminal, one plain line per event elsewhere (CI
//! logs stay readable and greppable).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sluice_pipeline::{Progress, StageOutcome, StageStatus};
use sluice_report::escape::{terminal, terminal_lines};

pub struct Display {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    color: bool,
    quiet: bool,
}

impl Display {
    pub fn new(color: bool) -> Self {
        Self::with_quiet(color, false)
    }

    /// `quiet`: no progress, no per-stage lines, no informational notes; warnings, errors,
    /// failures and refusals still print.
    pub fn with_quiet(color: bool, quiet: bool) -> Self {
        let interactive = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bars = interactive
            .then(|| (MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), Mutex::new(HashMap::new())));
        Display { bars, color: color && std::io::stderr().is_terminal(), quiet }
    }

    /// Whether `text` is shown: everything, or when quiet what needs attention.
    fn shows(&self, text: &str) -> bool {
        !self.quiet || ["error", "warning", "refused"].iter().any(|p| text.starts_with(p)) || text.contains("failed")
    }

    /// A note on stderr. Notes quote what stages, tools and the repository say, so the text is
    /// escaped for the terminal or CI log here, where every note passes.
    pub fn note(&self, text: &str) {
        if !self.shows(text) {
            return;
        }
        let text = &terminal_lines(text);
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    pub fn finish(&self) {
        if let Some((multi, _)) = &self.bars {
            let _ = multi.clear();
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

impl Progress for Display {
    fn skipped(&self, stage: &str, why: &str) {
        self.note(&format!("skipped {stage}: {why}"));
    }

    fn started(&self, stage: &str) {
        match &self.bars {
            Some((multi, bars)) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(terminal(stage));
                bar.enable_steady_tick(Duration::from_millis(100));
                if let Ok(mut bars) = bars.lock() {
                    bars.insert(stage.to_owned(), bar);
                }
            }
            None if self.quiet => {}
            None => eprintln!("{}: started", terminal(stage)),
        }
    }

    fn finished(&self, outcome: &StageOutcome) {
        let secs = outcome.duration.as_secs_f64();
        // Stage names come from sluice.toml, a file of the repository.
        let name = terminal(&outcome.name);
        let line = match &outcome.status {
            StageStatus::Ok => {
                let n = outcome.result_count();
                format!(
                    "{} {}: {n} finding{} in {secs:.2}s",
                    self.paint("32", "✓"),
                    name,
                    if n == 1 { "" } else { "s" }
                )
            }
            StageStatus::Failed { .. } => {
                format!("{} {name}: failed after {secs:.2}s", self.paint("31", "✗"))
            }
        };
        if self.quiet && matches!(outcome.status, StageStatus::Ok) {
            return;
        }
        match &self.bars {
            Some((multi, bars)) => {
                if let Some(bar) = bars.lock().ok().and_then(|mut b| b.remove(&outcome.name)) {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
                let _ = multi.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}
