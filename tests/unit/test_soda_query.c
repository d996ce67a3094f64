/* SODA client pure parts (common/soda_client): block/lot validation, SoQL quoting, the exact
 * request URL (dataset, $where, $order, $limit), breaker classification of outcomes, env configuration, and
 * "invalid input never reaches the network" (a closed port as base URL proves no request). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "soda_client.h"

static void test_block_lot_validation(void **st)
{
    (void)st;
    const char *good_blocks[] = {"3512", "0001", "3512A", "9999Z"};
    const char *bad_blocks[] = {"",       "351",     "35123", "3512a",
                                "3512AB", "'; DROP", "../",   "3512'",
                                "35 2",   "3512\n",  "351A",  "35120000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof good_blocks / sizeof *good_blocks; i++)
        assert_true(sfp_soda_valid_block(good_blocks[i]));
    for (size_t i = 0; i < sizeof bad_blocks / sizeof *bad_blocks; i++)
        assert_false(sfp_soda_valid_block(bad_blocks[i]));
    assert_false(sfp_soda_valid_block(NULL));
    const char *good_lots[] = {"001", "012", "055", "001A"};
    const char *bad_lots[] = {"", "01", "0012", "001a", "'", "../", "1; DROP TABLE", "001AB"};
    for (size_t i = 0; i < sizeof good_lots / sizeof *good_lots; i++) assert_true(sfp_soda_valid_lot(good_lots[i]));
    for (size_t i = 0; i < sizeof bad_lots / sizeof *bad_lots; i++) assert_false(sfp_soda_valid_lot(bad_lots[i]));
    assert_true(sfp_soda_valid_dataset("gm2e-bten"));
    assert_false(sfp_soda_valid_dataset("gm2e_bten"));
    assert_false(sfp_soda_valid_dataset("../etc"));
    assert_false(sfp_soda_valid_dataset("GM2E-BTEN"));
}

static void test_quote_doubling(void **st)
{
    (void)st;
    char out[64];
    assert_int_equal(sfp_soda_soql_quote("O'Brien", out, sizeof out), 0);
    assert_string_equal(out, "'O''Brien'");
    assert_int_equal(sfp_soda_soql_quote("''", out, sizeof out), 0);
    assert_string_equal(out, "''''''");
    assert_int_equal(sfp_soda_soql_quote("", out, sizeof out), 0);
    assert_string_equal(out, "''");
    char small[6];
    assert_int_equal(sfp_soda_soql_quote("abcd", small, sizeof small), -1);
    assert_int_equal(sfp_soda_soql_quote("abc", small, sizeof small), 0);
    assert_string_equal(small, "'abc'");
}

static void test_where_parcel(void **st)
{
    (void)st;
    char w[64];
    sfp_err e = {0};
    assert_int_equal(sfp_soda_where_parcel("3512", "001", w, sizeof w, &e), 0);
    assert_string_equal(w, "block='3512' AND lot='001'");
    assert_int_equal(sfp_soda_where_parcel("'; DROP", "001", w, sizeof w, &e), -1);
    assert_int_equal(e.code, SFP_INVALID_ARGUMENT);
    assert_non_null(strstr(e.msg, "block"));
    assert_int_equal(sfp_soda_where_parcel("3512", "../", w, sizeof w, &e), -1);
    assert_non_null(strstr(e.msg, "lot"));
}

static void test_url_exact(void **st)
{
    (void)st;
    const char *base = "https://data.sfgov.org/resource";
    const char *expect[SFP_SODA_REPORT_N] = {
        "https://data.sfgov.org/resource/gm2e-bten.json?$where=block%3D%273512%27%20AND%20lot%3D%27001%27"
        "&$order=date_filed%20DESC&$limit=50&$offset=0",
        "https://data.sfgov.org/resource/nbtm-fbw5.json?$where=block%3D%273512%27%20AND%20lot%3D%27001%27"
        "&$order=date_filed%20DESC&$limit=50&$offset=0",
        "https://data.sfgov.org/resource/wv5m-vpq2.json?$where=block%3D%273512%27%20AND%20lot%3D%27001%27"
        "&$order=closed_roll_year%20DESC&$limit=5&$offset=0",
    };
    char where[64];
    sfp_err e = {0};
    assert_int_equal(sfp_soda_where_parcel("3512", "001", where, sizeof where, &e), 0);
    for (int i = 0; i < SFP_SODA_REPORT_N; i++) {
        const sfp_soda_parcel_spec *sp = &sfp_soda_report_specs[i];
        sfp_soda_query q = {.dataset = sp->dataset, .where = where, .order = sp->order, .limit = sp->limit};
        char *url = sfp_soda_build_url(base, &q, &e);
        assert_non_null(url);
        assert_string_equal(url, expect[i]);
        free(url);
    }
    /* cache keys: one per dataset and parcel */
    char key[48];
    sfp_soda_cache_key("gm2e-bten", "2991", "012", key, sizeof key);
    assert_string_equal(key, "gm2e-bten:2991:012");
    /* generic query: select + paging, everything escaped */
    sfp_soda_query q = {.dataset = "i98e-djp9",
                        .select = "count(*) as n",
                        .where = "name='O''Brien & Co'",
                        .order = ":id",
                        .limit = 10000,
                        .offset = 20000};
    char *url = sfp_soda_build_url("http://x/r", &q, &e);
    assert_string_equal(url, "http://x/r/i98e-djp9.json?$select=count%28%2A%29%20as%20n"
                             "&$where=name%3D%27O%27%27Brien%20%26%20Co%27&$order=%3Aid&$limit=10000&$offset=20000");
    free(url);
    q.limit = 0;
    assert_null(sfp_soda_build_url("http://x/r", &q, &e));
    q.limit = 50001;
    assert_null(sfp_soda_build_url("http://x/r", &q, &e));
    q.limit = 1;
    q.offset = -1;
    assert_null(sfp_soda_build_url("http://x/r", &q, &e));
    q.offset = 0;
    q.dataset = "../../etc/passwd";
    assert_null(sfp_soda_build_url("http://x/r", &q, &e));
}

