/* sfp-report — wiring only: env → pool, SODA client, report cache + its LISTEN, report
 * service, rpc server. See report_service.h and report_cache.h (REPORT_*), db_pool.h (DATABASE_URL, DB_*), soda_client.h (SODA_*) and
 * config.h (LISTEN_ADDR, RPC_WORKERS, SHUTDOWN_GRACE_MS) for the environment. */
#include <malloc.h>
#include <stdio.h>

#include "config.h"
#include "db_url.h"
#include "log.h"
#include "service_main.h"
#include "report_cache.h"
#include "report_search.h"
#include "report_service.h"
#include "report_watch.h"
#include "soda_client.h"

/* One LISTEN on sfp_data_changed feeds both in-process copies. */
typedef struct listeners {
    sfp_rpt_cache *cache;
    sfp_rpt_watch *watch;
} listeners;

static void on_data_changed(void *user, sfp_listen_event ev, const char *payload)
{
    listeners *l = user;
    if (l->cache) sfp_rpt_cache_listen_event(l->cache, ev, payload);
    sfp_rpt_watch_listen_event(l->watch, ev, payload);
}

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(
        SFP_B_REPORT, "", "sfp-report: the property report gRPC service (sfpermits.v1.ReportService).", argc, argv);
    if (early >= 0) return early;
    /* Every read reply moves 40-80 KB buffers (the packed content, its JSON, gRPC slices)
     * through malloc/free on several threads. With glibc's defaults such a buffer is a fresh
     * mmap or, freed, trimmed back with madvise (a TLB shootdown across cores), and the next
     * request faults its pages in again: measured, most of the cached path's gateway CPU. Keep
     * freed memory for reuse and serve these buffers from the heap. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    sfp_log_init("report");
    sfp_err err = {0};
    sfp_service_env env;
    sfp_pool_config pcfg;
    sfp_report_config rcfg;
    sfp_rpt_cache_config ccfg;
    if (sfp_service_env_load(&env, SFP_B_REPORT, &err) || sfp_pool_config_from_env(&pcfg, "sfp-report", &err) ||
        sfp_report_config_from_env(&rcfg, &err) || sfp_rpt_cache_config_from_env(&ccfg, &err))
        return sfp_service_refuse("sfp-report", &err);
    rcfg.acquire_timeout_ms = pcfg.acquire_timeout_ms;

    sfp_soda *soda = sfp_soda_create_from_env(&err);
    if (!soda) return sfp_service_refuse("sfp-report", &err);
    sfp_pool *pool = sfp_pool_create(&pcfg, &err);
    if (!pool) {
        sfp_soda_destroy(soda);
        return sfp_service_refuse("sfp-report", &err);
    }
    sfp_rpt_cache *cache = sfp_rpt_cache_new(&ccfg); /* NULL when REPORT_CACHE_TTL_S=0 */
    sfp_rpt_watch *watch = sfp_rpt_watch_new(NULL, NULL);
    if (!watch) {
        sfp_rpt_cache_free(cache);
        sfp_pool_destroy(pool);
        sfp_soda_destroy(soda);
        sfp_err_set(&err, SFP_RESOURCE_EXHAUSTED, "out of memory");
        return sfp_service_refuse("sfp-report", &err);
    }
    listeners lis = {.cache = cache, .watch = watch};
    sfp_db_listener *listener = sfp_db_listen_start(pool, SFP_RPT_CACHE_CHANNEL, "listen", on_data_changed, &lis);
    sfp_report_service svc = {.pool = pool,
                              .soda = sfp_rpt_soda_from_client(soda),
                              .soda_client = soda,
                              .cfg = rcfg,
                              .cache = cache,
                              .watch = watch};
    sfp_rpc_method methods[] = {sfp_report_service_method(&svc), sfp_report_search_method(&svc)};
    static const char *const names[] = {SFP_REPORT_SERVICE_NAME, NULL};
    sfp_service_outbound outbound = {
        .pool = pool, .cancel_pool = sfp_pool_cancel_all, .soda = soda, .cancel_soda = sfp_soda_cancel_all};
    sfp_rpc_server_config scfg = {
        .service = "report",
        .addr = env.listen_addr,
        .workers = env.workers,
        .drain_timeout_ms = env.drain_ms,
        .service_names = names,
        .ready = sfp_pool_ready_cb,
        .ready_user = pool,
        .stats = sfp_report_service_stats,
        .stats_user = &svc,
        .on_grace_expired = sfp_service_cancel_outbound,
        .grace_user = &outbound,
    };
    int rc = sfp_service_serve(&scfg, methods, 2);
    sfp_db_listen_stop(listener);
    sfp_rpt_cache_free(cache);
    sfp_rpt_watch_free(watch);
    sfp_pool_destroy(pool);
    sfp_soda_destroy(soda);
    return rc;
}
