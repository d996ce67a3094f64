/* cron_ingest.c — the generic nightly ingest engine (see cron_ingest.h): SODA pages into a
 * staging table, then one merge per dataset inside the caller's transaction. All SQL is built
 * from the static descriptors (identifiers only); values always travel as parameters. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cron_ingest.h"
#include "log.h"
#include "soda_client.h"

/* ---------------- SQL builders ---------------- */

static void stage_name(const sfp_ingest_dataset *ds, char *out, size_t n)
{
    snprintf(out, n, "nightly_stage_%s", ds->name);
}

static void put_cols(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    for (size_t i = 0; i < ds->n_cols; i++)
        sfp_buf_printf(b, "%s%s%s%s", i ? ", " : "", alias ? alias : "", alias ? "." : "", ds->cols[i].name);
}

/* md5 of the row's columns (NULL-safe, type-exact since staging has the target's types). */
static void put_hash(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    sfp_buf_puts(b, "md5(ROW(");
    put_cols(b, ds, alias);
    sfp_buf_puts(b, ")::text)");
}

/* a.k0 = b.k0 AND a.k1 IS NOT DISTINCT FROM b.k1 ... */
static void put_keymatch(sfp_buf *b, const sfp_ingest_dataset *ds, const char *a, const char *bb)
{
    for (int i = 0; ds->key[i]; i++)
        sfp_buf_printf(b, "%s%s.%s %s %s.%s", i ? " AND " : "", a, ds->key[i], i ? "IS NOT DISTINCT FROM" : "=", bb,
                       ds->key[i]);
}

static void put_keys(sfp_buf *b, const sfp_ingest_dataset *ds, const char *alias)
{
    for (int i = 0; ds->key[i]; i++) sfp_buf_printf(b, "%s%s.%s", i ? ", " : "", alias, ds->key[i]);
}

/* ---------------- SODA page → COPY text ----------------
 *
 * A page body is converted straight into COPY text while it is parsed, in the thread that
 * received it (sfp_soda_query.parse): no JSON tree, no allocation per value. It accepts exactly
 * the bodies the client's own parser (sfp_soda_rows_parse, cJSON) accepts — one JSON array of
 * objects with nothing but whitespace after it; strings with valid escapes, \u surrogate pairs
 * matched — and refuses the rest (NULL: the client reports a malformed page, which is retried
 * and then fails the run like any other). Per object, the values of the fields the descriptor
 * reads are kept, as the tree would give them: the first occurrence of a key wins; a string is
 * cut at an escaped NUL; an empty string, null, an object or an array is no value; a number is
 * written with %.17g; true / false as those words. */

#define MAX_FIELDS (2 * SFP_INGEST_MAX_COLS + 2)
#define MAX_DEPTH 1000 /* cJSON's nesting limit */

/* Growable output; owned by whoever holds it (a page's COPY text: the page value). */
typedef struct out_buf {
    char *p;
    size_t len, cap;
} out_buf;

static void ob_room(out_buf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    size_t c = b->cap ? b->cap : 1 << 16;
    while (c < b->len + n) c *= 2;
    char *p = realloc(b->p, c);
    if (!p) abort(); /* out of memory is not recoverable here */
    b->p = p;
    b->cap = c;
}

static inline void ob_putc(out_buf *b, char c)
{
    ob_room(b, 1);
    b->p[b->len++] = c;
}

/* The SODA fields a dataset reads, each with a slot; built once per fetch, then read-only
 * (shared by the page threads). */
