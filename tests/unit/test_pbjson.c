/* test_pbjson.c — unit tests for common/pbjson.c (protobuf-c descriptor → JSON encoder).
 * Uses the TEST-ONLY protos in tests/proto (library sfp_test_proto). Every check compares the
 * exact output string, and every output is also parsed back with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include("pbjson_test.pb-c.h")

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "buf.h"
#include "pbjson.h"

#include "pbjson_test.pb-c.h"

/* ---------------------------------------------------------------- helpers */

static void assert_valid_json(const char *s)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(s, &end, 1);
    if (!j) fail_msg("invalid JSON near offset %td: %.60s", end ? end - s : -1, end ? end : s);
    cJSON_Delete(j);
}

static void check_json(const void *msg, const char *expected)
{
    size_t len = 12345;
    char *s = sfp_pbjson_encode((const ProtobufCMessage *)msg, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_string_equal(s, expected);
    assert_valid_json(s);
    free(s);
}

/* Allocation tracking so hand-built messages can be freed in one go. */
static void **g_allocs;
static size_t g_nallocs, g_capallocs;

static void *talloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    assert_non_null(p);
    if (g_nallocs == g_capallocs) {
        g_capallocs = g_capallocs ? g_capallocs * 2 : 64;
        g_allocs = realloc(g_allocs, g_capallocs * sizeof *g_allocs);
        assert_non_null(g_allocs);
    }
    g_allocs[g_nallocs++] = p;
    return p;
}

static void tfree_all(void)
{
    for (size_t i = 0; i < g_nallocs; i++) free(g_allocs[i]);
    free(g_allocs);
    g_allocs = NULL;
    g_nallocs = g_capallocs = 0;
}

/* ---------------------------------------------------------------- scalars */

static void test_scalars_zero_values(void **state)
{
    (void)state;
    Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
    check_json(&m, "{\"f_int32\":0,\"f_sint32\":0,\"f_sfixed32\":0,\"f_uint32\":0,\"f_fixed32\":0,"
                   "\"f_int64\":0,\"f_sint64\":0,\"f_sfixed64\":0,\"f_uint64\":0,\"f_fixed64\":0,"
                   "\"f_float\":0,\"f_double\":0,\"f_bool\":false,\"f_string\":\"\","
                   "\"f_bytes\":\"\",\"f_enum\":\"unspecified\"}");
    m.f_string = NULL; /* a NULL string is still the zero value */
    char *s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, "\"f_string\":\"\""));
    free(s);
}

static void test_scalars_32bit_limits(void **state)
{
    (void)state;
    Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
    m.f_int32 = INT32_MIN;
    m.f_sint32 = INT32_MAX;
    m.f_sfixed32 = -1;
    m.f_uint32 = UINT32_MAX;
    m.f_fixed32 = 123;
    m.f_bool = 1;
    m.f_string = "hi";
    m.f_enum = SFPTEST__COLOR__COLOR_GREEN;
    m.f_float = 1.5f;
    m.f_double = -2.25;
    check_json(&m, "{\"f_int32\":-2147483648,\"f_sint32\":2147483647,\"f_sfixed32\":-1,"
                   "\"f_uint32\":4294967295,\"f_fixed32\":123,"
                   "\"f_int64\":0,\"f_sint64\":0,\"f_sfixed64\":0,\"f_uint64\":0,\"f_fixed64\":0,"
                   "\"f_float\":1.5,\"f_double\":-2.25,\"f_bool\":true,\"f_string\":\"hi\","
                   "\"f_bytes\":\"\",\"f_enum\":\"green\"}");
}

static void test_scalars_64bit_boundary(void **state)
{
    (void)state;
    const int64_t p53 = INT64_C(9007199254740992); /* 2^53 */
    Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
    m.f_int64 = p53;
    m.f_sint64 = -p53;
    m.f_sfixed64 = p53 + 1;
    m.f_uint64 = (uint64_t)p53;
    m.f_fixed64 = (uint64_t)p53 + 1;
    check_json(&m, "{\"f_int32\":0,\"f_sint32\":0,\"f_sfixed32\":0,\"f_uint32\":0,\"f_fixed32\":0,"
                   "\"f_int64\":9007199254740992,\"f_sint64\":-9007199254740992,"
                   "\"f_sfixed64\":9007199254740993,\"f_uint64\":9007199254740992,"
                   "\"f_fixed64\":9007199254740993,"
                   "\"f_float\":0,\"f_double\":0,\"f_bool\":false,\"f_string\":\"\","
                   "\"f_bytes\":\"\",\"f_enum\":\"unspecified\"}");
    m.f_int64 = INT64_MIN;
    m.f_sint64 = -p53 - 1;
    m.f_sfixed64 = INT64_MAX;
    m.f_uint64 = UINT64_MAX;
    m.f_fixed64 = 42;
    check_json(&m, "{\"f_int32\":0,\"f_sint32\":0,\"f_sfixed32\":0,\"f_uint32\":0,\"f_fixed32\":0,"
                   "\"f_int64\":-9223372036854775808,\"f_sint64\":-9007199254740993,"
                   "\"f_sfixed64\":9223372036854775807,\"f_uint64\":18446744073709551615,"
                   "\"f_fixed64\":42,"
                   "\"f_float\":0,\"f_double\":0,\"f_bool\":false,\"f_string\":\"\","
                   "\"f_bytes\":\"\",\"f_enum\":\"unspecified\"}");
}

static void test_enum_unknown_value_is_number(void **state)
{
    (void)state;
    Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
    m.f_enum = (Sfptest__Color)42;
    char *s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, ",\"f_enum\":42}"));
    assert_valid_json(s);
    free(s);
    m.f_enum = (Sfptest__Color)-3;
    s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, ",\"f_enum\":-3}"));
    free(s);

    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    Sfptest__Color colors[] = {SFPTEST__COLOR__COLOR_RED, (Sfptest__Color)7, SFPTEST__COLOR__COLOR_UNSPECIFIED};
    r.n_r_enum = 3;
    r.r_enum = colors;
    check_json(&r, "{\"r_int32\":[],\"r_string\":[],\"r_nested\":[],\"r_double\":[],\"r_bool\":[],"
                   "\"r_enum\":[\"red\",7,\"unspecified\"],\"r_bytes\":[],"
                   "\"r_int64\":[],\"r_float\":[]}");
}

