/* gw_pbwire.c — see gw_pbwire.h. */
#include "gw_pbwire.h"

#include <string.h>

uint64_t gw_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* Reads a varint at *pos (at most 10 bytes, within n); advances *pos. 0 ok, -1 malformed. */
static int read_varint(const uint8_t *b, size_t n, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= n) return -1;
        uint8_t c = b[(*pos)++];
        if (i == 9 && c > 1) return -1; /* more than 64 bits */
        r |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int gw_pbwire_split_fields(const uint8_t *msg, size_t n, uint32_t lo, uint32_t hi, gw_pbwire_split *out)
{
    memset(out, 0, sizeof *out);
    out->hash = GW_FNV1A64_INIT;
    size_t pos = 0;
    while (pos < n) {
        size_t start = pos;
        uint64_t key, v;
        if (read_varint(msg, n, &pos, &key)) return -1;
        uint64_t field = key >> 3;
        if (field < 1 || field > 0x1fffffff) return -1;
        switch (key & 7) {
        case 0:
            if (read_varint(msg, n, &pos, &v)) return -1;
            break;
        case 1:
            if (n - pos < 8) return -1;
            pos += 8;
            break;
        case 2:
            if (read_varint(msg, n, &pos, &v) || v > n - pos) return -1;
            pos += (size_t)v;
            break;
        case 5:
            if (n - pos < 4) return -1;
            pos += 4;
            break;
        default: return -1; /* 3/4 groups (deprecated, not produced for proto3), 6/7 invalid */
        }
        if (field >= lo && field <= hi) {
            if (out->nspans == GW_PBWIRE_MAX_SPANS) return -2;
            out->spans[out->nspans++] = (gw_pbwire_span){start, pos - start};
            out->spans_len += pos - start;
        } else {
            out->hash = gw_fnv1a64(out->hash, msg + start, pos - start);
            out->content_len += pos - start;
        }
    }
    return 0;
}
