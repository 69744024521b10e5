//! Every `sluice/…` name sluice writes into SARIF: property-bag keys, the fingerprint key and
//! the categories (`automationDetails.id`) of sluice's own runs.
//!
//! This module is the one place such a name is spelled. Stages, normalization, triage, the
//! policy input, reports and the server read and write through these constants, so a reader
//! and a writer cannot drift apart. Keys are grouped by who writes them; a key written by
//! several stages (`sluice/bytes-scanned`) is listed once. Everything in the `sluice/`
//! namespace is sluice's alone: a third-party run loses such keys before it is merged
//! ([`crate::neutralize_foreign`]).

// ---- Results of every stage (set or completed by normalization) ----

/// GitHub's 0.0–10.0 score, a string or a number in the wild; sluice always writes a string.
/// (GitHub's name, so not in the `sluice/` namespace.)
pub const SECURITY_SEVERITY: &str = "security-severity";
/// Who says this is a vulnerability: a rule author, NVD, GHSA, RustSec, a distro tracker…
pub const SEVERITY_SOURCE: &str = "sluice/severity-source";
/// CWE identifiers as `CWE-<n>` strings (on a result, or on a rule).
pub const CWE: &str = "sluice/cwe";
/// The sluice stage that produced the result (the run's stage name); also on a run whose
/// category is the tool's own rather than `sluice/<stage>/`.
pub const STAGE: &str = "sluice/stage";
/// `partialFingerprints` key of sluice's fingerprint, `<32 hex>:<occurrence>`; see
/// `docs/stage-contract.md` and [`crate::assign_fingerprints`].
pub const FINGERPRINT: &str = "sluice/v1";
/// On a result: the stage redacted the credential itself (the secrets stage writes the redacted
/// form here), so normalization leaves its snippets alone.
pub const REDACTED: &str = "sluice/redacted";

// ---- Runs ----

/// On a notification located at a file: the code of the reason the stage did not scan it
/// (`too-large`, `generated`, `minified`, …); see [`crate::skipped_files`].
pub const SKIPPED: &str = "sluice/skipped";
/// On a run: `changed` when the stage looked only at changed files (`--since`, `--staged`,
/// `--changed-files`). Such a run says nothing about findings it did not report, so the
/// server closes nothing with it.
pub const SCOPE: &str = "sluice/scope";
/// Run counter (secrets, SAST): files read.
pub const FILES_SCANNED: &str = "sluice/files-scanned";
/// Run counter (secrets, SAST, history): bytes read.
pub const BYTES_SCANNED: &str = "sluice/bytes-scanned";

// ---- The secrets stage ----

/// Result: the secret's entropy in bits per byte, two decimals.
pub const ENTROPY: &str = "sluice/entropy";
/// Result: the secret is in a file's or directory's name, not in its content.
pub const IN_PATH: &str = "sluice/in-path";
/// Result of a history scan: the commit that introduced the secret, its date and author.
pub const COMMIT: &str = "sluice/commit";
/// See [`COMMIT`].
pub const COMMIT_DATE: &str = "sluice/commit-date";
/// See [`COMMIT`].
pub const COMMIT_AUTHOR: &str = "sluice/commit-author";
/// Run: what a scan of something other than files looked at (`staged content (the git index)`).
pub const SCANNED: &str = "sluice/scanned";
/// Run counter of a history scan: commits walked.
pub const COMMITS_SCANNED: &str = "sluice/commits-scanned";
/// Run counter of a history scan: blobs read.
pub const BLOBS_SCANNED: &str = "sluice/blobs-scanned";
/// Run counter of a history scan: blobs not read (binary).
pub const BLOBS_SKIPPED: &str = "sluice/blobs-skipped";
/// Run counter: binary files not read.
pub const BINARY_FILES_SKIPPED: &str = "sluice/binary-files-skipped";

// ---- The SAST stage ----

/// Run counter: files parsed (a file without a candidate rule is read, not parsed).
pub const FILES_PARSED: &str = "sluice/files-parsed";
/// Run counter: files not scanned (each is also a [`SKIPPED`] notification).
pub const FILES_SKIPPED: &str = "sluice/files-skipped";
/// Run counter: rules loaded.
pub const RULES: &str = "sluice/rules";
/// Rule: OWASP Top 10 categories.
pub const OWASP: &str = "sluice/owasp";
/// Rule: the language the rule is written for.
pub const LANGUAGE: &str = "sluice/language";
/// Rule: `builtin` or the rule file it came from.
pub const RULE_SOURCE: &str = "sluice/rule-source";

// ---- The deps and container stages (advisories) ----