/* ---------------------------------------------------------------- floating point */

static void test_doubles(void **state)
{
    (void)state;
    double v[] = {0.1,  1e300, -0.0,    0.0,     0.1 + 0.2,          1.0 / 3, 100.0,    1e15,     123456789.0,
                  -2.5, 1e-7,  DBL_MAX, DBL_MIN, 9007199254740993.0, NAN,     INFINITY, -INFINITY};
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    r.n_r_double = sizeof v / sizeof v[0];
    r.r_double = v;
    check_json(&r, "{\"r_int32\":[],\"r_string\":[],\"r_nested\":[],\"r_double\":["
                   "0.1,1e+300,-0,0,0.30000000000000004,0.3333333333333333,100,"
                   "1e+15,123456789,-2.5,1e-07,1.7976931348623157e+308,2.2250738585072014e-308,"
                   "9007199254740992,null,null,null"
                   "],\"r_bool\":[],\"r_enum\":[],\"r_bytes\":[],\"r_int64\":[],\"r_float\":[]}");
}

static void test_floats(void **state)
{
    (void)state;
    float v[] = {0.1f, -0.0f, 16777216.0f, 1.0f / 3, FLT_MAX, 1e-45f, 3.14159f, 1e10f, 0.2f, NAN, INFINITY, -INFINITY};
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    r.n_r_float = sizeof v / sizeof v[0];
    r.r_float = v;
    check_json(&r, "{\"r_int32\":[],\"r_string\":[],\"r_nested\":[],\"r_double\":[],\"r_bool\":[],"
                   "\"r_enum\":[],\"r_bytes\":[],\"r_int64\":[],\"r_float\":["
                   "0.1,-0,16777216,0.33333334,3.4028235e+38,1.4013e-45,3.14159,1e+10,0.2,"
                   "null,null,null]}");
    /* a float field: 0.1f must not show its double expansion 0.100000001490116 */
    Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
    m.f_float = 0.1f;
    m.f_double = 0.1;
    char *s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, "\"f_float\":0.1,\"f_double\":0.1,"));
    free(s);
}

/* The encoder prints common doubles without printf; its output must stay exactly what the
 * printf rule gives ("%.15g", else "%.16g", else "%.17g": the first that reads back). Values of
 * every shape the report and the brief carry — integers, money, milliseconds, ratios, 0 and -0,
 * the edges of the plain-notation range — and random bit patterns. */
static void printf_double(double v, char *out, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v) break;
    }
}

static const double POW10_TEST[] = {1e-6, 1e-3, 1e-2, 0.1, 1, 10, 1e3, 1e9};

static void test_doubles_match_printf(void **state)
{
    (void)state;
    enum { N = 200000 };
    double *v = malloc(sizeof *v * N);
    assert_non_null(v);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    static const double edges[] = {0.0,
                                   -0.0,
                                   1e-4,
                                   -1e-4,
                                   9.9999999999999e-5,
                                   1e15,
                                   999999999999999.0,
                                   1e15 - 0.5,
                                   99999999999999.9,
                                   0.1,
                                   0.2,
                                   0.30000000000000004,
                                   1.0 / 3,
                                   2.0 / 3,
                                   123.456,
                                   0.000123456789012345,
                                   5e-324,
                                   1e22,
                                   4503599627370495.5};
    size_t n = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) v[n++] = edges[i];
    while (n < N) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        uint64_t r = x * 0x2545F4914F6CDD1DULL;
        double d;
        switch (r % 6) {
        case 0: memcpy(&d, &r, sizeof d); break;                          /* any bit pattern */
        case 1: d = (double)(int64_t)(r >> 8) / 1e6; break;               /* large, 6 decimals */
        case 2: d = (double)(r >> 40) / 100.0; break;                     /* money */
        case 3: d = (double)((r >> 20) % 100000000) / 1e3 - 5e4; break;   /* milliseconds */
        case 4: d = (double)(r >> 11) / 9007199254740992.0; break;        /* a ratio in [0, 1) */
        default: d = (double)(r >> 33) * POW10_TEST[(r >> 3) % 8]; break; /* integers, scaled */
        }
        if (!isfinite(d)) continue;
        v[n++] = d;
    }
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    r.n_r_double = N;
    r.r_double = v;
    char *s = sfp_pbjson_encode(&r.base, NULL);
    assert_non_null(s);
    const char *p = strstr(s, "\"r_double\":[");
    assert_non_null(p);
    p += strlen("\"r_double\":[");
    for (size_t i = 0; i < N; i++) {
        char want[40];
        printf_double(v[i], want, sizeof want);
        size_t wl = strlen(want);
        if (strncmp(p, want, wl) != 0 || (p[wl] != ',' && p[wl] != ']'))
            fail_msg("double %a: printf gives %s, the encoder %.30s", v[i], want, p);
        p += wl + 1;
    }
    free(s);
    free(v);
}

/* ---------------------------------------------------------------- strings */

