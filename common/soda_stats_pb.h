/* soda_stats_pb.h — Introspection adapters of the SODA client's parts (library sfp_soda_pb):
 * the circuit breaker → sfpermits.v1.BreakerStats and the response cache →
 * sfpermits.v1.ResponseCacheStats, each allocated from (and owned by) the arena; strings are
 * static or arena-owned. The generic modules (soda_breaker, ttl_cache) know nothing of
 * protobuf; only these adapters include the generated headers. */
#ifndef SFP_SODA_STATS_PB_H
#define SFP_SODA_STATS_PB_H

#include "arena.h"
#include "soda_breaker.h"
#include "ttl_cache.h"
#include "sfpermits/v1/common.pb-c.h"

Sfpermits__V1__BreakerStats *sfp_breaker_stats_pb(sfp_breaker *b, sfp_arena *a);
Sfpermits__V1__ResponseCacheStats *sfp_ttl_cache_stats_pb(sfp_ttl_cache *c, sfp_arena *a);

#endif
