/* cron_velocity.c — RunVelocityRefresh (§3.8), in ONE transaction:
 *
 *   station_velocity_v2: DELETE + INSERT of period 'current' (arrive in the last 90 days; a
 *     station/metric with fewer than 30 samples takes its 180-day result, still labelled
 *     'current'; stations absent from the 90-day result are not added) and 'baseline' (365
 *     days). Samples: addenda rows with station, arrive and finish_date; review_results NULL or
 *     not 'Not Applicable'/'Administrative'; metric 'initial' (addenda_number 0) or 'revision'
 *     (> 0); reassignment duplicates removed per window (row_number over application_number,
 *     station, addenda_number by finish_date DESC NULLS LAST, keep 1); days_in = fractional days
 *     finish − arrive, kept when 0..365; per station/metric n ≥ 10, p25/p50/p75/p90 with
 *     percentile_cont rounded to 1 decimal. Fatal on error.
 *   station_transitions (SAVEPOINT; non-fatal → transitions_error): LEAD(station) per
 *     application_number ordered by (step, arrive) over finished rows (finish_date ≥
 *     2018-01-01); pairs with ≥ 5 transitions; probability = n / all transitions from the
 *     station, 4 decimals; bucket 'all'.
 *   station_congestion (SAVEPOINT; non-fatal → congestion_error): queue = arrived, unfinished
 *     rows per station; baseline = mean of the arrived-not-finished counts at today − 3/6/9/12
 *     months (at least 1); ratio = queue / baseline; label per sfp_cron_congestion_label.
 *   COMMIT — readers see the old rows until then, never an empty table (§9 item 20 fixed).
 * Dates are TEXT; only rows whose dates start with YYYY-MM-DD are cast. $1 = today. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_internal.h"
#include "log.h"

#define TODAY "coalesce($1::date, current_date)"
#define ISO_DAY "'^[0-9]{4}-[0-9]{2}-[0-9]{2}'"

static const char k_velocity[] =
    "WITH src AS ("
    "  SELECT a.application_number, a.station, a.addenda_number, a.finish_date, left(a.arrive, 10) AS arrive_d, "
    "    CASE WHEN a.addenda_number = 0 THEN 'initial' ELSE 'revision' END AS metric_type, "
    "    EXTRACT(EPOCH FROM (left(a.finish_date, 19)::timestamp - left(a.arrive, 19)::timestamp)) / 86400.0 "
    "      AS days_in "
    "  FROM (SELECT * FROM addenda a0 WHERE a0.station IS NOT NULL AND a0.station <> '' "
    "    AND length(a0.station) <= 30 AND a0.addenda_number >= 0 "
    "    AND a0.arrive ~ " ISO_DAY " AND a0.finish_date ~ " ISO_DAY " "
    "    AND left(a0.arrive, 10) >= (" TODAY " - 365)::text AND left(a0.arrive, 10) <= (" TODAY ")::text "
    "    AND (a0.review_results IS NULL OR a0.review_results NOT IN ('Not Applicable', 'Administrative')) "
    "    OFFSET 0) a), "
    "win AS (SELECT * FROM (VALUES (90), (180), (365)) v(days)), "
    "dedup AS (SELECT w.days, s.station, s.metric_type, s.days_in, row_number() OVER ("
    "    PARTITION BY w.days, s.application_number, s.station, s.addenda_number "
    "    ORDER BY s.finish_date DESC NULLS LAST) AS rn "
    "  FROM win w JOIN src s ON s.arrive_d >= (" TODAY " - w.days)::text), "
    "agg AS (SELECT days, station, metric_type, count(*) AS n, "
    "    percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY days_in) AS pc "
    "  FROM dedup WHERE rn = 1 AND days_in BETWEEN 0 AND 365 "
    "  GROUP BY days, station, metric_type HAVING count(*) >= 10), "
    "cur AS (SELECT a90.station, a90.metric_type, "
    "    CASE WHEN a90.n < 30 AND a180.n IS NOT NULL THEN a180.n ELSE a90.n END AS n, "
    "    CASE WHEN a90.n < 30 AND a180.n IS NOT NULL THEN a180.pc ELSE a90.pc END AS pc "
    "  FROM agg a90 LEFT JOIN agg a180 ON a180.days = 180 AND a180.station = a90.station "
    "    AND a180.metric_type = a90.metric_type WHERE a90.days = 90), "
    "rows AS (SELECT station, metric_type, n, pc, 'current' AS period FROM cur "
    "  UNION ALL SELECT station, metric_type, n, pc, 'baseline' FROM agg WHERE days = 365) "
    "INSERT INTO station_velocity_v2 (station, metric_type, p25_days, p50_days, p75_days, p90_days, sample_count, "
    "  period, updated_at) "
    "SELECT station, metric_type, round(pc[1]::numeric, 1)::float8, round(pc[2]::numeric, 1)::float8, "
    "  round(pc[3]::numeric, 1)::float8, round(pc[4]::numeric, 1)::float8, n, period, now() "
    "FROM rows ORDER BY period, station, metric_type";

static const char k_velocity_stats[] =
    "SELECT count(*), count(DISTINCT station), count(DISTINCT period), "
    "coalesce(string_agg(DISTINCT period, ',' ORDER BY period), '') FROM station_velocity_v2";

static const char k_transitions[] =
    "INSERT INTO station_transitions (from_station, to_station, probability, transition_count, sample_permits, "
    "  permit_type_bucket, updated_at) "
    "WITH seq AS (SELECT application_number, station AS from_station, "
    "    lead(station) OVER (PARTITION BY application_number ORDER BY step, arrive) AS to_station "
    "  FROM addenda WHERE finish_date IS NOT NULL AND left(finish_date, 10) >= '2018-01-01' "
    "    AND station IS NOT NULL AND station <> '' AND length(station) <= 30), "
    "pairs AS (SELECT from_station, to_station, count(*) AS n, count(DISTINCT application_number) AS permits "
    "  FROM seq WHERE to_station IS NOT NULL GROUP BY from_station, to_station), "
    "tot AS (SELECT from_station, sum(n) AS total FROM pairs GROUP BY from_station) "
    "SELECT p.from_station, p.to_station, round(p.n::numeric / t.total, 4)::float8, p.n, p.permits, 'all', now() "
    "FROM pairs p JOIN tot t USING (from_station) WHERE p.n >= 5 ORDER BY p.from_station, p.to_station";

static const char k_congestion[] =
    "INSERT INTO station_congestion (station, current_queue, baseline_queue_avg, congestion_ratio, "
    "  congestion_label, computed_at) "
    "WITH s AS (SELECT (" TODAY " - interval '3 months')::date::text AS s1, "
    "    (" TODAY " - interval '6 months')::date::text AS s2, (" TODAY " - interval '9 months')::date::text AS s3, "
    "    (" TODAY " - interval '12 months')::date::text AS s4), "
    "q AS (SELECT a.station, count(*) FILTER (WHERE a.finish_date IS NULL) AS cur, "
    "    count(*) FILTER (WHERE left(a.arrive, 10) <= s.s1 AND (a.finish_date IS NULL OR left(a.finish_date, 10) > s.s1)) AS q1, "
    "    count(*) FILTER (WHERE left(a.arrive, 10) <= s.s2 AND (a.finish_date IS NULL OR left(a.finish_date, 10) > s.s2)) AS q2, "
    "    count(*) FILTER (WHERE left(a.arrive, 10) <= s.s3 AND (a.finish_date IS NULL OR left(a.finish_date, 10) > s.s3)) AS q3, "
    "    count(*) FILTER (WHERE left(a.arrive, 10) <= s.s4 AND (a.finish_date IS NULL OR left(a.finish_date, 10) > s.s4)) AS q4 "
    "  FROM addenda a CROSS JOIN s WHERE coalesce(a.arrive, '') <> '' AND a.station IS NOT NULL AND a.station <> '' "
    "    AND length(a.station) <= 30 GROUP BY a.station), "
    "b AS (SELECT station, cur, greatest((q1 + q2 + q3 + q4) / 4.0, 1.0)::float8 AS base FROM q "
    "  WHERE cur > 0 OR q1 + q2 + q3 + q4 > 0) "
    "SELECT station, cur, round(base::numeric, 2)::float8, round((cur / base)::numeric, 3)::float8, "
    "  CASE WHEN cur < 3 THEN 'normal' WHEN cur / base > 1.5 THEN 'congested' WHEN cur / base > 1.15 THEN 'busy' "
    "    WHEN cur / base < 0.7 THEN 'clearing' ELSE 'normal' END, now() "
    "FROM b ORDER BY station";

/* Runs one companion step under a savepoint: rows written, or -1 with its (safe) error in msg.
 * A deadline/connection failure is fatal for the whole job (returns -2). */
