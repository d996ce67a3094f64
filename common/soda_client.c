/* soda_client.c — see soda_client.h. */
#include "soda_client.h"

#include <curl/curl.h>
#include <ctype.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"

#define POOL_MAX 64          /* idle curl multi handles kept (each with its own connections) */
#define MULTI_MAXCONNECTS 8L /* cached connections per multi handle */
#define SHORT_BUDGET_MS 1000 /* a deadline timeout with less budget than this is not counted */

struct sfp_soda {
    char *base_url;
    char *app_token;
    int timeout_ms;
    int connect_timeout_ms;
    long max_bytes;
    sfp_breaker *breaker;
    sfp_ttl_cache *cache;
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    struct curl_slist *headers; /* read-only after create; shared by all transfers */
    pthread_mutex_t pool_mu;
    CURLM *pool[POOL_MAX];
    int npool;
    CURLM *busy[POOL_MAX]; /* multi handles of running sfp_soda_query_* calls (pool_mu) */
    int nbusy;
    atomic_llong n_requests, n_ok, n_errors, n_rejected, n_bytes;
    /* event loop of the parcel path (see "the event loop" below) */
    pthread_mutex_t ev_mu;
    struct fetch *fetches;         /* running or about to start */
    struct sfp_soda_pending *jobs; /* not done yet */
    CURLM *loop_multi;
    pthread_t loop_th;
    bool loop_running, loop_stop;
    _Atomic bool cancelled; /* sfp_soda_cancel_all: every transfer ends now, new ones are refused */
};

static int sfp_soda_loop_start(sfp_soda *s);
static void sfp_soda_loop_stop(sfp_soda *s);

const sfp_soda_parcel_spec sfp_soda_report_specs[SFP_SODA_REPORT_N] = {
    [SFP_SODA_COMPLAINTS] = {"gm2e-bten", "date_filed DESC", 50},
    [SFP_SODA_VIOLATIONS] = {"nbtm-fbw5", "date_filed DESC", 50},
    [SFP_SODA_TAX_ROLL] = {"wv5m-vpq2", "closed_roll_year DESC", 5},
};

/* ======================= configuration ======================= */

void sfp_soda_config_defaults(sfp_soda_config *c)
{
    memset(c, 0, sizeof *c);
    c->base_url = "https://data.sfgov.org/resource";
    c->app_token = NULL;
    c->timeout_ms = 10000;
    c->connect_timeout_ms = 3000;
    c->max_response_bytes = 32L * 1024 * 1024;
    sfp_breaker_config_defaults(&c->breaker);
    sfp_ttl_cache_config_defaults(&c->cache);
}

static int check_base_url(const char *name, const char *u, sfp_err *err)
{
    if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s must start with http:// or https://", name);
    if (strlen(u) > 512) return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s is too long (max 512)", name);
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#')
            return sfp_err_set(err, SFP_INVALID_ARGUMENT, "%s must be a plain base URL (no spaces, query or fragment)",
                               name);
    return 0;
}

int sfp_soda_config_from_env(sfp_soda_config *c, sfp_err *err)
{
    sfp_soda_config_defaults(c);
    if (sfp_cfg_text("SODA_BASE_URL", &c->base_url, err)) return -1;
    if (check_base_url("SODA_BASE_URL", c->base_url, err)) return -1;
    if (sfp_cfg_text("SODA_APP_TOKEN", &c->app_token, err)) return -1;
    if (c->app_token && strpbrk(c->app_token, "\r\n"))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA_APP_TOKEN must not contain line breaks");
    if (sfp_cfg_int("SODA_TIMEOUT_MS", &c->timeout_ms, err)) return -1;
    if (sfp_cfg_int("SODA_CONNECT_TIMEOUT_MS", &c->connect_timeout_ms, err)) return -1;
    if (sfp_cfg_long("SODA_MAX_RESPONSE_BYTES", &c->max_response_bytes, err)) return -1;
    if (sfp_breaker_config_from_env(&c->breaker, err)) return -1;
    if (sfp_ttl_cache_config_from_env(&c->cache, err)) return -1;
    return 0;
}

/* ======================= lifecycle ======================= */

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc;
static void curl_init_once(void)
{
    g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *user)
{
    (void)h, (void)a;
    sfp_soda *s = user;
    if ((int)d >= 0 && d < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&s->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *user)
{
    (void)h;
    sfp_soda *s = user;
    if ((int)d >= 0 && d < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&s->share_mu[d]);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

sfp_soda *sfp_soda_create(const sfp_soda_config *c, sfp_err *err)
{
    pthread_once(&g_curl_once, curl_init_once);
    if (g_curl_init_rc != CURLE_OK) {
        sfp_err_set(err, SFP_INTERNAL, "curl_global_init failed: %s", curl_easy_strerror(g_curl_init_rc));
        return NULL;
    }
    if (check_base_url("SODA_BASE_URL", c->base_url ? c->base_url : "", err)) return NULL;
    sfp_soda *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->base_url = xstrdup(c->base_url);
    for (size_t l = strlen(s->base_url); l > 0 && s->base_url[l - 1] == '/'; l--) s->base_url[l - 1] = '\0';
    s->app_token = (c->app_token && *c->app_token) ? xstrdup(c->app_token) : NULL;
    s->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    s->connect_timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 3000;
    if (s->connect_timeout_ms > s->timeout_ms) s->connect_timeout_ms = s->timeout_ms;
    s->max_bytes = c->max_response_bytes > 0 ? c->max_response_bytes : 32L * 1024 * 1024;
    s->breaker = sfp_breaker_new(&c->breaker);
    s->cache = sfp_ttl_cache_new(&c->cache);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&s->share_mu[i], NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_mutex_init(&s->ev_mu, NULL);
    s->share = curl_share_init();
    if (!s->share || curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(s->share, CURLSHOPT_USERDATA, s) ||
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION)) {
        sfp_err_set(err, SFP_INTERNAL, "curl share setup failed");
        sfp_soda_destroy(s);
        return NULL;
    }
    s->headers = curl_slist_append(NULL, "Accept: application/json");
    if (s->app_token) {
        sfp_buf h;
        sfp_buf_init(&h);
        sfp_buf_printf(&h, "X-App-Token: %s", s->app_token);
        s->headers = curl_slist_append(s->headers, h.data);
        sfp_buf_free(&h);
    }
    if (sfp_soda_loop_start(s)) {
        sfp_err_set(err, SFP_INTERNAL, "soda event loop could not start");
        sfp_soda_destroy(s);
        return NULL;
    }
    sfp_log(SFP_INFO, "soda client ready", SFP_S("base_url", s->base_url), SFP_B("app_token", s->app_token != NULL),
            SFP_I("timeout_ms", s->timeout_ms), SFP_I("cb_threshold", c->breaker.threshold),
            SFP_I("cb_timeout_s", c->breaker.open_s), SFP_I("cache_ttl_s", c->cache.ttl_s),
            SFP_I("cache_max_entries", c->cache.max_entries));
    return s;
}

sfp_soda *sfp_soda_create_from_env(sfp_err *err)
{
    sfp_soda_config c;
    if (sfp_soda_config_from_env(&c, err)) return NULL;
    return sfp_soda_create(&c, err);
}

void sfp_soda_destroy(sfp_soda *s)
{
    if (!s) return;
    sfp_soda_loop_stop(s);
    for (int i = 0; i < s->npool; i++) curl_multi_cleanup(s->pool[i]);
    if (s->share) curl_share_cleanup(s->share);
    curl_slist_free_all(s->headers);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&s->share_mu[i]);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_mutex_destroy(&s->ev_mu);
    sfp_ttl_cache_free(s->cache);
    sfp_breaker_free(s->breaker);
    free(s->base_url);
    free(s->app_token);
    free(s);
}

