/* gw_config.c — see gw_config.h. */
#include "gw_config.h"
#include "gw_cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include <unistd.h>

int gw_config_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 64 ? 64 : (int)n;
}

void gw_config_defaults(gw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->addr = SFP_DEFAULT_GATEWAY_ADDR;
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 8080;
    cfg->health_addr = SFP_DEFAULT_HEALTH_ADDR;
    cfg->report_addr = SFP_DEFAULT_REPORT_ADDR;
    cfg->brief_addr = SFP_DEFAULT_BRIEF_ADDR;
    cfg->cron_addr = SFP_DEFAULT_CRON_ADDR;
    cfg->cron_worker = false;
    cfg->max_url = 2048;
    cfg->max_header_bytes = 4096;
    cfg->max_body = 65536;
    cfg->max_connections = 10000;
    cfg->max_conn_per_client = 256;
    cfg->head_timeout_ms = 10000;
    cfg->threads = gw_config_default_threads();
    cfg->default_timeout_ms = 5000;
    cfg->idle_timeout_s = 60;
    cfg->shutdown_grace_ms = 10000;
    cfg->json_cache_entries = 256;
    cfg->json_cache_mb = 64;
}

int gw_config_split_addr(const char *name, const char *addr, gw_config *cfg, sfp_err *err)
{
    if (sfp_parse_addr(name, addr, err)) return -1;
    if (!strncmp(addr, "unix:", 5))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                           "%s: unix sockets are not supported by the gateway; use host:port", name);
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hn = (size_t)(colon - addr);
    if (h[0] == '[') {
        h++;
        hn -= 2;
    }
    if (hn == 0 || hn >= sizeof cfg->host)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: bad host in '%.60s'", name, addr);
    memcpy(cfg->host, h, hn);
    cfg->host[hn] = '\0';
    long port;
    if (sfp_parse_long(name, colon + 1, 0, 65535, &port, err)) return -1;
    cfg->port = (int)port;
    return 0;
}

int gw_config_from_env(gw_config *cfg, sfp_err *err)
{
    gw_config_defaults(cfg);
    if (sfp_cfg_text("GATEWAY_ADDR", &cfg->addr, err)) return -1;
    if (gw_config_split_addr("GATEWAY_ADDR", cfg->addr, cfg, err)) return -1;
    if (sfp_cfg_text("HEALTH_SVC_ADDR", &cfg->health_addr, err)) return -1;
    if (sfp_cfg_text("REPORT_SVC_ADDR", &cfg->report_addr, err)) return -1;
    if (sfp_cfg_text("BRIEF_SVC_ADDR", &cfg->brief_addr, err)) return -1;
    if (sfp_cfg_text("CRON_SVC_ADDR", &cfg->cron_addr, err)) return -1;
    if (sfp_cfg_bool("CRON_WORKER", &cfg->cron_worker, err)) return -1;
    if (sfp_cfg_long("GATEWAY_MAX_URL", &cfg->max_url, err)) return -1;
    if (sfp_cfg_long("GATEWAY_MAX_HEADER_BYTES", &cfg->max_header_bytes, err)) return -1;
    if (sfp_cfg_long("GATEWAY_MAX_BODY", &cfg->max_body, err)) return -1;
    if (sfp_cfg_int("GATEWAY_MAX_CONNECTIONS", &cfg->max_connections, err)) return -1;
    if (sfp_cfg_int("GATEWAY_MAX_CONNECTIONS_PER_CLIENT", &cfg->max_conn_per_client, err)) return -1;
    if (sfp_cfg_int("GATEWAY_HEAD_TIMEOUT_MS", &cfg->head_timeout_ms, err)) return -1;
    int threads = 0;
    if (sfp_cfg_int("GATEWAY_THREADS", &threads, err)) return -1;
    if (threads > 0) cfg->threads = threads; /* 0: the default, one per CPU (at least 2) */
    if (sfp_cfg_int("GATEWAY_TIMEOUT_MS", &cfg->default_timeout_ms, err)) return -1;
    if (sfp_cfg_int("GATEWAY_IDLE_TIMEOUT", &cfg->idle_timeout_s, err)) return -1;
    if (sfp_cfg_int("SHUTDOWN_GRACE_MS", &cfg->shutdown_grace_ms, err)) return -1;
    if (sfp_cfg_int("GATEWAY_REPORT_RATE_LIMIT", &cfg->report_rate_limit, err)) return -1;
    if (sfp_cfg_int("GATEWAY_REPORT_RATE_WINDOW", &cfg->report_rate_window_s, err)) return -1;
    if (sfp_cfg_int("GATEWAY_JSON_CACHE_ENTRIES", &cfg->json_cache_entries, err)) return -1;
    if (sfp_cfg_int("GATEWAY_JSON_CACHE_MB", &cfg->json_cache_mb, err)) return -1;
    if (sfp_cfg_text("GATEWAY_TRUSTED_PROXIES", &cfg->trusted_proxies, err)) return -1;
    if (sfp_cfg_text("GATEWAY_CORS_ORIGINS", &cfg->cors_origins, err)) return -1;
    if (!cfg->cors_origins) cfg->cors_origins = "";
    if (gw_cors_validate(cfg->cors_origins, err)) return -1;
    return 0;
}

size_t gw_config_conn_memory(const gw_config *cfg)
{
    size_t need = (size_t)cfg->max_header_bytes + 2048;
    return (need + 1023) & ~(size_t)1023;
}
