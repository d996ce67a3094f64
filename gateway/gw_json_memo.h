/* gw_json_memo.h — memo of the generic JSON encoder's output for responses whose bulk is the
 * same between requests and whose per-request fields are the message's LAST fields (so they
 * are the JSON's tail). One instance per route (so routes do not evict each other's pages).
 *
 * An entry is keyed by a caller-chosen key that changes whenever the non-tail content does
 * (an etag) and holds the encoder's output up to, not including, the tail — which starts at
 * the LAST occurrence of the instance's tail marker (e.g. `,"sources":`, the first per-request
 * field's key with its leading comma). A response is then prefix + a freshly encoded tail.
 * The tail is encoded by the same generic encoder from a message of the same type that
 * carries only the per-request fields (everything else at its zero value). An entry is
 * stored only when the full encoding's tail is byte-for-byte that separately encoded tail, so
 * any surprise in the encoder's output (a new trailing field, say) just disables the memo
 * for that response: the bytes served are always exactly sfp_pbjson_encode(full).
 *
 * Bounded: at most `max_entries` entries (LRU), and prefixes longer than `max_bytes` are not
 * stored. Thread-safe (one mutex per instance; encoding happens outside it).
 *
 * Ownership: the memo owns its entries (keys and prefixes are copied). Every char * returned
 * is malloc'd and NUL-terminated; the caller frees it. */
#ifndef GW_JSON_MEMO_H
#define GW_JSON_MEMO_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_JSON_MEMO_KEY_MAX 96 /* longer keys are never memoised */

typedef struct gw_json_memo gw_json_memo;

/* tail_marker is not copied (a string literal). NULL on bad arguments. */
gw_json_memo *gw_json_memo_new(const char *tail_marker, size_t max_entries, size_t max_bytes);
void gw_json_memo_free(gw_json_memo *m);  /* NULL-safe */
void gw_json_memo_clear(gw_json_memo *m); /* drops every entry */

/* The JSON tail (from the marker through the closing brace) of the generic encoding of
 * tail_msg, a message carrying only the per-request fields; NULL when the encoding has no
 * marker. *len gets its length. */
char *gw_json_memo_tail(const gw_json_memo *m, const ProtobufCMessage *tail_msg, size_t *len);

/* Memo hit: the body (the prefix stored under key + tail) and its length; NULL on a miss. */
char *gw_json_memo_get(gw_json_memo *m, const char *key, const char *tail, size_t tail_len, size_t *len);

/* Memo miss: the full generic encoding of `full` (what sfp_pbjson_encode returns), stored
 * under key when its tail equals tail[0..tail_len) (tail may be NULL: nothing stored). */
char *gw_json_memo_fill(gw_json_memo *m, const char *key, const ProtobufCMessage *full, const char *tail,
                        size_t tail_len, size_t *len);

/* gw_json_memo_tail + _get, else _fill: the body for `full` whose per-request fields are those
 * of tail_msg. key NULL or "" → no memo (plain encoding). *hit tells which path served it. */
char *gw_json_memo_encode(gw_json_memo *m, const char *key, const ProtobufCMessage *full,
                          const ProtobufCMessage *tail_msg, size_t *len, bool *hit);

#endif
