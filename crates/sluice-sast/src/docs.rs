//! The rule reference, generated from the rules' metadata (`docs/rules.md` in this crate;
//! a test keeps it current).

use std::fmt::Write;

use crate::engine::Rule;
use crate::lang::Lang;

/// Markdown documentation of `rules`: a summary table, then one section per rule with its
/// description, how to fix it, and its examples.
pub fn reference(rules: &[Rule]) -> String {
    let mut out = String::new();
    out.push_str("# SAST rules\n\n");
    out.push_str(
        "Generated from the rules' metadata (`crates/sluice-sast/rules/`) by\n\
         `SLUICE_BLESS=1 cargo test -p sluice-sast rule_reference`; edit the rules, not this file.\n\n",
    );
    out.push_str("| language | rules |\n|---|---|\n");
    for lang in Lang::ALL {
        let count = rules.iter().filter(|r| r.language == lang).count();
        if count > 0 {
            let _ = writeln!(out, "| {lang} | {count} |");
        }
    }
    let _ = writeln!(out, "| **total** | **{}** |\n", rules.len());
    for lang in Lang::ALL {
        let mut of_lang: Vec<&Rule> = rules.iter().filter(|r| r.language == lang).collect();
        if of_lang.is_empty() {
            continue;
        }
        of_lang.sort_by(|a, b| a.id.cmp(&b.id));
        let _ = writeln!(out, "## {lang}\n");
        out.push_str("| rule | title | severity | precision | CWE |\n|---|---|---|---|---|\n");
        for r in &of_lang {
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | {} | {:.1} | {} | {} |",
                r.id,
                anchor(&r.id),
                r.title,
                r.security_severity,
                r.precision.as_str(),
                r.cwe.join(", ")
            );
        }
        out.push('\n');
        let fence = lang.name();
        for r in of_lang {
            let _ = writeln!(out, "### {}\n", r.id);
            let _ = writeln!(out, "**{}**\n", r.title);
            let _ = writeln!(
                out,
                "Level `{}` · security-severity {:.1} · precision {} · {} · {} · tags: {}\n",
                r.level.as_str(),
                r.security_severity,
                r.precision.as_str(),
                r.cwe.join(", "),
                r.owasp.join(", "),
                r.tags.join(", ")
            );
            let _ = writeln!(out, "{}\n", r.description.trim());
            let _ = writeln!(out, "**How to fix.** {}\n", r.help.trim());
            for (title, examples) in [("Flagged", &r.examples.positive), ("Not flagged", &r.examples.negative)] {
                if examples.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "{title}:\n\n```{fence}");
                for (i, e) in examples.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str(e.trim_end());
                    out.push('\n');
                }
                out.push_str("```\n\n");
            }
        }
    }
    out
}

/// GitHub's heading anchor for a rule id heading.
fn anchor(id: &str) -> String {
    id.chars().filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect::<String>().to_lowercase()
}
