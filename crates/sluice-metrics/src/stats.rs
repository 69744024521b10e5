//! Distributions and DORA performance levels. Percentiles use the nearest-rank method (the
//! value at rank ⌈p·n/100⌉ of the sorted samples), so every reported value is a real sample
//! and an independent check can reproduce it exactly.

use serde::Serialize;

use crate::time::{format_duration, DAY, HOUR, WEEK};

/// The DORA performance level of one metric, from the 2023 Accelerate State of DevOps report's
/// cluster table (see docs/metrics.md for the exact cut points and why 2023's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Elite,
    High,
    Medium,
    Low,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Elite => "elite",
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }
}

pub const MONTH: i64 = 30 * DAY;

/// Histogram bucket upper bounds (exclusive), seconds; the last bucket is open-ended. They are
/// the DORA levels' own boundaries, so a bar chart shows where the mass sits against them.
pub const BUCKETS: &[(i64, &str)] = &[
    (HOUR, "< 1 hour"),
    (DAY, "1 hour – 1 day"),
    (WEEK, "1 day – 1 week"),
    (MONTH, "1 week – 1 month"),
    (6 * MONTH, "1 – 6 months"),
    (i64::MAX, "≥ 6 months"),
];

pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bucket {
    pub label: &'static str,
    /// Exclusive upper bound in seconds; `None` for the last, open bucket.
    pub below_seconds: Option<i64>,
    pub count: usize,
}

/// Durations summarized: count, nearest-rank p50 and p90, mean, histogram, DORA level of p50.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Distribution {
    pub samples: usize,
    pub p50_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    pub mean_seconds: Option<i64>,
    pub p50: Option<String>,
    pub p90: Option<String>,
    pub histogram: Vec<Bucket>,
    pub tier: Option<Tier>,
}

impl Distribution {
    pub fn new(mut samples: Vec<i64>, tier_of: fn(i64) -> Tier) -> Distribution {
        samples.sort_unstable();
        let p50 = percentile(&samples, 50);
        let p90 = percentile(&samples, 90);
        let mean = (!samples.is_empty())
            .then(|| (samples.iter().map(|&s| i128::from(s)).sum::<i128>() / samples.len() as i128) as i64);
        let mut histogram: Vec<Bucket> = BUCKETS
            .iter()
            .map(|&(below, label)| Bucket { label, below_seconds: (below != i64::MAX).then_some(below), count: 0 })
            .collect();
        for &s in &samples {
            let i = BUCKETS.iter().position(|&(below, _)| s < below).unwrap_or(BUCKETS.len() - 1);
            histogram[i].count += 1;
        }
        Distribution {
            samples: samples.len(),
            p50_seconds: p50,
            p90_seconds: p90,
            mean_seconds: mean,
            p50: p50.map(format_duration),
            p90: p90.map(format_duration),
            histogram,
            tier: p50.map(tier_of),
        }
    }
}

/// Lead time for changes: elite under a day, high under a week, medium under a month.
pub fn lead_time_tier(p50: i64) -> Tier {
    match p50 {
        s if s < DAY => Tier::Elite,
        s if s < WEEK => Tier::High,
        s if s < MONTH => Tier::Medium,
        _ => Tier::Low,
    }
}

/// Failed deployment recovery time: elite under an hour, high under a day, medium under a week.
pub fn recovery_tier(p50: i64) -> Tier {
    match p50 {
        s if s < HOUR => Tier::Elite,
        s if s < DAY => Tier::High,
        s if s < WEEK => Tier::Medium,
        _ => Tier::Low,
    }
}

/// Change failure rate: elite up to 5 %, high up to 10 %, medium up to 15 %.
pub fn failure_rate_tier(rate: f64) -> Tier {
    match rate {
        r if r <= 0.05 => Tier::Elite,
        r if r <= 0.10 => Tier::High,
        r if r <= 0.15 => Tier::Medium,
        _ => Tier::Low,
    }
}

/// Deployment frequency, from deployments per day over the window: elite at least daily (on
/// demand), high at least weekly, medium at least monthly.
pub fn frequency_tier(per_day: f64) -> Tier {
    match per_day {
        f if f >= 1.0 => Tier::Elite,
        f if f >= 1.0 / 7.0 => Tier::High,
        f if f >= 1.0 / 30.0 => Tier::Medium,
        _ => Tier::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&s, 50), Some(5));
        assert_eq!(percentile(&s, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    }

    #[test]
    fn histogram_and_tiers() {
        let d = Distribution::new(vec![10, HOUR, 2 * DAY, 400 * DAY], lead_time_tier);
        let counts: Vec<usize> = d.histogram.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 1, 1, 0, 0, 1]);
        assert_eq!(d.p50_seconds, Some(HOUR));
        assert_eq!(d.tier, Some(Tier::Elite));
        assert_eq!(lead_time_tier(DAY), Tier::High);
        assert_eq!(recovery_tier(DAY), Tier::Medium);
        assert_eq!(failure_rate_tier(0.10), Tier::High);
        assert_eq!(failure_rate_tier(0.64), Tier::Low);
        assert_eq!(frequency_tier(1.0 / 7.0), Tier::High);
        assert_eq!(frequency_tier(0.01), Tier::Low);
    }
}
