/* page_cache.h — computed pages in the Postgres table page_cache (db/migrations/0002), shared
 * by every replica, that cannot stampede.
 *
 * Payload format: opaque bytes stored as BYTEA. The brief stores a packed protobuf
 * (sfpermits.v1.GetBriefResponse without its per-request fields); the cache never looks inside.
 *
 * Hit: the row exists, invalidated_at IS NULL and computed_at + ITS ttl_minutes > now() (the
 * row's own ttl_minutes, written by the caller that computed it). Judged by Postgres's clock
 * in one statement, so replicas with skewed clocks agree.
 *
 * Miss protocol (sfp_page_cache_get):
 *  1. In-process singleflight per key: the first caller becomes the LEADER; later callers of
 *     the same key WAIT (connection released) until the leader finishes or their own deadline
 *     passes. A leader that fails hands the flight to exactly one waiter (its error is never
 *     cached or shared); the others keep waiting.
 *  2. Across replicas: the leader opens a transaction (READ COMMITTED), sets LOCAL
 *     statement_timeout and lock_timeout to the time left before its deadline, and takes
 *     pg_advisory_xact_lock(SFP_PAGE_CACHE_LOCK_NS, hashtext(key)). A leader of another replica
 *     holding it blocks us until it commits; we then re-read the row (READ COMMITTED sees the
 *     committed upsert) and return it as a hit. Whoever holds the lock with no fresh row
 *     computes — inside the same transaction, so the compute callback may use SAVEPOINTs — and
 *     upserts (computed_at = clock_timestamp()), then commits, which releases the lock.
 *     The two-int form of the advisory lock keeps page-cache locks out of the bigint key space
 *     the cron jobs use. The statements before the compute (BEGIN, the timeouts, the lock, the
 *     re-read) travel in one round trip (a libpq pipeline), the upsert and COMMIT after it in
 *     another: a miss costs three round trips besides the compute's (read, before, after).
 *  3. Errors of the cache itself (read, lock, write: e.g. a missing table) never fail the
 *     request: they are logged and counted, and the page is computed directly. Errors of the
 *     compute callback are returned to the caller and never stored. A lock wait that runs
 *     into the caller's deadline returns DEADLINE_EXCEEDED.
 *  ttl_minutes == 0: no cache at all (always computes, nothing read or written).
 *
 * In-process tier (optional, sfp_page_cache_set_memory): a page this process read or computed
 * is also kept in its memory, refcounted (an LRU of max_entries pages), and served from there
 * with no query until the row's own expiry (measured when the row was read: its remaining TTL
 * by Postgres's clock). Another replica's invalidation must reach it, so the tier serves only
 * while the owner's LISTEN on SFP_PAGE_CACHE_CHANNEL is up and feeds its events to
 * sfp_page_cache_listen_event: migration 0080 announces every row invalidated, recomputed or
 * deleted (payload: its key; "" after a TRUNCATE). Before the first UP, and from a DOWN until
 * the next UP, the tier is empty and skipped (a notification may have been missed). A page read
 * while an invalidation was being announced is not kept: every event bumps an epoch, and a page
 * is stored only if no event arrived since its read began, so an announced invalidation can
 * never be undone by a slower reader.
 *
 * Ownership: the sfp_page_cache is owned by its creator (free after every call returned);
 * the pool is borrowed. A result's payload is malloc'd and owned by the caller
 * (sfp_page_result_clear). */
#ifndef SFP_PAGE_CACHE_H
#define SFP_PAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "arena.h"
#include "db_listen.h"
#include "db_pool.h"
#include "sfp_err.h"

#define SFP_PAGE_CACHE_LOCK_NS 0x50474341 /* 'PGCA': classid of the advisory locks */

typedef struct sfp_page_cache sfp_page_cache;

/* Channel of migration 0080's notifications (payload: the cache key, "" = every key). */
#define SFP_PAGE_CACHE_CHANNEL "sfp_page_cache"

/* The page computation. conn is inside the cache's transaction: use it for every query (SAVEPOINTs
 * are fine), never COMMIT/ROLLBACK it. On success set *payload (malloc'd; ownership passes to
 * the cache) and *len, optionally *ttl_minutes (pre-set to the caller's ttl; lower it to keep
 * a degraded page for a shorter time, 0 = do not store), and return 0. On failure return -1
 * with err->code a gRPC status code. */
typedef int (*sfp_page_compute_fn)(sfp_conn *conn, void *user, uint8_t **payload, size_t *len, int *ttl_minutes,
                                   sfp_err *err);

