//! `sluice record` and `sluice metrics` on real git repositories built in temp dirs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{parse, sluice};
use serde_json::Value;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// A git command with fixed identity and, when given, author and committer dates.
fn git_at(dir: &Path, args: &[&str], author: Option<i64>, committer: Option<i64>) -> String {
    let mut cmd = Command::new("git");
    cmd.args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(["-c", "init.defaultBranch=main", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir);
    if let Some(a) = author {
        cmd.env("GIT_AUTHOR_DATE", format!("@{a} +0000"));
    }
    if let Some(c) = committer.or(author) {
        cmd.env("GIT_COMMITTER_DATE", format!("@{c} +0000"));
    }
    let out = cmd.output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, None, None)
}

/// Commits a change to `file` with the given author and committer times; returns its id.
fn commit(dir: &Path, file: &str, author: i64, committer: i64) -> String {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
    writeln!(f, "change at {author}").unwrap();
    git_at(dir, &["add", "-A"], None, None);
    git_at(dir, &["commit", "-q", "-m", &format!("change {file} {author}")], Some(author), Some(committer));
    git(dir, &["rev-parse", "HEAD"])
}

fn init(dir: &Path) {
    git(dir, &["init", "-q"]);
}

fn record(dir: &Path, args: &[&str]) -> String {
    let out = sluice().arg("record").args(args).arg("--repo").arg(dir).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap().trim().to_owned()
}

fn deploy(dir: &Path, commit: &str, at: i64, status: &str) -> String {
    record(dir, &["deploy", "--commit", commit, "--at", &format!("@{at}"), "--status", status])
}

fn metrics_json(dir: &Path, extra: &[&str]) -> Value {
    let out = sluice().arg("metrics").arg("--repo").arg(dir).args(["--format", "json"]).args(extra).assert().success();
    parse(&out.get_output().stdout)
}

fn warning_kinds(report: &Value) -> Vec<String> {
    report["warnings"].as_array().unwrap().iter().map(|w| w["kind"].as_str().unwrap().to_owned()).collect()
}

fn lead_samples(report: &Value) -> i64 {
    report["lead_time"]["samples"].as_i64().unwrap()
}

/// The fixture's release timeline: (version, publish time, yanked).
fn serde_releases() -> Vec<(String, i64, bool)> {
    let text = include_str!("fixtures/metrics/serde-releases.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let at = Command::new("date").args(["-u", "-d", cols[1], "+%s"]).output().unwrap();
            (cols[0].to_owned(), String::from_utf8(at.stdout).unwrap().trim().parse().unwrap(), cols[2] == "true")
        })
        .collect()
}

