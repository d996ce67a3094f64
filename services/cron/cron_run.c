/* cron_run.c — CronService handlers and the run protocol every job shares (see
 * cron_service.h): auth, time budget, advisory lock on a dedicated connection, stuck-row sweep,
 * cron_log row by id, result fields 1–8, counters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "civil_date.h"
#include "clock.h"
#include "cron_internal.h"
#include "cron_jobs.h"
#include "log.h"
#include "pbjson.h"
#include "pool_stats_pb.h"
#include "soda_stats_pb.h"
#include "sfpermits/v1/introspection.pb-c.h"

/* ---------------- config ---------------- */

void sfp_cron_config_defaults(sfp_cron_config *c)
{
    memset(c, 0, sizeof *c);
    c->stuck_minutes = 60;
    c->job_timeout_s = 300;
    c->nightly_timeout_s = 480;
    c->caches_concurrency = 4;
    c->brief_timeout_ms = 30000;
    c->purge_grace_minutes = 0;
    c->nightly_page_size = 10000;
    c->nightly_retries = 3;
    c->nightly_retry_base_ms = 2000;
    c->work_mem = "128MB";
}

int sfp_cron_config_from_env(sfp_cron_config *c, sfp_err *err)
{
    sfp_cron_config_defaults(c);
    if (sfp_cfg_text("CRON_SECRET", &c->secret, err)) return -1;
    if (!c->secret) c->secret = "";
    if (sfp_cfg_int("CRON_STUCK_MINUTES", &c->stuck_minutes, err) ||
        sfp_cfg_int("CRON_JOB_TIMEOUT_S", &c->job_timeout_s, err) ||
        sfp_cfg_int("CRON_NIGHTLY_TIMEOUT_S", &c->nightly_timeout_s, err) ||
        sfp_cfg_int("CRON_CACHES_CONCURRENCY", &c->caches_concurrency, err) ||
        sfp_cfg_int("CRON_BRIEF_TIMEOUT_MS", &c->brief_timeout_ms, err) ||
        sfp_cfg_int("CRON_PURGE_GRACE_MINUTES", &c->purge_grace_minutes, err) ||
        sfp_cfg_int("CRON_NIGHTLY_PAGE_SIZE", &c->nightly_page_size, err) ||
        sfp_cfg_int("CRON_NIGHTLY_RETRIES", &c->nightly_retries, err) ||
        sfp_cfg_int("CRON_NIGHTLY_RETRY_BASE_MS", &c->nightly_retry_base_ms, err))
        return -1;
    const char *pod, *host;
    if (sfp_cfg_text("CRON_WORK_MEM", &c->work_mem, err) || sfp_cfg_text("POD_NAME", &pod, err) ||
        sfp_cfg_text("HOSTNAME", &host, err))
        return -1;
    c->worker = pod ? pod : host ? host : "";
    return 0;
}

/* ---------------- result fields 1–8 (same numbers in every *Result) ---------------- */

/* The member of field `name` when it is a singular field of type t, else NULL. */
static void *field_ptr(ProtobufCMessage *m, const char *name, ProtobufCType t)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    return f && f->type == t && f->label != PROTOBUF_C_LABEL_REPEATED ? (char *)m + f->offset : NULL;
}

static void set_bool(ProtobufCMessage *m, const char *name, bool v)
{
    protobuf_c_boolean *p = field_ptr(m, name, PROTOBUF_C_TYPE_BOOL);
    if (p) *p = v;
}

static void set_str(ProtobufCMessage *m, const char *name, char *v)
{
    char **p = field_ptr(m, name, PROTOBUF_C_TYPE_STRING);
    if (p) *p = v;
}

static void set_enum(ProtobufCMessage *m, const char *name, int v)
{
    int *p = field_ptr(m, name, PROTOBUF_C_TYPE_ENUM);
    if (p) *p = v;
}

static void set_double(ProtobufCMessage *m, const char *name, double v)
{
    double *p = field_ptr(m, name, PROTOBUF_C_TYPE_DOUBLE);
    if (p) *p = v;
}

