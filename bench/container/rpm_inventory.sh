#!/usr/bin/env bash
# rpm inventory: an image whose rpm database (N real packages, F files each) grows over L
# layers; sluice's inventory (release build) vs `rpm -qa` reading the final database once.
# Usage: bench/container/rpm_inventory.sh [N] [FILES] [LAYERS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
N=${1:-1000}
F=${2:-40}
L=${3:-10}
DB=/tmp/sluice-bench-rpmdb-$N-$F.sqlite
IMG=/tmp/sluice-bench-rpm-image-$N-$F-$L.tar
[ -f "$DB" ] || bash "$HERE/gen_rpmdb.sh" "$DB" "$N" "$F"
[ -f "$IMG" ] || python3 "$HERE/gen_rpm_image.py" "$DB" "$IMG" "$L" >&2
(cd "$ROOT" && cargo build --release -q -p sluice-container --example inventory)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/inventory
DBDIR=$(mktemp -d)
trap 'rm -rf "$DBDIR"' EXIT
cp "$DB" "$DBDIR/rpmdb.sqlite"
ls -l "$DB" "$IMG" >&2
"$BIN" "$IMG" | grep -c '^pkg:rpm/' | sed 's/^/rpm packages inventoried: /'
rpm --dbpath "$DBDIR" --define '_db_backend sqlite' -qa | wc -l | sed 's/^/rpm -qa packages: /'
for i in 1 2 3; do
  /usr/bin/time -a -o "$DBDIR/times" -f "sluice $i ($L layers, each re-reading its database): %e s wall, %M KiB peak RSS" \
    "$BIN" "$IMG" > /dev/null 2>&1
  /usr/bin/time -a -o "$DBDIR/times" -f "rpm -qa $i (final database once): %e s wall, %M KiB peak RSS" \
    rpm --dbpath "$DBDIR" --define '_db_backend sqlite' -qa --qf '%{NAME} %{EVR} %{ARCH} %{SOURCERPM}\n' > /dev/null
done
cat "$DBDIR/times"
