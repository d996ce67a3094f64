/* soda_test_http.c — HTTP side of sfp-soda-test-server (see soda_test_server.h). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "soda_test_server.h"

#define NDATASETS 14 /* = sts_dataset_ids() */

typedef enum { M_OK = 0, M_DELAY, M_GARBAGE, M_TRUNCATE, M_HANG, M_FAIL, M_DRIP } mode_kind;

struct sts_server {
    struct MHD_Daemon *mhd;
    int listen_fd;
    int port;
    sts_data *data;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; broadcast on mode change / reset / shutdown */
    bool stopping;
    uint64_t mode_gen;
    mode_kind mode;
    int fail_status;
    int delay_ms;
    int retry_after;
    char mode_dataset[16]; /* "" = every dataset */
    long mode_count;       /* -1 = unlimited */
    long mode_after;       /* affected requests still let through before the mode applies */

    long requests;
    long by_dataset[NDATASETS + 1]; /* + other */
    long in_flight;
    char last_dataset[32], last_where[256], last_order[128], last_limit[24], last_offset[24], last_select[64];
    char last_token[128], last_accept_encoding[64];
};

/* ---------------- helpers ---------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, size_t len, int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    if (retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", v);
    }
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_str(struct MHD_Connection *c, unsigned status, const char *body)
{
    return reply(c, status, body, strlen(body), 0);
}

static enum MHD_Result socrata_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_puts(&b, "{\"code\":");
    sfp_buf_json_str(&b, code);
    sfp_buf_puts(&b, ",\"error\":true,\"message\":");
    sfp_buf_json_str(&b, msg);
    sfp_buf_putc(&b, '}');
    enum MHD_Result rc = reply(c, status, b.data, b.len, 0);
    sfp_buf_free(&b);
    return rc;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* Waits until until_ms (or, with until_ms < 0, until the mode generation changes) or shutdown.
 * Lock held. Returns false when the server is stopping. */
static bool wait_locked(sts_server *s, int64_t until_ms, uint64_t gen)
{
    for (;;) {
        if (s->stopping) return false;
        if (until_ms < 0 && s->mode_gen != gen) return true;
        int64_t now = sfp_mono_ms();
        if (until_ms >= 0 && now >= until_ms) return true;
        int64_t wake = until_ms >= 0 ? until_ms : now + 1000;
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000), .tv_nsec = (long)(wake % 1000) * 1000000L};
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
}

/* Slow drip: a 200 with the whole page's Content-Length, whose body then arrives one byte every
 * every_ms (the connection's own thread waits between bytes). A mode change or reset ends it
 * with the body unfinished. Owns json. */
typedef struct drip {
    sts_server *s;
    char *json;
    size_t len;
    int every_ms;
    uint64_t gen;
} drip;

static ssize_t drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    drip *d = cls;
    if (pos >= d->len) return MHD_CONTENT_READER_END_OF_STREAM;
    if (max < 1) return 0;
    pthread_mutex_lock(&d->s->mu);
    bool alive = wait_locked(d->s, sfp_mono_ms() + d->every_ms, d->gen) && d->s->mode_gen == d->gen;
    pthread_mutex_unlock(&d->s->mu);
    if (!alive) return MHD_CONTENT_READER_END_WITH_ERROR;
    buf[0] = d->json[pos];
    return 1;
}

static void drip_free(void *cls)
{
    drip *d = cls;
    free(d->json);
    free(d);
}

