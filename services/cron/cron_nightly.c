/* cron_nightly.c — RunNightly: incremental ingest from SODA (common/soda_client.h) of
 *
 *   permits      i98e-djp9  $where status_date > since     $order status_date,permit_number
 *   inspections  vckc-dh2h  $where scheduled_date > since  $order scheduled_date,reference_number,:id
 *   addenda      87xy-gk8d  $where arrive > since OR finish_date > since
 *                                                          $order application_number,addenda_number,step,:id
 *
 * since = today − lookback: the requested lookback_days (1..90), else 1 day widened to
 * min(days since the last successful nightly + 1, 30) when runs were missed (was_catchup;
 * change rows then carry source 'backfill'). Pages of CRON_NIGHTLY_PAGE_SIZE rows ($limit /
 * $offset over the stable $order) until a short page.
 *
 * A page is fetched with retries (CRON_NIGHTLY_RETRIES, back-off 2 s, 4 s, 8 s, at least the
 * server's Retry-After) inside the time budget; timeouts, network errors, 5xx/408/429, garbage
 * bodies and an OPEN BREAKER are retried and, when they persist, fail the run — they are never
 * taken for the end of the data (reference §9 item 1). Other 4xx fail at once.
 *
 * Each page is ONE transaction with its change rows (a failure leaves no part of the page):
 *   permits      upsert ON CONFLICT (permit_number) DO UPDATE (only rows that differ);
 *                permit_changes: new_permit (not seen before) / status_change (status differs)
 *   inspections  update-or-insert on (reference_number, scheduled_date, inspection_description)
 *                (the table has no natural unique key; one nightly runs at a time: advisory lock)
 *   addenda      update-or-insert on primary_key (rows without one are skipped and counted);
 *                addenda_changes: arrived / review_complete (finish_date set) / review_updated
 * Pages committed before a failure stay: every statement is idempotent, and the next run
 * starts again from the last SUCCESSFUL run, so nothing is lost or duplicated.
 * dry_run: the same statements run and are rolled back (counts show what would change); no
 * invalidation. Afterwards (not dry_run): page_cache brief:% invalidated, count reported; an
 * invalidation error is a warning, not a failure. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cron_internal.h"
#include "log.h"
#include "page_cache.h"

/* clang-format off */ /* SQL assembled from macros: kept as written */
#define TXT(k) "nullif(j->>'" k "', '')"
#define NUM(k) "CASE WHEN j->>'" k "' ~ '^ *-?[0-9]+(\\.[0-9]*)? *$' THEN (j->>'" k "')::float8 END"
#define INT(k) "CASE WHEN j->>'" k "' ~ '^ *-?[0-9]{1,9}(\\.0*)? *$' THEN (j->>'" k "')::numeric::int END"
#define DAY_OR_TODAY(x) "CASE WHEN " x " ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN left(" x ", 10)::date ELSE current_date END"