sfp_breaker *sfp_soda_breaker(sfp_soda *s)
{
    return s->breaker;
}
sfp_ttl_cache *sfp_soda_cache(sfp_soda *s)
{
    return s->cache;
}

void sfp_soda_get_counters(sfp_soda *s, sfp_soda_counters *out)
{
    out->requests = atomic_load(&s->n_requests);
    out->ok = atomic_load(&s->n_ok);
    out->errors = atomic_load(&s->n_errors);
    out->breaker_rejected = atomic_load(&s->n_rejected);
    out->bytes = atomic_load(&s->n_bytes);
}

/* ======================= SoQL helpers ======================= */

int sfp_soda_soql_quote(const char *v, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz < 3) return -1;
    out[o++] = '\'';
    for (const char *p = v; *p; p++) {
        size_t need = (*p == '\'') ? 2 : 1;
        if (o + need + 2 > outsz) return -1;
        out[o++] = *p;
        if (*p == '\'') out[o++] = '\'';
    }
    out[o++] = '\'';
    out[o] = '\0';
    return 0;
}

int sfp_soda_where_parcel(const char *block, const char *lot, char *out, size_t outsz, sfp_err *err)
{
    if (!sfp_soda_valid_block(block))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "block must be 4 digits and an optional capital letter");
    if (!sfp_soda_valid_lot(lot))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "lot must be 3 digits and an optional capital letter");
    char qb[16], ql[16];
    if (sfp_soda_soql_quote(block, qb, sizeof qb) || sfp_soda_soql_quote(lot, ql, sizeof ql))
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "block/lot too long");
    int n = snprintf(out, outsz, "block=%s AND lot=%s", qb, ql);
    if (n < 0 || (size_t)n >= outsz) return sfp_err_set(err, SFP_INTERNAL, "where buffer too small");
    return 0;
}

void sfp_soda_cache_key(const char *dataset, const char *block, const char *lot, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s:%s:%s", dataset, block, lot);
}

static void put_param(sfp_buf *b, const char *name, const char *val)
{
    char *e = curl_easy_escape(NULL, val, 0);
    if (!e) abort();
    sfp_buf_printf(b, "%s=%s&", name, e);
    curl_free(e);
}

char *sfp_soda_build_url(const char *base, const sfp_soda_query *q, sfp_err *err)
{
    if (!q || !sfp_soda_valid_dataset(q->dataset)) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "invalid SODA dataset id");
        return NULL;
    }
    if (q->limit < 1 || q->limit > 50000) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA $limit must be 1..50000");
        return NULL;
    }
    if (q->offset < 0) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "SODA $offset must be >= 0");
        return NULL;
    }
    const char *parts[3] = {q->select, q->where, q->order};
    for (int i = 0; i < 3; i++)
        if (parts[i] && strlen(parts[i]) > 4096) {
            sfp_err_set(err, SFP_INVALID_ARGUMENT, "SoQL clause too long");
            return NULL;
        }
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_printf(&b, "%s/%s.json?", base, q->dataset);
    if (q->select) put_param(&b, "$select", q->select);
    if (q->where) put_param(&b, "$where", q->where);
    if (q->order) put_param(&b, "$order", q->order);
    sfp_buf_printf(&b, "$limit=%ld&$offset=%ld", q->limit, q->offset);
    return sfp_buf_steal(&b, NULL);
}

/* ======================= rows ======================= */

/* sfp_soda_rows_parse and the accessors: soda_rows.c */

/* ======================= transfers ======================= */

sfp_breaker_outcome sfp_soda_classify(int curl_code, long http_status, bool body_ok)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        if (http_status >= 200 && http_status < 300) return body_ok ? SFP_BREAKER_SUCCESS : SFP_BREAKER_FAILURE;
        if (http_status == 408 || http_status == 429 || http_status >= 500) return SFP_BREAKER_FAILURE;
        return SFP_BREAKER_IGNORED; /* other 4xx (and unfollowed 3xx): our request is wrong */
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS: return SFP_BREAKER_FAILURE;
    default: return SFP_BREAKER_IGNORED; /* our limits (size), malformed URL, out of memory, ... */
    }
}

