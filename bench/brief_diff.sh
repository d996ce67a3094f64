#!/usr/bin/env bash
# bench/brief_diff.sh — the brief JSON of this build against BASE_BUILD_DIR's, computed afresh
# (page cache rows of the user invalidated before each call) for every seeded user with a token
# and the bench user of bench/brief.sh (50 watches; run bench/brief.sh once to create it), at
# lookbacks 1, 7, 30 and 90, on one already seeded database (DATABASE_URL). Compared without
# generated_at, computed_at, debug, etag and last_refresh.hours_ago (they differ by time alone).
# Prints one line per user and lookback (same / DIFFERENT) and exits 1 when any differs.
#   DATABASE_URL=... BASE_BUILD_DIR=<other build tree> bench/brief_diff.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
: "${DATABASE_URL:?a seeded database}" "${BASE_BUILD_DIR:?the build tree to compare with}"
command -v jq >/dev/null || { echo "brief_diff: jq is required" >&2; exit 2; }
start brief sfp-brief LISTEN_ADDR=127.0.0.1:0 BRIEF_MEMORY_CACHE_ENTRIES=0
start gateway sfp-gateway GATEWAY_ADDR=127.0.0.1:0 BRIEF_SVC_ADDR=127.0.0.1:$port METRICS_ADDR=off
new=$port
build_new=$build
build=$BASE_BUILD_DIR
start brief-base sfp-brief LISTEN_ADDR=127.0.0.1:0 BRIEF_MEMORY_CACHE_ENTRIES=0
start gateway-base sfp-gateway GATEWAY_ADDR=127.0.0.1:0 BRIEF_SVC_ADDR=127.0.0.1:$port METRICS_ADDR=off
base=$port
build=$build_new
strip='del(.generated_at, .computed_at, .debug, .etag, .sql_queries, .cached, .max_age_seconds) | if .last_refresh then .last_refresh.hours_ago = 0 else . end'
fetch() { # PORT TOKEN UID LOOKBACK OUT
  psql -qAtX "$DATABASE_URL" -c "UPDATE page_cache SET invalidated_at = now() WHERE cache_key LIKE 'brief:$3:%'" >/dev/null
  curl -sf -H "Authorization: Bearer $2" "http://127.0.0.1:$1/brief?lookback=$4" | jq -S "$strip" >"$5"
}
rc=0
for pair in alice@example.com:demo-token-alice bob@example.com:demo-token-bob carol@example.com:demo-token-carol \
  bench50@example.com:bench-token-50; do
  email=${pair%%:*} token=${pair#*:}
  uid=$(psql -qAtX "$DATABASE_URL" -c "SELECT user_id FROM users WHERE email = '$email'")
  [ -n "$uid" ] || { echo "$email: no such user (skipped: seed it or run bench/brief.sh once)"; continue; }
  for lb in 1 7 30 90; do
    fetch "$new" "$token" "$uid" "$lb" "$tmp/new.json"
    fetch "$base" "$token" "$uid" "$lb" "$tmp/base.json"
    if cmp -s "$tmp/new.json" "$tmp/base.json"; then echo "$email lookback $lb: same ($(wc -c <"$tmp/new.json") bytes)"
    else echo "$email lookback $lb: DIFFERENT"; { diff "$tmp/base.json" "$tmp/new.json" || true; } | head -20; rc=1; fi
  done
done
exit $rc
