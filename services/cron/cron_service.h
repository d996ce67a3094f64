/* cron_service.h — sfpermits.v1.CronService (proto/sfpermits/v1/cron.proto): scheduled data
 * jobs, safe to trigger twice and from any replica.
 *
 *   RunSignals          12 detectors → permit_signals, property_signals, property_health
 *                       + severity v1 of watched permits → severity_cache; one transaction
 *                       (cron_signals.c)
 *   RunVelocityRefresh  station_velocity_v2 current/baseline, station_transitions,
 *                       station_congestion: computed concurrently on one snapshot, written in
 *                       one transaction, companions non-fatal (cron_velocity.c)
 *   RunComputeCaches    brief:{uid}:1 warmed through BriefService for every active user,
 *                       expired page_cache rows purged (cron_caches.c)
 *   RunNightly          SODA ingest of every dataset the services read (incremental per
 *                       dataset watermark, or full), change feeds, entities, parcel_summary,
 *                       timeline_stats, all swapped in one transaction, then brief:%
 *                       invalidated (cron_nightly.c, cron_ingest.c, cron_datasets.c,
 *                       cron_entities.c)
 *   RunHeartbeat        one cron_log row
 *   GetStatus           the last 20 cron_log rows, newest first (no secret); UNAVAILABLE when
 *                       the database cannot be reached
 *
 * Every Run* call (cron_run.c):
 *   1. metadata `authorization: Bearer <CRON_SECRET>` checked in constant time; an empty or
 *      unset secret denies everything → UNAUTHENTICATED;
 *   2. time budget = min(call deadline − 1 s, the job's limit); none left → DEADLINE_EXCEEDED;
 *   3. pg_try_advisory_lock(SFP_CRON_LOCK_NS, job) on a dedicated (non-pooled) connection
 *      (sfp_pool_connect_dedicated: the pool's settings, application_name sfp-cron-lock; while
 *      the pool is in an outage it fails at once → UNAVAILABLE), held
 *      for the run and unlocked explicitly at the end (also on failure; the connection is then
 *      closed, which would release it anyway) → busy: ABORTED "already running", at once;
 *      heartbeat takes no lock;
 *   4. cron_log rows still 'running' after CRON_STUCK_MINUTES are marked failed (only those);
 *   5. one cron_log row inserted as 'running', updated BY ITS log_id to success/failed with
 *      completed_at, counts, error_message and the result JSON in `stats`;
 *   6. success → OK {ok:true, status:"success", elapsed_seconds, log_id, ...stats}; the job
 *      failed → OK {ok:false, status:"failed", error} (the gateway answers 500); the budget ran
 *      out → DEADLINE_EXCEEDED (row failed); no database for cron_log → UNAVAILABLE.
 *
 * Environment (sfp_cron_config_from_env; errors name the variable):
 *   CRON_SECRET                 unset/empty → every Run* call is UNAUTHENTICATED
 *   CRON_STUCK_MINUTES          60     (1..10080) 'running' rows older than this are swept
 *   CRON_JOB_TIMEOUT_S          300    (1..3600) limit of signals, velocity-refresh, compute-caches
 *   CRON_NIGHTLY_TIMEOUT_S      480    (1..3600) limit of nightly (the reference's 480 s)
 *   CRON_CACHES_CONCURRENCY     4      (1..32) parallel brief computations
 *   CRON_BRIEF_TIMEOUT_MS       30000  (100..300000) per-user GetBrief deadline
 *   CRON_PURGE_GRACE_MINUTES    0      (0..10080) keep dead page_cache rows this long
 *   CRON_NIGHTLY_PAGE_SIZE      10000  (1..50000) SODA $limit
 *   CRON_NIGHTLY_RETRIES        3      (0..10) retries of a failed page
 *   CRON_NIGHTLY_RETRY_BASE_MS  2000   (0..60000) back-off 2 s, 4 s, 8 s (doubling)
 *   CRON_WORK_MEM               128MB  work_mem of the jobs' transactions (sorts/hashes over
 *                                      millions of rows stay in memory)
 *   POD_NAME / HOSTNAME         cron_log.worker
 *
 * SIGTERM: the server drains (SHUTDOWN_GRACE_MS) and then cancels calls, but a job already
 * running finishes its current statement sequence (bounded by its time budget); if the pod is
 * killed first, its cron_log row stays 'running' until the next job sweeps it
 * (CRON_STUCK_MINUTES) and the advisory lock dies with the connection. Give the cron pods a
 * terminationGracePeriodSeconds above the job limits.
 *
 * Warm-up identity (compute-caches → BriefService/GetBrief): metadata
 *   authorization: Bearer <CRON_SECRET>, x-sfp-user-id: <user_id>, x-request-id
 * and GetBriefRequest{lookback_days: 1}; the brief service must treat that pair (secret
 * compared in constant time, non-empty) as the user — the gateway never forwards
 * x-sfp-user-id, so HTTP clients cannot use it. The response's `cached` tells a fresh hit
 * from a computation.
 *
 * Code layout: calls go one way, never back up —
 *   main.c → cron_run.c (dispatcher: the run protocol above; reads its job table)
 *          → the job files, each exporting its sfp_cron_job_def (cron_jobs.h): cron_signals.c,
 *            cron_velocity.c, cron_caches.c, cron_nightly.c (→ cron_ingest*.c, cron_datasets.c,
 *            cron_entities.c)
 *          → cron_job.c (the run context: budget, failures, transactions, today) and cron_log.c
 *            (cron_internal.h) → cron_rules.c (pure) and common/.
 *
 * Ownership: the service borrows pool, soda and brief channel; they must outlive it. */
