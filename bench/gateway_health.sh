#!/usr/bin/env bash
# bench/gateway_health.sh — the gateway's own cost: wrk against GET /healthz (gateway alone)
# and GET /health (gateway → gRPC → sfp-health → Postgres), 16 connections.
# Usage: bench/gateway_health.sh [duration_s=10]   (needs a built tree in $BUILD_DIR or build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
dur=${1:-10}
tmp=$(mktemp -d /tmp/sfp-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$root/scripts/pgtmp" stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export DATABASE_URL=$(PGTMP_EPHEMERAL=1 "$root/scripts/pgtmp" start "$tmp/pg")
"$build/bin/sfp-migrate" >/dev/null
"$build/bin/sfp-seed" --scale demo >/dev/null
port_of() { # log file → port from the listening line
  for _ in $(seq 100); do
    p=$(grep -o '"msg":"listening".*"port":[0-9]*' "$1" 2>/dev/null | grep -o '"port":[0-9]*' | cut -d: -f2 || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "no listening line in $1" >&2; exit 1
}
LISTEN_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=off BRIEF_SVC_ADDR=off CRON_SVC_ADDR=off LOG_LEVEL=warn \
  "$build/bin/sfp-health" 2>"$tmp/health.log" & pids+=($!)

hport=$(port_of "$tmp/health.log")
GATEWAY_ADDR=127.0.0.1:0 HEALTH_SVC_ADDR=127.0.0.1:$hport LOG_LEVEL=warn \
  "$build/bin/sfp-gateway" 2>"$tmp/gw.log" & pids+=($!)
gport=$(port_of "$tmp/gw.log")
curl -sf "http://127.0.0.1:$gport/health" >/dev/null
echo "# $(date -u +%F) $(nproc) cores, $(uname -m); wrk -t2 -c16 -d${dur}s --latency"
for path in /healthz /health; do
  wrk -t2 -c16 -d"${dur}s" --latency "http://127.0.0.1:$gport$path" >"$tmp/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.txt")
  printf '%-9s req/s=%s p50=%s p99=%s non2xx=%s\n' "$path" "$rps" "$p50" "$p99" "${non2xx:-0}"
done