typedef struct field_map {
    const sfp_ingest_dataset *ds;
    int n;
    const char *name[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    int field[SFP_INGEST_MAX_COLS], alt[SFP_INGEST_MAX_COLS]; /* slots, -1 = none */
    int first_name, last_name;
    unsigned char bucket[256]; /* hash of a name → its slot + 1, open addressing */
} field_map;

static unsigned name_hash(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int map_find(const field_map *m, const char *s, size_t n)
{
    for (unsigned i = name_hash(s, n) & 255;; i = (i + 1) & 255) {
        int k = m->bucket[i];
        if (!k) return -1;
        if (m->len[k - 1] == n && !memcmp(m->name[k - 1], s, n)) return k - 1;
    }
}

static int map_add(field_map *m, const char *s)
{
    if (!s) return -1;
    size_t n = strlen(s);
    int k = map_find(m, s, n);
    if (k >= 0 || m->n >= MAX_FIELDS) return k;
    k = m->n++;
    m->name[k] = s;
    m->len[k] = n;
    unsigned i = name_hash(s, n) & 255;
    while (m->bucket[i]) i = (i + 1) & 255;
    m->bucket[i] = (unsigned char)(k + 1);
    return k;
}

static void field_map_init(field_map *m, const sfp_ingest_dataset *ds)
{
    memset(m, 0, sizeof *m);
    m->ds = ds;
    for (size_t i = 0; i < ds->n_cols && i < SFP_INGEST_MAX_COLS; i++) {
        const sfp_ingest_column *c = &ds->cols[i];
        m->field[i] = c->type == 'c' ? -1 : map_add(m, c->field ? c->field : c->name);
        m->alt[i] = c->type == 'c' || c->type == 'd' || c->type == 'r' || c->type == 'n' ? -1 : map_add(m, c->alt);
    }
    m->first_name = map_add(m, "first_name");
    m->last_name = map_add(m, "last_name");
}

static void copy_text(out_buf *b, const char *v)
{
    if (!v) {
        ob_room(b, 2);
        b->p[b->len++] = '\\';
        b->p[b->len++] = 'N';
        return;
    }
    for (const char *p = v; *p; p++) {
        ob_room(b, 2);
        switch (*p) {
        case '\\': b->p[b->len++] = '\\', b->p[b->len++] = '\\'; break;
        case '\n': b->p[b->len++] = '\\', b->p[b->len++] = 'n'; break;
        case '\r': b->p[b->len++] = '\\', b->p[b->len++] = 'r'; break;
        case '\t': b->p[b->len++] = '\\', b->p[b->len++] = 't'; break;
        default: b->p[b->len++] = *p;
        }
    }
}

/* ^ *-?[0-9]+(\.[0-9]*)? *$ (float) or ^ *-?[0-9]{1,9}(\.0*)? *$ (integer) → the trimmed number
 * (an integer without its zero fraction) in out; false for anything else. */
static bool number_of(const char *v, bool integer, char *out, size_t n)
{
    if (!v) return false;
    while (*v == ' ') v++;
    size_t o = 0, digits = 0;
    if (*v == '-') out[o++] = *v++;
    while (*v >= '0' && *v <= '9' && o + 1 < n) out[o++] = *v++, digits++;
    if (!digits || (integer && digits > 9)) return false;
    if (*v == '.') {
        if (!integer && o + 1 < n) out[o++] = '.';
        for (v++; *v >= '0' && *v <= '9'; v++) {
            if (integer && *v != '0') return false;
            if (!integer && o + 1 < n) out[o++] = *v;
        }
    }
    while (*v == ' ') v++;
    out[o] = '\0';
    return *v == '\0';
}

static const char *role_of(const char *v)
{
    if (!v) return NULL;
    char r[64];
    size_t o = 0;
    while (*v == ' ') v++;
    for (; *v && o + 1 < sizeof r; v++) r[o++] = (char)(*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
    while (o && r[o - 1] == ' ') o--;
    r[o] = '\0';
    if (!o) return NULL;
    if (strstr(r, "contractor")) return "contractor";
    if (strstr(r, "consultant") || strstr(r, "expediter")) return "consultant";
    if (strstr(r, "agent")) return "agent";
    if (strstr(r, "architect")) return "architect";
    if (strstr(r, "engineer")) return "engineer";
    if (strstr(r, "designer")) return "designer";
    if (!strcmp(r, "owner") || !strcmp(r, "lessee")) return "owner";
    return "other";
}

/* One row as a COPY text line; v[slot] is the field's value or NULL. */
static void copy_row(out_buf *b, const field_map *m, const char *const *v)
{
    const sfp_ingest_dataset *ds = m->ds;
#define VAL(slot) ((slot) >= 0 ? v[(slot)] : NULL)
    for (size_t i = 0; i < ds->n_cols; i++) {
        const sfp_ingest_column *c = &ds->cols[i];
        char tmp[320];
        const char *x = NULL;
        if (i) ob_putc(b, '\t');
        switch (c->type) {
        case 'c': x = c->field ? c->field : c->name; break;
        case 'd':
            x = VAL(m->field[i]);
            if (!x) x = c->alt;
            break;
        case 'r': x = role_of(VAL(m->field[i])); break;
        case 'n':
            x = VAL(m->field[i]);
            if (!x) {
                const char *first = VAL(m->first_name), *last = VAL(m->last_name);
                if (first || last) {
                    snprintf(tmp, sizeof tmp, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
                    x = tmp;
                }
            }
            break;
        case 'f':
        case 'i': {
            const char *raw = VAL(m->field[i]);
            if (!raw) raw = VAL(m->alt[i]);
            x = number_of(raw, c->type == 'i', tmp, sizeof tmp) ? tmp : NULL;
            break;
        }
        default:
            x = VAL(m->field[i]);
            if (!x) x = VAL(m->alt[i]);
        }
        copy_text(b, x);
    }
#undef VAL
    ob_putc(b, '\n');
}

/* ---- the JSON reader (cJSON's grammar: whitespace is any byte <= 32 between tokens) ---- */
typedef struct jreader {
    const char *s, *end;
    out_buf *scratch; /* decoded strings of the current row, NUL-terminated */
} jreader;

static inline void skip_ws(jreader *j)
{
    while (j->s < j->end && (unsigned char)*j->s <= 32) j->s++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return 0; /* as cJSON: a sequence that is not hex reads as U+0000 */
    }
    return v;
}

/* A string at j->s (the opening quote) decoded into scratch + NUL (keep = false: validated
 * only, scratch unchanged). *len = its length up to the first NUL. false when malformed. */
static bool read_string(jreader *j, bool keep, size_t *len)
{
    if (j->s >= j->end || *j->s != '"') return false;
    const char *p = j->s + 1, *e = p;
    while (e < j->end && *e != '"') {
        if (*e == '\\') {
            if (e + 1 >= j->end) return false;
            e++;
        }
        e++;
    }
    if (e >= j->end) return false;
    out_buf *o = j->scratch;
    size_t start = o->len;
    if (keep) ob_room(o, (size_t)(e - p) + 1);
    size_t cut = SIZE_MAX;
    while (p < e) {
        if (*p != '\\') {
            const char *q = p;
            while (q < e && *q != '\\') q++;
            if (keep) memcpy(o->p + o->len, p, (size_t)(q - p)), o->len += (size_t)(q - p);
            p = q;
            continue;
        }
        if (p + 1 >= e) return false;
        char c = p[1], d;
        switch (c) {
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case '"':
        case '\\':
        case '/': d = c; break;
        case 'u': {
            if (e - p < 6) return false;
            int u = hex4(p + 2);
            if (u >= 0xDC00 && u <= 0xDFFF) return false;
            unsigned long cp = (unsigned long)u;
            int used = 6;
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (e - p < 12 || p[6] != '\\' || p[7] != 'u') return false;
                int lo = hex4(p + 8);
                if (lo < 0xDC00 || lo > 0xDFFF) return false;
                cp = 0x10000 + (((unsigned long)u & 0x3FF) << 10) + ((unsigned long)lo & 0x3FF);
                used = 12;
            }
            if (keep) {
                if (cp == 0 && cut == SIZE_MAX) cut = o->len - start;
                char *w = o->p + o->len;
                if (cp < 0x80) *w++ = (char)cp;
                else if (cp < 0x800) *w++ = (char)(0xC0 | (cp >> 6)), *w++ = (char)(0x80 | (cp & 0x3F));
                else if (cp < 0x10000)
                    *w++ = (char)(0xE0 | (cp >> 12)), *w++ = (char)(0x80 | ((cp >> 6) & 0x3F)),
                    *w++ = (char)(0x80 | (cp & 0x3F));
                else
                    *w++ = (char)(0xF0 | (cp >> 18)), *w++ = (char)(0x80 | ((cp >> 12) & 0x3F)),
                    *w++ = (char)(0x80 | ((cp >> 6) & 0x3F)), *w++ = (char)(0x80 | (cp & 0x3F));
                o->len = (size_t)(w - o->p);
            }
            p += used;
            continue;
        }
        default: return false;
        }
        if (keep) o->p[o->len++] = d;
        p += 2;
    }
    if (keep) {
        o->p[o->len] = '\0';
        *len = cut != SIZE_MAX ? cut : o->len - start;
        o->len++;
    }
    j->s = e + 1;
    return true;
}

static bool skip_value(jreader *j, int depth);

/* An array or object at j->s (after depth checks). */
static bool skip_container(jreader *j, int depth)
{
    if (depth > MAX_DEPTH) return false;
    char close = *j->s == '[' ? ']' : '}';
    bool object = close == '}';
    j->s++;
    skip_ws(j);
    if (j->s < j->end && *j->s == close) {
        j->s++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (object) {
            size_t n;
            if (!read_string(j, false, &n)) return false;
            skip_ws(j);
            if (j->s >= j->end || *j->s != ':') return false;
            j->s++;
            skip_ws(j);
        }
        if (!skip_value(j, depth)) return false;
        skip_ws(j);
        if (j->s >= j->end) return false;
        if (*j->s == close) {
            j->s++;
            return true;
        }
        if (*j->s != ',') return false;
        j->s++;
    }
}

static bool lit(jreader *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n)) return false;
    j->s += n;
    return true;
}