static enum MHD_Result reply_drip(struct MHD_Connection *c, sts_server *s, char *json, size_t len, int every_ms,
                                  uint64_t gen)
{
    drip *d = calloc(1, sizeof *d);
    if (!d) {
        free(json);
        return MHD_NO;
    }
    *d = (drip){.s = s, .json = json, .len = len, .every_ms = every_ms, .gen = gen};
    struct MHD_Response *r = MHD_create_response_from_callback(len, 1, drip_read, d, drip_free);
    if (!r) {
        drip_free(d);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---------------- SoQL parsing (just what the report sends) ---------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* 'literal' with '' escapes → out. Returns the position after the closing quote or NULL. */
static const char *parse_literal(const char *p, char *out, size_t n)
{
    if (*p != '\'') return NULL;
    size_t o = 0;
    for (p++;; p++) {
        if (!*p) return NULL;
        if (*p == '\'') {
            if (p[1] == '\'') p++;
            else break;
        }
        if (o + 1 >= n) return NULL;
        out[o++] = *p;
    }
    out[o] = '\0';
    return p + 1;
}

/* An identifier [A-Za-z_][A-Za-z0-9_]* (or ":id") → out. Returns the position after it or NULL. */
static const char *parse_ident(const char *p, char *out, size_t n)
{
    size_t l = 0;
    if (*p == ':') l = 1;
    if (!(isalpha((unsigned char)p[l]) || p[l] == '_')) return NULL;
    while (isalnum((unsigned char)p[l]) || p[l] == '_') l++;
    if (l >= n) return NULL;
    memcpy(out, p, l);
    out[l] = '\0';
    return p + l;
}

/* term (AND term)*, term = field OP 'literal'. */
static bool parse_where(const char *w, sts_query *q)
{
    const char *p = skip_ws(w);
    for (;;) {
        if (q->n_terms >= STS_MAX_TERMS) return false;
        __typeof__(q->terms[0]) *t = &q->terms[q->n_terms];
        p = parse_ident(p, t->field, sizeof t->field);
        if (!p || t->field[0] == ':') return false;
        p = skip_ws(p);
        static const char *const ops[] = {">=", "<=", "!=", "<>", "=", ">", "<"};
        size_t k = 0;
        for (; k < sizeof ops / sizeof *ops; k++)
            if (!strncmp(p, ops[k], strlen(ops[k]))) break;
        if (k == sizeof ops / sizeof *ops) return false;
        snprintf(t->op, sizeof t->op, "%s", !strcmp(ops[k], "<>") ? "!=" : ops[k]);
        p = parse_literal(skip_ws(p + strlen(ops[k])), t->value, sizeof t->value);
        if (!p) return false;
        q->n_terms++;
        p = skip_ws(p);
        if (!*p) return true;
        if (strncasecmp(p, "AND", 3) || (p[3] != ' ' && p[3] != '\t')) return false;
        p = skip_ws(p + 3);
    }
}

/* "field [ASC|DESC][, ...]" */
static bool parse_order(const char *o, sts_query *q)
{
    const char *p = skip_ws(o);
    for (;;) {
        if (q->n_order >= STS_MAX_ORDER) return false;
        p = parse_ident(p, q->order[q->n_order].field, sizeof q->order[0].field);
        if (!p) return false;
        p = skip_ws(p);
        bool desc = false;
        if (!strncasecmp(p, "DESC", 4)) desc = true, p += 4;
        else if (!strncasecmp(p, "ASC", 3)) p += 3;
        q->order[q->n_order++].desc = desc;
        p = skip_ws(p);
        if (!*p) return true;
        if (*p != ',') return false;
        p = skip_ws(p + 1);
    }
}

/* count(*) [AS alias] */
static bool parse_select(const char *sel, sts_query *q)
{
    const char *p = skip_ws(sel);
    if (strncasecmp(p, "count(*)", 8)) return false;
    p = skip_ws(p + 8);
    q->count = true;
    snprintf(q->count_alias, sizeof q->count_alias, "count");
    if (!*p) return true;
    if (strncasecmp(p, "AS", 2) || (p[2] != ' ' && p[2] != '\t')) return false;
    p = parse_ident(skip_ws(p + 2), q->count_alias, sizeof q->count_alias);
    return p && q->count_alias[0] != ':' && !*skip_ws(p);
}

static bool parse_long_arg(const char *v, long min, long max, long *out)
{
    if (!v) return true;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max) return false;
    *out = x;
    return true;
}

/* ---------------- handlers ---------------- */

static int dataset_index(const char *d)
{
    size_t n;
    const char *const *ids = sts_dataset_ids(&n);
    for (size_t i = 0; i < n && i < NDATASETS; i++)
        if (!strcmp(d, ids[i])) return (int)i;
    return NDATASETS;
}

static const char *mode_name(const sts_server *s, char *buf, size_t n)
{
    switch (s->mode) {
    case M_OK: return "ok";
    case M_DELAY: return "delay";
    case M_GARBAGE: return "garbage";
    case M_TRUNCATE: return "truncate";
    case M_HANG: return "hang";
    case M_DRIP: return "drip";
    default: snprintf(buf, n, "fail%d", s->fail_status); return buf;
    }
}

static enum MHD_Result handle_resource(sts_server *s, struct MHD_Connection *c, const char *url)
{
    const char *name = url + strlen("/resource/");
    size_t nl = strlen(name);
    char dataset[32];
    if (nl <= 5 || nl - 5 >= sizeof dataset || strcmp(name + nl - 5, ".json"))
        return socrata_error(c, 404, "not_found", "Unknown resource");
    memcpy(dataset, name, nl - 5);
    dataset[nl - 5] = '\0';
    const char *where = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$where");
    const char *order = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$order");
    const char *limit_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$limit");
    const char *offset_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$offset");
    const char *select = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "$select");

    /* count, record, then apply the injected behaviour */
    pthread_mutex_lock(&s->mu);
    s->requests++;
    s->by_dataset[dataset_index(dataset)]++;
    s->in_flight++;
    copy(s->last_dataset, sizeof s->last_dataset, dataset);
    copy(s->last_where, sizeof s->last_where, where);
    copy(s->last_order, sizeof s->last_order, order);
    copy(s->last_limit, sizeof s->last_limit, limit_s);
    copy(s->last_offset, sizeof s->last_offset, offset_s);
    copy(s->last_select, sizeof s->last_select, select);
    copy(s->last_token, sizeof s->last_token, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-App-Token"));
    copy(s->last_accept_encoding, sizeof s->last_accept_encoding,
         MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    bool affected = s->mode_dataset[0] == '\0' || !strcmp(s->mode_dataset, dataset);
    mode_kind mode = M_OK;
    int fail_status = 0, retry_after = 0, delay = 0;
    uint64_t gen = s->mode_gen;
    if (affected && s->mode_after > 0) {
        s->mode_after--;
        affected = false;
    }
    if (affected && s->mode_count != 0) {
        mode = s->mode;
        fail_status = s->fail_status;
        retry_after = s->retry_after;
        delay = s->delay_ms;
        if (s->mode_count > 0 && --s->mode_count == 0) {
            s->mode = M_OK; /* the counted mode is used up */
            s->delay_ms = 0;
        }
    }
    bool alive = true;
    if (delay > 0 && mode != M_DRIP) alive = wait_locked(s, sfp_mono_ms() + delay, gen);
    if (alive && mode == M_HANG) {
        wait_locked(s, -1, gen);
        alive = false; /* never answer a hung request: drop the connection */
    }
    s->in_flight--;
    pthread_mutex_unlock(&s->mu);
    if (!alive) return MHD_NO;

    if (mode == M_FAIL) {
        char msg[64];
        snprintf(msg, sizeof msg, "injected failure %d", fail_status);
        sfp_buf b;
        sfp_buf_init(&b);
        sfp_buf_puts(&b, "{\"code\":\"injected\",\"error\":true,\"message\":");
        sfp_buf_json_str(&b, msg);
        sfp_buf_putc(&b, '}');
        enum MHD_Result rc = reply(c, (unsigned)fail_status, b.data, b.len,
                                   (fail_status == 429 || fail_status == 503) ? retry_after : 0);
        sfp_buf_free(&b);
        return rc;
    }
    if (mode == M_GARBAGE) return reply_str(c, 200, "<html><body>Service temporarily unavailable</body></html>{[");

    if (!sts_dataset_known(s->data, dataset)) return socrata_error(c, 404, "not_found", "Unknown dataset");
    sts_query q;
    memset(&q, 0, sizeof q);
    q.dataset = dataset;
    if (where && !parse_where(where, &q))
        return socrata_error(c, 400, "query.compiler.malformed",
                             "Unsupported $where (this test server knows field OP 'literal' [AND ...])");
    if (order && !parse_order(order, &q)) return socrata_error(c, 400, "query.compiler.malformed", "Invalid $order");
    if (select && !parse_select(select, &q))
        return socrata_error(c, 400, "query.compiler.malformed", "Unsupported $select (only count(*) [AS x])");
    q.limit = 1000;
    if (!parse_long_arg(limit_s, 0, 50000, &q.limit) || !parse_long_arg(offset_s, 0, 1000000000L, &q.offset))
        return socrata_error(c, 400, "query.compiler.malformed", "Invalid $limit or $offset");
    sfp_err err = {0};
    char *json = sts_data_run(s->data, &q, &err);
    if (!json) {
        if (err.code == SFP_INVALID_ARGUMENT) return socrata_error(c, 400, "query.soql.invalid", err.msg);
        sfp_log(SFP_ERROR, "query failed", SFP_S("dataset", dataset), SFP_S("error", err.msg));
        return socrata_error(c, 500, "internal", "query failed");
    }
    size_t len = strlen(json);
    if (mode == M_TRUNCATE) len /= 2; /* a page cut short: the body is no longer valid JSON */
    if (mode == M_DRIP) return reply_drip(c, s, json, len, delay > 0 ? delay : 200, gen);
    enum MHD_Result rc = reply(c, 200, json, len, 0);
    free(json);
    return rc;
}

static enum MHD_Result handle_stats(sts_server *s, struct MHD_Connection *c)
{
    sfp_buf b;
    sfp_buf_init(&b);
    char mb[16];
    pthread_mutex_lock(&s->mu);
    sfp_buf_printf(&b, "{\"requests\":%ld,\"by_dataset\":{", s->requests);
    size_t nids;
    const char *const *ids = sts_dataset_ids(&nids);
    for (size_t i = 0; i < nids && i < NDATASETS; i++)
        sfp_buf_printf(&b, "%s\"%s\":%ld", i ? "," : "", ids[i], s->by_dataset[i]);
    sfp_buf_printf(&b, ",\"other\":%ld},\"mode\":", s->by_dataset[NDATASETS]);
    sfp_buf_json_str(&b, mode_name(s, mb, sizeof mb));
    sfp_buf_printf(&b, ",\"in_flight\":%ld,\"data\":", s->in_flight);
    sfp_buf_json_str(&b, sts_data_kind(s->data));
    const char *keys[] = {"dataset", "where", "order", "limit", "offset", "select", "app_token", "accept_encoding"};
    const char *vals[] = {s->last_dataset, s->last_where,  s->last_order, s->last_limit,
                          s->last_offset,  s->last_select, s->last_token, s->last_accept_encoding};
    sfp_buf_puts(&b, ",\"last\":{");
    for (int i = 0; i < 8; i++) {
        if (i) sfp_buf_putc(&b, ',');
        sfp_buf_json_str(&b, keys[i]);
        sfp_buf_putc(&b, ':');
        sfp_buf_json_str(&b, vals[i]);
    }
    sfp_buf_puts(&b, "}}");
    pthread_mutex_unlock(&s->mu);
    enum MHD_Result rc = reply(c, 200, b.data, b.len, 0);
    sfp_buf_free(&b);
    return rc;
}

static void reset_locked(sts_server *s)
{
    s->mode = M_OK;
    s->fail_status = 0;
    s->delay_ms = 0;
    s->retry_after = 1;
    s->mode_dataset[0] = '\0';
    s->mode_count = -1;
    s->mode_after = 0;
    s->mode_gen++;
    pthread_cond_broadcast(&s->cv);
}

/* Value of key from the query string, else from the JSON body (numbers or strings). */
static const char *control_arg(struct MHD_Connection *c, cJSON *body, const char *key, char *buf, size_t n)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    if (v) return v;
    cJSON *j = body ? cJSON_GetObjectItemCaseSensitive(body, key) : NULL;
    if (cJSON_IsString(j)) return j->valuestring;
    if (cJSON_IsNumber(j)) {
        snprintf(buf, n, "%.0f", j->valuedouble);
        return buf;
    }
    return NULL;
}

static enum MHD_Result handle_control(sts_server *s, struct MHD_Connection *c, const sfp_buf *upload)
{
    cJSON *body = upload->len ? cJSON_ParseWithLength(upload->data, upload->len) : NULL;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    const char *mode = control_arg(c, body, "mode", b1, sizeof b1);
    const char *delay = control_arg(c, body, "delay_ms", b2, sizeof b2);
    const char *ra = control_arg(c, body, "retry_after", b3, sizeof b3);
    const char *ds = control_arg(c, body, "dataset", b4, sizeof b4);
    const char *count = control_arg(c, body, "count", b5, sizeof b5);
    const char *after = control_arg(c, body, "after", b6, sizeof b6);
    mode_kind m;
    int fail = 0;
    long delay_ms = 0, retry_after = 1, cnt = -1, aft = 0;
    bool ok = mode != NULL;
    if (ok) {
        if (!strcmp(mode, "ok")) m = M_OK;
        else if (!strcmp(mode, "delay")) m = M_DELAY;
        else if (!strcmp(mode, "garbage")) m = M_GARBAGE;
        else if (!strcmp(mode, "truncate")) m = M_TRUNCATE;
        else if (!strcmp(mode, "hang")) m = M_HANG;
        else if (!strcmp(mode, "drip")) m = M_DRIP;
        else if (!strncmp(mode, "fail", 4) && strlen(mode) == 7 && isdigit((unsigned char)mode[4]) &&
                 (fail = atoi(mode + 4)) >= 400 && fail <= 599)
            m = M_FAIL;
        else ok = false;
    }
    ok = ok && parse_long_arg(delay, 0, 600000, &delay_ms) && parse_long_arg(ra, 0, 86400, &retry_after) &&
         parse_long_arg(count, 1, 1000000000L, &cnt) && parse_long_arg(after, 0, 1000000000L, &aft) &&
         (!ds || strlen(ds) < 16);
    if (!ok) {
        cJSON_Delete(body);
        return socrata_error(
            c, 400, "bad_control",
            "mode must be ok|delay|garbage|truncate|hang|drip|failNNN; delay_ms/retry_after/count/after "
            "numbers");
    }
    pthread_mutex_lock(&s->mu);
    reset_locked(s); /* releases hung requests of the previous mode */
    s->mode = m;
    s->fail_status = fail;
    s->delay_ms = (int)delay_ms;
    s->retry_after = (int)retry_after;
    s->mode_count = cnt;
    s->mode_after = aft;
    copy(s->mode_dataset, sizeof s->mode_dataset, ds);
    pthread_mutex_unlock(&s->mu);
    sfp_log(SFP_INFO, "mode", SFP_S("mode", mode), SFP_I("delay_ms", delay_ms), SFP_S("dataset", ds ? ds : ""),
            SFP_I("count", cnt));
    cJSON_Delete(body);
    return reply_str(c, 200, "{\"ok\":true}");
}

static enum MHD_Result handle_reset(sts_server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->mu);
    reset_locked(s);
    s->requests = 0;
    memset(s->by_dataset, 0, sizeof s->by_dataset);
    s->last_dataset[0] = s->last_where[0] = s->last_order[0] = s->last_limit[0] = s->last_offset[0] = '\0';
    s->last_select[0] = '\0';
    s->last_token[0] = s->last_accept_encoding[0] = '\0';
    pthread_mutex_unlock(&s->mu);
    return reply_str(c, 200, "{\"ok\":true}");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    (void)version;
    sts_server *s = cls;
    sfp_buf *upload = *req_cls;
    if (!upload) { /* first call: headers only */
        upload = malloc(sizeof *upload);
        if (!upload) return MHD_NO;
        sfp_buf_init(upload);
        *req_cls = upload;
        return MHD_YES;
    }
    if (*upload_size) {
        if (upload->len + *upload_size > 65536) return MHD_NO;
        sfp_buf_append(upload, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    bool post = !strcmp(method, "POST");
    if (!strncmp(url, "/resource/", 10)) {
        if (!get) return socrata_error(c, 405, "method_not_allowed", "GET only");
        return handle_resource(s, c, url);
    }
    if (!strcmp(url, "/__stats") && get) return handle_stats(s, c);
    if (!strcmp(url, "/__control") && post) return handle_control(s, c, upload);
    if (!strcmp(url, "/__reset") && post) return handle_reset(s, c);
    return socrata_error(c, 404, "not_found", "Unknown path");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    sfp_buf *upload = *req_cls;
    if (upload) {
        sfp_buf_free(upload);
        free(upload);
        *req_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    sfp_log(SFP_WARN, "microhttpd", SFP_S("detail", msg));
}

/* ---------------- lifecycle ---------------- */

static int bind_listen(const char *addr, int *port, int *family, sfp_err *err)
{
    if (sfp_parse_addr("SODA_TEST_ADDR", addr, err)) return -1;
    if (!strncmp(addr, "unix:", 5)) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA_TEST_ADDR must be host:port");
    char host[256];
    const char *colon = strrchr(addr, ':');
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA_TEST_ADDR host too long");
    memcpy(host, addr, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (gai) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA_TEST_ADDR: %s", gai_strerror(gai));
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 256) == 0) {
            *family = ai->ai_family;
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return sfp_err_set(err, SFP_UNAVAILABLE, "SODA_TEST_ADDR: cannot bind %s: %s", addr, strerror(errno));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

sts_server *sts_server_start(const char *addr, sts_data *d, sfp_err *err)
{
    sts_server *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->data = d;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    reset_locked(s);
    int family = AF_INET;
    s->listen_fd = bind_listen(addr, &s->port, &family, err);
    if (s->listen_fd < 0) {
        sts_server_stop(s);
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                              MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_LIMIT, 2000u, MHD_OPTION_END);
    if (!s->mhd) {
        sfp_err_set(err, SFP_INTERNAL, "MHD_start_daemon failed");
        sts_server_stop(s);
        return NULL;
    }
    return s;
}

int sts_server_port(const sts_server *s)
{
    return s->port;
}

void sts_server_stop(sts_server *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->mhd) MHD_stop_daemon(s->mhd); /* joins connection threads; ours return promptly */
    else if (s->listen_fd >= 0) close(s->listen_fd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
