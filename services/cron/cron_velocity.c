/* cron_velocity.c — RunVelocityRefresh.
 *
 * Compute, then write:
 *   1. The three results are computed CONCURRENTLY on three pooled connections that share one
 *      snapshot (REPEATABLE READ READ ONLY; the main connection exports it with
 *      pg_export_snapshot(), the two helper threads import it with SET TRANSACTION SNAPSHOT), so
 *      they see the same data. Transitions and congestion return their (small) result as one
 *      JSON array; velocity returns rows whose percentiles are rounded here (see rounding).
 *   2. ONE write transaction replaces the rows: DELETE + INSERT station_velocity_v2 (fatal on
 *      error), then under savepoints station_transitions and station_congestion (a failure —
 *      in its computation or its write — is reported as transitions_error / congestion_error
 *      and keeps that table's previous rows: these two steps are non-fatal). Readers see the
 *      old rows until COMMIT, never an empty table; the transaction only moves a few hundred
 *      rows, so it is short.
 *
 * station_velocity_v2: period 'current' = arrive in the last 90 days; a station/metric with
 * fewer than 30 samples takes its 180-day result, still labelled 'current' (stations absent
 * from the 90-day result are not added); 'baseline' = 365 days. Samples: addenda rows with
 * station, arrive and finish_date; review_results NULL or not 'Not Applicable'/'Administrative';
 * metric 'initial' (addenda_number 0) or 'revision' (> 0); reassignment duplicates removed PER
 * WINDOW (the row with the latest finish_date of each application/station/addenda_number among
 * the window's rows — computed in one pass with running counts instead of one sort per window);
 * days_in = fractional days finish − arrive, kept when 0..365; n ≥ 10 per station/metric;
 * p25/p50/p75/p90 with percentile_cont.
 * station_transitions: LEAD(station) per application_number ordered by (step, arrive) over
 * rows finished since 2018-01-01; pairs with ≥ 5 transitions are kept; probability = n / the
 * transitions out of the station over the KEPT pairs (sfp_cron_transition_probability), numeric
 * round to 4 decimals; bucket 'all'; sample_permits = distinct permits.
 * station_congestion: one row per station with a current queue (arrived, unfinished rows);
 * baseline = mean of its arrived-not-finished counts at today − 3/6/9/12 months over the
 * snapshots where it had a queue (sfp_cron_congestion_baseline), NULL when none; ratio =
 * queue / baseline (NULL without baseline), both unrounded float8; label as
 * sfp_cron_congestion_label.
 *
 * Rounding: the percentiles are rounded to 1 decimal in C with sfp_round_half_even (Python's
 * round: the float8's exact value, ties to even — 21.25 → 21.2), from the exact float8 text
 * (extra_float_digits = 3); transition probabilities with numeric round(…, 4) on the exact
 * quotient; congestion figures are not rounded. This is where and how the system this service
 * replaces rounds them.
 *
 * Dates are TEXT 'YYYY-MM-DD...': compared as strings against date strings (x >= 'D' ⇔ day ≥ D;
 * x < 'D+1' ⇔ day ≤ D) — no per-row left()/casts — and only rows starting with YYYY-MM-DD are
 * cast to timestamps. $1 = today (sfp_cron_today_param, never NULL). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cron_internal.h"
#include "cron_jobs.h"
#include "log.h"
#include "severity.h"

/* clang-format off */ /* SQL assembled from macros: kept as written */
#define TODAY "$1::date"
#define DAY(expr) "((" expr ")::date)::text"
#define ISO_DAY "'^[0-9]{4}-[0-9]{2}-[0-9]{2}'"

/* window starts as date strings (stable expressions: evaluated once, pushed into the scan) */
#define D365 DAY(TODAY " - 365")
#define D180 DAY(TODAY " - 180")
#define D90 DAY(TODAY " - 90")
#define TOMORROW DAY(TODAY " + 1")