typedef struct xfer {
    sfp_soda *s;
    const sfp_soda_query *q;
    sfp_soda_response *out;
    CURL *easy;
    char *url;
    sfp_buf body;
    bool too_large;
    bool active;
    bool budget_limited; /* its timeout came from the caller's budget, not SODA_TIMEOUT_MS */
    bool cancelled;      /* ended by sfp_soda_cancel_all (shutdown) */
    int64_t budget_ms;   /* timeout given to curl */
    int retry_after_s;
    int64_t t0;
    sfp_breaker_ticket ticket;
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n;
    if (x->body.len + len > (size_t)x->s->max_bytes) {
        x->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sfp_buf_append(&x->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n;
    if (len >= 5 && !strncmp(p, "HTTP/", 5)) x->retry_after_s = 0; /* a new response (redirect) */
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        char v[64];
        size_t vl = len - 12;
        if (vl >= sizeof v) vl = sizeof v - 1;
        memcpy(v, p + 12, vl);
        v[vl] = '\0';
        char *s = v;
        while (*s == ' ' || *s == '\t') s++;
        s[strcspn(s, "\r\n")] = '\0';
        char *end = NULL;
        long secs = strtol(s, &end, 10);
        if (end != s && *end == '\0') {
            x->retry_after_s = secs < 0 ? 0 : secs > 86400 ? 86400 : (int)secs;
        } else {
            time_t t = curl_getdate(s, NULL);
            time_t now = time(NULL);
            if (t > now) x->retry_after_s = (int)((t - now) > 86400 ? 86400 : (t - now));
        }
    }
    return len;
}

static CURL *make_easy(sfp_soda *s, xfer *x)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    long timeout = (long)x->budget_ms;
    long ctimeout = s->connect_timeout_ms < timeout ? s->connect_timeout_ms : timeout;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_SHARE, s->share);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sfpermits/" SFP_VERSION);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_bytes);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    return e;
}

static CURLM *pool_get(sfp_soda *s)
{
    CURLM *m = NULL;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool > 0) m = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_mu);
    if (!m) {
        m = curl_multi_init();
        if (m) curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, MULTI_MAXCONNECTS);
    }
    return m;
}

static void pool_put(sfp_soda *s, CURLM *m)
{
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool < POOL_MAX) {
        s->pool[s->npool++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (m) curl_multi_cleanup(m);
}

static void busy_add(sfp_soda *s, CURLM *m)
{
    pthread_mutex_lock(&s->pool_mu);
    if (s->nbusy < POOL_MAX) s->busy[s->nbusy++] = m;
    pthread_mutex_unlock(&s->pool_mu);
}

static void busy_remove(sfp_soda *s, CURLM *m)
{
    pthread_mutex_lock(&s->pool_mu);
    for (int i = 0; i < s->nbusy; i++)
        if (s->busy[i] == m) {
            s->busy[i] = s->busy[--s->nbusy];
            break;
        }
    pthread_mutex_unlock(&s->pool_mu);
}

static void set_reason(sfp_soda_response *r, sfp_soda_status st, const char *reason)
{
    r->status = st;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
}

/* Turns a finished (or abandoned: cc = CURLE_OPERATION_TIMEDOUT) transfer into its response and
 * reports the outcome to the breaker. */
static void finish(xfer *x, CURLcode cc)
{
    sfp_soda *s = x->s;
    sfp_soda_response *r = x->out;
    long http = 0;
    if (x->easy) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
    r->http_status = http;
    r->elapsed_ms = (double)(sfp_mono_ms() - x->t0);
    bool body_ok = false;
    if (cc == CURLE_OK && http >= 200 && http < 300) {
        r->rows = x->q && x->q->parse ? x->q->parse(x->body.data, x->body.len, x->q->parse_ctx)
                                      : sfp_soda_rows_parse(x->body.data, x->body.len);
        body_ok = r->rows != NULL;
        if (body_ok) set_reason(r, SFP_SODA_OK, "");
        else set_reason(r, SFP_SODA_E_BAD_BODY, "bad_json");
    } else if (cc == CURLE_OK) {
        char why[32];
        snprintf(why, sizeof why, "http_%ld", http);
        set_reason(r, SFP_SODA_E_HTTP, why);
        if (http == 429 || http == 503) r->retry_after_s = x->retry_after_s;
    } else if (x->cancelled) {
        set_reason(r, SFP_SODA_E_DEADLINE, "cancelled");
    } else if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        set_reason(r, SFP_SODA_E_TOO_LARGE, "too_large");
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        if (x->budget_limited) set_reason(r, SFP_SODA_E_DEADLINE, "deadline");
        else set_reason(r, SFP_SODA_E_TIMEOUT, "timeout");
    } else if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY) {
        set_reason(r, SFP_SODA_E_NETWORK, "dns");
    } else if (cc == CURLE_COULDNT_CONNECT) {
        set_reason(r, SFP_SODA_E_NETWORK, "connect");
    } else if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION) {
        set_reason(r, SFP_SODA_E_NETWORK, "tls");
    } else if (sfp_soda_classify(cc, 0, false) == SFP_BREAKER_FAILURE) {
        set_reason(r, SFP_SODA_E_NETWORK, "network");
    } else {
        char why[32];
        snprintf(why, sizeof why, "curl_%d", (int)cc);
        set_reason(r, SFP_SODA_E_INTERNAL, why);
    }

    sfp_breaker_outcome o = sfp_soda_classify(cc, http, body_ok);
    if (x->too_large || x->cancelled) o = SFP_BREAKER_IGNORED;
    int64_t short_budget = s->timeout_ms < SHORT_BUDGET_MS ? s->timeout_ms : SHORT_BUDGET_MS;
    if (r->status == SFP_SODA_E_DEADLINE && x->budget_ms < short_budget) o = SFP_BREAKER_IGNORED;
    sfp_breaker_done(s->breaker, &x->ticket, o, (http == 429 || http == 503) ? x->retry_after_s : 0);

    atomic_fetch_add(&s->n_bytes, (long long)x->body.len);
    if (r->status == SFP_SODA_OK) {
        atomic_fetch_add(&s->n_ok, 1);
        sfp_log(SFP_DEBUG, "soda request", SFP_S("dataset", x->q->dataset), SFP_I("status", http),
                SFP_I("rows", sfp_soda_rows_count(r->rows)), SFP_D("ms", r->elapsed_ms));
    } else {
        atomic_fetch_add(&s->n_errors, 1);
        sfp_log(o == SFP_BREAKER_IGNORED && r->status != SFP_SODA_E_DEADLINE ? SFP_ERROR : SFP_WARN,
                "soda request failed", SFP_S("dataset", x->q->dataset), SFP_S("reason", r->reason),
                SFP_I("status", http), SFP_D("ms", r->elapsed_ms),
                SFP_S("breaker_outcome", o == SFP_BREAKER_FAILURE ? "failure" : "ignored"));
    }
}

