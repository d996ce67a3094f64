/* route_match.c — see route_match.h for the grammar and the matching rules. */
#include "route_match.h"

#include <stdlib.h>
#include <string.h>

typedef struct seg {
    bool capture;
    char *text; /* literal text or capture name (owned) */
} seg;

typedef struct compiled {
    const gw_route *route;
    int nseg;
    int nlit; /* literal segments: specificity */
    seg segs[GW_MAX_SEGMENTS];
} compiled;

struct gw_router {
    size_t n;
    compiled *c;
};

unsigned gw_visible_classes(bool cron_worker)
{
    if (cron_worker)
        return GW_CLASS_BIT(GW_CLASS_HEALTH) | GW_CLASS_BIT(GW_CLASS_CRON_TRIGGER) | GW_CLASS_BIT(GW_CLASS_CRON_READ);
    return GW_CLASS_BIT(GW_CLASS_PUBLIC) | GW_CLASS_BIT(GW_CLASS_HEALTH) | GW_CLASS_BIT(GW_CLASS_CRON_READ);
}

static bool lit_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 32) return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
    return true;
}

static void compiled_free(compiled *c)
{
    for (int i = 0; i < c->nseg; i++) free(c->segs[i].text);
    c->nseg = 0;
}

static int compile(const gw_route *rt, compiled *c, sfp_err *err)
{
    memset(c, 0, sizeof *c);
    c->route = rt;
    const char *p = rt->pattern;
    if (!p || p[0] != '/')
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': pattern must start with '/'", p ? p : "(null)");
    if (!rt->handler) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': no handler", p);
    if (!(rt->methods & ~(unsigned)GW_M_OTHER) || (rt->methods & GW_M_OTHER))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': bad method set", p);
    if (!strcmp(p, "/")) return 0; /* root: zero segments */
    p++;
    int ncap = 0;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) {
            compiled_free(c);
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': empty segment", rt->pattern);
        }
        if (c->nseg == GW_MAX_SEGMENTS) {
            compiled_free(c);
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': too many segments", rt->pattern);
        }
        seg *s = &c->segs[c->nseg];
        if (p[0] == '{') {
            if (n < 3 || p[n - 1] != '}' || !name_ok(p + 1, n - 2)) {
                compiled_free(c);
                return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': bad capture segment", rt->pattern);
            }
            s->capture = true;
            s->text = strndup(p + 1, n - 2);
            if (!s->text) abort();
            for (int i = 0; i < c->nseg; i++)
                if (c->segs[i].capture && !strcmp(c->segs[i].text, s->text)) {
                    c->nseg++;
                    compiled_free(c);
                    return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': duplicate capture name", rt->pattern);
                }
            if (++ncap > GW_MAX_CAPTURES) {
                c->nseg++;
                compiled_free(c);
                return sfp_err_set(err, SFP_INVALID_ARGUMENT, "route '%s': too many captures", rt->pattern);
            }
        } else {
            for (size_t i = 0; i < n; i++)
                if (!lit_char(p[i])) {
                    compiled_free(c);
                    return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                                       "route '%s': literal segments use [A-Za-z0-9._~-] only", rt->pattern);
                }
            s->capture = false;
            s->text = strndup(p, n);
            if (!s->text) abort();
            c->nlit++;
        }
        c->nseg++;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static unsigned effective_methods(unsigned m)
{
    return (m & GW_M_GET) ? (m | GW_M_HEAD) : m;
}

/* Two routes are ambiguous when some path matches both with a common method and neither is
 * more specific: same number of segments, literal/capture at the same positions, equal
 * literals. (Literal-vs-capture at one position is fine: the literal wins.) */
static bool ambiguous(const compiled *a, const compiled *b)
{
    if (!(effective_methods(a->route->methods) & effective_methods(b->route->methods))) return false;
    if (a->nseg != b->nseg) return false;
    for (int i = 0; i < a->nseg; i++) {
        if (a->segs[i].capture != b->segs[i].capture) return false;
        if (!a->segs[i].capture && strcmp(a->segs[i].text, b->segs[i].text)) return false;
    }
    return true;
}

gw_router *gw_router_create(const gw_route *routes, size_t n, sfp_err *err)
{
    gw_router *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->c = calloc(n ? n : 1, sizeof *r->c);
    if (!r->c) abort();
    for (size_t i = 0; i < n; i++) {
        if (compile(&routes[i], &r->c[i], err)) {
            gw_router_destroy(r);
            return NULL;
        }
        r->n = i + 1;
        for (size_t j = 0; j < i; j++)
            if (ambiguous(&r->c[i], &r->c[j])) {
                sfp_err_set(err, SFP_INVALID_ARGUMENT, "routes '%s' and '%s' are ambiguous", routes[j].pattern,
                            routes[i].pattern);
                gw_router_destroy(r);
                return NULL;
            }
    }
    return r;
}

void gw_router_destroy(gw_router *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) compiled_free(&r->c[i]);
    free(r->c);
    free(r);
}

