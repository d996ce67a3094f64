#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sfp_parse_long(const char *name, const char *s, long min, long max, long *out, sfp_err *err)
{
    if (!s || !*s) return sfp_err_set(err, 1, "%s: empty value, expected an integer", name);
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    while (end && isspace((unsigned char)*end)) end++;
    if (errno || end == s || *end != '\0' || isspace((unsigned char)*s))
        return sfp_err_set(err, 1, "%s: '%.40s' is not an integer", name, s);
    if (v < min || v > max) return sfp_err_set(err, 1, "%s: %ld is out of range [%ld, %ld]", name, v, min, max);
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
    return sfp_err_set(err, 1, "%s: '%.40s' is not a boolean (use 1/true/yes/on or 0/false/no/off)", name, s ? s : "");
}

int sfp_parse_addr(const char *name, const char *s, sfp_err *err)
{
    if (!s || !*s) return sfp_err_set(err, 1, "%s: empty address", name);
    if (!strncmp(s, "unix:", 5)) {
        if (s[5] != '/' || strlen(s) > 5 + 107)
            return sfp_err_set(err, 1, "%s: unix socket address must be unix:/absolute/path (<108 chars)", name);
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return sfp_err_set(err, 1, "%s: '%.60s' is not host:port or unix:/path", name, s);
    if (s[0] == '[' && colon[-1] != ']')
        return sfp_err_set(err, 1, "%s: '%.60s' has an unterminated [ipv6] host", name, s);
    for (const char *h = s; h < colon; h++) {
        unsigned char c = (unsigned char)*h;
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
            return sfp_err_set(err, 1, "%s: '%.60s' has an invalid host", name, s);
    }
    long port;
    if (sfp_parse_long(name, colon + 1, 0, 65535, &port, err)) return -1;
    return 0;
}

const char *sfp_env_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && *v) ? v : def;
}

int sfp_env_long(const char *name, long def, long min, long max, long *out, sfp_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    return sfp_parse_long(name, v, min, max, out, err);
}

int sfp_env_int(const char *name, int def, int min, int max, int *out, sfp_err *err)
{
    long v;
    if (sfp_env_long(name, def, min, max, &v, err)) return -1;
    *out = (int)v;
    return 0;
}

int sfp_env_bool(const char *name, bool def, bool *out, sfp_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    return sfp_parse_bool(name, v, out, err);
}

int sfp_env_addr(const char *name, const char *def, const char **out, sfp_err *err)
{
    const char *v = sfp_env_str(name, def);
    if (sfp_parse_addr(name, v, err)) return -1;
    *out = v;
    return 0;
}

int sfp_service_env_load(sfp_service_env *e, const char *default_addr, sfp_err *err)
{
    if (sfp_env_addr("LISTEN_ADDR", default_addr, &e->listen_addr, err)) return -1;
    if (sfp_env_int("RPC_WORKERS", 8, 1, 256, &e->workers, err)) return -1;
    if (sfp_env_int("SHUTDOWN_GRACE_MS", 10000, 0, 600000, &e->drain_ms, err)) return -1;
    return 0;
}
