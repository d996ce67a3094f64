/* promcheck.c — strict checker of the Prometheus text exposition format 0.0.4 (see
 * promcheck.h). Written for tests: clarity over speed. */
#include "promcheck.h"
#include "testhttp.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 512
#define MAXS 8192

typedef struct family {
    char name[128];
    char type[16];
    bool has_help, has_type, has_samples, closed;
} family;

typedef struct sample {
    char name[128];
    char labels[512]; /* canonical: as written */
    char labels_wo_le[512];
    char le[32];
    double value;
} sample;

typedef struct state {
    family fam[MAXF];
    int nfam;
    sample *s;
    int ns;
    int current; /* family index whose samples are being read, -1 none */
    char *err;
    size_t errn;
    int line;
} state;

static int fail(state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(st->err, st->errn, "line %d: ", st->line);
    if (n >= 0 && (size_t)n < st->errn) vsnprintf(st->err + n, st->errn - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool name_ok(const char *s, size_t n, bool metric)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = isalpha((unsigned char)c) || c == '_' || (metric && c == ':') || (i && isdigit((unsigned char)c));
        if (!ok) return false;
    }
    return true;
}

static family *find_family(state *st, const char *name)
{
    for (int i = 0; i < st->nfam; i++)
        if (!strcmp(st->fam[i].name, name)) return &st->fam[i];
    return NULL;
}

static family *get_family(state *st, const char *name)
{
    family *f = find_family(st, name);
    if (f || st->nfam >= MAXF) return f;
    f = &st->fam[st->nfam++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

/* Family a sample name belongs to (histogram suffixes map to their base). */
static family *family_of(state *st, const char *name)
{
    family *f = find_family(st, name);
    if (f) return f;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (int i = 0; i < 3; i++) {
        size_t nl = strlen(name), sl = strlen(suffixes[i]);
        if (nl > sl && !strcmp(name + nl - sl, suffixes[i])) {
            char base[128];
            snprintf(base, sizeof base, "%.*s", (int)(nl - sl), name);
            f = find_family(st, base);
            if (f && (!strcmp(f->type, "histogram") || !strcmp(f->type, "summary"))) return f;
        }
    }
    return NULL;
}

static bool parse_value(const char *s, double *v)
{
    if (!strcmp(s, "NaN")) return *v = NAN, true;
    if (!strcmp(s, "+Inf")) return *v = INFINITY, true;
    if (!strcmp(s, "-Inf")) return *v = -INFINITY, true;
    char *end = NULL;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

static int parse_comment(state *st, const char *line)
{
    const char *p = line + 1;
    while (*p == ' ') p++;
    bool help = !strncmp(p, "HELP ", 5), type = !strncmp(p, "TYPE ", 5);
    if (!help && !type) return 0; /* free comment */
    p += 5;
    const char *ne = p;
    while (*ne && *ne != ' ') ne++;
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(ne - p), p);
    if (!name_ok(name, strlen(name), true)) return fail(st, "bad metric name in %s", help ? "HELP" : "TYPE");
    family *f = get_family(st, name);
    if (!f) return fail(st, "too many families");
    if (f->has_samples) return fail(st, "%s for %s after its samples", help ? "HELP" : "TYPE", name);
    if (help) {
        if (f->has_help) return fail(st, "second HELP for %s", name);
        f->has_help = true;
        for (const char *q = ne; *q; q++) {
            if (*q != '\\') continue;
            if (q[1] != '\\' && q[1] != 'n') return fail(st, "bad escape in HELP of %s", name);
            q++; /* skip the escaped character */
        }
    } else {
        if (f->has_type) return fail(st, "second TYPE for %s", name);
        if (*ne != ' ') return fail(st, "TYPE without a type");
        const char *t = ne + 1;
        if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") && strcmp(t, "summary") &&
            strcmp(t, "untyped"))
            return fail(st, "unknown type '%s'", t);
        f->has_type = true;
        snprintf(f->type, sizeof f->type, "%s", t);
    }
    return 0;
}

static int parse_labels(state *st, const char **pp, sample *smp)
{
    const char *p = *pp; /* after '{' */
    size_t ln = 0, lw = 0;
    char seen[32][64];
    int nseen = 0;
    while (*p != '}') {
        const char *ks = p;
        while (*p && *p != '=') p++;
        if (*p != '=' || !name_ok(ks, (size_t)(p - ks), false)) return fail(st, "bad label name");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(p - ks), ks);
        for (int i = 0; i < nseen; i++)
            if (!strcmp(seen[i], key)) return fail(st, "duplicate label %s", key);
        if (nseen < 32) snprintf(seen[nseen++], sizeof seen[0], "%s", key);
        p++;
        if (*p != '"') return fail(st, "label value not quoted");
        p++;
        char val[256];
        size_t vn = 0;
        while (*p && *p != '"') {
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') return fail(st, "bad escape in label value");
                p++;
            }
            if (vn < sizeof val - 1) val[vn++] = *p;
            p++;
        }
        val[vn] = '\0';
        if (*p != '"') return fail(st, "unterminated label value");
        p++;
        int w = snprintf(smp->labels + ln, sizeof smp->labels - ln, "%s%s=\"%s\"", ln ? "," : "", key, val);
        if (w > 0) ln += (size_t)w;
        if (!strcmp(key, "le")) {
            snprintf(smp->le, sizeof smp->le, "%.31s", val);
        } else {
            w = snprintf(smp->labels_wo_le + lw, sizeof smp->labels_wo_le - lw, "%s%s=\"%s\"", lw ? "," : "", key, val);
            if (w > 0) lw += (size_t)w;
        }
        if (*p == ',') p++;
        else if (*p != '}') return fail(st, "expected , or } in labels");
    }
    *pp = p + 1;
    return 0;
}

