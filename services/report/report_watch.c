#include "report_watch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sfp_rpt_watch {
    pthread_mutex_t mu;
    sfp_clock_fn clock;
    void *clock_arg;
    uint64_t generation; /* bumped by every notification, UP and DOWN */
    bool listening;
    bool held;
    double stored_at; /* w->clock */
    sfp_arena *arena; /* the held rows live here (owned) */
    sfp_rpt_reg_watch *rows;
    size_t n;
    int64_t hits, misses, stores, invalidations;
};

sfp_rpt_watch *sfp_rpt_watch_new(sfp_clock_fn clock, void *clock_arg)
{
    sfp_rpt_watch *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->clock = clock ? clock : sfp_mono_clock;
    w->clock_arg = clock_arg;
    pthread_mutex_init(&w->mu, NULL);
    return w;
}

static void drop_locked(sfp_rpt_watch *w)
{
    sfp_arena_free(w->arena);
    w->arena = NULL;
    w->rows = NULL;
    w->n = 0;
    w->held = false;
}

void sfp_rpt_watch_free(sfp_rpt_watch *w)
{
    if (!w) return;
    drop_locked(w);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void sfp_rpt_watch_listen_event(void *user, sfp_listen_event ev, const char *payload)
{
    (void)payload;
    sfp_rpt_watch *w = user;
    pthread_mutex_lock(&w->mu);
    w->generation++;
    if (w->held) w->invalidations++;
    drop_locked(w);
    w->listening = ev != SFP_LISTEN_DOWN;
    pthread_mutex_unlock(&w->mu);
}

static void copy_rows(sfp_arena *a, const sfp_rpt_reg_watch *in, size_t n, sfp_rpt_reg_watch **out)
{
    sfp_rpt_reg_watch *v = sfp_arena_alloc(a, sizeof *v * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        v[i].title = sfp_arena_strdup(a, in[i].title);
        v[i].description = sfp_arena_strdup(a, in[i].description);
        v[i].status = sfp_arena_strdup(a, in[i].status);
        v[i].impact_level = sfp_arena_strdup(a, in[i].impact_level);
        v[i].url = sfp_arena_strdup(a, in[i].url);
        v[i].n_concepts = in[i].n_concepts;
        v[i].concepts = sfp_arena_alloc(a, sizeof(char *) * (in[i].n_concepts ? in[i].n_concepts : 1));
        for (size_t k = 0; k < in[i].n_concepts; k++) v[i].concepts[k] = sfp_arena_strdup(a, in[i].concepts[k]);
    }
    *out = v;
}

bool sfp_rpt_watch_get(sfp_rpt_watch *w, sfp_arena *a, sfp_rpt_reg_watch **rows, size_t *n, uint64_t *generation)
{
    *rows = NULL;
    *n = 0;
    *generation = 0;
    if (!w) return false;
    pthread_mutex_lock(&w->mu);
    bool ok = w->listening && w->held && w->clock(w->clock_arg) - w->stored_at < SFP_RPT_WATCH_MAX_AGE_S;
    if (ok) {
        copy_rows(a, w->rows, w->n, rows);
        *n = w->n;
        w->hits++;
    } else {
        w->misses++;
    }
    *generation = w->generation;
    pthread_mutex_unlock(&w->mu);
    return ok;
}

void sfp_rpt_watch_put(sfp_rpt_watch *w, uint64_t generation, const sfp_rpt_reg_watch *rows, size_t n)
{
    if (!w) return;
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_reg_watch *copy;
    copy_rows(a, rows, n, &copy);
    pthread_mutex_lock(&w->mu);
    if (w->listening && w->generation == generation) {
        drop_locked(w);
        w->arena = a;
        w->rows = copy;
        w->n = n;
        w->held = true;
        w->stored_at = w->clock(w->clock_arg);
        w->stores++;
        a = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    sfp_arena_free(a);
}

void sfp_rpt_watch_get_stats(sfp_rpt_watch *w, sfp_rpt_watch_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    s->hits = w->hits;
    s->misses = w->misses;
    s->stores = w->stores;
    s->invalidations = w->invalidations;
    s->listening = w->listening;
    s->held = w->held;
    pthread_mutex_unlock(&w->mu);
}
