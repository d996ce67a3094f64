#!/usr/bin/env bash
# bench/nightly.sh — wall time of the nightly SODA ingest against sfp-soda-test-server, the way a
# Kubernetes CronJob triggers it (sfp-cronctl → sfp-cron over gRPC):
#   run 1  first run into an empty, migrated target database: every dataset in full (9 SODA
#          datasets, paged 10,000 rows at a time), then contact resolution, entities,
#          parcel_summary and timeline_stats rebuilt, all swapped in one transaction
#   run 2  incremental after "a day of changes" at the source (rows with a newer data_as_of:
#          2,000 permits change status, 5,000 addenda rows finish, 1,000 inspections get a
#          result, 300 complaints, 300 violations, 1,000 new electrical contacts)
#   run 3  incremental with nothing changed
#   run 4  --full again over the same data (nothing to rewrite: every table compared with what
#          was fetched and kept as it is)
# The source is a second database of the same private cluster seeded by sfp-seed, served by
# sfp-soda-test-server (Postgres mode); sfp-cron writes into the target database.
#
# Usage: bench/nightly.sh [--scale full|demo] [--first-only | --no-rerun] [--logs DIR]
#   --scale       default full (seeding takes a few minutes)
#   --first-only  stop after run 1 (e.g. for the "before" binaries of a comparison)
#   --no-rerun    stop after run 3 (skip run 4, --full over unchanged data)
#   --logs DIR    keep sfp-cron's and the SODA test server's logs (the per-phase timings) in DIR
# Env: BUILD_DIR (default build/). Always uses its own throwaway cluster.
# Targets (issue 16, 2 cores): full ingest <= 10 min, incremental for a day of changes <= 60 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scale=full
first_only=
no_rerun=
logs=
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --first-only) first_only=1; shift ;;
    --no-rerun) no_rerun=1; shift ;;
    --logs) logs=$2; shift 2 ;;
    *) echo "usage: bench/nightly.sh [--scale full|demo] [--first-only | --no-rerun] [--logs DIR]" >&2; exit 2 ;;
  esac
done
unset DATABASE_URL
bench_pg_seeded "$scale"
src=$DATABASE_URL
PGOPTIONS="-c client_min_messages=warning" psql -qAtX "$src" -c "DROP DATABASE IF EXISTS nightly_target" -c "CREATE DATABASE nightly_target"
dst=${src/@\/postgres\?/@\/nightly_target?}
DATABASE_URL=$dst "$build/bin/sfp-migrate" >/dev/null 2>>"$tmp/migrate.log"
machine_line
echo "# source rows: $(psql -qAtX "$src" -c "SELECT (SELECT count(*) FROM permits) || ' permits, ' || \
  (SELECT count(*) FROM addenda) || ' addenda, ' || (SELECT count(*) FROM inspections) || ' inspections, ' || \
  (SELECT count(*) FROM contacts) || ' contacts, ' || (SELECT count(*) FROM complaints) || ' complaints, ' || \
  (SELECT count(*) FROM violations) || ' violations, ' || (SELECT count(*) FROM tax_rolls) || ' tax rolls'")"

start soda sfp-soda-test-server DATABASE_URL="$src" SODA_TEST_ADDR=127.0.0.1:0
soda_port=$port
export CRON_SECRET=bench-nightly
start cron sfp-cron DATABASE_URL="$dst" LISTEN_ADDR=127.0.0.1:0 METRICS_ADDR=off BRIEF_SVC_ADDR=off \
  SODA_BASE_URL="http://127.0.0.1:$soda_port/resource" SODA_TIMEOUT_MS=60000 CRON_NIGHTLY_TIMEOUT_S=1800
export CRON_SVC_ADDR=127.0.0.1:$port