static void run_many(sfp_soda *s, const sfp_soda_query *qs, size_t n, int64_t deadline, sfp_soda_response *outs)
{
    if (n == 0) return;
    xfer *xs = calloc(n, sizeof *xs);
    if (!xs) abort();
    CURLM *m = NULL;
    size_t active = 0;
    for (size_t i = 0; i < n; i++) {
        sfp_soda_response *r = &outs[i];
        memset(r, 0, sizeof *r);
        xfer *x = &xs[i];
        x->s = s;
        x->q = &qs[i];
        x->out = r;
        x->t0 = sfp_mono_ms();
        sfp_buf_init(&x->body);
        sfp_err err = {0};
        x->url = sfp_soda_build_url(s->base_url, &qs[i], &err);
        if (!x->url) {
            set_reason(r, SFP_SODA_E_INVALID, "invalid_query");
            sfp_log(SFP_ERROR, "soda query rejected", SFP_S("dataset", qs[i].dataset ? qs[i].dataset : ""),
                    SFP_S("error", err.msg));
            continue;
        }
        int64_t left = deadline - x->t0;
        if (left <= 0) {
            set_reason(r, SFP_SODA_E_DEADLINE, "deadline");
            continue;
        }
        if (!sfp_breaker_allow(s->breaker, &x->ticket)) {
            set_reason(r, SFP_SODA_E_BREAKER_OPEN, "breaker_open");
            atomic_fetch_add(&s->n_rejected, 1);
            sfp_log(SFP_DEBUG, "soda breaker open: query skipped", SFP_S("dataset", qs[i].dataset));
            continue;
        }
        x->budget_ms = left < s->timeout_ms ? left : s->timeout_ms;
        x->budget_limited = left < s->timeout_ms;
        if (!m) m = pool_get(s);
        x->easy = m ? make_easy(s, x) : NULL;
        if (!x->easy || curl_multi_add_handle(m, x->easy) != CURLM_OK) {
            set_reason(r, SFP_SODA_E_INTERNAL, "curl_init");
            sfp_breaker_done(s->breaker, &x->ticket, SFP_BREAKER_IGNORED, 0);
            if (x->easy) curl_easy_cleanup(x->easy);
            x->easy = NULL;
            continue;
        }
        x->active = true;
        active++;
        atomic_fetch_add(&s->n_requests, 1);
    }

    if (m) busy_add(s, m);
    while (active > 0) {
        if (atomic_load(&s->cancelled)) break; /* shutdown: the rest end as cancelled below */
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            xfer *x = (xfer *)priv;
            CURLcode cc = msg->data.result;
            finish(x, cc);
            curl_multi_remove_handle(m, x->easy);
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
            x->active = false;
            active--;
        }
        if (active == 0) break;
        int64_t left = deadline - sfp_mono_ms();
        if (left <= -50) break; /* curl's own timeouts should have fired; never overrun */
        int wait = left <= 0 ? 10 : left > 1000 ? 1000 : (int)left + 5;
        curl_multi_poll(m, NULL, 0, wait, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        xfer *x = &xs[i];
        if (x->active) {
            x->budget_limited = true;
            x->cancelled = atomic_load(&s->cancelled);
            finish(x, CURLE_OPERATION_TIMEDOUT);
            curl_multi_remove_handle(m, x->easy);
            curl_easy_cleanup(x->easy);
        }
        sfp_buf_free(&x->body);
        free(x->url);
    }
    if (m) {
        busy_remove(s, m);
        pool_put(s, m);
    }
    free(xs);
}

static int64_t deadline_from_budget(const sfp_soda *s, int64_t budget_ms)
{
    int64_t cap = 2 * (int64_t)s->timeout_ms + 1000; /* joiners may wait for a leader's full timeout */
    if (budget_ms > cap) budget_ms = cap;
    if (budget_ms < 0) budget_ms = 0;
    return sfp_mono_ms() + budget_ms;
}

int sfp_soda_query_run(sfp_soda *s, const sfp_soda_query *q, int64_t budget_ms, sfp_soda_response *out)
{
    run_many(s, q, 1, deadline_from_budget(s, budget_ms), out);
    return out->status == SFP_SODA_OK ? 0 : -1;
}

void sfp_soda_query_many(sfp_soda *s, const sfp_soda_query *qs, size_t n, int64_t budget_ms, sfp_soda_response *outs)
{
    run_many(s, qs, n, deadline_from_budget(s, budget_ms), outs);
}

void sfp_soda_response_clear(sfp_soda_response *r)
{
    if (!r) return;
    sfp_cache_val_unref(r->rows);
    r->rows = NULL;
}

/* ======================= cached parcel queries ======================= */

const char *sfp_soda_source_name(sfp_soda_source s)
{
    switch (s) {
    case SFP_SODA_LIVE: return "live";
    case SFP_SODA_CACHED: return "cached";
    case SFP_SODA_STALE: return "stale";
    default: return "unavailable";
    }
}

