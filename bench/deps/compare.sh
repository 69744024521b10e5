#!/usr/bin/env bash
# Accuracy: for every lockfile, the set of (advisory, package, version) cargo-audit reports
# with the RustSec snapshot against the set sluice reports with a database built from the same
# snapshot; prints the per-lockfile diff and a summary. Then speed: 25 cargo-audit runs vs one
# `sluice scan deps` over the directory holding all 25 lockfiles (hyperfine).
#
# Usage: bench/deps/compare.sh [LOCKFILE_DIR] [RUSTSEC_SNAPSHOT]
# Needs: cargo-audit (../shared/tools/install-peers.sh), hyperfine, python3, a release sluice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lockdir=${1:-/tmp/deps-bench/crates}
snapshot=${2:-/work/shared/data/advisories/rustsec}
work=${WORK:-/tmp/deps-bench}
audit=${CARGO_AUDIT:-/tmp/sluice-peers/bin/cargo-audit}
sluice=${SLUICE:-${CARGO_TARGET_DIR:-$repo/target}/release/sluice}
mkdir -p "$work/audit" "$work/sluice"

# cargo-audit wants the database as a git repository.
if [ ! -d "$work/rustsec-db/.git" ]; then
  rm -rf "$work/rustsec-db"
  cp -r "$snapshot" "$work/rustsec-db"
  (cd "$work/rustsec-db" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm snapshot)
fi
export SLUICE_DB="$work/advisories.db"
"$sluice" db update --from "$snapshot" 2>/dev/null

lockfiles=$(cd "$lockdir" && ls -d */ | sed 's:/$::' | sort)
for l in $lockfiles; do
  "$audit" audit --db "$work/rustsec-db" --no-fetch --stale --json -f "$lockdir/$l/Cargo.lock" \
    > "$work/audit/$l.json" 2>/dev/null || true
done
"$sluice" scan deps "$lockdir" > "$work/sluice/all.sarif"

python3 - "$work" "$lockfiles" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2].split()
log = json.load(open(f"{work}/sluice/all.sarif"))
mine = {}
for run in log["runs"]:
    for r in run.get("results", []):
        p = r["properties"]
        lock = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].split("/")[0]
        kind = "vulnerability" if p["sluice/advisory-kind"] == "vulnerability" else "warning:" + p["sluice/advisory-kind"]
        ids = [p["sluice/advisory"]] + p.get("sluice/aliases", [])
        rust = [i for i in ids if i.startswith("RUSTSEC-")]
        mine.setdefault(lock, set()).add((kind, rust[0] if rust else ids[0], p["sluice/package"], p["sluice/package-version"]))
total_same = total_audit = total_sluice = 0
diffs = 0
for name in names:
    d = json.load(open(f"{work}/audit/{name}.json"))
    theirs = {("vulnerability", v["advisory"]["id"], v["package"]["name"], v["package"]["version"]) for v in d["vulnerabilities"]["list"]}
    for kind, ws in d.get("warnings", {}).items():
        for w in ws:
            if w.get("advisory") and kind in ("unmaintained", "unsound", "notice"):
                theirs.add(("warning:" + kind, w["advisory"]["id"], w["package"]["name"], w["package"]["version"]))
    ours = mine.get(name, set())
    vt = {x for x in theirs if x[0] == "vulnerability"}; vo = {x for x in ours if x[0] == "vulnerability"}
    total_audit += len(vt); total_sluice += len(vo); total_same += len(vt & vo)
    status = "same" if theirs == ours else "DIFF"
    if theirs != ours:
        diffs += 1
    print(f"{name:22} cargo-audit {len(vt):3} vulns {len(theirs - vt):3} warnings | sluice {len(vo):3} vulns {len(ours - vo):3} warnings | {status}")
    for x in sorted(theirs - ours):
        print(f"    only cargo-audit: {x}")
    for x in sorted(ours - theirs):
        print(f"    only sluice:      {x}")
print(f"\nvulnerabilities: cargo-audit {total_audit}, sluice {total_sluice}, in both {total_same}; lockfiles with any difference: {diffs}/{len(names)}")
PY

if [ "${SPEED:-1}" = 1 ]; then
  list=$(for l in $lockfiles; do printf '%s ' "$lockdir/$l/Cargo.lock"; done)
  hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$work/speed.md" \
    -n "cargo-audit x25" "for f in $list; do $audit audit --db $work/rustsec-db --no-fetch --stale --json -f \$f >/dev/null 2>&1 || true; done" \
    -n "sluice scan deps (25 lockfiles)" "$sluice scan deps $lockdir >/dev/null"
  cat "$work/speed.md"
fi