/// Replays serde's 316 releases as a real repository with `git fast-import`: each release is a
/// commit committed ten minutes before its publish time (authored an hour before, or at the
/// previous commit's time if that is later) and an annotated tag dated at the publish time;
/// between two releases, three commits at a quarter, half and three quarters of the gap. Yanked releases become incidents caused by their
/// release commit, resolved by the next release.
#[test]
fn four_keys_of_a_real_release_history_match_an_independent_calculation() {
    let Some(python) = common::find_tool("python3", &[]) else { return };
    let releases = serde_releases();
    assert_eq!(releases.len(), 316);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let mut stream = String::new();
    let mut mark = 0;
    // Committer time of the previous commit: times never go backwards, even between releases
    // published minutes apart.
    let mut prev_time = releases[0].1 - 30 * DAY;
    let blob = |stream: &mut String, author: i64, committer: i64, msg: &str, mark: &mut i32| {
        *mark += 1;
        let content = format!("{msg}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{mark}\nauthor Dev <dev@example.com> {author} +0000\ncommitter Dev <dev@example.com> {committer} +0000\ndata {}\n{msg}\n",
            msg.len() + 1
        ));
        if *mark > 1 {
            stream.push_str(&format!("from :{}\n", *mark - 1));
        }
        stream.push_str(&format!("M 644 inline CHANGES\ndata {}\n{content}\n", content.len()));
        *mark
    };
    let mut release_marks = Vec::new();
    for (version, at, _) in &releases {
        let release = at - 600;
        for q in 1..=3 {
            let t = prev_time + (release - prev_time) * q / 4;
            blob(&mut stream, t, t, &format!("work towards {version} ({q})"), &mut mark);
        }
        let m = blob(&mut stream, (at - HOUR).max(prev_time), release, &format!("release {version}"), &mut mark);
        release_marks.push(m);
        stream.push_str(&format!(
            "tag v{version}\nfrom :{m}\ntagger Dev <dev@example.com> {at} +0000\ndata {}\nv{version}\n\n",
            version.len() + 2
        ));
        prev_time = release;
    }
    let mut child =
        Command::new("git").args(["fast-import", "--quiet"]).current_dir(dir).stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stream.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    git(dir, &["reset", "-q", "--hard", "main"]);

    record(dir, &["deploy", "--from-tags", "v*"]);
    // Again: nothing new is recorded.
    record(dir, &["deploy", "--from-tags", "v*"]);
    for (i, (version, at, yanked)) in releases.iter().enumerate() {
        if *yanked {
            let cause = git(dir, &["rev-parse", &format!("v{version}^{{commit}}")]);
            let id = record(dir, &["incident", "open", "--at", &format!("@{}", at + HOUR), "--cause", &cause]);
            record(dir, &["incident", "resolve", "--id", &id, "--at", &format!("@{}", releases[i + 1].1)]);
        }
    }
    let until = releases.last().unwrap().1 + DAY;
    let report = metrics_json(dir, &["--until", &format!("@{until}")]);
    assert_eq!(report["warnings"], Value::Array(vec![]), "a clean history gives no warnings");

    let events = dir.join("events.jsonl");
    sluice().args(["record", "export"]).arg(&events).arg("--repo").arg(dir).assert().success();
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/four_keys.py"))
        .arg(&events)
        .arg(dir)
        .arg(until.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let python: Value = serde_json::from_slice(&out.stdout).unwrap();

    let f = &report["deployment_frequency"];
    assert_eq!(f["deployments"], python["deployments"]);
    assert_eq!(f["deployments"], 316);
    assert_eq!(f["per_week"], python["per_week"]);
    let lead = &report["lead_time"];
    assert_eq!(lead["samples"], python["lead_samples"]);
    assert_eq!(lead["samples"], 316 * 4);
    assert_eq!(lead["p50_seconds"], python["lead_p50"]);
    assert_eq!(lead["p90_seconds"], python["lead_p90"]);
    assert_eq!(lead["mean_seconds"], python["lead_mean"]);
    let cfr = &report["change_failure_rate"];
    assert_eq!(cfr["failed"], python["failed"]);
    assert_eq!(cfr["failed"], 3, "three yanked releases");
    assert_eq!(cfr["rate"], python["rate"]);
    let rec = &report["recovery_time"];
    assert_eq!(rec["samples"], python["recovery_samples"]);
    assert_eq!(rec["p50_seconds"], python["recovery_p50"]);
    assert_eq!(rec["p90_seconds"], python["recovery_p90"]);
    let histogram: i64 = lead["histogram"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum();
    assert_eq!(histogram, 316 * 4);

    // The text and SVG views carry the same numbers.
    let text =
        sluice().arg("metrics").arg("--repo").arg(dir).args(["--until", &format!("@{until}")]).assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("lead time for changes") && text.contains("(3/316)"), "{text}");
}

