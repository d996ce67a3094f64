/* Pool against a real Postgres: sizing, exhaustion, stats, broken-connection replacement,
 * unreachable database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grpc/status.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_pool.h"
#include "testsupport.h"

static char *g_url;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static sfp_pool *make_pool(const char *url, int min, int max, int acquire_ms)
{
    sfp_pool_config cfg = {.conninfo = url,
                           .min = min,
                           .max = max,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 30000,
                           .acquire_timeout_ms = acquire_ms,
                           .idle_check_s = 30,
                           .application_name = "sfp-test-pool"};
    sfp_err err = {0};
    sfp_pool *p = sfp_pool_create(&cfg, &err);
    assert_non_null(p);
    return p;
}

static sfp_pool_stats stats(sfp_pool *p)
{
    sfp_pool_stats s;
    sfp_pool_get_stats(p, &s);
    return s;
}

static int backend_pid(sfp_conn *c)
{
    sfp_err err = {0};
    PGresult *r = sfp_db_query(c, "SELECT pg_backend_pid()", 0, NULL, &err);
    assert_non_null(r);
    int pid = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return pid;
}

static void test_min_opened_in_background(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 2, 5, 1000);
    for (int i = 0; i < 300 && stats(p).size < 2; i++) sleep_ms(10);
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.size, 2);
    assert_int_equal(s.idle, 2);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.min, 2);
    assert_int_equal(s.max, 5);
    sfp_pool_destroy(p);
}

static void test_max_respected_and_timeout(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 3, 200);
    sfp_err err = {0};
    sfp_conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = sfp_pool_acquire(p, -1, &err);
        assert_non_null(c[i]);
    }
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.size, 3);
    assert_int_equal(s.in_use, 3);
    assert_int_equal(s.idle, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sfp_conn *extra = sfp_pool_acquire(p, -1, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_null(extra);
    assert_int_equal(err.code, SFP_UNAVAILABLE);
    double waited = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(waited >= 190 && waited < 1500);
    s = stats(p);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.acquires, 3);
    assert_int_equal(s.size, 3); /* never above max */
    for (int i = 0; i < 3; i++) sfp_pool_release(p, c[i]);
    s = stats(p);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.idle, 3);
    assert_int_equal(s.size, s.idle + s.in_use);
    assert_int_equal(s.opened, 3);
    sfp_pool_destroy(p);
}

typedef struct {
    sfp_pool *p;
    sfp_conn *got;
} acquirer;

static void *acquire_main(void *arg)
{
    acquirer *a = arg;
    sfp_err err = {0};
    a->got = sfp_pool_acquire(a->p, -1, &err);
    return NULL;
}

/* Polls (up to 10 s) until the server's end of socket fd is closed (readable: EOF or the
 * termination notice), which is what the pool's checkout peek looks for. */
static void wait_server_closed(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
}

static void test_waiting_acquire_counts(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 1, 3000);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    assert_non_null(c);
    acquirer a = {p, NULL};
    pthread_t th;
    pthread_create(&th, NULL, acquire_main, &a);
    for (int i = 0; i < 1000 && stats(p).waiting < 1; i++) sleep_ms(10); /* it is waiting */
    assert_int_equal(stats(p).waiting, 1);
    sfp_pool_release(p, c);
    pthread_join(th, NULL);
    sfp_conn *c2 = a.got;
    assert_non_null(c2);
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.acquires, 2);
    assert_int_equal(s.waited_acquires, 1);
    assert_int_equal(s.waiting, 0);
    assert_ptr_equal(c, c2); /* the same connection was handed over */
    sfp_pool_release(p, c2);
    sfp_pool_destroy(p);
}

/* A spare connection: an idle one, or a new one below max, and never a wait for another
 * caller's: with the pool full it is refused at once, without waiting, queueing or a timeout
 * counted (the acquire timeout here is 10 minutes: a wait would hang the test). */
static void test_spare_never_waits(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 2, 600000);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    assert_non_null(c);
    sfp_conn *spare = sfp_pool_acquire_spare(p, 600000, &err); /* below max: opened */
    assert_non_null(spare);
    assert_true(backend_pid(spare) != backend_pid(c));
    sfp_err e2 = {0};
    assert_null(sfp_pool_acquire_spare(p, 600000, &e2)); /* full: refused at once */
    assert_int_equal(e2.code, SFP_UNAVAILABLE);
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.timeouts, 0);
    assert_int_equal(s.waited_acquires, 0);
    assert_int_equal(s.waiting, 0);
    sfp_pool_release(p, spare);
    sfp_conn *again = sfp_pool_acquire_spare(p, 600000, &err); /* idle now: handed out */
    assert_ptr_equal(again, spare);
    sfp_pool_release(p, again);
    sfp_pool_release(p, c);
    sfp_pool_destroy(p);
}

