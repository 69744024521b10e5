-- The organisation-wide finding list filtered by rule, or over every state (`state=all`), had no
-- index in its order: at 1,000,000 findings a rule filter scanned the open findings one table
-- row at a time (about 600 ms on SQLite) and `state=all` sorted all of them (about 280 ms).
-- Both now walk an index in the list's order (severity_rank DESC, id) and stop at the page.
CREATE INDEX findings_rule ON findings(rule_id, severity_rank DESC, id);
CREATE INDEX findings_rank ON findings(severity_rank DESC, id);