static void set_int64(ProtobufCMessage *m, const char *name, int64_t v)
{
    int64_t *p = field_ptr(m, name, PROTOBUF_C_TYPE_INT64);
    if (p) *p = v;
}

/* ---------------- advisory lock ---------------- */

/* Dedicated connection (the pool's settings, application_name <pool's>-lock) holding
 * pg_try_advisory_lock(NS, job), opened by deadline_ms at the latest. Returns 1 locked, 0 busy,
 * -1 error. */
static int lock_take(sfp_cron_service *svc, sfp_cron_job job, int64_t deadline_ms, PGconn **out, sfp_err *err)
{
    *out = NULL;
    PGconn *pg = sfp_pool_connect_dedicated(svc->pool, "lock", deadline_ms, err);
    if (!pg) {
        sfp_log(SFP_WARN, "cron lock connection failed", SFP_S("error", err->msg));
        return -1;
    }
    char ns[16], j[16];
    snprintf(ns, sizeof ns, "%d", SFP_CRON_LOCK_NS);
    snprintf(j, sizeof j, "%d", (int)job);
    const char *p[2] = {ns, j};
    PGresult *res = PQexecParams(pg, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, NULL, p, NULL, NULL, 0);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sfp_log(SFP_WARN, "cron lock query failed", SFP_S("error", PQresultErrorMessage(res)));
        rc = sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable");
    } else {
        rc = !strcmp(PQgetvalue(res, 0, 0), "t") ? 1 : 0;
    }
    PQclear(res);
    if (rc == 1) *out = pg;
    else PQfinish(pg);
    return rc;
}

static void lock_release(PGconn *pg, sfp_cron_job job)
{
    if (!pg) return;
    char ns[16], j[16];
    snprintf(ns, sizeof ns, "%d", SFP_CRON_LOCK_NS);
    snprintf(j, sizeof j, "%d", (int)job);
    const char *p[2] = {ns, j};
    PGresult *res = PQexecParams(pg, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "t"))
        sfp_log(SFP_WARN, "cron unlock did not release the lock; closing its connection releases it", SFP_I("job", job),
                SFP_S("error", PQresultErrorMessage(res)));
    PQclear(res);
    PQfinish(pg); /* ends the session: nothing of this run can outlive it */
}

/* ---------------- the run protocol ---------------- */

static int job_limit_s(const sfp_cron_service *svc, sfp_cron_job j)
{
    switch (j) {
    case SFP_CRON_JOB_NIGHTLY: return svc->cfg.nightly_timeout_s;
    case SFP_CRON_JOB_HEARTBEAT: return 30;
    default: return svc->cfg.job_timeout_s;
    }
}

/* Request fields out of their documented range → INVALID_ARGUMENT with a field violation,
 * before any lock or cron_log row (never clamped). */
static grpc_status_code check_args(sfp_rpc_ctx *ctx, const sfp_cron_job_def *d, const ProtobufCMessage *req)
{
    if (d->job == SFP_CRON_JOB_NIGHTLY) {
        const Sfpermits__V1__RunNightlyRequest *n = (const void *)req;
        if (n->lookback_days < 0 || n->lookback_days > SFP_CRON_LOOKBACK_MAX)
            return sfp_rpc_bad_argument(ctx, "lookback_days", "must be 0 (since the last run) or 1..%d, got %d",
                                        SFP_CRON_LOOKBACK_MAX, (int)n->lookback_days);
    } else if (d->job == SFP_CRON_JOB_COMPUTE_CACHES) {
        const Sfpermits__V1__RunComputeCachesRequest *c = (const void *)req;
        if (c->concurrency < 0 || c->concurrency > SFP_CRON_CONCURRENCY_MAX)
            return sfp_rpc_bad_argument(ctx, "concurrency", "must be 0 (server default) or 1..%d, got %d",
                                        SFP_CRON_CONCURRENCY_MAX, (int)c->concurrency);
    }
    return GRPC_STATUS_OK;
}

/* A job that ran and failed: its status (the run's code through the one mapping) carries
 * ErrorInfo CRON_JOB_FAILED / CRON_JOB_TIMED_OUT (job_type, log_id) and the job's result
 * message packed as Any, so callers still see every stat of the failed run. */
