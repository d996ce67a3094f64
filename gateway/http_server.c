/* http_server.c — libmicrohttpd wiring; see http_server.h for the request life cycle. */
#include "http_server.h"
#include "gw_cors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "gw_front.h"
#include "gw_head.h"
#include "gw_limits.h"
#include "rpc_async.h"
#include "gw_metrics.h"
#include "gw_ratelimit.h"
#include "log.h"
#include "status_map.h"

/* Streamed bodies beyond the limit are drained up to this much more, then the connection is
 * dropped (see http_server.h). */
#define GW_DRAIN_MAX (1u << 20)

struct gw_server {
    gw_config cfg; /* copy */
    gw_router *router;
    gw_backends *backends;
    unsigned visible;
    size_t conn_memory;
    struct MHD_Daemon *d;
    gw_front *front;
    sfp_rpc_cq *cq;
    int port;
    atomic_int active;
    atomic_bool draining;
    gw_ready_cache ready;
    gw_ratelimit *report_limit;
    gw_metrics *metrics;
};

/* One per request: allocated by the URI-log callback (or the first handler call), owned by
 * MHD's con_cls slot, freed by the completion callback. */
typedef struct gw_ctx {
    gw_server *srv;
    struct MHD_Connection *conn;
    const char *uri_ptr; /* libmicrohttpd's copy of the request target (its pool), for the NUL check */
    char *raw_uri;       /* owned: request target as received (up to a NUL, if any) */
    char *path;          /* owned: raw_uri up to '?' */
    int64_t start_ns;
    unsigned calls;
    bool counted;   /* included in srv->active */
    bool responded; /* a response was queued */
    int pending_status;
    char pending_msg[128];
    bool body_too_large;
    uint64_t body_seen;
    sfp_buf body;
    char method[16];
    char request_id[GW_REQUEST_ID_MAX + 1];
    int status;
    double ms;
    size_t resp_bytes;
    const char *route; /* static pattern */
    /* dispatch and the asynchronous backend call (gw_call_async) */
    bool dispatched;
    gw_match match;   /* captures of the request (owned) */
    gw_request req;   /* what the handler and its continuations see */
    gw_response resp; /* filled by the handler / continuation */
    bool suspended;   /* a call is in flight; the connection is suspended */
    atomic_bool reply_ready;
    gw_rpc_cont cont;
    gw_backend_id call_be;
    const char *call_path;
    int64_t call_t0;
    sfp_rpc_status reply_st;
    uint8_t *reply_bytes; /* owned until the continuation ran */
    size_t reply_len;
} gw_ctx;

/* ------------------------------------------------------------------ accessors */

const gw_config *gw_server_config(const gw_server *s)
{
    return &s->cfg;
}
gw_backends *gw_server_backends(gw_server *s)
{
    return s->backends;
}
gw_ready_cache *gw_server_ready_cache(gw_server *s)
{
    return &s->ready;
}
gw_ratelimit *gw_server_report_limiter(gw_server *s)
{
    return s->report_limit;
}
gw_metrics *gw_server_metrics(gw_server *s)
{
    return s->metrics;
}
static int in_flight(void *s)
{
    return atomic_load(&((gw_server *)s)->active);
}

void gw_req_client_ip(const gw_request *req, char *out, size_t n)
{
    char peer[INET6_ADDRSTRLEN] = "";
    if (req->conn) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer, sizeof peer);
        else if (sa && sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof peer);
    }
    gw_client_ip(peer, gw_req_header(req, "X-Forwarded-For"), req->srv ? req->srv->cfg.trusted_proxies : "", out, n);
}
bool gw_server_draining(const gw_server *s)
{
    return atomic_load(&((gw_server *)s)->draining);
}
int gw_server_port(const gw_server *s)
{
    return s->port;
}

