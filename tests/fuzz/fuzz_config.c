/* libFuzzer target: configuration parsing (common/config.c) — a value of any kind through the
 * table's validation, the start-up check and --print-config.
 * Input: byte 0 picks the variable (a row of common/config_vars.h), byte 1 the binary, the
 * rest is the value. For any value:
 *   - the typed getter gives a verdict; an accepted integer lies in the row's range and is
 *     what strtol reads; an accepted duration is digits with an optional ms/s/min unit, in
 *     [0, 24 h]; an accepted boolean is one of the documented words; accepted text has no line
 *     break; an accepted Postgres size is 1..7 digits + kB/MB/GB;
 *   - the start-up check of a binary that reads the variable agrees with the getter;
 *   - --print-config prints one JSON document; a secret is "(redacted)"; a database URL with a
 *     password (as libpq reads it) is printed so that libpq reads the password as "redacted".
 * fuzz-sources: common/config.c common/db_url.c common/sfp_err.c common/buf.c
 * fuzz-libs: libpq libcjson */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "db_url.h"
#include "config_vars.h"

typedef struct row {
    const char *name;
    sfp_cfg_kind kind;
    long min, max;
    unsigned binaries, required_in;
} row;
#define ROW(n, k, dt, dn, lo, hi, b, r, d) {#n, k, lo, hi, b, r},
static const row k_rows[] = {SFP_CONFIG_VARS(ROW)};
#define NROWS (sizeof k_rows / sizeof k_rows[0])
static const sfp_binary k_bins[] = {SFP_B_GATEWAY, SFP_B_REPORT,  SFP_B_BRIEF, SFP_B_CRON,     SFP_B_HEALTH,
                                    SFP_B_CRONCTL, SFP_B_MIGRATE, SFP_B_SEED,  SFP_B_SODA_TEST};
#define NBINS (sizeof k_bins / sizeof k_bins[0])

static int g_out = -1; /* stdout, redirected to memory: --print-config writes there */

static bool duration_form(const char *v)
{
    size_t i = 0;
    while (isdigit((unsigned char)v[i])) i++;
    return i > 0 && (!strcmp(v + i, "") || !strcmp(v + i, "ms") || !strcmp(v + i, "s") || !strcmp(v + i, "min"));
}

static bool bool_word(const char *v)
{
    static const char *const w[] = {"1", "true", "yes", "on", "0", "false", "no", "off"};
    for (size_t i = 0; i < 8; i++)
        if (!strcasecmp(v, w[i])) return true;
    return false;
}

/* The password libpq reads from a connection string (malloc'd), or NULL. */
static char *pq_password(const char *conninfo, bool *parsed)
{
    char *err = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    *parsed = o != NULL;
    char *pw = NULL;
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (!strcmp(p->keyword, "password") && p->val && *p->val) pw = strdup(p->val);
    PQconninfoFree(o);
    return pw;
}

/* Runs --print-config for b and returns the printed document (malloc'd). */
static char *print_config(sfp_binary b)
{
    ftruncate(g_out, 0);
    lseek(g_out, 0, SEEK_SET);
    char *argv[] = {"fuzz", "--print-config", NULL};
    if (sfp_config_start(b, "", "", 2, argv) != 0) abort();
    fflush(stdout);
    off_t n = lseek(g_out, 0, SEEK_END);
    char *s = malloc((size_t)n + 1);
    if (!s) abort();
    if (pread(g_out, s, (size_t)n, 0) != n) abort();
    s[n] = '\0';
    return s;
}

static void check_print(const row *r, sfp_binary b, const char *value)
{
    char *doc = print_config(b);
    cJSON *j = cJSON_Parse(doc);
    if (!j) abort(); /* not one JSON document */
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "config"), r->name);
    if (!v) abort();
    if (r->kind == SFP_CFG_SECRET && (!cJSON_IsString(v) || strcmp(v->valuestring, "(redacted)"))) abort();
    if (r->kind == SFP_CFG_DB_URL) {
        bool parsed;
        char *pw = pq_password(value, &parsed);
        if (pw) {
            if (!cJSON_IsString(v)) abort();
            /* a string too long (or unreadable) to show redacted is replaced whole: nothing leaks */
            if (!strncmp(v->valuestring, "(redacted: ", 11) && !strstr(v->valuestring, pw)) {
                free(pw);
                cJSON_Delete(j);
                free(doc);
                return;
            }
            /* what is shown must read back as a connection string whose password is gone or
             * "redacted" (a display of a garbled string may lose more than the password) */
            bool reparsed;
            char *shown = pq_password(v->valuestring, &reparsed);
            if (!reparsed || (shown && strcmp(shown, "redacted"))) {
                fprintf(stderr, "password '%s' of '%s' printed as '%s'\n", pw, value, v->valuestring);
                abort();
            }
            free(shown);
        }
        free(pw);
    }
    cJSON_Delete(j);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_out < 0) {
        sfp_db_config_init(); /* as every binary that reads DATABASE_URL does */
        g_out = memfd_create("fuzz_config_stdout", 0);
        if (g_out < 0 || dup2(g_out, STDOUT_FILENO) < 0) abort();
    }
    if (size < 2 || size > 4096) return 0;
    const row *r = &k_rows[data[0] % NROWS];
    sfp_binary b = k_bins[data[1] % NBINS];
    for (size_t i = 0; i < NROWS; i++) unsetenv(k_rows[i].name); /* defaults for every other row */
    char *value = strndup((const char *)data + 2, size - 2);     /* the environment holds C strings */
    if (!value) return 0;
    if (!*value) goto out;
    setenv(r->name, value, 1);
    /* the rows a binary requires, so the check reaches the fuzzed one */
    for (size_t i = 0; i < NROWS; i++)
        if (k_rows[i].required_in && &k_rows[i] != r) setenv(k_rows[i].name, "postgresql://u@db/x", 1);

    sfp_err e = {0};
    int rc;
    if (r->kind == SFP_CFG_INT) {
        long l = 0;
        rc = sfp_cfg_long(r->name, &l, &e);
        if (rc == 0) {
            errno = 0;
            if (l < r->min || l > r->max || strtol(value, NULL, 10) != l || errno) abort();
        }
    } else if (r->kind == SFP_CFG_BOOL) {
        bool x;
        rc = sfp_cfg_bool(r->name, &x, &e);
        if (rc == 0 && !bool_word(value)) abort();
    } else if (r->kind == SFP_CFG_DURATION) {
        int ms = -1;
        rc = sfp_cfg_duration_ms(r->name, &ms, &e);
        if (rc == 0 && (!duration_form(value) || ms < 0 || ms > 24 * 3600 * 1000)) {
            fprintf(stderr, "duration '%s' accepted as %d ms\n", value, ms);
            abort();
        }
    } else {
        const char *t = NULL;
        rc = sfp_cfg_text(r->name, &t, &e);
        if (rc == 0 && (!t || strpbrk(t, "\r\n"))) abort();
        if (rc == 0 && r->kind == SFP_CFG_PG_SIZE) {
            size_t i = 0;
            while (isdigit((unsigned char)t[i])) i++;
            if (i < 1 || i > 7 || (strcmp(t + i, "kB") && strcmp(t + i, "MB") && strcmp(t + i, "GB"))) abort();
        }
    }
    if (rc != 0 && (!*e.msg || !strstr(e.msg, r->name))) abort(); /* every error names the variable */

    if (r->binaries & (unsigned)b) {
        sfp_err ce = {0};
        if ((sfp_config_check(b, &ce) == 0) != (rc == 0)) abort();
        if (rc == 0) check_print(r, b, value);
    }
out:
    free(value);
    return 0;
}