/// A squash merge ships one new commit: its lead time runs from the squash commit's author
/// time. A rebase keeps the author times of the rebased commits (their committer time becomes
/// the rebase's): lead time runs from the author times. A merge commit is not a change itself.
#[test]
fn squash_rebase_and_merge_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    let base = commit(dir, "README", t0, t0);
    deploy(dir, &base, t0 + HOUR, "success");

    // Squash merge: two branch commits, squashed into one on main at t0 + 3 days.
    git(dir, &["checkout", "-q", "-b", "squashed"]);
    commit(dir, "a.txt", t0 + DAY, t0 + DAY);
    commit(dir, "a.txt", t0 + 2 * DAY, t0 + 2 * DAY);
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["merge", "-q", "--squash", "squashed"]);
    git_at(dir, &["commit", "-q", "-m", "squash"], Some(t0 + 3 * DAY), Some(t0 + 3 * DAY));
    let squash = git(dir, &["rev-parse", "HEAD"]);
    deploy(dir, &squash, t0 + 4 * DAY, "success");

    // Rebase: authored at +5 and +6 days, rebased (committed) at +8 days, deployed at +9.
    git(dir, &["checkout", "-q", "-b", "rebased", &base]);
    commit(dir, "b.txt", t0 + 5 * DAY, t0 + 5 * DAY);
    commit(dir, "b.txt", t0 + 6 * DAY, t0 + 6 * DAY);
    git_at(dir, &["rebase", "-q", "main"], None, Some(t0 + 8 * DAY));
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["merge", "-q", "--ff-only", "rebased"]);
    let rebased = git(dir, &["rev-parse", "HEAD"]);
    deploy(dir, &rebased, t0 + 9 * DAY, "success");

    // A merge commit: the branch commit counts, the merge does not.
    git(dir, &["checkout", "-q", "-b", "merged"]);
    commit(dir, "c.txt", t0 + 10 * DAY, t0 + 10 * DAY);
    git(dir, &["checkout", "-q", "main"]);
    commit(dir, "d.txt", t0 + 10 * DAY + HOUR, t0 + 10 * DAY + HOUR);
    git_at(dir, &["merge", "-q", "--no-ff", "-m", "merge", "merged"], Some(t0 + 11 * DAY), Some(t0 + 11 * DAY));
    let merge = git(dir, &["rev-parse", "HEAD"]);
    deploy(dir, &merge, t0 + 12 * DAY, "success");

    let report = metrics_json(dir, &["--until", &format!("@{}", t0 + 13 * DAY)]);
    assert_eq!(warning_kinds(&report), Vec::<String>::new());
    assert_eq!(report["merge_commits_skipped"], 1);
    // base 1h; squash 1 day; rebased 4 and 3 days; c 2 days; d 2 days - 1h.
    let mut expected = [HOUR, DAY, 4 * DAY, 3 * DAY, 2 * DAY, 2 * DAY - HOUR];
    expected.sort_unstable();
    assert_eq!(lead_samples(&report), 6);
    assert_eq!(report["lead_time"]["p50_seconds"], expected[2]);
    assert_eq!(report["lead_time"]["p90_seconds"], expected[5]);
    let mean = expected.iter().sum::<i64>() / 6;
    assert_eq!(report["lead_time"]["mean_seconds"], mean);
}

/// Commits whose dates cannot be right are listed as warnings and left out of lead time; the
/// remaining numbers are those of the clean commits alone.
#[test]
fn clock_skew_and_future_dates_warn_and_are_excluded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    commit(dir, "a", t0, t0);
    // Committed an hour before it was authored.
    commit(dir, "a", t0 + 2 * HOUR, t0 + HOUR);
    // A parent newer than its child: the child is committed before its parent.
    commit(dir, "a", t0 + 3 * HOUR, t0 + 5 * HOUR);
    commit(dir, "a", t0 + 4 * HOUR, t0 + 4 * HOUR);
    // Dated in 2099, and deployed (its children would all have a newer parent).
    let future = commit(dir, "a", 4_070_908_800, 4_070_908_800);
    deploy(dir, &future, t0 + 10 * HOUR, "success");
    let report = metrics_json(dir, &["--until", &format!("@{}", t0 + DAY)]);
    assert_eq!(warning_kinds(&report), ["clock_skew", "parent_newer", "future_date"]);
    assert_eq!(report["warning_counts"]["clock_skew"], 1);
    // Clean: the first commit (10h) and the one with a newer child (7h).
    assert_eq!(lead_samples(&report), 2);
    assert_eq!(report["lead_time"]["p50_seconds"], 7 * HOUR);
    assert_eq!(report["lead_time"]["p90_seconds"], 10 * HOUR);
    let text =
        sluice().arg("metrics").arg("--repo").arg(dir).args(["--until", &format!("@{}", t0 + DAY)]).assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("warnings (3; excluded from the numbers above)") && text.contains("in the future"), "{text}");
}