const char *gw_req_header(const gw_request *req, const char *name)
{
    if (!req->conn) return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *gw_req_query(const gw_request *req, const char *name)
{
    if (!req->conn) return NULL;
    const char *v = NULL;
    size_t vn = 0;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &vn) != MHD_YES)
        return NULL;
    return v ? v : ""; /* "?full" without "=" */
}

/* ------------------------------------------------------------------ context */

static gw_ctx *ctx_new(gw_server *srv, const char *uri)
{
    gw_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->srv = srv;
    c->raw_uri = strdup(uri ? uri : "");
    if (!c->raw_uri) abort();
    size_t plen = strcspn(c->raw_uri, "?");
    c->path = strndup(c->raw_uri, plen);
    if (!c->path) abort();
    sfp_buf_init(&c->body);
    gw_resp_init(&c->resp);
    atomic_init(&c->reply_ready, false);
    return c;
}

static void ctx_free(gw_ctx *c)
{
    if (!c) return;
    free(c->raw_uri);
    free(c->path);
    sfp_buf_free(&c->body);
    if (c->dispatched) gw_match_clear(&c->match);
    gw_resp_free(&c->resp);
    free(c->reply_bytes);
    free(c);
}

static gw_conn *front_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    gw_server *srv = cls;
    gw_front_conn_request_line(srv->front, front_conn(conn));
    gw_ctx *c = ctx_new(srv, uri);
    c->uri_ptr = uri;
    return c;
}

static void notify_conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    gw_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? gw_front_conn_started(srv->front, ci->connect_fd) : NULL;
    } else {
        gw_front_conn_closed(srv->front, *socket_context);
        *socket_context = NULL;
    }
}

/* ------------------------------------------------------------------ responses */

