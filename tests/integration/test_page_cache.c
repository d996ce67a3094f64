/* common/page_cache against a real Postgres: counterparts of the reference's
 * tests/test_page_cache.py — miss computes once, hit has cached flag + timestamp,
 * 5 reads → 1 compute, independent keys, ttl 0 always computes, the row's own ttl_minutes,
 * invalidate an exact key / a pattern (only matching keys, real counts), missing keys, payload
 * round trips (empty, binary, large nested protobuf) — plus stampede protection: 20 concurrent
 * cold readers → 1 compute, a failed leader hands over to exactly one waiter, waiters honour
 * their own deadline, two processes' caches (two pools) coalesce through the advisory lock, a
 * lock held elsewhere is bounded by the deadline, and a broken cache table still serves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grpc/status.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db_listen.h"
#include "page_cache.h"
#include "pool_stats_pb.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "testsupport.h"

static char *g_url;

static sfp_pool *new_pool(int max)
{
    sfp_pool_config cfg = {.conninfo = g_url,
                           .min = 1,
                           .max = max,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 20000,
                           .acquire_timeout_ms = 10000,
                           .idle_check_s = 30,
                           .application_name = "it-page-cache"};
    sfp_err err = {0};
    sfp_pool *p = sfp_pool_create(&cfg, &err);
    assert_non_null(p);
    return p;
}

typedef struct job {
    atomic_int calls;
    atomic_int fail_left; /* this many calls fail (after sleeping) */
    int sleep_ms;         /* a slow computation (the outcome of the tests using it does not depend on it) */
    atomic_bool gate;     /* while true, compute waits (up to 30 s) before finishing: the test decides */
    const uint8_t *data;
    size_t len;
    int ttl_override; /* 0 = keep */
    int generation;   /* appended to data as a byte when data == NULL */
    const char *sql;  /* run in the cache's transaction before returning (e.g. a write of its own) */
} job;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int compute(sfp_conn *c, void *user, uint8_t **payload, size_t *len, int *ttl, sfp_err *err)
{
    job *j = user;
    int n = atomic_fetch_add(&j->calls, 1) + 1;
    /* the connection is usable inside the cache's transaction */
    sfp_err e = {0};
    if (sfp_db_exec(c, "SELECT 1", 0, NULL, &e) != 0) /* no cmocka asserts off the main thread */
        return sfp_err_set(err, SFP_UNAVAILABLE, "connection unusable in compute");
    if (j->sql && sfp_db_exec(c, j->sql, 0, NULL, &e) != 0)
        return sfp_err_set(err, SFP_INTERNAL, "compute's own statement failed");
    if (j->sleep_ms) sleep_ms(j->sleep_ms);
    for (int i = 0; i < 30000 && atomic_load(&j->gate); i++) sleep_ms(1);
    if (atomic_load(&j->fail_left) > 0 && atomic_fetch_sub(&j->fail_left, 1) > 0)
        return sfp_err_set(err, SFP_INTERNAL, "compute failed (test)");
    if (j->data) {
        *len = j->len;
        *payload = j->len ? malloc(j->len) : NULL;
        if (j->len) memcpy(*payload, j->data, j->len);
    } else {
        char buf[32];
        *len = (size_t)snprintf(buf, sizeof buf, "generation %d", n);
        *payload = malloc(*len);
        memcpy(*payload, buf, *len);
    }
    if (j->ttl_override) *ttl = j->ttl_override;
    return 0;
}

static int64_t in_ms(int ms)
{
    return sfp_mono_ms() + ms;
}

static void get_ok(sfp_page_cache *pc, const char *key, int ttl, job *j, sfp_page_result *r)
{
    sfp_err err = {0};
    int rc = sfp_page_cache_get(pc, key, ttl, in_ms(10000), compute, j, r, &err);
    if (rc != 0) fail_msg("get %s: %d %s", key, err.code, err.msg);
}

static bool payload_is(const sfp_page_result *r, const char *s)
{
    return r->len == strlen(s) && memcmp(r->payload, s, r->len) == 0;
}

static void assert_rfc3339(const char *s)
{
    regex_t re;
    assert_int_equal(
        regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED | REG_NOSUB),
        0);
    int m = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    if (m) fail_msg("not RFC 3339: '%s'", s);
}

typedef struct fixture {
    sfp_pool *pool;
    sfp_page_cache *pc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->pool = new_pool(24);
    f->pc = sfp_page_cache_new(f->pool);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sfp_page_cache_free(f->pc);
    sfp_pool_destroy(f->pool);
    free(f);
    return 0;
}

static long rows(const char *where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM page_cache WHERE %s", where);
    return sfp_test_sql_long(g_url, sql);
}

/* ---------------------------------------------------------------- the replaced system's cases */

