# Profile `velocity`: ship fast, block only what must never ship.
# Blocks new critical findings and leaked credentials (and a secrets stage that did not run);
# any triage decision counts as an exception; everything else is a warning. Every reason
# names the NIST SSDF (SP 800-218) tasks it evidences.
package sluice.velocity

import data.sluice.lib
import rego.v1

required_stages := lib.required_stages

deny contains lib.version_reason if input.version != lib.input_version

# Credentials are the `leaked-secret` reason's, so a secret is not reported twice.
new_critical contains lib.ref(r) if {
	some r in input.results
	not r.secret
	r.severity == "critical"
	r.status == "open"
	lib.is_new(r)
}

deny contains {
	"id": "new-critical",
	"msg": sprintf("%d new critical finding(s)", [count(new_critical)]),
	"ssdf": ["PW.7.2", "RV.2.2"],
	"findings": sort(new_critical),
	"fix": "fix them before merging, or record a triage decision: sluice triage mark FINGERPRINT --status … --reason \"…\"",
} if count(new_critical) > 0

secrets contains lib.ref(r) if {
	some r in input.results
	r.secret
	r.status == "open"
}

deny contains {
	"id": "leaked-secret",
	"msg": sprintf("%d leaked credential(s) found", [count(secrets)]),
	"ssdf": ["PW.7.2", "RV.2.2"],
	"findings": sort(secrets),
	"fix": "revoke and rotate each credential, remove it from the code (and history), then re-run",
} if count(secrets) > 0

deny contains {
	"id": "required-stage",
	"msg": sprintf("stage `%s` is required (%s) but did not run", [m.stage, m.because]),
	"ssdf": array.concat(["PO.4.1"], m.ssdf),
	"fix": "enable the secrets stage (it is built in; `enabled = false` in sluice.toml turns it off)",
} if {
	some m in lib.missing_stages
	m.stage == "secrets"
}

warn contains {
	"id": "recommended-stage",
	"msg": sprintf("stage `%s` applies (%s) but did not run", [m.stage, m.because]),
	"ssdf": array.concat(["PO.4.1"], m.ssdf),
	"fix": sprintf("configure the `%s` stage in sluice.toml (see `sluice plan`)", [m.stage]),
} if {
	some m in lib.missing_stages
	m.stage != "secrets"
}

warn contains {
	"id": "stage-failed",
	"msg": sprintf("stage `%s` failed, so its findings are unknown: %s", [s.name, concat("; ", s.failures)]),
	"ssdf": ["PO.4.2"],
	"fix": "fix the stage (its error is above) and re-run",
} if some s in lib.failed_stages

warn contains {
	"id": "unscanned-file",
	"msg": sprintf("%d file(s) were not scanned", [count(skipped)]),
	"ssdf": ["PW.7.2"],
	"findings": sort(skipped),
	"fix": "make each file scannable, or exclude it in sluice.toml so the decision is reviewed; the constrained profile refuses files that opt themselves out",
} if count(skipped) > 0

skipped := lib.unscanned | lib.skipped_by_rule

# Everything open that is not blocking, by severity.
other contains lib.ref(r) if {
	some r in input.results
	r.status == "open"
	not r.secret
	not r.severity in {"info"}
	not blocked(r)
}

blocked(r) if {
	not r.secret
	r.severity == "critical"
	lib.is_new(r)
}

warn contains {
	"id": "open-findings",
	"msg": sprintf("%d other open finding(s): %s", [count(other), summary]),
	"ssdf": ["PW.7.2", "RV.2.1"],
	"findings": sort(other),
	"fix": "plan their remediation, or record triage decisions for false positives",
} if {
	count(other) > 0
	summary := concat(", ", [sprintf("%d %s", [n, s]) |
		some s in ["critical", "high", "medium", "low"]
		n := count([f | some f in other; f.severity == s])
		n > 0
	])
}
