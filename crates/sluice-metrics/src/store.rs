//! The events database: SQLite (bundled, so no system library is needed), one file, versioned
//! with `PRAGMA user_version` and migrated forward on open. A database written by a newer
//! sluice is refused rather than misread.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{MetricsError, Result};
use crate::events::{DeployStatus, Deployment, Incident, ScanFinding, ScanRun};

/// Each entry moves the schema from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE deployments (
    id INTEGER PRIMARY KEY,
    env TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    service TEXT,
    source TEXT NOT NULL
);
-- Recording the same deployment twice (a re-run of --from-tags, a re-import) is a no-op.
CREATE UNIQUE INDEX deployments_once ON deployments (env, commit_sha, at, status, IFNULL(service, ''));
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    deploy_id INTEGER,
    cause_sha TEXT
);
CREATE TABLE scan_runs (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    commit_sha TEXT
);
CREATE TABLE scan_findings (
    run_id INTEGER NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    rule TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    severity TEXT NOT NULL,
    suppressed INTEGER NOT NULL,
    triage TEXT,
    PRIMARY KEY (run_id, stage, fingerprint)
);
"#];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What inserting an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// The same event was already recorded (under this id).
    Duplicate(i64),
}

impl Store {
    /// Opens (creating the file and its directory if needed) and migrates.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                MetricsError::Input(format!(
                    "{}: cannot create the directory for the events database: {e}",
                    dir.display()
                ))
            })?;
        }
        let db = |source| MetricsError::Db { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(db)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db)?;
        if found > SCHEMA_VERSION {
            return Err(MetricsError::NewerSchema { path: path.to_owned(), found, supported: SCHEMA_VERSION });
        }
        if found < SCHEMA_VERSION {
            let tx = conn.transaction().map_err(db)?;
            for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.execute_batch(sql).map_err(db)?;
                tx.pragma_update(None, "user_version", version as i64 + 1).map_err(db)?;
            }
            tx.commit().map_err(db)?;
        }
        Ok(Store { conn, path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> MetricsError + '_ {
        move |source| MetricsError::Db { path: self.path.clone(), source }
    }

    /// Inserts a deployment; `id` 0 takes the next free id. An identical deployment already
    /// recorded is reported as a duplicate, not inserted twice.
    pub fn add_deployment(&mut self, d: &Deployment) -> Result<Inserted> {
        let err = |source| MetricsError::Db { path: self.path.clone(), source };
        let existing: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM deployments WHERE env = ?1 AND commit_sha = ?2 AND at = ?3 AND status = ?4
                 AND IFNULL(service, '') = IFNULL(?5, '')",
                params![d.env, d.commit, d.at, d.status.as_str(), d.service],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(id) = existing {
            return Ok(Inserted::Duplicate(id));
        }
        if d.id > 0 {
            let taken: Option<i64> = self
                .conn
                .query_row("SELECT id FROM deployments WHERE id = ?1", params![d.id], |r| r.get(0))
                .optional()
                .map_err(err)?;
            if taken.is_some() {
                return Err(MetricsError::Input(format!(
                    "{}: deployment {} is already recorded with other content; import into a new database (--db)",
                    self.path.display(),
                    d.id
                )));
            }
        }
        let id = if d.id > 0 { Some(d.id) } else { None };
        self.conn
            .execute(
                "INSERT INTO deployments (id, env, commit_sha, at, status, service, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, d.env, d.commit, d.at, d.status.as_str(), d.service, d.source],
            )
            .map_err(err)?;
        Ok(Inserted::New(self.conn.last_insert_rowid()))
    }

    pub fn deployment(&self, id: i64) -> Result<Option<Deployment>> {
        Ok(self.deployments()?.into_iter().find(|d| d.id == id))
    }

    /// Every deployment, by time then id.
    pub fn deployments(&self) -> Result<Vec<Deployment>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, env, commit_sha, at, status, service, source FROM deployments ORDER BY at, id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let status: String = r.get(4)?;
                Ok(Deployment {
                    id: r.get(0)?,
                    env: r.get(1)?,
                    commit: r.get(2)?,
                    at: r.get(3)?,
                    status: DeployStatus::parse(&status).unwrap_or(DeployStatus::Failure),
                    service: r.get(5)?,
                    source: r.get(6)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// The next automatic incident id: one more than the largest numeric id.
    pub fn next_incident_id(&self) -> Result<String> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(CAST(id AS INTEGER)) FROM incidents WHERE id GLOB '[0-9]*'", [], |r| r.get(0))
            .map_err(self.err())?;
        Ok((max.unwrap_or(0) + 1).to_string())
    }

    pub fn incident(&self, id: &str) -> Result<Option<Incident>> {
        Ok(self.incidents()?.into_iter().find(|i| i.id == id))
    }

    /// Inserts or replaces an incident (open, then resolve, updates the same row).
    pub fn put_incident(&mut self, i: &Incident) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO incidents (id, opened_at, resolved_at, deploy_id, cause_sha) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET opened_at = ?2, resolved_at = ?3, deploy_id = ?4, cause_sha = ?5",
                params![i.id, i.opened_at, i.resolved_at, i.deploy, i.cause],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Every incident, by opening time then id.
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, opened_at, resolved_at, deploy_id, cause_sha FROM incidents ORDER BY opened_at, id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Incident {
                    id: r.get(0)?,
                    opened_at: r.get(1)?,
                    resolved_at: r.get(2)?,
                    deploy: r.get(3)?,
                    cause: r.get(4)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Records a scan run; `id` 0 takes the next free id. A run with the same id and time is
    /// a duplicate (re-import).
    pub fn add_scan_run(&mut self, run: &ScanRun) -> Result<Inserted> {
        let path = self.path.clone();
        let err = move |source| MetricsError::Db { path: path.clone(), source };
        if run.id > 0 {
            let existing: Option<i64> = self
                .conn
                .query_row("SELECT at FROM scan_runs WHERE id = ?1", params![run.id], |r| r.get(0))
                .optional()
                .map_err(&err)?;
            match existing {
                Some(at) if at == run.at => return Ok(Inserted::Duplicate(run.id)),
                Some(_) => {
                    return Err(MetricsError::Input(format!(
                        "{}: scan run {} is already recorded with another time; import into a new database",
                        self.path.display(),
                        run.id
                    )))
                }
                None => {}
            }
        }
        let tx = self.conn.savepoint().map_err(&err)?;
        let id = if run.id > 0 { Some(run.id) } else { None };
        tx.execute("INSERT INTO scan_runs (id, at, commit_sha) VALUES (?1, ?2, ?3)", params![id, run.at, run.commit])
            .map_err(&err)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR IGNORE INTO scan_findings (run_id, stage, rule, fingerprint, severity, suppressed, triage)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&err)?;
            for f in &run.findings {
                stmt.execute(params![run_id, f.stage, f.rule, f.fingerprint, f.severity, f.suppressed, f.triage])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(Inserted::New(run_id))
    }

    /// Every scan run with its findings (sorted), by time then id.
    pub fn scan_runs(&self) -> Result<Vec<ScanRun>> {
        let mut runs: Vec<ScanRun> = {
            let mut stmt =
                self.conn.prepare("SELECT id, at, commit_sha FROM scan_runs ORDER BY at, id").map_err(self.err())?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ScanRun { id: r.get(0)?, at: r.get(1)?, commit: r.get(2)?, findings: Vec::new() })
                })
                .map_err(self.err())?;
            rows.collect::<Result<Vec<_>, _>>().map_err(self.err())?
        };
        let index: std::collections::HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, stage, rule, fingerprint, severity, suppressed, triage FROM scan_findings
                 ORDER BY run_id, stage, rule, fingerprint",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    ScanFinding {
                        stage: r.get(1)?,
                        rule: r.get(2)?,
                        fingerprint: r.get(3)?,
                        severity: r.get(4)?,
                        suppressed: r.get(5)?,
                        triage: r.get(6)?,
                    },
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (run_id, finding) = row.map_err(self.err())?;
            if let Some(&i) = index.get(&run_id) {
                runs[i].findings.push(finding);
            }
        }
        Ok(runs)
    }

    /// Runs several inserts as one transaction (imports of thousands of events).
    pub fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN").map_err(self.err())
    }

    pub fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(self.err())
    }
}