static grpc_status_code job_failed(sfp_rpc_ctx *ctx, const sfp_cron_run *r, const ProtobufCMessage *res)
{
    sfp_rpc_details *det = sfp_rpc_details_of(ctx);
    sfp_rpc_details_set_reason(det, r->code == SFP_DEADLINE_EXCEEDED ? SFP_REASON_CRON_JOB_TIMED_OUT
                                                                     : SFP_REASON_CRON_JOB_FAILED);
    sfp_rpc_details_add_meta(det, "job_type", "%s", r->job_type);
    sfp_rpc_details_add_meta(det, "log_id", "%lld", (long long)r->log_id);
    if (r->code == SFP_UNAVAILABLE) sfp_rpc_details_set_retry_ms(det, SFP_CRON_RETRY_MS);
    sfp_rpc_add_detail(ctx, res);
    sfp_rpc_set_message(ctx, "%s failed: %s", r->job_type, r->error[0] ? r->error : "job failed");
    return sfp_rpc_status_of(r->code);
}

static grpc_status_code run_job(sfp_cron_service *svc, sfp_rpc_ctx *ctx, const sfp_cron_job_def *d,
                                const ProtobufCMessage *req, ProtobufCMessage **out)
{
    sfp_cron_job_counters *cnt = &svc->counters[d->job];
    const char *job_type = sfp_cron_job_type(d->job);
    if (!sfp_cron_auth_ok(sfp_rpc_metadata(ctx, "authorization"), svc->cfg.secret)) {
        atomic_fetch_add(&cnt->unauthenticated, 1);
        sfp_log(SFP_WARN, "cron call rejected: bad or missing bearer token", SFP_S("job", job_type),
                SFP_B("secret_configured", svc->cfg.secret && *svc->cfg.secret));
        sfp_rpc_set_message(ctx, "missing or invalid cron bearer token");
        return GRPC_STATUS_UNAUTHENTICATED;
    }
    grpc_status_code bad = check_args(ctx, d, req);
    if (bad != GRPC_STATUS_OK) {
        atomic_fetch_add(&cnt->failed, 1);
        return bad;
    }
    sfp_cron_run r;
    memset(&r, 0, sizeof r);
    r.svc = svc;
    r.job = d->job;
    r.job_type = job_type;
    r.arena = sfp_rpc_arena(ctx);
    r.request_id = sfp_rpc_metadata(ctx, "x-request-id");
    r.limit_s = job_limit_s(svc, d->job);
    r.start_ms = sfp_mono_ms();
    if (svc->cfg.today && *svc->cfg.today) snprintf(r.today, sizeof r.today, "%.10s", svc->cfg.today);
    else sfp_format_iso_day(sfp_today_days(), r.today);
    int64_t budget = sfp_cron_budget_ms(sfp_rpc_deadline_left_ms(ctx), r.limit_s, SFP_CRON_DEADLINE_MARGIN_MS);
    if (budget <= 0) {
        atomic_fetch_add(&cnt->deadline, 1);
        sfp_rpc_set_message(ctx, "deadline too short to run %s", job_type);
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    }
    r.deadline_ms = r.start_ms + budget;

    sfp_err err = {0};
    PGconn *lock = NULL;
    if (d->lock) {
        int lr = lock_take(svc, d->job, r.deadline_ms, &lock, &err);
        if (lr < 0) {
            sfp_rpc_set_message(ctx, "database unavailable");
            return GRPC_STATUS_UNAVAILABLE;
        }
        if (lr == 0) {
            atomic_fetch_add(&cnt->busy, 1);
            sfp_log(SFP_INFO, "cron job already running elsewhere", SFP_S("job", job_type));
            sfp_rpc_set_message(ctx, "%s already running", job_type);
            return GRPC_STATUS_ABORTED;
        }
    }
    atomic_fetch_add(&cnt->runs, 1);

    /* Sweep stuck rows, then our own 'running' row. */
    char started_at[40] = "", completed_at[40] = "";
    sfp_conn *c = sfp_cron_acquire(&r, &err);
    if (c) {
        r.swept = sfp_cron_log_sweep(c, svc->cfg.stuck_minutes, &err);
        if (r.swept < 0) {
            sfp_log(SFP_WARN, "cron_log sweep failed", SFP_S("error", err.msg));
            r.swept = 0;
        } else if (r.swept > 0) {
            sfp_log(SFP_WARN, "swept stuck cron_log rows", SFP_I("rows", r.swept),
                    SFP_I("stuck_minutes", svc->cfg.stuck_minutes));
        }
        if (d->job == SFP_CRON_JOB_NIGHTLY) {
            /* A dry run is logged under its own job type so "last successful nightly" (catch-up
             * window, the brief's last_refresh) never counts it. */
            const Sfpermits__V1__RunNightlyRequest *nr = (const void *)req;
            if (nr->dry_run) r.job_type = "nightly_dry_run";
        }
        if (sfp_cron_log_start(c, &r, started_at, &err)) {
            sfp_pool_release(svc->pool, c);
            c = NULL;
        }
    }
    if (!c) {
        lock_release(lock, d->job);
        sfp_log(SFP_ERROR, "cron job not started: cron_log unavailable", SFP_S("job", job_type),
                SFP_S("error", err.msg));
        if (err.code == SFP_DEADLINE_EXCEEDED) {
            sfp_rpc_set_message(ctx, "deadline exceeded before %s started", job_type);
            return GRPC_STATUS_DEADLINE_EXCEEDED;
        }
        sfp_rpc_set_message(ctx, "database unavailable");
        return GRPC_STATUS_UNAVAILABLE;
    }
    sfp_pool_release(svc->pool, c);
    sfp_log(SFP_INFO, "cron job started", SFP_S("job", r.job_type), SFP_I("log_id", r.log_id),
            SFP_I("budget_ms", budget));

    ProtobufCMessage *res = sfp_arena_msg(r.arena, d->res_desc);
    int rc = d->fn(&r, req, res);
    if (rc && !r.code) sfp_cron_fail(&r, SFP_INTERNAL, "%s failed", job_type);
    bool ok = rc == 0;
    double elapsed = (double)(sfp_mono_ms() - r.start_ms) / 1000.0;
    elapsed = (double)(long long)(elapsed * 100.0 + 0.5) / 100.0;

    set_bool(res, "ok", ok);
    set_enum(res, "status",
             ok ? SFPERMITS__V1__JOB_STATUS__JOB_STATUS_SUCCESS : SFPERMITS__V1__JOB_STATUS__JOB_STATUS_FAILED);
    set_double(res, "elapsed_seconds", elapsed);
    set_int64(res, "log_id", r.log_id);
    set_str(res, "error", ok ? "" : sfp_arena_strdup(r.arena, r.error));
    set_str(res, "job_type", (char *)r.job_type);
    set_str(res, "started_at", sfp_arena_strdup(r.arena, started_at));
    char *stats = sfp_pbjson_encode(res, NULL);

    /* Finish the row by id. Even when the budget is spent, give the update a few seconds. */
    sfp_err ferr = {0};
    sfp_conn *fc = sfp_pool_acquire(svc->pool, 5000, &ferr);
    int finished = fc ? sfp_cron_log_finish(fc, &r, ok ? "success" : "failed", stats, completed_at, &ferr) : -1;
    if (fc) sfp_pool_release(svc->pool, fc);
    free(stats);
    if (finished)
        sfp_log(SFP_ERROR, "cron_log finish failed; the row stays 'running' until swept", SFP_I("log_id", r.log_id),
                SFP_S("error", ferr.msg));
    set_str(res, "completed_at", sfp_arena_strdup(r.arena, completed_at));
    lock_release(lock, d->job);

    long long elapsed_ms = sfp_mono_ms() - r.start_ms;
    atomic_store(&cnt->last_duration_ms, elapsed_ms);
    atomic_fetch_add(&cnt->duration_ms_total, elapsed_ms);
    if (ok) {
        atomic_store(&cnt->last_success_unix, (long long)time(NULL));
        atomic_fetch_add(&cnt->success, 1);
        sfp_log(SFP_INFO, "cron job succeeded", SFP_S("job", r.job_type), SFP_I("log_id", r.log_id),
                SFP_D("elapsed_s", elapsed));
    } else {
        atomic_fetch_add(&cnt->failed, 1);
        sfp_log(SFP_ERROR, "cron job failed", SFP_S("job", r.job_type), SFP_I("log_id", r.log_id),
                SFP_D("elapsed_s", elapsed), SFP_S("error", r.error));
    }
    if (!ok) {
        if (r.code == SFP_DEADLINE_EXCEEDED) atomic_fetch_add(&cnt->deadline, 1);
        return job_failed(ctx, &r, res);
    }
    *out = res;
    return GRPC_STATUS_OK;
}