/// Clocks that disagree by seconds (a rebase on another machine, a CI runner) are not skew:
/// within the tolerance (10 minutes by default) the commit counts; `--clock-skew 0s` or
/// `[metrics] clock_skew` make it strict.
#[test]
fn small_clock_differences_are_tolerated_and_the_tolerance_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    commit(dir, "a", t0, t0);
    // Committed one second before it was authored.
    commit(dir, "a", t0 + HOUR, t0 + HOUR - 1);
    // Committed five seconds before its parent.
    commit(dir, "a", t0 + HOUR - 10, t0 + HOUR - 6);
    let head = git(dir, &["rev-parse", "HEAD"]);
    deploy(dir, &head, t0 + 2 * HOUR, "success");
    let until = format!("@{}", t0 + DAY);
    let report = metrics_json(dir, &["--until", &until]);
    assert_eq!(warning_kinds(&report), Vec::<String>::new());
    assert_eq!(lead_samples(&report), 3);
    // A tolerance of centuries (a hostile sluice.toml could say so) is a year, not an overflow.
    let lax = metrics_json(dir, &["--until", &until, "--clock-skew", "500years"]);
    assert_eq!(warning_kinds(&lax), Vec::<String>::new());
    let strict = metrics_json(dir, &["--until", &until, "--clock-skew", "0s"]);
    assert_eq!(warning_kinds(&strict), ["clock_skew", "parent_newer"]);
    assert_eq!(lead_samples(&strict), 1);
    std::fs::write(dir.join("sluice.toml"), "[metrics]\nclock_skew = \"2s\"\n").unwrap();
    let configured = metrics_json(dir, &["--until", &until]);
    assert_eq!(warning_kinds(&configured), ["parent_newer"], "1 s tolerated, 4 s not");
    std::fs::write(dir.join("sluice.toml"), "[metrics]\nclock_skew = \"soon\"\n").unwrap();
    let bad = sluice().arg("metrics").arg("--repo").arg(dir).assert().code(2);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(stderr.contains("[metrics] clock_skew \"soon\""), "{stderr}");
}

/// `--from-tags 'v*'` with `--exclude-tags`: release candidates and betas are not production
/// deployments.
#[test]
fn exclude_tags_leaves_pre_releases_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    for (i, tag) in ["v1.0.0", "v1.1.0rc1", "v1.1.0-beta.2", "v1.1.0", "v2.0.0rc1"].iter().enumerate() {
        commit(dir, "a", t0 + i as i64 * DAY, t0 + i as i64 * DAY);
        git(dir, &["tag", tag]);
    }
    let out = sluice()
        .args(["record", "deploy", "--from-tags", "v*", "--exclude-tags", "*rc*", "--exclude-tags", "*beta*", "--repo"])
        .arg(dir)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("3 tag(s) left out by --exclude-tags"), "{stderr}");
    assert!(stderr.contains("recorded 2 deployment(s)"), "{stderr}");
    let report = metrics_json(dir, &["--until", &format!("@{}", t0 + 10 * DAY)]);
    assert_eq!(report["deployment_frequency"]["deployments"], 2, "{report}");
    // A bad glob names the flag.
    let bad = sluice()
        .args(["record", "deploy", "--from-tags", "v*", "--exclude-tags", "[rc", "--repo"])
        .arg(dir)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&bad.get_output().stderr).contains("--exclude-tags \"[rc\""));
    // Without --from-tags it is a usage error.
    sluice()
        .args(["record", "deploy", "--commit", "HEAD", "--exclude-tags", "*rc*", "--repo"])
        .arg(dir)
        .assert()
        .code(64);
}