impl Store {
    pub fn rollback(&mut self) -> Result<()> {
        self.conn.execute_batch("ROLLBACK").map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn deployment(commit: &str, at: i64) -> Deployment {
        Deployment {
            id: 0,
            env: "prod".into(),
            commit: commit.into(),
            at,
            status: DeployStatus::Success,
            service: None,
            source: "cli".into(),
        }
    }

    #[test]
    fn creates_migrates_and_dedupes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/events.db");
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.add_deployment(&deployment("abc", 10)).unwrap(), Inserted::New(1));
        assert_eq!(store.add_deployment(&deployment("abc", 10)).unwrap(), Inserted::Duplicate(1));
        assert_eq!(store.add_deployment(&deployment("abc", 11)).unwrap(), Inserted::New(2));
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.deployments().unwrap().len(), 2);
        assert_eq!(store.next_incident_id().unwrap(), "1");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        Store::open(&path).unwrap();
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("schema version 99") && err.contains("upgrade sluice"), "{err}");
    }

    #[test]
    fn scan_runs_round_trip_and_incident_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("events.db")).unwrap();
        let finding = ScanFinding {
            stage: "sast".into(),
            rule: "py-eval".into(),
            fingerprint: "f1".into(),
            severity: "high".into(),
            suppressed: false,
            triage: Some("confirmed".into()),
        };
        let run = ScanRun { id: 0, at: 5, commit: Some("abc".into()), findings: vec![finding] };
        assert_eq!(store.add_scan_run(&run).unwrap(), Inserted::New(1));
        let back = store.scan_runs().unwrap();
        assert_eq!(back, vec![ScanRun { id: 1, ..run }]);
        let incident = Incident { id: "7".into(), opened_at: 1, resolved_at: None, deploy: None, cause: None };
        store.put_incident(&incident).unwrap();
        store.put_incident(&Incident { resolved_at: Some(9), ..incident.clone() }).unwrap();
        assert_eq!(store.incidents().unwrap()[0].resolved_at, Some(9));
        assert_eq!(store.next_incident_id().unwrap(), "8");
    }
}
