/* E2E: sfp-health + sfp-gateway on ephemeral ports against a throwaway migrated database,
 * driven with libcurl and raw sockets.
 *
 * Covers: /health JSON (pool_stats, cache_stats, tables with integer counts; HTTP status agrees
 * with the status field; ?full forwarded), /healthz, /readyz, static pages (exact Cache-Control,
 * ETag/304, HEAD), X-Response-Time (^[0-9]+\.[0-9]ms$) on 200/304/400/404/405/413/414/431/503,
 * JSON error bodies, keep-alive (curl connection reuse after 200, 404, 405; two pipelined
 * requests on one socket), limits (3000-char URL → 414, 32 KiB header and many headers → 431,
 * Content-Length and chunked bodies → 413, a 300 KiB header block → the front's own 431 JSON,
 * gateway unharmed), X-Request-Id echo /
 * generation / access log, X-Timeout-Ms validation, the backend going away (503 + Retry-After,
 * readiness flips after its 2 s cache), invalid env → exit 2 naming the variable, SIGTERM → exit
 * 0, and a restart on the same port (no orphan holds it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testhttp.h"
#include "testsupport.h"

#define STATIC_CC "public, max-age=3600, stale-while-revalidate=86400"

static char *g_db_url;
static sfp_proc g_health, g_gw;
static char g_env_db[1024], g_env_health_addr[64];
static regex_t g_rt_re;

/* ------------------------------------------------------------------ helpers */

typedef sfp_http_resp resp;
#define resp_free sfp_http_resp_free

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One request through handle h (NULL: a fresh handle). Returns the curl code. */
static CURLcode http(CURL *h, int port, const char *method, const char *path, const char *const *headers,
                     const char *body, size_t blen, resp *r)
{
    return (CURLcode)sfp_http(h, port, method, path, headers, body, blen, r);
}

static resp get(const char *path)
{
    resp r;
    assert_int_equal(http(NULL, g_gw.port, "GET", path, NULL, NULL, 0, &r), CURLE_OK);
    return r;
}

/* Value of the last occurrence of header `name` in a raw header block (case-insensitive), or
 * NULL. Writes into out. */
static const char *header_in(const char *block, const char *name, char *out, size_t cap)
{
    const char *found = NULL;
    size_t nl = strlen(name);
    for (const char *p = block; p && *p;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (ll > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            size_t vl = (size_t)(p + ll - v);
            if (vl >= cap) vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            found = out;
        }
        p = e ? e + 2 : NULL;
    }
    return found;
}

static const char *hdr(const resp *r, const char *name, char *out, size_t cap)
{
    return r->hdrs ? header_in(r->hdrs, name, out, cap) : NULL;
}

static void assert_response_time(const char *block)
{
    char v[64];
    const char *rt = header_in(block, "X-Response-Time", v, sizeof v);
    if (!rt) fail_msg("no X-Response-Time in:\n%s", block);
    if (regexec(&g_rt_re, rt, 0, NULL, 0) != 0) fail_msg("X-Response-Time '%s' does not match", rt);
    double ms = strtod(rt, NULL);
    assert_true(ms >= 0.0 && ms < 60000.0);
}

static void assert_common_headers(const resp *r)
{
    assert_non_null(r->hdrs);
    assert_response_time(r->hdrs);
    char v[256];
    assert_non_null(hdr(r, "X-Request-Id", v, sizeof v));
    assert_true(strlen(v) >= 1);
}

