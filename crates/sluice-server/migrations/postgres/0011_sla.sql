-- The portfolio shows, per project, the open findings past their severity's SLA (days from first
-- seen: critical 7, high 30, medium 90, low 180; counted in UTC days, see `db::SLA_DAYS`).
-- Counted over `findings` per page view, that would read every old open finding (most of a
-- backlog) each time. It is kept instead, with the UTC day it was counted for: a default-branch
-- push recounts its project (the only writer of findings), and as a finding only crosses its SLA
-- when a UTC day begins, the portfolio recounts (and keeps) just the projects last counted on
-- an earlier day: each project once a day at most, by index ranges.
ALTER TABLE projects ADD COLUMN sla_breaches BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN sla_day BIGINT NOT NULL DEFAULT -1;

-- One project's open findings of one severity, by first sighting: the SLA recount is four range
-- counts. It also serves what findings_open_counts served (its columns are a prefix).
CREATE INDEX findings_open_age ON findings(project_id, severity_rank, first_seen_at) WHERE state = 'open' AND suppressed IS NULL;
DROP INDEX findings_open_counts;
