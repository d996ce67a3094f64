/* E2E: sfp-cron + sfp-brief + sfp-health behind two sfp-gateway processes (CRON_WORKER=true and
 * false) on ephemeral ports, a throwaway migrated database, libcurl; and sfp-cronctl.
 *
 * Covers: 401 (+WWW-Authenticate) without / with a wrong token; 200 with the job JSON; 409 for
 * a second trigger while one runs; 500 with {ok:false,status:"failed",error} when the job
 * fails; 504 when the deadline is shorter than the run; 400 for bad query parameters;
 * CRON_WORKER both ways (worker: only the cron and health routes, rest 404; web: POST cron 404,
 * GET /cron/status served); X-Response-Time on every one of these; compute-caches through the
 * real brief service (brief:{uid}:1 rows, second run all fresh hits); sfp-cronctl's exit codes
 * 0/1/2/3/4/5/6 and its JSON on stdout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promcheck.h"
#include "testhttp.h"
#include "testsupport.h"

#define SECRET "e2e-cron-secret"
#define AUTH "Authorization: Bearer " SECRET

static char *g_db;
static sfp_proc g_cron, g_brief, g_health, g_worker, g_web;
static char g_env_db[1024], g_cron_addr[64];
static regex_t g_rt_re;

/* ------------------------------------------------------------------ http */

typedef sfp_http_resp resp;
#define resp_free sfp_http_resp_free

static resp http(int port, const char *method, const char *path, const char *h1, const char *h2)
{
    const char *hs[3] = {h1 ? h1 : h2, h1 ? h2 : NULL, NULL};
    resp r;
    int rc = sfp_http(NULL, port, method, path, hs, NULL, 0, &r);
    if (rc) fail_msg("%s %s: curl error %d", method, path, rc);
    return r;
}

static bool header(const resp *r, const char *name, char *out, size_t cap)
{
    return sfp_http_header(r, name, out, cap) != NULL;
}

static void assert_rt(const resp *r)
{
    char v[64];
    if (!header(r, "X-Response-Time", v, sizeof v)) fail_msg("no X-Response-Time (status %ld)", r->status);
    assert_int_equal(regexec(&g_rt_re, v, 0, NULL, 0), 0);
}

static void assert_error(const resp *r, long http_status, int code, const char *name)
{
    if (r->status != http_status) fail_msg("want HTTP %ld, got %ld: %s", http_status, r->status, r->body);
    assert_rt(r);
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, code);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, name);
    cJSON_Delete(j);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long q(const char *sql)
{
    return sfp_test_sql_long(g_db, sql);
}

static void wait_for(const char *sql, long want)
{
    for (int i = 0; i < 1000; i++) {
        if (q(sql) >= want) return;
        sleep_ms(10);
    }
    fail_msg("timed out waiting for: %s", sql);
}

static PGconn *hold_lock(const char *table)
{
    PGconn *c = PQconnectdb(g_db);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", table);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return c;
}

static void release_lock(PGconn *c)
{
    PQclear(PQexec(c, "COMMIT"));
    PQfinish(c);
}

typedef struct bg_post {
    int port;
    const char *path;
    pthread_t th;
    resp r;
} bg_post;

static void *bg_main(void *arg)
{
    bg_post *b = arg;
    b->r = http(b->port, "POST", b->path, AUTH, NULL);
    return NULL;
}

/* ------------------------------------------------------------------ cronctl */

