"""Generates the metrics benchmark: a git history and the events deployed from it.

  python3 gen_history.py stream N            > fast-import stream of N commits (stdout)
  python3 gen_history.py events MARKS N D    > JSON lines: D deployments, incidents (stdout)

The history is a monorepo of 10 services (services/svc0..svc9), one file changed per commit,
round robin, one commit every 10 minutes, and every 100 commits a merge commit bringing in a
side-branch commit; one in 9,973 commits is committed before it was authored and one is dated
2099 (so the warning paths run too).
Deployments are spread evenly over the history (every N/D-th commit, 30 minutes after it); one
in 20 fails, one in 25 gets an incident (linked by cause commit or deployment id, resolved 2
hours later); one deployment is of a commit the repository does not have. Deterministic.
"""
import json
import sys

T0 = 1_500_000_000
STEP = 600


def stream(n):
    out = sys.stdout.buffer
    w = out.write
    mark = 0
    for i in range(n):
        mark += 1
        author = committer = T0 + i * STEP
        if i % 9973 == 17:
            committer = author - 3600  # committed before authored
        if i == n - 5:
            author = committer = 4_070_908_800  # 2099
        side = None
        if i % 100 == 50:
            # A side-branch commit, merged by this main commit.
            side = 10_000_000 + i
            body = f"side {i}\n".encode()
            w(b"commit refs/heads/side\nmark :%d\n" % side)
            w(b"author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (author - 60, author - 60))
            w(b"data %d\n%s" % (len(body), body))
            w(b"from :%d\n" % (mark - 1))
            w(b"M 644 inline services/svc%d/side.txt\ndata %d\n%s\n" % (i % 10, len(body), body))
        msg = f"change {i}\n".encode()
        w(b"commit refs/heads/main\nmark :%d\n" % mark)
        w(b"author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (author, committer))
        w(b"data %d\n%s" % (len(msg), msg))
        if mark > 1:
            w(b"from :%d\n" % (mark - 1))
        if side:
            w(b"merge :%d\n" % side)
        body = f"{i}\n".encode()
        w(b"M 644 inline services/svc%d/file.txt\ndata %d\n%s\n" % (i % 10, len(body), body))
    w(b"done\n")


def events(marks_path, n, d):
    marks = {}
    for line in open(marks_path):
        m, sha = line.split()
        marks[int(m[1:])] = sha  # side-branch marks are above 10,000,000 and unused here
    print(json.dumps({"type": "header", "format": "sluice-events", "version": 1}))
    every = max(1, n // d)
    incidents = []
    for k in range(d):
        i = min(n - 6, (k + 1) * every - 1)  # the last commits (one dated 2099) stay undeployed
        at = T0 + i * STEP + 1800
        sha = marks[i + 1]
        if k == d // 2:
            sha = "0" * 40  # a deployment of an unknown commit
        status = "failure" if k % 20 == 19 else "success"
        print(json.dumps({"type": "deployment", "id": k + 1, "env": "prod", "commit": sha, "at": iso(at), "status": status, "source": "bench"}))
        if k % 25 == 3 and status == "success":
            inc = {"type": "incident", "id": str(len(incidents) + 1), "opened_at": iso(at + 600), "resolved_at": iso(at + 7800)}
            if len(incidents) % 2:
                inc["deploy"] = k + 1
            else:
                inc["cause"] = sha
            incidents.append(inc)
    for inc in incidents:
        print(json.dumps(inc))


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    if sys.argv[1] == "stream":
        stream(int(sys.argv[2]))
    else:
        events(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
