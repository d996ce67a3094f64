/* cron_nightly.c — RunNightly: every dataset of cron_datasets.c ingested from SODA through the
 * table-driven engine (cron_ingest.c), then the derived tables (cron_entities.c).
 *
 * Window, per dataset: rows whose update field (data_as_of) is above the dataset's watermark
 * (nightly_watermarks); `lookback_days` N > 0 instead asks for rows updated since today − N
 * (00:00, San Francisco wall-clock time); `full`, or a dataset never ingested, fetches the
 * whole dataset and replaces its rows (rows gone from SODA are deleted).
 *
 * Phase 1 fetches every dataset into its staging table, FETCH_PARALLEL datasets at a time
 * (largest first: the descriptors' order), each page after page (pages with $order=:id, retries with
 * back-off honouring Retry-After, an open breaker or a persisting 5xx / timeout / malformed page
 * fails the run, a page cut short is caught by SODA's count(*)). Nothing live changes.
 * Phase 2 is ONE transaction: change feeds (permit_changes, addenda_changes; source 'backfill'
 * when runs were missed), every merge, contact resolution, entities, parcel_summary,
 * timeline_stats and the watermarks. A failure anywhere rolls all of it back, so the services
 * see either yesterday's tables or today's, never a mix; the next run starts again from the
 * unchanged watermarks. The tables' statement triggers (sfp_data_changed) notify the report
 * caches at commit. dry_run: phase 2 is rolled back (counts show what would change), nothing
 * invalidated. Afterwards the staging tables are dropped and page_cache brief:% invalidated (an
 * error there is a warning). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_benchmarks.h"
#include "cron_ingest.h"
#include "cron_jobs.h"
#include "log.h"
#include "page_cache.h"

static Sfpermits__V1__NightlyDatasetStats *ds_stats(sfp_arena *a, const sfp_ingest_state *st, bool dry_run)
{
    Sfpermits__V1__NightlyDatasetStats *s = sfp_arena_msg(a, &sfpermits__v1__nightly_dataset_stats__descriptor);
    s->dataset_id = (char *)st->ds->id;
    s->name = (char *)st->ds->name;
    s->table = (char *)st->ds->table;
    s->full = st->full;
    s->since = sfp_arena_strdup(a, st->full ? "" : st->since);
    s->watermark = sfp_arena_strdup(a, st->watermark);
    s->fetched = st->fetched;
    s->pages = st->pages;
    s->retries = st->retries;
    s->skipped = st->skipped;
    s->expected = st->expected;
    s->inserted = st->inserted;
    s->updated = st->updated;
    s->deleted = st->deleted;
    s->upserted = dry_run ? 0 : st->inserted + st->updated;
    return s;
}

/* Reads the catch-up state, today and the watermarks; sets each state's full/since. */
static int plan(sfp_cron_run *r, const Sfpermits__V1__RunNightlyRequest *req, int lookback, sfp_ingest_state *sts,
                size_t n, bool *catchup, char *lookback_since, size_t lsz)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "nightly: window", &err);
    char lb[16];
    snprintf(lb, sizeof lb, "%d", lookback);
    const char *p1[2] = {sfp_cron_today_param(r), lb};
    PGresult *w = sfp_db_query(c,
                               "SELECT EXTRACT(EPOCH FROM now() - max(started_at)) / 86400.0, "
                               "($1::date - $2::int)::text FROM cron_log "
                               "WHERE job_type = 'nightly' AND status = 'success'",
                               2, p1, &err);
    PGresult *wm = w ? sfp_db_query(c, "SELECT dataset_id, watermark FROM nightly_watermarks", 0, NULL, &err) : NULL;
    sfp_pool_release(r->svc->pool, c);
    if (!w || !wm) {
        PQclear(w);
        return sfp_cron_fail_db(r, "nightly: window", &err);
    }
    bool has_last = !PQgetisnull(w, 0, 0);
    double days_since = has_last ? strtod(PQgetvalue(w, 0, 0), NULL) : 0;
    sfp_cron_nightly_lookback(0, has_last, days_since, catchup);
    lookback_since[0] = '\0';
    if (lookback > 0) snprintf(lookback_since, lsz, "%.10sT00:00:00.000", PQgetvalue(w, 0, 1));
    PQclear(w);
    for (size_t i = 0; i < n; i++) {
        const char *mark = NULL;
        for (int k = 0; k < PQntuples(wm); k++)
            if (!strcmp(PQgetvalue(wm, k, 0), sts[i].ds->id) && !PQgetisnull(wm, k, 1)) mark = PQgetvalue(wm, k, 1);
        sts[i].had_watermark = mark != NULL;
        sts[i].full = req->full || (!mark && !lookback_since[0]);
        snprintf(sts[i].since, sizeof sts[i].since, "%s", lookback_since[0] ? lookback_since : mark ? mark : "");
        snprintf(sts[i].watermark, sizeof sts[i].watermark, "%s", mark ? mark : "");
    }
    PQclear(wm);
    return 0;
}

