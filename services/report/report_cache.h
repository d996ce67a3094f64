/* report_cache.h — assembled reports kept in memory, so a popular parcel costs no SQL and no
 * SODA call until its data changes.
 *
 * An entry is the packed content of a report (a PropertyReport, report_assemble.h) and its
 * ETag (hashed once, when it was assembled), plus what is needed to rebuild the response's
 * metadata: the state, age and TTL of each SODA source when it was assembled, and its
 * generated_at. It is served only while ALL of:
 *   - it is younger than REPORT_CACHE_TTL_S and than the shortest TTL its SODA sources had
 *     left (so `sources` stays truthful and a SODA refresh is never skipped);
 *   - "today" is the day it was assembled for (risk rules count days);
 *   - no data change was notified since its computation STARTED: migration 0007 makes every
 *     write to a table the report reads send NOTIFY sfp_data_changed, which bumps the cache's
 *     generation (sfp_rpt_cache_listen_event, driven by a db_listen.h listener);
 *   - the listener is connected: while it is down, changes could be missed, so the cache is
 *     bypassed (no reads, no stores) until it is back.
 * Degraded reports (a needed source stale or unavailable) and errors are never stored.
 *
 * Concurrent misses for one parcel are coalesced (common/ttl_cache.h singleflight): one
 * request assembles, the others wait for it within their own deadline.
 *
 * Environment (sfp_rpt_cache_config_from_env; errors name the variable):
 *   REPORT_CACHE_TTL_S        300  (0..86400) longest life of an entry; 0 disables the cache
 *   REPORT_CACHE_MAX_ENTRIES  512  (1..100000) LRU bound (an entry is ~40–80 KB for a
 *                                   44-permit parcel)
 */
#ifndef SFP_REPORT_CACHE_H
#define SFP_REPORT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "db_listen.h"
#include "report_soda.h"
#include "sfp_err.h"
#include "ttl_cache.h"

#define SFP_RPT_CACHE_CHANNEL "sfp_data_changed"

typedef struct sfp_rpt_cache_config {
    int ttl_s;
    int max_entries;
    sfp_clock_fn clock; /* ages and expiry; NULL = sfp_mono_clock (tests pass a fake) */
    void *clock_arg;
} sfp_rpt_cache_config;

void sfp_rpt_cache_config_defaults(sfp_rpt_cache_config *c);
int sfp_rpt_cache_config_from_env(sfp_rpt_cache_config *c, sfp_err *err);

/* One stored report; immutable once stored. */
typedef struct sfp_rpt_cached {
    uint8_t *content; /* malloc'd: the packed PropertyReport */
    size_t len;
    char etag[33]; /* sfp_rpt_content_etag of content */
    int32_t today;
    double stored_at; /* the cache's clock, seconds */
    double expires_at;
    unsigned soda_needed;
    sfp_rpt_soda_result soda[SFP_RPT_DS_N]; /* states, ages, TTLs; no records */
    char generated_at[32];
} sfp_rpt_cached;

typedef struct sfp_rpt_cache sfp_rpt_cache;

/* A miss hands the caller a ticket: it assembles the report, then ends the ticket with
 * exactly one of sfp_rpt_cache_store / sfp_rpt_cache_abandon. */
typedef struct sfp_rpt_cache_ticket {
    char key[16];
    uint64_t generation; /* when the lookup happened */
    bool active;         /* false: cache off or bypassed; store/abandon are no-ops */
    sfp_cache_flight *flight;
} sfp_rpt_cache_ticket;

typedef struct sfp_rpt_cache_stats {
    int64_t hits, misses, stores, invalidations, entries, coalesced;
    bool listening;
} sfp_rpt_cache_stats;

/* NULL when c->ttl_s == 0 (disabled). Starts bypassed until the first SFP_LISTEN_UP. */
sfp_rpt_cache *sfp_rpt_cache_new(const sfp_rpt_cache_config *c);
void sfp_rpt_cache_free(sfp_rpt_cache *c); /* NULL-safe; stop the listener first */

/* sfp_listen_fn for the listener on SFP_RPT_CACHE_CHANNEL (user = the cache). */
void sfp_rpt_cache_listen_event(void *cache, sfp_listen_event ev, const char *payload);

/* Looks up block/lot for `today`. A servable entry: returns a new reference (read it with
 * sfp_cache_val_data, drop it with sfp_cache_val_unref) and leaves t inactive. Otherwise
 * NULL and t is the caller's ticket — possibly after waiting, until deadline_ms
 * (sfp_mono_ms clock), for another request assembling the same parcel. c may be NULL. */
sfp_cache_val *sfp_rpt_cache_get(sfp_rpt_cache *c, const char *block, const char *lot, int32_t today,
                                 int64_t deadline_ms, sfp_rpt_cache_ticket *t);
/* Stores e (ownership passes; freed here when not stored) unless the data changed since the
 * ticket's lookup or the listener went down meanwhile. e == NULL ends the ticket unstored. */
void sfp_rpt_cache_store(sfp_rpt_cache *c, sfp_rpt_cache_ticket *t, sfp_rpt_cached *e);
void sfp_rpt_cache_abandon(sfp_rpt_cache *c, sfp_rpt_cache_ticket *t);
/* An entry for an assembled report (content and etag copied; SODA states, ages and TTLs kept,
 * records not), servable until the shortest TTL its needed sources have left runs out. NULL — not to
 * be kept — when a needed source is stale or unavailable (sfp_rpt_sources_max_age is 0). */
sfp_rpt_cached *sfp_rpt_cached_new(const uint8_t *content, size_t len, const char *etag, int32_t today,
                                   const sfp_rpt_soda_result soda[SFP_RPT_DS_N], unsigned needed,
                                   const char *generated_at, double now_s);
void sfp_rpt_cached_free(void *e); /* NULL-safe */
/* e's sources as of now_s: the needed ones `cached`, aged by the time since e was stored. */
void sfp_rpt_cached_sources(const sfp_rpt_cached *e, double now_s, sfp_rpt_soda_result out[SFP_RPT_DS_N]);

void sfp_rpt_cache_get_stats(sfp_rpt_cache *c, sfp_rpt_cache_stats *s); /* zeros for NULL */
/* The cache's clock now, in seconds (sfp_mono_s for NULL): the `now_s` of the two calls above. */
double sfp_rpt_cache_now(const sfp_rpt_cache *c);

#endif
