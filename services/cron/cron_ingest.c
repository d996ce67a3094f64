/* cron_ingest.c — the generic nightly ingest engine (see cron_ingest.h): SODA pages into a
 * staging table, then one merge per dataset inside the caller's transaction. All SQL is built
 * from the static descriptors (identifiers only); values always travel as parameters. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cron_ingest.h"
#include "log.h"
#include "soda_client.h"

/* ---------------- SQL builders ---------------- */

static void stage_name(const sfp_ingest_dataset *ds, char *out, size_t n)
{
    snprintf(out, n, "nightly_stage_%s", ds->name);
}

static void put_cols(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    for (size_t i = 0; i < ds->n_cols; i++)
        sfp_buf_printf(b, "%s%s%s%s", i ? ", " : "", alias ? alias : "", alias ? "." : "", ds->cols[i].name);
}

/* md5 of the row's columns (NULL-safe, type-exact since staging has the target's types). */
static void put_hash(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    sfp_buf_puts(b, "md5(ROW(");
    put_cols(b, ds, alias);
    sfp_buf_puts(b, ")::text)");
}

/* a.k0 = b.k0 AND a.k1 IS NOT DISTINCT FROM b.k1 ... */
static void put_keymatch(sfp_buf *b, const sfp_ingest_dataset *ds, const char *a, const char *bb)
{
    for (int i = 0; ds->key[i]; i++)
        sfp_buf_printf(b, "%s%s.%s %s %s.%s", i ? " AND " : "", a, ds->key[i], i ? "IS NOT DISTINCT FROM" : "=", bb,
                       ds->key[i]);
}

static void put_keys(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    for (int i = 0; ds->key[i]; i++) sfp_buf_printf(b, "%s%s.%s", i ? ", " : "", alias, ds->key[i]);
}

/* ---------------- SODA row → COPY text ---------------- */

/* A field's value: NULL when absent, null or empty. Numbers (not sent by Socrata, which
 * quotes everything) are formatted into buf. */
static const char *field_of(const cJSON *row, const char *k, char *buf, size_t n)
{
    const cJSON *v = k ? cJSON_GetObjectItemCaseSensitive(row, k) : NULL;
    if (cJSON_IsString(v)) return v->valuestring[0] ? v->valuestring : NULL;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, n, "%.17g", v->valuedouble);
        return buf;
    }
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
    return NULL;
}

static void copy_text(sfp_buf *b, const char *v)
{
    if (!v) {
        sfp_buf_puts(b, "\\N");
        return;
    }
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '\\': sfp_buf_puts(b, "\\\\"); break;
        case '\n': sfp_buf_puts(b, "\\n"); break;
        case '\r': sfp_buf_puts(b, "\\r"); break;
        case '\t': sfp_buf_puts(b, "\\t"); break;
        default: sfp_buf_putc(b, *p);
        }
    }
}

/* ^ *-?[0-9]+(\.[0-9]*)? *$ (float) or ^ *-?[0-9]{1,9}(\.0*)? *$ (integer) → the trimmed number
 * (an integer without its zero fraction) in out; false for anything else. */
static bool number_of(const char *v, bool integer, char *out, size_t n)
{
    if (!v) return false;
    while (*v == ' ') v++;
    size_t o = 0, digits = 0;
    if (*v == '-') out[o++] = *v++;
    while (*v >= '0' && *v <= '9' && o + 1 < n) out[o++] = *v++, digits++;
    if (!digits || (integer && digits > 9)) return false;
    if (*v == '.') {
        if (!integer && o + 1 < n) out[o++] = '.';
        for (v++; *v >= '0' && *v <= '9'; v++) {
            if (integer && *v != '0') return false;
            if (!integer && o + 1 < n) out[o++] = *v;
        }
    }
    while (*v == ' ') v++;
    out[o] = '\0';
    return *v == '\0';
}