typedef struct sfp_page_result {
    uint8_t *payload; /* NULL when len == 0; owned by the result (sfp_page_result_take/_clear) */
    size_t len;
    bool memory;               /* served from this process's memory tier (no query) */
    bool cached;               /* this call did not compute (row hit, or another caller's compute) */
    bool coalesced;            /* the page came from a concurrent computation (flight or other replica) */
    bool stored;               /* this call computed and wrote the row */
    char cached_at[40];        /* RFC 3339 computed_at when cached, else "" */
    char computed_at[40];      /* RFC 3339 computed_at of the payload (hit or miss) */
    int ttl_seconds_remaining; /* of the entry; the full TTL right after a compute; 0 if not stored */
    int queries;               /* SQL statements this call ran, the compute's own excluded */
    void (*release_)(void *);  /* private: frees what payload lives in */
    void *owner_;
} sfp_page_result;

void sfp_page_result_clear(sfp_page_result *r);
/* Hands the payload to the caller without a copy: returns the function that frees it and sets
 * *arg to pass it (payload stays valid until then), or NULL when there is nothing to free.
 * The result no longer owns the payload (a later clear leaves it alone). */
typedef void (*sfp_page_release_fn)(void *);
sfp_page_release_fn sfp_page_result_take(sfp_page_result *r, void **arg);

typedef struct sfp_page_cache_stats {
    int64_t hits;        /* served from a fresh row (memory tier included) */
    int64_t memory_hits; /* of which served from the in-process tier without a query */
    int64_t misses;      /* no fresh row (includes coalesced ones) */
    int64_t coalesced;   /* misses served by another caller's computation */
    int64_t computes;    /* compute callbacks run */
    int64_t compute_failures;
    int64_t errors;    /* cache read/lock/write errors (request still served) */
    int64_t in_flight; /* in-process flights now */
} sfp_page_cache_stats;

sfp_page_cache *sfp_page_cache_new(sfp_pool *pool);
void sfp_page_cache_free(sfp_page_cache *pc); /* NULL-safe */

/* Turns the in-process tier on (max_entries > 0; pages are ~100 KB) — it serves only after the
 * first SFP_LISTEN_UP. clock: monotonic seconds for the entries' expiry (NULL = sfp_mono_clock;
 * tests pass a fake). Call once, before the cache is used. */
void sfp_page_cache_set_memory(sfp_page_cache *pc, int max_entries, sfp_clock_fn clock, void *clock_arg);
/* Feed of the LISTEN on SFP_PAGE_CACHE_CHANNEL (an sfp_listen_fn body; any thread). */
void sfp_page_cache_listen_event(sfp_page_cache *pc, sfp_listen_event ev, const char *payload);
/* Drops key ("" = every key) from this process's memory now, without waiting for the
 * notification: a caller that invalidated rows calls it after its COMMIT, so its own client's
 * next read cannot be served the page it just invalidated. No-op without the tier. */
void sfp_page_cache_forget(sfp_page_cache *pc, const char *key);

/* Get the page for key, computing it on a miss (protocol above). deadline_ms: absolute
 * CLOCK_MONOTONIC milliseconds (sfp_mono_ms() + budget), or INT64_MAX for none.
 * Returns 0 with *out filled, or -1 with err (gRPC code: the compute's own, UNAVAILABLE when
 * no connection, DEADLINE_EXCEEDED when the deadline passed while waiting). */
int sfp_page_cache_get(sfp_page_cache *pc, const char *key, int ttl_minutes, int64_t deadline_ms,
                       sfp_page_compute_fn compute, void *user, sfp_page_result *out, sfp_err *err);
/* The same, never served from the in-process tier (the row is read; the page is still kept):
 * for a caller that must see the shared table as it is now, e.g. a cache warm-up right after
 * an invalidation whose notification may not have arrived yet. */
int sfp_page_cache_get_shared(sfp_page_cache *pc, const char *key, int ttl_minutes, int64_t deadline_ms,
                              sfp_page_compute_fn compute, void *user, sfp_page_result *out, sfp_err *err);

/* UPDATE ... SET invalidated_at = now() WHERE cache_key LIKE pattern AND not yet invalidated.
 * Returns the number of rows invalidated (>= 0), or -1 with err. Runs on the caller's
 * connection (inside the caller's transaction if any). */
long long sfp_page_cache_invalidate(sfp_conn *c, const char *like_pattern, sfp_err *err);
/* Deletes rows invalidated or expired more than grace_minutes ago (0 = every dead row).
 * Returns the number of rows deleted, or -1 with err. For the cron job. */
long long sfp_page_cache_purge_expired(sfp_conn *c, int grace_minutes, sfp_err *err);

typedef struct sfp_page_cache_rows {
    int64_t live, expired; /* expired = TTL passed or invalidated */
    bool has_oldest;
    double oldest_live_age_minutes;
} sfp_page_cache_rows;
int sfp_page_cache_row_stats(sfp_conn *c, sfp_page_cache_rows *out, sfp_err *err);

void sfp_page_cache_get_stats(sfp_page_cache *pc, sfp_page_cache_stats *out);
/* The pool the cache was created with (borrowed; may be NULL). */
sfp_pool *sfp_page_cache_pool(const sfp_page_cache *pc);

#endif
