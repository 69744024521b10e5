#!/usr/bin/env bash
# Real Dockerfiles for the hadolint comparison: the Debian source packages of buildah (its
# test suite holds hundreds of Dockerfiles/Containerfiles, heredocs and multi-stage builds
# included) and docker.io (moby: contrib/ and the project's own Dockerfiles). Fetched with
# apt-get from Debian's source archive into a private apt state; prints the corpus dir.
set -euo pipefail
OUT=${SLUICE_DOCKERFILES:-/tmp/sluice-dockerfiles}
if [ -d "$OUT/src" ] && [ -n "$(ls -A "$OUT/src")" ]; then echo "$OUT/src"; exit 0; fi
APT=$OUT/apt
mkdir -p "$APT/lists/partial" "$OUT/src"
echo "deb-src http://deb.debian.org/debian bookworm main" > "$APT/sources.list"
opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$APT/lists")
apt-get "${opts[@]}" update -qq >&2
cd "$OUT/src"
for pkg in buildah docker.io; do
  apt-get "${opts[@]}" source --download-only -qq "$pkg" >&2
done
for tarball in *.orig*.tar.*; do
  tar xf "$tarball" --wildcards --no-anchored '*Dockerfile*' '*Containerfile*' '*.dockerfile' 2>/dev/null || true
done
rm -f ./*.tar.* ./*.dsc
echo "$OUT/src"