/* $1 page (JSON array), $2 source. Returns: rows, upserted, new permits, status changes. */
static const char *const k_permits_sql[] = {
    "WITH src AS (SELECT DISTINCT ON (permit_number) * FROM (SELECT "
    TXT("permit_number") " AS permit_number, " TXT("permit_type") " AS permit_type, "
    TXT("permit_type_definition") " AS permit_type_definition, " TXT("status") " AS status, "
    TXT("status_date") " AS status_date, " TXT("description") " AS description, " TXT("filed_date") " AS filed_date, "
    TXT("issued_date") " AS issued_date, " TXT("approved_date") " AS approved_date, "
    TXT("completed_date") " AS completed_date, " NUM("estimated_cost") " AS estimated_cost, "
    NUM("revised_cost") " AS revised_cost, " TXT("existing_use") " AS existing_use, "
    TXT("proposed_use") " AS proposed_use, " INT("existing_units") " AS existing_units, "
    INT("proposed_units") " AS proposed_units, " TXT("street_number") " AS street_number, "
    TXT("street_name") " AS street_name, " TXT("street_suffix") " AS street_suffix, " TXT("zipcode") " AS zipcode, "
    "coalesce(" TXT("neighborhoods_analysis_boundaries") ", " TXT("neighborhood") ") AS neighborhood, "
    TXT("supervisor_district") " AS supervisor_district, " TXT("block") " AS block, " TXT("lot") " AS lot, "
    TXT("adu") " AS adu, " TXT("data_as_of") " AS data_as_of "
    "FROM jsonb_array_elements($1::jsonb) AS e(j)) x WHERE permit_number IS NOT NULL "
    "ORDER BY permit_number, status_date DESC NULLS LAST), ",
    "old AS (SELECT p.permit_number, p.status, p.status_date FROM permits p JOIN src USING (permit_number)), "
    "up AS (INSERT INTO permits (permit_number, permit_type, permit_type_definition, status, status_date, "
    "  description, filed_date, issued_date, approved_date, completed_date, estimated_cost, revised_cost, "
    "  existing_use, proposed_use, existing_units, proposed_units, street_number, street_name, street_suffix, "
    "  zipcode, neighborhood, supervisor_district, block, lot, adu, data_as_of) "
    "  SELECT permit_number, permit_type, permit_type_definition, status, status_date, description, filed_date, "
    "  issued_date, approved_date, completed_date, estimated_cost, revised_cost, existing_use, proposed_use, "
    "  existing_units, proposed_units, street_number, street_name, street_suffix, zipcode, neighborhood, "
    "  supervisor_district, block, lot, adu, data_as_of FROM src "
    "  ON CONFLICT (permit_number) DO UPDATE SET permit_type = EXCLUDED.permit_type, "
    "  permit_type_definition = EXCLUDED.permit_type_definition, status = EXCLUDED.status, "
    "  status_date = EXCLUDED.status_date, description = EXCLUDED.description, filed_date = EXCLUDED.filed_date, "
    "  issued_date = EXCLUDED.issued_date, approved_date = EXCLUDED.approved_date, "
    "  completed_date = EXCLUDED.completed_date, estimated_cost = EXCLUDED.estimated_cost, "
    "  revised_cost = EXCLUDED.revised_cost, existing_use = EXCLUDED.existing_use, "
    "  proposed_use = EXCLUDED.proposed_use, existing_units = EXCLUDED.existing_units, "
    "  proposed_units = EXCLUDED.proposed_units, street_number = EXCLUDED.street_number, "
    "  street_name = EXCLUDED.street_name, street_suffix = EXCLUDED.street_suffix, zipcode = EXCLUDED.zipcode, "
    "  neighborhood = EXCLUDED.neighborhood, supervisor_district = EXCLUDED.supervisor_district, "
    "  block = EXCLUDED.block, lot = EXCLUDED.lot, adu = EXCLUDED.adu, data_as_of = EXCLUDED.data_as_of "
    "  WHERE ROW(permits.*) IS DISTINCT FROM ROW(EXCLUDED.*) RETURNING 1), ",
    "ch AS (INSERT INTO permit_changes (permit_number, change_date, old_status, new_status, old_status_date, "
    "  new_status_date, change_type, is_new_permit, source, permit_type, street_number, street_name, neighborhood, "
    "  block, lot) "
    "  SELECT s.permit_number, CASE WHEN o.permit_number IS NULL THEN " DAY_OR_TODAY("coalesce(s.filed_date, s.status_date)")
    "  ELSE " DAY_OR_TODAY("s.status_date") " END, o.status, coalesce(s.status, ''), o.status_date, s.status_date, "
    "  CASE WHEN o.permit_number IS NULL THEN 'new_permit' ELSE 'status_change' END, o.permit_number IS NULL, $2, "
    "  s.permit_type_definition, s.street_number, s.street_name, s.neighborhood, s.block, s.lot "
    "  FROM src s LEFT JOIN old o USING (permit_number) "
    "  WHERE o.permit_number IS NULL OR lower(coalesce(o.status, '')) <> lower(coalesce(s.status, '')) "
    "  RETURNING is_new_permit) "
    "SELECT (SELECT count(*) FROM src), (SELECT count(*) FROM up), "
    "(SELECT count(*) FILTER (WHERE is_new_permit) FROM ch), (SELECT count(*) FILTER (WHERE NOT is_new_permit) FROM ch)",
    NULL};

