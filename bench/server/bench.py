#!/usr/bin/env python3
"""Benchmark of `sluice serve` on one backend (see README.md in this folder).

usage: bench.py --sluice BIN --backend sqlite|postgres [--out DIR] [--projects 2000]
                [--findings 500] [--push-findings 10000] [--clients 50] [--duration 30]
                [--loaders 4] [--phases push,load,query]

Starts the server on a free loopback port, logs in as the first admin, and measures:
  push   `sluice push` of a 10,000-finding run, end to end at the client (wall time of the
         process): the first push of a project, a re-push of the same findings under a new run
         id, and a retry of the same run id (answered from what is stored).
  load   2,000 projects x 500 findings pushed through POST /api/v1/runs by --loaders threads;
         the time, and the database's size after.
  query  GET /api/v1/findings under --clients concurrent connections for --duration seconds
         (wrk, with a Lua script drawing each request from a randomised mix of projects and
         filters); p50/p99 as wrk measures them at the client.
and the server's RSS (VmRSS, sampled every 100 ms) during each phase and after it.
Prints one JSON object with every figure, and writes it to OUT/result-BACKEND.json.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

STAGES = ("sast", "deps", "iac")
LEVELS = ("error", "warning", "note")
PG = "postgres://postgres@127.0.0.1:5432"


def sarif(project, n, seed=0):
    """A results.sarif as `sluice run` writes it: one run per stage, results carrying the
    sluice/v1 fingerprint, rules with metadata, locations with snippets."""
    rnd = random.Random(f"{project}/{seed}")
    runs = []
    per_stage = [n // len(STAGES) + (1 if i < n % len(STAGES) else 0) for i in range(len(STAGES))]
    k = 0
    for stage, count in zip(STAGES, per_stage):
        rules = [
            {
                "id": f"{stage}.rule-{r:03}",
                "shortDescription": {"text": f"Rule {r} of {stage}"},
                "fullDescription": {"text": "What the rule finds and why it matters. " * 2},
                "help": {"text": "How to fix it."},
                "properties": {"security-severity": f"{(r % 10) + 0.5:.1f}", "tags": ["security"]},
            }
            for r in range(50)
        ]
        results = []
        for _ in range(count):
            r = rnd.randrange(50)
            line = rnd.randrange(1, 2000)
            fp = hashlib.sha256(f"{project}:{stage}:{k}".encode()).hexdigest()
            results.append({
                "ruleId": rules[r]["id"],
                "ruleIndex": r,
                "level": rnd.choice(LEVELS),
                "message": {"text": f"Finding {k}: user input reaches handler_{k % 977} unchecked"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f"src/module_{k % 150}/file_{k % 37}.py", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": line, "startColumn": 5, "endLine": line, "endColumn": 42,
                               "snippet": {"text": f"    result = call_{k % 311}(user_input, flag=True)\n"}},
                }}],
                "partialFingerprints": {"sluice/v1": fp},
            })
            k += 1
        runs.append({
            "tool": {"driver": {"name": f"bench-{stage}", "version": "1.0.0", "rules": rules}},
            "automationDetails": {"id": f"sluice/{stage}/"},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        })
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}


class Server:
    def __init__(self, sluice, backend, workdir):
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.backend = backend
        args = [sluice, "serve", "--listen", "127.0.0.1:0", "--data", self.data,
                # One admin token drives the query phase: the per-token limit (6000/min by
                # default) would measure the limiter, not the server.
                "--rate-limit", "0"]
        if backend == "postgres":
            psql("DROP DATABASE IF EXISTS sluice_bench WITH (FORCE)")
            psql("CREATE DATABASE sluice_bench")
            args += ["--database", f"{PG}/sluice_bench"]
        self.log_path = os.path.join(workdir, f"server-{backend}.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, SLUICE_LOG="warn")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.time() + 60
        while True:
            text = open(self.log_path).read()
            if "listening on http://" in text:
                self.base = "http://" + text.split("listening on http://")[1].split()[0]
                break
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"server did not start:\n{text}")
            time.sleep(0.05)
        self.rss = RssSampler(self.proc.pid)

    def cpu(self):
        """Seconds of CPU the server has used (user + system): unlike wall time, not inflated
        by whatever else the machine runs."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def call(self, method, path, token=None, body=None, timeout=300):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def db_size(self):
        if self.backend == "postgres":
            out = psql("SELECT pg_database_size('sluice_bench')", db="postgres")
            return int(out.strip())
        return sum(os.path.getsize(os.path.join(self.data, f)) for f in os.listdir(self.data)
                   if f.startswith("sluice.db"))

    def stop(self):
        self.rss.stop()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.backend == "postgres":
            psql("DROP DATABASE IF EXISTS sluice_bench WITH (FORCE)")


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql],
                          check=True, capture_output=True, text=True).stdout


