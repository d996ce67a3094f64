#!/usr/bin/env bash
# bench/report_diff.sh — the report JSON of this build against BASE_BUILD_DIR's, parcel by parcel,
# on one already seeded database (DATABASE_URL), report cache off in both, same SODA test server.
# Compared without generated_at, debug and the SODA sources' ages (they differ by time alone),
# and byte for byte as sent up to "sources" (the report content as the gateway's JSON encoder
# wrote it: number formatting and escaping included, which jq's normalisation would hide).
# Parcels: 3512/001, the 3 with the most permits, 6 on blocks 1000-1100 and 10 with historical
# lots (another lot of the block carries the address of the parcel's newest permit).
# Prints one line per parcel (same / DIFFERENT) and exits 1 when any differs.
#   DATABASE_URL=... BASE_BUILD_DIR=<other build tree> bench/report_diff.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
: "${DATABASE_URL:?a seeded database}" "${BASE_BUILD_DIR:?the build tree to compare with}"
command -v jq >/dev/null || { echo "report_diff: jq is required" >&2; exit 2; }
start soda sfp-soda-test-server SODA_TEST_ADDR=127.0.0.1:0
soda_url=http://127.0.0.1:$port/resource
start_uncached_report ""
new=$port
build_new=$build
build=$BASE_BUILD_DIR
start_uncached_report -base
base=$port
build=$build_new
psql "$DATABASE_URL" -Atc "
  (SELECT '3512/001')
  UNION (SELECT block || '/' || lot FROM permits WHERE block IS NOT NULL AND lot IS NOT NULL
             AND (block, lot) <> ('3512', '001')
             GROUP BY block, lot ORDER BY count(*) DESC, block, lot LIMIT 3)
  UNION ALL (SELECT block || '/' || lot FROM parcel_summary WHERE block BETWEEN '1000' AND '1100'
             AND permit_count > 0 ORDER BY block, lot LIMIT 6)
  UNION ALL (SELECT DISTINCT ON (a.block, a.lot) a.block || '/' || a.lot FROM permits a JOIN permits b
             ON b.block = a.block AND b.lot <> a.lot AND b.street_number = a.street_number
             AND upper(b.street_name) = upper(a.street_name)
             WHERE a.block BETWEEN '0000' AND '0100' ORDER BY a.block, a.lot LIMIT 10)" >"$tmp/parcels"
strip='del(.generated_at, .debug) | walk(if type == "object" then del(.age_seconds, .ttl_remaining_seconds,
  .max_age_seconds) else . end)'
bad=0
while read -r p; do
  curl -s "http://127.0.0.1:$new/report/$p" >"$tmp/new.raw" || true
  curl -s "http://127.0.0.1:$base/report/$p" >"$tmp/base.raw" || true
  jq -S "$strip" "$tmp/new.raw" >"$tmp/new.json" || true
  jq -S "$strip" "$tmp/base.raw" >"$tmp/base.json" || true
  permits=$(jq '.content.permits // .permits | length' "$tmp/new.json" 2>/dev/null || echo '?')
  if ! cmp -s <(sed 's/,"sources":.*//' "$tmp/new.raw") <(sed 's/,"sources":.*//' "$tmp/base.raw"); then
    printf '%-10s DIFFERENT bytes before "sources"\n' "$p"
    cmp <(sed 's/,"sources":.*//' "$tmp/base.raw") <(sed 's/,"sources":.*//' "$tmp/new.raw") || true
    bad=1
  elif cmp -s "$tmp/new.json" "$tmp/base.json"; then
    printf '%-10s same       (%s permits, %s bytes)\n' "$p" "$permits" "$(wc -c <"$tmp/new.json")"
  else
    printf '%-10s DIFFERENT\n' "$p"
    diff "$tmp/base.json" "$tmp/new.json" | head -20
    bad=1
  fi
done <"$tmp/parcels"
exit $bad
