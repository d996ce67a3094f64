/* gw_json_cache.h — the gateway's one cache of rendered content, keyed by ETag.
 *
 * A read reply (GetPropertyReport, GetBrief) carries its content packed plus an etag the
 * service computed once when it assembled that content: equal etags mean byte-identical
 * content. So what the gateway renders from a content (its JSON) can be kept under the etag
 * and reused by every later reply with the same etag, without decoding the content again.
 * Keys are "<kind>:<etag>" (e.g. "report:<32 hex>"), so two kinds of content never share an
 * entry.
 *
 * Bounded: at most max_entries entries and max_bytes bytes of values; the least recently used
 * entries are evicted to make room, and a value larger than max_bytes / 4 is not stored (it
 * is still handed back to the caller). Thread-safe: one mutex, held only for the lookup and
 * the list update, never while rendering or copying.
 *
 * Ownership: the cache is owned by the gateway's server object (gw_server_json_cache),
 * created and freed with it. Entries are refcounted and immutable: the cache holds one
 * reference while an entry is listed; every entry handed out is a NEW reference the caller
 * drops with gw_json_entry_unref, so eviction never frees data a request is still using. */
#ifndef GW_JSON_CACHE_H
#define GW_JSON_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define GW_JSON_CACHE_KEY_MAX 64 /* longer keys are never stored */

typedef struct gw_json_cache gw_json_cache;
typedef struct gw_json_entry gw_json_entry;

typedef struct gw_json_cache_stats {
    int64_t hits, misses, stores, evictions, entries, bytes;
} gw_json_cache_stats;

/* NULL when max_entries or max_bytes is 0 (cache off: every call site then renders). */
gw_json_cache *gw_json_cache_new(size_t max_entries, size_t max_bytes);
void gw_json_cache_free(gw_json_cache *c);  /* NULL-safe; entries still referenced live on */
void gw_json_cache_clear(gw_json_cache *c); /* NULL-safe; drops every entry */

/* The entry stored under key (a new reference), or NULL. c may be NULL. */
gw_json_entry *gw_json_cache_get(gw_json_cache *c, const char *key);
/* Wraps data (malloc'd, ownership passes) in an entry and stores it under key, replacing an
 * entry of the same key; returns a new reference to it (never NULL). Not stored (but still
 * returned) when c is NULL, the key is too long or the value too large. */
gw_json_entry *gw_json_cache_put(gw_json_cache *c, const char *key, char *data, size_t len);

const char *gw_json_entry_data(const gw_json_entry *e, size_t *len);
void gw_json_entry_unref(gw_json_entry *e); /* NULL-safe */

void gw_json_cache_get_stats(gw_json_cache *c, gw_json_cache_stats *s); /* zeros for NULL */

#endif
