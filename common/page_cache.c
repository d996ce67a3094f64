/* page_cache.c — see page_cache.h.
 *
 * Locking: pc->mu guards the counters and the in-process flights (singleflight.h, which waits
 * on it). A flight's result is the leader's page (a copy), handed to every waiter. */
#include "page_cache.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_error.h"
#include "db_prep.h"
#include "log.h"
#include "singleflight.h"
#include "ttl_cache.h"

#define LOCK_MARGIN_MS 5 /* leave a little of the deadline for the reply */
#define MAX_TIMEOUT_MS 600000

/* What a leader hands to its flight's waiters. */
typedef struct page_done {
    uint8_t *payload;
    size_t len;
    char computed_at[40];
    int ttl_seconds_remaining;
    int64_t ttl_deadline_ms; /* mono ms when ttl_seconds_remaining was measured + ttl */
} page_done;

/* A page of the in-process tier: the value of a ttl_cache entry, immutable once stored. */
typedef struct mem_page {
    uint8_t *payload;
    size_t len;
    char computed_at[40];
    double expires_s; /* on the tier's clock: the row's own expiry as read */
} mem_page;

struct sfp_page_cache {
    sfp_pool *pool;
    pthread_mutex_t mu;
    sfp_sf flights; /* on mu */
    sfp_page_cache_stats st;
    /* In-process tier (NULL = off). mem_live and mem_epoch are on mu; a store checks the epoch
     * and inserts under mu, so it cannot slip in after an event it did not see. */
    sfp_ttl_cache *mem;
    sfp_clock_fn mem_clock;
    void *mem_clock_arg;
    bool mem_live;
    uint64_t mem_epoch;
};

void sfp_page_result_clear(sfp_page_result *r)
{
    if (!r) return;
    if (r->release_) r->release_(r->owner_);
    else free(r->payload);
    memset(r, 0, sizeof *r);
}

sfp_page_release_fn sfp_page_result_take(sfp_page_result *r, void **arg)
{
    sfp_page_release_fn fn = r->release_ ? r->release_ : r->payload ? free : NULL;
    *arg = r->release_ ? r->owner_ : r->payload;
    r->release_ = NULL;
    r->owner_ = NULL;
    r->payload = NULL;
    return fn;
}

static void mem_page_free(void *p)
{
    mem_page *m = p;
    free(m->payload);
    free(m);
}

static void mem_val_release(void *v)
{
    sfp_cache_val_unref(v);
}

static void page_done_free(void *p)
{
    page_done *d = p;
    free(d->payload);
    free(d);
}

sfp_page_cache *sfp_page_cache_new(sfp_pool *pool)
{
    sfp_page_cache *pc = calloc(1, sizeof *pc);
    if (!pc) abort();
    pc->pool = pool;
    pthread_mutex_init(&pc->mu, NULL);
    sfp_sf_init(&pc->flights, &pc->mu, page_done_free);
    return pc;
}

void sfp_page_cache_set_memory(sfp_page_cache *pc, int max_entries, sfp_clock_fn clock, void *clock_arg)
{
    if (max_entries <= 0 || pc->mem) return;
    sfp_ttl_cache_config c;
    sfp_ttl_cache_config_defaults(&c);
    c.ttl_s = 86400; /* the longest page TTL (1440 minutes); each page's own expiry is checked */
    c.stale_max_s = 0;
    c.max_entries = max_entries;
    c.clock = clock ? clock : sfp_mono_clock;
    c.clock_arg = clock_arg;
    pc->mem_clock = c.clock;
    pc->mem_clock_arg = clock_arg;
    pc->mem = sfp_ttl_cache_new(&c);
}

void sfp_page_cache_listen_event(sfp_page_cache *pc, sfp_listen_event ev, const char *payload)
{
    if (!pc->mem) return;
    pthread_mutex_lock(&pc->mu);
    pc->mem_epoch++;
    if (ev == SFP_LISTEN_UP || ev == SFP_LISTEN_DOWN) {
        /* Across a DOWN notifications may have been missed: nothing kept from before is trusted. */
        pc->mem_live = ev == SFP_LISTEN_UP;
        sfp_ttl_cache_clear(pc->mem);
    } else if (!payload || !*payload) {
        sfp_ttl_cache_clear(pc->mem);
    } else {
        sfp_ttl_cache_remove(pc->mem, payload);
    }
    pthread_mutex_unlock(&pc->mu);
}

