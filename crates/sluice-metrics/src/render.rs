//! Reports for people: a text table and an SVG chart. Both are deterministic (no clock, fixed
//! number formatting), so they can be committed or diffed.

use std::fmt::Write as _;

use crate::dora::DoraReport;
use crate::security::SecurityReport;
use crate::stats::{Distribution, Tier};

fn tier(t: Option<Tier>) -> &'static str {
    t.map_or("-", Tier::as_str)
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

fn dist_cell(d: &Distribution) -> (String, String) {
    (d.p50.clone().unwrap_or_else(|| "-".into()), d.p90.clone().unwrap_or_else(|| "-".into()))
}

/// The four keys as a table, then the warnings (at most five per kind, with the count).
pub fn dora_text(r: &DoraReport) -> String {
    let mut s = String::new();
    let scope = r.path.as_deref().map_or_else(|| "whole repository".to_owned(), |p| format!("path {p}"));
    let _ = writeln!(s, "DORA metrics: env {}, {}, {} .. {}", r.env, scope, &r.since[..10], &r.until[..10]);
    let _ = writeln!(s);
    let _ = writeln!(s, "{:<34} {:<22} {:<7} {:>9} {:>9} {:>8}", "metric", "value", "tier", "p50", "p90", "samples");
    let f = &r.deployment_frequency;
    let _ = writeln!(
        s,
        "{:<34} {:<22} {:<7} {:>9} {:>9} {:>8}",
        "deployment frequency",
        format!("{:.2}/week ({} total)", f.per_week, f.deployments),
        f.tier.as_str(),
        "",
        "",
        f.deployments
    );
    let (p50, p90) = dist_cell(&r.lead_time);
    let _ = writeln!(
        s,
        "{:<34} {:<22} {:<7} {:>9} {:>9} {:>8}",
        "lead time for changes",
        format!("median {p50}"),
        tier(r.lead_time.tier),
        p50,
        p90,
        r.lead_time.samples
    );
    let c = &r.change_failure_rate;
    let _ = writeln!(
        s,
        "{:<34} {:<22} {:<7} {:>9} {:>9} {:>8}",
        "change failure rate",
        match c.unknown_because {
            Some(_) => "unknown: no incidents recorded".to_owned(),
            None => format!("{} ({}/{})", pct(c.rate), c.failed, c.deployments),
        },
        tier(c.tier),
        "",
        "",
        c.deployments
    );
    let (p50, p90) = dist_cell(&r.recovery_time);
    let _ = writeln!(
        s,
        "{:<34} {:<22} {:<7} {:>9} {:>9} {:>8}",
        "failed deployment recovery time",
        format!("median {p50}"),
        tier(r.recovery_time.tier),
        p50,
        p90,
        r.recovery_time.samples
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "lead time distribution:");
    let max = r.lead_time.histogram.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for b in &r.lead_time.histogram {
        let bar = "#".repeat((b.count * 40).div_ceil(max));
        let _ = writeln!(s, "  {:<18} {:>7}  {bar}", b.label, b.count);
    }
    if r.merge_commits_skipped > 0 {
        let _ = writeln!(
            s,
            "\n{} merge commits not counted as changes (their branches' commits are)",
            r.merge_commits_skipped
        );
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings ({}; excluded from the numbers above):", r.warnings.len());
        for (kind, count) in &r.warning_counts {
            let kind_text =
                serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let _ = writeln!(s, "  {kind_text}: {count}");
            for w in r.warnings.iter().filter(|w| w.kind == *kind).take(5) {
                let _ = writeln!(s, "    {}", w.message);
            }
            if *count > 5 {
                let _ = writeln!(s, "    … and {} more (--format json lists all)", count - 5);
            }
        }
    }
    s
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn tier_color(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Elite) => "#1a7f37",
        Some(Tier::High) => "#2f81f7",
        Some(Tier::Medium) => "#d29922",
        Some(Tier::Low) => "#cf222e",
        None => "#8c959f",
    }
}

const W: i64 = 960;

/// Where a chart goes: left, top, width, height.
#[derive(Clone, Copy)]
struct Frame {
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
}