unsigned gw_method_bit(const char *m)
{
    if (!m) return GW_M_OTHER;
    if (!strcmp(m, "GET")) return GW_M_GET;
    if (!strcmp(m, "HEAD")) return GW_M_HEAD;
    if (!strcmp(m, "POST")) return GW_M_POST;
    if (!strcmp(m, "PUT")) return GW_M_PUT;
    if (!strcmp(m, "DELETE")) return GW_M_DELETE;
    if (!strcmp(m, "PATCH")) return GW_M_PATCH;
    if (!strcmp(m, "OPTIONS")) return GW_M_OPTIONS;
    return GW_M_OTHER;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long gw_percent_decode(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (n - i < 3) return -1; /* fewer than two hex digits follow */
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0') return -1;
            i += 2;
        } else if (c == '\0') {
            return -1;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

void gw_match_clear(gw_match *m)
{
    if (!m) return;
    free(m->storage);
    memset(m, 0, sizeof *m);
}

const char *gw_match_capture(const gw_match *m, const char *name)
{
    for (int i = 0; i < m->ncaptures; i++)
        if (!strcmp(m->captures[i].name, name)) return m->captures[i].value;
    return NULL;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

gw_match_result gw_router_match(const gw_router *r, const char *method, const char *raw_path, unsigned visible,
                                gw_match *m)
{
    memset(m, 0, sizeof *m);
    if (!raw_path || raw_path[0] != '/') {
        m->error = "request target must be an absolute path";
        return m->result = GW_MATCH_BAD_PATH;
    }
    size_t len = strlen(raw_path);
    /* Decoded segments, each NUL-terminated, packed into one allocation. */
    m->storage = malloc(len + 1);
    if (!m->storage) abort();
    const char *segv[GW_MAX_SEGMENTS];
    int nseg = 0;
    bool too_many = false;
    if (len > 1) {
        const char *p = raw_path + 1;
        char *o = m->storage;
        for (;;) {
            const char *e = strchr(p, '/');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            long d = gw_percent_decode(p, n, o);
            if (d < 0) {
                m->error = "malformed percent-encoding in path";
                return m->result = GW_MATCH_BAD_PATH;
            }
            if (nseg < GW_MAX_SEGMENTS) segv[nseg++] = o;
            else too_many = true;
            o += d + 1;
            if (!e) break;
            p = e + 1;
        }
    }
    unsigned mbit = gw_method_bit(method);
    const compiled *best = NULL;
    unsigned allow = 0;
    const char *bad_param = NULL, *bad_reason = NULL;
    for (size_t i = 0; i < r->n && !too_many; i++) {
        const compiled *c = &r->c[i];
        if (!(visible & GW_CLASS_BIT(c->route->klass))) continue;
        if (c->nseg != nseg) continue;
        bool shape = true;
        const char *cap_bad = NULL, *cap_reason = NULL;
        for (int s = 0; s < nseg && shape; s++) {
            const char *v = segv[s];
            if (c->segs[s].capture) {
                if (!cap_bad) {
                    if (!*v) cap_bad = c->segs[s].text, cap_reason = "must not be empty";
                    else if (strchr(v, '/')) cap_bad = c->segs[s].text, cap_reason = "must not contain '/'";
                    else if (has_ctl(v)) cap_bad = c->segs[s].text, cap_reason = "must not contain control characters";
                }
            } else if (!*v || strcmp(v, c->segs[s].text)) {
                shape = false;
            }
        }
        if (!shape) continue;
        if (cap_bad) {
            if (!bad_param) bad_param = cap_bad, bad_reason = cap_reason;
            continue;
        }
        unsigned em = effective_methods(c->route->methods);
        if (em & mbit) {
            if (!best || c->nlit > best->nlit) best = c;
        } else {
            allow |= em;
        }
    }
    if (best) {
        m->route = best->route;
        for (int s = 0; s < nseg; s++)
            if (best->segs[s].capture && m->ncaptures < GW_MAX_CAPTURES) {
                m->captures[m->ncaptures].name = best->segs[s].text;
                m->captures[m->ncaptures].value = segv[s];
                m->ncaptures++;
            }
        return m->result = GW_MATCH_OK;
    }
    if (allow) {
        m->allow = allow;
        return m->result = GW_MATCH_METHOD_NOT_ALLOWED;
    }
    if (bad_param) {
        m->bad_param = bad_param;
        m->error = bad_reason;
        return m->result = GW_MATCH_BAD_PATH;
    }
    return m->result = GW_MATCH_NOT_FOUND;
}

size_t gw_allow_header(unsigned methods, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {{GW_M_GET, "GET"},     {GW_M_HEAD, "HEAD"},     {GW_M_POST, "POST"},      {GW_M_PUT, "PUT"},
                 {GW_M_PATCH, "PATCH"}, {GW_M_DELETE, "DELETE"}, {GW_M_OPTIONS, "OPTIONS"}};
    methods = effective_methods(methods);
    size_t o = 0;
    if (cap == 0) return 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & order[i].bit)) continue;
        size_t need = strlen(order[i].name) + (o ? 2 : 0);
        if (o + need + 1 > cap) break;
        if (o) {
            buf[o++] = ',';
            buf[o++] = ' ';
        }
        memcpy(buf + o, order[i].name, strlen(order[i].name));
        o += strlen(order[i].name);
        buf[o] = '\0';
    }
    return o;
}
