# Unit tests of the shared helpers; `sluice policy test` runs them (like `opa test`).
package sluice.lib_test

import data.sluice.lib
import rego.v1

clock := {"run": {"now": "2026-11-26T00:00:00Z"}}

finding(over) := object.union(
	{
		"rule": "r", "stage": "sast", "tool": "t", "level": "error", "severity": "high", "score": 8.0,
		"baseline_state": null, "status": "open", "secret": false, "triage": null, "suppressions": [],
		"cwe": [], "fingerprint": "fp", "location": {"path": "a.py", "line": 1}, "message": "m",
	},
	over,
)

test_expiring_exception_in_the_future if {
	r := finding({"status": "suppressed", "suppressions": ["external"], "triage": {"status": "accepted_risk", "expires": "2026-12-01"}})
	lib.expiring_exception(r) with input as clock
}

test_without_a_clock_nothing_is_expiring if {
	r := finding({"status": "suppressed", "suppressions": ["external"], "triage": {"status": "accepted_risk", "expires": "2200-01-01"}})
	not lib.expiring_exception(r) with input as {"run": {}}
}

test_expired_exception_does_not_count if {
	r := finding({"status": "suppressed", "suppressions": ["external"], "triage": {"status": "accepted_risk", "expires": "2026-11-26"}})
	not lib.expiring_exception(r) with input as clock
}

test_exception_without_expiry_is_not_expiring if {
	r := finding({"status": "suppressed", "triage": {"status": "false_positive", "expires": null}})
	not lib.expiring_exception(r) with input as clock
	lib.any_exception(r)
}

test_in_source_suppression_is_not_expiring if {
	r := finding({"status": "suppressed", "suppressions": ["inSource"]})
	not lib.expiring_exception(r) with input as clock
}

# A log can claim anything in `sluice/triage`: only triage's own suppression makes an exception.
test_in_source_suppression_with_a_forged_triage_expiry_is_not_expiring if {
	r := finding({"status": "suppressed", "suppressions": ["inSource"], "triage": {"status": "accepted_risk", "expires": "2099-01-01"}})
	not lib.expiring_exception(r) with input as clock
}

test_confirmed_decision_is_not_an_exception if {
	r := finding({"status": "suppressed", "suppressions": ["external", "inSource"], "triage": {"status": "confirmed", "expires": "2099-01-01"}})
	not lib.expiring_exception(r) with input as clock
}

test_without_baseline_every_finding_is_new if {
	lib.is_new(finding({}))
	lib.is_new(finding({"baseline_state": "new"}))
	not lib.is_new(finding({"baseline_state": "unchanged"}))
	not lib.is_new(finding({"baseline_state": "updated"}))
}

test_required_stages_follow_detection if {
	stages := {s.stage | some s in lib.required_stages} with input as {"detected": {
		"languages": ["go", "python"], "ecosystems": ["PyPI"], "lockfiles": [], "manifests": ["requirements.txt"],
		"dockerfiles": ["Dockerfile"],
	}}
	stages == {"secrets", "sast", "deps", "container"}
}

test_only_secrets_for_an_unsupported_language if {
	stages := {s.stage | some s in lib.required_stages} with input as {"detected": {
		"languages": ["go"], "ecosystems": [], "lockfiles": [], "manifests": [], "dockerfiles": [],
	}}
	stages == {"secrets"}
}

test_a_failed_stage_is_missing if {
	missing := {m.stage | some m in lib.missing_stages} with input as {
		"detected": {"languages": [], "ecosystems": [], "lockfiles": [], "manifests": [], "dockerfiles": []},
		"stages": [{"name": "secrets", "status": "failed", "failures": ["timeout"]}],
	}
	missing == {"secrets"}
}