static void test_miss_computes_once_then_hit(void **state)
{
    fixture *f = *state;
    job j = {0};
    sfp_page_result r;
    get_ok(f->pc, "test:a", 30, &j, &r);
    assert_int_equal(atomic_load(&j.calls), 1);
    assert_false(r.cached);
    assert_true(r.stored);
    assert_string_equal(r.cached_at, "");
    assert_rfc3339(r.computed_at);
    assert_int_equal(r.ttl_seconds_remaining, 1800);
    assert_true(payload_is(&r, "generation 1"));
    char first[40];
    snprintf(first, sizeof first, "%s", r.computed_at);
    sfp_page_result_clear(&r);
    assert_int_equal(rows("cache_key = 'test:a' AND ttl_minutes = 30 AND compute_ms IS NOT NULL"), 1);

    get_ok(f->pc, "test:a", 30, &j, &r);
    assert_int_equal(atomic_load(&j.calls), 1); /* hit */
    assert_true(r.cached);
    assert_false(r.coalesced);
    assert_string_equal(r.cached_at, first); /* the timestamp of the computation */
    assert_string_equal(r.computed_at, first);
    assert_true(r.ttl_seconds_remaining > 1780 && r.ttl_seconds_remaining <= 1800);
    assert_true(payload_is(&r, "generation 1"));
    assert_int_equal(r.queries, 1); /* a hit is one statement */
    sfp_page_result_clear(&r);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(f->pc, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.computes, 1);
}

static void test_five_reads_one_compute(void **state)
{
    fixture *f = *state;
    job j = {0};
    for (int i = 0; i < 5; i++) {
        sfp_page_result r;
        get_ok(f->pc, "test:five", 30, &j, &r);
        assert_true(payload_is(&r, "generation 1"));
        assert_true(r.cached == (i > 0));
        sfp_page_result_clear(&r);
    }
    assert_int_equal(atomic_load(&j.calls), 1);
}

static void test_independent_keys(void **state)
{
    fixture *f = *state;
    job ja = {0}, jb = {0};
    sfp_page_result r;
    get_ok(f->pc, "test:k1", 30, &ja, &r);
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:k2", 30, &jb, &r);
    assert_false(r.cached);
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:k1", 30, &ja, &r);
    assert_true(r.cached);
    sfp_page_result_clear(&r);
    assert_int_equal(atomic_load(&ja.calls), 1);
    assert_int_equal(atomic_load(&jb.calls), 1);
}

static void test_ttl_zero_always_computes(void **state)
{
    fixture *f = *state;
    job j = {0};
    for (int i = 0; i < 3; i++) {
        sfp_page_result r;
        get_ok(f->pc, "test:ttl0", 0, &j, &r);
        assert_false(r.cached);
        assert_false(r.stored);
        assert_int_equal(r.ttl_seconds_remaining, 0);
        sfp_page_result_clear(&r);
    }
    assert_int_equal(atomic_load(&j.calls), 3);
    assert_int_equal(rows("cache_key = 'test:ttl0'"), 0); /* nothing written */
    /* ttl 300 → computed once */
    job k = {0};
    for (int i = 0; i < 3; i++) {
        sfp_page_result r;
        get_ok(f->pc, "test:ttl300", 300, &k, &r);
        sfp_page_result_clear(&r);
    }
    assert_int_equal(atomic_load(&k.calls), 1);
}

/* The row's own ttl_minutes decides (the reference never read or wrote the column). */
static void test_row_ttl_is_used(void **state)
{
    fixture *f = *state;
    job j = {0};
    sfp_page_result r;
    get_ok(f->pc, "test:ttl", 300, &j, &r); /* stored with ttl 300 */
    sfp_page_result_clear(&r);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE page_cache SET computed_at = now() - interval '60 minutes' "
                                         "WHERE cache_key = 'test:ttl'"),
                     0);
    get_ok(f->pc, "test:ttl", 30, &j, &r); /* the caller's 30 does not matter: row says 300 */
    assert_true(r.cached);
    assert_true(r.ttl_seconds_remaining > 239 * 60 && r.ttl_seconds_remaining <= 240 * 60);
    sfp_page_result_clear(&r);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE page_cache SET ttl_minutes = 59 WHERE cache_key = 'test:ttl'"), 0);
    get_ok(f->pc, "test:ttl", 300, &j, &r); /* 60 min old, ttl 59 → expired */
    assert_false(r.cached);
    assert_true(payload_is(&r, "generation 2"));
    sfp_page_result_clear(&r);
    assert_int_equal(atomic_load(&j.calls), 2);
    /* a compute may shorten its own TTL (degraded pages) */
    job d = {.ttl_override = 1};
    get_ok(f->pc, "test:short", 30, &d, &r);
    assert_int_equal(r.ttl_seconds_remaining, 60);
    sfp_page_result_clear(&r);
    assert_int_equal(rows("cache_key = 'test:short' AND ttl_minutes = 1"), 1);
}

static long long invalidate(const char *pattern)
{
    sfp_pool *p = new_pool(1);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(p, 5000, &err);
    assert_non_null(c);
    long long n = sfp_page_cache_invalidate(c, pattern, &err);
    sfp_pool_release(p, c);
    sfp_pool_destroy(p);
    return n;
}

