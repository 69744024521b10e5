//! Stage progress on stderr: spinners on a terminal, one plain line per event elsewhere (CI
//! logs stay readable and greppable).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sluice_pipeline::{Progress, StageOutcome, StageStatus};

pub struct Display {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    color: bool,
}

impl Display {
    pub fn new(color: bool) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bars = interactive
            .then(|| (MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), Mutex::new(HashMap::new())));
        Display { bars, color: color && std::io::stderr().is_terminal() }
    }

    pub fn note(&self, text: &str) {
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
    fn started(&self, stage: &str) {
        match &self.bars {
            Some((multi, bars)) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(stage.to_owned());
                bar.enable_steady_tick(Duration::from_millis(100));
                if let Ok(mut bars) = bars.lock() {
                    bars.insert(stage.to_owned(), bar);
                }
            }
            None => eprintln!("{stage}: started"),
        }
    }

    fn finished(&self, outcome: &StageOutcome) {
        let secs = outcome.duration.as_secs_f64();
        let line = match &outcome.status {
            StageStatus::Ok => {
                let n = outcome.result_count();
                format!(
                    "{} {}: {n} finding{} in {secs:.2}s",
                    self.paint("32", "✓"),
                    outcome.name,
                    if n == 1 { "" } else { "s" }
                )
            }
            StageStatus::Failed { .. } => {
                format!("{} {}: failed after {secs:.2}s", self.paint("31", "✗"), outcome.name)
            }
        };
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
