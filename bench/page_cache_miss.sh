#!/usr/bin/env bash
# bench/page_cache_miss.sh — the page cache's own cost on a miss (and on a hit), without the
# brief: bench/page_cache_miss.c compiled against a build's libraries, N misses of one key
# with a real packed brief as the page, the row invalidated before each call. Prints backend
# CPU, client CPU and p50 wall time per call (see the .c file).
#   With --compare BUILD_DIR: the same against that build (the "before"), alternating runs
#   (A B A B ...) so both see the same machine load.
# Usage: bench/page_cache_miss.sh [--runs R] [--n N] [--hit] [--compare BUILD_DIR]
# Env: DATABASE_URL (migrated; writes only the row 'bench:page_cache_miss'), BUILD_DIR
#      (default build/), PAYLOAD (a file with the page; default: the largest brief:% row's
#      payload in the database, so run bench/brief.sh once first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${BUILD_DIR:-$root/build}" && pwd)
runs=3 n=300 hit= before=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --hit) hit=--hit; shift ;;
    --compare) before=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: bench/page_cache_miss.sh [--runs R] [--n N] [--hit] [--compare BUILD_DIR]" >&2; exit 2 ;;
  esac
done
: "${DATABASE_URL:?}"
tmp=$(mktemp -d /tmp/sfp-pcmiss.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# compile BUILD OUT: the tool against BUILD's static libraries and its source tree's headers
compile() {
  local src
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt")
  cc -O2 -std=c17 -D_GNU_SOURCE -I"$src/common" -I"$(pg_config --includedir)" "$root/bench/page_cache_miss.c" \
    "$1/common/libsfp_db.a" "$1/common/libsfp_cache.a" "$1/common/libsfp_base.a" -lpq -lpthread -lm -o "$2"
}
compile "$build" "$tmp/after"
[ -z "$before" ] || compile "$before" "$tmp/before"
if [ -n "${PAYLOAD:-}" ]; then
  cp "$PAYLOAD" "$tmp/page"
else
  psql -qAtX "$DATABASE_URL" -c "SELECT encode(payload, 'hex') FROM page_cache WHERE cache_key LIKE 'brief:%'
    ORDER BY length(payload) DESC LIMIT 1" | xxd -r -p >"$tmp/page"
  [ -s "$tmp/page" ] || { echo "no brief page in page_cache: run bench/brief.sh first or set PAYLOAD" >&2; exit 1; }
fi
key=bench:page_cache_miss
echo "# $(date -u +%F) $(nproc) cores; page $(stat -c %s "$tmp/page") bytes; payload column: $(psql -qAtX "$DATABASE_URL" -c \
  "SELECT coalesce(nullif(attcompression::text, ''), 'default') || ' storage=' || attstorage::text FROM pg_attribute WHERE attrelid = 'page_cache'::regclass AND attname = 'payload'")"
for i in $(seq "$runs"); do
  if [ -n "$before" ]; then printf 'before: '; "$tmp/before" $hit "$n" "$tmp/page" "$key"; fi
  printf 'after:  '; "$tmp/after" $hit "$n" "$tmp/page" "$key"
done
psql -qAtX "$DATABASE_URL" -c "DELETE FROM page_cache WHERE cache_key = '$key'" >/dev/null
