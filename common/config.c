#include "config.h"
#include "config_vars.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int sfp_parse_long(const char *name, const char *s, long min, long max, long *out, sfp_err *err)
{
    if (!s || !*s) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: empty value, expected an integer", name);
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    while (end && isspace((unsigned char)*end)) end++;
    if (errno || end == s || *end != '\0' || isspace((unsigned char)*s))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is not an integer", name, s);
    if (v < min || v > max)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: %ld is out of range [%ld, %ld]", name, v, min, max);
    *out = v;
    return 0;
}

int sfp_parse_bool(const char *name, const char *s, bool *out, sfp_err *err)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    if (s) {
        for (size_t i = 0; i < 4; i++) {
            if (!strcasecmp(s, yes[i])) {
                *out = true;
                return 0;
            }
            if (!strcasecmp(s, no[i])) {
                *out = false;
                return 0;
            }
        }
    }
    return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is not a boolean (use 1/true/yes/on or 0/false/no/off)",
                       name, s ? s : "");
}

int sfp_parse_addr(const char *name, const char *s, sfp_err *err)
{
    if (!s || !*s) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: empty address", name);
    if (!strncmp(s, "unix:", 5)) {
        if (s[5] != '/' || strlen(s) > 5 + 107)
            return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                               "%s: unix socket address must be unix:/absolute/path (<108 chars)", name);
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' is not host:port or unix:/path", name, s);
    if (s[0] == '[' && colon[-1] != ']')
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' has an unterminated [ipv6] host", name, s);
    for (const char *h = s; h < colon; h++) {
        unsigned char c = (unsigned char)*h;
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' has an invalid host", name, s);
    }
    long port;
    if (sfp_parse_long(name, colon + 1, 0, 65535, &port, err)) return -1;
    return 0;
}

int sfp_parse_target(const char *name, const char *s, sfp_err *err)
{
    if (!s || strncmp(s, "dns:", 4)) return sfp_parse_addr(name, s, err);
    const char *p = s + 4;
    if (!strncmp(p, "//", 2)) {
        const char *slash = strchr(p + 2, '/');
        if (!slash)
            return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                               "%s: '%.60s' is not dns:///host:port or dns://server/host:port", name, s);
        for (const char *h = p + 2; h < slash; h++) {
            unsigned char c = (unsigned char)*h;
            if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
                return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' has an invalid DNS server", name, s);
        }
        p = slash + 1;
    }
    if (!strncmp(p, "unix:", 5))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s': a dns: target names host:port", name, s);
    return sfp_parse_addr(name, p, err);
}

/* ---------- the table ---------- */

typedef struct cfg_var {
    const char *name;
    sfp_cfg_kind kind;
    const char *def_text;
    long def_num, min, max;
    unsigned binaries, required_in;
    const char *doc;
} cfg_var;

#define SFP_CFG_ROW(n, k, dt, dn, lo, hi, b, r, d) {#n, k, dt, dn, lo, hi, b, r, d},
static const cfg_var k_vars[] = {SFP_CONFIG_VARS(SFP_CFG_ROW)};
#define NVARS (sizeof k_vars / sizeof k_vars[0])

static const struct {
    sfp_binary b;
    const char *name, *listen_default;
} k_binaries[] = {
    {SFP_B_GATEWAY, "sfp-gateway", NULL},
    {SFP_B_REPORT, "sfp-report", SFP_DEFAULT_REPORT_ADDR},
    {SFP_B_BRIEF, "sfp-brief", SFP_DEFAULT_BRIEF_ADDR},
    {SFP_B_CRON, "sfp-cron", SFP_DEFAULT_CRON_ADDR},
    {SFP_B_HEALTH, "sfp-health", SFP_DEFAULT_HEALTH_ADDR},
    {SFP_B_CRONCTL, "sfp-cronctl", NULL},
    {SFP_B_MIGRATE, "sfp-migrate", NULL},
    {SFP_B_SEED, "sfp-seed", NULL},
    {SFP_B_SODA_TEST, "sfp-soda-test-server", NULL},
};
#define NBINARIES (sizeof k_binaries / sizeof k_binaries[0])