soda_pid=${pids[0]} cron_pid=${pids[1]}
# pg_cpu: CPU seconds of the whole cluster so far: the postmaster, its live children (backends,
# parallel workers, autovacuum, ...) and every child it has reaped (cutime/cstime). The cluster
# serves both the source (the SODA test server's queries) and the target (sfp-cron's writes).
pg_cpu() {
  local pm
  pm=$(head -1 "$tmp/pg/data/postmaster.pid")
  { awk '{sub(/^.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$pm/stat"
    for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
      awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$c/stat" 2>/dev/null || true
    done; } | awk -v hz="$(getconf CLK_TCK)" '{t += $1} END {printf "%.1f", t / hz}'
}
cpu_line() { # LABEL: CPU seconds per process since the previous cpu_line
  local s c p
  s=$(cpu_of "$soda_pid") c=$(cpu_of "$cron_pid") p=$(pg_cpu)
  printf '%-28s cpu_s: sfp-soda-test-server=%.1f sfp-cron=%.1f postgres=%.1f total=%.1f (load %s)\n' "$1" \
    "$(echo "$s - ${cpu_prev[0]}" | bc)" "$(echo "$c - ${cpu_prev[1]}" | bc)" "$(echo "$p - ${cpu_prev[2]}" | bc)" \
    "$(echo "$s + $c + $p - ${cpu_prev[0]} - ${cpu_prev[1]} - ${cpu_prev[2]}" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  cpu_prev=("$s" "$c" "$p")
}
cpu_prev=("$(cpu_of "$soda_pid")" "$(cpu_of "$cron_pid")" "$(pg_cpu)")

run() { # LABEL ARGS...
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$build/bin/sfp-cronctl" nightly --timeout 1900 "$@" >"$tmp/run.json"
  t1=$(date +%s.%N)
  cpu_line "$label"
  python3 - "$label" "$(echo "$t1 - $t0" | bc)" "$tmp/run.json" <<'PY'
import json, sys
label, wall, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
d = json.load(open(path))
f = sum(x['fetched'] for x in d['datasets'])
w = sum(x['inserted'] + x['updated'] + x['deleted'] for x in d['datasets'])
dv = d['derived']
print(f"{label:<28} wall={wall:7.1f}s job={d['elapsed_seconds']:7.1f}s fetched={f:>9} rows_written={w:>9} "
      f"entities={dv['entities']} parcel_summary={dv['parcel_summary']} timeline_stats={dv['timeline_stats']} ok={d['ok']}")
PY
}

keep_logs() { [ -z "$logs" ] || { mkdir -p "$logs" && cp "$tmp"/cron.log "$tmp"/soda.log "$logs"/; }; }
trap 'keep_logs; bench_cleanup' EXIT
echo "# load average before run 1: $(cut -d' ' -f1-3 /proc/loadavg)"
run "run 1: first (full) ingest"
echo "# load average after run 1: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$first_only" ] || exit 0
psql -qAtX "$src" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
UPDATE permits SET status = 'complete', completed_date = '2099-01-01T00:00:00.000', data_as_of = '2099-01-01T00:00:00.000'
  WHERE permit_number IN (SELECT permit_number FROM permits WHERE status = 'issued' ORDER BY permit_number LIMIT 2000);
UPDATE addenda SET finish_date = '2099-01-01T00:00:00.000', data_as_of = '2099-01-01T00:00:00.000'
  WHERE id IN (SELECT id FROM addenda WHERE finish_date IS NULL ORDER BY id LIMIT 5000);
UPDATE inspections SET result = 'PASSED', data_as_of = '2099-01-01T00:00:00.000'
  WHERE id IN (SELECT id FROM inspections ORDER BY id LIMIT 1000);
UPDATE complaints SET status = 'NOT ACTIVE', data_as_of = '2099-01-01T00:00:00.000'
  WHERE id IN (SELECT id FROM complaints ORDER BY id LIMIT 300);
UPDATE violations SET status = 'closed', data_as_of = '2099-01-01T00:00:00.000'
  WHERE id IN (SELECT id FROM violations ORDER BY id LIMIT 300);
INSERT INTO contacts (source, permit_number, role, name, license_number, data_as_of)
  SELECT 'electrical', permit_number, 'contractor', 'BENCH ELECTRIC ' || (row_number() OVER ()) % 97,
         (800000 + (row_number() OVER ()) % 97)::text, '2099-01-01T00:00:00.000'
  FROM (SELECT permit_number FROM permits ORDER BY permit_number DESC LIMIT 1000) p;
SQL
run "run 2: a day of changes"
run "run 3: nothing changed"
[ -n "$no_rerun" ] || run "run 4: --full, same data" --full
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
