/* cron_ingest_swap.c — a full ingest rebuilds each target table beside the live one and swaps
 * it in (see cron_ingest.h, "full runs").
 *
 * Why: merging millions of rows one by one into a table with its secondary indexes costs an
 * index insertion per row and index; loading an unindexed table and building each index once
 * (a sort) afterwards is several times cheaper.
 *
 * Inside the nightly's one apply transaction, for every target table whose datasets are ALL
 * fetched in full:
 *   build    only when the comparison of the staged rows with the live ones
 *            (sfp_ingest_apply_rebuilt) found a change in the table: nightly_new.<table> LIKE
 *            the live table (columns, defaults, identity, NOT NULL and CHECK constraints,
 *            storage, column comments, extended statistics), plus the live table's comment,
 *            storage parameters, grants and triggers (so the inserts fire the change
 *            notification exactly as on the live table) and identity sequences continuing from
 *            the live ones; empty. It is then filled with the live rows that stay (every column
 *            and id kept, so unchanged rows keep their ids and entity ids), the new staged rows
 *            and the live rows no dataset owns: the rows and counts of a merge into the live
 *            table. An unchanged table is not rebuilt at all.
 *            From planning on, search_path puts nightly_new first: the change feeds, the
 *            derived steps (contact resolution, entities, parcel_summary, timeline_stats) and
 *            anything else in the transaction read and update the tables being rebuilt by
 *            their usual names — exactly what they would see after row-wise merges — while
 *            the live tables stay untouched.
 *   analyze  after the merges, statistics of the new tables for the derived steps' plans.
 *   finish   search_path restored; every index of the live table rebuilt on the new one under
 *            the same name (primary key / unique constraints attached to theirs); then, each
 *            table in turn: live table → nightly_old, new table → the live schema, each view
 *            reading the table re-pointed at the new one (CREATE OR REPLACE VIEW with its own
 *            definition and options: its OID, grants and dependent views stay), the old table
 *            dropped (RESTRICT: anything still depending on it fails the run instead of being
 *            dropped along).
 * Nothing is visible to other sessions before COMMIT; a failure anywhere rolls everything back
 * (the new tables vanish, the live ones were never changed). Readers are blocked only by the
 * renames at the very end (ACCESS EXCLUSIVE for the rest of the transaction: the index builds
 * are done by then). Prepared statements of other sessions are re-planned by Postgres against
 * the new table.
 *
 * The derived tables parcel_summary and timeline_stats are rebuilt the same way when every
 * dataset is full (sfp_ingest_swap_derived): their copy starts empty, the derived step writes
 * every row into it once, and finish builds their indexes and swaps them after the ingest tables.
 *
 * A table with something this cannot carry over (foreign keys to or from it, row-level
 * security, rules, materialized views or functions depending on it, column privileges, grant
 * options, serial (non-identity) sequences, generated columns, partitioning or inheritance,
 * another owner, ...) is merged row by row into the live table as before, with a log line
 * saying why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cron_ingest.h"
#include "log.h"

#define NEW SFP_INGEST_NEW_SCHEMA
#define OLD SFP_INGEST_OLD_SCHEMA

double sfp_ingest_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Why the table $1 cannot be rebuilt and swapped, or no row. */
static const char k_unsupported[] =
    "WITH t AS (SELECT c.* FROM pg_class c WHERE c.oid = $1::regclass) "
    "SELECT CASE "
    "WHEN t.relkind <> 'r' OR t.relispartition OR t.relhassubclass OR t.relpersistence <> 'p' "
    "  OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = t.oid) THEN 'not a plain, logged, uninherited table' "
    "WHEN t.reltablespace <> 0 THEN 'in a tablespace of its own' "
    "WHEN NOT pg_has_role(t.relowner, 'USAGE') THEN 'owned by another role' "
    "WHEN (SELECT relkind FROM pg_class WHERE oid = to_regclass('" NEW ".' || quote_ident(t.relname))) IS NOT NULL "
    "  THEN 'a table of its name already in schema " NEW "' "
    "WHEN t.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t.oid) THEN 'row-level security' "
    "WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE (conrelid = t.oid AND (contype NOT IN ('p', 'u', 'c', 'n') "
    "  OR (contype IN ('p', 'u') AND condeferrable))) OR confrelid = t.oid) "
    "  THEN 'foreign keys, exclusion or deferrable constraints' "
    "WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t.oid AND attnum > 0 AND NOT attisdropped "
    "  AND (attacl IS NOT NULL OR attgenerated <> '')) THEN 'column privileges or generated columns' "
    "WHEN EXISTS (SELECT 1 FROM aclexplode(t.relacl) WHERE is_grantable) THEN 'grant options' "
    "WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = t.oid AND (tgisinternal OR tgconstraint <> 0 "
    "  OR tgenabled <> 'O')) THEN 'constraint or disabled triggers' "
    "WHEN EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = t.oid) THEN 'in a publication' "
    "WHEN EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = t.oid) THEN 'rules' "
    "WHEN EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid "
    "  AND d.classid NOT IN ('pg_constraint'::regclass, 'pg_attrdef'::regclass, 'pg_trigger'::regclass, "
    "  'pg_type'::regclass, 'pg_statistic_ext'::regclass) "
    "  AND NOT (d.classid = 'pg_class'::regclass AND ((SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 't') "
    "    OR d.deptype = 'i')) "
    "  AND NOT (d.classid = 'pg_rewrite'::regclass AND (SELECT v.relkind FROM pg_rewrite w JOIN pg_class v "
    "    ON v.oid = w.ev_class WHERE w.oid = d.objid) = 'v')) "
    "  THEN 'objects depending on it other than views (materialized views, functions, serial sequences, ...)' "
    "WHEN EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_type'::regclass AND d.refobjid = t.reltype "
    "  AND NOT (d.classid = 'pg_class'::regclass AND d.objid = t.oid) AND d.classid <> 'pg_type'::regclass) "
    "  THEN 'its row type is used elsewhere' "
    "END FROM t";

