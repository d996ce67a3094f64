/* gw_ratelimit.h — per-client fixed-window rate limiter (the reference's 10 requests / 60 s per
 * IP on /report) and client-IP resolution that only believes X-Forwarded-For from trusted
 * proxies. Pure logic, no I/O; the clock is passed in.
 *
 * Window: a client's window starts at its first request; `limit` requests pass, the rest get
 * 429 until the window ends (Retry-After = seconds left, at least 1). The table holds at most
 * `max_clients` entries; when full, expired entries are swept, and if none expired the oldest
 * window is dropped (that client starts over — never a false 429).
 *
 * Ownership: the limiter owns its table; keys are copied. Thread-safe (one mutex). */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_ratelimit gw_ratelimit;

/* limit 0 disables the limiter (gw_ratelimit_take always allows). */
gw_ratelimit *gw_ratelimit_new(int limit, int window_s, size_t max_clients);
void gw_ratelimit_free(gw_ratelimit *rl); /* NULL-safe */
/* True when the request may pass; else *retry_after_s is set. */
bool gw_ratelimit_take(gw_ratelimit *rl, const char *client, int64_t now_ns, int *retry_after_s);

/* The client address for rate limiting: `peer` unless peer is in `trusted` (comma-separated
 * IP list) and X-Forwarded-For is present, in which case the rightmost XFF entry that is not
 * itself a trusted proxy (entries to its left are client-supplied and can be forged). Writes
 * at most n bytes into out. */
void gw_client_ip(const char *peer, const char *xff, const char *trusted, char *out, size_t n);

#endif
