/* singleflight.h: one leader per key, joiners get its result or its failure, a leader that
 * hands over promotes exactly one joiner, an orphaned flight is taken by the next caller, a
 * joiner's own deadline, results freed once. Threads only wait; every handle is taken on the
 * main thread first, so the leader is gated by the test and nothing depends on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "singleflight.h"

static int g_freed; /* under the test's own mutex: a failed test leaves only its own locked */

static void free_int(void *p)
{
    g_freed++;
    free(p);
}

static int *new_int(int v)
{
    int *p = malloc(sizeof *p);
    assert_non_null(p);
    *p = v;
    return p;
}

static void copy_int(const void *result, void *arg)
{
    *(int *)arg = *(const int *)result;
}

typedef struct joiner {
    sfp_sf *g;
    sfp_sf_flight *f;
    int64_t deadline_ms;
    sfp_sf_wait_rc rc;
    int got;
    char reason[32];
    int lead_with; /* PROMOTED: finish the flight with this value */
    pthread_t th;
} joiner;

static void *joiner_main(void *arg)
{
    joiner *j = arg;
    pthread_mutex_lock(j->g->mu);
    j->rc = sfp_sf_wait(j->g, j->f, j->deadline_ms, copy_int, &j->got, j->reason);
    if (j->rc == SFP_SF_PROMOTED) sfp_sf_done(j->g, j->f, new_int(j->lead_with));
    pthread_mutex_unlock(j->g->mu);
    return NULL;
}

static sfp_sf_role begin(sfp_sf *g, const char *key, sfp_sf_flight **f)
{
    pthread_mutex_lock(g->mu);
    sfp_sf_role r = sfp_sf_begin(g, key, f);
    pthread_mutex_unlock(g->mu);
    return r;
}

/* N joiners taken while the leader is held back; threads wait; the leader's result reaches all. */
static void start_joiners(sfp_sf *g, const char *key, joiner *j, int n)
{
    for (int i = 0; i < n; i++) {
        memset(&j[i], 0, sizeof j[i]);
        j[i].g = g;
        j[i].deadline_ms = INT64_MAX;
        j[i].lead_with = 100 + i;
        assert_int_equal(begin(g, key, &j[i].f), SFP_SF_JOINED);
        assert_int_equal(pthread_create(&j[i].th, NULL, joiner_main, &j[i]), 0);
    }
}

static void join_all(joiner *j, int n)
{
    for (int i = 0; i < n; i++) pthread_join(j[i].th, NULL);
}

static void test_joiners_get_the_leaders_result(void **state)
{
    (void)state;
    sfp_sf g;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    sfp_sf_init(&g, &mu, free_int);
    g_freed = 0;
    sfp_sf_flight *lead;
    assert_int_equal(begin(&g, "k", &lead), SFP_SF_LEADS);
    sfp_sf_flight *other;
    assert_int_equal(begin(&g, "other", &other), SFP_SF_LEADS); /* keys are independent */
    joiner j[4];
    start_joiners(&g, "k", j, 4);
    pthread_mutex_lock(&mu);
    assert_int_equal(g.in_flight, 2);
    sfp_sf_done(&g, lead, new_int(42));
    sfp_sf_done(&g, other, new_int(7));
    pthread_mutex_unlock(&mu);
    join_all(j, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(j[i].rc, SFP_SF_DONE);
        assert_int_equal(j[i].got, 42);
    }
    pthread_mutex_lock(&mu);
    assert_int_equal(g.in_flight, 0);
    assert_int_equal(g_freed, 2); /* each result once, after its last handle */
    sfp_sf_flight *again;
    assert_int_equal(sfp_sf_begin(&g, "k", &again), SFP_SF_LEADS); /* done flights leave the table */
    sfp_sf_fail(&g, again, "x", false);
    sfp_sf_destroy(&g);
    pthread_mutex_unlock(&mu);
}

static void test_shared_failure_reaches_every_joiner(void **state)
{
    (void)state;
    sfp_sf g;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    sfp_sf_init(&g, &mu, free_int);
    sfp_sf_flight *lead;
    assert_int_equal(begin(&g, "k", &lead), SFP_SF_LEADS);
    joiner j[3];
    start_joiners(&g, "k", j, 3);
    pthread_mutex_lock(&mu);
    sfp_sf_fail(&g, lead, "breaker_open", false);
    pthread_mutex_unlock(&mu);
    join_all(j, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(j[i].rc, SFP_SF_FAILED);
        assert_string_equal(j[i].reason, "breaker_open");
    }
    pthread_mutex_lock(&mu);
    assert_int_equal(g.in_flight, 0);
    sfp_sf_destroy(&g);
    pthread_mutex_unlock(&mu);
}