static void test_classify(void **st)
{
    (void)st;
    struct {
        int cc;
        long http;
        bool body_ok;
        sfp_breaker_outcome want;
    } cases[] = {
        {CURLE_OK, 200, true, SFP_BREAKER_SUCCESS},
        {CURLE_OK, 200, false, SFP_BREAKER_FAILURE}, /* garbage body */
        {CURLE_OK, 500, false, SFP_BREAKER_FAILURE},
        {CURLE_OK, 503, false, SFP_BREAKER_FAILURE},
        {CURLE_OK, 429, false, SFP_BREAKER_FAILURE},
        {CURLE_OK, 408, false, SFP_BREAKER_FAILURE},
        {CURLE_OK, 404, false, SFP_BREAKER_IGNORED},
        {CURLE_OK, 400, false, SFP_BREAKER_IGNORED},
        {CURLE_OK, 403, false, SFP_BREAKER_IGNORED},
        {CURLE_OPERATION_TIMEDOUT, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_COULDNT_CONNECT, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_COULDNT_RESOLVE_HOST, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_RECV_ERROR, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_GOT_NOTHING, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_SSL_CONNECT_ERROR, 0, false, SFP_BREAKER_FAILURE},
        {CURLE_WRITE_ERROR, 200, false, SFP_BREAKER_IGNORED}, /* our size limit */
        {CURLE_FILESIZE_EXCEEDED, 200, false, SFP_BREAKER_IGNORED},
        {CURLE_URL_MALFORMAT, 0, false, SFP_BREAKER_IGNORED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sfp_breaker_outcome got = sfp_soda_classify(cases[i].cc, cases[i].http, cases[i].body_ok);
        if (got != cases[i].want)
            fail_msg("case %zu (curl %d, http %ld): got %d want %d", i, cases[i].cc, cases[i].http, got, cases[i].want);
    }
}

static const char *k_vars[] = {
    "SODA_BASE_URL",     "SODA_APP_TOKEN",  "SODA_TIMEOUT_MS", "SODA_CONNECT_TIMEOUT_MS", "SODA_MAX_RESPONSE_BYTES",
    "SODA_CB_THRESHOLD", "SODA_CB_TIMEOUT", "SODA_CACHE_TTL",  "SODA_CACHE_MAX_ENTRIES",  "SODA_CACHE_STALE_MAX"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof k_vars / sizeof *k_vars; i++) unsetenv(k_vars[i]);
}