/* A number at j->s, as cJSON reads it: up to 63 characters of [0-9+-.eE], the longest prefix
 * strtod takes. */
static bool read_number(jreader *j, double *out)
{
    char num[64];
    size_t n = 0;
    while (n + 1 < sizeof num && j->s + n < j->end && strchr("0123456789+-.eE", j->s[n]) && j->s[n]) {
        num[n] = j->s[n];
        n++;
    }
    num[n] = '\0';
    char *after = NULL;
    *out = strtod(num, &after);
    if (after == num) return false;
    j->s += after - num;
    return true;
}

static bool skip_value(jreader *j, int depth)
{
    if (j->s >= j->end) return false;
    switch (*j->s) {
    case '"': {
        size_t n;
        return read_string(j, false, &n);
    }
    case '[':
    case '{': return skip_container(j, depth + 1);
    case 'n': return lit(j, "null", 4);
    case 't': return lit(j, "true", 4);
    case 'f': return lit(j, "false", 5);
    default: {
        if (*j->s != '-' && (*j->s < '0' || *j->s > '9')) return false;
        double d;
        return read_number(j, &d);
    }
    }
}

/* One object (a row) at j->s → one COPY line in out. */
static bool read_row(jreader *j, const field_map *m, out_buf *out)
{
    long off[MAX_FIELDS]; /* -1 unset, -2 no value, else the value's offset in scratch */
    for (int i = 0; i < m->n; i++) off[i] = -1;
    j->scratch->len = 0;
    j->s++; /* '{' */
    skip_ws(j);
    if (j->s < j->end && *j->s == '}') j->s++;
    else {
        for (;;) {
            skip_ws(j);
            size_t klen, kstart = j->scratch->len;
            if (!read_string(j, true, &klen)) return false;
            int slot = map_find(m, j->scratch->p + kstart, klen);
            j->scratch->len = kstart;
            if (slot >= 0 && off[slot] != -1) slot = -1; /* the first occurrence wins */
            skip_ws(j);
            if (j->s >= j->end || *j->s != ':') return false;
            j->s++;
            skip_ws(j);
            if (j->s >= j->end) return false;
            if (slot < 0) {
                if (!skip_value(j, 2)) return false;
            } else if (*j->s == '"') {
                size_t vlen, vstart = j->scratch->len;
                if (!read_string(j, true, &vlen)) return false;
                off[slot] = vlen ? (long)vstart : -2;
            } else if (*j->s == 't' || *j->s == 'f') {
                const char *w = *j->s == 't' ? "true" : "false";
                if (!lit(j, w, strlen(w))) return false;
                off[slot] = (long)j->scratch->len;
                ob_room(j->scratch, 6);
                memcpy(j->scratch->p + j->scratch->len, w, strlen(w) + 1);
                j->scratch->len += strlen(w) + 1;
            } else if (*j->s == '-' || (*j->s >= '0' && *j->s <= '9')) {
                double d;
                if (!read_number(j, &d)) return false;
                char nb[64];
                int n = snprintf(nb, sizeof nb, "%.17g", d);
                off[slot] = (long)j->scratch->len;
                ob_room(j->scratch, (size_t)n + 1);
                memcpy(j->scratch->p + j->scratch->len, nb, (size_t)n + 1);
                j->scratch->len += (size_t)n + 1;
            } else {
                if (!skip_value(j, 2)) return false;
                off[slot] = -2;
            }
            skip_ws(j);
            if (j->s >= j->end) return false;
            if (*j->s == '}') {
                j->s++;
                break;
            }
            if (*j->s != ',') return false;
            j->s++;
        }
    }
    const char *v[MAX_FIELDS];
    for (int i = 0; i < m->n; i++) v[i] = off[i] >= 0 ? j->scratch->p + off[i] : NULL;
    copy_row(out, m, v);
    return true;
}

static void page_free(void *p)
{
    out_buf *b = p;
    free(b->p);
    free(b);
}

/* sfp_soda_query.parse: a page body → its rows as COPY text (the value's data: an out_buf
 * owned by the value, freed with it), or NULL for a malformed body. */
static sfp_soda_rows *parse_page(const char *body, size_t len, void *ctx)
{
    const field_map *m = ctx;
    if (!body || !len) return NULL;
    out_buf scratch = {0};
    out_buf *out = calloc(1, sizeof *out);
    if (!out) abort();
    jreader j = {.s = body, .end = body + len, .scratch = &scratch};
    if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3)) j.s += 3; /* a UTF-8 byte order mark */
    long rows = 0;
    bool ok = false;
    skip_ws(&j);
    if (j.s < j.end && *j.s == '[') {
        j.s++;
        skip_ws(&j);
        if (j.s < j.end && *j.s == ']') {
            j.s++;
            ok = true;
        }
        while (!ok) {
            skip_ws(&j);
            if (j.s >= j.end || *j.s != '{' || !read_row(&j, m, out)) break;
            rows++;
            skip_ws(&j);
            if (j.s >= j.end) break;
            if (*j.s == ']') {
                j.s++;
                ok = true;
            } else if (*j.s != ',') {
                break;
            } else {
                j.s++;
            }
        }
    }
    /* only whitespace may follow the array */
    while (ok && j.s < j.end && (*j.s == ' ' || *j.s == '\t' || *j.s == '\n' || *j.s == '\r')) j.s++;
    ok = ok && j.s == j.end;
    free(scratch.p);
    if (!ok) {
        page_free(out);
        return NULL;
    }
    return sfp_cache_val_new(out, out->len, rows, page_free);
}

