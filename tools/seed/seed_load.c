/* seed_load.c — COPY loader for sfp-seed (see seed_load.h). Each worker thread owns one
 * connection; the task list is shared under a mutex and handed out largest table first. */
#include "seed_load.h"
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define SEED_ERR SFP_INTERNAL

static int fail(sfp_err *err, PGconn *conn, PGresult *res, const char *what)
{
    char line[200];
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(line, sizeof line, "%s", msg ? msg : PQerrorMessage(conn));
    line[strcspn(line, "\n")] = '\0';
    if (res) PQclear(res);
    return sfp_err_set(err, SEED_ERR, "%s: %s", what, line);
}

int seed_exec(PGconn *conn, const char *sql, const char *what, sfp_err *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return fail(err, conn, res, what);
    PQclear(res);
    return 0;
}

PGconn *seed_connect(const char *url, sfp_err *err)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "sfp-seed", url, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        fail(err, conn, NULL, "connect to DATABASE_URL");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int seed_session_setup(PGconn *conn, sfp_err *err)
{
    return seed_exec(conn,
                     "SET statement_timeout = 0; SET lock_timeout = '60s'; SET synchronous_commit = off;"
                     " SET maintenance_work_mem = '512MB'; SET client_min_messages = warning",
                     "session setup", err);
}

int seed_fill_benchmarks(PGconn *conn, int32_t as_of, sfp_err *err)
{
    for (int32_t d = as_of; d <= as_of + 1; d++) {
        char day[11];
        sfp_seed_format_day(d, day);
        const char *p[1] = {day};
        PGresult *res = PQexecParams(conn, "SELECT sfp_brief_benchmarks_fill($1::date)", 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(err, conn, res, "brief benchmarks");
        PQclear(res);
    }
    PGresult *res = PQexec(conn, "SELECT sfp_brief_data_quality_fill()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(err, conn, res, "brief data quality");
    PQclear(res);
    return 0;
}

/* ------------------------------------------------------------------ COPY */
static int copy_sink(void *ud, const char *data, size_t len)
{
    return PQputCopyData((PGconn *)ud, data, (int)len) == 1 ? 0 : -1;
}

int seed_copy_table(PGconn *conn, const sfp_seed_world *w, sfp_seed_table t, int freeze, int64_t *rows, sfp_err *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "COPY %s %s FROM STDIN%s", sfp_seed_table_name(t), sfp_seed_table_columns(t),
             freeze ? " WITH (FREEZE)" : "");
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) return fail(err, conn, res, "start COPY");
    PQclear(res);
    int64_t n = sfp_seed_generate(w, t, copy_sink, conn);
    if (PQputCopyEnd(conn, n < 0 ? "sfp-seed: generation aborted" : NULL) != 1)
        return fail(err, conn, NULL, "end COPY");
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            rc = fail(err, conn, res, sfp_seed_table_name(t));
            continue;
        }
        PQclear(res);
    }
    if (rc == 0 && n < 0) rc = sfp_err_set(err, SEED_ERR, "%s: generation failed", sfp_seed_table_name(t));
    if (rows) *rows = n;
    return rc;
}

/* ------------------------------------------------------------------ index handling */
/* For one table: (drop statement, create statement) of every secondary index and of the
 * primary/unique constraints that no foreign key depends on; constraints first. */
static const char *const k_index_sql =
    "SELECT 0 AS ord, k.conname::text AS nm,"
    "       format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),"
    "       format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,"
    "              pg_get_constraintdef(k.oid))"
    "  FROM pg_constraint k"
    " WHERE k.conrelid = $1::regclass AND k.contype IN ('p', 'u')"
    "   AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = k.conindid)"
    " UNION ALL "
    "SELECT 1, c.relname::text, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)"
    "  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
    " WHERE i.indrelid = $1::regclass"
    "   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)"
    " ORDER BY 1, 2";

static PGresult *read_index_defs(PGconn *conn, const char *table, sfp_err *err)
{
    const char *params[1] = {table};
    PGresult *res = PQexecParams(conn, k_index_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fail(err, conn, res, "read index definitions");
        return NULL;
    }
    return res;
}

/* col 2 = drop, col 3 = create */
static int run_column(PGconn *conn, PGresult *defs, int col, const char *what, sfp_err *err)
{
    for (int r = 0; r < PQntuples(defs); r++)
        if (seed_exec(conn, PQgetvalue(defs, r, col), what, err) < 0) return -1;
    return 0;
}

