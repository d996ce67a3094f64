/* singleflight.h — per-key request coalescing inside one process: the first caller of a key
 * LEADS (computes), later callers of the same key JOIN and wait, each with its own deadline,
 * for the leader's outcome. The response caches (ttl_cache.h, page_cache.h) both coalesce
 * through it.
 *
 * Outcomes of a flight (exactly one per leader):
 *   done(result)          every joiner gets the result (copied out by the caller's function
 *                         under the lock); the flight leaves the table, so later callers look
 *                         in the cache again;
 *   fail(hand_over=false) every joiner gets the leader's reason (no retry storm against an
 *                         upstream that is failing);
 *   fail(hand_over=true)  the leader gave up for its own reasons (its deadline was shorter, the
 *                         error is not to be shared): exactly one joiner is promoted to leader
 *                         (wait returns PROMOTED), the others keep waiting. With no joiner left
 *                         the flight is dropped. A caller that begins the key while the flight
 *                         waits for its new leader takes it over at once.
 *
 * Locking: the owner's mutex (given to sfp_sf_init) must be held around EVERY call; waits
 * release it while blocked (each flight has a CLOCK_MONOTONIC condition variable on it). That
 * lets a cache check its entries and the flights in one critical section.
 *
 * Ownership: the owner embeds the sfp_sf and destroys it after every flight ended. A result
 * passed to done belongs to the flight and is freed with free_result (may be NULL) when the
 * last handle goes. A handle (sfp_sf_flight *) from begin/join is the caller's: a leader ends it
 * with done or fail, a joiner with wait (unless PROMOTED: it then leads). */
#ifndef SFP_SINGLEFLIGHT_H
#define SFP_SINGLEFLIGHT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SFP_SF_BUCKETS 64

typedef struct sfp_sf_flight sfp_sf_flight;

typedef struct sfp_sf {
    pthread_mutex_t *mu; /* the owner's; held around every call */
    void (*free_result)(void *result);
    sfp_sf_flight *buckets[SFP_SF_BUCKETS];
    int64_t in_flight; /* flights in the table now */
} sfp_sf;

void sfp_sf_init(sfp_sf *g, pthread_mutex_t *mu, void (*free_result)(void *result));
/* Drops the table's flights (handles still out are a caller bug). */
void sfp_sf_destroy(sfp_sf *g);

typedef enum {
    SFP_SF_NONE = 0, /* sfp_sf_join only: no flight for the key (*f = NULL) */
    SFP_SF_JOINED,   /* wait on *f */
    SFP_SF_LEADS,    /* compute, then done or fail *f */
} sfp_sf_role;

/* Joins the key's flight or, when none runs, starts one (never NONE). */
sfp_sf_role sfp_sf_begin(sfp_sf *g, const char *key, sfp_sf_flight **f);
/* Joins the key's flight if one runs; never starts one. */
sfp_sf_role sfp_sf_join(sfp_sf *g, const char *key, sfp_sf_flight **f);

/* The hash of a key that the flight table uses (64-bit FNV-1a), for an owner's own tables. */
uint64_t sfp_sf_hash(const char *key);

/* The key of a flight (valid while the caller holds its handle). */
const char *sfp_sf_key(const sfp_sf_flight *f);

/* Leader: the flight's result (ownership passes); ends the leader's handle. */
void sfp_sf_done(sfp_sf *g, sfp_sf_flight *f, void *result);
/* Leader: ends the flight without a result; reason (≤31 chars) goes to the joiners unless
 * hand_over promotes one of them. Ends the leader's handle. */
void sfp_sf_fail(sfp_sf *g, sfp_sf_flight *f, const char *reason, bool hand_over);

typedef enum {
    SFP_SF_DONE = 0, /* copy(result, arg) ran under the lock */
    SFP_SF_FAILED,   /* reason holds the leader's */
    SFP_SF_PROMOTED, /* the caller now leads f: done or fail it */
    SFP_SF_TIMEOUT,  /* deadline_ms passed first (reason "deadline") */
} sfp_sf_wait_rc;

/* Joiner: waits until the flight ends or deadline_ms (sfp_mono_ms clock; INT64_MAX = no
 * deadline) passes. Except for PROMOTED the caller's handle is ended. copy may be NULL;
 * reason: char[32] or NULL. */
sfp_sf_wait_rc sfp_sf_wait(sfp_sf *g, sfp_sf_flight *f, int64_t deadline_ms,
                           void (*copy)(const void *result, void *arg), void *arg, char *reason);

#endif