void sfp_page_cache_forget(sfp_page_cache *pc, const char *key)
{
    sfp_page_cache_listen_event(pc, SFP_LISTEN_NOTIFY, key);
}

void sfp_page_cache_free(sfp_page_cache *pc)
{
    if (!pc) return;
    sfp_ttl_cache_free(pc->mem);
    sfp_sf_destroy(&pc->flights);
    pthread_mutex_destroy(&pc->mu);
    free(pc);
}

/* ---------- SQL ---------- */

/* A live row: not invalidated and within its own ttl_minutes, by Postgres's clock. */
#define LIVE "(invalidated_at IS NULL AND computed_at + make_interval(mins => ttl_minutes) > now())"
static const char SQL_READ[] =
    "SELECT payload, to_char(computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "GREATEST(0, floor(EXTRACT(EPOCH FROM computed_at + make_interval(mins => ttl_minutes) - now())))::bigint::text "
    "FROM page_cache WHERE cache_key = $1 AND " LIVE;
static const char SQL_UPSERT[] =
    "INSERT INTO page_cache (cache_key, payload, computed_at, ttl_minutes, invalidated_at, compute_ms) "
    "VALUES ($1, $2, clock_timestamp(), $3::int, NULL, $4::int) "
    "ON CONFLICT (cache_key) DO UPDATE SET payload = EXCLUDED.payload, computed_at = EXCLUDED.computed_at, "
    "ttl_minutes = EXCLUDED.ttl_minutes, invalidated_at = NULL, compute_ms = EXCLUDED.compute_ms "
    "RETURNING to_char(computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
static const char SQL_TIMEOUTS[] =
    "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true)";
static const char SQL_LOCK[] = "SELECT pg_advisory_xact_lock($1::int, hashtext($2))";
static const sfp_db_stmt ST_READ = {"sfp_page_cache_read", SQL_READ, 1};
static const sfp_db_stmt ST_UPSERT = {"sfp_page_cache_upsert", SQL_UPSERT, 4};
static const sfp_db_stmt ST_TIMEOUTS = {"sfp_page_cache_timeouts", SQL_TIMEOUTS, 1};
static const sfp_db_stmt ST_LOCK = {"sfp_page_cache_lock", SQL_LOCK, 2};

typedef enum { R_HIT, R_MISS, R_ERROR } read_rc;