const char *sfp_binary_name(sfp_binary b)
{
    for (size_t i = 0; i < NBINARIES; i++)
        if (k_binaries[i].b == b) return k_binaries[i].name;
    return "sfp";
}

static const cfg_var *lookup(const char *name)
{
    for (size_t i = 0; i < NVARS; i++)
        if (!strcmp(k_vars[i].name, name)) return &k_vars[i];
    fprintf(stderr, "config: %s is not in common/config_vars.h (add a row there)\n", name);
    abort();
}

static const char *env_value(const cfg_var *v)
{
    const char *s = getenv(v->name);
    return (s && *s) ? s : NULL;
}

static bool is_bool_kind(sfp_cfg_kind k)
{
    return k == SFP_CFG_BOOL;
}
static bool is_number_kind(sfp_cfg_kind k)
{
    return k == SFP_CFG_INT;
}

/* ---------- checks by kind ---------- */

static int parse_duration_ms(const char *name, const char *v, int *out, sfp_err *err)
{
    char *end = NULL;
    errno = 0;
    /* digits first: strtol alone would also take " 30s", "+30s" and "-0s" */
    long n = isdigit((unsigned char)v[0]) ? strtol(v, &end, 10) : -1;
    if (errno || end == v || n < 0)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is not a duration (e.g. 30s, 500ms, 30000)", name,
                           v);
    long mult;
    if (!strcmp(end, "") || !strcmp(end, "ms")) mult = 1;
    else if (!strcmp(end, "s")) mult = 1000;
    else if (!strcmp(end, "min")) mult = 60000;
    else return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' has an unknown unit (use ms, s or min)", name, v);
    if (n > 24L * 3600 * 1000 / mult)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is longer than 24 h", name, v);
    *out = (int)(n * mult);
    return 0;
}

static bool valid_pg_size(const char *v)
{
    size_t i = 0;
    while (v[i] >= '0' && v[i] <= '9') i++;
    return i > 0 && i < 8 && (!strcmp(v + i, "kB") || !strcmp(v + i, "MB") || !strcmp(v + i, "GB"));
}

static bool valid_tz(const char *v)
{
    const char *z = v[0] == ':' ? v + 1 : v;
    if (!*z || strstr(z, "..")) return false;
    char path[512];
    if (z[0] == '/') snprintf(path, sizeof path, "%s", z);
    else snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", z);
    if (access(path, R_OK) == 0) return true;
    /* a POSIX rule such as PST8PDT,M3.2.0,M11.1.0: a name of 3+ letters, then an offset */
    size_t i = 0;
    while (isalpha((unsigned char)z[i])) i++;
    return i >= 3 && (z[i] == '+' || z[i] == '-' || isdigit((unsigned char)z[i]));
}

static bool valid_ip_list(const char *v)
{
    char item[64];
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        if (n >= sizeof item) return false;
        memcpy(item, p, n);
        item[n] = '\0';
        unsigned char buf[16];
        if (inet_pton(AF_INET, item, buf) != 1 && inet_pton(AF_INET6, item, buf) != 1) return false;
        p += n;
    }
    return true;
}

