/* pbjson.c — generic protobuf-c message → JSON encoder driven by descriptors (ARCHITECTURE.md).
 *
 * Output is compact JSON (no whitespace). Keys are the proto field names, in the order of the
 * descriptor's field array (field-number order). Per field:
 *   - singular (proto3 LABEL_NONE, proto2 LABEL_REQUIRED): always emitted, zero values included;
 *     a NULL string is emitted as "", a NULL sub-message as null.
 *   - LABEL_OPTIONAL with a has_ quantifier (proto2 optional, proto3 `optional`): null when has_
 *     is not set. LABEL_OPTIONAL string (no quantifier): null when NULL or when it is the
 *     descriptor's default_value pointer (protobuf-c's own "unset" test when packing).
 *     Sub-messages: NULL → null.
 *   - oneof members (PROTOBUF_C_FIELD_FLAG_ONEOF): only the member whose id equals the oneof
 *     case (uint32 at quantifier_offset) is emitted. A oneof with a single member (what proto3
 *     `optional` compiles to, and the contracts' spelling of a nullable value: `oneof
 *     optional_x { T x = N; }`) is a nullable field instead: always emitted, null when its case
 *     is not set.
 *   - repeated: JSON array (count is the size_t at quantifier_offset). A repeated message whose
 *     descriptor looks like a map entry (nested directly in the owning message, short name ending
 *     in "Entry", exactly two fields "key" = 1 and "value" = 2) is emitted as an object; keys are
 *     rendered as strings; duplicate keys are emitted as-is, in array order.
 * Values: enums by value name without the enum-name prefix, lower case (enum CardHealth's
 * CARD_HEALTH_ON_TRACK → "on_track", CARD_HEALTH_UNSPECIFIED → "unspecified"; a value not
 * prefixed with the enum's name in UPPER_SNAKE_CASE is only lower-cased; an unknown value → its
 * number), bytes → standard base64 with padding, int64/uint64 → always a JSON number (the exact
 * decimal; every int64 of the API is a count or an id far below 2^53, which JavaScript reads
 * exactly), float/double → shortest %g precision that round-trips (float: 6..9 digits, double:
 * 15..17), NaN/±Inf → null, strings escaped per RFC 8259 (", \, \b \f \n \r \t, other C0
 * controls as \u00XX), valid UTF-8 passed through, each maximal invalid UTF-8 subpart replaced
 * by \ufffd.
 * Messages nested deeper than SFP_PBJSON_MAX_DEPTH (top level = 1) are emitted as null. */
#include "pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SFP_PBJSON_MAX_DEPTH 64

static void emit_message(sfp_buf *out, const ProtobufCMessage *msg, int depth);

/* ---------------------------------------------------------------- output */

/* The buffer's append without a call per byte: room for n more bytes and the NUL is checked
 * inline, and sfp_buf_append grows it when there is none (sfp_buf's fields are public). */
static inline void put(sfp_buf *out, const void *p, size_t n)
{
    if (out->len + n < out->cap) {
        memcpy(out->data + out->len, p, n);
        out->len += n;
        out->data[out->len] = '\0';
    } else {
        sfp_buf_append(out, p, n);
    }
}

static inline void putch(sfp_buf *out, char c)
{
    if (out->len + 1 < out->cap) {
        out->data[out->len++] = c;
        out->data[out->len] = '\0';
    } else {
        sfp_buf_append(out, &c, 1);
    }
}

#define PUT_LIT(out, lit) put((out), (lit), sizeof(lit) - 1)

/* ---------------------------------------------------------------- strings */

static const char HEX[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid; *bad gets the length of the
 * maximal invalid subpart to replace with one U+FFFD (>= 1) when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else {
        *bad = 1; /* stray continuation, C0/C1 overlong leads, F5..FF */
        return 0;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n) break;
        unsigned char b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (i == need) return need;
    *bad = i;
    return 0;
}

/* Bytes that end a verbatim run: C0 controls, '"', '\\' and every non-ASCII byte (checked as
 * UTF-8). */
static inline bool special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/* The end of the verbatim run from p[i]: eight bytes at a time while none of them is special
 * (any byte < 0x20, '"', '\\' or >= 0x80 in the word stops it: the usual "has a zero byte" /
 * "has a byte below n" tests, exact for the "any" question), then byte by byte. */
