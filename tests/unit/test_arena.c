/* arena: string copies never read past their source (the ASan build checks the reads); hooks
 * run once each when it is freed, last registered first, over memory the arena does not own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

static void test_strndup_stops_at_nul(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    /* a short string under a longer limit: copies the string, never the bytes after it */
    char *short_src = malloc(4);
    memcpy(short_src, "abc", 4);
    assert_string_equal(sfp_arena_strndup(a, short_src, 120), "abc");
    free(short_src);
    assert_string_equal(sfp_arena_strndup(a, "2026-12-04T00:00:00", 10), "2026-12-04");
    assert_string_equal(sfp_arena_strndup(a, "", 10), "");
    assert_string_equal(sfp_arena_strndup(a, NULL, 10), "");
    /* a slice that is not NUL-terminated: at most n bytes are read */
    char slice[3] = {'x', 'y', 'z'};
    assert_string_equal(sfp_arena_strndup(a, slice, 3), "xyz");
    assert_string_equal(sfp_arena_strdup(a, NULL), "");
    sfp_arena_free(a);
}

static char g_order[8];
static void note(void *arg)
{
    size_t n = strlen(g_order);
    g_order[n] = *(const char *)arg;
    g_order[n + 1] = '\0';
}

static void test_on_free_hooks(void **state)
{
    (void)state;
    g_order[0] = '\0';
    sfp_arena *a = sfp_arena_new();
    sfp_arena_on_free(a, note, "a");
    for (int i = 0; i < 2000; i++) sfp_arena_alloc(a, 100); /* hooks outlive chunk growth */
    sfp_arena_on_free(a, note, "b");
    char *owned = malloc(16); /* freed by its hook: valgrind/ASan see a leak if it never runs */
    sfp_arena_on_free(a, free, owned);
    sfp_arena_on_free(a, note, "c");
    assert_string_equal(g_order, "");
    sfp_arena_free(a);
    assert_string_equal(g_order, "cba");
    sfp_arena_free(sfp_arena_new()); /* no hooks */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strndup_stops_at_nul),
        cmocka_unit_test(test_on_free_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
