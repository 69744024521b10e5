//! What the server stores and answers, on both backends: pushes and their idempotence (also
//! under concurrency), the life of a finding, which runs may close findings, the finding list's
//! filters and pages, the audit log, redaction of what a client did not redact, and hostile
//! pushes.

mod common;

use std::collections::BTreeSet;

use common::{aws_key_pair, github_token, gunzip, gzip, push_body, r, sarif, stage, Backend, Server, R};
use serde_json::{json, Value};

backends! {
    push_is_stored_and_counted => sqlite_push_is_stored_and_counted, postgres_push_is_stored_and_counted;
    retried_push_is_one_run => sqlite_retried_push_is_one_run, postgres_retried_push_is_one_run;
    concurrent_identical_pushes_are_one_run => sqlite_concurrent_identical_pushes_are_one_run, postgres_concurrent_identical_pushes_are_one_run;
    finding_lifecycle => sqlite_finding_lifecycle, postgres_finding_lifecycle;
    runs_that_close_nothing => sqlite_runs_that_close_nothing, postgres_runs_that_close_nothing;
    finding_filters_and_pages => sqlite_finding_filters_and_pages, postgres_finding_filters_and_pages;
    audit_log_is_complete_and_append_only => sqlite_audit_log_is_complete_and_append_only, postgres_audit_log_is_complete_and_append_only;
    credentials_are_redacted_on_arrival => sqlite_credentials_are_redacted_on_arrival, postgres_credentials_are_redacted_on_arrival;
    hostile_pushes_are_refused_and_store_nothing => sqlite_hostile_pushes_are_refused_and_store_nothing, postgres_hostile_pushes_are_refused_and_store_nothing;
}

/// After a load the planner's statistics are refreshed (autovacuum may be off, as on this
/// project's machines): once while they are stale, not again until enough rows change.
#[test]
fn postgres_statistics_are_refreshed_after_a_load() {
    let limits = sluice_server::ingest::Limits { max_results: 2000, ..common::test_limits() };
    let server = Server::start_with(Backend::Postgres, limits, 16 * common::MAX_BODY);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let results: Vec<R> = (0..1500).map(|i| r(&format!("fp{i}"), "rule", 5.0)).collect();
    server.push(&push, &push_body("alpha", "load-1", &[stage("sast", results)])).expect(201);
    let never = |table: &str| {
        server.sql_i64(&format!(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = '{table}' AND last_analyze IS NULL"
        ))
    };
    // The statistics collector reports a transaction's changes when it ends; wait for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let analysed = loop {
        let tables = server.block_on(server.db.refresh_statistics()).expect("refresh");
        if !tables.is_empty() || std::time::Instant::now() > deadline {
            break tables;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(analysed.contains(&"findings".to_owned()) && analysed.contains(&"sightings".to_owned()), "{analysed:?}");
    assert_eq!(never("findings"), 0);
    // Vacuumed too: the visibility map lets index-only scans skip the table.
    let vacuumed = server
        .sql_i64("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'findings' AND last_vacuum IS NOT NULL");
    assert_eq!(vacuumed, 1);
    assert!(
        server.block_on(server.db.refresh_statistics()).expect("refresh").is_empty(),
        "fresh statistics refreshed again"
    );
    // SQLite has nothing to refresh.
    let lite = Server::start(Backend::Sqlite);
    assert!(lite.block_on(lite.db.refresh_statistics()).expect("refresh").is_empty());
}

fn fingerprints(items: &[Value]) -> Vec<String> {
    items.iter().map(|f| f["fingerprint"].as_str().expect("fingerprint").to_owned()).collect()
}

fn finding(server: &Server, project: &str, fingerprint: &str) -> Value {
    server.get(&format!("/api/v1/projects/{project}/findings/{fingerprint}"), Some(&server.admin)).expect(200).json()
}

/// The counts the server keeps per project at each push (open findings by severity, the last
/// runs, the week's new and closed findings) equal what its findings and runs say when counted.
fn assert_kept_counts(server: &Server, project: &str, what: &str) {
    let id = server.sql_i64(&format!("SELECT id FROM projects WHERE name = '{project}'"));
    let shown = server.get(&format!("/api/v1/projects/{project}"), Some(&server.admin)).expect(200).json();
    let open = |rank: &str| {
        server.sql_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE project_id = {id} AND state = 'open' AND suppressed IS NULL AND {rank}"
        ))
    };
    let counted = json!({
        "critical": open("severity_rank = 4"), "high": open("severity_rank = 3"), "medium": open("severity_rank = 2"),
        "low": open("severity_rank = 1"), "info": open("severity_rank < 1"),
    });
    assert_eq!(shown["open"], counted, "{what}: {shown}");
    let last = server.sql_i64(&format!("SELECT COALESCE(MAX(id), 0) FROM runs WHERE project_id = {id}"));
    assert_eq!(shown["last_run"]["id"].as_i64().unwrap_or(0), last, "{what}: {shown}");
    let kept_default =
        server.sql_i64(&format!("SELECT COALESCE(last_default_run_id, 0) FROM projects WHERE id = {id}"));
    let default =
        server.sql_i64(&format!("SELECT COALESCE(MAX(id), 0) FROM runs WHERE project_id = {id} AND on_default = 1"));
    assert_eq!(kept_default, default, "{what}: last default-branch run");
    let kept_verdict =
        server.sql_texts(&format!("SELECT COALESCE(default_verdict, '-') FROM projects WHERE id = {id}"));
    let verdict = server.sql_texts(&format!(
        "SELECT COALESCE((SELECT verdict FROM runs WHERE id = {default}), '-') FROM projects WHERE id = {id}"
    ));
    assert_eq!(kept_verdict, verdict, "{what}: the default branch's verdict");
    let kept_at = server.sql_i64(&format!("SELECT COALESCE(last_run_at, 0) FROM projects WHERE id = {id}"));
    let at = server.sql_i64(&format!("SELECT COALESCE(MAX(created_at), 0) FROM runs WHERE project_id = {id}"));
    assert_eq!(kept_at, at, "{what}: when the last run was");
    // Every finding is new once; what was closed is what the default-branch runs closed.
    let days = |column: &str| {
        server.sql_i64(&format!(
            "SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) FROM project_days WHERE project_id = {id}"
        ))
    };
    assert_eq!(
        days("new_findings"),
        server.sql_i64(&format!("SELECT COUNT(*) FROM findings WHERE project_id = {id}")),
        "{what}"
    );
    let closed = server.sql_i64(&format!(
        "SELECT CAST(COALESCE(SUM(closed_findings), 0) AS BIGINT) FROM runs WHERE project_id = {id} AND on_default = 1"
    ));
    assert_eq!(days("closed_findings"), closed, "{what}");
}

