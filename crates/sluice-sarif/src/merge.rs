//! Merging logs: one run per stage, in a deterministic order.
//!
//! Memory stays bounded by the largest single run, not by the total: each run is serialized
//! as soon as it is added and spooled to an anonymous temporary file; `write` copies the runs
//! out in sorted order. Merging 500,000 results from 20 logs holds only the logs being parsed.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use serde_sarif::sarif::{Run, Sarif};
use sha2::{Digest, Sha256};

use crate::io::SCHEMA_URI;

/// A run written as compact JSON, with its sort key. Made on any thread and handed to a
/// [`Merger`].
pub struct SerializedRun {
    tool: String,
    category: String,
    json: Vec<u8>,
}

impl SerializedRun {
    pub fn new(run: &Run) -> serde_json::Result<SerializedRun> {
        Ok(SerializedRun {
            tool: run.tool.driver.name.clone(),
            category: run.automation_details.as_ref().and_then(|d| d.id.clone()).unwrap_or_default(),
            json: serde_json::to_vec(run)?,
        })
    }
}

struct Spooled {
    tool: String,
    category: String,
    /// Orders runs of the same tool and category by content, whatever order they came in.
    digest: [u8; 32],
    offset: u64,
    len: u64,
}

#[derive(Default)]
pub struct Merger {
    runs: Vec<Spooled>,
    spool: Option<BufWriter<File>>,
    spooled: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot serialize a run: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("cannot use a temporary file for merging (is the temp directory writable and not full?): {0}")]
    Spool(std::io::Error),
}

impl Merger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_log(&mut self, log: Sarif) -> Result<(), MergeError> {
        for run in log.runs {
            self.add_run(&run)?;
        }
        Ok(())
    }

    pub fn add_run(&mut self, run: &Run) -> Result<(), MergeError> {
        self.push(SerializedRun::new(run)?)
    }

    pub fn push(&mut self, run: SerializedRun) -> Result<(), MergeError> {
        let spool = match &mut self.spool {
            Some(spool) => spool,
            None => self.spool.insert(BufWriter::new(tempfile::tempfile().map_err(MergeError::Spool)?)),
        };
        spool.write_all(&run.json).map_err(MergeError::Spool)?;
        let len = run.json.len() as u64;
        self.runs.push(Spooled {
            tool: run.tool,
            category: run.category,
            digest: Sha256::digest(&run.json).into(),
            offset: self.spooled,
            len,
        });
        self.spooled += len;
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
        self.runs.sort_by(|a, b| (&a.tool, &a.category, &a.digest).cmp(&(&b.tool, &b.category, &b.digest)));
        let mut spool = match self.spool.take() {
            Some(spool) => Some(spool.into_inner().map_err(|e| e.into_error())?),
            None => None,
        };
        write!(out, "{{\"$schema\":\"{SCHEMA_URI}\",\"version\":\"2.1.0\",\"runs\":[")?;
        for (i, run) in self.runs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            if let Some(file) = spool.as_mut() {
                file.seek(SeekFrom::Start(run.offset))?;
                let copied = std::io::copy(&mut Read::by_ref(file).take(run.len), out)?;
                if copied != run.len {
                    return Err(std::io::Error::other("the merge spool file was truncated"));
                }
            }
        }
        out.write_all(b"]}\n")
    }
}
