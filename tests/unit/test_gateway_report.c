/* The gateway's read-reply handling (gateway/gw_read.c, handlers_report.c, handlers_brief.c):
 * a GetPropertyReportResponse / GetBriefResponse is received through its packed view; the REST
 * JSON is the content's generic encoding (cached by etag in the server's JSON cache) with the
 * per-request members rendered from the metadata before the closing brace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gw_json_cache.h"
#include "gw_read.h"
#include "handlers.h"
#include "pbjson.h"
#include "report_sample.h"
#include "rpc.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

#define BRIEF_RPC "/sfpermits.v1.BriefService/GetBrief"

/* The body the route must send: the content's own encoding with `tail` before its brace. */
static char *expected(const ProtobufCMessage *content, const char *tail)
{
    size_t n;
    char *j = sfp_pbjson_encode(content, &n);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_append(&b, j, n - 1);
    sfp_buf_puts(&b, tail);
    sfp_buf_putc(&b, '}');
    free(j);
    return sfp_buf_steal(&b, &n);
}

static void parse(gw_read_reply *r, const ProtobufCMessage *resp, const char *rpc)
{
    size_t n;
    uint8_t *w = sfp_test_pack(resp, &n);
    sfp_rpc_status st;
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_read_parse_bytes(r, GW_BACKEND_REPORT, rpc, w, n, &st), 0);
    free(w);
    assert_null(r->content); /* the content is not decoded by parsing */
}

/* One GET /report body from the sample, compared with the expected bytes. */
static void check_report(gw_json_cache *cache, sfp_test_report_sample *s, const char *want_tail, bool want_hit)
{
    gw_read_reply r;
    parse(&r, &s->resp.base, GW_REPORT_RPC);
    size_t len = 0;
    bool hit = !want_hit;
    sfp_rpc_status st;
    char *body = gw_report_json(cache, &r, &len, &hit, &st);
    assert_non_null(body);
    char *want = expected(&s->r.base, want_tail);
    assert_string_equal(body, want);
    assert_int_equal(len, strlen(want));
    assert_true(hit == want_hit);
    assert_true((r.content != NULL) == !want_hit); /* a hit never decodes the report */
    free(want);
    free(body);
    gw_read_free(&r);
}

static void test_report_json_shape_and_cache(void **state)
{
    (void)state;
    gw_json_cache *cache = gw_json_cache_new(16, 1 << 20);
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    char src[512];
    {
        size_t n;
        char *j = sfp_pbjson_encode(&s.st.base, &n);
        snprintf(src, sizeof src, "%s", j);
        free(j);
    }
    char tail[1024];
    snprintf(tail, sizeof tail,
             ",\"sources\":{\"complaints\":%s,\"violations\":null,\"tax_roll\":null,\"max_age_seconds\":600},"
             "\"debug\":{\"sql_queries\":10,\"soda_requests\":0,\"elapsed_ms\":12.5,\"report_cache_hit\":false},"
             "\"generated_at\":\"2026-01-08T10:00:00.000Z\"",
             src);
    check_report(cache, &s, tail, false); /* first: decoded and encoded, then kept */
    /* the same content (etag) with this request's metadata: the cached JSON + a new tail */
    s.dbg.cached = true;
    s.dbg.sql_queries = 0;
    s.dbg.elapsed_ms = 0.25;
    s.md.max_age_seconds = 1200;
    snprintf(tail, sizeof tail,
             ",\"sources\":{\"complaints\":%s,\"violations\":null,\"tax_roll\":null,\"max_age_seconds\":1200},"
             "\"debug\":{\"sql_queries\":0,\"soda_requests\":0,\"elapsed_ms\":0.25,\"report_cache_hit\":true},"
             "\"generated_at\":\"2026-01-08T10:00:00.000Z\"",
             src);
    check_report(cache, &s, tail, true);
    /* a new content comes with a new etag: a miss, then a hit */
    s.c.name = "Ann Builder Jr";
    s.md.etag = "ffffffffffffffffffffffffffffffff";
    check_report(cache, &s, tail, false);
    check_report(cache, &s, tail, true);
    /* no etag: rendered every time, never stored */
    s.md.etag = "";
    check_report(cache, &s, tail, false);
    check_report(cache, &s, tail, false);
    /* no cache at all (a server without one, unit tests): rendered every time */
    s.md.etag = "ffffffffffffffffffffffffffffffff";
    check_report(NULL, &s, tail, false);
    gw_json_cache_stats cs;
    gw_json_cache_get_stats(cache, &cs);
    assert_int_equal(cs.entries, 2);
    assert_int_equal(cs.hits, 2);
    gw_json_cache_free(cache);
}

