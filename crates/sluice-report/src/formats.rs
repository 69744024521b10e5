//! Machine and merge-request formats.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::SystemTime;

use serde_json::json;
use sha2::{Digest, Sha256};
use sluice_sarif::sarif::Sarif;
use sluice_sarif::Severity;

use crate::escape::{self, github_data, github_property, markdown_code, markdown_url, xml_attr, xml_text};
use crate::finding::{findings, stage_summaries, Finding};
use crate::Options;

/// Version of sluice's own JSON report; bumped on any incompatible change.
const JSON_REPORT_VERSION: u32 = 1;
/// The GitLab security report schema version written.
const GITLAB_SCHEMA_VERSION: &str = "15.0.7";

pub fn json(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    let all = findings(log);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in all.iter().filter(|f| !f.suppressed) {
        *counts.entry(f.severity.as_str()).or_default() += 1;
    }
    let doc = json!({
        "version": JSON_REPORT_VERSION,
        "counts": counts,
        "summary": crate::finding::counts(log),
        "stages": stage_summaries(log),
        "findings": all,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn location(f: &Finding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => "(no location)".into(),
    }
}

/// JUnit XML: one test suite per stage, one failed test case per active finding; a failed stage
/// is an `<error>` test case, so CI test views show it.
pub fn junit(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    let all = findings(log);
    let stages = stage_summaries(log);
    let mut by_stage: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for s in &stages {
        by_stage.entry(s.stage.as_str()).or_default();
    }
    for f in all.iter().filter(|f| !f.suppressed) {
        by_stage.entry(f.stage.as_str()).or_default().push(f);
    }
    let total_failures: usize = by_stage.values().map(Vec::len).sum();
    let total_errors: usize = stages.iter().map(|s| s.failures.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="sluice" tests="{}" failures="{total_failures}" errors="{total_errors}">"#,
        total_failures + total_errors
    )?;
    for (stage, items) in &by_stage {
        let failures: Vec<&String> = stages.iter().filter(|s| s.stage == *stage).flat_map(|s| &s.failures).collect();
        let tests = items.len() + failures.len();
        writeln!(
            out,
            r#"  <testsuite name="sluice/{}" tests="{tests}" failures="{}" errors="{}">"#,
            xml_attr(stage),
            items.len(),
            failures.len()
        )?;
        for failure in failures {
            writeln!(out, r#"    <testcase classname="sluice.{}" name="stage">"#, xml_attr(stage))?;
            writeln!(out, r#"      <error message="{}"/>"#, xml_attr(failure))?;
            writeln!(out, "    </testcase>")?;
        }
        for f in items {
            writeln!(
                out,
                r#"    <testcase classname="{}" name="{}" file="{}">"#,
                xml_attr(&f.rule_id),
                xml_attr(&location(f)),
                xml_attr(f.path.as_deref().unwrap_or(""))
            )?;
            let mut body = format!("{}\n{} ({})", f.message, location(f), f.severity);
            if let Some(help) = &f.help {
                body.push_str("\n\n");
                body.push_str(help);
            }
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                f.severity,
                xml_attr(&f.message),
                xml_text(&body)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// GitHub Actions workflow commands: one annotation per active finding.
pub fn github(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    // https://docs.github.com/actions/reference/workflow-commands-for-github-actions
    // Every value is escaped (`escape::github_*`): no new line, so no second command.
    let (data, prop) = (github_data, github_property);
    for f in findings(log).iter().filter(|f| !f.suppressed) {
        let command = match f.level {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        let mut props = Vec::new();
        if let Some(path) = &f.path {
            props.push(format!("file={}", prop(path)));
        }
        if let Some(line) = f.line {
            props.push(format!("line={line}"));
            if let Some(end) = f.end_line {
                props.push(format!("endLine={end}"));
            }
        }
        if let Some(col) = f.column {
            // GitHub ignores columns on multi-line annotations; only give them for one line.
            if f.end_line.is_none_or(|e| Some(e) == f.line) {
                props.push(format!("col={col}"));
                if let Some(end) = f.end_column {
                    props.push(format!("endColumn={end}"));
                }
            }
        }
        props.push(format!(
            "title={}",
            prop(&format!("{} ({}): {}", f.rule_id, f.severity, f.rule_name.as_deref().unwrap_or("")))
        ));
        writeln!(out, "::{command} {}::{}", props.join(","), data(&f.message))?;
    }
    for s in stage_summaries(log) {
        for failure in &s.failures {
            writeln!(out, "::error title={}::{}", prop(&format!("sluice stage {} failed", s.stage)), data(failure))?;
        }
    }
    Ok(())
}

/// A merge request comment: new findings first, details collapsed.
pub fn markdown(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    // Every string from the log is inert markdown (`escape::markdown*`): it stays in its cell,
    // and cannot close the comment's HTML, mention anyone, or link anywhere but http(s).
    let cell = escape::markdown;
    let all = findings(log);
    let active: Vec<&Finding> = all.iter().filter(|f| !f.suppressed).collect();
    let suppressed = all.len() - active.len();
    let is_new = |f: &Finding| f.baseline_state.as_deref().is_none_or(|s| s == "new");
    let (new, existing): (Vec<&Finding>, Vec<&Finding>) = active.iter().partition(|f| is_new(f));
    let icon = |s: Severity| match s {
        Severity::Critical => "🟣",
        Severity::High => "🔴",
        Severity::Medium => "🟠",
        Severity::Low => "🟡",
        Severity::Info => "⚪",
    };
    writeln!(out, "### sluice security report\n")?;
    if active.is_empty() {
        writeln!(out, "✅ No findings.")?;
    } else {
        let mut parts = Vec::new();
        for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info] {
            let n = active.iter().filter(|f| f.severity == s).count();
            if n > 0 {
                parts.push(format!("{} {n} {s}", icon(s)));
            }
        }
        writeln!(out, "**{} findings** ({}): {}", active.len(), new.len().to_string() + " new", parts.join(" · "))?;
    }
    if let Some(fixed) = crate::finding::counts(log).fixed {
        writeln!(out, "\n{fixed} finding(s) of the baseline fixed.")?;
    }
    // New findings first and open; existing ones (already on the target branch) collapsed.
    for (title, group, collapsed) in [("New findings", &new, false), ("Existing findings", &existing, true)] {
        if group.is_empty() {
            continue;
        }
        if collapsed {
            writeln!(out, "\n<details><summary>{title} ({})</summary>\n", group.len())?;
        } else {
            writeln!(out, "\n#### {title}\n")?;
        }
        writeln!(out, "| Severity | Rule | Location | Message |")?;
        writeln!(out, "|---|---|---|---|")?;
        for f in group.iter().take(MARKDOWN_ROWS) {
            let rule = match f.help_uri.as_deref().and_then(markdown_url) {
                Some(uri) => format!("[{}]({uri})", markdown_code(&f.rule_id)),
                None => markdown_code(&f.rule_id),
            };
            writeln!(
                out,
                "| {} {} | {rule} | {} | {} |",
                icon(f.severity),
                f.severity,
                markdown_code(&location(f)),
                cell(&f.message)
            )?;
        }
        if group.len() > MARKDOWN_ROWS {
            writeln!(out, "\n…and {} more in `sluice-out/results.sarif`.", group.len() - MARKDOWN_ROWS)?;
        }
        if collapsed {
            writeln!(out, "\n</details>")?;
        }
    }
    // What waits for a champion or the security team: proposals filed on the server
    // (`sluice triage propose`) that suppress nothing until approved.
    let awaiting: Vec<&Finding> = active.iter().copied().filter(|f| f.pending.is_some()).collect();
    if !awaiting.is_empty() {
        writeln!(out, "\n#### Awaiting approval\n")?;
        writeln!(
            out,
            "{} finding(s) have a proposed decision on the sluice server; it applies once approved.\n",
            awaiting.len()
        )?;
        writeln!(out, "| Severity | Rule | Location | Proposal | Needs |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in awaiting.iter().take(MARKDOWN_ROWS) {
            let Some(p) = &f.pending else { continue };
            let id = match markdown_url(&p.decision) {
                Some(uri) => format!("[#{}]({uri})", p.id),
                None => format!("#{}", p.id),
            };
            let needs = match p.required_role.as_deref() {
                Some("champion") => "a champion of the project",
                _ => "the security team",
            };
            writeln!(
                out,
                "| {} {} | {} | {} | {id} {} by {} | {needs} |",
                icon(f.severity),
                f.severity,
                markdown_code(&f.rule_id),
                markdown_code(&location(f)),
                markdown_code(&p.status),
                markdown_code(&p.proposed_by),
            )?;
        }
        if awaiting.len() > MARKDOWN_ROWS {
            writeln!(out, "\n…and {} more.", awaiting.len() - MARKDOWN_ROWS)?;
        }
    }
    let mut helped: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &active {
        if f.help.is_some() {
            helped.entry(f.rule_id.as_str()).or_insert(f);
        }
    }
    if !helped.is_empty() {
        writeln!(out, "\n<details><summary>How to fix</summary>\n")?;
        for (rule, f) in helped {
            writeln!(out, "**{}** — {}\n", markdown_code(rule), cell(f.rule_name.as_deref().unwrap_or("")))?;
            // The help's lines as inert text: a third-party rule's help is not trusted markdown.
            let help: Vec<String> =
                f.help.as_deref().unwrap_or("").trim().lines().map(|l| cell(l.trim_start())).collect();
            writeln!(out, "{}\n", help.join("\n"))?;
        }
        writeln!(out, "</details>")?;
    }
    for s in stage_summaries(log) {
        for failure in &s.failures {
            writeln!(out, "\n> ⚠️ Stage {} failed: {}", markdown_code(&s.stage), cell(failure))?;
        }
    }
    if suppressed > 0 {
        writeln!(out, "\n{suppressed} suppressed finding(s) not shown.")?;
    }
    // A command to paste is offered only with a fingerprint of the shape sluice makes.
    let example =
        active.iter().find_map(|f| f.fingerprint.as_deref().filter(|fp| sluice_sarif::is_sluice_fingerprint(fp)));
    if let Some(example) = example {
        writeln!(out, "\n<details><summary>A false positive? An accepted risk?</summary>\n")?;
        writeln!(
            out,
            "Record the decision with its reason; it lands in `.sluice/triage.toml` and is reviewed in this merge request like code:\n"
        )?;
        writeln!(
            out,
            "```sh\nsluice triage mark {example} --status false_positive --reason \"why it is wrong\"\n```\n"
        )?;
        writeln!(out, "`--status accepted_risk --expires YYYY-MM-DD` accepts a real finding until a date. Each finding's fingerprint is in `sluice-out/results.sarif` (`partialFingerprints.sluice/v1`).\n")?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// Rows per table in a merge request comment: GitHub and GitLab cut comments at 64 KiB.
const MARKDOWN_ROWS: usize = 50;

/// GitLab's SAST report (security report schema 15), so the merge request widget shows findings.
pub fn gitlab_sast(log: &Sarif, opts: &Options<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let scanner = json!({
        "id": "sluice",
        "name": "sluice",
        "version": opts.tool_version,
        "vendor": { "name": "sluice" },
    });
    let vulnerabilities: Vec<_> = findings(log)
        .iter()
        .filter(|f| !f.suppressed && f.path.is_some())
        .map(|f| {
            let mut identifiers = vec![json!({
                "type": "sluice_rule",
                "name": format!("{} {}", f.tool, f.rule_id),
                "value": f.rule_id,
            })];
            for cwe in &f.cwe {
                let n = cwe.trim_start_matches("CWE-");
                identifiers.push(json!({
                    "type": "cwe",
                    "name": cwe,
                    "value": n,
                    "url": format!("https://cwe.mitre.org/data/definitions/{n}.html"),
                }));
            }
            let mut location = json!({ "file": f.path });
            if let Some(line) = f.line {
                location["start_line"] = json!(line);
                location["end_line"] = json!(f.end_line.unwrap_or(line).max(line));
            }
            // GitLab renders the description as markdown: inert text, as in a comment.
            let mut description = escape::markdown(&f.message);
            if let Some(help) = &f.help {
                description.push_str("\n\n");
                let lines: Vec<String> = help.trim().lines().map(|l| escape::markdown(l.trim_start())).collect();
                description.push_str(&lines.join("\n"));
            }
            json!({
                "id": uuid_from(f.fingerprint.as_deref().unwrap_or(&location_key(f))),
                "name": f.rule_name.clone().unwrap_or_else(|| f.rule_id.clone()),
                "description": description,
                "severity": gitlab_severity(f.severity),
                "location": location,
                "identifiers": identifiers,
            })
        })
        .collect();
    let doc = json!({
        "version": GITLAB_SCHEMA_VERSION,
        "scan": {
            "analyzer": scanner,
            "scanner": scanner,
            "type": "sast",
            "start_time": opts.started,
            "end_time": opts.finished,
            "status": if stage_summaries(log).iter().any(|s| !s.failures.is_empty()) { "failure" } else { "success" },
        },
        "vulnerabilities": vulnerabilities,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn location_key(f: &Finding) -> String {
    format!("{}\0{}\0{}", f.rule_id, location(f), f.message)
}

fn gitlab_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// A deterministic UUID-shaped id (version 4 and variant bits set) from a fingerprint, so the
/// same finding keeps its id across pipelines.
fn uuid_from(key: &str) -> String {
    let mut b: [u8; 16] = Sha256::digest(key.as_bytes())[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the shape GitLab's schema requires.
pub fn utc_timestamp(time: SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH).max(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
        assert_eq!(utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_795_704_130)), "2026-11-26T14:42:10");
        assert_eq!(utc_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00");
    }

    #[test]
    fn uuids_are_stable_and_shaped() {
        let a = uuid_from("x");
        assert_eq!(a, uuid_from("x"));
        assert_ne!(a, uuid_from("y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn the_comment_lists_what_awaits_approval() {
        let text = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"bandit"}},"results":[
          {"ruleId":"B602","level":"error","message":{"text":"shell"},
           "locations":[{"physicalLocation":{"artifactLocation":{"uri":"app/a.py"},"region":{"startLine":3}}}],
           "properties":{"sluice/pending-decision":{"id":12,"status":"false_positive","required_role":"champion",
             "proposed_by":"user:dev</details>@team","decision":"https://sluice.example/api/v1/decisions/12"}}},
          {"ruleId":"B101","level":"note","message":{"text":"assert"}}]}]}"#;
        let log = sluice_sarif::read_log(text.as_bytes(), "t").unwrap();
        let mut out = Vec::new();
        markdown(&log, &mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        let section = md.split("#### Awaiting approval").nth(1).expect("a section for the proposal");
        assert!(section.contains("1 finding(s) have a proposed decision"), "{section}");
        assert!(section.contains("[#12](https://sluice.example/api/v1/decisions/12)"), "{section}");
        assert!(section.contains("a champion of the project"), "{section}");
        assert!(!section.contains("</details>@team"), "the proposer's name is inert: {section}");
        assert_eq!(section.matches("B101").count(), 0, "only findings with a proposal");
        // Without a mark, no section.
        let plain = text.replace("sluice/pending-decision", "x-other");
        let mut out = Vec::new();
        markdown(&sluice_sarif::read_log(plain.as_bytes(), "t").unwrap(), &mut out).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("Awaiting approval"));
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_attr("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;\u{FFFD}");
    }
}
