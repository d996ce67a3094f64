/* RunNightly against a local SODA stand-in (in this file: libmicrohttpd serving the permits
 * i98e-djp9, inspections vckc-dh2h and addenda 87xy-gk8d datasets with $where "col > 'X' [OR
 * ...]", $order, $limit/$offset paging and fault injection), through the shared SODA client
 * and a real Postgres.
 *
 * sfp-soda-test-server does not serve these three datasets nor date-range $where paging yet
 * (it answers 400/404), hence the stand-in; see the report for what it would need.
 *
 * Covers: pages ingested with the stable $order; new permits and status changes recorded in
 * permit_changes (old/new status, dates, source); inspections updated or inserted; addenda
 * upserted with addenda_changes (arrived / review_complete); brief:% invalidated and counted;
 * idempotent second run; catch-up window after missed runs (capped at 30 days, source
 * backfill); a 500 mid-run survived with retries; SODA staying down → failed run, earlier pages
 * kept, the failing page absent; a page whose write fails leaves none of its rows (atomic);
 * an open breaker is a failure, never end-of-data; dry_run writes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_service.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "soda_client.h"
#include "testsupport.h"

#define SECRET "nightly-secret"
#define TODAY "2025-06-15" /* since = 2025-06-14T00:00:00.000 for a 1-day window */

/* ------------------------------------------------------------------ SODA stand-in */

typedef struct stub {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    cJSON *data[3]; /* permits, inspections, addenda (arrays; row order = :id) */
    long requests[3];
    char last_order[3][128];
    char last_where[3][256];
    /* faults */
    long fail_at;    /* fail the request with this global sequence number (1-based); 0 = none */
    long fail_from;  /* fail every request from this sequence number on; 0 = none */
    int fail_status; /* HTTP status of injected failures */
    long seq;
} stub;

static stub g_stub;
static const char *const k_ids[3] = {"i98e-djp9", "vckc-dh2h", "87xy-gk8d"};

static const char *field(const cJSON *row, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "a > 'X' OR b > 'Y'" */
static bool where_match(const char *where, const cJSON *row)
{
    if (!where || !*where) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", where);
    for (char *save = NULL, *term = strtok_r(buf, "|", &save); term; term = strtok_r(NULL, "|", &save)) {
        char col[64], val[64];
        if (sscanf(term, " %63[a-z_] > '%63[^']'", col, val) != 2) return false;
        const char *v = field(row, col);
        if (v && strcmp(v, val) > 0) return true;
    }
    return false;
}

typedef struct sort_row {
    const cJSON *row;
    int idx;
} sort_row;

static char g_order[128];

static int cmp_rows(const void *a, const void *b)
{
    const sort_row *x = a, *y = b;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", g_order);
    for (char *save = NULL, *col = strtok_r(buf, ",", &save); col; col = strtok_r(NULL, ",", &save)) {
        if (!strcmp(col, ":id")) return x->idx - y->idx;
        const char *u = field(x->row, col), *v = field(y->row, col);
        int c = strcmp(u ? u : "", v ? v : "");
        if (c) return c;
    }
    return x->idx - y->idx;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = (void *)1;
        return MHD_YES;
    }
    int ds = -1;
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "/resource/%s.json", k_ids[i]);
        if (!strcmp(url, path)) ds = i;
    }
    if (ds < 0) return reply(c, 404, "{\"error\":true}");
    const char *where = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$where");
    const char *order = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$order");
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$limit");
    const char *off = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$offset");
    pthread_mutex_lock(&g_stub.mu);
    long seq = ++g_stub.seq;
    g_stub.requests[ds]++;
    snprintf(g_stub.last_order[ds], sizeof g_stub.last_order[ds], "%s", order ? order : "");
    snprintf(g_stub.last_where[ds], sizeof g_stub.last_where[ds], "%s", where ? where : "");
    bool fail = (g_stub.fail_at && seq == g_stub.fail_at) || (g_stub.fail_from && seq >= g_stub.fail_from);
    int fail_status = g_stub.fail_status ? g_stub.fail_status : 500;
    if (fail) {
        pthread_mutex_unlock(&g_stub.mu);
        return reply(c, (unsigned)fail_status, "{\"error\":true,\"message\":\"injected\"}");
    }
    /* " OR " → "|" for the tiny parser */
    char w[256] = "";
    if (where) {
        size_t j = 0;
        for (const char *p = where; *p && j < sizeof w - 1; p++) {
            if (!strncmp(p, " OR ", 4)) {
                w[j++] = '|';
                p += 3;
            } else {
                w[j++] = *p;
            }
        }
        w[j] = '\0';
    }
    cJSON *arr = g_stub.data[ds];
    int n = cJSON_GetArraySize(arr);
    sort_row *rows = calloc((size_t)n + 1, sizeof *rows);
    int m = 0, idx = 0;
    for (cJSON *r = arr ? arr->child : NULL; r; r = r->next, idx++)
        if (where_match(w, r)) rows[m++] = (sort_row){r, idx};
    snprintf(g_order, sizeof g_order, "%s", order ? order : ":id");
    qsort(rows, (size_t)m, sizeof *rows, cmp_rows);
    long limit = lim ? atol(lim) : 1000, offset = off ? atol(off) : 0;
    cJSON *out = cJSON_CreateArray();
    for (long i = offset; i < m && i < offset + limit; i++) cJSON_AddItemToArray(out, cJSON_Duplicate(rows[i].row, 1));
    free(rows);
    pthread_mutex_unlock(&g_stub.mu);
    char *body = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    enum MHD_Result rc = reply(c, 200, body);
    cJSON_free(body);
    return rc;
}

