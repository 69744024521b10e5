#!/usr/bin/env bash
# Makes a real rpm sqlite database with N packages of F files each (rpmbuild + rpm --justdb),
# for the rpm inventory benchmark. One spec with N subpackages keeps it to one rpmbuild.
# Usage: bench/container/gen_rpmdb.sh OUT.sqlite [N] [FILES]
set -euo pipefail
OUT=$1
N=${2:-1000}
F=${3:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/top/SPECS" "$work/db"
{
  echo "Name: benchbase"; echo "Version: 1.0"; echo "Release: 1.el9"; echo "Epoch: 1"
  echo "Summary: sluice rpm benchmark"; echo "License: MIT"; echo "BuildArch: x86_64"
  echo "%description"; echo "Benchmark base package."
  for i in $(seq 1 "$N"); do
    echo "%package p$i"; echo "Summary: benchmark package $i"; echo "Version: 2.$i.0"
    echo "%description p$i"; echo "Benchmark package $i."
  done
  echo "%install"
  echo "for i in \$(seq 1 $N); do mkdir -p %{buildroot}/usr/share/bench/p\$i; for f in \$(seq 1 $F); do echo \$i-\$f > %{buildroot}/usr/share/bench/p\$i/file-\$f.txt; done; done"
  echo "%files"
  for i in $(seq 1 "$N"); do echo "%files p$i"; echo "/usr/share/bench/p$i"; done
} > "$work/top/SPECS/bench.spec"
rpmbuild --quiet --define "_topdir $work/top" --define '_build_id_links none' -bb "$work/top/SPECS/bench.spec" >/dev/null
rpm --dbpath "$work/db" --define '_db_backend sqlite' --initdb
rpm --dbpath "$work/db" --define '_db_backend sqlite' -i --justdb --nodeps --noscripts --ignorearch --ignoreos \
  "$work"/top/RPMS/x86_64/*.rpm 2>/dev/null
cp "$work/db/rpmdb.sqlite" "$OUT"