#define INSP_COLS                                                                                               \
    "reference_number_type, inspector, result, block, lot, street_number, street_name, street_suffix, "        \
    "neighborhood, supervisor_district, zipcode, data_as_of"
#define INSP_KEY(a, b)                                                                                           \
    a ".reference_number = " b ".reference_number AND " a ".scheduled_date IS NOT DISTINCT FROM " b             \
    ".scheduled_date AND " a ".inspection_description IS NOT DISTINCT FROM " b ".inspection_description"

/* Returns: rows, updated, inserted, 0. */
static const char *const k_inspections_sql[] = {
    "WITH src AS (SELECT DISTINCT ON (reference_number, scheduled_date, inspection_description) * FROM (SELECT "
    TXT("reference_number") " AS reference_number, coalesce(" TXT("reference_number_type") ", 'permit') "
    "AS reference_number_type, " TXT("inspector") " AS inspector, " TXT("scheduled_date") " AS scheduled_date, "
    TXT("result") " AS result, " TXT("inspection_description") " AS inspection_description, "
    TXT("block") " AS block, " TXT("lot") " AS lot, " TXT("street_number") " AS street_number, "
    TXT("street_name") " AS street_name, " TXT("street_suffix") " AS street_suffix, "
    "coalesce(" TXT("neighborhoods_analysis_boundaries") ", " TXT("neighborhood") ") AS neighborhood, "
    TXT("supervisor_district") " AS supervisor_district, " TXT("zipcode") " AS zipcode, "
    TXT("data_as_of") " AS data_as_of "
    "FROM jsonb_array_elements($1::jsonb) AS e(j)) x WHERE reference_number IS NOT NULL "
    "ORDER BY reference_number, scheduled_date, inspection_description, result NULLS LAST), ",
    "upd AS (UPDATE inspections i SET (" INSP_COLS ") = (s.reference_number_type, s.inspector, s.result, s.block, "
    "  s.lot, s.street_number, s.street_name, s.street_suffix, s.neighborhood, s.supervisor_district, s.zipcode, "
    "  s.data_as_of) FROM src s WHERE " INSP_KEY("i", "s") " AND (i.reference_number_type, i.inspector, i.result, "
    "  i.block, i.lot, i.street_number, i.street_name, i.street_suffix, i.neighborhood, i.supervisor_district, "
    "  i.zipcode, i.data_as_of) IS DISTINCT FROM (s.reference_number_type, s.inspector, s.result, s.block, s.lot, "
    "  s.street_number, s.street_name, s.street_suffix, s.neighborhood, s.supervisor_district, s.zipcode, "
    "  s.data_as_of) RETURNING i.id), ",
    "ins AS (INSERT INTO inspections (reference_number, scheduled_date, inspection_description, " INSP_COLS
    ", source) SELECT s.reference_number, s.scheduled_date, s.inspection_description, s.reference_number_type, "
    "  s.inspector, s.result, s.block, s.lot, s.street_number, s.street_name, s.street_suffix, s.neighborhood, "
    "  s.supervisor_district, s.zipcode, s.data_as_of, 'building' FROM src s "
    "  WHERE NOT EXISTS (SELECT 1 FROM inspections i WHERE " INSP_KEY("i", "s") ") RETURNING id) "
    "SELECT (SELECT count(*) FROM src), (SELECT count(*) FROM upd), (SELECT count(*) FROM ins), 0",
    NULL};

#define ADD_COLS                                                                                                \
    "application_number, addenda_number, step, station, arrive, assign_date, start_date, finish_date, "         \
    "approved_date, plan_checked_by, review_results, hold_description, addenda_status, department, title, "     \
    "data_as_of"
