#!/usr/bin/env bash
# bench/report_perf.sh [SECONDS=8] [OUT=/tmp/report-perf] — where an uncached report's CPU goes:
# report cache off, /report/3512/001 at c=1 with wrk for SECONDS while `perf record -F 2000 -g`
# samples the gateway, sfp-report and every backend of the cluster. Writes OUT/{gateway,report,
# postgres}.data and a flat top-40 of each (OUT/*.txt), and prints the sample share per process.
#   DATABASE_URL=... BENCH_PGDATA=<its data directory> bench/report_perf.sh 8 /tmp/report-perf
# BENCH_GATEWAY_ENV="GATEWAY_JSON_CACHE_ENTRIES=0": the gateway encodes every report's JSON.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-8}
out=${2:-/tmp/report-perf}
: "${DATABASE_URL:?a seeded database}" "${BENCH_PGDATA:?its data directory}"
command -v perf >/dev/null || { echo "report_perf: perf is required" >&2; exit 2; }
mkdir -p "$out"
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda_url=http://127.0.0.1:$port/resource
start_uncached_report ""
rpid=$report_pid gpid=$gateway_pid url=$report_url
for _ in 1 2 3; do curl -sf "$url" >/dev/null; done
pm=$(head -1 "$BENCH_PGDATA/postmaster.pid")
pg=$(pgrep -d, -P "$pm")
perf record -q -F 2000 -g -p "$gpid" -o "$out/gateway.data" >/dev/null 2>&1 &
p1=$!
perf record -q -F 2000 -g -p "$rpid" -o "$out/report.data" >/dev/null 2>&1 &
p2=$!
perf record -q -F 2000 -g -p "$pg" -o "$out/postgres.data" >/dev/null 2>&1 &
p3=$!
sleep 1
wrk --latency -t1 -c1 -d"${dur}s" "$url" | grep -E 'Requests/sec| 50%'
kill -INT "$p1" "$p2" "$p3"
wait "$p1" "$p2" "$p3" 2>/dev/null || true
for n in gateway report postgres; do
  perf report -i "$out/$n.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep '%' |
    head -40 >"$out/$n.txt" || true
  printf '%-9s samples=%s\n' "$n" "$(perf report -i "$out/$n.data" --stdio 2>/dev/null | awk '/^# Samples/ {print $3; exit}' || true)"
done