static const char *sqlstate(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

static void log_pg(const char *msg, const char *key, PGconn *pg, const PGresult *r)
{
    char e[200];
    snprintf(e, sizeof e, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
    e[strcspn(e, "\n")] = '\0';
    sfp_log(SFP_WARN, msg, SFP_S("key", key), SFP_S("sqlstate", sqlstate(r)), SFP_S("error", e));
}

/* Plain statement on pg; returns true on success. */
static bool exec_ok(PGconn *pg, const char *sql, int *queries)
{
    (*queries)++;
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* A row of SQL_READ (binary payload) into out: R_HIT, or R_MISS when r has no row. */
static read_rc row_of(const PGresult *r, sfp_page_result *out)
{
    if (PQntuples(r) == 0) return R_MISS;
    int len = PQgetlength(r, 0, 0);
    out->len = (size_t)len;
    out->payload = NULL;
    if (len > 0) {
        out->payload = malloc((size_t)len);
        if (!out->payload) abort();
        memcpy(out->payload, PQgetvalue(r, 0, 0), (size_t)len);
    }
    snprintf(out->computed_at, sizeof out->computed_at, "%.*s", PQgetlength(r, 0, 1), PQgetvalue(r, 0, 1));
    snprintf(out->cached_at, sizeof out->cached_at, "%s", out->computed_at);
    char rem[24];
    snprintf(rem, sizeof rem, "%.*s", PQgetlength(r, 0, 2), PQgetvalue(r, 0, 2));
    long long v = strtoll(rem, NULL, 10);
    out->ttl_seconds_remaining = v > INT32_MAX ? INT32_MAX : (int)v;
    out->cached = true;
    return R_HIT;
}

static read_rc read_row(sfp_conn *c, const char *key, sfp_page_result *out, int *queries)
{
    const char *params[1] = {key};
    (*queries)++;
    sfp_err e = {0};
    PGresult *r = sfp_db_prepared(c, &ST_READ, params, NULL, NULL, 1, SFP_WARN, NULL, &e);
    if (!r) return R_ERROR;
    read_rc rc = row_of(r, out);
    PQclear(r);
    return rc;
}

/* ---------- pipelines ----------
 * The leader's statements before and after the compute are sent as two libpq pipelines of one
 * round trip each (BEGIN, timeouts, SAVEPOINT, lock, re-read | SAVEPOINT, upsert, COMMIT)
 * instead of one round trip per statement. In a pipeline the first failing statement makes the
 * server skip the rest up to the Sync (they come back PGRES_PIPELINE_ABORTED) and leaves an
 * open transaction aborted, which is exactly the state the one-statement-at-a-time protocol
 * reached at that statement: the caller then recovers as it did (ROLLBACK TO SAVEPOINT, or
 * ROLLBACK) with ordinary statements. */

/* One command: a plain statement without parameters (sql), or a prepared one (stmt). */
typedef struct pcmd {
    const char *sql;
    const sfp_db_stmt *stmt;
    const char *const *params;
    const int *lengths, *formats;
    int result_format;
    bool parse;    /* private: a Parse of stmt is queued ahead of it */
    PGresult *res; /* after pipe_run: its result (the Parse's, when that failed); NULL if none came */
} pcmd;

typedef enum { P_OK, P_FAILED, P_LOST } pipe_rc;

static void pipe_clear(pcmd *cmds, int n)
{
    for (int i = 0; i < n; i++) {
        PQclear(cmds[i].res);
        cmds[i].res = NULL;
    }
}

static bool res_ok(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
}

/* The next result of the current command, and the NULL that ends it. */
static PGresult *next_result(PGconn *pg, bool *lost)
{
    PGresult *r = PQgetResult(pg);
    if (!r) {
        *lost = true;
        return NULL;
    }
    for (PGresult *x; (x = PQgetResult(pg));) PQclear(x);
    return r;
}

/* Queues cmds[0..n) and a Sync, sends them in one round trip and reads every result, then
 * leaves pipeline mode. Returns P_OK; P_FAILED with *failed = the first failing command (those
 * after it were skipped); or P_LOST when the connection failed or the results came out of step
 * — the connection is then left busy or broken, so the pool discards it on release. Each
 * command that ran counts one statement in *queries. A missing prepared statement (26000: the
 * session lost them) clears the connection's registry, so the next use prepares again. */
static pipe_rc pipe_run(sfp_conn *c, pcmd *cmds, int n, int *failed, int *queries)
{
    PGconn *pg = sfp_conn_pg(c);
    *failed = -1;
    if (PQpipelineStatus(pg) == PQ_PIPELINE_OFF && !PQenterPipelineMode(pg)) return P_LOST;
    bool sent = true;
    for (int i = 0; i < n && sent; i++) {
        pcmd *m = &cmds[i];
        m->res = NULL;
        m->parse = false;
        if (m->sql) {
            sent = PQsendQueryParams(pg, m->sql, 0, NULL, NULL, NULL, NULL, 0);
            continue;
        }
        sfp_db_prep_state st = sfp_db_prep_lookup(c, m->stmt->name);
        if (st == SFP_DB_PREP_UNTRACKED) {
            sent = PQsendQueryParams(pg, m->stmt->sql, m->stmt->nparams, NULL, m->params, m->lengths, m->formats,
                                     m->result_format);
            continue;
        }
        if (st == SFP_DB_PREP_NEEDED) sent = m->parse = sfp_db_prep_send(c, m->stmt);
        sent = sent && PQsendQueryPrepared(pg, m->stmt->name, m->stmt->nparams, m->params, m->lengths, m->formats,
                                           m->result_format);
    }
    if (!sent || !PQpipelineSync(pg)) return P_LOST;
    bool lost = false;
    for (int i = 0; i < n && !lost; i++) {
        pcmd *m = &cmds[i];
        if (m->parse) {
            PGresult *r = next_result(pg, &lost);
            if (lost) break;
            if (!sfp_db_prep_result(c, m->stmt, r) && *failed < 0) {
                m->res = r; /* the statement's own result is PGRES_PIPELINE_ABORTED */
                *failed = i;
            } else {
                PQclear(r);
            }
        }
        PGresult *r = next_result(pg, &lost);
        if (lost) break;
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_PIPELINE_ABORTED) (*queries)++;
        if (m->res) {
            PQclear(r);
            continue;
        }
        m->res = r;
        if (!res_ok(r) && *failed < 0) {
            *failed = i;
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (state && !strcmp(state, "26000")) sfp_db_prep_forget(c);
        }
    }
    if (!lost) {
        PGresult *r = PQgetResult(pg);
        lost = !r || PQresultStatus(r) != PGRES_PIPELINE_SYNC;
        PQclear(r);
    }
    if (lost || !PQexitPipelineMode(pg)) return P_LOST;
    return *failed < 0 ? P_OK : P_FAILED;
}

static void now_rfc3339(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.19s.%03dZ", day, (int)(ts.tv_nsec / 1000000) % 1000);
}

static int64_t left_ms(int64_t deadline_ms)
{
    if (deadline_ms == INT64_MAX) return INT64_MAX;
    return deadline_ms - sfp_mono_ms();
}

static void count(sfp_page_cache *pc, int64_t *field)
{
    pthread_mutex_lock(&pc->mu);
    (*field)++;
    pthread_mutex_unlock(&pc->mu);
}

/* ---------- leader ---------- */

/* Runs the leader protocol on conn. Returns 0 (out filled) or -1 (err). */
static int lead(sfp_page_cache *pc, sfp_conn *conn, const char *key, int ttl_minutes, bool cache_ok,
                int64_t deadline_ms, sfp_page_compute_fn compute, void *user, sfp_page_result *out, sfp_err *err)
{
    PGconn *pg = sfp_conn_pg(conn);
    int *q = &out->queries;
    /* 1. One round trip: BEGIN, the timeouts from the deadline, and (cache_ok) the cross-replica
     *    coalescing — wait for any other leader of this key, then re-read the row. */
    char t[24] = "";
    int64_t left = left_ms(deadline_ms);
    if (left != INT64_MAX) {
        left -= LOCK_MARGIN_MS;
        if (left < 1) return sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "deadline exceeded");
        if (left > MAX_TIMEOUT_MS) left = MAX_TIMEOUT_MS;
        snprintf(t, sizeof t, "%lld", (long long)left);
    }
    char ns[16];
    snprintf(ns, sizeof ns, "%d", SFP_PAGE_CACHE_LOCK_NS);
    const char *pt[1] = {t}, *pl[2] = {ns, key}, *pr[1] = {key};
    enum { C_BEGIN, C_TIMEOUTS, C_SAVEPOINT, C_LOCK, C_READ };
    pcmd pre[5];
    int kind[5], n = 0, failed = -1;
    pre[n] = (pcmd){.sql = "BEGIN"};
    kind[n++] = C_BEGIN;
    if (t[0]) {
        pre[n] = (pcmd){.stmt = &ST_TIMEOUTS, .params = pt};
        kind[n++] = C_TIMEOUTS;
    }
    if (cache_ok) {
        pre[n] = (pcmd){.sql = "SAVEPOINT pc_lock"};
        kind[n++] = C_SAVEPOINT;
        pre[n] = (pcmd){.stmt = &ST_LOCK, .params = pl};
        kind[n++] = C_LOCK;
        pre[n] = (pcmd){.stmt = &ST_READ, .params = pr, .result_format = 1};
        kind[n++] = C_READ;
    }
    pipe_rc prc = pipe_run(conn, pre, n, &failed, q);
    if (prc == P_LOST) {
        pipe_clear(pre, n);
        log_pg("page cache: connection failed starting the transaction", key, pg, NULL);
        return sfp_err_set(err, SFP_UNAVAILABLE, "database connection lost");
    }
    if (prc == P_FAILED) {
        const PGresult *fr = pre[failed].res;
        bool conn_ok = PQstatus(pg) == CONNECTION_OK;
        sfp_db_class k = sfp_db_classify(PQresultErrorField(fr, PG_DIAG_SQLSTATE), conn_ok);
        switch (kind[failed]) {
        case C_LOCK:
            /* lock_timeout / statement_timeout were set from our deadline: waiting longer for
             * another leader is exactly what the caller cannot afford. */
            if (k.timeout) {
                pipe_clear(pre, n);
                exec_ok(pg, "ROLLBACK", q);
                return sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "deadline exceeded waiting for the page");
            }
            log_pg("page cache: advisory lock failed; computing without it", key, pg, fr);
            break;
        case C_READ: log_pg("page cache: re-read failed; computing without the cache", key, pg, fr); break;
        default: /* BEGIN, timeouts, SAVEPOINT: the session is not usable */
            log_pg("page cache: starting the transaction failed", key, pg, fr);
            pipe_clear(pre, n);
            if (conn_ok) exec_ok(pg, "ROLLBACK", q);
            return sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable");
        }
        pipe_clear(pre, n);
        count(pc, &pc->st.errors);
        if (!conn_ok) return sfp_err_set(err, SFP_UNAVAILABLE, "database connection lost");
        exec_ok(pg, "ROLLBACK TO SAVEPOINT pc_lock", q);
        cache_ok = false;
    } else if (cache_ok) {
        read_rc rr = row_of(pre[n - 1].res, out);
        pipe_clear(pre, n);
        if (rr == R_HIT) {
            exec_ok(pg, "COMMIT", q);
            out->coalesced = true;
            return 0;
        }
    } else {
        pipe_clear(pre, n);
    }

    /* 2. The compute, inside the transaction (and under the lock). */
    uint8_t *payload = NULL;
    size_t len = 0;
    int ttl_store = ttl_minutes;
    int64_t t0 = sfp_mono_ms();
    count(pc, &pc->st.computes);
    if (compute(conn, user, &payload, &len, &ttl_store, err) != 0) {
        free(payload);
        count(pc, &pc->st.compute_failures);
        exec_ok(pg, "ROLLBACK", q);
        if (!err->code) err->code = SFP_INTERNAL;
        return -1;
    }
    int compute_ms = (int)(sfp_mono_ms() - t0);
    out->payload = payload;
    out->len = len;
    out->cached = false;
    out->cached_at[0] = '\0';
    now_rfc3339(out->computed_at);

    /* 3. One round trip: the upsert under its own savepoint (a failed write leaves the compute's
     *    work committed) and COMMIT, which releases the lock. */
    char ttl_s[16], ms_s[16];
    snprintf(ttl_s, sizeof ttl_s, "%d", ttl_store);
    snprintf(ms_s, sizeof ms_s, "%d", compute_ms);
    static const uint8_t empty = 0;
    const char *pu[4] = {key, payload ? (const char *)payload : (const char *)&empty, ttl_s, ms_s};
    int lens[4] = {0, (int)len, 0, 0};
    int fmts[4] = {0, 1, 0, 0};
    pcmd post[3];
    n = 0;
    bool write = cache_ok && ttl_store > 0;
    if (write) {
        post[n++] = (pcmd){.sql = "SAVEPOINT pc_write"};
        post[n++] = (pcmd){.stmt = &ST_UPSERT, .params = pu, .lengths = lens, .formats = fmts};
    }
    post[n++] = (pcmd){.sql = "COMMIT"};
    prc = pipe_run(conn, post, n, &failed, q);
    if (prc == P_OK && write) {
        const PGresult *r = post[1].res;
        if (PQntuples(r) == 1) {
            snprintf(out->computed_at, sizeof out->computed_at, "%s", PQgetvalue(r, 0, 0));
            out->stored = true;
            out->ttl_seconds_remaining = ttl_store * 60;
        }
    } else if (prc == P_FAILED && failed < n - 1) {
        /* The savepoint or the upsert failed: the COMMIT was skipped, the transaction is
         * aborted. Undo the write alone and commit the rest, as without a pipeline. */
        log_pg("page cache: write failed; serving the page uncached", key, pg, post[failed].res);
        count(pc, &pc->st.errors);
        exec_ok(pg, "ROLLBACK TO SAVEPOINT pc_write", q);
        if (!exec_ok(pg, "COMMIT", q)) prc = P_LOST;
    }
    if (prc == P_LOST || (prc == P_FAILED && failed == n - 1)) {
        log_pg("page cache: COMMIT failed; serving the page uncached", key, pg,
               prc == P_FAILED ? post[failed].res : NULL);
        count(pc, &pc->st.errors);
        out->stored = false;
        out->ttl_seconds_remaining = 0;
    }
    pipe_clear(post, n);
    return 0;
}