/* The statements that build nightly_new.<$1>, in order (see the header comment); $2 = with a
 * copy of the live rows. */
static const char k_build[] =
    "WITH t AS (SELECT c.*, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS q, "
    "  '" NEW ".' || quote_ident(c.relname) AS nq FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE c.oid = $1::regclass) "
    "SELECT sql FROM ("
    "SELECT 1 AS ord, format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS "
    "  INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS INCLUDING STATISTICS)%s', t.nq, t.q, "
    "  CASE WHEN t.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(t.reloptions, ', ') || ')' ELSE '' END) "
    "  AS sql FROM t "
    "UNION ALL SELECT 2, format('COMMENT ON TABLE %s IS %L', t.nq, d.description) FROM t JOIN pg_description d "
    "  ON d.objoid = t.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0 "
    "UNION ALL SELECT 3, format('GRANT %s ON %s TO %s', a.privilege_type, t.nq, CASE WHEN a.grantee = 0 "
    "  THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END) FROM t, aclexplode(t.relacl) a "
    "UNION ALL SELECT 4, replace(pg_get_triggerdef(g.oid), ' ON ' || t.q || ' ', ' ON ' || t.nq || ' ') "
    "  FROM t JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal "
    "UNION ALL SELECT 5, format('SELECT setval(pg_get_serial_sequence(%L, %L), %s, %s)', t.nq, a.attname, "
    "  coalesce(s.last_value, s.start_value), (s.last_value IS NOT NULL)::text) FROM t JOIN pg_attribute a "
    "  ON a.attrelid = t.oid AND a.attidentity <> '' AND NOT a.attisdropped JOIN pg_sequences s "
    "  ON quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) = pg_get_serial_sequence(t.q, a.attname) "
    "UNION ALL SELECT 6, format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM %s', t.nq, t.q) FROM t "
    ") x WHERE ord <> 6 OR $2::bool ORDER BY ord";

