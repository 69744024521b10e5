-- Organisation-wide (or project) severity changes of a rule (docs/server.md, "Triage decisions
-- across the organisation"): a `rule` decision with status `confirmed` may re-rate the rule's
-- findings. NULL: the decision changes no severity.
ALTER TABLE decisions ADD COLUMN set_severity TEXT;

-- A proposal sent again after its answer was lost (`Idempotency-Key`): stored once per proposer
-- and key, the retry answered with the decision first stored.
ALTER TABLE decisions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX decisions_idempotency ON decisions(proposed_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