/* Hands the leader's outcome to the flight's waiters (pc->mu not held): the page, or on
 * failure the flight itself (one waiter leads; the error is not shared). */
static void flight_finish(sfp_page_cache *pc, sfp_sf_flight *f, const sfp_page_result *res, bool ok)
{
    page_done *d = NULL;
    if (ok) {
        d = calloc(1, sizeof *d);
        if (!d) abort();
        if (res->len) {
            d->payload = malloc(res->len);
            if (!d->payload) abort();
            memcpy(d->payload, res->payload, res->len);
        }
        d->len = res->len;
        snprintf(d->computed_at, sizeof d->computed_at, "%s", res->computed_at);
        d->ttl_seconds_remaining = res->ttl_seconds_remaining;
        d->ttl_deadline_ms = sfp_mono_ms() + (int64_t)res->ttl_seconds_remaining * 1000;
    }
    pthread_mutex_lock(&pc->mu);
    if (ok) sfp_sf_done(&pc->flights, f, d); /* later callers read the row */
    else sfp_sf_fail(&pc->flights, f, "leader failed", true);
    pthread_mutex_unlock(&pc->mu);
}

/* A waiter's copy of the leader's page (pc->mu held). */
static void copy_page(const void *result, void *arg)
{
    const page_done *d = result;
    sfp_page_result *out = arg;
    out->len = d->len;
    if (d->len) {
        out->payload = malloc(d->len);
        if (!out->payload) abort();
        memcpy(out->payload, d->payload, d->len);
    }
    snprintf(out->computed_at, sizeof out->computed_at, "%s", d->computed_at);
    snprintf(out->cached_at, sizeof out->cached_at, "%s", d->computed_at);
    int64_t rem = (d->ttl_deadline_ms - sfp_mono_ms()) / 1000;
    out->ttl_seconds_remaining = d->ttl_seconds_remaining ? (int)(rem > 0 ? rem : 0) : 0;
    out->cached = out->coalesced = true;
}

