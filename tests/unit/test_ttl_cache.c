/* Response cache (common/ttl_cache): TTL, LRU bound, stale retention, refcounted values that
 * survive eviction, and singleflight (one leader, joiners with their own deadlines, failure
 * fan-out and promotion). Fake clock for ages; real time only for wait deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "arena.h"
#include "ttl_cache.h"
#include "soda_stats_pb.h"

static double g_now = 5000.0;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static atomic_int g_freed;
static void count_free(void *p)
{
    free(p);
    atomic_fetch_add(&g_freed, 1);
}

static sfp_cache_val *val_of(const char *s)
{
    return sfp_cache_val_new(strdup(s), strlen(s), 1, count_free);
}

static sfp_ttl_cache *mk(int ttl, int max, int stale)
{
    sfp_ttl_cache_config c;
    sfp_ttl_cache_config_defaults(&c);
    c.ttl_s = ttl;
    c.max_entries = max;
    c.stale_max_s = stale;
    c.clock = fake_clock;
    g_now = 5000.0;
    return sfp_ttl_cache_new(&c);
}

/* Lookup that must lead; fills with s. */
static void lead_fill(sfp_ttl_cache *c, const char *key, const char *s)
{
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, key, &lk);
    assert_int_equal(lk.kind, SFP_CACHE_LEAD);
    sfp_cache_val *v = val_of(s);
    sfp_ttl_cache_fill(c, lk.flight, v);
    sfp_cache_val_unref(v);
}

static void test_hit_and_expiry(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 10, 86400);
    lead_fill(c, "gm2e-bten:2991:012", "A");
    g_now += 100;
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "gm2e-bten:2991:012", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_HIT);
    assert_string_equal(sfp_cache_val_data(lk.val), "A");
    assert_true(lk.age_s > 99.9 && lk.age_s < 100.1);
    assert_true(lk.ttl_left_s > 799.9 && lk.ttl_left_s < 800.1);
    sfp_cache_val_unref(lk.val);
    g_now += 801; /* TTL + 1 s old → miss, caller leads a refetch */
    sfp_ttl_cache_lookup(c, "gm2e-bten:2991:012", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_LEAD);
    sfp_cache_val *v = val_of("B");
    sfp_ttl_cache_fill(c, lk.flight, v);
    sfp_cache_val_unref(v);
    sfp_ttl_cache_lookup(c, "gm2e-bten:2991:012", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_HIT);
    assert_string_equal(sfp_cache_val_data(lk.val), "B");
    sfp_cache_val_unref(lk.val);
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 2);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.fills, 2);
    assert_int_equal(s.in_flight, 0);
    sfp_ttl_cache_free(c);
}

static void test_lru_eviction(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 3, 86400);
    lead_fill(c, "k1", "1");
    lead_fill(c, "k2", "2");
    lead_fill(c, "k3", "3");
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "k1", &lk); /* k1 becomes most recent; k2 is now the LRU */
    assert_int_equal(lk.kind, SFP_CACHE_HIT);
    sfp_cache_val_unref(lk.val);
    lead_fill(c, "k4", "4");
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 3);
    assert_int_equal(s.capacity, 3);
    assert_int_equal(s.evictions, 1);
    sfp_ttl_cache_lookup(c, "k2", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_LEAD); /* evicted */
    sfp_ttl_cache_fail(c, lk.flight, "test", false);
    const char *kept[] = {"k1", "k3", "k4"};
    for (int i = 0; i < 3; i++) {
        sfp_ttl_cache_lookup(c, kept[i], &lk);
        assert_int_equal(lk.kind, SFP_CACHE_HIT);
        sfp_cache_val_unref(lk.val);
    }
    sfp_ttl_cache_free(c);
}

static void test_value_survives_eviction(void **st)
{
    (void)st;
    atomic_store(&g_freed, 0);
    sfp_ttl_cache *c = mk(900, 1, 0);
    lead_fill(c, "a", "alpha");
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "a", &lk);
    sfp_cache_val *held = lk.val;
    lead_fill(c, "b", "beta"); /* evicts "a" while we hold it */
    assert_int_equal(atomic_load(&g_freed), 0);
    assert_string_equal(sfp_cache_val_data(held), "alpha");
    sfp_cache_val_unref(held);
    assert_int_equal(atomic_load(&g_freed), 1);
    sfp_ttl_cache_free(c);
    assert_int_equal(atomic_load(&g_freed), 2);
}

