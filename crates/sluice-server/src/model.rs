//! What the API reads and writes: the types of `/api/v1`, and the OpenAPI schemas built from them.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

/// A role, on one project or across the organisation. Ordered: each may do what the ones
/// before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Developer,
    Champion,
    Security,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Developer => "developer",
            Role::Champion => "champion",
            Role::Security => "security",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "developer" => Role::Developer,
            "champion" => Role::Champion,
            "security" => Role::Security,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// An error, as every endpoint returns it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A short machine-readable code: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `too_large`, `unsupported_media_type`, `rate_limited`, `unprocessable`,
    /// `internal`, `unavailable`.
    pub error: String,
    /// What was wrong and where, for a person.
    pub message: String,
}

/// A run pushed by `sluice push`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The project's name. With a project token it must be the token's project; an
    /// organisation token may name a project that does not exist yet, which is then created.
    pub project: String,
    /// The client's id for this run (1–128 characters of `A-Za-z0-9._:-`). A retried push
    /// with the same id is the same run: stored once, answered the same way.
    pub run_id: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// The repository's default branch as CI knows it. Sets the project's default branch
    /// when the project has none yet.
    pub default_branch: Option<String>,
    /// Set for a merge/pull request pipeline: such a run closes nothing.
    pub merge_request: Option<String>,
    pub pipeline_url: Option<String>,
    /// The client ran on part of the tree (`--since`, `--staged`): the run closes nothing.
    #[serde(default)]
    pub partial: bool,
    /// The SARIF 2.1.0 log `sluice run` wrote (results.sarif, triage applied).
    #[schema(value_type = Object)]
    pub sarif: Box<RawValue>,
    /// The repository's SBOM (CycloneDX or SPDX JSON), if any.
    #[schema(value_type = Option<Object>)]
    pub sbom: Option<Box<RawValue>>,
    /// The gate's verdict as the client computed it. Kept as a claim; the server computes
    /// its own from the stored results.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<Box<RawValue>>,
    /// An attestation (in-toto statement or DSSE envelope), if any.
    #[schema(value_type = Option<Object>)]
    pub attestation: Option<Box<RawValue>>,
    /// Deployments and incidents recorded with `sluice record`.
    #[serde(default)]
    pub events: Vec<EventIn>,
}