/* ---------------- jobs defined here: heartbeat ---------------- */

static int heartbeat_fn(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res)
{
    (void)r, (void)req, (void)res;
    return 0; /* the cron_log row is the heartbeat */
}

static const sfp_cron_job_def k_heartbeat = {SFP_CRON_JOB_HEARTBEAT, &sfpermits__v1__run_heartbeat_request__descriptor,
                                             &sfpermits__v1__heartbeat_result__descriptor, heartbeat_fn, false};

/* The dispatcher's table: each job file exports its definition (cron_jobs.h). */
static const sfp_cron_job_def *const k_defs[] = {&sfp_cron_signals_def, &sfp_cron_velocity_def, &sfp_cron_caches_def,
                                                 &sfp_cron_nightly_def, &k_heartbeat};

static grpc_status_code handle_job(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user,
                                   sfp_cron_job job)
{
    for (size_t i = 0; i < sizeof k_defs / sizeof k_defs[0]; i++)
        if (k_defs[i]->job == job) return run_job(user, ctx, k_defs[i], req, resp);
    return GRPC_STATUS_UNIMPLEMENTED;
}

static grpc_status_code h_signals(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *u)
{
    return handle_job(ctx, req, resp, u, SFP_CRON_JOB_SIGNALS);
}
static grpc_status_code h_velocity(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *u)
{
    return handle_job(ctx, req, resp, u, SFP_CRON_JOB_VELOCITY);
}
static grpc_status_code h_caches(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *u)
{
    return handle_job(ctx, req, resp, u, SFP_CRON_JOB_COMPUTE_CACHES);
}
static grpc_status_code h_nightly(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *u)
{
    return handle_job(ctx, req, resp, u, SFP_CRON_JOB_NIGHTLY);
}
static grpc_status_code h_heartbeat(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *u)
{
    return handle_job(ctx, req, resp, u, SFP_CRON_JOB_HEARTBEAT);
}

