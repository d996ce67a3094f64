/* arena: string copies never read past their source (the ASan build checks the reads). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strndup_stops_at_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
