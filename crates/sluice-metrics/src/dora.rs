//! The four keys, computed from git history and recorded deployments and incidents.
//!
//! Lead time uses ancestry, not commit ids listed in deployment events: deployments are
//! walked in time order, and each commit belongs to the first successful deployment whose
//! commit contains it. Squash and rebase merges therefore need nothing special: the squashed
//! or rebased commit is what history holds and what is deployed. A commit's time is its
//! **author** time, which rebasing and cherry-picking keep (committer time becomes the time of
//! the rebase, which would hide the wait for review); committer time is used to detect skew.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::events::{DeployStatus, Deployment, Incident};
use crate::history::History;
use crate::stats::{failure_rate_tier, frequency_tier, lead_time_tier, percentile, recovery_tier, Distribution, Tier};
use crate::time::{format_date, format_time, week_start, DAY, WEEK};

/// What to compute over.
#[derive(Debug, Clone)]
pub struct DoraOptions<'a> {
    /// The production environment's name, as recorded (`prod` by default in the CLI).
    pub env: &'a str,
    /// Only deployments at or after this time count (earlier ones still mark what they
    /// shipped, so a commit is never attributed to a later deployment).
    pub since: Option<i64>,
    /// Only deployments up to this time count.
    pub until: i64,
    /// The wall clock, to recognize commits dated in the future.
    pub now: i64,
    /// A monorepo service: the directory whose commits and deployments are measured.
    pub path: Option<&'a str>,
    /// Seconds two clocks may disagree by before dates that contradict each other (committed
    /// before authored, older than a parent, after the deployment that shipped it, in the
    /// future) count as skew; within it the commit counts, its lead time at least zero.
    pub clock_skew: i64,
}