fn push_response(resp: &Value) -> (i64, i64, i64, i64, i64) {
    let n = |k: &str| resp[k].as_i64().unwrap_or_else(|| panic!("{k} in {resp}"));
    (n("results"), n("new"), n("closed"), n("reintroduced"), n("open"))
}

fn push_is_stored_and_counted(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let mut twice = r("fp-high", "rule.high", 7.5);
    twice.score = 2.0;
    let log = [
        stage(
            "secrets",
            vec![
                r("fp-critical", "rule.critical", 9.5),
                r("fp-high", "rule.high", 7.5),
                // The same fingerprint again, less severe: one finding, the most severe report.
                twice,
                r("fp-info", "rule.info", 0.0),
            ],
        ),
        stage("sast", vec![r("fp-medium", "rule.medium", 5.0), r("fp-low", "rule.low", 2.0)]),
    ];
    let body = push_body("alpha", "run-1", &log);
    let resp = server.push(&push, &body).expect(201).json();
    assert_eq!(resp["duplicate"], json!(false));
    assert_eq!(resp["on_default_branch"], json!(true));
    assert_eq!(push_response(&resp), (5, 5, 0, 0, 5), "{resp}");
    let run = resp["run"].as_i64().expect("run id");

    let project = server.get("/api/v1/projects/alpha", Some(&server.admin)).expect(200).json();
    assert_eq!(project["open"], json!({"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 1}), "{project}");
    assert_eq!(project["default_branch"], json!("main"));
    assert_eq!(project["last_run"]["id"], json!(run));
    assert_kept_counts(&server, "alpha", "first push");

    let runs = server.get("/api/v1/projects/alpha/runs", Some(&server.admin)).expect(200).json();
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1), "{runs}");
    let summary = server.get(&format!("/api/v1/runs/{run}"), Some(&server.admin)).expect(200).json();
    assert_eq!(summary["results"], json!(5));
    assert_eq!(summary["new"], json!(5));
    assert_eq!(summary["open_after"], json!(5));
    assert_eq!(summary["branch"], json!("main"));
    assert_eq!(summary["pushed_by"].as_str().map(|s| s.starts_with("project-token:")), Some(true), "{summary}");
    assert_eq!(summary["stages"]["secrets"], json!({"complete": true, "succeeded": true}), "{summary}");

    let high = finding(&server, "alpha", "fp-high");
    assert_eq!(high["finding"]["severity"], json!("high"), "{high}");
    assert_eq!(high["finding"]["stage"], json!("secrets"));
    assert_eq!(high["finding"]["rule_id"], json!("rule.high"));
    assert_eq!(high["finding"]["path"], json!("src/fp-high.rs"));
    assert_eq!(high["finding"]["line"], json!(3));
    assert_eq!(high["finding"]["state"], json!("open"));

    // Stored: the rows, and the log itself (gzip).
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM findings"), 5);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM sightings"), 5);
    assert_eq!(server.run_rows(), 1);
    let doc = server.get(&format!("/api/v1/runs/{run}/sarif"), Some(&server.admin)).expect(200);
    assert_eq!(doc.header("content-encoding"), Some("gzip"));
    let stored: Value = serde_json::from_slice(&gunzip(&doc.body)).expect("the stored log is JSON");
    assert_eq!(stored["version"], json!("2.1.0"));
    assert_eq!(stored["runs"].as_array().map(Vec::len), Some(2));
    // It carried no SBOM.
    server.get(&format!("/api/v1/runs/{run}/sbom"), Some(&server.admin)).expect(404);
}

fn retried_push_is_one_run(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let body = push_body("alpha", "ci-1234", &[stage("secrets", vec![r("a", "x", 7.5), r("b", "x", 5.0)])]);
    let first = server.push(&push, &body).expect(201).json();
    let again = server.push(&push, &body).expect(200).json();
    assert_eq!(again["duplicate"], json!(true));
    assert_eq!(again["run"], first["run"]);
    assert_eq!(push_response(&again), push_response(&first));
    // A retry with a different body is still the run first stored under that id.
    let other = push_body("alpha", "ci-1234", &[stage("secrets", vec![r("c", "x", 9.5)])]);
    let retried = server.push(&push, &other).expect(200).json();
    assert_eq!(retried["run"], first["run"]);
    assert_eq!(server.run_rows(), 1);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM findings"), 2);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'run.push'"), 1);
}

/// Eight identical pushes at once, to a project that exists (project token) and to one that
/// does not yet (organisation token, which creates it): one run each, one 201, seven 200.
fn concurrent_identical_pushes_are_one_run(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let (_, org) = server.org_token();
    let results: Vec<R> = (0..20).map(|i| r(&format!("fp{i:02}"), "rule", 5.0)).collect();
    for (token, project) in [(&push, "alpha"), (&org, "created-by-push")] {
        let body = push_body(project, "race-1", &[stage("secrets", results.clone())]);
        let barrier = std::sync::Barrier::new(8);
        let answers: Vec<(u16, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let resp = server.push(token, &body);
                        (resp.status, resp.text())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a pushing thread")).collect()
        });
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let duplicates = answers.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!((created, duplicates), (1, 7), "{project}: {answers:#?}");
        let runs: BTreeSet<i64> = answers
            .iter()
            .map(|(_, body)| serde_json::from_str::<Value>(body).expect("JSON")["run"].as_i64().expect("run"))
            .collect();
        assert_eq!(runs.len(), 1, "{project}: every answer names the same run: {answers:#?}");
        for (status, body) in &answers {
            let v: Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(v["duplicate"], json!(*status == 200), "{body}");
            assert_eq!(v["results"], json!(20), "{body}");
        }
    }
    assert_eq!(server.run_rows(), 2);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM projects"), 2);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM findings"), 40);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM sightings"), 40);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'run.push'"), 2);
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'project.create'"), 2);
    let verify = server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json();
    assert_eq!(verify["intact"], json!(true), "{verify}");
}

