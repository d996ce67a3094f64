/* Fault: SODA hangs. sfp-report (REPORT_SODA_BUDGET_MS=1500, 8 RPC workers) against the SODA
 * test server in `hang` mode:
 *   - 16 concurrent uncached reports all answer OK with degraded sources (complaints
 *     unavailable, reason timeout) within budget + 100 ms — waiting for SODA holds no worker;
 *   - meanwhile a report cache hit stays fast (p99 bound below);
 *   - afterwards the breaker is open and a report that needs SODA costs no wait (breaker_open).
 * Real processes, real Postgres (seeded demo data), real loopback gRPC and HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "fault_svc.h"

#define BUDGET_MS 1500
#define N_UNCACHED 16
/* The target is 20 ms p99 for a report that needs no SODA call; the assertion leaves
 * room for a shared 2-core machine (the measured figure is printed and in bench/README.md). */
#define FAST_P99_BOUND_MS 50.0
#define CLIENT_SLACK_MS 1000
/* The machine may be shared and loaded: a fast-path bound also scales with the p99 of the
 * same calls measured just before the fault (what this machine does right now), never below
 * FAST_P99_BOUND_MS. Without the bulkhead a fast call waits for a worker, i.e. ~BUDGET_MS. */
static double fast_bound(double base_p99)
{
    double b = 4 * base_p99 + 20;
    return b > FAST_P99_BOUND_MS ? b : FAST_P99_BOUND_MS;
}

static fault_soda_rig g_rig;

static int setup(void **state)
{
    (void)state;
    return fault_soda_rig_start(&g_rig, "fault_soda_hang", N_UNCACHED + 2, 5);
}

static int teardown(void **state)
{
    (void)state;
    return fault_soda_rig_stop(&g_rig);
}

typedef struct uncached {
    int i;
    fault_report r;
} uncached;

static atomic_int g_done;

static void *uncached_main(void *arg)
{
    uncached *u = arg;
    fault_report_call(g_rig.ch, g_rig.blocks[u->i], g_rig.lots[u->i], 10000, &u->r);
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

static void test_hung_soda_degrades_within_budget_and_spares_the_rest(void **state)
{
    (void)state;
    /* the cached parcel: assembled once while SODA works, then a report cache hit */
    const char *cb = g_rig.blocks[N_UNCACHED], *cl = g_rig.lots[N_UNCACHED];
    fault_report r;
    fault_report_call(g_rig.ch, cb, cl, 10000, &r);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    double until = fault_now_ms() + 20000;
    do fault_report_call(g_rig.ch, cb, cl, 10000, &r);
    while (!r.cache_hit && fault_now_ms() < until); /* the cache listener may still be connecting */
    assert_true(r.cache_hit);
    double base[40];
    for (int i = 0; i < 40; i++) {
        fault_report_call(g_rig.ch, cb, cl, 10000, &r);
        assert_true(r.cache_hit);
        base[i] = r.ms;
        fault_sleep_ms(5);
    }
    double base_p99 = fault_quantile(base, 40, 0.99);

    assert_int_equal(fault_soda_control(g_rig.soda.port, "mode=hang"), 200);
    uncached u[N_UNCACHED];
    pthread_t th[N_UNCACHED];
    atomic_store(&g_done, 0);
    for (int i = 0; i < N_UNCACHED; i++) {
        u[i].i = i;
        pthread_create(&th[i], NULL, uncached_main, &u[i]);
    }
    /* cache hits while the 16 wait for SODA */
    static double fast[100000];
    int nfast = 0;
    while (atomic_load(&g_done) < N_UNCACHED && nfast < 100000) {
        fault_report_call(g_rig.ch, cb, cl, 10000, &r);
        assert_int_equal(r.code, GRPC_STATUS_OK);
        assert_true(r.cache_hit);
        fast[nfast++] = r.ms;
        fault_sleep_ms(5); /* a steady trickle of page views, not a CPU-bound spin */
    }
    double worst = 0, worst_server = 0;
    for (int i = 0; i < N_UNCACHED; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(u[i].r.code, GRPC_STATUS_OK);
        assert_string_equal(u[i].r.complaints_state, "unavailable");
        assert_string_equal(u[i].r.complaints_reason, "timeout");
        if (u[i].r.ms > worst) worst = u[i].r.ms;
        if (u[i].r.server_ms > worst_server) worst_server = u[i].r.server_ms;
        fprintf(stderr, " %.0f/%.0f", u[i].r.ms, u[i].r.server_ms);
    }
    fprintf(stderr, "\n");
    double p99 = fault_quantile(fast, nfast, 0.99);
    fprintf(stderr,
            "soda hang: %d uncached reports, slowest %.0f ms (server %.0f ms, budget %d ms); %d cache hits meanwhile, "
            "p99 %.2f ms (%.2f ms before the fault)\n",
            N_UNCACHED, worst, worst_server, BUDGET_MS, nfast, p99, base_p99);
    /* The SODA budget runs from the call's arrival at the report handler, so the report's own
     * time (debug.elapsed_ms, from that arrival to the reply) is the budget plus assembly: the
     * issue's budget + 100 ms holds there. The client also sees the time a call waits inside
     * gRPC for a free RPC worker before the handler sees it at all: 16 simultaneous calls on 8
     * workers wait for the first 8 calls' SQL, ~100-200 ms on a loaded 2-core machine. The
     * server cannot count that wait (gRPC core does not expose a call's arrival time), so the
     * client-side bound is generous here and the strict figure is measured in bench/faults.sh. */
    assert_true(worst_server <= BUDGET_MS + 100);
    assert_true(worst <= BUDGET_MS + CLIENT_SLACK_MS);
    assert_true(nfast >= 10); /* the cache hits really ran while the others waited */
    assert_true(p99 <= fast_bound(base_p99));

    /* 32 timed-out transfers opened the breaker: a report needing SODA now waits for nothing */
    const char *ob = g_rig.blocks[N_UNCACHED + 1], *ol = g_rig.lots[N_UNCACHED + 1];
    double open_ms[40];
    for (int i = 0; i < 40; i++) {
        fault_report_call(g_rig.ch, ob, ol, 10000, &r);
        assert_int_equal(r.code, GRPC_STATUS_OK);
        assert_string_equal(r.complaints_reason, "breaker_open");
        assert_false(r.cache_hit); /* degraded reports are never cached */
        open_ms[i] = r.ms;
    }
    p99 = fault_quantile(open_ms, 40, 0.99);
    fprintf(stderr, "soda hang, breaker open: 40 uncached reports, p99 %.2f ms\n", p99);
    /* these run their SQL (no report cache for a degraded report): bounded well below a SODA wait */
    assert_true(p99 <= fast_bound(base_p99) + BUDGET_MS / 5);
    assert_int_equal(fault_soda_reset(g_rig.soda.port), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hung_soda_degrades_within_budget_and_spares_the_rest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
