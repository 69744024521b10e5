//! Org-wide triage decisions: what a proposal must say, checked before it is stored.
//!
//! The scopes are the selectors `.sluice/triage.toml` already has (`sluice_triage::Selector`):
//! one finding by fingerprint, a rule in the files a glob matches, an advisory in a package.
//! A decision without a project applies to every project of the organisation. The statuses
//! are triage's own (`sluice_triage::Status`).

use sluice_triage::VEX_JUSTIFICATIONS;

use crate::model::NewDecision;

/// A proposal, checked.
#[derive(Debug, Clone)]
pub struct Checked {
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
    pub expires_at: Option<i64>,
    pub set_severity: Option<String>,
    /// The proposer's `Idempotency-Key`: a retry with it is answered with the first decision.
    pub idempotency_key: Option<String>,
}

/// An `Idempotency-Key` header's value: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
pub fn idempotency_key(value: &[u8]) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if !ok {
        return Err("Idempotency-Key: 1 to 128 characters of letters, digits, `.`, `_`, `:` and `-`".into());
    }
    Ok(String::from_utf8_lossy(value).into_owned())
}

fn text(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Err(format!("{field}: empty")),
        Some(v) if v.len() > max => Err(format!("{field}: longer than {max} bytes")),
        Some(v) if v.chars().any(char::is_control) => Err(format!("{field}: contains control characters")),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn needs(field: &str, value: &Option<String>, scope: &str) -> Result<(), String> {
    if value.is_none() {
        return Err(format!("{field}: required for scope `{scope}`"));
    }
    Ok(())
}

fn refuses(field: &str, value: &Option<String>, scope: &str) -> Result<(), String> {
    if value.is_some() {
        return Err(format!("{field}: not used by scope `{scope}`"));
    }
    Ok(())
}

/// Checks a proposal; the error names the field. `project` says whether it names a project.
pub fn check(new: &NewDecision, has_project: bool) -> Result<Checked, String> {
    let fingerprint = text("fingerprint", &new.fingerprint, 128)?;
    let rule = text("rule", &new.rule, 256)?;
    let path = text("path", &new.path, 1024)?;
    let advisory = text("advisory", &new.advisory, 256)?;
    let package = text("package", &new.package, 512)?;
    let stage = text("stage", &new.stage, 64)?;
    let vex_justification = text("vex_justification", &new.vex_justification, 64)?;
    let reason = text("reason", &Some(new.reason.clone()), 4096)?.unwrap_or_default();
    let scope = new.scope.as_str();
    match scope {
        "finding" => {
            if !has_project {
                return Err("project: a `finding` decision names its project".into());
            }
            needs("fingerprint", &fingerprint, scope)?;
            for (f, v) in [("rule", &rule), ("path", &path), ("advisory", &advisory), ("package", &package)] {
                refuses(f, v, scope)?;
            }
        }
        "rule" => {
            needs("rule", &rule, scope)?;
            for (f, v) in [("fingerprint", &fingerprint), ("advisory", &advisory), ("package", &package)] {
                refuses(f, v, scope)?;
            }
            if let Some(glob) = &path {
                globset::Glob::new(glob).map_err(|e| format!("path: `{glob}` is not a glob: {e}"))?;
            }
        }
        "advisory" => {
            needs("advisory", &advisory, scope)?;
            needs("package", &package, scope)?;
            for (f, v) in [("fingerprint", &fingerprint), ("rule", &rule), ("path", &path)] {
                refuses(f, v, scope)?;
            }
        }
        other => return Err(format!("scope: `{other}` is not finding, rule or advisory")),
    }
    let status = sluice_triage::Status::parse(&new.status).ok_or_else(|| {
        format!("status: `{}` is not false_positive, accepted_risk, mitigated or confirmed", new.status)
    })?;
    if let Some(j) = &vex_justification {
        if !VEX_JUSTIFICATIONS.contains(&j.as_str()) {
            return Err(format!("vex_justification: `{j}` is not one of {}", VEX_JUSTIFICATIONS.join(", ")));
        }
    }
    let expires_at = match &new.expires {
        None => None,
        Some(day) => {
            let date: jiff::civil::Date =
                day.parse().map_err(|_| format!("expires: `{day}` is not a date (YYYY-MM-DD)"))?;
            let at = date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| format!("expires: {e}"))?
                .timestamp()
                .as_millisecond();
            if at <= crate::time::now_ms() {
                return Err(format!("expires: {day} is not in the future"));
            }
            Some(at)
        }
    };
    if status == sluice_triage::Status::AcceptedRisk && expires_at.is_none() {
        return Err("expires: an accepted risk needs an expiry date".into());
    }
    let set_severity = match &new.set_severity {
        None => None,
        Some(_) if scope != "rule" => {
            return Err(format!("set_severity: only a `rule` decision re-rates findings, not `{scope}`"))
        }
        Some(_) if status != sluice_triage::Status::Confirmed => {
            return Err("set_severity: only with status `confirmed` (a re-rated finding is still reported)".into())
        }
        Some(s) => Some(
            sluice_sarif::Severity::parse(s)
                .filter(|_| {
                    s == &s.to_ascii_lowercase() && !matches!(s.as_str(), "moderate" | "informational" | "none")
                })
                .ok_or_else(|| format!("set_severity: `{s}` is not critical, high, medium, low or info"))?
                .as_str()
                .to_owned(),
        ),
    };
    Ok(Checked {
        scope: scope.to_owned(),
        fingerprint,
        rule,
        path: if scope == "rule" { Some(path.unwrap_or_else(|| "**".into())) } else { path },
        advisory,
        package,
        stage,
        status: status.as_str().to_owned(),
        vex_justification,
        reason,
        expires_at,
        set_severity,
        idempotency_key: None,
    })
}