static void test_invalidate_exact_key(void **state)
{
    fixture *f = *state;
    job j = {0};
    sfp_page_result r;
    get_ok(f->pc, "test:inv", 30, &j, &r);
    sfp_page_result_clear(&r);
    assert_int_equal(invalidate("test:inv"), 1);
    assert_int_equal(invalidate("test:inv"), 0); /* already invalidated: not counted twice */
    get_ok(f->pc, "test:inv", 30, &j, &r);
    assert_false(r.cached);
    assert_true(payload_is(&r, "generation 2"));
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:inv", 30, &j, &r); /* the recompute cleared invalidated_at */
    assert_true(r.cached);
    sfp_page_result_clear(&r);
    assert_int_equal(atomic_load(&j.calls), 2);
}

static void test_invalidate_pattern_only_matching(void **state)
{
    fixture *f = *state;
    job u1 = {0}, u2 = {0}, u12 = {0};
    sfp_page_result r;
    const char *keys[] = {"brief:1:1", "brief:1:7", "brief:2:1", "brief:12:1"};
    job *jobs[] = {&u1, &u1, &u2, &u12};
    for (int i = 0; i < 4; i++) {
        get_ok(f->pc, keys[i], 30, jobs[i], &r);
        sfp_page_result_clear(&r);
    }
    assert_int_equal(invalidate("brief:1:%"), 2); /* not brief:12:1 */
    for (int i = 0; i < 4; i++) {
        get_ok(f->pc, keys[i], 30, jobs[i], &r);
        assert_true(r.cached == (i >= 2));
        sfp_page_result_clear(&r);
    }
    assert_int_equal(atomic_load(&u1.calls), 4);
    assert_int_equal(atomic_load(&u2.calls), 1);
    assert_int_equal(atomic_load(&u12.calls), 1);
    assert_int_equal(invalidate("brief:%"), 4);
    assert_int_equal(invalidate("nothing:here"), 0); /* missing keys are fine */
    assert_int_equal(invalidate("%"), 0);
}

static void test_payload_round_trips(void **state)
{
    fixture *f = *state;
    /* empty */
    job e = {.data = (const uint8_t *)"", .len = 0};
    sfp_page_result r;
    get_ok(f->pc, "test:empty", 30, &e, &r);
    assert_int_equal(r.len, 0);
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:empty", 30, &e, &r);
    assert_true(r.cached);
    assert_int_equal(r.len, 0);
    sfp_page_result_clear(&r);
    /* binary with NULs and high bytes */
    uint8_t bin[256];
    for (int i = 0; i < 256; i++) bin[i] = (uint8_t)i;
    job b = {.data = bin, .len = sizeof bin};
    get_ok(f->pc, "test:bin", 30, &b, &r);
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:bin", 30, &b, &r);
    assert_true(r.cached);
    assert_int_equal(r.len, 256);
    assert_memory_equal(r.payload, bin, 256);
    sfp_page_result_clear(&r);
    /* a large nested protobuf: 100 changes + pipeline stats, unpacked and compared */
    Sfpermits__V1__Brief m = SFPERMITS__V1__BRIEF__INIT;
    Sfpermits__V1__BriefChange ch[100], *chp[100];
    char pn[100][16];
    for (int i = 0; i < 100; i++) {
        sfpermits__v1__brief_change__init(&ch[i]);
        snprintf(pn[i], sizeof pn[i], "2024%08d", i);
        ch[i].permit_number = pn[i];
        ch[i].new_status = "issued";
        ch[i].label = "caf\xc3\xa9 \"quoted\"";
        chp[i] = &ch[i];
    }
    m.changes = chp;
    m.n_changes = 100;
    Sfpermits__V1__PipelineStats ps = SFPERMITS__V1__PIPELINE_STATS__INIT;
    ps.optional_avg_duration_seconds_case =
        SFPERMITS__V1__PIPELINE_STATS__OPTIONAL_AVG_DURATION_SECONDS_AVG_DURATION_SECONDS;
    ps.avg_duration_seconds = 296.25;
    m.pipeline_stats = &ps;
    m.lookback_days = 7;
    size_t n = protobuf_c_message_get_packed_size(&m.base);
    uint8_t *buf = malloc(n);
    protobuf_c_message_pack(&m.base, buf);
    job p = {.data = buf, .len = n};
    get_ok(f->pc, "test:pb", 30, &p, &r);
    sfp_page_result_clear(&r);
    get_ok(f->pc, "test:pb", 30, &p, &r);
    assert_true(r.cached);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.payload, buf, n);
    Sfpermits__V1__Brief *u = sfpermits__v1__brief__unpack(NULL, r.len, r.payload);
    assert_non_null(u);
    assert_int_equal(u->n_changes, 100);
    assert_string_equal(u->changes[99]->permit_number, "202400000099");
    assert_string_equal(u->changes[5]->label, "caf\xc3\xa9 \"quoted\"");
    assert_true(u->pipeline_stats->avg_duration_seconds == 296.25);
    sfpermits__v1__brief__free_unpacked(u, NULL);
    sfp_page_result_clear(&r);
    free(buf);
}