/* JSON error body {"code":<code>,"status":"<name>","message":"..."} with Content-Type JSON. */
static void assert_error_body(const resp *r, int code, const char *name)
{
    char v[128];
    assert_non_null(hdr(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    if (!j) fail_msg("error body is not JSON: %s", r->body);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
    cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    assert_true(cJSON_IsNumber(c));
    assert_int_equal(c->valueint, code);
    assert_true(cJSON_IsString(s));
    assert_string_equal(s->valuestring, name);
    assert_true(cJSON_IsString(m));
    assert_true(strlen(m->valuestring) > 0);
    cJSON_Delete(j);
}

static bool is_integer(const cJSON *n)
{
    return cJSON_IsNumber(n) && isfinite(n->valuedouble) && n->valuedouble == floor(n->valuedouble);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raw_send(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return; /* the server may close early; callers check what came back */
        p += w;
        n -= (size_t)w;
    }
}

static int count_occ(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Reads until `want` responses (counted by "HTTP/1.1 " status lines, each with its complete
 * Content-Length body) arrived, EOF, or timeout. Returns bytes read; *eof set on EOF/reset. */
static size_t raw_read(int fd, char *out, size_t cap, int want, int timeout_ms, bool *eof)
{
    size_t n = 0;
    *eof = false;
    out[0] = '\0';
    for (int waited = 0; waited < timeout_ms;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0) {
            waited += 50;
        } else {
            ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
            if (r <= 0) {
                *eof = true;
                break;
            }
            n += (size_t)r;
            out[n] = '\0';
        }
        /* complete when `want` header blocks and their bodies are in */
        int done = 0;
        const char *p = out;
        while (done < want) {
            const char *h = strstr(p, "HTTP/1.1 ");
            const char *e = h ? strstr(h, "\r\n\r\n") : NULL;
            if (!e) break;
            char cl[32];
            char hb[4096];
            size_t hl = (size_t)(e - h) + 2;
            if (hl >= sizeof hb) hl = sizeof hb - 1;
            memcpy(hb, h, hl);
            hb[hl] = '\0';
            long body = header_in(hb, "Content-Length", cl, sizeof cl) ? atol(cl) : 0;
            if ((size_t)(out + n - (e + 4)) < (size_t)body) break;
            p = e + 4 + body;
            done++;
        }
        if (done >= want) break;
    }
    return n;
}

/* Runs SFP_BIN_DIR/binary with extra env; returns its exit status (or -1), stderr into log. */
static int run_to_exit(const char *binary, const char *const *env, const char *log, int timeout_ms)
{
    int fd = open(log, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(fd >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", SFP_BIN_DIR, binary);
        char *argv[] = {path, NULL};
        execv(path, argv);
        _exit(127);
    }
    close(fd);
    for (int w = 0; w < timeout_ms; w += 10) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static int start_gateway(sfp_proc *p, const char *addr)
{
    static char env_addr[64];
    snprintf(env_addr, sizeof env_addr, "GATEWAY_ADDR=%s", addr);
    const char *env[] = {env_addr, g_env_health_addr, "LOG_LEVEL=info", NULL};
    return sfp_proc_start(p, "sfp-gateway", env);
}

/* ------------------------------------------------------------------ setup */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(regcomp(&g_rt_re, "^[0-9]+\\.[0-9]ms$", REG_EXTENDED | REG_NOSUB), 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_db_url = sfp_test_migrated_db("e2e_gateway");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", g_db_url);
    /* peers "off": sfp-health reports on the database only, quickly and deterministically */
    const char *henv[] = {
        g_env_db, "LISTEN_ADDR=127.0.0.1:0", "REPORT_SVC_ADDR=off", "BRIEF_SVC_ADDR=off", "CRON_SVC_ADDR=off", NULL};
    if (sfp_proc_start(&g_health, "sfp-health", henv)) return -1;
    snprintf(g_env_health_addr, sizeof g_env_health_addr, "HEALTH_SVC_ADDR=127.0.0.1:%d", g_health.port);
    if (start_gateway(&g_gw, "127.0.0.1:0")) return -1;
    if (g_gw.port <= 0) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_gw.pid > 0) sfp_proc_stop(&g_gw, 10000);
    if (g_health.pid > 0) sfp_proc_stop(&g_health, 10000);
    free(g_db_url);
    regfree(&g_rt_re);
    curl_global_cleanup();
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_healthz(void **state)
{
    (void)state;
    resp r = get("/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    assert_common_headers(&r);
    char v[128];
    assert_string_equal(hdr(&r, "Content-Type", v, sizeof v), "application/json");
    resp_free(&r);
}

static void test_readyz(void **state)
{
    (void)state;
    /* the health service's pool connects in the background; readiness is cached ~2 s */
    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        resp r = get("/readyz");
        status = r.status;
        assert_common_headers(&r);
        if (status != 200) {
            assert_int_equal(status, 503);
            assert_error_body(&r, 14, "UNAVAILABLE");
            sleep_ms(200);
        } else {
            assert_string_equal(r.body, "{\"status\":\"ready\"}");
        }
        resp_free(&r);
    }
    assert_int_equal(status, 200);
}

static void test_health_json(void **state)
{
    (void)state;
    cJSON *j = NULL;
    resp r;
    /* wait until the health service reaches the database */
    for (int i = 0; i < 100; i++) {
        r = get("/health");
        assert_true(r.status == 200 || r.status == 503);
        j = cJSON_ParseWithLength(r.body, r.len);
        assert_non_null(j);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "db_connected"))) break;
        cJSON_Delete(j);
        j = NULL;
        resp_free(&r);
        sleep_ms(100);
    }
    assert_non_null(j);
    assert_common_headers(&r);
    char v[256];
    assert_string_equal(hdr(&r, "Content-Type", v, sizeof v), "application/json");
    assert_null(hdr(&r, "Cache-Control", v, sizeof v));
    cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
    assert_true(cJSON_IsString(status));
    /* HTTP status agrees with the health verdict */
    if (!strcmp(status->valuestring, "ok")) {
        assert_int_equal(r.status, 200);
    } else {
        assert_string_equal(status->valuestring, "degraded");
        assert_int_equal(r.status, 503);
        assert_non_null(hdr(&r, "Retry-After", v, sizeof v));
    }
    cJSON *pool = cJSON_GetObjectItemCaseSensitive(j, "pool_stats");
    assert_true(cJSON_IsObject(pool));
    const char *pool_ints[] = {"min", "max", "size", "idle", "in_use", "waiting", "acquires", "timeouts", "opened"};
    for (size_t i = 0; i < sizeof pool_ints / sizeof pool_ints[0]; i++) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(pool, pool_ints[i]);
        if (!is_integer(n)) fail_msg("pool_stats.%s is not an integer", pool_ints[i]);
        assert_true(n->valuedouble >= 0);
    }
    assert_true(cJSON_GetObjectItemCaseSensitive(pool, "max")->valueint >= 1);
    cJSON *cache = cJSON_GetObjectItemCaseSensitive(j, "cache_stats");
    assert_true(cJSON_IsObject(cache));
    assert_true(is_integer(cJSON_GetObjectItemCaseSensitive(cache, "row_count")));
    assert_true(is_integer(cJSON_GetObjectItemCaseSensitive(cache, "expired_rows")));
    cJSON *tables = cJSON_GetObjectItemCaseSensitive(j, "tables");
    assert_true(cJSON_IsArray(tables));
    assert_true(cJSON_GetArraySize(tables) > 0);
    cJSON *t;
    cJSON_ArrayForEach(t, tables)
    {
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "name")));
        cJSON *rows = cJSON_GetObjectItemCaseSensitive(t, "rows");
        if (!is_integer(rows)) fail_msg("tables[].rows is not an integer");
    }
    cJSON *rc = cJSON_GetObjectItemCaseSensitive(j, "row_counts");
    assert_true(cJSON_IsString(rc));
    assert_string_equal(rc->valuestring, "estimated");
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_health_query(void **state)
{
    (void)state;
    /* ?full=1 reaches the service as GetHealthRequest.full */
    resp r = get("/health?full=1");
    assert_true(r.status == 200 || r.status == 503);
    assert_common_headers(&r);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    assert_non_null(j);
    cJSON *rc = cJSON_GetObjectItemCaseSensitive(j, "row_counts");
    assert_true(cJSON_IsString(rc));
    assert_string_equal(rc->valuestring, "exact");
    cJSON_Delete(j);
    resp_free(&r);
    /* bad value and unknown parameter → 400 INVALID_ARGUMENT, before any RPC */
    r = get("/health?full=maybe");
    assert_int_equal(r.status, 400);
    assert_common_headers(&r);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    r = get("/health?verbose=1");
    assert_int_equal(r.status, 400);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    assert_non_null(strstr(r.body, "verbose"));
    resp_free(&r);
}