fn finding_lifecycle(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let (a, b, c) = (r("fp-a", "secret", 7.5), r("fp-b", "secret", 7.5), r("fp-c", "sast", 5.0));
    let state = |fp: &str| finding(&server, "alpha", fp)["finding"]["state"].as_str().unwrap_or_default().to_owned();

    // 1: all new.
    let one = server
        .push(
            &push,
            &push_body("alpha", "r1", &[stage("secrets", vec![a.clone(), b.clone()]), stage("sast", vec![c.clone()])]),
        )
        .expect(201)
        .json();
    assert_kept_counts(&server, "alpha", "push one");
    assert_eq!(push_response(&one), (3, 3, 0, 0, 3), "{one}");
    // 2: the same again: still open, nothing new.
    let two = server
        .push(
            &push,
            &push_body("alpha", "r2", &[stage("secrets", vec![a.clone(), b.clone()]), stage("sast", vec![c.clone()])]),
        )
        .expect(201)
        .json();
    assert_kept_counts(&server, "alpha", "push two");
    assert_eq!(push_response(&two), (3, 0, 0, 0, 3), "{two}");
    assert_eq!(state("fp-b"), "open");
    // 3: the secrets stage no longer reports B: not detected.
    let three = server
        .push(&push, &push_body("alpha", "r3", &[stage("secrets", vec![a.clone()]), stage("sast", vec![c.clone()])]))
        .expect(201)
        .json();
    assert_kept_counts(&server, "alpha", "push three");
    assert_eq!(push_response(&three), (2, 0, 1, 0, 2), "{three}");
    let b_closed = finding(&server, "alpha", "fp-b");
    assert_eq!(b_closed["finding"]["state"], json!("not_detected"), "{b_closed}");
    assert!(b_closed["finding"]["closed_at"].is_string(), "{b_closed}");
    let gone = server.all_pages("/api/v1/findings?project=alpha&state=not_detected", &server.admin);
    assert_eq!(fingerprints(&gone), ["fp-b"]);
    // 4: B is back (reintroduced); sast did not run, so C stays open.
    let four = server
        .push(&push, &push_body("alpha", "r4", &[stage("secrets", vec![a.clone(), b.clone()])]))
        .expect(201)
        .json();
    assert_kept_counts(&server, "alpha", "push four");
    assert_eq!(push_response(&four), (2, 0, 0, 1, 3), "{four}");
    let b_back = finding(&server, "alpha", "fp-b");
    assert_eq!(b_back["finding"]["state"], json!("open"), "{b_back}");
    assert_eq!(b_back["finding"]["reintroduced"], json!(1), "{b_back}");
    assert_eq!(b_back["finding"]["closed_at"], Value::Null, "{b_back}");
    assert_eq!(state("fp-c"), "open");
    // 5: an empty, complete sast run: C is gone.
    let five = server
        .push(&push, &push_body("alpha", "r5", &[stage("secrets", vec![a.clone(), b.clone()]), stage("sast", vec![])]))
        .expect(201)
        .json();
    assert_kept_counts(&server, "alpha", "push five");
    assert_eq!(push_response(&five), (2, 0, 1, 0, 2), "{five}");
    assert_eq!(state("fp-c"), "not_detected");
    // B was seen in runs 1, 2, 4 and 5, newest first.
    let runs: Vec<i64> = [&one, &two, &four, &five].iter().map(|v| v["run"].as_i64().expect("run")).collect();
    assert_eq!(seen_in(&server, "fp-b"), [runs[3], runs[2], runs[1], runs[0]]);
    // 6: A arrives suppressed (a decision the repository made): no longer counted as open.
    let mut six = push_body("alpha", "r6", &[stage("secrets", vec![a.clone(), b.clone()]), stage("sast", vec![])]);
    six["sarif"]["runs"][0]["results"][0]["suppressions"] =
        json!([{"kind": "external", "status": "accepted", "justification": "test key"}]);
    server.push(&push, &six).expect(201);
    let kept = server.get("/api/v1/projects/alpha", Some(&server.admin)).expect(200).json();
    assert_eq!(kept["open"]["high"], json!(1), "{kept}");
    assert_kept_counts(&server, "alpha", "push six");
}