static sfp_conn *acquire(sfp_page_cache *pc, int64_t deadline_ms, sfp_err *err)
{
    int64_t left = left_ms(deadline_ms);
    int t = -1; /* the pool's DB_ACQUIRE_TIMEOUT */
    if (left != INT64_MAX) {
        if (left <= 0) {
            sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "deadline exceeded");
            return NULL;
        }
        t = left > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : (int)left;
    }
    return sfp_pool_acquire(pc->pool, t, err);
}

/* ---------- in-process tier ---------- */

/* The epoch a read starts in (0 when the tier is off or not live: nothing will be stored). */
static uint64_t mem_epoch(sfp_page_cache *pc)
{
    if (!pc->mem) return 0;
    pthread_mutex_lock(&pc->mu);
    uint64_t e = pc->mem_live ? pc->mem_epoch : 0;
    pthread_mutex_unlock(&pc->mu);
    return e;
}

/* Serves key from memory into out (a reference, no copy); false when absent or expired. */
static bool mem_get(sfp_page_cache *pc, const char *key, sfp_page_result *out)
{
    if (!pc->mem) return false;
    pthread_mutex_lock(&pc->mu);
    bool live = pc->mem_live;
    pthread_mutex_unlock(&pc->mu);
    sfp_cache_val *v = NULL;
    if (!live || !sfp_ttl_cache_peek(pc->mem, key, &v)) return false;
    const mem_page *m = sfp_cache_val_data(v);
    double left = m->expires_s - pc->mem_clock(pc->mem_clock_arg);
    if (left < 1) { /* the row has expired by now (or will within the second): ask Postgres */
        sfp_cache_val_unref(v);
        return false;
    }
    out->payload = m->payload;
    out->len = m->len;
    out->release_ = mem_val_release;
    out->owner_ = v;
    snprintf(out->computed_at, sizeof out->computed_at, "%s", m->computed_at);
    snprintf(out->cached_at, sizeof out->cached_at, "%s", m->computed_at);
    out->ttl_seconds_remaining = left > INT32_MAX ? INT32_MAX : (int)left;
    out->cached = out->memory = true;
    pthread_mutex_lock(&pc->mu);
    pc->st.hits++;
    pc->st.memory_hits++;
    pthread_mutex_unlock(&pc->mu);
    return true;
}

