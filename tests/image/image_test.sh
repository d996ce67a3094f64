#!/usr/bin/env bash
# tests/image/image_test.sh build|checks|suite — the container image, built and run
# (ctest -L image; tests/image/CMakeLists.txt passes the environment below).
#   build   scripts/image build: the Dockerfile, unchanged, with a Docker engine or buildah; base
#           images made locally (debootstrap) where none can be pulled. Prints the build time.
#   checks  the runtime image: USER 10001:10001 and an exec-form CMD (no shell needed), `id` in a
#           container says 10001, every binary in /usr/local/bin answers --help with exit 0 and a
#           usage line on stdout without serving, the size within SFP_IMAGE_BUDGET_MB (printed).
#           Writes BUILD/image/image-facts.json (binaries, uid, gid, env, size), which
#           k8s/validate prefers to the Dockerfile's text.
#   suite   a throwaway Postgres on 127.0.0.1 (scripts/pgtmp, PGTMP_TCP=1); from the image:
#           sfp-migrate, sfp-seed --scale demo, sfp-report, sfp-brief, sfp-cron, sfp-health (gRPC
#           on unix sockets in a host directory mounted into each container) and sfp-gateway (HTTP
#           on 127.0.0.1, any free port); the SODA test server runs on the host. Checks /health,
#           /report/3512/001 and /brief (demo bearer token) through the containerised gateway,
#           that every server process runs as uid 10001, and that SIGTERM stops each with exit 0.
# Every wait polls for its condition within a generous bound; nothing sleeps to let time pass.
# Env: SFP_SOURCE_DIR, SFP_BUILD_DIR (the cmake build tree), SFP_IMAGE_TAG, SFP_IMAGE_CACHE,
#      SFP_IMAGE_BUDGET_MB.
set -euo pipefail
mode=${1:?usage: image_test.sh build|checks|suite}
src=${SFP_SOURCE_DIR:?}
bld=${SFP_BUILD_DIR:?}
budget_mb=${SFP_IMAGE_BUDGET_MB:-150}
export SFP_IMAGE_TAG SFP_IMAGE_CACHE
cache=${SFP_IMAGE_CACHE:?}
image=$src/scripts/image
facts=$cache/image-facts.json

fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "image_test: $*"; }
command -v node >/dev/null 2>&1 || fail "node is required (scripts/bootstrap installs it)"

# jcheck FILE 'JS expression over j' 'what' — the JSON in FILE must satisfy the expression.
jcheck() {
  node -e '
    const fs = require("fs");
    let j;
    try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
    catch (e) { console.error(`not JSON: ${e.message}: ${fs.readFileSync(process.argv[1], "utf8").slice(0, 300)}`); process.exit(1); }
    if (!eval(process.argv[2])) { console.error(JSON.stringify(j).slice(0, 1200)); process.exit(1); }' "$1" "$2" ||
    fail "$3"
}

# until_ok SECONDS WHAT CMD... — poll CMD until it succeeds, at most SECONDS.
until_ok() {
  local limit=$1 what=$2 t0=$SECONDS
  shift 2
  until "$@"; do
    [ $((SECONDS - t0)) -lt "$limit" ] || fail "$what: not within $limit s"
    sleep 0.2
  done
}

cmd_build() {
  rm -f "$facts"
  local t0=$SECONDS
  "$image" build
  say "image build time: $((SECONDS - t0)) s (engine $("$image" engine); $(cat "$cache/build.json"))"
}

