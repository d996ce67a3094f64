/* health_service.h — HealthService.GetHealth: database, tables, pool, page cache and peers.
 *
 * status is "degraded" when Postgres cannot be reached or an expected table is missing.
 * Peers (report, brief, cron) are asked for their Introspection stats with a short timeout;
 * one that does not answer is listed with reachable=false and does not change status (a
 * report outage must not make the whole suite look down to a load balancer). */
#ifndef SFP_HEALTH_SERVICE_H
#define SFP_HEALTH_SERVICE_H

#include "db_pool.h"
#include "rpc.h"

typedef struct sfp_health_peer {
    const char *service; /* "report" */
    const char *addr;
    sfp_rpc_channel *ch; /* owned by the caller of sfp_health_service_method */
} sfp_health_peer;

typedef struct sfp_health_service {
    sfp_pool *pool;               /* borrowed */
    const sfp_health_peer *peers; /* borrowed */
    size_t npeers;
    int peer_timeout_ms;
    double started_mono;
} sfp_health_service;

/* Method table entry for GetHealth bound to svc. */
sfp_rpc_method sfp_health_service_method(sfp_health_service *svc);
/* Introspection extras (pool stats) for this process. */
void sfp_health_service_stats(struct Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user);

#endif