static void test_string_escaping(void **state)
{
    (void)state;
    char *v[] = {
        "a\"b",             /* quote */
        "back\\slash",      /* backslash */
        "line\nfeed\r\t",   /* short escapes */
        "\x01\x1f\x7f",     /* C0 controls → \u00XX; DEL passes */
        "\b\f/",            /* \b \f; '/' not escaped */
        "caf\xc3\xa9",      /* é passes through */
        "\xf0\x9f\x98\x80", /* 😀 passes through */
        "bad\xff"
        "byte", /* invalid byte */
        "\xc3", /* truncated 2-byte sequence */
        "\xe2\x82"
        "x",                                            /* truncated 3-byte sequence: one replacement */
        "\xed\xa0\x80",                                 /* UTF-16 surrogate: not UTF-8 → 3 replacements */
        "\xc0\xaf",                                     /* overlong '/' (2-byte) */
        "\xe0\x80\xaf",                                 /* overlong '/' (3-byte) */
        "\xf0\x80\x80\xaf",                             /* overlong '/' (4-byte) */
        "\xe0\xa0\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", /* U+0800, U+10000, U+10FFFF */
        "\xf4\x90\x80\x80",                             /* > U+10FFFF */
        "\x80\xe2\x82\xac",                             /* stray continuation, then € */
        "",
    };
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    r.n_r_string = sizeof v / sizeof v[0];
    r.r_string = v;
    check_json(&r, "{\"r_int32\":[],\"r_string\":["
                   "\"a\\\"b\","
                   "\"back\\\\slash\","
                   "\"line\\nfeed\\r\\t\","
                   "\"\\u0001\\u001f\x7f\","
                   "\"\\b\\f/\","
                   "\"caf\xc3\xa9\","
                   "\"\xf0\x9f\x98\x80\","
                   "\"bad\\ufffdbyte\","
                   "\"\\ufffd\","
                   "\"\\ufffdx\","
                   "\"\\ufffd\\ufffd\\ufffd\","
                   "\"\\ufffd\\ufffd\","
                   "\"\\ufffd\\ufffd\\ufffd\","
                   "\"\\ufffd\\ufffd\\ufffd\\ufffd\","
                   "\"\xe0\xa0\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\","
                   "\"\\ufffd\\ufffd\\ufffd\\ufffd\","
                   "\"\\ufffd\xe2\x82\xac\","
                   "\"\""
                   "],\"r_nested\":[],\"r_double\":[],\"r_bool\":[],\"r_enum\":[],\"r_bytes\":[],"
                   "\"r_int64\":[],\"r_float\":[]}");
}

/* ---------------------------------------------------------------- bytes */