char *sfp_ingest_page_copy(const sfp_ingest_dataset *ds, const char *body, size_t len, long *rows)
{
    field_map m;
    field_map_init(&m, ds);
    sfp_soda_rows *v = parse_page(body, len, &m);
    if (!v) return NULL;
    out_buf *b = sfp_cache_val_data(v);
    char *s = malloc(b->len + 1);
    if (!s) abort();
    if (b->len) memcpy(s, b->p, b->len);
    s[b->len] = '\0';
    *rows = sfp_soda_rows_count(v);
    sfp_soda_rows_unref(v);
    return s;
}

/* Merge, statement 1: the target rows of the dataset that no staged row reproduces exactly —
 * in a full run every such row of the scope, otherwise only those sharing a key with a staged
 * row — are deleted; their keys go to nightly_del_<name>. Returns nothing. (Two statements, not
 * two CTEs of one: a row re-inserted with the key of a row deleted by the same statement would
 * collide with it in a unique index.) */
static char *delete_sql(const sfp_ingest_dataset *ds, const char *target, bool full)
{
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    const char *scope = ds->scope ? ds->scope : "true";
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "WITH s AS MATERIALIZED (SELECT DISTINCT ");
    put_hash(&b, ds, "st");
    sfp_buf_printf(&b, " AS h FROM %s st), ", stage);
    if (full) {
        sfp_buf_printf(&b, "d AS (DELETE FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM s WHERE s.h = ", target,
                       scope);
        put_hash(&b, ds, "t");
        sfp_buf_puts(&b, ") RETURNING ");
    } else {
        sfp_buf_puts(&b, "sk AS MATERIALIZED (SELECT DISTINCT ");
        put_keys(&b, ds, "st");
        sfp_buf_printf(&b, " FROM %s st), cur AS MATERIALIZED (SELECT t.ctid AS tid, ", stage);
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t JOIN sk ON ", target);
        put_keymatch(&b, ds, "t", "sk");
        sfp_buf_printf(&b, " WHERE %s), ", scope);
        sfp_buf_printf(&b,
                       "d AS (DELETE FROM %s t USING cur WHERE t.ctid = cur.tid AND NOT EXISTS "
                       "(SELECT 1 FROM s WHERE s.h = cur.h) RETURNING ",
                       target);
    }
    put_keys(&b, ds, "t");
    sfp_buf_printf(&b, ") INSERT INTO nightly_del_%s SELECT * FROM d", ds->name);
    return sfp_buf_steal(&b, NULL);
}

/* Merge, statement 2: staged rows not already present (same key, same content) are inserted.
 * An incremental run compares only with the target rows sharing a staged key (an index lookup
 * per key), never hashes the whole table. Into a fresh, unindexed table (`fresh`, a full run's
 * rebuild) the comparison is one hash anti-join on the content hash (which covers the key).
 * Returns (inserted rows, deleted rows, inserted rows whose key was deleted = updates). */
static char *insert_sql(const sfp_ingest_dataset *ds, const char *target, bool full, bool fresh)
{
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    const char *scope = ds->scope ? ds->scope : "true";
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "WITH ");
    if (!full) {
        sfp_buf_printf(&b, "sk AS MATERIALIZED (SELECT DISTINCT %s FROM %s), ex AS MATERIALIZED (SELECT ", ds->key[0],
                       stage);
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t JOIN sk ON t.%s = sk.%s WHERE %s), ", target, ds->key[0], ds->key[0],
                       scope);
    }
    if (fresh) {
        sfp_buf_puts(&b, "ex AS MATERIALIZED (SELECT ");
        put_hash(&b, ds, "t");
        sfp_buf_printf(&b, " AS h FROM %s t WHERE %s), ", target, scope);
    }
    sfp_buf_printf(&b, "ins AS (INSERT INTO %s AS %s (", target, ds->table);
    put_cols(&b, ds, NULL);
    sfp_buf_puts(&b, ") SELECT ");
    put_cols(&b, ds, "s");
    if (fresh) {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM ex t WHERE t.h", stage);
    } else if (full) {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE %s AND t.%s = s.%s AND ", stage,
                       target, scope, ds->key[0], ds->key[0]);
        put_hash(&b, ds, "t");
    } else {
        sfp_buf_printf(&b, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM ex t WHERE t.h", stage);
    }
    sfp_buf_puts(&b, " = ");
    put_hash(&b, ds, "s");
    sfp_buf_puts(&b, ") RETURNING ");
    put_keys(&b, ds, ds->table);
    sfp_buf_printf(&b,
                   ") SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM nightly_del_%s), "
                   "(SELECT count(*) FROM ins i WHERE EXISTS (SELECT 1 FROM nightly_del_%s d WHERE ",
                   ds->name, ds->name);
    put_keymatch(&b, ds, "i", "d");
    sfp_buf_puts(&b, "))");
    return sfp_buf_steal(&b, NULL);
}

/* ---------------- SODA paging ---------------- */

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static bool retryable(const sfp_soda_response *x)
{
    switch (x->status) {
    case SFP_SODA_E_BREAKER_OPEN:
    case SFP_SODA_E_TIMEOUT:
    case SFP_SODA_E_NETWORK:
    case SFP_SODA_E_BAD_BODY: return true;
    case SFP_SODA_E_HTTP: return x->http_status >= 500 || x->http_status == 408 || x->http_status == 429;
    default: return false;
    }
}

/* One SODA request with retries (back-off doubling from CRON_NIGHTLY_RETRY_BASE_MS, at least the
 * server's Retry-After, never past the time budget). An open breaker, a timeout, a 5xx and a
 * malformed body are retried and then fail the run — never taken for an empty page. */
static int soda_get(sfp_cron_run *r, sfp_ingest_state *st, const sfp_soda_query *q, const char *what,
                    sfp_soda_response *resp)
{
    const sfp_cron_config *cfg = &r->svc->cfg;
    const sfp_ingest_dataset *ds = st->ds;
    for (int attempt = 0;; attempt++) {
        memset(resp, 0, sizeof *resp);
        int64_t left = sfp_cron_left_ms(r);
        if (left <= 0)
            return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED, "nightly: time budget exhausted (limit %d s) before %s %s",
                                 r->limit_s, ds->name, what);
        if (sfp_soda_query_run(r->svc->soda, q, left, resp) == 0) return 0;
        char reason[32];
        snprintf(reason, sizeof reason, "%s", resp->reason[0] ? resp->reason : "error");
        sfp_soda_status status = resp->status;
        bool again = retryable(resp) && attempt < cfg->nightly_retries;
        int64_t delay = sfp_cron_backoff_ms(attempt + 1, cfg->nightly_retry_base_ms, resp->retry_after_s);
        sfp_soda_response_clear(resp);
        if (again && delay >= sfp_cron_left_ms(r)) again = false;
        sfp_log(again ? SFP_WARN : SFP_ERROR, "nightly SODA request failed", SFP_S("dataset", ds->id),
                SFP_S("what", what), SFP_I("offset", q->offset), SFP_S("reason", reason), SFP_I("attempt", attempt + 1),
                SFP_B("retrying", again), SFP_I("backoff_ms", again ? delay : 0));
        if (!again) {
            if (status == SFP_SODA_E_DEADLINE)
                return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED,
                                     "nightly: time budget exhausted (limit %d s) during %s %s", r->limit_s, ds->name,
                                     what);
            return sfp_cron_fail(r, SFP_UNAVAILABLE,
                                 "nightly: SODA %s (%s) %s at offset %ld failed after %d attempt(s): %s", ds->name,
                                 ds->id, what, q->offset, attempt + 1, reason);
        }
        st->retries++;
        sleep_ms(delay);
    }
}