static long long companion(sfp_cron_run *r, sfp_conn *c, const char *name, const char *del, const char *ins,
                           const char *const *p, char **msg)
{
    sfp_err err = {0};
    if (sfp_db_exec(c, "SAVEPOINT companion", 0, NULL, &err) || sfp_cron_tick(r, c, &err))
        return sfp_cron_fail_db(r, name, &err) - 1;
    PGresult *res = NULL;
    bool uses_today = strstr(ins, "$1") != NULL;
    if (!sfp_db_exec(c, del, 0, NULL, &err)) res = sfp_db_query(c, ins, uses_today ? 1 : 0, uses_today ? p : NULL, &err);
    if (res) {
        long long n = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (sfp_db_exec(c, "RELEASE SAVEPOINT companion", 0, NULL, &err)) return sfp_cron_fail_db(r, name, &err) - 1;
        return n;
    }
    if (err.code == GRPC_STATUS_DEADLINE_EXCEEDED || err.code == GRPC_STATUS_UNAVAILABLE)
        return sfp_cron_fail_db(r, name, &err) - 1;
    sfp_log(SFP_WARN, "velocity companion step failed; job continues", SFP_S("step", name), SFP_S("error", err.msg));
    *msg = sfp_arena_printf(r->arena, "%s: %s", name, err.msg[0] ? err.msg : "failed");
    sfp_err e2 = {0};
    if (sfp_db_exec(c, "ROLLBACK TO SAVEPOINT companion", 0, NULL, &e2)) return sfp_cron_fail_db(r, name, &e2) - 1;
    return -1;
}

