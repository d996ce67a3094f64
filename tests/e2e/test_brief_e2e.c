/* E2E: sfp-brief + sfp-gateway processes on ephemeral ports against a migrated database seeded
 * by `sfp-seed --scale demo`, driven with libcurl:
 *   401 JSON + WWW-Authenticate: Bearer (no token, unknown token, refresh without token);
 *   200 JSON with cached false then true and cached_at = the first computed_at;
 *   Cache-Control: private, max-age=<remaining TTL>, Vary: Accept, Cookie, Authorization, weak ETag and
 *   If-None-Match → 304 without a body; ?lookback parsing, out of range → 400 with the field violation, unknown parameter → 400;
 *   POST /brief/refresh 200 {"invalidated":N} then the next GET recomputes, a second refresh →
 *   429 + Retry-After; GET on /brief/refresh → 405; HEAD /brief; X-Response-Time everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhttp.h"
#include "testsupport.h"

static char *g_db_url;
static sfp_proc g_brief, g_gw;

typedef sfp_http_resp resp;
#define resp_free sfp_http_resp_free

/* method GET/POST/HEAD; h1, h2: extra header lines or NULL. */
static resp http(const char *method, const char *path, const char *h1, const char *h2)
{
    const char *hs[3] = {h1 ? h1 : h2, h1 ? h2 : NULL, NULL};
    resp r;
    assert_int_equal(sfp_http(NULL, g_gw.port, method, path, hs, NULL, 0, &r), 0);
    return r;
}

static const char *hdr(const resp *r, const char *name, char *out, size_t cap)
{
    return sfp_http_header(r, name, out, cap);
}

static void assert_header(const resp *r, const char *name, const char *want)
{
    char v[256];
    if (!hdr(r, name, v, sizeof v)) fail_msg("no %s header in:\n%s", name, r->hdrs);
    if (want && strcmp(v, want)) fail_msg("%s: '%s', want '%s'", name, v, want);
}

static void assert_error(const resp *r, long status, int code, const char *name)
{
    if (r->status != status) fail_msg("status %ld want %ld: %s", r->status, status, r->body);
    assert_header(r, "Content-Type", "application/json");
    assert_header(r, "X-Response-Time", NULL);
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, code);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, name);
    assert_true(strlen(cJSON_GetObjectItem(j, "message")->valuestring) > 0);
    cJSON_Delete(j);
}

#define ALICE "Authorization: Bearer demo-token-alice"
#define BOB "Authorization: Bearer demo-token-bob"

static cJSON *json_ok(const resp *r)
{
    if (r->status != 200) fail_msg("status %ld: %s", r->status, r->body);
    assert_header(r, "Content-Type", "application/json");
    cJSON *j = cJSON_Parse(r->body);
    if (!j) fail_msg("not JSON: %.200s", r->body);
    return j;
}

/* ------------------------------------------------------------------ tests */

static void test_unauthenticated_401(void **state)
{
    (void)state;
    const char *hdrs[] = {NULL, "Authorization: Bearer wrong-token", "Authorization: Basic YWxpY2U6eA=="};
    for (size_t i = 0; i < 3; i++) {
        resp r = http("GET", "/brief", hdrs[i], NULL);
        assert_error(&r, 401, 16, "UNAUTHENTICATED");
        assert_header(&r, "WWW-Authenticate", "Bearer");
        char v[64];
        assert_null(hdr(&r, "ETag", v, sizeof v));
        resp_free(&r);
    }
    resp r = http("POST", "/brief/refresh", NULL, NULL);
    assert_error(&r, 401, 16, "UNAUTHENTICATED");
    assert_header(&r, "WWW-Authenticate", "Bearer");
    resp_free(&r);
}

