/* gw_config.h — the gateway's environment configuration, validated at start-up.
 *
 * The variables (GATEWAY_*, *_SVC_ADDR, CRON_WORKER, SHUTDOWN_GRACE_MS), their defaults and
 * ranges are rows of common/config_vars.h; `sfp-gateway --help` lists them. GATEWAY_ADDR is
 * host:port or [v6]:port here (no unix: sockets).
 *
 * Ownership: gw_config holds no allocations; its address strings point into the environment
 * or at static defaults, which live for the process.
 *
 * The libmicrohttpd per-connection memory pool is derived (gw_config_conn_memory). */
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
    int max_conn_per_client;
    int head_timeout_ms;
    int threads;
    int default_timeout_ms;
    int idle_timeout_s;
    int shutdown_grace_ms;
    int report_rate_limit;
    int report_rate_window_s;
    int json_cache_entries;      /* GATEWAY_JSON_CACHE_ENTRIES (0 = off) */
    int json_cache_mb;           /* GATEWAY_JSON_CACHE_MB */
    const char *trusted_proxies; /* points into env or "" */
    const char *cors_origins;    /* GATEWAY_CORS_ORIGINS, points into env or "" (gw_cors.h) */
} gw_config;

/* GATEWAY_THREADS default: online CPUs clamped to 2..64. */
int gw_config_default_threads(void);
/* Defaults, as if no variable were set (for tests). */
void gw_config_defaults(gw_config *cfg);
/* Reads and validates every variable; -1 with err naming the first bad variable. */
int gw_config_from_env(gw_config *cfg, sfp_err *err);
/* Splits "host:port" / "[v6]:port" into cfg->host / cfg->port. -1 + err on a bad address. */
int gw_config_split_addr(const char *name, const char *addr, gw_config *cfg, sfp_err *err);
/* libmicrohttpd MHD_OPTION_CONNECTION_MEMORY_LIMIT for cfg: max_header_bytes + 2 KiB (room
 * for libmicrohttpd's header records and the response header), rounded up to 1 KiB.
 * libmicrohttpd clears the whole pool after every request, so each keep-alive connection keeps
 * this much memory committed: the figure bounds the gateway's memory per idle connection. */
size_t gw_config_conn_memory(const gw_config *cfg);

#endif