/// A stored expiry as the day it names.
pub fn day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(scope: &str) -> NewDecision {
        NewDecision {
            project: Some("p".into()),
            scope: scope.into(),
            fingerprint: None,
            rule: None,
            path: None,
            advisory: None,
            package: None,
            stage: None,
            status: "false_positive".into(),
            reason: "test fixtures".into(),
            expires: None,
            vex_justification: None,
            set_severity: None,
        }
    }

    #[test]
    fn each_scope_names_what_it_needs() {
        let err = check(&new("finding"), true).unwrap_err();
        assert!(err.starts_with("fingerprint: required"), "{err}");
        let mut d = new("finding");
        d.fingerprint = Some("abc:1".into());
        assert!(check(&d, true).is_ok());
        assert!(check(&d, false).unwrap_err().starts_with("project:"));
        d.rule = Some("x".into());
        assert!(check(&d, true).unwrap_err().starts_with("rule: not used"));

        let mut r = new("rule");
        r.rule = Some("python.sql-injection".into());
        assert_eq!(check(&r, false).map(|c| c.path), Ok(Some("**".to_owned())));
        r.path = Some("tests/[".into());
        assert!(check(&r, true).unwrap_err().starts_with("path:"));

        let mut a = new("advisory");
        a.advisory = Some("GHSA-xxxx".into());
        assert!(check(&a, false).unwrap_err().starts_with("package: required"));
        a.package = Some("requests".into());
        a.status = "mitigated".into();
        a.vex_justification = Some("because".into());
        assert!(check(&a, false).unwrap_err().starts_with("vex_justification:"));
        a.vex_justification = Some("vulnerable_code_not_in_execute_path".into());
        assert!(check(&a, false).is_ok());
        assert!(check(&new("org"), true).unwrap_err().starts_with("scope:"));
    }

    #[test]
    fn accepted_risks_expire_in_the_future() {
        let mut d = new("rule");
        d.rule = Some("r".into());
        d.status = "accepted_risk".into();
        assert!(check(&d, true).unwrap_err().starts_with("expires: an accepted risk"));
        d.expires = Some("2001-01-01".into());
        assert!(check(&d, true).unwrap_err().contains("not in the future"));
        d.expires = Some("2999-01-01".into());
        let checked = check(&d, true).expect("valid");
        assert_eq!(checked.expires_at.map(day), Some("2999-01-01".to_owned()));
        d.status = "wontfix".into();
        assert!(check(&d, true).unwrap_err().starts_with("status:"));
        d.status = "false_positive".into();
        d.reason = " ".into();
        assert!(check(&d, true).unwrap_err().starts_with("reason: empty"));
    }

    #[test]
    fn only_a_confirmed_rule_decision_changes_a_severity() {
        let mut d = new("rule");
        d.rule = Some("python.assert-used".into());
        d.set_severity = Some("low".into());
        assert!(check(&d, false).unwrap_err().starts_with("set_severity: only with status `confirmed`"));
        d.status = "confirmed".into();
        assert_eq!(check(&d, false).map(|c| c.set_severity), Ok(Some("low".to_owned())));
        d.set_severity = Some("LOW".into());
        assert!(check(&d, false).unwrap_err().starts_with("set_severity: `LOW` is not"));
        d.set_severity = Some("moderate".into());
        assert!(check(&d, false).unwrap_err().starts_with("set_severity:"));
        let mut f = new("finding");
        f.fingerprint = Some("abc:1".into());
        f.status = "confirmed".into();
        f.set_severity = Some("low".into());
        assert!(check(&f, true).unwrap_err().starts_with("set_severity: only a `rule` decision"));
    }
}