#define ADD_VALS(s)                                                                                             \
    s ".application_number, " s ".addenda_number, " s ".step, " s ".station, " s ".arrive, " s ".assign_date, " \
    s ".start_date, " s ".finish_date, " s ".approved_date, " s ".plan_checked_by, " s ".review_results, " s    \
    ".hold_description, " s ".addenda_status, " s ".department, " s ".title, " s ".data_as_of"

/* Returns: rows (with a primary_key), upserted, addenda_changes, rows skipped (no primary_key). */
static const char *const k_addenda_sql[] = {
    "WITH raw AS (SELECT " TXT("primary_key") " AS primary_key, " TXT("application_number") " AS application_number, "
    INT("addenda_number") " AS addenda_number, " INT("step") " AS step, " TXT("station") " AS station, "
    TXT("arrive") " AS arrive, " TXT("assign_date") " AS assign_date, " TXT("start_date") " AS start_date, "
    TXT("finish_date") " AS finish_date, " TXT("approved_date") " AS approved_date, "
    TXT("plan_checked_by") " AS plan_checked_by, " TXT("review_results") " AS review_results, "
    TXT("hold_description") " AS hold_description, " TXT("addenda_status") " AS addenda_status, "
    TXT("department") " AS department, " TXT("title") " AS title, " TXT("data_as_of") " AS data_as_of "
    "FROM jsonb_array_elements($1::jsonb) AS e(j)), "
    "src AS (SELECT DISTINCT ON (primary_key) * FROM raw WHERE primary_key IS NOT NULL "
    "  AND application_number IS NOT NULL ORDER BY primary_key, finish_date DESC NULLS LAST), ",
    "old AS (SELECT DISTINCT ON (a.primary_key) a.primary_key, a.finish_date, a.review_results "
    "  FROM addenda a JOIN src s USING (primary_key) ORDER BY a.primary_key, a.id), "
    "upd AS (UPDATE addenda a SET (" ADD_COLS ") = (" ADD_VALS("s") ") FROM src s "
    "  WHERE a.primary_key = s.primary_key AND (" ADD_VALS("a") ") IS DISTINCT FROM (" ADD_VALS("s") ") "
    "  RETURNING a.id), ",
    "ins AS (INSERT INTO addenda (primary_key, " ADD_COLS ") SELECT s.primary_key, " ADD_VALS("s") " FROM src s "
    "  WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.primary_key = s.primary_key) RETURNING id), ",
    "ch AS (INSERT INTO addenda_changes (application_number, change_date, station, addenda_number, step, "
    "  plan_checked_by, old_review_results, new_review_results, hold_description, finish_date, change_type, source, "
    "  department, permit_type, street_number, street_name, neighborhood, block, lot) "
    "  SELECT s.application_number, CASE WHEN s.finish_date IS NOT NULL THEN " DAY_OR_TODAY("s.finish_date")
    "  ELSE " DAY_OR_TODAY("s.arrive") " END, s.station, s.addenda_number, s.step, s.plan_checked_by, "
    "  o.review_results, s.review_results, s.hold_description, s.finish_date, "
    "  CASE WHEN s.finish_date IS NOT NULL AND (o.primary_key IS NULL OR o.finish_date IS NULL) THEN 'review_complete' "
    "    WHEN o.primary_key IS NULL THEN 'arrived' ELSE 'review_updated' END, $2, s.department, "
    "  p.permit_type_definition, p.street_number, p.street_name, p.neighborhood, p.block, p.lot "
    "  FROM src s LEFT JOIN old o USING (primary_key) LEFT JOIN permits p ON p.permit_number = s.application_number "
    "  WHERE o.primary_key IS NULL OR (o.finish_date IS NULL AND s.finish_date IS NOT NULL) "
    "    OR o.review_results IS DISTINCT FROM s.review_results RETURNING 1) "
    "SELECT (SELECT count(*) FROM src), (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins), "
    "(SELECT count(*) FROM ch), (SELECT count(*) FROM raw WHERE primary_key IS NULL OR application_number IS NULL)",
    NULL};

typedef enum { DS_PERMITS = 0, DS_INSPECTIONS, DS_ADDENDA, DS_COUNT } ds_kind;

