#!/usr/bin/env bash
# Inventory of a ~500 MB image tarball: wall time and peak memory (GNU time), 3 runs.
# Usage: bench/container/inventory.sh [SIZE_MB] [LAYERS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
SIZE=${1:-500}
LAYERS=${2:-20}
IMG=${SLUICE_BENCH_IMAGE:-/tmp/sluice-bench-image-${SIZE}.tar}
[ -f "$IMG" ] || python3 "$HERE/gen_image.py" "$IMG" "$SIZE" "$LAYERS" >&2
(cd "$ROOT" && cargo build --release -q -p sluice-container --example inventory)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/inventory
ls -l "$IMG" >&2
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M KiB peak RSS" "$BIN" "$IMG" > /tmp/sluice-bench-inventory.txt
done
wc -l < /tmp/sluice-bench-inventory.txt | sed 's/^/packages: /'
# The floor, alternated with sluice: one pass of tar + zcat over every layer (all gzip when
# the zstandard Python module is absent), no tar parsing, no inventory.
for i in 1 2 3; do
  /usr/bin/time -f "floor $i (tar -xO | zcat): %e s wall, %M KiB peak RSS" \
    bash -c "tar -xOf '$IMG' --wildcards '*/layer.tar' | zcat > /dev/null"
  /usr/bin/time -f "sluice $i: %e s wall, %M KiB peak RSS" "$BIN" "$IMG" > /dev/null 2>&1
done
