#include "report_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "log.h"

struct sfp_rpt_cache {
    sfp_ttl_cache *tc;
    sfp_clock_fn clock;
    void *clock_arg;
    /* Held while the generation moves (and the cache is cleared) and while an entry is
     * checked against it and stored: the cache never holds an entry of an old generation. */
    pthread_mutex_t mu;
    atomic_uint_fast64_t generation;
    atomic_bool listening;
    atomic_llong hits, misses, stores, invalidations;
};

void sfp_rpt_cache_config_defaults(sfp_rpt_cache_config *c)
{
    *c = (sfp_rpt_cache_config){.ttl_s = 300, .max_entries = 512}; /* clock NULL: monotonic */
}

int sfp_rpt_cache_config_from_env(sfp_rpt_cache_config *c, sfp_err *err)
{
    sfp_rpt_cache_config_defaults(c);
    if (sfp_cfg_int("REPORT_CACHE_TTL_S", &c->ttl_s, err) ||
        sfp_cfg_int("REPORT_CACHE_MAX_ENTRIES", &c->max_entries, err))
        return -1;
    return 0;
}

sfp_rpt_cache *sfp_rpt_cache_new(const sfp_rpt_cache_config *c)
{
    if (c->ttl_s <= 0) return NULL;
    sfp_rpt_cache *rc = calloc(1, sizeof *rc);
    if (!rc) abort();
    rc->clock = c->clock ? c->clock : sfp_mono_clock;
    rc->clock_arg = c->clock_arg;
    sfp_ttl_cache_config tc = {.ttl_s = c->ttl_s,
                               .max_entries = c->max_entries,
                               .stale_max_s = 0,
                               .clock = rc->clock,
                               .clock_arg = rc->clock_arg};
    rc->tc = sfp_ttl_cache_new(&tc);
    pthread_mutex_init(&rc->mu, NULL);
    return rc;
}

void sfp_rpt_cache_free(sfp_rpt_cache *c)
{
    if (!c) return;
    sfp_ttl_cache_free(c->tc);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

sfp_rpt_cached *sfp_rpt_cached_new(const uint8_t *content, size_t len, const char *etag, int32_t today,
                                   const sfp_rpt_soda_result soda[SFP_RPT_DS_N], unsigned needed,
                                   const char *generated_at, double now_s)
{
    int32_t max_age = sfp_rpt_sources_max_age(soda, needed);
    if (max_age <= 0) return NULL;
    sfp_rpt_cached *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->content = malloc(len ? len : 1);
    if (!e->content) abort();
    memcpy(e->content, content, len);
    e->len = len;
    snprintf(e->etag, sizeof e->etag, "%s", etag ? etag : "");
    e->today = today;
    e->stored_at = now_s;
    e->expires_at = e->stored_at + max_age;
    e->soda_needed = needed;
    memcpy(e->soda, soda, sizeof e->soda);
    for (int d = 0; d < SFP_RPT_DS_N; d++) e->soda[d].records = NULL; /* n_records stays: `records` in sources */
    snprintf(e->generated_at, sizeof e->generated_at, "%s", generated_at);
    return e;
}

void sfp_rpt_cached_sources(const sfp_rpt_cached *e, double now_s, sfp_rpt_soda_result out[SFP_RPT_DS_N])
{
    double elapsed_s = now_s - e->stored_at;
    memcpy(out, e->soda, sizeof e->soda);
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        out[d].upstream_requests = 0;
        if (!(e->soda_needed & SFP_RPT_DS_BIT(d))) continue;
        out[d].state = SFP_SODA_CACHED; /* entries are made only from live/cached sources */
        out[d].has_age = true;
        out[d].age_seconds += elapsed_s;
        out[d].ttl_remaining_seconds -= elapsed_s;
        if (out[d].ttl_remaining_seconds < 0) out[d].ttl_remaining_seconds = 0;
    }
}

void sfp_rpt_cached_free(void *p)
{
    sfp_rpt_cached *e = p;
    if (!e) return;
    free(e->content);
    free(e);
}

void sfp_rpt_cache_listen_event(void *cache, sfp_listen_event ev, const char *payload)
{
    (void)payload;
    sfp_rpt_cache *c = cache;
    /* Every event invalidates: a notification means data changed; UP and DOWN bracket a
     * period in which notifications may have been missed. */
    pthread_mutex_lock(&c->mu);
    atomic_fetch_add(&c->generation, 1);
    sfp_ttl_cache_clear(c->tc);
    if (ev != SFP_LISTEN_NOTIFY) atomic_store(&c->listening, ev == SFP_LISTEN_UP);
    pthread_mutex_unlock(&c->mu);
    if (ev == SFP_LISTEN_NOTIFY) atomic_fetch_add(&c->invalidations, 1);
    if (ev != SFP_LISTEN_NOTIFY) {
        sfp_log(ev == SFP_LISTEN_UP ? SFP_INFO : SFP_WARN, "report cache",
                SFP_S("state", ev == SFP_LISTEN_UP ? "on" : "bypassed until the listener reconnects"));
    }
}

