-- The portfolio (the web pages, and GET /projects) counts per project: the open findings by
-- severity, and the findings first seen and closed this week. Each is a scan of one covering
-- index (no table row read), the open counts' a partial one holding only what they count.
CREATE INDEX findings_open_counts ON findings(project_id, severity_rank) WHERE state = 'open' AND suppressed IS NULL;
CREATE INDEX findings_first_seen ON findings(first_seen_at, project_id);
CREATE INDEX findings_closed ON findings(closed_at, project_id, state) WHERE closed_at IS NOT NULL;
