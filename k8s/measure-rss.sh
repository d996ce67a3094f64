#!/usr/bin/env bash
# k8s/measure-rss.sh — resident memory of every binary, idle and under a little load: the
# figures k8s/README.md sizes the pods' memory requests/limits from.
#
#   1. start sfp-report, sfp-brief, sfp-cron, sfp-health, sfp-gateway and a SODA stand-in
#      (sfp-soda-test-server) against a migrated + seeded Postgres, with the pod settings of
#      k8s/base (RPC_WORKERS, DB_POOL_*);
#   2. idle: VmRSS 5 s after every process is ready;
#   3. load: wrk -t2 -c<connections> for --seconds on GET /report/{block}/{lot} (a rotating set of parcels),
#      GET /brief (demo tokens) and GET /health at once, while sfp-cronctl runs nightly
#      (--lookback 1, against the stand-in), signals, velocity-refresh, compute-caches and
#      heartbeat one after the other;
#   4. prints VmRSS after the load and VmHWM (peak RSS) of each long-running process, and the
#      peak RSS of sfp-cronctl and sfp-migrate (GNU time).
#
# Usage: k8s/measure-rss.sh [--scale demo|full] [--seconds N] [--connections N] [--parcels N]
#   --connections  wrk connections on /report (default 16; /brief gets half, /health a quarter)
#   --parcels      distinct parcels the /report load cycles through, heaviest first (default 200);
#                  each adds SODA cache entries to sfp-report (SODA_CACHE_MAX_ENTRIES bounds them)
# Env: BUILD_DIR (default build/); DATABASE_URL: use this already migrated and seeded database
#      instead of a private throwaway cluster (the seed of --scale full takes a few minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
scale=demo secs=20 conns=16 parcels=200
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --parcels) parcels=$2; shift 2 ;;
    *) echo "usage: k8s/measure-rss.sh [--scale demo|full] [--seconds N] [--connections N] [--parcels N]" >&2; exit 2 ;;
  esac
done
for b in sfp-report sfp-brief sfp-cron sfp-health sfp-gateway sfp-cronctl sfp-migrate sfp-soda-test-server; do
  [ -x "$build/bin/$b" ] || { echo "measure-rss: $build/bin/$b missing (build first)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "measure-rss: wrk missing (scripts/bootstrap installs it)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sfp-rss.XXXXXX)
chmod 755 "$tmp"
pids=()
own_pg=0
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$own_pg" = 1 ] && "$root/scripts/pgtmp" stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ]; then
  own_pg=1
  export DATABASE_URL=$("$root/scripts/pgtmp" start "$tmp/pg")
  /usr/bin/time -f '%M' -o "$tmp/migrate.rss" "$build/bin/sfp-migrate" >/dev/null 2>"$tmp/migrate.log"
  echo "# seeding --scale $scale ..." >&2
  "$build/bin/sfp-seed" --scale "$scale" --jobs 2 >"$tmp/seed.json" 2>"$tmp/seed.log"
else
  /usr/bin/time -f '%M' -o "$tmp/migrate.rss" "$build/bin/sfp-migrate" >/dev/null 2>"$tmp/migrate.log"
fi