/* Runs sfp-cronctl with argv and extra env; returns its exit code; stdout into *out (malloc). */
static int cronctl(const char *const *argv, const char *const *env, char **out)
{
    char path[512], log[256];
    snprintf(path, sizeof path, "%s/sfp-cronctl", SFP_BIN_DIR);
    snprintf(log, sizeof log, "/tmp/sfp-cronctl-e2e-%d.out", (int)getpid());
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        dup2(fd, 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        unsetenv("CRON_SECRET");
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        char *args[16];
        int n = 0;
        args[n++] = path;
        for (const char *const *a = argv; *a && n < 15; a++) args[n++] = (char *)*a;
        args[n] = NULL;
        execv(path, args);
        _exit(127);
    }
    int st = 0;
    for (int w = 0; w < 60000; w += 10) {
        if (waitpid(pid, &st, WNOHANG) == pid) break;
        sleep_ms(10);
        if (w + 10 >= 60000) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }
    FILE *f = fopen(log, "r");
    char *buf = calloc(1, 65536);
    if (f) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
    }
    unlink(log);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------------ setup */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(regcomp(&g_rt_re, "^[0-9]+\\.[0-9]ms$", REG_EXTENDED | REG_NOSUB), 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_db = sfp_test_migrated_db("e2e_cron");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", g_db);
    /* small fixture: two parcels with signals, users for the warm-up */
    if (sfp_test_sql(g_db,
                     "INSERT INTO permits (permit_number, permit_type, status, status_date, issued_date, block, lot) "
                     "VALUES ('E1', '8', 'expired', '2023-01-01T00:00:00.000', '2020-01-01T00:00:00.000', '3000', "
                     "'001'), ('E2', '3', 'issued', '2020-01-01T00:00:00.000', '2020-01-01T00:00:00.000', '3000', "
                     "'002');"
                     "INSERT INTO users (user_id, email, is_active) VALUES (7, 'u7@example.com', true), "
                     "(8, 'u8@example.com', true), (9, 'u9@example.com', false);"
                     "INSERT INTO watch_items (user_id, watch_type, permit_number) VALUES (7, 'permit', 'E1')"))
        return -1;

    const char *henv[] = {
        g_env_db, "LISTEN_ADDR=127.0.0.1:0", "REPORT_SVC_ADDR=off", "BRIEF_SVC_ADDR=off", "CRON_SVC_ADDR=off", NULL};
    if (sfp_proc_start(&g_health, "sfp-health", henv)) return -1;
    const char *benv[] = {g_env_db, "LISTEN_ADDR=127.0.0.1:0", "CRON_SECRET=" SECRET, NULL};
    if (sfp_proc_start(&g_brief, "sfp-brief", benv)) return -1;
    static char brief_addr[64], soda[128];
    snprintf(brief_addr, sizeof brief_addr, "BRIEF_SVC_ADDR=127.0.0.1:%d", g_brief.port);
    snprintf(soda, sizeof soda, "SODA_BASE_URL=http://%s/resource", SFP_TEST_DEAD_ADDR);
    const char *cenv[] = {
        g_env_db, "LISTEN_ADDR=127.0.0.1:0", "CRON_SECRET=" SECRET, brief_addr, soda, "CRON_NIGHTLY_RETRY_BASE_MS=10",
        NULL};
    if (sfp_proc_start(&g_cron, "sfp-cron", cenv)) return -1;
    snprintf(g_cron_addr, sizeof g_cron_addr, "CRON_SVC_ADDR=127.0.0.1:%d", g_cron.port);
    static char health_addr[64];
    snprintf(health_addr, sizeof health_addr, "HEALTH_SVC_ADDR=127.0.0.1:%d", g_health.port);
    const char *wenv[] = {"GATEWAY_ADDR=127.0.0.1:0", health_addr, g_cron_addr, brief_addr, "CRON_WORKER=TRUE", NULL};
    if (sfp_proc_start(&g_worker, "sfp-gateway", wenv)) return -1;
    const char *venv[] = {"GATEWAY_ADDR=127.0.0.1:0", health_addr, g_cron_addr, brief_addr, "CRON_WORKER=0", NULL};
    if (sfp_proc_start(&g_web, "sfp-gateway", venv)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sfp_proc *ps[] = {&g_web, &g_worker, &g_cron, &g_brief, &g_health};
    for (size_t i = 0; i < 5; i++)
        if (ps[i]->pid > 0) sfp_proc_stop(ps[i], 15000);
    free(g_db);
    regfree(&g_rt_re);
    curl_global_cleanup();
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_auth_401(void **state)
{
    (void)state;
    const char *jobs[] = {"/cron/signals", "/cron/velocity-refresh", "/cron/compute-caches", "/cron/nightly",
                          "/cron/heartbeat"};
    for (size_t i = 0; i < 5; i++) {
        resp r = http(g_worker.port, "POST", jobs[i], NULL, NULL);
        assert_error(&r, 401, 16, "UNAUTHENTICATED");
        char v[64];
        assert_true(header(&r, "WWW-Authenticate", v, sizeof v));
        assert_string_equal(v, "Bearer");
        resp_free(&r);
        r = http(g_worker.port, "POST", jobs[i], "Authorization: Bearer nope", NULL);
        assert_error(&r, 401, 16, "UNAUTHENTICATED");
        resp_free(&r);
    }
    assert_int_equal(q("SELECT count(*) FROM cron_log"), 0);
}

static void test_heartbeat_200_and_status(void **state)
{
    (void)state;
    resp r = http(g_worker.port, "POST", "/cron/heartbeat", AUTH, NULL);
    assert_int_equal(r.status, 200);
    assert_rt(&r);
    char v[64];
    assert_true(header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    cJSON *j = cJSON_Parse(r.body);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "success");
    assert_true(cJSON_GetObjectItem(j, "log_id")->valuedouble >= 1);
    assert_non_null(cJSON_GetObjectItem(j, "elapsed_seconds"));
    cJSON_Delete(j);
    resp_free(&r);
    /* status needs no secret, on both gateways */
    int ports[2] = {g_worker.port, g_web.port};
    for (int i = 0; i < 2; i++) {
        r = http(ports[i], "GET", "/cron/status", NULL, NULL);
        assert_int_equal(r.status, 200);
        assert_rt(&r);
        j = cJSON_Parse(r.body);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
        cJSON *jobs = cJSON_GetObjectItem(j, "jobs");
        assert_true(cJSON_GetArraySize(jobs) >= 1);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(jobs, 0), "job_type")->valuestring, "heartbeat");
        cJSON_Delete(j);
        resp_free(&r);
    }
}