/* One page request run on its own thread (copies of the run context and dataset state: a
 * failure is copied back by the caller). */
typedef struct page_job {
    sfp_cron_run run;
    sfp_ingest_state st;
    sfp_soda_query q;
    char what[32];
    sfp_soda_response resp;
    int rc;
} page_job;

static void *page_job_run(void *arg)
{
    page_job *j = arg;
    j->rc = soda_get(&j->run, &j->st, &j->q, j->what, &j->resp);
    return NULL;
}

static int exec_on_pool(sfp_cron_run *r, const char *what, const char *sql)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, what, &err);
    int rc = sfp_db_exec(c, sql, 0, NULL, &err);
    sfp_pool_release(r->svc->pool, c);
    return rc ? sfp_cron_fail_db(r, what, &err) : 0;
}

/* One page into staging with COPY (autocommit: staging is private to the run). */
static int stage_page(sfp_cron_run *r, sfp_ingest_state *st, const out_buf *data)
{
    const sfp_ingest_dataset *ds = st->ds;
    sfp_buf cmd;
    sfp_buf_init(&cmd);
    sfp_buf_printf(&cmd, "COPY nightly_stage_%s (", ds->name);
    put_cols(&cmd, ds, NULL);
    sfp_buf_puts(&cmd, ") FROM STDIN");
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) {
        sfp_buf_free(&cmd);
        return sfp_cron_fail_db(r, "nightly: staging", &err);
    }
    PGconn *pg = sfp_conn_pg(c);
    PGresult *res = PQexec(pg, cmd.data);
    bool ok = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (ok) {
        ok = PQputCopyData(pg, data->len ? data->p : "", (int)data->len) == 1;
        ok = PQputCopyEnd(pg, ok ? NULL : "nightly: copy aborted") == 1 && ok;
    }
    char msg[160] = "";
    while ((res = PQgetResult(pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            ok = false;
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    if (!ok && !msg[0]) snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
    sfp_pool_release(r->svc->pool, c);
    sfp_buf_free(&cmd);
    if (!ok) {
        msg[strcspn(msg, "\n")] = '\0';
        sfp_log(SFP_ERROR, "nightly staging COPY failed", SFP_S("dataset", ds->id), SFP_S("error", msg));
        return sfp_cron_fail(r, SFP_INTERNAL, "nightly: staging %s failed", ds->name);
    }
    return 0;
}

int sfp_ingest_fetch(sfp_cron_run *r, sfp_ingest_state *st)
{
    const sfp_ingest_dataset *ds = st->ds;
    double t0 = sfp_ingest_now_s();
    char stage[96], drop[160];
    stage_name(ds, stage, sizeof stage);
    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", stage);
    if (exec_on_pool(r, "nightly: staging table", drop)) return -1;
    sfp_buf ddl;
    sfp_buf_init(&ddl);
    sfp_buf_printf(&ddl, "CREATE UNLOGGED TABLE %s AS SELECT ", stage);
    put_cols(&ddl, ds, NULL);
    sfp_buf_printf(&ddl, " FROM %s WITH NO DATA", ds->table);
    int rc = exec_on_pool(r, "nightly: staging table", ddl.data);
    sfp_buf_free(&ddl);
    if (rc) return -1;

    /* $where */
    char where[512] = "";
    if (!st->full) {
        char lit[96];
        if (sfp_soda_soql_quote(st->since, lit, sizeof lit))
            return sfp_cron_fail(r, SFP_INTERNAL, "nightly: %s watermark too long", ds->name);
        snprintf(where, sizeof where, "%s > %s%s%s", ds->update_field, lit, ds->soql_filter ? " AND " : "",
                 ds->soql_filter ? ds->soql_filter : "");
    } else if (ds->soql_filter) {
        snprintf(where, sizeof where, "%s", ds->soql_filter);
    }

    /* count first: fewer rows than this means a page was cut short */
    sfp_soda_query cq = {.dataset = ds->id, .select = "count(*) AS n", .where = where[0] ? where : NULL, .limit = 1};
    sfp_soda_response resp;
    if (soda_get(r, st, &cq, "count", &resp)) return -1;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0), "n");
    bool count_ok = cJSON_IsString(n) || cJSON_IsNumber(n);
    st->expected = cJSON_IsString(n)   ? strtoll(n->valuestring, NULL, 10)
                   : cJSON_IsNumber(n) ? (long long)n->valuedouble
                                       : 0;
    sfp_soda_response_clear(&resp);
    if (!count_ok) return sfp_cron_fail(r, SFP_UNAVAILABLE, "nightly: SODA %s count(*) unreadable", ds->name);

    /* Page k+1 is requested as soon as page k has arrived, while page k is converted and
     * COPYed: the SODA server's work and ours overlap (one request in flight at a time, so the
     * pages still come strictly one after the other in :id order). */
    long limit = r->svc->cfg.nightly_page_size;
    long offset = 0;
    rc = 0;
    field_map map; /* read by the page threads until the last page is in */
    field_map_init(&map, ds);
    sfp_soda_query q0 = {.dataset = ds->id,
                         .where = where[0] ? where : NULL,
                         .order = ":id",
                         .limit = limit,
                         .parse = parse_page,
                         .parse_ctx = &map};
    page_job next = {.run = *r, .st = *st, .q = q0};
    snprintf(next.what, sizeof next.what, "page 1");
    next.rc = soda_get(&next.run, &next.st, &next.q, next.what, &next.resp);
    for (int page = 1; rc == 0; page++) {
        st->retries = next.st.retries;
        if (next.rc) {
            if (!r->code) {
                r->code = next.run.code;
                memcpy(r->error, next.run.error, sizeof r->error);
            }
            rc = -1;
            break;
        }
        resp = next.resp;
        memset(&next.resp, 0, sizeof next.resp);
        long got = sfp_soda_rows_count(resp.rows);
        st->pages++;
        st->fetched += got;
        offset += got;
        bool more = got >= limit, started = false;
        pthread_t th;
        if (more) {
            next.q.offset = offset;
            snprintf(next.what, sizeof next.what, "page %d", page + 1);
            started = pthread_create(&th, NULL, page_job_run, &next) == 0;
        }
        if (got > 0) rc = stage_page(r, st, sfp_cache_val_data(resp.rows));
        sfp_soda_response_clear(&resp);
        if (more && !started) page_job_run(&next);
        if (started) pthread_join(th, NULL);
        if (!more) break;
    }
    sfp_soda_response_clear(&next.resp);
    if (rc) return -1;
    /* rows without their key, or outside what the dataset keeps, are dropped */
    sfp_buf del;
    sfp_buf_init(&del);
    sfp_buf_printf(&del, "WITH d AS (DELETE FROM %s x WHERE x.%s IS NULL", stage, ds->key[0]);
    if (ds->keep) sfp_buf_printf(&del, " OR (%s) IS NOT TRUE", ds->keep);
    sfp_buf_puts(&del, " RETURNING 1) SELECT count(*) FROM d");
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    PGresult *dres = c ? sfp_db_query(c, del.data, 0, NULL, &err) : NULL;
    if (c) sfp_pool_release(r->svc->pool, c);
    sfp_buf_free(&del);
    if (!dres) return sfp_cron_fail_db(r, "nightly: staging", &err);
    st->skipped = sfp_cron_ll(dres, 0, 0);
    st->staged = st->fetched - st->skipped;
    PQclear(dres);
    /* statistics, so the merge plans a few index lookups for a small staging table */
    char an[160];
    snprintf(an, sizeof an, "ANALYZE %s", stage);
    if (exec_on_pool(r, "nightly: staging", an)) return -1;

    if (st->fetched < st->expected)
        return sfp_cron_fail(r, SFP_UNAVAILABLE,
                             "nightly: SODA %s (%s) returned %lld rows but counted %lld (a page was cut short)",
                             ds->name, ds->id, st->fetched, st->expected);
    st->fetch_s = sfp_ingest_now_s() - t0;
    sfp_log(SFP_INFO, "nightly dataset fetched", SFP_S("dataset", ds->id), SFP_S("name", ds->name),
            SFP_B("full", st->full), SFP_S("since", st->since), SFP_I("fetched", st->fetched),
            SFP_I("staged", st->staged), SFP_I("pages", st->pages), SFP_I("retries", st->retries),
            SFP_D("seconds", st->fetch_s));
    return 0;
}

