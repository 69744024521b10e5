//! Events as JSON lines: the exchange format (`sluice record export/import`), and the input of
//! independent calculations. One object per line, tagged by `type`; the first line is a header
//! with the format version. Times are RFC 3339 UTC. Sorted: deployments, incidents, scan runs,
//! each by time then id, so two exports of the same database are byte-identical.

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::events::{DeployStatus, Deployment, Incident, ScanFinding, ScanRun};
use crate::store::{Inserted, Store};
use crate::time::{format_time, parse_time};

pub const FORMAT: &str = "sluice-events";
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Header {
        format: String,
        version: u32,
    },
    Deployment {
        id: i64,
        env: String,
        commit: String,
        at: String,
        status: DeployStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        #[serde(default = "default_source")]
        source: String,
    },
    Incident {
        id: String,
        opened_at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolved_at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deploy: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    ScanRun {
        id: i64,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        findings: Vec<LineFinding>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineFinding {
    stage: String,
    rule: String,
    fingerprint: String,
    severity: String,
    #[serde(default)]
    suppressed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    triage: Option<String>,
}

fn default_source() -> String {
    "import".into()
}

/// Writes every event of the store.
pub fn export(store: &Store, out: &mut dyn std::io::Write) -> Result<()> {
    let io = |e: std::io::Error| MetricsError::Input(format!("cannot write the export: {e}"));
    let mut write = |line: &Line| -> Result<()> {
        let text = serde_json::to_string(line).map_err(|e| MetricsError::Input(e.to_string()))?;
        writeln!(out, "{text}").map_err(io)
    };
    write(&Line::Header { format: FORMAT.into(), version: VERSION })?;
    for d in store.deployments()? {
        write(&Line::Deployment {
            id: d.id,
            env: d.env,
            commit: d.commit,
            at: format_time(d.at),
            status: d.status,
            service: d.service,
            source: d.source,
        })?;
    }
    for i in store.incidents()? {
        write(&Line::Incident {
            id: i.id,
            opened_at: format_time(i.opened_at),
            resolved_at: i.resolved_at.map(format_time),
            deploy: i.deploy,
            cause: i.cause,
        })?;
    }
    for r in store.scan_runs()? {
        write(&Line::ScanRun {
            id: r.id,
            at: format_time(r.at),
            commit: r.commit,
            findings: r
                .findings
                .into_iter()
                .map(|f| LineFinding {
                    stage: f.stage,
                    rule: f.rule,
                    fingerprint: f.fingerprint,
                    severity: f.severity,
                    suppressed: f.suppressed,
                    triage: f.triage,
                })
                .collect(),
        })?;
    }
    Ok(())
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub added: usize,
    pub duplicates: usize,
}

/// Reads every line first (a bad line imports nothing, and the error names its line), then
/// inserts in one transaction. Events already recorded are counted as duplicates.
pub fn import(store: &mut Store, text: &str, origin: &str) -> Result<ImportCounts> {
    let bad = |line: usize, message: String| MetricsError::Line { file: origin.to_owned(), line, message };
    let time = |line: usize, text: &str| parse_time(text).map_err(|m| bad(line, m));
    let mut deployments = Vec::new();
    let mut incidents = Vec::new();
    let mut runs = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw)
            .map_err(|e| bad(line_no, format!("{e} (expected a sluice-events JSON line: see docs/metrics.md)")))?;
        match line {
            Line::Header { format, version } => {
                if format != FORMAT || version > VERSION {
                    return Err(bad(
                        line_no,
                        format!("header says {format} version {version}; this sluice reads {FORMAT} up to {VERSION}"),
                    ));
                }
            }
            Line::Deployment { id, env, commit, at, status, service, source } => {
                deployments.push(Deployment { id, env, commit, at: time(line_no, &at)?, status, service, source })
            }
            Line::Incident { id, opened_at, resolved_at, deploy, cause } => incidents.push(Incident {
                id,
                opened_at: time(line_no, &opened_at)?,
                resolved_at: resolved_at.map(|t| time(line_no, &t)).transpose()?,
                deploy,
                cause,
            }),
            Line::ScanRun { id, at, commit, findings } => runs.push(ScanRun {
                id,
                at: time(line_no, &at)?,
                commit,
                findings: findings
                    .into_iter()
                    .map(|f| ScanFinding {
                        stage: f.stage,
                        rule: f.rule,
                        fingerprint: f.fingerprint,
                        severity: f.severity,
                        suppressed: f.suppressed,
                        triage: f.triage,
                    })
                    .collect(),
            }),
        }
    }
    let mut counts = ImportCounts::default();
    let mut tally = |inserted: Inserted| match inserted {
        Inserted::New(_) => counts.added += 1,
        Inserted::Duplicate(_) => counts.duplicates += 1,
    };
    store.begin()?;
    let outcome = (|| -> Result<()> {
        for d in &deployments {
            tally(store.add_deployment(d)?);
        }
        for i in &incidents {
            match store.incident(&i.id)? {
                Some(existing) if &existing == i => tally(Inserted::Duplicate(0)),
                _ => {
                    store.put_incident(i)?;
                    tally(Inserted::New(0));
                }
            }
        }
        for r in &runs {
            tally(store.add_scan_run(r)?);
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => store.commit()?,
        Err(e) => {
            let _ = store.rollback();
            return Err(e);
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_version_and_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("events.db")).unwrap();
        let err = import(&mut store, "{\"type\":\"header\",\"format\":\"sluice-events\",\"version\":2}\n", "e.jsonl")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("e.jsonl:1:") && err.contains("up to 1"), "{err}");
        let text = "\n{\"type\":\"incident\",\"id\":\"1\",\"opened_at\":\"soon\"}\n";
        let err = import(&mut store, text, "e.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("e.jsonl:2:") && err.contains("not a time"), "{err}");
        assert!(store.incidents().unwrap().is_empty(), "a bad file imports nothing");
    }

    #[test]
    fn export_then_import_is_identity() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::open(&dir.path().join("a.db")).unwrap();
        let text = concat!(
            "{\"type\":\"deployment\",\"id\":3,\"env\":\"prod\",\"commit\":\"abc\",\"at\":\"2024-01-01T00:00:00Z\",\"status\":\"failure\",\"service\":\"svc\"}\n",
            "{\"type\":\"incident\",\"id\":\"x\",\"opened_at\":\"2024-01-02\",\"resolved_at\":\"2024-01-03\",\"deploy\":3}\n",
            "{\"type\":\"scan_run\",\"id\":4,\"at\":\"2024-01-02T00:00:00Z\",\"findings\":[{\"stage\":\"s\",\"rule\":\"r\",\"fingerprint\":\"f\",\"severity\":\"low\"}]}\n",
        );
        assert_eq!(import(&mut a, text, "t").unwrap(), ImportCounts { added: 3, duplicates: 0 });
        assert_eq!(import(&mut a, text, "t").unwrap(), ImportCounts { added: 0, duplicates: 3 });
        let mut first = Vec::new();
        export(&a, &mut first).unwrap();
        let mut b = Store::open(&dir.path().join("b.db")).unwrap();
        import(&mut b, std::str::from_utf8(&first).unwrap(), "first").unwrap();
        let mut second = Vec::new();
        export(&b, &mut second).unwrap();
        assert_eq!(first, second);
        assert!(std::str::from_utf8(&first).unwrap().contains("\"service\":\"svc\""));
    }
}