static void stub_start(void)
{
    for (int i = 0; i < 3; i++) cJSON_Delete(g_stub.data[i]);
    memset(&g_stub, 0, sizeof g_stub);
    pthread_mutex_init(&g_stub.mu, NULL);
    for (int i = 0; i < 3; i++) g_stub.data[i] = cJSON_CreateArray();
    g_stub.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handle,
                                NULL, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    assert_non_null(g_stub.d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_stub.d, MHD_DAEMON_INFO_BIND_PORT);
    g_stub.port = info->port;
}

static void stub_stop(void)
{
    MHD_stop_daemon(g_stub.d);
    for (int i = 0; i < 3; i++) {
        cJSON_Delete(g_stub.data[i]);
        g_stub.data[i] = NULL;
    }
    pthread_mutex_destroy(&g_stub.mu);
}

/* Adds a row given as "k=v" pairs (NULL-terminated). */
static void stub_row(int ds, const char *const *kv)
{
    cJSON *o = cJSON_CreateObject();
    for (; *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        char k[64];
        snprintf(k, sizeof k, "%.*s", (int)(eq - *kv), *kv);
        cJSON_AddStringToObject(o, k, eq + 1);
    }
    pthread_mutex_lock(&g_stub.mu);
    cJSON_AddItemToArray(g_stub.data[ds], o);
    pthread_mutex_unlock(&g_stub.mu);
}
#define ROW(ds, ...) stub_row(ds, (const char *const[]){__VA_ARGS__, NULL})

static void stub_faults(long fail_at, long fail_from, int status)
{
    pthread_mutex_lock(&g_stub.mu);
    g_stub.seq = 0;
    g_stub.fail_at = fail_at;
    g_stub.fail_from = fail_from;
    g_stub.fail_status = status;
    pthread_mutex_unlock(&g_stub.mu);
}

/* ------------------------------------------------------------------ harness */

typedef struct harness {
    char *url;
    sfp_pool *pool;
    sfp_soda *soda;
    sfp_cron_service svc;
    sfp_rpc_server *srv;
    pthread_t th;
    sfp_rpc_channel *ch;
} harness;

static void start(harness *h, const char *db, int breaker_threshold)
{
    memset(h, 0, sizeof *h);
    h->url = sfp_test_migrated_db(db);
    sfp_pool_config cfg = {.conninfo = h->url,
                           .min = 1,
                           .max = 4,
                           .connect_timeout_s = 2,
                           .statement_timeout_ms = 30000,
                           .acquire_timeout_ms = 3000,
                           .idle_check_s = 30,
                           .application_name = "sfp-cron-nightly-test"};
    sfp_err err = {0};
    h->pool = sfp_pool_create(&cfg, &err);
    assert_non_null(h->pool);
    static char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/resource", g_stub.port);
    sfp_soda_config sc;
    sfp_soda_config_defaults(&sc);
    sc.base_url = base;
    sc.timeout_ms = 3000;
    sc.breaker.threshold = breaker_threshold;
    sc.breaker.open_s = 60;
    h->soda = sfp_soda_create(&sc, &err);
    assert_non_null(h->soda);
    sfp_cron_config_defaults(&h->svc.cfg);
    h->svc.cfg.secret = SECRET;
    h->svc.cfg.today = TODAY;
    h->svc.cfg.nightly_page_size = 3;
    h->svc.cfg.nightly_retry_base_ms = 20;
    h->svc.pool = h->pool;
    h->svc.conninfo = h->url;
    h->svc.soda = h->soda;
    sfp_rpc_method m[SFP_CRON_NMETHODS];
    size_t nm = sfp_cron_service_methods(&h->svc, m);
    sfp_rpc_server_config rc = {.service = "cron", .addr = "127.0.0.1:0", .workers = 4};
    sfp_test_rpc_start(&rc, m, nm, &h->srv, &h->th, &h->ch);
}

