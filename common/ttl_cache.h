/* ttl_cache.h — in-memory response cache shared by all threads of a process: string keys,
 * refcounted immutable values, TTL, LRU bound, stale retention, and per-key request
 * coalescing (singleflight). Used by common/soda_client for "{dataset}:{block}:{lot}".
 *
 * Freshness (clock = injectable monotonic seconds):
 *   age <  ttl                 fresh: sfp_ttl_cache_lookup returns HIT
 *   ttl <= age <= ttl+stale_max  expired but retained: lookup misses; sfp_ttl_cache_get_stale
 *                              returns it (to be served as "stale" only when the fetch fails or
 *                              the breaker is open — the caller decides)
 *   age > ttl+stale_max        purged on the next touch
 * At most max_entries entries; inserting beyond that evicts the least recently used.
 *
 * Ownership: a value (sfp_cache_val) is refcounted. The cache holds one reference per entry;
 * every value handed out is a NEW reference the caller must drop with sfp_cache_val_unref.
 * Eviction or replacement only drops the cache's reference, so a reader's value stays valid
 * (and immutable) for as long as it holds its reference — reads are safe against concurrent
 * eviction. The value's data is freed by its free_fn when the last reference goes.
 *
 * Singleflight (singleflight.h): a miss makes the caller the LEADER of a flight for that key (it must fetch,
 * then call exactly one of sfp_ttl_cache_fill / sfp_ttl_cache_fail), or, if a flight is
 * already running, a JOINER that waits with sfp_ttl_cache_wait and ITS OWN deadline. Joiners
 * of a filled flight get the leader's value. A failed flight is never cached:
 *   - fail(retry=false) (upstream error, breaker open, ...): every joiner gets the leader's
 *     failure reason (no retry storm against a failing upstream);
 *   - fail(retry=true) (the leader gave up for its own reasons, e.g. its deadline was shorter):
 *     exactly one joiner is promoted to leader (wait returns LEAD) and the others keep waiting.
 */
#ifndef SFP_TTL_CACHE_H
#define SFP_TTL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "clock.h"
#include "arena.h"
#include "sfp_err.h"

/* ---- values ---- */
typedef struct sfp_cache_val sfp_cache_val;

/* Wraps data (ownership passes to the value; freed by free_fn(data) with the last
 * reference; free_fn may be NULL). bytes/count are informational (body size, row count).
 * Returns a value with one reference (the caller's). Aborts on OOM. */
sfp_cache_val *sfp_cache_val_new(void *data, size_t bytes, long count, void (*free_fn)(void *));
sfp_cache_val *sfp_cache_val_ref(sfp_cache_val *v); /* returns v; NULL-safe */
void sfp_cache_val_unref(sfp_cache_val *v);         /* NULL-safe */
void *sfp_cache_val_data(const sfp_cache_val *v);   /* NULL-safe */
size_t sfp_cache_val_bytes(const sfp_cache_val *v);
long sfp_cache_val_count(const sfp_cache_val *v);

/* ---- cache ---- */
typedef struct sfp_ttl_cache_config {
    int ttl_s;          /* SODA_CACHE_TTL, default 900 (0..86400; 0 = every lookup misses) */
    int max_entries;    /* SODA_CACHE_MAX_ENTRIES, default 10000 (1..10000000) */
    int stale_max_s;    /* SODA_CACHE_STALE_MAX, default 86400 (0..2592000): retention after expiry */
    sfp_clock_fn clock; /* NULL = CLOCK_MONOTONIC; used for ages only (waits use real time) */
    void *clock_arg;
} sfp_ttl_cache_config;

typedef struct sfp_ttl_cache_stats {
    int64_t entries, capacity;
    int64_t hits, misses; /* fresh hits; lookups that were not fresh hits */
    int64_t stale_served; /* sfp_ttl_cache_get_stale successes */
    int64_t evictions;    /* LRU evictions for capacity */
    int64_t purged;       /* entries dropped for being older than ttl+stale_max */
    int64_t coalesced;    /* misses that joined another caller's flight */
    int64_t fills, fails; /* flight outcomes */
    int64_t in_flight;    /* flights running now */
} sfp_ttl_cache_stats;