/* Every process of this suite serves valid /metrics; cron's job metrics move after a run. */
static void test_metrics_of_every_process(void **state)
{
    (void)state;
    const sfp_proc *procs[] = {&g_cron, &g_brief, &g_health, &g_worker, &g_web};
    char *cron = NULL;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
        char err[256] = "";
        char *body = sfp_prom_scrape(sfp_proc_log_port(procs[i], "metrics listening"), err, sizeof err);
        if (!body) fail_msg("%s: %s", procs[i]->log_path, err);
        if (procs[i] == &g_cron) cron = body;
        else free(body);
    }
    assert_true(sfp_prom_value(cron, "sfp_cron_heartbeat_success", NULL) >= 1);
    assert_true(sfp_prom_value(cron, "sfp_cron_heartbeat_last_success_timestamp_seconds", NULL) > 1.7e9);
    assert_true(sfp_prom_value(cron, "sfp_cron_heartbeat_last_duration_seconds", NULL) >= 0);
    assert_true(sfp_prom_value(cron, "sfp_rpc_server_requests_total", "CronService/RunHeartbeat\",code=\"OK\"") >= 1);
    free(cron);
}

static void test_signals_velocity_200(void **state)
{
    (void)state;
    resp r = http(g_worker.port, "POST", "/cron/signals", AUTH, NULL);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_int_equal(cJSON_GetObjectItem(j, "property_health")->valueint, 2);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "detectors"), "expired_otc"));
    cJSON_Delete(j);
    resp_free(&r);
    r = http(g_worker.port, "POST", "/cron/velocity-refresh", AUTH, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"transitions_error\":\"\""));
    resp_free(&r);
}

