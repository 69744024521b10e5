# Unit tests of the `constrained` profile; `sluice policy test` runs them (like `opa test`).
package sluice.constrained_test

import data.sluice.constrained
import rego.v1

nothing_detected := {"languages": [], "ecosystems": [], "lockfiles": [], "manifests": [], "dockerfiles": []}

ok_stages := [{"name": "secrets", "tool": "sluice-secrets", "status": "succeeded", "results": 0, "failures": []}]

finding(over) := object.union(
	{
		"rule": "r", "stage": "sast", "tool": "t", "level": "error", "severity": "high", "score": 8.0,
		"baseline_state": "unchanged", "status": "open", "secret": false, "triage": null, "suppressions": [],
		"cwe": [], "fingerprint": "fp", "location": {"path": "a.py", "line": 1}, "message": "m",
	},
	over,
)

doc(results) := {
	"version": 1, "run": {"now": "2026-11-26T00:00:00Z"}, "detected": nothing_detected, "stages": ok_stages, "results": results,
	"triage": {}, "sbom": null, "summary": {},
}

ids(set) := {r.id | some r in set}

test_clean_input_is_allowed if {
	count(constrained.deny) == 0 with input as doc([finding({"severity": "medium"})])
}

test_existing_high_is_denied if {
	ids(constrained.deny) == {"high-severity"} with input as doc([finding({})])
}

test_every_reason_names_ssdf_tasks if {
	reasons := constrained.deny with input as doc([finding({}), finding({"secret": true, "fingerprint": "s"})])
	count(reasons) == 2
	every r in reasons {
		count(r.ssdf) > 0
		r.fix != ""
	}
}

test_expiring_exception_allows if {
	f := finding({"status": "suppressed", "suppressions": ["external"], "triage": {"status": "accepted_risk", "expires": "2027-01-01"}})
	count(constrained.deny) == 0 with input as doc([f])
}

test_exception_without_expiry_still_denies if {
	f := finding({"status": "suppressed", "triage": {"status": "false_positive", "expires": null}})
	ids(constrained.deny) == {"high-severity"} with input as doc([f])
}

test_expired_exception_denies if {
	f := finding({"status": "suppressed", "suppressions": ["external"], "triage": {"status": "accepted_risk", "expires": "2026-11-01"}})
	ids(constrained.deny) == {"high-severity"} with input as doc([f])
}

test_low_severity_secret_is_denied if {
	f := finding({"severity": "low", "secret": true, "stage": "secrets"})
	ids(constrained.deny) == {"leaked-secret"} with input as doc([f])
}

test_missing_required_stage_is_denied if {
	d := object.union(doc([]), {"detected": object.union(nothing_detected, {"languages": ["python"]})})
	reasons := constrained.deny with input as d
	ids(reasons) == {"required-stage"}
	some r in reasons
	contains(r.msg, "`sast`")
	"PO.4.1" in r.ssdf
}

test_failed_stage_is_denied if {
	d := object.union(doc([]), {"stages": [{"name": "secrets", "status": "failed", "failures": ["timed out after 10m"]}]})
	reasons := constrained.deny with input as d
	ids(reasons) == {"stage-failed", "required-stage"}
}

test_other_input_version_is_denied if {
	d := object.union(doc([]), {"version": 2})
	ids(constrained.deny) == {"input-version"} with input as d
}

test_permanent_low_exception_warns if {
	f := finding({"severity": "low", "status": "suppressed", "triage": {"status": "false_positive", "expires": null}})
	ids(constrained.warn) == {"permanent-exception"} with input as doc([f])
	count(constrained.deny) == 0 with input as doc([f])
}

skipped_doc(files) := object.union(doc([]), {"skipped": {"files": files, "by_reason": {}}})

skipped_file(path, reason) := {"path": path, "stage": "sast", "reason": reason, "message": "m"}

test_a_file_that_opts_itself_out_is_denied if {
	every reason in ["too-large", "too-deep", "timeout", "long-lines", "generated"] {
		reasons := constrained.deny with input as skipped_doc([skipped_file("a.py", reason)])
		ids(reasons) == {"unscanned-file"}
		some r in reasons
		r.findings == [sprintf("a.py (sast): %s", [reason])]
	}
}

test_a_documented_skip_is_a_warning_not_a_denial if {
	d := skipped_doc([skipped_file("static/app.min.js", "minified"), skipped_file("x.py", "unreadable")])
	count(constrained.deny) == 0 with input as d
	ids(constrained.warn) == {"skipped-file"} with input as d
}

test_an_input_without_skipped_is_allowed if {
	count(constrained.deny) == 0 with input as doc([])
}

test_an_in_source_suppression_is_not_an_exception if {
	f := finding({"severity": "critical", "status": "suppressed", "suppressions": ["inSource"]})
	ids(constrained.deny) == {"high-severity"} with input as doc([f])
	s := finding({"severity": "high", "secret": true, "stage": "secrets", "status": "suppressed", "suppressions": ["inSource"]})
	ids(constrained.deny) == {"high-severity", "leaked-secret"} with input as doc([s])
}

# With a server configured (`run.server`), high and critical findings need a verified security
# approval on the server; a repository decision alone no longer excepts them.
server_doc(results) := object.union(doc(results), {"run": {"now": "2026-11-26T00:00:00Z", "server": "https://sluice.example"}})

server_triage(over) := object.union(
	{
		"status": "false_positive", "expires": null, "source": "server", "scope": "finding", "approved": true,
		"role": "security", "decided_by": "user:sec", "signature_verified": true,
	},
	over,
)

suppressed(triage) := finding({"severity": "critical", "status": "suppressed", "suppressions": ["external"], "triage": triage})

test_server_security_approval_allows_without_expiry if {
	count(constrained.deny) == 0 with input as server_doc([suppressed(server_triage({}))])
}

test_server_repository_decision_alone_denies if {
	f := suppressed({"status": "accepted_risk", "expires": "2027-01-01", "source": "repository"})
	ids(constrained.deny) == {"high-severity"} with input as server_doc([f])
	# Without a server the same decision is today's expiring exception.
	count(constrained.deny) == 0 with input as doc([f])
}

test_server_champion_or_unverified_or_unapproved_denies if {
	ids(constrained.deny) == {"high-severity"} with input as server_doc([suppressed(server_triage({"role": "champion"}))])
	ids(constrained.deny) == {"high-severity"} with input as server_doc([suppressed(server_triage({"signature_verified": false}))])
	ids(constrained.deny) == {"high-severity"} with input as server_doc([suppressed(server_triage({"approved": false}))])
}

test_server_accepted_risk_still_needs_a_future_expiry if {
	ids(constrained.deny) == {"high-severity"} with input as server_doc([suppressed(server_triage({"status": "accepted_risk"}))])
	ids(constrained.deny) == {"high-severity"} with input as server_doc([suppressed(server_triage({"status": "accepted_risk", "expires": "2026-11-01"}))])
	count(constrained.deny) == 0 with input as server_doc([suppressed(server_triage({"status": "accepted_risk", "expires": "2027-01-01"}))])
}