fn seen_in(server: &Server, fp: &str) -> Vec<i64> {
    finding(server, "alpha", fp)["seen_in"]
        .as_array()
        .expect("seen_in")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// A run over changed files, a partial push, a failed stage, a merge-request run and a branch
/// run close nothing; a complete run on the default branch then does.
fn runs_that_close_nothing(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let (a, b, d) = (r("fp-a", "secret", 7.5), r("fp-b", "secret", 7.5), r("fp-d", "secret", 9.5));
    server.push(&push, &push_body("alpha", "base", &[stage("secrets", vec![a.clone(), b.clone()])])).expect(201);

    let mut cases: Vec<(&str, Value)> = Vec::new();
    cases.push((
        "changed files only",
        push_body("alpha", "changed", &[stage("secrets", vec![a.clone()]).changed_only()]),
    ));
    let mut partial = push_body("alpha", "partial", &[stage("secrets", vec![a.clone()])]);
    partial["partial"] = json!(true);
    cases.push(("partial push", partial));
    cases.push(("failed stage", push_body("alpha", "failed", &[stage("secrets", vec![a.clone()]).failed()])));
    let mut mr = push_body("alpha", "mr", &[stage("secrets", vec![a.clone(), d.clone()])]);
    mr["branch"] = json!("feature");
    mr["merge_request"] = json!("42");
    cases.push(("merge request", mr));
    let mut mr_main = push_body("alpha", "mr-main", &[stage("secrets", vec![a.clone(), d.clone()])]);
    // A merge request whose source branch is called like the default branch is still one.
    mr_main["merge_request"] = json!("43");
    cases.push(("merge request from main", mr_main));
    let mut branch = push_body("alpha", "branch", &[stage("secrets", vec![a.clone(), d.clone()])]);
    branch["branch"] = json!("feature");
    cases.push(("branch run", branch));
    for (i, (what, body)) in cases.iter().enumerate() {
        // The first three are default-branch runs (they record where A was seen); the others
        // are not, and leave no trace on any finding.
        let on_default = i < 3;
        let a_seen = seen_in(&server, "fp-a").len();
        let resp = server.push(&push, body).expect(201).json();
        assert_eq!(resp["on_default_branch"], json!(on_default), "{what}: {resp}");
        assert_eq!(seen_in(&server, "fp-a").len(), a_seen + usize::from(on_default), "{what}");
        assert_eq!(resp["closed"], json!(0), "{what}: {resp}");
        assert_eq!(resp["reintroduced"], json!(0), "{what}: {resp}");
        assert_eq!(resp["open"], json!(2), "{what}: {resp}");
        let open = fingerprints(&server.all_pages("/api/v1/findings?project=alpha", &server.admin));
        assert_eq!(open, ["fp-a", "fp-b"], "{what}");
        assert_eq!(server.sql_i64("SELECT COUNT(*) FROM findings"), 2, "{what}: a finding was stored");
        let b_seen = seen_in(&server, "fp-b");
        assert_eq!(b_seen.len(), 1, "{what}: fp-b seen in {b_seen:?}");
        assert_kept_counts(&server, "alpha", what);
    }
    // The merge-request run counts what it brings against the default branch, storing nothing.
    let mr_again = server.push(&push, &cases[3].1).expect(200).json();
    assert_eq!(mr_again["new"], json!(1), "{mr_again}");
    assert_eq!(mr_again["on_default_branch"], json!(false), "{mr_again}");

    // One push with a complete secrets stage and a failed sast stage: only secrets closes.
    let c = r("fp-c", "sast", 5.0);
    server
        .push(
            &push,
            &push_body(
                "alpha",
                "with-sast",
                &[stage("secrets", vec![a.clone(), b.clone()]), stage("sast", vec![c.clone()])],
            ),
        )
        .expect(201);
    let mixed = server
        .push(&push, &push_body("alpha", "mixed", &[stage("secrets", vec![a.clone()]), stage("sast", vec![]).failed()]))
        .expect(201)
        .json();
    assert_eq!(mixed["closed"], json!(1), "{mixed}");
    let open = fingerprints(&server.all_pages("/api/v1/findings?project=alpha", &server.admin));
    assert_eq!(open, ["fp-a", "fp-c"]);
    assert_kept_counts(&server, "alpha", "mixed");
}

/// The finding list: every filter, alone and together, and its pages, against the set the
/// test knows it pushed.
fn finding_filters_and_pages(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    server.project("beta", "main");
    let (_, push_a) = server.project_token("alpha", "push");
    let (_, push_b) = server.project_token("beta", "push");
    let scores = [9.5, 7.5, 5.0, 2.0, 0.0];
    let names = ["critical", "high", "medium", "low", "info"];
    // (project, fingerprint, stage, rule, severity rank, push order)
    #[derive(Clone, Debug)]
    struct Known {
        project: &'static str,
        fp: String,
        stage: &'static str,
        rule: String,
        rank: usize,
        order: usize,
        open: bool,
    }
    let mut known: Vec<Known> = Vec::new();
    let mut make = |project: &'static str, prefix: &str, n: usize, order: usize| {
        let mut secrets = Vec::new();
        let mut sast = Vec::new();
        for i in 0..n {
            let rank = i % 5;
            let stage = if i % 3 == 0 { "sast" } else { "secrets" };
            let rule = format!("rule-{}", i % 4);
            let fp = format!("{prefix}-{i:02}");
            let result = r(&fp, &rule, scores[rank]);
            if stage == "sast" {
                sast.push(result)
            } else {
                secrets.push(result)
            }
            known.push(Known { project, fp, stage, rule, rank, order, open: true });
        }
        (secrets, sast)
    };
    let (s1, t1) = make("alpha", "a1", 24, 0);
    let (s2, t2) = make("beta", "b1", 13, 1);
    let (s3, t3) = make("alpha", "a2", 17, 2);
    server
        .push(&push_a, &push_body("alpha", "a-1", &[stage("secrets", s1.clone()), stage("sast", t1.clone())]))
        .expect(201);
    server.push(&push_b, &push_body("beta", "b-1", &[stage("secrets", s2), stage("sast", t2)])).expect(201);
    // `since` needs the second alpha push to be later by at least a millisecond.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut s_all = s1.clone();
    s_all.extend(s3.clone());
    let mut t_all = t1.clone();
    t_all.extend(t3.clone());
    server
        .push(&push_a, &push_body("alpha", "a-2", &[stage("secrets", s_all.clone()), stage("sast", t_all.clone())]))
        .expect(201);
    // Third alpha push: secrets no longer reports a1-01 and a1-02 (not detected).
    let dropped = ["a1-01", "a1-02"];
    let s_less: Vec<R> = s_all.iter().filter(|x| !dropped.contains(&x.fingerprint.as_str())).cloned().collect();
    server.push(&push_a, &push_body("alpha", "a-3", &[stage("secrets", s_less), stage("sast", t_all)])).expect(201);
    for k in known.iter_mut() {
        if dropped.contains(&k.fp.as_str()) {
            k.open = false;
        }
    }
    // The list's order: most severe first, then first stored first (push order, then
    // fingerprint within a push).
    known.sort_by(|x, y| x.rank.cmp(&y.rank).then(x.order.cmp(&y.order)).then(x.fp.cmp(&y.fp)));
    let since = finding(&server, "alpha", "a2-00")["finding"]["first_seen_at"].as_str().expect("time").to_owned();
    let first_alpha = finding(&server, "alpha", "a1-00")["finding"]["first_seen_at"].as_str().expect("time").to_owned();
    assert!(first_alpha < since, "{first_alpha} < {since}");

    type Pred = Box<dyn Fn(&Known) -> bool>;
    let cases: Vec<(String, Pred)> = vec![
        ("".into(), Box::new(|k: &Known| k.open)),
        ("state=open".into(), Box::new(|k: &Known| k.open)),
        ("state=not_detected".into(), Box::new(|k: &Known| !k.open)),
        ("state=all".into(), Box::new(|_: &Known| true)),
        ("project=alpha".into(), Box::new(|k: &Known| k.open && k.project == "alpha")),
        ("project=beta&state=all".into(), Box::new(|k: &Known| k.project == "beta")),
        ("severity=critical".into(), Box::new(|k: &Known| k.open && k.rank == 0)),
        ("severity=high".into(), Box::new(|k: &Known| k.open && k.rank <= 1)),
        ("severity=medium".into(), Box::new(|k: &Known| k.open && k.rank <= 2)),
        ("severity=low".into(), Box::new(|k: &Known| k.open && k.rank <= 3)),
        ("severity=info".into(), Box::new(|k: &Known| k.open)),
        ("stage=sast".into(), Box::new(|k: &Known| k.open && k.stage == "sast")),
        ("stage=secrets&state=all".into(), Box::new(|k: &Known| k.stage == "secrets")),
        ("stage=nothing".into(), Box::new(|_: &Known| false)),
        ("rule=rule-1".into(), Box::new(|k: &Known| k.open && k.rule == "rule-1")),
        (format!("since={since}"), Box::new(|k: &Known| k.open && k.order == 2)),
        (format!("since={since}&state=all&project=beta"), Box::new(|_: &Known| false)),
        (
            "project=alpha&severity=medium&stage=secrets&rule=rule-2&state=all".into(),
            Box::new(|k: &Known| k.project == "alpha" && k.rank <= 2 && k.stage == "secrets" && k.rule == "rule-2"),
        ),
        ("since=2000-01-01&project=beta".into(), Box::new(|k: &Known| k.project == "beta")),
    ];
    for (query, keep) in &cases {
        let expected: Vec<String> = known.iter().filter(|k| keep(k)).map(|k| k.fp.clone()).collect();
        let sep = if query.is_empty() { "" } else { "&" };
        // Whole, and in pages of 7 (and 1) whose concatenation must be the same list.
        let whole =
            server.get(&format!("/api/v1/findings?{query}{sep}limit=500"), Some(&server.admin)).expect(200).json();
        assert_eq!(whole["next"], Value::Null, "{query}");
        let items = whole["items"].as_array().expect("items").clone();
        assert_eq!(fingerprints(&items), expected, "?{query}");
        for item in &items {
            let k = known.iter().find(|k| Some(k.fp.as_str()) == item["fingerprint"].as_str()).expect("known");
            assert_eq!(item["project"], json!(k.project));
            assert_eq!(item["stage"], json!(k.stage));
            assert_eq!(item["rule_id"], json!(k.rule));
            assert_eq!(item["severity"], json!(names[k.rank]));
            assert_eq!(item["state"], json!(if k.open { "open" } else { "not_detected" }));
        }
        let paged = server.all_pages(&format!("/api/v1/findings?{query}{sep}limit=7"), &server.admin);
        assert_eq!(fingerprints(&paged), expected, "?{query} in pages of 7");
    }
    let paged = server.all_pages("/api/v1/findings?state=all&limit=1", &server.admin);
    assert_eq!(paged.len(), known.len());

    // A developer of beta alone sees beta's findings only, and is told nothing of alpha.
    let dev = server.user("dev-b", &[(Some("beta"), "developer")]);
    let theirs = server.all_pages("/api/v1/findings?state=all", &dev.token);
    assert_eq!(
        fingerprints(&theirs),
        known.iter().filter(|k| k.project == "beta").map(|k| k.fp.clone()).collect::<Vec<_>>()
    );
    server.get("/api/v1/findings?project=alpha", Some(&dev.token)).expect(404);

    // Filters that are not filters.
    for bad in [
        "severity=urgent",
        "state=closed",
        "since=yesterday",
        "cursor=abc",
        "cursor=1",
        "limit=0",
        "limit=501",
        "limit=x",
    ] {
        let resp = server.get(&format!("/api/v1/findings?{bad}"), Some(&server.admin));
        assert_eq!(resp.status, 400, "?{bad}: {}", resp.text());
        let name = bad.split('=').next().unwrap_or_default();
        assert!(resp.text().contains(name), "?{bad}: the answer names `{name}`: {}", resp.text());
    }
    server.get("/api/v1/findings?project=nothing", Some(&server.admin)).expect(404);

    // Runs page too.
    let runs = server.all_pages("/api/v1/projects/alpha/runs?limit=1", &server.admin);
    assert_eq!(runs.len(), 3);
    let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
}

