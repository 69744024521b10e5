#!/usr/bin/env bash
# Rule-by-rule comparison of sluice's Dockerfile rules with hadolint on real Dockerfiles
# (bench/container/corpus.sh: buildah's and moby's from Debian's source archive).
# Usage: bench/container/compare.sh [SLUICE_BIN]   (default: target/release/sluice)
# Prints a markdown table: per pair of rules, the findings (file:line) each tool reports,
# how many agree, and how many only one of them reports.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SLUICE=${1:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/sluice}
HADOLINT=${HADOLINT:-/tmp/sluice-peers/bin/hadolint}
CORPUS=$(bash "$HERE/corpus.sh")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The same files for both tools: every Dockerfile of the corpus, copied without the
# projects' .gitignore files (which sluice would honour).
(cd "$CORPUS" && find . -type f \( -name 'Dockerfile' -o -name 'Dockerfile.*' -o -name '*.Dockerfile' -o -name '*.dockerfile' -o -name 'Containerfile' -o -name 'Containerfile.*' \) -print0 \
  | while IFS= read -r -d '' f; do mkdir -p "$WORK/tree/$(dirname "$f")"; cp "$f" "$WORK/tree/$f"; done)
(cd "$WORK/tree" && find . -type f | sed 's|^\./||' | sort > "$WORK/files.txt")
echo "files: $(wc -l < "$WORK/files.txt")" >&2
"$SLUICE" scan container "$WORK/tree" > "$WORK/sluice.sarif" || true
(cd "$WORK/tree" && xargs -a "$WORK/files.txt" -d '\n' "$HADOLINT" --no-fail -f json > "$WORK/hadolint.json" 2>"$WORK/hadolint.err") || true
python3 "$HERE/compare.py" "$WORK/sluice.sarif" "$WORK/hadolint.json" "$WORK/files.txt" ${DETAILS:+details}
[ -z "${KEEP:-}" ] || { cp -r "$WORK" "$KEEP"; echo "kept in $KEEP" >&2; }