static const char *role_of(const char *v)
{
    if (!v) return NULL;
    char r[64];
    size_t o = 0;
    while (*v == ' ') v++;
    for (; *v && o + 1 < sizeof r; v++) r[o++] = (char)(*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
    while (o && r[o - 1] == ' ') o--;
    r[o] = '\0';
    if (!o) return NULL;
    if (strstr(r, "contractor")) return "contractor";
    if (strstr(r, "consultant") || strstr(r, "expediter")) return "consultant";
    if (strstr(r, "agent")) return "agent";
    if (strstr(r, "architect")) return "architect";
    if (strstr(r, "engineer")) return "engineer";
    if (strstr(r, "designer")) return "designer";
    if (!strcmp(r, "owner") || !strcmp(r, "lessee")) return "owner";
    return "other";
}

/* One SODA row as a COPY text line. */
static void copy_row(sfp_buf *b, const sfp_ingest_dataset *ds, const cJSON *row)
{
    for (size_t i = 0; i < ds->n_cols; i++) {
        const sfp_ingest_column *c = &ds->cols[i];
        const char *f = c->field ? c->field : c->name;
        char nb[64], tmp[320];
        const char *v = NULL;
        if (i) sfp_buf_putc(b, '\t');
        switch (c->type) {
        case 'c': v = f; break;
        case 'd':
            v = field_of(row, f, nb, sizeof nb);
            if (!v) v = c->alt;
            break;
        case 'r': v = role_of(field_of(row, f, nb, sizeof nb)); break;
        case 'n':
            v = field_of(row, f, nb, sizeof nb);
            if (!v) {
                char b1[64], b2[64];
                const char *first = field_of(row, "first_name", b1, sizeof b1);
                const char *last = field_of(row, "last_name", b2, sizeof b2);
                if (first || last) {
                    snprintf(tmp, sizeof tmp, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
                    v = tmp;
                }
            }
            break;
        case 'f':
        case 'i': {
            const char *raw = field_of(row, f, nb, sizeof nb);
            if (!raw && c->alt) raw = field_of(row, c->alt, nb, sizeof nb);
            v = number_of(raw, c->type == 'i', tmp, sizeof tmp) ? tmp : NULL;
            break;
        }
        default:
            v = field_of(row, f, nb, sizeof nb);
            if (!v && c->alt) v = field_of(row, c->alt, nb, sizeof nb);
        }
        copy_text(b, v);
    }
    sfp_buf_putc(b, '\n');
}

/* Merge, statement 1: the target rows of the dataset that no staged row reproduces exactly —
 * in a full run every such row of the scope, otherwise only those sharing a key with a staged
 * row — are deleted; their keys go to nightly_del_<name>. Returns nothing. (Two statements, not
 * two CTEs of one: a row re-inserted with the key of a row deleted by the same statement would
 * collide with it in a unique index.) */
static char *delete_sql(const sfp_ingest_dataset *ds, const char *target, bool full)
{
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    const char *scope = ds->scope ? ds->scope : "true";
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "WITH s AS MATERIALIZED (SELECT DISTINCT ");
    put_hash(&b, ds, "st");
    sfp_buf_printf(&b, " AS h FROM %s st), ", stage);
    if (full) {
        sfp_buf_printf(&b, "d AS (DELETE FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM s WHERE s.h = ", target,
                       scope);
        put_hash(&b, ds, "t");
        sfp_buf_puts(&b, ") RETURNING ");
    } else {
        sfp_buf_puts(&b, "sk AS MATERIALIZED (SELECT DISTINCT ");
        put_keys(&b, ds, "st");
        sfp_buf_printf(&b, " FROM %s st), cur AS MATERIALIZED (SELECT t.ctid AS tid, ", stage);
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t JOIN sk ON ", target);
        put_keymatch(&b, ds, "t", "sk");
        sfp_buf_printf(&b, " WHERE %s), ", scope);
        sfp_buf_printf(&b,
                       "d AS (DELETE FROM %s t USING cur WHERE t.ctid = cur.tid AND NOT EXISTS "
                       "(SELECT 1 FROM s WHERE s.h = cur.h) RETURNING ",
                       target);
    }
    put_keys(&b, ds, "t");
    sfp_buf_printf(&b, ") INSERT INTO nightly_del_%s SELECT * FROM d", ds->name);
    return sfp_buf_steal(&b, NULL);
}

/* Merge, statement 2: staged rows not already present (same key, same content) are inserted.
 * An incremental run compares only with the target rows sharing a staged key (an index lookup
 * per key), never hashes the whole table. Into a fresh, unindexed table (`fresh`, a full run's
 * rebuild) the comparison is one hash anti-join on the content hash (which covers the key).
 * Returns (inserted rows, deleted rows, inserted rows whose key was deleted = updates). */
static char *insert_sql(const sfp_ingest_dataset *ds, const char *target, bool full, bool fresh)
{
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    const char *scope = ds->scope ? ds->scope : "true";
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "WITH ");
    if (!full) {
        sfp_buf_printf(&b, "sk AS MATERIALIZED (SELECT DISTINCT %s FROM %s), ex AS MATERIALIZED (SELECT ", ds->key[0],
                       stage);
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t JOIN sk ON t.%s = sk.%s WHERE %s), ", target, ds->key[0], ds->key[0],
                       scope);
    }
    if (fresh) {
        sfp_buf_puts(&b, "ex AS MATERIALIZED (SELECT ");
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t WHERE %s), ", target, scope);
    }
    sfp_buf_printf(&b, "ins AS (INSERT INTO %s AS %s (", target, ds->table);
    put_cols(&b, ds, NULL);
    sfp_buf_puts(&b, ") SELECT ");
    put_cols(&b, ds, "s");
    if (fresh) {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM ex t WHERE t.h", stage);
    } else if (full) {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE %s AND t.%s = s.%s AND ", stage,
                       target, scope, ds->key[0], ds->key[0]);
        put_hash(&b, ds, "t");
    } else {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM ex t WHERE t.h", stage);
    }
    sfp_buf_puts(&b, " = ");
    put_hash(&b, ds, "s");
    sfp_buf_puts(&b, ") RETURNING ");
    put_keys(&b, ds, ds->table);
    sfp_buf_printf(&b,
                   ") SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM nightly_del_%s), "
                   "(SELECT count(*) FROM ins i WHERE EXISTS (SELECT 1 FROM nightly_del_%s d WHERE ",
                   ds->name, ds->name);
    put_keymatch(&b, ds, "i", "d");
    sfp_buf_puts(&b, "))");
    return sfp_buf_steal(&b, NULL);
}

