use serde_sarif::sarif::{ReportingDescriptor, Result as SarifResult, ResultLevel};

use crate::keys;

/// GitHub code scanning's severity buckets over `security-severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// GitHub's documented thresholds: over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium,
    /// 0.1–3.9 low.
    pub fn from_score(score: f64) -> Self {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score >= 0.1 {
            Severity::Low
        } else {
            Severity::Info
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "info" | "informational" | "none" => Severity::Info,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `security-severity` value, which tools write as a string ("7.5") or a number.
pub(crate) fn parse_score(value: &serde_json::Value) -> Option<f64> {
    let score = match value {
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        serde_json::Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    (0.0..=10.0).contains(&score).then_some(score)
}

/// The result's `security-severity`, falling back to its rule's.
pub fn security_severity(result: &SarifResult, rule: Option<&ReportingDescriptor>) -> Option<f64> {
    let from_bag = |bag: Option<&serde_sarif::sarif::PropertyBag>| {
        bag.and_then(|b| b.additional_properties.get(keys::SECURITY_SEVERITY)).and_then(parse_score)
    };
    from_bag(result.properties.as_ref()).or_else(|| from_bag(rule.and_then(|r| r.properties.as_ref())))
}

/// The score sluice derives from a SARIF level when no tool gave one.
pub(crate) fn score_for_level(level: ResultLevel) -> f64 {
    match level {
        ResultLevel::Error => 7.0,
        ResultLevel::Warning => 5.0,
        ResultLevel::Note => 2.0,
        ResultLevel::None => 0.0,
    }
}

/// The severity bucket of a normalized result (its `security-severity`, else its level).
pub fn severity_of(result: &SarifResult, rule: Option<&ReportingDescriptor>) -> Severity {
    match security_severity(result, rule) {
        Some(score) => Severity::from_score(score),
        None => Severity::from_score(score_for_level(result.level.unwrap_or(ResultLevel::Warning))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_thresholds() {
        assert_eq!(Severity::from_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_score(8.9), Severity::High);
        assert_eq!(Severity::from_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::Info);
        assert_eq!(parse_score(&serde_json::json!("7.5")), Some(7.5));
        assert_eq!(parse_score(&serde_json::json!(11)), None);
        assert_eq!(parse_score(&serde_json::json!("high")), None);
    }
}
