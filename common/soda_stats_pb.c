#include "soda_stats_pb.h"

#include "arena_pb.h"
#include "pbjson.h"

Sfpermits__V1__ResponseCacheStats *sfp_ttl_cache_stats_pb(sfp_ttl_cache *c, sfp_arena *a)
{
    sfp_ttl_cache_stats s;
    sfp_ttl_cache_get_stats(c, &s);
    Sfpermits__V1__ResponseCacheStats *o = sfp_arena_msg(a, &sfpermits__v1__response_cache_stats__descriptor);
    o->entries = s.entries;
    o->capacity = s.capacity;
    o->hits = s.hits;
    o->misses = s.misses;
    o->stale_served = s.stale_served;
    o->evictions = s.evictions;
    o->coalesced = s.coalesced;
    return o;
}

Sfpermits__V1__BreakerStats *sfp_breaker_stats_pb(sfp_breaker *b, sfp_arena *a)
{
    sfp_breaker_stats s;
    sfp_breaker_get_stats(b, &s);
    Sfpermits__V1__BreakerStats *o = sfp_arena_msg(a, &sfpermits__v1__breaker_stats__descriptor);
    o->state = (Sfpermits__V1__BreakerState)sfp_pbjson_enum_value(
        &sfpermits__v1__breaker_state__descriptor, s.state, SFPERMITS__V1__BREAKER_STATE__BREAKER_STATE_UNSPECIFIED);
    o->consecutive_failures = s.consecutive_failures;
    o->threshold = s.threshold;
    o->open_seconds = s.open_seconds;
    o->opens = s.opens;
    o->rejected = s.rejected;
    o->successes = s.successes;
    o->failures = s.failures;
    o->seconds_until_half_open = s.seconds_until_half_open;
    o->transitions = s.transitions;
    o->ignored = s.ignored;
    return o;
}