/* The index (and primary key / unique constraint) statements for nightly_new.<$1>. */
static const char k_indexes[] =
    "WITH t AS (SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS q, "
    "  '" NEW ".' || quote_ident(c.relname) AS nq FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE c.oid = $1::regclass) "
    "SELECT sql FROM ("
    "SELECT 1 AS ord, i.indexrelid::int8 AS k, replace(pg_get_indexdef(i.indexrelid), ' ON ' || t.q || ' ', "
    "  ' ON ' || t.nq || ' ') AS sql FROM t JOIN pg_index i ON i.indrelid = t.oid "
    "UNION ALL SELECT 2, k.conindid::int8, format('ALTER TABLE %s ADD CONSTRAINT %I %s USING INDEX %I', t.nq, k.conname, "
    "  CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, ic.relname) FROM t JOIN pg_constraint k "
    "  ON k.conrelid = t.oid AND k.contype IN ('p', 'u') JOIN pg_class ic ON ic.oid = k.conindid "
    ") x ORDER BY ord, k";

/* Views reading <$1>: name, definition, options. */
static const char k_views[] =
    "SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(v.relname), pg_get_viewdef(v.oid), "
    "  coalesce(' WITH (' || array_to_string(v.reloptions, ', ') || ')', '') "
    "FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class "
    "JOIN pg_namespace n ON n.oid = v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass "
    "AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND v.relkind = 'v' AND v.oid <> d.refobjid";

static int fail_at(sfp_cron_run *r, const char *table, const char *step, sfp_err *err)
{
    char what[128];
    snprintf(what, sizeof what, "nightly: swap %s (%s)", table, step);
    return sfp_cron_fail_db(r, what, err);
}

/* Runs every statement the query `gen` ($1 = table, $2 = arg2 when not NULL) generates. */
static int run_generated(sfp_cron_run *r, sfp_conn *c, const char *table, const char *step, const char *gen,
                         const char *arg2)
{
    sfp_err err = {0};
    const char *p[2] = {table, arg2};
    if (sfp_cron_tick(r, c, &err)) return fail_at(r, table, step, &err);
    PGresult *res = sfp_db_query(c, gen, arg2 ? 2 : 1, p, &err);
    if (!res) return fail_at(r, table, step, &err);
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        if (sfp_cron_tick(r, c, &err) || sfp_db_exec(c, PQgetvalue(res, i, 0), 0, NULL, &err))
            rc = fail_at(r, table, step, &err);
    }
    PQclear(res);
    return rc;
}

/* Are all datasets of sts[i]'s table full (and is this the first of them)? */
static bool all_full(const sfp_ingest_state *sts, size_t n, size_t i, bool *first)
{
    *first = true;
    for (size_t k = 0; k < n; k++) {
        if (strcmp(sts[k].ds->table, sts[i].ds->table)) continue;
        if (!sts[k].full) return false;
        if (k < i) *first = false;
    }
    return true;
}

int sfp_ingest_swap_plan(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *sts, size_t n, char *saved, size_t savedsz)
{
    saved[0] = '\0';
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        bool first = false;
        if (!all_full(sts, n, i, &first)) continue;
        if (!first) {
            for (size_t k = 0; k < i; k++)
                if (!strcmp(sts[k].ds->table, sts[i].ds->table)) sts[i].swap = sts[k].swap;
            continue;
        }
        sfp_err err = {0};
        const char *p[1] = {sts[i].ds->table};
        if (sfp_cron_tick(r, c, &err)) return fail_at(r, sts[i].ds->table, "plan", &err);
        PGresult *res = sfp_db_query(c, k_unsupported, 1, p, &err);
        if (!res) return fail_at(r, sts[i].ds->table, "plan", &err);
        bool ok = PQntuples(res) == 1 && PQgetisnull(res, 0, 0);
        if (!ok)
            sfp_log(SFP_WARN, "nightly: full ingest merges row by row (the table cannot be rebuilt and swapped)",
                    SFP_S("table", sts[i].ds->table), SFP_S("reason", PQntuples(res) ? PQgetvalue(res, 0, 0) : "?"));
        PQclear(res);
        sts[i].swap = ok;
        sts[i].swap_first = ok;
        any = any || ok;
    }
    if (!any) return 0;
    /* from here on the derived steps and the change feeds read the tables being rebuilt */
    sfp_err err = {0};
    PGresult *res = sfp_db_query(c, "SELECT current_setting('search_path')", 0, NULL, &err);
    if (!res) return fail_at(r, "*", "search_path", &err);
    snprintf(saved, savedsz, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *p[1] = {saved};
    if (sfp_db_exec(c, "SELECT set_config('search_path', '" NEW ", ' || $1, true)", 1, p, &err))
        return fail_at(r, "*", "search_path", &err);
    return 0;
}

