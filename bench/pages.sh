#!/usr/bin/env bash
# bench/pages.sh [SECONDS=5] — the property report as a page: server time of
# GET /report/3512/001 as HTML (Accept: text/html) next to JSON, from the report cache
# (cached) and with it off (uncached: every request runs the SQL plan; the SODA cache is warm
# in both), wrk -t1 -c1; then the page's load time in headless chromium on localhost
# (bench/page-load.mjs: median of 20 navigations, fresh cache each time).
# BENCH_SCALE=full (default) seeds the reference volumes first; BENCH_SCALE=demo for a quick run.
# Needs build/browser-npm (ctest -L browser installs it) and /usr/bin/chromium.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-5}
scale=${BENCH_SCALE:-full}
bench_pg_seeded "$scale"
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda_url=http://127.0.0.1:$port/resource
start report sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url
rp=$port
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp GATEWAY_REPORT_RATE_LIMIT=0
gp=$port
start report-nocache sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url REPORT_CACHE_TTL_S=0 METRICS_ADDR=off
rp2=$port
start gateway-nocache sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp2 GATEWAY_REPORT_RATE_LIMIT=0 METRICS_ADDR=off
gp2=$port
cached="http://127.0.0.1:$gp/report/3512/001"
uncached="http://127.0.0.1:$gp2/report/3512/001"
H='Accept: text/html,application/xhtml+xml,*/*;q=0.8'
curl -sf "$cached" >"$tmp/r.json"
curl -sf -H "$H" "$cached" >"$tmp/r.html"
curl -sf "$uncached" >/dev/null
machine_line
echo "# scale=$scale; /report/3512/001: $(wc -c <"$tmp/r.json") bytes JSON, $(wc -c <"$tmp/r.html") bytes HTML;" \
  "wrk -t1 -c1 --latency -d${dur}s"
wrk_line "JSON cached" -t1 -c1 -d"${dur}s" "$cached"
wrk_line "HTML cached" -t1 -c1 -d"${dur}s" -H "$H" "$cached"
wrk_line "JSON uncached" -t1 -c1 -d"${dur}s" "$uncached"
wrk_line "HTML uncached" -t1 -c1 -d"${dur}s" -H "$H" "$uncached"
node "$root/bench/page-load.mjs" "$build/browser-npm" "$cached" 20
node "$root/bench/page-load.mjs" "$build/browser-npm" "http://127.0.0.1:$gp/" 20