static void test_bytes_base64(void **state)
{
    (void)state;
    static const unsigned char bin[] = {0x00, 0xff, 0xfe, 0x80, 0x3e, 0x3f, 0xfb};
    ProtobufCBinaryData v[] = {
        {0, NULL},
        {1, (uint8_t *)"f"},
        {2, (uint8_t *)"fo"},
        {3, (uint8_t *)"foo"},
        {4, (uint8_t *)"foob"},
        {5, (uint8_t *)"fooba"},
        {6, (uint8_t *)"foobar"},
        {sizeof bin, (uint8_t *)bin},
        {0, (uint8_t *)"ignored"},
    };
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    r.n_r_bytes = sizeof v / sizeof v[0];
    r.r_bytes = v;
    check_json(&r, "{\"r_int32\":[],\"r_string\":[],\"r_nested\":[],\"r_double\":[],\"r_bool\":[],"
                   "\"r_enum\":[],\"r_bytes\":[\"\",\"Zg==\",\"Zm8=\",\"Zm9v\",\"Zm9vYg==\","
                   "\"Zm9vYmE=\",\"Zm9vYmFy\",\"AP/+gD4/+w==\",\"\"],\"r_int64\":[],\"r_float\":[]}");
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Long binary (crosses the encoder's internal chunking): decode and compare. */
static void test_bytes_base64_long_roundtrip(void **state)
{
    (void)state;
    for (size_t n = 180; n < 200; n++) {
        unsigned char *data = malloc(n);
        assert_non_null(data);
        for (size_t i = 0; i < n; i++) data[i] = (unsigned char)(i * 37 + n);
        Sfptest__Scalars m = SFPTEST__SCALARS__INIT;
        m.f_bytes.len = n;
        m.f_bytes.data = data;
        char *s = sfp_pbjson_encode(&m.base, NULL);
        const char *p = strstr(s, "\"f_bytes\":\"");
        assert_non_null(p);
        p += strlen("\"f_bytes\":\"");
        const char *q = strchr(p, '"');
        assert_non_null(q);
        size_t elen = (size_t)(q - p);
        assert_int_equal(elen, (n + 2) / 3 * 4);
        unsigned char *dec = malloc(elen);
        size_t dn = 0;
        for (size_t i = 0; i < elen; i += 4) {
            int a = b64val(p[i]), b = b64val(p[i + 1]);
            int c = p[i + 2] == '=' ? 0 : b64val(p[i + 2]);
            int d = p[i + 3] == '=' ? 0 : b64val(p[i + 3]);
            assert_true(a >= 0 && b >= 0 && c >= 0 && d >= 0);
            uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
            dec[dn++] = (unsigned char)(w >> 16);
            if (p[i + 2] != '=') dec[dn++] = (unsigned char)(w >> 8);
            if (p[i + 3] != '=') dec[dn++] = (unsigned char)w;
        }
        assert_int_equal(dn, n);
        assert_memory_equal(dec, data, n);
        free(dec);
        free(s);
        free(data);
    }
}

/* ---------------------------------------------------------------- repeated / nested */

static void test_repeated_empty_and_filled(void **state)
{
    (void)state;
    Sfptest__Repeated r = SFPTEST__REPEATED__INIT;
    check_json(&r, "{\"r_int32\":[],\"r_string\":[],\"r_nested\":[],\"r_double\":[],\"r_bool\":[],"
                   "\"r_enum\":[],\"r_bytes\":[],\"r_int64\":[],\"r_float\":[]}");

    int32_t ints[] = {1, -2, 0};
    protobuf_c_boolean bools[] = {1, 0};
    int64_t i64[] = {1, INT64_C(9007199254740993), -5};
    Sfptest__Nested n1 = SFPTEST__NESTED__INIT;
    n1.id = 7;
    n1.label = "seven";
    Sfptest__Nested *nested[] = {&n1, NULL};
    r.n_r_int32 = 3;
    r.r_int32 = ints;
    r.n_r_bool = 2;
    r.r_bool = bools;
    r.n_r_int64 = 3;
    r.r_int64 = i64;
    r.n_r_nested = 2;
    r.r_nested = nested;
    check_json(&r, "{\"r_int32\":[1,-2,0],\"r_string\":[],"
                   "\"r_nested\":[{\"id\":7,\"label\":\"seven\"},null],\"r_double\":[],"
                   "\"r_bool\":[true,false],\"r_enum\":[],\"r_bytes\":[],"
                   "\"r_int64\":[1,9007199254740993,-5],\"r_float\":[]}");
}

static void test_nested_unset_is_null_and_empty_message(void **state)
{
    (void)state;
    Sfptest__Empty e = SFPTEST__EMPTY__INIT;
    check_json(&e, "{}");

    Sfptest__Everything m = SFPTEST__EVERYTHING__INIT;
    check_json(&m, "{\"scalars\":null,\"repeated\":null,\"maps\":null,\"choice\":null,"
                   "\"optionals\":null,\"nested\":null,\"empty\":null,\"children\":[]}");

    Sfptest__Nested n = SFPTEST__NESTED__INIT;
    Sfptest__Everything child = SFPTEST__EVERYTHING__INIT;
    Sfptest__Everything *children[] = {&child};
    m.nested = &n;
    m.empty = &e;
    m.n_children = 1;
    m.children = children;
    check_json(&m, "{\"scalars\":null,\"repeated\":null,\"maps\":null,\"choice\":null,"
                   "\"optionals\":null,\"nested\":{\"id\":0,\"label\":\"\"},\"empty\":{},"
                   "\"children\":[{\"scalars\":null,\"repeated\":null,\"maps\":null,"
                   "\"choice\":null,\"optionals\":null,\"nested\":null,\"empty\":null,"
                   "\"children\":[]}]}");
}

static void test_null_message_and_append(void **state)
{
    (void)state;
    size_t len = 99;
    char *s = sfp_pbjson_encode(NULL, &len);
    assert_string_equal(s, "null");
    assert_int_equal(len, 4);
    free(s);

    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "{\"data\":");
    Sfptest__Nested n = SFPTEST__NESTED__INIT;
    n.id = -1;
    n.label = "x";
    sfp_pbjson_append(&b, &n.base);
    sfp_buf_putc(&b, '}');
    assert_int_equal(b.len, strlen("{\"data\":{\"id\":-1,\"label\":\"x\"}}"));
    assert_string_equal(b.data, "{\"data\":{\"id\":-1,\"label\":\"x\"}}");
    sfp_buf_free(&b);
}

/* Chain of 70 Tree nodes named by depth: levels 1..64 are objects, level 65 becomes null. */
static void test_depth_limit(void **state)
{
    (void)state;
    enum { N = 70, LIMIT = 64 };
    Sfptest__Tree nodes[N];
    char names[N][8];
    for (int i = 0; i < N; i++) {
        Sfptest__Tree t = SFPTEST__TREE__INIT;
        nodes[i] = t;
        snprintf(names[i], sizeof names[i], "%d", i + 1);
        nodes[i].name = names[i];
        nodes[i].child = i + 1 < N ? &nodes[i + 1] : NULL;
    }
    sfp_buf exp;
    sfp_buf_init(&exp);
    for (int i = 0; i < LIMIT; i++) sfp_buf_printf(&exp, "{\"name\":\"%d\",\"child\":", i + 1);
    sfp_buf_puts(&exp, "null");
    for (int i = 0; i < LIMIT; i++) sfp_buf_putc(&exp, '}');
    check_json(&nodes[0], exp.data);

    /* exactly 64 levels: fully emitted, the last child is a genuine unset (null) */
    nodes[LIMIT - 1].child = NULL;
    check_json(&nodes[0], exp.data);
    /* 63 levels: the string differs (proves the limit is not below 64) */
    nodes[LIMIT - 2].child = NULL;
    char *s = sfp_pbjson_encode(&nodes[0].base, NULL);
    assert_string_not_equal(s, exp.data);
    assert_non_null(strstr(s, "{\"name\":\"63\",\"child\":null}"));
    free(s);
    sfp_buf_free(&exp);
}

/* ---------------------------------------------------------------- maps */

static void test_maps(void **state)
{
    (void)state;
    Sfptest__Maps m = SFPTEST__MAPS__INIT;
    check_json(&m, "{\"counts\":{},\"items\":{},\"by_id\":{}}");

    Sfptest__Maps__CountsEntry c1 = SFPTEST__MAPS__COUNTS_ENTRY__INIT, c2 = c1;
    c1.key = "a";
    c1.value = 1;
    c2.key = "b\"q";
    c2.value = -2;
    Sfptest__Maps__CountsEntry *counts[] = {&c1, &c2};
    Sfptest__Nested n = SFPTEST__NESTED__INIT;
    n.id = 1;
    n.label = "one";
    Sfptest__Maps__ItemsEntry i1 = SFPTEST__MAPS__ITEMS_ENTRY__INIT, i2 = i1;
    i1.key = "x";
    i1.value = &n;
    i2.key = "y";
    i2.value = NULL;
    Sfptest__Maps__ItemsEntry *items[] = {&i1, &i2};
    Sfptest__Maps__ByIdEntry b1 = SFPTEST__MAPS__BY_ID_ENTRY__INIT, b2 = b1;
    b1.key = 7;
    b1.value = "seven";
    b2.key = -1;
    b2.value = "neg";
    Sfptest__Maps__ByIdEntry *by_id[] = {&b1, &b2};
    m.n_counts = 2;
    m.counts = counts;
    m.n_items = 2;
    m.items = items;
    m.n_by_id = 2;
    m.by_id = by_id;
    check_json(&m, "{\"counts\":{\"a\":1,\"b\\\"q\":-2},"
                   "\"items\":{\"x\":{\"id\":1,\"label\":\"one\"},\"y\":null},"
                   "\"by_id\":{\"7\":\"seven\",\"-1\":\"neg\"}}");
}

static void test_map_lookalike_stays_array(void **state)
{
    (void)state;
    Sfptest__KvEntry kv = SFPTEST__KV_ENTRY__INIT;
    kv.key = "a";
    kv.value = 1;
    Sfptest__KvEntry *pairs[] = {&kv};
    Sfptest__Lookalike__Inner__PairEntry deep = SFPTEST__LOOKALIKE__INNER__PAIR_ENTRY__INIT;
    deep.key = "d";
    Sfptest__Lookalike__Inner__PairEntry *deeps[] = {&deep};
    Sfptest__Lookalike l = SFPTEST__LOOKALIKE__INIT;
    l.n_pairs = 1;
    l.pairs = pairs;
    l.n_deep = 1;
    l.deep = deeps;
    check_json(&l, "{\"pairs\":[{\"key\":\"a\",\"value\":1}],"
                   "\"deep\":[{\"key\":\"d\",\"value\":0}]}");

    Sfptest__Holder__PairEntry sib = SFPTEST__HOLDER__PAIR_ENTRY__INIT;
    sib.key = "s";
    sib.value = 2;
    Sfptest__Holder__PairEntry *sibs[] = {&sib};
    Sfptest__Holdes h = SFPTEST__HOLDES__INIT;
    h.n_sibling = 1;
    h.sibling = sibs;
    check_json(&h, "{\"sibling\":[{\"key\":\"s\",\"value\":2}]}");
}

/* ---------------------------------------------------------------- oneof */

static void test_oneof_only_set_member(void **state)
{
    (void)state;
    Sfptest__Choice c = SFPTEST__CHOICE__INIT;
    c.before = "b";
    c.after = 1;
    check_json(&c, "{\"before\":\"b\",\"after\":true}");

    c.pick_case = SFPTEST__CHOICE__PICK_AS_INT;
    c.as_int = 0;
    check_json(&c, "{\"before\":\"b\",\"as_int\":0,\"after\":true}");

    c.pick_case = SFPTEST__CHOICE__PICK_AS_STR;
    c.as_str = "s";
    check_json(&c, "{\"before\":\"b\",\"as_str\":\"s\",\"after\":true}");

    Sfptest__Nested n = SFPTEST__NESTED__INIT;
    n.id = 3;
    c.pick_case = SFPTEST__CHOICE__PICK_AS_MSG;
    c.as_msg = &n;
    check_json(&c, "{\"before\":\"b\",\"as_msg\":{\"id\":3,\"label\":\"\"},\"after\":true}");
    c.as_msg = NULL;
    check_json(&c, "{\"before\":\"b\",\"as_msg\":null,\"after\":true}");
}

/* ---------------------------------------------------------------- optional (has_) */

static void test_optional_unset_null_vs_set(void **state)
{
    (void)state;
    Sfptest__Optionals o = SFPTEST__OPTIONALS__INIT;
    /* nothing set: has_ fields and NULL/default strings are null, sub-message → null;
     * required fields always present */
    const char *unset = "{\"o_int32\":null,\"o_string\":null,\"o_enum\":null,\"o_bool\":null,"
                        "\"o_double\":null,\"o_bytes\":null,\"o_nested\":null,\"o_uint64\":null,"
                        "\"o_default\":null,\"r_int32\":0,\"r_string\":\"\",\"p2_map\":{}}";
    check_json(&o, unset);

    /* values without has_ are still null */
    o.o_int32 = 5;
    o.o_bool = 1;
    o.o_double = 2.5;
    o.o_uint64 = 9;
    o.o_enum = SFPTEST__SHADE__SHADE_DARK;
    check_json(&o, unset);

    /* set to zero values: emitted */
    Sfptest__P2Nested pn = SFPTEST__P2_NESTED__INIT;
    o.has_o_int32 = 1;
    o.o_int32 = 0;
    o.o_string = "";
    o.has_o_enum = 1;
    o.has_o_bool = 1;
    o.o_bool = 0;
    o.has_o_double = 1;
    o.o_double = 0;
    o.has_o_bytes = 1;
    o.has_o_uint64 = 1;
    o.o_uint64 = UINT64_MAX;
    o.o_default = "mine";
    o.o_nested = &pn;
    o.r_int32 = -9;
    o.r_string = "req";
    Sfptest__Optionals__P2MapEntry e = SFPTEST__OPTIONALS__P2_MAP_ENTRY__INIT;
    e.key = "k";
    e.value = 12; /* has_value unset: a map value is still emitted */
    Sfptest__Optionals__P2MapEntry *entries[] = {&e};
    o.n_p2_map = 1;
    o.p2_map = entries;
    check_json(&o, "{\"o_int32\":0,\"o_string\":\"\",\"o_enum\":\"dark\",\"o_bool\":false,"
                   "\"o_double\":0,\"o_bytes\":\"\",\"o_nested\":{\"id\":null},"
                   "\"o_uint64\":18446744073709551615,\"o_default\":\"mine\","
                   "\"r_int32\":-9,\"r_string\":\"req\",\"p2_map\":{\"k\":12}}");

    /* the shared default pointer counts as unset, an equal copy counts as set */
    o.o_default = (char *)sfptest__optionals__o_default__default_value;
    char *s = sfp_pbjson_encode(&o.base, NULL);
    assert_non_null(strstr(s, ",\"o_default\":null,"));
    free(s);
    char copy[] = "dflt";
    o.o_default = copy;
    s = sfp_pbjson_encode(&o.base, NULL);
    assert_non_null(strstr(s, ",\"o_default\":\"dflt\","));
    free(s);
}

/* ---------------------------------------------------------------- nullable values */

static void test_presence_single_oneof(void **state)
{
    (void)state;
    Sfptest__Presence m = SFPTEST__PRESENCE__INIT;
    /* cases not set: the single-member oneofs are null (the key is there); has_ bools are
     * ordinary fields, even has_flag followed by flag */
    check_json(&m, "{\"count\":null,\"oldest_age_minutes\":null,\"has_nothing\":false,\"other\":0,"
                   "\"big\":null,\"health\":\"unspecified\",\"legacy\":\"unknown\",\"mode\":\"unspecified\","
                   "\"has_tail\":false,\"has_flag\":false,\"flag\":0}");
    m.count = 7; /* a value without its case is still null */
    m.big = 5;
    check_json(&m, "{\"count\":null,\"oldest_age_minutes\":null,\"has_nothing\":false,\"other\":0,"
                   "\"big\":null,\"health\":\"unspecified\",\"legacy\":\"unknown\",\"mode\":\"unspecified\","
                   "\"has_tail\":false,\"has_flag\":false,\"flag\":0}");
    m.optional_count_case = SFPTEST__PRESENCE__OPTIONAL_COUNT_COUNT;
    m.count = 0; /* a zero value with its case set is a value */
    m.optional_oldest_age_minutes_case = SFPTEST__PRESENCE__OPTIONAL_OLDEST_AGE_MINUTES_OLDEST_AGE_MINUTES;
    m.oldest_age_minutes = 1.5;
    m.has_nothing = 1;
    m.optional_big_case = SFPTEST__PRESENCE__OPTIONAL_BIG_BIG;
    m.big = INT64_C(9007199254740993); /* beyond 2^53: still a number */
    m.has_tail = 1;
    m.has_flag = 1;
    check_json(&m, "{\"count\":0,\"oldest_age_minutes\":1.5,\"has_nothing\":true,\"other\":0,"
                   "\"big\":9007199254740993,\"health\":\"unspecified\",\"legacy\":\"unknown\","
                   "\"mode\":\"unspecified\",\"has_tail\":true,\"has_flag\":true,\"flag\":0}");

    const ProtobufCMessageDescriptor *d = &sfptest__presence__descriptor;
    assert_int_equal(sfp_pbjson_field_presence(d, 0), SFP_PBJSON_PRESENCE_NULLABLE);           /* count */
    assert_int_equal(sfp_pbjson_field_presence(d, 2), SFP_PBJSON_PRESENCE_NONE);               /* has_nothing */
    assert_int_equal(sfp_pbjson_field_presence(d, 4), SFP_PBJSON_PRESENCE_NULLABLE);           /* big */
    assert_int_equal(sfp_pbjson_field_presence(d, d->n_fields - 2), SFP_PBJSON_PRESENCE_NONE); /* has_flag */
    assert_int_equal(sfp_pbjson_field_presence(d, d->n_fields - 1), SFP_PBJSON_PRESENCE_NONE); /* flag */
}

/* ---------------------------------------------------------------- enum names */

static void test_enum_json_names(void **state)
{
    (void)state;
    Sfptest__Presence m = SFPTEST__PRESENCE__INIT;
    m.health = SFPTEST__CARD_HEALTH__CARD_HEALTH_ON_TRACK;
    m.legacy = SFPTEST__LEGACY__SERVING;             /* no prefix: only lower-cased */
    m.mode = SFPTEST__HTTPMODE__HTTP_MODE_HALF_OPEN; /* acronym: HTTPMode → HTTP_MODE_ */
    char *s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, "\"health\":\"on_track\",\"legacy\":\"serving\",\"mode\":\"half_open\""));
    free(s);
    m.health = SFPTEST__CARD_HEALTH__CARD_HEALTH_HIGH_RISK;
    m.legacy = SFPTEST__LEGACY__LEGACY;          /* the enum's own name alone is no prefix */
    m.mode = SFPTEST__HTTPMODE__HTTPMODE_CLOSED; /* prefix spelled differently: kept */
    s = sfp_pbjson_encode(&m.base, NULL);
    assert_non_null(strstr(s, "\"health\":\"high_risk\",\"legacy\":\"legacy\",\"mode\":\"httpmode_closed\""));
    free(s);
}

