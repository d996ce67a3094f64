/* sfp-health — wiring only: env → pool, peers, rpc server. See README for the env vars. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db_url.h"
#include "health_service.h"
#include "log.h"
#include "service_main.h"

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(
        SFP_B_HEALTH, "", "sfp-health: whole-suite health gRPC service (sfpermits.v1.HealthService).", argc, argv);
    if (early >= 0) return early;
    sfp_log_init("health");
    sfp_err err = {0};
    sfp_service_env env;
    sfp_pool_config pcfg;
    int peer_timeout_ms;
    if (sfp_service_env_load(&env, SFP_B_HEALTH, &err) || sfp_pool_config_from_env(&pcfg, "sfp-health", &err) ||
        sfp_cfg_int("HEALTH_PEER_TIMEOUT_MS", &peer_timeout_ms, &err))
        return sfp_service_refuse("sfp-health", &err);

    /* Peers: a *_SVC_ADDR set to "off" is not polled. */
    static const struct {
        const char *svc, *var;
    } peer_env[] = {
        {"report", "REPORT_SVC_ADDR"},
        {"brief", "BRIEF_SVC_ADDR"},
        {"cron", "CRON_SVC_ADDR"},
    };
    sfp_health_peer peers[3];
    size_t npeers = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *addr;
        if (sfp_cfg_text(peer_env[i].var, &addr, &err)) return sfp_service_refuse("sfp-health", &err);
        if (!strcmp(addr, "off")) continue;
        peers[npeers++] = (sfp_health_peer){peer_env[i].svc, addr, NULL};
    }

    sfp_pool *pool = sfp_pool_create(&pcfg, &err);
    if (!pool) return sfp_service_refuse("sfp-health", &err);
    for (size_t i = 0; i < npeers; i++) peers[i].ch = sfp_rpc_channel_create(peers[i].addr);
    sfp_health_service svc = {.pool = pool, .peers = peers, .npeers = npeers, .peer_timeout_ms = peer_timeout_ms};
    sfp_rpc_method methods[] = {sfp_health_service_method(&svc)};
    static const char *const names[] = {"sfpermits.v1.HealthService", NULL};
    sfp_service_outbound outbound = {.pool = pool};
    sfp_rpc_server_config scfg = {
        .service = "health",
        .addr = env.listen_addr,
        .workers = env.workers,
        .drain_timeout_ms = env.drain_ms,
        .service_names = names,
        .ready = sfp_pool_ready_cb,
        .ready_user = pool,
        .stats = sfp_health_service_stats,
        .stats_user = &svc,
        .on_grace_expired = sfp_service_cancel_outbound,
        .grace_user = &outbound,
    };
    int rc = sfp_service_serve(&scfg, methods, 1);
    for (size_t i = 0; i < npeers; i++) sfp_rpc_channel_destroy(peers[i].ch);
    sfp_pool_destroy(pool);
    return rc;
}