/* A fresh ttl_cache entry (entries of an old generation are gone: see mu) is servable only
 * for its own day and before its own expiry. */
static bool servable(const sfp_rpt_cache *c, const sfp_cache_val *v, int32_t today)
{
    const sfp_rpt_cached *e = sfp_cache_val_data(v);
    return e && e->today == today && sfp_rpt_cache_now(c) < e->expires_at;
}

double sfp_rpt_cache_now(const sfp_rpt_cache *c)
{
    return c ? c->clock(c->clock_arg) : sfp_mono_s();
}

sfp_cache_val *sfp_rpt_cache_get(sfp_rpt_cache *c, const char *block, const char *lot, int32_t today,
                                 int64_t deadline_ms, sfp_rpt_cache_ticket *t)
{
    memset(t, 0, sizeof *t);
    if (!c || !atomic_load(&c->listening)) return NULL;
    snprintf(t->key, sizeof t->key, "%s/%s", block, lot);
    t->generation = atomic_load(&c->generation);
    t->active = true;
    sfp_cache_lookup lk;
    sfp_ttl_cache_lookup(c->tc, t->key, &lk);
    sfp_cache_val *v = NULL;
    switch (lk.kind) {
    case SFP_CACHE_HIT: v = lk.val; break;
    case SFP_CACHE_LEAD: t->flight = lk.flight; break;
    case SFP_CACHE_JOIN:
        switch (sfp_ttl_cache_wait(c->tc, lk.flight, deadline_ms, &v, NULL)) {
        case SFP_CACHE_WAIT_FILLED: break;
        case SFP_CACHE_WAIT_LEAD: /* promoted: our assembly starts now, on today's data */
            t->flight = lk.flight;
            t->generation = atomic_load(&c->generation);
            break;
        default: v = NULL; break; /* the other request gave up, or our deadline passed */
        }
        break;
    }
    if (v && servable(c, v, today)) {
        atomic_fetch_add(&c->hits, 1);
        t->active = false;
        return v;
    }
    sfp_cache_val_unref(v);
    atomic_fetch_add(&c->misses, 1);
    return NULL;
}

void sfp_rpt_cache_store(sfp_rpt_cache *c, sfp_rpt_cache_ticket *t, sfp_rpt_cached *e)
{
    if (!c || !t->active) {
        sfp_rpt_cached_free(e);
        return;
    }
    if (!e) {
        sfp_rpt_cache_abandon(c, t);
        return;
    }
    t->active = false;
    pthread_mutex_lock(&c->mu);
    if (!atomic_load(&c->listening) || atomic_load(&c->generation) != t->generation) {
        pthread_mutex_unlock(&c->mu);
        sfp_rpt_cached_free(e); /* the data changed while it was assembled */
        if (t->flight) sfp_ttl_cache_fail(c->tc, t->flight, "data changed", true);
        return;
    }
    sfp_cache_val *v = sfp_cache_val_new(e, e->len, 1, sfp_rpt_cached_free);
    if (t->flight) sfp_ttl_cache_fill(c->tc, t->flight, v);
    else sfp_ttl_cache_put(c->tc, t->key, v);
    pthread_mutex_unlock(&c->mu);
    sfp_cache_val_unref(v);
    atomic_fetch_add(&c->stores, 1);
}

void sfp_rpt_cache_abandon(sfp_rpt_cache *c, sfp_rpt_cache_ticket *t)
{
    if (!c || !t->active) return;
    t->active = false;
    if (t->flight) sfp_ttl_cache_fail(c->tc, t->flight, "not cacheable", true);
}

void sfp_rpt_cache_get_stats(sfp_rpt_cache *c, sfp_rpt_cache_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!c) return;
    s->hits = atomic_load(&c->hits);
    s->misses = atomic_load(&c->misses);
    s->stores = atomic_load(&c->stores);
    s->invalidations = atomic_load(&c->invalidations);
    s->listening = atomic_load(&c->listening);
    sfp_ttl_cache_stats ts;
    sfp_ttl_cache_get_stats(c->tc, &ts);
    s->entries = ts.entries;
    s->coalesced = ts.coalesced;
}
