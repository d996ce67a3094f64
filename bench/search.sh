#!/usr/bin/env bash
# bench/search.sh [SECONDS=5] — GET /search?q= through the gateway (ReportService/SearchParcels)
# at full scale: wrk -c1 latency per query kind (address, numbered street, block/lot, permit
# number, street prefix), then the same queries with the street index of
# db/migrations/0025_search_indexes.sql dropped, side by side (before/after), and EXPLAIN
# ANALYZE of the street-prefix query's scan both ways.
# BENCH_SCALE=full (default) seeds the reference volumes first; BENCH_SCALE=demo for a quick run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-5}
scale=${BENCH_SCALE:-full}
bench_pg_seeded "$scale"
start report sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=http://127.0.0.1:1/resource
rp=$port
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp
gp=$port
base="http://127.0.0.1:$gp/search?q="
permit=$(psql "$DATABASE_URL" -qAtX -c "SELECT permit_number FROM permits WHERE block='3512' AND lot='001' ORDER BY filed_date DESC LIMIT 1")
rows=$(psql "$DATABASE_URL" -qAtX -c "SELECT count(*) FROM permits")
machine_line
echo "# scale=$scale, permits=$rows; wrk -t1 -c1 --latency -d${dur}s per query"
queries=("address|1600%20Mission%20St" "ordinal|1281%208th%20Ave" "block/lot|3512%2F001" "permit|$permit"
  "street prefix|MISS")
run_all() { # SUFFIX
  local q
  for q in "${queries[@]}"; do
    curl -sf "$base${q#*|}" >/dev/null
    wrk_line "${q%%|*} $1" -t1 -c1 -d"${dur}s" "$base${q#*|}"
  done
}
explain() {
  psql "$DATABASE_URL" -qAtX -c "EXPLAIN (ANALYZE, TIMING OFF) SELECT block, lot FROM permits
    WHERE upper(street_name) LIKE 'MISS%' ORDER BY upper(street_name), street_number LIMIT 500" |
    awk -v l="$1" '/Execution Time/ {print "# EXPLAIN ANALYZE street-prefix scan " l ": " $3 " ms"} /Index Scan|Seq Scan|Sort  / {sub(/^ *(->)? */, ""); sub(/  \(cost.*/, ""); print "#   " $0}'
}
run_all "(indexes)"
explain "(indexes)"
psql "$DATABASE_URL" -qX -c "DROP INDEX permits_search_street_idx"
run_all "(no 0025)"
explain "(no 0025)"
psql "$DATABASE_URL" -qX -f "$root/db/migrations/0025_search_indexes.sql"
