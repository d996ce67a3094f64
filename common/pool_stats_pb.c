#include "pool_stats_pb.h"

#include "arena_pb.h"

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

Sfpermits__V1__PageCacheStats *sfp_page_cache_stats_pb(sfp_page_cache *pc, sfp_arena *a, int acquire_timeout_ms)
{
    sfp_pool *pool = sfp_page_cache_pool(pc);
    Sfpermits__V1__PageCacheStats *m = sfp_arena_msg(a, &sfpermits__v1__page_cache_stats__descriptor);
    sfp_page_cache_stats st;
    sfp_page_cache_get_stats(pc, &st);
    m->hits = st.hits;
    m->misses = st.misses;
    sfp_err err = {0};
    sfp_conn *c = pool ? sfp_pool_acquire(pool, acquire_timeout_ms, &err) : NULL;
    if (c) {
        sfp_page_cache_rows rows;
        if (sfp_page_cache_row_stats(c, &rows, &err) == 0) {
            m->live_rows = rows.live;
            m->expired_rows = rows.expired;
            m->optional_oldest_entry_age_minutes_case =
                (rows.has_oldest)
                    ? SFPERMITS__V1__PAGE_CACHE_STATS__OPTIONAL_OLDEST_ENTRY_AGE_MINUTES_OLDEST_ENTRY_AGE_MINUTES
                    : SFPERMITS__V1__PAGE_CACHE_STATS__OPTIONAL_OLDEST_ENTRY_AGE_MINUTES__NOT_SET;
            m->oldest_entry_age_minutes = rows.oldest_live_age_minutes;
        }
        sfp_pool_release(pool, c);
    }
    return m;
}
