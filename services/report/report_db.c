#include "report_db.h"

#include <cjson/cJSON.h>
#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_error.h"
#include "db_prep.h"
#include "log.h"
#include "report_routing.h"
#include "report_status.h"
#include "report_text.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define PERMIT_COLS                                                                                          \
    "permit_number, permit_type, permit_type_definition, status, status_date, description, filed_date, "     \
    "issued_date, approved_date, completed_date, estimated_cost, revised_cost, existing_use, proposed_use, " \
    "existing_units, proposed_units, street_number, street_name, street_suffix, zipcode, neighborhood, "     \
    "supervisor_district, block, lot, adu, data_as_of"
#define N_PERMIT_COLS 26

static const char SQL_PARCEL_SUMMARY[] =
    "SELECT canonical_address, neighborhood, supervisor_district, tax_value, zoning_code, use_definition, "
    "number_of_units, health_tier, permit_count, complaint_count, violation_count "
    "FROM parcel_summary WHERE block = $1 AND lot = $2";

/* Historical lots: the lots of this block whose permits carry the address of the
 * parcel's newest addressed permit (street name compared case-insensitively, which also covers
 * an UPPER() retry), plus the requested lot. Then the newest 50 permits over those
 * lots with the total count (window evaluated before LIMIT). The requested lot's permits are
 * read once (mine) and serve both the address and the list; only the other lots are read
 * again. The LEFT JOIN from a one-row relation returns the lots even when there is no permit. */
static const char SQL_PERMITS[] =
    "WITH mine AS MATERIALIZED (SELECT " PERMIT_COLS " FROM permits WHERE block = $1 AND lot = $2),"
    " addr AS ("
    "  SELECT street_number, street_name FROM mine"
    "  WHERE btrim(coalesce(street_number, '')) <> '' AND btrim(coalesce(street_name, '')) <> ''"
    "  ORDER BY filed_date DESC NULLS LAST, permit_number DESC LIMIT 1),"
    " lots AS ("
    "  SELECT $2::text AS lot"
    "  UNION"
    "  SELECT p.lot FROM permits p JOIN addr a"
    "    ON p.street_number = a.street_number AND upper(p.street_name) = upper(a.street_name)"
    "  WHERE p.block = $1 AND p.lot IS NOT NULL),"
    " hits AS ("
    "  SELECT u.*, count(*) OVER () AS total FROM ("
    "    SELECT * FROM mine"
    "    UNION ALL"
    "    SELECT " PERMIT_COLS " FROM permits WHERE block = $1 AND lot IN (SELECT lot FROM lots WHERE lot <> $2)) u"
    "  ORDER BY filed_date DESC NULLS LAST, permit_number DESC LIMIT " STR(
        SFP_RPT_PERMIT_LIMIT) ")"
                              " SELECT (SELECT array_agg(lot ORDER BY lot) FROM lots)::text AS lots, h.*"
                              " FROM (SELECT 1) AS one LEFT JOIN hits h ON true"
                              " ORDER BY h.filed_date DESC NULLS LAST, h.permit_number DESC";

/* Contacts, inspections and routing are read by the PERMIT's parcel stored on each child row
 * (permit_block, permit_lot; see migration 0060): one index descent per lot ($2 = the lots of
 * the permit list) finds the rows of every permit of those lots, where reading them by permit
 * number costs one descent per permit. Rows of permits the list does not show (a parcel with
 * more than SFP_RPT_PERMIT_LIMIT permits) are skipped when they are attached. */

/* Role rank: applicant first — ingest normalises roles, so the applicant is also
 * recognised by is_applicant = 'Y' (a rank on role = 'applicant' alone would be dead) — then
 * contractor, architect, engineer, agent, consultant, designer, owner, others. The entity's
 * name, firm and permit count are kept on the contact row (entity_*). */
static const char SQL_CONTACTS[] =
    "SELECT c.permit_number, c.role, c.name, c.firm_name, c.entity_id, c.entity_name, c.entity_firm, "
    "c.entity_permit_count FROM contacts c "
    "WHERE c.permit_block = $1 AND c.permit_lot = ANY($2::text[]) "
    "ORDER BY c.permit_number, "
    "CASE WHEN lower(coalesce(c.role, '')) = 'applicant' OR upper(coalesce(c.is_applicant, '')) = 'Y' THEN 1 "
    "ELSE CASE lower(coalesce(c.role, '')) WHEN 'contractor' THEN 2 WHEN 'architect' THEN 3 WHEN 'engineer' THEN 4 "
    "WHEN 'agent' THEN 5 WHEN 'consultant' THEN 6 WHEN 'designer' THEN 7 WHEN 'owner' THEN 8 ELSE 9 END END, "
    "c.name NULLS LAST, c.id";

/* An inspection is listed with its permit whatever lot it was itself filed under. */
static const char SQL_INSPECTIONS[] =
    "SELECT reference_number, scheduled_date, inspector, result, inspection_description FROM inspections "
    "WHERE permit_block = $1 AND permit_lot = ANY($2::text[]) "
    "AND coalesce(reference_number_type, 'permit') = 'permit' "
    "ORDER BY reference_number, scheduled_date DESC NULLS LAST, id DESC";