static void test_static_pages(void **state)
{
    (void)state;
    const char *pages[] = {"/methodology", "/about-data", "/demo"};
    for (size_t i = 0; i < 3; i++) {
        resp r = get(pages[i]);
        assert_int_equal(r.status, 200);
        assert_common_headers(&r);
        char v[256], etag[64];
        assert_non_null(hdr(&r, "Cache-Control", v, sizeof v));
        assert_string_equal(v, STATIC_CC);
        assert_non_null(hdr(&r, "Content-Type", v, sizeof v));
        assert_string_equal(v, "text/html; charset=utf-8");
        assert_non_null(strstr(r.body, "<html"));
        assert_non_null(strstr(r.body, "</html>"));
        assert_true(r.len > 1500);
        assert_non_null(hdr(&r, "ETag", etag, sizeof etag));
        resp_free(&r);
        /* revalidation */
        char inm[96];
        snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
        const char *h[] = {inm, NULL};
        assert_int_equal(http(NULL, g_gw.port, "GET", pages[i], h, NULL, 0, &r), CURLE_OK);
        assert_int_equal(r.status, 304);
        assert_int_equal(r.len, 0);
        assert_common_headers(&r);
        assert_string_equal(hdr(&r, "Cache-Control", v, sizeof v), STATIC_CC);
        resp_free(&r);
        /* HEAD */
        assert_int_equal(http(NULL, g_gw.port, "HEAD", pages[i], NULL, NULL, 0, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, 0);
        assert_string_equal(hdr(&r, "Cache-Control", v, sizeof v), STATIC_CC);
        assert_response_time(r.hdrs);
        resp_free(&r);
    }
    resp r = get("/demo");
    assert_non_null(strstr(r.body, "3512/001"));
    assert_non_null(strstr(r.body, "0312/005"));
    resp_free(&r);
    r = get("/about-data");
    assert_non_null(strstr(r.body, "gm2e-bten"));
    resp_free(&r);
}

static void test_not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/nope", "/health/", "/healthz/x", "/reports/3512/001", "/search/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        resp r = get(paths[i]);
        assert_int_equal(r.status, 404);
        assert_common_headers(&r);
        assert_error_body(&r, 5, "NOT_FOUND");
        char v[64];
        assert_null(hdr(&r, "Cache-Control", v, sizeof v));
        resp_free(&r);
    }
    /* malformed escapes are a 400 with the same body shape */
    resp r = get("/health%zz");
    assert_int_equal(r.status, 400);
    assert_common_headers(&r);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    resp_free(&r);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    const char *methods[] = {"POST", "DELETE", "PUT"};
    for (size_t i = 0; i < 3; i++) {
        resp r;
        assert_int_equal(http(NULL, g_gw.port, methods[i], "/health", NULL, i == 0 ? "x" : NULL, i == 0 ? 1 : 0, &r),
                         CURLE_OK);
        assert_int_equal(r.status, 405);
        assert_common_headers(&r);
        char v[64];
        assert_non_null(hdr(&r, "Allow", v, sizeof v));
        assert_string_equal(v, "GET, HEAD");
        assert_error_body(&r, 12, "UNIMPLEMENTED");
        resp_free(&r);
    }
}

