/* Configuration parsing: regressions found by the fuzz target tests/fuzz/fuzz_config.c —
 * durations that do not start with a digit, and DATABASE_URL passwords that --print-config
 * showed (the redaction must hold for every form libpq reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "db_url.h"

static void test_duration_starts_with_a_digit(void **state)
{
    (void)state;
    const char *bad[] = {"-0s", "+5s", " 5s", "\t30000", "-0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sfp_err e = {0};
        int ms = 7;
        setenv("DB_STATEMENT_TIMEOUT", bad[i], 1);
        if (sfp_cfg_duration_ms("DB_STATEMENT_TIMEOUT", &ms, &e) != -1) fail_msg("'%s' accepted as %d ms", bad[i], ms);
        assert_non_null(strstr(e.msg, "DB_STATEMENT_TIMEOUT"));
    }
    sfp_err e = {0};
    int ms = 0;
    setenv("DB_STATEMENT_TIMEOUT", "0", 1);
    assert_int_equal(sfp_cfg_duration_ms("DB_STATEMENT_TIMEOUT", &ms, &e), 0);
    assert_int_equal(ms, 0);
    unsetenv("DB_STATEMENT_TIMEOUT");
}

/* --print-config of sfp-report with DATABASE_URL=url: the value it shows (malloc'd). */
static char *shown_db_url(const char *url)
{
    setenv("DATABASE_URL", url, 1);
    int fd = memfd_create("print_config", 0);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    char *argv[] = {"sfp-report", "--print-config", NULL};
    int rc = sfp_config_start(SFP_B_REPORT, "", "x", 2, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    unsetenv("DATABASE_URL");
    assert_int_equal(rc, 0);
    off_t n = lseek(fd, 0, SEEK_END);
    char *doc = calloc(1, (size_t)n + 1);
    assert_int_equal(pread(fd, doc, (size_t)n, 0), n);
    close(fd);
    cJSON *j = cJSON_Parse(doc);
    assert_non_null(j);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "config"), "DATABASE_URL");
    assert_true(cJSON_IsString(v));
    char *out = strdup(v->valuestring);
    cJSON_Delete(j);
    free(doc);
    return out;
}

static void test_db_url_password_never_shown(void **state)
{
    (void)state;
    const char *urls[] = {
        "host=db password='two words' dbname=x",   /* was shown as password=redacted words' */
        "host=db password = hunter2 dbname=x",     /* spaces around '=' */
        "host=db password=first password=hunter2", /* libpq takes the last */
        "postgresql://u@db/x?password=hunter2&sslmode=disable",
        "postgresql://u@db/x?pass%77ord=hunter2",
        "host=db sslpassword=hunter2",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *s = shown_db_url(urls[i]);
        if (strstr(s, "hunter2") || strstr(s, "words")) fail_msg("%s shown as %s", urls[i], s);
        char *err = NULL;
        PQconninfoOption *o = PQconninfoParse(s, &err);
        PQfreemem(err);
        if (!o) fail_msg("%s shown as %s: not a connection string", urls[i], s);
        for (PQconninfoOption *p = o; p->keyword; p++)
            if (!strcmp(p->keyword, "host") && (!p->val || strcmp(p->val, "db"))) fail_msg("host lost in %s", s);
        PQconninfoFree(o);
        free(s);
    }
    /* the usual URI keeps its form */
    char *s = shown_db_url("postgresql://u:hunter2@db/x");
    assert_string_equal(s, "postgresql://u:redacted@db/x");
    free(s);
    /* a string libpq cannot read is not shown at all */
    s = shown_db_url("host='unterminated password=hunter2");
    assert_null(strstr(s, "hunter2"));
    free(s);
}

/* A binary that installed no redactor (one without libpq) hides the whole value. */
static void test_db_url_hidden_without_redactor(void **state)
{
    (void)state;
    sfp_config_set_db_url_redactor(NULL);
    char *s = shown_db_url("postgresql://u:hunter2@db/x");
    sfp_db_config_init();
    assert_string_equal(s, "(redacted)");
    free(s);
}

int main(void)
{
    sfp_db_config_init(); /* as every binary that reads DATABASE_URL does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_starts_with_a_digit),
        cmocka_unit_test(test_db_url_password_never_shown),
        cmocka_unit_test(test_db_url_hidden_without_redactor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
