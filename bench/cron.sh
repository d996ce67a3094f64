#!/usr/bin/env bash
# bench/cron.sh — wall time of the cron jobs on a seeded dataset, triggered the way a
# Kubernetes CronJob does it (sfp-cronctl → sfp-cron over gRPC):
#   signals           12 detectors over every parcel + severity of watched permits, 1 transaction
#   velocity-refresh  station_velocity_v2 + station_transitions + station_congestion, 1 transaction
#   compute-caches    brief:{uid}:1 for N active users through sfp-brief (cold: every page_cache
#                     row of those users deleted first → every brief computed), then again (warm:
#                     every brief a fresh hit)
# Each job runs --runs times (the second run also shows it is safe to run twice); the figure is
# the wall time of sfp-cronctl (process start → exit) next to the job's own elapsed_seconds.
#
# Usage: bench/cron.sh [--scale full|demo] [--users N] [--runs N] [--concurrency N] [--compare DIR]
#   --scale        dataset when a private cluster is started (default full: ~1.28M permits,
#                  3.9M addenda; the seed takes several minutes)
#   --users        active users to warm (default 1000; created here: bench-cron-<i>@example.com,
#                  each watching 2 parcels and 3 permits)
#   --runs         runs of signals and velocity-refresh (default 2)
#   --concurrency  compute-caches parallel brief computations (default 4)
#   --compare DIR  before/after in ONE run: a second sfp-cron from the build tree DIR (e.g. main's
#                  build) serves the same database next to this build's; after one unreported
#                  warm-up run of each job, signals and velocity-refresh run --runs times on
#                  each, alternating (before/after, then after/before, ...), and a median line
#                  per job and build closes the output. compute-caches is not run.
#                  CRON_BENCH_JOBS="signals" limits the comparison to the jobs listed.
# Env: BUILD_DIR (default build/); DATABASE_URL: use this already migrated AND seeded database
#      instead of a private throwaway cluster.
# Targets (issue 5, 2-core machine): velocity-refresh <= 20 s, signals <= 60 s,
#      compute-caches (1,000 users) <= 30 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scale=full users=1000 runs=2 conc=4 compare=
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --concurrency) conc=$2; shift 2 ;;
    --compare) compare=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: bench/cron.sh [--scale full|demo] [--users N] [--runs N] [--concurrency N] [--compare DIR]" >&2; exit 2 ;;
  esac
done
bench_pg_seeded "$scale"

# N active bench users, each watching 2 parcels and 3 permits spread over the dataset. Idempotent.
psql -qAtX "$DATABASE_URL" -v ON_ERROR_STOP=1 -v n="$users" >/dev/null <<'SQL'
INSERT INTO users (email, display_name, is_active)
  SELECT 'bench-cron-' || g || '@example.com', 'Cron bench ' || g, true FROM generate_series(1, :n) g
  ON CONFLICT (email) DO UPDATE SET is_active = true;
UPDATE users SET is_active = (split_part(substring(email from 12), '@', 1)::int <= :n)
  WHERE email ~ '^bench-cron-[0-9]+@example[.]com$';
DELETE FROM watch_items WHERE user_id IN (SELECT user_id FROM users WHERE email ~ '^bench-cron-[0-9]+@example[.]com$');
WITH u AS (SELECT user_id, row_number() OVER (ORDER BY user_id) AS i FROM users
           WHERE email ~ '^bench-cron-[0-9]+@example[.]com$' AND is_active),
     parcels AS (SELECT block, lot, row_number() OVER (ORDER BY block, lot) AS i
                 FROM (SELECT DISTINCT block, lot FROM permits WHERE block IS NOT NULL
                       ORDER BY block, lot LIMIT 20000) x),
     np AS (SELECT count(*) AS n FROM parcels)
INSERT INTO watch_items (user_id, watch_type, block, lot, label)
  SELECT u.user_id, 'parcel', p.block, p.lot, 'parcel ' || p.block || '/' || p.lot
  FROM u CROSS JOIN np CROSS JOIN generate_series(0, 1) k
  JOIN parcels p ON p.i = 1 + ((u.i * 7 + k * 3517) % np.n);
WITH u AS (SELECT user_id, row_number() OVER (ORDER BY user_id) AS i FROM users
           WHERE email ~ '^bench-cron-[0-9]+@example[.]com$' AND is_active),
     pm AS (SELECT permit_number, row_number() OVER (ORDER BY permit_number) AS i
            FROM (SELECT permit_number FROM permits ORDER BY status_date DESC NULLS LAST LIMIT 50000) x),
     n AS (SELECT count(*) AS n FROM pm)