void sfp_soda_result_clear(sfp_soda_result *r)
{
    if (!r) return;
    sfp_cache_val_unref(r->rows);
    r->rows = NULL;
}

void sfp_soda_results_clear(sfp_soda_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) sfp_soda_result_clear(&r[i]);
}

/* ---- the event loop: one thread and one curl multi per client ----
 *
 * Every parcel job (sfp_soda_parcel_begin) resolves its cache hits in the calling thread; the
 * misses become "fetches" run by the loop thread, which owns the one curl multi handle of the
 * parcel path. A job is done when each of its datasets has a result or its deadline passes;
 * then its notify callback (if any) runs on the loop thread, or a thread blocked in
 * sfp_soda_parcel_end wakes up. No caller thread ever waits for the network unless it asks to
 * (sfp_soda_parcel_end before the job is done, sfp_soda_parcel_fetch).
 *
 * Coalescing still goes through the response cache's flights: a fetch is the flight's leader;
 * a job whose lookup JOINs a flight led by the loop waits as that fetch's waiter and ends its
 * flight handle when the fetch ends (the flight is then over, so that wait returns at once).
 * A flight led elsewhere (another sfp_soda on the same cache cannot exist, so this is only a
 * safety net) is waited for on a helper thread.
 *
 * Locking: s->ev_mu guards fetches, jobs and every job's results; cache and breaker calls made
 * under it take their own locks after it (never the other way round). */

typedef struct slot {
    char key[48];
    sfp_cache_lookup lk;
    struct fetch *fetch; /* the fetch this slot waits for, NULL once resolved */
    bool resolved;
    bool foreign; /* JOIN of a flight this client does not lead: helper thread */
} slot;

struct sfp_soda_pending {
    sfp_soda *s;
    char block[8], lot[8];
    const sfp_soda_parcel_spec *specs;
    size_t n;
    int64_t deadline;
    sfp_soda_result *res;
    slot *slots;
    size_t remaining; /* unresolved slots */
    bool done, abandoned, in_list;
    sfp_soda_done_fn fn;
    void *fn_arg;
    pthread_cond_t cv;                    /* done (for sfp_soda_parcel_end) */
    struct sfp_soda_pending *next, *prev; /* s->jobs: not done yet */
    bool threaded;
    pthread_t th;
    char request_id[129];
};

typedef struct waiter {
    sfp_soda_pending *p;
    size_t i;
    struct waiter *next;
} waiter;

typedef struct fetch {
    char key[48];
    char dataset[16], order[64], where[64];
    sfp_soda_query q;
    sfp_cache_flight *flight; /* we lead it */
    sfp_soda_response resp;
    xfer x;
    bool started;
    int64_t deadline;
    waiter *waiters;
    struct fetch *next;
} fetch;

/* Failure path of one dataset: serve a retained entry (stale) or report unavailable. */
static void fallback(sfp_soda *s, const char *key, const char *reason, long http, sfp_soda_result *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->reason, sizeof out->reason, "%s", reason);
    out->http_status = http;
    out->breaker_open = !strcmp(reason, "breaker_open");
    double age = 0;
    if (sfp_ttl_cache_get_stale(s->cache, key, &out->rows, &age)) {
        double ttl = sfp_ttl_cache_ttl(s->cache);
        out->age_s = age;
        if (age < ttl) {
            out->source = SFP_SODA_CACHED; /* someone refreshed it meanwhile */
            out->fresh_for_s = ttl - age;
        } else {
            out->source = SFP_SODA_STALE;
        }
        sfp_log(SFP_DEBUG, "soda stale served", SFP_S("key", key), SFP_S("reason", reason), SFP_D("age_s", age));
    } else {
        out->source = SFP_SODA_UNAVAILABLE;
    }
}

static void job_unlink(sfp_soda *s, sfp_soda_pending *p)
{
    if (!p->in_list) return;
    if (p->prev) p->prev->next = p->next;
    else s->jobs = p->next;
    if (p->next) p->next->prev = p->prev;
    p->in_list = false;
}

static void job_free(sfp_soda_pending *p)
{
    sfp_soda_results_clear(p->res, p->n);
    pthread_cond_destroy(&p->cv);
    free(p->res);
    free(p->slots);
    free(p);
}

/* A job whose last slot was just resolved (ev_mu held). Returns the job when its callback must
 * run after the lock is released, else NULL. */
static sfp_soda_pending *job_maybe_done(sfp_soda *s, sfp_soda_pending *p)
{
    if (p->done || p->remaining > 0) return NULL;
    p->done = true;
    job_unlink(s, p);
    pthread_cond_broadcast(&p->cv);
    if (p->abandoned && !p->threaded) {
        job_free(p);
        return NULL;
    }
    return p->fn ? p : NULL;
}

typedef struct done_list {
    sfp_soda_pending *items[64];
    size_t n;
    struct done_list *more;
} done_list;

static void done_push(done_list *d, sfp_soda_pending *p)
{
    if (!p) return;
    while (d->n == sizeof d->items / sizeof d->items[0]) {
        if (!d->more) {
            d->more = calloc(1, sizeof *d->more);
            if (!d->more) abort();
        }
        d = d->more;
    }
    d->items[d->n++] = p;
}

/* Runs the callbacks of finished jobs (no lock held). */
static void done_run(done_list *d)
{
    bool first = true;
    while (d) {
        for (size_t i = 0; i < d->n; i++) {
            sfp_soda_pending *p = d->items[i];
            sfp_log_set_request_id(p->request_id[0] ? p->request_id : NULL);
            p->fn(p->fn_arg); /* may call sfp_soda_parcel_end(p) and so free p */
        }
        sfp_log_set_request_id(NULL);
        done_list *next = d->more;
        if (!first) free(d);
        first = false;
        d = next;
    }
}

/* Resolves slot i of p with out (moved in), ev_mu held. */
static void slot_resolve(sfp_soda *s, sfp_soda_pending *p, size_t i, done_list *dl)
{
    slot *sl = &p->slots[i];
    if (sl->resolved) return;
    sl->resolved = true;
    sl->fetch = NULL;
    p->remaining--;
    done_push(dl, job_maybe_done(s, p));
}