static void test_brief_cached_headers_etag(void **state)
{
    (void)state;
    resp r1 = http("GET", "/brief", ALICE, NULL);
    cJSON *j1 = json_ok(&r1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j1, "cached")));
    assert_string_equal(cJSON_GetObjectItem(j1, "cached_at")->valuestring, "");
    assert_int_equal(cJSON_GetObjectItem(j1, "lookback_days")->valueint, 1);
    const char *arrays[] = {"changes",  "plan_reviews",    "inspections", "new_filings",
                            "expiring", "property_health", "warnings"};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(j1, arrays[i])));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j1, "summary")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j1, "pipeline_stats")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j1, "pipeline_health")));
    assert_header(&r1, "Cache-Control", "private, max-age=1800");
    assert_header(&r1, "Vary", "Accept, Cookie, Authorization"); /* JSON or page; token or session cookie */
    assert_header(&r1, "X-Response-Time", NULL);
    char etag[128];
    assert_non_null(hdr(&r1, "ETag", etag, sizeof etag));
    regex_t re;
    assert_int_equal(regcomp(&re, "^W/\"[0-9a-f]{32}\"$", REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, etag, 0, NULL, 0), 0);
    regfree(&re);

    resp r2 = http("GET", "/brief", ALICE, NULL);
    cJSON *j2 = json_ok(&r2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j2, "cached")));
    assert_string_equal(cJSON_GetObjectItem(j2, "cached_at")->valuestring,
                        cJSON_GetObjectItem(j1, "computed_at")->valuestring);
    char cc[128], etag2[128];
    assert_non_null(hdr(&r2, "Cache-Control", cc, sizeof cc));
    int max_age = -1;
    assert_int_equal(sscanf(cc, "private, max-age=%d", &max_age), 1);
    assert_true(max_age > 1700 && max_age <= 1800); /* the remaining TTL, not the configured one */
    assert_non_null(hdr(&r2, "ETag", etag2, sizeof etag2));
    assert_string_equal(etag, etag2);

    /* revalidation */
    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    resp r3 = http("GET", "/brief", ALICE, inm);
    assert_int_equal(r3.status, 304);
    assert_int_equal(r3.len, 0);
    assert_header(&r3, "ETag", etag);
    assert_header(&r3, "Vary", "Accept, Cookie, Authorization");
    assert_header(&r3, "X-Response-Time", NULL);
    resp r4 = http("GET", "/brief", ALICE, "If-None-Match: W/\"0123456789abcdef0123456789abcdef\"");
    assert_int_equal(r4.status, 200);
    /* another user's validator never matches this user's page */
    resp rb = http("GET", "/brief", BOB, inm);
    assert_int_equal(rb.status, 200);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    resp_free(&r1);
    resp_free(&r2);
    resp_free(&r3);
    resp_free(&r4);
    resp_free(&rb);

    resp h = http("HEAD", "/brief", ALICE, NULL);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.len, 0);
    resp_free(&h);
}

static void test_lookback_param(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        int want;
    } cases[] = {{"?lookback=7", 7}, {"?lookback=abc", 1}, {"?lookback=90", 90}, {"?lookback=0", 1}, {"?lookback=", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/brief%s", cases[i].q);
        resp r = http("GET", path, BOB, NULL);
        cJSON *j = json_ok(&r);
        assert_int_equal(cJSON_GetObjectItem(j, "lookback_days")->valueint, cases[i].want);
        cJSON_Delete(j);
        resp_free(&r);
    }
    /* out of range: 400 with the service's field violation (not clamped) */
    static const char *const bad[] = {"?lookback=500", "?lookback=91", "?lookback=-3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/brief%s", bad[i]);
        resp b = http("GET", path, BOB, NULL);
        assert_error(&b, 400, 3, "INVALID_ARGUMENT");
        cJSON *j = cJSON_ParseWithLength(b.body, b.len);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "ARGUMENT_OUT_OF_RANGE");
        assert_string_equal(cJSON_GetObjectItem(j, "domain")->valuestring, "sfpermits.dev");
        cJSON *fv = cJSON_GetObjectItem(j, "field_violations");
        assert_int_equal(cJSON_GetArraySize(fv), 1);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fv, 0), "field")->valuestring, "lookback_days");
        assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(fv, 0), "description")->valuestring, "1..90"));
        assert_null(cJSON_GetObjectItem(j, "retry_after_s"));
        cJSON_Delete(j);
        resp_free(&b);
    }
    resp r = http("GET", "/brief?user=2", BOB, NULL); /* no parameter can name a user */
    assert_error(&r, 400, 3, "INVALID_ARGUMENT");
    resp_free(&r);
}