class RssSampler:
    """VmRSS of the server every 100 ms; `mark()` starts a new window."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = 0
        self.last = 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def read(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def loop(self):
        while self.running:
            self.last = self.read()
            self.peak = max(self.peak, self.last)
            time.sleep(0.1)

    def mark(self):
        peak, self.peak = self.peak, self.read()
        return peak

    def stop(self):
        self.running = False


class Quiet:
    """Stops the processes a pattern names (not this one, not the server) until `done()`."""

    def __init__(self, pattern):
        self.pids = []
        if pattern:
            out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
            mine = {os.getpid(), os.getppid()}
            self.pids = [int(p) for p in out.split() if int(p) not in mine]
            for pid in self.pids:
                try:
                    os.kill(pid, 19)  # SIGSTOP
                except OSError:
                    pass
            time.sleep(1)

    def done(self):
        for pid in self.pids:
            try:
                os.kill(pid, 18)  # SIGCONT
            except OSError:
                pass


def mib(n):
    return round(n / (1024 * 1024), 1)


def phase_push(server, sluice, token, n, work, result):
    """`sluice push` of an n-finding run: first push, re-push (new run id), retry (same run id)."""
    repo = os.path.join(work, "repo")
    os.makedirs(repo, exist_ok=True)
    env = dict(os.environ, SLUICE_TOKEN=token, NO_COLOR="1")
    runs = {"first": [], "repush": [], "retry": []}
    cpu = {"first": [], "repush": [], "retry": []}
    server.rss.mark()
    for trial in range(3):
        project = f"push-{n}-{trial}"
        path = os.path.join(work, f"{project}.sarif")
        with open(path, "w") as f:
            json.dump(sarif(project, n), f)
        for kind, run_id in (("first", "run-1"), ("repush", "run-2"), ("retry", "run-2")):
            cmd = [sluice, "push", repo, "--server", server.base, "--project", project, "--run-id", run_id,
                   "--results", path, "--branch", "main", "--default-branch", "main",
                   "--commit", hashlib.sha1(run_id.encode()).hexdigest()]
            cpu_before = server.cpu()
            start = time.perf_counter()
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            cpu[kind].append(round(server.cpu() - cpu_before, 3))
            if out.returncode != 0:
                raise SystemExit(f"sluice push failed: {out.stderr}")
            runs[kind].append(round(elapsed, 3))
    size = os.path.getsize(os.path.join(work, f"push-{n}-0.sarif"))
    result["push"] = {
        "findings": n,
        "sarif_bytes": size,
        "seconds": runs,
        "median_seconds": {k: sorted(v)[len(v) // 2] for k, v in runs.items()},
        "server_cpu_seconds": cpu,
        "rss_peak_mib": mib(server.rss.mark()),
    }


PACKAGES = [f"pkg-{i:03}" for i in range(500)]


def sbom(project, n=60):
    """A CycloneDX SBOM of `n` packages drawn from 500 names (npm purls, seeded per project)."""
    rnd = random.Random(f"sbom/{project}")
    components = []
    for name in rnd.sample(PACKAGES, n):
        version = f"{rnd.randrange(5)}.{rnd.randrange(20)}.{rnd.randrange(10)}"
        components.append({"type": "library", "name": name, "version": version,
                           "purl": f"pkg:npm/{name}@{version}"})
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}


def phase_load(server, token, projects, findings, loaders, result, with_sbom=False):
    """projects x findings through POST /api/v1/runs, `loaders` pushes at a time (each with an
    SBOM when `with_sbom`)."""
    errors = []

    def push(i):
        project = f"load-{i:05}"
        doc = {"project": project, "run_id": "load-1", "branch": "main", "default_branch": "main",
               "commit": hashlib.sha1(project.encode()).hexdigest(), "sarif": sarif(project, findings)}
        if with_sbom:
            doc["sbom"] = sbom(project)
        body = json.dumps(doc).encode()
        start = time.perf_counter()
        status, answer = server.call("POST", "/runs", token, body)
        elapsed = time.perf_counter() - start
        if status != 201:
            errors.append((project, status, answer))
        return elapsed

    server.rss.mark()
    cpu_before = server.cpu()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(loaders) as pool:
        times = sorted(pool.map(push, range(projects)))
    wall = time.perf_counter() - start
    load_cpu = server.cpu() - cpu_before
    if errors:
        raise SystemExit(f"{len(errors)} pushes failed, e.g. {errors[:3]}")
    rss_peak = server.rss.mark()
    time.sleep(5)
    result["load"] = {
        "projects": projects,
        "findings_per_project": findings,
        "loaders": loaders,
        "seconds": round(wall, 1),
        "pushes_per_second": round(projects / wall, 1),
        "findings_per_second": round(projects * findings / wall),
        "push_p50_ms": round(times[len(times) // 2] * 1000, 1),
        "push_p99_ms": round(times[int(len(times) * 0.99)] * 1000, 1),
        "server_cpu_seconds": round(load_cpu, 1),
        "server_cpu_ms_per_push": round(1000 * load_cpu / projects, 1),
        "db_bytes": server.db_size(),
        "db_mib": mib(server.db_size()),
        "rss_peak_mib": mib(rss_peak),
        "rss_after_mib": mib(server.rss.read()),
    }


WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local n = 0
setup = function(thread) thread:set("seed", n); n = n + 1 end
init = function(args) math.randomseed(1000 + seed) end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"timeouts": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


def query_paths(projects, count, seed=7):
    """A randomised mix of finding-list requests: one project's findings (most), with and
    without a severity floor, a stage or a rule, a later page (cursor), the closed ones, and
    the organisation-wide list an admin sees."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        p = f"load-{rnd.randrange(projects):05}"
        kind = rnd.random()
        params = []
        if kind < 0.85:
            params.append(f"project={p}")
        if rnd.random() < 0.5:
            params.append("severity=" + rnd.choice(["critical", "high", "medium", "low"]))
        extra = rnd.random()
        if extra < 0.2:
            params.append("stage=" + rnd.choice(STAGES))
        elif extra < 0.3:
            params.append(f"rule={rnd.choice(STAGES)}.rule-{rnd.randrange(50):03}")
        elif extra < 0.4:
            params.append(f"cursor={rnd.choice([1, 2, 3])}.{rnd.randrange(1, 1_000_000)}")
        elif extra < 0.45:
            params.append("state=all")
        params.append("limit=" + rnd.choice(["20", "50", "100"]))
        out.append("/api/v1/findings?" + "&".join(params))
    return out