static void test_body_too_large(void **state)
{
    (void)state;
    /* Content-Length above GATEWAY_MAX_BODY (65536) → 413 up front */
    size_t n = 70000;
    char *big = malloc(n);
    memset(big, 'a', n);
    resp r;
    /* Expect: 100-continue makes curl wait for the answer instead of sending the body into a
     * connection the gateway closes after its early 413 */
    const char *expect[] = {"Expect: 100-continue", NULL};
    assert_int_equal(http(NULL, g_gw.port, "POST", "/healthz", expect, big, n, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_common_headers(&r);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    free(big);

    /* a chunked body that grows past the limit → drained and answered 413 */
    int fd = raw_connect(g_gw.port);
    assert_true(fd >= 0);
    const char *head = "POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    raw_send(fd, head, strlen(head));
    char chunk[8200];
    int cl = snprintf(chunk, sizeof chunk, "2000\r\n");
    memset(chunk + cl, 'b', 0x2000);
    memcpy(chunk + cl + 0x2000, "\r\n", 2);
    for (int i = 0; i < 10; i++) raw_send(fd, chunk, (size_t)cl + 0x2000 + 2); /* 80 KiB */
    raw_send(fd, "0\r\n\r\n", 5);
    char out[8192];
    bool eof;
    raw_read(fd, out, sizeof out, 1, 5000, &eof);
    close(fd);
    assert_non_null(strstr(out, "HTTP/1.1 413"));
    assert_response_time(out);
    assert_non_null(strstr(out, "\"status\":\"INVALID_ARGUMENT\""));

    /* a small body is fine */
    assert_int_equal(http(NULL, g_gw.port, "POST", "/healthz", NULL, "{}", 2, &r), CURLE_OK);
    assert_int_equal(r.status, 405); /* the route exists only for GET; the body was accepted */
    resp_free(&r);
}

static void test_url_too_long(void **state)
{
    (void)state;
    char path[3100];
    strcpy(path, "/health?full=1&x=");
    size_t o = strlen(path);
    while (o < 3000) path[o++] = 'a';
    path[o] = '\0';
    resp r = get(path);
    assert_int_equal(r.status, 414);
    assert_common_headers(&r);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    /* long path, unknown route: still 414 (limits come before routing) */
    memset(path + 1, 'p', 2999);
    path[0] = '/';
    path[3000] = '\0';
    r = get(path);
    assert_int_equal(r.status, 414);
    assert_common_headers(&r);
    resp_free(&r);
}

static void test_headers_too_large(void **state)
{
    (void)state;
    /* one 32 KiB header (limit 16 KiB) */
    size_t n = 32 * 1024;
    char *h = malloc(n + 16);
    strcpy(h, "X-Big: ");
    memset(h + 7, 'h', n);
    h[7 + n] = '\0';
    const char *hs[] = {h, NULL};
    resp r;
    assert_int_equal(http(NULL, g_gw.port, "GET", "/healthz", hs, NULL, 0, &r), CURLE_OK);
    assert_int_equal(r.status, 431);
    assert_common_headers(&r);
    assert_error_body(&r, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    free(h);
    /* many small headers that add up */
    char *many[41];
    for (int i = 0; i < 40; i++) {
        many[i] = malloc(520);
        int k = snprintf(many[i], 520, "X-H%d: ", i);
        memset(many[i] + k, 'm', 500);
        many[i][k + 500] = '\0';
    }
    many[40] = NULL;
    assert_int_equal(http(NULL, g_gw.port, "GET", "/nope", (const char *const *)many, NULL, 0, &r), CURLE_OK);
    assert_int_equal(r.status, 431); /* limits come before routing */
    assert_common_headers(&r);
    resp_free(&r);
    for (int i = 0; i < 40; i++) free(many[i]);

    /* A head far beyond every limit (300 KiB) is answered by the gateway's front as soon as the
     * limit is crossed — its own 431 JSON with all headers — and the connection is closed. */
    int fd = raw_connect(g_gw.port);
    assert_true(fd >= 0);
    size_t hn = 300 * 1024;
    char *req = malloc(hn + 128);
    int k = snprintf(req, 128, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Huge: ");
    memset(req + k, 'z', hn);
    memcpy(req + k + hn, "\r\n\r\n", 4);
    raw_send(fd, req, (size_t)k + hn + 4);
    free(req);
    char out[4096];
    bool eof;
    size_t got = raw_read(fd, out, sizeof out, 1, 5000, &eof);
    close(fd);
    assert_true(got > 0);
    assert_non_null(strstr(out, "HTTP/1.1 431"));
    assert_response_time(out);
    assert_non_null(strstr(out, "\"status\":\"INVALID_ARGUMENT\""));
    r = get("/healthz");
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_keep_alive(void **state)
{
    (void)state;
    CURL *h = curl_easy_init();
    resp r;
    assert_int_equal(http(h, g_gw.port, "GET", "/healthz", NULL, NULL, 0, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.num_connects, 1);
    resp_free(&r);
    const char *seq[] = {"/healthz", "/nope", "/healthz", "/health", "/demo", "/healthz"};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        assert_int_equal(http(h, g_gw.port, "GET", seq[i], NULL, NULL, 0, &r), CURLE_OK);
        assert_true(r.status == 200 || r.status == 404 || r.status == 503);
        if (r.num_connects != 0) fail_msg("request %zu (%s) opened a new connection", i, seq[i]);
        assert_response_time(r.hdrs);
        resp_free(&r);
    }
    /* 405 keeps the connection too */
    assert_int_equal(http(h, g_gw.port, "DELETE", "/healthz", NULL, NULL, 0, &r), CURLE_OK);
    assert_int_equal(r.status, 405);
    assert_int_equal(r.num_connects, 0);
    resp_free(&r);
    assert_int_equal(http(h, g_gw.port, "GET", "/healthz", NULL, NULL, 0, &r), CURLE_OK);
    assert_int_equal(r.num_connects, 0);
    resp_free(&r);
    curl_easy_cleanup(h);

    /* two pipelined requests on one socket are both answered, in order */
    int fd = raw_connect(g_gw.port);
    assert_true(fd >= 0);
    const char *two = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: ka-1\r\n\r\n"
                      "GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-Id: ka-2\r\n\r\n";
    raw_send(fd, two, strlen(two));
    char out[8192];
    bool eof;
    raw_read(fd, out, sizeof out, 2, 5000, &eof);
    assert_int_equal(count_occ(out, "HTTP/1.1 "), 2);
    char *first = strstr(out, "HTTP/1.1 200");
    char *second = strstr(out, "HTTP/1.1 404");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_int_equal(count_occ(out, "X-Response-Time: "), 2);
    assert_non_null(strstr(out, "X-Request-Id: ka-1"));
    assert_non_null(strstr(out, "X-Request-Id: ka-2"));
    assert_null(strstr(out, "Connection: close"));
    /* and the connection is still usable afterwards */
    const char *third = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    raw_send(fd, third, strlen(third));
    raw_read(fd, out, sizeof out, 1, 5000, &eof);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    close(fd);
}

static bool is_hex32(const char *s)
{
    if (strlen(s) != 32) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

static void test_request_id(void **state)
{
    (void)state;
    char v[256], v2[256];
    const char *given[] = {"X-Request-Id: e2e-rid.42_x", NULL};
    resp r;
    assert_int_equal(http(NULL, g_gw.port, "GET", "/health", given, NULL, 0, &r), CURLE_OK);
    assert_string_equal(hdr(&r, "X-Request-Id", v, sizeof v), "e2e-rid.42_x");
    resp_free(&r);
    /* also on errors */
    assert_int_equal(http(NULL, g_gw.port, "GET", "/nope", given, NULL, 0, &r), CURLE_OK);
    assert_string_equal(hdr(&r, "X-Request-Id", v, sizeof v), "e2e-rid.42_x");
    resp_free(&r);
    /* not given → 32 hex chars, different per request */
    r = get("/healthz");
    assert_non_null(hdr(&r, "X-Request-Id", v, sizeof v));
    assert_true(is_hex32(v));
    resp_free(&r);
    r = get("/healthz");
    assert_non_null(hdr(&r, "X-Request-Id", v2, sizeof v2));
    assert_true(is_hex32(v2));
    assert_string_not_equal(v, v2);
    resp_free(&r);
    /* insane ids are replaced */
    const char *bad[] = {"X-Request-Id: has space", "X-Request-Id: a\"b<script>", NULL};
    for (int i = 0; bad[i]; i++) {
        const char *h[] = {bad[i], NULL};
        assert_int_equal(http(NULL, g_gw.port, "GET", "/healthz", h, NULL, 0, &r), CURLE_OK);
        assert_true(is_hex32(hdr(&r, "X-Request-Id", v, sizeof v)));
        resp_free(&r);
    }
    char longid[200] = "X-Request-Id: ";
    memset(longid + 14, 'a', 129);
    longid[14 + 129] = '\0';
    const char *lh[] = {longid, NULL};
    assert_int_equal(http(NULL, g_gw.port, "GET", "/healthz", lh, NULL, 0, &r), CURLE_OK);
    assert_true(is_hex32(hdr(&r, "X-Request-Id", v, sizeof v)));
    resp_free(&r);
    /* the access log line carries method, path, status, ms and the request id */
    assert_true(sfp_test_file_wait(g_gw.log_path, "\"request_id\":\"e2e-rid.42_x\"", 10000));
    char *log = slurp(g_gw.log_path);
    bool found = false;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, "\"msg\":\"request\"") && strstr(line, "\"request_id\":\"e2e-rid.42_x\"") &&
            strstr(line, "\"path\":\"/health\"")) {
            cJSON *j = cJSON_Parse(line);
            assert_non_null(j);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "method")->valuestring, "GET");
            assert_true(is_integer(cJSON_GetObjectItemCaseSensitive(j, "status")));
            assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "ms")));
            cJSON_Delete(j);
            found = true;
        }
    }
    free(log);
    assert_true(found);
}

