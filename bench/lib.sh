# bench/lib.sh — shared helpers for the benchmark scripts (sourced, not run).
# Starts processes from $build/bin with logs in $tmp, finds their ports from the JSON
# "listening" line, and cleans everything up on exit.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
tmp=$(mktemp -d /tmp/sfp-bench.XXXXXX)
chmod 755 "$tmp" # the postgres user must reach $tmp/pg
pids=()
bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP_PG:-}" ] || "$root/scripts/pgtmp" stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap bench_cleanup EXIT

# bench_pg: a throwaway cluster (or $DATABASE_URL when set), migrated.
bench_pg() {
  if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL=$(PGTMP_EPHEMERAL=1 "$root/scripts/pgtmp" start "$tmp/pg")
  fi
  export DATABASE_URL
  "$build/bin/sfp-migrate" >/dev/null 2>"$tmp/migrate.log"
}

# bench_pg_seeded SCALE: bench_pg, and seed SCALE when the cluster is our own (a given
# DATABASE_URL is taken as already seeded; migrating it again is idempotent).
bench_pg_seeded() {
  if [ -n "${DATABASE_URL:-}" ]; then bench_pg; return; fi
  bench_pg
  echo "# seeding --scale $1 ..." >&2
  "$build/bin/sfp-seed" --scale "$1" --jobs 2 >/dev/null 2>"$tmp/seed.log"
}

# port_of LOG [MSG]: the port from the first {"msg":"MSG",...,"port":N} line (default listening).
port_of() {
  local msg=${2:-listening} p
  for _ in $(seq 200); do
    p=$(grep -o "\"msg\":\"$msg\".*\"port\":[0-9]*" "$1" 2>/dev/null | head -1 | grep -o '"port":[0-9]*' | cut -d: -f2 || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "no $msg line in $1" >&2; exit 1
}

# start NAME BINARY [ENV...]: start in the background (logs in $tmp/NAME.log) and set $port to
# the port it bound. Not for $(...): the child would hold the substitution's pipe open.
start() {
  local name=$1 bin=$2; shift 2
  env LOG_LEVEL=info "$@" "$build/bin/$bin" >"$tmp/$name.out" 2>"$tmp/$name.log" &
  pids+=($!)
  port=$(port_of "$tmp/$name.log")
}

# wrk_line LABEL WRK-ARGS...: one line "LABEL req/s=… p50=… p99=… non2xx=…".
wrk_line() {
  local label=$1; shift
  wrk "$@" --latency >"$tmp/wrk.txt"
  printf '%-34s req/s=%-10s p50=%-9s p99=%-9s non2xx=%s\n' "$label" \
    "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")" \
    "$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")" "$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")" \
    "$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.txt" | grep . || echo 0)"
}

machine_line() {
  echo "# $(date -u +%F) $(nproc) cores $(uname -m), $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs)"
}

# cpu_of PID...: summed user+system CPU seconds of the processes (from /proc/PID/stat).
cpu_of() {
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print t + ($12 + $13) / hz}' "/proc/$p/stat")
  done
  echo "$t"
}

# start_uncached_report NAME: sfp-report of $build with its report cache off (SODA at $soda_url)
# and an sfp-gateway of $build in front of it, rate limit off (BENCH_GATEWAY_ENV: more gateway
# settings, BENCH_REPORT_ENV: more sfp-report settings); sets report_pid, gateway_pid and
# report_url (/report/3512/001 through the gateway).
start_uncached_report() {
  start "report$1" sfp-report LISTEN_ADDR=127.0.0.1:0 SODA_BASE_URL=$soda_url REPORT_CACHE_TTL_S=0 METRICS_ADDR=off \
    ${BENCH_REPORT_ENV:-}
  report_pid=${pids[-1]}
  start "gateway$1" sfp-gateway GATEWAY_ADDR=127.0.0.1:0 REPORT_SVC_ADDR=127.0.0.1:$port GATEWAY_REPORT_RATE_LIMIT=0 \
    METRICS_ADDR=off ${BENCH_GATEWAY_ENV:-}
  gateway_pid=${pids[-1]}
  report_url=http://127.0.0.1:$port/report/3512/001
}