static void test_compute_error_not_cached(void **state)
{
    fixture *f = *state;
    job j = {.fail_left = 1};
    sfp_page_result r;
    sfp_err err = {0};
    assert_int_equal(sfp_page_cache_get(f->pc, "test:err", 30, in_ms(5000), compute, &j, &r, &err), -1);
    assert_int_equal(err.code, SFP_INTERNAL);
    assert_int_equal(rows("cache_key = 'test:err'"), 0);
    get_ok(f->pc, "test:err", 30, &j, &r);
    assert_false(r.cached);
    assert_true(payload_is(&r, "generation 2"));
    sfp_page_result_clear(&r);
}

/* ---------------------------------------------------------------- stampedes */

typedef struct worker {
    sfp_page_cache *pc;
    const char *key;
    job *j;
    int deadline_ms;
    int rc;
    sfp_err err;
    sfp_page_result r;
    int64_t took_ms;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    int64_t t0 = sfp_mono_ms();
    w->rc = sfp_page_cache_get(w->pc, w->key, 30, in_ms(w->deadline_ms), compute, w->j, &w->r, &w->err);
    w->took_ms = sfp_mono_ms() - t0;
    return NULL;
}

static void test_twenty_concurrent_cold_requests_one_compute(void **state)
{
    fixture *f = *state;
    job j = {.sleep_ms = 300};
    worker w[20];
    pthread_t th[20];
    for (int i = 0; i < 20; i++) {
        w[i] = (worker){.pc = f->pc, .key = "brief:7:1", .j = &j, .deadline_ms = 10000};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    int computed = 0;
    for (int i = 0; i < 20; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, 0);
        assert_true(payload_is(&w[i].r, "generation 1"));
        if (!w[i].r.cached) computed++;
        sfp_page_result_clear(&w[i].r);
    }
    assert_int_equal(atomic_load(&j.calls), 1);
    assert_int_equal(computed, 1);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(f->pc, &st);
    assert_int_equal(st.computes, 1);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.hits + st.coalesced, 19);
}

/* The leader fails: the error is not shared and exactly one waiter computes instead. */
static void test_failed_leader_hands_over_to_one_waiter(void **state)
{
    fixture *f = *state;
    job j = {.fail_left = 1};
    atomic_init(&j.gate, true);
    worker w[6];
    pthread_t th[6];
    w[0] = (worker){.pc = f->pc, .key = "test:handover", .j = &j, .deadline_ms = 10000};
    pthread_create(&th[0], NULL, run_worker, &w[0]);
    for (int i = 0; i < 10000 && atomic_load(&j.calls) < 1; i++) sleep_ms(1); /* w[0] leads */
    assert_int_equal(atomic_load(&j.calls), 1);
    for (int i = 1; i < 6; i++) {
        w[i] = (worker){.pc = f->pc, .key = "test:handover", .j = &j, .deadline_ms = 10000};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    atomic_store(&j.gate, false); /* the leader fails now; late arrivals lead or hit: same counts */
    int ok = 0, computed = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc == 0) {
            ok++;
            assert_true(payload_is(&w[i].r, "generation 2"));
            if (!w[i].r.cached) computed++;
        }
        sfp_page_result_clear(&w[i].r);
    }
    assert_int_equal(w[0].rc, -1);
    assert_int_equal(w[0].err.code, SFP_INTERNAL);
    assert_int_equal(ok, 5);
    assert_int_equal(computed, 1);
    assert_int_equal(atomic_load(&j.calls), 2);
}

static void test_waiter_gives_up_at_its_own_deadline(void **state)
{
    fixture *f = *state;
    job j = {0};
    atomic_init(&j.gate, true); /* the leader computes until the waiter has given up */
    worker lead = {.pc = f->pc, .key = "test:slow", .j = &j, .deadline_ms = 60000};
    worker wait = {.pc = f->pc, .key = "test:slow", .j = &j, .deadline_ms = 150};
    pthread_t a, b;
    pthread_create(&a, NULL, run_worker, &lead);
    for (int i = 0; i < 10000 && atomic_load(&j.calls) < 1; i++) sleep_ms(1); /* lead is computing */
    assert_int_equal(atomic_load(&j.calls), 1);
    pthread_create(&b, NULL, run_worker, &wait);
    pthread_join(b, NULL);
    assert_int_equal(wait.rc, -1);
    assert_int_equal(wait.err.code, SFP_DEADLINE_EXCEEDED);
    assert_true(wait.took_ms < 10000); /* its own deadline, not the leader's 60 s */
    atomic_store(&j.gate, false);
    pthread_join(a, NULL);
    assert_int_equal(lead.rc, 0); /* the leader is not affected */
    assert_false(lead.r.cached);
    sfp_page_result_clear(&lead.r);
    assert_int_equal(atomic_load(&j.calls), 1);
}

/* Two processes = two caches with their own pools: the advisory lock makes the second wait
 * for the first and read its row. */
