#!/usr/bin/env bash
# Inventory and SBOM speed against trivy (the peer users would pick for `fs --format cyclonedx`).
#
# Builds a monorepo-shaped corpus: every Cargo.lock published inside the crates in the local
# cargo registry (real lockfiles, v1-v4, one directory each) plus one copy of every other
# fixture format, then times `sluice sbom` and `trivy fs --format cyclonedx` on it with
# hyperfine, and compares the component counts for Cargo (the format both read fully).
#
# usage: bench/inventory.sh [SLUICE_BIN] [TRIVY_BIN]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sluice=${1:-$here/target/release/sluice}
trivy=${2:-/tmp/sluice-peers/bin/trivy}
corpus=${CORPUS:-/tmp/sluice-bench/inventory}
rm -rf "$corpus"; mkdir -p "$corpus"
n=0
for lock in "$HOME"/.cargo/registry/src/*/*/Cargo.lock; do
  crate=$(basename "$(dirname "$lock")")
  mkdir -p "$corpus/rust/$crate"; cp "$lock" "$corpus/rust/$crate/Cargo.lock"; n=$((n + 1))
done
fx="$here/crates/sluice-inventory/tests/fixtures"
for d in npm yarn/classic yarn/berry pnpm/v6 pnpm/v9 poetry pipenv uv go ruby composer maven gradle nuget; do
  mkdir -p "$corpus/other/$d"; cp -r "$fx/$d/." "$corpus/other/$d/"
done
for f in "$corpus"/other/npm/v*.package-lock.json; do
  v=$(basename "$f" .package-lock.json); mkdir -p "$corpus/other/npm-$v"; mv "$f" "$corpus/other/npm-$v/package-lock.json"
done
echo "corpus: $corpus ($n Cargo.lock files, $(du -sh "$corpus" | cut -f1))" >&2

export SOURCE_DATE_EPOCH=1700000000
hyperfine --warmup 1 --runs "${RUNS:-5}" \
  -n sluice "$sluice sbom $corpus -o /tmp/sluice-bench/inventory-sluice.cdx.json" \
  -n trivy "$trivy fs --quiet --offline-scan --skip-db-update --skip-java-db-update --scanners license --format cyclonedx --output /tmp/sluice-bench/inventory-trivy.cdx.json $corpus"

python3 - <<'PY'
import json
s = json.load(open("/tmp/sluice-bench/inventory-sluice.cdx.json"))
t = json.load(open("/tmp/sluice-bench/inventory-trivy.cdx.json"))
def purls(doc):
    out = set()
    stack = list(doc.get("components", []))
    while stack:
        c = stack.pop()
        stack.extend(c.get("components", []))
        if c.get("purl"):
            out.add(c["purl"].split("?")[0])
    return out
sp, tp = purls(s), purls(t)
for eco in ["cargo", "npm", "pypi", "golang", "gem", "composer", "maven", "nuget"]:
    a = {p for p in sp if p.startswith(f"pkg:{eco}/")}
    b = {p for p in tp if p.startswith(f"pkg:{eco}/")}
    print(f"{eco:9} sluice {len(a):5}  trivy {len(b):5}  both {len(a & b):5}")
PY
for tool in sluice trivy; do
  if [ $tool = sluice ]; then cmd=("$sluice" sbom "$corpus" -o /tmp/sluice-bench/x.json);
  else cmd=("$trivy" fs --quiet --offline-scan --skip-db-update --skip-java-db-update --scanners license --format cyclonedx --output /tmp/sluice-bench/y.json "$corpus"); fi
  /usr/bin/time -f "$tool peak RSS %M KiB" "${cmd[@]}" 2>&1 >/dev/null | grep "peak RSS" || true
done
