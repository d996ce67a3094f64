/* Client-side load balancing end to end: two sfp-report replicas behind one DNS name, the
 * gateway dialing "dns://<test DNS server>/report.sfp.test:<port>". The name resolves to
 * 127.0.0.1 and 127.0.0.2 (same port), as a Kubernetes headless Service resolves to its pods.
 * Both replicas take traffic (round_robin), and a replica killed with SIGKILL is skipped: every
 * request that starts more than a second after the kill is answered 200 by the survivor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "promcheck.h"
#include "testdns.h"
#include "testhttp.h"
#include "testsupport.h"

#define NAME "report.sfp.test"

static sfp_proc g_soda, g_rep_a, g_rep_b, g_gw;
static sfp_test_dns *g_dns;
static bool g_b_killed;
static char g_env_db[1024], g_env_soda[128];

static int start_replica(sfp_proc *p, const char *ip, int port)
{
    char listen[64];
    snprintf(listen, sizeof listen, "LISTEN_ADDR=%s:%d", ip, port);
    const char *env[] = {g_env_db, g_env_soda, listen, "METRICS_ADDR=127.0.0.1:0", NULL};
    return sfp_proc_start(p, "sfp-report", env);
}

static int setup(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("e2e_replicas");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", url);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "env '%s' %s/sfp-seed --scale demo >/dev/null 2>&1", g_env_db, SFP_BIN_DIR);
    int rc = system(cmd);
    free(url);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc)) return -1;
    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(g_env_soda, sizeof g_env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    int port = sfp_test_free_port();
    if (port <= 0 || start_replica(&g_rep_a, "127.0.0.1", port) || start_replica(&g_rep_b, "127.0.0.2", port))
        return -1;
    const char *ips[] = {"127.0.0.1", "127.0.0.2"};
    g_dns = sfp_test_dns_start(NAME, ips, 2);
    if (!g_dns) return -1;
    char target[128];
    snprintf(target, sizeof target, "REPORT_SVC_ADDR=dns://127.0.0.1:%d/" NAME ":%d", sfp_test_dns_port(g_dns), port);
    const char *gw_env[] = {"GATEWAY_ADDR=127.0.0.1:0", target, "HEALTH_SVC_ADDR=" SFP_TEST_DEAD_ADDR,
                            "GATEWAY_REPORT_RATE_LIMIT=0", NULL};
    return sfp_proc_start(&g_gw, "sfp-gateway", gw_env);
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    bad |= sfp_proc_stop(&g_gw, 10000) != 0;
    bad |= sfp_proc_stop(&g_rep_a, 10000) != 0;
    if (!g_b_killed) bad |= sfp_proc_stop(&g_rep_b, 10000) != 0;
    bad |= sfp_proc_stop(&g_soda, 10000) != 0;
    sfp_test_dns_stop(g_dns);
    return bad ? -1 : 0;
}

/* Reports answered OK by one replica, from its /metrics. */
static double reports_served(const sfp_proc *p)
{
    char err[256] = "";
    char *body = sfp_prom_scrape(sfp_proc_log_port(p, "metrics listening"), err, sizeof err);
    if (!body) fail_msg("%s: %s", p->log_path, err);
    double v = sfp_prom_value(body, "sfp_rpc_server_requests_total", "GetPropertyReport\",code=\"OK\"");
    free(body);
    return isnan(v) ? 0 : v;
}

static long get_report(void)
{
    sfp_http_resp r;
    if (sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &r)) return -1;
    long status = r.status;
    sfp_http_resp_free(&r);
    return status;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_both_replicas_take_traffic(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) assert_int_equal(get_report(), 200);
    assert_true(sfp_test_dns_answers(g_dns) >= 1); /* the name was resolved through DNS */
    double a = reports_served(&g_rep_a), b = reports_served(&g_rep_b);
    print_message("replica A answered %.0f, replica B %.0f of 40\n", a, b);
    assert_true(a + b >= 40);
    /* round_robin alternates over ready replicas; allow for B connecting a little later */
    assert_true(a >= 5);
    assert_true(b >= 5);
}

static void test_killed_replica_is_skipped(void **state)
{
    (void)state;
    double a0 = reports_served(&g_rep_a);
    assert_int_equal(kill(g_rep_b.pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(g_rep_b.pid, &st, 0), g_rep_b.pid);
    g_b_killed = true;
    double t_kill = now_s(), last_failure = -1;
    int ok_in_row = 0, failures = 0;
    /* Requests until 50 in a row succeed (bounded at 20 s); failures may only start within the
     * first second after the kill. */
    while (ok_in_row < 50 && now_s() - t_kill < 20) {
        double t = now_s();
        long status = get_report();
        if (status == 200) {
            ok_in_row++;
        } else {
            ok_in_row = 0;
            failures++;
            last_failure = t - t_kill;
        }
    }
    print_message("after SIGKILL of replica B: %d failed requests, last one started %.3f s after the kill\n", failures,
                  last_failure);
    assert_int_equal(ok_in_row, 50);
    assert_true(last_failure < 1.0);
    assert_true(reports_served(&g_rep_a) >= a0 + 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_replicas_take_traffic),
        cmocka_unit_test(test_killed_replica_is_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