/// A deployment of a commit the repository does not have, and incidents without a cause or
/// with an unknown one, are warnings; the numbers are those without them.
#[test]
fn unknown_commits_and_incidents_without_cause_warn_and_are_excluded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    let a = commit(dir, "a", t0, t0);
    let d1 = deploy(dir, &a, t0 + HOUR, "success");
    let b = commit(dir, "a", t0 + 2 * HOUR, t0 + 2 * HOUR);
    let out = sluice()
        .args(["record", "deploy", "--commit", "0123456789abcdef0123456789abcdef01234567", "--at"])
        .arg(format!("@{}", t0 + 3 * HOUR))
        .arg("--repo")
        .arg(dir)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("not a commit of this repository"), "{stderr}");
    let d3 = deploy(dir, &b, t0 + 4 * HOUR, "success");
    // Caused by d3, resolved after 30 minutes.
    let inc = record(dir, &["incident", "open", "--deploy", &d3, "--at", &format!("@{}", t0 + 5 * HOUR)]);
    record(dir, &["incident", "resolve", "--id", &inc, "--at", &format!("@{}", t0 + 5 * HOUR + 1800)]);
    // No cause: a warning at record time and in the metrics.
    let out = sluice()
        .args(["record", "incident", "open", "--at"])
        .arg(format!("@{}", t0 + 6 * HOUR))
        .arg("--repo")
        .arg(dir)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("no cause"));
    // A cause that is not in the repository.
    record(
        dir,
        &[
            "incident",
            "open",
            "--cause",
            "fedcba9876543210fedcba9876543210fedcba98",
            "--at",
            &format!("@{}", t0 + 7 * HOUR),
        ],
    );
    let report = metrics_json(dir, &["--until", &format!("@{}", t0 + DAY)]);
    let mut kinds = warning_kinds(&report);
    kinds.sort();
    assert_eq!(kinds, ["incident_unknown_cause", "incident_without_cause", "unknown_commit"]);
    assert_eq!(report["deployment_frequency"]["deployments"], 2, "the unknown commit's deployment is excluded");
    assert_eq!(report["change_failure_rate"]["failed"], 1);
    assert_eq!(report["change_failure_rate"]["rate"], 0.5);
    assert_eq!(report["change_failure_rate"]["failed_deployments"], serde_json::json!([d3.parse::<i64>().unwrap()]));
    assert_eq!(report["recovery_time"]["p50_seconds"], 1800);
    assert_eq!(report["lead_time"]["samples"], 2);
    assert_eq!(d1, "1");
}

/// A failed deployment is recovered by the next successful one; an unresolved incident counts
/// as a failure with unknown recovery.
#[test]
fn failed_deployments_and_unresolved_incidents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    let a = commit(dir, "a", t0, t0);
    deploy(dir, &a, t0 + HOUR, "failure");
    deploy(dir, &a, t0 + 3 * HOUR, "success");
    let b = commit(dir, "a", t0 + 4 * HOUR, t0 + 4 * HOUR);
    let d = deploy(dir, &b, t0 + 5 * HOUR, "success");
    record(dir, &["incident", "open", "--deploy", &d, "--at", &format!("@{}", t0 + 6 * HOUR)]);
    let report = metrics_json(dir, &["--until", &format!("@{}", t0 + DAY)]);
    assert_eq!(warning_kinds(&report), ["incident_unresolved"]);
    assert_eq!(report["change_failure_rate"]["failed"], 2);
    assert_eq!(report["recovery_time"]["samples"], 1);
    assert_eq!(report["recovery_time"]["p50_seconds"], 2 * HOUR);
    // `a` shipped with the successful deployment at +3h, not the failed one.
    assert_eq!(report["lead_time"]["samples"], 2);
    assert_eq!(report["lead_time"]["p90_seconds"], 3 * HOUR);
}