static int check_text(const cfg_var *v, const char *s, sfp_err *err)
{
    if (strpbrk(s, "\r\n")) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: must not contain line breaks", v->name);
    switch (v->kind) {
    case SFP_CFG_ADDR: return sfp_parse_addr(v->name, s, err);
    case SFP_CFG_ADDR_OFF: return strcmp(s, "off") ? sfp_parse_addr(v->name, s, err) : 0;
    case SFP_CFG_TARGET: return sfp_parse_target(v->name, s, err);
    case SFP_CFG_TARGET_OFF: return strcmp(s, "off") ? sfp_parse_target(v->name, s, err) : 0;
    case SFP_CFG_DURATION: {
        int ms;
        return parse_duration_ms(v->name, s, &ms, err);
    }
    case SFP_CFG_PG_SIZE:
        if (!valid_pg_size(s))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is not a Postgres size like 64MB or 1GB",
                               v->name, s);
        return 0;
    case SFP_CFG_LOG_LEVEL:
        if (strcasecmp(s, "debug") && strcasecmp(s, "info") && strcasecmp(s, "warn") && strcasecmp(s, "warning") &&
            strcasecmp(s, "error"))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.40s' is not one of debug, info, warn, error", v->name,
                               s);
        return 0;
    case SFP_CFG_TZ:
        if (!valid_tz(s))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                               "%s: '%.60s' is not a known time zone (e.g. America/Los_Angeles)", v->name, s);
        return 0;
    case SFP_CFG_HTTP_URL:
        if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' must start with http:// or https://", v->name,
                               s);
        if (strpbrk(s, " \t?#"))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                               "%s: '%.60s' must be a plain URL (no spaces, query or fragment)", v->name, s);
        return 0;
    case SFP_CFG_IP_LIST:
        if (!valid_ip_list(s))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: '%.60s' is not a comma-separated list of IP addresses",
                               v->name, s);
        return 0;
    default: return 0;
    }
}

/* ---------- getters ---------- */

int sfp_cfg_long(const char *name, long *out, sfp_err *err)
{
    const cfg_var *v = lookup(name);
    const char *s = env_value(v);
    if (is_bool_kind(v->kind)) {
        bool b = v->def_num != 0;
        if (s && sfp_parse_bool(name, s, &b, err)) return -1;
        *out = b;
        return 0;
    }
    if (!is_number_kind(v->kind)) {
        fprintf(stderr, "config: %s is not a number in common/config_vars.h\n", name);
        abort();
    }
    if (!s) {
        *out = v->def_num;
        return 0;
    }
    return sfp_parse_long(name, s, v->min, v->max, out, err);
}

int sfp_cfg_int(const char *name, int *out, sfp_err *err)
{
    long l;
    if (sfp_cfg_long(name, &l, err)) return -1;
    *out = (int)l;
    return 0;
}

int sfp_cfg_bool(const char *name, bool *out, sfp_err *err)
{
    long l;
    if (sfp_cfg_long(name, &l, err)) return -1;
    *out = l != 0;
    return 0;
}

int sfp_cfg_text(const char *name, const char **out, sfp_err *err)
{
    const cfg_var *v = lookup(name);
    if (is_number_kind(v->kind) || is_bool_kind(v->kind)) {
        fprintf(stderr, "config: %s is not text in common/config_vars.h\n", name);
        abort();
    }
    const char *s = env_value(v);
    if (!s) s = v->def_text;
    if (s && check_text(v, s, err)) return -1;
    *out = s;
    return 0;
}

int sfp_cfg_duration_ms(const char *name, int *out, sfp_err *err)
{
    const char *s;
    if (sfp_cfg_text(name, &s, err)) return -1;
    return parse_duration_ms(name, s ? s : "0", out, err);
}

int sfp_cfg_listen_addr(sfp_binary b, const char **out, sfp_err *err)
{
    if (sfp_cfg_text("LISTEN_ADDR", out, err)) return -1;
    if (*out) return 0;
    for (size_t i = 0; i < NBINARIES; i++)
        if (k_binaries[i].b == b && k_binaries[i].listen_default) *out = k_binaries[i].listen_default;
    if (!*out) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "LISTEN_ADDR: not set");
    return 0;
}

int sfp_service_env_load(sfp_service_env *e, sfp_binary b, sfp_err *err)
{
    if (sfp_cfg_listen_addr(b, &e->listen_addr, err)) return -1;
    if (sfp_cfg_int("RPC_WORKERS", &e->workers, err)) return -1;
    if (sfp_cfg_int("SHUTDOWN_GRACE_MS", &e->drain_ms, err)) return -1;
    return 0;
}

/* ---------- start-up ---------- */

