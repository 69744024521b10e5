//! OpenVEX (https://github.com/openvex/spec): importing statements as advisory decisions and
//! exporting advisory decisions as statements.
//!
//! Import: `not_affected` with a justification becomes a suppressing decision
//! (`inline_mitigations_already_exist` → `mitigated`, the other justifications →
//! `false_positive`); `affected` and `fixed` become `confirmed` decisions that record the
//! statement without suppressing; `under_investigation` and unjustified `not_affected`
//! statements are not imported, and each one is reported.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::date::Date;
use crate::decisions::{Decision, Decisions, Selector, Status, VexStatus, VEX_JUSTIFICATIONS};
use crate::edit::{NewDecision, NewSelector};
use crate::version::VersionRange;

pub const OPENVEX_CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("{origin}: not JSON ({message}); give an OpenVEX document")]
    Json { origin: String, message: String },
    #[error("{origin}: not an OpenVEX document: {message}")]
    NotVex { origin: String, message: String },
}

/// What an import produced: decisions to write, and statements left out with the reason.
#[derive(Debug, Default)]
pub struct Import {
    pub decisions: Vec<NewDecision>,
    pub skipped: Vec<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn date_of(timestamp: Option<String>) -> Option<Date> {
    timestamp.and_then(|t| t.get(..10).and_then(Date::parse))
}

fn ids(v: Option<&Value>) -> Vec<(String, Vec<String>)> {
    // Products are strings (OpenVEX 0.0.x) or objects with `@id` and `subcomponents`.
    let id_of = |p: &Value| p.as_str().map(str::to_owned).or_else(|| text(p, "@id"));
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let id = id_of(p)?;
            let subs =
                p.get("subcomponents").and_then(Value::as_array).into_iter().flatten().filter_map(id_of).collect();
            Some((id, subs))
        })
        .collect()
}

/// `pkg:npm/lodash@4.17.20` → (`pkg:npm/lodash`, `=4.17.20`); anything else is kept whole.
fn package_and_versions(id: &str) -> (String, Option<String>) {
    if id.starts_with("pkg:") {
        let (base, version) = crate::apply::split_purl(id);
        (base.to_owned(), version.filter(|v| !v.is_empty()).map(|v| format!("={v}")))
    } else {
        (id.to_owned(), None)
    }
}

/// Reads an OpenVEX document; `today` dates statements that carry no timestamp.
pub fn import(bytes: &[u8], origin: &str, today: Date) -> Result<Import, VexError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| VexError::Json { origin: origin.into(), message: e.to_string() })?;
    let not_vex = |message: &str| VexError::NotVex { origin: origin.into(), message: message.into() };
    let context = text(&doc, "@context").ok_or_else(|| not_vex("no `@context`"))?;
    if !context.starts_with("https://openvex.dev/ns") {
        return Err(not_vex(&format!("`@context` is {context:?}, not https://openvex.dev/ns/…")));
    }
    let statements = doc.get("statements").and_then(Value::as_array).ok_or_else(|| not_vex("no `statements` list"))?;
    let doc_id = text(&doc, "@id").unwrap_or_else(|| origin.to_owned());
    let author = text(&doc, "author").unwrap_or_else(|| "unknown (OpenVEX document without author)".into());
    let doc_date = date_of(text(&doc, "timestamp"));
    let mut out = Import::default();
    for (n, st) in statements.iter().enumerate() {
        let n = n + 1;
        let vuln = st.get("vulnerability");
        let advisory = vuln
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| vuln.and_then(|v| text(v, "name").or_else(|| text(v, "@id"))));
        let Some(advisory) = advisory else {
            out.skipped.push(format!("statement {n}: no vulnerability name"));
            continue;
        };
        let status = text(st, "status").unwrap_or_default();
        let justification = text(st, "justification");
        let (status, vex_status) = match status.as_str() {
            "not_affected" => match justification.as_deref() {
                Some(j) if VEX_JUSTIFICATIONS.contains(&j) => {
                    let s =
                        if j == "inline_mitigations_already_exist" { Status::Mitigated } else { Status::FalsePositive };
                    (s, VexStatus::NotAffected)
                }
                Some(j) => {
                    out.skipped.push(format!("statement {n} ({advisory}): unknown justification `{j}`"));
                    continue;
                }
                None => {
                    out.skipped.push(format!(
                        "statement {n} ({advisory}): not_affected without a justification; sluice suppresses only justified statements"
                    ));
                    continue;
                }
            },
            "affected" => (Status::Confirmed, VexStatus::Affected),
            "fixed" => (Status::Confirmed, VexStatus::Fixed),
            "under_investigation" => {
                out.skipped.push(format!("statement {n} ({advisory}): under_investigation: nothing to record yet"));
                continue;
            }
            other => {
                out.skipped.push(format!("statement {n} ({advisory}): unknown status `{other}`"));
                continue;
            }
        };
        let said = text(st, "impact_statement")
            .or_else(|| text(st, "status_notes"))
            .or_else(|| text(st, "action_statement"))
            .unwrap_or_else(|| match &justification {
                Some(j) => j.replace('_', " "),
                None => vex_status.as_str().replace('_', " "),
            });
        let reason = format!("{said} (OpenVEX {doc_id}, {})", vex_status.as_str());
        let when = date_of(text(st, "timestamp")).or(doc_date).unwrap_or(today);
        let products = ids(st.get("products"));
        if products.is_empty() {
            out.skipped.push(format!("statement {n} ({advisory}): no products"));
            continue;
        }
        for (product, subcomponents) in products {
            let packages = if subcomponents.is_empty() { vec![product] } else { subcomponents };
            for package in packages {
                let (package, versions) = package_and_versions(&package);
                out.decisions.push(NewDecision {
                    selector: NewSelector::Advisory { advisory: advisory.clone(), package, versions },
                    stage: None,
                    status,
                    reason: reason.clone(),
                    who: author.clone(),
                    when,
                    expires: None,
                    source: None,
                    vex_status: Some(vex_status),
                    vex_justification: justification.clone().filter(|_| vex_status == VexStatus::NotAffected),
                });
            }
        }
    }
    Ok(out)
}

