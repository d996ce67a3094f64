/* limits.c — see gw_limits.h. */
#include "gw_limits.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

bool gw_request_id_valid(const char *s)
{
    if (!s || !*s) return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= GW_REQUEST_ID_MAX) return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

void gw_request_id_generate(char out[GW_REQUEST_ID_GEN_LEN + 1])
{
    unsigned char b[GW_REQUEST_ID_GEN_LEN / 2];
    ssize_t got = getrandom(b, sizeof b, 0);
    if (got != (ssize_t)sizeof b) {
        static _Atomic uint64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (atomic_fetch_add(&counter, 1) << 40);
        for (size_t i = 0; i < sizeof b; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (unsigned char)(x >> 24);
        }
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof b; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[GW_REQUEST_ID_GEN_LEN] = '\0';
}

bool gw_request_id_choose(const char *client, char out[GW_REQUEST_ID_MAX + 1])
{
    if (gw_request_id_valid(client)) {
        snprintf(out, GW_REQUEST_ID_MAX + 1, "%s", client);
        return true;
    }
    gw_request_id_generate(out);
    return false;
}

static int parse_digits(const char *s, size_t maxdigits, uint64_t *out)
{
    if (!s || !*s) return -1;
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= maxdigits) return -1;
        v = v * 10 + (uint64_t)(s[n] - '0');
    }
    *out = v;
    return 0;
}

int gw_parse_timeout_ms(const char *s, int max_ms, int *out)
{
    uint64_t v;
    if (parse_digits(s, 10, &v) || v < 1) return -1;
    *out = v > (uint64_t)max_ms ? max_ms : (int)v;
    return 0;
}

int gw_parse_content_length(const char *s, uint64_t *out)
{
    return parse_digits(s, 19, out);
}

bool gw_etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag || !*etag) return false;
    const char *tag = etag;
    if (!strncmp(tag, "W/", 2)) tag += 2;
    size_t tn = strlen(tag);
    const char *p = inm;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) return false;
        if (*p == '*') return true;
        if (!strncmp(p, "W/", 2)) p += 2;
        const char *e = p;
        if (*p == '"') {
            e = strchr(p + 1, '"');
            if (!e) return false;
            e++;
        } else {
            while (*e && *e != ',') e++;
        }
        if ((size_t)(e - p) == tn && !memcmp(p, tag, tn)) return true;
        p = e;
    }
}