static void test_stale_retention(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 10, 3600);
    lead_fill(c, "k", "old");
    sfp_cache_val *v = NULL;
    double age = 0;
    g_now += 1000; /* expired, within stale retention */
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "k", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_LEAD); /* expired entries never count as hits */
    sfp_ttl_cache_fail(c, lk.flight, "http_500", false);
    assert_true(sfp_ttl_cache_get_stale(c, "k", &v, &age));
    assert_string_equal(sfp_cache_val_data(v), "old");
    assert_true(age > 999.9 && age < 1000.1);
    sfp_cache_val_unref(v);
    g_now += 900 + 3600; /* beyond ttl + stale_max */
    assert_false(sfp_ttl_cache_get_stale(c, "k", &v, &age));
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.stale_served, 1);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.purged, 1);
    assert_int_equal(s.fails, 1);
    sfp_ttl_cache_free(c);
}

/* ---- singleflight ---- */

typedef struct worker {
    sfp_ttl_cache *c;
    const char *key;
    int kind;    /* lookup kind */
    int wait_rc; /* for joiners */
    char data[16];
    int64_t deadline_ms;
    int fetch_ms;     /* leader's simulated fetch time */
    int wait_joiners; /* leader waits (≤ 5 s) until this many callers coalesced before filling */
    bool fail;        /* leader fails instead of filling */
    bool fail_retry;
    char reason[32];
} worker;

static atomic_int g_fetches;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(w->c, w->key, &lk);
    w->kind = (int)lk.kind;
    sfp_cache_flight *f = lk.flight;
    if (lk.kind == SFP_CACHE_HIT) {
        snprintf(w->data, sizeof w->data, "%s", (char *)sfp_cache_val_data(lk.val));
        sfp_cache_val_unref(lk.val);
        return NULL;
    }
    if (lk.kind == SFP_CACHE_JOIN) {
        sfp_cache_val *v = NULL;
        w->wait_rc = (int)sfp_ttl_cache_wait(w->c, f, w->deadline_ms, &v, w->reason);
        if (w->wait_rc == SFP_CACHE_WAIT_FILLED) {
            snprintf(w->data, sizeof w->data, "%s", (char *)sfp_cache_val_data(v));
            sfp_cache_val_unref(v);
            return NULL;
        }
        if (w->wait_rc != SFP_CACHE_WAIT_LEAD) return NULL;
    }
    /* leader (original or promoted) */
    atomic_fetch_add(&g_fetches, 1);
    sleep_ms(w->fetch_ms);
    for (int i = 0; i < 500 && w->wait_joiners; i++) { /* deterministic: everyone has joined */
        sfp_ttl_cache_stats s;
        sfp_ttl_cache_get_stats(w->c, &s);
        if (s.coalesced >= w->wait_joiners) break;
        sleep_ms(10);
    }
    if (w->fail) {
        sfp_ttl_cache_fail(w->c, f, "http_503", w->fail_retry);
        snprintf(w->data, sizeof w->data, "failed");
    } else {
        sfp_cache_val *v = val_of("fresh");
        sfp_ttl_cache_fill(w->c, f, v);
        sfp_cache_val_unref(v);
        snprintf(w->data, sizeof w->data, "fresh");
    }
    return NULL;
}

static void test_coalescing_10_concurrent_misses(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 100, 0);
    atomic_store(&g_fetches, 0);
    worker w[10];
    pthread_t th[10];
    for (int i = 0; i < 10; i++) {
        w[i] = (worker){.c = c,
                        .key = "nbtm-fbw5:3512:001",
                        .deadline_ms = sfp_mono_ms() + 30000,
                        .fetch_ms = 50,
                        .wait_joiners = 9};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    for (int i = 0; i < 10; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&g_fetches), 1);
    int leads = 0, joins = 0;
    for (int i = 0; i < 10; i++) {
        assert_string_equal(w[i].data, "fresh");
        leads += w[i].kind == SFP_CACHE_LEAD;
        joins += w[i].kind == SFP_CACHE_JOIN;
    }
    assert_int_equal(leads, 1);
    assert_int_equal(joins, 9);
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.coalesced, 9);
    assert_int_equal(s.fills, 1);
    assert_int_equal(s.in_flight, 0);
    sfp_ttl_cache_free(c);
}