static void test_report_max_age_and_metadata_absent(void **state)
{
    (void)state;
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    gw_read_reply r;
    s.md.max_age_seconds = 1200;
    parse(&r, &s.resp.base, GW_REPORT_RPC);
    assert_int_equal(gw_report_max_age(&r), 900);
    gw_read_free(&r);
    s.md.max_age_seconds = -5;
    parse(&r, &s.resp.base, GW_REPORT_RPC);
    assert_int_equal(gw_report_max_age(&r), 0);
    gw_read_free(&r);
    /* a reply without metadata: zero values, null sources, no etag */
    s.resp.metadata = NULL;
    parse(&r, &s.resp.base, GW_REPORT_RPC);
    assert_int_equal(gw_report_max_age(&r), 0);
    sfp_buf b;
    sfp_buf_init(&b);
    gw_report_json_tail(&b, &r);
    sfp_buf_putc(&b, '\0');
    assert_string_equal(b.data, ",\"sources\":{\"complaints\":null,\"violations\":null,\"tax_roll\":null,"
                                "\"max_age_seconds\":0},\"debug\":{\"sql_queries\":0,\"soda_requests\":0,"
                                "\"elapsed_ms\":0,\"report_cache_hit\":false},\"generated_at\":\"\"");
    sfp_buf_free(&b);
    gw_read_free(&r);
}

/* GET /brief: the same scheme with the brief's members; the cache is keyed by kind and etag, so
 * a brief never gets a report's entry. */
static void test_brief_json(void **state)
{
    (void)state;
    gw_json_cache *cache = gw_json_cache_new(16, 1 << 20);
    Sfpermits__V1__Brief m = SFPERMITS__V1__BRIEF__INIT;
    Sfpermits__V1__BriefChange c = SFPERMITS__V1__BRIEF_CHANGE__INIT, *cp = &c;
    c.permit_number = "202401010001";
    c.label = "he said \"cached\":true, ok";
    m.changes = &cp;
    m.n_changes = 1;
    m.lookback_days = 7;
    m.since = "2026-01-01";
    Sfpermits__V1__ReadDebug dbg = SFPERMITS__V1__READ_DEBUG__INIT;
    Sfpermits__V1__ReadMetadata md = SFPERMITS__V1__READ_METADATA__INIT;
    md.etag = "0123456789abcdef0123456789abcdef";
    md.generated_at = "2026-01-08T10:00:00.000Z";
    md.max_age_seconds = 1800;
    md.debug = &dbg;
    dbg.sql_queries = 30;
    Sfpermits__V1__GetBriefResponse resp = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    resp.brief = &m;
    resp.metadata = &md;
    gw_json_entry_unref(gw_json_cache_put(cache, "report:0123456789abcdef0123456789abcdef", strdup("{\"x\":1}"), 7));
    const char *tails[2] = {
        ",\"cached\":false,\"cached_at\":\"\",\"computed_at\":\"2026-01-08T10:00:00.000Z\","
        "\"ttl_seconds_remaining\":1800,\"etag\":\"0123456789abcdef0123456789abcdef\",\"sql_queries\":30",
        ",\"cached\":true,\"cached_at\":\"2026-01-08T10:00:00.000Z\",\"computed_at\":\"2026-01-08T10:00:00.000Z\","
        "\"ttl_seconds_remaining\":1799,\"etag\":\"0123456789abcdef0123456789abcdef\",\"sql_queries\":2",
    };
    for (int i = 0; i < 2; i++) {
        if (i) {
            dbg.cached = true;
            dbg.sql_queries = 2;
            md.max_age_seconds = 1799;
        }
        gw_read_reply r;
        parse(&r, &resp.base, BRIEF_RPC);
        size_t len;
        bool hit = i == 0;
        sfp_rpc_status st;
        char *body = gw_brief_json(cache, &r, &len, &hit, &st);
        char *want = expected(&m.base, tails[i]);
        assert_string_equal(body, want);
        assert_true(hit == (i == 1)); /* first: not the report's entry */
        free(want);
        free(body);
        gw_read_free(&r);
    }
    gw_json_cache_free(cache);
}

