/* Gateway route table and matcher (gateway/route_match.h): literals, captures, 404 vs 405 +
 * Allow, trailing slash, percent-decoding rules, '/' or %2F inside captures, most-specific
 * match, CRON_WORKER visibility, table validation, and the real route table + embedded pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config.h"
#include "route_match.h"
#include "routes.h"
#include "static_pages.h"

static void h_dummy(struct gw_request *req, struct gw_response *resp)
{
    (void)req;
    (void)resp;
}
static void h_other(struct gw_request *req, struct gw_response *resp)
{
    (void)req;
    (void)resp;
}

/* A table shaped like the routes of issues 2–5. */
static const gw_route table[] = {
    {GW_M_GET, "/health", h_dummy, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/healthz", h_dummy, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/report/{block}/{lot}", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/brief", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_POST, "/brief/refresh", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_POST, "/cron/{job}", h_other, GW_CLASS_CRON_TRIGGER, 0, NULL},
    {GW_M_GET, "/cron/status", h_dummy, GW_CLASS_CRON_READ, 0, NULL},
    {GW_M_GET, "/demo", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
};
#define NT (sizeof table / sizeof table[0])
#define ALL_CLASSES 0xFu

static gw_router *mk(void)
{
    sfp_err e = {0};
    gw_router *r = gw_router_create(table, NT, &e);
    assert_non_null(r);
    return r;
}

static void test_literals(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    assert_int_equal(gw_router_match(r, "GET", "/health", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[0]);
    assert_int_equal(m.ncaptures, 0);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/healthz", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[1]);
    gw_match_clear(&m);
    /* prefixes and case differences are different paths */
    assert_int_equal(gw_router_match(r, "GET", "/heal", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/Health", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/health/x", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    /* HEAD is served wherever GET is */
    assert_int_equal(gw_router_match(r, "HEAD", "/demo", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[7]);
    gw_match_clear(&m);
    gw_router_destroy(r);
}

static void test_captures(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    assert_int_equal(gw_router_match(r, "GET", "/report/3512/001", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[2]);
    assert_int_equal(m.ncaptures, 2);
    assert_string_equal(gw_match_capture(&m, "block"), "3512");
    assert_string_equal(gw_match_capture(&m, "lot"), "001");
    assert_null(gw_match_capture(&m, "nope"));
    gw_match_clear(&m);
    /* captures are decoded once */
    assert_int_equal(gw_router_match(r, "GET", "/report/35%31%32/0%30%31", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_string_equal(gw_match_capture(&m, "block"), "3512");
    assert_string_equal(gw_match_capture(&m, "lot"), "001");
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/report/%2541/001", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_string_equal(gw_match_capture(&m, "block"), "%41");
    gw_match_clear(&m);
    /* a capture may hold characters a literal may not; validation is the handler's job */
    assert_int_equal(gw_router_match(r, "GET", "/report/'%3B%20DROP/001", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_string_equal(gw_match_capture(&m, "block"), "'; DROP");
    gw_match_clear(&m);
    /* '+' is not a space in a path */
    assert_int_equal(gw_router_match(r, "GET", "/report/a+b/001", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_string_equal(gw_match_capture(&m, "block"), "a+b");
    gw_match_clear(&m);
    /* wrong number of segments */
    assert_int_equal(gw_router_match(r, "GET", "/report/3512", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/report/3512/001/x", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    gw_router_destroy(r);
}

static void test_capture_slash_rejected(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    /* a raw '/' splits segments: this is a different (unknown) shape */
    assert_int_equal(gw_router_match(r, "GET", "/report/35/12/001", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    /* %2F (either case) inside a capture is rejected with a reason naming the parameter */
    assert_int_equal(gw_router_match(r, "GET", "/report/35%2F12/001", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    assert_null(m.route);
    assert_string_equal(m.bad_param, "block");
    assert_non_null(strstr(m.error, "/"));
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/report/3512/..%2f..%2fetc", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    assert_string_equal(m.bad_param, "lot");
    gw_match_clear(&m);
    /* empty capture */
    assert_int_equal(gw_router_match(r, "GET", "/report//001", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    assert_string_equal(m.bad_param, "block");
    assert_non_null(strstr(m.error, "empty"));
    gw_match_clear(&m);
    /* control characters */
    assert_int_equal(gw_router_match(r, "GET", "/report/35%0A12/001", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    assert_string_equal(m.bad_param, "block");
    gw_match_clear(&m);
    /* %2F in a literal position just does not match */
    assert_int_equal(gw_router_match(r, "GET", "/health%2F", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    gw_router_destroy(r);
}

static void test_percent_decoding(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    assert_int_equal(gw_router_match(r, "GET", "/heal%74h", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[0]);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/heal%74H", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    /* double encoding is decoded once only */
    assert_int_equal(gw_router_match(r, "GET", "/heal%2574h", ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    /* malformed escapes and encoded NUL are bad requests, wherever they are */
    const char *bad[] = {"/health%", "/health%4", "/health%G1", "/nowhere/%zz", "/report/%00/001", "/x%0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(gw_router_match(r, "GET", bad[i], ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
        assert_non_null(m.error);
        gw_match_clear(&m);
    }
    /* request target must be a path */
    assert_int_equal(gw_router_match(r, "GET", "http://x/health", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "OPTIONS", "*", ALL_CLASSES, &m), GW_MATCH_BAD_PATH);
    gw_match_clear(&m);

    char out[32];
    assert_int_equal(gw_percent_decode("a%41%62c", 8, out), 4);
    assert_string_equal(out, "aAbc");
    assert_int_equal(gw_percent_decode("%e2%80%94", 9, out), 3); /* UTF-8 em dash */
    assert_int_equal((unsigned char)out[0], 0xe2);
    assert_int_equal(gw_percent_decode("%4", 2, out), -1);
    assert_int_equal(gw_percent_decode("%%41", 4, out), -1);
    assert_int_equal(gw_percent_decode("abc", 2, out), 2); /* only n bytes */
    assert_string_equal(out, "ab");
    gw_router_destroy(r);
}

static void test_trailing_and_empty_segments(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    const char *nf[] = {"/health/", "//health", "/health//", "/report/3512/001/", "/brief/", "/demo/"};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        assert_int_equal(gw_router_match(r, "GET", nf[i], ALL_CLASSES, &m), GW_MATCH_NOT_FOUND);
        gw_match_clear(&m);
    }
    gw_router_destroy(r);
}

static void test_405_and_allow(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    char allow[64];
    assert_int_equal(gw_router_match(r, "POST", "/health", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    assert_null(m.route);
    gw_allow_header(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD");
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/brief/refresh", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_allow_header(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "POST");
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "DELETE", "/report/1/2", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "TRACE", "/health", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_match_clear(&m);
    /* lowercase methods are not GET (methods are case-sensitive) */
    assert_int_equal(gw_router_match(r, "get", "/health", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_match_clear(&m);
    /* literal + capture routes at the same shape: GET /cron/status is the literal, POST the capture */
    assert_int_equal(gw_router_match(r, "GET", "/cron/status", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[6]);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "POST", "/cron/status", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &table[5]);
    assert_string_equal(gw_match_capture(&m, "job"), "status");
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "POST", "/cron/signals", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_string_equal(gw_match_capture(&m, "job"), "signals");
    gw_match_clear(&m);
    /* the union of all matching routes' methods */
    assert_int_equal(gw_router_match(r, "PUT", "/cron/status", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_allow_header(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, POST");
    gw_match_clear(&m);
    /* a capture route that allows only POST: GET is 405 with Allow: POST */
    assert_int_equal(gw_router_match(r, "GET", "/cron/signals", ALL_CLASSES, &m), GW_MATCH_METHOD_NOT_ALLOWED);
    gw_allow_header(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "POST");
    gw_match_clear(&m);
    gw_router_destroy(r);

    assert_int_equal(gw_allow_header(GW_M_POST | GW_M_GET | GW_M_DELETE, allow, sizeof allow), 23);
    assert_string_equal(allow, "GET, HEAD, POST, DELETE");
    assert_int_equal(gw_allow_header(GW_M_GET, allow, 5), 3); /* truncates on whole names */
    assert_string_equal(allow, "GET");
    assert_int_equal(gw_method_bit("PATCH"), GW_M_PATCH);
    assert_int_equal(gw_method_bit("BREW"), GW_M_OTHER);
}

static void test_cron_worker_visibility(void **state)
{
    (void)state;
    gw_router *r = mk();
    gw_match m;
    unsigned web = gw_visible_classes(false), worker = gw_visible_classes(true);
    /* web replica: POST /cron/{job} does not exist; GET /cron/status does */
    assert_int_equal(gw_router_match(r, "POST", "/cron/nightly", web, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/cron/status", web, &m), GW_MATCH_OK);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/demo", web, &m), GW_MATCH_OK);
    gw_match_clear(&m);
    /* hidden routes give 404, not 405 */
    assert_int_equal(gw_router_match(r, "GET", "/cron/nightly", web, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    /* cron worker: only /health* and /cron* */
    assert_int_equal(gw_router_match(r, "GET", "/health", worker, &m), GW_MATCH_OK);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "POST", "/cron/nightly", worker, &m), GW_MATCH_OK);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/cron/status", worker, &m), GW_MATCH_OK);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/demo", worker, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/report/3512/001", worker, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "POST", "/brief/refresh", worker, &m), GW_MATCH_NOT_FOUND);
    gw_match_clear(&m);
    gw_router_destroy(r);
}

static void expect_bad_table(const gw_route *t, size_t n, const char *needle)
{
    sfp_err e = {0};
    gw_router *r = gw_router_create(t, n, &e);
    assert_null(r);
    assert_non_null(strstr(e.msg, needle));
}

static void test_table_validation(void **state)
{
    (void)state;
    const gw_route amb[] = {{GW_M_GET, "/a/{x}", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
                            {GW_M_GET, "/a/{y}", h_other, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(amb, 2, "ambiguous");
    const gw_route amb_head[] = {{GW_M_GET, "/a", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
                                 {GW_M_HEAD, "/a", h_other, GW_CLASS_HEALTH, 0, NULL}};
    expect_bad_table(amb_head, 2, "ambiguous");
    const gw_route dup_name[] = {{GW_M_GET, "/a/{x}/{x}", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(dup_name, 1, "duplicate");
    const gw_route no_slash[] = {{GW_M_GET, "a", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(no_slash, 1, "start with");
    const gw_route empty_seg[] = {{GW_M_GET, "/a//b", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(empty_seg, 1, "empty segment");
    const gw_route trailing[] = {{GW_M_GET, "/a/", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(trailing, 1, "empty segment");
    const gw_route bad_cap[] = {{GW_M_GET, "/a/{X}", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(bad_cap, 1, "capture");
    const gw_route half_cap[] = {{GW_M_GET, "/a/{x", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(half_cap, 1, "capture");
    const gw_route bad_lit[] = {{GW_M_GET, "/a b", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(bad_lit, 1, "literal");
    const gw_route no_handler[] = {{GW_M_GET, "/a", NULL, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(no_handler, 1, "handler");
    const gw_route no_method[] = {{0, "/a", h_dummy, GW_CLASS_PUBLIC, 0, NULL}};
    expect_bad_table(no_method, 1, "method");
    /* same shape, disjoint methods, or literal vs capture: fine */
    const gw_route ok[] = {{GW_M_GET, "/a/{x}", h_dummy, GW_CLASS_PUBLIC, 0, NULL},
                           {GW_M_POST, "/a/{y}", h_other, GW_CLASS_PUBLIC, 0, NULL},
                           {GW_M_GET, "/a/b", h_other, GW_CLASS_PUBLIC, 0, NULL},
                           {GW_M_GET, "/", h_other, GW_CLASS_PUBLIC, 0, NULL}};
    sfp_err e = {0};
    gw_router *r = gw_router_create(ok, 4, &e);
    assert_non_null(r);
    gw_match m;
    assert_int_equal(gw_router_match(r, "GET", "/", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &ok[3]);
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "GET", "/a/b", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &ok[2]); /* most specific wins although listed later */
    gw_match_clear(&m);
    assert_int_equal(gw_router_match(r, "POST", "/a/b", ALL_CLASSES, &m), GW_MATCH_OK);
    assert_ptr_equal(m.route, &ok[1]);
    assert_string_equal(gw_match_capture(&m, "y"), "b");
    gw_match_clear(&m);
    gw_router_destroy(r);
}

/* The real table of the gateway compiles, its static routes have embedded pages, and the pages
 * have real content. */
static void test_real_table_and_pages(void **state)
{
    (void)state;
    sfp_err e = {0};
    gw_router *r = gw_router_create(gw_routes, gw_routes_count, &e);
    assert_non_null(r);
    gw_router_destroy(r);
    assert_int_equal(gw_routes_check(&e), 0);
    const char *pages[] = {"/methodology", "/about-data", "/demo"};
    for (size_t i = 0; i < 3; i++) {
        const gw_static_page *p = gw_static_page_find(pages[i]);
        assert_non_null(p);
        assert_true(p->len > 1500);
        assert_int_equal(strlen(p->data), p->len);
        assert_non_null(strstr(p->data, "<html"));
        assert_non_null(strstr(p->data, "</html>"));
        assert_int_equal(p->etag[0], '"');
        assert_int_equal(strlen(p->etag), 18);
        assert_string_equal(p->content_type, "text/html; charset=utf-8");
    }
    const gw_static_page *about = gw_static_page_find("/about-data");
    const char *ids[] = {"i98e-djp9", "87xy-gk8d", "3pee-9qhc", "vckc-dh2h", "gm2e-bten", "nbtm-fbw5", "wv5m-vpq2"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) assert_non_null(strstr(about->data, ids[i]));
    const gw_static_page *demo = gw_static_page_find("/demo");
    const char *parcels[] = {"3512/001", "3507/004", "1386/025", "0312/005", "curl "};
    for (size_t i = 0; i < sizeof parcels / sizeof parcels[0]; i++) assert_non_null(strstr(demo->data, parcels[i]));
    const gw_static_page *meth = gw_static_page_find("/methodology");
    const char *words[] = {"Risk rules", "Table B", "severity", "signals", "Caching and freshness", "15 minutes"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) assert_non_null(strstr(meth->data, words[i]));
    assert_null(gw_static_page_find("/nope"));
    assert_string_equal(GW_STATIC_CACHE_CONTROL, "public, max-age=3600, stale-while-revalidate=86400");
}

static void test_config(void **state)
{
    (void)state;
    gw_config c;
    gw_config_defaults(&c);
    sfp_err e = {0};
    assert_int_equal(gw_config_split_addr("GATEWAY_ADDR", "127.0.0.1:0", &c, &e), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 0);
    assert_int_equal(gw_config_split_addr("GATEWAY_ADDR", "[::1]:8080", &c, &e), 0);
    assert_string_equal(c.host, "::1");
    assert_int_equal(c.port, 8080);
    assert_int_equal(gw_config_split_addr("GATEWAY_ADDR", "unix:/tmp/x.sock", &c, &e), -1);
    assert_non_null(strstr(e.msg, "GATEWAY_ADDR"));
    assert_int_equal(gw_config_split_addr("GATEWAY_ADDR", "localhost:99999", &c, &e), -1);
    assert_non_null(strstr(e.msg, "GATEWAY_ADDR"));

    setenv("GATEWAY_MAX_URL", "abc", 1);
    assert_int_equal(gw_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "GATEWAY_MAX_URL"));
    unsetenv("GATEWAY_MAX_URL");
    setenv("CRON_WORKER", "maybe", 1);
    assert_int_equal(gw_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "CRON_WORKER"));
    setenv("CRON_WORKER", "TRUE", 1);
    setenv("GATEWAY_MAX_BODY", "100", 1);
    assert_int_equal(gw_config_from_env(&c, &e), 0);
    assert_true(c.cron_worker);
    assert_int_equal(c.max_body, 100);
    assert_int_equal(c.max_url, 2048);
    assert_int_equal(c.max_connections, 10000);
    assert_int_equal(c.max_conn_per_client, 256);
    assert_int_equal(c.head_timeout_ms, 10000);
    assert_int_equal(c.max_header_bytes, 4096);
    assert_true(c.threads >= 2);
    unsetenv("CRON_WORKER");
    unsetenv("GATEWAY_MAX_BODY");
    setenv("GATEWAY_MAX_CONNECTIONS", "0", 1);
    assert_int_equal(gw_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "GATEWAY_MAX_CONNECTIONS"));
    unsetenv("GATEWAY_MAX_CONNECTIONS");
    /* the new variables refuse bad values, naming themselves */
    static const char *const bad[][2] = {{"GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "-1"},
                                         {"GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "x"},
                                         {"GATEWAY_HEAD_TIMEOUT_MS", "99"},
                                         {"GATEWAY_HEAD_TIMEOUT_MS", "600001"},
                                         {"GATEWAY_THREADS", "-1"},
                                         {"GATEWAY_THREADS", "65"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(bad[i][0], bad[i][1], 1);
        assert_int_equal(gw_config_from_env(&c, &e), -1);
        assert_non_null(strstr(e.msg, bad[i][0]));
        unsetenv(bad[i][0]);
    }
    setenv("GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "0", 1);
    setenv("GATEWAY_HEAD_TIMEOUT_MS", "2500", 1);
    setenv("GATEWAY_THREADS", "3", 1);
    assert_int_equal(gw_config_from_env(&c, &e), 0);
    assert_int_equal(c.max_conn_per_client, 0);
    assert_int_equal(c.head_timeout_ms, 2500);
    assert_int_equal(c.threads, 3);
    unsetenv("GATEWAY_MAX_CONNECTIONS_PER_CLIENT");
    unsetenv("GATEWAY_HEAD_TIMEOUT_MS");
    unsetenv("GATEWAY_THREADS");
    setenv("HEALTH_SVC_ADDR", "nohostport", 1);
    assert_int_equal(gw_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "HEALTH_SVC_ADDR"));
    unsetenv("HEALTH_SVC_ADDR");
    assert_int_equal(gw_config_from_env(&c, &e), 0);
    assert_string_equal(c.addr, "127.0.0.1:8080");
    /* the MHD memory pool holds a head of the limit plus 2 KiB of its own records, and no more
     * (it stays committed for every keep-alive connection) */
    assert_int_equal(gw_config_conn_memory(&c), 4096 + 2048);
    assert_int_equal(gw_config_conn_memory(&c) % 1024, 0);
    c.max_header_bytes = 1048576;
    assert_int_equal(gw_config_conn_memory(&c), 1048576 + 2048);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_captures),
        cmocka_unit_test(test_capture_slash_rejected),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_trailing_and_empty_segments),
        cmocka_unit_test(test_405_and_allow),
        cmocka_unit_test(test_cron_worker_visibility),
        cmocka_unit_test(test_table_validation),
        cmocka_unit_test(test_real_table_and_pages),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