static enum MHD_Result send_response(gw_server *srv, struct MHD_Connection *conn, gw_ctx *ctx, gw_response *resp)
{
    if (resp->status == 0) gw_resp_http_error(resp, 500, "handler produced no response");
    struct MHD_Response *r;
    size_t len = resp->body_len;
    if (resp->body) {
        r = MHD_create_response_from_buffer(len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r) resp->body = NULL; /* MHD frees it now */
    } else {
        r = MHD_create_response_from_buffer(len, (void *)(resp->static_body ? resp->static_body : ""),
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        gw_resp_free(resp);
        return MHD_NO;
    }
    for (size_t i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : GW_CT_JSON);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (ctx->request_id[0]) MHD_add_response_header(r, "X-Request-Id", ctx->request_id);
    if (atomic_load(&srv->draining)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    /* last: measured as close to queueing as possible */
    double ms = (double)(sfp_mono_ns() - ctx->start_ns) / 1e6;
    if (ms < 0) ms = 0;
    char rt[32];
    snprintf(rt, sizeof rt, "%.1fms", ms);
    MHD_add_response_header(r, "X-Response-Time", rt);
    /* Counted before queueing, so a client that saw the response also sees it in /metrics. */
    gw_metrics_observe(srv->metrics, ctx->route, ctx->method, resp->status, ms);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    ctx->responded = true;
    ctx->status = resp->status;
    ctx->ms = ms;
    ctx->resp_bytes = len;
    gw_resp_free(resp);
    return ret;
}

static enum MHD_Result send_http_error(gw_server *srv, struct MHD_Connection *conn, gw_ctx *ctx, int status,
                                       const char *msg)
{
    gw_response resp;
    gw_resp_init(&resp);
    gw_resp_http_error(&resp, status, msg);
    return send_response(srv, conn, ctx, &resp);
}

/* ------------------------------------------------------------------ first call: limits */

static void set_pending(gw_ctx *ctx, int status, const char *fmt, long v)
{
    if (ctx->pending_status) return;
    ctx->pending_status = status;
    snprintf(ctx->pending_msg, sizeof ctx->pending_msg, fmt, v);
}

/* Framing headers of a request: Content-Length / Transfer-Encoding counts and the TE value. */
typedef struct framing {
    int ncl, nte;
    const char *te;
    size_t bytes; /* header lines as sent */
} framing;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    size_t kl = key ? strlen(key) : 0;
    f->bytes += gw_header_line_bytes(kl, value ? strlen(value) : 0);
    if (key && !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) f->ncl++;
    if (key && !strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->nte++;
        f->te = value;
    }
    return MHD_YES;
}

/* The request-line and framing rules of gw_head.h, for requests libmicrohttpd parsed itself
 * (keep-alive requests after the first, which the front checked on the raw bytes). Returns 0,
 * or the HTTP status to answer (the connection is then closed) with *why set. */
static int strict_check(gw_ctx *ctx, const char *method, const char *version, const framing *f, const char **why)
{
    for (const char *p = method; p && *p; p++)
        if (!gw_head_tchar((unsigned char)*p)) return *why = "malformed request line", 400;
    /* libmicrohttpd hands over the target as a C string: a NUL sent inside it would silently cut
     * it. The target runs from where it started up to the space before the version. */
    size_t sent = strlen(ctx->raw_uri);
    if (ctx->uri_ptr && version && version > ctx->uri_ptr && (size_t)(version - ctx->uri_ptr) <= (1u << 20)) {
        size_t span = (size_t)(version - ctx->uri_ptr) - 1;
        if (span != sent) return *why = "NUL byte in the request line", 400;
    }
    for (const unsigned char *p = (const unsigned char *)ctx->raw_uri; *p; p++)
        if (*p < 0x21 || *p > 0x7e) return *why = "control or non-ASCII byte in the request target", 400;
    if (f->ncl > 1) return *why = "Content-Length given more than once", 400;
    if (f->nte > 1) return *why = "Transfer-Encoding given more than once", 400;
    if (f->ncl && f->nte) return *why = "Content-Length together with Transfer-Encoding", 400;
    if (f->nte && strcasecmp(f->te ? f->te : "", "chunked"))
        return *why = "transfer coding not implemented (only chunked)", 501;
    return 0;
}

static enum MHD_Result first_call(gw_server *srv, struct MHD_Connection *conn, gw_ctx *ctx, const char *method,
                                  const char *version)
{
    ctx->start_ns = sfp_mono_ns();
    ctx->counted = true;
    ctx->conn = conn;
    atomic_fetch_add(&srv->active, 1);
    gw_front_conn_head_done(srv->front, front_conn(conn));
    snprintf(ctx->method, sizeof ctx->method, "%s", method ? method : "");
    gw_request_id_choose(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"), ctx->request_id);
    sfp_log_set_request_id(ctx->request_id);

    framing fr = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &fr);
    const char *why = NULL;
    int bad = strict_check(ctx, method, version, &fr, &why);
    if (bad) { /* answered now: MHD then closes the connection, nothing after it is served */
        gw_response resp;
        gw_resp_init(&resp);
        gw_resp_http_error(&resp, bad, why);
        gw_resp_header(&resp, "Connection", "close");
        return send_response(srv, conn, ctx, &resp);
    }

    const gw_config *cfg = &srv->cfg;
    if ((long)strlen(ctx->raw_uri) > cfg->max_url)
        set_pending(ctx, 414, "request URL is longer than %ld bytes", cfg->max_url);

    size_t hbytes = strlen(ctx->method) + 1 + strlen(ctx->raw_uri) + 1 + (version ? strlen(version) : 8) + 2 + fr.bytes;
    if ((long)hbytes > cfg->max_header_bytes)
        set_pending(ctx, 431, "request headers are larger than %ld bytes", cfg->max_header_bytes);

    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t clen = 0;
    if (cl && gw_parse_content_length(cl, &clen) == 0 && clen > (uint64_t)cfg->max_body) {
        /* Answer before the body is sent (no 100 Continue); MHD closes the connection after. */
        if (ctx->pending_status) return send_http_error(srv, conn, ctx, ctx->pending_status, ctx->pending_msg);
        char msg[96];
        snprintf(msg, sizeof msg, "request body is larger than %ld bytes", cfg->max_body);
        return send_http_error(srv, conn, ctx, 413, msg);
    }
    return MHD_YES;
}

/* ------------------------------------------------------------------ dispatch */

typedef struct query_check {
    const char *const *allowed;
    char bad[72];
} query_check;

static enum MHD_Result check_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    query_check *q = cls;
    for (const char *const *a = q->allowed; *a; a++)
        if (key && !strcmp(*a, key)) return MHD_YES;
    snprintf(q->bad, sizeof q->bad, "%.64s", key ? key : "");
    return MHD_NO;
}