static const char k_velocity[] =
    "WITH src AS (SELECT a.application_number, a.station, a.addenda_number, a.finish_date, a.arrive, "
    "    CASE WHEN a.addenda_number = 0 THEN 'initial' ELSE 'revision' END AS metric_type, "
    "    EXTRACT(EPOCH FROM (left(a.finish_date, 19)::timestamp - left(a.arrive, 19)::timestamp)) / 86400.0 "
    "      AS days_in "
    "  FROM (SELECT a0.* FROM addenda a0 WHERE a0.arrive >= " D365 " AND a0.arrive < " TOMORROW " "
    "    AND a0.finish_date IS NOT NULL AND a0.station IS NOT NULL AND a0.station <> '' "
    "    AND a0.addenda_number >= 0 AND length(a0.station) <= 30 "
    "    AND (a0.review_results IS NULL OR a0.review_results NOT IN ('Not Applicable', 'Administrative')) "
    "    AND a0.arrive ~ " ISO_DAY " AND a0.finish_date ~ " ISO_DAY " OFFSET 0) a), "
    /* running counts in finish_date DESC order: a row is its group's kept row for a window iff
     * it is in the window and the first of the group's in-window rows */
    "ranked AS (SELECT s.station, s.metric_type, s.days_in, "
    "    s.arrive >= " D90 " AND count(*) FILTER (WHERE s.arrive >= " D90 ") OVER w = 1 AS k90, "
    "    s.arrive >= " D180 " AND count(*) FILTER (WHERE s.arrive >= " D180 ") OVER w = 1 AS k180, "
    "    count(*) OVER w = 1 AS k365 "
    "  FROM src s WINDOW w AS (PARTITION BY s.application_number, s.station, s.addenda_number "
    "    ORDER BY s.finish_date DESC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), "
    "agg AS (SELECT station, metric_type, "
    "    count(*) FILTER (WHERE k90) AS n90, count(*) FILTER (WHERE k180) AS n180, "
    "    count(*) FILTER (WHERE k365) AS n365, "
    "    percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY days_in) "
    "      FILTER (WHERE k90) AS pc90, "
    "    percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY days_in) "
    "      FILTER (WHERE k180) AS pc180, "
    "    percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY days_in) "
    "      FILTER (WHERE k365) AS pc365 "
    "  FROM ranked WHERE days_in BETWEEN 0 AND 365 GROUP BY station, metric_type), "
    "rows AS (SELECT station, metric_type, 'current' AS period, "
    "    CASE WHEN n90 < 30 AND n180 >= 10 THEN n180 ELSE n90 END AS n, "
    "    CASE WHEN n90 < 30 AND n180 >= 10 THEN pc180 ELSE pc90 END AS pc FROM agg WHERE n90 >= 10 "
    "  UNION ALL SELECT station, metric_type, 'baseline', n365, pc365 FROM agg WHERE n365 >= 10) "
    /* unrounded float8 percentiles (exact text): rounded in C, see velocity_json */
    "SELECT station, metric_type, period, n, pc[1], pc[2], pc[3], pc[4] FROM rows "
    "ORDER BY period, station, metric_type";

static const char k_transitions[] =
    "WITH seq AS (SELECT application_number, station AS from_station, "
    "    lead(station) OVER (PARTITION BY application_number ORDER BY step, arrive) AS to_station "
    "  FROM addenda WHERE finish_date >= '2018-01-01' AND station IS NOT NULL AND station <> '' "
    "    AND length(station) <= 30), "
    "pairs AS (SELECT from_station, to_station, count(*) AS n, count(DISTINCT application_number) AS permits "
    "  FROM seq WHERE to_station IS NOT NULL GROUP BY from_station, to_station), "
    /* the denominator counts only the pairs that survive the cut */
    "tot AS (SELECT from_station, sum(n) AS total FROM pairs WHERE n >= 5 GROUP BY from_station) "
    "SELECT coalesce(jsonb_agg(jsonb_build_object('from_station', p.from_station, 'to_station', p.to_station, "
    "  'probability', round(p.n::numeric / t.total, 4), 'transition_count', p.n, 'sample_permits', p.permits) "
    "  ORDER BY p.from_station, p.to_station), '[]')::text "
    "FROM pairs p JOIN tot t USING (from_station) WHERE p.n >= 5";

