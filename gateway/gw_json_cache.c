/* gw_json_cache.c — see gw_json_cache.h. A chained hash table over an LRU list. */
#include "gw_json_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct gw_json_entry {
    atomic_long refs;
    size_t len;
    char *data; /* owned */
};

typedef struct node {
    char key[GW_JSON_CACHE_KEY_MAX + 1];
    uint64_t hash;
    gw_json_entry *e;         /* the cache's reference */
    struct node *prev, *next; /* LRU list: head = most recently used */
    struct node *bucket_next;
} node;

struct gw_json_cache {
    pthread_mutex_t mu;
    size_t max_entries, max_bytes, max_value;
    node **buckets;
    size_t nbuckets; /* a power of two */
    node *head, *tail;
    size_t entries, bytes;
    int64_t hits, misses, stores, evictions;
};

/* The keys are "<kind>:<hex digest>": any cheap mix spreads them well. */
static uint64_t key_hash(const char *k)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static gw_json_entry *entry_new(char *data, size_t len)
{
    gw_json_entry *e = malloc(sizeof *e);
    if (!e) abort();
    atomic_init(&e->refs, 1);
    e->len = len;
    e->data = data;
    return e;
}

static gw_json_entry *entry_ref(gw_json_entry *e)
{
    atomic_fetch_add(&e->refs, 1);
    return e;
}

void gw_json_entry_unref(gw_json_entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1) return;
    free(e->data);
    free(e);
}

const char *gw_json_entry_data(const gw_json_entry *e, size_t *len)
{
    *len = e->len;
    return e->data;
}

gw_json_cache *gw_json_cache_new(size_t max_entries, size_t max_bytes)
{
    if (!max_entries || !max_bytes) return NULL;
    gw_json_cache *c = calloc(1, sizeof *c);
    if (!c) abort();
    pthread_mutex_init(&c->mu, NULL);
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->max_value = max_bytes / 4;
    c->nbuckets = 16;
    while (c->nbuckets < 2 * max_entries && c->nbuckets < ((size_t)1 << 20)) c->nbuckets <<= 1;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) abort();
    return c;
}

static void lru_unlink(gw_json_cache *c, node *n)
{
    if (n->prev) n->prev->next = n->next;
    else c->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else c->tail = n->prev;
    n->prev = n->next = NULL;
}

static void lru_push_front(gw_json_cache *c, node *n)
{
    n->prev = NULL;
    n->next = c->head;
    if (c->head) c->head->prev = n;
    c->head = n;
    if (!c->tail) c->tail = n;
}

static node **bucket_slot(gw_json_cache *c, const node *n)
{
    node **p = &c->buckets[n->hash & (c->nbuckets - 1)];
    while (*p != n) p = &(*p)->bucket_next;
    return p;
}

/* Unlists n and drops the cache's reference (mu held). */
static void drop(gw_json_cache *c, node *n)
{
    *bucket_slot(c, n) = n->bucket_next;
    lru_unlink(c, n);
    c->entries--;
    c->bytes -= n->e->len;
    gw_json_entry_unref(n->e);
    free(n);
}

static node *find(gw_json_cache *c, const char *key, uint64_t h)
{
    for (node *n = c->buckets[h & (c->nbuckets - 1)]; n; n = n->bucket_next)
        if (n->hash == h && !strcmp(n->key, key)) return n;
    return NULL;
}

gw_json_entry *gw_json_cache_get(gw_json_cache *c, const char *key)
{
    if (!c || !key || strlen(key) > GW_JSON_CACHE_KEY_MAX) return NULL;
    uint64_t h = key_hash(key);
    pthread_mutex_lock(&c->mu);
    node *n = find(c, key, h);
    gw_json_entry *e = NULL;
    if (n) {
        lru_unlink(c, n);
        lru_push_front(c, n);
        e = entry_ref(n->e);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

gw_json_entry *gw_json_cache_put(gw_json_cache *c, const char *key, char *data, size_t len)
{
    gw_json_entry *e = entry_new(data, len);
    if (!c || !key || strlen(key) > GW_JSON_CACHE_KEY_MAX || len > c->max_value) return e;
    node *n = calloc(1, sizeof *n);
    if (!n) abort();
    strcpy(n->key, key);
    n->hash = key_hash(key);
    n->e = entry_ref(e);
    pthread_mutex_lock(&c->mu);
    node *old = find(c, key, n->hash);
    if (old) drop(c, old); /* a racing renderer of the same content: same bytes, keep the newer */
    while (c->tail && (c->entries + 1 > c->max_entries || c->bytes + len > c->max_bytes)) {
        drop(c, c->tail);
        c->evictions++;
    }
    n->bucket_next = c->buckets[n->hash & (c->nbuckets - 1)];
    c->buckets[n->hash & (c->nbuckets - 1)] = n;
    lru_push_front(c, n);
    c->entries++;
    c->bytes += len;
    c->stores++;
    pthread_mutex_unlock(&c->mu);
    return e;
}

void gw_json_cache_clear(gw_json_cache *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    while (c->head) drop(c, c->head);
    pthread_mutex_unlock(&c->mu);
}

void gw_json_cache_free(gw_json_cache *c)
{
    if (!c) return;
    gw_json_cache_clear(c);
    pthread_mutex_destroy(&c->mu);
    free(c->buckets);
    free(c);
}

void gw_json_cache_get_stats(gw_json_cache *c, gw_json_cache_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    s->hits = c->hits;
    s->misses = c->misses;
    s->stores = c->stores;
    s->evictions = c->evictions;
    s->entries = (int64_t)c->entries;
    s->bytes = (int64_t)c->bytes;
    pthread_mutex_unlock(&c->mu);
}