/* Every routing row of the permits whose routing the report shows ($3: SFP_PERMITS_ROUTED, a
 * subset of the parcel's), newest revision first: the stations of each permit's latest revision
 * (max addenda_number; rows without a number are not a revision) are the first rows of its
 * group, in step order, and are picked while reading (a window over the rows cost Postgres more
 * than the scan). The index is on (permit_block, permit_lot) alone: $3 filters the parcel's
 * rows after one descent per lot, where an index column would make one descent per element. */
static const char SQL_ROUTING[] =
    "SELECT application_number, addenda_number, station, review_results, finish_date, arrive, hold_description "
    "FROM addenda "
    "WHERE permit_block = $1 AND permit_lot = ANY($2::text[]) AND application_number = ANY($3::text[]) "
    "AND addenda_number IS NOT NULL "
    "ORDER BY application_number, addenda_number DESC, step NULLS LAST, id";

static const char SQL_REG_WATCH[] =
    "SELECT title, description, status, impact_level, semantic_concepts, url FROM regulatory_watch "
    "WHERE status IN ('monitoring', 'passed') ORDER BY watch_id";

/* filed_date IS NOT NULL lets the (neighborhood, filed_date DESC) index serve the order. */
static const char SQL_NEARBY[] =
    "SELECT permit_number, permit_type_definition, status, filed_date, estimated_cost, description, "
    "street_number, street_name, street_suffix FROM permits "
    "WHERE neighborhood = $1 AND filed_date IS NOT NULL "
    "AND NOT (coalesce(block, '') = $2 AND coalesce(lot, '') = ANY($3::text[])) "
    "ORDER BY filed_date DESC, permit_number DESC LIMIT $4::int";

/* Transaction control and settings are prepared statements too: the pipeline then never
 * parses SQL. set_config(..., true) lasts until the end of the transaction. */