typedef struct ds_spec {
    const char *id, *name;
    const char *where_fmt; /* %1$s = since literal */
    const char *order;
    const char *const *sql; /* parts, NULL-terminated (each under C's 4095-char literal limit) */
} ds_spec;

static const ds_spec k_ds[DS_COUNT] = {
    {"i98e-djp9", "permits", "status_date > '%1$s'", "status_date,permit_number", k_permits_sql},
    {"vckc-dh2h", "inspections", "scheduled_date > '%1$s'", "scheduled_date,reference_number,:id", k_inspections_sql},
    {"87xy-gk8d", "addenda", "arrive > '%1$s' OR finish_date > '%1$s'", "application_number,addenda_number,step,:id",
     k_addenda_sql},
};
/* clang-format on */

typedef struct ds_totals {
    long long rows, upserted, a, b, skipped;
} ds_totals;

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static bool retryable(const sfp_soda_response *x)
{
    switch (x->status) {
    case SFP_SODA_E_BREAKER_OPEN:
    case SFP_SODA_E_TIMEOUT:
    case SFP_SODA_E_NETWORK:
    case SFP_SODA_E_BAD_BODY: return true;
    case SFP_SODA_E_HTTP: return x->http_status >= 500 || x->http_status == 408 || x->http_status == 429;
    default: return false;
    }
}

/* One page into the database: a transaction of its own (rolled back on dry_run). */
static int store_page(sfp_cron_run *r, const ds_spec *ds, const char *page_json, const char *source, bool dry_run,
                      ds_totals *t, int page_no)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, ds->name, &err);
    if (sfp_cron_begin(r, c, &err)) {
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, ds->name, &err);
    }
    const char *p[2] = {page_json, source};
    sfp_buf sql;
    sfp_buf_init(&sql);
    for (const char *const *part = ds->sql; *part; part++) sfp_buf_puts(&sql, *part);
    PGresult *res = sfp_db_query(c, sql.data, strstr(sql.data, "$2") ? 2 : 1, p, &err);
    sfp_buf_free(&sql);
    if (!res) {
        char what[96];
        snprintf(what, sizeof what, "%s page %d", ds->name, page_no);
        sfp_cron_rollback(c);
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, what, &err);
    }
    long long v[4];
    for (int i = 0; i < 4; i++) v[i] = sfp_cron_ll(res, 0, i);
    PQclear(res);
    if (dry_run) {
        sfp_cron_rollback(c);
    } else if (sfp_db_exec(c, "COMMIT", 0, NULL, &err)) {
        sfp_cron_rollback(c);
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, ds->name, &err);
    }
    sfp_pool_release(r->svc->pool, c);
    t->rows += v[0];
    if (ds == &k_ds[DS_INSPECTIONS]) {
        t->upserted += v[1] + v[2];
    } else {
        t->upserted += v[1];
        t->a += v[2];
        if (ds == &k_ds[DS_PERMITS]) t->b += v[3];
        else t->skipped += v[3];
    }
    return 0;
}

