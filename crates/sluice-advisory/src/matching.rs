//! Exact OSV matching of one package version against the advisories that name it, and the
//! merging of advisories that describe the same flaw.
//!
//! A range is evaluated as the OSV schema's reference algorithm does: events sorted by
//! version (`introduced: "0"` first), the package is affected after an `introduced` it has
//! reached and until a `fixed` it has reached or a `last_affected` it has passed; `limit`
//! caps the range. `SEMVER` ranges use semver precedence, `ECOSYSTEM` ranges the ecosystem's
//! own order, and `GIT` ranges (commits) cannot be evaluated for a released version and are
//! ignored with a note, as osv-scanner does. An explicit `versions` list matches by the
//! ecosystem's equality (`1.0` = `1.0.0` on PyPI). Withdrawn advisories never match.

use std::collections::{BTreeMap, BTreeSet};

use sluice_inventory::Ecosystem;

use crate::model::{Advisory, Affected, Event, Kind, Range, RangeKind};
use crate::severity::{advisory_score, Score};
use crate::store::{normalize_name, Database};
use crate::version::{Scheme, Version};
use crate::Error;

/// One flaw affecting one package: one or more advisories merged by their aliases.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The canonical id (see [`canonical_id`]).
    pub id: String,
    /// Every other id of the flaw, sorted.
    pub aliases: Vec<String>,
    /// The merged advisories, sorted by id.
    pub advisories: Vec<Advisory>,
    pub kind: Kind,
    pub summary: String,
    /// Fixed versions named by the ranges that matched, in the ecosystem's order.
    pub fixed: Vec<String>,
    /// The lowest fixed version above the installed one that fixes every merged advisory.
    pub upgrade_to: Option<String>,
    /// The highest score among the merged advisories, with who gave it.
    pub score: Option<Score>,
    /// Affected functions, where the database names them.
    pub functions: Vec<String>,
}

/// The outcome of matching one package.
#[derive(Debug, Default)]
pub struct PackageMatch {
    pub findings: Vec<Finding>,
    /// Ranges or versions that could not be evaluated (unparseable versions, GIT ranges).
    pub notes: Vec<String>,
}

/// Ranks ids for the canonical choice: the ecosystem database's own id (RUSTSEC, PYSEC,
/// GO…), then CVE, then GHSA; ties go to the smallest id. Deterministic: it depends only
/// on the set of ids.
fn id_rank(id: &str) -> u8 {
    if id.starts_with("CVE-") {
        1
    } else if id.starts_with("GHSA-") {
        2
    } else {
        0
    }
}

pub fn canonical_id<'a>(ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    ids.min_by(|a, b| id_rank(a).cmp(&id_rank(b)).then_with(|| a.cmp(b)))
}

enum RangeOutcome {
    Affected { next_fixed: Option<String> },
    NotAffected,
    Unknown(String),
}

fn evaluate(range: &Range, scheme: Scheme, installed: &Version) -> RangeOutcome {
    let mut events: Vec<(Option<Version>, &Event)> = Vec::with_capacity(range.events.len());
    for event in &range.events {
        let text = event.version();
        if matches!(event, Event::Introduced(_)) && text == "0" {
            events.push((None, event));
            continue;
        }
        match scheme.parse(text) {
            Ok(v) => events.push((Some(v), event)),
            Err(e) => return RangeOutcome::Unknown(e.to_string()),
        }
    }
    // `None` (introduced 0) sorts first; equal versions keep their order in the record.
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
    });
    let mut affected = false;
    for (v, event) in &events {
        let reached = v.as_ref().is_none_or(|v| installed >= v);
        match event {
            Event::Introduced(_) if reached => affected = true,
            Event::Fixed(_) if reached => affected = false,
            Event::LastAffected(_) if v.as_ref().is_some_and(|v| installed > v) => affected = false,
            Event::Limit(_) if reached => affected = false,
            _ => {}
        }
    }
    if !affected {
        return RangeOutcome::NotAffected;
    }
    let next_fixed = events
        .iter()
        .filter(|(v, e)| matches!(e, Event::Fixed(_)) && v.as_ref().is_some_and(|v| v > installed))
        .map(|(_, e)| e.version().to_owned())
        .next();
    RangeOutcome::Affected { next_fixed }
}

struct Hit<'a> {
    advisory: &'a Advisory,
    affected: &'a Affected,
    next_fixed: Option<String>,
}