/// One `sluice record` event.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct EventIn {
    /// The client's id of the event; a retried push does not record it twice.
    pub id: String,
    /// `deployment` or `incident` (or another kind `sluice record` writes).
    pub kind: String,
    /// When it happened (RFC 3339).
    pub at: String,
    /// The event as recorded.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// What the server made of a push.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct PushResponse {
    /// The server's id of the run.
    pub run: i64,
    pub project: String,
    /// True when this run id had been pushed before: nothing was stored again.
    pub duplicate: bool,
    /// Results in the pushed log (after de-duplication by fingerprint).
    pub results: i64,
    /// Findings first seen in this run.
    pub new: i64,
    /// Findings this run marked no longer detected.
    pub closed: i64,
    /// Findings seen again after they were no longer detected.
    pub reintroduced: i64,
    /// Open findings of the project after the run.
    pub open: i64,
    /// Whether the run counted as the default branch's state.
    pub on_default_branch: bool,
    /// The verdict the server computed from the stored results (`allowed` or `denied`).
    pub verdict: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub name: String,
    pub default_branch: Option<String>,
    /// The built-in policy profile the server's verdicts use.
    pub profile: String,
    pub created_at: String,
    /// Open findings by severity.
    pub open: SeverityCounts,
    pub last_run: Option<RunSummary>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub info: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    pub default_branch: Option<String>,
    /// `velocity` (the default), `constrained`, or another built-in profile.
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSummary {
    pub id: i64,
    pub project: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub merge_request: Option<String>,
    pub pipeline_url: Option<String>,
    pub on_default_branch: bool,
    pub partial: bool,
    /// Each stage of the run and whether it ran in full and succeeded.
    #[schema(value_type = Object)]
    pub stages: serde_json::Value,
    pub verdict: Option<String>,
    /// The verdict the client claimed, if it sent one (not trusted; shown beside).
    pub claimed_verdict: Option<String>,
    pub results: i64,
    pub new: i64,
    pub closed: i64,
    pub reintroduced: i64,
    pub open_after: i64,
    pub pushed_by: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunPage {
    pub items: Vec<RunSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub project: String,
    /// The `sluice/v1` fingerprint: the finding's identity in its project.
    pub fingerprint: String,
    pub stage: String,
    pub rule_id: String,
    pub severity: String,
    /// Redacted.
    pub message: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    /// `open` or `not_detected`.
    pub state: String,
    /// How the last run that reported it suppressed it (a triage decision), if it did.
    pub suppressed: Option<String>,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub closed_at: Option<String>,
    /// How many times it came back after it was no longer detected.
    pub reintroduced: i64,
    /// The decision of the repository's own `.sluice/triage.toml` that applied to it in the last
    /// default-branch run (status, reason, who, when, expires), as the run reported it.
    #[schema(value_type = Option<Object>)]
    pub repository_decision: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingPage {
    pub items: Vec<Finding>,
    pub next: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingDetail {
    pub finding: Finding,
    /// The runs that reported it, newest first (at most 100).
    pub seen_in: Vec<RunSummary>,
}

/// Filters of the finding list.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    pub project: Option<String>,
    /// The least severity: `critical`, `high`, `medium`, `low`, `info`.
    pub severity: Option<String>,
    pub stage: Option<String>,
    pub rule: Option<String>,
    /// `open` (the default), `not_detected` or `all`.
    pub state: Option<String>,
    /// Only findings first seen at or after this time (RFC 3339 or a date).
    pub since: Option<String>,
    pub cursor: Option<String>,
    /// 1–500, 100 by default.
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1–500, 100 by default.
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub password: Option<String>,
    /// The first admin's one-time login token, instead of a username and password.
    pub login_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    /// Shown once; the server keeps only its hash.
    pub token: String,
    pub kind: String,
    pub scope: String,
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// `personal` (acts as you), `organisation` (push to any project, creating it on first push;
    /// admin only). Project tokens are made under `/projects/{project}/tokens`.
    pub kind: String,
    /// Days until it expires; none for no expiry.
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectToken {
    pub name: String,
    /// `push` (for CI) or `read`.
    pub scope: String,
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub scope: String,
    pub project: Option<String>,
    pub user: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    /// At least 12 characters. None: the user logs in only with tokens an admin makes.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub username: String,
    pub disabled: bool,
    pub created_at: String,
    pub roles: Vec<RoleGrant>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    /// None: across the organisation.
    pub project: Option<String>,
    pub role: Role,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// `user`, `project-token` or `organisation-token`.
    pub kind: String,
    pub username: Option<String>,
    pub project: Option<String>,
    pub scope: Option<String>,
    pub roles: Vec<RoleGrant>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub addr: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: i64,
    /// True when every row's hash is right and names the row before it.
    pub intact: bool,
    /// The first row that breaks the chain, if one does.
    pub broken_at: Option<i64>,
}

/// A triage decision proposed on the server (`sluice triage propose` sends it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    /// The project it applies to; none: every project of the organisation (needs the
    /// security role to approve).
    pub project: Option<String>,
    /// `finding` (one fingerprint in a project), `rule` (a rule, optionally in files a glob
    /// matches) or `advisory` (an advisory id or alias in a package).
    pub scope: String,
    pub fingerprint: Option<String>,
    pub rule: Option<String>,
    /// For `rule`: the files (`**` for every file, the default; `*` stays within a directory).
    pub path: Option<String>,
    pub advisory: Option<String>,
    /// For `advisory`: the package name as the deps stage reports it.
    pub package: Option<String>,
    /// Only findings of this stage.
    pub stage: Option<String>,
    /// `false_positive`, `accepted_risk`, `mitigated` or `confirmed` (which suppresses nothing).
    pub status: String,
    pub reason: String,
    /// The day it stops applying (YYYY-MM-DD). Required for `accepted_risk`.
    pub expires: Option<String>,
    /// For `advisory` with `mitigated`: the VEX justification (`vulnerable_code_not_present`,
    /// `vulnerable_code_not_in_execute_path`, `inline_mitigations_already_exist`, …).
    pub vex_justification: Option<String>,
    /// For `rule` with `confirmed`: the severity its findings count as from now on
    /// (`critical`, `high`, `medium`, `low`, `info`) — "this rule is noise for us" without
    /// switching it off. Needs the security role when it lowers a high or critical rule, as
    /// any decision covering such findings does.
    pub set_severity: Option<String>,
}

/// An approval, rejection or revocation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionAction {
    /// Why. Required to reject or revoke.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DecisionView {
    pub id: i64,
    /// None: organisation-wide.
    pub project: Option<String>,
    pub scope: String,
    pub fingerprint: Option<String>,
    pub rule: Option<String>,
    pub path: Option<String>,
    pub advisory: Option<String>,
    pub package: Option<String>,
    pub stage: Option<String>,
    pub status: String,
    pub vex_justification: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
    /// The severity of what it covers, which set the role needed to approve it.
    pub severity: String,
    /// `champion` or `security`.
    pub required_role: String,
    /// `proposed`, `approved`, `rejected` or `revoked`.
    pub state: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub decided_by: Option<String>,
    pub decided_role: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
    /// For a `rule` decision that re-rates the rule's findings: their new severity.
    pub set_severity: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionEvent {
    pub at: String,
    pub actor: String,
    pub role: Option<String>,
    /// `proposed`, `approved`, `rejected`, `revoked`.
    pub action: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionDetail {
    pub decision: DecisionView,
    pub history: Vec<DecisionEvent>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionPage {
    pub items: Vec<DecisionView>,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// Decisions of this project (and the organisation-wide ones).
    pub project: Option<String>,
    /// `proposed`, `approved`, `rejected`, `revoked`; all by default.
    pub state: Option<String>,
    /// Only proposals the caller may approve (and did not propose).
    pub awaiting_me: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The decisions that apply to a project now: approved, not expired, the project's own and the
/// organisation's. What `sluice run` pulls.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicableDecisions {
    pub project: String,
    pub generated_at: String,
    pub decisions: Vec<DecisionView>,
}

/// What the OIDC provider sends the browser back with (`/auth/oidc/callback`): the code and
/// the state, or an error (RFC 6749 §4.1.2). `iss` is RFC 9207's, checked when present.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OidcCallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The server's public signing key: what `sluice run` pins (`[server] public_key`) and
/// `sluice verify --key` reads.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerKey {
    /// `sha256:<hex>` of the key's SPKI DER, as in the envelopes' `keyid`.
    pub keyid: String,
    /// SPKI PEM.
    pub public_key: String,
}

/// A DSSE envelope (v1): `payload` is base64; each signature is ed25519 over the
/// Pre-Authentication Encoding of `payloadType` and the payload's bytes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DsseEnvelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub payload: String,
    pub signatures: Vec<DsseSignature>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DsseSignature {
    pub keyid: String,
    pub sig: String,
}

/// The payload of a signed decision set: what a project applies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionSet {
    /// `https://github.com/sluice-sec/sluice/decision-set/v1`.
    #[serde(rename = "_type")]
    pub type_: String,
    pub project: String,
    pub issued_at: String,
    /// Approved, unexpired; the project's and the organisation's; by id. Each as a
    /// [`DecisionView`] whose fields without a value are left out.
    #[serde(serialize_with = "compact_decisions")]
    pub decisions: Vec<DecisionView>,
    /// The project's proposals awaiting approval, by id: they suppress nothing; a run marks
    /// the findings they cover so the merge request says what waits for a champion.
    #[serde(default, serialize_with = "compact_decisions")]
    pub pending: Vec<DecisionView>,
}

/// Decisions with their empty fields left out: a finding decision has no rule, path,
/// advisory, package…, and a set of 100,000 decisions is a fifth smaller to send, hash and
/// parse at every run. (The REST API keeps its `null`s.)
fn compact_decisions<S: serde::Serializer>(list: &[DecisionView], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(CompactDecision))
}

struct CompactDecision<'a>(&'a DecisionView);