/// A row per write, none per read or refused write; the chain verifies; the database itself
/// refuses to change or remove a row, and a row changed behind its back breaks the chain.
fn audit_log_is_complete_and_append_only(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let dev = server.user("dev", &[(Some("alpha"), "developer")]);
    let (push_id, push) = server.project_token("alpha", "push");
    let body = push_body("alpha", "r1", &[stage("secrets", vec![r("a", "x", 7.5)])]);
    server.push(&push, &body).expect(201);
    server.push(&push, &body).expect(200);
    server.push(&push, &json!({"project": "alpha"})).expect(422);
    server.get("/api/v1/findings", Some(&dev.token)).expect(200);
    server
        .put("/api/v1/users/dev/password", Some(&dev.token), &json!({"password": "another-long-password"}))
        .expect(204);
    server.delete(&format!("/api/v1/tokens/{push_id}"), Some(&server.admin), None).expect(204);
    server.post("/api/v1/projects", Some(&dev.token), &json!({"name": "nope"})).expect(403);

    let entries = server.all_pages("/api/v1/audit?limit=2", &server.admin);
    let actions: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap_or_default().to_owned(), e["target"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let run_target = format!("project:alpha/run:{}", server.sql_i64("SELECT MIN(id) FROM runs"));
    let expected: Vec<(String, String)> = [
        ("user.bootstrap", "user:admin".to_owned()),
        ("token.create", "token:2".to_owned()), // the admin's session
        ("project.create", "project:alpha".to_owned()),
        ("user.create", "user:dev".to_owned()),
        ("role.grant", "user:dev".to_owned()),
        ("token.create", "token:3".to_owned()), // dev's session
        ("token.create", "token:4".to_owned()), // the push token
        ("run.push", run_target),
        ("user.password", "user:dev".to_owned()),
        ("token.revoke", "token:4".to_owned()),
    ]
    .into_iter()
    .map(|(a, t)| (a.to_owned(), t))
    .collect();
    assert_eq!(actions, expected);
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(entries[7]["actor"].as_str().map(|a| a.starts_with("project-token:")), Some(true));
    assert_eq!(entries[7]["addr"], json!("127.0.0.1"));
    assert_eq!(entries[8]["actor"], json!("user:dev"));
    let verify = server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json();
    assert_eq!(verify, json!({"rows": expected.len(), "intact": true, "broken_at": null}));

    // The database refuses, whoever asks.
    for statement in [
        "UPDATE audit_log SET actor = 'someone else' WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = 3",
        "DELETE FROM audit_log",
    ] {
        let refused = server.sql(statement);
        assert!(refused.as_ref().is_err_and(|e| e.contains("append-only")), "{statement}: {refused:?}");
    }
    if backend == Backend::Postgres {
        let refused = server.sql("TRUNCATE audit_log");
        assert!(refused.as_ref().is_err_and(|e| e.contains("append-only")), "TRUNCATE: {refused:?}");
    }
    assert_eq!(server.sql_i64("SELECT COUNT(*) FROM audit_log"), expected.len() as i64);
    let verify = server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json();
    assert_eq!(verify["intact"], json!(true));

    // With the trigger out of the way (as only the database's owner could), a changed row
    // breaks the chain where it was changed.
    let disable = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    };
    server.sql(disable).expect("disabling the trigger");
    let third = seqs[2];
    server.sql(&format!("UPDATE audit_log SET actor = 'someone else' WHERE seq = {third}")).expect("update");
    let verify = server.get("/api/v1/audit/verify", Some(&server.admin)).expect(200).json();
    assert_eq!(verify, json!({"rows": 2, "intact": false, "broken_at": third}));
}