static void test_joiner_uses_own_deadline(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 100, 0);
    sfp_cache_lookup leader, joiner;
    sfp_ttl_cache_lookup(c, "k", &leader);
    assert_int_equal(leader.kind, SFP_CACHE_LEAD);
    sfp_ttl_cache_lookup(c, "k", &joiner);
    assert_int_equal(joiner.kind, SFP_CACHE_JOIN);
    int64_t t0 = sfp_mono_ms();
    char reason[32];
    sfp_cache_val *v = NULL;
    assert_int_equal(sfp_ttl_cache_wait(c, joiner.flight, t0 + 100, &v, reason), SFP_CACHE_WAIT_TIMEOUT);
    int64_t waited = sfp_mono_ms() - t0;
    assert_true(waited >= 95 && waited < 600);
    assert_null(v);
    assert_string_equal(reason, "deadline");
    /* the leader is unaffected and can still fill */
    sfp_cache_val *val = val_of("late");
    sfp_ttl_cache_fill(c, leader.flight, val);
    sfp_cache_val_unref(val);
    sfp_ttl_cache_lookup(c, "k", &joiner);
    assert_int_equal(joiner.kind, SFP_CACHE_HIT);
    sfp_cache_val_unref(joiner.val);
    sfp_ttl_cache_free(c);
}

static void test_leader_failure_fans_out_not_cached(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 100, 0);
    atomic_store(&g_fetches, 0);
    worker w[5];
    pthread_t th[5];
    for (int i = 0; i < 5; i++) {
        w[i] = (worker){.c = c,
                        .key = "k",
                        .deadline_ms = sfp_mono_ms() + 30000,
                        .fetch_ms = 50,
                        .wait_joiners = 4,
                        .fail = true,
                        .fail_retry = false};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    for (int i = 0; i < 5; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&g_fetches), 1); /* no retry storm */
    for (int i = 0; i < 5; i++) {
        if (w[i].kind == SFP_CACHE_JOIN) {
            assert_int_equal(w[i].wait_rc, SFP_CACHE_WAIT_FAILED);
            assert_string_equal(w[i].reason, "http_503");
        }
    }
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "k", &lk); /* the error was not cached */
    assert_int_equal(lk.kind, SFP_CACHE_LEAD);
    sfp_ttl_cache_fail(c, lk.flight, "x", false);
    sfp_ttl_cache_free(c);
}

static void test_leader_retryable_failure_promotes_one(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 100, 0);
    sfp_cache_lookup leader;
    sfp_ttl_cache_lookup(c, "k", &leader);
    atomic_store(&g_fetches, 0);
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.c = c, .key = "k", .deadline_ms = sfp_mono_ms() + 5000, .fetch_ms = 50};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    for (int i = 0; i < 500; i++) { /* until all four have joined */
        sfp_ttl_cache_stats s;
        sfp_ttl_cache_get_stats(c, &s);
        if (s.coalesced >= 4) break;
        sleep_ms(10);
    }
    sfp_ttl_cache_fail(c, leader.flight, "deadline", true);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&g_fetches), 1); /* exactly one promoted */
    int promoted = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(w[i].kind, SFP_CACHE_JOIN);
        promoted += w[i].wait_rc == SFP_CACHE_WAIT_LEAD;
        assert_string_equal(w[i].data, "fresh");
    }
    assert_int_equal(promoted, 1);
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.in_flight, 0);
    sfp_ttl_cache_free(c);
}

static void test_env_config(void **st)
{
    (void)st;
    sfp_err e = {0};
    sfp_ttl_cache_config c;
    unsetenv("SODA_CACHE_TTL");
    unsetenv("SODA_CACHE_MAX_ENTRIES");
    unsetenv("SODA_CACHE_STALE_MAX");
    sfp_ttl_cache_config_defaults(&c);
    assert_int_equal(sfp_ttl_cache_config_from_env(&c, &e), 0);
    assert_int_equal(c.ttl_s, 900);
    assert_int_equal(c.max_entries, 10000);
    assert_int_equal(c.stale_max_s, 86400);
    setenv("SODA_CACHE_TTL", "60", 1);
    setenv("SODA_CACHE_MAX_ENTRIES", "5", 1);
    setenv("SODA_CACHE_STALE_MAX", "0", 1);
    assert_int_equal(sfp_ttl_cache_config_from_env(&c, &e), 0);
    assert_int_equal(c.ttl_s, 60);
    assert_int_equal(c.max_entries, 5);
    assert_int_equal(c.stale_max_s, 0);
    setenv("SODA_CACHE_MAX_ENTRIES", "0", 1);
    assert_int_equal(sfp_ttl_cache_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "SODA_CACHE_MAX_ENTRIES"));
    unsetenv("SODA_CACHE_TTL");
    unsetenv("SODA_CACHE_MAX_ENTRIES");
    unsetenv("SODA_CACHE_STALE_MAX");
}

