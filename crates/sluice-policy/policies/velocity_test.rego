# Unit tests of the `velocity` profile; `sluice policy test` runs them (like `opa test`).
package sluice.velocity_test

import data.sluice.velocity
import rego.v1

nothing_detected := {"languages": [], "ecosystems": [], "lockfiles": [], "manifests": [], "dockerfiles": []}

ok_stages := [{"name": "secrets", "tool": "sluice-secrets", "status": "succeeded", "results": 0, "failures": []}]

finding(over) := object.union(
	{
		"rule": "r", "stage": "sast", "tool": "t", "level": "error", "severity": "critical", "score": 9.5,
		"baseline_state": "new", "status": "open", "secret": false, "triage": null, "suppressions": [],
		"cwe": [], "fingerprint": "fp", "location": {"path": "a.py", "line": 1}, "message": "m",
	},
	over,
)

doc(results) := {
	"version": 1, "run": {}, "detected": nothing_detected, "stages": ok_stages, "results": results,
	"triage": {}, "sbom": null, "summary": {},
}

ids(set) := {r.id | some r in set}

test_new_critical_is_denied if {
	ids(velocity.deny) == {"new-critical"} with input as doc([finding({})])
}

test_critical_without_baseline_counts_as_new if {
	ids(velocity.deny) == {"new-critical"} with input as doc([finding({"baseline_state": null})])
}

test_existing_critical_only_warns if {
	d := doc([finding({"baseline_state": "unchanged"})])
	count(velocity.deny) == 0 with input as d
	ids(velocity.warn) == {"open-findings"} with input as d
}

test_new_high_only_warns if {
	d := doc([finding({"severity": "high"})])
	count(velocity.deny) == 0 with input as d
	some w in velocity.warn with input as d
	w.msg == "1 other open finding(s): 1 high"
}

test_a_critical_secret_is_reported_once if {
	f := finding({"secret": true, "stage": "secrets"})
	ids(velocity.deny) == {"leaked-secret"} with input as doc([f])
}

test_any_triage_decision_is_an_exception if {
	f := finding({"status": "suppressed", "triage": {"status": "accepted_risk", "expires": null}})
	count(velocity.deny) == 0 with input as doc([f])
}

test_existing_secret_is_denied if {
	f := finding({"severity": "medium", "secret": true, "baseline_state": "unchanged", "stage": "secrets"})
	ids(velocity.deny) == {"leaked-secret"} with input as doc([f])
}

test_missing_secrets_stage_is_denied_others_warn if {
	d := object.union(doc([]), {
		"stages": [],
		"detected": object.union(nothing_detected, {"languages": ["python"]}),
	})
	ids(velocity.deny) == {"required-stage"} with input as d
	ids(velocity.warn) == {"recommended-stage"} with input as d
}

test_failed_stage_warns if {
	d := object.union(doc([]), {"stages": [
		{"name": "secrets", "status": "succeeded", "failures": []},
		{"name": "bandit", "status": "failed", "failures": ["exit 3"]},
	]})
	count(velocity.deny) == 0 with input as d
	ids(velocity.warn) == {"stage-failed"} with input as d
}

test_an_in_source_suppression_is_accepted if {
	f := finding({"status": "suppressed", "suppressions": ["inSource"]})
	s := finding({"secret": true, "stage": "secrets", "status": "suppressed", "suppressions": ["inSource"], "fingerprint": "s"})
	count(velocity.deny) == 0 with input as doc([f, s])
}

test_unscanned_files_only_warn if {
	files := [{"path": "a.py", "stage": "sast", "reason": "too-large", "message": "m"}]
	d := object.union(doc([]), {"skipped": {"files": files, "by_reason": {"too-large": 1}}})
	count(velocity.deny) == 0 with input as d
	ids(velocity.warn) == {"unscanned-file"} with input as d
}
