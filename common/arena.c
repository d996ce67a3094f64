#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct on_free {
    struct on_free *next;
    void (*fn)(void *arg);
    void *arg;
} on_free;

struct sfp_arena {
    chunk *head;
    on_free *hooks; /* allocated in the arena itself */
};

#define CHUNK_MIN 8192

sfp_arena *sfp_arena_new(void)
{
    sfp_arena *a = calloc(1, sizeof *a);
    if (!a) abort();
    return a;
}

void sfp_arena_free(sfp_arena *a)
{
    if (!a) return;
    for (on_free *h = a->hooks; h; h = h->next) h->fn(h->arg);
    for (chunk *c = a->head; c;) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void *sfp_arena_alloc(sfp_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (c && c->cap * 2 > cap && c->cap < (1u << 20)) cap = c->cap * 2;
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) abort();
        nc->cap = cap;
        nc->used = 0;
        nc->next = c;
        a->head = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *sfp_arena_strndup(sfp_arena *a, const char *s, size_t n)
{
    if (!s) s = "";
    n = strnlen(s, n); /* never reads past s's NUL: "at most n characters" */
    char *p = sfp_arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sfp_arena_strdup(sfp_arena *a, const char *s)
{
    if (!s) s = "";
    return sfp_arena_strndup(a, s, strlen(s));
}

char *sfp_arena_printf(sfp_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return sfp_arena_strdup(a, "");
    char *p = sfp_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void sfp_arena_on_free(sfp_arena *a, void (*fn)(void *arg), void *arg)
{
    on_free *h = sfp_arena_alloc(a, sizeof *h);
    h->fn = fn;
    h->arg = arg;
    h->next = a->hooks;
    a->hooks = h;
}