static void test_terminated_backend_replaced(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 2, 2000);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    int pid = backend_pid(c);
    int fd = PQsocket(sfp_conn_pg(c));
    sfp_pool_release(p, c);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    wait_server_closed(fd); /* the idle connection is still the pool's; we only watch its socket */
    c = sfp_pool_acquire(p, -1, &err);
    assert_non_null(c);
    int pid2 = backend_pid(c); /* the query works: the caller never saw the dead connection */
    assert_int_not_equal(pid, pid2);
    sfp_pool_release(p, c);
    sfp_pool_stats s = stats(p);
    assert_true(s.broken >= 1);
    assert_int_equal(s.size, 1);
    sfp_pool_destroy(p);
}

static void test_broken_in_use_connection_discarded(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 2, 2000);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    int pid = backend_pid(c);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    wait_server_closed(PQsocket(sfp_conn_pg(c)));
    PGresult *r = sfp_db_query(c, "SELECT 1", 0, NULL, &err);
    assert_null(r);
    assert_int_equal(err.code, SFP_UNAVAILABLE);
    sfp_pool_release(p, c);
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.size, 0);
    assert_int_equal(s.broken, 1);
    c = sfp_pool_acquire(p, -1, &err);
    assert_non_null(c);
    assert_int_not_equal(backend_pid(c), pid);
    sfp_pool_release(p, c);
    sfp_pool_destroy(p);
}

static void test_rollback_on_release(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 1, 2000);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    assert_int_equal(sfp_db_exec(c, "BEGIN", 0, NULL, &err), 0);
    assert_int_equal(sfp_db_exec(c, "CREATE TEMP TABLE t_rb(x int)", 0, NULL, &err), 0);
    sfp_pool_release(p, c);
    c = sfp_pool_acquire(p, -1, &err);
    assert_int_equal(PQtransactionStatus(sfp_conn_pg(c)), PQTRANS_IDLE);
    PGresult *r = sfp_db_query(c, "SELECT to_regclass('pg_temp.t_rb') IS NULL", 0, NULL, &err);
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    sfp_pool_release(p, c);
    sfp_pool_destroy(p);
}

static void test_statement_timeout_applied(void **state)
{
    (void)state;
    sfp_pool_config cfg = {.conninfo = g_url,
                           .min = 0,
                           .max = 1,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 100,
                           .acquire_timeout_ms = 1000};
    sfp_err err = {0};
    sfp_pool *p = sfp_pool_create(&cfg, &err);
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    assert_non_null(c);
    PGresult *r = sfp_db_query(c, "SELECT pg_sleep(2)", 0, NULL, &err);
    assert_null(r);
    assert_int_equal(err.code, SFP_DEADLINE_EXCEEDED);
    sfp_pool_release(p, c);
    sfp_pool_destroy(p);
}

static void test_unreachable_database(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(SFP_TEST_DEAD_PG_URL, 2, 4, 500);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, -1, &err);
    assert_null(c);
    assert_int_equal(err.code, SFP_UNAVAILABLE);
    assert_false(sfp_pool_ready(p, 0));
    sfp_pool_stats s = stats(p);
    assert_false(s.healthy);
    assert_int_equal(s.size, 0);
    assert_int_equal(s.in_use, 0);
    sfp_pool_destroy(p);
}

/* Outage back-off with an injected clock and random source: a frozen clock means no attempt
 * is ever due, so the counts below are exact (nothing depends on elapsed time). */
static int64_t g_fake_now_ms = 1000000; /* read by the pool's maintenance thread */
static double fake_clock(void *arg)
{
    (void)arg;
    return (double)__atomic_load_n(&g_fake_now_ms, __ATOMIC_SEQ_CST) / 1000.0;
}
static uint32_t fake_rand(void *arg)
{
    (void)arg;
    return 0; /* the lowest delay of each step: step/2 */
}

static void test_outage_backs_off_and_fails_fast(void **state)
{
    (void)state;
    sfp_pool_config cfg = {.conninfo = SFP_TEST_DEAD_PG_URL,
                           .min = 2,
                           .max = 16,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 30000,
                           .acquire_timeout_ms = 500,
                           .reconnect_min_ms = 50,
                           .reconnect_max_ms = 800,
                           .clock = fake_clock,
                           .rnd = fake_rand};
    sfp_err err = {0};
    sfp_pool *p = sfp_pool_create(&cfg, &err);
    assert_non_null(p);
    /* the first failure (a request's or the maintenance thread's) marks the pool down */
    for (int waited = 0; waited < 5000 && !stats(p).down; waited += 10) {
        sfp_conn *c = sfp_pool_acquire(p, -1, &err);
        assert_null(c);
        sleep_ms(10);
    }
    sfp_pool_stats s = stats(p);
    assert_true(s.down);
    int64_t attempts = s.connect_attempts;
    assert_true(attempts >= 1 && attempts <= 2); /* at most the request's and the maintainer's */
    /* 200 requests during the outage: all UNAVAILABLE at once, none connects */
    for (int i = 0; i < 200; i++) {
        memset(&err, 0, sizeof err);
        assert_null(sfp_pool_acquire(p, -1, &err));
        assert_int_equal(err.code, SFP_UNAVAILABLE);
    }
    s = stats(p);
    assert_int_equal(s.connect_attempts, attempts);
    assert_true(s.failed_fast >= 200);
    assert_false(sfp_pool_ready(p, 0));
    /* time passes (fake): exactly one probe per due attempt, made by the maintenance thread */
    for (int k = 1; k <= 3; k++) {
        __atomic_add_fetch(&g_fake_now_ms, 10000, __ATOMIC_SEQ_CST);
        sfp_pool_kick(p);
        for (int waited = 0; waited < 5000 && stats(p).connect_attempts < attempts + k; waited += 10) sleep_ms(10);
        assert_int_equal(stats(p).connect_attempts, attempts + k);
    }
    s = stats(p);
    assert_true(s.down);
    assert_int_equal(s.connect_failures, s.connect_attempts);
    assert_int_equal(s.size, 0);
    sfp_pool_destroy(p);
}

