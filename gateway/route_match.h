/* route_match.h — the gateway's route table and a pure path matcher (no I/O, no MHD).
 *
 * Pattern grammar (a subset of google.api.HttpRule): "/" segment ("/" segment)*, where a
 * segment is a literal of [A-Za-z0-9._~-] or a capture "{name}" with name [a-z_][a-z0-9_]*
 * (a capture is one whole segment, never "/"). Patterns are compiled once at start-up by
 * gw_router_create, which rejects malformed patterns and ambiguous routes (two routes with the
 * same shape and overlapping methods).
 *
 * Matching rules (documented in README/gateway; unit-tested in tests/unit/test_gateway_routes.c):
 *  - The raw request path (the request target before '?', as received) is split on '/', then
 *    each segment is percent-decoded exactly once (%XX, hex either case). "+" stays "+".
 *  - A malformed escape (%G1, truncated %4) or an encoded NUL anywhere → GW_MATCH_BAD_PATH (400).
 *  - Literal segments compare byte-for-byte with the decoded segment (so "/heal%74h" matches
 *    "/health", "/health%2F" does not).
 *  - Empty segments are never matched: a trailing slash ("/health/") or "//" → 404.
 *  - A capture takes one decoded segment. If the path has a route's shape but a captured value
 *    is empty, contains '/' (only possible via %2F), or contains a control character, the
 *    result is GW_MATCH_BAD_PATH (400, message names the parameter) unless another route
 *    matches fully.
 *  - The most specific route wins (more literal segments; table order breaks ties, although
 *    the validator forbids real ties). HEAD is allowed wherever GET is.
 *  - If routes match the path but none allows the method → GW_MATCH_METHOD_NOT_ALLOWED with
 *    the union of their methods (for the Allow header); nothing matches → GW_MATCH_NOT_FOUND.
 *  - Routes whose class is not in the caller's visibility mask do not exist for that request
 *    (CRON_WORKER gating: hidden routes give 404, never 405).
 *
 * Ownership: gw_router is owned by its creator (gw_router_destroy). The route array passed to
 * gw_router_create must outlive the router (routes are static tables). A gw_match owns the
 * decoded-path storage its captures point into; release it with gw_match_clear. */
#ifndef GW_ROUTE_MATCH_H
#define GW_ROUTE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "sfp_err.h"

struct gw_request;
struct gw_response;
typedef void (*gw_handler)(struct gw_request *req, struct gw_response *resp);

/* HTTP methods as bits. GW_M_OTHER stands for any method we do not route (e.g. TRACE). */
enum {
    GW_M_GET = 1u << 0,
    GW_M_HEAD = 1u << 1,
    GW_M_POST = 1u << 2,
    GW_M_PUT = 1u << 3,
    GW_M_DELETE = 1u << 4,
    GW_M_PATCH = 1u << 5,
    GW_M_OPTIONS = 1u << 6,
    GW_M_OTHER = 1u << 7,
};

/* Route classes, for CRON_WORKER gating (issue 5): a cron worker exposes only HEALTH and
 * CRON_*; a web replica hides CRON_TRIGGER. */
typedef enum {
    GW_CLASS_PUBLIC = 0,
    GW_CLASS_HEALTH = 1,
    GW_CLASS_CRON_TRIGGER = 2,
    GW_CLASS_CRON_READ = 3,
} gw_route_class;
#define GW_CLASS_BIT(c) (1u << (unsigned)(c))
/* Visibility mask for a process: cron_worker → HEALTH|CRON_*; else everything but CRON_TRIGGER. */
unsigned gw_visible_classes(bool cron_worker);

typedef struct gw_route {
    unsigned methods;    /* GW_M_* bits; GET implies HEAD */
    const char *pattern; /* "/report/{block}/{lot}" */
    gw_handler handler;
    gw_route_class klass;
    int deadline_ms;          /* default gRPC deadline for this route; 0 = gateway default */
    const char *const *query; /* allowed query parameter names (NULL-terminated): unknown ones
                                 → 400. NULL = parameters are not interpreted and ignored */
} gw_route;

#define GW_MAX_SEGMENTS 16
#define GW_MAX_CAPTURES 8

typedef struct gw_router gw_router;

/* Compiles and validates the table; NULL + err (naming the pattern) on a bad table. */
gw_router *gw_router_create(const gw_route *routes, size_t n, sfp_err *err);
void gw_router_destroy(gw_router *r); /* NULL-safe */

typedef enum {
    GW_MATCH_OK = 0,
    GW_MATCH_NOT_FOUND,
    GW_MATCH_METHOD_NOT_ALLOWED,
    GW_MATCH_BAD_PATH,
} gw_match_result;

typedef struct gw_capture {
    const char *name;  /* points into the router */
    const char *value; /* decoded, NUL-terminated, points into gw_match.storage */
} gw_capture;

typedef struct gw_match {
    gw_match_result result;
    const gw_route *route; /* GW_MATCH_OK only */
    unsigned allow;        /* GW_MATCH_METHOD_NOT_ALLOWED: methods of the matching routes */
    const char *error;     /* GW_MATCH_BAD_PATH: static reason text */
    const char *bad_param; /* GW_MATCH_BAD_PATH for a capture: its name, else NULL */
    int ncaptures;
    gw_capture captures[GW_MAX_CAPTURES];
    char *storage; /* owned; freed by gw_match_clear */
} gw_match;

/* Method name → GW_M_* bit ("GET" → GW_M_GET; unknown → GW_M_OTHER). Case-sensitive (RFC 9110). */
unsigned gw_method_bit(const char *method);

/* Matches method + raw path (no query string; must start with '/'). Always fills *m (call
 * gw_match_clear afterwards) and returns m->result. */
gw_match_result gw_router_match(const gw_router *r, const char *method, const char *raw_path, unsigned visible_classes,
                                gw_match *m);
void gw_match_clear(gw_match *m);
/* Capture by name, or NULL. */
const char *gw_match_capture(const gw_match *m, const char *name);

/* Allow header value for a method mask, in a fixed order ("GET, HEAD, POST"); GET adds HEAD.
 * Returns the length written (always NUL-terminated when cap > 0). */
size_t gw_allow_header(unsigned methods, char *buf, size_t cap);

/* Percent-decodes src[0..n) into dst (capacity >= n+1). Returns the decoded length, or -1 for a
 * malformed escape or an encoded NUL. '+' is not special. */
long gw_percent_decode(const char *src, size_t n, char *dst);

#endif