static void test_cross_process_coalescing(void **state)
{
    fixture *f = *state;
    sfp_pool *pool2 = new_pool(8);
    sfp_page_cache *pc2 = sfp_page_cache_new(pool2);
    /* both "processes" have open connections, so their leaders really overlap */
    sfp_err err = {0};
    sfp_conn *c1 = sfp_pool_acquire(f->pool, 5000, &err), *c2 = sfp_pool_acquire(pool2, 5000, &err);
    assert_non_null(c1);
    assert_non_null(c2);
    sfp_pool_release(f->pool, c1);
    sfp_pool_release(pool2, c2);
    job j = {.sleep_ms = 700};
    worker w[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker){.pc = i % 2 ? pc2 : f->pc, .key = "brief:9:7", .j = &j, .deadline_ms = 10000};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    int computed = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, 0);
        assert_true(payload_is(&w[i].r, "generation 1"));
        if (!w[i].r.cached) computed++;
        sfp_page_result_clear(&w[i].r);
    }
    assert_int_equal(computed, 1);
    assert_int_equal(atomic_load(&j.calls), 1);
    sfp_page_cache_stats s1, s2;
    sfp_page_cache_get_stats(f->pc, &s1);
    sfp_page_cache_get_stats(pc2, &s2);
    assert_int_equal(s1.computes + s2.computes, 1);
    sfp_page_cache_free(pc2);
    sfp_pool_destroy(pool2);
}

/* Another replica holds the key's lock (stuck or slow): the wait is bounded by our deadline. */
static void test_lock_wait_bounded_by_deadline(void **state)
{
    fixture *f = *state;
    PGconn *other = PQconnectdb(g_url);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, hashtext('test:locked'))", SFP_PAGE_CACHE_LOCK_NS);
    PGresult *res = PQexec(other, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    job j = {0};
    worker w = {.pc = f->pc, .key = "test:locked", .j = &j, .deadline_ms = 400};
    run_worker(&w);
    assert_int_equal(w.rc, -1);
    assert_int_equal(w.err.code, SFP_DEADLINE_EXCEEDED);
    assert_true(w.took_ms >= 300 && w.took_ms < 1500);
    assert_int_equal(atomic_load(&j.calls), 0);
    PQfinish(other); /* releases the lock */
    w = (worker){.pc = f->pc, .key = "test:locked", .j = &j, .deadline_ms = 5000};
    run_worker(&w);
    assert_int_equal(w.rc, 0);
    sfp_page_result_clear(&w.r);
    assert_int_equal(atomic_load(&j.calls), 1);
}

/* A broken cache never fails the request: the page is computed and served uncached. */
static void test_cache_table_error_still_served(void **state)
{
    fixture *f = *state;
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE page_cache RENAME TO page_cache_gone"), 0);
    job j = {0};
    sfp_page_result r;
    for (int i = 0; i < 2; i++) {
        get_ok(f->pc, "test:broken", 30, &j, &r);
        assert_false(r.cached);
        assert_false(r.stored);
        assert_true(payload_is(&r, i ? "generation 2" : "generation 1"));
        sfp_page_result_clear(&r);
    }
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(f->pc, &st);
    assert_true(st.errors >= 2);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE page_cache_gone RENAME TO page_cache"), 0);
    /* write-only failure: the read works, the upsert does not (column made read-only by a check) */
    assert_int_equal(
        sfp_test_sql(g_url, "ALTER TABLE page_cache ADD CONSTRAINT no_writes CHECK (cache_key <> 'test:nowrite')"), 0);
    get_ok(f->pc, "test:nowrite", 30, &j, &r);
    assert_false(r.cached);
    assert_false(r.stored);
    assert_true(payload_is(&r, "generation 3"));
    sfp_page_result_clear(&r);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE page_cache DROP CONSTRAINT no_writes"), 0);
}

static void test_purge_and_row_stats(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        sfp_test_sql(g_url,
                     "INSERT INTO page_cache (cache_key, payload, computed_at, ttl_minutes, invalidated_at) VALUES"
                     " ('p:live', '\\x01', now() - interval '10 minutes', 30, NULL),"
                     " ('p:expired', '\\x01', now() - interval '2 hours', 30, NULL),"
                     " ('p:old_expired', '\\x01', now() - interval '3 days', 30, NULL),"
                     " ('p:invalidated', '\\x01', now(), 30, now())"),
        0);
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(f->pool, 5000, &err);
    assert_non_null(c);
    sfp_page_cache_rows rs;
    assert_int_equal(sfp_page_cache_row_stats(c, &rs, &err), 0);
    assert_int_equal(rs.live, 1);
    assert_int_equal(rs.expired, 3);
    assert_true(rs.has_oldest && rs.oldest_live_age_minutes > 9.9 && rs.oldest_live_age_minutes < 11);
    assert_int_equal(sfp_page_cache_purge_expired(c, 24 * 60, &err), 1); /* only the 3-day-old one */
    assert_int_equal(sfp_page_cache_purge_expired(c, 0, &err), 2);
    assert_int_equal(sfp_page_cache_purge_expired(c, 0, &err), 0);
    sfp_pool_release(f->pool, c);
    assert_int_equal(rows("true"), 1);
    sfp_arena *a = sfp_arena_new();
    Sfpermits__V1__PageCacheStats *pb = sfp_page_cache_stats_pb(f->pc, a, 2000);
    assert_int_equal(pb->live_rows, 1);
    assert_int_equal(pb->expired_rows, 0);
    sfp_arena_free(a);
}

/* ---------------------------------------------------------------- pipelined error paths
 * The leader sends BEGIN, the timeouts, SAVEPOINT, the lock and the re-read in one round trip,
 * and SAVEPOINT, the upsert and COMMIT in another: a failure inside either skips the rest of it
 * and must end exactly where the one-statement-at-a-time protocol did. */