static grpc_status_code h_status(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)req;
    sfp_cron_service *svc = user;
    atomic_fetch_add(&svc->counters[SFP_CRON_JOB_STATUS].runs, 1);
    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__GetStatusResponse *out = sfp_arena_msg(a, &sfpermits__v1__get_status_response__descriptor);
    sfp_err err = {0};
    int64_t left = sfp_rpc_deadline_left_ms(ctx);
    sfp_conn *c = sfp_pool_acquire(svc->pool, left < 5000 ? (int)(left > 0 ? left : 1) : -1, &err);
    if (!c) {
        atomic_fetch_add(&svc->counters[SFP_CRON_JOB_STATUS].failed, 1);
        sfp_rpc_set_message(ctx, "database unavailable");
        return err.code == SFP_DEADLINE_EXCEEDED ? GRPC_STATUS_DEADLINE_EXCEEDED : GRPC_STATUS_UNAVAILABLE;
    }
    int rc = sfp_cron_log_recent(c, SFP_CRON_STATUS_ROWS, a, out, &err);
    sfp_pool_release(svc->pool, c);
    if (rc) {
        atomic_fetch_add(&svc->counters[SFP_CRON_JOB_STATUS].failed, 1);
        sfp_log(SFP_WARN, "cron status query failed", SFP_S("error", err.msg));
        sfp_rpc_set_message(ctx, "cron_log could not be read");
        return err.code == SFP_DEADLINE_EXCEEDED ? GRPC_STATUS_DEADLINE_EXCEEDED
               : err.code == SFP_UNAVAILABLE     ? GRPC_STATUS_UNAVAILABLE
                                                 : GRPC_STATUS_INTERNAL;
    }
    atomic_fetch_add(&svc->counters[SFP_CRON_JOB_STATUS].success, 1);
    out->ok = true;
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