static inline size_t verbatim_end(const unsigned char *p, size_t i, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t t = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w;
        if (t & highs) break;
        i += 8;
    }
    while (i < n && !special(p[i])) i++;
    return i;
}

static void emit_string(sfp_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: start of pending bytes copied verbatim */
    putch(out, '"');
    while (i < n) {
        i = verbatim_end(p, i, n); /* the verbatim run, copied in one go below */
        if (i == n) break;
        unsigned char c = p[i];
        const char *esc = NULL;
        size_t esc_len = 2;
        char u[6];
        size_t adv = 1;
        if (c < 0x80) {
            switch (c) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
                u[4] = HEX[c >> 4], u[5] = HEX[c & 15];
                esc = u;
                esc_len = 6;
            }
        } else {
            size_t bad = 1;
            size_t len = utf8_seq(p + i, n - i, &bad);
            if (len) {
                i += len;
                continue;
            }
            esc = "\\ufffd";
            esc_len = 6;
            adv = bad;
        }
        if (i > run) put(out, p + run, i - run);
        put(out, esc, esc_len);
        i += adv;
        run = i;
    }
    if (i > run) put(out, p + run, i - run);
    putch(out, '"');
}

static void emit_cstr(sfp_buf *out, const char *s)
{
    if (!s) s = "";
    emit_string(out, s, strlen(s));
}

/* ---------------------------------------------------------------- bytes */

static void emit_base64(sfp_buf *out, const ProtobufCBinaryData *bd)
{
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *d = bd->data;
    size_t n = d ? bd->len : 0;
    char chunk[256]; /* multiple of 4 */
    size_t k = 0;
    putch(out, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        size_t rem = n - i;
        if (rem > 1) v |= (uint32_t)d[i + 1] << 8;
        if (rem > 2) v |= d[i + 2];
        chunk[k++] = B64[(v >> 18) & 63];
        chunk[k++] = B64[(v >> 12) & 63];
        chunk[k++] = rem > 1 ? B64[(v >> 6) & 63] : '=';
        chunk[k++] = rem > 2 ? B64[v & 63] : '=';
        if (k == sizeof chunk) {
            put(out, chunk, k);
            k = 0;
        }
    }
    if (k) put(out, chunk, k);
    putch(out, '"');
}

/* ---------------------------------------------------------------- numbers */

/* printf's %g honours LC_NUMERIC; JSON wants '.' whatever the locale. */
static void fix_decimal_point(char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')) *s = '.';
    }
}

/* Exact powers of ten (every one up to 1e22 is a double). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Decimal digits of v, written backwards ending at end; returns the first. */
static char *u64_digits(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* What "%.15g" prints, without printf, for the common values: 0, and every v in [1e-4, 1e15) in
 * magnitude that some decimal m / 10^k with m < 10^15 (at most 15 significant digits) equals
 * exactly. The first k that fits is found by trying k = 0, 1, ...; m / 10^k is one correctly
 * rounded division of two exact doubles, i.e. the double that decimal converts to, so the test
 * is strtod's. Any decimal of at most 15 significant digits comes back unchanged from "%.15g"
 * of its double (DBL_DIG is 15), and in this range "%.15g" uses plain notation without trailing
 * zeros — the shortest such m, the first k found. Returns the length, or 0: use printf. */
static size_t short_double(double v, char out[40])
{
    if (v == 0) {
        if (signbit(v)) {
            memcpy(out, "-0", 2);
            return 2;
        }
        out[0] = '0';
        return 1;
    }
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15)) return 0;
    for (unsigned k = 0; k < sizeof POW10 / sizeof POW10[0]; k++) {
        double scaled = a * POW10[k];
        if (scaled >= 1e15) return 0;
        double m = nearbyint(scaled);
        if (m / POW10[k] != a) continue;
        uint64_t mi = (uint64_t)m;
        char digits[24], *end = digits + sizeof digits;
        char *d = u64_digits(mi, end);
        size_t nd = (size_t)(end - d), n = 0;
        if (v < 0) out[n++] = '-';
        if (nd <= k) { /* 0.000ddd */
            out[n++] = '0';
            out[n++] = '.';
            for (size_t z = nd; z < k; z++) out[n++] = '0';
            memcpy(out + n, d, nd);
            return n + nd;
        }
        memcpy(out + n, d, nd - k);
        n += nd - k;
        if (k) {
            out[n++] = '.';
            memcpy(out + n, d + nd - k, k);
            n += k;
        }
        return n;
    }
    return 0;
}