/// Whether `affected` (already known to name the package) covers `version`.
fn affects(
    affected: &Affected,
    scheme: Scheme,
    version: &str,
    installed: &Version,
    notes: &mut Vec<String>,
    id: &str,
) -> Option<Option<String>> {
    let listed = affected.versions.iter().any(|v| v == version || scheme.parse(v).is_ok_and(|p| &p == installed));
    let mut result: Option<Option<String>> = listed.then_some(None);
    for range in &affected.ranges {
        let range_scheme = match range.kind {
            RangeKind::Semver => Scheme::Semver,
            RangeKind::Ecosystem => scheme,
            RangeKind::Git => continue,
        };
        let installed_here = if range_scheme == scheme {
            installed.clone()
        } else {
            match range_scheme.parse(version) {
                Ok(v) => v,
                Err(e) => {
                    notes.push(format!("{id}: {e}"));
                    continue;
                }
            }
        };
        match evaluate(range, range_scheme, &installed_here) {
            RangeOutcome::Affected { next_fixed } => {
                // Keep the highest next fix over the matching ranges.
                let better = match (&result, &next_fixed) {
                    (Some(Some(old)), Some(new)) => {
                        range_scheme.compare(new.as_str(), old.as_str()).is_some_and(|o| o.is_gt())
                    }
                    (Some(None), Some(_)) | (None, _) => true,
                    _ => false,
                };
                if better {
                    result = Some(next_fixed);
                }
            }
            RangeOutcome::NotAffected => {}
            RangeOutcome::Unknown(reason) => notes.push(format!("{id}: range not evaluated: {reason}")),
        }
    }
    result
}

/// Which releases of a distribution an advisory's `affected` entry must be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release<'a> {
    /// Language ecosystems: any `:suffix` of the OSV ecosystem is ignored.
    Any,
    /// A distribution package on this release (`12`, `v3.20`, `22.04`, `9`): an entry applies
    /// when it names no release or when one of its `:`-separated release components is this
    /// one (`Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04:LTS`,
    /// `Red Hat:enterprise_linux:9::appstream`). Ubuntu Pro entries (`Ubuntu:Pro:…`) describe
    /// the paid ESM archive and never apply. `None`: the release is unknown, so only entries
    /// without a release apply.
    Distro(Option<&'a str>),
}

impl Release<'_> {
    fn applies_to(self, affected_ecosystem: &str) -> bool {
        let Release::Distro(release) = self else { return true };
        let Some((_, suffix)) = affected_ecosystem.split_once(':') else { return true };
        let parts: Vec<&str> = suffix.split(':').collect();
        if parts.contains(&"Pro") {
            return false;
        }
        release.is_some_and(|r| parts.contains(&r))
    }
}

/// One package to match, named the way its advisories name it.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Chooses the version order.
    pub ecosystem: Ecosystem,
    /// The OSV ecosystem to look in, without release (`Debian`, `Rocky Linux`); for language
    /// packages `ecosystem.osv_name()`.
    pub osv_ecosystem: &'a str,
    pub release: Release<'a>,
    pub name: &'a str,
    pub version: &'a str,
}

/// Matches one package version against the database.
pub fn match_package(db: &Database, ecosystem: Ecosystem, name: &str, version: &str) -> Result<PackageMatch, Error> {
    let query = Query { ecosystem, osv_ecosystem: ecosystem.osv_name(), release: Release::Any, name, version };
    match_queries(db, &[query])
}

/// Matches an inventoried package. Distribution packages are matched on their release, under
/// both their source package (what Debian, Ubuntu and Alpine advisories name, at the source
/// version when dpkg records one) and their binary package (what Red Hat-family errata name);
/// an advisory found both ways is one finding.
pub fn match_installed(db: &Database, package: &sluice_inventory::Package) -> Result<PackageMatch, Error> {
    let Some(distro) = &package.distro else {
        return match_package(db, package.ecosystem, &package.name, &package.version);
    };
    let release = Release::Distro(distro.release.as_deref());
    let mut queries = vec![Query {
        ecosystem: package.ecosystem,
        osv_ecosystem: &distro.ecosystem,
        release,
        name: &package.name,
        version: &package.version,
    }];
    if let Some(source) = &distro.source_name {
        queries.push(Query {
            ecosystem: package.ecosystem,
            osv_ecosystem: &distro.ecosystem,
            release,
            name: source,
            version: distro.source_version.as_deref().unwrap_or(&package.version),
        });
    }
    let mut out = match_queries(db, &queries)?;
    if distro.release.is_none() {
        out.notes.push(format!(
            "{}: the image names no {} release (no /etc/os-release); only advisories for every release were matched",
            package.name, distro.ecosystem
        ));
    }
    Ok(out)
}

