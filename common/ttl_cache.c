/* ttl_cache.c — see ttl_cache.h. One mutex guards the entry table, the LRU list and the
 * flights (singleflight.h, which waits on that mutex), so a lookup checks both at once. */
#include "ttl_cache.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "singleflight.h"

/* ---------------- values ---------------- */

struct sfp_cache_val {
    atomic_long refs;
    void *data;
    size_t bytes;
    long count;
    void (*free_fn)(void *);
};

sfp_cache_val *sfp_cache_val_new(void *data, size_t bytes, long count, void (*free_fn)(void *))
{
    sfp_cache_val *v = malloc(sizeof *v);
    if (!v) abort();
    atomic_init(&v->refs, 1);
    v->data = data;
    v->bytes = bytes;
    v->count = count;
    v->free_fn = free_fn;
    return v;
}

sfp_cache_val *sfp_cache_val_ref(sfp_cache_val *v)
{
    if (v) atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    return v;
}

void sfp_cache_val_unref(sfp_cache_val *v)
{
    if (!v) return;
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1) {
        if (v->free_fn) v->free_fn(v->data);
        free(v);
    }
}

void *sfp_cache_val_data(const sfp_cache_val *v)
{
    return v ? v->data : NULL;
}
size_t sfp_cache_val_bytes(const sfp_cache_val *v)
{
    return v ? v->bytes : 0;
}
long sfp_cache_val_count(const sfp_cache_val *v)
{
    return v ? v->count : 0;
}

/* ---------------- cache ---------------- */

static void val_unref_void(void *v)
{
    sfp_cache_val_unref(v);
}

static void val_ref_out(const void *result, void *arg)
{
    *(sfp_cache_val **)arg = sfp_cache_val_ref((sfp_cache_val *)result);
}

typedef struct entry {
    char *key;
    uint64_t hash;
    sfp_cache_val *val;
    double stored_at;
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU: head = most recent */
} entry;