static void dispatch(gw_server *srv, struct MHD_Connection *conn, gw_ctx *ctx, gw_response *resp)
{
    gw_match *m = &ctx->match;
    char msg[160];
    switch (gw_router_match(srv->router, ctx->method, ctx->path, srv->visible, m)) {
    case GW_MATCH_NOT_FOUND: gw_resp_http_error(resp, 404, "no route matches this path"); break;
    case GW_MATCH_METHOD_NOT_ALLOWED: {
        char allow[96];
        gw_allow_header(m->allow, allow, sizeof allow);
        snprintf(msg, sizeof msg, "method %.16s is not allowed here; allowed: %s", ctx->method, allow);
        gw_resp_http_error(resp, 405, msg);
        gw_resp_header(resp, "Allow", "%s", allow);
        break;
    }
    case GW_MATCH_BAD_PATH:
        if (m->bad_param) {
            snprintf(msg, sizeof msg, "path parameter '%s' %s", m->bad_param, m->error);
            gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, m->bad_param, msg);
        } else {
            snprintf(msg, sizeof msg, "%s", m->error ? m->error : "bad path");
            gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "path", msg);
        }
        break;
    case GW_MATCH_OK: {
        const gw_route *rt = m->route;
        ctx->route = rt->pattern;
        if (rt->query) {
            query_check q = {.allowed = rt->query};
            MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_query, &q);
            if (q.bad[0]) {
                snprintf(msg, sizeof msg, "unknown query parameter '%s'", q.bad);
                gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, q.bad, msg);
                break;
            }
        }
        ctx->req = (gw_request){
            .srv = srv,
            .conn = conn,
            .method = ctx->method,
            .method_bit = gw_method_bit(ctx->method),
            .path = ctx->path,
            .route = rt,
            .match = m,
            .body = ctx->body.len ? ctx->body.data : NULL,
            .body_len = ctx->body.len,
            .request_id = ctx->request_id,
            .start_ns = ctx->start_ns,
            .ctx = ctx,
        };
        gw_request *req = &ctx->req;
        int timeout_ms = rt->deadline_ms > 0 ? rt->deadline_ms : srv->cfg.default_timeout_ms;
        const char *xt = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Timeout-Ms");
        if (xt) {
            if (gw_parse_timeout_ms(xt, GW_MAX_TIMEOUT_MS, &timeout_ms)) {
                gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "X-Timeout-Ms",
                                  "X-Timeout-Ms must be a positive integer (milliseconds)");
                break;
            }
            req->client_deadline = true;
        }
        req->deadline_ns = req->start_ns + (int64_t)timeout_ms * 1000000;
        rt->handler(req, resp);
        break;
    }
    }
}

/* ------------------------------------------------------------------ asynchronous calls */

gw_response *gw_server_response(gw_request *req)
{
    return &req->ctx->resp;
}

/* On the completion queue's thread: keep the reply, wake the connection. */
static void rpc_done(void *user, const sfp_rpc_status *st, uint8_t *bytes, size_t len)
{
    gw_ctx *ctx = user;
    ctx->reply_st = *st;
    ctx->reply_bytes = bytes;
    ctx->reply_len = len;
    atomic_store(&ctx->reply_ready, true);
    MHD_resume_connection(ctx->conn);
}

