#!/usr/bin/env bash
# bench/gateway_health.sh [SECONDS=10] — the gateway's own cost: wrk -c16 against GET /healthz
# (gateway alone, no RPC) and GET /health (gateway → gRPC → sfp-health → Postgres).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dur=${1:-10}
bench_pg
"$build/bin/sfp-seed" --scale demo >/dev/null 2>"$tmp/seed.log"
start health sfp-health LISTEN_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=off BRIEF_SVC_ADDR=off CRON_SVC_ADDR=off
hp=$port
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 HEALTH_SVC_ADDR=127.0.0.1:$hp
gp=$port
curl -sf "http://127.0.0.1:$gp/health" >/dev/null
machine_line
echo "# wrk -t2 -c16 -d${dur}s --latency"
wrk_line "GET /healthz (gateway only)" -t2 -c16 -d"${dur}s" "http://127.0.0.1:$gp/healthz"
wrk_line "GET /health (gRPC + Postgres)" -t2 -c16 -d"${dur}s" "http://127.0.0.1:$gp/health"
