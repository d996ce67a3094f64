#!/usr/bin/env bash
# tests/browser/with-stack.sh BUILD_DIR NAME -- CMD [ARGS...]
# Runs CMD against a whole local suite: a fresh database NAME on the ctest Postgres cluster
# (BUILD_DIR/testpg/url, or DATABASE_URL_ADMIN), migrated and seeded with `sfp-seed --scale demo`;
# sfp-soda-test-server serving that data; sfp-report, sfp-brief, sfp-cron (CRON_SECRET
# with-stack-cron-secret), sfp-health and sfp-gateway (extra env: SFP_GATEWAY_ENV) on ephemeral
# loopback ports, and a second gateway with CRON_WORKER=1. CMD gets SFP_GATEWAY_URL
# (http://127.0.0.1:PORT), SFP_CRON_GATEWAY_URL (the cron worker's gateway), SFP_SODA_URL (the SODA test
# server, for its /__control fault switch) and SFP_ARTIFACTS (BUILD_DIR/NAME: logs,
# screenshots). Every process started here is stopped (SIGTERM, then waited for) and the
# database dropped when CMD ends; the exit status is CMD's, or 1 when the stack did not start.
set -euo pipefail
build=${1:?usage: with-stack.sh BUILD_DIR NAME -- CMD...}
name=${2:?usage: with-stack.sh BUILD_DIR NAME -- CMD...}
shift 2
[ "${1:-}" = "--" ] && shift
bin=$build/bin
art=$build/$name
mkdir -p "$art"
export PGOPTIONS="-c client_min_messages=warning"
admin=${DATABASE_URL_ADMIN:-$(cat "$build/testpg/url")}
db=$(echo "$name" | tr -c 'a-z0-9_\n' '_')
dburl=$(echo "$admin" | sed -E "s#/postgres(\\?|\$)#/$db\\1#")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$admin" -qX -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql "$admin" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
DATABASE_URL=$dburl LOG_LEVEL=warn "$bin/sfp-migrate" >"$art/migrate.log" 2>&1
DATABASE_URL=$dburl LOG_LEVEL=warn "$bin/sfp-seed" --scale demo >"$art/seed.json" 2>"$art/seed.log"

# start NAME BINARY ENV... — starts it, waits (≤ 10 s) for its "listening" log line, sets $port.
start() {
  local n=$1 b=$2 log=$art/$1.log i
  shift 2
  env "$@" "$bin/$b" 2>"$log" &
  pids+=($!)
  port=""
  for i in $(seq 1 200); do
    port=$(grep -m1 '"msg":"listening"' "$log" 2>/dev/null | sed -nE 's/.*"port":([0-9]+).*/\1/p' || true)
    [ -n "$port" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "with-stack: $n did not start; its log ($log):" >&2
  tail -20 "$log" >&2
  exit 1
}

start soda sfp-soda-test-server DATABASE_URL="$dburl" SODA_TEST_ADDR=127.0.0.1:0
soda_port=$port
start report sfp-report DATABASE_URL="$dburl" LISTEN_ADDR=127.0.0.1:0 \
  SODA_BASE_URL="http://127.0.0.1:$soda_port/resource" REPORT_CACHE_TTL_S=0
report_port=$port
start brief sfp-brief DATABASE_URL="$dburl" LISTEN_ADDR=127.0.0.1:0
brief_port=$port
start cron sfp-cron DATABASE_URL="$dburl" LISTEN_ADDR=127.0.0.1:0 CRON_SECRET=with-stack-cron-secret \
  BRIEF_SVC_ADDR="127.0.0.1:$brief_port" SODA_BASE_URL="http://127.0.0.1:$soda_port/resource"
cron_port=$port
start health sfp-health DATABASE_URL="$dburl" LISTEN_ADDR=127.0.0.1:0 REPORT_SVC_ADDR="127.0.0.1:$report_port" \
  BRIEF_SVC_ADDR="127.0.0.1:$brief_port" CRON_SVC_ADDR="127.0.0.1:$cron_port"
health_port=$port
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR="127.0.0.1:$report_port" \
  BRIEF_SVC_ADDR="127.0.0.1:$brief_port" CRON_SVC_ADDR="127.0.0.1:$cron_port" \
  HEALTH_SVC_ADDR="127.0.0.1:$health_port" ${SFP_GATEWAY_ENV:-}
gw_port=$port
start cron-gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 CRON_WORKER=1 CRON_SVC_ADDR="127.0.0.1:$cron_port" \
  HEALTH_SVC_ADDR="127.0.0.1:$health_port"
cron_gw_port=$port

set +e
SFP_GATEWAY_URL="http://127.0.0.1:$gw_port" SFP_CRON_GATEWAY_URL="http://127.0.0.1:$cron_gw_port" SFP_SODA_URL="http://127.0.0.1:$soda_port" SFP_ARTIFACTS="$art" "$@"
rc=$?
set -e
exit $rc
