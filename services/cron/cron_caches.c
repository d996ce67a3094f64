/* cron_caches.c — RunComputeCaches: warm brief:{user_id}:1 for every ACTIVE user through
 * BriefService/GetBrief (lookback_days 1) with bounded concurrency, then purge dead page_cache
 * rows (common/page_cache.h).
 *
 * Identity: each call carries `authorization: Bearer <CRON_SECRET>` and `x-sfp-user-id`
 * (see cron_service.h); GetBriefResponse.metadata.debug.cached tells a fresh hit (nothing
 * recomputed) from a computation, so computed + fresh_hits + errors = total_users.
 *
 * Outcomes: users query failure → failed; every user failed (and at least one) → failed with
 * the first error; some failed → success with `errors`; the time budget ran out with users
 * left → DEADLINE_EXCEEDED (unattempted users counted as errors in cron_log's stats). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_internal.h"
#include "cron_jobs.h"
#include "log.h"
#include "page_cache.h"
#include "sfpermits/v1/brief.pb-c.h"

#define BRIEF_GET_PATH "/sfpermits.v1.BriefService/GetBrief"

typedef struct warm {
    sfp_cron_run *r;
    const int64_t *uids;
    size_t n;
    char auth[300];
    atomic_size_t next;
    atomic_int computed, fresh, errors, unattempted;
    pthread_mutex_t mu;
    char first_error[200];
} warm;

static void warm_one(warm *w, int64_t uid)
{
    sfp_cron_run *r = w->r;
    int64_t left = sfp_cron_left_ms(r);
    if (left <= 0) {
        atomic_fetch_add(&w->unattempted, 1);
        return;
    }
    int64_t timeout = r->svc->cfg.brief_timeout_ms < left ? r->svc->cfg.brief_timeout_ms : left;
    char uid_s[24], rid[160];
    snprintf(uid_s, sizeof uid_s, "%lld", (long long)uid);
    snprintf(rid, sizeof rid, "%.100s-u%lld", r->request_id && *r->request_id ? r->request_id : "cron-warm",
             (long long)uid);
    sfp_rpc_md md[3] = {{"authorization", w->auth}, {"x-sfp-user-id", uid_s}, {"x-request-id", rid}};
    Sfpermits__V1__GetBriefRequest req = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    req.lookback_days = 1;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    memset(&st, 0, sizeof st);
    grpc_status_code code = sfp_rpc_call(r->svc->brief, BRIEF_GET_PATH, &req.base,
                                         &sfpermits__v1__packed_read_response__descriptor, &resp, timeout, md, 3, &st);
    if (code == GRPC_STATUS_OK) { /* the metadata is all we read: the brief stays packed */
        const Sfpermits__V1__PackedReadResponse *b = (const void *)resp;
        if (b->metadata && b->metadata->debug && b->metadata->debug->cached) atomic_fetch_add(&w->fresh, 1);
        else atomic_fetch_add(&w->computed, 1);
        protobuf_c_message_free_unpacked(resp, NULL);
        return;
    }
    atomic_fetch_add(&w->errors, 1);
    sfp_log(SFP_WARN, "brief warm-up failed for a user", SFP_I("user_id", uid), SFP_S("code", sfp_rpc_code_name(code)),
            SFP_S("error", st.message));
    pthread_mutex_lock(&w->mu);
    if (!w->first_error[0])
        snprintf(w->first_error, sizeof w->first_error, "user %lld: %s %.120s", (long long)uid, sfp_rpc_code_name(code),
                 st.message);
    pthread_mutex_unlock(&w->mu);
}

static void *warm_thread(void *arg)
{
    warm *w = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n) break;
        warm_one(w, w->uids[i]);
    }
    return NULL;
}

static int caches_job(sfp_cron_run *r, const Sfpermits__V1__RunComputeCachesRequest *req,
                      Sfpermits__V1__ComputeCachesResult *res)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "compute_caches", &err);
    PGresult *u = sfp_db_query(c, "SELECT user_id FROM users WHERE is_active ORDER BY user_id", 0, NULL, &err);
    sfp_pool_release(r->svc->pool, c);
    if (!u) return sfp_cron_fail_db(r, "compute_caches: users", &err);
    size_t n = (size_t)PQntuples(u);
    int64_t *uids = calloc(n ? n : 1, sizeof *uids);
    if (!uids) abort();
    for (size_t i = 0; i < n; i++) uids[i] = sfp_cron_ll(u, (int)i, 0);
    PQclear(u);
    res->total_users = (int32_t)n;

    if (n > 0 && !r->svc->brief) {
        free(uids);
        return sfp_cron_fail(r, SFP_FAILED_PRECONDITION, "brief service not configured (BRIEF_SVC_ADDR)");
    }
    warm w;
    memset(&w, 0, sizeof w);
    w.r = r;
    w.uids = uids;
    w.n = n;
    snprintf(w.auth, sizeof w.auth, "Bearer %s", r->svc->cfg.secret ? r->svc->cfg.secret : "");
    pthread_mutex_init(&w.mu, NULL);
    int threads = req->concurrency > 0 ? req->concurrency : r->svc->cfg.caches_concurrency;
    if (threads > SFP_CRON_CONCURRENCY_MAX) threads = SFP_CRON_CONCURRENCY_MAX; /* the configured default */
    if ((size_t)threads > n) threads = (int)n;
    pthread_t th[SFP_CRON_CONCURRENCY_MAX];
    int started = 0;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th[started], NULL, warm_thread, &w) == 0) started++;
    if (started == 0 && n > 0) warm_thread(&w); /* no thread could start: do it here */
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&w.mu);
    free(uids);

    res->computed = atomic_load(&w.computed);
    res->fresh_hits = atomic_load(&w.fresh);
    int unattempted = atomic_load(&w.unattempted);
    res->errors = atomic_load(&w.errors) + unattempted;
    sfp_log(SFP_INFO, "brief warm-up done", SFP_I("total_users", n), SFP_I("computed", res->computed),
            SFP_I("fresh_hits", res->fresh_hits), SFP_I("errors", res->errors), SFP_I("threads", started));
    if (unattempted > 0)
        return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED,
                             "compute_caches: time budget exhausted with %d of %zu users not attempted", unattempted,
                             n);

    /* Purge dead rows (expired or invalidated more than CRON_PURGE_GRACE_MINUTES ago). */
    c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "compute_caches: purge", &err);
    long long purged = sfp_page_cache_purge_expired(c, r->svc->cfg.purge_grace_minutes, &err);
    sfp_pool_release(r->svc->pool, c);
    if (purged < 0) return sfp_cron_fail_db(r, "compute_caches: purge", &err);
    res->purged = purged;

    if (n > 0 && res->errors == (int32_t)n)
        return sfp_cron_fail(r, SFP_UNAVAILABLE, "every brief warm-up failed (%zu users); first: %s", n, w.first_error);
    return 0;
}

static int caches_fn(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res)
{
    return caches_job(r, (const Sfpermits__V1__RunComputeCachesRequest *)req,
                      (Sfpermits__V1__ComputeCachesResult *)res);
}

const sfp_cron_job_def sfp_cron_caches_def = {SFP_CRON_JOB_COMPUTE_CACHES,
                                              &sfpermits__v1__run_compute_caches_request__descriptor,
                                              &sfpermits__v1__compute_caches_result__descriptor, caches_fn, true};
