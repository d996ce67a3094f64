/* gw_ratelimit.c — see gw_ratelimit.h. Open-addressing is overkill at these sizes: a chained
 * hash table with a fixed bucket count. */
#include "gw_ratelimit.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

typedef struct entry {
    struct entry *next;
    int64_t window_start_ns;
    int count;
    char key[64];
} entry;

struct gw_ratelimit {
    pthread_mutex_t mu;
    int limit;
    int64_t window_ns;
    size_t max_clients, n;
    entry *buckets[NBUCKETS];
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

gw_ratelimit *gw_ratelimit_new(int limit, int window_s, size_t max_clients)
{
    gw_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) abort();
    pthread_mutex_init(&rl->mu, NULL);
    rl->limit = limit;
    rl->window_ns = (int64_t)(window_s > 0 ? window_s : 1) * 1000000000LL;
    rl->max_clients = max_clients ? max_clients : 100000;
    return rl;
}

void gw_ratelimit_free(gw_ratelimit *rl)
{
    if (!rl) return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (entry *e = rl->buckets[b]; e;) {
            entry *n = e->next;
            free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

/* Drops expired windows; if none expired, drops the oldest one. Called with mu held. */
static void make_room(gw_ratelimit *rl, int64_t now)
{
    entry **oldest = NULL;
    size_t dropped = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (entry **pp = &rl->buckets[b]; *pp;) {
            entry *e = *pp;
            if (now - e->window_start_ns >= rl->window_ns) {
                *pp = e->next;
                free(e);
                rl->n--, dropped++;
                continue;
            }
            if (!oldest || e->window_start_ns < (*oldest)->window_start_ns) oldest = pp;
            pp = &e->next;
        }
    }
    if (!dropped && oldest) {
        entry *e = *oldest;
        *oldest = e->next;
        free(e);
        rl->n--;
    }
}

bool gw_ratelimit_take(gw_ratelimit *rl, const char *client, int64_t now_ns, int *retry_after_s)
{
    if (rl->limit <= 0) return true;
    pthread_mutex_lock(&rl->mu);
    size_t b = hash(client) % NBUCKETS;
    entry *e = rl->buckets[b];
    while (e && strncmp(e->key, client, sizeof e->key - 1)) e = e->next;
    if (!e) {
        if (rl->n >= rl->max_clients) {
            make_room(rl, now_ns);
            b = hash(client) % NBUCKETS;
        }
        e = calloc(1, sizeof *e);
        if (!e) abort();
        strncpy(e->key, client, sizeof e->key - 1);
        e->window_start_ns = now_ns;
        e->next = rl->buckets[b];
        rl->buckets[b] = e;
        rl->n++;
    } else if (now_ns - e->window_start_ns >= rl->window_ns) {
        e->window_start_ns = now_ns;
        e->count = 0;
    }
    bool ok = e->count < rl->limit;
    if (ok) {
        e->count++;
    } else if (retry_after_s) {
        int64_t left = e->window_start_ns + rl->window_ns - now_ns;
        int s = (int)((left + 999999999LL) / 1000000000LL);
        *retry_after_s = s < 1 ? 1 : s;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

/* True when ip (length n) is one of the comma-separated entries of list. */
static bool in_list(const char *ip, size_t n, const char *list)
{
    if (!list) return false;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ') end++;
        if ((size_t)(end - p) == n && n && !strncmp(p, ip, n)) return true;
        p = end;
    }
    return false;
}

static void copy_trimmed(const char *s, size_t n, char *out, size_t outn)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n >= outn) n = outn - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

void gw_client_ip(const char *peer, const char *xff, const char *trusted, char *out, size_t n)
{
    if (!peer) peer = "";
    copy_trimmed(peer, strlen(peer), out, n);
    if (!xff || !*xff || !in_list(peer, strlen(peer), trusted)) return;
    /* Walk XFF right to left, skipping our own trusted proxies. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',') start--;
        const char *s = start;
        size_t len = (size_t)(end - start);
        while (len && isspace((unsigned char)*s)) s++, len--;
        while (len && isspace((unsigned char)s[len - 1])) len--;
        if (len && !in_list(s, len, trusted)) {
            copy_trimmed(s, len, out, n);
            return;
        }
        end = start > xff ? start - 1 : xff;
    }
}
