#!/usr/bin/env bash
# Triage benchmark (issue 7): `sluice triage` applying 10,000 decisions to 100,000 results, with
# and without a baseline of the same 100,000 results; `sluice merge` of the same log (parse,
# normalize, write: the work every transform stage does) as the reference.
# Prints wall times (hyperfine, median after a warm-up) and peak RSS (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-/tmp/sluice-bench/triage}
R=${RESULTS:-100000}; D=${DECISIONS:-10000}
cargo build --release -q -p sluice
BIN=$PWD/target/release/sluice
[ -f "$W/triage.toml" ] || python3 bench/gen_triage.py "$W" "$R" "$D"
# The baseline: the same findings, as `sluice baseline --sarif` records them.
[ -f "$W/baseline.sarif" ] || "$BIN" baseline --sarif "$W/results.sarif" -o "$W/baseline.sarif" "$W/root"
echo "input: $(du -h "$W/results.sarif" | cut -f1), $R results; $(grep -c '^\[\[decision\]\]' "$W/triage.toml") decisions"
MERGE="$BIN merge --root $W/root $W/results.sarif"
TRIAGE="$BIN triage $W/results.sarif --root $W/root --decisions $W/triage.toml --no-baseline"
BOTH="$BIN triage $W/results.sarif --root $W/root --decisions $W/triage.toml --baseline $W/baseline.sarif"
hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$W/hyperfine.json" \
  -n merge "$MERGE > $W/merged.sarif" \
  -n triage "$TRIAGE > $W/triaged.sarif 2> $W/triage.err" \
  -n triage+baseline "$BOTH > $W/both.sarif 2> $W/both.err"
for name in MERGE TRIAGE BOTH; do
  /usr/bin/time -v ${!name} 2> "$W/time.txt" > /dev/null || true
  echo "$name: $(grep -E 'Maximum resident' "$W/time.txt" | sed 's/.*: //') KiB peak RSS"
done
cat "$W/triage.err" "$W/both.err" | grep -E "^(triage|baseline):"
python3 - "$W/both.sarif" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
res = [r for run in d["runs"] for r in run.get("results", [])]
sup = sum(1 for r in res if any(s.get("status") == "accepted" for s in r.get("suppressions", [])))
print(f"output: {len(res)} results, {sup} suppressed, none deleted")
PY
# The library alone (no process start, no SARIF parsing or writing of the log).
cargo run --release -q -p sluice-triage --example apply_bench -- "$W"