static void test_409_500_504_400(void **state)
{
    (void)state;
    /* 409: a second trigger while the first is held inside its transaction */
    PGconn *lk = hold_lock("property_health");
    bg_post b = {.port = g_worker.port, .path = "/cron/signals"};
    pthread_create(&b.th, NULL, bg_main, &b);
    wait_for("SELECT count(*) FROM cron_log WHERE job_type = 'signals' AND status = 'running'", 1);
    resp r = http(g_worker.port, "POST", "/cron/signals", AUTH, NULL);
    assert_error(&r, 409, 10, "ABORTED");
    assert_non_null(strstr(r.body, "already running"));
    resp_free(&r);
    /* sfp-cronctl: exit 3 while it runs */
    const char *env[] = {g_cron_addr, "CRON_SECRET=" SECRET, NULL};
    const char *args_sig[] = {"signals", NULL};
    char *out = NULL;
    assert_int_equal(cronctl(args_sig, env, &out), 3);
    assert_non_null(strstr(out, "\"status\":\"ABORTED\""));
    free(out);
    release_lock(lk);
    pthread_join(b.th, NULL);
    assert_int_equal(b.r.status, 200);
    resp_free(&b.r);

    /* 504: the deadline (X-Timeout-Ms) is shorter than the held run */
    lk = hold_lock("property_health");
    r = http(g_worker.port, "POST", "/cron/signals", AUTH, "X-Timeout-Ms: 2500");
    assert_error(&r, 504, 4, "DEADLINE_EXCEEDED");
    resp_free(&r);
    /* sfp-cronctl: exit 4 on its own timeout */
    const char *args_to[] = {"signals", "--timeout", "2", NULL};
    assert_int_equal(cronctl(args_to, env, NULL), 4);
    release_lock(lk);
    wait_for("SELECT count(*) FROM cron_log WHERE job_type = 'signals' AND status = 'failed'", 2);

    /* 500: the job ran and failed — a non-OK status (INTERNAL) whose details carry the job's
     * result: the error JSON has the reason and the result */
    assert_int_equal(sfp_test_sql(g_db, "ALTER TABLE property_health RENAME TO ph_away"), 0);
    r = http(g_worker.port, "POST", "/cron/signals", AUTH, NULL);
    assert_error(&r, 500, 13, "INTERNAL");
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "CRON_JOB_FAILED");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "job_type")->valuestring, "signals");
    cJSON *res = cJSON_GetObjectItem(j, "result");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(res, "ok")));
    assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "failed");
    assert_true(strlen(cJSON_GetObjectItem(res, "error")->valuestring) > 0);
    assert_non_null(cJSON_GetObjectItem(res, "log_id"));
    cJSON_Delete(j);
    resp_free(&r);
    /* sfp-cronctl: exit 1, the error JSON with the result on stdout */
    assert_int_equal(cronctl(args_sig, env, &out), 1);
    assert_non_null(strstr(out, "\"reason\":\"CRON_JOB_FAILED\""));
    assert_non_null(strstr(out, "\"result\":{\"ok\":false"));
    free(out);
    assert_int_equal(sfp_test_sql(g_db, "ALTER TABLE ph_away RENAME TO property_health"), 0);

    /* 400: bad or unknown query parameters */
    r = http(g_worker.port, "POST", "/cron/nightly?lookback=abc", AUTH, NULL);
    assert_error(&r, 400, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    r = http(g_worker.port, "POST", "/cron/signals?force=1", AUTH, NULL);
    assert_error(&r, 400, 3, "INVALID_ARGUMENT");
    resp_free(&r);
    r = http(g_worker.port, "POST", "/cron/compute-caches?concurrency=99", AUTH, NULL);
    assert_error(&r, 400, 3, "INVALID_ARGUMENT");
    resp_free(&r);
}

/* Nightly with SODA unreachable: the run fails — UNAVAILABLE (503 + Retry-After from the
 * RetryInfo) with the run's result in the body — never "no data". */
