/* libFuzzer target: the protobuf → JSON encoder (common/pbjson.c) on the messages the gateway
 * renders. Input: byte 0 picks a message type, the rest is its wire encoding (whatever
 * protobuf-c accepts: unknown fields, any bytes in strings, NaN doubles, deep nesting,
 * enum values without a name, maps with duplicate keys). Every accepted message must encode to
 * exactly one strict JSON value (RFC 8259: nothing after it, no raw control byte in a string)
 * in valid UTF-8, and both entry points (append / encode) must give the same bytes.
 * fuzz-sources: common/pbjson.c common/buf.c
 * fuzz-libs: libcjson
 * fuzz-protos: yes */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "grpc/health/v1/health.pb-c.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

static const ProtobufCMessageDescriptor *const k_types[] = {
    &sfpermits__v1__property_report__descriptor,
    &sfpermits__v1__brief__descriptor,
    &sfpermits__v1__get_brief_response__descriptor,
    &sfpermits__v1__get_property_report_response__descriptor,
    &sfpermits__v1__refresh_brief_response__descriptor,
    &sfpermits__v1__signals_result__descriptor,
    &sfpermits__v1__velocity_refresh_result__descriptor,
    &sfpermits__v1__compute_caches_result__descriptor,
    &sfpermits__v1__nightly_result__descriptor,
    &sfpermits__v1__heartbeat_result__descriptor,
    &sfpermits__v1__get_status_response__descriptor,
    &sfpermits__v1__get_health_response__descriptor,
    &sfpermits__v1__service_stats__descriptor,
    &grpc__health__v1__health_check_response__descriptor,
    &sfpermits__v1__soda_record__descriptor,
    &sfpermits__v1__missing_item__descriptor,
};
#define NTYPES (sizeof k_types / sizeof k_types[0])

/* ---- a strict RFC 8259 checker: returns the end of one value at p, or NULL ---- */

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *lit(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

static const char *str(const char *p, const char *e)
{
    if (p >= e || *p != '"') return NULL;
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            if (++p >= e) return NULL;
            if (*p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++p >= e || !strchr("0123456789abcdefABCDEF", *p) || !*p) return NULL;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *num(const char *p, const char *e)
{
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9') p++;
    else return NULL;
    if (p < e && *p == '.') {
        if (++p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    return p;
}

static const char *value(const char *p, const char *e, int depth)
{
    if (depth > 200) return NULL;
    p = ws(p, e);
    if (p >= e) return NULL;
    switch (*p) {
    case '"': return str(p, e);
    case 't': return lit(p, e, "true");
    case 'f': return lit(p, e, "false");
    case 'n': return lit(p, e, "null");
    case '[':
    case '{': {
        char close = *p == '[' ? ']' : '}';
        bool obj = *p == '{';
        p = ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = str(ws(p, e), e);
                if (!p) return NULL;
                p = ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            p = value(p, e, depth + 1);
            if (!p) return NULL;
            p = ws(p, e);
            if (p >= e) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    default: return num(p, e);
    }
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (n - i < need || s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t k = 2; k < need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
        i += need;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const ProtobufCMessageDescriptor *d = k_types[data[0] % NTYPES];
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
    if (!m) return 0;
    size_t len = 0;
    char *json = sfp_pbjson_encode(m, &len);
    if (!json || strlen(json) != len) abort(); /* NUL-terminated, no NUL inside */
    const char *end = value(json, json + len, 0);
    if (!end || ws(end, json + len) != json + len) {
        fprintf(stderr, "not one strict JSON value: %.*s\n", (int)(len > 400 ? 400 : len), json);
        abort();
    }
    if (!utf8_valid((const unsigned char *)json, len)) abort();
    cJSON *j = cJSON_ParseWithLength(json, len); /* a common consumer reads it too */
    if (!j || !cJSON_IsObject(j)) abort();
    cJSON_Delete(j);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "[");
    sfp_pbjson_append(&b, m);
    if (b.len != len + 1 || memcmp(b.data + 1, json, len)) abort();
    sfp_buf_free(&b);
    free(json);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