fn statement(d: &Decision, product: &str) -> Option<Value> {
    let Selector::Advisory { advisory, package, versions } = &d.selector else { return None };
    let pinned = versions.as_ref().and_then(single_version);
    let subcomponent = match (&pinned, package.starts_with("pkg:")) {
        (Some(v), true) => format!("{package}@{v}"),
        _ => package.clone(),
    };
    let vex_status = d.vex_status.unwrap_or(match d.status {
        Status::FalsePositive | Status::Mitigated => VexStatus::NotAffected,
        Status::AcceptedRisk | Status::Confirmed => VexStatus::Affected,
    });
    let mut st = json!({
        "vulnerability": { "name": advisory },
        "products": [{ "@id": product, "subcomponents": [{ "@id": subcomponent }] }],
        "status": vex_status.as_str(),
        "timestamp": format!("{}T00:00:00Z", d.when),
    });
    match vex_status {
        VexStatus::NotAffected => {
            let justification = d
                .vex_justification
                .clone()
                .or_else(|| (d.status == Status::Mitigated).then(|| "inline_mitigations_already_exist".to_owned()));
            match justification {
                Some(j) => st["justification"] = json!(j),
                None => st["impact_statement"] = json!(d.reason),
            }
            st["impact_statement"] = json!(d.reason);
        }
        VexStatus::Affected => {
            let action = if d.status == Status::AcceptedRisk {
                format!("risk accepted: {}", d.reason)
            } else {
                d.reason.clone()
            };
            st["action_statement"] = json!(action);
        }
        VexStatus::Fixed => st["status_notes"] = json!(d.reason),
    }
    if let (Some(v), None) = (versions, &pinned) {
        let notes = format!("applies to {package} versions {v}");
        st["status_notes"] = json!(match st.get("status_notes").and_then(Value::as_str) {
            Some(existing) => format!("{existing}; {notes}"),
            None => notes,
        });
    }
    Some(st)
}

/// `=1.2.3` → `1.2.3`: a range that names one version.
fn single_version(range: &VersionRange) -> Option<String> {
    let text = range.to_string();
    let v = text.strip_prefix("==").or_else(|| text.strip_prefix('='))?.trim();
    (!v.contains(',')).then(|| v.to_owned())
}