impl Serialize for CompactDecision<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Destructured so that a field added to DecisionView cannot be forgotten here.
        let DecisionView {
            id,
            project,
            scope,
            fingerprint,
            rule,
            path,
            advisory,
            package,
            stage,
            status,
            vex_justification,
            reason,
            expires,
            severity,
            required_role,
            state,
            proposed_by,
            proposed_at,
            decided_by,
            decided_role,
            decided_at,
            note,
            set_severity,
        } = self.0;
        let mut m = s.serialize_map(None)?;
        let some = |m: &mut S::SerializeMap, key: &str, value: &Option<String>| match value {
            Some(v) => m.serialize_entry(key, v),
            None => Ok(()),
        };
        m.serialize_entry("id", id)?;
        some(&mut m, "project", project)?;
        m.serialize_entry("scope", scope)?;
        some(&mut m, "fingerprint", fingerprint)?;
        some(&mut m, "rule", rule)?;
        some(&mut m, "path", path)?;
        some(&mut m, "advisory", advisory)?;
        some(&mut m, "package", package)?;
        some(&mut m, "stage", stage)?;
        m.serialize_entry("status", status)?;
        some(&mut m, "vex_justification", vex_justification)?;
        m.serialize_entry("reason", reason)?;
        some(&mut m, "expires", expires)?;
        m.serialize_entry("severity", severity)?;
        m.serialize_entry("required_role", required_role)?;
        m.serialize_entry("state", state)?;
        m.serialize_entry("proposed_by", proposed_by)?;
        m.serialize_entry("proposed_at", proposed_at)?;
        some(&mut m, "decided_by", decided_by)?;
        some(&mut m, "decided_role", decided_role)?;
        some(&mut m, "decided_at", decided_at)?;
        some(&mut m, "note", note)?;
        some(&mut m, "set_severity", set_severity)?;
        m.end()
    }
}

