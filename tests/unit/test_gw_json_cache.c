/* gateway/gw_json_cache.c: the etag-keyed JSON cache of the gateway's server object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json_cache.h"

static void put(gw_json_cache *c, const char *key, const char *val)
{
    gw_json_entry_unref(gw_json_cache_put(c, key, strdup(val), strlen(val)));
}

static bool has(gw_json_cache *c, const char *key, const char *val)
{
    gw_json_entry *e = gw_json_cache_get(c, key);
    if (!e) return false;
    size_t n;
    const char *d = gw_json_entry_data(e, &n);
    bool same = n == strlen(val) && !memcmp(d, val, n);
    gw_json_entry_unref(e);
    assert_true(same);
    return true;
}

static void test_get_put_replace(void **state)
{
    (void)state;
    gw_json_cache *c = gw_json_cache_new(4, 1024);
    assert_false(has(c, "report:a", ""));
    put(c, "report:a", "{\"a\":1}");
    assert_true(has(c, "report:a", "{\"a\":1}"));
    assert_false(has(c, "brief:a", ""));
    put(c, "report:a", "{\"a\":2}"); /* same key: replaced, not duplicated */
    assert_true(has(c, "report:a", "{\"a\":2}"));
    gw_json_cache_stats s;
    gw_json_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.bytes, 7);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 2);
    gw_json_cache_clear(c);
    assert_false(has(c, "report:a", ""));
    gw_json_cache_free(c);
}

static void test_lru_bounds(void **state)
{
    (void)state;
    gw_json_cache *c = gw_json_cache_new(3, 40); /* values up to 10 bytes are kept */
    put(c, "k1", "1111111111");
    put(c, "k2", "2222222222");
    put(c, "k3", "3333333333");
    assert_true(has(c, "k1", "1111111111")); /* k1 is now the most recent */
    put(c, "k4", "4444444444");              /* 4 entries > 3: the LRU (k2) goes */
    assert_false(has(c, "k2", ""));
    assert_true(has(c, "k1", "1111111111"));
    assert_true(has(c, "k3", "3333333333"));
    assert_true(has(c, "k4", "4444444444"));
    gw_json_cache_stats s;
    gw_json_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 3);
    assert_int_equal(s.evictions, 1);
    gw_json_cache_free(c);
    c = gw_json_cache_new(100, 40);
    put(c, "a", "aaaaaaaaaa");
    put(c, "b", "bbbbbbbbbb");
    put(c, "c", "cccccccccc");
    put(c, "d", "dddddddddd");
    put(c, "e", "eeeeeeeeee"); /* 50 > 40 bytes: "a" is evicted */
    assert_false(has(c, "a", ""));
    assert_true(has(c, "e", "eeeeeeeeee"));
    gw_json_cache_get_stats(c, &s);
    assert_true(s.bytes <= 40);
    /* a value over a quarter of the bound is handed back but not kept */
    gw_json_entry *big = gw_json_cache_put(c, "big", strdup("0123456789x"), 11);
    size_t n;
    assert_memory_equal(gw_json_entry_data(big, &n), "0123456789x", 11);
    gw_json_entry_unref(big);
    assert_false(has(c, "big", ""));
    /* keys longer than the maximum are never stored */
    char key[GW_JSON_CACHE_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    put(c, key, "x");
    assert_false(has(c, key, ""));
    gw_json_cache_free(c);
}

/* An entry handed out stays readable after it is evicted, cleared or the cache is freed. */
static void test_reference_outlives_eviction(void **state)
{
    (void)state;
    gw_json_cache *c = gw_json_cache_new(1, 1024);
    put(c, "a", "{\"a\":1}");
    gw_json_entry *e = gw_json_cache_get(c, "a");
    put(c, "b", "{\"b\":1}"); /* evicts "a" */
    assert_false(has(c, "a", ""));
    gw_json_cache_free(c);
    size_t n;
    assert_memory_equal(gw_json_entry_data(e, &n), "{\"a\":1}", 7);
    gw_json_entry_unref(e);
}

static void test_off(void **state)
{
    (void)state;
    assert_null(gw_json_cache_new(0, 1024));
    assert_null(gw_json_cache_new(10, 0));
    assert_null(gw_json_cache_get(NULL, "a"));
    gw_json_entry *e = gw_json_cache_put(NULL, "a", strdup("x"), 1); /* still handed back */
    size_t n;
    assert_memory_equal(gw_json_entry_data(e, &n), "x", 1);
    gw_json_entry_unref(e);
    gw_json_cache_stats s;
    gw_json_cache_get_stats(NULL, &s);
    assert_int_equal(s.entries, 0);
    gw_json_cache_clear(NULL);
    gw_json_cache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_replace),
        cmocka_unit_test(test_lru_bounds),
        cmocka_unit_test(test_reference_outlives_eviction),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
