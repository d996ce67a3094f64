/* pool_stats_pb.h — Introspection adapters of the database library (library sfp_db_pb):
 * sfp_pool → sfpermits.v1.PoolStats and sfp_page_cache → sfpermits.v1.PageCacheStats, each
 * allocated from (and owned by) the arena. The generic modules (db_pool, page_cache) know
 * nothing of protobuf; only these adapters include the generated headers. */
#ifndef SFP_POOL_STATS_PB_H
#define SFP_POOL_STATS_PB_H

#include "arena.h"
#include "db_pool.h"
#include "page_cache.h"
#include "sfpermits/v1/common.pb-c.h"

Sfpermits__V1__PoolStats *sfp_pool_stats_pb(sfp_pool *p, sfp_arena *a);
/* This process's counters, plus row counts when the cache's pool hands out a connection
 * within acquire_timeout_ms (else the row fields stay 0). */
Sfpermits__V1__PageCacheStats *sfp_page_cache_stats_pb(sfp_page_cache *pc, sfp_arena *a, int acquire_timeout_ms);

#endif