static const char k_congestion[] =
    /* nK = the day after snapshot K: arrive's day <= snapshot ⇔ arrive < nK; finish's day >
     * snapshot ⇔ finish_date >= nK */
    "WITH s AS (SELECT " DAY(TODAY " - interval '3 months' + interval '1 day'") " AS n1, "
    DAY(TODAY " - interval '6 months' + interval '1 day'") " AS n2, "
    DAY(TODAY " - interval '9 months' + interval '1 day'") " AS n3, "
    DAY(TODAY " - interval '12 months' + interval '1 day'") " AS n4), "
    "q AS (SELECT a.station, count(*) FILTER (WHERE a.finish_date IS NULL) AS cur, "
    "    count(*) FILTER (WHERE a.arrive <> '' AND a.arrive < s.n1 "
    "      AND (a.finish_date IS NULL OR a.finish_date >= s.n1)) AS q1, "
    "    count(*) FILTER (WHERE a.arrive <> '' AND a.arrive < s.n2 "
    "      AND (a.finish_date IS NULL OR a.finish_date >= s.n2)) AS q2, "
    "    count(*) FILTER (WHERE a.arrive <> '' AND a.arrive < s.n3 "
    "      AND (a.finish_date IS NULL OR a.finish_date >= s.n3)) AS q3, "
    "    count(*) FILTER (WHERE a.arrive <> '' AND a.arrive < s.n4 "
    "      AND (a.finish_date IS NULL OR a.finish_date >= s.n4)) AS q4 "
    "  FROM addenda a CROSS JOIN s WHERE a.arrive IS NOT NULL AND (a.finish_date IS NULL OR a.finish_date >= s.n4) "
    "    AND a.station IS NOT NULL AND a.station <> '' AND length(a.station) <= 30 GROUP BY a.station), "
    /* mean over the snapshots in which the station had a queue (numeric mean, then float8) */
    "b AS (SELECT station, cur, CASE WHEN nz > 0 THEN ((q1 + q2 + q3 + q4)::numeric / nz)::float8 END AS base "
    "  FROM (SELECT q.*, (q1 > 0)::int + (q2 > 0)::int + (q3 > 0)::int + (q4 > 0)::int AS nz FROM q) x "
    "  WHERE cur > 0), "
    "r AS (SELECT station, cur, base, cur::float8 / base AS ratio FROM b) "
    "SELECT coalesce(jsonb_agg(jsonb_build_object('station', station, 'current_queue', cur, "
    "  'baseline_queue_avg', base, 'congestion_ratio', ratio, 'congestion_label', "
    "  CASE WHEN cur < 3 OR ratio IS NULL THEN 'normal' WHEN ratio > 1.5 THEN 'congested' "
    "    WHEN ratio > 1.15 THEN 'busy' WHEN ratio < 0.7 THEN 'clearing' ELSE 'normal' END) ORDER BY station), "
    "  '[]')::text FROM r";

static const char k_write_velocity[] =
    "INSERT INTO station_velocity_v2 (station, metric_type, p25_days, p50_days, p75_days, p90_days, sample_count, "
    "  period, updated_at) "
    "SELECT station, metric_type, p25, p50, p75, p90, sample_count, period, now() FROM jsonb_to_recordset($1::jsonb) "
    "  AS x(station text, metric_type text, p25 float8, p50 float8, p75 float8, p90 float8, sample_count int, "
    "  period text)";

static const char k_write_transitions[] =
    "INSERT INTO station_transitions (from_station, to_station, probability, transition_count, sample_permits, "
    "  permit_type_bucket, updated_at) "
    "SELECT from_station, to_station, probability, transition_count, sample_permits, 'all', now() "
    "FROM jsonb_to_recordset($1::jsonb) AS x(from_station text, to_station text, probability float8, "
    "  transition_count int, sample_permits int)";

static const char k_write_congestion[] =
    "INSERT INTO station_congestion (station, current_queue, baseline_queue_avg, congestion_ratio, "
    "  congestion_label, computed_at) "
    "SELECT station, current_queue, baseline_queue_avg, congestion_ratio, congestion_label, now() "
    "FROM jsonb_to_recordset($1::jsonb) AS x(station text, current_queue int, baseline_queue_avg float8, "
    "  congestion_ratio float8, congestion_label text)";
/* clang-format on */

/* Transaction settings of the computing connections: work_mem ($1), and float8 printed as its
 * exact shortest text (in jsonb and in rows) so no figure is rounded on the way to C or to the
 * tables. */
static const char k_session[] = "SELECT set_config('work_mem', $1, true), set_config('extra_float_digits', '3', true)";

/* ---------------- concurrent computation ---------------- */

typedef struct sync_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int imported; /* helpers that are past SET TRANSACTION SNAPSHOT (ok or not) */
} sync_state;