static const char SQL_BEGIN[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
static const char SQL_SETTINGS[] = "SELECT set_config('statement_timeout', $1, true), "
                                   "set_config('plan_cache_mode', 'force_generic_plan', true)";
static const char SQL_COMMIT[] = "COMMIT";

enum {
    ST_BEGIN,
    ST_SETTINGS,
    ST_PARCEL,
    ST_PERMITS,
    ST_CONTACTS,
    ST_INSPECTIONS,
    ST_ROUTING,
    ST_REG_WATCH,
    ST_NEARBY,
    ST_COMMIT,
    ST_N
};
/* Named statements of the shared registry (common/db_prep.h); parameter types are inferred by
 * the server (the SQL casts what a bare $n would leave open). */
static const sfp_db_stmt STMTS[ST_N] = {
    [ST_BEGIN] = {"sfp_report_begin", SQL_BEGIN, 0},
    [ST_SETTINGS] = {"sfp_report_settings", SQL_SETTINGS, 1},
    [ST_PARCEL] = {"sfp_report_parcel", SQL_PARCEL_SUMMARY, 2},
    [ST_PERMITS] = {"sfp_report_permits", SQL_PERMITS, 2},
    [ST_CONTACTS] = {"sfp_report_contacts", SQL_CONTACTS, 2},
    [ST_INSPECTIONS] = {"sfp_report_inspections", SQL_INSPECTIONS, 2},
    [ST_ROUTING] = {"sfp_report_routing", SQL_ROUTING, 3},
    [ST_REG_WATCH] = {"sfp_report_reg_watch", SQL_REG_WATCH, 0},
    [ST_NEARBY] = {"sfp_report_nearby", SQL_NEARBY, 4},
    [ST_COMMIT] = {"sfp_report_commit", SQL_COMMIT, 0},
};

/* ---------------- helpers ---------------- */

/* A value in place: every result lives as long as the report's arena (pipe_read), and libpq
 * gives NULL as "" (a NULL number then parses as absent). */
static const char *col(const PGresult *r, int row, int c)
{
    return PQgetvalue(r, row, c);
}

static bool col_double(const PGresult *r, int row, int c, double *out)
{
    return sfp_rpt_parse_double(PQgetvalue(r, row, c), out);
}

static bool col_int(const PGresult *r, int row, int c, int32_t *out)
{
    double d;
    if (!col_double(r, row, c, &d)) return false;
    *out = (int32_t)d;
    return true;
}

/* Classifies a failed result like common/db_pool (safe message out, server text logged). */
static void fail(sfp_rpt_db *db, PGresult *res, const char *what)
{
    PGconn *pg = sfp_conn_pg(db->conn);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[240];
    snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
    msg[strcspn(msg, "\n")] = '\0';
    bool conn_ok = PQstatus(pg) == CONNECTION_OK;
    sfp_db_class k = sfp_db_classify(state, conn_ok);
    if (!conn_ok) sfp_log(SFP_WARN, "db connection lost during report", SFP_S("error", msg), SFP_S("step", what));
    else if (k.timeout) sfp_log(SFP_WARN, "report statement timed out", SFP_S("step", what), SFP_S("sqlstate", state));
    else
        sfp_log(SFP_ERROR, "report query failed", SFP_S("sqlstate", state ? state : ""), SFP_S("error", msg),
                SFP_S("step", what));
    sfp_err_set(&db->err, k.code, "%s", k.msg);
}

/* ---------------- pipeline ---------------- */

#define MAX_PIPE (2 * ST_N + 8)
#define SQLSTATE_NO_SUCH_STATEMENT "26000" /* invalid_sql_statement_name */

/* Commands queued on the connection (up to two Syncs), and their results as they are read. */
struct sfp_rpt_pipe {
    const char *what[MAX_PIPE];         /* statement name, for logs */
    bool counted[MAX_PIPE];             /* a report statement (not ROLLBACK or a Parse) */
    bool sync[MAX_PIPE];                /* a Sync: its result is PGRES_PIPELINE_SYNC */
    const sfp_db_stmt *parse[MAX_PIPE]; /* a Parse of this statement: its result goes to the registry */
    PGresult *res[MAX_PIPE];
    int n;
    int read;        /* entries whose result has been read */
    int rc;          /* -1 once anything failed (the first failure set db->err) */
    bool lost;       /* out of step with the server: the connection is not reused */
    int at[ST_N];    /* where each statement's result is (its latest queueing), -1 = not queued */
    const char *lot; /* the lot contacts and inspections were sent for with round trip 1 */
};
typedef struct sfp_rpt_pipe pipe;

/* Empty: no command queued. Results read before stay until the arena is freed (their values are
 * used in place). */
static void pipe_init(pipe *p)
{
    memset(p, 0, sizeof *p);
    for (int st = 0; st < ST_N; st++) p->at[st] = -1;
}

static void clear_result(void *r)
{
    PQclear(r);
}

static int pipe_queued(sfp_rpt_db *db, pipe *p, int ok, const char *what, bool counted, const sfp_db_stmt *parse)
{
    if (!ok) {
        fail(db, NULL, what);
        p->rc = -1;
        return -1;
    }
    if (p->n == MAX_PIPE) { /* cannot happen with the plans here; never overrun */
        sfp_log(SFP_ERROR, "report pipeline too long", SFP_S("step", what));
        sfp_err_set(&db->err, SFP_INTERNAL, "database error");
        p->rc = -1;
        return -1;
    }
    p->counted[p->n] = counted;
    p->parse[p->n] = parse;
    p->sync[p->n] = false;
    p->what[p->n++] = what;
    return 0;
}

/* Executes report statement st: by name, or as unnamed SQL on a connection the registry cannot
 * track. */
static int pipe_exec(sfp_rpt_db *db, pipe *p, int st, const char *const *params)
{
    PGconn *pg = sfp_conn_pg(db->conn);
    const sfp_db_stmt *s = &STMTS[st];
    int ok = db->unnamed ? PQsendQueryParams(pg, s->sql, s->nparams, NULL, params, NULL, NULL, 0)
                         : PQsendQueryPrepared(pg, s->name, s->nparams, params, NULL, NULL, 0);
    p->at[st] = p->n;
    return pipe_queued(db, p, ok, s->name, true, NULL);
}

static int pipe_unnamed(sfp_rpt_db *db, pipe *p, const char *sql, int n, const char *const *params, const char *what,
                        bool counted)
{
    PGconn *pg = sfp_conn_pg(db->conn);
    return pipe_queued(db, p, PQsendQueryParams(pg, sql, n, NULL, params, NULL, NULL, 0), what, counted, NULL);
}

/* Queues a Parse of every report statement marked in missing (common/db_prep registry). */
static int pipe_prepare(sfp_rpt_db *db, pipe *p, const bool *missing)
{
    for (int st = 0; st < ST_N; st++)
        if (missing[st] &&
            pipe_queued(db, p, sfp_db_prep_send(db->conn, &STMTS[st]), STMTS[st].name, false, &STMTS[st]))
            return -1;
    return 0;
}

/* Sends Sync: the end of one round trip (what was queued since the last one is executed, and its
 * results flushed, before the server reads on). */
static int pipe_sync(sfp_rpt_db *db, pipe *p)
{
    db->queries++;
    if (pipe_queued(db, p, PQpipelineSync(sfp_conn_pg(db->conn)), "sync", false, NULL)) return -1;
    p->sync[p->n - 1] = true;
    return 0;
}

/* Reads results in order until `upto` entries of p are read (a Sync must have been sent after
 * them); Parse results are recorded in the registry. 0 when all succeeded so far; else -1 with
 * db->err set from the first error — or, when that error is a missing prepared statement (the
 * session lost what the registry recorded; the registry is then cleared) and missing != NULL,
 * *missing = true and db->err untouched. Reading up to p->n leaves the connection ready for the
 * next pipeline (or, when it was lost, PQstatus says so, or the pool sees it busy). */
static int pipe_read(sfp_rpt_db *db, pipe *p, int upto, bool *missing)
{
    PGconn *pg = sfp_conn_pg(db->conn);
    for (; p->read < upto && !p->lost; p->read++) {
        int i = p->read;
        PGresult *r = PQgetResult(pg);
        if (!r) {
            p->lost = true;
            break;
        }
        p->res[i] = r;
        sfp_arena_on_free(db->a, clear_result, r);
        ExecStatusType s = PQresultStatus(r);
        if (p->sync[i]) {                                 /* nothing follows a Sync's result */
            if (s != PGRES_PIPELINE_SYNC) p->lost = true; /* out of step: never reuse this connection */
            continue;
        }
        if (p->parse[i]) sfp_db_prep_result(db->conn, p->parse[i], r);
        if ((s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) && p->counted[i]) db->statements++;
        if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK && p->rc == 0) {
            p->rc = -1;
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            bool gone = state && !strcmp(state, SQLSTATE_NO_SUCH_STATEMENT);
            if (gone) sfp_db_prep_forget(db->conn);
            if (gone && missing) *missing = true;
            else fail(db, r, p->what[i]);
        }
        /* each command's results end with NULL */
        for (int k = 0; k < 4 && (r = PQgetResult(pg)); k++) PQclear(r);
    }
    if (p->lost && p->rc == 0) {
        /* Results still pending keep the connection busy: sfp_rpt_db_end cannot leave pipeline
         * mode and the pool discards it (its transaction status is "active"). */
        fail(db, NULL, "pipeline");
        p->rc = -1;
    }
    return p->rc;
}