void gw_server_call_async(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                          const sfp_rpc_md *md, size_t nmd, int64_t timeout_ms, gw_rpc_cont cont)
{
    gw_ctx *ctx = req->ctx;
    gw_server *srv = ctx->srv;
    ctx->cont = cont;
    ctx->call_be = be;
    ctx->call_path = rpc_path;
    ctx->call_t0 = sfp_mono_ns();
    ctx->suspended = true;
    /* suspended first: the reply may arrive (and resume it) before this returns */
    MHD_suspend_connection(ctx->conn);
    sfp_rpc_call_async(srv->cq, srv->backends->ch[be], rpc_path, msg, timeout_ms, md, nmd, rpc_done, ctx);
}

/* Back in an HTTP worker after the reply: the continuation renders the response. */
static void run_continuation(gw_ctx *ctx)
{
    atomic_store(&ctx->reply_ready, false);
    ctx->suspended = false;
    gw_rpc_reply r = {.be = ctx->call_be, .rpc_path = ctx->call_path, .st = ctx->reply_st};
    uint8_t *bytes = ctx->reply_bytes;
    ctx->reply_bytes = NULL;
    if (r.st.code == GRPC_STATUS_OK) {
        r.bytes = bytes;
        r.len = ctx->reply_len;
    } else {
        gw_rpc_log_failure(ctx->call_be, ctx->call_path, &r.st, ctx->call_t0);
    }
    gw_rpc_cont cont = ctx->cont;
    ctx->cont = NULL;
    cont(&ctx->req, &ctx->resp, &r);
    free(bytes);
}

/* CORS preflight (gw_cors.h): with an allowlist, OPTIONS + Access-Control-Request-Method is
 * answered here for any routed path. Returns false when the request is not one. */
static bool cors_preflight(gw_server *srv, struct MHD_Connection *conn, gw_ctx *ctx, gw_response *resp)
{
    const char *acrm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (!srv->cfg.cors_origins || !*srv->cfg.cors_origins || strcmp(ctx->method, "OPTIONS") || !acrm) return false;
    gw_match m;
    gw_match_result mr = gw_router_match(srv->router, acrm, ctx->path, srv->visible, &m);
    unsigned allow = mr == GW_MATCH_OK ? m.route->methods : mr == GW_MATCH_METHOD_NOT_ALLOWED ? m.allow : 0;
    gw_match_clear(&m);
    gw_cors_preflight(srv->cfg.cors_origins, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"), acrm, allow,
                      resp);
    return true;
}

/* ------------------------------------------------------------------ MHD callbacks */

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    gw_server *srv = cls;
    gw_ctx *ctx = *con_cls;
    if (!ctx) { /* the URI-log callback always runs first; this is only a safety net */
        ctx = ctx_new(srv, url);
        *con_cls = ctx;
    }
    if (ctx->calls++ == 0) return first_call(srv, conn, ctx, method, version);
    sfp_log_set_request_id(ctx->request_id);
    if (ctx->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        ctx->body_seen += n;
        if (!ctx->pending_status && !ctx->body_too_large) {
            if (ctx->body.len + n > (size_t)srv->cfg.max_body) {
                ctx->body_too_large = true;
                sfp_buf_free(&ctx->body);
                sfp_buf_init(&ctx->body);
            } else {
                sfp_buf_append(&ctx->body, upload_data, n);
            }
        }
        if (ctx->body_seen > (uint64_t)srv->cfg.max_body + GW_DRAIN_MAX) {
            sfp_log(SFP_WARN, "request body far beyond the limit; dropping the connection",
                    SFP_I("max_body", srv->cfg.max_body));
            return MHD_NO;
        }
        return MHD_YES;
    }
    gw_response *resp = &ctx->resp;
    if (!ctx->dispatched) {
        ctx->dispatched = true;
        if (ctx->pending_status) {
            gw_resp_http_error(resp, ctx->pending_status, ctx->pending_msg);
        } else if (ctx->body_too_large) {
            char msg[96];
            snprintf(msg, sizeof msg, "request body is larger than %ld bytes", srv->cfg.max_body);
            gw_resp_http_error(resp, 413, msg);
        } else if (!cors_preflight(srv, conn, ctx, resp)) {
            dispatch(srv, conn, ctx, resp);
        }
    } else if (atomic_load(&ctx->reply_ready)) {
        run_continuation(ctx);
    } else if (ctx->suspended) {
        return MHD_YES; /* not ours to answer yet */
    }
    if (ctx->suspended) return MHD_YES; /* a backend call is in flight */
    gw_cors_apply(srv->cfg.cors_origins, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"), resp);
    return send_response(srv, conn, ctx, resp);
}

