#!/usr/bin/env bash
# bench/report.sh [SECONDS=10] — GET /report/3512/001 (44 permits) through the gateway.
#   1. warm SODA cache: wrk at 1 and 16 connections (rate limit off), SQL round trips per report,
#      with the report cache on (as deployed) and, side by side, off (REPORT_CACHE_TTL_S=0)
#   2. cold cache with the SODA test server adding 300 ms per call: median over 20 distinct
#      parcels of one request each (the 2–3 SODA calls overlap, so ≈ one latency, not three)
# BENCH_SCALE=full (default) seeds the reference volumes first; BENCH_SCALE=demo for a quick run.
# DATABASE_URL=... uses an already seeded database instead (BENCH_PGDATA=its data directory, for
# Postgres CPU: e.g. /tmp/pg/data of `scripts/pgtmp start /tmp/pg`).
# BASE_BUILD_DIR=<another build tree> adds a third stack, report cache off, from those binaries
# (e.g. main before a change), measured in the same run as "before".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-10}
scale=${BENCH_SCALE:-full}
t0=$(date +%s.%N)
bench_pg_seeded "$scale"
seed_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
sp=$port
soda_url=http://127.0.0.1:$sp/resource
# Two stacks side by side: the deployed configuration (report cache on) and the report cache
# off (every request runs the SQL plan; the SODA cache stays warm in both).
start report sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url
rp=$port; rpid=${pids[-1]}
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp GATEWAY_REPORT_RATE_LIMIT=0
gp=$port; gpid=${pids[-1]}
start report-nocache sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url REPORT_CACHE_TTL_S=0 METRICS_ADDR=off
rp2=$port; rpid2=${pids[-1]}
start gateway-nocache sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp2 GATEWAY_REPORT_RATE_LIMIT=0 METRICS_ADDR=off
gp2=$port; gpid2=${pids[-1]}
if [ -n "${BASE_BUILD_DIR:-}" ]; then
  build_new=$build; build=$BASE_BUILD_DIR
  start report-base sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url REPORT_CACHE_TTL_S=0 METRICS_ADDR=off
  rp3=$port; rpid3=${pids[-1]}
  start gateway-base sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp3 GATEWAY_REPORT_RATE_LIMIT=0 METRICS_ADDR=off
  gp3=$port; gpid3=${pids[-1]}
  build=$build_new
  url3="http://127.0.0.1:$gp3/report/3512/001"
  curl -sf "$url3" >"$tmp/report-base.json"
  base_queries=$(grep -o '"sql_queries":[0-9]*' "$tmp/report-base.json" | cut -d: -f2)
fi
url="http://127.0.0.1:$gp/report/3512/001"
url2="http://127.0.0.1:$gp2/report/3512/001"
curl -sf "$url2" >"$tmp/report.json"
permits=$(grep -o '"total_permits":[0-9]*' "$tmp/report.json" | cut -d: -f2)
queries=$(grep -o '"sql_queries":[0-9]*' "$tmp/report.json" | cut -d: -f2)
bytes=$(wc -c <"$tmp/report.json")
curl -sf "$url" >/dev/null
curl -sf "$url" >"$tmp/report-hit.json"
hit=$(grep -o '"report_cache_hit":[a-z]*' "$tmp/report-hit.json" | cut -d: -f2)
hit_queries=$(grep -o '"sql_queries":[0-9]*' "$tmp/report-hit.json" | cut -d: -f2)
machine_line
curl -sf "$url2" >"$tmp/report.json" # a warm connection now
queries_warm=$(grep -o '"sql_queries":[0-9]*' "$tmp/report.json" | cut -d: -f2)
echo "# scale=$scale seed=${seed_s}s; /report/3512/001: $permits permits, $bytes bytes JSON;" \
  "SQL round trips: $queries on a fresh connection, $queries_warm per assembled report after," \
  "$hit_queries on a report-cache hit (report_cache_hit=$hit)${base_queries:+; before: $base_queries}"
echo "# warm SODA cache, wrk --latency -d${dur}s"
# Postgres CPU: our cluster's postmaster and its backends (every postgres process when
# DATABASE_URL points elsewhere).
pg_cpu() {
  local pm
  pm=$(head -1 "$tmp/pg/data/postmaster.pid" 2>/dev/null || head -1 "${BENCH_PGDATA:-/nonexistent}/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pm" ]; then cpu_of "$pm" $(pgrep -P "$pm"); else cpu_of $(pgrep -u postgres postgres); fi
}
# warm LABEL URL GATEWAY_PID REPORT_PID: c=1 and c=16, then CPU per request at c=16.
warm() {
  local label=$1 u=$2 gpid=$3 rpid=$4 g0 r0 p0 g1 r1 p1
  wrk_line "$label c=1" -t1 -c1 -d"${dur}s" "$u"
  g0=$(cpu_of "$gpid"); r0=$(cpu_of "$rpid"); p0=$(pg_cpu)
  wrk_line "$label c=16" -t2 -c16 -d"${dur}s" "$u"
  g1=$(cpu_of "$gpid"); r1=$(cpu_of "$rpid"); p1=$(pg_cpu)
  awk -v l="$label" -v n="$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")" -v g="$g1 $g0" -v r="$r1 $r0" -v p="$p1 $p0" '
    function d(s,  a) { split(s, a, " "); return (a[1] - a[2]) * 1000 / n }
    BEGIN { printf "%-34s gateway=%.2fms report=%.2fms postgres=%.2fms (n=%d)\n", l " CPU/request c=16", d(g), d(r), d(p), n }'
}
warm "report" "$url" "$gpid" "$rpid"
warm "report, report cache off" "$url2" "$gpid2" "$rpid2"
[ -n "${BASE_BUILD_DIR:-}" ] && warm "before, report cache off" "$url3" "$gpid3" "$rpid3"

echo "# cold SODA cache, test server delay 300 ms per call: one request each to 20 parcels"
curl -sf -X POST "http://127.0.0.1:$sp/__control?mode=delay&delay_ms=300" >/dev/null
psql "$DATABASE_URL" -Atc "SELECT block || '/' || lot FROM (SELECT DISTINCT block, lot FROM permits
  WHERE block <> '3512' ORDER BY block, lot LIMIT 20) p" >"$tmp/parcels"
: >"$tmp/cold"
while read -r p; do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$gp/report/$p" >>"$tmp/cold"
done <"$tmp/parcels"
sort -n "$tmp/cold" | awk '{a[NR]=$1} END {printf "%-34s p50=%.0fms min=%.0fms max=%.0fms (n=%d)\n", "report cold, SODA +300ms", a[int((NR+1)/2)]*1000, a[1]*1000, a[NR]*1000, NR}'