static void test_env_config(void **st)
{
    (void)st;
    clear_env();
    sfp_soda_config c;
    sfp_err e = {0};
    assert_int_equal(sfp_soda_config_from_env(&c, &e), 0);
    assert_string_equal(c.base_url, "https://data.sfgov.org/resource");
    assert_null(c.app_token);
    assert_int_equal(c.timeout_ms, 10000);
    assert_int_equal(c.max_response_bytes, 32L * 1024 * 1024);
    assert_int_equal(c.breaker.threshold, 5);
    assert_int_equal(c.breaker.open_s, 60);
    assert_int_equal(c.cache.ttl_s, 900);
    assert_int_equal(c.cache.max_entries, 10000);
    assert_int_equal(c.cache.stale_max_s, 86400);
    setenv("SODA_BASE_URL", "http://127.0.0.1:9/resource", 1);
    setenv("SODA_APP_TOKEN", "tok", 1);
    setenv("SODA_TIMEOUT_MS", "2500", 1);
    setenv("SODA_CB_THRESHOLD", "3", 1);
    setenv("SODA_CB_TIMEOUT", "30", 1);
    setenv("SODA_CACHE_TTL", "60", 1);
    assert_int_equal(sfp_soda_config_from_env(&c, &e), 0);
    assert_string_equal(c.base_url, "http://127.0.0.1:9/resource");
    assert_string_equal(c.app_token, "tok");
    assert_int_equal(c.timeout_ms, 2500);
    assert_int_equal(c.breaker.threshold, 3);
    assert_int_equal(c.breaker.open_s, 30);
    assert_int_equal(c.cache.ttl_s, 60);
    struct {
        const char *var, *val;
    } bad[] = {{"SODA_BASE_URL", "ftp://x"}, {"SODA_BASE_URL", "http://x/r?y=1"}, {"SODA_TIMEOUT_MS", "0"},
               {"SODA_TIMEOUT_MS", "10s"},   {"SODA_MAX_RESPONSE_BYTES", "-1"},   {"SODA_CB_TIMEOUT", "0"},
               {"SODA_CACHE_TTL", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clear_env();
        setenv(bad[i].var, bad[i].val, 1);
        memset(&e, 0, sizeof e);
        assert_int_equal(sfp_soda_config_from_env(&c, &e), -1);
        if (!strstr(e.msg, bad[i].var)) fail_msg("error for %s=%s does not name it: %s", bad[i].var, bad[i].val, e.msg);
    }
    clear_env();
}

/* Invalid block/lot are rejected before any request; the base URL points at a closed port so
 * a request, if one were made, would show up as a counted failure. */
static void test_invalid_input_makes_no_request(void **st)
{
    (void)st;
    sfp_soda_config c;
    sfp_soda_config_defaults(&c);
    c.base_url = "http://127.0.0.1:9/resource";
    c.breaker.threshold = 1;
    sfp_err e = {0};
    sfp_soda *s = sfp_soda_create(&c, &e);
    assert_non_null(s);
    const char *bad[][2] = {{"'; DROP", "001"}, {"3512", "../"}, {"35120000000000000000000", "001"},
                            {"", "001"},        {"3512", ""},    {"3512", "001' OR '1'='1"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sfp_soda_result r[SFP_SODA_REPORT_N];
        memset(r, 0x5a, sizeof r);
        assert_int_equal(
            sfp_soda_parcel_fetch(s, bad[i][0], bad[i][1], sfp_soda_report_specs, SFP_SODA_REPORT_N, 1000, r, &e), -1);
        assert_int_equal(e.code, SFP_INVALID_ARGUMENT);
        assert_null(sfp_soda_parcel_begin(s, bad[i][0], bad[i][1], sfp_soda_report_specs, SFP_SODA_REPORT_N, 1000, &e));
    }
    sfp_soda_query q = {.dataset = "../x", .limit = 1};
    sfp_soda_response resp;
    assert_int_equal(sfp_soda_query_run(s, &q, 1000, &resp), -1);
    assert_int_equal(resp.status, SFP_SODA_E_INVALID);
    assert_string_equal(resp.reason, "invalid_query");
    sfp_soda_counters n;
    sfp_soda_get_counters(s, &n);
    assert_int_equal(n.requests, 0);
    sfp_breaker_stats bs;
    sfp_breaker_get_stats(sfp_soda_breaker(s), &bs);
    assert_string_equal(bs.state, "closed");
    assert_int_equal(bs.failures + bs.successes + bs.ignored, 0);
    sfp_ttl_cache_stats cs;
    sfp_ttl_cache_get_stats(sfp_soda_cache(s), &cs);
    assert_int_equal(cs.misses + cs.hits, 0);
    sfp_soda_destroy(s);
}

/* Connection refused is a counted failure and, with no stale entry, "unavailable". */
static void test_connect_error_counts(void **st)
{
    (void)st;
    sfp_soda_config c;
    sfp_soda_config_defaults(&c);
    c.base_url = "http://127.0.0.1:9/resource"; /* discard port: nothing listens */
    c.breaker.threshold = 3;
    sfp_err e = {0};
    sfp_soda *s = sfp_soda_create(&c, &e);
    sfp_soda_result r[SFP_SODA_REPORT_N];
    assert_int_equal(sfp_soda_parcel_fetch(s, "3512", "001", sfp_soda_report_specs, SFP_SODA_REPORT_N, 3000, r, &e), 0);
    for (int i = 0; i < SFP_SODA_REPORT_N; i++) {
        assert_int_equal(r[i].source, SFP_SODA_UNAVAILABLE);
        assert_string_equal(r[i].reason, "connect");
        assert_null(r[i].rows);
        assert_false(r[i].breaker_open);
    }
    sfp_soda_results_clear(r, SFP_SODA_REPORT_N);
    sfp_breaker_stats bs;
    sfp_breaker_get_stats(sfp_soda_breaker(s), &bs);
    assert_string_equal(bs.state, "open"); /* 3 counted failures = threshold */
    sfp_soda_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_lot_validation),
        cmocka_unit_test(test_quote_doubling),
        cmocka_unit_test(test_where_parcel),
        cmocka_unit_test(test_url_exact),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_env_config),
        cmocka_unit_test(test_invalid_input_makes_no_request),
        cmocka_unit_test(test_connect_error_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