typedef struct step {
    sfp_cron_run *r;
    const char *name, *sql;
    char snapshot[64];
    sync_state *sync;
    bool want_rows; /* keep the PGresult (rows) instead of one JSON text */
    char *json;     /* malloc'd result (or, with want_rows, built from rows by the caller) */
    PGresult *rows; /* want_rows: owned, PQclear'd by the job */
    sfp_err err;
    int rc; /* 0 ok, -1 failed (err) */
} step;

static void signal_imported(sync_state *s)
{
    pthread_mutex_lock(&s->mu);
    s->imported++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Runs st->sql (parameter $1 = today when referenced) on c and keeps its single text value. */
static int run_query(step *st, sfp_conn *c)
{
    const char *p[1] = {sfp_cron_today_param(st->r)};
    bool uses_today = strstr(st->sql, "$1") != NULL;
    if (sfp_cron_tick(st->r, c, &st->err)) return -1;
    PGresult *res = sfp_db_query(c, st->sql, uses_today ? 1 : 0, uses_today ? p : NULL, &st->err);
    if (!res) return -1;
    if (st->want_rows) {
        st->rows = res;
        return 0;
    }
    st->json = strdup(PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "[]");
    PQclear(res);
    if (!st->json) abort();
    return 0;
}

static bool snapshot_id_ok(const char *s)
{
    if (!*s || strlen(s) > 60) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F') || *s == '-')) return false;
    return true;
}

/* Helper thread: its own connection, the exported snapshot, one query. */
static void *step_thread(void *arg)
{
    step *st = arg;
    sfp_cron_run *r = st->r;
    sfp_conn *c = sfp_cron_acquire(r, &st->err);
    bool signalled = false;
    st->rc = -1;
    if (c) {
        char set_snap[128];
        snprintf(set_snap, sizeof set_snap, "SET TRANSACTION SNAPSHOT '%s'", st->snapshot);
        const char *wm[1] = {r->svc->cfg.work_mem && *r->svc->cfg.work_mem ? r->svc->cfg.work_mem : "128MB"};
        bool in_tx = !sfp_db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &st->err);
        bool ok = in_tx && snapshot_id_ok(st->snapshot) && !sfp_db_exec(c, set_snap, 0, NULL, &st->err);
        signal_imported(st->sync);
        signalled = true;
        if (ok && !sfp_db_exec(c, k_session, 1, wm, &st->err) && !run_query(st, c)) st->rc = 0;
        if (in_tx) sfp_cron_rollback(c); /* read-only: nothing to commit */
        sfp_pool_release(r->svc->pool, c);
    }
    if (!signalled) signal_imported(st->sync);
    if (st->rc && !st->err.msg[0]) sfp_err_set(&st->err, SFP_INTERNAL, "could not run");
    return NULL;
}

/* The velocity rows (station, metric_type, period, n, p25, p50, p75, p90 — percentiles as
 * exact float8 text) → the JSON array k_write_velocity reads, each percentile rounded to 1
 * decimal with the one rounding rule (sfp_cron_round1 = Python's round). "%.1f" prints the
 * rounded double as exactly that decimal, which reads back as the same double. malloc'd. */
static char *velocity_json(const PGresult *rows)
{
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_putc(&b, '[');
    for (int i = 0; i < PQntuples(rows); i++) {
        sfp_buf_puts(&b, i ? ",{\"station\":" : "{\"station\":");
        sfp_buf_json_str(&b, PQgetvalue(rows, i, 0));
        sfp_buf_puts(&b, ",\"metric_type\":");
        sfp_buf_json_str(&b, PQgetvalue(rows, i, 1));
        sfp_buf_puts(&b, ",\"period\":");
        sfp_buf_json_str(&b, PQgetvalue(rows, i, 2));
        sfp_buf_printf(&b, ",\"sample_count\":%lld", sfp_cron_ll(rows, i, 3));
        static const char *const keys[4] = {"p25", "p50", "p75", "p90"};
        for (int k = 0; k < 4; k++) {
            if (PQgetisnull(rows, i, 4 + k)) sfp_buf_printf(&b, ",\"%s\":null", keys[k]);
            else sfp_buf_printf(&b, ",\"%s\":%.1f", keys[k], sfp_cron_round1(strtod(PQgetvalue(rows, i, 4 + k), NULL)));
        }
        sfp_buf_putc(&b, '}');
    }
    sfp_buf_putc(&b, ']');
    char *out = strdup(b.data ? b.data : "[]");
    sfp_buf_free(&b);
    if (!out) abort();
    return out;
}