struct sfp_ttl_cache {
    pthread_mutex_t mu;
    sfp_ttl_cache_config cfg;
    entry **buckets;
    size_t nbuckets; /* power of two */
    entry *lru_head, *lru_tail;
    size_t nentries;
    sfp_sf flights; /* on mu */
    sfp_ttl_cache_stats st;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

void sfp_ttl_cache_config_defaults(sfp_ttl_cache_config *c)
{
    memset(c, 0, sizeof *c);
    c->ttl_s = 900;
    c->max_entries = 10000;
    c->stale_max_s = 86400;
}

int sfp_ttl_cache_config_from_env(sfp_ttl_cache_config *c, sfp_err *err)
{
    if (sfp_cfg_int("SODA_CACHE_TTL", &c->ttl_s, err)) return -1;
    if (sfp_cfg_int("SODA_CACHE_MAX_ENTRIES", &c->max_entries, err)) return -1;
    if (sfp_cfg_int("SODA_CACHE_STALE_MAX", &c->stale_max_s, err)) return -1;
    return 0;
}

sfp_ttl_cache *sfp_ttl_cache_new(const sfp_ttl_cache_config *c)
{
    sfp_ttl_cache *tc = calloc(1, sizeof *tc);
    if (!tc) abort();
    tc->cfg = *c;
    if (tc->cfg.ttl_s < 0) tc->cfg.ttl_s = 0;
    if (tc->cfg.max_entries < 1) tc->cfg.max_entries = 1;
    if (tc->cfg.stale_max_s < 0) tc->cfg.stale_max_s = 0;
    if (!tc->cfg.clock) tc->cfg.clock = sfp_mono_clock;
    size_t want = (size_t)tc->cfg.max_entries + (size_t)tc->cfg.max_entries / 2;
    if (want > (1u << 22)) want = 1u << 22; /* chains get longer beyond ~4M buckets; fine */
    tc->nbuckets = 16;
    while (tc->nbuckets < want) tc->nbuckets <<= 1;
    tc->buckets = calloc(tc->nbuckets, sizeof *tc->buckets);
    if (!tc->buckets) abort();
    pthread_mutex_init(&tc->mu, NULL);
    sfp_sf_init(&tc->flights, &tc->mu, val_unref_void);
    tc->st.capacity = tc->cfg.max_entries;
    return tc;
}

void sfp_ttl_cache_free(sfp_ttl_cache *c)
{
    if (!c) return;
    for (entry *e = c->lru_head; e;) {
        entry *n = e->next;
        sfp_cache_val_unref(e->val);
        free(e->key);
        free(e);
        e = n;
    }
    sfp_sf_destroy(&c->flights); /* leaked leader handles are a caller bug */
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int sfp_ttl_cache_ttl(const sfp_ttl_cache *c)
{
    return c->cfg.ttl_s;
}

/* ---- entry table (lock held) ---- */

static entry *entry_find(sfp_ttl_cache *c, const char *key, uint64_t h)
{
    for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && !strcmp(e->key, key)) return e;
    return NULL;
}

static void lru_unlink(sfp_ttl_cache *c, entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->lru_head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(sfp_ttl_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->lru_head;
    if (c->lru_head) c->lru_head->prev = e;
    c->lru_head = e;
    if (!c->lru_tail) c->lru_tail = e;
}

static void entry_remove(sfp_ttl_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->nentries--;
    sfp_cache_val_unref(e->val);
    free(e->key);
    free(e);
}

static void entry_put(sfp_ttl_cache *c, const char *key, uint64_t h, sfp_cache_val *val, double now)
{
    entry *e = entry_find(c, key, h);
    if (e) {
        sfp_cache_val_unref(e->val);
        e->val = sfp_cache_val_ref(val);
        e->stored_at = now;
        lru_unlink(c, e);
        lru_push_front(c, e);
        return;
    }
    while (c->nentries >= (size_t)c->cfg.max_entries && c->lru_tail) {
        entry_remove(c, c->lru_tail);
        c->st.evictions++;
    }
    e = calloc(1, sizeof *e);
    if (!e) abort();
    e->key = xstrdup(key);
    e->hash = h;
    e->val = sfp_cache_val_ref(val);
    e->stored_at = now;
    size_t b = h & (c->nbuckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_front(c, e);
    c->nentries++;
}

/* Returns the entry if it is still retained (purging it otherwise). */
static entry *entry_get_retained(sfp_ttl_cache *c, const char *key, uint64_t h, double now)
{
    entry *e = entry_find(c, key, h);
    if (e && now - e->stored_at > (double)c->cfg.ttl_s + (double)c->cfg.stale_max_s) {
        entry_remove(c, e);
        c->st.purged++;
        return NULL;
    }
    return e;
}

/* ---- public ---- */

/* The fresh entry of key, made most recently used, counting a hit; else NULL, counting a miss. */
static entry *entry_get_fresh(sfp_ttl_cache *c, const char *key, double now)
{
    entry *e = entry_get_retained(c, key, sfp_sf_hash(key), now);
    if (!e || now - e->stored_at >= (double)c->cfg.ttl_s) {
        c->st.misses++;
        return NULL;
    }
    lru_unlink(c, e);
    lru_push_front(c, e);
    c->st.hits++;
    return e;
}

void sfp_ttl_cache_lookup(sfp_ttl_cache *c, const char *key, sfp_cache_lookup *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->mu);
    double now = c->cfg.clock(c->cfg.clock_arg);
    entry *e = entry_get_fresh(c, key, now);
    if (e) {
        out->kind = SFP_CACHE_HIT;
        out->val = sfp_cache_val_ref(e->val);
        out->age_s = now - e->stored_at;
        if (out->age_s < 0) out->age_s = 0;
        out->ttl_left_s = (double)c->cfg.ttl_s - (now - e->stored_at);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    sfp_cache_flight *f;
    if (sfp_sf_begin(&c->flights, key, &f) == SFP_SF_LEADS) {
        out->kind = SFP_CACHE_LEAD;
    } else {
        c->st.coalesced++;
        out->kind = SFP_CACHE_JOIN;
    }
    out->flight = f;
    pthread_mutex_unlock(&c->mu);
}

void sfp_ttl_cache_fill(sfp_ttl_cache *c, sfp_cache_flight *f, sfp_cache_val *val)
{
    pthread_mutex_lock(&c->mu);
    double now = c->cfg.clock(c->cfg.clock_arg);
    entry_put(c, sfp_sf_key(f), sfp_sf_hash(sfp_sf_key(f)), val, now);
    c->st.fills++;
    sfp_sf_done(&c->flights, f, sfp_cache_val_ref(val));
    pthread_mutex_unlock(&c->mu);
}

void sfp_ttl_cache_fail(sfp_ttl_cache *c, sfp_cache_flight *f, const char *reason, bool retry)
{
    pthread_mutex_lock(&c->mu);
    c->st.fails++;
    sfp_sf_fail(&c->flights, f, reason, retry);
    pthread_mutex_unlock(&c->mu);
}

sfp_cache_wait_rc sfp_ttl_cache_wait(sfp_ttl_cache *c, sfp_cache_flight *f, int64_t deadline_ms, sfp_cache_val **val,
                                     char *reason)
{
    sfp_cache_val *got = NULL;
    pthread_mutex_lock(&c->mu);
    sfp_sf_wait_rc rc = sfp_sf_wait(&c->flights, f, deadline_ms, val_ref_out, &got, reason);
    pthread_mutex_unlock(&c->mu);
    if (val) *val = got;
    else sfp_cache_val_unref(got);
    switch (rc) {
    case SFP_SF_DONE: return SFP_CACHE_WAIT_FILLED;
    case SFP_SF_FAILED: return SFP_CACHE_WAIT_FAILED;
    case SFP_SF_PROMOTED: return SFP_CACHE_WAIT_LEAD;
    default: return SFP_CACHE_WAIT_TIMEOUT;
    }
}

bool sfp_ttl_cache_get_stale(sfp_ttl_cache *c, const char *key, sfp_cache_val **val, double *age_s)
{
    uint64_t h = sfp_sf_hash(key);
    pthread_mutex_lock(&c->mu);
    double now = c->cfg.clock(c->cfg.clock_arg);
    entry *e = entry_get_retained(c, key, h, now);
    if (e) {
        *val = sfp_cache_val_ref(e->val);
        *age_s = now - e->stored_at < 0 ? 0 : now - e->stored_at;
        c->st.stale_served++;
    }
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

bool sfp_ttl_cache_peek(sfp_ttl_cache *c, const char *key, sfp_cache_val **val)
{
    pthread_mutex_lock(&c->mu);
    entry *e = entry_get_fresh(c, key, c->cfg.clock(c->cfg.clock_arg));
    if (e) *val = sfp_cache_val_ref(e->val);
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

bool sfp_ttl_cache_remove(sfp_ttl_cache *c, const char *key)
{
    uint64_t h = sfp_sf_hash(key);
    pthread_mutex_lock(&c->mu);
    entry *e = entry_find(c, key, h);
    if (e) entry_remove(c, e);
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

void sfp_ttl_cache_put(sfp_ttl_cache *c, const char *key, sfp_cache_val *val)
{
    pthread_mutex_lock(&c->mu);
    entry_put(c, key, sfp_sf_hash(key), val, c->cfg.clock(c->cfg.clock_arg));
    pthread_mutex_unlock(&c->mu);
}

void sfp_ttl_cache_clear(sfp_ttl_cache *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->lru_head) entry_remove(c, c->lru_head);
    pthread_mutex_unlock(&c->mu);
}

void sfp_ttl_cache_get_stats(sfp_ttl_cache *c, sfp_ttl_cache_stats *s)
{
    pthread_mutex_lock(&c->mu);
    *s = c->st;
    s->entries = (int64_t)c->nentries;
    s->in_flight = c->flights.in_flight;
    s->capacity = c->cfg.max_entries;
    pthread_mutex_unlock(&c->mu);
}
