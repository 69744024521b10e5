"""What differs between two SARIF logs, by kind: each differing path with array indices and
rule ids collapsed, and how often. For reading a before/after comparison (bench/before_after.sh).

usage: sarif_diff.py BEFORE AFTER
"""
import collections
import json
import re
import sys


def walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out[f"{path}/{k}: added"] += 1
            elif k not in b:
                out[f"{path}/{k}: removed"] += 1
            else:
                walk(a[k], b[k], f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b) and not all(isinstance(x, (dict, list)) for x in a + b):
            out[f"{path}: {sorted(set(map(str, b)) - set(map(str, a)))} added, {sorted(set(map(str, a)) - set(map(str, b)))} removed"] += 1
            return
        if len(a) != len(b):
            out[f"{path}: {len(a)} -> {len(b)} items"] += 1
        for x, y in zip(a, b):
            walk(x, y, f"{path}[]", out)
    elif a != b:
        out[f"{path}: changed"] += 1


with open(sys.argv[1]) as f:
    before = json.load(f)
with open(sys.argv[2]) as f:
    after = json.load(f)
out = collections.Counter()
walk(before, after, "", out)
collapsed = collections.Counter()
for k, n in out.items():
    collapsed[re.sub(r"external/cwe/cwe-\d+", "external/cwe/cwe-N", k)] += n
for k, n in sorted(collapsed.items()):
    print(f"{n:6}  {k}")