/* Keeps out's page (read or stored by this call, epoch from before its read) in memory: the
 * payload moves into the tier and out holds a reference to it — no copy. */
static void mem_put(sfp_page_cache *pc, const char *key, sfp_page_result *out, uint64_t epoch)
{
    if (!epoch || out->release_ || out->ttl_seconds_remaining < 2) return;
    mem_page *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->payload = out->payload;
    m->len = out->len;
    snprintf(m->computed_at, sizeof m->computed_at, "%s", out->computed_at);
    m->expires_s = pc->mem_clock(pc->mem_clock_arg) + out->ttl_seconds_remaining;
    sfp_cache_val *v = sfp_cache_val_new(m, m->len, 1, mem_page_free);
    out->release_ = mem_val_release;
    out->owner_ = v; /* the result's reference */
    pthread_mutex_lock(&pc->mu);
    if (pc->mem_live && pc->mem_epoch == epoch) sfp_ttl_cache_put(pc->mem, key, v);
    pthread_mutex_unlock(&pc->mu);
}

/* ttl 0: compute in a transaction of its own, nothing read or written. */
static int compute_uncached(sfp_page_cache *pc, const char *key, int64_t deadline_ms, sfp_page_compute_fn compute,
                            void *user, sfp_page_result *out, sfp_err *err)
{
    sfp_conn *c = acquire(pc, deadline_ms, err);
    if (!c) return -1;
    int rc = lead(pc, c, key, 0, false, deadline_ms, compute, user, out, err);
    sfp_pool_release(pc->pool, c);
    return rc;
}