/// [`DoraOptions::clock_skew`] by default: ten minutes, more than laptops and CI runners drift,
/// far less than the hours a wrong time zone or a bad clock makes.
pub const DEFAULT_CLOCK_SKEW: i64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A commit's committer time is before its author time.
    ClockSkew,
    /// A parent's committer time is after its child's.
    ParentNewer,
    /// A commit dated after the wall clock.
    FutureDate,
    /// A commit dated after the deployment that shipped it.
    CommitAfterDeploy,
    /// A deployment of a commit the repository does not have.
    UnknownCommit,
    /// An incident with neither a deployment nor a cause.
    IncidentWithoutCause,
    /// An incident naming a deployment that was never recorded.
    IncidentUnknownDeploy,
    /// An incident whose cause commit is not in the repository.
    IncidentUnknownCause,
    /// An incident whose cause commit was never deployed successfully.
    IncidentCauseNotDeployed,
    /// An incident not resolved yet: its deployment counts as failed, recovery is unknown.
    IncidentUnresolved,
    /// An incident resolved before it was opened.
    IncidentResolvedBeforeOpened,
    /// A failed deployment not followed by a successful one in the window.
    NotRecovered,
    /// History is shallow: some parents are missing, older commits are invisible.
    ShallowHistory,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// The commit, deployment or incident concerned.
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeekCount {
    /// The Monday (UTC) starting the ISO week.
    pub week: String,
    pub deployments: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Frequency {
    pub deployments: usize,
    pub days: f64,
    pub per_day: f64,
    pub per_week: f64,
    pub days_with_deployments: usize,
    /// Nearest-rank median of deployments per calendar week over the window's weeks.
    pub median_per_week: usize,
    pub weeks: Vec<WeekCount>,
    pub tier: Tier,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailureRate {
    pub deployments: usize,
    pub failed: usize,
    pub rate: Option<f64>,
    pub tier: Option<Tier>,
    /// Ids of the failed deployments, ascending.
    pub failed_deployments: Vec<i64>,
    /// Why there is no rate when there were deployments: with no incident on record and no
    /// deployment recorded as failed, a change that broke production cannot be told from one
    /// that did not, so the rate is unknown, not 0 % (which would read as elite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_because: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DoraReport {
    pub env: String,
    pub path: Option<String>,
    pub since: String,
    pub until: String,
    pub deployment_frequency: Frequency,
    pub lead_time: Distribution,
    pub change_failure_rate: FailureRate,
    pub recovery_time: Distribution,
    /// Commits excluded from lead time because they are merges (their branch's commits count).
    pub merge_commits_skipped: usize,
    pub warning_counts: BTreeMap<WarningKind, usize>,
    pub warnings: Vec<Warning>,
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Computes the four keys. `deployments` and `incidents` may hold every environment: only
/// `opts.env` is used.
pub fn compute(
    history: &History,
    deployments: &[Deployment],
    incidents: &[Incident],
    opts: &DoraOptions<'_>,
) -> DoraReport {
    let mut warnings: Vec<Warning> = Vec::new();
    let mut warn = |kind, subject: String, message: String| warnings.push(Warning { kind, subject, message });
    let path = opts.path.map(|p| p.trim_matches('/').to_owned()).filter(|p| !p.is_empty() && p != ".");
    let in_window = |at: i64| at <= opts.until && opts.since.is_none_or(|s| at >= s);

    if history.missing_parents > 0 {
        warn(
            WarningKind::ShallowHistory,
            format!("{} parents", history.missing_parents),
            "history is shallow: commits older than the clone's depth are invisible (fetch full history, e.g. `git fetch --unshallow`)".into(),
        );
    }

    // The deployments of this environment (and service), up to `until`, with their commit.
    let mut deploys: Vec<(&Deployment, u32)> = Vec::new();
    let mut env_ids: HashMap<i64, ()> = HashMap::new();
    let mut sorted: Vec<&Deployment> = deployments.iter().filter(|d| d.env == opts.env).collect();
    sorted.sort_by_key(|d| (d.at, d.id));
    for d in sorted {
        env_ids.insert(d.id, ());
        if d.at > opts.until {
            continue;
        }
        if let (Some(p), Some(s)) = (&path, &d.service) {
            if s.trim_matches('/') != p {
                continue;
            }
        }
        match history.find(&d.commit) {
            Some(c) => deploys.push((d, c)),
            None => {
                if in_window(d.at) {
                    warn(
                        WarningKind::UnknownCommit,
                        format!("deployment {}", d.id),
                        format!(
                            "deployment {} at {} is of commit {}, which this repository does not have: excluded from every metric (fetch it, or fix the record)",
                            d.id, format_time(d.at), d.commit
                        ),
                    );
                }
            }
        }
    }

    // Walk deployments in time order: each commit belongs to the first successful deployment
    // that contains it.
    const NONE: u32 = u32::MAX;
    let mut shipped_by = vec![NONE; history.len()];
    let mut ships_change = vec![false; deploys.len()];
    let mut lead_samples = Vec::new();
    let mut merges = 0usize;
    let mut stack = Vec::new();
    let mut scratch: HashMap<u32, ()> = HashMap::new();
    for (k, &(d, tip)) in deploys.iter().enumerate() {
        let success = d.status == DeployStatus::Success;
        stack.clear();
        scratch.clear();
        stack.push(tip);
        while let Some(c) = stack.pop() {
            if shipped_by[c as usize] != NONE || (!success && scratch.contains_key(&c)) {
                continue;
            }
            if success {
                shipped_by[c as usize] = k as u32;
            } else {
                scratch.insert(c, ());
            }
            stack.extend_from_slice(history.parents(c));
            if !history.touches(c) {
                continue;
            }
            ships_change[k] = true;
            if !success || !in_window(d.at) {
                continue;
            }
            if history.is_merge(c) {
                merges += 1;
                continue;
            }
            let id = history.id(c);
            let (author, committer) = (history.author[c as usize], history.committer[c as usize]);
            if author.max(committer) > opts.now + opts.clock_skew {
                warn(
                    WarningKind::FutureDate,
                    short(&id).into(),
                    format!(
                        "commit {} is dated {} (in the future): excluded from lead time",
                        short(&id),
                        format_time(author.max(committer))
                    ),
                );
            } else if committer + opts.clock_skew < author {
                warn(
                    WarningKind::ClockSkew,
                    short(&id).into(),
                    format!(
                        "commit {} was committed ({}) before it was authored ({}): clock skew, excluded from lead time",
                        short(&id),
                        format_time(committer),
                        format_time(author)
                    ),
                );
            } else if let Some(&p) =
                history.parents(c).iter().find(|&&p| history.committer[p as usize] > committer + opts.clock_skew)
            {
                warn(
                    WarningKind::ParentNewer,
                    short(&id).into(),
                    format!(
                        "commit {} ({}) is older than its parent {} ({}): clock skew, excluded from lead time",
                        short(&id),
                        format_time(committer),
                        short(&history.id(p)),
                        format_time(history.committer[p as usize])
                    ),
                );
            } else if author > d.at + opts.clock_skew {
                warn(
                    WarningKind::CommitAfterDeploy,
                    short(&id).into(),
                    format!(
                        "commit {} ({}) is dated after deployment {} that shipped it ({}): excluded from lead time",
                        short(&id),
                        format_time(author),
                        d.id,
                        format_time(d.at)
                    ),
                );
            } else {
                lead_samples.push((d.at - author).max(0));
            }
        }
    }

    // Deployments that count: in the window, and for a service path either recorded for that
    // service or shipping a change under it.
    let counted: Vec<usize> = (0..deploys.len())
        .filter(|&k| {
            let d = deploys[k].0;
            in_window(d.at) && (path.is_none() || d.service.is_some() || ships_change[k])
        })
        .collect();
    let position: HashMap<i64, usize> = counted.iter().map(|&k| (deploys[k].0.id, k)).collect();

    // Incidents → the deployment that caused them.
    let mut caused: BTreeMap<usize, Vec<&Incident>> = BTreeMap::new();
    for i in incidents {
        let target = match (&i.deploy, &i.cause) {
            (Some(id), _) => {
                if !env_ids.contains_key(id) && !deployments.iter().any(|d| d.id == *id) {
                    warn(
                        WarningKind::IncidentUnknownDeploy,
                        format!("incident {}", i.id),
                        format!("incident {} names deployment {id}, which is not recorded: excluded", i.id),
                    );
                }
                position.get(id).copied()
            }
            (None, Some(cause)) => match history.find(cause) {
                None => {
                    if in_window(i.opened_at) {
                        warn(
                            WarningKind::IncidentUnknownCause,
                            format!("incident {}", i.id),
                            format!("incident {}: cause {cause} is not a commit of this repository: excluded", i.id),
                        );
                    }
                    None
                }
                Some(c) if shipped_by[c as usize] == NONE => {
                    if in_window(i.opened_at) && history.touches(c) {
                        warn(
                            WarningKind::IncidentCauseNotDeployed,
                            format!("incident {}", i.id),
                            format!(
                                "incident {}: cause {} was never deployed to {} successfully: excluded",
                                i.id,
                                short(cause),
                                opts.env
                            ),
                        );
                    }
                    None
                }
                Some(c) => position.get(&deploys[shipped_by[c as usize] as usize].0.id).copied(),
            },
            (None, None) => {
                if in_window(i.opened_at) {
                    warn(
                        WarningKind::IncidentWithoutCause,
                        format!("incident {}", i.id),
                        format!(
                            "incident {} names no deployment and no cause: not counted as a change failure (record --deploy ID or --cause SHA)",
                            i.id
                        ),
                    );
                }
                None
            }
        };
        if let Some(k) = target {
            caused.entry(k).or_default().push(i);
        }
    }

    // Change failure rate and recovery.
    let mut failed_ids = Vec::new();
    let mut recovery_samples = Vec::new();
    for (n, &k) in counted.iter().enumerate() {
        let d = deploys[k].0;
        let incidents = caused.get(&k);
        if d.status == DeployStatus::Success && incidents.is_none() {
            continue;
        }
        failed_ids.push(d.id);
        if let Some(list) = incidents {
            let opened = list.iter().map(|i| i.opened_at).min().unwrap_or(d.at);
            if let Some(open) = list.iter().find(|i| i.resolved_at.is_none()) {
                warn(
                    WarningKind::IncidentUnresolved,
                    format!("incident {}", open.id),
                    format!(
                        "incident {} is not resolved: deployment {} counts as failed, its recovery is unknown",
                        open.id, d.id
                    ),
                );
            } else if let Some(bad) = list.iter().find(|i| i.resolved_at.is_some_and(|r| r < i.opened_at)) {
                warn(
                    WarningKind::IncidentResolvedBeforeOpened,
                    format!("incident {}", bad.id),
                    format!("incident {} is resolved before it was opened: excluded from recovery time", bad.id),
                );
            } else {
                let resolved = list.iter().filter_map(|i| i.resolved_at).max().unwrap_or(opened);
                recovery_samples.push(resolved - opened);
            }
        } else {
            // A failed deployment is recovered by the next successful one.
            let next = counted[n + 1..].iter().map(|&j| deploys[j].0).find(|x| x.status == DeployStatus::Success);
            match next {
                Some(x) => recovery_samples.push(x.at - d.at),
                None => warn(
                    WarningKind::NotRecovered,
                    format!("deployment {}", d.id),
                    format!("deployment {} failed and no successful deployment followed it in the window", d.id),
                ),
            }
        }
    }
    failed_ids.sort_unstable();

    // Frequency over the window.
    let start = opts.since.unwrap_or_else(|| counted.first().map_or(opts.until, |&k| deploys[k].0.at));
    let days = ((opts.until - start) as f64 / DAY as f64).max(1.0);
    let n = counted.len();
    let mut weeks: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    let mut w = week_start(start);
    while w <= opts.until {
        weeks.insert(w, (0, 0));
        w += WEEK;
    }
    let failed_set: std::collections::HashSet<i64> = failed_ids.iter().copied().collect();
    let mut dates = std::collections::BTreeSet::new();
    for &k in &counted {
        let d = deploys[k].0;
        let e = weeks.entry(week_start(d.at)).or_default();
        e.0 += 1;
        if failed_set.contains(&d.id) {
            e.1 += 1;
        }
        dates.insert(format_date(d.at));
    }
    let mut per_week: Vec<i64> = weeks.values().map(|&(c, _)| c as i64).collect();
    per_week.sort_unstable();
    let per_day = n as f64 / days;
    let frequency = Frequency {
        deployments: n,
        days: round(days, 2),
        per_day: round(per_day, 4),
        per_week: round(per_day * 7.0, 4),
        days_with_deployments: dates.len(),
        median_per_week: percentile(&per_week, 50).unwrap_or(0) as usize,
        weeks: weeks
            .into_iter()
            .map(|(w, (deployments, failed))| WeekCount { week: format_date(w), deployments, failed })
            .collect(),
        tier: frequency_tier(per_day),
    };
    let tracked = !incidents.is_empty() || !failed_ids.is_empty();
    let rate = (n > 0 && tracked).then(|| failed_ids.len() as f64 / n as f64);
    let unknown_because = (n > 0 && !tracked).then(|| {
        "no incident recorded and no deployment recorded as failed (`sluice record incident`, `sluice record deploy --status failure`)".to_owned()
    });
    warnings.sort();
    let mut warning_counts = BTreeMap::new();
    for w in &warnings {
        *warning_counts.entry(w.kind).or_insert(0) += 1;
    }
    DoraReport {
        env: opts.env.to_owned(),
        path,
        since: format_time(start),
        until: format_time(opts.until),
        deployment_frequency: frequency,
        lead_time: Distribution::new(lead_samples, lead_time_tier),
        change_failure_rate: FailureRate {
            deployments: n,
            failed: failed_ids.len(),
            rate: rate.map(|r| round(r, 4)),
            tier: rate.map(failure_rate_tier),
            failed_deployments: failed_ids,
            unknown_because,
        },
        recovery_time: Distribution::new(recovery_samples, recovery_tier),
        merge_commits_skipped: merges,
        warning_counts,
        warnings,
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