/// Rule and result: the advisory's id (also matched by advisory decisions, docs/triage.md).
pub const ADVISORY: &str = "sluice/advisory";
/// Rule and result: the advisory's other ids (CVE, GHSA…).
pub const ALIASES: &str = "sluice/aliases";
/// Rule and result: `vulnerability`, `unmaintained`, `yanked`, …
pub const ADVISORY_KIND: &str = "sluice/advisory-kind";
/// Result: the affected package's name.
pub const PACKAGE: &str = "sluice/package";
/// Result: the affected package's version.
pub const PACKAGE_VERSION: &str = "sluice/package-version";
/// Result: the affected package's purl.
pub const PURL: &str = "sluice/purl";
/// Result: the package's OSV ecosystem.
pub const ECOSYSTEM: &str = "sluice/ecosystem";
/// Result: versions the advisory says fix it.
pub const FIXED_VERSIONS: &str = "sluice/fixed-versions";
/// Result: `direct`, `transitive` or `unknown`.
pub const RELATIONSHIP: &str = "sluice/relationship";
/// Result: the version to upgrade to that fixes every advisory of the finding, when there is one.
pub const UPGRADE_TO: &str = "sluice/upgrade-to";
/// Result: what the severity score was computed from (a CVSS vector, or a qualitative word).
pub const SEVERITY_BASIS: &str = "sluice/severity-basis";
/// Result: the distribution's OSV ecosystem, for an OS package.
pub const DISTRO: &str = "sluice/distro";
/// Result: the source package an OS package was built from.
pub const SOURCE_PACKAGE: &str = "sluice/source-package";
/// Run counter: lockfiles read.
pub const LOCKFILES: &str = "sluice/lockfiles";
/// Run counter: packages read.
pub const PACKAGES: &str = "sluice/packages";
/// Run counter: packages with no registry to match advisories against (path, git…).
pub const PACKAGES_NOT_FROM_A_REGISTRY: &str = "sluice/packages-not-from-a-registry";
/// Run: the advisory database's path.
pub const ADVISORY_DB: &str = "sluice/advisory-db";
/// Run: when the advisory database was last updated.
pub const ADVISORY_DB_UPDATED: &str = "sluice/advisory-db-updated";
/// Run counter: advisories in the database.
pub const ADVISORIES: &str = "sluice/advisories";

// ---- The container stage ----

/// Run counter: Dockerfiles checked.
pub const DOCKERFILES_SCANNED: &str = "sluice/dockerfiles-scanned";
/// Run counter: images read.
pub const IMAGES: &str = "sluice/images";
/// Run counter: packages found in images.
pub const IMAGE_PACKAGES: &str = "sluice/image-packages";
/// Run: each image's inventory summary.
pub const IMAGE_INVENTORIES: &str = "sluice/image-inventories";
/// Rule: hadolint's closest rules, for comparison.
pub const HADOLINT: &str = "sluice/hadolint";
/// Result: the image a package was found in.
pub const IMAGE: &str = "sluice/image";
/// Result: the package's database path inside the image.
pub const IMAGE_PATH: &str = "sluice/image-path";
/// Result: the digest of the layer that brought the package.
pub const LAYER: &str = "sluice/layer";
/// Result: that layer's position, from 1.
pub const LAYER_INDEX: &str = "sluice/layer-index";
/// Result: the Dockerfile step that made that layer.
pub const LAYER_CREATED_BY: &str = "sluice/layer-created-by";

// ---- Triage and baselines ----

/// Result: the decision that applies to the result (also for `confirmed`).
pub const TRIAGE: &str = "sluice/triage";
/// Suppression: the decision that made it (`file:line`, or the server decision's URL); marks
/// suppressions sluice made, so applying decisions again replaces them instead of adding more.
/// Who decided, when, with what role and under which signature is in [`TRIAGE`] on the result.
pub const DECISION: &str = "sluice/decision";
/// Result: a server decision re-rated it: `{"from", "to", "decision"}` (severities and the
/// decision's URL); `security-severity` and `level` now say the new severity.
pub const SEVERITY_CHANGED: &str = "sluice/severity-changed";
/// Result: a proposal on the server would decide it once approved: `{"id", "status",
/// "required_role", "proposed_by", "decision"}`. It suppresses nothing; the merge-request
/// comment lists it as awaiting approval.
pub const PENDING_DECISION: &str = "sluice/pending-decision";
/// Triage run counter: decisions in the file.
pub const DECISIONS: &str = "sluice/decisions";
/// Triage run counter: results suppressed by decisions.
pub const SUPPRESSED: &str = "sluice/suppressed";
/// Triage run counter: results confirmed by decisions.
pub const CONFIRMED: &str = "sluice/confirmed";
/// Triage run counter: decisions that matched nothing.
pub const STALE: &str = "sluice/stale";
/// Triage run counter: decisions past their expiry.
pub const EXPIRED: &str = "sluice/expired";
/// Triage run counter: findings the baseline does not have.
pub const NEW: &str = "sluice/new";
/// Triage run counter: findings the baseline has, unchanged.
pub const UNCHANGED: &str = "sluice/unchanged";
/// Triage run counter: findings the baseline has, changed.
pub const UPDATED: &str = "sluice/updated";
/// Triage run counter: baseline findings that are gone; its presence says a baseline was
/// compared.
pub const FIXED: &str = "sluice/fixed";
/// Triage run: the fixed findings, listed (capped; [`FIXED`] is always exact).
pub const FIXED_FINDINGS: &str = "sluice/fixed-findings";
/// Run of a baseline, and the triage run: the commit whose findings the baseline holds.
pub const BASELINE_COMMIT: &str = "sluice/baseline-commit";