static int get(sfp_page_cache *pc, const char *key, int ttl_minutes, int64_t deadline_ms, sfp_page_compute_fn compute,
               void *user, bool from_memory, sfp_page_result *out, sfp_err *err)
{
    memset(out, 0, sizeof *out);
    if (ttl_minutes <= 0) {
        count(pc, &pc->st.misses);
        return compute_uncached(pc, key, deadline_ms, compute, user, out, err);
    }

    if (from_memory && mem_get(pc, key, out)) return 0;
    uint64_t epoch = mem_epoch(pc); /* before the row is read */
    sfp_conn *conn = NULL;
    bool cache_ok = true;
    sfp_sf_flight *f = NULL;

    /* A flight already running for the key: wait for it without reading the row. */
    pthread_mutex_lock(&pc->mu);
    sfp_sf_role role = sfp_sf_join(&pc->flights, key, &f);
    if (role != SFP_SF_NONE) pc->st.misses++;
    pthread_mutex_unlock(&pc->mu);

    if (role == SFP_SF_NONE) {
        conn = acquire(pc, deadline_ms, err);
        if (!conn) return -1;
        read_rc rr = read_row(conn, key, out, &out->queries);
        if (rr == R_HIT) {
            sfp_pool_release(pc->pool, conn);
            count(pc, &pc->st.hits);
            mem_put(pc, key, out, epoch);
            return 0;
        }
        if (rr == R_ERROR) {
            sfp_log(SFP_WARN, "page cache: read failed; computing without the cache", SFP_S("key", key));
            count(pc, &pc->st.errors);
            cache_ok = false;
            if (PQstatus(sfp_conn_pg(conn)) != CONNECTION_OK) {
                sfp_pool_release(pc->pool, conn);
                conn = NULL; /* re-acquired below if we lead */
            }
        }
        pthread_mutex_lock(&pc->mu);
        pc->st.misses++;
        role = sfp_sf_begin(&pc->flights, key, &f);
        pthread_mutex_unlock(&pc->mu);
        if (role != SFP_SF_LEADS && conn) {
            sfp_pool_release(pc->pool, conn); /* waiters hold no connection */
            conn = NULL;
        }
    }

    if (role == SFP_SF_JOINED) {
        /* Waiter: until the flight is done, its leader fails (then one of us leads), or our
         * own deadline passes. */
        pthread_mutex_lock(&pc->mu);
        sfp_sf_wait_rc wr = sfp_sf_wait(&pc->flights, f, deadline_ms, copy_page, out, NULL);
        if (wr == SFP_SF_DONE) pc->st.coalesced++;
        pthread_mutex_unlock(&pc->mu);
        if (wr == SFP_SF_DONE) return 0;
        if (wr != SFP_SF_PROMOTED)
            return sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "deadline exceeded waiting for the page");
    }

    /* Leader (first, or promoted after a failed leader). */
    if (!conn) {
        conn = acquire(pc, deadline_ms, err);
        if (!conn) {
            flight_finish(pc, f, NULL, false);
            return -1;
        }
    }
    int rc = lead(pc, conn, key, ttl_minutes, cache_ok, deadline_ms, compute, user, out, err);
    sfp_pool_release(pc->pool, conn);
    if (rc == 0 && out->cached) count(pc, &pc->st.coalesced);
    flight_finish(pc, f, rc == 0 ? out : NULL, rc == 0);
    if (rc == 0 && (out->stored || out->cached)) mem_put(pc, key, out, epoch);
    return rc;
}

