#!/usr/bin/env bash
# Secrets benchmark (issue 3): sluice's secrets stage against gitleaks, kingfisher and trivy.
#
#   bench/secrets/compare.sh                 # all three parts
#   PARTS="planted corpus" bench/secrets/compare.sh
#
# planted  generate the planted set (bench/secrets/planted.py) and score every tool on it:
#          recall per (file, line), decoys reported, misses per format.
# corpus   on the shared corpus (../shared/tools/corpus.sh): wall time (hyperfine, ROUNDS rounds
#          with the tools in rotating order, medians and the median of per-round ratios), peak
#          RSS (/usr/bin/time -v), what each tool scanned, findings per tool, sluice's findings.
# history  a 3000-commit repository built from the corpus with the planted files committed and
#          deleted along the way (bench/secrets/history_repo.py): `gitleaks git` and kingfisher's
#          history scan, and `sluice scan secrets --history` once sluice has that flag.
#
# Everything goes to $BENCH_DIR (default /tmp/sluice-bench/secrets); $BENCH_DIR/tables.md has
# the Markdown tables for docs/benchmarks.md. Peers come from ../shared/tools/install-peers.sh.
# Knobs: ROUNDS RUNS SLOW_RUNS RSS_RUNS HISTORY_RUNS (below), SLUICE_BIN (use a prebuilt binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/secrets
SHARED=${SHARED:-$ROOT/../shared}
W=${BENCH_DIR:-/tmp/sluice-bench/secrets}
PARTS=${PARTS:-planted corpus history}
ROUNDS=${ROUNDS:-3}        # hyperfine rounds on the corpus
RUNS=${RUNS:-5}            # runs per round for sluice and kingfisher (after 1 warm-up)
SLOW_RUNS=${SLOW_RUNS:-2}  # runs per round for gitleaks and trivy
RSS_RUNS=${RSS_RUNS:-3}    # /usr/bin/time -v runs per tool (the max is reported)
HISTORY_RUNS=${HISTORY_RUNS:-3}
mkdir -p "$W"

PEERS_BIN=$("$SHARED/tools/install-peers.sh" | tail -1)
CORPUS=$("$SHARED/tools/corpus.sh" | tail -1)
export PATH=$PEERS_BIN:$PATH
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 2; }

# Other engineers build in the same tree: snapshot the binary so a rebuild cannot swap it
# mid-run. SLUICE_BIN=path skips the build and measures that binary instead.
if [ -z "${SLUICE_BIN:-}" ]; then
  echo "building sluice (release)..." >&2
  cargo build --release -q -p sluice
  SLUICE_BIN=$ROOT/target/release/sluice
fi
cp "$SLUICE_BIN" "$W/sluice"
BIN=$W/sluice

# ------------------------------------------------------------------ environment
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "sluice: $(git -C "$ROOT" rev-parse --short HEAD)$( [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no -- crates)" ] || echo ' + uncommitted changes in crates/'), binary sha256 $(sha256sum "$BIN" | cut -c1-12), built $(date -u -r "$SLUICE_BIN" +%H:%MZ)"
  echo "gitleaks: $(gitleaks version)"
  echo "kingfisher: $(kingfisher --version | awk '{print $2}')"
  echo "trivy: $(trivy --version 2>/dev/null | awk '/^Version/{print $2}')"
  echo "hyperfine: $(hyperfine --version | awk '{print $2}')"
  echo "corpus: $CORPUS: $(find "$CORPUS" -type f | wc -l) files, $(du -sb "$CORPUS" | cut -f1) bytes"
} > "$W/env.txt"
cat "$W/env.txt" >&2

# The command lines, one per tool; $1 = target, $2 = SARIF output.
# kingfisher exits 200 when it finds something; gitleaks is told to exit 0.
sluice_cmd()     { echo "$BIN scan secrets $1 < /dev/null > $2"; }
gitleaks_cmd()   { echo "gitleaks dir $1 --no-banner --exit-code 0 -f sarif -r $2 2> /dev/null"; }
kingfisher_cmd() { echo "kingfisher scan $1 --no-validate --git-history none --no-update-check --format sarif -o $2 > /dev/null 2>&1 || [ \$? -eq 200 ]"; }
kf_noarch_cmd()  { echo "kingfisher scan $1 --no-validate --git-history none --no-update-check --no-extract-archives --format sarif -o $2 > /dev/null 2>&1 || [ \$? -eq 200 ]"; }
trivy_cmd()      { echo "trivy fs --scanners secret --skip-db-update --offline-scan --skip-version-check -q -f sarif -o $2 $1"; }

# ------------------------------------------------------------------ planted set
if [[ " $PARTS " == *" planted "* ]]; then
  P=$W/planted
  python3 "$HERE/planted.py" "$P"
  mkdir -p "$P/out"
  for t in sluice gitleaks kingfisher trivy; do
    sh -c "$(${t}_cmd "$P/tree" "$P/out/$t.sarif")"
  done
  python3 "$HERE/score.py" planted "$P/manifest.jsonl" "$P/tree" "$P/score.json" \
    sluice="$P/out/sluice.sarif" gitleaks="$P/out/gitleaks.sarif" kingfisher="$P/out/kingfisher.sarif" trivy="$P/out/trivy.sarif"
