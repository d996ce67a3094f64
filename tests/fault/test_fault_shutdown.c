/* Fault: SIGTERM while SODA is slow, past the drain grace. sfp-report with
 * SHUTDOWN_GRACE_MS=1000 and a SODA budget (8 s) longer than the grace; the SODA test server
 * answers after 6 s. Eight uncached reports are waiting for SODA when SIGTERM arrives. At the
 * grace limit the SODA transfers are cancelled, so the process exits within grace + 500 ms with
 * exit code 1 (documented: in-flight calls had to be cancelled), and no client is left
 * hanging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "fault_svc.h"

#define GRACE_MS 1000
#define N_CALLS 8

static sfp_proc g_soda, g_report;
static sfp_rpc_channel *g_ch;
static char g_env_db[1024], g_env_soda[128];
static char g_blocks[N_CALLS][8], g_lots[N_CALLS][8];
static bool g_report_reaped;

static int setup(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("fault_shutdown");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", url);
    int np = fault_seed_demo(g_env_db) ? 0 : fault_parcels(url, g_blocks, g_lots, N_CALLS);
    free(url);
    if (np < N_CALLS) return -1;
    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(g_env_soda, sizeof g_env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    const char *rep_env[] = {
        g_env_db, g_env_soda, "LISTEN_ADDR=127.0.0.1:0", "SHUTDOWN_GRACE_MS=1000", "REPORT_SODA_BUDGET_MS=8000", NULL};
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
    int bad = 0;
    if (!g_report_reaped) bad |= sfp_proc_stop(&g_report, 10000) < 0;
    bad |= sfp_proc_stop(&g_soda, 10000) != 0;
    return bad ? -1 : 0;
}

typedef struct call {
    int i;
    fault_report r;
    double done_at;
} call;

static void *call_main(void *arg)
{
    call *c = arg;
    fault_report_call(g_ch, g_blocks[c->i], g_lots[c->i], 15000, &c->r);
    c->done_at = fault_now_ms();
    return NULL;
}

/* The SODA test server's in-flight request count. */
static long soda_in_flight(void)
{
    sfp_http_resp r;
    if (sfp_http(NULL, g_soda.port, "GET", "/__stats", NULL, NULL, 0, &r) != 0) return -1;
    cJSON *j = cJSON_Parse(r.body);
    long n = j && cJSON_IsNumber(cJSON_GetObjectItem(j, "in_flight"))
                 ? (long)cJSON_GetObjectItem(j, "in_flight")->valuedouble
                 : -1;
    cJSON_Delete(j);
    sfp_http_resp_free(&r);
    return n;
}

static void test_sigterm_past_grace_with_slow_soda(void **state)
{
    (void)state;
    assert_int_equal(fault_soda_control(g_soda.port, "mode=delay&delay_ms=6000"), 200);
    call c[N_CALLS];
    pthread_t th[N_CALLS];
    for (int i = 0; i < N_CALLS; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].i = i;
        pthread_create(&th[i], NULL, call_main, &c[i]);
    }
    /* every report is waiting for SODA: two datasets each (tax roll only without a summary) */
    double until = fault_now_ms() + 20000;
    while (soda_in_flight() < N_CALLS * 2 && fault_now_ms() < until) fault_sleep_ms(20);
    assert_true(soda_in_flight() >= N_CALLS * 2);

    double t0 = fault_now_ms();
    assert_int_equal(kill(g_report.pid, SIGTERM), 0);
    int status = 0;
    pid_t got = 0;
    until = t0 + 15000;
    while ((got = waitpid(g_report.pid, &status, WNOHANG)) == 0 && fault_now_ms() < until) fault_sleep_ms(5);
    double exited = fault_now_ms() - t0;
    assert_int_equal(got, g_report.pid);
    g_report_reaped = true;
    for (int i = 0; i < N_CALLS; i++) pthread_join(th[i], NULL);
    double last_answer = 0;
    int ok = 0;
    for (int i = 0; i < N_CALLS; i++) {
        if (c[i].done_at - t0 > last_answer) last_answer = c[i].done_at - t0;
        ok += c[i].r.code == GRPC_STATUS_OK;
    }
    fprintf(stderr,
            "sigterm with slow SODA: exited after %.0f ms (grace %d ms), status %d; %d/%d calls OK (degraded), "
            "last answer %.0f ms after SIGTERM\n",
            exited, GRACE_MS, WIFEXITED(status) ? WEXITSTATUS(status) : -1, ok, N_CALLS, last_answer);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(exited <= GRACE_MS + 500);
    assert_true(last_answer <= GRACE_MS + 500); /* nobody waits for the slow SODA */
    assert_int_equal(fault_log_count(&g_report, "soda: in-flight transfers cancelled"), 1);
    /* it ended by itself, not by the last-resort watchdog */
    assert_int_equal(fault_log_count(&g_report, "shutdown overran its grace"), 0);
    assert_int_equal(fault_log_count(&g_report, "\"msg\":\"stopped\""), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_past_grace_with_slow_soda),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