/// An OpenVEX document with a statement per live advisory decision. `product` names what the
/// statements are about (the repository's product, a package URL or an image); `timestamp` is
/// RFC 3339. The `@id` is derived from the statements, so equal decisions give equal ids.
pub fn export(
    decisions: &Decisions,
    product: &str,
    author: &str,
    timestamp: &str,
    today: Date,
    tooling: &str,
) -> Value {
    let statements: Vec<Value> =
        decisions.items.iter().filter(|d| !d.is_expired(today)).filter_map(|d| statement(d, product)).collect();
    let digest = hex::encode(&Sha256::digest(serde_json::to_vec(&statements).unwrap_or_default())[..16]);
    json!({
        "@context": OPENVEX_CONTEXT,
        "@id": format!("urn:sluice:vex:{digest}"),
        "author": author,
        "timestamp": timestamp,
        "version": 1,
        "tooling": tooling,
        "statements": statements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://example.com/vex/1",
      "author": "Vendor Security <psirt@example.com>",
      "timestamp": "2024-05-01T10:00:00Z",
      "version": 1,
      "statements": [
        { "vulnerability": { "name": "GHSA-jf85-cpcp-j695" },
          "products": [{ "@id": "pkg:npm/app@1.0.0", "subcomponents": [{ "@id": "pkg:npm/lodash@4.17.20" }] }],
          "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
          "impact_statement": "template() is never called" },
        { "vulnerability": "CVE-2024-1", "products": ["pkg:pypi/requests@2.31.0"], "status": "affected",
          "action_statement": "upgrade to 2.32", "timestamp": "2024-06-02T00:00:00Z" },
        { "vulnerability": { "name": "CVE-2024-2" }, "products": [{ "@id": "pkg:pypi/flask" }], "status": "fixed" },
        { "vulnerability": { "name": "CVE-2024-3" }, "products": [{ "@id": "x" }], "status": "not_affected" },
        { "vulnerability": { "name": "CVE-2024-4" }, "products": [{ "@id": "x" }], "status": "under_investigation" }
      ]
    }"#;

    #[test]
    fn imports_what_it_can_and_says_what_it_left_out() {
        let today = Date::parse("2025-01-01").unwrap();
        let got = import(DOC.as_bytes(), "v.json", today).unwrap();
        assert_eq!(got.decisions.len(), 3);
        let d = &got.decisions[0];
        assert_eq!(
            d.selector,
            NewSelector::Advisory {
                advisory: "GHSA-jf85-cpcp-j695".into(),
                package: "pkg:npm/lodash".into(),
                versions: Some("=4.17.20".into())
            }
        );
        assert_eq!(d.status, Status::FalsePositive);
        assert_eq!(d.vex_justification.as_deref(), Some("vulnerable_code_not_in_execute_path"));
        assert_eq!(d.when.to_string(), "2024-05-01");
        assert_eq!(d.who, "Vendor Security <psirt@example.com>");
        assert!(d.reason.starts_with("template() is never called (OpenVEX https://example.com/vex/1"), "{}", d.reason);
        assert_eq!(got.decisions[1].status, Status::Confirmed);
        assert_eq!(got.decisions[1].vex_status, Some(VexStatus::Affected));
        assert_eq!(got.decisions[1].when.to_string(), "2024-06-02");
        assert_eq!(got.decisions[2].vex_status, Some(VexStatus::Fixed));
        assert_eq!(got.skipped.len(), 2, "{:?}", got.skipped);
        assert!(got.skipped[0].contains("CVE-2024-3") && got.skipped[0].contains("without a justification"));

        // Round trip: the imported decisions written, parsed and exported say the same.
        let mut text = String::new();
        for d in &got.decisions {
            text = crate::edit::upsert(&text, "t.toml", d).unwrap().0;
        }
        let parsed = Decisions::parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let out = export(&parsed, "pkg:npm/app@1.0.0", "me", "2025-01-01T00:00:00Z", today, "sluice");
        let st = &out["statements"];
        assert_eq!(st.as_array().unwrap().len(), 3);
        assert_eq!(st[0]["status"], "not_affected");
        assert_eq!(st[0]["justification"], "vulnerable_code_not_in_execute_path");
        assert_eq!(st[0]["products"][0]["subcomponents"][0]["@id"], "pkg:npm/lodash@4.17.20");
        assert_eq!(st[1]["status"], "affected");
        assert!(st[1]["action_statement"].as_str().unwrap().starts_with("upgrade to 2.32"));
        assert_eq!(st[2]["status"], "fixed");
        assert_eq!(out["@id"], export(&parsed, "pkg:npm/app@1.0.0", "me", "x", today, "sluice")["@id"]);
    }

    #[test]
    fn rejects_what_is_not_vex() {
        assert!(import(b"{", "v", Date::parse("2025-01-01").unwrap()).unwrap_err().to_string().contains("not JSON"));
        let e =
            import(br#"{"@context":"https://example.com","statements":[]}"#, "v", Date::parse("2025-01-01").unwrap())
                .unwrap_err();
        assert!(e.to_string().contains("not an OpenVEX document"), "{e}");
    }
}
