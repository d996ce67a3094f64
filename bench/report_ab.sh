#!/usr/bin/env bash
# bench/report_ab.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=1] — report cache off, /report/3512/001 at
# c=CONNECTIONS (wrk, 2 threads above 1 connection), this build
# ("after") and BASE_BUILD_DIR's ("before") alternately on one seeded database: one stack at a
# time under load, so each pair sees the same machine within seconds. Per run: req/s, p50 and CPU
# per report of the gateway, sfp-report and the Postgres cluster (/proc, the postmaster's
# children including reaped ones, so autovacuum counts too when it runs).
#   DATABASE_URL=... BENCH_PGDATA=<its data directory> BASE_BUILD_DIR=<other build> bench/report_ab.sh 3 8
# BENCH_GATEWAY_ENV="GATEWAY_JSON_CACHE_ENTRIES=0" makes both gateways encode every report's JSON
# (the first view of changed content) instead of serving the encode cached under the content's
# etag. BENCH_BASE_REPORT_ENV: settings of the "before" sfp-report only (e.g. BASE_BUILD_DIR=build
# BENCH_BASE_REPORT_ENV=REPORT_NEARBY_LIMIT=0 compares one build with nearby activity off).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
rounds=${1:-3}
dur=${2:-8}
conns=${3:-1}
threads=$((conns > 1 ? 2 : 1))
: "${DATABASE_URL:?a seeded database}" "${BENCH_PGDATA:?its data directory}" "${BASE_BUILD_DIR:?the build to compare with}"
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda_url=http://127.0.0.1:$port/resource
start_uncached_report ""
rpid_a=$report_pid gpid_a=$gateway_pid url_a=$report_url
build_new=$build
build=$BASE_BUILD_DIR
BENCH_REPORT_ENV=${BENCH_BASE_REPORT_ENV:-} start_uncached_report -base
rpid_b=$report_pid gpid_b=$gateway_pid url_b=$report_url
build=$build_new
pm=$(head -1 "$BENCH_PGDATA/postmaster.pid")
pg_cpu() { # postmaster + reaped children (cutime/cstime) + live children, in seconds
  local t
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for p in $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}'
}
one() { # LABEL URL GATEWAY_PID REPORT_PID
  local g0 r0 p0 g1 r1 p1
  curl -sf "$2" >/dev/null
  g0=$(cpu_of "$3"); r0=$(cpu_of "$4"); p0=$(pg_cpu)
  wrk --latency -t"$threads" -c"$conns" -d"${dur}s" "$2" >"$tmp/wrk.txt"
  g1=$(cpu_of "$3"); r1=$(cpu_of "$4"); p1=$(pg_cpu)
  awk -v l="$1" -v c="$conns" -v g="$g1 $g0" -v r="$r1 $r0" -v p="$p1 $p0" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    function d(s,  a) { split(s, a, " "); return (a[1] - a[2]) * 1000 / n }
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } / 50%/ { p50 = $2 }
    END { printf "%-7s c=%s req/s=%-8s p50=%-8s CPU/report gateway=%.3f report=%.3f postgres=%.3f total=%.3f ms (load %s)\n",
          l, c, rps, p50, d(g), d(r), d(p), d(g) + d(r) + d(p), load }' "$tmp/wrk.txt"
}
machine_line
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then
    one before "$url_b" "$gpid_b" "$rpid_b"; one after "$url_a" "$gpid_a" "$rpid_a"
  else
    one after "$url_a" "$gpid_a" "$rpid_a"; one before "$url_b" "$gpid_b" "$rpid_b"
  fi
done