static void test_nightly_soda_unreachable_503(void **state)
{
    (void)state;
    resp r = http(g_worker.port, "POST", "/cron/nightly?lookback=2", AUTH, NULL);
    assert_error(&r, 503, 14, "UNAVAILABLE");
    char ra[16];
    assert_true(header(&r, "Retry-After", ra, sizeof ra));
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "retry_after_s")->valueint, atoi(ra));
    assert_true(atoi(ra) >= 1);
    assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "CRON_JOB_FAILED");
    cJSON *res = cJSON_GetObjectItem(j, "result");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(res, "ok")));
    assert_non_null(strstr(cJSON_GetObjectItem(res, "error")->valuestring, "SODA"));
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_compute_caches_through_brief(void **state)
{
    (void)state;
    resp r = http(g_worker.port, "POST", "/cron/compute-caches?concurrency=2", AUTH, NULL);
    if (r.status != 200) fail_msg("compute-caches: %ld %s", r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_int_equal(cJSON_GetObjectItem(j, "total_users")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(j, "computed")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(j, "fresh_hits")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(j, "errors")->valueint, 0);
    cJSON_Delete(j);
    resp_free(&r);
    assert_int_equal(q("SELECT count(*) FROM page_cache WHERE cache_key IN ('brief:7:1:v2', 'brief:8:1:v2') AND "
                       "invalidated_at IS NULL"),
                     2);
    assert_int_equal(q("SELECT count(*) FROM page_cache WHERE cache_key LIKE 'brief:9:%'"), 0);
    r = http(g_worker.port, "POST", "/cron/compute-caches", AUTH, NULL);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetObjectItem(j, "computed")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(j, "fresh_hits")->valueint, 2);
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_cron_worker_gating(void **state)
{
    (void)state;
    /* worker: /cron* and /health* only */
    const char *hidden[] = {"/", "/demo", "/methodology", "/about-data", "/brief", "/ask", "/admin"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        resp r = http(g_worker.port, "GET", hidden[i], NULL, NULL);
        assert_error(&r, 404, 5, "NOT_FOUND");
        resp_free(&r);
    }
    const char *shown[] = {"/health", "/healthz", "/readyz", "/cron/status"};
    for (size_t i = 0; i < 4; i++) {
        resp r = http(g_worker.port, "GET", shown[i], NULL, NULL);
        assert_int_not_equal(r.status, 404);
        assert_rt(&r);
        resp_free(&r);
    }
    resp r = http(g_worker.port, "POST", "/cron/nightly", NULL, NULL); /* exists (401), not 404 */
    assert_int_equal(r.status, 401);
    resp_free(&r);
    /* web: the POST cron routes do not exist, even with a valid secret; GET /cron/status does */
    const char *posts[] = {"/cron/nightly", "/cron/signals", "/cron/heartbeat", "/cron/backup"};
    for (size_t i = 0; i < 4; i++) {
        r = http(g_web.port, "POST", posts[i], AUTH, NULL);
        assert_error(&r, 404, 5, "NOT_FOUND");
        resp_free(&r);
    }
    long before = q("SELECT count(*) FROM cron_log");
    r = http(g_web.port, "GET", "/cron/status", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_rt(&r);
    resp_free(&r);
    r = http(g_web.port, "GET", "/demo", NULL, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    r = http(g_web.port, "GET", "/health", NULL, NULL);
    assert_int_not_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(q("SELECT count(*) FROM cron_log"), before); /* nothing ran through the web gateway */
}

static void test_cronctl_exit_codes(void **state)
{
    (void)state;
    const char *env[] = {g_cron_addr, "CRON_SECRET=" SECRET, NULL};
    const char *hb[] = {"heartbeat", NULL};
    char *out = NULL;
    assert_int_equal(cronctl(hb, env, &out), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_string_equal(cJSON_GetObjectItem(j, "job_type")->valuestring, "heartbeat");
    cJSON_Delete(j);
    free(out);
    /* status: no secret needed */
    const char *st[] = {"status", NULL};
    const char *env_nosecret[] = {g_cron_addr, NULL};
    assert_int_equal(cronctl(st, env_nosecret, &out), 0);
    assert_non_null(strstr(out, "\"jobs\":["));
    free(out);
    /* 6: wrong secret */
    const char *env_wrong[] = {g_cron_addr, "CRON_SECRET=wrong", NULL};
    assert_int_equal(cronctl(hb, env_wrong, &out), 6);
    assert_non_null(strstr(out, "UNAUTHENTICATED"));
    free(out);
    /* 2: usage and configuration */
    assert_int_equal(cronctl(hb, env_nosecret, NULL), 2);
    const char *bad_job[] = {"reindex", NULL};
    assert_int_equal(cronctl(bad_job, env, NULL), 2);
    const char *bad_to[] = {"heartbeat", "--timeout", "0", NULL};
    assert_int_equal(cronctl(bad_to, env, NULL), 2);
    const char *bad_flag[] = {"signals", "--dry-run", NULL};
    assert_int_equal(cronctl(bad_flag, env, NULL), 2);
    const char *none[] = {NULL};
    assert_int_equal(cronctl(none, env, NULL), 2);
    const char *env_badaddr[] = {"CRON_SVC_ADDR=nonsense", "CRON_SECRET=" SECRET, NULL};
    assert_int_equal(cronctl(hb, env_badaddr, NULL), 2);
    /* 5: nothing listens there */
    static const char dead[] = "CRON_SVC_ADDR=" SFP_TEST_DEAD_ADDR;
    const char *env_dead[] = {dead, "CRON_SECRET=" SECRET, NULL};
    const char *hb_short[] = {"heartbeat", "--timeout", "2", NULL};
    assert_int_equal(cronctl(hb_short, env_dead, &out), 5);
    assert_non_null(strstr(out, "UNAVAILABLE"));
    free(out);
    /* 1 (job failed) and 3/4 are covered in test_409_500_504_400 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_401),
        cmocka_unit_test(test_heartbeat_200_and_status),
        cmocka_unit_test(test_metrics_of_every_process),
        cmocka_unit_test(test_signals_velocity_200),
        cmocka_unit_test(test_409_500_504_400),
        cmocka_unit_test(test_nightly_soda_unreachable_503),
        cmocka_unit_test(test_compute_caches_through_brief),
        cmocka_unit_test(test_cron_worker_gating),
        cmocka_unit_test(test_cronctl_exit_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
