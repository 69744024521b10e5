#!/usr/bin/env bash
# Merge benchmark (issue 2): `sluice merge` of 20 SARIF logs x 25,000 results each.
# Prints wall time (hyperfine, median of runs after a warm-up) and peak RSS (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-/tmp/sluice-bench/merge}
N=${N:-20}; M=${M:-25000}
cargo build --release -q -p sluice
BIN=$PWD/target/release/sluice
[ -f "$W/in/tool$(printf %02d $((N-1))).sarif" ] || python3 bench/gen_sarif.py "$W/in" "$N" "$M"
mkdir -p "$W/root"
echo "inputs: $N files, $(du -sh "$W/in" | cut -f1), $((N*M)) results"
hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$W/hyperfine.json" \
  "$BIN merge --root $W/root $W/in/*.sarif > $W/merged.sarif"
/usr/bin/time -v "$BIN" merge --root "$W/root" "$W"/in/*.sarif 2> "$W/time.txt" > "$W/merged.sarif"
grep -E "Maximum resident|Elapsed" "$W/time.txt"
echo "output: $(du -h "$W/merged.sarif" | cut -f1), $(python3 -c "import json,sys;d=json.load(open('$W/merged.sarif'));print(sum(len(r['results']) for r in d['runs']))") results"