static void fetch_unlink(sfp_soda *s, fetch *f)
{
    for (fetch **pp = &s->fetches; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            return;
        }
}

/* A fetch ended (resp filled by finish(), or a breaker refusal/cancel). Publishes to the
 * flight, resolves every waiter and frees the fetch. ev_mu held. */
static void fetch_end(sfp_soda *s, fetch *f, done_list *dl)
{
    sfp_soda_response *resp = &f->resp;
    fetch_unlink(s, f);
    bool ok = resp->status == SFP_SODA_OK;
    if (ok) sfp_ttl_cache_fill(s->cache, f->flight, resp->rows);
    else sfp_ttl_cache_fail(s->cache, f->flight, resp->reason, false);
    f->flight = NULL;
    for (waiter *w = f->waiters; w;) {
        waiter *next = w->next;
        sfp_soda_pending *p = w->p;
        slot *sl = &p->slots[w->i];
        sfp_soda_result *out = &p->res[w->i];
        if (!sl->resolved) {
            bool leader = sl->lk.kind == SFP_CACHE_LEAD;
            if (!leader) {
                /* our flight just ended: this wait returns at once */
                sfp_cache_val *val = NULL;
                sfp_ttl_cache_wait(s->cache, sl->lk.flight, sfp_mono_ms(), &val, NULL);
                sfp_cache_val_unref(val);
            }
            sl->lk.flight = NULL;
            if (ok) {
                memset(out, 0, sizeof *out);
                out->source = SFP_SODA_LIVE;
                out->coalesced = !leader;
                out->fresh_for_s = sfp_ttl_cache_ttl(s->cache);
                out->http_status = resp->http_status;
                out->rows = sfp_cache_val_ref(resp->rows);
            } else {
                fallback(s, sl->key, resp->reason, resp->http_status, out);
            }
            slot_resolve(s, p, w->i, dl);
        }
        free(w);
        w = next;
    }
    sfp_soda_response_clear(resp);
    sfp_buf_free(&f->x.body);
    free(f->x.url);
    free(f);
}

/* Starts the transfer of a new fetch (ev_mu held). Returns false when it ended at once
 * (breaker open, invalid, no budget): then it has been ended already. */
