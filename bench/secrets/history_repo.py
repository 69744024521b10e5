#!/usr/bin/env python3
"""Build a git repository with thousands of commits from the benchmark corpus.

    python3 bench/secrets/history_repo.py CORPUS_DIR PLANTED_TREE REPO [--commits 3000]

The corpus files (sorted by path) are added over COMMITS commits, a few files each. The planted
set's files (bench/secrets/planted.py) are committed under `leaked/` at points spread through
the history and deleted 25 commits later, so HEAD holds only the corpus and a secret is found
only by scanning history. Uses `git fast-import` (seconds, not minutes); deterministic dates and
author, so the commit ids are the same on every machine. Prints a one-line summary.
"""

import argparse
import os
import subprocess
import sys


def files_under(root):
    out = []
    for d, dirs, fs in os.walk(root):
        dirs.sort()
        for f in sorted(fs):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(os.path.relpath(p, root))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("planted")
    ap.add_argument("repo")
    ap.add_argument("--commits", type=int, default=3000)
    a = ap.parse_args()
    if os.path.exists(a.repo):
        sys.exit(f"{a.repo} exists; remove it first")
    corpus = files_under(a.corpus)
    planted = files_under(a.planted)
    n = a.commits
    subprocess.run(["git", "init", "-q", "-b", "main", a.repo], check=True)
    fi = subprocess.Popen(["git", "-C", a.repo, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    w = fi.stdin

    def data(b):
        w.write(b"data %d\n" % len(b))
        w.write(b)
        w.write(b"\n")

    # the planted files: added at commit add_at[i], deleted 25 commits later
    span = max(1, (n - 100) // max(1, len(planted)))
    add_at = {50 + i * span: p for i, p in enumerate(planted)}
    del_at = {c + 25: p for c, p in add_at.items()}
    t0 = 1_577_836_800  # 2020-01-01
    per = len(corpus) / n
    for c in range(n):
        lo, hi = int(c * per), int((c + 1) * per)
        batch = corpus[lo:hi]
        ts = t0 + c * 3600
        w.write(b"commit refs/heads/main\n")
        w.write(b"mark :%d\n" % (c + 1))
        w.write(b"author Bench Author <bench@example.invalid> %d +0000\n" % ts)
        w.write(b"committer Bench Author <bench@example.invalid> %d +0000\n" % ts)
        msg = f"Add {len(batch)} files under {batch[0].split('/')[0] if batch else '.'}"
        if c in add_at:
            msg += f"; add {add_at[c]}"
        if c in del_at:
            msg += f"; remove {del_at[c]}"
        data(msg.encode())
        if c > 0:
            w.write(b"from :%d\n" % c)
        for p in batch:
            with open(os.path.join(a.corpus, p), "rb") as fh:
                b = fh.read()
            w.write(b"M 100644 inline " + p.encode() + b"\n")
            data(b)
        if c in add_at:
            p = add_at[c]
            with open(os.path.join(a.planted, p), "rb") as fh:
                b = fh.read()
            w.write(b"M 100644 inline leaked/" + p.encode() + b"\n")
            data(b)
        if c in del_at:
            w.write(b"D leaked/" + del_at[c].encode() + b"\n")
    w.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", a.repo, "reset", "-q", "--hard", "main"], check=True)
    leaked_head = [p for c, p in add_at.items() if c + 25 >= n]
    count = subprocess.run(["git", "-C", a.repo, "rev-list", "--count", "main"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"{a.repo}: {count} commits, {len(corpus)} corpus files, {len(planted)} planted files committed under leaked/ "
          f"and removed 25 commits later ({len(leaked_head)} still in HEAD)")


if __name__ == "__main__":
    main()
