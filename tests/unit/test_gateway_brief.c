/* The gateway's GET /brief body (gateway/handlers_brief.c): with or without the etag-keyed
 * memo, the bytes are exactly the generic encoder's output for the message — including the
 * per-request tail (cached, cached_at, computed_at, ttl_seconds_remaining, etag, sql_queries),
 * which differs between hits of the same page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"

static void check_same_as_encoder(Sfpermits__V1__GetBriefResponse *m, bool want_hit)
{
    size_t n1 = 0, n2 = 0;
    bool hit = !want_hit;
    char *a = gw_brief_json(m, &n1, &hit);
    char *b = sfp_pbjson_encode(&m->base, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_int_equal(a[n1], '\0');
    assert_true(hit == want_hit);
    free(a);
    free(b);
}

static void test_memo_same_bytes(void **state)
{
    (void)state;
    gw_brief_memo_clear();
    Sfpermits__V1__GetBriefResponse m = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    Sfpermits__V1__BriefChange c = SFPERMITS__V1__BRIEF_CHANGE__INIT, *cp = &c;
    c.permit_number = "202401010001";
    c.label = "he said \"cached\":true, ok"; /* look-alike of the tail inside a string */
    m.changes = &cp;
    m.n_changes = 1;
    m.lookback_days = 7;
    m.since = "2026-01-01";
    m.etag = "0123456789abcdef0123456789abcdef";
    m.cached = false;
    m.cached_at = "";
    m.computed_at = "2026-01-08T10:00:00.000Z";
    m.ttl_seconds_remaining = 1800;
    m.sql_queries = 30;
    check_same_as_encoder(&m, false); /* first: full encoding, memoised */
    m.cached = true;
    m.cached_at = m.computed_at;
    m.ttl_seconds_remaining = 1799;
    m.sql_queries = 1;
    check_same_as_encoder(&m, true); /* hit: page from the memo + this request's tail */
    /* a different page (etag) is never served from another page's entry */
    m.etag = "ffffffffffffffffffffffffffffffff";
    m.lookback_days = 30;
    check_same_as_encoder(&m, false);
    check_same_as_encoder(&m, true);
    /* no etag: no memo */
    m.etag = "";
    check_same_as_encoder(&m, false);
    check_same_as_encoder(&m, false);
    gw_brief_memo_clear();
}

static void test_memo_bounded_lru(void **state)
{
    (void)state;
    gw_brief_memo_clear();
    Sfpermits__V1__GetBriefResponse m = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    char tag[40];
    for (int i = 0; i < 100; i++) { /* more pages than entries */
        snprintf(tag, sizeof tag, "%032d", i);
        m.etag = tag;
        m.lookback_days = i;
        check_same_as_encoder(&m, false);
    }
    snprintf(tag, sizeof tag, "%032d", 99); /* recent: still there */
    m.etag = tag;
    m.lookback_days = 99;
    check_same_as_encoder(&m, true);
    snprintf(tag, sizeof tag, "%032d", 0); /* oldest: evicted */
    m.etag = tag;
    m.lookback_days = 0;
    check_same_as_encoder(&m, false);
    gw_brief_memo_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_same_bytes),
        cmocka_unit_test(test_memo_bounded_lru),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
