/* sfp-brief — wiring only: env → pool, page cache, BriefService, rpc server. See README.md. */
#include <malloc.h>
#include <stdio.h>

#include "brief_service.h"
#include "config.h"
#include "db_listen.h"
#include "db_url.h"
#include "log.h"
#include "service_main.h"

static void on_page_cache_event(void *user, sfp_listen_event ev, const char *payload)
{
    sfp_page_cache_listen_event(user, ev, payload);
}

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(SFP_B_BRIEF, "",
                                 "sfp-brief: the morning brief gRPC service (sfpermits.v1.BriefService).", argc, argv);
    if (early >= 0) return early;
    /* Every read reply moves 40-80 KB buffers (the packed content, its JSON, gRPC slices)
     * through malloc/free on several threads. With glibc's defaults such a buffer is a fresh
     * mmap or, freed, trimmed back with madvise (a TLB shootdown across cores), and the next
     * request faults its pages in again: measured, most of the cached path's gateway CPU. Keep
     * freed memory for reuse and serve these buffers from the heap. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    sfp_log_init("brief");
    sfp_err err = {0};
    sfp_service_env env;
    sfp_pool_config pcfg;
    sfp_brief_config bcfg;
    if (sfp_service_env_load(&env, SFP_B_BRIEF, &err) || sfp_pool_config_from_env(&pcfg, "sfp-brief", &err) ||
        sfp_brief_config_from_env(&bcfg, &err))
        return sfp_service_refuse("sfp-brief", &err);

    sfp_pool *pool = sfp_pool_create(&pcfg, &err);
    if (!pool) return sfp_service_refuse("sfp-brief", &err);
    sfp_page_cache *cache = sfp_page_cache_new(pool);
    /* The memory tier serves only while this LISTEN is up (page_cache.h). */
    sfp_db_listener *listener = NULL;
    if (bcfg.memory_cache_entries > 0 && bcfg.cache_ttl_minutes > 0) {
        sfp_page_cache_set_memory(cache, bcfg.memory_cache_entries, NULL, NULL);
        listener = sfp_db_listen_start(pool, SFP_PAGE_CACHE_CHANNEL, "listen", on_page_cache_event, cache);
    }
    sfp_brief_auth_cache *auth_cache = bcfg.auth_cache_ms > 0 ? sfp_brief_auth_cache_new(bcfg.auth_cache_ms) : NULL;
    static sfp_brief_service svc; /* counters are atomics: zero-initialised static storage */
    svc.pool = pool;
    svc.cache = cache;
    svc.auth_cache = auth_cache;
    svc.cfg = bcfg;
    sfp_rpc_method methods[2];
    sfp_brief_service_methods(&svc, methods);
    static const char *const names[] = {SFP_BRIEF_SERVICE_NAME, NULL};
    sfp_service_outbound outbound = {.pool = pool, .cancel_pool = sfp_pool_cancel_all};
    sfp_rpc_server_config scfg = {
        .service = "brief",
        .addr = env.listen_addr,
        .workers = env.workers,
        .drain_timeout_ms = env.drain_ms,
        .service_names = names,
        .ready = sfp_pool_ready_cb,
        .ready_user = pool,
        .stats = sfp_brief_service_stats,
        .stats_user = &svc,
        .on_grace_expired = sfp_service_cancel_outbound,
        .grace_user = &outbound,
    };
    sfp_log(SFP_INFO, "brief config", SFP_I("cache_ttl_minutes", bcfg.cache_ttl_minutes),
            SFP_I("degraded_ttl_minutes", bcfg.degraded_ttl_minutes),
            SFP_I("refresh_interval_s", bcfg.refresh_interval_s),
            SFP_I("statement_timeout_ms", bcfg.statement_timeout_ms), SFP_I("auth_cache_ms", bcfg.auth_cache_ms),
            SFP_I("memory_cache_entries", listener ? bcfg.memory_cache_entries : 0),
            SFP_B("service_identity", bcfg.service_secret && *bcfg.service_secret));
    int rc = sfp_service_serve(&scfg, methods, 2);
    sfp_db_listen_stop(listener);
    sfp_page_cache_free(cache);
    sfp_brief_auth_cache_free(auth_cache);
    sfp_pool_destroy(pool);
    return rc;
}