int sfp_ingest_swap_build(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *st)
{
    double t0 = sfp_ingest_now_s();
    if (run_generated(r, c, st->ds->table, "build", k_build, "f")) return -1;
    sfp_log(SFP_INFO, "nightly: rebuild table created", SFP_S("table", st->ds->table),
            SFP_D("seconds", sfp_ingest_now_s() - t0));
    return 0;
}

int sfp_ingest_swap_analyze(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n)
{
    sfp_err err = {0};
    for (size_t i = 0; i < n; i++) {
        if (!sts[i].swap_first) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "ANALYZE " NEW ".%s", sts[i].ds->table);
        if (sfp_cron_tick(r, c, &err) || sfp_db_exec(c, sql, 0, NULL, &err))
            return fail_at(r, sts[i].ds->table, "analyze", &err);
    }
    return 0;
}

/* Moves the live table out, the new one in, re-points the views, drops the old one. */
static int swap_one(sfp_cron_run *r, sfp_conn *c, const char *table)
{
    sfp_err err = {0};
    const char *p[1] = {table};
    if (sfp_cron_tick(r, c, &err)) return fail_at(r, table, "views", &err);
    PGresult *views = sfp_db_query(c, k_views, 1, p, &err);
    if (!views) return fail_at(r, table, "views", &err);
    PGresult *sch = sfp_db_query(c,
                                 "SELECT quote_ident(n.nspname), quote_ident(c.relname) FROM pg_class c JOIN "
                                 "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
                                 1, p, &err);
    if (!sch) {
        PQclear(views);
        return fail_at(r, table, "schema", &err);
    }
    const char *nsp = PQgetvalue(sch, 0, 0), *rel = PQgetvalue(sch, 0, 1);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_printf(&b, "ALTER TABLE %s.%s SET SCHEMA " OLD, nsp, rel);
    int rc = sfp_db_exec(c, b.data, 0, NULL, &err) ? fail_at(r, table, "rename", &err) : 0;
    sfp_buf_reset(&b);
    sfp_buf_printf(&b, "ALTER TABLE " NEW ".%s SET SCHEMA %s", rel, nsp);
    if (rc == 0 && sfp_db_exec(c, b.data, 0, NULL, &err)) rc = fail_at(r, table, "rename", &err);
    for (int i = 0; i < PQntuples(views) && rc == 0; i++) {
        sfp_buf_reset(&b);
        sfp_buf_printf(&b, "CREATE OR REPLACE VIEW %s%s AS %s", PQgetvalue(views, i, 0), PQgetvalue(views, i, 2),
                       PQgetvalue(views, i, 1));
        if (sfp_db_exec(c, b.data, 0, NULL, &err)) rc = fail_at(r, table, "view", &err);
    }
    if (rc == 0) {
        sfp_buf_reset(&b);
        sfp_buf_printf(&b, "DROP TABLE " OLD ".%s RESTRICT", rel);
        if (sfp_db_exec(c, b.data, 0, NULL, &err)) rc = fail_at(r, table, "drop old", &err);
    }
    sfp_buf_free(&b);
    PQclear(sch);
    PQclear(views);
    return rc;
}

/* The derived tables a run with every dataset full may rebuild (sfp_ingest_swap_derived). */
static const char *const k_derived_tables[] = {"parcel_summary", "timeline_stats", NULL};