/* The dedicated connection: the pool's settings and application_name "<pool's>-<role>"; in
 * an outage it fails at once without a connect of its own (frozen fake clock: no probe is
 * ever due, so the attempt count is exact). */
static void test_dedicated_connection(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 0, 2, 1000);
    sfp_err err = {0};
    PGconn *pg = sfp_pool_connect_dedicated(p, "lock", INT64_MAX, &err);
    assert_non_null(pg);
    PGresult *r = PQexec(pg, "SELECT current_setting('application_name'), current_setting('statement_timeout')");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "sfp-test-pool-lock");
    assert_string_equal(PQgetvalue(r, 0, 1), "30s");
    PQclear(r);
    PQfinish(pg);
    assert_int_equal(stats(p).size, 0); /* outside the pool */
    sfp_pool_destroy(p);

    sfp_pool_config cfg = {.conninfo = SFP_TEST_DEAD_PG_URL,
                           .min = 0,
                           .max = 4,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 30000,
                           .acquire_timeout_ms = 500,
                           .application_name = "sfp-test-pool",
                           .reconnect_min_ms = 50,
                           .reconnect_max_ms = 800,
                           .clock = fake_clock,
                           .rnd = fake_rand};
    p = sfp_pool_create(&cfg, &err);
    assert_non_null(p);
    assert_null(sfp_pool_connect_dedicated(p, "listen", INT64_MAX, &err));
    assert_int_equal(err.code, SFP_UNAVAILABLE);
    sfp_pool_stats s = stats(p);
    assert_true(s.down); /* its failure is the pool's outage */
    assert_int_equal(s.connect_attempts, 1);
    for (int i = 0; i < 20; i++) {
        memset(&err, 0, sizeof err);
        assert_null(sfp_pool_connect_dedicated(p, "listen", INT64_MAX, &err));
        assert_int_equal(err.code, SFP_UNAVAILABLE);
    }
    assert_int_equal(stats(p).connect_attempts, 1);
    sfp_pool_destroy(p);
}

static void test_bad_config_refused(void **state)
{
    (void)state;
    sfp_pool_config cfg = {.conninfo = g_url, .min = 5, .max = 2};
    sfp_err err = {0};
    assert_null(sfp_pool_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "DB_POOL"));
}

typedef struct {
    sfp_pool *p;
    int ok;
} hammer_arg;

static void *hammer(void *arg)
{
    hammer_arg *h = arg;
    for (int i = 0; i < 50; i++) {
        sfp_err err = {0};
        sfp_conn *c = sfp_pool_acquire(h->p, 5000, &err);
        if (!c) continue;
        if (sfp_db_exec(c, "SELECT 1", 0, NULL, &err) == 0) h->ok++;
        sfp_pool_release(h->p, c);
    }
    return NULL;
}

static void test_concurrent_stats_add_up(void **state)
{
    (void)state;
    sfp_pool *p = make_pool(g_url, 1, 3, 5000);
    pthread_t th[8];
    hammer_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (hammer_arg){p, 0};
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    assert_int_equal(ok, 400);
    sfp_pool_stats s = stats(p);
    assert_int_equal(s.acquires, 400);
    assert_true(s.size <= 3);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.waiting, 0);
    assert_int_equal(s.size, s.idle);
    assert_true(s.waited_acquires > 0);
    assert_int_equal(s.timeouts, 0);
    sfp_pool_destroy(p);
}

int main(void)
{
    g_url = sfp_test_create_db("it_db_pool");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_opened_in_background),    cmocka_unit_test(test_max_respected_and_timeout),
        cmocka_unit_test(test_waiting_acquire_counts),      cmocka_unit_test(test_spare_never_waits),
        cmocka_unit_test(test_terminated_backend_replaced), cmocka_unit_test(test_broken_in_use_connection_discarded),
        cmocka_unit_test(test_rollback_on_release),         cmocka_unit_test(test_statement_timeout_applied),
        cmocka_unit_test(test_unreachable_database),        cmocka_unit_test(test_outage_backs_off_and_fails_fast),
        cmocka_unit_test(test_dedicated_connection),        cmocka_unit_test(test_bad_config_refused),
        cmocka_unit_test(test_concurrent_stats_add_up),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_url);
    return rc;
}