/* The route's response borrows the cached JSON (no copy) and owns only the tail; the borrowed
 * part stays valid while the response lives, even when the cache drops the entry. */
static void test_respond_shares_cached_json(void **state)
{
    (void)state;
    gw_json_cache *cache = gw_json_cache_new(16, 1 << 20);
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    sfp_buf tail;
    for (int i = 0; i < 2; i++) {
        gw_read_reply r;
        parse(&r, &s.resp.base, GW_REPORT_RPC);
        sfp_buf_init(&tail);
        gw_report_json_tail(&tail, &r);
        sfp_buf_putc(&tail, '\0');
        gw_response resp;
        gw_resp_init(&resp);
        bool hit = i == 0;
        sfp_rpc_status st;
        assert_int_equal(gw_read_respond(cache, "report", &r, &sfpermits__v1__property_report__descriptor, tail.data,
                                         tail.len - 1, &resp, &hit, &st),
                         0);
        assert_true(hit == (i == 1));
        gw_read_free(&r);
        gw_json_cache_clear(cache); /* the response still holds its reference */
        assert_int_equal(resp.status, 200);
        assert_non_null(resp.shared_head);
        char *want = expected(&s.r.base, tail.data);
        size_t wl = strlen(want);
        assert_int_equal(resp.shared_len + resp.body_len, wl);
        assert_memory_equal(resp.shared_head, want, resp.shared_len);
        assert_memory_equal(resp.body, want + resp.shared_len, resp.body_len);
        free(want);
        sfp_buf_free(&tail);
        if (i == 0) { /* put it back for the second round's hit */
            gw_json_entry_unref(gw_json_cache_put(cache, "report:0123456789abcdef0123456789abcdef",
                                                  strndup(resp.shared_head, resp.shared_len + 1), resp.shared_len + 1));
        }
        gw_resp_free(&resp); /* releases the entry */
    }
    gw_json_cache_free(cache);
}

static void test_undecodable(void **state)
{
    (void)state;
    gw_read_reply r;
    sfp_rpc_status st;
    /* the view itself is malformed */
    const uint8_t bad[] = {0x0a, 0x05, '3', '5'};
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_read_parse_bytes(&r, GW_BACKEND_REPORT, GW_REPORT_RPC, bad, sizeof bad, &st), -1);
    assert_int_equal(st.code, GRPC_STATUS_INTERNAL);
    assert_string_equal(st.message, "response could not be decoded");
    /* the view decodes, the content does not: the body fails with INTERNAL */
    const uint8_t bad_content[] = {0x0a, 0x02, 0x0a, 0x05, 0x12, 0x04, 0x0a, 0x02, 'e', 't'};
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_read_parse_bytes(&r, GW_BACKEND_REPORT, GW_REPORT_RPC, bad_content, sizeof bad_content, &st),
                     0);
    assert_string_equal(r.md->etag, "et");
    size_t len = 0;
    bool hit = true;
    assert_null(gw_report_json(NULL, &r, &len, &hit, &st));
    assert_false(hit);
    assert_int_equal(st.code, GRPC_STATUS_INTERNAL);
    gw_read_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_json_shape_and_cache),
        cmocka_unit_test(test_report_max_age_and_metadata_absent),
        cmocka_unit_test(test_brief_json),
        cmocka_unit_test(test_respond_shares_cached_json),
        cmocka_unit_test(test_undecodable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