static void pool_not_broken(sfp_pool *pool)
{
    sfp_pool_stats ps;
    sfp_pool_get_stats(pool, &ps);
    assert_int_equal(ps.broken, 0);
}

/* The advisory lock fails with an error that is no timeout (a hashtext() that raises, found
 * first on the search path): the re-read queued after it is skipped, the transaction is rolled
 * back to before the lock, and the page is computed in it and served without the cache. */
static void test_lock_error_computes_uncached(void **state)
{
    (void)state;
    assert_int_equal(sfp_test_sql(g_url,
                                  "DROP SCHEMA IF EXISTS pc_shadow CASCADE; CREATE SCHEMA pc_shadow;"
                                  "CREATE FUNCTION pc_shadow.hashtext(text) RETURNS int LANGUAGE plpgsql AS "
                                  "$$BEGIN RAISE EXCEPTION 'no lock today'; END$$;"
                                  "DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = pc_shadow, public, "
                                  "pg_catalog', current_database()); END$$"),
                     0);
    sfp_pool *pool = new_pool(1); /* its connection opens now, with that search path */
    sfp_page_cache *pc = sfp_page_cache_new(pool);
    job j = {0};
    sfp_page_result r;
    for (int i = 0; i < 2; i++) { /* twice on the one connection: it stays usable */
        get_ok(pc, "test:nolock", 30, &j, &r);
        assert_false(r.cached);
        assert_false(r.stored);
        assert_int_equal(r.ttl_seconds_remaining, 0);
        assert_true(payload_is(&r, i ? "generation 2" : "generation 1"));
        sfp_page_result_clear(&r);
    }
    assert_int_equal(rows("cache_key = 'test:nolock'"), 0);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(pc, &st);
    assert_int_equal(st.errors, 2);
    assert_int_equal(st.computes, 2);
    pool_not_broken(pool);
    sfp_page_cache_free(pc);
    sfp_pool_destroy(pool);
    assert_int_equal(sfp_test_sql(g_url, "DO $$BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', "
                                         "current_database()); END$$; DROP SCHEMA pc_shadow CASCADE"),
                     0);
}

/* Another replica's leader holds the key's lock while ours waits for it, and renames page_cache
 * away before it commits: our re-read, queued behind the lock, fails. Ours rolls back to before
 * the lock, computes and serves the page without the cache. */
