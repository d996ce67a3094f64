#include "pool_stats_pb.h"

Sfpermits__V1__PoolStats *sfp_pool_stats_pb(sfp_pool *p, sfp_arena *a)
{
    sfp_pool_stats s;
    sfp_pool_get_stats(p, &s);
    Sfpermits__V1__PoolStats *o = sfp_arena_msg(a, &sfpermits__v1__pool_stats__descriptor);
    o->backend = "postgres";
    o->min = s.min;
    o->max = s.max;
    o->size = s.size;
    o->idle = s.idle;
    o->in_use = s.in_use;
    o->waiting = s.waiting;
    o->max_wait_ms = s.max_wait_ms;
    o->oldest_wait_ms = s.oldest_wait_ms;
    o->acquires = s.acquires;
    o->waited_acquires = s.waited_acquires;
    o->timeouts = s.timeouts;
    o->opened = s.opened;
    o->closed = s.closed;
    o->broken = s.broken;
    o->healthy = s.healthy;
    return o;
}