def phase_query(server, token, projects, clients, duration, work, result):
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    paths = os.path.join(work, "paths.txt")
    with open(paths, "w") as f:
        f.write("\n".join(query_paths(projects, 20000)) + "\n")
    script = os.path.join(work, "findings.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    # Warm-up: a few seconds, not counted.
    env = dict(os.environ, BENCH_PATHS=paths, BENCH_TOKEN=token)
    subprocess.run(["wrk", "-t2", f"-c{clients}", "-d3s", "-s", script, server.base], env=env,
                   capture_output=True, check=True)
    server.rss.mark()
    cpu_before = server.cpu()
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{duration}s", "--timeout", "10s", "-s", script,
                          server.base], env=env, capture_output=True, text=True, check=True)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    figures = json.loads(line)
    figures["clients"] = clients
    figures["server_cpu_ms_per_request"] = round(1000 * (server.cpu() - cpu_before) / max(figures["requests"], 1), 3)
    figures["requests_per_second"] = round(figures["requests"] / figures["seconds"])
    figures["rss_peak_mib"] = mib(server.rss.mark())
    time.sleep(5)
    figures["rss_after_mib"] = mib(server.rss.read())
    result["query"] = figures


BASE_INDEXES = [
    "DROP INDEX findings_list", "DROP INDEX findings_org",
    "CREATE INDEX findings_list ON findings(project_id, state, severity_rank, id)",
    "CREATE INDEX findings_org ON findings(state, severity_rank, id)",
]