/// Matches the queries (names of one package) and merges what they find.
pub fn match_queries(db: &Database, queries: &[Query<'_>]) -> Result<PackageMatch, Error> {
    let mut out = PackageMatch::default();
    let Some(first) = queries.first() else { return Ok(out) };
    let Some(scheme) = Scheme::for_ecosystem(first.ecosystem) else {
        out.notes.push(format!("{}: no version ordering for this ecosystem; not matched", first.ecosystem));
        return Ok(out);
    };
    // Every query's advisories first (owned), then hits borrowing from them.
    let mut loaded: Vec<(usize, Version, Vec<Advisory>)> = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let installed = match scheme.parse(q.version) {
            Ok(v) => v,
            Err(e) => {
                out.notes.push(format!("{}: {e}; not matched", q.name));
                continue;
            }
        };
        let stored = db.lookup(q.osv_ecosystem, q.name)?;
        let advisories = stored.into_iter().map(|s| s.advisory).filter(|a| a.withdrawn.is_none()).collect();
        loaded.push((i, installed, advisories));
    }
    let mut hits: Vec<Hit<'_>> = Vec::new();
    for (i, installed, advisories) in &loaded {
        let q = &queries[*i];
        let wanted_name = normalize_name(q.osv_ecosystem, q.name);
        for advisory in advisories {
            for affected in &advisory.affected {
                let base = affected.ecosystem.split(':').next().unwrap_or(&affected.ecosystem);
                if base != q.osv_ecosystem
                    || normalize_name(base, &affected.name) != wanted_name
                    || !q.release.applies_to(&affected.ecosystem)
                {
                    continue;
                }
                if let Some(next_fixed) = affects(affected, scheme, q.version, installed, &mut out.notes, &advisory.id)
                {
                    // The same advisory reached under two names is one hit.
                    if !hits.iter().any(|h| h.advisory.id == advisory.id && std::ptr::eq(h.affected, affected)) {
                        hits.push(Hit { advisory, affected, next_fixed });
                    }
                }
            }
        }
    }
    out.findings = merge(hits, scheme);
    out.notes.sort();
    out.notes.dedup();
    Ok(out)
}

/// Groups hits whose ids or aliases overlap (union-find over upper-cased ids).
fn merge(hits: Vec<Hit<'_>>, scheme: Scheme) -> Vec<Finding> {
    let n = hits.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, hit) in hits.iter().enumerate() {
        for id in std::iter::once(&hit.advisory.id).chain(&hit.advisory.aliases) {
            let key = id.trim().to_ascii_uppercase();
            if let Some(&j) = owner.get(&key) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a] = b;
            } else {
                owner.insert(key, i);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Hit<'_>>> = BTreeMap::new();
    for (i, hit) in hits.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(hit);
    }
    let mut findings: Vec<Finding> = groups.into_values().map(|group| finding(&group, scheme)).collect();
    findings.sort_by(|a, b| a.id.cmp(&b.id));
    findings
}

fn finding(group: &[&Hit<'_>], scheme: Scheme) -> Finding {
    let ids: BTreeSet<String> = group
        .iter()
        .flat_map(|h| std::iter::once(&h.advisory.id).chain(&h.advisory.aliases))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    // Prefer a canonical id among the advisories themselves, so its record supplies the text.
    let own: BTreeSet<&str> = group.iter().map(|h| h.advisory.id.as_str()).collect();
    let id = canonical_id(own.iter().copied()).unwrap_or_default().to_owned();
    let aliases: Vec<String> = ids.into_iter().filter(|a| *a != id).collect();
    let mut advisories: Vec<Advisory> = group.iter().map(|h| h.advisory.clone()).collect();
    advisories.sort_by(|a, b| a.id.cmp(&b.id));
    advisories.dedup_by(|a, b| a.id == b.id);
    let kind = group.iter().map(|h| h.advisory.kind).min().unwrap_or(Kind::Vulnerability);
    let main = group.iter().find(|h| h.advisory.id == id).unwrap_or(&group[0]);
    let summary = group
        .iter()
        .map(|h| h.advisory.summary.trim())
        .find(|s| !s.is_empty() && main.advisory.summary.trim().is_empty())
        .unwrap_or(main.advisory.summary.trim())
        .to_owned();
    let sort_versions = |list: &mut Vec<String>| {
        list.sort_by(|a, b| scheme.compare(a, b).unwrap_or_else(|| a.cmp(b)).then_with(|| a.cmp(b)));
        list.dedup_by(|a, b| scheme.compare(a, b).is_some_and(|o| o.is_eq()) || a == b);
    };
    let mut fixed: Vec<String> = group
        .iter()
        .flat_map(|h| h.affected.ranges.iter())
        .flat_map(|r| r.events.iter())
        .filter_map(|e| if let Event::Fixed(v) = e { Some(v.clone()) } else { None })
        .collect();
    sort_versions(&mut fixed);
    // Every merged advisory must be fixed: the highest of their next fixes; none if any has none.
    let upgrade_to = if group.iter().all(|h| h.next_fixed.is_some()) {
        let mut next: Vec<String> = group.iter().filter_map(|h| h.next_fixed.clone()).collect();
        sort_versions(&mut next);
        next.pop()
    } else {
        None
    };
    let score = group
        .iter()
        .filter_map(|h| advisory_score(h.advisory, &h.affected.severity))
        .max_by(|a, b| a.value.total_cmp(&b.value).then_with(|| b.source.cmp(&a.source)));
    let mut functions: Vec<String> = group.iter().flat_map(|h| h.affected.functions.iter().cloned()).collect();
    functions.sort();
    functions.dedup();
    Finding { id, aliases, advisories, kind, summary, fixed, upgrade_to, score, functions }
}
