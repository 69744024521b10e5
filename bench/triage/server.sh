#!/usr/bin/env bash
# Server decisions benchmark (issue 18): what applying the server's signed decision set adds to
# `sluice run` — 100,000 decisions on a 50,000-result log. Input from gen_server_decisions.py
# (seeded); the timing from the sluice-triage example `server_bench` (the steps of `sluice run`:
# read the cache, verify the Ed25519 signature while parsing, apply_server, write the log), median
# of RUNS processes; peak RSS (/usr/bin/time -v) with and without the decisions. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${BENCH_DIR:-/tmp/sluice-bench/server-decisions}
R=${RESULTS:-50000}; D=${DECISIONS:-100000}
[ -f "$W/root/.sluice/cache/decision-set.json" ] || python3 bench/triage/gen_server_decisions.py "$W" "$R" "$D"
cargo build --release -q -p sluice-triage --example server_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/server_bench
echo "input: $(du -h "$W/results.sarif" | cut -f1) log, $(du -h "$W/root/.sluice/cache/decision-set.json" | cut -f1) cached decision set"
# Each run a fresh process, as `sluice run` is (a process that repeats the steps reuses memory it
# already faulted in, which a real run cannot): the median of RUNS processes, step by step.
for _ in $(seq "${RUNS:-5}"); do "$BIN" "$W" apply 1; done > "$W/runs.txt"
grep -m1 'decisions,' "$W/runs.txt"
python3 - "$W/runs.txt" <<'PY'
import re, statistics, sys
steps = {}
for line in open(sys.argv[1]):
    m = re.match(r"(.+?)\s+([0-9.]+) ms \(median of 1\)", line)
    if m:
        steps.setdefault(m.group(1).strip(), []).append(float(m.group(2)))
for name, times in steps.items():
    print(f"{name:<32} {statistics.median(times):8.1f} ms (median of {len(times)} processes; min {min(times):.1f})")
PY
for mode in none apply; do
  /usr/bin/time -v "$BIN" "$W" "$mode" 1 2> "$W/time.txt" > /dev/null
  echo "$mode: $(grep -E 'Maximum resident' "$W/time.txt" | sed 's/.*: //') KiB peak RSS, $(grep -E 'Elapsed' "$W/time.txt" | sed 's/.*: //') wall"
done