/* Replaces one table's rows from its JSON under a savepoint. Returns rows written, -1 when the
 * step failed (non-fatal: *msg set), -2 when the whole job must fail (deadline, connection). */
static long long write_companion(sfp_cron_run *r, sfp_conn *c, const char *name, const char *del, const char *ins,
                                 const char *json, char **msg)
{
    sfp_err err = {0};
    if (sfp_db_exec(c, "SAVEPOINT companion", 0, NULL, &err) || sfp_cron_tick(r, c, &err))
        return sfp_cron_fail_db(r, name, &err) - 1;
    const char *p[1] = {json};
    PGresult *res = NULL;
    if (!sfp_db_exec(c, del, 0, NULL, &err)) res = sfp_db_query(c, ins, 1, p, &err);
    if (res) {
        long long n = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (sfp_db_exec(c, "RELEASE SAVEPOINT companion", 0, NULL, &err)) return sfp_cron_fail_db(r, name, &err) - 1;
        return n;
    }
    if (err.code == SFP_DEADLINE_EXCEEDED || err.code == SFP_UNAVAILABLE) return sfp_cron_fail_db(r, name, &err) - 1;
    sfp_log(SFP_WARN, "velocity companion step failed; job continues", SFP_S("step", name), SFP_S("error", err.msg));
    *msg = sfp_arena_printf(r->arena, "%s: %s", name, err.msg[0] ? err.msg : "failed");
    sfp_err e2 = {0};
    if (sfp_db_exec(c, "ROLLBACK TO SAVEPOINT companion", 0, NULL, &e2)) return sfp_cron_fail_db(r, name, &e2) - 1;
    return -1;
}