static void test_stats_pb(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 7, 0);
    lead_fill(c, "a", "1");
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "a", &lk);
    sfp_cache_val_unref(lk.val);
    sfp_arena *a = sfp_arena_new();
    Sfpermits__V1__ResponseCacheStats *pb = sfp_ttl_cache_stats_pb(c, a);
    assert_int_equal(pb->entries, 1);
    assert_int_equal(pb->capacity, 7);
    assert_int_equal(pb->hits, 1);
    assert_int_equal(pb->misses, 1);
    sfp_arena_free(a);
    sfp_ttl_cache_free(c);
}

/* clear drops every entry (a held value stays valid until its reader lets go); the next
 * lookup leads a fresh fetch. */
static void test_clear(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(900, 10, 86400);
    atomic_store(&g_freed, 0);
    lead_fill(c, "k1", "A");
    lead_fill(c, "k2", "B");
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c, "k1", &lk);
    assert_int_equal(lk.kind, SFP_CACHE_HIT);
    sfp_ttl_cache_clear(c);
    assert_int_equal(atomic_load(&g_freed), 1); /* B freed; A still held by the reader */
    assert_string_equal(sfp_cache_val_data(lk.val), "A");
    sfp_cache_val_unref(lk.val);
    assert_int_equal(atomic_load(&g_freed), 2);
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 0);
    assert_false(sfp_ttl_cache_get_stale(c, "k2", &lk.val, &lk.age_s));
    lead_fill(c, "k1", "C");
    sfp_ttl_cache_free(c);
}

/* peek: fresh entries only, no flight started on a miss; remove drops one key. */
static void test_peek_and_remove(void **st)
{
    (void)st;
    sfp_ttl_cache *c = mk(60, 10, 86400);
    atomic_store(&g_freed, 0);
    sfp_cache_val *v = NULL;
    assert_false(sfp_ttl_cache_peek(c, "k1", &v));
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.in_flight, 0); /* a missed peek leaves no flight behind */
    sfp_cache_val *a = val_of("A");
    sfp_ttl_cache_put(c, "k1", a);
    sfp_ttl_cache_put(c, "k2", a);
    sfp_cache_val_unref(a);
    assert_true(sfp_ttl_cache_peek(c, "k1", &v));
    assert_string_equal(sfp_cache_val_data(v), "A");
    g_now += 61; /* past the TTL: retained for stale use, but no longer fresh */
    sfp_cache_val *w = NULL;
    assert_false(sfp_ttl_cache_peek(c, "k1", &w));
    g_now -= 61;
    assert_true(sfp_ttl_cache_remove(c, "k1"));
    assert_false(sfp_ttl_cache_remove(c, "k1"));
    assert_false(sfp_ttl_cache_peek(c, "k1", &w));
    assert_true(sfp_ttl_cache_peek(c, "k2", &w)); /* the other key stays */
    sfp_cache_val_unref(w);
    assert_string_equal(sfp_cache_val_data(v), "A"); /* the reader's reference outlives removal */
    sfp_cache_val_unref(v);
    sfp_ttl_cache_get_stats(c, &s);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 3);
    assert_int_equal(s.entries, 1);
    sfp_ttl_cache_free(c);
    assert_int_equal(atomic_load(&g_freed), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_expiry),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_value_survives_eviction),
        cmocka_unit_test(test_stale_retention),
        cmocka_unit_test(test_coalescing_10_concurrent_misses),
        cmocka_unit_test(test_joiner_uses_own_deadline),
        cmocka_unit_test(test_leader_failure_fans_out_not_cached),
        cmocka_unit_test(test_leader_retryable_failure_promotes_one),
        cmocka_unit_test(test_env_config),
        cmocka_unit_test(test_stats_pb),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_peek_and_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