static void emit_double(sfp_buf *out, double v)
{
    if (!isfinite(v)) {
        PUT_LIT(out, "null");
        return;
    }
    char tmp[40];
    size_t n = short_double(v, tmp);
    if (n) {
        put(out, tmp, n);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    fix_decimal_point(tmp);
    put(out, tmp, strlen(tmp));
}

static void emit_float(sfp_buf *out, float v)
{
    if (!isfinite(v)) {
        PUT_LIT(out, "null");
        return;
    }
    char tmp[40];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)v);
        if (prec == 9 || strtof(tmp, NULL) == v) break;
    }
    fix_decimal_point(tmp);
    put(out, tmp, strlen(tmp));
}

static void emit_int64(sfp_buf *out, int64_t v)
{
    char b[24], *end = b + sizeof b;
    char *s = u64_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, end);
    if (v < 0) *--s = '-';
    put(out, s, (size_t)(end - s));
}

static void emit_uint64(sfp_buf *out, uint64_t v)
{
    char b[24], *end = b + sizeof b;
    char *s = u64_digits(v, end);
    put(out, s, (size_t)(end - s));
}

/* ---------------------------------------------------------------- enums */

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static char to_upper(char c)
{
    return is_lower(c) ? (char)(c - 'a' + 'A') : c;
}
static char to_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

/* Length of the prefix "<ENUM_NAME>_" of value name v, where ENUM_NAME is the enum's short name
 * in UPPER_SNAKE_CASE (CardHealth → CARD_HEALTH_, HTTPStatus → HTTP_STATUS_); 0 when v does not
 * start with it or nothing would be left after it. Compared on the fly, no allocation. */
static size_t enum_prefix_len(const char *short_name, const char *v)
{
    size_t k = 0;
    for (size_t i = 0; short_name[i]; i++) {
        char c = short_name[i];
        if (i > 0 && is_upper(c)) {
            char prev = short_name[i - 1], next = short_name[i + 1];
            if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && is_lower(next))) {
                if (v[k++] != '_') return 0;
            }
        }
        if (v[k++] != to_upper(c)) return 0;
    }
    if (v[k] != '_' || v[k + 1] == '\0') return 0;
    return k + 1;
}

/* The value name without its prefix (not yet lower-cased). */
static const char *enum_short(const ProtobufCEnumDescriptor *ed, const ProtobufCEnumValue *ev)
{
    return ev->name + (ed->short_name ? enum_prefix_len(ed->short_name, ev->name) : 0);
}

static void emit_enum(sfp_buf *out, const ProtobufCEnumDescriptor *ed, int32_t v)
{
    const ProtobufCEnumValue *ev = ed ? protobuf_c_enum_descriptor_get_value(ed, v) : NULL;
    if (!ev || !ev->name) {
        emit_int64(out, v);
        return;
    }
    const char *name = enum_short(ed, ev);
    char tmp[128];
    size_t k = 0;
    tmp[k++] = '"';
    for (; *name; name++) {
        char c = to_lower(*name);
        if ((unsigned char)c < 0x20 || c == '"' || c == '\\') continue; /* never in a protoc name */
        tmp[k++] = c;
        if (k == sizeof tmp) {
            put(out, tmp, k);
            k = 0;
        }
    }
    put(out, tmp, k);
    putch(out, '"');
}

const char *sfp_pbjson_enum_name(const ProtobufCEnumDescriptor *ed, int v, char *buf, size_t cap)
{
    if (!cap) return "";
    buf[0] = '\0';
    const ProtobufCEnumValue *ev = ed ? protobuf_c_enum_descriptor_get_value(ed, v) : NULL;
    if (!ev || !ev->name) return buf;
    const char *name = enum_short(ed, ev);
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) buf[i] = to_lower(name[i]);
    buf[i] = '\0';
    return buf;
}

int sfp_pbjson_enum_value(const ProtobufCEnumDescriptor *ed, const char *name, int def)
{
    if (!ed || !name) return def;
    for (unsigned i = 0; i < ed->n_values; i++) {
        const ProtobufCEnumValue *ev = &ed->values[i];
        if (!ev->name) continue;
        const char *s = enum_short(ed, ev), *t = name;
        while (*s && *t && to_lower(*s) == *t) s++, t++;
        if (!*s && !*t) return ev->value;
    }
    return def;
}

