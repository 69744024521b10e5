-- Evidence and feedback to rule owners: the OpenVEX export (GET /vex) names packages by the
-- purl the deps stage reported, and vulnerabilities with their aliases; the noise report
-- (GET /rules/noise) counts findings and false positives per (stage, rule).

-- What a dependency finding is about, as its run reported it (`sluice/package`, `sluice/purl`,
-- `sluice/aliases`), and the status of the repository's own decision on it (from
-- repo_decision), so false positives are counted without reading JSON.
ALTER TABLE findings ADD COLUMN package TEXT;
ALTER TABLE findings ADD COLUMN purl TEXT;
ALTER TABLE findings ADD COLUMN repo_status TEXT;
UPDATE findings SET repo_status = json_extract(repo_decision, '$.status')
    WHERE repo_decision IS NOT NULL AND json_valid(repo_decision);

-- Every other name of an advisory a finding's rule is (rule_id = advisory): a decision may
-- name any of them.
CREATE TABLE advisory_aliases (
    alias    TEXT NOT NULL,
    advisory TEXT NOT NULL,
    PRIMARY KEY (alias, advisory)
);
CREATE INDEX advisory_aliases_advisory ON advisory_aliases(advisory);

-- Totals per (stage, rule) and the findings of one rule: an index-only scan instead of the
-- table.
CREATE INDEX findings_noise ON findings(rule_id, stage, project_id);
-- The repository's false positives, few among many.
CREATE INDEX findings_repo_status ON findings(repo_status) WHERE repo_status IS NOT NULL;
