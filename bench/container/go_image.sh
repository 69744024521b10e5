#!/usr/bin/env bash
# Inventory of an image whose layer holds real Go binaries (the peers' trivy and gitleaks under
# /tmp/sluice-peers/bin, 175 MB and 22 MB): every executable is streamed through the build info
# scanner. Compares the module lists with `go version -m` when go is installed, then times 3
# runs alternating with the tar + zcat floor over the same layer.
# Usage: bench/container/go_image.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
PEERS=${SLUICE_PEERS:-/tmp/sluice-peers/bin}
IMG=${SLUICE_BENCH_GO_IMAGE:-/tmp/sluice-bench-go-image.tar}
if [ ! -f "$IMG" ]; then
  python3 - "$IMG" "$(readlink -f "$PEERS/trivy")" "$(readlink -f "$PEERS/gitleaks")" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
out, bins = sys.argv[1], sys.argv[2:]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    for b in bins:
        info = t.gettarinfo(b, arcname="usr/local/bin/" + b.rsplit("/", 1)[1])
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o755, 0, 0, "", ""
        with open(b, "rb") as f:
            t.addfile(info, f)
layer = gzip.compress(buf.getvalue(), compresslevel=6, mtime=0)
diff_id = "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["go:bench"], "Layers": ["0/layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in [("config.json", config), ("0/layer.tar", layer), ("manifest.json", manifest)]:
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
PY
fi
(cd "$ROOT" && cargo build --release -q -p sluice-container --example inventory)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/inventory
ls -l "$IMG" >&2
"$BIN" "$IMG" > /tmp/sluice-bench-go.txt
grep -c '^pkg:golang/' /tmp/sluice-bench-go.txt | sed 's/^/go packages: /'
if command -v go > /dev/null; then
  for b in trivy gitleaks; do
    # go version -m: dep lines (replacements applied) + main module + stdlib.
    want=$(go version -m "$(readlink -f "$PEERS/$b")" | awk -F'\t' '$2=="dep"||$2=="mod"{n++} $2=="=>"{} END{print n+1}')
    got=$(grep -c "	/usr/local/bin/$b\$" /tmp/sluice-bench-go.txt)
    echo "$b: go version -m lists $want modules (with stdlib), sluice $got"
  done
fi
for i in 1 2 3; do
  /usr/bin/time -f "floor $i (tar -xO | zcat): %e s wall, %M KiB peak RSS" \
    bash -c "tar -xOf '$IMG' 0/layer.tar | zcat > /dev/null"
  /usr/bin/time -f "sluice $i: %e s wall, %M KiB peak RSS" bash -c "'$BIN' '$IMG' > /dev/null 2>&1"
done