static void test_reread_error_computes_uncached(void **state)
{
    fixture *f = *state;
    PGconn *other = PQconnectdb(g_url);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%d, hashtext('test:reread'))",
             SFP_PAGE_CACHE_LOCK_NS);
    PGresult *res = PQexec(other, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    job j = {0};
    worker w = {.pc = f->pc, .key = "test:reread", .j = &j, .deadline_ms = 30000};
    pthread_t th;
    pthread_create(&th, NULL, run_worker, &w);
    long waiting = 0;
    for (int i = 0; i < 2000 && waiting == 0; i++) {
        waiting = sfp_test_sql_long(g_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        if (!waiting) sleep_ms(5);
    }
    assert_int_equal(waiting, 1); /* ours waits for the lock */
    res = PQexec(other, "ALTER TABLE page_cache RENAME TO page_cache_away; COMMIT");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(other);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_false(w.r.cached);
    assert_false(w.r.stored);
    assert_true(payload_is(&w.r, "generation 1"));
    sfp_page_result_clear(&w.r);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(f->pc, &st);
    assert_int_equal(st.errors, 1);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE page_cache_away RENAME TO page_cache"), 0);
    sfp_page_result r;
    get_ok(f->pc, "test:reread", 30, &j, &r); /* the table is back: stored again */
    assert_true(r.stored);
    sfp_page_result_clear(&r);
    pool_not_broken(f->pool);
}

/* The upsert fails in the round trip that also carries the COMMIT (skipped by the failure): the
 * write alone is undone and what the compute itself did in the transaction is committed. */
static void test_failed_write_keeps_the_computes_work(void **state)
{
    fixture *f = *state;
    assert_int_equal(sfp_test_sql(g_url, "DROP TABLE IF EXISTS pc_scratch; CREATE TABLE pc_scratch (n int);"
                                         "ALTER TABLE page_cache ADD CONSTRAINT no_writes "
                                         "CHECK (cache_key <> 'test:nowrite')"),
                     0);
    job j = {.sql = "INSERT INTO pc_scratch VALUES (1)"};
    sfp_page_result r;
    get_ok(f->pc, "test:nowrite", 30, &j, &r);
    assert_false(r.cached);
    assert_false(r.stored);
    assert_true(payload_is(&r, "generation 1"));
    sfp_page_result_clear(&r);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM pc_scratch"), 1);
    assert_int_equal(rows("cache_key = 'test:nowrite'"), 0);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(f->pc, &st);
    assert_int_equal(st.errors, 1);
    /* and a write that succeeds commits both */
    get_ok(f->pc, "test:write", 30, &j, &r);
    assert_true(r.stored);
    sfp_page_result_clear(&r);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM pc_scratch"), 2);
    assert_int_equal(rows("cache_key = 'test:write'"), 1);
    pool_not_broken(f->pool);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE page_cache DROP CONSTRAINT no_writes; DROP TABLE pc_scratch"), 0);
}

/* ---------------------------------------------------------------- the in-process tier */

static double g_mem_now = 1000.0;
static double mem_clock(void *arg)
{
    (void)arg;
    return g_mem_now;
}

static sfp_page_cache *mem_cache(sfp_pool *pool)
{
    sfp_page_cache *pc = sfp_page_cache_new(pool);
    g_mem_now = 1000.0;
    sfp_page_cache_set_memory(pc, 8, mem_clock, NULL);
    return pc;
}

/* A page read or computed is served from memory with no query, until the row's own expiry. */
static void test_memory_tier_serves_without_query(void **state)
{
    fixture *f = *state;
    sfp_page_cache *pc = mem_cache(f->pool);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_UP, "");
    job j = {.ttl_override = 2};
    sfp_page_result r;
    get_ok(pc, "test:mem", 30, &j, &r); /* computes and stores (ttl 2 min) */
    assert_true(r.stored);
    assert_false(r.memory);
    char first[40];
    snprintf(first, sizeof first, "%s", r.computed_at);
    sfp_page_result_clear(&r);
    get_ok(pc, "test:mem", 30, &j, &r);
    assert_true(r.memory);
    assert_true(r.cached);
    assert_int_equal(r.queries, 0);
    assert_true(payload_is(&r, "generation 1"));
    assert_string_equal(r.computed_at, first);
    assert_string_equal(r.cached_at, first);
    assert_true(r.ttl_seconds_remaining > 0 && r.ttl_seconds_remaining <= 120);
    sfp_page_result s;
    sfp_err err = {0};
    assert_int_equal(sfp_page_cache_get_shared(pc, "test:mem", 30, in_ms(10000), compute, &j, &s, &err), 0);
    assert_false(s.memory); /* the shared variant always reads the row */
    assert_int_equal(s.queries, 1);
    assert_true(payload_is(&s, "generation 1"));
    sfp_page_result_clear(&s);
    /* the payload outlives the entry: take it, drop every entry, then read it */
    void *owner = NULL;
    sfp_page_release_fn rel = sfp_page_result_take(&r, &owner);
    const uint8_t *p = r.payload;
    assert_non_null(rel);
    assert_null(r.payload);
    (void)p;
    sfp_page_cache_listen_event(pc, SFP_LISTEN_NOTIFY, "");
    sfp_page_result_clear(&r); /* no longer owns it: frees nothing */
    rel(owner);
    get_ok(pc, "test:mem", 30, &j, &r); /* cleared: read from the row again, kept again */
    assert_false(r.memory);
    assert_int_equal(r.queries, 1);
    sfp_page_result_clear(&r);
    get_ok(pc, "test:mem", 30, &j, &r);
    assert_true(r.memory);
    sfp_page_result_clear(&r);
    g_mem_now += 121; /* past the row's expiry as read: memory no longer serves it */
    get_ok(pc, "test:mem", 30, &j, &r);
    assert_false(r.memory);
    assert_true(r.queries >= 1);
    sfp_page_result_clear(&r);
    assert_int_equal(atomic_load(&j.calls), 1); /* by Postgres's clock the row is still live */
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(pc, &st);
    assert_int_equal(st.memory_hits, 2);
    assert_int_equal(st.hits, 5);
    sfp_page_cache_free(pc);
}

/* Memory serves only between an UP and a DOWN of the LISTEN; a key's notification drops it. */
static void test_memory_tier_only_while_listening(void **state)
{
    fixture *f = *state;
    sfp_page_cache *pc = mem_cache(f->pool);
    job j = {0};
    sfp_page_result r;
    for (int i = 0; i < 2; i++) { /* no UP yet: every hit is a query */
        get_ok(pc, "test:a", 30, &j, &r);
        assert_false(r.memory);
        sfp_page_result_clear(&r);
    }
    get_ok(pc, "test:b", 30, &j, &r);
    sfp_page_result_clear(&r);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_UP, "");
    get_ok(pc, "test:a", 30, &j, &r);
    assert_false(r.memory);
    sfp_page_result_clear(&r);
    get_ok(pc, "test:b", 30, &j, &r);
    sfp_page_result_clear(&r);
    get_ok(pc, "test:a", 30, &j, &r);
    assert_true(r.memory);
    sfp_page_result_clear(&r);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_NOTIFY, "test:a");
    get_ok(pc, "test:a", 30, &j, &r);
    assert_false(r.memory); /* dropped */
    sfp_page_result_clear(&r);
    get_ok(pc, "test:b", 30, &j, &r);
    assert_true(r.memory); /* the other key stays */
    sfp_page_result_clear(&r);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_DOWN, "");
    for (int i = 0; i < 2; i++) {
        get_ok(pc, "test:b", 30, &j, &r);
        assert_false(r.memory);
        assert_int_equal(r.queries, 1);
        sfp_page_result_clear(&r);
    }
    sfp_page_cache_free(pc);
}