char *sfp_rpt_pg_array(sfp_arena *a, const char *const *vals, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++) len += strlen(sfp_rpt_str(vals[i])) * 2 + 3;
    char *out = sfp_arena_alloc(a, len);
    size_t j = 0;
    out[j++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) out[j++] = ',';
        out[j++] = '"';
        for (const char *p = sfp_rpt_str(vals[i]); *p; p++) {
            if (*p == '"' || *p == '\\') out[j++] = '\\';
            out[j++] = *p;
        }
        out[j++] = '"';
    }
    out[j++] = '}';
    out[j] = '\0';
    return out;
}

size_t sfp_rpt_pg_array_parse(sfp_arena *a, const char *lit, const char ***out)
{
    *out = NULL;
    if (!lit || *lit != '{') return 0;
    size_t cap = 1;
    for (const char *p = lit; *p; p++) cap += *p == ',';
    const char **vals = sfp_arena_alloc(a, sizeof(char *) * cap);
    char *buf = sfp_arena_alloc(a, strlen(lit) + 1);
    size_t n = 0;
    const char *p = lit + 1;
    while (*p && *p != '}') {
        size_t k = 0;
        bool quoted = *p == '"';
        if (quoted) {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) p++;
                buf[k++] = *p;
            }
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',' && *p != '}') buf[k++] = *p++;
        }
        buf[k] = '\0';
        if (quoted || strcmp(buf, "NULL")) vals[n++] = sfp_arena_strdup(a, buf);
        if (*p == ',') p++;
    }
    *out = vals;
    return n;
}

size_t sfp_rpt_parse_concepts(sfp_arena *a, const char *text, const char ***out)
{
    *out = NULL;
    if (sfp_rpt_blank(text)) return 0;
    cJSON *j = cJSON_Parse(text);
    size_t n = 0;
    if (cJSON_IsArray(j)) {
        const char **v = sfp_arena_alloc(a, sizeof(char *) * (size_t)(cJSON_GetArraySize(j) + 1));
        const cJSON *e;
        cJSON_ArrayForEach(e, j) if (cJSON_IsString(e) && !sfp_rpt_blank(e->valuestring)) v[n++] =
            sfp_rpt_trim_dup(a, e->valuestring);
        *out = v;
    } else {
        size_t cap = 2;
        for (const char *p = text; *p; p++) cap += *p == ',';
        const char **v = sfp_arena_alloc(a, sizeof(char *) * cap);
        const char *p = text;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char *item = sfp_arena_strndup(a, p, len);
            const char *t = sfp_rpt_trim_dup(a, item);
            /* tolerate ["a", 'b'] style lists that are not valid JSON */
            while (*t == '[' || *t == '"' || *t == '\'') t++;
            char *u = sfp_arena_strdup(a, t);
            size_t ul = strlen(u);
            while (ul && (u[ul - 1] == ']' || u[ul - 1] == '"' || u[ul - 1] == '\'' || u[ul - 1] == ' '))
                u[--ul] = '\0';
            if (*u) v[n++] = u;
            p = e ? e + 1 : p + len;
        }
        *out = v;
    }
    cJSON_Delete(j);
    return n;
}

/* The permits by number: the child rows arrive grouped by permit number (in the database's
 * collation, not strcmp's), so a lookup happens once per group; the hint catches the rest of
 * the group. */