#ifndef SFP_CRON_SERVICE_H
#define SFP_CRON_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cron_rules.h"
#include "db_pool.h"
#include "rpc.h"
#include "soda_client.h"

#define SFP_CRON_SERVICE_NAME "sfpermits.v1.CronService"
#define SFP_CRON_NMETHODS 6
#define SFP_CRON_STATUS_ROWS 20
#define SFP_CRON_DEADLINE_MARGIN_MS 1000
/* Request ranges (RunNightly lookback_days, RunComputeCaches concurrency): 0 = default,
 * anything else outside 1..max → INVALID_ARGUMENT with a BadRequest field violation. */
#define SFP_CRON_LOOKBACK_MAX 90
#define SFP_CRON_CONCURRENCY_MAX 32
/* RetryInfo of a job that failed because a dependency (SODA, Postgres) was unavailable. */
#define SFP_CRON_RETRY_MS 60000

typedef struct sfp_cron_config {
    const char *secret; /* CRON_SECRET; NULL/"" denies every job */
    int stuck_minutes;
    int job_timeout_s;
    int nightly_timeout_s;
    int caches_concurrency;
    int brief_timeout_ms;
    int purge_grace_minutes;
    int nightly_page_size;
    int nightly_retries;
    int nightly_retry_base_ms;
    const char *work_mem; /* CRON_WORK_MEM, e.g. "128MB" */
    const char *worker;   /* cron_log.worker; NULL = "" */
    const char *today;    /* tests: "YYYY-MM-DD" as the jobs' today; NULL = today in TZ */
} sfp_cron_config;

void sfp_cron_config_defaults(sfp_cron_config *c);
/* Defaults + environment (strings point into the environment). -1 + err naming the variable. */
int sfp_cron_config_from_env(sfp_cron_config *c, sfp_err *err);

typedef struct sfp_cron_job_counters {
    atomic_llong runs, success, failed, busy, unauthenticated, deadline;
    atomic_llong last_duration_ms;  /* of the last finished run, success or not */
    atomic_llong duration_ms_total; /* all finished runs */
    atomic_llong last_success_unix; /* wall clock of the last success, 0 = never (this process) */
} sfp_cron_job_counters;

typedef struct sfp_cron_service {
    sfp_pool *pool;         /* borrowed */
    sfp_soda *soda;         /* borrowed; NULL → nightly fails ("SODA client not configured") */
    sfp_rpc_channel *brief; /* borrowed; NULL → compute-caches fails */
    sfp_cron_config cfg;
    sfp_cron_job_counters counters[SFP_CRON_JOB_STATUS + 1]; /* by sfp_cron_job */
} sfp_cron_service;

/* Fills out[0..SFP_CRON_NMETHODS) with the method table bound to svc; returns the count. */
size_t sfp_cron_service_methods(sfp_cron_service *svc, sfp_rpc_method *out);
/* Introspection extras: pool, SODA breaker, per-job counters (cron_<job>_{runs,success,failed,
 * busy,unauthenticated,deadline}). */
void sfp_cron_service_stats(struct Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user);

#endif