/* A page whose read began before a notification is not kept (it may be the invalidated one). */
static void test_memory_tier_skips_page_read_across_an_event(void **state)
{
    fixture *f = *state;
    sfp_page_cache *pc = mem_cache(f->pool);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_UP, "");
    job j = {0};
    atomic_store(&j.gate, true);
    worker w = {.pc = pc, .key = "test:race", .j = &j, .deadline_ms = 20000};
    pthread_t th;
    pthread_create(&th, NULL, run_worker, &w);
    for (int i = 0; i < 10000 && atomic_load(&j.calls) == 0; i++) sleep_ms(1); /* inside compute */
    assert_int_equal(atomic_load(&j.calls), 1);
    sfp_page_cache_listen_event(pc, SFP_LISTEN_NOTIFY, "test:other");
    atomic_store(&j.gate, false);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_true(w.r.stored);
    sfp_page_result_clear(&w.r);
    sfp_page_result r;
    get_ok(pc, "test:race", 30, &j, &r);
    assert_false(r.memory); /* not kept: read from the row */
    assert_true(r.cached);
    sfp_page_result_clear(&r);
    get_ok(pc, "test:race", 30, &j, &r);
    assert_true(r.memory); /* that read was kept */
    sfp_page_result_clear(&r);
    sfp_page_cache_free(pc);
}

typedef struct replica {
    sfp_pool *pool;
    sfp_page_cache *pc;
    sfp_db_listener *listener;
} replica;

static void on_event(void *user, sfp_listen_event ev, const char *payload)
{
    sfp_page_cache_listen_event(user, ev, payload);
}

/* A page served from memory until some replica invalidates it */
static bool get_until_generation(replica *rp, const char *key, job *j, const char *want, sfp_page_result *r)
{
    for (int i = 0; i < 2000; i++) {
        get_ok(rp->pc, key, 30, j, r);
        if (payload_is(r, want)) return true;
        sfp_page_result_clear(r);
        sleep_ms(5);
    }
    return false;
}

/* Two replicas with real LISTENs (migration 0080's trigger): an invalidation made anywhere is
 * seen by the replica holding the page in memory, which then recomputes. */
static void test_memory_tier_real_invalidation_across_replicas(void **state)
{
    fixture *f = *state;
    replica rp[2];
    for (int i = 0; i < 2; i++) {
        rp[i].pool = new_pool(4);
        rp[i].pc = sfp_page_cache_new(rp[i].pool);
        sfp_page_cache_set_memory(rp[i].pc, 8, NULL, NULL);
        rp[i].listener = sfp_db_listen_start(rp[i].pool, SFP_PAGE_CACHE_CHANNEL, "listen", on_event, rp[i].pc);
        assert_non_null(rp[i].listener);
    }
    job j = {0};
    sfp_page_result r;
    for (int i = 0; i < 2; i++) { /* each replica: first a query, then memory (once its LISTEN is up) */
        bool mem = false;
        for (int k = 0; k < 2000 && !mem; k++) {
            get_ok(rp[i].pc, "brief:1:7", 30, &j, &r);
            assert_true(payload_is(&r, "generation 1"));
            mem = r.memory;
            sfp_page_result_clear(&r);
            if (!mem) sleep_ms(5);
        }
        assert_true(mem);
    }
    /* replica 0 invalidates through the shared table; replica 1 must stop serving its copy */
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(f->pool, 5000, &err);
    assert_non_null(c);
    assert_int_equal(sfp_page_cache_invalidate(c, "brief:1:%", &err), 1);
    sfp_pool_release(f->pool, c);
    assert_true(get_until_generation(&rp[1], "brief:1:7", &j, "generation 2", &r));
    assert_false(r.memory);
    sfp_page_result_clear(&r);
    assert_true(get_until_generation(&rp[0], "brief:1:7", &j, "generation 2", &r));
    sfp_page_result_clear(&r);
    assert_int_equal(atomic_load(&j.calls), 2);
    /* a TRUNCATE drops everything everywhere */
    assert_int_equal(sfp_test_sql(g_url, "TRUNCATE page_cache"), 0);
    assert_true(get_until_generation(&rp[1], "brief:1:7", &j, "generation 3", &r));
    sfp_page_result_clear(&r);
    for (int i = 0; i < 2; i++) {
        sfp_db_listen_stop(rp[i].listener);
        sfp_page_cache_free(rp[i].pc);
        sfp_pool_destroy(rp[i].pool);
    }
}

int main(void)
{
    g_url = sfp_test_migrated_db("it_page_cache");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss_computes_once_then_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_five_reads_one_compute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_independent_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_zero_always_computes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_ttl_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_exact_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_pattern_only_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payload_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compute_error_not_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twenty_concurrent_cold_requests_one_compute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_leader_hands_over_to_one_waiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiter_gives_up_at_its_own_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_process_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_wait_bounded_by_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_table_error_still_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_error_computes_uncached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reread_error_computes_uncached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_the_computes_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_and_row_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_tier_serves_without_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_tier_only_while_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_tier_skips_page_read_across_an_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_tier_real_invalidation_across_replicas, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_url);
    return rc;
}
