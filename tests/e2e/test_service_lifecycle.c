/* Service lifecycle with real processes: refusing bad env (naming the variable), starting
 * while Postgres is down (alive but not ready), becoming ready by itself when Postgres
 * appears, surviving a Postgres restart, and a clean SIGTERM exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "testsupport.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int run_cmd(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs `binary` with one extra env entry; returns its exit status and its stderr in out. */
static int run_refusing(const char *binary, const char *env, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "env DATABASE_URL=postgresql://x@127.0.0.1:1/x %s timeout 10 %s/%s 2>&1", env,
             SFP_BIN_DIR, binary);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_bad_env_refused_with_variable_name(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(run_refusing("sfp-health", "DB_POOL_MAX=abc", out, sizeof out), 2);
    assert_non_null(strstr(out, "DB_POOL_MAX"));
    assert_int_equal(run_refusing("sfp-health", "LISTEN_ADDR=nowhere", out, sizeof out), 2);
    assert_non_null(strstr(out, "LISTEN_ADDR"));
    assert_int_equal(run_refusing("sfp-health", "DB_POOL_MIN=9 DB_POOL_MAX=3", out, sizeof out), 2);
    assert_non_null(strstr(out, "DB_POOL_MIN"));
    assert_int_equal(run_refusing("sfp-gateway", "GATEWAY_ADDR=127.0.0.1:99999", out, sizeof out), 2);
    assert_non_null(strstr(out, "GATEWAY_ADDR"));
    assert_int_equal(run_refusing("sfp-gateway", "CRON_WORKER=maybe", out, sizeof out), 2);
    assert_non_null(strstr(out, "CRON_WORKER"));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "env -u DATABASE_URL %s/sfp-health >/dev/null 2>&1", SFP_BIN_DIR);
    assert_int_equal(run_cmd(cmd), 2);
}

static int readiness(sfp_rpc_channel *ch)
{
    sfp_rpc_status st;
    return sfp_rpc_health_check(ch, "readiness", 2000, &st);
}

static bool wait_ready(sfp_rpc_channel *ch, int want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 200) {
        if (readiness(ch) == want) return true;
        sleep_ms(200);
    }
    return false;
}

static void test_db_down_at_start_then_recovers_and_survives_restart(void **state)
{
    (void)state;
    /* The cluster's unix socket lives in its own directory, so its address is known before it
     * exists and stays the same across the restart below. */
    char dir[128], url[200], env_url[240], cmd[512];
    snprintf(dir, sizeof dir, "/tmp/sfp-e2e-lifecycle-%d", (int)getpid());
    snprintf(url, sizeof url, "postgresql://postgres@/postgres?host=%s&port=5432", dir);
    snprintf(env_url, sizeof env_url, "DATABASE_URL=%s", url);
    const char *env[] = {env_url,
                         "LISTEN_ADDR=127.0.0.1:0",
                         "REPORT_SVC_ADDR=off",
                         "BRIEF_SVC_ADDR=off",
                         "CRON_SVC_ADDR=off",
                         "DB_CONNECT_TIMEOUT=1",
                         NULL};
    sfp_proc p;
    assert_int_equal(sfp_proc_start(&p, "sfp-health", env), 0); /* starts although Postgres is down */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", p.port);
    sfp_rpc_channel *ch = sfp_rpc_channel_create(addr);
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_health_check(ch, "", 2000, &st), 1); /* alive */
    assert_int_equal(readiness(ch), 2);                           /* not ready */

    snprintf(cmd, sizeof cmd, "%s/scripts/pgtmp start %s >/dev/null", SFP_SOURCE_DIR, dir);
    assert_int_equal(run_cmd(cmd), 0);
    assert_true(wait_ready(ch, 1, 15000)); /* recovered by itself */

    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    assert_int_equal(sfp_rpc_call(ch, "/sfpermits.v1.HealthService/GetHealth", &req.base,
                                  &sfpermits__v1__get_health_response__descriptor, &resp, 5000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    assert_true(((Sfpermits__V1__GetHealthResponse *)resp)->db_connected);
    protobuf_c_message_free_unpacked(resp, NULL);

    /* Postgres restart on the same address: pooled connections die; the service reconnects. */
    snprintf(cmd, sizeof cmd, "%s/scripts/pgtmp halt %s && %s/scripts/pgtmp start %s >/dev/null", SFP_SOURCE_DIR, dir,
             SFP_SOURCE_DIR, dir);
    assert_int_equal(run_cmd(cmd), 0); /* pg_ctl -w: accepting connections when this returns */
    /* The pool noticed the outage and backs off: it is back within DB_RECONNECT_MAX_MS. */
    Sfpermits__V1__GetHealthResponse *h = NULL;
    for (int waited = 0; waited <= 5000; waited += 100) {
        resp = NULL;
        assert_int_equal(sfp_rpc_call(ch, "/sfpermits.v1.HealthService/GetHealth", &req.base,
                                      &sfpermits__v1__get_health_response__descriptor, &resp, 5000, NULL, 0, &st),
                         GRPC_STATUS_OK);
        h = (void *)resp;
        if (h->db_connected) break;
        protobuf_c_message_free_unpacked(resp, NULL);
        h = NULL;
        sleep_ms(100);
    }
    assert_non_null(h);
    assert_true(h->db_connected);
    assert_true(h->pool_stats->broken >= 1); /* the dead connections were noticed and replaced */
    protobuf_c_message_free_unpacked(resp, NULL);

    sfp_rpc_channel_destroy(ch);
    assert_int_equal(sfp_proc_stop(&p, 10000), 0);
    snprintf(cmd, sizeof cmd, "%s/scripts/pgtmp stop %s", SFP_SOURCE_DIR, dir);
    run_cmd(cmd);
}

static void test_sigterm_then_restart_same_port(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("e2e_lifecycle");
    char env_url[600], listen[64];
    snprintf(env_url, sizeof env_url, "DATABASE_URL=%s", url);
    int port = sfp_test_free_port();
    snprintf(listen, sizeof listen, "LISTEN_ADDR=127.0.0.1:%d", port);
    const char *env[] = {env_url, listen, "REPORT_SVC_ADDR=off", "BRIEF_SVC_ADDR=off", "CRON_SVC_ADDR=off", NULL};
    sfp_proc p;
    assert_int_equal(sfp_proc_start(&p, "sfp-health", env), 0);
    assert_int_equal(p.port, port);
    pid_t first = p.pid;
    assert_int_equal(sfp_proc_stop(&p, 10000), 0);
    assert_int_equal(kill(first, 0), -1); /* gone, not orphaned */
    assert_int_equal(sfp_proc_start(&p, "sfp-health", env), 0);
    assert_int_equal(sfp_proc_stop(&p, 10000), 0);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_env_refused_with_variable_name),
        cmocka_unit_test(test_db_down_at_start_then_recovers_and_survives_restart),
        cmocka_unit_test(test_sigterm_then_restart_same_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
