//! OSV records (https://ossf.github.io/osv-schema/) as JSON or YAML, converted to the model.
//! The serde types here are the edge: they accept what the schema allows and nothing of it
//! is trusted until converted.

use serde::Deserialize;
use serde_json::Value;

use crate::model::{source_of_id, Advisory, Affected, Event, Kind, Range, RangeKind, SeverityEntry};

#[derive(Debug, Deserialize)]
pub(crate) struct OsvRecord {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    /// OSV 1.7's upstream ids: distribution records (Debian, Alpine, Ubuntu) name the CVE
    /// they package here rather than in `aliases`.
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    affected: Option<Vec<OsvAffected>>,
    #[serde(default)]
    references: Option<Vec<OsvReference>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct OsvAffected {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    ranges: Option<Vec<OsvRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<OsvEvent>,
}

#[derive(Debug, Deserialize)]
struct OsvEvent {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OsvReference {
    #[serde(default)]
    url: Option<String>,
}

/// A qualitative severity word in `database_specific`/`ecosystem_specific` (GHSA's
/// `severity: HIGH`, Ubuntu's `priority`, Debian's `urgency`).
fn qualitative(value: Option<&Value>) -> Option<SeverityEntry> {
    let obj = value?.as_object()?;
    let word = ["severity", "priority", "urgency"].iter().find_map(|k| obj.get(*k)?.as_str())?;
    let upper = match word.trim().to_ascii_uppercase().as_str() {
        // Debian's `unimportant` and Ubuntu's `negligible`: the distribution rates the flaw
        // below low (it does not ship the affected code path, or it cannot be exploited).
        "UNIMPORTANT" | "NEGLIGIBLE" => "LOW".to_owned(),
        other => other.to_owned(),
    };
    matches!(upper.as_str(), "CRITICAL" | "HIGH" | "MODERATE" | "MEDIUM" | "LOW")
        .then(|| SeverityEntry { kind: "QUALITATIVE".into(), value: upper })
}

fn severities(list: Option<Vec<OsvSeverity>>) -> Vec<SeverityEntry> {
    list.unwrap_or_default().into_iter().map(|s| SeverityEntry { kind: s.kind, value: s.score }).collect()
}

impl OsvRecord {
    pub(crate) fn into_advisory(self) -> Result<Advisory, String> {
        if self.id.trim().is_empty() {
            return Err("the record has an empty `id`".into());
        }
        let mut severity = severities(self.severity);
        let record_word = qualitative(self.database_specific.as_ref());
        let cwes = self
            .database_specific
            .as_ref()
            .and_then(|d| d.get("cwe_ids"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if let Some(word) = record_word {
            severity.push(word);
        }
        let mut affected = Vec::new();
        for a in self.affected.unwrap_or_default() {
            let Some(package) = a.package else { continue };
            let mut ranges = Vec::new();
            for r in a.ranges.unwrap_or_default() {
                let kind = match r.kind.as_str() {
                    "SEMVER" => RangeKind::Semver,
                    "ECOSYSTEM" => RangeKind::Ecosystem,
                    "GIT" => RangeKind::Git,
                    other => return Err(format!("unknown range type `{other}`")),
                };
                let mut events = Vec::new();
                for e in r.events {
                    let event = match (e.introduced, e.fixed, e.last_affected, e.limit) {
                        (Some(v), None, None, None) => Event::Introduced(v),
                        (None, Some(v), None, None) => Event::Fixed(v),
                        (None, None, Some(v), None) => Event::LastAffected(v),
                        (None, None, None, Some(v)) => Event::Limit(v),
                        _ => {
                            return Err(
                                "a range event must have exactly one of introduced, fixed, last_affected, limit".into(),
                            )
                        }
                    };
                    events.push(event);
                }
                ranges.push(Range { kind, events });
            }
            let mut sev = severities(a.severity);
            sev.extend(qualitative(a.ecosystem_specific.as_ref()));
            sev.extend(qualitative(a.database_specific.as_ref()));
            let functions = a
                .ecosystem_specific
                .as_ref()
                .and_then(|e| e.get("affects"))
                .and_then(|a| a.get("functions"))
                .and_then(Value::as_array)
                .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            affected.push(Affected {
                ecosystem: package.ecosystem,
                name: package.name,
                ranges,
                versions: a.versions.unwrap_or_default(),
                severity: sev,
                functions,
            });
        }
        let informational = affected_informational(self.database_specific.as_ref());
        let kind =
            if self.id.starts_with("MAL-") { Kind::Malicious } else { informational.unwrap_or(Kind::Vulnerability) };
        Ok(Advisory {
            source: source_of_id(&self.id).to_owned(),
            id: self.id,
            // Upstream ids join the aliases: a DSA and DEBIAN-CVE record for the same CVE in the
            // same package are one flaw to fix, and users search by the CVE.
            aliases: {
                let mut ids = self.aliases.unwrap_or_default();
                ids.extend(self.upstream.unwrap_or_default());
                ids.sort();
                ids.dedup();
                ids
            },
            summary: self.summary.unwrap_or_default(),
            details: self.details.unwrap_or_default(),
            published: self.published,
            modified: self.modified,
            withdrawn: self.withdrawn,
            kind,
            severity,
            affected,
            references: self.references.unwrap_or_default().into_iter().filter_map(|r| r.url).collect(),
            cwes,
        })
    }
}

/// RustSec's OSV export marks informational advisories in `database_specific.informational`.
fn affected_informational(db: Option<&Value>) -> Option<Kind> {
    match db?.get("informational")?.as_str()? {
        "unmaintained" => Some(Kind::Unmaintained),
        "unsound" => Some(Kind::Unsound),
        _ => Some(Kind::Notice),
    }
}

/// Parses one OSV record from JSON.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Advisory, String> {
    let record: OsvRecord = serde_json::from_slice(bytes).map_err(|e| format!("invalid OSV JSON: {e}"))?;
    record.into_advisory()
}

/// Parses one OSV record from YAML (PyPA's advisory-database, Go's vulndb sources).
pub(crate) fn parse_yaml(text: &str) -> Result<Advisory, String> {
    let record: OsvRecord = serde_saphyr::from_str(text).map_err(|e| format!("invalid OSV YAML: {e}"))?;
    record.into_advisory()
}
