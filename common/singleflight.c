/* singleflight.c — see singleflight.h. Every function runs with the owner's mutex held. */
#include "singleflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

typedef enum { FL_RUNNING, FL_DONE, FL_FAILED, FL_ORPHANED } flight_state;

struct sfp_sf_flight {
    char *key;
    uint64_t hash;
    int refs; /* the table's + every handle's */
    bool in_table;
    flight_state state;
    int waiters; /* joiners inside sfp_sf_wait or about to enter it */
    void *result;
    char reason[32];
    pthread_cond_t cv;
    sfp_sf_flight *next;
};

uint64_t sfp_sf_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void sfp_sf_init(sfp_sf *g, pthread_mutex_t *mu, void (*free_result)(void *result))
{
    memset(g, 0, sizeof *g);
    g->mu = mu;
    g->free_result = free_result;
}

static void release(sfp_sf *g, sfp_sf_flight *f)
{
    if (--f->refs > 0) return;
    if (g->free_result && f->result) g->free_result(f->result);
    pthread_cond_destroy(&f->cv);
    free(f->key);
    free(f);
}

/* Takes f out of the table and drops the table's reference, which is never the last one: the
 * caller holds its own handle. */
static void unlink_flight(sfp_sf *g, sfp_sf_flight *f)
{
    if (!f->in_table) return;
    sfp_sf_flight **pp = &g->buckets[f->hash % SFP_SF_BUCKETS];
    while (*pp != f) pp = &(*pp)->next;
    *pp = f->next;
    f->in_table = false;
    g->in_flight--;
    f->refs--;
}

void sfp_sf_destroy(sfp_sf *g)
{
    for (int i = 0; i < SFP_SF_BUCKETS; i++)
        while (g->buckets[i]) {
            sfp_sf_flight *f = g->buckets[i];
            g->buckets[i] = f->next;
            f->in_table = false;
            g->in_flight--;
            release(g, f); /* the table's reference (handles still out are a caller bug) */
        }
}

static sfp_sf_flight *find(sfp_sf *g, const char *key, uint64_t h)
{
    for (sfp_sf_flight *f = g->buckets[h % SFP_SF_BUCKETS]; f; f = f->next)
        if (f->hash == h && !strcmp(f->key, key)) return f;
    return NULL;
}

/* Takes a handle on an existing flight: leads an orphaned one, else joins. */
static sfp_sf_role take(sfp_sf_flight *f)
{
    f->refs++;
    if (f->state == FL_ORPHANED) {
        f->state = FL_RUNNING; /* nobody leads it: this caller does */
        return SFP_SF_LEADS;
    }
    f->waiters++;
    return SFP_SF_JOINED;
}

sfp_sf_role sfp_sf_join(sfp_sf *g, const char *key, sfp_sf_flight **f)
{
    *f = find(g, key, sfp_sf_hash(key));
    return *f ? take(*f) : SFP_SF_NONE;
}

sfp_sf_role sfp_sf_begin(sfp_sf *g, const char *key, sfp_sf_flight **out)
{
    uint64_t h = sfp_sf_hash(key);
    sfp_sf_flight *f = find(g, key, h);
    if (f) {
        *out = f;
        return take(f);
    }
    f = calloc(1, sizeof *f);
    if (!f) abort();
    f->key = strdup(key);
    if (!f->key) abort();
    f->hash = h;
    f->refs = 2; /* table + leader */
    f->in_table = true;
    f->state = FL_RUNNING;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    f->next = g->buckets[h % SFP_SF_BUCKETS];
    g->buckets[h % SFP_SF_BUCKETS] = f;
    g->in_flight++;
    *out = f;
    return SFP_SF_LEADS;
}

const char *sfp_sf_key(const sfp_sf_flight *f)
{
    return f->key;
}

void sfp_sf_done(sfp_sf *g, sfp_sf_flight *f, void *result)
{
    f->state = FL_DONE;
    f->result = result;
    unlink_flight(g, f);
    pthread_cond_broadcast(&f->cv);
    release(g, f);
}

void sfp_sf_fail(sfp_sf *g, sfp_sf_flight *f, const char *reason, bool hand_over)
{
    snprintf(f->reason, sizeof f->reason, "%s", reason ? reason : "error");
    if (hand_over && f->waiters > 0) {
        f->state = FL_ORPHANED; /* stays in the table; one waiter (or a new caller) takes it */
        pthread_cond_signal(&f->cv);
    } else {
        f->state = FL_FAILED;
        unlink_flight(g, f);
        pthread_cond_broadcast(&f->cv);
    }
    release(g, f);
}

sfp_sf_wait_rc sfp_sf_wait(sfp_sf *g, sfp_sf_flight *f, int64_t deadline_ms,
                           void (*copy)(const void *result, void *arg), void *arg, char *reason)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000), .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
    if (reason) reason[0] = '\0';
    sfp_sf_wait_rc rc;
    for (;;) {
        if (f->state == FL_DONE) {
            rc = SFP_SF_DONE;
            if (copy) copy(f->result, arg);
            break;
        }
        if (f->state == FL_FAILED) {
            rc = SFP_SF_FAILED;
            if (reason) snprintf(reason, 32, "%s", f->reason);
            break;
        }
        bool expired = deadline_ms != INT64_MAX && deadline_ms <= sfp_mono_ms();
        if (f->state == FL_ORPHANED && !expired) {
            f->state = FL_RUNNING;
            f->waiters--;
            return SFP_SF_PROMOTED; /* keeps its reference as the new leader */
        }
        if (expired) {
            rc = SFP_SF_TIMEOUT;
            if (reason) snprintf(reason, 32, "%s", "deadline");
            break;
        }
        int e =
            deadline_ms == INT64_MAX ? pthread_cond_wait(&f->cv, g->mu) : pthread_cond_timedwait(&f->cv, g->mu, &ts);
        if (e != 0 && e != ETIMEDOUT && e != EINTR) {
            rc = SFP_SF_TIMEOUT;
            if (reason) snprintf(reason, 32, "%s", "deadline");
            break;
        }
    }
    f->waiters--;
    if (f->state == FL_ORPHANED) {
        if (f->waiters == 0) unlink_flight(g, f); /* nobody left to lead it */
        else pthread_cond_signal(&f->cv);         /* pass the promotion on */
    }
    release(g, f);
    return rc;
}