fi

# ------------------------------------------------------------------ corpus
if [[ " $PARTS " == *" corpus "* ]]; then
  C=$W/corpus
  rm -rf "$C"; mkdir -p "$C/out"
  LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
  tools=(sluice kingfisher kf_noarch gitleaks trivy)
  for r in $(seq 1 "$ROUNDS"); do
    # rotate the order each round so no tool always runs first (or right after a heavy one)
    order=("${tools[@]:$(( (r-1) % ${#tools[@]} ))}" "${tools[@]:0:$(( (r-1) % ${#tools[@]} ))}")
    for t in "${order[@]}"; do
      n=$RUNS; [[ $t == gitleaks || $t == trivy ]] && n=$SLOW_RUNS
      echo "round $r/$ROUNDS: $t ($n runs)" >&2
      hyperfine --style none --warmup 1 --runs "$n" -n "$t" --export-json "$C/hf-r$r-$t.json" \
        "$(${t}_cmd "$CORPUS" "$C/out/$t.sarif")" > /dev/null
    done
  done
  for t in "${tools[@]}"; do
    for i in $(seq 1 "$RSS_RUNS"); do
      /usr/bin/time -v sh -c "$(${t}_cmd "$CORPUS" "$C/out/$t.sarif")" 2> "$C/time-$t-$i.txt"
    done
  done
  # what each tool reports it scanned (one more run with its own summary kept)
  gitleaks dir "$CORPUS" --no-banner --exit-code 0 -f sarif -r "$C/discard-gitleaks.sarif" 2> "$C/scanned-gitleaks.txt" || true
  kingfisher scan "$CORPUS" --no-validate --git-history none --no-update-check --format json -o "$C/discard-kingfisher.json" > "$C/scanned-kingfisher.txt" 2>&1 || true
  kingfisher scan "$CORPUS" --no-validate --git-history none --no-update-check --no-extract-archives --format json -o "$C/discard-kf_noarch.json" > "$C/scanned-kf_noarch.txt" 2>&1 || true
  echo "corpus part: load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end" > "$C/info.txt"
  python3 "$HERE/score.py" timing "$C" "$C/timing.json" "${tools[@]}"
  python3 "$HERE/score.py" corpus "$CORPUS" "$C/findings.json" \
    sluice="$C/out/sluice.sarif" kingfisher="$C/out/kingfisher.sarif" kf_noarch="$C/out/kf_noarch.sarif" \
    gitleaks="$C/out/gitleaks.sarif" trivy="$C/out/trivy.sarif"
fi

# ------------------------------------------------------------------ history
if [[ " $PARTS " == *" history "* ]]; then
  H=$W/history
  mkdir -p "$H/out"
  [ -f "$W/planted/manifest.jsonl" ] || python3 "$HERE/planted.py" "$W/planted"
  rm -rf "$H/repo"  # rebuilt each time (about 20 s) so it always holds the current planted set
  python3 "$HERE/history_repo.py" "$CORPUS" "$W/planted/tree" "$H/repo" --commits 3000
  LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "history repo: $(git -C "$H/repo" rev-list --count HEAD) commits, $(git -C "$H/repo" count-objects -vH | awk '/size-pack/{print $2 $3}') packed" > "$H/info.txt"
  htools=(gitleaks_git kingfisher_git)
  gitleaks_git_cmd()   { echo "gitleaks git $1 --no-banner --exit-code 0 -f sarif -r $2 2> /dev/null"; }
  kingfisher_git_cmd() { echo "kingfisher scan $1 --no-validate --no-update-check --format sarif -o $2 > /dev/null 2>&1 || [ \$? -eq 200 ]"; }
  if "$BIN" scan --help 2>/dev/null | grep -q -- '--history'; then
    sluice_git_cmd() { echo "$BIN scan secrets --history $1 < /dev/null > $2"; }
    htools=(sluice_git "${htools[@]}")
  else
    echo "sluice has no --history yet: timing gitleaks and kingfisher only" >&2
    echo "sluice --history: not available in this build (skipped)" >> "$H/info.txt"
  fi
  rm -f "$H"/hf-*.json "$H"/time-*.txt
  for t in "${htools[@]}"; do
    echo "history: $t ($HISTORY_RUNS runs)" >&2
    hyperfine --style none --warmup 1 --runs "$HISTORY_RUNS" -n "$t" --export-json "$H/hf-r1-$t.json" \
      "$(${t}_cmd "$H/repo" "$H/out/$t.sarif")" > /dev/null
    /usr/bin/time -v sh -c "$(${t}_cmd "$H/repo" "$H/out/$t.sarif")" 2> "$H/time-$t-1.txt"
  done
  echo "history part: load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end" >> "$H/info.txt"
  python3 "$HERE/score.py" timing "$H" "$H/timing.json" "${htools[@]}"
  args=(); for t in "${htools[@]}"; do args+=("$t=$H/out/$t.sarif"); done
  python3 "$HERE/score.py" planted --strip=leaked/ "$W/planted/manifest.jsonl" "$W/planted/tree" "$H/score.json" "${args[@]}"
fi

python3 "$HERE/score.py" tables "$W" > "$W/tables.md"
echo "tables: $W/tables.md" >&2