static void test_refresh_then_429(void **state)
{
    (void)state;
    resp warm = http("GET", "/brief?lookback=3", "Authorization: Bearer demo-token-carol", NULL);
    assert_int_equal(warm.status, 200);
    resp_free(&warm);
    resp r = http("POST", "/brief/refresh", "Authorization: Bearer demo-token-carol", NULL);
    cJSON *j = json_ok(&r);
    assert_int_equal(cJSON_GetObjectItem(j, "invalidated")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "retry_after_seconds")->valueint, 300);
    assert_header(&r, "Cache-Control", "no-store");
    cJSON_Delete(j);
    resp_free(&r);
    resp g = http("GET", "/brief?lookback=3", "Authorization: Bearer demo-token-carol", NULL);
    j = json_ok(&g);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "cached"))); /* recomputed */
    cJSON_Delete(j);
    resp_free(&g);
    resp again = http("POST", "/brief/refresh", "Authorization: Bearer demo-token-carol", NULL);
    assert_error(&again, 429, 8, "RESOURCE_EXHAUSTED");
    char ra[32];
    assert_non_null(hdr(&again, "Retry-After", ra, sizeof ra));
    long secs = strtol(ra, NULL, 10);
    assert_true(secs > 290 && secs <= 300);
    /* the body renders the RetryInfo and ErrorInfo the service sent */
    cJSON *e = cJSON_ParseWithLength(again.body, again.len);
    assert_non_null(e);
    assert_int_equal(cJSON_GetObjectItem(e, "retry_after_s")->valueint, secs);
    assert_string_equal(cJSON_GetObjectItem(e, "reason")->valuestring, "RATE_LIMITED");
    cJSON_Delete(e);
    resp_free(&again);
    resp m = http("GET", "/brief/refresh", "Authorization: Bearer demo-token-carol", NULL);
    assert_int_equal(m.status, 405);
    assert_header(&m, "Allow", "POST");
    resp_free(&m);
}

/* ------------------------------------------------------------------ fixture */

static int seed(const char *url)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("DATABASE_URL", url, 1);
        setenv("LOG_LEVEL", "warn", 1);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execl(SFP_BIN_DIR "/sfp-seed", "sfp-seed", "--scale", "demo", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_db_url = sfp_test_migrated_db("e2e_brief");
    if (seed(g_db_url) != 0) return -1;
    static char env_db[1100], env_brief[64];
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", g_db_url);
    const char *benv[] = {env_db, "LISTEN_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_brief, "sfp-brief", benv)) return -1;
    snprintf(env_brief, sizeof env_brief, "BRIEF_SVC_ADDR=127.0.0.1:%d", g_brief.port);
    const char *genv[] = {env_brief, "GATEWAY_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_gw, "sfp-gateway", genv)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int gw = g_gw.pid > 0 ? sfp_proc_stop(&g_gw, 10000) : 0;
    int br = g_brief.pid > 0 ? sfp_proc_stop(&g_brief, 10000) : 0;
    free(g_db_url);
    curl_global_cleanup();
    if (gw != 0 || br != 0) {
        fprintf(stderr, "unclean exit: gateway %d brief %d (logs %s %s)\n", gw, br, g_gw.log_path, g_brief.log_path);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unauthenticated_401),
        cmocka_unit_test(test_brief_cached_headers_etag),
        cmocka_unit_test(test_lookback_param),
        cmocka_unit_test(test_refresh_then_429),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
