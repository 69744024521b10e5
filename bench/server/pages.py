#!/usr/bin/env python3
"""Page-load benchmark of `sluice serve`'s web pages (see README.md in this folder).

usage: pages.py --sluice BIN --backend sqlite|postgres [--out DIR] [--projects 2000]
                [--findings 500] [--sessions 20] [--duration 20] [--skip-load]

Starts the server (bench.py's Server), loads --projects x --findings through POST /api/v1/runs
(bench.py's load phase; 2,000 x 500 = 1,000,000 findings), logs in through the login form
(one session cookie per page kind), then for each page kind runs wrk with --sessions concurrent
connections for --duration seconds after a 3 s warm-up, each request drawn at random from a
mix of that page's URLs (projects, filters, sorts, cursors, findings), and reports p50/p90/p99
at the client per page. Numbers only mean something from a release build.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
wrk.headers["Cookie"] = "sluice_session=" .. os.getenv("BENCH_SESSION")
local n = 0
setup = function(thread) thread:set("seed", n); n = n + 1 end
init = function(args) math.randomseed(2000 + seed) end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"timeouts": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(server, user, password):
    """The login form, as a browser fills it: its CSRF cookie and field, then the session cookie."""
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(server.base + "/ui/login") as r:
        body = r.read().decode()
        cookie = r.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', body).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "next": "/ui/", "username": user, "password": password}).encode()
    req = urllib.request.Request(server.base + "/ui/login", data=form, method="POST")
    req.add_header("Cookie", cookie)
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        opener.open(req)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
        for header in e.headers.get_all("Set-Cookie"):
            if header.startswith("sluice_session="):
                return header.split(";")[0].split("=", 1)[1]
    raise SystemExit("login did not give a session cookie")


def propose(server, admin, password, projects, n, seed=7):
    """A developer (organisation-wide role) proposes `n` decisions on findings of random
    projects, so the triage queue has something to list. Returns how many were stored."""
    rnd = random.Random(seed)
    server.call("POST", "/users", admin, {"username": "dev", "password": password})
    server.call("POST", "/users/dev/roles", admin, {"project": None, "role": "developer"})
    status, session = server.call("POST", "/auth/login", body={"username": "dev", "password": password})
    dev = session["token"]
    stored = 0
    for p in rnd.sample([f"load-{i:05}" for i in range(projects)], min(n, projects)):
        status, page = server.call("GET", f"/findings?project={p}&limit=1", admin)
        if status != 200 or not page["items"]:
            continue
        fp = page["items"][0]["fingerprint"]
        status, _ = server.call("POST", "/decisions", dev, {
            "project": p, "scope": "finding", "fingerprint": fp, "status": "false_positive",
            "reason": "test fixture, not shipped"})
        stored += status == 201
    return stored


def page_mix(server, admin, projects, seed=11):
    """Per page kind, a randomised list of URLs."""
    rnd = random.Random(seed)
    names = [f"load-{i:05}" for i in range(projects)]
    # Fingerprints and runs to open: a few per sampled project, read through the API.
    findings, runs = [], []
    for p in rnd.sample(names, min(50, len(names))):
        status, page = server.call("GET", f"/findings?project={p}&limit=20", admin)
        if status == 200:
            findings += [(p, f["fingerprint"]) for f in page["items"]]
        status, page = server.call("GET", f"/projects/{p}/runs?limit=1", admin)
        if status == 200:
            runs += [r["id"] for r in page["items"]]
    mix = {"portfolio": [], "project": [], "finding": [], "triage": [], "impact": [], "run": []}
    for _ in range(2000):
        q = []
        if rnd.random() < 0.3:
            q.append("q=" + str(rnd.randrange(100)))
        if rnd.random() < 0.3:
            q.append("severity=" + rnd.choice(["critical", "high", "medium", "low"]))
        q.append("sort=" + rnd.choice(["severity", "name", "open", "new", "fixed", "last_run", "sla"]))
        if rnd.random() < 0.2:
            q.append(f"page={rnd.randrange(2, 21)}")
        mix["portfolio"].append("/ui/?" + "&".join(q))
        p = rnd.choice(names)
        q = []
        r = rnd.random()
        if r < 0.2:
            q.append("stage=" + rnd.choice(bench.STAGES))
        elif r < 0.3:
            q.append(f"rule={rnd.choice(bench.STAGES)}.rule-{rnd.randrange(50):03}")
        elif r < 0.4:
            q.append("severity=" + rnd.choice(["critical", "high", "medium"]))
        mix["project"].append(f"/ui/projects/{p}" + ("?" + "&".join(q) if q else ""))
        if findings:
            fp = rnd.choice(findings)
            mix["finding"].append(f"/ui/projects/{fp[0]}/findings/{fp[1]}")
        mix["triage"].append("/ui/triage")
        r = rnd.random()
        if r < 0.5:
            mix["impact"].append("/ui/impact?advisory=" + f"{rnd.choice(bench.STAGES)}.rule-{rnd.randrange(50):03}")
        else:
            # Which projects ship a package (about 240 of 2,000 do), sometimes in a range or by purl.
            name = rnd.choice(bench.PACKAGES)
            q = "package=" + (urllib.parse.quote(f"pkg:npm/{name}") if r < 0.65 else name)
            if rnd.random() < 0.5:
                q += "&version=" + urllib.parse.quote(f">={rnd.randrange(3)}.0, <{rnd.randrange(3, 6)}")
            mix["impact"].append("/ui/impact?" + q)
        if runs:
            mix["run"].append(f"/ui/runs/{rnd.choice(runs)}")
    return {k: v for k, v in mix.items() if v}


def measure(server, session, paths, sessions, duration, work, kind):
    path_file = os.path.join(work, f"paths-{kind}.txt")
    with open(path_file, "w") as f:
        f.write("\n".join(paths) + "\n")
    script = os.path.join(work, "pages.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    env = dict(os.environ, BENCH_PATHS=path_file, BENCH_SESSION=session)
    subprocess.run(["wrk", "-t2", f"-c{sessions}", "-d3s", "-s", script, server.base], env=env,
                   capture_output=True, check=True)
    out = subprocess.run(["wrk", "-t2", f"-c{sessions}", f"-d{duration}s", "--timeout", "10s", "-s", script,
                          server.base], env=env, capture_output=True, text=True, check=True)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    figures = json.loads(line)
    figures["requests_per_second"] = round(figures["requests"] / figures["seconds"])
    return figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--out", default="bench-pages-out")
    ap.add_argument("--projects", type=int, default=2000)
    ap.add_argument("--findings", type=int, default=500)
    ap.add_argument("--loaders", type=int, default=4)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--pause", default="",
                    help="pgrep -f pattern of other processes to SIGSTOP while pages are timed (a shared machine)")
    ap.add_argument("--proposals", type=int, default=300,
                    help="proposals a developer makes before the pages are read (the triage queue)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f"sluice-pages-{args.backend}-")
    server = bench.Server(os.path.abspath(args.sluice), args.backend, work)
    result = {"backend": args.backend, "binary": os.path.abspath(args.sluice), "sessions": args.sessions}
    try:
        token = open(os.path.join(server.data, "first-admin-login-token")).read().strip()
        status, session = server.call("POST", "/auth/login", body={"login_token": token})
        admin = session["token"]
        password = "bench-password-long-enough"
        server.call("PUT", "/users/admin/password", admin, {"password": password})
        status, org = server.call("POST", "/tokens", admin, {"name": "bench", "kind": "organisation"})
        bench.phase_load(server, org["token"], args.projects, args.findings, args.loaders, result, with_sbom=True)
        print(json.dumps(result["load"]), file=sys.stderr)
        if args.backend == "postgres":
            # As bench.py: measure after the server's once-a-minute statistics refresh has
            # analysed what the load wrote, not beside it.
            time.sleep(65)
        result["proposals"] = propose(server, admin, password, args.projects, args.proposals)
        mix = page_mix(server, admin, args.projects)
        result["pages"] = {}
        for kind, paths in mix.items():
            # A session of its own per page kind (sessions are cheap; the token's use is
            # recorded at most once a minute).
            cookie = login(server, "admin", password)
            quiet = bench.Quiet(args.pause)
            try:
                figures = measure(server, cookie, paths, args.sessions, args.duration, work, kind)
            finally:
                quiet.done()
            result["pages"][kind] = figures
            print(kind, json.dumps(figures), file=sys.stderr)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(args.out, f"pages-{args.backend}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
