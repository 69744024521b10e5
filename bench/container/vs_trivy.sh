#!/usr/bin/env bash
# Image inventory against trivy on the same ~500 MB image tarball: wall time and peak memory
# (GNU time, 3 runs each, trivy with an empty cache every run), then the two SBOMs compared
# package by package (name, version) and layer by layer (trivy's LayerDiffID vs sluice:layer).
# Needs trivy (../shared/tools/install-peers.sh puts it in /tmp/sluice-peers/bin).
# Usage: bench/container/vs_trivy.sh [SIZE_MB] [LAYERS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
SIZE=${1:-500}
LAYERS=${2:-20}
IMG=${SLUICE_BENCH_IMAGE:-/tmp/sluice-bench-image-${SIZE}.tar}
TRIVY=${TRIVY:-/tmp/sluice-peers/bin/trivy}
OUT=${OUT:-/tmp/sluice-bench/vs-trivy}
mkdir -p "$OUT"
[ -f "$IMG" ] || python3 "$HERE/gen_image.py" "$IMG" "$SIZE" "$LAYERS" >&2
(cd "$ROOT" && cargo build --release -q -p sluice)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/sluice
ls -l "$IMG" >&2
"$TRIVY" --version | head -1
for i in 1 2 3; do
  rm -rf "$OUT/trivy-cache"
  /usr/bin/time -f "trivy $i: %e s wall, %M KiB peak RSS" "$TRIVY" image --cache-dir "$OUT/trivy-cache" \
    --input "$IMG" --format cyclonedx --scanners "" --skip-db-update --offline-scan --disable-telemetry -q \
    -o "$OUT/trivy.cdx.json"
  /usr/bin/time -o "$OUT/time.txt" -f "sluice $i: %e s wall, %M KiB peak RSS" \
    "$BIN" sbom --image "$IMG" -o "$OUT/sluice.cdx.json" 2>/dev/null
  cat "$OUT/time.txt"
done
python3 - "$OUT/sluice.cdx.json" "$OUT/trivy.cdx.json" <<'PY'
import json, sys
s, t = (json.load(open(p)) for p in sys.argv[1:3])
def name(c): return c["group"] + "/" + c["name"] if "group" in c else c["name"]
def props(c): return {p["name"]: p["value"] for p in c.get("properties", [])}
a = {(name(c), c["version"]): props(c).get("sluice:layer") for c in s["components"]}
b = {(name(c), c.get("version")): props(c).get("aquasecurity:trivy:LayerDiffID")
     for c in t["components"] if c.get("type") == "library"}
print(f"packages: sluice {len(a)}, trivy {len(b)}, both {len(a.keys() & b.keys())}")
print(f"only sluice: {sorted(a.keys() - b.keys())[:10]}")
print(f"only trivy: {sorted(b.keys() - a.keys())[:10]}")
same = sum(1 for k in a.keys() & b.keys() if a[k] == b[k])
print(f"same introducing layer: {same} of {len(a.keys() & b.keys())}")
PY