static const char *toe_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    default: return "other";
    }
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    gw_server *srv = cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) gw_front_conn_request_done(srv->front, front_conn(conn));
    gw_ctx *ctx = *con_cls;
    if (!ctx) return;
    *con_cls = NULL;
    char path[257];
    snprintf(path, sizeof path, "%s", ctx->path);
    if (ctx->calls == 0) {
        /* libmicrohttpd answered by itself (e.g. header block larger than the memory pool) */
        sfp_log_set_request_id(NULL);
        sfp_log(SFP_WARN, "request rejected by http layer", SFP_S("path", path), SFP_S("termination", toe_name(toe)),
                SFP_I("uri_bytes", (long long)strlen(ctx->raw_uri)));
    } else {
        sfp_log_set_request_id(ctx->request_id);
        if (ctx->responded) {
            sfp_log(ctx->status >= 500 ? SFP_WARN : SFP_INFO, "request", SFP_S("method", ctx->method),
                    SFP_S("path", path), SFP_S("route", ctx->route ? ctx->route : ""), SFP_I("status", ctx->status),
                    SFP_D("ms", ctx->ms), SFP_I("bytes_in", (long long)ctx->body_seen),
                    SFP_I("bytes_out", (long long)ctx->resp_bytes), SFP_S("termination", toe_name(toe)));
        } else {
            double ms = (double)(sfp_mono_ns() - ctx->start_ns) / 1e6;
            sfp_log(SFP_INFO, "request", SFP_S("method", ctx->method), SFP_S("path", path),
                    SFP_S("route", ctx->route ? ctx->route : ""), SFP_I("status", 0), SFP_D("ms", ms),
                    SFP_I("bytes_in", (long long)ctx->body_seen), SFP_S("termination", toe_name(toe)));
        }
    }
    sfp_log_set_request_id(NULL);
    if (ctx->counted) atomic_fetch_sub(&srv->active, 1);
    ctx_free(ctx);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    sfp_log(SFP_WARN, "http layer", SFP_S("detail", buf));
}

/* ------------------------------------------------------------------ lifecycle */

gw_server *gw_server_create(const gw_config *cfg, const gw_route *routes, size_t nroutes, gw_backends *backends,
                            sfp_err *err)
{
    gw_router *router = gw_router_create(routes, nroutes, err);
    if (!router) return NULL;
    gw_server *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->cfg = *cfg;
    s->router = router;
    s->backends = backends;
    s->visible = gw_visible_classes(cfg->cron_worker);
    s->conn_memory = gw_config_conn_memory(cfg);
    atomic_init(&s->active, 0);
    atomic_init(&s->draining, false);
    pthread_mutex_init(&s->ready.mu, NULL);
    s->report_limit = gw_ratelimit_new(cfg->report_rate_limit, cfg->report_rate_window_s, 100000);
    s->metrics = gw_metrics_new();
    gw_metrics_set_in_flight_source(s->metrics, in_flight, s);
    return s;
}

static int handoff(void *user, int fd, const struct sockaddr *sa, socklen_t salen)
{
    gw_server *s = user;
    return MHD_add_connection(s->d, fd, sa, salen) == MHD_YES ? 0 : -1;
}

