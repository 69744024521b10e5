-- Triage decisions made on the server (org-wide triage). A decision is proposed, then approved
-- or rejected by someone whose role is enough for what it covers; it suppresses nothing until
-- approved. project_id NULL: organisation-wide.
CREATE TABLE decisions (
    id                INTEGER PRIMARY KEY,
    project_id        INTEGER REFERENCES projects(id),
    scope             TEXT    NOT NULL CHECK (scope IN ('finding', 'rule', 'advisory')),
    fingerprint       TEXT,
    rule_id           TEXT,
    path_glob         TEXT,
    advisory          TEXT,
    package           TEXT,
    stage             TEXT,
    status            TEXT    NOT NULL CHECK (status IN ('false_positive', 'accepted_risk', 'mitigated', 'confirmed')),
    vex_justification TEXT,
    reason            TEXT    NOT NULL,
    expires_at        INTEGER,
    severity          TEXT    NOT NULL,
    required_role     TEXT    NOT NULL CHECK (required_role IN ('champion', 'security')),
    state             TEXT    NOT NULL CHECK (state IN ('proposed', 'approved', 'rejected', 'revoked')),
    proposed_by       TEXT    NOT NULL,
    proposed_at       INTEGER NOT NULL,
    decided_by        TEXT,
    decided_role      TEXT,
    decided_at        INTEGER,
    note              TEXT
);
CREATE INDEX decisions_project ON decisions(project_id, state);

-- Every change of every decision: who, with what role, what, when, why.
CREATE TABLE decision_history (
    id          INTEGER PRIMARY KEY,
    decision_id INTEGER NOT NULL REFERENCES decisions(id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    role        TEXT,
    action      TEXT    NOT NULL,
    note        TEXT
);
CREATE INDEX decision_history_decision ON decision_history(decision_id, id);

-- The decision of the repository's own `.sluice/triage.toml` that the last default-branch run
-- applied to a finding (status, reason, who, when, expires), as the run reported it.
ALTER TABLE findings ADD COLUMN repo_decision TEXT;
