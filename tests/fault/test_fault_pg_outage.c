/* Fault: Postgres stops for 20 s under 16-connection load, then starts again on the same unix
 * socket directory (scripts/pgtmp halt / start on a private cluster). sfp-report must:
 *   - make at most 100 connect attempts during the outage (back-off, one probe at a time);
 *   - write at most 100 log lines for it (state changes + a periodic summary, rate-limited
 *     per-call error lines);
 *   - answer the requests meanwhile at once with UNAVAILABLE (the gateway's 503 JSON);
 *   - serve 200s again within 1 s of Postgres accepting connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fault_svc.h"

#define CLIENTS 16
#define OUTAGE_MS 20000

static char g_dir[128], g_url[256], g_env_db[300];
static char g_block[8], g_lot[8];
static sfp_proc g_report;
static sfp_rpc_channel *g_ch;

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sfp-fault-pg-%d", (int)getpid());
    snprintf(g_url, sizeof g_url, "postgresql://postgres@/postgres?host=%s&port=5432", g_dir);
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", g_url);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "PGTMP_EPHEMERAL=1 %s/scripts/pgtmp start %s >/dev/null", SFP_SOURCE_DIR, g_dir);
    if (run(cmd)) return -1;
    snprintf(cmd, sizeof cmd, "env '%s' %s/sfp-migrate >/dev/null 2>&1", g_env_db, SFP_BIN_DIR);
    if (run(cmd) || fault_seed_demo(g_env_db)) return -1;
    char blocks[1][8], lots[1][8];
    if (fault_parcels(g_url, blocks, lots, 1) != 1) return -1;
    memcpy(g_block, blocks[0], 8);
    memcpy(g_lot, lots[0], 8);
    /* SODA at a dead address: sources degrade, the breaker opens, the report still answers */
    const char *env[] = {g_env_db,
                         "LISTEN_ADDR=127.0.0.1:0",
                         "SODA_BASE_URL=http://127.0.0.1:1/resource",
                         "REPORT_CACHE_TTL_S=0",
                         "SODA_CACHE_TTL=0",
                         "DB_POOL_MIN=2",
                         "DB_POOL_MAX=20",
                         NULL};
    if (sfp_proc_start(&g_report, "sfp-report", env)) return -1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", g_report.port);
    g_ch = sfp_rpc_channel_create(addr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sfp_rpc_channel_destroy(g_ch);
    int bad = sfp_proc_stop(&g_report, 10000) != 0;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/scripts/pgtmp stop %s >/dev/null 2>&1", SFP_SOURCE_DIR, g_dir);
    run(cmd);
    return bad ? -1 : 0;
}

static atomic_bool g_stop;
static atomic_llong g_ok, g_unavailable, g_other;
static _Atomic double g_first_ok_after; /* first OK answered after g_watch_from, ms (0 = none) */
static _Atomic double g_watch_from;
static double g_slowest_error_ms;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void *client(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_stop)) {
        fault_report r;
        double t0 = fault_now_ms();
        fault_report_call(g_ch, g_block, g_lot, 5000, &r);
        double t1 = fault_now_ms();
        if (r.code == GRPC_STATUS_OK) {
            atomic_fetch_add(&g_ok, 1);
            double from = atomic_load(&g_watch_from);
            if (from > 0 && t0 >= from) {
                double expect = 0;
                atomic_compare_exchange_strong(&g_first_ok_after, &expect, t1);
            }
        } else {
            if (r.code == GRPC_STATUS_UNAVAILABLE) atomic_fetch_add(&g_unavailable, 1);
            else atomic_fetch_add(&g_other, 1);
            pthread_mutex_lock(&g_mu);
            if (r.ms > g_slowest_error_ms) g_slowest_error_ms = r.ms;
            pthread_mutex_unlock(&g_mu);
            fault_sleep_ms(1); /* a failing client retries at once, like a busy page */
        }
    }
    return NULL;
}

typedef struct bg_cmd {
    char cmd[512];
    int rc;
} bg_cmd;

static void *bg_run(void *arg)
{
    bg_cmd *b = arg;
    b->rc = run(b->cmd);
    return NULL;
}

/* "msg":"<needle>" line's integer field "key" (last such line), or -1. */
static long log_field(const char *needle, const char *key)
{
    FILE *f = fopen(g_report.log_path, "r");
    if (!f) return -1;
    char line[8192], pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, needle)) continue;
        const char *p = strstr(line, pat);
        if (p) v = strtol(p + strlen(pat), NULL, 10);
    }
    fclose(f);
    return v;
}

static void test_outage_backs_off_and_recovers_fast(void **state)
{
    (void)state;
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) pthread_create(&th[i], NULL, client, NULL);
    double until = fault_now_ms() + 20000;
    while (atomic_load(&g_ok) < 100 && fault_now_ms() < until) fault_sleep_ms(20);
    assert_true(atomic_load(&g_ok) >= 100); /* load is flowing */

    int lines_before = fault_log_count(&g_report, NULL);
    long attempts_before = 0; /* the pool logs its attempts per outage */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/scripts/pgtmp halt %s >/dev/null 2>&1", SFP_SOURCE_DIR, g_dir);
    assert_int_equal(run(cmd), 0);
    double halted = fault_now_ms();
    long ok_at_halt = atomic_load(&g_ok);
    while (fault_now_ms() - halted < OUTAGE_MS) fault_sleep_ms(50); /* the outage itself */
    long unavailable = atomic_load(&g_unavailable);

    /* start again; the moment it accepts connections is found by pinging the socket */
    bg_cmd start = {.rc = -1};
    snprintf(start.cmd, sizeof start.cmd, "%s/scripts/pgtmp start %s >/dev/null 2>&1", SFP_SOURCE_DIR, g_dir);
    pthread_t bt;
    pthread_create(&bt, NULL, bg_run, &start);
    double accept_at = 0;
    until = fault_now_ms() + 60000;
    while (fault_now_ms() < until) {
        if (PQping(g_url) == PQPING_OK) {
            accept_at = fault_now_ms();
            break;
        }
        fault_sleep_ms(5);
    }
    assert_true(accept_at > 0);
    atomic_store(&g_watch_from, accept_at);
    until = accept_at + 10000;
    while (atomic_load(&g_first_ok_after) == 0 && fault_now_ms() < until) fault_sleep_ms(5);
    pthread_join(bt, NULL);
    assert_int_equal(start.rc, 0);
    double first_ok = atomic_load(&g_first_ok_after);
    atomic_store(&g_stop, true);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);

    long attempts = log_field("database reachable again", "connect_attempts") - attempts_before;
    long outage_ms = log_field("database reachable again", "outage_ms");
    int lines = fault_log_count(&g_report, NULL) - lines_before;
    fprintf(stderr,
            "pg outage %d ms under %d clients: %ld UNAVAILABLE, %lld other errors (slowest error %.0f ms), "
            "%ld connect attempts (pool outage %ld ms), %d log lines; first 200 %.0f ms after Postgres accepted\n",
            OUTAGE_MS, CLIENTS, unavailable, (long long)atomic_load(&g_other), g_slowest_error_ms, attempts, outage_ms,
            lines, first_ok > 0 ? first_ok - accept_at : -1.0);
    (void)ok_at_halt;
    assert_true(unavailable >= 1000); /* requests kept failing fast all along */
    assert_true(attempts >= 1 && attempts <= 100);
    assert_true(lines <= 100);
    assert_true(first_ok > 0);
    assert_true(first_ok - accept_at <= 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outage_backs_off_and_recovers_fast),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
