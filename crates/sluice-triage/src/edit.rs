//! Writing decisions (`sluice triage mark`, `import`, `prune`) with `toml_edit`, so comments,
//! order and formatting a reviewer wrote stay as they were.

use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};

use crate::date::Date;
use crate::decisions::{Status, VexStatus, FORMAT_VERSION};

/// What a new decision matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewSelector {
    Fingerprint { fingerprint: String, rule: Option<String>, path: Option<String>, commit: Option<String> },
    RulePath { rule: String, glob: String },
    Advisory { advisory: String, package: String, versions: Option<String> },
}

/// A decision to write.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub selector: NewSelector,
    pub stage: Option<String>,
    pub status: Status,
    pub reason: String,
    pub who: String,
    pub when: Date,
    pub expires: Option<Date>,
    pub source: Option<String>,
    pub vex_status: Option<VexStatus>,
    pub vex_justification: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Added,
    /// An existing decision with the same selector was replaced (its comments kept).
    Updated,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{origin}: {message}; fix the file by hand, then try again")]
    Unreadable { origin: String, message: String },
    #[error("{origin}: `decision` must be written as [[decision]] tables for sluice to edit it")]
    NotTables { origin: String },
}

/// The start of a new decisions file.
pub const HEADER: &str = "# Triage decisions (docs/triage.md): reviewed in merge requests like code.\n";

fn doc_of(text: &str, origin: &str) -> Result<DocumentMut, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| EditError::Unreadable {
        origin: origin.into(),
        message: e.message().to_owned(),
    })?;
    if !doc.contains_key("version") {
        doc.insert("version", value(FORMAT_VERSION));
    }
    Ok(doc)
}

fn tables<'d>(doc: &'d mut DocumentMut, origin: &str) -> Result<&'d mut ArrayOfTables, EditError> {
    let item = doc.entry("decision").or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    item.as_array_of_tables_mut().ok_or_else(|| EditError::NotTables { origin: origin.into() })
}

fn text_of(t: &Table, key: &str) -> Option<String> {
    t.get(key).and_then(Item::as_str).map(str::to_owned)
}

fn same_selector(t: &Table, d: &NewDecision) -> bool {
    match &d.selector {
        NewSelector::Fingerprint { fingerprint, .. } => text_of(t, "fingerprint").as_ref() == Some(fingerprint),
        NewSelector::RulePath { rule, glob } => {
            text_of(t, "fingerprint").is_none()
                && text_of(t, "rule").as_ref() == Some(rule)
                && text_of(t, "path").as_ref() == Some(glob)
                && text_of(t, "stage") == d.stage
        }
        NewSelector::Advisory { advisory, package, versions } => {
            text_of(t, "advisory").is_some_and(|a| a.eq_ignore_ascii_case(advisory))
                && text_of(t, "package").as_ref() == Some(package)
                && text_of(t, "versions") == *versions
                && text_of(t, "stage") == d.stage
        }
    }
}

fn date_value(d: Date) -> toml_edit::Item {
    let date = toml_edit::Date { year: u16::try_from(d.year()).unwrap_or(9999), month: d.month(), day: d.day() };
    value(toml_edit::Datetime { date: Some(date), time: None, offset: None })
}

fn fill(t: &mut Table, d: &NewDecision) {
    t.clear();
    let mut put = |key: &str, v: Option<&str>| {
        if let Some(v) = v {
            t.insert(key, value(v));
        }
    };
    match &d.selector {
        NewSelector::Fingerprint { fingerprint, rule, path, commit } => {
            put("fingerprint", Some(fingerprint));
            put("rule", rule.as_deref());
            put("path", path.as_deref());
            put("stage", d.stage.as_deref());
            put("commit", commit.as_deref());
        }
        NewSelector::RulePath { rule, glob } => {
            put("rule", Some(rule));
            put("path", Some(glob));
            put("stage", d.stage.as_deref());
        }
        NewSelector::Advisory { advisory, package, versions } => {
            put("advisory", Some(advisory));
            put("package", Some(package));
            put("versions", versions.as_deref());
            put("stage", d.stage.as_deref());
        }
    }
    put("status", Some(d.status.as_str()));
    put("vex_status", d.vex_status.map(VexStatus::as_str));
    put("vex_justification", d.vex_justification.as_deref());
    put("reason", Some(&d.reason));
    put("who", Some(&d.who));
    t.insert("when", date_value(d.when));
    if let Some(e) = d.expires {
        t.insert("expires", date_value(e));
    }
    if let Some(s) = &d.source {
        t.insert("source", value(s.as_str()));
    }
}