static int velocity_job(sfp_cron_run *r, const Sfpermits__V1__RunVelocityRefreshRequest *req,
                        Sfpermits__V1__VelocityRefreshResult *res)
{
    (void)req;
    sfp_err err = {0};
    sync_state sync;
    pthread_mutex_init(&sync.mu, NULL);
    pthread_cond_init(&sync.cv, NULL);
    sync.imported = 0;
    step vel = {.r = r, .name = "station_velocity_v2", .sql = k_velocity, .sync = &sync, .want_rows = true};
    step helpers[2] = {{.r = r, .name = "station_transitions", .sql = k_transitions, .sync = &sync},
                       {.r = r, .name = "station_congestion", .sql = k_congestion, .sync = &sync}};
    pthread_t th[2];
    bool started[2] = {false, false};
    int rc = -1;

    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) {
        sfp_cron_fail_db(r, "velocity_refresh", &err);
        goto out;
    }
    /* 1. compute: export a snapshot, start the helpers on it, run velocity here */
    const char *wm[1] = {r->svc->cfg.work_mem && *r->svc->cfg.work_mem ? r->svc->cfg.work_mem : "128MB"};
    PGresult *snap = NULL;
    if (sfp_db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &err) ||
        !(snap = sfp_db_query(c, "SELECT pg_export_snapshot()", 0, NULL, &err)) ||
        sfp_db_exec(c, k_session, 1, wm, &err)) {
        if (snap) PQclear(snap);
        sfp_cron_rollback(c);
        sfp_pool_release(r->svc->pool, c);
        sfp_cron_fail_db(r, "velocity_refresh", &err);
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(helpers[i].snapshot, sizeof helpers[i].snapshot, "%s", PQgetvalue(snap, 0, 0));
        started[i] = pthread_create(&th[i], NULL, step_thread, &helpers[i]) == 0;
    }
    PQclear(snap);
    /* the exporting transaction must outlive the imports */
    int want = started[0] + started[1];
    pthread_mutex_lock(&sync.mu);
    while (sync.imported < want) pthread_cond_wait(&sync.cv, &sync.mu);
    pthread_mutex_unlock(&sync.mu);
    vel.rc = run_query(&vel, c);
    if (!vel.rc) vel.json = velocity_json(vel.rows);
    /* a helper that could not start runs here, in the same snapshot */
    for (int i = 0; i < 2; i++)
        if (!started[i]) helpers[i].rc = vel.rc ? -1 : run_query(&helpers[i], c);
    sfp_cron_rollback(c); /* read-only */
    for (int i = 0; i < 2; i++)
        if (started[i]) pthread_join(th[i], NULL);
    if (vel.rc) {
        sfp_pool_release(r->svc->pool, c);
        sfp_cron_fail_db(r, "station_velocity_v2", &vel.err);
        goto out;
    }
    for (int i = 0; i < 2; i++)
        if (helpers[i].rc && (helpers[i].err.code == SFP_DEADLINE_EXCEEDED || sfp_cron_left_ms(r) <= 50)) {
            sfp_pool_release(r->svc->pool, c);
            sfp_cron_fail_db(r, helpers[i].name, &helpers[i].err);
            goto out;
        }

    /* 2. write: one transaction */
    if (sfp_cron_begin(r, c, &err)) {
        sfp_pool_release(r->svc->pool, c);
        sfp_cron_fail_db(r, "velocity_refresh", &err);
        goto out;
    }
    const char *vp[1] = {vel.json};
    PGresult *w = NULL;
    if (sfp_db_exec(c, "DELETE FROM station_velocity_v2", 0, NULL, &err) ||
        !(w = sfp_db_query(c, k_write_velocity, 1, vp, &err))) {
        sfp_cron_fail_db(r, "station_velocity_v2", &err);
        goto fail;
    }
    PQclear(w);
    PGresult *st =
        sfp_db_query(c,
                     "SELECT count(*), count(DISTINCT station), count(DISTINCT period), "
                     "coalesce(string_agg(DISTINCT period, ',' ORDER BY period), '') FROM station_velocity_v2",
                     0, NULL, &err);
    if (!st) {
        sfp_cron_fail_db(r, "station_velocity_v2", &err);
        goto fail;
    }
    res->rows_inserted = sfp_cron_ll(st, 0, 0);
    res->stations = (int32_t)sfp_cron_ll(st, 0, 1);
    res->periods = (int32_t)sfp_cron_ll(st, 0, 2);
    {
        char *copy = sfp_arena_strdup(r->arena, PQgetvalue(st, 0, 3));
        size_t n = 0;
        res->period_labels = sfp_arena_alloc(r->arena, sizeof(char *) * ((size_t)res->periods + 1));
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && n < (size_t)res->periods + 1;
             tok = strtok_r(NULL, ",", &save))
            res->period_labels[n++] = tok;
        res->n_period_labels = n;
    }
    PQclear(st);

    static const char *const dels[2] = {"DELETE FROM station_transitions WHERE permit_type_bucket = 'all'",
                                        "DELETE FROM station_congestion"};
    static const char *const inss[2] = {k_write_transitions, k_write_congestion};
    int64_t *counts[2] = {&res->transitions, &res->congestion};
    char **errors[2] = {&res->transitions_error, &res->congestion_error};
    for (int i = 0; i < 2; i++) {
        *counts[i] = 0;
        *errors[i] = "";
        if (helpers[i].rc) {
            sfp_log(SFP_WARN, "velocity companion step failed; job continues", SFP_S("step", helpers[i].name),
                    SFP_S("error", helpers[i].err.msg));
            *errors[i] = sfp_arena_printf(r->arena, "%s: %s", helpers[i].name, helpers[i].err.msg);
            continue;
        }
        char *msg = NULL;
        long long n = write_companion(r, c, helpers[i].name, dels[i], inss[i], helpers[i].json, &msg);
        if (n < -1) goto fail;
        if (n < 0) *errors[i] = msg;
        else *counts[i] = n;
    }
    if (sfp_db_exec(c, "COMMIT", 0, NULL, &err)) {
        sfp_cron_fail_db(r, "velocity_refresh: commit", &err);
        goto fail;
    }
    sfp_pool_release(r->svc->pool, c);
    rc = 0;
    goto out;
fail:
    sfp_cron_rollback(c);
    sfp_pool_release(r->svc->pool, c);
out:
    free(vel.json);
    if (vel.rows) PQclear(vel.rows);
    free(helpers[0].json);
    free(helpers[1].json);
    pthread_cond_destroy(&sync.cv);
    pthread_mutex_destroy(&sync.mu);
    return rc;
}

static int velocity_fn(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res)
{
    return velocity_job(r, (const Sfpermits__V1__RunVelocityRefreshRequest *)req,
                        (Sfpermits__V1__VelocityRefreshResult *)res);
}

const sfp_cron_job_def sfp_cron_velocity_def = {SFP_CRON_JOB_VELOCITY,
                                                &sfpermits__v1__run_velocity_refresh_request__descriptor,
                                                &sfpermits__v1__velocity_refresh_result__descriptor, velocity_fn, true};