port_of() { # log file → port of the first "listening" line
  local p
  for _ in $(seq 200); do
    p=$(grep -o '"msg":"listening".*"port":[0-9]*' "$1" 2>/dev/null | head -1 | grep -o '"port":[0-9]*' | cut -d: -f2 || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "measure-rss: no listening line in $1" >&2; cat "$1" >&2; exit 1
}
declare -A pid_of
start() { # name binary env...
  local name=$1 bin=$2; shift 2
  env LOG_LEVEL=info METRICS_ADDR=127.0.0.1:0 "$@" "$build/bin/$bin" 2>"$tmp/$name.log" &
  pids+=($!)
  pid_of[$name]=$!
}
export CRON_SECRET=measure-rss-secret
# The pod settings of k8s/base (config/*.env).
DB="DB_POOL_MIN=2 DB_POOL_MAX=8"
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda=$(port_of "$tmp/soda.log")
SODA="SODA_BASE_URL=http://127.0.0.1:$soda/resource"
# sfp-soda-test-server serves the report's parcel datasets only; the nightly ingest reads full
# pages (CRON_NIGHTLY_PAGE_SIZE rows) of permits/inspections/addenda: a fake serving two pages
# (10,000 + 3,000 synthetic rows) of each, so the measured peak includes a full page.
CRON_SODA=$SODA
if command -v python3 >/dev/null; then
  cat >"$tmp/nightly_soda.py" <<'PY'
import http.server, json, sys, urllib.parse
def rows(ds, off, n):
    out = []
    for i in range(off, off + n):
        d = "2026-11-27T%02d:%02d:00.000" % (i // 60 % 24, i % 60)
        common = {"block": "%04d" % (i % 9000 + 1), "lot": "%03d" % (i % 900 + 1), "street_number": str(i % 3000),
                  "street_name": "MARKET", "street_suffix": "St", "zipcode": "94103", "data_as_of": d}
        if ds == "i98e-djp9":
            r = dict(common, permit_number="N%09d" % i, permit_type="8", permit_type_definition="otc alterations permit",
                     status="issued", status_date=d, description="replace kitchen cabinets and counters, " * 3,
                     filed_date=d, issued_date=d, estimated_cost="25000", existing_use="1 family dwelling",
                     proposed_use="1 family dwelling", existing_units="1", proposed_units="1",
                     neighborhoods_analysis_boundaries="Mission", supervisor_district="9")
        elif ds == "vckc-dh2h":
            r = dict(common, reference_number="N%09d" % i, reference_number_type="PERMIT", inspector="Inspector %d" % (i % 40),
                     scheduled_date=d, result="APPROVED", inspection_description="FINAL INSPECT/APPRVD")
        else:
            r = dict(common, primary_key="PK%09d" % i, application_number="N%09d" % (i // 3), addenda_number="1",
                     step=str(i % 3 + 1), station="BLDG", arrive=d, assign_date=d, start_date=d, finish_date=d,
                     plan_checked_by="Reviewer", review_results="Approved", hold_description="", addenda_status="",
                     department="DBI", title="Building plan review")
        out.append(r)
    return out
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        ds = u.path.rsplit("/", 1)[-1].split(".")[0]
        off = int(q.get("$offset", ["0"])[0])
        lim = int(q.get("$limit", ["1000"])[0])
        n = max(0, min(lim, 13000 - off))
        body = json.dumps(rows(ds, off, n)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print('{"msg":"listening","port":%d}' % s.server_address[1], file=sys.stderr, flush=True)
s.serve_forever()
PY
  python3 "$tmp/nightly_soda.py" 2>"$tmp/nightly_soda.log" &
  pids+=($!)
  CRON_SODA="SODA_BASE_URL=http://127.0.0.1:$(port_of "$tmp/nightly_soda.log")/resource"
else
  echo "# python3 missing: the nightly ingest will fail against the stand-in (its pages not measured)" >&2
fi
start report sfp-report LISTEN_ADDR=127.0.0.1:0 RPC_WORKERS=8 $DB $SODA
start brief sfp-brief LISTEN_ADDR=127.0.0.1:0 RPC_WORKERS=8 $DB
rport=$(port_of "$tmp/report.log") bport=$(port_of "$tmp/brief.log")
start cron sfp-cron LISTEN_ADDR=127.0.0.1:0 RPC_WORKERS=4 DB_POOL_MIN=1 DB_POOL_MAX=6 $CRON_SODA BRIEF_SVC_ADDR=127.0.0.1:$bport
cport=$(port_of "$tmp/cron.log")
start health sfp-health LISTEN_ADDR=127.0.0.1:0 RPC_WORKERS=4 DB_POOL_MIN=1 DB_POOL_MAX=2 \
  REPORT_SVC_ADDR=127.0.0.1:$rport BRIEF_SVC_ADDR=127.0.0.1:$bport CRON_SVC_ADDR=127.0.0.1:$cport
hport=$(port_of "$tmp/health.log")
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 GATEWAY_REPORT_RATE_LIMIT=0 \
  REPORT_SVC_ADDR=127.0.0.1:$rport BRIEF_SVC_ADDR=127.0.0.1:$bport CRON_SVC_ADDR=127.0.0.1:$cport \
  HEALTH_SVC_ADDR=127.0.0.1:$hport
gport=$(port_of "$tmp/gateway.log")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$gport/readyz" >/dev/null && break; sleep 0.1; done
sleep 5

rss() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; } # pid field → kB
kb2mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # pid → utime+stime in clock ticks
declare -A idle cpu0
for n in gateway report brief cron health; do idle[$n]=$(rss "${pid_of[$n]}" VmRSS); cpu0[$n]=$(cpu "${pid_of[$n]}"); done
t_load=$(date +%s.%N)

# Load: parcels with the most permits first (heavy reports), demo tokens for the brief.
psql -qAtX "$DATABASE_URL" -c "SELECT block || '/' || lot FROM permits WHERE block IS NOT NULL AND lot IS NOT NULL
  GROUP BY block, lot ORDER BY count(*) DESC LIMIT $parcels" >"$tmp/parcels.txt"
{
  echo 'local paths = {}'
  while read -r p; do echo "paths[#paths+1] = \"/report/$p\""; done <"$tmp/parcels.txt"
  cat <<'LUA'
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
} >"$tmp/report.lua"
cat >"$tmp/brief.lua" <<'LUA'
local tokens = {"demo-token-alice", "demo-token-bob", "demo-token-carol"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/brief?lookback=" .. ((i % 30) + 1), {["Authorization"] = "Bearer " .. tokens[(i % 3) + 1]})
end
LUA
wrk -t2 -c"$conns" -d"${secs}s" -s "$tmp/report.lua" "http://127.0.0.1:$gport" >"$tmp/wrk-report.txt" 2>&1 &
w1=$!
wrk -t1 -c$((conns / 2 > 0 ? conns / 2 : 1)) -d"${secs}s" -s "$tmp/brief.lua" "http://127.0.0.1:$gport" >"$tmp/wrk-brief.txt" 2>&1 &
w2=$!
wrk -t1 -c$((conns / 4 > 0 ? conns / 4 : 1)) -d"${secs}s" "http://127.0.0.1:$gport/health" >"$tmp/wrk-health.txt" 2>&1 &
w3=$!
ctl_peak=0
for job in "nightly --lookback 1" signals velocity-refresh compute-caches heartbeat; do
  CRON_SVC_ADDR=127.0.0.1:$cport /usr/bin/time -f '%M' -o "$tmp/ctl.rss" \
    "$build/bin/sfp-cronctl" $job >"$tmp/ctl.out" 2>"$tmp/ctl.err" || echo "# sfp-cronctl $job: exit $? ($(tail -1 "$tmp/ctl.err"))" >&2
  k=$(tail -1 "$tmp/ctl.rss")
  [ "$k" -gt "$ctl_peak" ] && ctl_peak=$k
done
wait $w1 $w2 $w3
t_load=$(awk -v a="$t_load" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
sleep 1

echo "# $(date -u +%F) $(nproc) cores; scale=$scale; load: wrk ${secs}s report(-c$conns) + brief(-c$((conns / 2))) + health(-c$((conns / 4))) + cron jobs"
for f in report brief health; do
  echo "# wrk $f: $(awk '/requests in/ {print $1 " requests"} /Requests\/sec/ {print "(" $2 " req/s)"}' "$tmp/wrk-$f.txt" | tr '\n' ' ')non-2xx: $(awk '/Non-2xx/ {print $5}' "$tmp/wrk-$f.txt")"
done
hz=$(getconf CLK_TCK)
printf '%-12s %10s %14s %14s %10s\n' process "idle MiB" "after load MiB" "peak MiB" "CPU s"
for n in gateway report brief cron health; do
  printf '%-12s %10s %14s %14s %10s\n' "sfp-$n" "$(kb2mib "${idle[$n]}")" \
    "$(kb2mib "$(rss "${pid_of[$n]}" VmRSS)")" "$(kb2mib "$(rss "${pid_of[$n]}" VmHWM)")" \
    "$(awk -v a="${cpu0[$n]}" -v b="$(cpu "${pid_of[$n]}")" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) / hz}')"
done
printf '%-12s %10s %14s %14s %10s\n' sfp-cronctl - - "$(kb2mib "$ctl_peak")" -
printf '%-12s %10s %14s %14s %10s\n' sfp-migrate - - "$(kb2mib "$(tail -1 "$tmp/migrate.rss")")" -
echo "# CPU s: user+system CPU seconds each process used during the load phase (${t_load%.*} s)"