/* The dataset's nightly_watermarks row: the highest update field staged (never lowered) and the
 * run's counts. 0, or -1 after sfp_cron_fail*. */
static int write_watermark(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *st)
{
    const sfp_ingest_dataset *ds = st->ds;
    sfp_err err = {0};
    char what[96];
    snprintf(what, sizeof what, "nightly: apply %s", ds->name);
    char stage[96];
    stage_name(ds, stage, sizeof stage);
    char sql[1400];
    snprintf(sql, sizeof sql,
             "INSERT INTO nightly_watermarks AS w (dataset_id, name, target_table, update_field, watermark, "
             "last_full_at, last_success_at, last_log_id, last_fetched, last_inserted, last_updated, last_deleted) "
             "SELECT $1, $2, $3, $4, (SELECT max(%s) FROM %s), CASE WHEN $5::bool THEN now() END, now(), "
             "$6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::bigint "
             "ON CONFLICT (dataset_id) DO UPDATE SET name = EXCLUDED.name, target_table = EXCLUDED.target_table, "
             "update_field = EXCLUDED.update_field, watermark = greatest(w.watermark, EXCLUDED.watermark), "
             "last_full_at = coalesce(EXCLUDED.last_full_at, w.last_full_at), last_success_at = now(), "
             "last_log_id = EXCLUDED.last_log_id, last_fetched = EXCLUDED.last_fetched, "
             "last_inserted = EXCLUDED.last_inserted, last_updated = EXCLUDED.last_updated, "
             "last_deleted = EXCLUDED.last_deleted RETURNING coalesce(watermark, '')",
             ds->update_col, stage);
    char logid[24], f[24], i[24], u[24], d[24];
    snprintf(logid, sizeof logid, "%lld", (long long)r->log_id);
    snprintf(f, sizeof f, "%lld", st->fetched);
    snprintf(i, sizeof i, "%lld", st->inserted);
    snprintf(u, sizeof u, "%lld", st->updated);
    snprintf(d, sizeof d, "%lld", st->deleted);
    const char *p[10] = {ds->id, ds->name, ds->table, ds->update_field, st->full ? "t" : "f", logid, f, i, u, d};
    PGresult *res = sfp_db_query(c, sql, 10, p, &err);
    if (!res) return sfp_cron_fail_db(r, what, &err);
    snprintf(st->watermark, sizeof st->watermark, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int sfp_ingest_apply(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *st, const char *source)
{
    const sfp_ingest_dataset *ds = st->ds;
    sfp_err err = {0};
    char what[96], target[128];
    snprintf(what, sizeof what, "nightly: apply %s", ds->name);
    if (st->swap) snprintf(target, sizeof target, SFP_INGEST_NEW_SCHEMA ".%s", ds->table);
    else snprintf(target, sizeof target, "%s", ds->table);
    double t0 = sfp_ingest_now_s();
    if (st->swap_first && sfp_ingest_swap_build(r, c, st)) return -1;
    /* change feed against the old rows (not on a first ingest: everything would be "new") */
    if (ds->feed_sql && st->had_watermark && st->staged > 0) {
        if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, what, &err);
        const char *p[2] = {source, sfp_cron_today_param(r)};
        PGresult *res = sfp_db_query(c, ds->feed_sql, 2, p, &err);
        if (!res) return sfp_cron_fail_db(r, what, &err);
        st->feed[0] = sfp_cron_ll(res, 0, 0);
        st->feed[1] = sfp_cron_ll(res, 0, 1);
        PQclear(res);
    }
    /* merge (an incremental run with nothing staged has nothing to merge) */
    bool empty = false;
    if (st->swap) { /* nothing in the copy yet (a first ingest): every staged row is new */
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT (NOT EXISTS (SELECT 1 FROM %s))::int", target);
        PGresult *res = sfp_db_query(c, sql, 0, NULL, &err);
        if (!res) return sfp_cron_fail_db(r, what, &err);
        empty = sfp_cron_ll(res, 0, 0) == 1;
        PQclear(res);
    }
    if (empty) {
        char stage[96];
        stage_name(ds, stage, sizeof stage);
        sfp_buf ins;
        sfp_buf_init(&ins);
        sfp_buf_printf(&ins, "INSERT INTO %s (", target);
        put_cols(&ins, ds, NULL);
        sfp_buf_puts(&ins, ") SELECT ");
        put_cols(&ins, ds, NULL);
        sfp_buf_printf(&ins, " FROM %s", stage);
        PGresult *res = NULL;
        bool ok = sfp_cron_tick(r, c, &err) == 0 && (res = sfp_db_query(c, ins.data, 0, NULL, &err)) != NULL;
        sfp_buf_free(&ins);
        if (!ok) return sfp_cron_fail_db(r, what, &err);
        st->inserted = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    } else if (st->full || st->staged > 0) {
        sfp_buf tmp;
        sfp_buf_init(&tmp);
        sfp_buf_printf(&tmp, "CREATE TEMP TABLE nightly_del_%s ON COMMIT DROP AS SELECT ", ds->name);
        put_keys(&tmp, ds, "t");
        sfp_buf_printf(&tmp, " FROM %s t WITH NO DATA", ds->table);
        char *del = delete_sql(ds, target, st->full), *ins = insert_sql(ds, target, st->full, st->swap);
        PGresult *res = NULL;
        bool ok = sfp_cron_tick(r, c, &err) == 0 && sfp_db_exec(c, tmp.data, 0, NULL, &err) == 0 &&
                  sfp_db_exec(c, del, 0, NULL, &err) == 0 && sfp_cron_tick(r, c, &err) == 0 &&
                  (res = sfp_db_query(c, ins, 0, NULL, &err)) != NULL;
        sfp_buf_free(&tmp);
        free(del);
        free(ins);
        if (!ok) return sfp_cron_fail_db(r, what, &err);
        long long inserted = sfp_cron_ll(res, 0, 0), deleted = sfp_cron_ll(res, 0, 1), upd = sfp_cron_ll(res, 0, 2);
        PQclear(res);
        st->updated = upd;
        st->inserted = inserted - upd;
        st->deleted = deleted - upd > 0 ? deleted - upd : 0;
    }
    st->apply_s = sfp_ingest_now_s() - t0;
    sfp_log(SFP_INFO, "nightly dataset merged", SFP_S("name", ds->name), SFP_S("into", target),
            SFP_I("inserted", st->inserted), SFP_I("updated", st->updated), SFP_I("deleted", st->deleted),
            SFP_D("seconds", st->apply_s));
    return write_watermark(r, c, st);
}

/* ---------------- full runs: the rebuilt tables ---------------- */

/* ROW(a.cols) IS NOT DISTINCT FROM ROW(b.cols): the same content, NULL equal to NULL. Compared
 * as values (no text rendering, no hashing of the row). */
static void put_roweq(sfp_buf *b, const sfp_ingest_dataset *ds, const char *a, const char *bb)
{
    sfp_buf_puts(b, "ROW(");
    put_cols(b, ds, a);
    sfp_buf_puts(b, ") IS NOT DISTINCT FROM ROW(");
    put_cols(b, ds, bb);
    sfp_buf_puts(b, ")");
}

/* "EXISTS (a staged row equal to live row t)" or "NOT EXISTS (a live row of the scope equal to
 * staged row s)": hash joins on key[0] with the row comparison as their filter. */
static void put_has_staged(sfp_buf *b, const sfp_ingest_dataset *ds, const char *stage)
{
    sfp_buf_printf(b, "EXISTS (SELECT 1 FROM %s s WHERE s.%s = t.%s AND ", stage, ds->key[0], ds->key[0]);
    put_roweq(b, ds, "s", "t");
    sfp_buf_puts(b, ")");
}

static void put_no_live(sfp_buf *b, const sfp_ingest_dataset *ds, const char *live)
{
    sfp_buf_printf(b, "NOT EXISTS (SELECT 1 FROM %s t WHERE %s AND t.%s = s.%s AND ", live,
                   ds->scope ? ds->scope : "true", ds->key[0], ds->key[0]);
    put_roweq(b, ds, "t", "s");
    sfp_buf_puts(b, ")");
}

/* The change feed of st (before anything of its table is rewritten). 0 or -1 + fail. */
static int run_feed(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *st, const char *source, const char *what)
{
    const sfp_ingest_dataset *ds = st->ds;
    if (!ds->feed_sql || !st->had_watermark || st->staged == 0) return 0;
    sfp_err err = {0};
    if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, what, &err);
    const char *p[2] = {source, sfp_cron_today_param(r)};
    PGresult *res = sfp_db_query(c, ds->feed_sql, 2, p, &err);
    if (!res) return sfp_cron_fail_db(r, what, &err);
    st->feed[0] = sfp_cron_ll(res, 0, 0);
    st->feed[1] = sfp_cron_ll(res, 0, 1);
    PQclear(res);
    return 0;
}

