#!/usr/bin/env bash
# SAST benchmarks (docs/benchmarks.md, "SAST"):
#  1. Django 5.1.4: sluice's Python pack vs semgrep with the same rules' intent written in
#     semgrep syntax (bench/sast/semgrep-python), same tree, same session, several runs
#     (hyperfine), peak RSS from /usr/bin/time -v, and what each tool scanned and found.
#  2. The whole corpus with every pack: wall time, peak RSS, files, findings per rule.
# Needs: hyperfine, GNU time; the corpus and the peers come from ../shared/tools.
# Usage: bench/sast/compare.sh [RUNS]   (writes its raw outputs under $OUT, default /tmp/sluice-bench-sast)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
RUNS=${1:-5}
OUT=${OUT:-/tmp/sluice-bench-sast}
mkdir -p "$OUT"

CORPUS=$(bash "$SHARED/tools/corpus.sh")
PEERS=$(bash "$SHARED/tools/install-peers.sh")
export PATH="$PEERS:$PATH"
(cd "$ROOT" && cargo build --release -q -p sluice)
SLUICE="${CARGO_TARGET_DIR:-$ROOT/target}/release/sluice"

# sluice reads sluice.toml from the scanned root, so scan a copy of Django that selects the
# Python pack; semgrep scans the same copy (a .toml file is not Python to either tool).
DJ="$OUT/django"
rm -rf "$DJ"
cp -r "$CORPUS/Django-5.1.4-py3-none-any" "$DJ"
printf '[stages.sast]\nlanguages = ["python"]\n' > "$DJ/sluice.toml"

SG=(semgrep scan --config "$HERE/semgrep-python" --metrics=off --disable-version-check --json)

echo "== versions"
"$SLUICE" --version
semgrep --version
echo "python rules: sluice $("$SLUICE" scan sast "$DJ" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["invocations"][0]["properties"]["sluice/rules"])'), semgrep $(grep -c '^  - id:' "$HERE"/semgrep-python/*.yml | awk -F: '{s+=$2} END {print s}')"

echo "== Django 5.1.4: what each tool scanned and found"
"$SLUICE" scan sast "$DJ" > "$OUT/sluice-django.sarif"
"${SG[@]}" "$DJ" > "$OUT/semgrep-django.json" 2> "$OUT/semgrep-django.err"
python3 - "$OUT/sluice-django.sarif" "$OUT/semgrep-django.json" <<'EOF'
import collections, json, sys
sarif = json.load(open(sys.argv[1]))["runs"][0]
sg = json.load(open(sys.argv[2]))
props = sarif["invocations"][0]["properties"]
print(f"sluice : {props['sluice/files-scanned']} files, {props['sluice/bytes-scanned']} bytes, {len(sarif['results'])} findings")
scanned = sg.get("paths", {}).get("scanned", [])
print(f"semgrep: {len(scanned)} files, {len(sg['results'])} findings, {len(sg['errors'])} errors")
a = collections.Counter(r["ruleId"].removeprefix("python.") for r in sarif["results"])
b = collections.Counter(r["check_id"].rsplit(".", 1)[-1] for r in sg["results"])
print(f"{'rule':40} {'sluice':>7} {'semgrep':>8}")
for rule in sorted(set(a) | set(b)):
    print(f"{rule:40} {a.get(rule, 0):>7} {b.get(rule, 0):>8}")
EOF

echo "== Django 5.1.4: time (hyperfine, $RUNS runs after a warm-up)"
hyperfine --warmup 1 --runs "$RUNS" --output=pipe --export-json "$OUT/django-hyperfine.json" \
  -n sluice "$SLUICE scan sast $DJ" \
  -n semgrep "${SG[*]} $DJ"
python3 - "$OUT/django-hyperfine.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
s, g = r["sluice"]["median"], r["semgrep"]["median"]
print(f"median: sluice {s:.2f} s, semgrep {g:.2f} s, ratio {g / s:.1f}x")
EOF

echo "== Django 5.1.4: peak memory"
peak() { /usr/bin/time -v "$@" 2>&1 >"$OUT/peak.out" | awk -F': ' '/Maximum resident/ {printf "%.0f MiB\n", $2/1024}'; }
echo "sluice : $(peak "$SLUICE" scan sast "$DJ")"
echo "semgrep: $(peak "${SG[@]}" "$DJ")"

echo "== whole corpus, every pack: time, memory, findings per rule"
/usr/bin/time -v "$SLUICE" scan sast "$CORPUS" > "$OUT/sluice-corpus.sarif" 2> "$OUT/corpus.time"
grep -E 'Elapsed|Maximum resident' "$OUT/corpus.time"
python3 - "$OUT/sluice-corpus.sarif" <<'EOF'
import collections, json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
inv = run["invocations"][0]
print({k.removeprefix("sluice/"): v for k, v in inv["properties"].items()})
for n in inv["toolExecutionNotifications"]:
    print("  note:", n["message"]["text"])
precision = {r["id"]: r["properties"]["precision"] for r in run["tool"]["driver"]["rules"]}
for rule, n in collections.Counter(r["ruleId"] for r in run["results"]).most_common():
    print(f"{n:>5}  {rule}  ({precision[rule]})")
EOF
