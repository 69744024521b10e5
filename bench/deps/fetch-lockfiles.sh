#!/usr/bin/env bash
# Fetches 25 real Cargo.lock files: binary crates on crates.io ship theirs in the published
# tarball, so several releases of one project are several points of its history.
# Usage: bench/deps/fetch-lockfiles.sh DIR   (DIR/<crate>-<version>/Cargo.lock)
set -euo pipefail
dir=${1:-/tmp/deps-bench/crates}
mkdir -p "$dir"
for c in ripgrep:11.0.2 ripgrep:12.1.1 ripgrep:13.0.0 ripgrep:14.1.0 \
         bat:0.18.0 bat:0.20.0 bat:0.22.1 bat:0.24.0 \
         fd-find:8.2.1 fd-find:8.4.0 fd-find:8.7.0 fd-find:9.0.0 \
         cargo-audit:0.14.0 cargo-audit:0.16.0 cargo-audit:0.17.6 \
         tokei:12.0.4 tokei:12.1.2 \
         hyperfine:1.11.0 hyperfine:1.14.0 hyperfine:1.16.1 hyperfine:1.18.0 \
         du-dust:0.8.0 cargo-edit:0.11.0 git-delta:0.11.0 git-delta:0.16.5; do
  name=${c%%:*} version=${c##*:}
  [ -f "$dir/$name-$version/Cargo.lock" ] && continue
  curl -sfL "https://static.crates.io/crates/$name/$name-$version.crate" | tar xz -C "$dir" "$name-$version/Cargo.lock"
done
ls "$dir" | wc -l
