/* Fault: SODA drips. sfp-report (REPORT_SODA_BUDGET_MS=1500) against the SODA test server in
 * `drip` mode: every response is a 200 whose body arrives one byte a second (even "[]" takes 2 s), so a transfer
 * never finishes within any budget but is never idle either (no idle timeout can catch it).
 *   - 8 concurrent uncached reports all answer OK with degraded sources (complaints
 *     unavailable, reason timeout), the report's own time within budget + 100 ms;
 *   - a call whose deadline (1200 ms) is shorter than the budget still answers OK, degraded,
 *     before its deadline: the SODA budget ends at least 300 ms before the call's deadline.
 * Real processes, real Postgres (seeded demo data), real loopback gRPC and HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "fault_svc.h"

#define BUDGET_MS 1500
#define N_UNCACHED 8
/* Client-side: the calls' own SQL and a shared 2-core machine come on top of the budget; the
 * strict figure (budget + 100 ms) is measured in bench/faults.sh. */
#define CLIENT_SLACK_MS 1000
#define SHORT_DEADLINE_MS 1200

static sfp_proc g_soda, g_report;
static sfp_rpc_channel *g_ch;
static char g_env_db[1024], g_env_soda[128];
static char g_blocks[N_UNCACHED + 1][8], g_lots[N_UNCACHED + 1][8];

static int setup(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("fault_soda_drip");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", url);
    int np = fault_seed_demo(g_env_db) ? 0 : fault_parcels(url, g_blocks, g_lots, N_UNCACHED + 1);
    free(url);
    if (np < N_UNCACHED + 1) {
        fprintf(stderr, "need %d seeded parcels, got %d\n", N_UNCACHED + 1, np);
        return -1;
    }
    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(g_env_soda, sizeof g_env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    /* a high breaker threshold: every report here really waits for the dripping transfer */
    const char *rep_env[] = {g_env_db,
                             g_env_soda,
                             "LISTEN_ADDR=127.0.0.1:0",
                             "RPC_WORKERS=8",
                             "REPORT_SODA_BUDGET_MS=1500",
                             "SODA_CB_THRESHOLD=1000",
                             "DB_POOL_MIN=8",
                             NULL};
    if (sfp_proc_start(&g_report, "sfp-report", rep_env)) return -1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", g_report.port);
    g_ch = sfp_rpc_channel_create(addr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fault_soda_reset(g_soda.port);
    sfp_rpc_channel_destroy(g_ch);
    int bad = sfp_proc_stop(&g_report, 10000) != 0;
    bad |= sfp_proc_stop(&g_soda, 10000) != 0;
    return bad ? -1 : 0;
}

typedef struct uncached {
    int i;
    int64_t timeout_ms;
    fault_report r;
} uncached;

static void *uncached_main(void *arg)
{
    uncached *u = arg;
    fault_report_call(g_ch, g_blocks[u->i], g_lots[u->i], u->timeout_ms, &u->r);
    return NULL;
}

static void test_dripping_soda_degrades_within_budget(void **state)
{
    (void)state;
    assert_int_equal(fault_soda_control(g_soda.port, "mode=drip&delay_ms=1000"), 200);
    uncached u[N_UNCACHED];
    pthread_t th[N_UNCACHED];
    for (int i = 0; i < N_UNCACHED; i++) {
        u[i] = (uncached){.i = i, .timeout_ms = 10000};
        pthread_create(&th[i], NULL, uncached_main, &u[i]);
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
    /* a call whose deadline comes before the budget's end: the budget ends 300 ms before it */
    uncached s = {.i = N_UNCACHED, .timeout_ms = SHORT_DEADLINE_MS};
    uncached_main(&s);
    fprintf(stderr,
            "soda drip: %d uncached reports, slowest %.0f ms (server %.0f ms, budget %d ms); deadline %d ms: %s "
            "after %.0f ms\n",
            N_UNCACHED, worst, worst_server, BUDGET_MS, SHORT_DEADLINE_MS, sfp_rpc_code_name(s.r.code), s.r.ms);
    assert_true(worst_server <= BUDGET_MS + 100);
    assert_true(worst <= BUDGET_MS + CLIENT_SLACK_MS);
    assert_int_equal(s.r.code, GRPC_STATUS_OK);
    assert_string_equal(s.r.complaints_state, "unavailable");
    assert_true(s.r.server_ms <= SHORT_DEADLINE_MS - 300 + 100);
    assert_int_equal(fault_soda_reset(g_soda.port), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dripping_soda_degrades_within_budget),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
