# Profile `constrained`: security and correctness first (government, finance).
# Blocks new and existing high and critical findings and any leaked credential; accepts only
# exceptions that expire; requires every stage that applies to the repository, each of which
# must succeed. Every reason names the NIST SSDF (SP 800-218) tasks it evidences.
package sluice.constrained

import data.sluice.lib
import rego.v1

required_stages := lib.required_stages

deny contains lib.version_reason if input.version != lib.input_version

# High and critical findings, new or existing, unless an exception covers them: without a
# server, one that expires; with a server, one the security role approved there (lib.rego).
blocking contains lib.ref(r) if {
	some r in input.results
	r.severity in {"critical", "high"}
	not lib.high_exception(r)
}

deny contains {
	"id": "high-severity",
	"msg": sprintf("%d high or critical finding(s) are open or excepted without an expiry date", [count(blocking)]),
	"ssdf": ["PW.7.2", "RV.2.2"],
	"findings": sort(blocking),
	"fix": "fix them, or record a reviewed exception that expires: sluice triage mark FINGERPRINT --status accepted_risk --expires YYYY-MM-DD --reason \"…\"",
} if {
	count(blocking) > 0
	not lib.server_configured
}

deny contains {
	"id": "high-severity",
	"msg": sprintf("%d high or critical finding(s) are open or suppressed without a security approval on the server", [count(blocking)]),
	"ssdf": ["PW.7.2", "RV.2.2"],
	"findings": sort(blocking),
	"fix": "fix them, or propose a decision (sluice triage propose FINGERPRINT --status S --reason \"…\", with an expiry for accepted_risk) for the security role to approve; a decision in .sluice/triage.toml alone does not except them while a server is configured, nor does one whose signature was not verified with [server] public_key",
} if {
	count(blocking) > 0
	lib.server_configured
}

# Leaked credentials of any severity: a credential in the repository must be revoked.
secrets contains lib.ref(r) if {
	some r in input.results
	r.secret
	not lib.expiring_exception(r)
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
	"fix": sprintf("configure and enable the `%s` stage in sluice.toml (see `sluice plan`)", [m.stage]),
} if some m in lib.missing_stages

deny contains {
	"id": "stage-failed",
	"msg": sprintf("stage `%s` failed, so its findings are unknown: %s", [s.name, concat("; ", s.failures)]),
	"ssdf": ["PO.4.2"],
	"fix": "fix the stage (its error is above) and re-run; a failed stage never counts as clean",
} if some s in lib.failed_stages

# A file the scan skipped for a reason the file controls (size, depth, parse time, line length,
# a generated header) could hide anything: its findings are unknown, as for a failed stage.
deny contains {
	"id": "unscanned-file",
	"msg": sprintf("%d file(s) were not scanned for a reason the file itself controls", [count(lib.unscanned)]),
	"ssdf": ["PW.7.2"],
	"findings": sort(lib.unscanned),
	"fix": "make each file scannable (split it, move data out of the code, drop a wrong generated header), or exclude it in sluice.toml (`exclude_paths` for sast, `allow_paths` for secrets) where the decision is reviewed",
} if count(lib.unscanned) > 0

warn contains {
	"id": "skipped-file",
	"msg": sprintf("%d file(s) were not scanned by a documented rule or could not be read", [count(lib.skipped_by_rule)]),
	"ssdf": ["PW.7.2"],
	"findings": sort(lib.skipped_by_rule),
	"fix": "check that each is a built asset or otherwise safe to leave unscanned",
} if count(lib.skipped_by_rule) > 0

# Exceptions for lower severities that never expire: allowed, but named for review.
permanent contains lib.ref(r) if {
	some r in input.results
	r.status == "suppressed"
	not r.severity in {"critical", "high"}
	not r.secret
	not lib.expiring_exception(r)
}

warn contains {
	"id": "permanent-exception",
	"msg": sprintf("%d suppressed finding(s) have an exception without an expiry date", [count(permanent)]),
	"ssdf": ["RV.2.2"],
	"findings": sort(permanent),
	"fix": "give each decision in .sluice/triage.toml an `expires` date so it is reviewed again",
} if count(permanent) > 0

warn contains {
	"id": "no-sbom",
	"msg": sprintf("no SBOM was recorded for the detected dependencies (%s)", [concat(", ", sort(input.detected.ecosystems))]),
	"ssdf": ["PS.3.2"],
	"fix": "produce a CycloneDX or SPDX SBOM in sluice-out/ (the deps stage) so provenance is recorded",
} if {
	count(input.detected.ecosystems) > 0
	input.sbom == null
}

warn contains {
	"id": "unpinned-dependencies",
	"msg": sprintf("dependency manifests without a lockfile: %s", [concat(", ", sort(input.detected.manifests))]),
	"ssdf": ["PW.4.4"],
	"fix": "commit a lockfile (package-lock.json, poetry.lock, Cargo.lock, …) so builds use reviewed versions",
} if {
	count(input.detected.manifests) > 0
	count(input.detected.lockfiles) == 0
}
