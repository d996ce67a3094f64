#!/usr/bin/env bash
# bench/faults.sh [RUNS] — the service-side fault scenarios of issue 12, RUNS times each
# (default 3), printing the figure line of every run: SODA hung under 16 concurrent uncached
# reports (+ cache hits and breaker-open reports meanwhile), SODA dripping one byte a second
# under 8 (+ one call with a deadline shorter than the budget), a 20 s Postgres outage under 16
# clients, SIGTERM past the grace with slow SODA. The scenarios are the fault tests
# (tests/fault/test_fault_*.c, ctest label `fault`), run here against a private cluster.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
runs=${1:-3}
bench_pg
echo "# $(date -u +%F) $(nproc) cores; fault scenarios x$runs"
for t in fault_test_fault_soda_hang fault_test_fault_soda_drip fault_test_fault_pg_outage fault_test_fault_shutdown; do
  for i in $(seq "$runs"); do
    "$build/bin/$t" 2>&1 | grep -E '^(soda hang|soda drip|pg outage|sigterm with)' || echo "$t run $i: FAILED"
  done
done
