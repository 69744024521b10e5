#!/usr/bin/env bash
# Crash consistency of `sluice serve`, many times over (issue 17): each cycle fires 50
# concurrent pushes (300 results each, 5 projects) at a fresh server process, kills it with
# SIGKILL once a third are answered, restarts it on the same data and checks that every push
# answered 2xx is wholly there, that no run is half there (run row, sightings, SARIF document,
# audit row) and that the audit chain verifies. At the end every push the kills cut off is
# sent again, and every run must be stored exactly once.
#
#   bench/server/crash_loop.sh [CYCLES] [BACKENDS]     # default: 20 "sqlite postgres"
#
# PostgreSQL: 127.0.0.1:5432, user postgres, trust auth (the test creates and drops its own
# database). The results go into docs/benchmarks.md ("Server crash loop") by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
cycles=${1:-20}
backends=${2:-sqlite postgres}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for backend in $backends; do
    start=$(date +%s)
    if ! SLUICE_CRASH_CYCLES=$cycles SLUICE_CRASH_BACKEND=$backend \
        cargo test -q -p sluice --locked --test server -- --ignored --exact crash_loop --nocapture >"$out" 2>&1; then
        status=1
        tail -n 60 "$out"
    fi
    grep -E '^crash-loop' "$out" || true
    echo "crash-loop $backend wall-seconds $(($(date +%s) - start))"
done
exit $status
