/* migrations.c — runner for the migrations embedded from db/migrations (see migrations.h).
 *
 * Protocol: take a session-level advisory lock (fixed key), create schema_migrations if
 * missing, read the applied versions, then apply every missing migration in its own
 * transaction together with its schema_migrations row; release the lock on every path.
 * Two runners racing serialise on the lock, and the second sees the first one's rows, so
 * each version is applied exactly once.
 *
 * Ownership: the caller owns the PGconn; nothing here keeps a reference to it. Error messages
 * carry the migration name and Postgres' primary message (never the SQL text). */
#include "migrations.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "sfpermit" in ASCII: the advisory-lock key every migrator uses. */
#define SFP_MIGRATE_LOCK_KEY "8315457342999980404"

#define SFP_MIGRATE_ERR SFP_FAILED_PRECONDITION

const char *const sfp_expected_tables[] = {
    /* 0001 bulk */
    "permits",
    "entities",
    "contacts",
    "inspections",
    "addenda",
    "complaints",
    "violations",
    "tax_rolls",
    "parcel_summary",
    "timeline_stats",
    /* 0002 application */
    "users",
    "api_tokens",
    "watch_items",
    "brief_refresh",
    "permit_changes",
    "addenda_changes",
    "regulatory_watch",
    "cron_log",
    "page_cache",
    /* 0003 derived */
    "severity_cache",
    "signal_types",
    "permit_signals",
    "property_signals",
    "property_health",
    "station_velocity",
    "station_velocity_v2",
    "station_transitions",
    "station_congestion",
    /* 0010 nightly ingest */
    "nightly_watermarks",
    "entity_keys",
    /* 0040 brief datasets */
    "boiler_permits",
    "street_use_permits",
    "planning_records",
    "development_pipeline",
    /* 0070 brief benchmarks */
    "brief_benchmarks",
    /* 0085 brief data quality */
    "brief_data_quality",
    /* runner */
    "schema_migrations",
    NULL,
};

/* Copies the first line of libpq's error text (no trailing newline) into dst. */
static void first_line(char *dst, size_t n, const char *src)
{
    if (!src) src = "";
    size_t len = strcspn(src, "\n");
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int fail_res(sfp_err *err, PGconn *conn, PGresult *res, const char *what)
{
    char line[200];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    first_line(line, sizeof line, primary ? primary : PQerrorMessage(conn));
    if (res) PQclear(res);
    return sfp_err_set(err, SFP_MIGRATE_ERR, "%s: %s", what, line);
}

/* Runs a statement without parameters that returns no rows (or whose rows are ignored). */
static int exec_cmd(PGconn *conn, const char *sql, const char *what, sfp_err *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return fail_res(err, conn, res, what);
    PQclear(res);
    return 0;
}

static int lock_migrations(PGconn *conn, bool unlock, sfp_err *err)
{
    const char *params[1] = {SFP_MIGRATE_LOCK_KEY};
    const char *sql = unlock ? "SELECT pg_advisory_unlock($1::bigint)" : "SELECT pg_advisory_lock($1::bigint)";
    PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(err, conn, res, unlock ? "advisory unlock" : "advisory lock");
    PQclear(res);
    return 0;
}

/* Checked first instead of CREATE ... IF NOT EXISTS, which would print a NOTICE on every run;
 * the advisory lock makes check-then-create race free. */
static int ensure_version_table(PGconn *conn, sfp_err *err)
{
    PGresult *res = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return fail_res(err, conn, res, "check schema_migrations");
    bool exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (exists) return 0;
    return exec_cmd(conn,
                    "CREATE TABLE schema_migrations ("
                    " version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    "create schema_migrations", err);
}

/* Fills applied[i] for every embedded migration already recorded. */
static int load_applied(PGconn *conn, bool *applied, sfp_err *err)
{
    PGresult *res = PQexec(conn, "SELECT version FROM schema_migrations");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail_res(err, conn, res, "read schema_migrations");
    for (int r = 0; r < PQntuples(res); r++) {
        int v = atoi(PQgetvalue(res, r, 0));
        for (size_t i = 0; i < sfp_migrations_count; i++)
            if (sfp_migrations[i].version == v) applied[i] = true;
    }
    PQclear(res);
    return 0;
}

/* Versions must be positive and strictly increasing (the build sorts files by name). */
static int check_embedded(sfp_err *err)
{
    for (size_t i = 0; i < sfp_migrations_count; i++) {
        if (sfp_migrations[i].version <= 0)
            return sfp_err_set(err, SFP_MIGRATE_ERR, "migration %s: bad version", sfp_migrations[i].name);
        if (i > 0 && sfp_migrations[i].version <= sfp_migrations[i - 1].version)
            return sfp_err_set(err, SFP_MIGRATE_ERR, "migration %s: duplicate or unordered version",
                               sfp_migrations[i].name);
    }
    return 0;
}

static int record_version(PGconn *conn, const sfp_migration *m, sfp_err *err)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", m->version);
    const char *params[2] = {ver, m->name};
    PGresult *res = PQexecParams(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2, NULL,
                                 params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return fail_res(err, conn, res, "record version");
    PQclear(res);
    return 0;
}

/* One migration, one transaction. lock_timeout keeps a migration from queueing forever behind
 * a long query; statement_timeout is lifted because index builds on big tables take time. */
static int apply_one(PGconn *conn, const sfp_migration *m, sfp_err *err)
{
    char what[160];
    snprintf(what, sizeof what, "migration %s", m->name);
    if (exec_cmd(conn, "BEGIN", what, err) < 0) return -1;
    if (exec_cmd(conn, "SET LOCAL lock_timeout = '60s'; SET LOCAL statement_timeout = 0", what, err) < 0 ||
        exec_cmd(conn, m->sql, what, err) < 0 || record_version(conn, m, err) < 0 ||
        exec_cmd(conn, "COMMIT", what, err) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return -1;
    }
    return 0;
}

static int apply_missing(PGconn *conn, int *applied, sfp_err *err)
{
    bool *done = calloc(sfp_migrations_count ? sfp_migrations_count : 1, sizeof *done);
    if (!done) return sfp_err_set(err, SFP_MIGRATE_ERR, "out of memory");
    int rc = ensure_version_table(conn, err);
    if (rc == 0) rc = load_applied(conn, done, err);
    for (size_t i = 0; rc == 0 && i < sfp_migrations_count; i++) {
        if (done[i]) continue;
        rc = apply_one(conn, &sfp_migrations[i], err);
        if (rc == 0) (*applied)++;
    }
    free(done);
    return rc;
}

int sfp_migrate(PGconn *conn, int *applied, sfp_err *err)
{
    int n = 0;
    if (applied) *applied = 0;
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return sfp_err_set(err, SFP_MIGRATE_ERR, "migrate: no database connection");
    if (check_embedded(err) < 0) return -1;
    if (lock_migrations(conn, false, err) < 0) return -1;
    int rc = apply_missing(conn, &n, err);
    sfp_err unlock_err;
    if (lock_migrations(conn, true, &unlock_err) < 0 && rc == 0) {
        /* The lock dies with the session anyway; report it only if nothing else failed. */
        if (err) *err = unlock_err;
        rc = -1;
    }
    if (applied) *applied = n;
    return rc;
}

int sfp_schema_version(PGconn *conn)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK) return -1;
    /* Two steps: a query naming a missing table would fail at parse time. */
    PGresult *res = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    bool exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!exists) return 0;
    res = PQexec(conn, "SELECT COALESCE(max(version), 0) FROM schema_migrations");
    int v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) v = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}