typedef struct permit_index {
    sfp_rpt_permit *permits;
    sfp_rpt_permit **by_number; /* sorted by strcmp of permit_number */
    size_t n;
    sfp_rpt_permit *hint; /* the last hit */
} permit_index;

static int cmp_permit_number(const void *a, const void *b)
{
    return strcmp((*(sfp_rpt_permit *const *)a)->permit_number, (*(sfp_rpt_permit *const *)b)->permit_number);
}

static void permit_index_init(permit_index *ix, sfp_arena *a, sfp_rpt_permit *permits, size_t n)
{
    ix->permits = permits;
    ix->n = n;
    ix->hint = NULL;
    ix->by_number = sfp_arena_alloc(a, sizeof *ix->by_number * (n ? n : 1));
    for (size_t i = 0; i < n; i++) ix->by_number[i] = &permits[i];
    qsort(ix->by_number, n, sizeof *ix->by_number, cmp_permit_number);
}

/* The permit numbered pn, or NULL. With equal numbers (never, from the permits statement) the
 * first in list order wins, as a linear search would find. */
static sfp_rpt_permit *find_permit(permit_index *ix, const char *pn)
{
    if (ix->hint && !strcmp(ix->hint->permit_number, pn)) return ix->hint;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->by_number[mid]->permit_number, pn) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo == ix->n || strcmp(ix->by_number[lo]->permit_number, pn)) return NULL;
    sfp_rpt_permit *best = ix->by_number[lo];
    for (size_t k = lo + 1; k < ix->n && !strcmp(ix->by_number[k]->permit_number, pn); k++)
        if (ix->by_number[k] < best) best = ix->by_number[k];
    return ix->hint = best;
}

/* {permit numbers} of the permits whose status is in `set` (0: every permit). */
static char *permit_array(sfp_rpt_db *db, const sfp_rpt_permit *permits, size_t n, unsigned set, size_t *count)
{
    const char **v = sfp_arena_alloc(db->a, sizeof(char *) * (n ? n : 1));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!*permits[i].permit_number) continue;
        if (set && !sfp_rpt_permit_in(permits[i].status, set)) continue;
        v[k++] = permits[i].permit_number;
    }
    *count = k;
    return sfp_rpt_pg_array(db->a, v, k);
}

/* ---------------- steps ---------------- */

static void read_parcel_summary(const PGresult *r, sfp_rpt_parcel_summary *out);
static void read_permits(sfp_rpt_db *db, const PGresult *r, const char *lot, sfp_rpt_permit_set *out);

/* Queues round trip 1: BEGIN, settings, the Parse of every statement in missing (after BEGIN
 * and settings: preparing takes table locks, so it runs under the report's timeout and inside
 * its snapshot; BEGIN and settings then go unnamed; with deallocate, DEALLOCATE ALL first),
 * parcel_summary, permits, a Flush (the server sends what it has: the permits reach us while
 * the rest runs), contacts and inspections of the requested lot, Sync. Contacts and inspections
 * are sent before the permits say which lots the parcel's history covers: for a parcel without
 * historical lots (nearly all) that is the answer, and Postgres runs them while we read the
 * permits and queue round trip 2; otherwise round trip 2 reads them again for all the lots. */
static int queue_start(sfp_rpt_db *db, pipe *p, const bool *missing, int n_missing, bool deallocate,
                       const char *timeout, const char *block, const char *lot)
{
    const char *settings[] = {timeout};
    const char *bl[] = {block, lot};
    if (n_missing) {
        if (pipe_unnamed(db, p, SQL_BEGIN, 0, NULL, STMTS[ST_BEGIN].name, true) ||
            pipe_unnamed(db, p, SQL_SETTINGS, 1, settings, STMTS[ST_SETTINGS].name, true) ||
            (deallocate && pipe_unnamed(db, p, "DEALLOCATE ALL", 0, NULL, "deallocate", false)) ||
            pipe_prepare(db, p, missing))
            return -1;
    } else if (pipe_exec(db, p, ST_BEGIN, NULL) || pipe_exec(db, p, ST_SETTINGS, settings)) {
        return -1;
    }
    if (pipe_exec(db, p, ST_PARCEL, bl) || pipe_exec(db, p, ST_PERMITS, bl)) return -1;
    if (!PQsendFlushRequest(sfp_conn_pg(db->conn))) {
        fail(db, NULL, "flush");
        p->rc = -1;
        return -1;
    }
    p->lot = sfp_arena_strdup(db->a, lot);
    const char *one_lot[] = {block, sfp_rpt_pg_array(db->a, &lot, 1)};
    if (pipe_exec(db, p, ST_CONTACTS, one_lot) || pipe_exec(db, p, ST_INSPECTIONS, one_lot)) return -1;
    return pipe_sync(db, p);
}

/* After a failure: reads what was sent up to its last Sync, so the connection can be reused (a
 * pipeline that failed while being queued has no Sync: nothing is read, and the pool discards the
 * connection, whose transaction is then still active). */
