#!/usr/bin/env bash
# The server benchmark on both backends (see README.md). Not part of CI.
#   bench/server/run.sh [OUT_DIR]     (SLUICE=path/to/release/sluice to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bench-server-out}
if [ -z "${SLUICE:-}" ]; then
  cargo build --release --locked -p sluice
  SLUICE=${CARGO_TARGET_DIR:-target}/release/sluice
fi
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is needed (PostgreSQL client) for the PostgreSQL run" >&2; exit 1; }
mkdir -p "$OUT"
for backend in sqlite postgres; do
  python3 bench/server/bench.py --sluice "$SLUICE" --backend "$backend" --out "$OUT" "${@:2}"
done