cmd_checks() {
  tmp=$(mktemp -d) # global: the EXIT trap runs after this function's locals are gone
  trap 'rm -rf "$tmp"' EXIT
  "$image" inspect >"$tmp/inspect.json"
  jcheck "$tmp/inspect.json" 'j.user === "10001:10001"' "the image's USER must be 10001:10001"
  jcheck "$tmp/inspect.json" 'Array.isArray(j.cmd) && j.cmd.join(" ") === "sfp-gateway" && !(j.entrypoint || []).length' \
    "CMD must be the exec form [\"sfp-gateway\"] with no ENTRYPOINT (no shell between the engine and the binary)"
  local uid gid
  uid=$("$image" run -- id -u)
  gid=$("$image" run -- id -g)
  [ "$uid:$gid" = "10001:10001" ] || fail "a container of the image runs as $uid:$gid, not 10001:10001"
  say "runs as uid $uid gid $gid"

  # Every binary answers --help. Should one ignore the flag and start serving, it binds only
  # loopback ports the kernel picks and finds no database, and the timeout ends it.
  local bins=() b failed=()
  mapfile -t bins < <("$image" ls /usr/local/bin)
  [ ${#bins[@]} -gt 0 ] || fail "no binaries in /usr/local/bin of the image"
  for b in "${bins[@]}"; do
    local rc=0
    timeout -k 15 30 "$image" run -e GATEWAY_ADDR=127.0.0.1:0 -e LISTEN_ADDR=127.0.0.1:0 -e METRICS_ADDR=off \
      -e DATABASE_URL=postgresql://postgres@127.0.0.1:1/none -- "$b" --help >"$tmp/$b.out" 2>"$tmp/$b.err" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      failed+=("$b: ignores --help (still running after 30 s: it started serving)")
    elif [ "$rc" != 0 ]; then
      failed+=("$b: --help exits $rc ($(head -c 200 "$tmp/$b.err" | tr '\n' ' '))")
    elif ! grep -qiE "^usage: *$b( |\$)" "$tmp/$b.out"; then
      failed+=("$b: --help prints no 'usage: $b ...' line on stdout")
    else
      say "$b --help: $(grep -iE '^usage:' "$tmp/$b.out" | head -1)"
    fi
  done

  local size
  size=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).size)' "$tmp/inspect.json")
  say "runtime image size: $((size / 1000000)) MB ($size bytes; budget $budget_mb MB)"
  [ "$size" -le $((budget_mb * 1000000)) ] || failed+=("runtime image is $((size / 1000000)) MB, over the $budget_mb MB budget")

  # The facts k8s/validate checks the manifests against (it falls back to the Dockerfile's text
  # when this file is missing or was written for another Dockerfile).
  BINS="${bins[*]}" UID_="$uid" GID_="$gid" DF="$src/Dockerfile" node -e '
    const fs = require("fs"), crypto = require("crypto");
    const i = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const env = Object.fromEntries(i.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    fs.writeFileSync(process.argv[2], JSON.stringify({
      tag: process.env.SFP_IMAGE_TAG,
      dockerfile_sha256: crypto.createHash("sha256").update(fs.readFileSync(process.env.DF)).digest("hex"),
      binaries: process.env.BINS.split(" "), uid: Number(process.env.UID_), gid: Number(process.env.GID_),
      user: i.user, env, size_bytes: i.size }, null, 1) + "\n");' "$tmp/inspect.json" "$facts"
  say "wrote $facts"
  if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAIL: %s\n' "${failed[@]}" >&2
    exit 1
  fi
}

# ---- suite ------------------------------------------------------------------------------------
pids=() names=() pgdir="" sock="" soda_pid=""
suite_cleanup() {
  local p
  for p in "${pids[@]}" $soda_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $soda_pid; do wait "$p" 2>/dev/null || true; done
  [ -n "$pgdir" ] && "$src/scripts/pgtmp" stop "$pgdir" >/dev/null 2>&1
  [ -n "$sock" ] && rm -rf "$sock"
  return 0
}

# start NAME ENV... -- BINARY: a server in its own container, stderr to LOGS/NAME.log.
start() {
  local name=$1
  shift
  local envs=()
  while [ "$1" != -- ]; do envs+=(-e "$1"); shift; done
  shift
  "$image" run -v "$sock:/sfp" "${envs[@]}" -- "$@" >"$logs/$name.out" 2>"$logs/$name.log" &
  pids+=($!)
  names+=("$name")
}

# running PID: true while PID (a child of this shell) has not exited (an exited child stays a
# zombie until waited for, and kill -0 would still find it).
running() {
  [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

alive_all() {
  local i
  for i in "${!pids[@]}"; do
    running "${pids[$i]}" || { tail -20 "$logs/${names[$i]}.log" >&2; fail "sfp-${names[$i]} exited early"; }
  done
}

# listening_port LOG: the port of the first {"msg":"listening",...,"port":N} line.
listening_port() {
  grep -m1 '"msg":"listening"' "$1" 2>/dev/null | sed -n 's/.*"port":\([0-9]*\).*/\1/p'
}

soda_listening() {
  running "$soda_pid" || { cat "$logs/soda.log" >&2; fail "sfp-soda-test-server exited"; }
  [ -n "$(listening_port "$logs/soda.log")" ]
}

port_of() { # NAME
  alive_all
  [ -n "$(listening_port "$logs/$1.log")" ]
}

# uid_of_descendant PID BINARY: the uid of the process BINARY started under PID (the engine's
# process tree), empty when not found.
uid_of_descendant() {
  local p=$1 bin=$2 kids c
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "${bin:0:15}" ] && { awk '/^Uid:/ {print $2}' "/proc/$p/status"; return; }
  kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
  for c in $kids; do uid_of_descendant "$c" "$bin"; done
}

http_get() { # PATH OUTFILE [HEADER] -> prints the status
  local h=()
  [ -n "${3:-}" ] && h=(-H "$3")
  curl -s -o "$2" -w '%{http_code}' --max-time 30 "${h[@]}" "http://127.0.0.1:$gw_port$1"
}

health_ok() {
  alive_all
  [ "$(http_get /health "$logs/health.json")" = 200 ] &&
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.exit(j.status === "ok" && j.db_connected === true && Array.isArray(j.services) && j.services.length >= 3 &&
        j.services.every((s) => s.reachable !== false) ? 0 : 1)' "$logs/health.json"
}

cmd_suite() {
  command -v curl >/dev/null 2>&1 || fail "curl is required (scripts/bootstrap installs it)"
  [ -x "$bld/bin/sfp-soda-test-server" ] || fail "$bld/bin/sfp-soda-test-server is not built"
  trap suite_cleanup EXIT
  logs=$cache/suite-logs
  rm -rf "$logs"
  mkdir -p "$logs"
  local t0=$SECONDS url
  pgdir=$cache/pg
  "$src/scripts/pgtmp" stop "$pgdir" >/dev/null 2>&1 || true
  url=$(PGTMP_TCP=1 PGTMP_EPHEMERAL=1 "$src/scripts/pgtmp" start "$pgdir")
  say "Postgres at $url"

  "$image" run -e DATABASE_URL="$url" -- sfp-migrate >"$logs/migrate.out" 2>"$logs/migrate.log" ||
    { cat "$logs/migrate.log" >&2; fail "sfp-migrate in the image failed"; }
  "$image" run -e DATABASE_URL="$url" -- sfp-seed --scale demo >"$logs/seed.json" 2>"$logs/seed.log" ||
    { cat "$logs/seed.log" >&2; fail "sfp-seed --scale demo in the image failed"; }
  say "migrate + seed demo from the image: $((SECONDS - t0)) s"

  # SODA stand-in on the host, serving the seeded rows.
  DATABASE_URL=$url SODA_TEST_ADDR=127.0.0.1:0 "$bld/bin/sfp-soda-test-server" 2>"$logs/soda.log" &
  soda_pid=$!
  local soda_port
  until_ok 60 "the SODA test server listening" soda_listening
  soda_port=$(listening_port "$logs/soda.log")

  # gRPC between the containers on unix sockets in a directory every container mounts as /sfp
  # (a short path: unix socket paths are limited to ~107 bytes).
  sock=$(mktemp -d /tmp/sfp-image.XXXXXX)
  chmod 0777 "$sock"
  local common=(DATABASE_URL="$url" METRICS_ADDR=127.0.0.1:0 CRON_SECRET=image-test-secret)
  local peers=(REPORT_SVC_ADDR=unix:/sfp/report.sock BRIEF_SVC_ADDR=unix:/sfp/brief.sock
    CRON_SVC_ADDR=unix:/sfp/cron.sock HEALTH_SVC_ADDR=unix:/sfp/health.sock)
  local soda=SODA_BASE_URL=http://127.0.0.1:$soda_port/resource
  start report "${common[@]}" LISTEN_ADDR=unix:/sfp/report.sock "$soda" -- sfp-report
  start brief "${common[@]}" LISTEN_ADDR=unix:/sfp/brief.sock -- sfp-brief
  start cron "${common[@]}" LISTEN_ADDR=unix:/sfp/cron.sock "$soda" BRIEF_SVC_ADDR=unix:/sfp/brief.sock -- sfp-cron
  start health "${common[@]}" LISTEN_ADDR=unix:/sfp/health.sock "${peers[@]}" -- sfp-health
  start gateway METRICS_ADDR=127.0.0.1:0 GATEWAY_ADDR=127.0.0.1:0 "${peers[@]}" -- sfp-gateway
  local n
  for n in report brief cron health gateway; do until_ok 120 "sfp-$n listening" port_of "$n"; done
  gw_port=$(listening_port "$logs/gateway.log")
  until_ok 120 "GET /health: 200, status ok, database connected, every peer reachable" health_ok
  say "suite up from the image (gateway 127.0.0.1:$gw_port): $((SECONDS - t0)) s"

  local code
  code=$(http_get /report/3512/001 "$logs/report.json")
  [ "$code" = 200 ] || fail "GET /report/3512/001: $code $(head -c 300 "$logs/report.json")"
  jcheck "$logs/report.json" 'j.total_permits === 44 && j.permits.length === 44 && j.sources.complaints.state === "live"' \
    "GET /report/3512/001: 44 permits and live SODA sources expected"
  code=$(http_get /brief "$logs/brief.json" "Authorization: Bearer demo-token-alice")
  [ "$code" = 200 ] || fail "GET /brief (alice): $code $(head -c 300 "$logs/brief.json")"
  jcheck "$logs/brief.json" 'j.lookback_days === 1 && typeof j.summary === "object" && typeof j.computed_at === "string"' \
    "GET /brief (alice): a brief with lookback_days 1 and a summary expected"
  code=$(http_get /brief "$logs/brief-anon.json")
  [ "$code" = 401 ] || fail "GET /brief without a token: $code, expected 401"
  say "/health ok, /report/3512/001 44 permits, /brief 200 (401 without a token)"

  # Every server process of the suite runs as the image's user (read from the host's /proc
  # where the engine's processes are ours: buildah's chroot isolation).
  if [ "$("$image" engine)" = buildah ]; then
    local i u
    for i in "${!pids[@]}"; do
      u=$(uid_of_descendant "${pids[$i]}" "sfp-${names[$i]}" | head -1)
      [ "$u" = 10001 ] || fail "sfp-${names[$i]} runs as uid '${u:-not found}', not 10001"
    done
    say "every server process runs as uid 10001"
  else
    say "server uids: not visible from the host with a Docker engine (checked by 'checks' with id)"
  fi

  # SIGTERM: each process drains and exits 0.
  for i in "${!pids[@]}"; do kill -TERM "${pids[$i]}"; done
  for i in "${!pids[@]}"; do
    until_ok 60 "sfp-${names[$i]} stopping after SIGTERM" eval "! running ${pids[$i]}"
    local rc=0
    wait "${pids[$i]}" || rc=$?
    [ "$rc" = 0 ] || { tail -5 "$logs/${names[$i]}.log" >&2; fail "sfp-${names[$i]} exited $rc after SIGTERM"; }
  done
  pids=()
  say "every process stopped with exit 0 after SIGTERM; suite from the image: $((SECONDS - t0)) s"
}

case "$mode" in
build) cmd_build ;;
checks) cmd_checks ;;
suite) cmd_suite ;;
*) fail "unknown mode $mode" ;;
esac