#define FETCH_PARALLEL 3

typedef struct fetch_pool {
    sfp_cron_run *r;
    sfp_ingest_state *sts;
    size_t n;
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t mu;
} fetch_pool;

/* Worker: fetches the next dataset until none is left or one failed. Each fetch runs on a copy
 * of the run context; the first failure is copied back. */
static void *fetch_worker(void *arg)
{
    fetch_pool *fp = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&fp->next, 1);
        if (i >= fp->n || atomic_load(&fp->failed)) break;
        pthread_mutex_lock(&fp->mu);
        sfp_cron_run local = *fp->r;
        pthread_mutex_unlock(&fp->mu);
        local.code = SFP_OK;
        local.error[0] = '\0';
        if (sfp_ingest_fetch(&local, &fp->sts[i]) == 0) continue;
        atomic_store(&fp->failed, true);
        pthread_mutex_lock(&fp->mu);
        if (!fp->r->code) {
            fp->r->code = local.code ? local.code : SFP_INTERNAL;
            memcpy(fp->r->error, local.error, sizeof fp->r->error);
        }
        pthread_mutex_unlock(&fp->mu);
    }
    return NULL;
}

/* Phase 1: every dataset into staging. */
static int fetch_all(sfp_cron_run *r, sfp_ingest_state *sts, size_t n)
{
    fetch_pool fp = {.r = r, .sts = sts, .n = n};
    atomic_init(&fp.next, 0);
    atomic_init(&fp.failed, false);
    pthread_mutex_init(&fp.mu, NULL);
    pthread_t th[FETCH_PARALLEL];
    int started = 0;
    for (int i = 0; i < FETCH_PARALLEL && (size_t)i < n; i++)
        if (pthread_create(&th[started], NULL, fetch_worker, &fp) == 0) started++;
    if (started == 0) fetch_worker(&fp);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&fp.mu);
    return atomic_load(&fp.failed) ? -1 : 0;
}

/* The staging tables hold a copy of what was fetched (millions of rows after a full run):
 * dropped once the run is over, whatever its outcome. Best effort. */
static void drop_staging(sfp_cron_run *r, const sfp_ingest_state *sts, size_t n)
{
    sfp_err err = {0};
    sfp_pool *pool = r->svc->pool;
    sfp_conn *c = sfp_pool_acquire(pool, 5000, &err);
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS nightly_stage_%s", sts[i].ds->name);
        if (sfp_db_exec(c, sql, 0, NULL, &err))
            sfp_log(SFP_WARN, "nightly: staging table not dropped", SFP_S("table", sql + 21), SFP_S("error", err.msg));
    }
    sfp_pool_release(pool, c);
}

/* Phase 2: one transaction. */
static int apply_all(sfp_cron_run *r, sfp_ingest_state *sts, size_t n, bool full, bool dry_run, const char *source,
                     sfp_derived_stats *derived)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "nightly: apply", &err);
    if (sfp_cron_begin(r, c, &err)) {
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, "nightly: apply", &err);
    }
    char path[512] = "";
    double t0 = sfp_ingest_now_s();
    int rc = sfp_derived_prepare(r, c);
    if (rc == 0) rc = sfp_ingest_swap_plan(r, c, sts, n, path, sizeof path);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (sts[i].applied) continue;
        rc = sts[i].swap_first ? sfp_ingest_apply_rebuilt(r, c, sts, n, i, source)
                               : sfp_ingest_apply(r, c, &sts[i], source);
    }
    if (rc == 0) rc = sfp_ingest_swap_analyze(r, c, sts, n);
    double t1 = sfp_ingest_now_s();
    if (rc == 0) rc = sfp_derived_rebuild(r, c, sts, n, full, derived);
    double t2 = sfp_ingest_now_s();
    if (rc == 0) rc = sfp_ingest_swap_finish(r, c, sts, n, path);
    if (rc == 0) rc = sfp_cron_brief_benchmarks(r, c);   /* after timeline_stats is final */
    if (rc == 0) rc = sfp_cron_brief_data_quality(r, c); /* after the last write to its tables */
    double t3 = sfp_ingest_now_s();
    if (rc == 0 && !dry_run && sfp_db_exec(c, "COMMIT", 0, NULL, &err))
        rc = sfp_cron_fail_db(r, "nightly: commit", &err);
    if (rc == 0)
        sfp_log(SFP_INFO, "nightly apply timings", SFP_D("merges_s", t1 - t0), SFP_D("derived_s", t2 - t1),
                SFP_D("indexes_and_swap_s", t3 - t2), SFP_D("commit_s", sfp_ingest_now_s() - t3));
    if (rc || dry_run) sfp_cron_rollback(c);
    sfp_pool_release(r->svc->pool, c);
    return rc;
}