int gw_server_start(gw_server *s, sfp_err *err)
{
    if (s->d) return 0;
    gw_front_config fc = {
        .host = s->cfg.host,
        .port = s->cfg.port,
        .max_connections = s->cfg.max_connections,
        .max_per_client = s->cfg.max_conn_per_client,
        .head_timeout_ms = s->cfg.head_timeout_ms,
        .idle_timeout_ms = s->cfg.idle_timeout_s * 1000,
        .limits = {.max_url = (size_t)s->cfg.max_url, .max_head = (size_t)s->cfg.max_header_bytes},
        .trusted_proxies = s->cfg.trusted_proxies,
    };
    s->front = gw_front_create(&fc, err);
    if (!s->front) return -1;
    s->cq = sfp_rpc_cq_start();
    /* Connections are accepted by the front and handed over; libmicrohttpd's own limit only
     * backs up the front's cap (never reached first). */
    unsigned int hard_limit = (unsigned int)gw_front_effective_cap(s->front) + 1024;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    unsigned int threads = (unsigned int)s->cfg.threads;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, /* must come first */
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u, MHD_OPTION_CONNECTION_LIMIT, hard_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->cfg.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        s->conn_memory, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn_cb, s, MHD_OPTION_END);
    if (!s->d) {
        gw_front_destroy(s->front);
        s->front = NULL;
        sfp_rpc_cq_stop(s->cq);
        s->cq = NULL;
        return sfp_err_set(err, SFP_UNAVAILABLE, "GATEWAY_ADDR: libmicrohttpd failed to start on %s", s->cfg.addr);
    }
    if (gw_front_start(s->front, handoff, s)) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
        gw_front_destroy(s->front);
        s->front = NULL;
        sfp_rpc_cq_stop(s->cq);
        s->cq = NULL;
        return sfp_err_set(err, SFP_INTERNAL, "cannot start the accept thread");
    }
    s->port = gw_front_port(s->front);
    sfp_log(SFP_INFO, "listening", SFP_S("addr", s->cfg.addr), SFP_I("port", s->port), SFP_I("threads", threads),
            SFP_I("max_connections", gw_front_effective_cap(s->front)),
            SFP_I("max_connections_per_client", s->cfg.max_conn_per_client),
            SFP_I("head_timeout_ms", s->cfg.head_timeout_ms), SFP_I("max_url", s->cfg.max_url),
            SFP_I("max_header_bytes", s->cfg.max_header_bytes), SFP_I("max_body", s->cfg.max_body),
            SFP_I("conn_memory", (long long)s->conn_memory), SFP_B("cron_worker", s->cfg.cron_worker));
    return 0;
}

static void wait_idle(gw_server *s, int64_t until)
{
    while (atomic_load(&s->active) > 0 && sfp_mono_ns() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void gw_server_stop(gw_server *s)
{
    if (!s || !s->d) return;
    atomic_store(&s->draining, true);
    gw_front_stop_accepting(s->front); /* the port is free from here on */
    wait_idle(s, sfp_mono_ns() + (int64_t)s->cfg.shutdown_grace_ms * 1000000);
    int left = atomic_load(&s->active);
    if (left > 0) {
        /* Cancelled calls resume their connections, which answer and finish; libmicrohttpd
         * must not be stopped while a connection is suspended. */
        sfp_log(SFP_WARN, "shutdown grace expired; cancelling backend calls", SFP_I("in_flight", left));
        sfp_rpc_cq_cancel_all(s->cq);
        wait_idle(s, sfp_mono_ns() + 2000LL * 1000000);
    }
    MHD_stop_daemon(s->d);
    s->d = NULL;
    sfp_rpc_cq_stop(s->cq);
    s->cq = NULL;
    gw_front_destroy(s->front);
    s->front = NULL;
}

void gw_server_destroy(gw_server *s)
{
    if (!s) return;
    gw_server_stop(s);
    gw_router_destroy(s->router);
    pthread_mutex_destroy(&s->ready.mu);
    gw_ratelimit_free(s->report_limit);
    gw_metrics_free(s->metrics);
    free(s);
}
