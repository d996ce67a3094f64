/* sfp-cron — wiring only: env → pool, SODA client, brief channel, cron service, rpc server.
 * Environment: cron_service.h (CRON_*), db_pool.h (DATABASE_URL, DB_*), soda_client.h (SODA_*),
 * config.h (LISTEN_ADDR default 127.0.0.1:50053, RPC_WORKERS, SHUTDOWN_GRACE_MS), METRICS_ADDR
 * (common/service_main.h) and BRIEF_SVC_ADDR (default 127.0.0.1:50052; "off" = no warm-up
 * target). */
#include <malloc.h>
#include <string.h>

#include "config.h"
#include "db_url.h"
#include "cron_service.h"
#include "log.h"
#include "service_main.h"
#include "soda_client.h"

static int refuse(const sfp_err *err)
{
    return sfp_service_refuse("sfp-cron", err);
}

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(SFP_B_CRON, "",
                                 "sfp-cron: the scheduled jobs gRPC service (sfpermits.v1.CronService).", argc, argv);
    if (early >= 0) return early;
    /* The nightly parses SODA pages of 10,000 rows (a few MB of JSON, ~35 small allocations a
     * row) page after page. With glibc's defaults every freed page is trimmed back to the
     * kernel and the next one faults it in again: measured, 3.5x the CPU of the parse itself.
     * Keep freed memory for reuse and serve page buffers from the heap instead of fresh mmaps. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    sfp_log_init("cron");
    sfp_err err = {0};
    sfp_service_env env;
    sfp_pool_config pcfg;
    sfp_cron_config ccfg;
    const char *brief_addr;
    if (sfp_service_env_load(&env, SFP_B_CRON, &err) || sfp_pool_config_from_env(&pcfg, "sfp-cron", &err) ||
        sfp_cron_config_from_env(&ccfg, &err) || sfp_cfg_text("BRIEF_SVC_ADDR", &brief_addr, &err))
        return refuse(&err);
    if (!ccfg.secret || !*ccfg.secret)
        sfp_log_msg(SFP_WARN, "CRON_SECRET is empty: every job call will be rejected (GetStatus still works)");

    sfp_soda *soda = sfp_soda_create_from_env(&err);
    if (!soda) return refuse(&err);
    sfp_pool *pool = sfp_pool_create(&pcfg, &err);
    if (!pool) {
        sfp_soda_destroy(soda);
        return refuse(&err);
    }
    sfp_rpc_channel *brief = strcmp(brief_addr, "off") ? sfp_rpc_channel_create(brief_addr) : NULL;
    static sfp_cron_service svc; /* counters are atomics: zero-initialised static storage */
    svc.pool = pool;
    svc.soda = soda;
    svc.brief = brief;
    svc.cfg = ccfg;
    sfp_rpc_method methods[SFP_CRON_NMETHODS];
    size_t nm = sfp_cron_service_methods(&svc, methods);
    static const char *const names[] = {SFP_CRON_SERVICE_NAME, NULL};
    sfp_service_outbound outbound = {
        .pool = pool, .cancel_pool = sfp_pool_cancel_all, .soda = soda, .cancel_soda = sfp_soda_cancel_all};
    sfp_rpc_server_config scfg = {
        .service = "cron",
        .addr = env.listen_addr,
        .workers = env.workers,
        .drain_timeout_ms = env.drain_ms,
        .service_names = names,
        .ready = sfp_pool_ready_cb,
        .ready_user = pool,
        .stats = sfp_cron_service_stats,
        .stats_user = &svc,
        .on_grace_expired = sfp_service_cancel_outbound,
        .grace_user = &outbound,
    };
    sfp_log(SFP_INFO, "cron config", SFP_B("secret_configured", ccfg.secret && *ccfg.secret),
            SFP_I("stuck_minutes", ccfg.stuck_minutes), SFP_I("job_timeout_s", ccfg.job_timeout_s),
            SFP_I("nightly_timeout_s", ccfg.nightly_timeout_s), SFP_I("caches_concurrency", ccfg.caches_concurrency),
            SFP_S("brief", brief ? brief_addr : "off"), SFP_S("work_mem", ccfg.work_mem));
    int rc = sfp_service_serve(&scfg, methods, nm);
    sfp_rpc_channel_destroy(brief);
    sfp_pool_destroy(pool);
    sfp_soda_destroy(soda);
    return rc;
}