typedef struct sfp_ttl_cache sfp_ttl_cache;
typedef struct sfp_sf_flight sfp_cache_flight; /* a singleflight.h handle */

void sfp_ttl_cache_config_defaults(sfp_ttl_cache_config *c);
/* SODA_CACHE_TTL / SODA_CACHE_MAX_ENTRIES / SODA_CACHE_STALE_MAX; -1 with err naming the
 * variable on a bad value. Leaves the clock fields alone. */
int sfp_ttl_cache_config_from_env(sfp_ttl_cache_config *c, sfp_err *err);

/* Caller owns the cache; free with sfp_ttl_cache_free (NULL-safe) after all flights ended. */
sfp_ttl_cache *sfp_ttl_cache_new(const sfp_ttl_cache_config *c);
void sfp_ttl_cache_free(sfp_ttl_cache *c);

typedef enum {
    SFP_CACHE_HIT = 0, /* fresh entry: val (new ref), age_s, ttl_left_s set */
    SFP_CACHE_LEAD,    /* caller must fetch and then fill or fail `flight` */
    SFP_CACHE_JOIN,    /* another caller is fetching: sfp_ttl_cache_wait on `flight` */
} sfp_cache_lookup_kind;

typedef struct sfp_cache_lookup {
    sfp_cache_lookup_kind kind;
    sfp_cache_val *val;
    double age_s;
    double ttl_left_s;
    sfp_cache_flight *flight; /* LEAD/JOIN: the caller's handle (ends with fill/fail/wait) */
} sfp_cache_lookup;

/* Non-blocking. */
void sfp_ttl_cache_lookup(sfp_ttl_cache *c, const char *key, sfp_cache_lookup *out);

/* Leader: stores val under the flight's key (the cache takes its own reference; the caller
 * keeps its reference), hands it to the joiners and ends the caller's flight handle. */
void sfp_ttl_cache_fill(sfp_ttl_cache *c, sfp_cache_flight *f, sfp_cache_val *val);
/* Leader: ends the flight without caching anything; reason (≤31 chars) goes to joiners. */
void sfp_ttl_cache_fail(sfp_ttl_cache *c, sfp_cache_flight *f, const char *reason, bool retry);

typedef enum {
    SFP_CACHE_WAIT_FILLED = 0, /* *val = new reference to the leader's value */
    SFP_CACHE_WAIT_FAILED,     /* reason filled with the leader's failure */
    SFP_CACHE_WAIT_LEAD,       /* promoted: caller is now the leader of `f` (fill or fail it) */
    SFP_CACHE_WAIT_TIMEOUT,    /* deadline passed first */
} sfp_cache_wait_rc;

/* Joiner: waits until the flight ends or deadline_ms (sfp_mono_ms() clock) passes.
 * Except for WAIT_LEAD, the caller's flight handle is ended. reason: char[32] or NULL. */
sfp_cache_wait_rc sfp_ttl_cache_wait(sfp_ttl_cache *c, sfp_cache_flight *f, int64_t deadline_ms, sfp_cache_val **val,
                                     char *reason);

/* An entry within ttl+stale_max (fresh or expired): *val new reference, *age_s its age.
 * Counts stale_served. */
bool sfp_ttl_cache_get_stale(sfp_ttl_cache *c, const char *key, sfp_cache_val **val, double *age_s);
/* A fresh entry without starting a flight (for callers that coalesce misses themselves):
 * *val new reference and true, or false. Counts hits/misses like sfp_ttl_cache_lookup. */
bool sfp_ttl_cache_peek(sfp_ttl_cache *c, const char *key, sfp_cache_val **val);
/* Drops the entry of key, if any (readers holding its value keep it). Returns whether one was. */
bool sfp_ttl_cache_remove(sfp_ttl_cache *c, const char *key);
/* Direct insert/replace without a flight (the cache takes its own reference). */
void sfp_ttl_cache_put(sfp_ttl_cache *c, const char *key, sfp_cache_val *val);

/* Drops every entry (readers holding a value keep it); running flights are not affected. */
void sfp_ttl_cache_clear(sfp_ttl_cache *c);

int sfp_ttl_cache_ttl(const sfp_ttl_cache *c);
void sfp_ttl_cache_get_stats(sfp_ttl_cache *c, sfp_ttl_cache_stats *s);

#endif
