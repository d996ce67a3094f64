/* db_pool.h — Postgres connection pool on libpq.
 *
 * Sizing: DB_POOL_MIN (default 2) connections are kept open, at most DB_POOL_MAX (default 20)
 * exist at once, per process. Raise DB_POOL_MAX when more than ~50 concurrent users hit one
 * replica (and keep DB_POOL_MAX x replicas below Postgres max_connections, or put PgBouncer in
 * front). Other knobs: DB_CONNECT_TIMEOUT (s, 10), DB_STATEMENT_TIMEOUT (ms or "30s", 30 s),
 * DB_ACQUIRE_TIMEOUT (ms, 5000), DB_IDLE_CHECK (s, 30: a connection idle longer than this is
 * checked with SELECT 1 on checkout).
 *
 * Every checkout also peeks the socket without a round trip: a backend that was terminated
 * (pg_terminate_backend, Postgres restart) has sent its FATAL and closed, so the connection is
 * discarded and replaced transparently. The pool never fails to start because Postgres is
 * down: connections are opened on demand and by a maintenance thread that keeps DB_POOL_MIN.
 *
 * Outages: the first failed connect marks the pool DOWN. While down, requests that find no
 * idle connection fail at once with UNAVAILABLE and make no connect of their own; only the
 * maintenance thread tries, one attempt at a time, after an exponential back-off with jitter
 * (backoff.h: DB_RECONNECT_MIN_MS 50 doubling to DB_RECONNECT_MAX_MS 800). The first success
 * marks it UP and requests connect on demand again. Logged: one line per state change
 * ("database unreachable", "database reachable again" with the outage's length, attempts and
 * requests failed) and a summary every 5 s while down. The cap bounds both the probe rate
 * (about 2.5 attempts/s) and how late recovery is noticed (at most DB_RECONNECT_MAX_MS).
 *
 * Shutdown: sfp_pool_cancel_all sends a cancel request (PQcancel) for every statement running
 * on a borrowed connection, so a drain that ran out of grace does not wait for slow SQL.
 *
 * Ownership: the pool owns every sfp_conn; a caller borrows one between acquire and release and
 * must not PQfinish it. Results returned by sfp_db_query belong to the caller (PQclear). */
#ifndef SFP_DB_POOL_H
#define SFP_DB_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "backoff.h"
#include "sfp_err.h"

typedef struct sfp_pool sfp_pool;
typedef struct sfp_conn sfp_conn;

typedef struct sfp_pool_config {
    const char *conninfo;         /* DATABASE_URL (URI or key=value); required */
    int min;                      /* DB_POOL_MIN, default 2 */
    int max;                      /* DB_POOL_MAX, default 20 */
    int connect_timeout_s;        /* DB_CONNECT_TIMEOUT, default 10 */
    int statement_timeout_ms;     /* DB_STATEMENT_TIMEOUT, default 30000; 0 = none */
    int acquire_timeout_ms;       /* DB_ACQUIRE_TIMEOUT, default 5000 */
    int idle_check_s;             /* DB_IDLE_CHECK, default 30 */
    const char *application_name; /* shown in pg_stat_activity; e.g. "sfp-report" */
    int reconnect_min_ms;         /* DB_RECONNECT_MIN_MS, default 50 (1..10000) */
    int reconnect_max_ms;         /* DB_RECONNECT_MAX_MS, default 800 (min..60000) */
    sfp_clock_fn clock;           /* back-off clock; NULL = monotonic (tests inject one) */
    void *clock_arg;
    sfp_rand_fn rnd; /* back-off jitter; NULL = internal generator (tests inject one) */
    void *rnd_arg;
} sfp_pool_config;

typedef struct sfp_pool_stats {
    int min, max, size, idle, in_use, waiting;
    double max_wait_ms, oldest_wait_ms;
    int64_t acquires, waited_acquires, timeouts, opened, closed, broken;
    int64_t connect_attempts, connect_failures; /* every libpq connect the pool started */
    int64_t failed_fast;                        /* acquires refused at once while DOWN */
    bool healthy;                               /* last connect/check succeeded */
    bool down;                                  /* in an outage: connects are backing off */
} sfp_pool_stats;

