#!/usr/bin/env bash
# Precision review of the Go, Java, Rust, Ruby, PHP and Bash packs on real code
# (docs/benchmarks.md, "SAST", "new languages"). The benchmark corpus holds only Python and
# JavaScript/TypeScript, so this scans code available offline:
#   Go    — Debian's Go source packages (gin, gorilla/mux, echo, go-sql-driver/mysql, cobra,
#           prometheus client)
#   Ruby  — Debian's Rails and Rack gems (activerecord, actionpack, activesupport, rack,
#           sinatra, faraday, net-http-persistent)
#   PHP   — Debian's Symfony HttpFoundation, Guzzle, Monolog
#   Java  — OpenJDK 17's sources (java.naming, java.sql, java.xml, jdk.httpserver,
#           java.net.http, java.management, jdk.jshell, java.sql.rowset)
#   Rust  — every crate in ~/.cargo/registry/src (the workspace's dependencies)
#   Bash  — every *.sh file under /usr and ~/.cargo/registry/src
# and prints time, peak memory and findings per rule, with up to 3 sample locations each.
# Usage: bench/sast/review-languages.sh   (downloads with apt-get into $OUT, default /tmp/sluice-review)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-/tmp/sluice-review}
mkdir -p "$OUT/debs" "$OUT/x"
(cd "$ROOT" && cargo build --release -q -p sluice)
SLUICE="${CARGO_TARGET_DIR:-$ROOT/target}/release/sluice"

cd "$OUT/debs"
for p in golang-github-gin-gonic-gin-dev golang-github-gorilla-mux-dev golang-github-go-sql-driver-mysql-dev \
  golang-github-labstack-echo-dev golang-github-spf13-cobra-dev golang-github-prometheus-client-golang-dev \
  ruby-rack ruby-sinatra ruby-activerecord ruby-actionpack ruby-activesupport ruby-net-http-persistent ruby-faraday \
  php-symfony-http-foundation php-guzzlehttp-guzzle php-monolog openjdk-17-source; do
  ls "$p"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null
done
for d in *.deb; do dpkg -x "$d" "$OUT/x"; done
mkdir -p "$OUT/java" "$OUT/bash"
(cd "$OUT/java" && unzip -qo "$OUT/x/usr/lib/jvm/openjdk-17/lib/src.zip" 'java.naming/*' 'java.sql/*' 'java.xml/*' \
  'jdk.httpserver/*' 'java.net.http/*' 'java.management/*' 'jdk.jshell/*' 'java.sql.rowset/*')
find /usr "$HOME/.cargo/registry/src" -name '*.sh' -type f -size -1000k 2>/dev/null | while read -r f; do
  mkdir -p "$OUT/bash$(dirname "$f")" && cp "$f" "$OUT/bash$f"
done

scan() { # name dir language: every pack runs (as users run it); the language's findings are listed
  local name=$1 dir=$2 lang=$3
  /usr/bin/time -v "$SLUICE" scan sast "$dir" > "$OUT/$name.sarif" 2> "$OUT/$name.time"
  echo "== $name ($lang): $(grep -E 'Elapsed' "$OUT/$name.time" | awk '{print $NF}') wall, $(awk -F': ' '/Maximum resident/ {printf "%.0f MiB", $2/1024}' "$OUT/$name.time") peak"
  python3 - "$OUT/$name.sarif" "$lang" <<'PY'
import collections, json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
p = run["invocations"][0]["properties"]
mine = [r for r in run["results"] if r["ruleId"].startswith(sys.argv[2] + ".")]
print(f"   {p['sluice/files-scanned']} files, {p['sluice/files-parsed']} parsed, {len(run['results'])} findings ({len(mine)} {sys.argv[2]}), {len(run['invocations'][0].get('toolExecutionNotifications', []))} notes")
by = collections.defaultdict(list)
for r in mine:
    loc = r["locations"][0]["physicalLocation"]
    by[r["ruleId"]].append(f"{loc['artifactLocation']['uri']}:{loc['region']['startLine']}")
for rule, locs in sorted(by.items(), key=lambda x: -len(x[1])):
    print(f"   {len(locs):>5}  {rule:40} e.g. {', '.join(locs[:3])}")
PY
}
scan go "$OUT/x/usr/share/gocode" go
scan ruby "$OUT/x/usr/share" ruby
scan php "$OUT/x/usr/share/php" php
scan java "$OUT/java" java
scan rust "$HOME/.cargo/registry/src" rust
scan bash "$OUT/bash" bash