/// The payload of the signed decision log: every decision and its history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionLog {
    /// `https://github.com/sluice-sec/sluice/decision-log/v1`.
    #[serde(rename = "_type")]
    pub type_: String,
    pub issued_at: String,
    pub decisions: Vec<DecisionDetail>,
}

/// Which decisions the OpenVEX export holds.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct VexQuery {
    /// Only what applies to this project (its own decisions and the organisation's, with the
    /// packages found in it). Without it: every project's and the organisation's (the
    /// organisation's champion, security or admin role).
    pub project: Option<String>,
}

/// Filters of the noise report.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct NoiseQuery {
    /// Only rules with at least this many findings (1 by default).
    pub min_findings: Option<i64>,
    /// Only this analyzer (the stage: `sast`, `secrets`, `deps`, `container`, or an external
    /// tool's stage name).
    pub tool: Option<String>,
    pub cursor: Option<String>,
    /// 1–500, 100 by default.
    pub limit: Option<i64>,
}

/// How often one rule of one analyzer was decided a false positive, across the organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RuleNoise {
    /// The analyzer (stage) that reported it.
    pub tool: String,
    pub rule: String,
    /// Findings ever seen on default branches (distinct project and fingerprint).
    pub findings: i64,
    /// Those an approved `false_positive` decision in force covers (any scope), or that the
    /// repository's own `.sluice/triage.toml` marked `false_positive`; each counted once.
    pub false_positives: i64,
    /// `false_positives` ÷ `findings`, to four decimals.
    pub rate: f64,
    /// Projects where it fired.
    pub projects: i64,
    /// Projects where it was called a false positive.
    pub noisy_projects: i64,
    /// Those projects' names, the ones the caller may read (at most 20, by name).
    pub noisy_in: Vec<String>,
}

/// The same, per analyzer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ToolNoise {
    pub tool: String,
    pub findings: i64,
    pub false_positives: i64,
    pub rate: f64,
    pub noisy_projects: i64,
}

/// False-positive rates per analyzer and per rule, most noisy first (rate, then false
/// positives, then findings).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoiseReport {
    /// Every analyzer (with the `tool` filter, that one), whatever `min_findings` and the page.
    pub tools: Vec<ToolNoise>,
    pub rules: Vec<RuleNoise>,
    pub next: Option<String>,
}
