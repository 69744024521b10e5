#!/usr/bin/env bash
# Policy benchmark (issue 8): `sluice gate` with each built-in profile over one merged log of
# 100,000 results (4 generated tool logs x 25,000, merged by `sluice merge`), against
# `sluice policy input` (read the log and build the input, no evaluation) as the floor.
# Prints wall time (hyperfine, median after a warm-up) and peak RSS (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${BENCH_DIR:-/tmp/sluice-bench/policy}
N=${N:-4}; M=${M:-25000}
T=${CARGO_TARGET_DIR:-target}
# PROFILE=dev measures the debug build (dependencies at opt-level 1) when a release build does
# not fit the machine; docs/benchmarks.md says which profile each number comes from.
if [ "${PROFILE:-release}" = dev ]; then
  cargo build -q -p sluice; BIN=$T/debug/sluice
else
  cargo build --release -q -p sluice; BIN=$T/release/sluice
fi
[ -f "$W/in/tool$(printf %02d $((N-1))).sarif" ] || python3 bench/gen_sarif.py "$W/in" "$N" "$M"
mkdir -p "$W/root"
[ -f "$W/merged.sarif" ] || "$BIN" merge --root "$W/root" "$W"/in/*.sarif > "$W/merged.sarif"
echo "input: $(du -h "$W/merged.sarif" | cut -f1), $((N*M)) results"
NOW=2026-11-26T12:00:00Z
hyperfine --warmup 1 --runs "${RUNS:-5}" -i --export-json "$W/hyperfine.json" \
  "$BIN policy input --root $W/root --now $NOW $W/merged.sarif > $W/input.json" \
  "$BIN gate --profile velocity --root $W/root --now $NOW --time-limit 5m $W/merged.sarif > $W/gated-velocity.sarif" \
  "$BIN gate --profile constrained --root $W/root --now $NOW --time-limit 5m $W/merged.sarif > $W/gated-constrained.sarif"
for p in velocity constrained; do
  /usr/bin/time -v "$BIN" gate --profile $p --root "$W/root" --now $NOW --time-limit 5m "$W/merged.sarif" \
    2> "$W/time-$p.txt" > "$W/gated-$p.sarif" || true
  echo "$p: $(grep -E '^gate:' "$W/time-$p.txt") | $(grep -E 'Maximum resident' "$W/time-$p.txt" | sed 's/^\s*//')"
done
/usr/bin/time -v "$BIN" policy input --root "$W/root" --now $NOW "$W/merged.sarif" 2> "$W/time-input.txt" > "$W/input.json"
echo "input only: $(grep -E 'Maximum resident' "$W/time-input.txt" | sed 's/^\s*//')"