/* Reads the DB_* env vars and DATABASE_URL (required) into cfg; err names a bad variable. */
int sfp_pool_config_from_env(sfp_pool_config *cfg, const char *application_name, sfp_err *err);
/* Validates cfg (min <= max etc.); never connects synchronously. Returns NULL + err on bad cfg. */
sfp_pool *sfp_pool_create(const sfp_pool_config *cfg, sfp_err *err);
/* Closes every connection; callers must have released theirs. NULL-safe. */
void sfp_pool_destroy(sfp_pool *p);

/* Error codes put in sfp_err.code by this module are gRPC status codes, so services can
 * return them as they are: UNAVAILABLE (14) when Postgres cannot be reached, the pool timed out
 * or the connection was lost; DEADLINE_EXCEEDED (4) when a statement hit its timeout;
 * INTERNAL (13) for any other SQL error. */

/* Borrow a live connection, waiting at most timeout_ms (<0: the configured acquire timeout).
 * NULL + err on failure (pool exhausted past the timeout, or Postgres unreachable). */
sfp_conn *sfp_pool_acquire(sfp_pool *p, int timeout_ms, sfp_err *err);
/* A second connection for work that can also run on the one the caller holds: an idle
 * connection, or a new one (opened within timeout_ms) when the pool is below DB_POOL_MAX; NULL
 * at once when the pool is full, never waiting for another caller's connection (so two such
 * holders cannot starve each other). Counted like sfp_pool_acquire. */
sfp_conn *sfp_pool_acquire_spare(sfp_pool *p, int timeout_ms, sfp_err *err);
/* Return a connection. A connection left in a transaction is rolled back; a broken one
 * (PQstatus bad) is closed and counted as broken. NULL-safe. */
void sfp_pool_release(sfp_pool *p, sfp_conn *c);

PGconn *sfp_conn_pg(sfp_conn *c);

/* The one way to open a connection outside the pool, for a session that must stay its own: a
 * LISTEN (db_listen.h), the advisory lock a cron run holds. It has the pool's settings:
 * DATABASE_URL, DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT, keepalives, and application_name
 * "<the pool's application_name>-<role>" (e.g. sfp-cron-lock, sfp-report-listen). It shares
 * the pool's outage state and back-off: while the pool is DOWN it fails at once (the pool's
 * maintenance thread alone probes, DB_RECONNECT_MIN_MS doubling to DB_RECONNECT_MAX_MS), and
 * its own attempt's outcome marks the pool DOWN or UP like any pool connect. Blocks at most
 * DB_CONNECT_TIMEOUT and until deadline_ms (CLOCK_MONOTONIC ms; INT64_MAX = none).
 * The caller owns the connection (PQfinish). NULL + err (UNAVAILABLE) on failure. */
PGconn *sfp_pool_connect_dedicated(sfp_pool *p, const char *role, int64_t deadline_ms, sfp_err *err);
/* The pool's back-off settings (DB_RECONNECT_*, injected clock/random), for a dedicated
 * session that re-establishes itself on its own schedule (db_listen.h). */
sfp_backoff_config sfp_pool_backoff_config(const sfp_pool *p);

/* Shutdown: PQcancel for every statement running on a borrowed connection (their callers see
 * an error and release). Safe from any thread; returns how many were sent. */
int sfp_pool_cancel_all(sfp_pool *p);
/* Makes the maintenance thread run now (tests with an injected clock). */
void sfp_pool_kick(sfp_pool *p);

/* Parameterised query (text params, text results). Returns the result when its status is
 * TUPLES_OK or COMMAND_OK, else NULL with a safe message in err (the server text is logged,
 * not returned). Marks the connection broken on connection loss. */
PGresult *sfp_db_query(sfp_conn *c, const char *sql, int nparams, const char *const *params, sfp_err *err);
/* Same for statements whose result is not needed; returns 0 or -1. */
int sfp_db_exec(sfp_conn *c, const char *sql, int nparams, const char *const *params, sfp_err *err);

void sfp_pool_get_stats(sfp_pool *p, sfp_pool_stats *out);
/* Readiness: true when a connection could be acquired and checked recently; the answer is
 * cached for cache_ms (callers pass 2000–5000) so probes never hammer Postgres. */
bool sfp_pool_ready(sfp_pool *p, int cache_ms);
/* sfp_pool_ready(pool, 3000) with a void* argument: the readiness callback services pass to
 * the rpc server. */
bool sfp_pool_ready_cb(void *pool);

#endif