/* ---------------------------------------------------------------- fields */

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* One value of field f stored at p (the member itself, or one element of a repeated array). */
static void emit_value(sfp_buf *out, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: emit_int64(out, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: emit_uint64(out, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: emit_int64(out, *(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: emit_uint64(out, *(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: emit_float(out, *(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: emit_double(out, *(const double *)p); break;
    case PROTOBUF_C_TYPE_BOOL:
        if (*(const protobuf_c_boolean *)p) PUT_LIT(out, "true");
        else PUT_LIT(out, "false");
        break;
    case PROTOBUF_C_TYPE_ENUM:
        emit_enum(out, (const ProtobufCEnumDescriptor *)f->descriptor, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_STRING: emit_cstr(out, *(const char *const *)p); break;
    case PROTOBUF_C_TYPE_BYTES: emit_base64(out, (const ProtobufCBinaryData *)p); break;
    case PROTOBUF_C_TYPE_MESSAGE: emit_message(out, *(const ProtobufCMessage *const *)p, depth + 1); break;
    default: PUT_LIT(out, "null"); break;
    }
}

/* protoc's synthesized map entry: a message nested directly in the map's owner (full name
 * "<owner>.<X>Entry"), fields key = 1 and value = 2 only. */
static bool is_map_entry(const ProtobufCMessageDescriptor *owner, const ProtobufCMessageDescriptor *d)
{
    if (!d || d->n_fields != 2 || !d->short_name || !d->name || !owner->name) return false;
    size_t ln = strlen(d->short_name), on = strlen(owner->name);
    if (ln < 5 || strcmp(d->short_name + ln - 5, "Entry") != 0) return false;
    if (strncmp(d->name, owner->name, on) != 0 || d->name[on] != '.' || strcmp(d->name + on + 1, d->short_name) != 0)
        return false;
    const ProtobufCFieldDescriptor *k = &d->fields[0], *v = &d->fields[1];
    if (k->id != 1 || v->id != 2 || strcmp(k->name, "key") != 0 || strcmp(v->name, "value") != 0) return false;
    /* map keys are integral, bool or string */
    switch (k->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_ENUM: return false;
    default: return true;
    }
}

/* Map key as a JSON string. */
static void emit_map_key(sfp_buf *out, const ProtobufCFieldDescriptor *k, const void *p)
{
    switch (k->type) {
    case PROTOBUF_C_TYPE_STRING: emit_cstr(out, *(const char *const *)p); break;
    case PROTOBUF_C_TYPE_BOOL: sfp_buf_puts(out, *(const protobuf_c_boolean *)p ? "\"true\"" : "\"false\""); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: sfp_buf_printf(out, "\"%lld\"", (long long)*(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: sfp_buf_printf(out, "\"%llu\"", (unsigned long long)*(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: sfp_buf_printf(out, "\"%" PRIu32 "\"", *(const uint32_t *)p); break;
    default: sfp_buf_printf(out, "\"%" PRId32 "\"", *(const int32_t *)p); break;
    }
}

static void emit_map(sfp_buf *out, const ProtobufCMessageDescriptor *ed, const ProtobufCMessage *const *entries,
                     size_t n, int depth)
{
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    bool first = true;
    putch(out, '{');
    for (size_t i = 0; i < n; i++) {
        const char *e = (const char *)entries[i];
        if (!e) continue;
        if (!first) putch(out, ',');
        first = false;
        emit_map_key(out, kf, e + kf->offset);
        putch(out, ':');
        /* the entry is not an object in the output: its value keeps the map's depth */
        emit_value(out, vf, e + vf->offset, depth);
    }
    putch(out, '}');
}

/* f is the only member of its oneof (no other oneof member of d shares its case field). */
static bool is_single_oneof(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) return false;
    for (unsigned j = 0; j < d->n_fields; j++) {
        const ProtobufCFieldDescriptor *g = &d->fields[j];
        if (g != f && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && g->quantifier_offset == f->quantifier_offset)
            return false;
    }
    return true;
}

/* is_single_oneof of every field of a message type, computed once per descriptor: bit i is
 * field i. A process-wide open-addressed table of descriptors with at most 64 fields; a slot is
 * claimed (BUSY), filled, then published with a release store, so a reader that sees a
 * descriptor also sees its bits; a reader that misses (the table full, a slot being filled)
 * computes the bits itself. Descriptors are static data, so nothing is ever removed. */
#define ONEOF_SLOTS 512
#define ONEOF_PROBES 8
static struct {
    _Atomic(const ProtobufCMessageDescriptor *) d;
    uint64_t single;
} g_oneof[ONEOF_SLOTS];
static const ProtobufCMessageDescriptor ONEOF_BUSY;

static uint64_t single_oneofs_of(const ProtobufCMessageDescriptor *d)
{
    uint64_t bits = 0;
    for (unsigned i = 0; i < d->n_fields && i < 64; i++)
        if (is_single_oneof(d, &d->fields[i])) bits |= (uint64_t)1 << i;
    return bits;
}

static uint64_t single_oneofs(const ProtobufCMessageDescriptor *d)
{
    size_t h = (size_t)(((uintptr_t)d >> 4) * 0x9e3779b97f4a7c15ULL >> 40);
    for (size_t k = 0; k < ONEOF_PROBES; k++) {
        size_t slot = (h + k) % ONEOF_SLOTS;
        const ProtobufCMessageDescriptor *e = atomic_load_explicit(&g_oneof[slot].d, memory_order_acquire);
        if (e == d) return g_oneof[slot].single;
        if (e) continue;
        uint64_t bits = single_oneofs_of(d);
        const ProtobufCMessageDescriptor *expect = NULL;
        if (atomic_compare_exchange_strong(&g_oneof[slot].d, &expect, &ONEOF_BUSY)) {
            g_oneof[slot].single = bits;
            atomic_store_explicit(&g_oneof[slot].d, d, memory_order_release);
        }
        return bits;
    }
    return single_oneofs_of(d);
}

static void emit_message(sfp_buf *out, const ProtobufCMessage *msg, int depth)
{
    if (!msg || !msg->descriptor || depth > SFP_PBJSON_MAX_DEPTH) {
        PUT_LIT(out, "null");
        return;
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    bool first = true, singles_known = false;
    uint64_t single = 0;
    putch(out, '{');
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        bool absent = false;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            bool set = *(const uint32_t *)(base + f->quantifier_offset) == f->id;
            if (!set) {
                if (i < 64) {
                    if (!singles_known) single = single_oneofs(d), singles_known = true;
                    if (!(single >> i & 1)) continue;
                } else if (!is_single_oneof(d, f)) {
                    continue;
                }
            }
            absent = !set;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                /* as protobuf-c's packer: NULL or the shared default pointer means unset */
                const char *s = *(const char *const *)p;
                absent = !s || (f->default_value && s == (const char *)f->default_value);
            } else if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->quantifier_offset) {
                absent = !*(const protobuf_c_boolean *)(base + f->quantifier_offset);
            }
        }
        if (!first) putch(out, ',');
        first = false;
        emit_cstr(out, f->name);
        putch(out, ':');
        if (absent) {
            PUT_LIT(out, "null");
            continue;
        }
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            emit_value(out, f, p, depth);
            continue;
        }
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *arr = *(const char *const *)p;
        if (!arr) n = 0;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(d, f->descriptor)) {
            emit_map(out, f->descriptor, (const ProtobufCMessage *const *)arr, n, depth);
            continue;
        }
        size_t sz = elem_size(f->type);
        putch(out, '[');
        for (size_t j = 0; j < n; j++) {
            if (j) putch(out, ',');
            emit_value(out, f, arr + j * sz, depth);
        }
        putch(out, ']');
    }
    putch(out, '}');
}

/* ---------------------------------------------------------------- API */

sfp_pbjson_presence sfp_pbjson_field_presence(const ProtobufCMessageDescriptor *d, unsigned i)
{
    if (i < d->n_fields && is_single_oneof(d, &d->fields[i])) return SFP_PBJSON_PRESENCE_NULLABLE;
    return SFP_PBJSON_PRESENCE_NONE;
}

void sfp_pbjson_append(sfp_buf *out, const ProtobufCMessage *msg)
{
    emit_message(out, msg, 1);
}

char *sfp_pbjson_encode(const ProtobufCMessage *msg, size_t *len)
{
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_pbjson_append(&b, msg);
    return sfp_buf_steal(&b, len);
}