static void pipe_drain(sfp_rpt_db *db, pipe *p)
{
    int last = p->n;
    while (last > 0 && !p->sync[last - 1]) last--;
    pipe_read(db, p, last, NULL);
}

int sfp_rpt_db_start(sfp_rpt_db *db, int statement_timeout_ms, const char *block, const char *lot,
                     sfp_rpt_parcel_summary *ps, sfp_rpt_permit_set *set)
{
    memset(ps, 0, sizeof *ps);
    memset(set, 0, sizeof *set);
    if (statement_timeout_ms < 1) statement_timeout_ms = 1; /* 0 would mean "no timeout" */
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", statement_timeout_ms);
    PGconn *pg = sfp_conn_pg(db->conn);
    if (PQpipelineStatus(pg) == PQ_PIPELINE_OFF && !PQenterPipelineMode(pg)) {
        fail(db, NULL, "pipeline");
        return -1;
    }
    bool missing[ST_N];
    int n_missing = sfp_db_prep_missing(db->conn, STMTS, ST_N, missing);
    db->unnamed = n_missing < 0;
    if (db->unnamed) n_missing = 0;
    pipe *p = sfp_arena_alloc(db->a, sizeof *p);
    pipe_init(p);
    db->pipe = p;
    bool gone = false;
    int rc = queue_start(db, p, missing, n_missing, false, timeout, block, lot)
                 ? -1
                 : pipe_read(db, p, p->at[ST_PERMITS] + 1, &gone);
    if (rc && gone) {
        /* The session lost statements the registry had recorded (DEALLOCATE, DISCARD): roll
         * back, drop whatever is left (the registry forgot it all) and prepare everything. */
        pipe_drain(db, p);
        bool lost = p->lost;
        pipe_init(p);
        if (!lost) {
            for (int st = 0; st < ST_N; st++) missing[st] = true;
            rc = pipe_unnamed(db, p, "ROLLBACK", 0, NULL, "rollback", false) ||
                         queue_start(db, p, missing, ST_N, true, timeout, block, lot)
                     ? -1
                     : pipe_read(db, p, p->at[ST_PERMITS] + 1, NULL);
        }
    }
    if (rc) return -1; /* sfp_rpt_db_end reads what is left and frees the results */
    read_parcel_summary(p->res[p->at[ST_PARCEL]], ps);
    read_permits(db, p->res[p->at[ST_PERMITS]], lot, set);
    return 0;
}

void sfp_rpt_db_end(sfp_rpt_db *db)
{
    if (!db->conn) return;
    if (db->pipe) {
        pipe_drain(db, db->pipe);
        db->pipe = NULL;
    }
    PGconn *pg = sfp_conn_pg(db->conn);
    if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF) PQexitPipelineMode(pg);
}

static void read_parcel_summary(const PGresult *r, sfp_rpt_parcel_summary *out)
{
    out->canonical_address = out->neighborhood = out->supervisor_district = "";
    out->zoning_code = out->use_definition = out->health_tier = "";
    if (PQntuples(r) < 1) return;
    out->present = true;
    out->canonical_address = col(r, 0, 0);
    out->neighborhood = col(r, 0, 1);
    out->supervisor_district = col(r, 0, 2);
    out->has_tax_value = col_double(r, 0, 3, &out->tax_value);
    out->zoning_code = col(r, 0, 4);
    out->use_definition = col(r, 0, 5);
    out->has_number_of_units = col_int(r, 0, 6, &out->number_of_units);
    out->health_tier = col(r, 0, 7);
    col_int(r, 0, 8, &out->permit_count);
    col_int(r, 0, 9, &out->complaint_count);
    col_int(r, 0, 10, &out->violation_count);
}

static void read_permit(const PGresult *r, int row, int c0, sfp_rpt_permit *p)
{
    memset(p, 0, sizeof *p);
    const char **s1[] = {&p->permit_number, &p->permit_type, &p->permit_type_definition,
                         &p->status,        &p->status_date, &p->description,
                         &p->filed_date,    &p->issued_date, &p->approved_date,
                         &p->completed_date};
    for (int i = 0; i < 10; i++) *s1[i] = col(r, row, c0 + i);
    p->has_estimated_cost = col_double(r, row, c0 + 10, &p->estimated_cost);
    p->has_revised_cost = col_double(r, row, c0 + 11, &p->revised_cost);
    p->existing_use = col(r, row, c0 + 12);
    p->proposed_use = col(r, row, c0 + 13);
    p->has_existing_units = col_int(r, row, c0 + 14, &p->existing_units);
    p->has_proposed_units = col_int(r, row, c0 + 15, &p->proposed_units);
    const char **s2[] = {&p->street_number,       &p->street_name, &p->street_suffix, &p->zipcode, &p->neighborhood,
                         &p->supervisor_district, &p->block,       &p->lot,           &p->adu,     &p->data_as_of};
    for (int i = 0; i < 10; i++) *s2[i] = col(r, row, c0 + 16 + i);
}