size_t sfp_cron_service_methods(sfp_cron_service *svc, sfp_rpc_method *out)
{
    const sfp_rpc_method m[SFP_CRON_NMETHODS] = {
        {"/sfpermits.v1.CronService/RunSignals", &sfpermits__v1__run_signals_request__descriptor,
         &sfpermits__v1__signals_result__descriptor, h_signals, svc},
        {"/sfpermits.v1.CronService/RunVelocityRefresh", &sfpermits__v1__run_velocity_refresh_request__descriptor,
         &sfpermits__v1__velocity_refresh_result__descriptor, h_velocity, svc},
        {"/sfpermits.v1.CronService/RunComputeCaches", &sfpermits__v1__run_compute_caches_request__descriptor,
         &sfpermits__v1__compute_caches_result__descriptor, h_caches, svc},
        {"/sfpermits.v1.CronService/RunNightly", &sfpermits__v1__run_nightly_request__descriptor,
         &sfpermits__v1__nightly_result__descriptor, h_nightly, svc},
        {"/sfpermits.v1.CronService/RunHeartbeat", &sfpermits__v1__run_heartbeat_request__descriptor,
         &sfpermits__v1__heartbeat_result__descriptor, h_heartbeat, svc},
        {"/sfpermits.v1.CronService/GetStatus", &sfpermits__v1__get_status_request__descriptor,
         &sfpermits__v1__get_status_response__descriptor, h_status, svc},
    };
    memcpy(out, m, sizeof m);
    return SFP_CRON_NMETHODS;
}

/* ---------------- introspection ---------------- */

void sfp_cron_service_stats(Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user)
{
    sfp_cron_service *svc = user;
    if (svc->pool) st->pool = sfp_pool_stats_pb(svc->pool, a);
    if (svc->soda) st->breaker = sfp_breaker_stats_pb(sfp_soda_breaker(svc->soda), a);
    static const char *const kinds[] = {"runs", "success", "failed", "busy", "unauthenticated", "deadline"};
    size_t add = (size_t)SFP_CRON_JOB_STATUS * 9;
    Sfpermits__V1__Counter **arr = sfp_arena_alloc(a, sizeof(*arr) * (st->n_counters + add));
    if (st->n_counters) memcpy(arr, st->counters, sizeof(*arr) * st->n_counters);
    for (int j = SFP_CRON_JOB_SIGNALS; j <= SFP_CRON_JOB_STATUS; j++) {
        const sfp_cron_job_counters *c = &svc->counters[j];
        const long long v[6] = {atomic_load(&c->runs), atomic_load(&c->success),         atomic_load(&c->failed),
                                atomic_load(&c->busy), atomic_load(&c->unauthenticated), atomic_load(&c->deadline)};
        for (int k = 0; k < 6; k++) {
            Sfpermits__V1__Counter *x = sfp_arena_msg(a, &sfpermits__v1__counter__descriptor);
            x->name = sfp_arena_printf(a, "cron_%s_%s", sfp_cron_job_type((sfp_cron_job)j), kinds[k]);
            x->value = (double)v[k];
            arr[st->n_counters++] = x;
        }
        /* Durations and last success, for /metrics (sfp_cron_<job>_…). */
        const struct {
            const char *kind;
            double v;
        } t[3] = {
            {"last_duration_seconds", (double)atomic_load(&c->last_duration_ms) / 1000.0},
            {"duration_seconds_total", (double)atomic_load(&c->duration_ms_total) / 1000.0},
            {"last_success_timestamp_seconds", (double)atomic_load(&c->last_success_unix)},
        };
        for (int k = 0; k < 3; k++) {
            Sfpermits__V1__Counter *x = sfp_arena_msg(a, &sfpermits__v1__counter__descriptor);
            x->name = sfp_arena_printf(a, "cron_%s_%s", sfp_cron_job_type((sfp_cron_job)j), t[k].kind);
            x->value = t[k].v;
            arr[st->n_counters++] = x;
        }
    }
    st->counters = arr;
}