/* hand_over: exactly one joiner leads and its result reaches the others. */
static void test_hand_over_promotes_exactly_one(void **state)
{
    (void)state;
    sfp_sf g;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    sfp_sf_init(&g, &mu, free_int);
    g_freed = 0;
    sfp_sf_flight *lead;
    assert_int_equal(begin(&g, "k", &lead), SFP_SF_LEADS);
    joiner j[5];
    start_joiners(&g, "k", j, 5);
    pthread_mutex_lock(&mu);
    sfp_sf_fail(&g, lead, "my deadline", true);
    pthread_mutex_unlock(&mu);
    join_all(j, 5);
    int promoted = -1, done = 0;
    for (int i = 0; i < 5; i++) {
        if (j[i].rc == SFP_SF_PROMOTED) {
            assert_int_equal(promoted, -1);
            promoted = i;
        } else {
            assert_int_equal(j[i].rc, SFP_SF_DONE);
            done++;
        }
    }
    assert_true(promoted >= 0);
    assert_int_equal(done, 4);
    for (int i = 0; i < 5; i++)
        if (i != promoted) assert_int_equal(j[i].got, 100 + promoted);
    pthread_mutex_lock(&mu);
    assert_int_equal(g.in_flight, 0);
    assert_int_equal(g_freed, 1);
    sfp_sf_destroy(&g);
    pthread_mutex_unlock(&mu);
}

/* An orphan whose joiner has not waited yet is taken by the next caller of the key; without
 * any joiner a handed-over flight is dropped. */
static void test_orphan_taken_by_next_caller(void **state)
{
    (void)state;
    sfp_sf g;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    sfp_sf_init(&g, &mu, free_int);
    pthread_mutex_lock(&mu);
    sfp_sf_flight *lead, *joined, *next;
    assert_int_equal(sfp_sf_begin(&g, "k", &lead), SFP_SF_LEADS);
    assert_int_equal(sfp_sf_join(&g, "k", &joined), SFP_SF_JOINED);
    sfp_sf_fail(&g, lead, "gave up", true);
    assert_int_equal(sfp_sf_begin(&g, "k", &next), SFP_SF_LEADS);
    assert_ptr_equal(next, joined);
    sfp_sf_done(&g, next, new_int(5));
    int got = 0;
    assert_int_equal(sfp_sf_wait(&g, joined, INT64_MAX, copy_int, &got, NULL), SFP_SF_DONE);
    assert_int_equal(got, 5);
    /* a promoted joiner leads: a caller arriving after it joins (never a second leader) */
    sfp_sf_flight *a, *b, *c;
    assert_int_equal(sfp_sf_begin(&g, "k2", &lead), SFP_SF_LEADS);
    assert_int_equal(sfp_sf_join(&g, "k2", &a), SFP_SF_JOINED);
    assert_int_equal(sfp_sf_join(&g, "k2", &b), SFP_SF_JOINED);
    sfp_sf_fail(&g, lead, "gave up", true);
    assert_int_equal(sfp_sf_wait(&g, a, INT64_MAX, copy_int, &got, NULL), SFP_SF_PROMOTED);
    assert_int_equal(sfp_sf_begin(&g, "k2", &c), SFP_SF_JOINED);
    sfp_sf_done(&g, a, new_int(9));
    got = 0;
    assert_int_equal(sfp_sf_wait(&g, b, INT64_MAX, copy_int, &got, NULL), SFP_SF_DONE);
    assert_int_equal(got, 9);
    got = 0;
    assert_int_equal(sfp_sf_wait(&g, c, INT64_MAX, copy_int, &got, NULL), SFP_SF_DONE);
    assert_int_equal(got, 9);
    /* no joiner: the flight goes, the next caller starts afresh */
    assert_int_equal(sfp_sf_begin(&g, "k", &lead), SFP_SF_LEADS);
    sfp_sf_fail(&g, lead, "gave up", true);
    assert_int_equal(g.in_flight, 0);
    sfp_sf_flight *none;
    assert_int_equal(sfp_sf_join(&g, "k", &none), SFP_SF_NONE);
    assert_null(none);
    sfp_sf_destroy(&g);
    pthread_mutex_unlock(&mu);
}

/* A joiner's own deadline (already past: no clock dependence); the last joiner of an orphan
 * leaving drops it. */
static void test_joiner_deadline(void **state)
{
    (void)state;
    sfp_sf g;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    sfp_sf_init(&g, &mu, free_int);
    pthread_mutex_lock(&mu);
    sfp_sf_flight *lead, *joined;
    assert_int_equal(sfp_sf_begin(&g, "k", &lead), SFP_SF_LEADS);
    assert_int_equal(sfp_sf_begin(&g, "k", &joined), SFP_SF_JOINED);
    char reason[32];
    assert_int_equal(sfp_sf_wait(&g, joined, sfp_mono_ms() - 1, NULL, NULL, reason), SFP_SF_TIMEOUT);
    assert_string_equal(reason, "deadline");
    assert_int_equal(g.in_flight, 1); /* the leader still runs */
    assert_int_equal(sfp_sf_begin(&g, "k", &joined), SFP_SF_JOINED);
    sfp_sf_fail(&g, lead, "gave up", true); /* orphaned: one joiner */
    assert_int_equal(sfp_sf_wait(&g, joined, sfp_mono_ms() - 1, NULL, NULL, reason), SFP_SF_TIMEOUT);
    assert_int_equal(g.in_flight, 0);
    sfp_sf_destroy(&g);
    pthread_mutex_unlock(&mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joiners_get_the_leaders_result),
        cmocka_unit_test(test_shared_failure_reaches_every_joiner),
        cmocka_unit_test(test_hand_over_promotes_exactly_one),
        cmocka_unit_test(test_orphan_taken_by_next_caller),
        cmocka_unit_test(test_joiner_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