int sfp_cron_velocity_job(sfp_cron_run *r, const Sfpermits__V1__RunVelocityRefreshRequest *req,
                          Sfpermits__V1__VelocityRefreshResult *res)
{
    (void)req;
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "velocity_refresh", &err);
    if (sfp_cron_begin(r, c, &err)) {
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, "velocity_refresh", &err);
    }
    const char *p[1] = {sfp_cron_today_param(r)};
    PGresult *st = NULL;
    if (sfp_db_exec(c, "DELETE FROM station_velocity_v2", 0, NULL, &err) || sfp_cron_tick(r, c, &err) ||
        sfp_db_exec(c, k_velocity, 1, p, &err)) {
        sfp_cron_fail_db(r, "station_velocity_v2", &err);
        goto fail;
    }
    st = sfp_db_query(c, k_velocity_stats, 0, NULL, &err);
    if (!st) {
        sfp_cron_fail_db(r, "station_velocity_v2", &err);
        goto fail;
    }
    res->rows_inserted = sfp_cron_ll(st, 0, 0);
    res->stations = (int32_t)sfp_cron_ll(st, 0, 1);
    res->periods = (int32_t)sfp_cron_ll(st, 0, 2);
    {
        /* period labels, sorted by the query */
        const char *labels = PQgetvalue(st, 0, 3);
        size_t n = 0;
        char *copy = sfp_arena_strdup(r->arena, labels);
        res->period_labels = sfp_arena_alloc(r->arena, sizeof(char *) * ((size_t)res->periods + 1));
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            res->period_labels[n++] = tok;
        res->n_period_labels = n;
    }
    PQclear(st);

    char *msg = NULL;
    long long t = companion(r, c, "station_transitions", "DELETE FROM station_transitions WHERE permit_type_bucket = 'all'",
                            k_transitions, p, &msg);
    if (t < -1) goto fail;
    res->transitions = t < 0 ? 0 : t;
    res->transitions_error = t < 0 ? msg : "";
    msg = NULL;
    long long g = companion(r, c, "station_congestion", "DELETE FROM station_congestion", k_congestion, p, &msg);
    if (g < -1) goto fail;
    res->congestion = g < 0 ? 0 : g;
    res->congestion_error = g < 0 ? msg : "";

    if (sfp_db_exec(c, "COMMIT", 0, NULL, &err)) {
        sfp_cron_fail_db(r, "velocity_refresh: commit", &err);
        goto fail;
    }
    sfp_pool_release(r->svc->pool, c);
    return 0;
fail:
    sfp_cron_rollback(c);
    sfp_pool_release(r->svc->pool, c);
    return -1;
}