static void read_permits(sfp_rpt_db *db, const PGresult *r, const char *lot, sfp_rpt_permit_set *out)
{
    int rows = PQntuples(r);
    if (rows > 0 && !PQgetisnull(r, 0, 0)) out->n_lots = sfp_rpt_pg_array_parse(db->a, PQgetvalue(r, 0, 0), &out->lots);
    if (!out->n_lots) {
        out->lots = sfp_arena_alloc(db->a, sizeof(char *));
        out->lots[0] = sfp_arena_strdup(db->a, lot);
        out->n_lots = 1;
    }
    out->permits = sfp_arena_alloc(db->a, sizeof *out->permits * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(r, i, 1)) continue; /* the LEFT JOIN's empty row: no permits */
        read_permit(r, i, 1, &out->permits[out->n_permits++]);
        int32_t total = 0;
        if (col_int(r, i, 1 + N_PERMIT_COLS, &total)) out->total = total;
    }
}

/* The permit of each row (NULL: not listed), looked up once per row (arena). */
static sfp_rpt_permit **row_permits(sfp_rpt_db *db, const PGresult *r, permit_index *ix)
{
    int rows = PQntuples(r);
    sfp_rpt_permit **pm = sfp_arena_alloc(db->a, sizeof *pm * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) pm[i] = find_permit(ix, PQgetvalue(r, i, 0));
    return pm;
}

static void read_contacts(sfp_rpt_db *db, const PGresult *r, permit_index *ix)
{
    int rows = PQntuples(r);
    sfp_rpt_permit *permits = ix->permits;
    size_t n = ix->n;
    /* Rows arrive grouped by permit: count per permit, then fill. */
    sfp_rpt_permit **row_pm = row_permits(db, r, ix);
    for (int i = 0; i < rows; i++)
        if (row_pm[i]) row_pm[i]->n_contacts++;
    for (size_t i = 0; i < n; i++) {
        if (permits[i].n_contacts)
            permits[i].contacts = sfp_arena_alloc(db->a, sizeof(sfp_rpt_contact) * permits[i].n_contacts);
        permits[i].n_contacts = 0;
    }
    for (int i = 0; i < rows; i++) {
        sfp_rpt_permit *pm = row_pm[i];
        if (!pm) continue;
        sfp_rpt_contact *c = &pm->contacts[pm->n_contacts++];
        c->role = col(r, i, 1);
        c->name = col(r, i, 2);
        c->firm_name = col(r, i, 3);
        double id;
        if ((c->has_entity_id = col_double(r, i, 4, &id))) c->entity_id = (int64_t)id;
        c->canonical_name = col(r, i, 5);
        c->canonical_firm = col(r, i, 6);
        c->has_permit_count = col_int(r, i, 7, &c->permit_count);
    }
}

static void read_inspections(sfp_rpt_db *db, const PGresult *r, permit_index *ix)
{
    int rows = PQntuples(r);
    sfp_rpt_permit *permits = ix->permits;
    size_t n = ix->n;
    sfp_rpt_permit **row_pm = row_permits(db, r, ix);
    for (int i = 0; i < rows; i++)
        if (row_pm[i]) row_pm[i]->n_inspections++;
    for (size_t i = 0; i < n; i++) {
        if (permits[i].n_inspections)
            permits[i].inspections = sfp_arena_alloc(db->a, sizeof(sfp_rpt_inspection) * permits[i].n_inspections);
        permits[i].n_inspections = 0;
    }
    for (int i = 0; i < rows; i++) {
        sfp_rpt_permit *pm = row_pm[i];
        if (!pm) continue;
        sfp_rpt_inspection *x = &pm->inspections[pm->n_inspections++];
        x->scheduled_date = col(r, i, 1);
        x->inspector = col(r, i, 2);
        x->result = col(r, i, 3);
        x->description = col(r, i, 4);
    }
}

static void read_routing(sfp_rpt_db *db, const PGresult *r, permit_index *ix, int32_t today)
{
    int rows = PQntuples(r);
    sfp_rpt_addenda_row *all = sfp_arena_alloc(db->a, sizeof *all * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        sfp_rpt_addenda_row *x = &all[i];
        x->has_addenda_number = col_int(r, i, 1, &x->addenda_number);
        x->station = col(r, i, 2);
        x->review_results = col(r, i, 3);
        x->finish_date = col(r, i, 4);
        x->arrive = col(r, i, 5);
        x->hold_description = col(r, i, 6);
    }
    /* Rows are grouped by application_number, the latest revision first: one routing per group,
     * from the rows of its first revision. */
    for (int i = 0; i < rows;) {
        int j = i + 1, rev = i + 1;
        while (j < rows && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0))) j++;
        while (rev < j && all[rev].addenda_number == all[i].addenda_number) rev++;
        sfp_rpt_permit *pm = find_permit(ix, PQgetvalue(r, i, 0));
        if (pm) pm->routing = sfp_rpt_routing_compute(&all[i], (size_t)(rev - i), today, db->a);
        i = j;
    }
}

