#!/usr/bin/env bash
# End to end (issue 18): what 100,000 server decisions add to a whole `sluice run` of 50,000
# results. A repository whose one stage is an external command printing the benchmark's log
# (gen_server_decisions.py), a `[server]` it has no token for (so the run applies the signed
# cached set, as a CI job does when the server is down), the server's key pinned. hyperfine
# compares the same run with and without the cached set, with the report sluice prints by
# default (FORMAT=text) or FORMAT=sarif: the whole log on stdout, larger with the decisions, so
# not flattered by a report that leaves suppressed findings out. Not run in CI.
#
# An external stage's results are a third party's: sluice strips the `sluice/*` properties it
# did not write (docs/policy.md), so the advisory decisions, which match on the package and
# aliases the deps stage records, do not match here; finding and rule decisions do.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${BENCH_DIR:-/tmp/sluice-bench/server-decisions}
[ -f "$W/root/.sluice/cache/decision-set.json" ] || python3 bench/triage/gen_server_decisions.py "$W" 50000 100000
# SLUICE_BIN: a binary to time instead of building this checkout's (to compare two versions).
if [ -z "${SLUICE_BIN:-}" ]; then cargo build --release -q -p sluice; fi
BIN=$(realpath "${SLUICE_BIN:-${CARGO_TARGET_DIR:-target}/release/sluice}")
R=$W/e2e
rm -rf "$R" && mkdir -p "$R/.sluice/cache"
cp "$W/root/server-key.pem" "$R/"
cat > "$R/sluice.toml" <<TOML
[server]
url = "https://sluice.example"   # as the cache says; no SLUICE_TOKEN, so nothing is asked
project = "bench"
public_key = "server-key.pem"
max_decision_age = "3650d"

[stages.bench]
command = ["cat", "$W/results.sarif"]
TOML
git -C "$R" init -q && git -C "$R" add -A && git -C "$R" -c user.name=b -c user.email=b@b commit -qm bench
CACHE="$R/.sluice/cache/decision-set.json"
F=${FORMAT:-text}
run() { (cd "$R" && "$BIN" run --stages bench --format $F > /dev/null 2> "$W/e2e-$1.err" || true); }
cp "$W/root/.sluice/cache/decision-set.json" "$CACHE"; run with; tail -3 "$W/e2e-with.err"
rm -f "$CACHE"; run without; tail -3 "$W/e2e-without.err"
hyperfine -N -w 1 -r "${RUNS:-7}" --export-json "$W/e2e.json" \
  -n "without server decisions" --prepare "rm -f $CACHE" "sh -c 'cd $R && $BIN run --stages bench --format $F > /dev/null 2>&1 || true'" \
  -n "with 100,000 cached decisions" --prepare "cp $W/root/.sluice/cache/decision-set.json $CACHE" "sh -c 'cd $R && $BIN run --stages bench --format $F > /dev/null 2>&1 || true'"
for mode in without with; do
  [ "$mode" = with ] && cp "$W/root/.sluice/cache/decision-set.json" "$CACHE" || rm -f "$CACHE"
  ( cd "$R" && /usr/bin/time -v "$BIN" run --stages bench --format $F > /dev/null 2> "$W/time.txt" || true )
  echo "$mode: $(grep -E 'Maximum resident' "$W/time.txt" | sed 's/.*: //') KiB peak RSS"
done