/// A client that did not redact pushes credentials everywhere a log, an SBOM, an attestation
/// and events can carry them; nothing the server stores or answers holds one.
fn credentials_are_redacted_on_arrival(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    let pat = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let (key_id, secret) = aws_key_pair();
    let aws = format!("aws_access_key_id = {key_id}\naws_secret_access_key = {secret}");
    let secrets = [pat.as_str(), key_id.as_str(), secret.as_str()];

    let mut log = sarif(&[stage("secrets", vec![r("fp-leak", "github-pat-classic", 9.5), r("fp-aws", "aws", 9.5)])]);
    let run = &mut log["runs"][0];
    run["tool"]["driver"]["rules"] = json!([{
        "id": "github-pat-classic",
        "help": { "text": format!("rotate {pat}; {aws}"), "markdown": format!("`{pat}`") },
        "fullDescription": { "text": format!("like {pat}") },
        "properties": { "example": pat }
    }]);
    {
        let leak = &mut run["results"][0];
        leak["message"]["text"] = json!(format!("GitHub token {pat} in config"));
        leak["locations"][0]["physicalLocation"]["region"]["snippet"] = json!({ "text": format!("TOKEN = \"{pat}\"") });
        leak["locations"][0]["physicalLocation"]["contextRegion"] =
            json!({ "startLine": 1, "snippet": { "text": format!("{aws}\nTOKEN = \"{pat}\"") } });
        leak["relatedLocations"] = json!([{ "id": 1, "message": { "text": format!("also {pat}") },
            "physicalLocation": { "artifactLocation": { "uri": "other.env" }, "region": { "startLine": 2, "snippet": { "text": aws } } } }]);
        leak["properties"]["token"] = json!(pat);
        leak["properties"]["nested"] = json!({ "list": [format!("x {pat} y"), aws] });
    }
    run["results"][1]["message"]["text"] = json!(format!("AWS keys: {aws}"));
    run["properties"] = json!({ "sluice/stage": "secrets", "env": aws });
    log["properties"] = json!({ "ci-token": pat });
    let body = json!({
        "project": "alpha",
        "run_id": "leaky-1",
        "commit": format!("deadbeef {pat}"),
        "branch": "main",
        "pipeline_url": format!("https://ci.example/pipeline?token={pat}"),
        "sarif": log,
        "sbom": { "bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            { "name": "app", "version": "1", "description": format!("built with {pat}"),
              "properties": [{ "name": "aws", "value": aws }] } ] },
        "attestation": { "_type": "https://in-toto.io/Statement/v1", "predicate": { "env": { "GITHUB_TOKEN": pat, "AWS": aws } } },
        "verdict": { "decision": "allowed", "note": pat },
        "events": [{ "id": "deploy-1", "kind": "deployment", "at": "2026-01-02T03:04:05Z",
            "body": { "by": pat, "env": aws, "list": [pat] } }]
    });
    // The client did send them.
    assert!(body.to_string().contains(&pat) && body.to_string().contains(&secret));
    let resp = server.push(&push, &body).expect(201);
    let run_id = resp.json()["run"].as_i64().expect("run");

    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} holds a credential ({}…): {}", &s[..6], &text[..text.len().min(2000)]);
        }
    };
    check("the push answer", &resp.text());
    check("the finding list", &server.get("/api/v1/findings?state=all", Some(&server.admin)).expect(200).text());
    for fp in ["fp-leak", "fp-aws"] {
        let detail = server.get(&format!("/api/v1/projects/alpha/findings/{fp}"), Some(&server.admin)).expect(200);
        check("the finding detail", &detail.text());
    }
    let detail = finding(&server, "alpha", "fp-leak");
    let message = detail["finding"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("GitHub token ghp_") && message.ends_with(" in config"),
        "redacted, not dropped: {message}"
    );
    check("the run list", &server.get("/api/v1/projects/alpha/runs", Some(&server.admin)).expect(200).text());
    check("the run", &server.get(&format!("/api/v1/runs/{run_id}"), Some(&server.admin)).expect(200).text());
    check("the project", &server.get("/api/v1/projects/alpha", Some(&server.admin)).expect(200).text());
    for doc in ["sarif", "sbom", "attestation"] {
        let resp = server.get(&format!("/api/v1/runs/{run_id}/{doc}"), Some(&server.admin)).expect(200);
        assert_eq!(resp.header("content-encoding"), Some("gzip"), "{doc}");
        let text = String::from_utf8(gunzip(&resp.body)).expect("UTF-8");
        check(doc, &text);
        assert!(text.contains("(40 chars)"), "{doc}: the credential's redacted form is kept: {text}");
    }
    // Stored, read directly: events (no endpoint shows them), the audit detail, every text column.
    let events = server.sql_texts("SELECT body FROM events");
    assert_eq!(events.len(), 1);
    check("the stored event", &events[0]);
    let audit = server.all_pages("/api/v1/audit", &server.admin);
    check("the audit log", &serde_json::to_string(&audit).expect("JSON"));
    for query in [
        "SELECT detail FROM audit_log",
        "SELECT COALESCE(commit_sha, '') || COALESCE(pipeline_url, '') || stages || COALESCE(claimed_verdict, '') FROM runs",
        "SELECT message || rule_id || COALESCE(path, '') FROM findings",
    ] {
        for text in server.sql_texts(query) {
            check(query, &text);
        }
    }
}