static void read_reg_watch(sfp_rpt_db *db, const PGresult *r, sfp_rpt_reg_watch **out, size_t *n)
{
    int rows = PQntuples(r);
    sfp_rpt_reg_watch *w = sfp_arena_alloc(db->a, sizeof *w * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        w[i].title = col(r, i, 0);
        w[i].description = col(r, i, 1);
        w[i].status = col(r, i, 2);
        w[i].impact_level = col(r, i, 3);
        w[i].n_concepts =
            sfp_rpt_parse_concepts(db->a, PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4), &w[i].concepts);
        w[i].url = col(r, i, 5);
    }
    *out = w;
    *n = (size_t)rows;
}

static void read_nearby(sfp_rpt_db *db, const PGresult *r, sfp_rpt_nearby **out, size_t *n)
{
    int rows = PQntuples(r);
    sfp_rpt_nearby *v = sfp_arena_alloc(db->a, sizeof *v * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        v[i].permit_number = col(r, i, 0);
        v[i].permit_type_definition = col(r, i, 1);
        v[i].status = col(r, i, 2);
        v[i].filed_date = col(r, i, 3);
        v[i].has_estimated_cost = col_double(r, i, 4, &v[i].estimated_cost);
        v[i].description = col(r, i, 5);
        v[i].street_number = col(r, i, 6);
        v[i].street_name = col(r, i, 7);
        v[i].street_suffix = col(r, i, 8);
    }
    *out = v;
    *n = (size_t)rows;
}

/* True when statement st was queued and everything up to its result has been read without a
 * failure. */
static bool ready(sfp_rpt_db *db, pipe *p, int st)
{
    return p->at[st] >= 0 && pipe_read(db, p, p->at[st] + 1, NULL) == 0;
}

int sfp_rpt_db_finish(sfp_rpt_db *db, sfp_rpt_permit_set *set, sfp_rpt_db_rest *rest)
{
    rest->watch = NULL;
    rest->nearby = NULL;
    rest->n_watch = rest->n_nearby = 0;
    pipe *p = db->pipe;
    if (!p || p->rc) { /* only after a successful sfp_rpt_db_start */
        if (!db->err.code) sfp_err_set(&db->err, SFP_INTERNAL, "database error");
        return -1;
    }
    sfp_rpt_permit *permits = set->permits;
    size_t n = set->n_permits;
    int rc = 0;
    const char *lots = sfp_rpt_pg_array(db->a, set->lots, set->n_lots);
    if (n) {
        /* Routing runs whenever the parcel has permits, even if none is routed (then it is an
         * empty index probe). Contacts and inspections went out with round trip 1 for the
         * requested lot; they are read again here only when the parcel has historical lots. */
        size_t k;
        const char *parcel[] = {rest->block, lots, permit_array(db, permits, n, SFP_PERMITS_ROUTED, &k)};
        if (set->n_lots != 1 || strcmp(set->lots[0], p->lot))
            rc = pipe_exec(db, p, ST_CONTACTS, parcel) || pipe_exec(db, p, ST_INSPECTIONS, parcel) ? -1 : 0;
        rc = rc ? rc : pipe_exec(db, p, ST_ROUTING, parcel);
        if (rest->reg_watch) rc = rc ? rc : pipe_exec(db, p, ST_REG_WATCH, NULL);
    }
    if (!sfp_rpt_blank(rest->neighborhood) && rest->nearby_limit > 0) {
        char lim[16];
        snprintf(lim, sizeof lim, "%d", rest->nearby_limit);
        const char *params[] = {rest->neighborhood, rest->block, lots, lim};
        rc = rc ? rc : pipe_exec(db, p, ST_NEARBY, params);
    }
    rc = rc ? rc : pipe_exec(db, p, ST_COMMIT, NULL);
    rc = rc ? rc : pipe_sync(db, p);
    if (rc) return -1; /* sfp_rpt_db_end reads what is left and frees the results */
    /* Each result is used as soon as it is read (in the order sent), while Postgres runs the
     * statements after it. */
    permit_index ix;
    permit_index_init(&ix, db->a, permits, n);
    if (n) {
        if (ready(db, p, ST_CONTACTS)) read_contacts(db, p->res[p->at[ST_CONTACTS]], &ix);
        if (ready(db, p, ST_INSPECTIONS)) read_inspections(db, p->res[p->at[ST_INSPECTIONS]], &ix);
        if (ready(db, p, ST_ROUTING)) read_routing(db, p->res[p->at[ST_ROUTING]], &ix, rest->today);
    }
    if (ready(db, p, ST_REG_WATCH)) read_reg_watch(db, p->res[p->at[ST_REG_WATCH]], &rest->watch, &rest->n_watch);
    if (ready(db, p, ST_NEARBY)) read_nearby(db, p->res[p->at[ST_NEARBY]], &rest->nearby, &rest->n_nearby);
    if (pipe_read(db, p, p->n, NULL)) return -1; /* COMMIT and the Syncs */
    db->pipe = NULL;                             /* all read: nothing left for sfp_rpt_db_end */
    return 0;
}