int sfp_config_check(sfp_binary b, sfp_err *err)
{
    for (size_t i = 0; i < NVARS; i++) {
        const cfg_var *v = &k_vars[i];
        if (!(v->binaries & (unsigned)b)) continue;
        if ((v->required_in & (unsigned)b) && !env_value(v))
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s: not set (required by %s: %s)", v->name,
                               sfp_binary_name(b), v->doc);
        if (is_number_kind(v->kind) || is_bool_kind(v->kind)) {
            long l;
            if (sfp_cfg_long(v->name, &l, err)) return -1;
        } else {
            const char *s;
            if (sfp_cfg_text(v->name, &s, err)) return -1;
        }
    }
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

/* How --print-config shows a SFP_CFG_DB_URL value: the database library's redactor when a
 * binary installed one (sfp_db_config_init), else the whole value hidden. */
static sfp_cfg_redact_fn g_db_url_redactor;

void sfp_config_set_db_url_redactor(sfp_cfg_redact_fn fn)
{
    g_db_url_redactor = fn;
}

static void print_value(FILE *f, const cfg_var *v, sfp_binary b)
{
    const char *s = env_value(v);
    if (is_number_kind(v->kind)) {
        long l = v->def_num;
        sfp_err e = {0};
        if (sfp_cfg_long(v->name, &l, &e) == 0) fprintf(f, "%ld", l);
        else json_str(f, s);
        return;
    }
    if (is_bool_kind(v->kind)) {
        bool x = v->def_num != 0;
        sfp_err e = {0};
        sfp_cfg_bool(v->name, &x, &e);
        fputs(x ? "true" : "false", f);
        return;
    }
    if (!strcmp(v->name, "LISTEN_ADDR") && !s) {
        const char *a = NULL;
        sfp_err e = {0};
        sfp_cfg_listen_addr(b, &a, &e);
        s = a;
    }
    if (!s) s = v->def_text;
    if (!s) {
        fputs("null", f);
    } else if (v->kind == SFP_CFG_SECRET) {
        json_str(f, "(redacted)");
    } else if (v->kind == SFP_CFG_DB_URL) {
        char buf[1024];
        if (g_db_url_redactor) g_db_url_redactor(s, buf, sizeof buf);
        else snprintf(buf, sizeof buf, "(redacted)");
        json_str(f, buf);
    } else {
        json_str(f, s);
    }
}

static void print_config(FILE *f, sfp_binary b)
{
    fprintf(f, "{\"binary\":");
    json_str(f, sfp_binary_name(b));
    fprintf(f, ",\"version\":\"%s\",\"config\":{", SFP_VERSION);
    bool first = true;
    for (size_t i = 0; i < NVARS; i++) {
        const cfg_var *v = &k_vars[i];
        if (!(v->binaries & (unsigned)b)) continue;
        fprintf(f, "%s", first ? "" : ",");
        first = false;
        json_str(f, v->name);
        fputc(':', f);
        print_value(f, v, b);
    }
    fprintf(f, "}}\n");
}

static void default_text(const cfg_var *v, char *buf, size_t n)
{
    if (is_number_kind(v->kind)) snprintf(buf, n, "%ld", v->def_num);
    else if (is_bool_kind(v->kind)) snprintf(buf, n, "%s", v->def_num ? "true" : "false");
    else if (!strcmp(v->name, "LISTEN_ADDR")) snprintf(buf, n, "per service");
    else if (v->def_text && *v->def_text) snprintf(buf, n, "%s", v->def_text);
    else snprintf(buf, n, "%s", v->def_text ? "empty" : "unset");
}

static void print_help(FILE *f, sfp_binary b, const char *args, const char *summary)
{
    fprintf(f, "usage: %s [--help] [--print-config]%s%s\n%s\n\n", sfp_binary_name(b), *args ? " " : "", args, summary);
    fprintf(f,
            "  --help          this text\n  --print-config  the effective configuration as JSON (secrets redacted)\n");
    fprintf(f, "\nEnvironment (an invalid value refuses start-up with exit code 2):\n");
    for (size_t i = 0; i < NVARS; i++) {
        const cfg_var *v = &k_vars[i];
        if (!(v->binaries & (unsigned)b)) continue;
        char def[64];
        default_text(v, def, sizeof def);
        fprintf(f, "  %-28s %s%s", v->name, (v->required_in & (unsigned)b) ? "required" : "default ",
                (v->required_in & (unsigned)b) ? "" : def);
        if (is_number_kind(v->kind)) fprintf(f, " (%ld..%ld)", v->min, v->max);
        fprintf(f, "\n      %s\n", v->doc);
    }
}