static void test_enum_name_value_roundtrip(void **state)
{
    (void)state;
    const ProtobufCEnumDescriptor *ed = &sfptest__card_health__descriptor;
    char buf[64];
    for (unsigned i = 0; i < ed->n_values; i++) {
        int v = ed->values[i].value;
        const char *name = sfp_pbjson_enum_name(ed, v, buf, sizeof buf);
        assert_true(name[0] != '\0');
        assert_int_equal(sfp_pbjson_enum_value(ed, name, -1), v);
    }
    assert_string_equal(SFP_PBJSON_ENUM_NAME(ed, SFPTEST__CARD_HEALTH__CARD_HEALTH_AT_RISK), "at_risk");
    assert_string_equal(sfp_pbjson_enum_name(ed, 99, buf, sizeof buf), "");
    assert_string_equal(sfp_pbjson_enum_name(ed, SFPTEST__CARD_HEALTH__CARD_HEALTH_AT_RISK, buf, 4), "at_");
    assert_int_equal(sfp_pbjson_enum_value(ed, "on_track", -1), SFPTEST__CARD_HEALTH__CARD_HEALTH_ON_TRACK);
    assert_int_equal(sfp_pbjson_enum_value(ed, "ON_TRACK", -1), -1); /* JSON names are lower case */
    assert_int_equal(sfp_pbjson_enum_value(ed, "on_trac", -1), -1);
    assert_int_equal(sfp_pbjson_enum_value(ed, "on_track_", -1), -1);
    assert_int_equal(sfp_pbjson_enum_value(ed, "", -1), -1);
    assert_int_equal(sfp_pbjson_enum_value(ed, NULL, -2), -2);
}