/// Adds a decision, or replaces the one with the same selector. Returns the new text.
pub fn upsert(text: &str, origin: &str, decision: &NewDecision) -> Result<(String, Edit), EditError> {
    let fresh = format!("{HEADER}version = {FORMAT_VERSION}\n");
    let base = if text.trim().is_empty() { fresh.as_str() } else { text };
    let mut doc = doc_of(base, origin)?;
    let list = tables(&mut doc, origin)?;
    let existing = list.iter_mut().find(|t| same_selector(t, decision));
    let edit = match existing {
        Some(t) => {
            fill(t, decision);
            Edit::Updated
        }
        None => {
            let mut t = Table::new();
            fill(&mut t, decision);
            list.push(t);
            Edit::Added
        }
    };
    Ok((doc.to_string(), edit))
}

/// Removes the decisions at these positions (0-based, in file order).
pub fn remove(text: &str, origin: &str, positions: &[usize]) -> Result<String, EditError> {
    let mut doc = doc_of(text, origin)?;
    let list = tables(&mut doc, origin)?;
    let mut sorted = positions.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for &i in sorted.iter().rev() {
        if i < list.len() {
            list.remove(i);
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::Decisions;

    fn decision(fp: &str, status: Status) -> NewDecision {
        NewDecision {
            selector: NewSelector::Fingerprint {
                fingerprint: fp.into(),
                rule: Some("B602".into()),
                path: Some("a.py".into()),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            },
            stage: Some("bandit".into()),
            status,
            reason: "constant \"command\"".into(),
            who: "Ada <ada@example.com>".into(),
            when: Date::parse("2025-03-01").unwrap(),
            expires: Date::parse("2025-09-01"),
            source: Some("tool:bandit".into()),
            vex_status: None,
            vex_justification: None,
        }
    }

    #[test]
    fn adds_updates_and_removes_keeping_comments() {
        let fp1 = "0123456789abcdef0123456789abcdef:1";
        let fp2 = "fedcba9876543210fedcba9876543210:2";
        let (text, edit) = upsert("", "t.toml", &decision(fp1, Status::FalsePositive)).unwrap();
        assert_eq!(edit, Edit::Added);
        assert!(text.starts_with(HEADER), "{text}");
        let text = text.replace("[[decision]]", "# why: see ticket 12\n[[decision]]");
        let (text, _) = upsert(&text, "t.toml", &decision(fp2, Status::Confirmed)).unwrap();
        let (text, edit) = upsert(&text, "t.toml", &decision(fp1, Status::Mitigated)).unwrap();
        assert_eq!(edit, Edit::Updated);
        assert!(
            text.contains("# why: see ticket 12\n[[decision]]\nfingerprint = \"0123456789abcdef0123456789abcdef:1\""),
            "{text}"
        );
        assert!(text.contains("when = 2025-03-01\nexpires = 2025-09-01\n"), "{text}");
        let parsed = Decisions::parse(&text, "t.toml").unwrap();
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[0].status, Status::Mitigated);
        assert_eq!(parsed.items[0].reason, "constant \"command\"");
        let text = remove(&text, "t.toml", &[0]).unwrap();
        assert!(!text.contains("ticket 12"), "{text}");
        let parsed = Decisions::parse(&text, "t.toml").unwrap();
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(parsed.items[0].status, Status::Confirmed);
    }

    #[test]
    fn refuses_inline_arrays() {
        let e = upsert("decision = []\n", "t.toml", &decision("0123456789abcdef0123456789abcdef:1", Status::Confirmed))
            .unwrap_err();
        assert!(e.to_string().contains("[[decision]] tables"), "{e}");
    }
}