int sfp_page_cache_get(sfp_page_cache *pc, const char *key, int ttl_minutes, int64_t deadline_ms,
                       sfp_page_compute_fn compute, void *user, sfp_page_result *out, sfp_err *err)
{
    return get(pc, key, ttl_minutes, deadline_ms, compute, user, true, out, err);
}

int sfp_page_cache_get_shared(sfp_page_cache *pc, const char *key, int ttl_minutes, int64_t deadline_ms,
                              sfp_page_compute_fn compute, void *user, sfp_page_result *out, sfp_err *err)
{
    return get(pc, key, ttl_minutes, deadline_ms, compute, user, false, out, err);
}

/* ---------- maintenance ---------- */

long long sfp_page_cache_invalidate(sfp_conn *c, const char *like_pattern, sfp_err *err)
{
    const char *p[1] = {like_pattern};
    PGresult *r = sfp_db_query(c,
                               "UPDATE page_cache SET invalidated_at = now() "
                               "WHERE cache_key LIKE $1 AND invalidated_at IS NULL",
                               1, p, err);
    if (!r) return -1;
    long long n = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return n;
}

long long sfp_page_cache_purge_expired(sfp_conn *c, int grace_minutes, sfp_err *err)
{
    char g[16];
    snprintf(g, sizeof g, "%d", grace_minutes < 0 ? 0 : grace_minutes);
    const char *p[1] = {g};
    PGresult *r =
        sfp_db_query(c,
                     "DELETE FROM page_cache WHERE "
                     "(invalidated_at IS NOT NULL AND invalidated_at <= now() - make_interval(mins => $1::int)) "
                     "OR computed_at + make_interval(mins => ttl_minutes + $1::int) <= now()",
                     1, p, err);
    if (!r) return -1;
    long long n = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return n;
}

int sfp_page_cache_row_stats(sfp_conn *c, sfp_page_cache_rows *out, sfp_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r = sfp_db_query(c,
                               "SELECT count(*) FILTER (WHERE live), count(*) FILTER (WHERE NOT live), "
                               "EXTRACT(EPOCH FROM now() - min(computed_at) FILTER (WHERE live)) / 60.0 "
                               "FROM (SELECT computed_at, " LIVE " AS live FROM page_cache) t",
                               0, NULL, err);
    if (!r) return -1;
    out->live = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out->expired = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    out->has_oldest = !PQgetisnull(r, 0, 2);
    if (out->has_oldest) out->oldest_live_age_minutes = strtod(PQgetvalue(r, 0, 2), NULL);
    PQclear(r);
    return 0;
}

void sfp_page_cache_get_stats(sfp_page_cache *pc, sfp_page_cache_stats *out)
{
    pthread_mutex_lock(&pc->mu);
    *out = pc->st;
    out->in_flight = pc->flights.in_flight;
    pthread_mutex_unlock(&pc->mu);
}

sfp_pool *sfp_page_cache_pool(const sfp_page_cache *pc)
{
    return pc->pool;
}