/* ---------------------------------------------------------------- big random message */

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{ /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1DULL;
}
static size_t rndn(size_t n)
{
    return (size_t)(rnd() % n);
}

/* clean: valid UTF-8 (controls, quotes, multibyte); else arbitrary bytes except NUL */
static char *rnd_string(bool clean)
{
    static const char *pieces[] = {
        "a", "Z", "\"", "\\", "\n", "\x01", "\x1f", " ", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f"};
    size_t n = rndn(24);
    char *s = talloc(n * 4 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (clean) {
            const char *p = pieces[rndn(sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            memcpy(s + k, p, pl);
            k += pl;
        } else {
            s[k++] = (char)(1 + rndn(255));
        }
    }
    s[k] = '\0';
    return s;
}

static double rnd_double(void)
{
    uint64_t bits = rnd();
    double d;
    switch (rndn(4)) {
    case 0: memcpy(&d, &bits, sizeof d); return d; /* anything incl. NaN/Inf/subnormal */
    case 1: return (double)(int64_t)bits / 1e6;
    case 2: return (double)rndn(1000);
    default: return ((double)rndn(1000000) - 500000) * 1e-3;
    }
}

static float rnd_float(void)
{
    uint32_t bits = (uint32_t)rnd();
    float f;
    if (rndn(2)) {
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    return (float)rndn(100000) / 7.0f;
}

static Sfptest__Nested *rnd_nested(void)
{
    if (rndn(5) == 0) return NULL;
    Sfptest__Nested *n = talloc(sizeof *n);
    sfptest__nested__init(n);
    n->id = (int32_t)rnd();
    n->label = rnd_string(rndn(2));
    return n;
}

static Sfptest__Scalars *rnd_scalars(void)
{
    Sfptest__Scalars *s = talloc(sizeof *s);
    sfptest__scalars__init(s);
    s->f_int32 = (int32_t)rnd();
    s->f_sint32 = (int32_t)rnd();
    s->f_sfixed32 = (int32_t)rnd();
    s->f_uint32 = (uint32_t)rnd();
    s->f_fixed32 = (uint32_t)rnd();
    s->f_int64 = (int64_t)rnd() >> rndn(64);
    s->f_sint64 = (int64_t)rnd() >> rndn(64);
    s->f_sfixed64 = (int64_t)rnd();
    s->f_uint64 = rnd() >> rndn(64);
    s->f_fixed64 = rnd();
    s->f_float = rnd_float();
    s->f_double = rnd_double();
    s->f_bool = (protobuf_c_boolean)rndn(2);
    s->f_string = rnd_string(true);
    s->f_bytes.len = rndn(40);
    s->f_bytes.data = talloc(s->f_bytes.len);
    for (size_t i = 0; i < s->f_bytes.len; i++) s->f_bytes.data[i] = (uint8_t)rnd();
    s->f_enum = (Sfptest__Color)rndn(5);
    return s;
}

static Sfptest__Everything *rnd_everything(int depth)
{
    Sfptest__Everything *m = talloc(sizeof *m);
    sfptest__everything__init(m);
    m->scalars = rndn(6) ? rnd_scalars() : NULL;

    Sfptest__Repeated *r = talloc(sizeof *r);
    sfptest__repeated__init(r);
    r->n_r_int32 = rndn(10);
    r->r_int32 = talloc(r->n_r_int32 * sizeof *r->r_int32);
    for (size_t i = 0; i < r->n_r_int32; i++) r->r_int32[i] = (int32_t)rnd();
    r->n_r_string = rndn(6);
    r->r_string = talloc(r->n_r_string * sizeof *r->r_string);
    for (size_t i = 0; i < r->n_r_string; i++) r->r_string[i] = rnd_string(rndn(2));
    r->n_r_nested = rndn(5);
    r->r_nested = talloc(r->n_r_nested * sizeof *r->r_nested);
    for (size_t i = 0; i < r->n_r_nested; i++) r->r_nested[i] = rnd_nested();
    r->n_r_double = rndn(12);
    r->r_double = talloc(r->n_r_double * sizeof *r->r_double);
    for (size_t i = 0; i < r->n_r_double; i++) r->r_double[i] = rnd_double();
    r->n_r_float = rndn(12);
    r->r_float = talloc(r->n_r_float * sizeof *r->r_float);
    for (size_t i = 0; i < r->n_r_float; i++) r->r_float[i] = rnd_float();
    r->n_r_int64 = rndn(8);
    r->r_int64 = talloc(r->n_r_int64 * sizeof *r->r_int64);
    for (size_t i = 0; i < r->n_r_int64; i++) r->r_int64[i] = (int64_t)rnd() >> rndn(64);
    m->repeated = r;

    Sfptest__Maps *mp = talloc(sizeof *mp);
    sfptest__maps__init(mp);
    mp->n_counts = rndn(5);
    mp->counts = talloc(mp->n_counts * sizeof *mp->counts);
    for (size_t i = 0; i < mp->n_counts; i++) {
        Sfptest__Maps__CountsEntry *e = talloc(sizeof *e);
        sfptest__maps__counts_entry__init(e);
        e->key = rnd_string(rndn(2));
        e->value = (int32_t)rnd();
        mp->counts[i] = e;
    }
    mp->n_items = rndn(4);
    mp->items = talloc(mp->n_items * sizeof *mp->items);
    for (size_t i = 0; i < mp->n_items; i++) {
        Sfptest__Maps__ItemsEntry *e = talloc(sizeof *e);
        sfptest__maps__items_entry__init(e);
        e->key = rnd_string(true);
        e->value = rnd_nested();
        mp->items[i] = e;
    }
    m->maps = mp;

    Sfptest__Choice *c = talloc(sizeof *c);
    sfptest__choice__init(c);
    c->before = rnd_string(true);
    switch (rndn(4)) {
    case 1:
        c->pick_case = SFPTEST__CHOICE__PICK_AS_INT;
        c->as_int = (int32_t)rnd();
        break;
    case 2:
        c->pick_case = SFPTEST__CHOICE__PICK_AS_STR;
        c->as_str = rnd_string(false);
        break;
    case 3:
        c->pick_case = SFPTEST__CHOICE__PICK_AS_MSG;
        c->as_msg = rnd_nested();
        break;
    default: break;
    }
    m->choice = c;

    Sfptest__Optionals *o = talloc(sizeof *o);
    sfptest__optionals__init(o);
    o->has_o_int32 = (protobuf_c_boolean)rndn(2);
    o->o_int32 = (int32_t)rnd();
    o->o_string = rndn(2) ? rnd_string(true) : NULL;
    o->has_o_double = (protobuf_c_boolean)rndn(2);
    o->o_double = rnd_double();
    o->r_string = rnd_string(false);
    m->optionals = o;

    m->nested = rnd_nested();
    if (rndn(2)) {
        m->empty = talloc(sizeof *m->empty);
        sfptest__empty__init(m->empty);
    }
    if (depth < 4) {
        m->n_children = rndn(5);
        m->children = talloc(m->n_children * sizeof *m->children);
        for (size_t i = 0; i < m->n_children; i++) m->children[i] = rnd_everything(depth + 1);
    }
    return m;
}

static void check_number(const cJSON *j, double expected)
{
    if (!isfinite(expected)) {
        assert_true(cJSON_IsNull(j));
        return;
    }
    assert_true(cJSON_IsNumber(j));
    assert_true(j->valuedouble == expected); /* exact round trip */
}

/* Always a JSON number; exact within ±2^53 (what a double holds), the nearest double beyond. */
static void check_int64(const cJSON *j, int64_t v)
{
    check_number(j, (double)v);
}

/* Round-trip checks of the values cJSON can represent exactly. */
static void verify_everything(const cJSON *j, const Sfptest__Everything *m)
{
    assert_true(cJSON_IsObject(j));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "scalars");
    if (!m->scalars) {
        assert_true(cJSON_IsNull(sc));
    } else {
        const Sfptest__Scalars *s = m->scalars;
        check_number(cJSON_GetObjectItemCaseSensitive(sc, "f_int32"), s->f_int32);
        check_number(cJSON_GetObjectItemCaseSensitive(sc, "f_uint32"), s->f_uint32);
        check_int64(cJSON_GetObjectItemCaseSensitive(sc, "f_int64"), s->f_int64);
        check_int64(cJSON_GetObjectItemCaseSensitive(sc, "f_sint64"), s->f_sint64);
        check_number(cJSON_GetObjectItemCaseSensitive(sc, "f_double"), s->f_double);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(sc, "f_float");
        if (isfinite(s->f_float)) {
            assert_true(cJSON_IsNumber(f));
            assert_true((float)f->valuedouble == s->f_float);
        } else {
            assert_true(cJSON_IsNull(f));
        }
        const cJSON *str = cJSON_GetObjectItemCaseSensitive(sc, "f_string");
        assert_true(cJSON_IsString(str));
        assert_string_equal(str->valuestring, s->f_string); /* clean strings round-trip */
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sc, "f_bool")), s->f_bool);
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "repeated");
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(r, "r_double");
    assert_int_equal(cJSON_GetArraySize(rd), m->repeated->n_r_double);
    for (size_t i = 0; i < m->repeated->n_r_double; i++)
        check_number(cJSON_GetArrayItem(rd, (int)i), m->repeated->r_double[i]);
    const cJSON *ri = cJSON_GetObjectItemCaseSensitive(r, "r_int64");
    assert_int_equal(cJSON_GetArraySize(ri), m->repeated->n_r_int64);
    for (size_t i = 0; i < m->repeated->n_r_int64; i++)
        check_int64(cJSON_GetArrayItem(ri, (int)i), m->repeated->r_int64[i]);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "choice");
    const char *members[] = {"as_int", "as_str", "as_msg"};
    int present = 0;
    for (int i = 0; i < 3; i++) present += cJSON_HasObjectItem(ch, members[i]);
    assert_int_equal(present, m->choice->pick_case ? 1 : 0);
    const cJSON *kids = cJSON_GetObjectItemCaseSensitive(j, "children");
    assert_int_equal(cJSON_GetArraySize(kids), m->n_children);
    for (size_t i = 0; i < m->n_children; i++) verify_everything(cJSON_GetArrayItem(kids, (int)i), m->children[i]);
}

