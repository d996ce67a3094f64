/* gw_json_memo.c — see gw_json_memo.h. */
#include "gw_json_memo.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

typedef struct memo_entry {
    char key[GW_JSON_MEMO_KEY_MAX];
    char *prefix; /* JSON up to (not including) the per-request tail; malloc'd; NULL = free slot */
    size_t len;
    uint64_t used;
} memo_entry;

struct gw_json_memo {
    const char *marker;
    size_t marker_len;
    size_t max_bytes;
    size_t n;
    pthread_mutex_t mu;
    uint64_t tick;
    memo_entry *e; /* n entries */
};

gw_json_memo *gw_json_memo_new(const char *tail_marker, size_t max_entries, size_t max_bytes)
{
    if (!tail_marker || !*tail_marker || !max_entries) return NULL;
    gw_json_memo *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->e = calloc(max_entries, sizeof *m->e);
    if (!m->e) abort();
    m->marker = tail_marker;
    m->marker_len = strlen(tail_marker);
    m->max_bytes = max_bytes;
    m->n = max_entries;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void gw_json_memo_clear(gw_json_memo *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].prefix);
        memset(&m->e[i], 0, sizeof m->e[i]);
    }
    pthread_mutex_unlock(&m->mu);
}

void gw_json_memo_free(gw_json_memo *m)
{
    if (!m) return;
    gw_json_memo_clear(m);
    pthread_mutex_destroy(&m->mu);
    free(m->e);
    free(m);
}

/* The per-request fields start at the last occurrence of the marker. */
static const char *tail_start(const gw_json_memo *m, const char *json, size_t len)
{
    const size_t k = m->marker_len;
    for (size_t i = len; i >= k; i--)
        if (!memcmp(json + i - k, m->marker, k)) return json + i - k;
    return NULL;
}

char *gw_json_memo_tail(const gw_json_memo *m, const ProtobufCMessage *tail_msg, size_t *len)
{
    size_t n = 0;
    char *j = sfp_pbjson_encode(tail_msg, &n);
    const char *ts = tail_start(m, j, n);
    if (!ts) {
        free(j);
        return NULL;
    }
    size_t tl = n - (size_t)(ts - j);
    memmove(j, ts, tl + 1); /* with the NUL */
    *len = tl;
    return j;
}

char *gw_json_memo_get(gw_json_memo *m, const char *key, const char *tail, size_t tail_len, size_t *len)
{
    char *body = NULL;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) {
        memo_entry *e = &m->e[i];
        if (e->prefix && !strcmp(e->key, key)) {
            body = malloc(e->len + tail_len + 1);
            if (!body) abort();
            memcpy(body, e->prefix, e->len);
            memcpy(body + e->len, tail, tail_len);
            body[e->len + tail_len] = '\0';
            *len = e->len + tail_len;
            e->used = ++m->tick;
            break;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return body;
}

static void memo_put(gw_json_memo *m, const char *key, const char *prefix, size_t len)
{
    if (len > m->max_bytes || strlen(key) >= GW_JSON_MEMO_KEY_MAX) return;
    char *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, prefix, len);
    pthread_mutex_lock(&m->mu);
    memo_entry *victim = &m->e[0];
    for (size_t i = 0; i < m->n; i++) {
        memo_entry *e = &m->e[i];
        if (e->prefix && !strcmp(e->key, key)) { /* a concurrent request stored it already */
            pthread_mutex_unlock(&m->mu);
            free(copy);
            return;
        }
        if (!e->prefix || e->used < victim->used) victim = e;
        if (!e->prefix) break;
    }
    free(victim->prefix);
    memcpy(victim->key, key, strlen(key) + 1);
    victim->prefix = copy;
    victim->len = len;
    victim->used = ++m->tick;
    pthread_mutex_unlock(&m->mu);
}

char *gw_json_memo_fill(gw_json_memo *m, const char *key, const ProtobufCMessage *full, const char *tail,
                        size_t tail_len, size_t *len)
{
    char *body = sfp_pbjson_encode(full, len);
    if (tail && key && *key) {
        const char *ts = tail_start(m, body, *len);
        /* memoise only when the encoder's tail is exactly the separately encoded one */
        if (ts && *len - (size_t)(ts - body) == tail_len && !memcmp(ts, tail, tail_len))
            memo_put(m, key, body, (size_t)(ts - body));
    }
    return body;
}

char *gw_json_memo_encode(gw_json_memo *m, const char *key, const ProtobufCMessage *full,
                          const ProtobufCMessage *tail_msg, size_t *len, bool *hit)
{
    *hit = false;
    if (!key || !*key) return sfp_pbjson_encode(full, len);
    size_t tail_len = 0;
    char *tail = gw_json_memo_tail(m, tail_msg, &tail_len);
    char *body = tail ? gw_json_memo_get(m, key, tail, tail_len, len) : NULL;
    if (body) *hit = true;
    else body = gw_json_memo_fill(m, key, full, tail, tail_len, len);
    free(tail);
    return body;
}