static bool fetch_start(sfp_soda *s, fetch *f, done_list *dl)
{
    f->started = true;
    xfer *x = &f->x;
    sfp_soda_response *r = &f->resp;
    memset(r, 0, sizeof *r);
    x->s = s;
    x->q = &f->q;
    x->out = r;
    x->t0 = sfp_mono_ms();
    sfp_buf_init(&x->body);
    sfp_err err = {0};
    x->url = sfp_soda_build_url(s->base_url, &f->q, &err);
    int64_t left = f->deadline - x->t0;
    if (!x->url) {
        set_reason(r, SFP_SODA_E_INVALID, "invalid_query");
    } else if (s->cancelled) {
        set_reason(r, SFP_SODA_E_DEADLINE, "cancelled");
    } else if (left <= 0) {
        set_reason(r, SFP_SODA_E_DEADLINE, "deadline");
    } else if (!sfp_breaker_allow(s->breaker, &x->ticket)) {
        set_reason(r, SFP_SODA_E_BREAKER_OPEN, "breaker_open");
        atomic_fetch_add(&s->n_rejected, 1);
        sfp_log(SFP_DEBUG, "soda breaker open: query skipped", SFP_S("dataset", f->dataset));
    } else {
        x->budget_ms = left < s->timeout_ms ? left : s->timeout_ms;
        x->budget_limited = left < s->timeout_ms;
        x->easy = make_easy(s, x);
        if (x->easy && curl_multi_add_handle(s->loop_multi, x->easy) == CURLM_OK) {
            x->active = true;
            atomic_fetch_add(&s->n_requests, 1);
            return true;
        }
        set_reason(r, SFP_SODA_E_INTERNAL, "curl_init");
        sfp_breaker_done(s->breaker, &x->ticket, SFP_BREAKER_IGNORED, 0);
        if (x->easy) curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    fetch_end(s, f, dl);
    return false;
}

/* Detaches every unresolved slot of jobs past their deadline (ev_mu held); returns ms until
 * the next job deadline (capped at 1000). */
static int expire_jobs(sfp_soda *s, done_list *dl)
{
    int64_t now = sfp_mono_ms(), next = now + 1000;
    for (sfp_soda_pending *p = s->jobs, *pn; p; p = pn) {
        pn = p->next;
        if (p->deadline > now && !s->cancelled) {
            if (p->deadline < next) next = p->deadline;
            continue;
        }
        const char *why = s->cancelled ? "cancelled" : "deadline";
        for (size_t i = 0; i < p->n; i++) {
            slot *sl = &p->slots[i];
            if (sl->resolved || sl->foreign) continue;
            fetch *f = sl->fetch;
            if (f) {
                for (waiter **wp = &f->waiters; *wp; wp = &(*wp)->next)
                    if ((*wp)->p == p && (*wp)->i == i) {
                        waiter *w = *wp;
                        *wp = w->next;
                        free(w);
                        break;
                    }
            }
            if (sl->lk.kind == SFP_CACHE_JOIN && sl->lk.flight) {
                sfp_ttl_cache_wait(s->cache, sl->lk.flight, now, NULL, NULL); /* ends our handle */
                sl->lk.flight = NULL;
            }
            fallback(s, sl->key, why, 0, &p->res[i]);
            bool last = p->remaining == 1;
            slot_resolve(s, p, i, dl); /* the last one may free an abandoned p */
            if (last) break;
        }
    }
    return (int)(next - now < 1 ? 1 : next - now);
}

static void *loop_main(void *arg)
{
    sfp_soda *s = arg;
    done_list dl;
    for (;;) {
        memset(&dl, 0, sizeof dl);
        pthread_mutex_lock(&s->ev_mu);
        /* new fetches */
        for (fetch *f = s->fetches, *fn; f; f = fn) {
            fn = f->next;
            if (!f->started) fetch_start(s, f, &dl);
        }
        /* cancel (shutdown): abort every transfer now */
        if (s->cancelled) {
            for (fetch *f = s->fetches, *fn; f; f = fn) {
                fn = f->next;
                if (!f->x.active) continue;
                curl_multi_remove_handle(s->loop_multi, f->x.easy);
                f->x.cancelled = true;
                finish(&f->x, CURLE_ABORTED_BY_CALLBACK);
                curl_easy_cleanup(f->x.easy);
                f->x.easy = NULL;
                f->x.active = false;
                fetch_end(s, f, &dl);
            }
        }
        int wait_ms = expire_jobs(s, &dl);
        bool stop = s->loop_stop && !s->fetches && !s->jobs;
        pthread_mutex_unlock(&s->ev_mu);
        done_run(&dl);
        if (stop) break;

        int running = 0;
        curl_multi_perform(s->loop_multi, &running);
        CURLMsg *msg;
        int q;
        memset(&dl, 0, sizeof dl);
        pthread_mutex_lock(&s->ev_mu);
        while ((msg = curl_multi_info_read(s->loop_multi, &q))) {
            if (msg->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            xfer *x = (xfer *)priv;
            fetch *f = (fetch *)((char *)x - offsetof(fetch, x));
            CURLcode cc = msg->data.result;
            finish(x, cc);
            curl_multi_remove_handle(s->loop_multi, x->easy);
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
            x->active = false;
            fetch_end(s, f, &dl);
        }
        pthread_mutex_unlock(&s->ev_mu);
        done_run(&dl);
        curl_multi_poll(s->loop_multi, NULL, 0, wait_ms, NULL);
    }
    return NULL;
}

static int sfp_soda_loop_start(sfp_soda *s)
{
    s->loop_multi = curl_multi_init();
    if (!s->loop_multi) return -1;
    curl_multi_setopt(s->loop_multi, CURLMOPT_MAXCONNECTS, 64L);
    if (pthread_create(&s->loop_th, NULL, loop_main, s) != 0) {
        curl_multi_cleanup(s->loop_multi);
        s->loop_multi = NULL;
        return -1;
    }
    s->loop_running = true;
    return 0;
}

static void sfp_soda_loop_stop(sfp_soda *s)
{
    if (!s->loop_running) return;
    pthread_mutex_lock(&s->ev_mu);
    s->loop_stop = true;
    s->cancelled = true; /* whatever is still running ends now */
    pthread_mutex_unlock(&s->ev_mu);
    curl_multi_wakeup(s->loop_multi);
    pthread_join(s->loop_th, NULL);
    curl_multi_cleanup(s->loop_multi);
    s->loop_multi = NULL;
    s->loop_running = false;
}

void sfp_soda_cancel_all(sfp_soda *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->ev_mu);
    s->cancelled = true;
    pthread_mutex_unlock(&s->ev_mu);
    if (s->loop_multi) curl_multi_wakeup(s->loop_multi);
    pthread_mutex_lock(&s->pool_mu);
    for (int i = 0; i < s->nbusy; i++) curl_multi_wakeup(s->busy[i]);
    pthread_mutex_unlock(&s->pool_mu);
    sfp_log_msg(SFP_WARN, "soda: in-flight transfers cancelled");
}

/* Safety net: slots that JOINed a flight this client does not lead wait on a helper thread. */
static void *foreign_thread(void *arg)
{
    sfp_soda_pending *p = arg;
    sfp_soda *s = p->s;
    sfp_log_set_request_id(p->request_id[0] ? p->request_id : NULL);
    for (size_t i = 0; i < p->n; i++) {
        slot *sl = &p->slots[i];
        if (!sl->foreign) continue;
        sfp_cache_val *val = NULL;
        char reason[32];
        sfp_soda_result out;
        switch (sfp_ttl_cache_wait(s->cache, sl->lk.flight, p->deadline, &val, reason)) {
        case SFP_CACHE_WAIT_FILLED:
            memset(&out, 0, sizeof out);
            out.source = SFP_SODA_LIVE;
            out.coalesced = true;
            out.fresh_for_s = sfp_ttl_cache_ttl(s->cache);
            out.rows = val;
            break;
        case SFP_CACHE_WAIT_LEAD:
            sfp_ttl_cache_fail(s->cache, sl->lk.flight, "deadline", false);
            fallback(s, sl->key, "deadline", 0, &out);
            break;
        case SFP_CACHE_WAIT_FAILED: fallback(s, sl->key, reason, 0, &out); break;
        default: fallback(s, sl->key, "deadline", 0, &out); break;
        }
        sl->lk.flight = NULL;
        done_list dl;
        memset(&dl, 0, sizeof dl);
        pthread_mutex_lock(&s->ev_mu);
        p->res[i] = out;
        slot_resolve(s, p, i, &dl);
        pthread_mutex_unlock(&s->ev_mu);
        done_run(&dl);
    }
    return NULL;
}

static sfp_soda_pending *pending_new(sfp_soda *s, const char *block, const char *lot, const sfp_soda_parcel_spec *specs,
                                     size_t n, int64_t budget_ms, sfp_err *err)
{
    char where[64];
    if (!block || !lot || sfp_soda_where_parcel(block, lot, where, sizeof where, err)) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!sfp_soda_valid_dataset(specs[i].dataset) || specs[i].limit < 1 || specs[i].limit > 50000 ||
            (specs[i].order && strlen(specs[i].order) >= 64)) {
            sfp_err_set(err, SFP_INVALID_ARGUMENT, "invalid SODA dataset spec");
            return NULL;
        }
    sfp_soda_pending *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->s = s;
    snprintf(p->block, sizeof p->block, "%s", block);
    snprintf(p->lot, sizeof p->lot, "%s", lot);
    p->specs = specs;
    p->n = n;
    p->deadline = deadline_from_budget(s, budget_ms);
    p->res = calloc(n ? n : 1, sizeof *p->res);
    p->slots = calloc(n ? n : 1, sizeof *p->slots);
    if (!p->res || !p->slots) abort();
    pthread_cond_init(&p->cv, NULL);
    const char *rid = sfp_log_request_id();
    if (rid) snprintf(p->request_id, sizeof p->request_id, "%s", rid);
    return p;
}