static void stop(harness *h)
{
    sfp_test_rpc_stop(h->srv, h->th, h->ch);
    sfp_soda_destroy(h->soda);
    sfp_pool_destroy(h->pool);
    free(h->url);
}

static Sfpermits__V1__NightlyResult *nightly(harness *h, int lookback, bool dry_run)
{
    Sfpermits__V1__RunNightlyRequest req = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
    req.lookback_days = lookback;
    req.dry_run = dry_run;
    sfp_rpc_md md[1] = {{"authorization", "Bearer " SECRET}};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code c = sfp_rpc_call(h->ch, "/sfpermits.v1.CronService/RunNightly", &req.base,
                                      &sfpermits__v1__nightly_result__descriptor, &resp, 60000, md, 1, &st);
    if (c != GRPC_STATUS_OK) fail_msg("RunNightly: %s %s", sfp_rpc_code_name(c), st.message);
    return (Sfpermits__V1__NightlyResult *)resp;
}

static long q(harness *h, const char *sql)
{
    return sfp_test_sql_long(h->url, sql);
}

/* ------------------------------------------------------------------ fixture */

/* Local state before the run + SODA rows. 7 permits in the window (3 pages of 3), 1 outside. */
static void fixture(harness *h)
{
    assert_int_equal(
        sfp_test_sql(h->url, "INSERT INTO permits (permit_number, status, status_date, filed_date, block, lot, "
                             "permit_type_definition) VALUES "
                             "('N1', 'filed', '2025-05-01T00:00:00.000', '2025-05-01T00:00:00.000', '2000', '001', "
                             "'otc alterations permit'),"
                             "('N2', 'issued', '2025-06-14T09:00:00.000', '2025-05-02T00:00:00.000', '2000', '002', "
                             "'otc alterations permit');"
                             "INSERT INTO inspections (reference_number, scheduled_date, inspection_description, "
                             "result) VALUES ('N1', '2025-06-14T08:00:00.000', 'ROUGH FRAME', NULL);"
                             "INSERT INTO addenda (primary_key, application_number, addenda_number, step, station, "
                             "arrive, finish_date, review_results) VALUES "
                             "('N1-0-1', 'N1', 0, 1, 'BLDG', '2025-06-10T00:00:00.000', NULL, NULL);"
                             "INSERT INTO page_cache (cache_key, payload) VALUES ('brief:1:1', '\\x00'), "
                             "('brief:2:7', '\\x00'), ('report:x', '\\x00')"),
        0);
    /* permits: N1 status change filed → issued; N2 unchanged; N3..N7 new; OLD outside the window */
    ROW(0, "permit_number=N1", "status=issued", "status_date=2025-06-14T10:00:00.000",
        "filed_date=2025-05-01T00:00:00.000", "block=2000", "lot=001", "permit_type_definition=otc alterations permit",
        "estimated_cost=12000");
    ROW(0, "permit_number=N2", "status=issued", "status_date=2025-06-14T09:00:00.000",
        "filed_date=2025-05-02T00:00:00.000", "block=2000", "lot=002", "permit_type_definition=otc alterations permit");
    for (int i = 3; i <= 7; i++) {
        char num[32], sd[48];
        snprintf(num, sizeof num, "permit_number=N%d", i);
        snprintf(sd, sizeof sd, "status_date=2025-06-14T1%d:00:00.000", i);
        ROW(0, num, "status=filed", sd, "filed_date=2025-06-14T00:00:00.000", "block=2000", "lot=009",
            "neighborhoods_analysis_boundaries=Mission", "estimated_cost=not a number");
    }
    ROW(0, "permit_number=OLD", "status=expired", "status_date=2025-06-01T00:00:00.000");
    /* inspections: N1's ROUGH FRAME gets a result; 3 new ones; 1 outside the window */
    ROW(1, "reference_number=N1", "scheduled_date=2025-06-14T08:00:00.000", "inspection_description=ROUGH FRAME",
        "result=PASSED", "inspector=J DOE");
    ROW(1, "reference_number=N1", "scheduled_date=2025-06-14T09:00:00.000", "inspection_description=INSULATION",
        "result=FAILED");
    ROW(1, "reference_number=N3", "scheduled_date=2025-06-14T10:00:00.000", "inspection_description=FOUNDATION",
        "result=PASSED");
    ROW(1, "reference_number=N4", "scheduled_date=2025-06-14T11:00:00.000", "inspection_description=FINAL",
        "result=PASSED");
    ROW(1, "reference_number=N5", "scheduled_date=2025-05-14T11:00:00.000", "inspection_description=OLD",
        "result=PASSED");
    /* addenda: N1-0-1 finished (review_complete); N3 two new rows (one finished, one arrived) */
    ROW(2, "primary_key=N1-0-1", "application_number=N1", "addenda_number=0", "step=1", "station=BLDG",
        "arrive=2025-06-10T00:00:00.000", "finish_date=2025-06-14T12:00:00.000", "review_results=Approved");
    ROW(2, "primary_key=N3-0-1", "application_number=N3", "addenda_number=0", "step=1", "station=INTAKE",
        "arrive=2025-06-14T01:00:00.000", "finish_date=2025-06-14T02:00:00.000");
    ROW(2, "primary_key=N3-0-2", "application_number=N3", "addenda_number=0", "step=2", "station=CPB",
        "arrive=2025-06-14T02:00:00.000");
    ROW(2, "application_number=N3", "addenda_number=0", "step=3", "station=X", "arrive=2025-06-14T03:00:00.000");
}

