//! Security velocity from sluice's own recorded runs: what was introduced and fixed each week,
//! how long remediation took against SLA targets, and which rules and stages are noisy.
//!
//! A finding is identified by (stage, fingerprint). Runs are replayed in time order: a finding
//! present and unsuppressed in a run but not open before is *introduced* at that run's time;
//! an open finding missing from a later run is *fixed* at that run's time. A suppressed
//! finding (a triage decision other than `confirmed`) is closed without being fixed: it does
//! not count towards remediation times.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::events::ScanRun;
use crate::time::{format_date, format_duration, format_time, week_start, DAY, WEEK};

pub const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

/// Remediation targets in days per severity; a severity without one has no SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub days: BTreeMap<String, u32>,
}

impl Sla {
    /// critical 7 days, high 30, medium 90, low 180: common vulnerability-management targets
    /// (e.g. CISA BOD 19-02 gives 15/30 days for critical/high on internet-facing systems; most
    /// internal policies are stricter for critical). Configurable in `[metrics.sla]`.
    pub fn defaults() -> Sla {
        Sla {
            days: [("critical", 7), ("high", 30), ("medium", 90), ("low", 180)].map(|(k, v)| (k.to_owned(), v)).into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SecurityOptions {
    pub since: Option<i64>,
    pub until: i64,
    pub sla: Sla,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeekFlow {
    pub week: String,
    pub introduced: usize,
    pub fixed: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Remediation {
    pub severity: String,
    pub sla_days: Option<u32>,
    pub fixed: usize,
    pub mean_seconds: Option<i64>,
    pub mean: Option<String>,
    pub fixed_within_sla: usize,
    pub fixed_late: usize,
    pub open: usize,
    /// Open findings already older than the SLA at `until`.
    pub open_overdue: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Noise {
    /// `stage` for the per-stage table; `stage/rule` for the per-rule table.
    pub key: String,
    pub findings: usize,
    pub false_positives: usize,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SecurityReport {
    pub since: String,
    pub until: String,
    pub runs: usize,
    pub open: usize,
    pub weeks: Vec<WeekFlow>,
    pub remediation: Vec<Remediation>,
    /// Noisiest first: by false-positive rate, then count.
    pub false_positives_by_rule: Vec<Noise>,
    pub false_positives_by_stage: Vec<Noise>,
}

struct Open {
    since: i64,
    severity: String,
}

pub fn compute(runs: &[ScanRun], opts: &SecurityOptions) -> SecurityReport {
    let mut sorted: Vec<&ScanRun> = runs.iter().filter(|r| r.at <= opts.until).collect();
    sorted.sort_by_key(|r| (r.at, r.id));
    let counts = |at: i64| opts.since.is_none_or(|s| at >= s);
    let mut open: HashMap<(String, String), Open> = HashMap::new();
    let mut weeks: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    // (severity) -> durations of fixed findings
    let mut fixed: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    // Latest triage status and rule of every finding seen in the window.
    let mut seen: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    let mut runs_in_window = 0;
    for run in sorted {
        let in_window = counts(run.at);
        runs_in_window += usize::from(in_window);
        let mut present: HashMap<(String, String), &crate::events::ScanFinding> = HashMap::new();
        for f in &run.findings {
            let key = (f.stage.clone(), f.fingerprint.clone());
            if in_window {
                let fp = f.triage.as_deref() == Some("false_positive");
                seen.insert(key.clone(), (f.rule.clone(), fp));
            }
            if !f.suppressed {
                present.insert(key, f);
            }
        }
        for (key, f) in &present {
            if !open.contains_key(key) {
                open.insert(key.clone(), Open { since: run.at, severity: f.severity.clone() });
                if in_window {
                    weeks.entry(week_start(run.at)).or_default().0 += 1;
                }
            }
        }
        let gone: Vec<(String, String)> = open.keys().filter(|k| !present.contains_key(*k)).cloned().collect();
        for key in gone {
            let Some(o) = open.remove(&key) else { continue };
            // Suppressed now (still reported, but decided): closed, not fixed.
            let suppressed = run.findings.iter().any(|f| f.stage == key.0 && f.fingerprint == key.1);
            if suppressed || !in_window {
                continue;
            }
            weeks.entry(week_start(run.at)).or_default().1 += 1;
            fixed.entry(o.severity).or_default().push(run.at - o.since);
        }
    }
    let start = opts.since.unwrap_or_else(|| runs.iter().map(|r| r.at).min().unwrap_or(opts.until));
    let mut w = week_start(start);
    while w <= opts.until && !weeks.is_empty() {
        weeks.entry(w).or_default();
        w += WEEK;
    }
    let mut remediation = Vec::new();
    for &severity in SEVERITIES {
        let durations = fixed.get(severity).cloned().unwrap_or_default();
        let sla = opts.sla.days.get(severity).copied();
        let limit = sla.map(|d| i64::from(d) * DAY);
        let open_here: Vec<i64> =
            open.values().filter(|o| o.severity == severity).map(|o| opts.until - o.since).collect();
        if durations.is_empty() && open_here.is_empty() {
            continue;
        }
        let mean = (!durations.is_empty()).then(|| durations.iter().sum::<i64>() / durations.len() as i64);
        remediation.push(Remediation {
            severity: severity.to_owned(),
            sla_days: sla,
            fixed: durations.len(),
            mean_seconds: mean,
            mean: mean.map(format_duration),
            fixed_within_sla: limit.map_or(0, |l| durations.iter().filter(|&&d| d <= l).count()),
            fixed_late: limit.map_or(0, |l| durations.iter().filter(|&&d| d > l).count()),
            open: open_here.len(),
            open_overdue: limit.map_or(0, |l| open_here.iter().filter(|&&d| d > l).count()),
        });
    }
    let mut by_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_stage: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((stage, _), (rule, fp)) in &seen {
        for (map, key) in [(&mut by_rule, format!("{stage}/{rule}")), (&mut by_stage, stage.clone())] {
            let e = map.entry(key).or_default();
            e.0 += 1;
            e.1 += usize::from(*fp);
        }
    }
    SecurityReport {
        since: format_time(start),
        until: format_time(opts.until),
        runs: runs_in_window,
        open: open.len(),
        weeks: weeks
            .into_iter()
            .map(|(w, (i, f))| WeekFlow { week: format_date(w), introduced: i, fixed: f })
            .collect(),
        remediation,
        false_positives_by_rule: noise(by_rule),
        false_positives_by_stage: noise(by_stage),
    }
}

fn noise(map: BTreeMap<String, (usize, usize)>) -> Vec<Noise> {
    let mut rows: Vec<Noise> = map
        .into_iter()
        .map(|(key, (findings, fps))| Noise {
            key,
            findings,
            false_positives: fps,
            rate: ((fps as f64 / findings as f64) * 10_000.0).round() / 10_000.0,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.rate.total_cmp(&a.rate).then(b.false_positives.cmp(&a.false_positives)).then(a.key.cmp(&b.key))
    });
    rows
}
