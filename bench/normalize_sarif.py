"""A SARIF log without what changes from one run to the next, for comparing two binaries' output:
invocation times and durations, the temporary directory a run used. Prints sorted, indented JSON.

usage: normalize_sarif.py FILE
"""
import json
import re
import sys

VOLATILE = re.compile(r"(time|duration|elapsed)", re.I)


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if not VOLATILE.search(k)}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


with open(sys.argv[1], encoding="utf-8") as f:
    log = json.load(f)
print(json.dumps(clean(log), indent=1, sort_keys=True, ensure_ascii=False))