/* ---------------- SODA paging ---------------- */

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static bool retryable(const sfp_soda_response *x)
{
    switch (x->status) {
    case SFP_SODA_E_BREAKER_OPEN:
    case SFP_SODA_E_TIMEOUT:
    case SFP_SODA_E_NETWORK:
    case SFP_SODA_E_BAD_BODY: return true;
    case SFP_SODA_E_HTTP: return x->http_status >= 500 || x->http_status == 408 || x->http_status == 429;
    default: return false;
    }
}

/* One SODA request with retries (back-off doubling from CRON_NIGHTLY_RETRY_BASE_MS, at least the
 * server's Retry-After, never past the time budget). An open breaker, a timeout, a 5xx and a
 * malformed body are retried and then fail the run — never taken for an empty page. */
static int soda_get(sfp_cron_run *r, sfp_ingest_state *st, const sfp_soda_query *q, const char *what,
                    sfp_soda_response *resp)
{
    const sfp_cron_config *cfg = &r->svc->cfg;
    const sfp_ingest_dataset *ds = st->ds;
    for (int attempt = 0;; attempt++) {
        memset(resp, 0, sizeof *resp);
        int64_t left = sfp_cron_left_ms(r);
        if (left <= 0)
            return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED, "nightly: time budget exhausted (limit %d s) before %s %s",
                                 r->limit_s, ds->name, what);
        if (sfp_soda_query_run(r->svc->soda, q, left, resp) == 0) return 0;
        char reason[32];
        snprintf(reason, sizeof reason, "%s", resp->reason[0] ? resp->reason : "error");
        sfp_soda_status status = resp->status;
        bool again = retryable(resp) && attempt < cfg->nightly_retries;
        int64_t delay = sfp_cron_backoff_ms(attempt + 1, cfg->nightly_retry_base_ms, resp->retry_after_s);
        sfp_soda_response_clear(resp);
        if (again && delay >= sfp_cron_left_ms(r)) again = false;
        sfp_log(again ? SFP_WARN : SFP_ERROR, "nightly SODA request failed", SFP_S("dataset", ds->id),
                SFP_S("what", what), SFP_I("offset", q->offset), SFP_S("reason", reason), SFP_I("attempt", attempt + 1),
                SFP_B("retrying", again), SFP_I("backoff_ms", again ? delay : 0));
        if (!again) {
            if (status == SFP_SODA_E_DEADLINE)
                return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED,
                                     "nightly: time budget exhausted (limit %d s) during %s %s", r->limit_s, ds->name,
                                     what);
            return sfp_cron_fail(r, SFP_UNAVAILABLE,
                                 "nightly: SODA %s (%s) %s at offset %ld failed after %d attempt(s): %s", ds->name,
                                 ds->id, what, q->offset, attempt + 1, reason);
        }
        st->retries++;
        sleep_ms(delay);
    }
}