INSERT INTO watch_items (user_id, watch_type, permit_number, label)
  SELECT u.user_id, 'permit', pm.permit_number, 'permit ' || pm.permit_number
  FROM u CROSS JOIN n CROSS JOIN generate_series(0, 2) k
  JOIN pm ON pm.i = 1 + ((u.i * 13 + k * 7919) % n.n);
ANALYZE users, watch_items;
SQL

secret=bench-cron-secret
start brief sfp-brief CRON_SECRET=$secret LISTEN_ADDR=127.0.0.1:0 DB_POOL_MAX=16
bport=$port
start cron sfp-cron CRON_SECRET=$secret LISTEN_ADDR=127.0.0.1:0 BRIEF_SVC_ADDR=127.0.0.1:$bport \
  CRON_CACHES_CONCURRENCY=$conc
cport=$port
export CRON_SVC_ADDR=127.0.0.1:$cport CRON_SECRET=$secret
if [ -n "$compare" ]; then
  [ -x "$compare/bin/sfp-cron" ] || { echo "--compare: no $compare/bin/sfp-cron" >&2; exit 2; }
  # lib.sh's start runs $build/bin/BINARY: start the other build's sfp-cron with build= swapped
  build_after=$build build=$compare
  start cron-before sfp-cron CRON_SECRET=$secret LISTEN_ADDR=127.0.0.1:0 BRIEF_SVC_ADDR=127.0.0.1:$bport \
    CRON_CACHES_CONCURRENCY=$conc
  build=$build_after bport_before=$port
fi

np=$(psql -qAtX "$DATABASE_URL" -c "SELECT count(*) FROM permits")
na=$(psql -qAtX "$DATABASE_URL" -c "SELECT count(*) FROM addenda")
nu=$(psql -qAtX "$DATABASE_URL" -c "SELECT count(*) FROM users WHERE is_active")
echo "# $(date -u +%F) $(nproc) cores, $(uname -m); permits=$np addenda=$na active_users=$nu; compute-caches concurrency=$conc"
[ -z "$compare" ] || echo "# before = $compare, after = $build"

run() { # job [label] → one line: wall, job elapsed, key stats
  local job=$1 label=${2:-$1} t0 t1 rc=0
  t0=$(date +%s.%N)
  "$build/bin/sfp-cronctl" "$job" >"$tmp/out.json" 2>"$tmp/err.txt" || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" != 0 ]; then
    echo "$label: sfp-cronctl exit $rc: $(cat "$tmp/err.txt")" >&2
    cat "$tmp/out.json" >&2
    exit 1
  fi
  local stats
  case "$job" in
    signals) stats=$(jq -c '{total_signals, property_health, severity_cache, tier_distribution}' "$tmp/out.json") ;;
    velocity-refresh) stats=$(jq -c '{rows_inserted, stations, transitions, congestion, transitions_error, congestion_error}' "$tmp/out.json") ;;
    compute-caches) stats=$(jq -c '{total_users, computed, fresh_hits, errors, purged}' "$tmp/out.json") ;;
  esac
  last_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') last_job=$(jq -r .elapsed_seconds "$tmp/out.json")
  printf '%-22s wall=%6.2fs job=%6.2fs %s\n' "$label" "$last_wall" "$last_job" "$stats"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [ -n "$compare" ]; then
  addr_after=127.0.0.1:$cport addr_before=127.0.0.1:$bport_before
  for job in ${CRON_BENCH_JOBS:-signals velocity-refresh}; do
    CRON_SVC_ADDR=$addr_before run "$job" "$job(before,warm-up)"
    CRON_SVC_ADDR=$addr_after run "$job" "$job(after,warm-up)"
    : >"$tmp/before.wall"; : >"$tmp/before.job"; : >"$tmp/after.wall"; : >"$tmp/after.job"
    for i in $(seq "$runs"); do
      order="before after"; [ $((i % 2)) = 0 ] && order="after before"
      for side in $order; do
        addr=$addr_after; [ "$side" = before ] && addr=$addr_before
        CRON_SVC_ADDR=$addr run "$job" "$job($side)#$i"
        echo "$last_wall" >>"$tmp/$side.wall"; echo "$last_job" >>"$tmp/$side.job"
      done
    done
    for side in before after; do
      printf '%-22s median of %d: wall=%6.2fs job=%6.2fs\n' "$job($side)" "$runs" \
        "$(median <"$tmp/$side.wall")" "$(median <"$tmp/$side.job")" >>"$tmp/medians"
    done
  done
  cat "$tmp/medians"
  exit 0
fi

for i in $(seq "$runs"); do run signals "signals#$i"; done
for i in $(seq "$runs"); do run velocity-refresh "velocity-refresh#$i"; done
psql -qAtX "$DATABASE_URL" -c "DELETE FROM page_cache WHERE cache_key LIKE 'brief:%'" >/dev/null
run compute-caches "compute-caches(cold)"
run compute-caches "compute-caches(warm)"
