#!/usr/bin/env bash
# bench/gateway_slowloris.sh [SECONDS=10] — the gateway under a slowloris attack and with 10,000
# idle keep-alive connections, side by side with a baseline gateway binary (e.g. main's):
#   BASELINE_GATEWAY=/path/to/old/sfp-gateway bench/gateway_slowloris.sh
# Stack: demo data, the SODA test server, one sfp-report, one sfp-health; both gateways in front
# of the same services (report rate limit off).
#   1. throughput: wrk -t2 -c16 on GET /healthz and cached GET /report/3512/001, each gateway
#   2. slowloris: 2,000 connections from 127.0.0.2 (bench/gateway_slowloris.py) held for the run
#      while wrk on 127.0.0.1 measures /healthz and cached /report (p99, errors)
#   3. 10,000 idle keep-alive connections (one request each, from 40 loopback addresses): the
#      gateway's RSS (new gateway only; the baseline's 512-connection cap cannot hold them)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-10}
base=${BASELINE_GATEWAY:-}
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bench_pg
"$build/bin/sfp-seed" --scale demo >/dev/null 2>"$tmp/seed.log"
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
sp=$port
start report sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=http://127.0.0.1:$sp/resource METRICS_ADDR=off
rp=$port
start health sfp-health LISTEN_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=off BRIEF_SVC_ADDR=off CRON_SVC_ADDR=off METRICS_ADDR=off
hp=$port
common=(GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$rp HEALTH_SVC_ADDR=127.0.0.1:$hp GATEWAY_REPORT_RATE_LIMIT=0 METRICS_ADDR=off)
start gateway sfp-gateway "${common[@]}" GATEWAY_MAX_CONNECTIONS=10100
gp=$port; gpid=${pids[-1]}
names=(new); ports=($gp)
if [ -n "$base" ]; then
  env LOG_LEVEL=info "${common[@]}" "$base" >"$tmp/base.out" 2>"$tmp/base.log" &
  pids+=($!)
  names+=(baseline); ports+=($(port_of "$tmp/base.log"))
fi
for p in "${ports[@]}"; do curl -sf "http://127.0.0.1:$p/report/3512/001" >/dev/null; done # warm caches
machine_line
echo "# 1. throughput, wrk -t2 -c16 -d${dur}s --latency; two rounds, gateways interleaved"
for round in 1 2; do
  for i in "${!ports[@]}"; do
    wrk_line "${names[$i]}: GET /healthz" -t2 -c16 -d"${dur}s" "http://127.0.0.1:${ports[$i]}/healthz"
    wrk_line "${names[$i]}: GET /report (cached)" -t2 -c16 -d"${dur}s" "http://127.0.0.1:${ports[$i]}/report/3512/001"
  done
done
echo "# 2. during a slowloris attack (2,000 connections from 127.0.0.2): one client (wrk -t1 -c1)"
echo "#    and a saturating load (wrk -t2 -c16), ${dur}s each, --timeout 5s"
for i in "${!ports[@]}"; do
  python3 "$root/bench/gateway_slowloris.py" slowloris "${ports[$i]}" 2000 $((4 * dur + 10)) >"$tmp/attack.txt" &
  apid=$!
  sleep 3
  for c in 1 16; do
    t=$((c > 1 ? 2 : 1))
    wrk_line "${names[$i]}: /healthz attacked c=$c" -t$t -c$c -d"${dur}s" --timeout 5s "http://127.0.0.1:${ports[$i]}/healthz"
    grep -h "Socket errors" "$tmp/wrk.txt" || true
    wrk_line "${names[$i]}: /report attacked c=$c" -t$t -c$c -d"${dur}s" --timeout 5s "http://127.0.0.1:${ports[$i]}/report/3512/001"
    grep -h "Socket errors" "$tmp/wrk.txt" || true
  done
  wait "$apid" || true
  sed "s/^/# ${names[$i]}: /" "$tmp/attack.txt"
done
echo "# 3. 10,000 idle keep-alive connections (new gateway)"
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss "$gpid")
mkfifo "$tmp/hold"
python3 "$root/bench/gateway_slowloris.py" idle "$gp" 10000 <"$tmp/hold" >"$tmp/idle.txt" &
ipid=$!
exec 9>"$tmp/hold"
for _ in $(seq 600); do grep -q ready "$tmp/idle.txt" 2>/dev/null && break; sleep 0.1; done
echo "new gateway: $(cat "$tmp/idle.txt"); RSS ${before} KB before, $(rss "$gpid") KB with them held;" \
  "/healthz meanwhile: $(curl -s -o /dev/null -w '%{http_code} in %{time_total}s' "http://127.0.0.1:$gp/healthz")"
exec 9>&-
wait "$ipid" || true