/// No incident on record and no failed deployment: the change failure rate is unknown, never
/// 0 % (elite); one incident anywhere makes it a rate.
#[test]
fn no_incidents_recorded_is_an_unknown_failure_rate_not_elite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    let a = commit(dir, "a", t0, t0);
    deploy(dir, &a, t0 + HOUR, "success");
    let b = commit(dir, "a", t0 + 2 * HOUR, t0 + 2 * HOUR);
    let d = deploy(dir, &b, t0 + 3 * HOUR, "success");
    let until = format!("@{}", t0 + DAY);
    let report = metrics_json(dir, &["--until", &until]);
    let cfr = &report["change_failure_rate"];
    assert_eq!((cfr["deployments"].as_u64(), cfr["failed"].as_u64()), (Some(2), Some(0)));
    assert!(cfr["rate"].is_null() && cfr["tier"].is_null(), "{cfr}");
    assert!(cfr["unknown_because"].as_str().unwrap().contains("no incident recorded"), "{cfr}");
    let text = sluice().arg("metrics").arg("--repo").arg(dir).args(["--until", &until]).assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    let line = text.lines().find(|l| l.starts_with("change failure rate")).unwrap();
    assert!(line.contains("unknown: no incidents recorded") && !line.contains("elite"), "{line}");
    let svg =
        sluice().arg("metrics").arg("--repo").arg(dir).args(["--until", &until, "--format", "svg"]).assert().success();
    let svg = String::from_utf8(svg.get_output().stdout.clone()).unwrap();
    assert!(svg.contains(">unknown<") && !svg.contains("0.0%"), "the chart says unknown");

    // An incident (resolved) on the second deployment: now a rate, 1 of 2.
    record(dir, &["incident", "open", "--deploy", &d, "--at", &format!("@{}", t0 + 4 * HOUR)]);
    let report = metrics_json(dir, &["--until", &until]);
    let cfr = &report["change_failure_rate"];
    assert_eq!(cfr["rate"], 0.5);
    assert!(cfr.get("unknown_because").is_none(), "{cfr}");
}

/// --path: only commits touching the directory, only deployments of that service (or
/// whole-repository deployments that ship a change to it).
#[test]
fn monorepo_service_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    commit(dir, "services/api/main.go", t0, t0);
    commit(dir, "services/web/app.js", t0 + HOUR, t0 + HOUR);
    let c = commit(dir, "services/api/main.go", t0 + 2 * HOUR, t0 + 2 * HOUR);
    record(dir, &["deploy", "--commit", &c, "--at", &format!("@{}", t0 + 3 * HOUR), "--service", "services/api"]);
    let w = commit(dir, "services/web/app.js", t0 + 4 * HOUR, t0 + 4 * HOUR);
    record(dir, &["deploy", "--commit", &w, "--at", &format!("@{}", t0 + 5 * HOUR), "--service", "services/web"]);
    let until = format!("@{}", t0 + DAY);
    let api = metrics_json(dir, &["--until", &until, "--path", "services/api"]);
    assert_eq!(api["path"], "services/api");
    assert_eq!(api["deployment_frequency"]["deployments"], 1);
    assert_eq!(api["lead_time"]["samples"], 2);
    assert_eq!(api["lead_time"]["p90_seconds"], 3 * HOUR);
    let web = metrics_json(dir, &["--until", &until, "--path", "services/web/"]);
    assert_eq!(web["deployment_frequency"]["deployments"], 1);
    // The web deployment's history also holds the web commit made before the api deployment.
    assert_eq!(web["lead_time"]["samples"], 2);
    assert_eq!(web["lead_time"]["p90_seconds"], 4 * HOUR);
    let all = metrics_json(dir, &["--until", &until]);
    assert_eq!(all["deployment_frequency"]["deployments"], 2);
    assert_eq!(all["lead_time"]["samples"], 4);
}