static void test_timeout_header(void **state)
{
    (void)state;
    const char *bad[] = {"X-Timeout-Ms: abc", "X-Timeout-Ms: 0", "X-Timeout-Ms: -5", NULL};
    resp r;
    for (int i = 0; bad[i]; i++) {
        const char *h[] = {bad[i], NULL};
        assert_int_equal(http(NULL, g_gw.port, "GET", "/health", h, NULL, 0, &r), CURLE_OK);
        assert_int_equal(r.status, 400);
        assert_common_headers(&r);
        assert_error_body(&r, 3, "INVALID_ARGUMENT");
        resp_free(&r);
    }
    const char *ok[] = {"X-Timeout-Ms: 999999", NULL}; /* capped at 30 s, accepted */
    assert_int_equal(http(NULL, g_gw.port, "GET", "/health", ok, NULL, 0, &r), CURLE_OK);
    assert_true(r.status == 200 || r.status == 503);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "pool_stats"));
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_invalid_env(void **state)
{
    (void)state;
    struct {
        const char *env, *var;
    } t[] = {{"GATEWAY_MAX_URL=abc", "GATEWAY_MAX_URL"},
             {"GATEWAY_ADDR=nonsense", "GATEWAY_ADDR"},
             {"CRON_WORKER=perhaps", "CRON_WORKER"},
             {"GATEWAY_MAX_CONNECTIONS=0", "GATEWAY_MAX_CONNECTIONS"},
             {"REPORT_SVC_ADDR=:::", "REPORT_SVC_ADDR"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char log[128];
        snprintf(log, sizeof log, "/tmp/sfp-test-%d-badenv-%zu.log", (int)getpid(), i);
        const char *env[] = {t[i].env, NULL};
        assert_int_equal(run_to_exit("sfp-gateway", env, log, 10000), 2);
        char *txt = slurp(log);
        if (!strstr(txt, t[i].var)) fail_msg("log of %s does not name %s: %s", t[i].env, t[i].var, txt);
        assert_null(strstr(txt, "\"msg\":\"listening\""));
        free(txt);
        unlink(log);
    }
}

/* CRON_WORKER=true: only health (and, later, cron) routes exist; the rest is 404 with the usual
 * headers. */
static void test_cron_worker_gating(void **state)
{
    (void)state;
    sfp_proc w;
    const char *env[] = {"GATEWAY_ADDR=127.0.0.1:0", g_env_health_addr, "CRON_WORKER=yes", NULL};
    assert_int_equal(sfp_proc_start(&w, "sfp-gateway", env), 0);
    const char *hidden[] = {"/demo", "/methodology", "/about-data"};
    for (size_t i = 0; i < 3; i++) {
        resp r;
        assert_int_equal(http(NULL, w.port, "GET", hidden[i], NULL, NULL, 0, &r), CURLE_OK);
        assert_int_equal(r.status, 404);
        assert_common_headers(&r);
        assert_error_body(&r, 5, "NOT_FOUND");
        resp_free(&r);
    }
    const char *shown[] = {"/healthz", "/readyz", "/health"};
    for (size_t i = 0; i < 3; i++) {
        resp r;
        assert_int_equal(http(NULL, w.port, "GET", shown[i], NULL, NULL, 0, &r), CURLE_OK);
        assert_int_not_equal(r.status, 404);
        assert_response_time(r.hdrs);
        resp_free(&r);
    }
    assert_int_equal(sfp_proc_stop(&w, 15000), 0);
}

/* Runs late: the health backend goes away. */
static void test_backend_down(void **state)
{
    (void)state;
    assert_int_equal(sfp_proc_stop(&g_health, 15000), 0);
    resp r = get("/health");
    assert_int_equal(r.status, 503);
    assert_common_headers(&r);
    assert_error_body(&r, 14, "UNAVAILABLE");
    char v[64];
    assert_non_null(hdr(&r, "Retry-After", v, sizeof v));
    assert_true(atoi(v) > 0);
    assert_null(strstr(r.body, "127.0.0.1")); /* no transport detail leaks */
    resp_free(&r);
    /* readiness follows once its cached answer expires (polled, up to 30 s) */
    for (int i = 0; i < 300; i++) {
        r = get("/readyz");
        if (r.status == 503) break;
        resp_free(&r);
        sleep_ms(100);
    }
    assert_int_equal(r.status, 503);
    assert_common_headers(&r);
    assert_error_body(&r, 14, "UNAVAILABLE");
    resp_free(&r);
    /* the gateway alone is still alive */
    r = get("/healthz");
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* Runs last: SIGTERM → exit 0, the port is free, a second start on it works. */
static void test_stop_and_restart(void **state)
{
    (void)state;
    int port = g_gw.port;
    assert_int_equal(sfp_proc_stop(&g_gw, 15000), 0);
    int fd = raw_connect(port);
    if (fd >= 0) {
        close(fd);
        fail_msg("something still listens on %d after the gateway exited", port);
    }
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    assert_int_equal(start_gateway(&g_gw, addr), 0);
    assert_int_equal(g_gw.port, port);
    resp r = get("/healthz");
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* a keep-alive connection left open does not delay the stop */
    CURL *h = curl_easy_init();
    assert_int_equal(http(h, port, "GET", "/healthz", NULL, NULL, 0, &r), CURLE_OK);
    resp_free(&r);
    assert_int_equal(sfp_proc_stop(&g_gw, 15000), 0);
    curl_easy_cleanup(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_readyz),
        cmocka_unit_test(test_health_json),
        cmocka_unit_test(test_health_query),
        cmocka_unit_test(test_static_pages),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_url_too_long),
        cmocka_unit_test(test_headers_too_large),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_timeout_header),
        cmocka_unit_test(test_invalid_env),
        cmocka_unit_test(test_cron_worker_gating),
        cmocka_unit_test(test_backend_down),
        cmocka_unit_test(test_stop_and_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