// ---- The gate ----

/// Gate run: `allowed`, `denied`, or `error` when the policy could not decide.
pub const VERDICT: &str = "sluice/verdict";
/// Gate run: the policy that decided (name, digest, files).
pub const POLICY: &str = "sluice/policy";
/// Gate run: the denials.
pub const DENIALS: &str = "sluice/denials";
/// Gate run: the warnings.
pub const WARNINGS: &str = "sluice/warnings";
/// Gate run: the version of the policy input the policy saw.
pub const POLICY_INPUT_VERSION: &str = "sluice/policy-input-version";
/// Gate run: the error that stopped the policy (verdict `error`).
pub const ERROR: &str = "sluice/error";

// ---- Categories (`automationDetails.id`) ----

/// The prefix of categories (and property keys) that only sluice writes.
pub const NAMESPACE: &str = "sluice/";
/// Category of the run that reports on triage and baseline.
pub const TRIAGE_CATEGORY: &str = "sluice/triage/";
/// Category of the gate's own run; earlier gate runs are not input to the gate.
pub const GATE_CATEGORY: &str = "sluice/gate/";

/// The category sluice gives a stage's run: `sluice/<stage>/`.
pub fn category(stage: &str) -> String {
    format!("{NAMESPACE}{stage}/")
}

/// Every key and category above, for tests and tools that check a name is sluice's.
pub const ALL: &[&str] = &[
    SECURITY_SEVERITY,
    SEVERITY_SOURCE,
    CWE,
    STAGE,
    FINGERPRINT,
    REDACTED,
    SKIPPED,
    SCOPE,
    FILES_SCANNED,
    BYTES_SCANNED,
    ENTROPY,
    IN_PATH,
    COMMIT,
    COMMIT_DATE,
    COMMIT_AUTHOR,
    SCANNED,
    COMMITS_SCANNED,
    BLOBS_SCANNED,
    BLOBS_SKIPPED,
    BINARY_FILES_SKIPPED,
    FILES_PARSED,
    FILES_SKIPPED,
    RULES,
    OWASP,
    LANGUAGE,
    RULE_SOURCE,
    ADVISORY,
    ALIASES,
    ADVISORY_KIND,
    PACKAGE,
    PACKAGE_VERSION,
    PURL,
    ECOSYSTEM,
    FIXED_VERSIONS,
    RELATIONSHIP,
    UPGRADE_TO,
    SEVERITY_BASIS,
    DISTRO,
    SOURCE_PACKAGE,
    LOCKFILES,
    PACKAGES,
    PACKAGES_NOT_FROM_A_REGISTRY,
    ADVISORY_DB,
    ADVISORY_DB_UPDATED,
    ADVISORIES,
    DOCKERFILES_SCANNED,
    IMAGES,
    IMAGE_PACKAGES,
    IMAGE_INVENTORIES,
    HADOLINT,
    IMAGE,
    IMAGE_PATH,
    LAYER,
    LAYER_INDEX,
    LAYER_CREATED_BY,
    TRIAGE,
    SEVERITY_CHANGED,
    PENDING_DECISION,
    DECISION,
    DECISIONS,
    SUPPRESSED,
    CONFIRMED,
    STALE,
    EXPIRED,
    NEW,
    UNCHANGED,
    UPDATED,
    FIXED,
    FIXED_FINDINGS,
    BASELINE_COMMIT,
    VERDICT,
    POLICY,
    DENIALS,
    WARNINGS,
    POLICY_INPUT_VERSION,
    ERROR,
    TRIAGE_CATEGORY,
    GATE_CATEGORY,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_distinct_and_in_the_namespace() {
        let mut seen = std::collections::BTreeSet::new();
        for key in ALL {
            assert!(seen.insert(*key), "{key} is listed twice (two constants, one name)");
            assert!(*key == SECURITY_SEVERITY || key.starts_with(NAMESPACE), "{key} is not in {NAMESPACE}");
        }
        assert_eq!(category("sast"), "sluice/sast/");
        assert_eq!(category("triage"), TRIAGE_CATEGORY);
        assert_eq!(category("gate"), GATE_CATEGORY);
    }
}