/* One page request run on its own thread (copies of the run context and dataset state: a
 * failure is copied back by the caller). */
typedef struct page_job {
    sfp_cron_run run;
    sfp_ingest_state st;
    sfp_soda_query q;
    char what[32];
    sfp_soda_response resp;
    int rc;
} page_job;

static void *page_job_run(void *arg)
{
    page_job *j = arg;
    j->rc = soda_get(&j->run, &j->st, &j->q, j->what, &j->resp);
    return NULL;
}

static int exec_on_pool(sfp_cron_run *r, const char *what, const char *sql)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, what, &err);
    int rc = sfp_db_exec(c, sql, 0, NULL, &err);
    sfp_pool_release(r->svc->pool, c);
    return rc ? sfp_cron_fail_db(r, what, &err) : 0;
}

/* One page into staging with COPY (autocommit: staging is private to the run). */
static int stage_page(sfp_cron_run *r, sfp_ingest_state *st, const cJSON *rows)
{
    const sfp_ingest_dataset *ds = st->ds;
    sfp_buf data;
    sfp_buf_init(&data);
    for (const cJSON *row = rows ? rows->child : NULL; row; row = row->next) copy_row(&data, ds, row);
    sfp_buf cmd;
    sfp_buf_init(&cmd);
    sfp_buf_printf(&cmd, "COPY nightly_stage_%s (", ds->name);
    put_cols(&cmd, ds, NULL);
    sfp_buf_puts(&cmd, ") FROM STDIN");
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) {
        sfp_buf_free(&data);
        sfp_buf_free(&cmd);
        return sfp_cron_fail_db(r, "nightly: staging", &err);
    }
    PGconn *pg = sfp_conn_pg(c);
    PGresult *res = PQexec(pg, cmd.data);
    bool ok = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (ok) {
        ok = PQputCopyData(pg, data.len ? data.data : "", (int)data.len) == 1;
        ok = PQputCopyEnd(pg, ok ? NULL : "nightly: copy aborted") == 1 && ok;
    }
    char msg[160] = "";
    while ((res = PQgetResult(pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            ok = false;
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    if (!ok && !msg[0]) snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
    sfp_pool_release(r->svc->pool, c);
    sfp_buf_free(&data);
    sfp_buf_free(&cmd);
    if (!ok) {
        msg[strcspn(msg, "\n")] = '\0';
        sfp_log(SFP_ERROR, "nightly staging COPY failed", SFP_S("dataset", ds->id), SFP_S("error", msg));
        return sfp_cron_fail(r, SFP_INTERNAL, "nightly: staging %s failed", ds->name);
    }
    return 0;
}

int sfp_ingest_fetch(sfp_cron_run *r, sfp_ingest_state *st)
{
    const sfp_ingest_dataset *ds = st->ds;
    double t0 = sfp_ingest_now_s();
    char stage[96], drop[160];
    stage_name(ds, stage, sizeof stage);
    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", stage);
    if (exec_on_pool(r, "nightly: staging table", drop)) return -1;
    sfp_buf ddl;
    sfp_buf_init(&ddl);
    sfp_buf_printf(&ddl, "CREATE UNLOGGED TABLE %s AS SELECT ", stage);
    put_cols(&ddl, ds, NULL);
    sfp_buf_printf(&ddl, " FROM %s WITH NO DATA", ds->table);
    int rc = exec_on_pool(r, "nightly: staging table", ddl.data);
    sfp_buf_free(&ddl);
    if (rc) return -1;

    /* $where */
    char where[512] = "";
    if (!st->full) {
        char lit[96];
        if (sfp_soda_soql_quote(st->since, lit, sizeof lit))
            return sfp_cron_fail(r, SFP_INTERNAL, "nightly: %s watermark too long", ds->name);
        snprintf(where, sizeof where, "%s > %s%s%s", ds->update_field, lit, ds->soql_filter ? " AND " : "",
                 ds->soql_filter ? ds->soql_filter : "");
    } else if (ds->soql_filter) {
        snprintf(where, sizeof where, "%s", ds->soql_filter);
    }

    /* count first: fewer rows than this means a page was cut short */
    sfp_soda_query cq = {.dataset = ds->id, .select = "count(*) AS n", .where = where[0] ? where : NULL, .limit = 1};
    sfp_soda_response resp;
    if (soda_get(r, st, &cq, "count", &resp)) return -1;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0), "n");
    bool count_ok = cJSON_IsString(n) || cJSON_IsNumber(n);
    st->expected = cJSON_IsString(n)   ? strtoll(n->valuestring, NULL, 10)
                   : cJSON_IsNumber(n) ? (long long)n->valuedouble
                                       : 0;
    sfp_soda_response_clear(&resp);
    if (!count_ok) return sfp_cron_fail(r, SFP_UNAVAILABLE, "nightly: SODA %s count(*) unreadable", ds->name);

    /* Page k+1 is requested as soon as page k has arrived, while page k is converted and
     * COPYed: the SODA server's work and ours overlap (one request in flight at a time, so the
     * pages still come strictly one after the other in :id order). */
    long limit = r->svc->cfg.nightly_page_size;
    long offset = 0;
    rc = 0;
    sfp_soda_query q0 = {.dataset = ds->id, .where = where[0] ? where : NULL, .order = ":id", .limit = limit};
    page_job next = {.run = *r, .st = *st, .q = q0};
    snprintf(next.what, sizeof next.what, "page 1");
    next.rc = soda_get(&next.run, &next.st, &next.q, next.what, &next.resp);
    for (int page = 1; rc == 0; page++) {
        st->retries = next.st.retries;
        if (next.rc) {
            if (!r->code) {
                r->code = next.run.code;
                memcpy(r->error, next.run.error, sizeof r->error);
            }
            rc = -1;
            break;
        }
        resp = next.resp;
        memset(&next.resp, 0, sizeof next.resp);
        long got = sfp_soda_rows_count(resp.rows);
        st->pages++;
        st->fetched += got;
        offset += got;
        bool more = got >= limit, started = false;
        pthread_t th;
        if (more) {
            next.q.offset = offset;
            snprintf(next.what, sizeof next.what, "page %d", page + 1);
            started = pthread_create(&th, NULL, page_job_run, &next) == 0;
        }
        if (got > 0) rc = stage_page(r, st, sfp_soda_rows_json(resp.rows));
        sfp_soda_response_clear(&resp);
        if (more && !started) page_job_run(&next);
        if (started) pthread_join(th, NULL);
        if (!more) break;
    }
    sfp_soda_response_clear(&next.resp);
    if (rc) return -1;
    /* rows without their key, or outside what the dataset keeps, are dropped */
    sfp_buf del;
    sfp_buf_init(&del);
    sfp_buf_printf(&del, "WITH d AS (DELETE FROM %s x WHERE x.%s IS NULL", stage, ds->key[0]);
    if (ds->keep) sfp_buf_printf(&del, " OR (%s) IS NOT TRUE", ds->keep);
    sfp_buf_puts(&del, " RETURNING 1) SELECT count(*) FROM d");
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    PGresult *dres = c ? sfp_db_query(c, del.data, 0, NULL, &err) : NULL;
    if (c) sfp_pool_release(r->svc->pool, c);
    sfp_buf_free(&del);
    if (!dres) return sfp_cron_fail_db(r, "nightly: staging", &err);
    st->skipped = sfp_cron_ll(dres, 0, 0);
    st->staged = st->fetched - st->skipped;
    PQclear(dres);
    /* statistics, so the merge plans a few index lookups for a small staging table */
    char an[160];
    snprintf(an, sizeof an, "ANALYZE %s", stage);
    if (exec_on_pool(r, "nightly: staging", an)) return -1;

    if (st->fetched < st->expected)
        return sfp_cron_fail(r, SFP_UNAVAILABLE,
                             "nightly: SODA %s (%s) returned %lld rows but counted %lld (a page was cut short)",
                             ds->name, ds->id, st->fetched, st->expected);
    st->fetch_s = sfp_ingest_now_s() - t0;
    sfp_log(SFP_INFO, "nightly dataset fetched", SFP_S("dataset", ds->id), SFP_S("name", ds->name),
            SFP_B("full", st->full), SFP_S("since", st->since), SFP_I("fetched", st->fetched),
            SFP_I("staged", st->staged), SFP_I("pages", st->pages), SFP_I("retries", st->retries),
            SFP_D("seconds", st->fetch_s));
    return 0;
}