/* ------------------------------------------------------------------ one bulk table */
static int load_in_txn(PGconn *conn, const sfp_seed_world *w, sfp_seed_table t, seed_table_stat *st, sfp_err *err)
{
    const char *name = sfp_seed_table_name(t);
    char sql[256];
    snprintf(sql, sizeof sql, "TRUNCATE %s RESTART IDENTITY", name);
    if (seed_exec(conn, sql, "truncate", err) < 0) return -1;
    PGresult *defs = read_index_defs(conn, name, err);
    if (!defs) return -1;
    int rc = run_column(conn, defs, 2, "drop index", err);
    double t0 = sfp_mono_s();
    if (rc == 0) rc = seed_copy_table(conn, w, t, 1, &st->rows, err);
    double t1 = sfp_mono_s();
    if (rc == 0) rc = run_column(conn, defs, 3, "create index", err);
    st->copy_seconds = t1 - t0;
    st->index_seconds = sfp_mono_s() - t1;
    PQclear(defs);
    return rc;
}

static int load_table(PGconn *conn, const sfp_seed_world *w, sfp_seed_table t, seed_table_stat *st, sfp_err *err)
{
    double t0 = sfp_mono_s();
    if (seed_exec(conn, "BEGIN", "begin", err) < 0) return -1;
    if (load_in_txn(conn, w, t, st, err) < 0 || seed_exec(conn, "COMMIT", "commit", err) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        st->rows = -1;
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "ANALYZE %s", sfp_seed_table_name(t));
    if (seed_exec(conn, sql, "analyze", err) < 0) return -1;
    st->seconds = sfp_mono_s() - t0;
    sfp_log(SFP_INFO, "table loaded", SFP_S("table", sfp_seed_table_name(t)), SFP_I("rows", st->rows),
            SFP_D("seconds", st->seconds), SFP_D("copy_s", st->copy_seconds), SFP_D("index_s", st->index_seconds));
    return 0;
}

/* ------------------------------------------------------------------ parallel driver */
typedef struct loader {
    const char *url;
    const sfp_seed_world *w;
    seed_table_stat *stats;
    sfp_seed_table order[SFP_SEED_TABLE_COUNT];
    size_t n, next;
    int failed;
    sfp_err err; /* first failure */
    pthread_mutex_t mu;
} loader;

static int take_task(loader *L, sfp_seed_table *t)
{
    pthread_mutex_lock(&L->mu);
    int ok = !L->failed && L->next < L->n;
    if (ok) *t = L->order[L->next++];
    pthread_mutex_unlock(&L->mu);
    return ok;
}

static void report_failure(loader *L, const sfp_err *e)
{
    pthread_mutex_lock(&L->mu);
    if (!L->failed) L->err = *e;
    L->failed = 1;
    pthread_mutex_unlock(&L->mu);
}

static void *worker(void *arg)
{
    loader *L = arg;
    sfp_err e = {0};
    PGconn *conn = seed_connect(L->url, &e);
    if (!conn || seed_session_setup(conn, &e) < 0) {
        report_failure(L, &e);
        PQfinish(conn);
        return NULL;
    }
    sfp_seed_table t;
    while (take_task(L, &t)) {
        if (load_table(conn, L->w, t, &L->stats[t], &e) < 0) {
            sfp_err wrapped;
            sfp_err_set(&wrapped, e.code, "%s: %s", sfp_seed_table_name(t), e.msg);
            report_failure(L, &wrapped);
        }
    }
    PQfinish(conn);
    return NULL;
}

/* Largest first, so the long addenda load starts at once and the small ones fill the gaps. */
static size_t plan_order(sfp_seed_table *order)
{
    static const sfp_seed_table by_size[] = {SFP_SEED_ADDENDA,        SFP_SEED_PERMITS,
                                             SFP_SEED_CONTACTS,       SFP_SEED_STREET_USE_PERMITS,
                                             SFP_SEED_INSPECTIONS,    SFP_SEED_TAX_ROLLS,
                                             SFP_SEED_VIOLATIONS,     SFP_SEED_PLANNING_RECORDS,
                                             SFP_SEED_TIMELINE_STATS, SFP_SEED_ENTITIES,
                                             SFP_SEED_COMPLAINTS,     SFP_SEED_BOILER_PERMITS,
                                             SFP_SEED_PARCEL_SUMMARY, SFP_SEED_DEVELOPMENT_PIPELINE};
    size_t n = 0;
    for (size_t i = 0; i < sizeof by_size / sizeof by_size[0]; i++)
        if (sfp_seed_table_is_bulk(by_size[i])) order[n++] = by_size[i];
    return n;
}

int seed_load_bulk(const char *url, const sfp_seed_world *w, int jobs, seed_table_stat stats[SFP_SEED_TABLE_COUNT],
                   sfp_err *err)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.url = url;
    L.w = w;
    L.stats = stats;
    L.n = plan_order(L.order);
    pthread_mutex_init(&L.mu, NULL);
    if (jobs < 1) jobs = 1;
    if (jobs > 8) jobs = 8;
    pthread_t th[8];
    int started = 0;
    for (int i = 0; i < jobs; i++)
        if (pthread_create(&th[started], NULL, worker, &L) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&L.mu);
    if (!started) return sfp_err_set(err, SEED_ERR, "cannot start loader threads");
    if (L.failed) {
        if (err) *err = L.err;
        return -1;
    }
    return 0;
}
