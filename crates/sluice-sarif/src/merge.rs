//! Merging logs: one run per stage, in a deterministic order.
//!
//! Runs are serialized as soon as they are added, so merging many large logs holds each
//! parsed log only while it is being added, plus the compact JSON of every run (about a
//! tenth of the parsed size).

use std::io::Write;

use serde_json::value::RawValue;
use serde_sarif::sarif::{Run, Sarif};

use crate::io::SCHEMA_URI;

#[derive(Default)]
pub struct Merger {
    runs: Vec<(String, String, Box<RawValue>)>,
}

impl Merger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_log(&mut self, log: Sarif) -> serde_json::Result<()> {
        for run in log.runs {
            self.add_run(&run)?;
        }
        Ok(())
    }

    pub fn add_run(&mut self, run: &Run) -> serde_json::Result<()> {
        let name = run.tool.driver.name.clone();
        let category = run
            .automation_details
            .as_ref()
            .and_then(|d| d.id.clone())
            .unwrap_or_default();
        let raw = serde_json::value::to_raw_value(run)?;
        self.runs.push((name, category, raw));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Writes the merged log. Runs are ordered by tool name, category, then content, so the
    /// output does not depend on the order logs were added in.
    pub fn write(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.runs.sort_by(|a, b| {
            (&a.0, &a.1, a.2.get()).cmp(&(&b.0, &b.1, b.2.get()))
        });
        write!(out, "{{\"$schema\":\"{SCHEMA_URI}\",\"version\":\"2.1.0\",\"runs\":[")?;
        for (i, (_, _, raw)) in self.runs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(raw.get().as_bytes())?;
        }
        out.write_all(b"]}\n")
    }
}
