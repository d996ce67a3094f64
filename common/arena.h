/* arena.h — bump allocator for one request: everything allocated from it is freed at once by
 * sfp_arena_free. Used for decoded requests and built responses of an RPC. */
#ifndef SFP_ARENA_H
#define SFP_ARENA_H

#include <stddef.h>

typedef struct sfp_arena sfp_arena;

sfp_arena *sfp_arena_new(void);
void sfp_arena_free(sfp_arena *a);                              /* NULL-safe */
void *sfp_arena_alloc(sfp_arena *a, size_t n);                  /* zeroed, 16-byte aligned; aborts on OOM */
char *sfp_arena_strdup(sfp_arena *a, const char *s);            /* NULL → "" */
char *sfp_arena_strndup(sfp_arena *a, const char *s, size_t n); /* at most n chars, stops at NUL; NULL → "" */
char *sfp_arena_printf(sfp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fn(arg) runs when the arena is freed (last registered first, before its memory goes): for
 * memory the request points into that the arena does not own (e.g. a libpq result whose values
 * are used in place). */
void sfp_arena_on_free(sfp_arena *a, void (*fn)(void *arg), void *arg);

#endif