#[test]
fn export_import_round_trip_and_bad_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let a = commit(dir, "a", 1_700_000_000, 1_700_000_000);
    deploy(dir, &a, 1_700_003_600, "success");
    record(dir, &["incident", "open", "--id", "INC-7", "--deploy", "1", "--at", "2023-11-15T00:00:00Z"]);
    let first = sluice().args(["record", "export"]).arg("--repo").arg(dir).assert().success();
    let first = first.get_output().stdout.clone();
    let text = String::from_utf8(first.clone()).unwrap();
    assert!(text.starts_with(r#"{"type":"header","format":"sluice-events","version":1}"#), "{text}");
    let copy = tmp.path().join("copy.db");
    let file = tmp.path().join("events.jsonl");
    std::fs::write(&file, &first).unwrap();
    sluice().args(["record", "import"]).arg(&file).arg("--db").arg(&copy).arg("--repo").arg(dir).assert().success();
    // Importing again adds nothing.
    let again =
        sluice().args(["record", "import"]).arg(&file).arg("--db").arg(&copy).arg("--repo").arg(dir).assert().success();
    assert!(String::from_utf8_lossy(&again.get_output().stderr).contains("imported 0 event(s)"));
    let second = sluice().args(["record", "export", "--db"]).arg(&copy).arg("--repo").arg(dir).assert().success();
    assert_eq!(second.get_output().stdout, first);

    std::fs::write(&file, format!("{text}{{\"type\":\"deployment\",\"id\":9}}\n")).unwrap();
    let bad = sluice().args(["record", "import"]).arg(&file).arg("--repo").arg(dir).assert().code(2);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert!(stderr.contains("events.jsonl:4:") && stderr.contains("missing field"), "{stderr}");
}

#[test]
fn svg_is_well_formed_and_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let t0 = 1_700_000_000;
    for i in 0..20 {
        let c = commit(dir, "a", t0 + i * DAY, t0 + i * DAY);
        deploy(dir, &c, t0 + i * DAY + (i + 1) * HOUR, if i % 7 == 3 { "failure" } else { "success" });
    }
    let run = || {
        let out = sluice()
            .arg("metrics")
            .arg("--repo")
            .arg(dir)
            .args(["--format", "svg", "--until", &format!("@{}", t0 + 30 * DAY)])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let svg = run();
    assert_eq!(svg, run());
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    // Background, four tiles, five weeks with deployments, at least one histogram bar.
    assert!(rects >= 11, "tiles, weekly bars and histogram bars: {rects}");
    assert!(svg.contains("<title>"), "bars carry their values as tooltips");
    assert!(svg.contains("Lead time for changes: 20 commits"), "{svg}");
}

#[test]
fn metrics_without_events_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    let out = sluice().arg("metrics").arg("--repo").arg(tmp.path()).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("sluice record deploy"));
    assert!(!tmp.path().join(".sluice").exists(), "reading metrics creates nothing");
}

fn scan_run(id: i64, at: &str, findings: &[(&str, &str, &str, &str, Option<&str>)]) -> String {
    let findings: Vec<Value> = findings
        .iter()
        .map(|(stage, rule, fp, severity, triage)| {
            let mut f = serde_json::json!({"stage": stage, "rule": rule, "fingerprint": fp, "severity": severity,
                "suppressed": triage.is_some_and(|t| t != "confirmed")});
            if let Some(t) = triage {
                f["triage"] = Value::from(*t);
            }
            f
        })
        .collect();
    serde_json::json!({"type": "scan_run", "id": id, "at": at, "findings": findings}).to_string() + "\n"
}