def use_base_indexes(server):
    """Puts back the finding indexes of migration 0001 (all ascending), for a before/after
    comparison of migration 0002 on the same data."""
    if server.backend == "postgres":
        for sql in BASE_INDEXES:
            psql(sql, db="sluice_bench")
        psql("ANALYZE findings", db="sluice_bench")
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(server.data, "sluice.db"), timeout=60)
        for sql in BASE_INDEXES:
            db.execute(sql)
        db.commit()
        db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--out", default="bench-server-out")
    ap.add_argument("--projects", type=int, default=2000)
    ap.add_argument("--findings", type=int, default=500)
    ap.add_argument("--push-findings", type=int, default=10000)
    ap.add_argument("--loaders", type=int, default=4)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--phases", default="push,load,query")
    ap.add_argument("--pause", metavar="PATTERN",
                    help="on a shared machine: SIGSTOP the processes `pgrep -f PATTERN` finds "
                         "(other builds, say) during the timed push and query phases, SIGCONT after")
    ap.add_argument("--compare-base-indexes", action="store_true",
                    help="after the query phase, put back 0001's finding indexes and query again")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f"sluice-bench-{args.backend}-")
    server = Server(os.path.abspath(args.sluice), args.backend, work)
    result = {"backend": args.backend, "binary": os.path.abspath(args.sluice)}
    # For `perf record -p PID` while a phase runs.
    print(f"server pid {server.proc.pid} at {server.base} ({args.backend})", file=sys.stderr)
    try:
        login = open(os.path.join(server.data, "first-admin-login-token")).read().strip()
        status, session = server.call("POST", "/auth/login", body={"login_token": login})
        assert status == 200, session
        admin = session["token"]
        status, org = server.call("POST", "/tokens", admin, {"name": "bench", "kind": "organisation"})
        assert status == 201, org
        result["rss_idle_mib"] = mib(server.rss.read())
        if "push" in phases:
            quiet = Quiet(args.pause)
            phase_push(server, args.sluice, org["token"], args.push_findings, work, result)
            quiet.done()
            print(json.dumps(result["push"]), file=sys.stderr)
        if "load" in phases:
            phase_load(server, org["token"], args.projects, args.findings, args.loaders, result)
            print(json.dumps(result["load"]), file=sys.stderr)
        if "query" in phases:
            if "load" in phases and args.backend == "postgres":
                # The server refreshes PostgreSQL's statistics once a minute (autovacuum may be
                # off): measure the steady state, after it has analysed what the load wrote,
                # not an ANALYZE of a million rows running beside the clients.
                time.sleep(65)
            quiet = Quiet(args.pause)
            phase_query(server, admin, args.projects, args.clients, args.duration, work, result)
            quiet.done()
            print(json.dumps(result["query"]), file=sys.stderr)
            if args.compare_base_indexes:
                after = result["query"]
                use_base_indexes(server)
                phase_query(server, admin, args.projects, args.clients, args.duration, work, result)
                result["query_base_indexes"], result["query"] = result["query"], after
                print("base indexes:", json.dumps(result["query_base_indexes"]), file=sys.stderr)
    finally:
        server.stop()
        shutil.copy(server.log_path, os.path.join(args.out, f"server-{args.backend}.log"))
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(args.out, f"result-{args.backend}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
