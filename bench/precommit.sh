#!/usr/bin/env bash
# Pre-commit latency (issue 9): `sluice run --staged` on a one-file staged change in a large
# repository — the benchmark corpus (../shared/tools/corpus.sh, about 9,500 files of Python,
# JavaScript and TypeScript) committed into a git repository — against a full `sluice run` of the
# same repository for reference. Prints hyperfine medians and peak RSS (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-/tmp/sluice-corpus/src}
W=${BENCH_DIR:-/tmp/sluice-bench/precommit}
[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS: run ../shared/tools/corpus.sh" >&2; exit 2; }
cargo build --release -q -p sluice
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/sluice
REPO=$W/repo
if [ ! -d "$REPO/.git" ]; then
  rm -rf "$REPO" && mkdir -p "$REPO"
  cp -r "$CORPUS"/. "$REPO"/
  git -C "$REPO" init -q
  git -C "$REPO" add -A
  git -C "$REPO" -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false commit -q -m corpus
fi
# The deps stage needs an advisory database: the snapshots bundled for the example.
export SLUICE_DB=$W/advisories.db
[ -f "$SLUICE_DB" ] || "$BIN" db update --from examples/advisories/pypa --from examples/advisories/rustsec 2>/dev/null
echo "repository: $(git -C "$REPO" ls-files | wc -l) tracked files, $(du -sh --exclude=.git "$REPO" | cut -f1)"
# A typical commit: one edited Python file, staged.
FILE=$(git -C "$REPO" ls-files '*/django/db/models/query.py' | sed -n 1p)
[ -n "$FILE" ] || FILE=$(git -C "$REPO" ls-files '*.py' | sed -n 1p)
git -C "$REPO" reset -q && git -C "$REPO" checkout -q -- .
printf '\n\ndef helper(value):\n    return value * 2\n' >> "$REPO/$FILE"
git -C "$REPO" add "$FILE"
echo "staged: $FILE ($(git -C "$REPO" diff --cached --numstat | awk '{print $1}') lines added)"
STAGED="$BIN run --staged --format json $REPO"
FULL="$BIN run --format json $REPO"
hyperfine --warmup 2 --runs ${RUNS:-10} --export-json "$W/hyperfine-staged.json" -n "run --staged" "$STAGED > $W/staged.json 2> $W/staged.err"
hyperfine --warmup 1 --runs ${FULL_RUNS:-3} --export-json "$W/hyperfine-full.json" -n "run (full)" "$FULL > $W/full.json 2> $W/full.err"
for name in STAGED FULL; do
  /usr/bin/time -v ${!name} 2> "$W/time.txt" > /dev/null || true
  echo "$name: $(grep -E 'Maximum resident' "$W/time.txt" | sed 's/.*: //') KiB peak RSS"
done
git -C "$REPO" reset -q && git -C "$REPO" checkout -q -- .