/// Introduced and fixed per week, remediation against SLA (with a configured target), and the
/// noisiest rule and stage first.
#[test]
fn security_velocity_from_recorded_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    std::fs::write(dir.join("sluice.toml"), "[metrics.sla]\nhigh = 14\n").unwrap();
    let fp = Some("false_positive");
    let mut events = String::new();
    events += &scan_run(
        1,
        "2024-01-01T10:00:00Z",
        &[
            ("secrets", "aws-key", "A", "critical", None),
            ("sast", "py-eval", "B", "high", None),
            ("sast", "py-md5", "C", "medium", fp),
        ],
    );
    events += &scan_run(
        2,
        "2024-01-05T10:00:00Z",
        &[
            ("sast", "py-eval", "B", "high", None),
            ("sast", "py-md5", "C", "medium", fp),
            ("sast", "py-md5", "D", "medium", fp),
        ],
    );
    events += &scan_run(
        3,
        "2024-02-20T10:00:00Z",
        &[
            ("sast", "py-md5", "C", "medium", fp),
            ("sast", "py-md5", "D", "medium", fp),
            ("sast", "py-exec", "E", "low", Some("confirmed")),
        ],
    );
    let file = dir.join("runs.jsonl");
    std::fs::write(&file, events).unwrap();
    sluice().args(["record", "import"]).arg(&file).arg("--repo").arg(dir).assert().success();
    let out = sluice()
        .args(["metrics", "security", "--format", "json", "--until", "2024-03-01", "--repo"])
        .arg(dir)
        .assert()
        .success();
    let r = parse(&out.get_output().stdout);
    let active: Vec<(String, i64, i64)> = r["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["introduced"].as_i64().unwrap() + w["fixed"].as_i64().unwrap() > 0)
        .map(|w| {
            (w["week"].as_str().unwrap().to_owned(), w["introduced"].as_i64().unwrap(), w["fixed"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(active, [("2024-01-01".to_owned(), 2, 1), ("2024-02-19".to_owned(), 1, 1)]);
    assert_eq!(r["open"], 1);
    let rem = r["remediation"].as_array().unwrap();
    let by = |s: &str| rem.iter().find(|m| m["severity"] == s).unwrap().clone();
    assert_eq!(by("critical")["mean_seconds"], 4 * DAY);
    assert_eq!(by("critical")["fixed_within_sla"], 1);
    assert_eq!(by("high")["sla_days"], 14, "sluice.toml's target");
    assert_eq!(by("high")["fixed_late"], 1);
    assert_eq!(by("high")["mean_seconds"], 50 * DAY);
    assert_eq!(by("low")["open"], 1);
    assert_eq!(by("low")["open_overdue"], 0);
    assert!(rem.iter().all(|m| m["severity"] != "medium"), "suppressed findings are not remediation");
    let rules = r["false_positives_by_rule"].as_array().unwrap();
    assert_eq!(rules[0]["key"], "sast/py-md5");
    assert_eq!(rules[0]["rate"], 1.0);
    let stages = r["false_positives_by_stage"].as_array().unwrap();
    assert_eq!(
        (stages[0]["key"].as_str(), stages[0]["findings"].as_i64(), stages[0]["rate"].as_f64()),
        (Some("sast"), Some(4), Some(0.5))
    );
    assert_eq!(stages[1]["rate"], 0.0);
    let text = sluice().args(["metrics", "security", "--until", "2024-03-01", "--repo"]).arg(dir).assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("sast/py-md5") && text.contains("100.0%"), "{text}");
    let svg = sluice()
        .args(["metrics", "security", "--format", "svg", "--until", "2024-03-01", "--repo"])
        .arg(dir)
        .assert()
        .success();
    roxmltree::Document::parse(std::str::from_utf8(&svg.get_output().stdout).unwrap()).expect("well-formed SVG");
}

/// `sluice run` records its summary once the events database exists (and not before), never
/// a partial run, and never the secret.
#[test]
fn sluice_run_records_its_summary_when_metrics_are_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir);
    let token = common::github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(dir.join("config.yml"), format!("token: {token}\n")).unwrap();
    let a = commit(dir, "README", 1_700_000_000, 1_700_000_000);
    sluice().arg("run").arg(dir).assert().success();
    assert!(!dir.join(".sluice/events.db").exists(), "no database unless metrics are used");

    deploy(dir, &a, 1_700_003_600, "success");
    let out = sluice().arg("run").arg(dir).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("metrics: run recorded"));
    let out = sluice().args(["run", "--stages", "secrets"]).arg(dir).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("partial run"));
    let export = sluice().args(["record", "export", "--repo"]).arg(dir).assert().success();
    let text = String::from_utf8(export.get_output().stdout.clone()).unwrap();
    let runs: Vec<Value> = text.lines().map(|l| parse(l.as_bytes())).filter(|v| v["type"] == "scan_run").collect();
    assert_eq!(runs.len(), 1, "{text}");
    assert_eq!(runs[0]["commit"], a.as_str());
    let findings = runs[0]["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["rule"] == "github-pat-classic" && f["severity"] == "critical"), "{text}");
    let db = std::fs::read(dir.join(".sluice/events.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(&token[4..20]), "the secret reached the database");

    // Turned off in sluice.toml: nothing more is recorded.
    std::fs::write(dir.join("sluice.toml"), "[metrics]\nrecord_runs = false\n").unwrap();
    sluice().arg("run").arg(dir).assert().success();
    let export = sluice().args(["record", "export", "--repo"]).arg(dir).assert().success();
    assert_eq!(String::from_utf8_lossy(&export.get_output().stdout).matches("scan_run").count(), 1);
}
