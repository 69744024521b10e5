//! Merging logs: one run per stage, in a deterministic order.
//!
//! Memory stays bounded by the largest single run, not by the total: each run is serialized
//! as soon as it is added and spooled to an anonymous temporary file; `write` copies the runs
//! out in sorted order. Merging 500,000 results from 20 logs holds only the logs being parsed.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use rayon::prelude::*;
use serde_sarif::sarif::{Run, Sarif};
use sha2::{Digest, Sha256};

use crate::io::SCHEMA_URI;

/// A run written as compact JSON, with its sort key. Made on any thread and handed to a
/// [`Merger`].
pub struct SerializedRun {
    tool: String,
    category: String,
    /// The run's JSON, in pieces to be written one after the other.
    json: Vec<Vec<u8>>,
}

impl SerializedRun {
    pub fn new(run: &Run) -> serde_json::Result<SerializedRun> {
        Ok(SerializedRun {
            tool: run.tool.driver.name.clone(),
            category: run.automation_details.as_ref().and_then(|d| d.id.clone()).unwrap_or_default(),
            json: run_json(run)?,
        })
    }
}

/// Results in a run before they are serialized on every core, and in each thread's share.
const PARALLEL_RESULTS: usize = 4_096;
const CHUNK: usize = 1_024;

/// A run as compact JSON, in pieces whose concatenation is `serde_json::to_vec(run)`, byte for
/// byte. A run with many results (tens of megabytes for a large repository) has them
/// serialized on every core, then put where `results` goes in the serialization of the rest.
fn run_json(run: &Run) -> serde_json::Result<Vec<Vec<u8>>> {
    let Some(results) = run.results.as_deref().filter(|r| r.len() >= PARALLEL_RESULTS) else {
        return Ok(vec![serde_json::to_vec(run)?]);
    };
    let chunks = results
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(i, chunk)| {
            let mut out = Vec::with_capacity(chunk.len() * 512);
            for (j, result) in chunk.iter().enumerate() {
                if i > 0 || j > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, result)?;
            }
            Ok(out)
        })
        .collect::<serde_json::Result<Vec<Vec<u8>>>>()?;
    let mut head = serde_json::to_vec(&without_results(run))?;
    // Where the empty `results` array is: read back from the run's own JSON (a key of a nested
    // property bag could spell `"results":[]` too, so it is not searched for as text).
    #[derive(serde::Deserialize)]
    struct Shell<'a> {
        #[serde(borrow)]
        results: &'a serde_json::value::RawValue,
    }
    let shell: Shell<'_> = serde_json::from_slice(&head)?;
    let start = shell.results.get().as_ptr() as usize - head.as_ptr() as usize;
    // `[]`: the head ends with its `[`, the tail starts with its `]`.
    let tail = head.split_off(start + 1);
    let mut json = Vec::with_capacity(chunks.len() + 2);
    json.push(head);
    json.extend(chunks);
    json.push(tail);
    Ok(json)
}

/// The run with an empty `results` array, everything else cloned. Every field is named, so a
/// field a new serde-sarif adds fails to compile here instead of going missing.
fn without_results(run: &Run) -> Run {
    let Run {
        addresses,
        artifacts,
        automation_details,
        baseline_guid,
        column_kind,
        conversion,
        default_encoding,
        default_source_language,
        external_property_file_references,
        graphs,
        invocations,
        language,
        logical_locations,
        newline_sequences,
        original_uri_base_ids,
        policies,
        properties,
        redaction_tokens,
        results: _,
        run_aggregates,
        special_locations,
        taxonomies,
        thread_flow_locations,
        tool,
        translations,
        version_control_provenance,
        web_requests,
        web_responses,
    } = run;
    Run {
        addresses: addresses.clone(),
        artifacts: artifacts.clone(),
        automation_details: automation_details.clone(),
        baseline_guid: baseline_guid.clone(),
        column_kind: column_kind.clone(),
        conversion: conversion.clone(),
        default_encoding: default_encoding.clone(),
        default_source_language: default_source_language.clone(),
        external_property_file_references: external_property_file_references.clone(),
        graphs: graphs.clone(),
        invocations: invocations.clone(),
        language: language.clone(),
        logical_locations: logical_locations.clone(),
        newline_sequences: newline_sequences.clone(),
        original_uri_base_ids: original_uri_base_ids.clone(),
        policies: policies.clone(),
        properties: properties.clone(),
        redaction_tokens: redaction_tokens.clone(),
        results: Some(Vec::new()),
        run_aggregates: run_aggregates.clone(),
        special_locations: special_locations.clone(),
        taxonomies: taxonomies.clone(),
        thread_flow_locations: thread_flow_locations.clone(),
        tool: tool.clone(),
        translations: translations.clone(),
        version_control_provenance: version_control_provenance.clone(),
        web_requests: web_requests.clone(),
        web_responses: web_responses.clone(),
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
        let mut digest = Sha256::new();
        let mut len = 0;
        for piece in &run.json {
            spool.write_all(piece).map_err(MergeError::Spool)?;
            digest.update(piece);
            len += piece.len() as u64;
        }
        self.runs.push(Spooled {
            tool: run.tool,
            category: run.category,
            digest: digest.finalize().into(),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A run with `n` results, whose property bags (the run's, the driver's, the results') have
    /// keys that spell `"results":[]` in JSON.
    fn run(n: usize) -> Run {
        let results: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({
                    "ruleId": format!("r{}", i % 7),
                    "message": {"text": format!("line {i}: \"quoted\" \u{1F600} \\ tab\t")},
                    "properties": {"x\"results": [], "results": [i]},
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "properties": {"x\"results": [], "a": {"results": []}},
            "results": results,
            "tool": {"driver": {"name": "t", "properties": {"results": []}}},
            "automationDetails": {"id": "sluice/t/"},
        }))
        .unwrap()
    }

    #[test]
    fn a_run_is_written_as_serde_json_writes_it_in_one_piece_or_in_parallel() {
        for n in [0, 1, PARALLEL_RESULTS - 1, PARALLEL_RESULTS, PARALLEL_RESULTS + CHUNK * 3 + 5] {
            let run = run(n);
            let pieces = run_json(&run).unwrap();
            assert_eq!(pieces.len() > 1, n >= PARALLEL_RESULTS, "{n} results");
            let (got, want) = (String::from_utf8(pieces.concat()).unwrap(), serde_json::to_string(&run).unwrap());
            assert!(
                got == want,
                "{n} results: differ from byte {:?}",
                got.bytes().zip(want.bytes()).position(|(a, b)| a != b)
            );
        }
        let mut none = run(0);
        none.results = None;
        assert!(run_json(&none).unwrap().concat() == serde_json::to_vec(&none).unwrap());
    }
}
