#include "metrics_collectors.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "pbjson.h"

static void one(sfp_buf *out, const char *name, const char *type, const char *help, double v)
{
    sfp_metrics_family(out, name, type, help);
    sfp_metrics_sample(out, name, NULL, v);
}

static void pool_metrics(sfp_buf *out, const Sfpermits__V1__PoolStats *s)
{
    sfp_metrics_family(out, "sfp_db_pool_connections", "gauge", "Open Postgres connections by state.");
    sfp_metrics_sample(out, "sfp_db_pool_connections", "state=\"idle\"", s->idle);
    sfp_metrics_sample(out, "sfp_db_pool_connections", "state=\"in_use\"", s->in_use);
    one(out, "sfp_db_pool_max_connections", "gauge", "DB_POOL_MAX.", s->max);
    one(out, "sfp_db_pool_min_connections", "gauge", "DB_POOL_MIN.", s->min);
    one(out, "sfp_db_pool_waiting", "gauge", "Callers waiting for a connection now.", s->waiting);
    one(out, "sfp_db_pool_oldest_wait_seconds", "gauge", "Wait of the oldest current waiter.",
        s->oldest_wait_ms / 1000.0);
    one(out, "sfp_db_pool_max_wait_seconds", "gauge", "Longest acquire wait since start.", s->max_wait_ms / 1000.0);
    one(out, "sfp_db_pool_healthy", "gauge", "1 when the last connect/check succeeded.", s->healthy ? 1 : 0);
    one(out, "sfp_db_pool_acquires_total", "counter", "Successful connection acquires.", (double)s->acquires);
    one(out, "sfp_db_pool_waited_acquires_total", "counter", "Acquires that had to wait.", (double)s->waited_acquires);
    one(out, "sfp_db_pool_timeouts_total", "counter", "Acquires that gave up (pool exhausted).", (double)s->timeouts);
    one(out, "sfp_db_pool_opened_total", "counter", "Connections opened.", (double)s->opened);
    one(out, "sfp_db_pool_closed_total", "counter", "Connections retired normally.", (double)s->closed);
    one(out, "sfp_db_pool_broken_total", "counter", "Connections found broken and replaced.", (double)s->broken);
}

static void breaker_metrics(sfp_buf *out, const Sfpermits__V1__BreakerStats *b)
{
    static const char *const states[] = {"closed", "open", "half_open"};
    sfp_metrics_family(out, "sfp_soda_breaker_state", "gauge", "SODA circuit breaker state (1 = current).");
    for (int i = 0; i < 3; i++) {
        char l[32];
        snprintf(l, sizeof l, "state=\"%s\"", states[i]);
        sfp_metrics_sample(
            out, "sfp_soda_breaker_state", l,
            !strcmp(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__breaker_state__descriptor, b->state), states[i]) ? 1 : 0);
    }
    one(out, "sfp_soda_breaker_transitions_total", "counter", "Breaker state changes.", (double)b->transitions);
    one(out, "sfp_soda_breaker_opens_total", "counter", "Breaker transitions to open.", (double)b->opens);
    one(out, "sfp_soda_breaker_rejected_total", "counter", "SODA calls refused by the breaker.", (double)b->rejected);
    one(out, "sfp_soda_breaker_consecutive_failures", "gauge", "Counted failures in a row.", b->consecutive_failures);
    sfp_metrics_family(out, "sfp_soda_calls_total", "counter", "SODA call outcomes as the breaker counted them.");
    sfp_metrics_sample(out, "sfp_soda_calls_total", "outcome=\"success\"", (double)b->successes);
    sfp_metrics_sample(out, "sfp_soda_calls_total", "outcome=\"failure\"", (double)b->failures);
    sfp_metrics_sample(out, "sfp_soda_calls_total", "outcome=\"ignored\"", (double)b->ignored);
}

static void response_cache_metrics(sfp_buf *out, const Sfpermits__V1__ResponseCacheStats *c)
{
    one(out, "sfp_soda_cache_entries", "gauge", "Entries in the SODA response cache.", (double)c->entries);
    one(out, "sfp_soda_cache_hits_total", "counter", "Fresh SODA cache hits.", (double)c->hits);
    one(out, "sfp_soda_cache_misses_total", "counter", "SODA cache lookups that were not fresh hits.",
        (double)c->misses);
    one(out, "sfp_soda_cache_stale_served_total", "counter", "Expired entries served because SODA failed.",
        (double)c->stale_served);
    one(out, "sfp_soda_cache_evictions_total", "counter", "LRU evictions.", (double)c->evictions);
    one(out, "sfp_soda_cache_coalesced_total", "counter", "Misses that joined another caller's fetch.",
        (double)c->coalesced);
}

static void page_cache_metrics(sfp_buf *out, const Sfpermits__V1__PageCacheStats *p)
{
    one(out, "sfp_page_cache_hits_total", "counter", "page_cache hits by this process.", (double)p->hits);
    one(out, "sfp_page_cache_misses_total", "counter", "page_cache misses by this process.", (double)p->misses);
    one(out, "sfp_page_cache_live_rows", "gauge", "Live page_cache rows.", (double)p->live_rows);
    one(out, "sfp_page_cache_expired_rows", "gauge", "Expired or invalidated page_cache rows.",
        (double)p->expired_rows);
}

/* Counter names are service-chosen; keep only [a-z0-9_] so the family name is valid. */
static void counter_metric(sfp_buf *out, const Sfpermits__V1__Counter *c)
{
    char name[128] = "sfp_";
    size_t n = 4;
    for (const char *p = c->name; p && *p && n < sizeof name - 1; p++) {
        char ch = *p;
        name[n++] = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_') ? ch
                    : (ch >= 'A' && ch <= 'Z')                                          ? (char)(ch + 32)
                                                                                        : '_';
    }
    name[n] = '\0';
    bool total = n > 10 && !strcmp(name + n - 6, "_total");
    one(out, name, total ? "counter" : "gauge", "Service counter (see Introspection counters).", c->value);
}

void sfp_service_stats_metrics(sfp_buf *out, const Sfpermits__V1__ServiceStats *st)
{
    if (st->pool) pool_metrics(out, st->pool);
    if (st->breaker) breaker_metrics(out, st->breaker);
    if (st->response_cache) response_cache_metrics(out, st->response_cache);
    if (st->page_cache) page_cache_metrics(out, st->page_cache);
    for (size_t i = 0; i < st->n_counters; i++) counter_metric(out, st->counters[i]);
}

sfp_metrics *sfp_rpc_server_metrics_start(struct sfp_rpc_server *srv, const char *svc, sfp_err *err)
{
    sfp_metrics *m = sfp_metrics_start_from_env(svc, err);
    if (m) sfp_metrics_add(m, sfp_rpc_server_collect, srv);
    return m;
}