static int parse_sample(state *st, const char *line)
{
    if (st->ns >= MAXS) return fail(st, "too many samples");
    sample *smp = &st->s[st->ns];
    memset(smp, 0, sizeof *smp);
    const char *p = line;
    while (*p && *p != '{' && *p != ' ') p++;
    if (!name_ok(line, (size_t)(p - line), true)) return fail(st, "bad metric name");
    snprintf(smp->name, sizeof smp->name, "%.*s", (int)(p - line), line);
    if (*p == '{') {
        p++;
        if (parse_labels(st, &p, smp)) return -1;
    }
    if (*p != ' ') return fail(st, "expected a space before the value");
    p++;
    char val[64];
    const char *ve = strchr(p, ' ');
    snprintf(val, sizeof val, "%.*s", (int)(ve ? ve - p : (long)strlen(p)), p);
    if (!parse_value(val, &smp->value)) return fail(st, "bad value '%s'", val);
    if (ve) {
        char *end = NULL;
        strtoll(ve + 1, &end, 10);
        if (!end || *end) return fail(st, "bad timestamp");
    }
    family *f = family_of(st, smp->name);
    if (!f) {
        f = get_family(st, smp->name); /* untyped, no metadata */
        if (!f) return fail(st, "too many families");
        snprintf(f->type, sizeof f->type, "untyped");
    }
    int idx = (int)(f - st->fam);
    if (f->closed) return fail(st, "samples of %s are not contiguous", f->name);
    if (st->current >= 0 && st->current != idx) st->fam[st->current].closed = true;
    st->current = idx;
    f->has_samples = true;
    if (!strcmp(f->type, "counter") && !(smp->value >= 0)) return fail(st, "counter %s is negative or NaN", smp->name);
    if (!strcmp(f->type, "histogram")) {
        size_t bl = strlen(f->name);
        const char *suf = smp->name + bl;
        if (strcmp(suf, "_bucket") && strcmp(suf, "_sum") && strcmp(suf, "_count"))
            return fail(st, "histogram %s has a sample %s", f->name, smp->name);
        if (!strcmp(suf, "_bucket") && !smp->le[0]) return fail(st, "bucket without le");
        if (strcmp(suf, "_bucket") && smp->le[0]) return fail(st, "le on %s", smp->name);
    }
    for (int i = 0; i < st->ns; i++)
        if (!strcmp(st->s[i].name, smp->name) && !strcmp(st->s[i].labels, smp->labels))
            return fail(st, "duplicate series %s{%s}", smp->name, smp->labels);
    st->ns++;
    return 0;
}

static double le_value(const char *le)
{
    double v;
    return parse_value(le, &v) ? v : NAN;
}