static int nightly_job(sfp_cron_run *r, const Sfpermits__V1__RunNightlyRequest *req, Sfpermits__V1__NightlyResult *res)
{
    const size_t n = sfp_ingest_dataset_count;
    res->dry_run = req->dry_run;
    res->full = req->full;
    res->swept_stuck_jobs = (int32_t)r->swept;
    sfp_ingest_state *sts = sfp_arena_alloc(r->arena, sizeof *sts * n);
    memset(sts, 0, sizeof *sts * n);
    for (size_t i = 0; i < n; i++) sts[i].ds = &sfp_ingest_datasets[i];
    /* lookback_days is 0..SFP_CRON_LOOKBACK_MAX here: RunNightly refuses anything else */
    if (!r->svc->soda) return sfp_cron_fail(r, SFP_FAILED_PRECONDITION, "SODA client not configured");

    int lookback = req->lookback_days;
    bool catchup = false;
    char lookback_since[40];
    int rc = plan(r, req, lookback, sts, n, &catchup, lookback_since, sizeof lookback_since);
    const char *source = catchup ? "backfill" : "nightly";
    if (rc == 0) {
        r->has_lookback = lookback > 0;
        r->lookback_days = lookback;
        r->was_catchup = catchup;
        res->lookback_days = lookback;
        res->was_catchup = catchup;
        res->since = sfp_arena_strdup(r->arena, lookback_since);
        sfp_log(SFP_INFO, "nightly window", SFP_S("lookback_since", lookback_since), SFP_B("full", req->full),
                SFP_B("was_catchup", catchup), SFP_B("dry_run", req->dry_run));
    }
    if (rc == 0) rc = fetch_all(r, sts, n);
    sfp_derived_stats derived;
    memset(&derived, 0, sizeof derived);
    if (rc == 0) rc = apply_all(r, sts, n, req->full, req->dry_run, source, &derived);
    drop_staging(r, sts, n);

    /* result: every dataset, the legacy three, the derived counts */
    res->n_datasets = n;
    res->datasets = sfp_arena_alloc(r->arena, sizeof *res->datasets * n);
    long long fetched = 0;
    for (size_t i = 0; i < n; i++) {
        res->datasets[i] = ds_stats(r->arena, &sts[i], req->dry_run);
        fetched += sts[i].fetched;
        if (!strcmp(sts[i].ds->name, "permits")) {
            res->permits = res->datasets[i];
            res->new_permits = sts[i].feed[0];
            res->status_changes = sts[i].feed[1];
            res->changes_inserted = sts[i].feed[0] + sts[i].feed[1];
        } else if (!strcmp(sts[i].ds->name, "inspections")) {
            res->inspections = res->datasets[i];
            res->inspections_updated = sts[i].inserted + sts[i].updated;
        } else if (!strcmp(sts[i].ds->name, "addenda")) {
            res->addenda = res->datasets[i];
            res->addenda_changes_inserted = sts[i].feed[0];
        }
    }
    res->derived = sfp_arena_msg(r->arena, &sfpermits__v1__nightly_derived_stats__descriptor);
    res->derived->contacts_resolved = derived.contacts_resolved;
    res->derived->entities_new = derived.entities_new;
    res->derived->entities = derived.entities;
    res->derived->entities_deleted = derived.entities_deleted;
    res->derived->parcel_summary = derived.parcel_summary;
    res->derived->parcel_summary_deleted = derived.parcel_summary_deleted;
    res->derived->timeline_stats = derived.timeline_stats;
    res->derived->timeline_stats_deleted = derived.timeline_stats_deleted;
    r->has_counts = true;
    r->soda_records = fetched;
    r->changes_inserted = req->dry_run || rc ? 0 : res->changes_inserted;
    r->inspections_updated = req->dry_run || rc ? 0 : res->inspections_updated;

    char **warn = sfp_arena_alloc(r->arena, sizeof(char *) * (n + 2));
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        if (sts[i].skipped > 0)
            warn[nw++] =
                sfp_arena_printf(r->arena, "%s: %lld row(s) without their key or outside the kept range skipped",
                                 sts[i].ds->name, sts[i].skipped);
    if (rc == 0 && res->permits && !res->permits->full && res->permits->fetched == 0)
        warn[nw++] =
            sfp_arena_printf(r->arena, "permits: no changes from SODA since %s (stale source?)", res->permits->since);
    if (rc == 0 && !req->dry_run) {
        res->cache_invalidation = sfp_arena_msg(r->arena, &sfpermits__v1__cache_invalidation__descriptor);
        sfp_err err = {0};
        sfp_conn *c = sfp_cron_acquire(r, &err);
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
    res->warnings = warn;
    return rc;
}

static int nightly_fn(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res)
{
    return nightly_job(r, (const Sfpermits__V1__RunNightlyRequest *)req, (Sfpermits__V1__NightlyResult *)res);
}

const sfp_cron_job_def sfp_cron_nightly_def = {SFP_CRON_JOB_NIGHTLY, &sfpermits__v1__run_nightly_request__descriptor,
                                               &sfpermits__v1__nightly_result__descriptor, nightly_fn, true};