/// Bars with a label under every `every`-th; `values` as (label, value, highlighted part).
fn bars(s: &mut String, frame: Frame, values: &[(String, usize, usize)], color: &str, every: usize) {
    let Frame { x0, y0, w, h } = frame;
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    let n = values.len().max(1) as i64;
    let step = w as f64 / n as f64;
    let _ = writeln!(s, r##"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#8c959f"/>"##, y0 + h, x0 + w, y0 + h);
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="11" fill="#57606a" text-anchor="end">{max}</text>"##,
        x0 - 4,
        y0 + 10
    );
    for (i, (label, value, part)) in values.iter().enumerate() {
        let x = x0 as f64 + step * i as f64;
        let bw = (step * 0.8).max(1.0);
        let bh = (*value as f64 / max as f64 * h as f64).round();
        let ph = (*part as f64 / max as f64 * h as f64).round();
        if *value > 0 {
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{bh:.1}" fill="{color}"><title>{}: {value}</title></rect>"#,
                (y0 + h) as f64 - bh,
                esc(label)
            );
        }
        if *part > 0 {
            let _ = writeln!(
                s,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{ph:.1}" fill="#cf222e"/>"##,
                (y0 + h) as f64 - ph
            );
        }
        if every > 0 && i % every == 0 {
            let _ = writeln!(
                s,
                r##"<text x="{x:.1}" y="{}" font-size="11" fill="#57606a">{}</text>"##,
                y0 + h + 14,
                esc(label)
            );
        }
    }
}

