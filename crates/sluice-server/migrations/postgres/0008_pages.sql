-- The portfolio page counts, per project, the findings first seen and closed this week: one
-- index range each instead of every finding.
CREATE INDEX findings_first_seen ON findings(first_seen_at);
CREATE INDEX findings_closed ON findings(closed_at) WHERE closed_at IS NOT NULL;
