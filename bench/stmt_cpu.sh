#!/usr/bin/env bash
# bench/stmt_cpu.sh N PARAMS FILE... — backend CPU of single SQL statements, load-robust enough
# to compare two versions of a statement on a shared machine (alternate them: A B A B).
#   Each FILE holds one statement with $1.. placeholders; PARAMS is the EXECUTE argument list,
#   e.g. "(4)" or "(4,'2026-12-04')". The statement is PREPAREd with plan_cache_mode =
#   force_generic_plan (as the brief runs it), executed 3 times to warm up, then N times; the
#   backend's utime + stime from /proc/PID/stat before and after, divided by N, is printed.
# Needs: DATABASE_URL, and /proc of the server's backends readable (same machine, root or the
# cluster's owner). Resolution: one clock tick (10 ms) over the N executions.
# Getting a statement's text: ALTER SYSTEM SET log_min_duration_statement = 0, one cold brief,
# the "execute brief_<section>: …" line of the server log — then ALTER SYSTEM RESET
# log_min_duration_statement and SELECT pg_reload_conf() before timing anything: left on, it
# logs every statement and adds ~3 ms to a cold brief.
set -euo pipefail
n=${1:?usage: bench/stmt_cpu.sh N PARAMS FILE...}; params=${2:?}; shift 2
: "${DATABASE_URL:?}"
tmp=$(mktemp -d /tmp/sfp-stmtcpu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for f in "$@"; do
  {
    echo "SET plan_cache_mode = force_generic_plan;"
    echo "PREPARE q AS $(cat "$f");"
    echo "\\o /dev/null"
    for _ in 1 2 3; do echo "EXECUTE q$params;"; done
    echo "\\o"
    echo "SELECT pg_backend_pid() \\g $tmp/pid"
    echo "\\! awk '{printf \"%d \", \$14+\$15}' /proc/\$(cat $tmp/pid)/stat"
    echo "\\o /dev/null"
    for _ in $(seq "$n"); do echo "EXECUTE q$params;"; done
    echo "\\o"
    echo "\\! awk '{printf \"%d\\n\", \$14+\$15}' /proc/\$(cat $tmp/pid)/stat"
  } >"$tmp/run.sql"
  psql -qAtX "$DATABASE_URL" -v ON_ERROR_STOP=1 -f "$tmp/run.sql" | tail -1 |
    awk -v n="$n" -v f="$f" -v hz="$(getconf CLK_TCK)" '{printf "%-40s %.2f ms backend CPU per execution\n", f, ($2 - $1) * 1000 / hz / n}'
done