/* ------------------------------------------------------------------ tests */

static void test_ingest_pages_changes_invalidation_idempotent(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly", 5);
    fixture(&h);
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    if (!r->ok) fail_msg("nightly failed: %s", r->error);
    assert_string_equal(r->status, "success");
    assert_string_equal(r->job_type, "nightly");
    assert_int_equal(r->lookback_days, 1);
    assert_false(r->was_catchup);
    assert_string_equal(r->since, "2025-06-14T00:00:00");
    /* permits: 7 rows in the window → pages 3 + 3 + 1 */
    assert_string_equal(r->permits->dataset_id, "i98e-djp9");
    assert_int_equal(r->permits->fetched, 7);
    assert_int_equal(r->permits->pages, 3);
    assert_int_equal(r->permits->retries, 0);
    assert_int_equal(r->permits->upserted, 6); /* N2 identical → not rewritten */
    assert_int_equal(r->new_permits, 5);
    assert_int_equal(r->status_changes, 1);
    assert_int_equal(r->changes_inserted, 6);
    assert_string_equal(g_stub.last_order[0], "status_date,permit_number");
    assert_string_equal(g_stub.last_where[0], "status_date > '2025-06-14T00:00:00.000'");
    assert_string_equal(g_stub.last_order[1], "scheduled_date,reference_number,:id");
    assert_string_equal(g_stub.last_order[2], "application_number,addenda_number,step,:id");
    assert_string_equal(g_stub.last_where[2],
                        "arrive > '2025-06-14T00:00:00.000' OR finish_date > '2025-06-14T00:00:00.000'");
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number = 'N1' AND status = 'issued' AND "
                           "status_date = '2025-06-14T10:00:00.000' AND estimated_cost = 12000"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number = 'OLD'"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number LIKE 'N_' AND neighborhood = 'Mission' "
                           "AND estimated_cost IS NULL"),
                     5);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes WHERE permit_number = 'N1' AND change_type = "
                           "'status_change' AND old_status = 'filed' AND new_status = 'issued' AND "
                           "change_date = '2025-06-14' AND NOT is_new_permit AND source = 'nightly' AND "
                           "old_status_date = '2025-05-01T00:00:00.000' AND block = '2000'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes WHERE change_type = 'new_permit' AND is_new_permit AND "
                           "old_status IS NULL AND new_status = 'filed'"),
                     5);
    /* inspections: 1 updated + 3 inserted, the old one not fetched */
    assert_int_equal(r->inspections->fetched, 4);
    assert_int_equal(r->inspections_updated, 4);
    assert_int_equal(q(&h, "SELECT count(*) FROM inspections WHERE reference_number = 'N1' AND inspection_description "
                           "= 'ROUGH FRAME' AND result = 'PASSED' AND inspector = 'J DOE'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM inspections"), 4);
    /* addenda: one without primary_key skipped (warning), N1-0-1 finished, N3 rows new */
    assert_int_equal(r->addenda->fetched, 4);
    assert_int_equal(r->addenda->upserted, 3);
    assert_int_equal(r->addenda_changes_inserted, 3);
    assert_int_equal(q(&h, "SELECT count(*) FROM addenda"), 3);
    assert_int_equal(q(&h, "SELECT count(*) FROM addenda_changes WHERE application_number = 'N1' AND change_type = "
                           "'review_complete' AND new_review_results = 'Approved' AND old_review_results IS NULL AND "
                           "change_date = '2025-06-14' AND block = '2000'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM addenda_changes WHERE application_number = 'N3' AND change_type = "
                           "'arrived' AND station = 'CPB'"),
                     1);
    bool warned = false;
    for (size_t i = 0; i < r->n_warnings; i++) warned |= strstr(r->warnings[i], "without primary_key") != NULL;
    assert_true(warned);
    /* brief:% invalidated, the report key untouched */
    assert_non_null(r->cache_invalidation);
    assert_int_equal(r->cache_invalidation->invalidated, 2);
    assert_int_equal(q(&h, "SELECT count(*) FROM page_cache WHERE invalidated_at IS NOT NULL"), 2);
    /* cron_log row */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM cron_log WHERE log_id = %lld AND job_type = 'nightly' AND status = 'success' AND "
             "soda_records = 15 AND changes_inserted = 6 AND inspections_updated = 4 AND lookback_days = 1 AND "
             "NOT was_catchup",
             (long long)r->log_id);
    assert_int_equal(q(&h, sql), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* second run: same SODA data → nothing new, nothing rewritten */
    long changes = q(&h, "SELECT count(*) FROM permit_changes");
    long addenda_changes = q(&h, "SELECT count(*) FROM addenda_changes");
    r = nightly(&h, 0, false);
    assert_true(r->ok);
    assert_int_equal(r->lookback_days, 1);
    assert_int_equal(r->permits->fetched, 7);
    assert_int_equal(r->permits->upserted, 0);
    assert_int_equal(r->changes_inserted, 0);
    assert_int_equal(r->inspections_updated, 0);
    assert_int_equal(r->addenda->upserted, 0);
    assert_int_equal(r->addenda_changes_inserted, 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes"), changes);
    assert_int_equal(q(&h, "SELECT count(*) FROM addenda_changes"), addenda_changes);
    assert_int_equal(q(&h, "SELECT count(*) FROM inspections"), 4);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

static void test_catchup_window(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_catchup", 5);
    ROW(0, "permit_number=C1", "status=filed", "status_date=2025-06-10T00:00:00.000",
        "filed_date=2025-06-10T00:00:00.000");
    ROW(0, "permit_number=C2", "status=filed", "status_date=2025-06-01T00:00:00.000",
        "filed_date=2025-06-01T00:00:00.000");
    /* the last success was 4.5 days ago → window ceil(4.5) + 1 = 6 days, source backfill */
    assert_int_equal(sfp_test_sql(h.url,
                                  "INSERT INTO cron_log (job_type, started_at, completed_at, status) VALUES "
                                  "('nightly', now() - interval '108 hours', now() - interval '107 hours', "
                                  "'success'), ('nightly_dry_run', now() - interval '1 hour', now(), 'success')"),
                     0);
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    assert_true(r->ok);
    assert_true(r->was_catchup);
    assert_int_equal(r->lookback_days, 6);
    assert_string_equal(r->since, "2025-06-09T00:00:00");
    assert_int_equal(r->permits->fetched, 1);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes WHERE permit_number = 'C1' AND source = 'backfill'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly' AND was_catchup AND "
                           "lookback_days = 6"),
                     1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* missed for 45 days → capped at 30 */
    assert_int_equal(sfp_test_sql(h.url, "UPDATE cron_log SET started_at = now() - interval '45 days' "
                                         "WHERE job_type = 'nightly'"),
                     0);
    r = nightly(&h, 0, false);
    assert_true(r->was_catchup);
    assert_int_equal(r->lookback_days, 30);
    assert_int_equal(r->permits->fetched, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* an explicit lookback wins and is not a catch-up */
    r = nightly(&h, 10, false);
    assert_false(r->was_catchup);
    assert_int_equal(r->lookback_days, 10);
    assert_string_equal(r->since, "2025-06-05T00:00:00");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

static void test_survives_500_mid_run(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_500", 5);
    fixture(&h);
    stub_faults(2, 0, 500); /* permits page 2 fails once */
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    if (!r->ok) fail_msg("nightly failed: %s", r->error);
    assert_int_equal(r->permits->retries, 1);
    assert_int_equal(r->permits->pages, 3);
    assert_int_equal(r->permits->fetched, 7);
    assert_int_equal(r->changes_inserted, 6);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits"), 7);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* a 429 is retried too */
    stub_faults(1, 0, 429);
    r = nightly(&h, 0, false);
    assert_true(r->ok);
    assert_int_equal(r->permits->retries, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

static void test_soda_down_fails_cleanly(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_down", 100);
    fixture(&h);
    stub_faults(0, 2, 503); /* page 1 ok, then SODA stays down */
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    assert_false(r->ok);
    assert_string_equal(r->status, "failed");
    assert_non_null(strstr(r->error, "SODA"));
    assert_non_null(strstr(r->error, "page 2"));
    assert_int_equal(r->permits->retries, 3);
    assert_null(r->cache_invalidation);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM cron_log WHERE log_id = %lld AND status = 'failed' AND "
             "error_message LIKE '%%SODA%%' AND completed_at IS NOT NULL",
             (long long)r->log_id);
    assert_int_equal(q(&h, sql), 1);
    /* page 1 (N2, N1, N3 by status_date) committed; nothing of later pages */
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number IN ('N4', 'N5', 'N6', 'N7')"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number = 'N3'"), 1);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes"), 2);
    assert_int_equal(q(&h, "SELECT count(*) FROM page_cache WHERE invalidated_at IS NOT NULL"), 0);
    assert_int_equal(g_stub.requests[1], 0); /* inspections never attempted */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

/* A page whose write fails leaves none of its rows, nor their change rows. */
static void test_page_is_atomic(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_atomic", 5);
    fixture(&h);
    /* N5 is on page 2 (N4, N5, N6): its change row violates a constraint */
    assert_int_equal(
        sfp_test_sql(h.url, "ALTER TABLE permit_changes ADD CONSTRAINT no_n5 CHECK (permit_number <> 'N5')"), 0);
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    assert_false(r->ok);
    assert_string_equal(r->status, "failed");
    assert_non_null(strstr(r->error, "permits page 2"));
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number IN ('N4', 'N5', 'N6')"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes WHERE permit_number IN ('N4', 'N6')"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits WHERE permit_number = 'N3'"), 1); /* page 1 stays */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

/* An open breaker is a failure with its reason, not an empty page (reference §9 item 1). */
static void test_open_breaker_is_not_end_of_data(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_breaker", 1);
    fixture(&h);
    stub_faults(0, 1, 500);
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, false);
    assert_false(r->ok);
    assert_non_null(strstr(r->error, "breaker_open"));
    assert_int_equal(r->permits->fetched, 0);
    assert_int_equal(g_stub.requests[0], 1); /* one real request; the retries were refused by the breaker */
    assert_null(r->cache_invalidation);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly' AND status = 'failed'"), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

static void test_dry_run_writes_nothing(void **state)
{
    (void)state;
    harness h;
    stub_start();
    start(&h, "it_cron_nightly_dry", 5);
    fixture(&h);
    Sfpermits__V1__NightlyResult *r = nightly(&h, 0, true);
    assert_true(r->ok);
    assert_true(r->dry_run);
    assert_string_equal(r->job_type, "nightly_dry_run");
    assert_int_equal(r->changes_inserted, 6); /* what would change */
    assert_int_equal(r->permits->upserted, 0);
    assert_null(r->cache_invalidation);
    assert_int_equal(q(&h, "SELECT count(*) FROM permits"), 2);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_changes"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM addenda_changes"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM page_cache WHERE invalidated_at IS NOT NULL"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly_dry_run' AND status = 'success'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly'"), 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    stub_stop();
}

int main(void)
{
    sfp_rpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_pages_changes_invalidation_idempotent),
        cmocka_unit_test(test_catchup_window),
        cmocka_unit_test(test_survives_500_mid_run),
        cmocka_unit_test(test_soda_down_fails_cleanly),
        cmocka_unit_test(test_page_is_atomic),
        cmocka_unit_test(test_open_breaker_is_not_end_of_data),
        cmocka_unit_test(test_dry_run_writes_nothing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sfp_rpc_shutdown();
    return rc;
}