static int ingest(sfp_cron_run *r, const ds_spec *ds, const char *since_lit, const char *source, bool dry_run,
                  Sfpermits__V1__NightlyDatasetStats *st, ds_totals *t)
{
    const sfp_cron_config *cfg = &r->svc->cfg;
    char where[256];
    snprintf(where, sizeof where, ds->where_fmt, since_lit);
    long limit = cfg->nightly_page_size;
    long offset = 0;
    for (int page = 1;; page++) {
        sfp_soda_query q = {.dataset = ds->id, .where = where, .order = ds->order, .limit = limit, .offset = offset};
        sfp_soda_response resp;
        for (int attempt = 0;; attempt++) {
            memset(&resp, 0, sizeof resp);
            int64_t left = sfp_cron_left_ms(r);
            if (left <= 0)
                return sfp_cron_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED,
                                     "nightly: time budget exhausted (limit %d s) before %s page %d", r->limit_s,
                                     ds->name, page);
            if (sfp_soda_query_run(r->svc->soda, &q, left, &resp) == 0) break;
            char reason[32];
            snprintf(reason, sizeof reason, "%s", resp.reason[0] ? resp.reason : "error");
            sfp_soda_status status = resp.status;
            bool again = retryable(&resp) && attempt < cfg->nightly_retries;
            int64_t delay = sfp_cron_backoff_ms(attempt + 1, cfg->nightly_retry_base_ms, resp.retry_after_s);
            sfp_soda_response_clear(&resp);
            if (again && delay >= sfp_cron_left_ms(r)) again = false;
            sfp_log(again ? SFP_WARN : SFP_ERROR, "nightly SODA page failed", SFP_S("dataset", ds->id),
                    SFP_I("page", page), SFP_I("offset", offset), SFP_S("reason", reason),
                    SFP_I("attempt", attempt + 1), SFP_B("retrying", again), SFP_I("backoff_ms", again ? delay : 0));
            if (!again) {
                if (status == SFP_SODA_E_DEADLINE)
                    return sfp_cron_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED,
                                         "nightly: time budget exhausted (limit %d s) during %s page %d", r->limit_s,
                                         ds->name, page);
                return sfp_cron_fail(r, GRPC_STATUS_UNAVAILABLE,
                                     "nightly: SODA %s (%s) page %d at offset %ld failed after %d attempt(s): %s",
                                     ds->name, ds->id, page, offset, attempt + 1, reason);
            }
            st->retries++;
            sleep_ms(delay);
        }
        const cJSON *arr = sfp_soda_rows_json(resp.rows);
        long n = sfp_soda_rows_count(resp.rows);
        st->pages++;
        st->fetched += n;
        if (n > 0) {
            char *json = cJSON_PrintUnformatted(arr);
            if (!json) abort();
            int rc = store_page(r, ds, json, source, dry_run, t, page);
            cJSON_free(json);
            if (rc) {
                sfp_soda_response_clear(&resp);
                return -1;
            }
        }
        sfp_soda_response_clear(&resp);
        if (n < limit) break;
        offset += n;
    }
    st->upserted = dry_run ? 0 : t->upserted;
    return 0;
}

static Sfpermits__V1__NightlyDatasetStats *ds_stats(sfp_arena *a, const ds_spec *ds)
{
    Sfpermits__V1__NightlyDatasetStats *s = sfp_arena_msg(a, &sfpermits__v1__nightly_dataset_stats__descriptor);
    s->dataset_id = (char *)ds->id;
    return s;
}

