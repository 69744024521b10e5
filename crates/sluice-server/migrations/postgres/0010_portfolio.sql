-- The portfolio lists every project with its open findings by severity, what was new and
-- fixed this week, and its last runs. Counted from `findings` per request, that cost grew with
-- the organisation (a million findings: a scan of a million index entries per page view). The
-- counts are now kept where they change: a push recomputes its project's open counts (one
-- project's range of `findings_open_counts`) and adds its new and closed findings to the day's
-- row of `project_days`, in the push's transaction.
ALTER TABLE projects ADD COLUMN open_critical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN open_high BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN open_medium BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN open_low BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN open_info BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN last_run_id BIGINT;
ALTER TABLE projects ADD COLUMN last_default_run_id BIGINT;
ALTER TABLE projects ADD COLUMN last_run_at BIGINT;
ALTER TABLE projects ADD COLUMN default_verdict TEXT;

UPDATE projects SET
    open_critical = (SELECT COUNT(*) FROM findings f WHERE f.project_id = projects.id AND f.state = 'open' AND f.suppressed IS NULL AND f.severity_rank = 4),
    open_high     = (SELECT COUNT(*) FROM findings f WHERE f.project_id = projects.id AND f.state = 'open' AND f.suppressed IS NULL AND f.severity_rank = 3),
    open_medium   = (SELECT COUNT(*) FROM findings f WHERE f.project_id = projects.id AND f.state = 'open' AND f.suppressed IS NULL AND f.severity_rank = 2),
    open_low      = (SELECT COUNT(*) FROM findings f WHERE f.project_id = projects.id AND f.state = 'open' AND f.suppressed IS NULL AND f.severity_rank = 1),
    open_info     = (SELECT COUNT(*) FROM findings f WHERE f.project_id = projects.id AND f.state = 'open' AND f.suppressed IS NULL AND f.severity_rank < 1),
    last_run_id   = (SELECT MAX(r.id) FROM runs r WHERE r.project_id = projects.id),
    last_default_run_id = (SELECT MAX(r.id) FROM runs r WHERE r.project_id = projects.id AND r.on_default = 1);
UPDATE projects SET
    last_run_at = (SELECT r.created_at FROM runs r WHERE r.id = projects.last_run_id),
    default_verdict = (SELECT r.verdict FROM runs r WHERE r.id = projects.last_default_run_id);

-- Per project and UTC day (milliseconds since the epoch / 86,400,000): findings a
-- default-branch run saw for the first time, and findings it closed.
CREATE TABLE project_days (
    project_id      BIGINT NOT NULL REFERENCES projects(id),
    day             BIGINT NOT NULL,
    new_findings    BIGINT NOT NULL,
    closed_findings BIGINT NOT NULL,
    PRIMARY KEY (project_id, day)
);
CREATE INDEX project_days_day ON project_days(day, project_id);
INSERT INTO project_days (project_id, day, new_findings, closed_findings)
    SELECT project_id, created_at / 86400000, SUM(new_findings), SUM(closed_findings)
    FROM runs WHERE on_default = 1 GROUP BY project_id, created_at / 86400000;

-- Impact search ("which projects ship package P?") reads each project's latest default-branch
-- SBOM. Parsing every one per search cost a second and more at 2,000 projects; a push with an
-- SBOM on the default branch now replaces its project's rows here, looked up by index.
-- `components_run_id` names the run whose SBOM they are (the server indexes SBOMs stored before
-- this migration at start).
ALTER TABLE projects ADD COLUMN components_run_id BIGINT;
CREATE TABLE sbom_components (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    run_id     BIGINT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT,
    purl       TEXT,
    name_key   TEXT NOT NULL,
    purl_key   TEXT,
    purl_name  TEXT
);
CREATE INDEX sbom_components_project ON sbom_components(project_id);
CREATE INDEX sbom_components_name ON sbom_components(name_key);
CREATE INDEX sbom_components_purl ON sbom_components(purl_key);
CREATE INDEX sbom_components_purl_name ON sbom_components(purl_name);

-- Impact search by advisory counts, per project, the findings of an advisory's names: from this
-- covering index that is one index range, not a row read per finding. (Widening
-- `findings_rule` instead made SQLite walk `findings_org` for the finding list's rule filter:
-- 1.5 s a page.)
CREATE INDEX findings_impact ON findings(rule_id, project_id, state, severity_rank);

-- Only the per-request week count read it.
DROP INDEX findings_closed;
