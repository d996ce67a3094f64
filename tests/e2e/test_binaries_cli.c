/* Every binary: --help prints its usage and variables and exits 0 without serving;
 * --print-config prints the effective configuration as JSON with secrets redacted; an invalid
 * value of any variable it reads (LOG_LEVEL here) refuses start-up with exit code 2 naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testsupport.h"

static const char *const k_bins[] = {
    "sfp-gateway", "sfp-report",           "sfp-brief", "sfp-cron", "sfp-health", "sfp-cronctl", "sfp-migrate",
    "sfp-seed",    "sfp-soda-test-server",
};
#define NBINS (sizeof k_bins / sizeof k_bins[0])

/* Runs `env ... bin args` (timeout 20 s, so a binary that serves instead fails the test);
 * stdout (and stderr when both) into out. Returns the exit code. */
static int run(const char *envs, const char *bin, const char *args, char *out, size_t n, int both)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "env %s timeout 20 %s/%s %s %s", envs, SFP_BIN_DIR, bin, args,
             both ? "2>&1" : "2>/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_help(void **state)
{
    (void)state;
    static char out[65536];
    for (size_t i = 0; i < NBINS; i++) {
        sfp_test_require_bin(k_bins[i]);
        if (run("-u DATABASE_URL", k_bins[i], "--help", out, sizeof out, 0) != 0) fail_msg("%s --help", k_bins[i]);
        if (!strstr(out, "usage: ") || !strstr(out, k_bins[i]) || !strstr(out, "LOG_LEVEL"))
            fail_msg("%s --help printed no usage with its variables:\n%s", k_bins[i], out);
    }
}

static void test_print_config(void **state)
{
    (void)state;
    static char out[65536];
    for (size_t i = 0; i < NBINS; i++) {
        int rc = run("DATABASE_URL=postgresql://u:hunter2@db/x CRON_SECRET=s3cr3t-value SODA_APP_TOKEN=tok-value",
                     k_bins[i], "--print-config", out, sizeof out, 0);
        if (rc != 0) fail_msg("%s --print-config exit %d", k_bins[i], rc);
        cJSON *j = cJSON_Parse(out);
        if (!j) fail_msg("%s --print-config is not JSON:\n%s", k_bins[i], out);
        cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
        assert_non_null(cJSON_GetObjectItemCaseSensitive(cfg, "LOG_LEVEL"));
        if (strstr(out, "hunter2") || strstr(out, "s3cr3t-value") || strstr(out, "tok-value"))
            fail_msg("%s --print-config leaks a secret:\n%s", k_bins[i], out);
        cJSON_Delete(j);
    }
}

static void test_bad_value_refused(void **state)
{
    (void)state;
    static char out[65536];
    for (size_t i = 0; i < NBINS; i++) {
        int rc = run("DATABASE_URL=postgresql://u@db/x LOG_LEVEL=bogus", k_bins[i], "", out, sizeof out, 1);
        if (rc != 2 || !strstr(out, "LOG_LEVEL")) fail_msg("%s with LOG_LEVEL=bogus: exit %d\n%s", k_bins[i], rc, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_print_config),
        cmocka_unit_test(test_bad_value_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