int sfp_cron_nightly_job(sfp_cron_run *r, const Sfpermits__V1__RunNightlyRequest *req,
                         Sfpermits__V1__NightlyResult *res)
{
    res->dry_run = req->dry_run;
    res->swept_stuck_jobs = (int32_t)r->swept;
    res->permits = ds_stats(r->arena, &k_ds[DS_PERMITS]);
    res->inspections = ds_stats(r->arena, &k_ds[DS_INSPECTIONS]);
    res->addenda = ds_stats(r->arena, &k_ds[DS_ADDENDA]);
    if (req->lookback_days < 0) return sfp_cron_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "lookback_days must be >= 0");
    if (!r->svc->soda) return sfp_cron_fail(r, GRPC_STATUS_FAILED_PRECONDITION, "SODA client not configured");

    /* Window: since the last successful (non-dry) run. */
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "nightly: window", &err);
    const char *p1[1] = {sfp_cron_today_param(r)};
    PGresult *w = sfp_db_query(c,
                               "SELECT EXTRACT(EPOCH FROM now() - max(started_at)) / 86400.0, "
                               "(coalesce($1::date, current_date))::text FROM cron_log "
                               "WHERE job_type = 'nightly' AND status = 'success'",
                               1, p1, &err);
    if (!w) {
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, "nightly: window", &err);
    }
    bool has_last = !PQgetisnull(w, 0, 0);
    double days_since = has_last ? strtod(PQgetvalue(w, 0, 0), NULL) : 0;
    bool catchup = false;
    int lookback = sfp_cron_nightly_lookback(req->lookback_days, has_last, days_since, &catchup);
    char lb[16];
    snprintf(lb, sizeof lb, "%d", lookback);
    const char *p2[2] = {PQgetvalue(w, 0, 1), lb};
    PGresult *s = sfp_db_query(c, "SELECT ($1::date - $2::int)::text", 2, p2, &err);
    PQclear(w);
    sfp_pool_release(r->svc->pool, c);
    if (!s) return sfp_cron_fail_db(r, "nightly: window", &err);
    char since_lit[40];
    snprintf(since_lit, sizeof since_lit, "%.10sT00:00:00.000", PQgetvalue(s, 0, 0));
    PQclear(s);
    r->has_lookback = true;
    r->lookback_days = lookback;
    r->was_catchup = catchup;
    r->has_counts = true;
    res->lookback_days = lookback;
    res->was_catchup = catchup;
    res->since = sfp_arena_strndup(r->arena, since_lit, 19); /* floating (SF wall-clock) time */
    const char *source = catchup ? "backfill" : "nightly";
    sfp_log(SFP_INFO, "nightly window", SFP_S("since", since_lit), SFP_I("lookback_days", lookback),
            SFP_B("was_catchup", catchup), SFP_B("dry_run", req->dry_run));

    ds_totals tot[DS_COUNT];
    memset(tot, 0, sizeof tot);
    Sfpermits__V1__NightlyDatasetStats *stats[DS_COUNT] = {res->permits, res->inspections, res->addenda};
    int rc = 0;
    for (int d = 0; d < DS_COUNT && rc == 0; d++)
        rc = ingest(r, &k_ds[d], since_lit, source, req->dry_run, stats[d], &tot[d]);

    res->changes_inserted = tot[DS_PERMITS].a + tot[DS_PERMITS].b;
    res->new_permits = tot[DS_PERMITS].a;
    res->status_changes = tot[DS_PERMITS].b;
    res->inspections_updated = tot[DS_INSPECTIONS].upserted;
    res->addenda_changes_inserted = tot[DS_ADDENDA].a;
    r->soda_records = res->permits->fetched + res->inspections->fetched + res->addenda->fetched;
    r->changes_inserted = req->dry_run ? 0 : res->changes_inserted;
    r->inspections_updated = req->dry_run ? 0 : res->inspections_updated;

    /* warnings */
    char *warn[4];
    size_t nw = 0;
    if (tot[DS_ADDENDA].skipped > 0)
        warn[nw++] =
            sfp_arena_printf(r->arena, "addenda: %lld row(s) without primary_key skipped", tot[DS_ADDENDA].skipped);
    if (rc == 0 && res->permits->fetched == 0)
        warn[nw++] = sfp_arena_printf(r->arena, "permits: no changes from SODA since %s (stale source?)", res->since);
    if (rc) {
        res->n_warnings = nw;
        res->warnings = sfp_arena_alloc(r->arena, sizeof(char *) * (nw ? nw : 1));
        memcpy(res->warnings, warn, sizeof(char *) * nw);
        return -1;
    }

    if (!req->dry_run) {
        res->cache_invalidation = sfp_arena_msg(r->arena, &sfpermits__v1__cache_invalidation__descriptor);
        c = sfp_cron_acquire(r, &err);
        long long inv = c ? sfp_page_cache_invalidate(c, "brief:%", &err) : -1;
        if (c) sfp_pool_release(r->svc->pool, c);
        if (inv < 0) {
            sfp_log(SFP_WARN, "nightly: brief cache invalidation failed", SFP_S("error", err.msg));
            warn[nw++] = sfp_arena_printf(r->arena, "cache invalidation failed: %s", err.msg);
        } else {
            res->cache_invalidation->invalidated = inv;
        }
    }
    res->n_warnings = nw;
    res->warnings = sfp_arena_alloc(r->arena, sizeof(char *) * (nw ? nw : 1));
    memcpy(res->warnings, warn, sizeof(char *) * nw);
    return 0;
}