int sfp_config_start(sfp_binary b, const char *args, const char *summary, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(stdout, b, args, summary);
            return 0;
        }
        if (!strcmp(argv[i], "--print-config")) {
            print_config(stdout, b);
            return 0;
        }
        if (!*args) {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", sfp_binary_name(b), argv[i]);
            return 2;
        }
    }
    sfp_err err = {0};
    if (sfp_config_check(b, &err)) {
        fprintf(stderr, "%s: %s\n", sfp_binary_name(b), err.msg);
        return 2;
    }
    return -1;
}

/* ---------- documents ---------- */

static void binaries_list(FILE *f, unsigned mask, const char *sep, bool json)
{
    bool first = true;
    for (size_t i = 0; i < NBINARIES; i++) {
        if (!(mask & (unsigned)k_binaries[i].b)) continue;
        fprintf(f, "%s", first ? "" : sep);
        first = false;
        if (json) json_str(f, k_binaries[i].name);
        else fprintf(f, "%s", k_binaries[i].name + 4); /* without "sfp-" */
    }
}

void sfp_config_write_markdown(FILE *f)
{
    fprintf(f, "| variable | default | range | read by | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < NVARS; i++) {
        const cfg_var *v = &k_vars[i];
        char def[64];
        default_text(v, def, sizeof def);
        fprintf(f, "| `%s` | %s | ", v->name, v->required_in ? "required" : def);
        if (is_number_kind(v->kind)) fprintf(f, "%ld..%ld", v->min, v->max);
        fprintf(f, " | ");
        binaries_list(f, v->binaries, ", ", false);
        fprintf(f, " | ");
        for (const char *p = v->doc; *p; p++) fputs(*p == '|' ? "\\|" : (char[]){*p, 0}, f);
        fprintf(f, " |\n");
    }
}

static const char *kind_name(sfp_cfg_kind k)
{
    static const char *const names[] = {"int",  "bool",        "text",     "secret",  "db_url",
                                        "addr", "addr_or_off", "duration", "pg_size", "log_level",
                                        "tz",   "http_url",    "ip_list",  "target",  "target_or_off"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "text";
}

void sfp_config_write_schema(FILE *f)
{
    fprintf(f, "{\"version\":\"%s\",\"variables\":[", SFP_VERSION);
    for (size_t i = 0; i < NVARS; i++) {
        const cfg_var *v = &k_vars[i];
        fprintf(f, "%s\n{\"name\":", i ? "," : "");
        json_str(f, v->name);
        fprintf(f, ",\"kind\":\"%s\",\"default\":", kind_name(v->kind));
        if (is_number_kind(v->kind)) fprintf(f, "%ld,\"min\":%ld,\"max\":%ld", v->def_num, v->min, v->max);
        else if (is_bool_kind(v->kind)) fprintf(f, "%s", v->def_num ? "true" : "false");
        else if (v->def_text) json_str(f, v->def_text);
        else fputs("null", f);
        fprintf(f, ",\"binaries\":[");
        binaries_list(f, v->binaries, ",", true);
        fprintf(f, "],\"required_in\":[");
        binaries_list(f, v->required_in, ",", true);
        fprintf(f, "],\"doc\":");
        json_str(f, v->doc);
        fputc('}', f);
    }
    fprintf(f, "\n],\"binaries\":[");
    for (size_t i = 0; i < NBINARIES; i++) {
        fprintf(f, "%s{\"name\":", i ? "," : "");
        json_str(f, k_binaries[i].name);
        fprintf(f, ",\"listen_default\":");
        if (k_binaries[i].listen_default) json_str(f, k_binaries[i].listen_default);
        else fputs("null", f);
        fputc('}', f);
    }
    fprintf(f, "]}\n");
}
