#!/usr/bin/env bash
# Server decisions benchmark (issue 18): what applying the server's signed decision set adds to
# `sluice run` — 100,000 decisions on a 50,000-result log. Input from gen_server_decisions.py
# (seeded); the timing from the sluice-triage example `server_bench` (the steps of `sluice run`:
# read the cache, verify the Ed25519 signature, parse, apply_server, write the log), median of
# RUNS; peak RSS (/usr/bin/time -v) with and without the decisions. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${BENCH_DIR:-/tmp/sluice-bench/server-decisions}
R=${RESULTS:-50000}; D=${DECISIONS:-100000}
[ -f "$W/root/.sluice/cache/decision-set.json" ] || python3 bench/triage/gen_server_decisions.py "$W" "$R" "$D"
cargo build --release -q -p sluice-triage --example server_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/server_bench
echo "input: $(du -h "$W/results.sarif" | cut -f1) log, $(du -h "$W/root/.sluice/cache/decision-set.json" | cut -f1) cached decision set"
"$BIN" "$W" apply "${RUNS:-5}"
for mode in none apply; do
  /usr/bin/time -v "$BIN" "$W" "$mode" 1 2> "$W/time.txt" > /dev/null
  echo "$mode: $(grep -E 'Maximum resident' "$W/time.txt" | sed 's/.*: //') KiB peak RSS, $(grep -E 'Elapsed' "$W/time.txt" | sed 's/.*: //') wall"
done