fn header(s: &mut String, height: i64, title: &str) {
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">"#
    );
    let _ = writeln!(s, r##"<rect width="{W}" height="{height}" fill="#ffffff"/>"##);
    let _ =
        writeln!(s, r##"<text x="24" y="34" font-size="20" font-weight="600" fill="#24292f">{}</text>"##, esc(title));
}

/// Four tiles (value and tier, coloured by tier), weekly deployments (failed ones in red) and
/// the lead-time histogram against the DORA boundaries.
pub fn dora_svg(r: &DoraReport) -> String {
    let mut s = String::new();
    let scope = r.path.as_deref().map_or_else(String::new, |p| format!(" · {p}"));
    header(&mut s, 640, &format!("DORA metrics · {}{} · {} to {}", r.env, scope, &r.since[..10], &r.until[..10]));
    let f = &r.deployment_frequency;
    let c = &r.change_failure_rate;
    let tiles = [
        ("Deployment frequency", format!("{:.2} / week", f.per_week), Some(f.tier)),
        ("Lead time (median)", r.lead_time.p50.clone().unwrap_or_else(|| "-".into()), r.lead_time.tier),
        ("Change failure rate", if c.unknown_because.is_some() { "unknown".to_owned() } else { pct(c.rate) }, c.tier),
        ("Recovery time (median)", r.recovery_time.p50.clone().unwrap_or_else(|| "-".into()), r.recovery_time.tier),
    ];
    for (i, (name, value, t)) in tiles.iter().enumerate() {
        let x = 24 + i as i64 * 232;
        let color = tier_color(*t);
        let _ = writeln!(
            s,
            r##"<rect x="{x}" y="52" width="216" height="92" rx="8" fill="#f6f8fa" stroke="{color}" stroke-width="2"/>"##
        );
        let _ = writeln!(s, r##"<text x="{}" y="76" font-size="13" fill="#57606a">{}</text>"##, x + 14, esc(name));
        let _ = writeln!(
            s,
            r##"<text x="{}" y="108" font-size="24" font-weight="600" fill="#24292f">{}</text>"##,
            x + 14,
            esc(value)
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="132" font-size="13" font-weight="600" fill="{color}">{}</text>"#,
            x + 14,
            tier(*t).to_uppercase()
        );
    }
    // Weekly deployments: the last 104 weeks at most, so bars stay readable.
    let weeks: Vec<(String, usize, usize)> =
        f.weeks.iter().rev().take(104).rev().map(|w| (w.week.clone(), w.deployments, w.failed)).collect();
    let _ = writeln!(
        s,
        r##"<text x="24" y="180" font-size="14" font-weight="600" fill="#24292f">Deployments per week{} (failed in red)</text>"##,
        if f.weeks.len() > 104 { ", last 104 weeks" } else { "" }
    );
    let every = weeks.len().div_ceil(8).max(1);
    bars(&mut s, Frame { x0: 48, y0: 192, w: W - 72, h: 150 }, &weeks, "#2f81f7", every);
    let _ = writeln!(
        s,
        r##"<text x="24" y="400" font-size="14" font-weight="600" fill="#24292f">Lead time for changes: {} commits, p50 {}, p90 {}</text>"##,
        r.lead_time.samples,
        r.lead_time.p50.as_deref().unwrap_or("-"),
        r.lead_time.p90.as_deref().unwrap_or("-")
    );
    let hist: Vec<(String, usize, usize)> =
        r.lead_time.histogram.iter().map(|b| (format!("{} ({})", b.label, b.count), b.count, 0)).collect();
    bars(&mut s, Frame { x0: 48, y0: 412, w: W - 72, h: 150 }, &hist, "#8250df", 1);
    if !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="24" y="620" font-size="13" fill="#9a6700">⚠ {} warnings: events excluded from these numbers (see the text or JSON output)</text>"##,
            r.warnings.len()
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Findings introduced and fixed per week, mean remediation against SLA, noisiest rules.
pub fn security_text(r: &SecurityReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Security velocity: {} runs, {} .. {}, {} findings open",
        r.runs,
        &r.since[..10],
        &r.until[..10],
        r.open
    );
    let _ = writeln!(s, "\n{:<10} {:>10} {:>6}", "week", "introduced", "fixed");
    for w in r.weeks.iter().filter(|w| w.introduced + w.fixed > 0) {
        let _ = writeln!(s, "{:<10} {:>10} {:>6}", w.week, w.introduced, w.fixed);
    }
    let _ = writeln!(
        s,
        "\n{:<9} {:>5} {:>6} {:>12} {:>7} {:>5} {:>5} {:>8}",
        "severity", "SLA", "fixed", "mean fix", "in SLA", "late", "open", "overdue"
    );
    for m in &r.remediation {
        let _ = writeln!(
            s,
            "{:<9} {:>5} {:>6} {:>12} {:>7} {:>5} {:>5} {:>8}",
            m.severity,
            m.sla_days.map_or_else(|| "-".into(), |d| format!("{d}d")),
            m.fixed,
            m.mean.as_deref().unwrap_or("-"),
            m.fixed_within_sla,
            m.fixed_late,
            m.open,
            m.open_overdue
        );
    }
    for (title, rows) in [("stage", &r.false_positives_by_stage), ("rule", &r.false_positives_by_rule)] {
        let _ = writeln!(s, "\nfalse positives by {title} (noisiest first):");
        let _ = writeln!(s, "  {:<48} {:>8} {:>6} {:>7}", title, "findings", "FP", "rate");
        for n in rows.iter().take(20) {
            let _ = writeln!(s, "  {:<48} {:>8} {:>6} {:>6.1}%", n.key, n.findings, n.false_positives, n.rate * 100.0);
        }
    }
    s
}

/// Introduced (red) and fixed (green) per week, side by side, and the per-stage noise.
pub fn security_svg(r: &SecurityReport) -> String {
    let mut s = String::new();
    header(&mut s, 420, &format!("Security velocity · {} to {} · {} open", &r.since[..10], &r.until[..10], r.open));
    let weeks: Vec<_> = r.weeks.iter().rev().take(52).rev().collect();
    let max = weeks.iter().map(|w| w.introduced.max(w.fixed)).max().unwrap_or(0).max(1);
    let _ = writeln!(
        s,
        r##"<text x="24" y="64" font-size="14" font-weight="600" fill="#24292f">Findings introduced (red) and fixed (green) per week</text>"##
    );
    let (x0, y0, w, h) = (48i64, 80i64, W - 72, 220i64);
    let step = w as f64 / weeks.len().max(1) as f64;
    let _ = writeln!(s, r##"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#8c959f"/>"##, y0 + h, x0 + w, y0 + h);
    for (i, wk) in weeks.iter().enumerate() {
        let x = x0 as f64 + step * i as f64;
        let bw = (step * 0.4).max(1.0);
        for (j, (v, color)) in [(wk.introduced, "#cf222e"), (wk.fixed, "#1a7f37")].into_iter().enumerate() {
            let bh = (v as f64 / max as f64 * h as f64).round();
            if v > 0 {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{bh:.1}" fill="{color}"><title>{}: {v}</title></rect>"#,
                    x + j as f64 * bw,
                    (y0 + h) as f64 - bh,
                    wk.week
                );
            }
        }
        if i % weeks.len().div_ceil(8).max(1) == 0 {
            let _ = writeln!(
                s,
                r##"<text x="{x:.1}" y="{}" font-size="11" fill="#57606a">{}</text>"##,
                y0 + h + 14,
                wk.week
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<text x="24" y="344" font-size="14" font-weight="600" fill="#24292f">Mean time to remediate vs SLA</text>"##
    );
    for (i, m) in r.remediation.iter().enumerate() {
        let ok = m.fixed_late == 0 && m.open_overdue == 0;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="370" font-size="13" fill="{}">{}: {} (SLA {})</text>"#,
            24 + i as i64 * 185,
            if ok { "#1a7f37" } else { "#cf222e" },
            m.severity,
            m.mean.as_deref().unwrap_or("-"),
            m.sla_days.map_or_else(|| "none".into(), |d| format!("{d}d"))
        );
    }
    s.push_str("</svg>\n");
    s
}
