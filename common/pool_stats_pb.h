/* pool_stats_pb.h — sfp_pool_stats → sfpermits.v1.PoolStats (arena-allocated). */
#ifndef SFP_POOL_STATS_PB_H
#define SFP_POOL_STATS_PB_H

#include "arena.h"
#include "db_pool.h"
#include "sfpermits/v1/common.pb-c.h"

Sfpermits__V1__PoolStats *sfp_pool_stats_pb(sfp_pool *p, sfp_arena *a);

#endif
