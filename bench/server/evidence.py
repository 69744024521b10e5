#!/usr/bin/env python3
"""Benchmark of the evidence endpoints of `sluice serve` at a million findings (not part of CI).

usage: evidence.py --sluice BIN --backend sqlite|postgres [--projects 2000] [--findings 500]
                   [--repeat 5]

Starts the server (bench.py's `Server`), fills its database directly in SQL (pushing a
million findings through the API is bench.py's `load` phase; here only the shape of the data
matters): --projects × --findings findings over 4 stages × 300 rules, deps findings with
packages and purls, 1 % marked false positive by the repository's own triage file, and
approved decisions of every scope (organisation-wide and per project rule decisions with and
without globs, finding decisions, advisory decisions naming an alias). Then times, at the
client, GET /api/v1/rules/noise (all, and one tool with min_findings) and GET /api/v1/vex,
--repeat times each after one warm-up, and prints the median and the maximum in ms.
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, psql  # noqa: E402

STAGES = ("sast", "secrets", "deps", "iac")
RULES = 300
NOW_MS = int(time.time() * 1000)


def fill_sql(projects, findings, series):
    """Statements both backends run; `series(n, col)` is a FROM item of the numbers 1..n."""
    return [
        f"INSERT INTO projects (name, default_branch, created_at) "
        f"SELECT 'bench-' || n, 'main', {NOW_MS} FROM {series(projects, 'n')}",
        # Finding k of project p: stage k % 4, rule (k * 7 + p) % 300; deps carry a package.
        f"INSERT INTO findings (project_id, fingerprint, stage, rule_id, severity, severity_rank, message, path, "
        f"line, state, first_seen_run, first_seen_at, last_seen_run, last_seen_at, package, purl, repo_status) "
        f"SELECT p.id, 'fp-' || k, "
        f"CASE k % 4 WHEN 0 THEN 'sast' WHEN 1 THEN 'secrets' WHEN 2 THEN 'deps' ELSE 'iac' END, "
        f"CASE k % 4 WHEN 2 THEN 'GHSA-' || ((k * 7 + p.id) % {RULES}) "
        f"ELSE (CASE k % 4 WHEN 0 THEN 'sast' WHEN 1 THEN 'secrets' ELSE 'iac' END) || '.rule-' || ((k * 7 + p.id) % {RULES}) END, "
        f"'medium', 2, 'a finding', "
        f"CASE WHEN k % 10 = 0 THEN 'tests/f' || k || '.py' ELSE 'src/f' || k || '.py' END, 1, 'open', 1, {NOW_MS}, 1, {NOW_MS}, "
        f"CASE k % 4 WHEN 2 THEN 'pkg' || (k % 50) END, "
        f"CASE k % 4 WHEN 2 THEN 'pkg:npm/pkg' || (k % 50) || '@1.' || (k % 7) || '.0' END, "
        f"CASE WHEN k % 100 = 3 THEN 'false_positive' END "
        f"FROM projects p, {series(findings, 'k')}",
        f"INSERT INTO advisory_aliases (alias, advisory) SELECT 'CVE-2024-' || n, 'GHSA-' || n FROM {series(RULES, 'n')}",
    ]


def decision_sql(projects, series):
    cols = ("INSERT INTO decisions (project_id, scope, fingerprint, rule_id, path_glob, advisory, package, status, "
            "reason, severity, required_role, state, proposed_by, proposed_at, decided_by, decided_role, decided_at) ")
    tail = f"'noise', 'medium', 'security', 'approved', 'user:dev', {NOW_MS}, 'user:sec', 'security', {NOW_MS}"
    return [
        # 30 organisation-wide rule decisions, half of them limited to tests/.
        cols + f"SELECT NULL, 'rule', NULL, 'sast.rule-' || n, CASE WHEN n % 2 = 0 THEN '**' ELSE 'tests/**' END, "
        f"NULL, NULL, 'false_positive', {tail} FROM {series(30, 'n')}",
        # 200 project rule decisions.
        cols + f"SELECT 1 + (n * 13) % {projects}, 'rule', NULL, 'iac.rule-' || (n % {RULES}), '*.py', NULL, NULL, "
        f"'false_positive', {tail} FROM {series(200, 'n')}",
        # 500 finding decisions.
        cols + f"SELECT 1 + (n * 7) % {projects}, 'finding', 'fp-' || (n * 4 + 1), NULL, NULL, NULL, NULL, "
        f"'false_positive', {tail} FROM {series(500, 'n')}",
        # 20 organisation-wide advisory decisions by alias, 20 per project, some mitigated.
        cols + f"SELECT NULL, 'advisory', NULL, NULL, NULL, 'CVE-2024-' || n, 'pkg' || (n % 50), "
        f"CASE WHEN n % 3 = 0 THEN 'mitigated' ELSE 'false_positive' END, {tail} FROM {series(20, 'n')}",
        cols + f"SELECT 1 + n % {projects}, 'advisory', NULL, NULL, NULL, 'GHSA-' || (n * 5), 'pkg' || (n % 50), "
        f"'false_positive', {tail} FROM {series(20, 'n')}",
    ]


def series_for(backend):
    if backend == "postgres":
        return lambda n, col: f"generate_series(1, {n}) AS s({col})"
    return lambda n, col: (f"(WITH RECURSIVE r(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM r WHERE v < {n}) "
                           f"SELECT v AS {col} FROM r) AS s")


def run_sql(server, statements):
    if server.backend == "postgres":
        for s in statements:
            psql(s, db="sluice_bench")
        psql("ANALYZE", db="sluice_bench")
        return
    db = sqlite3.connect(os.path.join(server.data, "sluice.db"), timeout=60)
    for s in statements:
        db.execute(s)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def timed(server, token, path, repeat):
    url = server.base + "/api/v1" + path
    times = []
    body = b""
    for i in range(repeat + 1):
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            body = resp.read()
        if i > 0:
            times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "bytes": len(body)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--projects", type=int, default=2000)
    ap.add_argument("--findings", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix=f"sluice-evidence-{args.backend}-")
    server = Server(os.path.abspath(args.sluice), args.backend, work)
    result = {"backend": args.backend, "findings": args.projects * args.findings}
    try:
        login = open(os.path.join(server.data, "first-admin-login-token")).read().strip()
        status, session = server.call("POST", "/auth/login", body={"login_token": login})
        assert status == 200, session
        admin = session["token"]
        start = time.perf_counter()
        series = series_for(args.backend)
        run_sql(server, fill_sql(args.projects, args.findings, series) + decision_sql(args.projects, series))
        result["fill_s"] = round(time.perf_counter() - start, 1)
        result["noise"] = timed(server, admin, "/rules/noise", args.repeat)
        result["noise_one_tool"] = timed(server, admin, "/rules/noise?tool=sast&min_findings=100", args.repeat)
        result["vex"] = timed(server, admin, "/vex", args.repeat)
        result["vex_one_project"] = timed(server, admin, "/vex?project=bench-7", args.repeat)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