static int check_histograms(state *st)
{
    st->line = 0;
    for (int f = 0; f < st->nfam; f++) {
        family *fam = &st->fam[f];
        if (strcmp(fam->type, "histogram") || !fam->has_samples) continue;
        char bucket[160], sum[160], count[160];
        snprintf(bucket, sizeof bucket, "%s_bucket", fam->name);
        snprintf(sum, sizeof sum, "%s_sum", fam->name);
        snprintf(count, sizeof count, "%s_count", fam->name);
        for (int i = 0; i < st->ns; i++) {
            if (strcmp(st->s[i].name, count)) continue;
            const char *ls = st->s[i].labels_wo_le;
            double prev_le = -INFINITY, prev = 0, inf = NAN;
            bool has_sum = false;
            for (int j = 0; j < st->ns; j++) {
                if (strcmp(st->s[j].labels_wo_le, ls)) continue;
                if (!strcmp(st->s[j].name, sum)) has_sum = true;
                if (strcmp(st->s[j].name, bucket)) continue;
                double le = le_value(st->s[j].le);
                if (isnan(le) || le <= prev_le) return fail(st, "%s{%s}: le not increasing", bucket, ls);
                if (st->s[j].value < prev) return fail(st, "%s{%s}: buckets not cumulative", bucket, ls);
                prev_le = le, prev = st->s[j].value;
                if (isinf(le)) inf = st->s[j].value;
            }
            if (isnan(inf)) return fail(st, "%s{%s}: no le=\"+Inf\" bucket", bucket, ls);
            if (inf != st->s[i].value)
                return fail(st, "%s{%s}: +Inf (%g) != _count (%g)", fam->name, ls, inf, st->s[i].value);
            if (!has_sum) return fail(st, "%s{%s}: no _sum", fam->name, ls);
        }
        for (int j = 0; j < st->ns; j++) { /* every bucket set has a _count */
            if (strcmp(st->s[j].name, bucket)) continue;
            bool found = false;
            for (int i = 0; i < st->ns && !found; i++)
                found = !strcmp(st->s[i].name, count) && !strcmp(st->s[i].labels_wo_le, st->s[j].labels_wo_le);
            if (!found) return fail(st, "%s{%s}: buckets without _count", fam->name, st->s[j].labels_wo_le);
        }
    }
    return 0;
}

int sfp_prom_check(const char *text, char *err, size_t errn)
{
    state *st = calloc(1, sizeof *st);
    st->s = calloc(MAXS, sizeof *st->s);
    st->err = err;
    st->errn = errn;
    st->current = -1;
    int rc = 0;
    size_t len = strlen(text);
    if (!len || text[len - 1] != '\n') {
        rc = fail(st, "body does not end with a newline");
        goto out;
    }
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        char buf[2048];
        size_t n = (size_t)(eol - line);
        if (n >= sizeof buf) {
            rc = fail(st, "line too long");
            goto out;
        }
        memcpy(buf, line, n);
        buf[n] = '\0';
        st->line++;
        if (n == 0) {
            /* blank lines are allowed */
        } else if (buf[0] == '#') {
            if ((rc = parse_comment(st, buf))) goto out;
        } else if ((rc = parse_sample(st, buf))) {
            goto out;
        }
        line = eol + 1;
    }
    rc = check_histograms(st);
out:
    free(st->s);
    free(st);
    return rc;
}

double sfp_prom_value(const char *text, const char *name, const char *label_substr)
{
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol) break;
        if (line[0] != '#' && !strncmp(line, name, nl) && (line[nl] == ' ' || line[nl] == '{')) {
            const char *sp = memchr(line, ' ', (size_t)(eol - line));
            const char *lb = line + nl;
            bool match = !label_substr;
            if (label_substr && *lb == '{') {
                const char *close = NULL; /* the '}' outside quoted label values */
                bool quoted = false;
                for (const char *q = lb; q < eol && !close; q++) {
                    if (quoted && *q == '\\') q++;
                    else if (*q == '"') quoted = !quoted;
                    else if (!quoted && *q == '}') close = q;
                }
                if (close) {
                    char labels[1024];
                    snprintf(labels, sizeof labels, "%.*s", (int)(close - lb), lb);
                    match = strstr(labels, label_substr) != NULL;
                }
                sp = close ? close + 1 : sp;
            }
            if (match && sp) return strtod(sp + 1, NULL);
        }
        line = eol + 1;
    }
    return NAN;
}

char *sfp_prom_scrape(int port, char *err, size_t errn)
{
    sfp_http_resp r;
    if (port <= 0 || sfp_http(NULL, port, "GET", "/metrics", NULL, NULL, 0, &r)) {
        snprintf(err, errn, "no metrics listener (port %d)", port);
        return NULL;
    }
    char ct[128];
    char *body = NULL;
    if (r.status != 200) snprintf(err, errn, "GET /metrics: HTTP %ld", r.status);
    else if (!sfp_http_header(&r, "Content-Type", ct, sizeof ct) || !strstr(ct, "text/plain; version=0.0.4"))
        snprintf(err, errn, "GET /metrics: wrong Content-Type");
    else if (!sfp_prom_check(r.body, err, errn)) {
        body = r.body;
        r.body = NULL;
    }
    sfp_http_resp_free(&r);
    return body;
}