int sfp_ingest_apply(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *st, const char *source)
{
    const sfp_ingest_dataset *ds = st->ds;
    sfp_err err = {0};
    char what[96], target[128];
    snprintf(what, sizeof what, "nightly: apply %s", ds->name);
    if (st->swap) snprintf(target, sizeof target, SFP_INGEST_NEW_SCHEMA ".%s", ds->table);
    else snprintf(target, sizeof target, "%s", ds->table);
    double t0 = sfp_ingest_now_s();
    if (st->swap_first && sfp_ingest_swap_build(r, c, st)) return -1;
    /* change feed against the old rows (not on a first ingest: everything would be "new") */
    if (ds->feed_sql && st->had_watermark && st->staged > 0) {
        if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, what, &err);
        const char *p[2] = {source, sfp_cron_today_param(r)};
        PGresult *res = sfp_db_query(c, ds->feed_sql, 2, p, &err);
        if (!res) return sfp_cron_fail_db(r, what, &err);
        st->feed[0] = sfp_cron_ll(res, 0, 0);
        st->feed[1] = sfp_cron_ll(res, 0, 1);
        PQclear(res);
    }
    /* merge (an incremental run with nothing staged has nothing to merge) */
    bool empty = false;
    if (st->swap) { /* nothing in the copy yet (a first ingest): every staged row is new */
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT (NOT EXISTS (SELECT 1 FROM %s))::int", target);
        PGresult *res = sfp_db_query(c, sql, 0, NULL, &err);
        if (!res) return sfp_cron_fail_db(r, what, &err);
        empty = sfp_cron_ll(res, 0, 0) == 1;
        PQclear(res);
    }
    if (empty) {
        char stage[96];
        stage_name(ds, stage, sizeof stage);
        sfp_buf ins;
        sfp_buf_init(&ins);
        sfp_buf_printf(&ins, "INSERT INTO %s (", target);
        put_cols(&ins, ds, NULL);
        sfp_buf_puts(&ins, ") SELECT ");
        put_cols(&ins, ds, NULL);
        sfp_buf_printf(&ins, " FROM %s", stage);
        PGresult *res = NULL;
        bool ok = sfp_cron_tick(r, c, &err) == 0 && (res = sfp_db_query(c, ins.data, 0, NULL, &err)) != NULL;
        sfp_buf_free(&ins);
        if (!ok) return sfp_cron_fail_db(r, what, &err);
        st->inserted = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    } else if (st->full || st->staged > 0) {
        sfp_buf tmp;
        sfp_buf_init(&tmp);
        sfp_buf_printf(&tmp, "CREATE TEMP TABLE nightly_del_%s ON COMMIT DROP AS SELECT ", ds->name);
        put_keys(&tmp, ds, "t");
        sfp_buf_printf(&tmp, " FROM %s t WITH NO DATA", ds->table);
        char *del = delete_sql(ds, target, st->full), *ins = insert_sql(ds, target, st->full, st->swap);
        PGresult *res = NULL;
        bool ok = sfp_cron_tick(r, c, &err) == 0 && sfp_db_exec(c, tmp.data, 0, NULL, &err) == 0 &&
                  sfp_db_exec(c, del, 0, NULL, &err) == 0 && sfp_cron_tick(r, c, &err) == 0 &&
                  (res = sfp_db_query(c, ins, 0, NULL, &err)) != NULL;
        sfp_buf_free(&tmp);
        free(del);
        free(ins);
        if (!ok) return sfp_cron_fail_db(r, what, &err);
        long long inserted = sfp_cron_ll(res, 0, 0), deleted = sfp_cron_ll(res, 0, 1), upd = sfp_cron_ll(res, 0, 2);
        PQclear(res);
        st->updated = upd;
        st->inserted = inserted - upd;
        st->deleted = deleted - upd > 0 ? deleted - upd : 0;
    }
    st->apply_s = sfp_ingest_now_s() - t0;
    sfp_log(SFP_INFO, "nightly dataset merged", SFP_S("name", ds->name), SFP_S("into", target),
            SFP_I("inserted", st->inserted), SFP_I("updated", st->updated), SFP_I("deleted", st->deleted),
            SFP_D("seconds", st->apply_s));
    /* watermark: the highest update field staged (never lowered) */
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    char sql[1400];
    snprintf(sql, sizeof sql,
             "INSERT INTO nightly_watermarks AS w (dataset_id, name, target_table, update_field, watermark, "
             "last_full_at, last_success_at, last_log_id, last_fetched, last_inserted, last_updated, last_deleted) "
             "SELECT $1, $2, $3, $4, (SELECT max(%s) FROM %s), CASE WHEN $5::bool THEN now() END, now(), "
             "$6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::bigint "
             "ON CONFLICT (dataset_id) DO UPDATE SET name = EXCLUDED.name, target_table = EXCLUDED.target_table, "
             "update_field = EXCLUDED.update_field, watermark = greatest(w.watermark, EXCLUDED.watermark), "
             "last_full_at = coalesce(EXCLUDED.last_full_at, w.last_full_at), last_success_at = now(), "
             "last_log_id = EXCLUDED.last_log_id, last_fetched = EXCLUDED.last_fetched, "
             "last_inserted = EXCLUDED.last_inserted, last_updated = EXCLUDED.last_updated, "
             "last_deleted = EXCLUDED.last_deleted RETURNING coalesce(watermark, '')",
             ds->update_col, stage);
    char logid[24], f[24], i[24], u[24], d[24];
    snprintf(logid, sizeof logid, "%lld", (long long)r->log_id);
    snprintf(f, sizeof f, "%lld", st->fetched);
    snprintf(i, sizeof i, "%lld", st->inserted);
    snprintf(u, sizeof u, "%lld", st->updated);
    snprintf(d, sizeof d, "%lld", st->deleted);
    const char *p[10] = {ds->id, ds->name, ds->table, ds->update_field, st->full ? "t" : "f", logid, f, i, u, d};
    PGresult *res = sfp_db_query(c, sql, 10, p, &err);
    if (!res) return sfp_cron_fail_db(r, what, &err);
    snprintf(st->watermark, sizeof st->watermark, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}
