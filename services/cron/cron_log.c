/* cron_log.c — the cron_log table (db/migrations/0002): sweep, start, finish by log_id, recent
 * rows. Every statement is parameterised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_internal.h"
#include "pbjson.h"

/* bigint parameter → INTEGER column, NULL kept (least() would turn NULL into the cap) */
#define CLAMP_INT(p) "(CASE WHEN " p "::bigint IS NULL THEN NULL ELSE least(" p "::bigint, 2147483647) END)::int"
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

long long sfp_cron_ll(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

long sfp_cron_log_sweep(sfp_conn *c, int stuck_minutes, sfp_err *err)
{
    char m[16], msg[128];
    snprintf(m, sizeof m, "%d", stuck_minutes);
    snprintf(msg, sizeof msg, "stuck: still running after %d minutes (worker likely killed); swept", stuck_minutes);
    const char *p[2] = {m, msg};
    PGresult *res = sfp_db_query(c,
                                 "UPDATE cron_log SET status = 'failed', completed_at = now(), "
                                 "error_message = $2 "
                                 "WHERE status = 'running' AND started_at < now() - make_interval(mins => $1::int)",
                                 2, p, err);
    if (!res) return -1;
    long n = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

int sfp_cron_log_start(sfp_conn *c, sfp_cron_run *r, char *started_at, sfp_err *err)
{
    char lb[16];
    snprintf(lb, sizeof lb, "%d", r->lookback_days);
    const char *p[5] = {r->job_type, r->svc->cfg.worker ? r->svc->cfg.worker : "", r->has_lookback ? lb : NULL,
                        r->was_catchup ? "true" : "false", r->request_id};
    PGresult *res = sfp_db_query(c,
                                 "INSERT INTO cron_log (job_type, started_at, status, worker, lookback_days, "
                                 "was_catchup, stats) VALUES ($1, now(), 'running', NULLIF($2, ''), $3::int, "
                                 "$4::boolean, jsonb_build_object('request_id', $5::text)) "
                                 "RETURNING log_id, " TS("started_at"),
                                 5, p, err);
    if (!res) return -1;
    r->log_id = sfp_cron_ll(res, 0, 0);
    snprintf(started_at, 40, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

int sfp_cron_log_finish(sfp_conn *c, const sfp_cron_run *r, const char *status, const char *stats_json,
                        char *completed_at, sfp_err *err)
{
    char id[24], lb[16], soda[24], ch[24], insp[24];
    snprintf(id, sizeof id, "%lld", (long long)r->log_id);
    snprintf(lb, sizeof lb, "%d", r->lookback_days);
    snprintf(soda, sizeof soda, "%lld", (long long)r->soda_records);
    snprintf(ch, sizeof ch, "%lld", (long long)r->changes_inserted);
    snprintf(insp, sizeof insp, "%lld", (long long)r->inspections_updated);
    const char *p[10] = {id,
                         status,
                         r->code ? r->error : NULL,
                         r->has_counts ? soda : NULL,
                         r->has_counts ? ch : NULL,
                         r->has_counts ? insp : NULL,
                         stats_json,
                         r->has_lookback ? lb : NULL,
                         r->was_catchup ? "true" : "false",
                         r->job_type};
    /* soda_records etc. are INTEGER columns: clamp instead of failing the update. */
    PGresult *res = sfp_db_query(
        c,
        "UPDATE cron_log SET status = $2, completed_at = clock_timestamp(), error_message = $3, "
        "soda_records = " CLAMP_INT("$4") ", changes_inserted = " CLAMP_INT(
            "$5") ", "
                  "inspections_updated = " CLAMP_INT(
                      "$6") ", "
                            "stats = coalesce(stats, '{}'::jsonb) || coalesce($7::jsonb, '{}'::jsonb), "
                            "lookback_days = coalesce($8::int, lookback_days), was_catchup = $9::boolean, job_type = $10 "
                            "WHERE log_id = $1::bigint RETURNING " TS("completed_at"),
        10, p, err);
    if (!res) return -1;
    int ok = PQntuples(res) == 1;
    if (ok) snprintf(completed_at, 40, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!ok) return sfp_err_set(err, SFP_INTERNAL, "cron_log row %lld not found", (long long)r->log_id);
    return 0;
}

int sfp_cron_log_recent(sfp_conn *c, int limit, sfp_arena *a, Sfpermits__V1__GetStatusResponse *resp, sfp_err *err)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[1] = {lim};
    PGresult *res = sfp_db_query(
        c,
        "SELECT log_id, job_type, " TS("started_at") ", coalesce(" TS(
            "completed_at") ", ''), status, "
                            "round(EXTRACT(EPOCH FROM completed_at - started_at)::numeric, 2), lookback_days, soda_records, "
                            "changes_inserted, inspections_updated, was_catchup, coalesce(error_message, '') "
                            "FROM cron_log ORDER BY started_at DESC, log_id DESC LIMIT $1::int",
        1, p, err);
    if (!res) return -1;
    int n = PQntuples(res);
    resp->n_jobs = (size_t)n;
    resp->jobs = sfp_arena_alloc(a, sizeof(*resp->jobs) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__CronLogEntry *e = sfp_arena_msg(a, &sfpermits__v1__cron_log_entry__descriptor);
        e->log_id = sfp_cron_ll(res, i, 0);
        e->job_type = sfp_arena_strdup(a, PQgetvalue(res, i, 1));
        e->started_at = sfp_arena_strdup(a, PQgetvalue(res, i, 2));
        e->completed_at = sfp_arena_strdup(a, PQgetvalue(res, i, 3));
        e->status = (Sfpermits__V1__JobStatus)sfp_pbjson_enum_value(&sfpermits__v1__job_status__descriptor,
                                                                    PQgetvalue(res, i, 4),
                                                                    SFPERMITS__V1__JOB_STATUS__JOB_STATUS_UNSPECIFIED);
        if ((e->optional_elapsed_seconds_case =
                 (!PQgetisnull(res, i, 5)) ? SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_ELAPSED_SECONDS_ELAPSED_SECONDS
                                           : SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_ELAPSED_SECONDS__NOT_SET))
            e->elapsed_seconds = strtod(PQgetvalue(res, i, 5), NULL);
        if ((e->optional_lookback_days_case = (!PQgetisnull(res, i, 6))
                                                  ? SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_LOOKBACK_DAYS_LOOKBACK_DAYS
                                                  : SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_LOOKBACK_DAYS__NOT_SET))
            e->lookback_days = (int32_t)sfp_cron_ll(res, i, 6);
        if ((e->optional_soda_records_case = (!PQgetisnull(res, i, 7))
                                                 ? SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_SODA_RECORDS_SODA_RECORDS
                                                 : SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_SODA_RECORDS__NOT_SET))
            e->soda_records = sfp_cron_ll(res, i, 7);
        if ((e->optional_changes_inserted_case =
                 (!PQgetisnull(res, i, 8)) ? SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_CHANGES_INSERTED_CHANGES_INSERTED
                                           : SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_CHANGES_INSERTED__NOT_SET))
            e->changes_inserted = sfp_cron_ll(res, i, 8);
        if ((e->optional_inspections_updated_case =
                 (!PQgetisnull(res, i, 9))
                     ? SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_INSPECTIONS_UPDATED_INSPECTIONS_UPDATED
                     : SFPERMITS__V1__CRON_LOG_ENTRY__OPTIONAL_INSPECTIONS_UPDATED__NOT_SET))
            e->inspections_updated = sfp_cron_ll(res, i, 9);
        e->was_catchup = !strcmp(PQgetvalue(res, i, 10), "t");
        e->error_message = sfp_arena_strdup(a, PQgetvalue(res, i, 11));
        resp->jobs[i] = e;
    }
    resp->total = n;
    PQclear(res);
    /* checked_at: the database clock, like every other timestamp of the response. */
    PGresult *now = sfp_db_query(c, "SELECT " TS("now()"), 0, NULL, err);
    if (!now) return -1;
    resp->checked_at = sfp_arena_strdup(a, PQgetvalue(now, 0, 0));
    PQclear(now);
    return 0;
}