static fetch *find_fetch(sfp_soda *s, const char *key)
{
    for (fetch *f = s->fetches; f; f = f->next)
        if (!strcmp(f->key, key)) return f;
    return NULL;
}

static void add_waiter(fetch *f, sfp_soda_pending *p, size_t i)
{
    waiter *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->p = p;
    w->i = i;
    w->next = f->waiters;
    f->waiters = w;
    p->slots[i].fetch = f;
}

sfp_soda_pending *sfp_soda_parcel_begin(sfp_soda *s, const char *block, const char *lot,
                                        const sfp_soda_parcel_spec *specs, size_t n, int64_t budget_ms, sfp_err *err)
{
    sfp_soda_pending *p = pending_new(s, block, lot, specs, n, budget_ms, err);
    if (!p) return NULL;
    char where[64];
    sfp_soda_where_parcel(p->block, p->lot, where, sizeof where, NULL);
    bool wake = false, foreign = false;
    pthread_mutex_lock(&s->ev_mu);
    p->remaining = n;
    for (size_t i = 0; i < n; i++) {
        slot *sl = &p->slots[i];
        sfp_soda_cache_key(specs[i].dataset, p->block, p->lot, sl->key, sizeof sl->key);
        sfp_ttl_cache_lookup(s->cache, sl->key, &sl->lk);
        if (sl->lk.kind == SFP_CACHE_HIT) {
            sfp_soda_result *r = &p->res[i];
            memset(r, 0, sizeof *r);
            r->source = SFP_SODA_CACHED;
            r->age_s = sl->lk.age_s;
            r->fresh_for_s = sl->lk.ttl_left_s;
            r->rows = sl->lk.val;
            sl->lk.val = NULL;
            sl->resolved = true;
            p->remaining--;
        } else if (sl->lk.kind == SFP_CACHE_LEAD) {
            fetch *f = calloc(1, sizeof *f);
            if (!f) abort();
            snprintf(f->key, sizeof f->key, "%s", sl->key);
            snprintf(f->dataset, sizeof f->dataset, "%s", specs[i].dataset);
            snprintf(f->order, sizeof f->order, "%s", specs[i].order ? specs[i].order : "");
            snprintf(f->where, sizeof f->where, "%s", where);
            f->q = (sfp_soda_query){.dataset = f->dataset,
                                    .where = f->where,
                                    .order = specs[i].order ? f->order : NULL,
                                    .limit = specs[i].limit,
                                    .offset = 0};
            f->flight = sl->lk.flight;
            f->deadline = p->deadline;
            f->next = s->fetches;
            s->fetches = f;
            add_waiter(f, p, i);
            wake = true;
        } else {
            fetch *f = find_fetch(s, sl->key);
            if (f) add_waiter(f, p, i);
            else sl->foreign = foreign = true;
        }
    }
    if (p->remaining == 0) {
        p->done = true;
    } else {
        p->next = s->jobs;
        if (s->jobs) s->jobs->prev = p;
        s->jobs = p;
        p->in_list = true;
        wake = true;
    }
    if (foreign) p->threaded = true;
    pthread_mutex_unlock(&s->ev_mu);
    if (foreign && pthread_create(&p->th, NULL, foreign_thread, p) != 0) {
        p->threaded = false;
        foreign_thread(p);
    }
    if (wake) curl_multi_wakeup(s->loop_multi);
    return p;
}

bool sfp_soda_parcel_notify(sfp_soda_pending *p, sfp_soda_done_fn fn, void *arg)
{
    sfp_soda *s = p->s;
    pthread_mutex_lock(&s->ev_mu);
    bool later = !p->done;
    if (later) {
        p->fn = fn;
        p->fn_arg = arg;
    }
    pthread_mutex_unlock(&s->ev_mu);
    return later;
}

bool sfp_soda_parcel_done(sfp_soda_pending *p)
{
    pthread_mutex_lock(&p->s->ev_mu);
    bool d = p->done;
    pthread_mutex_unlock(&p->s->ev_mu);
    return d;
}

void sfp_soda_parcel_end(sfp_soda_pending *p, sfp_soda_result *out)
{
    if (!p) return;
    sfp_soda *s = p->s;
    pthread_mutex_lock(&s->ev_mu);
    while (!p->done) pthread_cond_wait(&p->cv, &s->ev_mu);
    pthread_mutex_unlock(&s->ev_mu);
    if (p->threaded) pthread_join(p->th, NULL);
    if (out) {
        memcpy(out, p->res, p->n * sizeof *out);
        memset(p->res, 0, p->n * sizeof *p->res); /* the references moved to out */
    }
    job_free(p);
}

void sfp_soda_parcel_release(sfp_soda_pending *p)
{
    if (!p) return;
    sfp_soda *s = p->s;
    pthread_mutex_lock(&s->ev_mu);
    bool now = p->done || p->threaded;
    if (!now) {
        p->abandoned = true;
        p->fn = NULL;
    }
    pthread_mutex_unlock(&s->ev_mu);
    if (now) sfp_soda_parcel_end(p, NULL); /* done: frees; helper thread: bounded by the deadline */
}

int sfp_soda_parcel_fetch(sfp_soda *s, const char *block, const char *lot, const sfp_soda_parcel_spec *specs, size_t n,
                          int64_t budget_ms, sfp_soda_result *out, sfp_err *err)
{
    sfp_soda_pending *p = sfp_soda_parcel_begin(s, block, lot, specs, n, budget_ms, err);
    if (!p) return -1;
    sfp_soda_parcel_end(p, out);
    return 0;
}
