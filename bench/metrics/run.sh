#!/usr/bin/env bash
# The metrics benchmark: 100,000 commits and 10,000 deployments (N and D override), built with
# git fast-import, events imported as JSON lines; then the time (hyperfine) and peak memory
# (/usr/bin/time -v) of `sluice metrics` in its forms. Needs a release build:
#   cargo build --release -p sluice && bench/metrics/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}
D=${D:-10000}
WORK=${WORK:-/tmp/sluice-bench-metrics}
SLUICE=${SLUICE:-${CARGO_TARGET_DIR:-target}/release/sluice}
SLUICE=$(realpath "$SLUICE")
rm -rf "$WORK"
mkdir -p "$WORK/repo"
git -C "$WORK/repo" init -q -b main
start=$(date +%s.%N)
python3 bench/metrics/gen_history.py stream "$N" | git -C "$WORK/repo" fast-import --quiet --export-marks="$WORK/marks"
git -C "$WORK/repo" reset -q --hard main
python3 bench/metrics/gen_history.py events "$WORK/marks" "$N" "$D" > "$WORK/events.jsonl"
echo "generated $(git -C "$WORK/repo" rev-list --count HEAD) commits, $(grep -c '"deployment"' "$WORK/events.jsonl") deployments, $(grep -c '"incident"' "$WORK/events.jsonl") incidents in $(echo "$(date +%s.%N) - $start" | bc) s"
UNTIL=@$((1500000000 + N * 600 + 86400))
mem() { /usr/bin/time -v "$@" 2> "$WORK/time.txt" > "$WORK/out.txt"; grep -E "Maximum resident|Elapsed" "$WORK/time.txt" | sed 's/^\s*/  /'; }
echo "record import:"; mem "$SLUICE" record import "$WORK/events.jsonl" --repo "$WORK/repo"
echo "metrics (text):"; mem "$SLUICE" metrics --repo "$WORK/repo" --until "$UNTIL"
head -12 "$WORK/out.txt"
echo "metrics --path services/svc3 (json):"; mem "$SLUICE" metrics --repo "$WORK/repo" --until "$UNTIL" --path services/svc3 --format json
echo "metrics (svg):"; mem "$SLUICE" metrics --repo "$WORK/repo" --until "$UNTIL" --format svg
cp "$WORK/out.txt" "$WORK/dora.svg"
hyperfine --warmup 1 --runs "${RUNS:-5}" \
  "$SLUICE metrics --repo $WORK/repo --until $UNTIL --format json" \
  "$SLUICE metrics --repo $WORK/repo --until $UNTIL --path services/svc3 --format json" \
  "git -C $WORK/repo rev-list --count HEAD" \
  "git -C $WORK/repo log --format='%H %P %at %ct' HEAD"
