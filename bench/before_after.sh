#!/usr/bin/env bash
# Two sluice binaries on the same inputs (issue 16: "results.sarif identical before and after,
# no benchmark slower"): what each writes, compared after the fields that change from run to run
# are dropped (bench/normalize_sarif.py), and how long each takes (hyperfine, alternating).
#
#   bench/before_after.sh BEFORE_BIN AFTER_BIN
#
# Inputs: the bundled example (`sluice run examples/vulnerable-app` with the bundled advisories),
# the shared corpus (../shared/tools/corpus.sh) for the secrets stage and Django for SAST, the
# Cargo.lock files of bench/deps/fetch-lockfiles.sh with the RustSec snapshot for deps, and
# `sluice merge` of logs from bench/gen_sarif.py. Output in $BENCH_DIR (default
# /tmp/sluice-bench/before-after); RUNS hyperfine runs per command (default 5). Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2")
W=${BENCH_DIR:-/tmp/sluice-bench/before-after}
RUNS=${RUNS:-5}
SHARED=${SHARED:-$ROOT/../shared}
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 2; }
rm -rf "$W"; mkdir -p "$W"
CORPUS=$("$SHARED/tools/corpus.sh" | tail -1)
DJANGO=$(ls -d "$CORPUS"/Django-*)

same() { # NAME FILE_BEFORE FILE_AFTER
  python3 bench/normalize_sarif.py "$2" > "$W/$1.before.json"
  python3 bench/normalize_sarif.py "$3" > "$W/$1.after.json"
  if cmp -s "$W/$1.before.json" "$W/$1.after.json"; then
    echo "$1: same output ($(python3 -c 'import json,sys; print(sum(len(r.get("results") or []) for r in json.load(open(sys.argv[1]))["runs"]))' "$W/$1.after.json") results)"
  else
    echo "$1: OUTPUT DIFFERS (diff -u $W/$1.before.json $W/$1.after.json)"
  fi
}

time_both() { # NAME COMMAND-WITH-{BIN}
  hyperfine -N -w 1 -r "$RUNS" --export-json "$W/$1.time.json" \
    -n before "${2//\{BIN\}/$BEFORE}" -n after "${2//\{BIN\}/$AFTER}" > /dev/null 2>&1 || true
  python3 - "$W/$1.time.json" "$1" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, a = r["before"], r["after"]
print(f"{sys.argv[2]}: before median {b['median']:.3f} s, after median {a['median']:.3f} s "
      f"(after/before {a['median'] / b['median']:.2f})")
PY
}

# 1. The bundled example, as the README runs it: one copy per binary, its own database.
for side in before after; do
  bin=$BEFORE; [ $side = after ] && bin=$AFTER
  cp -r examples/vulnerable-app "$W/app-$side"
  (cd "$W/app-$side" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm init)
  export SLUICE_DB=$W/db-$side.db
  "$bin" db update --from examples/advisories/pypa --from examples/advisories/rustsec \
    --from examples/advisories/distro > /dev/null 2>&1
  "$bin" run "$W/app-$side" > "$W/app-$side.txt" 2>&1 || true
done
unset SLUICE_DB
same vulnerable-app "$W/app-before/sluice-out/results.sarif" "$W/app-after/sluice-out/results.sarif"

# 2. Secrets over the corpus, SAST over Django.
"$BEFORE" scan secrets "$CORPUS" > "$W/secrets-before.sarif" 2> /dev/null || true
"$AFTER" scan secrets "$CORPUS" > "$W/secrets-after.sarif" 2> /dev/null || true
same secrets-corpus "$W/secrets-before.sarif" "$W/secrets-after.sarif"
time_both secrets-corpus "{BIN} scan secrets $CORPUS"
"$BEFORE" scan sast "$DJANGO" > "$W/sast-before.sarif" 2> /dev/null || true
"$AFTER" scan sast "$DJANGO" > "$W/sast-after.sarif" 2> /dev/null || true
same sast-django "$W/sast-before.sarif" "$W/sast-after.sarif"
time_both sast-django "{BIN} scan sast $DJANGO"

# 3. Dependencies: the Cargo.lock files of real releases against the RustSec snapshot.
LOCKS=$W/locks
bench/deps/fetch-lockfiles.sh "$LOCKS" > /dev/null 2>&1
for side in before after; do
  bin=$BEFORE; [ $side = after ] && bin=$AFTER
  SLUICE_DB=$W/deps-$side.db "$bin" db update --from "$SHARED/data/advisories/rustsec" > /dev/null 2>&1
  SLUICE_DB=$W/deps-$side.db "$bin" scan deps "$LOCKS" > "$W/deps-$side.sarif" 2> /dev/null || true
done
same deps-rustsec "$W/deps-before.sarif" "$W/deps-after.sarif"
time_both deps-rustsec "env SLUICE_DB=$W/deps-before.db {BIN} scan deps $LOCKS"

# 4. Merge: 5 logs of 25,000 results each (hyperfine -N discards the output).
python3 bench/gen_sarif.py "$W/merge" 5 25000 > /dev/null
mkdir -p "$W/merge-root"
"$BEFORE" merge --root "$W/merge-root" "$W"/merge/*.sarif > "$W/merge-before.sarif" 2> /dev/null || true
"$AFTER" merge --root "$W/merge-root" "$W"/merge/*.sarif > "$W/merge-after.sarif" 2> /dev/null || true
same merge "$W/merge-before.sarif" "$W/merge-after.sarif"
time_both merge "{BIN} merge --root $W/merge-root $(echo "$W"/merge/*.sarif)"