static void test_big_random_message_is_valid_json(void **state)
{
    (void)state;
    size_t total = 0;
    for (int round = 0; round < 20; round++) {
        Sfptest__Everything *m = rnd_everything(0);
        size_t len = 0;
        char *s = sfp_pbjson_encode(&m->base, &len);
        assert_int_equal(len, strlen(s));
        total += len;
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithOpts(s, &end, 1);
        if (!j) fail_msg("round %d: invalid JSON near offset %td: %.80s", round, end - s, end);
        verify_everything(j, m);
        cJSON_Delete(j);
        /* compact: no whitespace outside strings (every raw byte >= 0x20 inside strings) */
        bool in_str = false;
        for (const char *p = s; *p; p++) {
            if (in_str) {
                assert_true((unsigned char)*p >= 0x20);
                if (*p == '\\') p++;
                else if (*p == '"') in_str = false;
            } else {
                assert_false(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r');
                if (*p == '"') in_str = true;
            }
        }
        free(s);
        tfree_all();
    }
    assert_true(total > 200000); /* the generator really produces big messages */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_zero_values),
        cmocka_unit_test(test_scalars_32bit_limits),
        cmocka_unit_test(test_scalars_64bit_boundary),
        cmocka_unit_test(test_enum_unknown_value_is_number),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_bytes_base64),
        cmocka_unit_test(test_bytes_base64_long_roundtrip),
        cmocka_unit_test(test_repeated_empty_and_filled),
        cmocka_unit_test(test_nested_unset_is_null_and_empty_message),
        cmocka_unit_test(test_null_message_and_append),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_map_lookalike_stays_array),
        cmocka_unit_test(test_oneof_only_set_member),
        cmocka_unit_test(test_optional_unset_null_vs_set),
        cmocka_unit_test(test_presence_single_oneof),
        cmocka_unit_test(test_doubles_match_printf),
        cmocka_unit_test(test_enum_json_names),
        cmocka_unit_test(test_enum_name_value_roundtrip),
        cmocka_unit_test(test_big_random_message_is_valid_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* sfp_test_proto not linked: tests/CMakeLists.txt lacks add_subdirectory(proto) */

static void test_pbjson_needs_sfp_test_proto(void **state)
{
    (void)state;
    fail_msg("pbjson_test.pb-c.h not found: add `add_subdirectory(proto)` and link "
             "sfp_test_proto in tests/CMakeLists.txt (see tests/proto/CMakeLists.txt)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pbjson_needs_sfp_test_proto)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
