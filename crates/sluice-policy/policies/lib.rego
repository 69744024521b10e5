# Shared helpers of sluice's built-in profiles: what counts as an exception, which stages a
# repository needs, and how a finding is cited in a reason.
package sluice.lib

import rego.v1

# The policy input version these profiles are written for (docs/policy-input.md).
input_version := 1

# Languages sluice's own SAST stage covers; a repository with one of them needs the sast stage.
sast_languages := {"python", "javascript", "typescript"}

# A finding as a reason cites it.
ref(r) := {
	"rule": r.rule,
	"stage": r.stage,
	"severity": r.severity,
	"location": r.location,
	"fingerprint": r.fingerprint,
	"baseline_state": r.baseline_state,
}

# Expiry of a triage decision (first day it no longer applies, UTC) in nanoseconds.
expires_ns(r) := time.parse_rfc3339_ns(sprintf("%sT00:00:00Z", [r.triage.expires]))

# The run's clock (recorded in the input, so a verdict can be reproduced from the input alone).
# Without it nothing counts as an expiring exception: the policy fails closed.
now_ns := time.parse_rfc3339_ns(input.run.now)

# Suppressed by a triage decision that has an expiry date still in the future. The suppression
# must be triage's own (`external`): an in-source comment is never an exception here, whatever
# the result's triage claims, and a `confirmed` decision suppresses nothing.
expiring_exception(r) if {
	r.status == "suppressed"
	"external" in r.suppressions
	r.triage.status != "confirmed"
	is_string(r.triage.expires)
	expires_ns(r) > now_ns
}

# With a server configured (`[server] url`), decisions on high and critical findings are the
# server's to make: org-wide triage records who approved each one and with which role.
server_configured if is_string(input.run.server)

# Suppressed by a decision the server signed (the signature verified with the key pinned in
# sluice.toml), approved by someone with the security role or an admin (never the proposer).
# An accepted risk still needs an expiry date in the future.
approved_exception(r) if {
	r.status == "suppressed"
	"external" in r.suppressions
	r.triage.status != "confirmed"
	r.triage.source == "server"
	r.triage.approved == true
	r.triage.signature_verified == true
	r.triage.role in {"security", "admin"}
	not unexpiring_risk(r)
}

unexpiring_risk(r) if {
	r.triage.status == "accepted_risk"
	not is_string(r.triage.expires)
}

unexpiring_risk(r) if {
	r.triage.status == "accepted_risk"
	is_string(r.triage.expires)
	expires_ns(r) <= now_ns
}

# What excepts a high or critical finding: without a server, a decision that expires; with
# one, a verified security approval (see approved_exception).
high_exception(r) if {
	not server_configured
	expiring_exception(r)
}

high_exception(r) if {
	server_configured
	approved_exception(r)
}

# Suppressed by anything (a triage decision with or without expiry, an in-source comment).
any_exception(r) if r.status == "suppressed"

# New in this change: the baseline does not have it. Without a baseline every finding is
# treated as new, so a missing baseline can never hide a finding.
is_new(r) if r.baseline_state == "new"

is_new(r) if r.baseline_state == null

is_new(r) if not r.baseline_state

# Stages a repository needs, from what was detected in it. Each names the SSDF tasks its
# results evidence.
required_stages contains {
	"stage": "secrets",
	"because": "every repository can leak a credential",
	"ssdf": ["PW.7.2"],
}

required_stages contains {
	"stage": "sast",
	"because": sprintf("%s code detected", [concat(", ", sort(langs))]),
	"ssdf": ["PW.7.2"],
} if {
	langs := [l | some l in input.detected.languages; l in sast_languages]
	count(langs) > 0
}

required_stages contains {
	"stage": "deps",
	"because": sprintf("%s dependencies detected", [concat(", ", sort(input.detected.ecosystems))]),
	"ssdf": ["PW.4.4", "RV.1.1"],
} if count(input.detected.ecosystems) > 0

required_stages contains {
	"stage": "container",
	"because": sprintf("%s found", [concat(", ", sort(input.detected.dockerfiles))]),
	"ssdf": ["PW.4.4"],
} if count(input.detected.dockerfiles) > 0

# Stages that ran and succeeded.
succeeded contains s.name if {
	some s in input.stages
	s.status == "succeeded"
}

missing_stages contains req if {
	some req in required_stages
	not succeeded[req.stage]
}

failed_stages contains s if {
	some s in input.stages
	s.status == "failed"
}

# Skip reasons a file controls itself (docs/policy-input.md, `input.skipped`): its size, its
# nesting depth, its parse time, its line length, a generated-code header it carries. A file must
# not be able to opt out of the scan by any of them.
self_inflicted_skips := {"too-large", "too-deep", "timeout", "long-lines", "generated"}

# Files not scanned for such a reason, as a reason lists them.
unscanned contains sprintf("%s (%s): %s", [f.path, f.stage, f.reason]) if {
	some f in input.skipped.files
	f.reason in self_inflicted_skips
}

# Files skipped by a documented rule (a built asset by name) or not readable: visible, not refused.
skipped_by_rule contains sprintf("%s (%s): %s", [f.path, f.stage, f.reason]) if {
	some f in input.skipped.files
	not f.reason in self_inflicted_skips
}

# The reason every profile gives for an input version it was not written for.
version_reason := {
	"id": "input-version",
	"msg": sprintf("this policy reads sluice policy input version %d, but got version %v", [input_version, input.version]),
	"ssdf": ["PO.4.1"],
	"fix": "use the sluice version the policy was written for, or update the policy (docs/policy-input.md)",
}