/// Each hostile push: a 4xx naming the problem, no run, no project, and never a 5xx.
fn hostile_pushes_are_refused_and_store_nothing(backend: Backend) {
    let server = Server::start(backend);
    server.project("alpha", "main");
    let (_, push) = server.project_token("alpha", "push");
    // The organisation token may create projects: names are checked, not just looked up.
    let (_, org) = server.org_token();
    let good = push_body("alpha", "good", &[stage("secrets", vec![r("a", "x", 5.0)])]);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        edit(&mut body);
        body.to_string().into_bytes()
    };
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // (what, token, body, headers, what the answer must name)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, Vec<(&'a str, &'a str)>, &'a str);
    let mut cases: Vec<Case<'_>> = Vec::new();
    let json_headers: Vec<(&str, &str)> = Vec::new();
    cases.push(("not JSON", &push, b"this is not JSON".to_vec(), json_headers.clone(), "JSON"));
    cases.push(("empty body", &push, Vec::new(), json_headers.clone(), "JSON"));
    cases.push(("a JSON array", &push, b"[1, 2]".to_vec(), json_headers.clone(), "invalid type"));
    cases.push((
        "nesting 100k deep in the log",
        &push,
        format!(r#"{{"project":"alpha","run_id":"deep","sarif":{}}}"#, deep(100_000)).into_bytes(),
        json_headers.clone(),
        "recursion",
    ));
    cases.push((
        "nesting 100k deep in the SBOM",
        &push,
        format!(r#"{{"project":"alpha","run_id":"deep","sarif":{},"sbom":{{"a":{}}}}}"#, good["sarif"], deep(100_000))
            .into_bytes(),
        json_headers.clone(),
        "recursion",
    ));
    cases.push((
        "nesting 100k deep in a property bag",
        &push,
        String::from_utf8(with(&|b| b["sarif"]["runs"][0]["properties"] = json!({"x": "PLACEHOLDER"})))
            .expect("UTF-8")
            .replace("\"PLACEHOLDER\"", &deep(100_000))
            .into_bytes(),
        json_headers.clone(),
        "recursion",
    ));
    cases.push(("SARIF 2.0", &push, with(&|b| b["sarif"]["version"] = json!("2.0.0")), json_headers.clone(), "2.0.0"));
    cases.push(("not SARIF", &push, with(&|b| b["sarif"] = json!({"hello": "world"})), json_headers.clone(), "SARIF"));
    cases.push((
        "no sluice/v1 fingerprint",
        &push,
        with(&|b| b["sarif"]["runs"][0]["results"][0]["partialFingerprints"] = json!({"other/v1": "x"})),
        json_headers.clone(),
        "sluice/v1",
    ));
    cases.push((
        "an empty fingerprint",
        &push,
        with(&|b| b["sarif"]["runs"][0]["results"][0]["partialFingerprints"] = json!({"sluice/v1": ""})),
        json_headers.clone(),
        "sluice/v1",
    ));
    let many: Vec<R> = (0..51).map(|i| r(&format!("fp{i}"), "x", 5.0)).collect();
    cases.push((
        "more results than the limit",
        &push,
        push_body("alpha", "many", &[stage("secrets", many)]).to_string().into_bytes(),
        json_headers.clone(),
        "results",
    ));
    let runs: Vec<common::Stage> = (0..9).map(|i| stage(&format!("s{i}"), vec![])).collect();
    cases.push((
        "more runs than the limit",
        &push,
        push_body("alpha", "runs", &runs).to_string().into_bytes(),
        json_headers.clone(),
        "runs",
    ));
    cases.push((
        "more events than the limit",
        &push,
        with(&|b| {
            b["events"] = json!((0..11)
                .map(|i| json!({"id": format!("e{i}"), "kind": "deployment", "at": "2026-01-01T00:00:00Z", "body": {}}))
                .collect::<Vec<_>>())
        }),
        json_headers.clone(),
        "events",
    ));
    // 64 MiB of spaces inside the JSON, 64 KiB on the wire.
    let mut bomb = good.to_string().into_bytes();
    bomb.pop();
    bomb.extend_from_slice(b", \"commit\": \"");
    bomb.extend(std::iter::repeat_n(b'a', 64 * 1024 * 1024));
    bomb.extend_from_slice(b"\"}");
    let bomb = gzip(&bomb);
    assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
    cases.push(("a gzip bomb", &push, bomb, vec![("Content-Encoding", "gzip")], "limit"));
    cases.push(("not gzip at all", &push, good.to_string().into_bytes(), vec![("Content-Encoding", "gzip")], ""));
    let mut big = good.to_string().into_bytes();
    big.pop();
    big.extend_from_slice(b", \"commit\": \"");
    big.extend(std::iter::repeat_n(b'a', common::MAX_BODY + 1));
    big.extend_from_slice(b"\"}");
    cases.push(("over the body limit", &push, big, json_headers.clone(), "limit"));
    cases.push(("run_id a number", &push, with(&|b| b["run_id"] = json!(5)), json_headers.clone(), "run_id"));
    cases.push(("partial a string", &push, with(&|b| b["partial"] = json!("yes")), json_headers.clone(), "partial"));
    cases.push(("events an object", &push, with(&|b| b["events"] = json!({})), json_headers.clone(), "events"));
    cases.push(("sarif a string", &push, with(&|b| b["sarif"] = json!("{}")), json_headers.clone(), "SARIF"));
    cases.push((
        "startLine a string",
        &push,
        with(&|b| {
            b["sarif"]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
                json!("three")
        }),
        json_headers.clone(),
        "SARIF",
    ));
    cases.push((
        "an unknown top-level field",
        &push,
        with(&|b| b["surprise"] = json!(1)),
        json_headers.clone(),
        "surprise",
    ));
    cases.push((
        "no sarif",
        &push,
        with(&|b| {
            b.as_object_mut().map(|o| o.remove("sarif"));
        }),
        json_headers.clone(),
        "sarif",
    ));
    cases.push((
        "a project named with ..",
        &org,
        with(&|b| b["project"] = json!("team/../other")),
        json_headers.clone(),
        "project",
    ));
    cases.push((
        "a project starting with /",
        &org,
        with(&|b| b["project"] = json!("/etc")),
        json_headers.clone(),
        "project",
    ));
    cases.push((
        "a project with a newline",
        &org,
        with(&|b| b["project"] = json!("new\nline")),
        json_headers.clone(),
        "project",
    ));
    cases.push((
        "a project with a NUL",
        &org,
        with(&|b| b["project"] = json!("nul\u{0}")),
        json_headers.clone(),
        "project",
    ));
    cases.push(("a run id with ..", &push, with(&|b| b["run_id"] = json!("..")), json_headers.clone(), "run_id"));
    cases.push((
        "a run id with a bell",
        &push,
        with(&|b| b["run_id"] = json!("run\u{7}")),
        json_headers.clone(),
        "run_id",
    ));
    cases.push((
        "a run id of 129 characters",
        &push,
        with(&|b| b["run_id"] = json!("r".repeat(129))),
        json_headers.clone(),
        "run_id",
    ));
    cases.push((
        "a branch with an escape",
        &push,
        with(&|b| b["branch"] = json!("main\u{1b}[2J")),
        json_headers.clone(),
        "branch",
    ));
    cases.push((
        "a commit of 2000 bytes",
        &push,
        with(&|b| b["commit"] = json!("c".repeat(2000))),
        json_headers.clone(),
        "commit",
    ));
    cases.push((
        "an event id with ..",
        &push,
        with(&|b| {
            b["events"] = json!([{"id": "../x", "kind": "deployment", "at": "2026-01-01T00:00:00Z", "body": {}}])
        }),
        json_headers.clone(),
        "events[].id",
    ));
    cases.push((
        "an event at no time",
        &push,
        with(&|b| b["events"] = json!([{"id": "e", "kind": "deployment", "at": "soon", "body": {}}])),
        json_headers.clone(),
        "events[].at",
    ));
    cases.push((
        "text/plain",
        &push,
        good.to_string().into_bytes(),
        vec![("Content-Type", "text/plain")],
        "Content-Type",
    ));

    let projects = server.sql_i64("SELECT COUNT(*) FROM projects");
    let mut failures = Vec::new();
    for (what, token, body, headers, names) in &cases {
        let resp = server.request("POST", "/api/v1/runs", Some(token), Some(body.clone()), headers);
        let message = resp.text();
        if !(400..500).contains(&resp.status) {
            failures.push(format!("{what}: {} {message}", resp.status));
        } else if !message.to_lowercase().contains(&names.to_lowercase()) {
            failures.push(format!("{what}: {} does not name `{names}`: {message}", resp.status));
        } else if !serde_json::from_str::<Value>(&message).map(|v| v["error"].is_string()).unwrap_or(false) {
            failures.push(format!("{what}: {} is not an error body: {message}", resp.status));
        }
        if server.run_rows() != 0 || server.sql_i64("SELECT COUNT(*) FROM projects") != projects {
            failures.push(format!("{what}: something was stored"));
            break;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // NUL wherever a name is looked up (PostgreSQL's text cannot hold one): a 4xx, not a 5xx.
    let nul: [(&str, &str, Option<Value>); 9] = [
        ("GET", "/api/v1/projects/a%00b", None),
        ("GET", "/api/v1/projects/a%00b/runs", None),
        ("GET", "/api/v1/findings?project=a%00b", None),
        ("GET", "/api/v1/findings?stage=a%00b&rule=b%00", None),
        ("GET", "/api/v1/projects/alpha/findings/a%00b", None),
        ("PUT", "/api/v1/users/a%00b/password", Some(json!({"password": "a long enough password"}))),
        ("POST", "/api/v1/users/a%00b/roles", Some(json!({"role": "developer"}))),
        ("POST", "/api/v1/users/admin/roles", Some(json!({"project": "a\u{0}b", "role": "developer"}))),
        ("POST", "/api/v1/auth/login", Some(json!({"username": "a\u{0}b", "password": "whatever it is"}))),
    ];
    for (method, path, body) in nul {
        let resp = server.request(method, path, Some(&server.admin), body.map(|b| b.to_string().into_bytes()), &[]);
        // A filter on a stage or rule no finding has is an empty list (SQLite), or refused.
        let ok = (400..500).contains(&resp.status) || path.contains("stage=") && resp.status == 200;
        if !ok {
            failures.push(format!("{method} {path}: {} {}", resp.status, resp.text()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // And the good push is taken, so the refusals were about what each case changed.
    server.push(&push, &good).expect(201);
}
