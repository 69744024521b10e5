#!/usr/bin/env bash
# The portfolio's "Past SLA" at 2,000 projects x 500 findings (1,000,000), on both backends:
# the schema from the server's migrations, findings filled in SQL with first sightings spread
# over a year (so most open ones are past their SLA: the worst case for counting them), then
# the plans and times of (a) one project's recount (what a push and a stale project cost),
# (b) every project's recount (the first portfolio view of a UTC day, at most), (c) the
# portfolio's steady read of the kept counts, and (d) for comparison, counting over findings
# per view. usage: bench/server/sla_explain.sh [OUT_DIR]  (PostgreSQL on 127.0.0.1:5432, user postgres)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/sluice-sla-bench}
mkdir -p "$out"
now=$(($(date +%s) * 1000))
day=86400000
today=$((now / day))
cut() { echo $(((today - $1) * day)); }
c4=$(cut 7); c3=$(cut 30); c2=$(cut 90); c1=$(cut 180)
one() {
  local p=$1
  echo "(SELECT COUNT(*) FROM findings WHERE project_id = $p AND state = 'open' AND suppressed IS NULL AND severity_rank = 4 AND first_seen_at < $c4) + \
(SELECT COUNT(*) FROM findings WHERE project_id = $p AND state = 'open' AND suppressed IS NULL AND severity_rank = 3 AND first_seen_at < $c3) + \
(SELECT COUNT(*) FROM findings WHERE project_id = $p AND state = 'open' AND suppressed IS NULL AND severity_rank = 2 AND first_seen_at < $c2) + \
(SELECT COUNT(*) FROM findings WHERE project_id = $p AND state = 'open' AND suppressed IS NULL AND severity_rank = 1 AND first_seen_at < $c1)"
}
naive="SELECT project_id, COUNT(*) FROM findings WHERE state = 'open' AND suppressed IS NULL AND \
((severity_rank = 4 AND first_seen_at < $c4) OR (severity_rank = 3 AND first_seen_at < $c3) OR \
(severity_rank = 2 AND first_seen_at < $c2) OR (severity_rank = 1 AND first_seen_at < $c1)) GROUP BY project_id"
fill() { # $1: a FROM item of 1..n named s(col)
  cat <<SQL
INSERT INTO projects (name, default_branch, created_at) SELECT 'bench-' || n, 'main', $now FROM $(series 2000 n);
INSERT INTO findings (project_id, fingerprint, stage, rule_id, severity, severity_rank, message, path, line, state,
  suppressed, first_seen_run, first_seen_at, last_seen_run, last_seen_at)
SELECT p.id, 'fp-' || k, 'sast', 'rule-' || (k % 300), 'x', k % 5, 'a finding', 'src/f.py', 1,
  CASE WHEN k % 10 = 0 THEN 'not_detected' ELSE 'open' END, CASE WHEN k % 100 = 7 THEN 'in repo' END,
  1, $now - ((k * 37 + p.id) % 365) * $day, 1, $now
FROM projects p, $(series 500 k);
SQL
}

# SQLite
db="$out/sla.db"; rm -f "$db"*
for m in crates/sluice-server/migrations/sqlite/*.sql; do sqlite3 "$db" < "$m"; done
series() { echo "(WITH RECURSIVE r(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM r WHERE v < $1) SELECT v AS $2 FROM r) AS s"; }
{ echo "BEGIN;"; fill; echo "COMMIT; ANALYZE;"; } | sqlite3 "$db"
{
  echo "== SQLite $(sqlite3 -version | awk '{print $1}'): $(sqlite3 "$db" 'SELECT COUNT(*) FROM findings') findings, $(sqlite3 "$db" "$naive" | awk -F'|' '{s+=$2} END {print s}') past their SLA"
  echo "-- (a) one project's recount"; sqlite3 "$db" "EXPLAIN QUERY PLAN SELECT $(one 1000)"
  printf '.timer on\nSELECT %s;\n' "$(one 1000)" | sqlite3 "$db"
  echo "-- (b) every project's recount"
  printf '.timer on\nSELECT SUM(%s) FROM projects p;\n' "$(one p.id)" | sqlite3 "$db"
  echo "-- (c) the kept counts"
  printf '.timer on\nSELECT COUNT(*), SUM(sla_breaches) FROM (SELECT id, sla_breaches, sla_day FROM projects);\n' | sqlite3 "$db"
  echo "-- (d) counted over findings per view"; sqlite3 "$db" "EXPLAIN QUERY PLAN $naive"
  printf '.timer on\nSELECT COUNT(*) FROM (%s);\n' "$naive" | sqlite3 "$db"
} | tee "$out/sqlite.txt"

# PostgreSQL
pg() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
pg -d postgres -c "DROP DATABASE IF EXISTS sluice_sla_bench" -c "CREATE DATABASE sluice_sla_bench"
for m in crates/sluice-server/migrations/postgres/*.sql; do pg -d sluice_sla_bench -f "$m" >/dev/null; done
series() { echo "generate_series(1, $1) AS s($2)"; }
fill | pg -d sluice_sla_bench
pg -d sluice_sla_bench -c "VACUUM ANALYZE"
{
  echo "== PostgreSQL $(pg -d sluice_sla_bench -Atc 'SHOW server_version')"
  echo "-- (a) one project's recount"
  pg -d sluice_sla_bench -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $(one 1000)"
  echo "-- (b) every project's recount"
  pg -d sluice_sla_bench -c "EXPLAIN (ANALYZE) SELECT SUM($(one p.id)) FROM projects p" | grep -E "Execution Time"
  echo "-- (c) the kept counts"
  pg -d sluice_sla_bench -c "EXPLAIN (ANALYZE) SELECT id, sla_breaches, sla_day FROM projects" | grep -E "Scan|Execution Time"
  echo "-- (d) counted over findings per view"
  pg -d sluice_sla_bench -c "EXPLAIN (ANALYZE, BUFFERS) $naive"
} | tee "$out/postgres.txt"
pg -d postgres -c "DROP DATABASE sluice_sla_bench"
