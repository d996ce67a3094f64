/* gw_config.h — the gateway's environment configuration, validated at start-up.
 *
 *   GATEWAY_ADDR             host:port to listen on (default 127.0.0.1:8080; port 0 = any free
 *                            port, the bound port is logged as {"msg":"listening","port":N}).
 *                            [v6]:port accepted; unix: sockets are not supported here.
 *   HEALTH_SVC_ADDR, REPORT_SVC_ADDR, BRIEF_SVC_ADDR, CRON_SVC_ADDR
 *                            backends (defaults in common/config.h)
 *   CRON_WORKER              bool (default false): cron-worker route gating (issue 5)
 *   GATEWAY_MAX_URL          longest request target in bytes, path + query (2048; 64..65536) → 414
 *   GATEWAY_MAX_HEADER_BYTES request line + all header lines (16384; 1024..1048576) → 431
 *   GATEWAY_MAX_BODY         request body bytes (65536; 0..16777216) → 413
 *   GATEWAY_MAX_CONNECTIONS  concurrent connections = threads (512; 1..10000); beyond it new
 *                            connections are closed by libmicrohttpd without a response
 *   GATEWAY_TIMEOUT_MS       default gRPC deadline of a route without its own (5000; 1..30000)
 *   GATEWAY_IDLE_TIMEOUT     seconds an idle keep-alive connection is kept (60; 1..3600)
 *   SHUTDOWN_GRACE_MS        SIGTERM: wait this long for in-flight requests (10000; 0..600000)
 *   GATEWAY_REPORT_RATE_LIMIT   /report requests per client per window (10; 0 disables; ..100000)
 *   GATEWAY_REPORT_RATE_WINDOW  the window in seconds (60; 1..86400)
 *   GATEWAY_TRUSTED_PROXIES     comma-separated proxy IPs whose X-Forwarded-For is believed
 *                               for the client address (default none: the peer address counts)
 *   GATEWAY_CORS_ORIGINS     comma-separated origins allowed cross-origin requests (default
 *                            none: CORS off); see gw_cors.h
 *   GATEWAY_THREADS          not applicable (thread per connection); a warning is logged if set
 *
 * Ownership: gw_config holds no allocations; its address strings point into the environment
 * or at static defaults, which live for the process.
 *
 * The libmicrohttpd per-connection memory pool is derived (gw_config_conn_memory): it must be
 * large enough that requests up to the limits above reach the gateway's own checks, so their
 * 414/431 answers carry X-Response-Time; see http_server.h. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "sfp_err.h"

#define GW_MAX_TIMEOUT_MS 30000 /* cap of X-Timeout-Ms */

typedef struct gw_config {
    const char *addr; /* GATEWAY_ADDR as given (points into env or a default) */
    char host[256];   /* parsed host without [] */
    int port;
    const char *health_addr, *report_addr, *brief_addr, *cron_addr;
    bool cron_worker;
    long max_url;
    long max_header_bytes;
    long max_body;
    int max_connections;
    int default_timeout_ms;
    int idle_timeout_s;
    int shutdown_grace_ms;
    int report_rate_limit;
    int report_rate_window_s;
    const char *trusted_proxies; /* points into env or "" */
    const char *cors_origins;    /* GATEWAY_CORS_ORIGINS, points into env or "" (gw_cors.h) */
} gw_config;

/* Defaults, as if no variable were set (for tests). */
void gw_config_defaults(gw_config *cfg);
/* Reads and validates every variable; -1 with err naming the first bad variable. */
int gw_config_from_env(gw_config *cfg, sfp_err *err);
/* Splits "host:port" / "[v6]:port" into cfg->host / cfg->port. -1 + err on a bad address. */
int gw_config_split_addr(const char *name, const char *addr, gw_config *cfg, sfp_err *err);
/* libmicrohttpd MHD_OPTION_CONNECTION_MEMORY_LIMIT for cfg:
 * max(256 KiB, 4 * (max_header_bytes + max_url)) rounded up to 4 KiB. */
size_t gw_config_conn_memory(const gw_config *cfg);

#endif