/* Runs sql on c; *rows = its first value (a query) or its row count (a command), when not NULL.
 * 0 or -1 + fail. */
static int exec_count(sfp_cron_run *r, sfp_conn *c, const char *what, const char *sql, long long *rows, PGresult **keep)
{
    sfp_err err = {0};
    PGresult *res = NULL;
    if (sfp_cron_tick(r, c, &err) || (res = sfp_db_query(c, sql, 0, NULL, &err)) == NULL)
        return sfp_cron_fail_db(r, what, &err);
    if (rows) *rows = PQntuples(res) > 0 ? sfp_cron_ll(res, 0, 0) : strtoll(PQcmdTuples(res), NULL, 10);
    if (keep) *keep = res;
    else PQclear(res);
    return 0;
}

int sfp_ingest_apply_rebuilt(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *sts, size_t n, size_t first,
                             const char *source)
{
    const char *table = sts[first].ds->table;
    char what[96], live[256], stage[96];
    snprintf(what, sizeof what, "nightly: apply %s", table);
    sfp_err err = {0};
    /* the live table by its own name: nightly_new holds no table of this name yet */
    const char *p[1] = {table};
    PGresult *res = sfp_db_query(c,
                                 "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
                                 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
                                 1, p, &err);
    if (!res) return sfp_cron_fail_db(r, what, &err);
    snprintf(live, sizeof live, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    sfp_buf b;
    sfp_buf_init(&b);
    /* other writers wait until COMMIT (readers do not): what they wrote after the comparison
     * would be lost with the old table */
    sfp_buf_printf(&b, "LOCK TABLE %s IN EXCLUSIVE MODE", live);
    int rc = exec_count(r, c, what, b.data, NULL, NULL);
    /* the comparisons are hash joins of whole tables */
    if (rc == 0) rc = exec_count(r, c, what, "SELECT set_config('work_mem', '256MB', true)", NULL, NULL);

    /* 1. every dataset of the table: its change feed, then what changed (counts only) */
    bool changed = false, all_scoped = true;
    for (size_t k = first; k < n && rc == 0; k++) {
        sfp_ingest_state *st = &sts[k];
        if (strcmp(st->ds->table, table)) continue;
        const sfp_ingest_dataset *ds = st->ds;
        double t0 = sfp_ingest_now_s();
        all_scoped = all_scoped && ds->scope;
        stage_name(ds, stage, sizeof stage);
        rc = run_feed(r, c, st, source, what);
        if (rc) break;
        /* staged rows equal to no live row (new: inserted, or updated when their key is live),
         * live rows of the scope equal to a staged row (kept), all live rows of the scope */
        sfp_buf_reset(&b);
        sfp_buf_puts(&b, "WITH nw AS MATERIALIZED (SELECT ");
        put_keys(&b, ds, "s");
        sfp_buf_printf(&b, " FROM %s s WHERE ", stage);
        put_no_live(&b, ds, live);
        sfp_buf_printf(&b,
                       ") SELECT (SELECT count(*) FROM nw), (SELECT count(*) FROM nw WHERE EXISTS (SELECT 1 FROM %s t "
                       "WHERE %s AND ",
                       live, ds->scope ? ds->scope : "true");
        put_keymatch(&b, ds, "t", "nw");
        sfp_buf_printf(&b, ")), (SELECT count(*) FROM %s t WHERE %s AND ", live, ds->scope ? ds->scope : "true");
        put_has_staged(&b, ds, stage);
        sfp_buf_printf(&b, "), (SELECT count(*) FROM %s t WHERE %s)", live, ds->scope ? ds->scope : "true");
        res = NULL;
        rc = exec_count(r, c, what, b.data, NULL, &res);
        if (rc) break;
        long long nw = sfp_cron_ll(res, 0, 0), upd = sfp_cron_ll(res, 0, 1), kept = sfp_cron_ll(res, 0, 2),
                  in_scope = sfp_cron_ll(res, 0, 3);
        PQclear(res);
        st->updated = upd;
        st->inserted = nw - upd;
        st->deleted = in_scope - kept - upd > 0 ? in_scope - kept - upd : 0;
        changed = changed || nw > 0 || kept < in_scope;
        st->applied = true;
        st->apply_s = sfp_ingest_now_s() - t0;
        st->live_rows = in_scope;
    }

    /* 2. nothing changed: the live table stays as it is (no copy, no index build, no swap) */
    if (rc == 0 && !changed) {
        for (size_t k = first; k < n; k++)
            if (!strcmp(sts[k].ds->table, table)) sts[k].swap = sts[k].swap_first = false;
        sfp_log(SFP_INFO, "nightly: full ingest found the table unchanged (kept as it is)", SFP_S("table", table));
    }

    /* 3. changed: the new table gets the live rows that stay (every column and id kept), the
     * staged rows that are new, and the live rows no dataset owns */
    if (rc == 0 && changed) {
        double t0 = sfp_ingest_now_s();
        rc = sfp_ingest_swap_build(r, c, &sts[first]);
        if (rc == 0 && all_scoped) {
            sfp_buf_reset(&b);
            sfp_buf_printf(&b,
                           "INSERT INTO " SFP_INGEST_NEW_SCHEMA ".%s OVERRIDING SYSTEM VALUE SELECT t.* FROM %s t "
                           "WHERE NOT (false",
                           table, live);
            for (size_t k = first; k < n; k++)
                if (!strcmp(sts[k].ds->table, table)) sfp_buf_printf(&b, " OR (%s) IS TRUE", sts[k].ds->scope);
            sfp_buf_puts(&b, ")");
            rc = exec_count(r, c, what, b.data, NULL, NULL);
        }
        double build_s = sfp_ingest_now_s() - t0;
        for (size_t k = first; k < n && rc == 0; k++) {
            sfp_ingest_state *st = &sts[k];
            if (strcmp(st->ds->table, table)) continue;
            const sfp_ingest_dataset *ds = st->ds;
            double t1 = sfp_ingest_now_s();
            stage_name(ds, stage, sizeof stage);
            if (st->live_rows > 0) {
                sfp_buf_reset(&b);
                sfp_buf_printf(&b,
                               "INSERT INTO " SFP_INGEST_NEW_SCHEMA ".%s OVERRIDING SYSTEM VALUE SELECT t.* FROM %s t "
                               "WHERE %s AND ",
                               table, live, ds->scope ? ds->scope : "true");
                put_has_staged(&b, ds, stage);
                rc = exec_count(r, c, what, b.data, NULL, NULL);
                if (rc) break;
            }
            sfp_buf_reset(&b);
            sfp_buf_printf(&b, "INSERT INTO " SFP_INGEST_NEW_SCHEMA ".%s (", table);
            put_cols(&b, ds, NULL);
            sfp_buf_puts(&b, ") SELECT ");
            put_cols(&b, ds, "s");
            sfp_buf_printf(&b, " FROM %s s", stage);
            if (st->live_rows > 0) {
                sfp_buf_puts(&b, " WHERE ");
                put_no_live(&b, ds, live);
            }
            rc = exec_count(r, c, what, b.data, NULL, NULL);
            st->apply_s += sfp_ingest_now_s() - t1 + (k == first ? build_s : 0);
        }
    }
    sfp_buf_free(&b);
    for (size_t k = first; k < n && rc == 0; k++) {
        sfp_ingest_state *st = &sts[k];
        if (strcmp(st->ds->table, table)) continue;
        sfp_log(SFP_INFO, "nightly dataset merged", SFP_S("name", st->ds->name),
                SFP_S("into", changed ? SFP_INGEST_NEW_SCHEMA " (rebuilt)" : "live (unchanged)"),
                SFP_I("inserted", st->inserted), SFP_I("updated", st->updated), SFP_I("deleted", st->deleted),
                SFP_D("seconds", st->apply_s));
        rc = write_watermark(r, c, st);
    }
    return rc;
}
