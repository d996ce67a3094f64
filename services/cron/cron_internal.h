/* cron_internal.h — what the job implementations share: the run context (one per Run* call,
 * created by cron_run.c), its helpers (cron_job.c: time budget, failures, transactions, today)
 * and the cron_log SQL (cron_log.c). Nothing here calls back into the dispatcher or a job.
 * Not for use outside services/cron.
 *
 * A job function fills its result's job stats (fields 20+) and returns 0, or returns -1 after
 * sfp_cron_fail*(): run->code = SFP_DEADLINE_EXCEEDED when the time budget ran out,
 * anything else means "the job failed" (ok=false; the call's non-OK status is run->code). Each job bounds every statement by the time
 * left (SET LOCAL statement_timeout) and never waits past run->deadline_ms. */
#ifndef SFP_CRON_INTERNAL_H
#define SFP_CRON_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "cron_service.h"
#include "sfpermits/v1/cron.pb-c.h"

typedef struct sfp_cron_run {
    sfp_cron_service *svc;
    sfp_cron_job job;
    const char *job_type; /* cron_log.job_type (a job may change it, e.g. nightly_dry_run) */
    sfp_arena *arena;     /* the call's arena: result strings live here */
    const char *request_id;
    int64_t start_ms;    /* CLOCK_MONOTONIC ms */
    int64_t deadline_ms; /* CLOCK_MONOTONIC ms: start + budget */
    int limit_s;         /* the job's own limit (for messages) */
    int64_t log_id;
    char today[11]; /* "YYYY-MM-DD": cfg.today, else today in the process's time zone */
    long swept;     /* stuck rows swept before this run */
    /* failure */
    sfp_code code; /* SFP_OK while fine */
    char error[256];
    /* optional cron_log columns */
    bool has_lookback;
    int lookback_days;
    bool was_catchup;
    bool has_counts;
    int64_t soda_records, changes_inserted, inspections_updated;
} sfp_cron_run;

int64_t sfp_cron_left_ms(const sfp_cron_run *r);
/* Records a failure (first one wins) and returns -1. */
int sfp_cron_fail(sfp_cron_run *r, sfp_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A database error during `what`: statement/lock timeouts become DEADLINE_EXCEEDED
 * ("time budget exhausted"), others a failure naming `what` with the safe message. Returns -1. */
int sfp_cron_fail_db(sfp_cron_run *r, const char *what, const sfp_err *err);
/* BEGIN; SET LOCAL statement_timeout to the time left. -1 + err. */
int sfp_cron_begin(sfp_cron_run *r, sfp_conn *c, sfp_err *err);
/* Inside a transaction: SET LOCAL statement_timeout to the time left NOW (statement_timeout is
 * per statement, so jobs call this before each heavy statement to bound the whole run). */
int sfp_cron_tick(sfp_cron_run *r, sfp_conn *c, sfp_err *err);
/* Rolls back quietly (for error paths). */
void sfp_cron_rollback(sfp_conn *c);
/* Acquires a pooled connection waiting at most min(time left, pool acquire timeout). */
sfp_conn *sfp_cron_acquire(sfp_cron_run *r, sfp_err *err);
/* The jobs' "today" as a query parameter, never NULL: cfg.today, else today in the process's
 * time zone (sfp_today_days, as the report and the brief count it) — not Postgres'
 * current_date, whose zone is the server's, not ours. */
const char *sfp_cron_today_param(const sfp_cron_run *r);

/* ---- cron_log (cron_log.c) ---- */
/* 'running' rows started more than stuck_minutes ago → failed. Returns the count or -1. */
long sfp_cron_log_sweep(sfp_conn *c, int stuck_minutes, sfp_err *err);
/* Inserts the run's 'running' row; sets run->log_id and started_at (RFC 3339, cap 40). */
int sfp_cron_log_start(sfp_conn *c, sfp_cron_run *r, char *started_at, sfp_err *err);
/* Updates the run's row by log_id: status, completed_at, error_message, counts, stats JSON. */
int sfp_cron_log_finish(sfp_conn *c, const sfp_cron_run *r, const char *status, const char *stats_json,
                        char *completed_at, sfp_err *err);
/* The last `limit` rows, newest first, into resp (arena-allocated). */
int sfp_cron_log_recent(sfp_conn *c, int limit, sfp_arena *a, Sfpermits__V1__GetStatusResponse *resp, sfp_err *err);

/* ---- small libpq helpers ---- */
long long sfp_cron_ll(const PGresult *res, int row, int col); /* NULL → 0 */

#endif
