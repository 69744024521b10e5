-- sluice serve, PostgreSQL. Times are Unix milliseconds (BIGINT); JSON is TEXT; ids are BIGINT.
-- The same statements, apart from types and triggers, as migrations/sqlite/0001_init.sql.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE projects (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    default_branch TEXT,
    profile        TEXT    NOT NULL DEFAULT 'velocity',
    created_at     BIGINT NOT NULL
);

-- A role per project (project_id set) or across the organisation (project_id NULL).
CREATE TABLE roles (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT REFERENCES projects(id),
    role       TEXT    NOT NULL CHECK (role IN ('developer', 'champion', 'security', 'admin')),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_one ON roles(user_id, COALESCE(project_id, 0));

-- API tokens, hashed. kind: personal (acts as user_id), project (one project; scope push or
-- read), organisation (scope push: every project, may create projects on first push),
-- login (the first admin's one-time login token), session (from a login).
CREATE TABLE tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('personal', 'project', 'organisation', 'login', 'session')),
    scope       TEXT    NOT NULL CHECK (scope IN ('all', 'push', 'read')),
    name        TEXT    NOT NULL,
    user_id     BIGINT REFERENCES users(id),
    project_id  BIGINT REFERENCES projects(id),
    created_by  BIGINT REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT,
    last_used_at BIGINT
);

CREATE TABLE runs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     BIGINT NOT NULL REFERENCES projects(id),
    client_run_id  TEXT    NOT NULL,
    commit_sha     TEXT,
    branch         TEXT,
    merge_request  TEXT,
    pipeline_url   TEXT,
    on_default     BIGINT NOT NULL,
    partial        BIGINT NOT NULL,
    stages         TEXT    NOT NULL,
    verdict        TEXT,
    claimed_verdict TEXT,
    results        BIGINT NOT NULL,
    new_findings   BIGINT NOT NULL,
    closed_findings BIGINT NOT NULL,
    reintroduced   BIGINT NOT NULL,
    open_after     BIGINT NOT NULL,
    pushed_by      TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (project_id, client_run_id)
);
CREATE INDEX runs_project ON runs(project_id, id);

-- What a run carried, compressed (gzip): the redacted SARIF, the SBOM, the attestation.
CREATE TABLE run_documents (
    run_id  BIGINT NOT NULL REFERENCES runs(id),
    kind    TEXT    NOT NULL CHECK (kind IN ('sarif', 'sbom', 'attestation')),
    sha256  TEXT    NOT NULL,
    size    BIGINT NOT NULL,
    body    BYTEA    NOT NULL,
    PRIMARY KEY (run_id, kind)
);

-- A finding is (project, sluice/v1 fingerprint). state: open, not_detected (a complete
-- default-branch run of its stage no longer reports it).
CREATE TABLE findings (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    fingerprint   TEXT    NOT NULL,
    stage         TEXT    NOT NULL,
    rule_id       TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    severity_rank BIGINT NOT NULL,
    message       TEXT    NOT NULL,
    path          TEXT,
    line          BIGINT,
    state         TEXT    NOT NULL CHECK (state IN ('open', 'not_detected')),
    suppressed    TEXT,
    first_seen_run BIGINT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_run BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    closed_run    BIGINT,
    closed_at     BIGINT,
    reintroduced  BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, fingerprint)
);
CREATE INDEX findings_list ON findings(project_id, state, severity_rank, id);
CREATE INDEX findings_org ON findings(state, severity_rank, id);

-- Every run a finding was seen in.
CREATE TABLE sightings (
    run_id     BIGINT NOT NULL REFERENCES runs(id),
    finding_id BIGINT NOT NULL REFERENCES findings(id),
    PRIMARY KEY (finding_id, run_id)
);

-- Deployments and incidents (`sluice record`), for DORA across projects.
CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    client_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    at          BIGINT NOT NULL,
    UNIQUE (project_id, client_id)
);

-- Failed logins, for the rate limit every replica shares.
CREATE TABLE login_failures (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT    NOT NULL,
    addr     TEXT    NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_recent ON login_failures(username, at);

-- Append-only audit log of every write: each row carries the hash of the one before it.
CREATE TABLE audit_log (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    addr      TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
