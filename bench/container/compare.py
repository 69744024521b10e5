"""Pairs sluice's and hadolint's findings per rule mapping; prints a markdown table."""
import json
import sys
from collections import defaultdict

MAPPING = [
    ("dockerfile-base-latest", ["DL3006", "DL3007"]),
    ("dockerfile-user-root", ["DL3002"]),
    ("dockerfile-sudo", ["DL3004"]),
    ("dockerfile-unpinned-package", ["DL3008", "DL3018", "DL3013", "DL3016"]),
    ("dockerfile-package-cache", ["DL3009", "DL3019", "DL3042"]),
    ("dockerfile-copy-from-unknown-stage", ["DL3022", "DL3023"]),
    ("dockerfile-add-remote-url", ["DL3020"]),
    ("dockerfile-curl-pipe-shell", ["DL4006"]),
    ("dockerfile-registry-not-allowed", ["DL3026"]),
    ("dockerfile-base-not-pinned", []),
    ("dockerfile-download-no-checksum", []),
    ("dockerfile-secret-value", []),
    ("dockerfile-secret-build-arg", []),
    ("dockerfile-expose-ssh", []),
    ("dockerfile-chmod-777", []),
]

sarif, hado, files = sys.argv[1:4]  # a 4th argument prints examples of disagreement to stderr
log = json.load(open(sarif))
ours = defaultdict(set)
for run in log["runs"]:
    for r in run.get("results") or []:
        loc = r["locations"][0]["physicalLocation"]
        ours[r["ruleId"]].add((loc["artifactLocation"]["uri"], loc["region"]["startLine"]))
theirs = defaultdict(set)
for f in json.load(open(hado)):
    theirs[f["code"]].add((f["file"].lstrip("./"), f["line"]))
n_files = sum(1 for _ in open(files))
print(f"Corpus: {n_files} Dockerfiles.\n")
print("| sluice rule | sluice findings | hadolint rule(s) | hadolint findings | same line | only sluice | only hadolint |")
print("|---|---:|---|---:|---:|---:|---:|")
for rule, codes in MAPPING:
    a = ours.get(rule, set())
    b = set().union(*(theirs.get(c, set()) for c in codes)) if codes else set()
    both = a & b
    print(f"| `{rule}` | {len(a)} | {', '.join(codes) or '—'} | {len(b) if codes else '—'} | {len(both) if codes else '—'} | {len(a - b) if codes else len(a)} | {len(b - a) if codes else '—'} |")
    if codes and len(sys.argv) > 4:
        for tag, items in (("only sluice", a - b), ("only hadolint", b - a)):
            for f, line in sorted(items)[:6]:
                print(f"  {rule} {tag}: {f}:{line}", file=sys.stderr)
mapped = {c for _, cs in MAPPING for c in cs}
other = sorted((c, len(v)) for c, v in theirs.items() if c not in mapped)
print("\nhadolint rules with no sluice counterpart (style, correctness, ShellCheck):",
      ", ".join(f"{c} ({n})" for c, n in other))
