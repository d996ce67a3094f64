/* sfp-config-doc — documents of the configuration table (common/config_vars.h):
 *   --markdown           the README's environment table
 *   --json               a JSON schema of every variable (the k8s validator reads it)
 *   --check-readme FILE  exit 1 unless FILE holds exactly the --markdown table between the
 *                        lines "<!-- env-table:begin -->" and "<!-- env-table:end -->" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define BEGIN_MARK "<!-- env-table:begin -->\n"
#define END_MARK "<!-- env-table:end -->\n"

static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int check_readme(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sfp-config-doc: cannot read %s\n", path);
        return 2;
    }
    size_t n;
    char *text = slurp(f, &n);
    fclose(f);
    char *want = NULL;
    size_t want_len = 0;
    FILE *m = open_memstream(&want, &want_len);
    sfp_config_write_markdown(m);
    fclose(m);
    char *b = strstr(text, BEGIN_MARK), *e = b ? strstr(b, END_MARK) : NULL;
    int rc = 0;
    if (!b || !e) {
        fprintf(stderr, "sfp-config-doc: %s has no %s ... %s block\n", path, "<!-- env-table:begin -->",
                "<!-- env-table:end -->");
        rc = 1;
    } else {
        b += strlen(BEGIN_MARK);
        if ((size_t)(e - b) != want_len || memcmp(b, want, want_len)) {
            fprintf(stderr,
                    "sfp-config-doc: the environment table in %s differs from common/config_vars.h;\n"
                    "regenerate it: build/bin/sfp-config-doc --markdown (between the env-table markers)\n",
                    path);
            rc = 1;
        }
    }
    free(want);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--markdown")) {
        sfp_config_write_markdown(stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--json")) {
        sfp_config_write_schema(stdout);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--check-readme")) return check_readme(argv[2]);
    fprintf(stderr, "usage: sfp-config-doc --markdown | --json | --check-readme README.md\n");
    return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
}