int sfp_ingest_swap_derived(sfp_cron_run *r, sfp_conn *c, const char *table, char *live, size_t livesz)
{
    sfp_err err = {0};
    bool known = false;
    for (const char *const *t = k_derived_tables; *t; t++) known = known || !strcmp(*t, table);
    if (!known) return 0;
    const char *p[1] = {table};
    /* the live table by its own name (nightly_new may come first in search_path, but holds no
     * table of this name yet: the check below refuses otherwise) */
    if (sfp_cron_tick(r, c, &err)) return fail_at(r, table, "plan", &err);
    PGresult *res = sfp_db_query(c, k_unsupported, 1, p, &err);
    if (!res) return fail_at(r, table, "plan", &err);
    bool ok = PQntuples(res) == 1 && PQgetisnull(res, 0, 0);
    if (!ok)
        sfp_log(SFP_WARN, "nightly: derived table written in place (it cannot be rebuilt and swapped)",
                SFP_S("table", table), SFP_S("reason", PQntuples(res) ? PQgetvalue(res, 0, 0) : "?"));
    PQclear(res);
    if (!ok) return 0;
    res = sfp_db_query(c,
                       "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
                       1, p, &err);
    if (!res) return fail_at(r, table, "plan", &err);
    snprintf(live, livesz, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    /* other writers of the live table wait for the swap (readers do not): what they would write
     * after the copy has read the live rows would be lost with the old table */
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_printf(&b, "LOCK TABLE %s IN EXCLUSIVE MODE", live);
    int rc = sfp_db_exec(c, b.data, 0, NULL, &err);
    sfp_buf_free(&b);
    if (rc) return fail_at(r, table, "lock", &err);
    double t0 = sfp_ingest_now_s();
    if (run_generated(r, c, table, "build", k_build, "f")) return -1;
    sfp_log(SFP_INFO, "nightly: rebuild table created", SFP_S("table", table),
            SFP_D("seconds", sfp_ingest_now_s() - t0));
    return 1;
}

/* Is nightly_new.<table> there (a derived table being rebuilt)? 1, 0 or -1 + fail. */
static int derived_built(sfp_cron_run *r, sfp_conn *c, const char *table)
{
    sfp_err err = {0};
    const char *p[1] = {table};
    PGresult *res = sfp_db_query(c, "SELECT (to_regclass('" NEW ".' || quote_ident($1)) IS NOT NULL)::int", 1, p, &err);
    if (!res) return fail_at(r, table, "indexes", &err);
    int built = (int)sfp_cron_ll(res, 0, 0);
    PQclear(res);
    return built;
}

int sfp_ingest_swap_finish(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n, const char *saved)
{
    sfp_err err = {0};
    bool derived[sizeof k_derived_tables / sizeof *k_derived_tables] = {false};
    bool any = saved[0] != '\0';
    for (size_t k = 0; k_derived_tables[k]; k++) {
        int b = derived_built(r, c, k_derived_tables[k]);
        if (b < 0) return -1;
        derived[k] = b == 1;
        any = any || derived[k];
    }
    if (!any) return 0;
    const char *p[1] = {saved};
    if (saved[0] && sfp_db_exec(c, "SELECT set_config('search_path', $1, true)", 1, p, &err))
        return fail_at(r, "*", "search_path", &err);
    if (sfp_db_exec(c, "SELECT set_config('maintenance_work_mem', '256MB', true)", 0, NULL, &err))
        return fail_at(r, "*", "maintenance_work_mem", &err);
    for (size_t i = 0; i < n; i++) {
        if (!sts[i].swap_first) continue;
        double t0 = sfp_ingest_now_s();
        if (run_generated(r, c, sts[i].ds->table, "indexes", k_indexes, NULL)) return -1;
        sfp_log(SFP_INFO, "nightly: rebuild indexes built", SFP_S("table", sts[i].ds->table),
                SFP_D("seconds", sfp_ingest_now_s() - t0));
    }
    for (size_t k = 0; k_derived_tables[k]; k++) {
        if (!derived[k]) continue;
        double t0 = sfp_ingest_now_s();
        if (run_generated(r, c, k_derived_tables[k], "indexes", k_indexes, NULL)) return -1;
        sfp_log(SFP_INFO, "nightly: rebuild indexes built", SFP_S("table", k_derived_tables[k]),
                SFP_D("seconds", sfp_ingest_now_s() - t0));
    }
    /* the renames last: from here to COMMIT readers of these tables wait */
    double t0 = sfp_ingest_now_s();
    for (size_t i = 0; i < n; i++)
        if (sts[i].swap_first && swap_one(r, c, sts[i].ds->table)) return -1;
    for (size_t k = 0; k_derived_tables[k]; k++)
        if (derived[k] && swap_one(r, c, k_derived_tables[k])) return -1;
    sfp_log(SFP_INFO, "nightly: rebuilt tables swapped in", SFP_D("seconds", sfp_ingest_now_s() - t0));
    return 0;
}
