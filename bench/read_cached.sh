#!/usr/bin/env bash
# bench/read_cached.sh [SECONDS=10] — the cached read paths through the gateway, two builds side
# by side in one run (same database, same machine load, runs interleaved):
#   GET /report/3512/001 (44 permits) with sfp-report's report cache on (a hit: no SQL, no SODA)
#   GET /brief?lookback=7 for the bench user with 50 watches (a page_cache hit)
# For each: wrk at 16 connections (and 1 for the report), req/s, p50, and CPU per request of
# the gateway, the service and Postgres (user+system seconds over the run / requests).
#
# Usage: DATABASE_URL=... [BENCH_PGDATA=<its data dir>] [BASE_BUILD_DIR=<before build>] \
#          bench/read_cached.sh [SECONDS]
#   DATABASE_URL    an already migrated AND seeded database (e.g. full scale: scripts/pgtmp
#                   start /tmp/pg; sfp-migrate; sfp-seed --scale full --jobs 2)
#   BENCH_PGDATA    the cluster's data directory, for Postgres CPU (its postmaster.pid)
#   BASE_BUILD_DIR  a build tree of the previous version ("before"); without it only BUILD_DIR
# The bench user (50 watches, token bench-token-50) is created as in bench/brief.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-10}
: "${DATABASE_URL:?set DATABASE_URL to a seeded database}"
bench_pg
# the bench user, from bench/brief.sh's SQL (idempotent)
sed -n "/<<'SQL'/,/^SQL\$/p" "$root/bench/brief.sh" | sed '1d;$d' | psql -qAtX "$DATABASE_URL" -v ON_ERROR_STOP=1 >/dev/null
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda_url=http://127.0.0.1:$port/resource

# stack LABEL: report + brief + one gateway from $build; sets the url/pid variables of LABEL
declare -A rurl burl gpid rpid bpid
stack() {
  local l=$1
  start "report-$l" sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url METRICS_ADDR=off
  local rp=$port
  rpid[$l]=${pids[-1]}
  start "brief-$l" sfp-brief LISTEN_ADDR=127.0.0.1:0 METRICS_ADDR=off
  local bp=$port
  bpid[$l]=${pids[-1]}
  start "gateway-$l" sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp BRIEF_SVC_ADDR=127.0.0.1:$bp \
    GATEWAY_REPORT_RATE_LIMIT=0 METRICS_ADDR=off
  gpid[$l]=${pids[-1]}
  rurl[$l]="http://127.0.0.1:$port/report/3512/001"
  burl[$l]="http://127.0.0.1:$port/brief?lookback=7"
}
labels=(after)
stack after
if [ -n "${BASE_BUILD_DIR:-}" ]; then
  build_now=$build
  build=$BASE_BUILD_DIR
  stack before
  build=$build_now
  labels=(before after)
fi
auth="Authorization: Bearer bench-token-50"
pg_pids() {
  [ -n "${BENCH_PGDATA:-}" ] && [ -r "$BENCH_PGDATA/postmaster.pid" ] || return 0
  local pm
  pm=$(head -1 "$BENCH_PGDATA/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm" || true)
}
for l in "${labels[@]}"; do # warm: SODA cache, report cache, page_cache, JSON caches
  for _ in 1 2 3; do
    curl -sf -o /dev/null "${rurl[$l]}"
    curl -sf -o /dev/null -H "$auth" "${burl[$l]}"
  done
  curl -sf "${rurl[$l]}" | grep -q '"report_cache_hit":true' || { echo "$l: report not cached" >&2; exit 1; }
  curl -sf -H "$auth" "${burl[$l]}" | grep -q '"cached":true' || { echo "$l: brief not cached" >&2; exit 1; }
done
machine_line
echo "# cached reads, wrk -d${dur}s; CPU ms per request: gateway / service / postgres"
# run LABEL NAME SVC_PID CONNS URL [HEADER]
run() {
  local l=$1 name=$2 svc=$3 c=$4 url=$5 hdr=${6:-}
  local pg g0 s0 p0 g1 s1 p1 n
  pg=$(pg_pids)
  g0=$(cpu_of "${gpid[$l]}") s0=$(cpu_of "$svc") p0=$(cpu_of $pg)
  if [ -n "$hdr" ]; then wrk -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${dur}s" --latency -H "$hdr" "$url" >"$tmp/wrk.txt"
  else wrk -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${dur}s" --latency "$url" >"$tmp/wrk.txt"; fi
  g1=$(cpu_of "${gpid[$l]}") s1=$(cpu_of "$svc") p1=$(cpu_of $pg)
  n=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
  printf '%-7s %-22s c=%-3s req/s=%-9s p50=%-8s p99=%-8s non2xx=%-3s cpu/req ms: gw=%.3f svc=%.3f pg=%.3f\n' \
    "$l" "$name" "$c" "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")" \
    "$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")" "$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")" \
    "$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.txt" | grep . || echo 0)" \
    "$(awk -v a="$g0" -v b="$g1" -v n="$n" 'BEGIN {print (b - a) * 1000 / n}')" \
    "$(awk -v a="$s0" -v b="$s1" -v n="$n" 'BEGIN {print (b - a) * 1000 / n}')" \
    "$(awk -v a="${p0:-0}" -v b="${p1:-0}" -v n="$n" 'BEGIN {print (b - a) * 1000 / n}')"
}
for l in "${labels[@]}"; do run "$l" "report cache hit" "${rpid[$l]}" 1 "${rurl[$l]}"; done
for l in "${labels[@]}"; do run "$l" "report cache hit" "${rpid[$l]}" 16 "${rurl[$l]}"; done
for l in "${labels[@]}"; do run "$l" "brief page_cache hit" "${bpid[$l]}" 16 "${burl[$l]}" "$auth"; done
# the second round in the other order, so neither build always runs first
for ((i = ${#labels[@]} - 1; i >= 0; i--)); do run "${labels[$i]}" "report cache hit" "${rpid[${labels[$i]}]}" 16 "${rurl[${labels[$i]}]}"; done
for ((i = ${#labels[@]} - 1; i >= 0; i--)); do run "${labels[$i]}" "brief page_cache hit" "${bpid[${labels[$i]}]}" 16 "${burl[${labels[$i]}]}" "$auth"; done
