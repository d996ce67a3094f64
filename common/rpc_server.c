/* rpc_server.c — unary gRPC server on the C core (see rpc.h).
 *
 * Threading: each of N workers owns a completion queue registered with the server. A worker
 * requests one call, waits for it, reads the request, runs the handler, sends the reply and
 * status, then requests the next call: N workers = N calls in flight. Shutdown
 * (grpc_server_shutdown_and_notify) fails the pending requests, so idle workers exit, while
 * busy ones finish their call within the drain grace period. */
#include <errno.h>
#include <fcntl.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "clock.h"
#include "config.h"
#include "histogram.h"
#include "log.h"
#include "metrics.h"
#include "metrics_collectors.h"
#include "reflection.h"
#include "rpc.h"
#include "sfpermits/v1/introspection.pb-c.h"

#define HEALTH_CHECK_PATH "/grpc.health.v1.Health/Check"
#define HEALTH_WATCH_PATH "/grpc.health.v1.Health/Watch"
#define STATS_PATH "/sfpermits.v1.Introspection/GetStats"

typedef struct method_slot {
    sfp_rpc_method m;
    sfp_rpc_stream_fn stream; /* a streaming method (m.fn NULL) */
    pthread_mutex_t mu;
    sfp_hist hist;
    uint64_t errors;
    uint64_t codes[17];  /* calls by gRPC status code (codes above 16 counted as UNKNOWN) */
    double last_log[17]; /* when a non-OK call of that code was last logged (sfp_mono_s) */
    uint64_t suppressed[17];
} method_slot;

struct sfp_rpc_server {
    sfp_rpc_server_config cfg;
    char *service, *addr;
    char **names; /* copy of cfg.service_names, NULL-terminated */
    grpc_server *server;
    grpc_completion_queue **cqs;
    grpc_completion_queue *shutdown_cq;
    struct worker *workers;
    pthread_t *threads;
    method_slot *methods;
    size_t nmethods;
    int port;
    int wake[2]; /* self-pipe: stop requests (signal handler safe) */
    _Atomic bool draining;
    _Atomic int busy;
    atomic_int pending; /* calls whose handler returned SFP_RPC_PENDING and are not completed */
    struct timespec started;
    /* streaming calls: all on one thread and completion queue (see "streams" below) */
    grpc_completion_queue *stream_cq;
    pthread_t stream_thread;
    bool stream_thread_started;
    struct stream_req *sreqs; /* one outstanding request per streaming method */
    size_t nsreqs;
    struct sfp_rpc_stream *streams; /* open streams (stream thread only) */
    int nstreams;
    char **svc_names; /* full names of the services served, NULL-terminated (reflection) */
};

struct call_state;
struct sfp_rpc_ctx {
    sfp_rpc_server *srv;
    struct call_state *cs;
    sfp_arena *arena;
    grpc_metadata_array *md;
    gpr_timespec deadline;
    char *message;
    grpc_metadata trailers[6];
    size_t ntrailers;
    sfp_rpc_details *details;         /* sfp_rpc_details_of (arena), NULL = none */
    const ProtobufCMessage *extra[2]; /* sfp_rpc_add_detail */
    size_t nextra;
    void (*on_end)(void *arg); /* sfp_rpc_on_end */
    void *on_end_arg;
};

/* ---------- small slice helpers (all slice handling lives here and in rpc_client.c) ---------- */

static bool slice_eq(grpc_slice s, const char *str)
{
    size_t n = strlen(str);
    return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), str, n) == 0;
}

/* ---------- ctx API ---------- */

sfp_arena *sfp_rpc_arena(sfp_rpc_ctx *ctx)
{
    return ctx->arena;
}

void sfp_rpc_on_end(sfp_rpc_ctx *ctx, void (*fn)(void *arg), void *arg)
{
    ctx->on_end = fn;
    ctx->on_end_arg = arg;
}

const char *sfp_rpc_metadata(sfp_rpc_ctx *ctx, const char *key)
{
    for (size_t i = 0; i < ctx->md->count; i++) {
        if (slice_eq(ctx->md->metadata[i].key, key)) {
            grpc_slice v = ctx->md->metadata[i].value;
            return sfp_arena_strndup(ctx->arena, (const char *)GRPC_SLICE_START_PTR(v), GRPC_SLICE_LENGTH(v));
        }
    }
    return NULL;
}

int sfp_rpc_metadata_count(sfp_rpc_ctx *ctx, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < ctx->md->count; i++) n += slice_eq(ctx->md->metadata[i].key, key);
    return n;
}

int64_t sfp_rpc_deadline_left_ms(sfp_rpc_ctx *ctx)
{
    gpr_timespec d = gpr_convert_clock_type(ctx->deadline, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(d, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0) return INT64_MAX;
    gpr_timespec left = gpr_time_sub(d, gpr_now(GPR_CLOCK_MONOTONIC));
    return (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

void sfp_rpc_set_message(sfp_rpc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[256];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->message = sfp_arena_strdup(ctx->arena, buf);
}

void sfp_rpc_add_trailer(sfp_rpc_ctx *ctx, const char *key, const char *value)
{
    if (ctx->ntrailers >= sizeof ctx->trailers / sizeof ctx->trailers[0]) return;
    grpc_metadata *m = &ctx->trailers[ctx->ntrailers++];
    memset(m, 0, sizeof *m);
    m->key = grpc_slice_from_copied_string(key);
    m->value = grpc_slice_from_copied_string(value);
}

sfp_rpc_details *sfp_rpc_details_of(sfp_rpc_ctx *ctx)
{
    if (!ctx->details) {
        ctx->details = sfp_arena_alloc(ctx->arena, sizeof *ctx->details);
        sfp_rpc_details_init(ctx->details);
    }
    return ctx->details;
}

void sfp_rpc_add_detail(sfp_rpc_ctx *ctx, const ProtobufCMessage *msg)
{
    if (msg && ctx->nextra < sizeof ctx->extra / sizeof ctx->extra[0]) ctx->extra[ctx->nextra++] = msg;
}

grpc_status_code sfp_rpc_bad_argument(sfp_rpc_ctx *ctx, const char *field, const char *fmt, ...)
{
    char desc[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    sfp_rpc_details *d = sfp_rpc_details_of(ctx);
    sfp_rpc_details_set_reason(d, SFP_REASON_ARGUMENT_OUT_OF_RANGE);
    sfp_rpc_details_add_violation(d, field, "%s", desc);
    sfp_rpc_set_message(ctx, "%s: %s", field, desc);
    return GRPC_STATUS_INVALID_ARGUMENT;
}

void sfp_rpc_retry_later(sfp_rpc_ctx *ctx, sfp_reason reason, int64_t retry_ms)
{
    sfp_rpc_details *d = sfp_rpc_details_of(ctx);
    sfp_rpc_details_set_reason(d, reason);
    sfp_rpc_details_set_retry_ms(d, retry_ms);
}

/* The google.rpc.Status trailer of a non-OK reply whose handler added details. */
static void add_details_trailer(sfp_rpc_ctx *ctx, grpc_status_code code)
{
    if (code == GRPC_STATUS_OK || (sfp_rpc_details_empty(ctx->details) && !ctx->nextra)) return;
    if (ctx->ntrailers >= sizeof ctx->trailers / sizeof ctx->trailers[0]) return;
    uint8_t *bin = NULL;
    size_t len = sfp_rpc_details_encode((int)code, ctx->message ? ctx->message : "", ctx->details, ctx->extra,
                                        ctx->nextra, &bin);
    grpc_metadata *m = &ctx->trailers[ctx->ntrailers++];
    memset(m, 0, sizeof *m);
    m->key = grpc_slice_from_static_string(SFP_DETAILS_TRAILER);
    m->value = grpc_slice_from_copied_buffer((const char *)bin, len);
    free(bin);
}

/* ---------- built-in handlers ---------- */

static bool is_ready(sfp_rpc_server *s)
{
    return !s->draining && (!s->cfg.ready || s->cfg.ready(s->cfg.ready_user));
}

/* Status of a health service name (see rpc.h); SERVICE_UNKNOWN for a name not served. */
static Grpc__Health__V1__HealthCheckResponse__ServingStatus health_status(sfp_rpc_server *s, const char *svc)
{
    bool known = !*svc || !strcmp(svc, "liveness") || !strcmp(svc, "readiness");
    bool readiness = !strcmp(svc, "readiness");
    for (char **n = s->names; n && *n && !known; n++) {
        if (!strcmp(*n, svc)) known = readiness = true;
    }
    if (!known) return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    bool ok = readiness ? is_ready(s) : !s->draining; /* liveness never touches the DB */
    return ok ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
              : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static grpc_status_code health_check(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    sfp_rpc_server *s = user;
    const Grpc__Health__V1__HealthCheckRequest *r = (const void *)req;
    Grpc__Health__V1__HealthCheckResponse *out =
        sfp_arena_msg(ctx->arena, &grpc__health__v1__health_check_response__descriptor);
    out->status = health_status(s, r->service ? r->service : "");
    if (out->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
        sfp_rpc_set_message(ctx, "unknown service");
        return GRPC_STATUS_NOT_FOUND;
    }
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

/* One Watch: the service name asked for and the status last sent (-1: none yet). */
typedef struct health_watch {
    char *service;
    int last;
} health_watch;

static bool watch_send(sfp_rpc_stream *st, health_watch *w, Grpc__Health__V1__HealthCheckResponse__ServingStatus now)
{
    if ((int)now == w->last) return true;
    Grpc__Health__V1__HealthCheckResponse *out =
        sfp_arena_msg(sfp_rpc_stream_arena(st), &grpc__health__v1__health_check_response__descriptor);
    out->status = now;
    w->last = (int)now;
    return sfp_rpc_stream_send(st, &out->base);
}

/* grpc.health.v1 Watch: the current status at once, then each change; SERVICE_UNKNOWN (not an
 * error) for a name not served; on drain NOT_SERVING, then the stream ends with OK. */
static grpc_status_code health_watch_stream(sfp_rpc_stream *st, sfp_rpc_stream_event ev, const ProtobufCMessage *req,
                                            void *user)
{
    sfp_rpc_server *s = user;
    health_watch **slot = (health_watch **)sfp_rpc_stream_state(st);
    health_watch *w = *slot;
    switch (ev) {
    case SFP_RPC_STREAM_MESSAGE: {
        if (w) {
            sfp_rpc_stream_set_message(st, "Watch takes one request");
            return GRPC_STATUS_INVALID_ARGUMENT;
        }
        const Grpc__Health__V1__HealthCheckRequest *r = (const void *)req;
        w = *slot = calloc(1, sizeof *w);
        if (!w || !(w->service = strdup(r->service ? r->service : ""))) abort();
        w->last = -1;
        break;
    }
    case SFP_RPC_STREAM_HALF_CLOSE:
        if (w) return SFP_RPC_PENDING; /* a server-streaming client half-closes after its request */
        sfp_rpc_stream_set_message(st, "Watch needs a request");
        return GRPC_STATUS_INVALID_ARGUMENT;
    case SFP_RPC_STREAM_TICK: break;
    case SFP_RPC_STREAM_DRAIN:
        if (w &&
            health_status(s, w->service) != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN)
            watch_send(st, w, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        return GRPC_STATUS_OK;
    case SFP_RPC_STREAM_END:
        if (w) free(w->service);
        free(w);
        *slot = NULL;
        return GRPC_STATUS_OK;
    }
    if (!w) return SFP_RPC_PENDING;
    if (!watch_send(st, w, health_status(s, w->service))) {
        sfp_rpc_stream_set_message(st, "the client does not read its health updates");
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    return SFP_RPC_PENDING;
}

static grpc_status_code get_stats(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)req;
    sfp_rpc_server *s = user;
    sfp_arena *a = ctx->arena;
    Sfpermits__V1__ServiceStats *st = sfp_arena_msg(a, &sfpermits__v1__service_stats__descriptor);
    st->service = sfp_arena_strdup(a, s->service);
    st->version = SFP_VERSION;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    st->uptime_seconds = (double)(now.tv_sec - s->started.tv_sec) + (now.tv_nsec - s->started.tv_nsec) / 1e9;
    st->ready = is_ready(s);
    st->worker_threads = s->cfg.workers;
    st->busy_workers = s->busy;
    st->methods = sfp_arena_alloc(a, sizeof(*st->methods) * s->nmethods);
    for (size_t i = 0; i < s->nmethods; i++) {
        method_slot *ms = &s->methods[i];
        Sfpermits__V1__MethodStats *m = sfp_arena_msg(a, &sfpermits__v1__method_stats__descriptor);
        pthread_mutex_lock(&ms->mu);
        m->method = sfp_arena_strdup(a, ms->m.path);
        m->calls = (int64_t)ms->hist.count;
        m->errors = (int64_t)ms->errors;
        m->p50_ms = sfp_hist_quantile(&ms->hist, 0.5);
        m->p99_ms = sfp_hist_quantile(&ms->hist, 0.99);
        m->max_ms = ms->hist.max_ms;
        pthread_mutex_unlock(&ms->mu);
        st->methods[st->n_methods++] = m;
    }
    if (s->cfg.stats) s->cfg.stats(st, a, s->cfg.stats_user);
    *resp = &st->base;
    return GRPC_STATUS_OK;
}

/* ---------- one call ---------- */

/* A worker: its completion queue gets the events of the calls it accepted, including the
 * reply of a deferred call completed from another thread (the tag is then the call_state). */
typedef struct worker {
    sfp_rpc_server *s;
    grpc_completion_queue *cq;
    atomic_int deferred; /* pending calls accepted by this worker whose reply has not completed */
} worker;

#define CALL_MAGIC 0x5ca11u

/* Everything one call owns, from request_call to the end of its reply. */
typedef struct call_state {
    unsigned magic;
    worker *w;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    sfp_rpc_ctx ctx;
    method_slot *ms;
    double t0;
    grpc_status_code code;
    grpc_op ops[4];
    size_t nops;
    grpc_byte_buffer *out;
    grpc_slice details_slice;
    int cancelled;
    char rid[129];
} call_state;

/* Handles an event on a worker's queue that is not the one it is waiting for: it can only be
 * the end of a deferred call's reply. */
static void finalize_call(call_state *cs);
static void on_foreign_event(grpc_event ev)
{
    if (ev.type != GRPC_OP_COMPLETE || !ev.tag) return;
    call_state *cs = ev.tag;
    if (cs->magic != CALL_MAGIC) abort();
    worker *w = cs->w;
    finalize_call(cs);
    atomic_fetch_sub(&w->s->pending, 1);
    atomic_fetch_sub(&w->deferred, 1);
}

static bool run_batch(worker *w, grpc_call *call, const grpc_op *ops, size_t n)
{
    void *tag = (void *)ops;
    if (grpc_call_start_batch(call, ops, n, tag, NULL) != GRPC_CALL_OK) return false;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == tag) return ev.success != 0;
        if (ev.type == GRPC_QUEUE_SHUTDOWN) return false;
        on_foreign_event(ev);
    }
}

/* ---------- request checks ---------- */

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* False when a string field (at any depth) of a wire-format message holds a NUL byte:
 * protobuf-c hands strings over NUL-terminated, so "3512\0" would silently arrive as "3512".
 * Malformed input is left to the decoder (true). */
static bool strings_nul_free(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth)
{
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t tag, len;
        if (!read_varint(&p, end, &tag)) return true;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &len)) return true;
            break;
        case 1:
            if ((size_t)(end - p) < 8) return true;
            p += 8;
            break;
        case 5:
            if ((size_t)(end - p) < 4) return true;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p)) return true;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)len)) return false;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 32 &&
                !strings_nul_free(f->descriptor, p, (size_t)len, depth + 1))
                return false;
            p += len;
            break;
        }
        default: return true; /* groups: not used by our protos */
        }
    }
    return true;
}

static method_slot *find_method(sfp_rpc_server *s, grpc_slice path)
{
    for (size_t i = 0; i < s->nmethods; i++)
        if (slice_eq(path, s->methods[i].m.path)) return &s->methods[i];
    return NULL;
}

/* Fills cs->ops with the reply: initial metadata, message (OK only), status + trailers, and
 * the wait for the close. */
static void build_reply(call_state *cs, grpc_status_code code, ProtobufCMessage *resp)
{
    sfp_rpc_ctx *ctx = &cs->ctx;
    if (code == GRPC_STATUS_OK && !resp) resp = sfp_arena_msg(ctx->arena, cs->ms->m.resp_desc);
    cs->code = code;
    memset(cs->ops, 0, sizeof cs->ops);
    size_t n = 0;
    cs->ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (code == GRPC_STATUS_OK) {
        size_t len = protobuf_c_message_get_packed_size(resp);
        grpc_slice sl = grpc_slice_malloc(len);
        protobuf_c_message_pack(resp, GRPC_SLICE_START_PTR(sl));
        cs->out = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        cs->ops[n].op = GRPC_OP_SEND_MESSAGE;
        cs->ops[n++].data.send_message.send_message = cs->out;
    }
    cs->details_slice = grpc_slice_from_copied_string(ctx->message ? ctx->message : "");
    add_details_trailer(ctx, code);
    cs->ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    cs->ops[n].data.send_status_from_server.status = code;
    cs->ops[n].data.send_status_from_server.status_details = code == GRPC_STATUS_OK ? NULL : &cs->details_slice;
    cs->ops[n].data.send_status_from_server.trailing_metadata_count = ctx->ntrailers;
    cs->ops[n++].data.send_status_from_server.trailing_metadata = ctx->trailers;
    cs->ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    cs->ops[n++].data.recv_close_on_server.cancelled = &cs->cancelled;
    cs->nops = n;
}

/* Non-OK calls are logged at most once per second per method and code (with the number left
 * out), so an outage that fails every call cannot flood the log. */
static bool log_allowed(method_slot *ms, grpc_status_code code, uint64_t *suppressed)
{
    if (!ms) return true;
    unsigned c = (unsigned)code <= 16 ? (unsigned)code : GRPC_STATUS_UNKNOWN;
    double now = sfp_mono_s();
    bool ok = false;
    pthread_mutex_lock(&ms->mu);
    if (ms->last_log[c] == 0 || now - ms->last_log[c] >= 1.0) {
        ok = true;
        ms->last_log[c] = now;
        *suppressed = ms->suppressed[c];
        ms->suppressed[c] = 0;
    } else {
        ms->suppressed[c]++;
    }
    pthread_mutex_unlock(&ms->mu);
    return ok;
}

static void finalize_call(call_state *cs)
{
    sfp_rpc_ctx *ctx = &cs->ctx;
    grpc_status_code code = cs->code;
    if (cs->out) grpc_byte_buffer_destroy(cs->out);
    grpc_slice_unref(cs->details_slice);
    for (size_t i = 0; i < ctx->ntrailers; i++) {
        grpc_slice_unref(ctx->trailers[i].key);
        grpc_slice_unref(ctx->trailers[i].value);
    }
    double ms_taken = (sfp_mono_s() - cs->t0) * 1000.0;
    method_slot *ms = cs->ms;
    if (ms) {
        pthread_mutex_lock(&ms->mu);
        sfp_hist_observe(&ms->hist, ms_taken);
        if (code != GRPC_STATUS_OK) ms->errors++;
        ms->codes[(unsigned)code <= 16 ? (unsigned)code : GRPC_STATUS_UNKNOWN]++;
        pthread_mutex_unlock(&ms->mu);
    }
    uint64_t suppressed = 0;
    if ((code != GRPC_STATUS_OK && log_allowed(ms, code, &suppressed)) || sfp_log_enabled(SFP_DEBUG)) {
        char path[160];
        size_t pl = GRPC_SLICE_LENGTH(cs->details.method);
        if (pl >= sizeof path) pl = sizeof path - 1;
        memcpy(path, GRPC_SLICE_START_PTR(cs->details.method), pl);
        path[pl] = '\0';
        sfp_log_set_request_id(cs->rid[0] ? cs->rid : NULL);
        sfp_log(code == GRPC_STATUS_OK
                    ? SFP_DEBUG
                    : (code == GRPC_STATUS_INTERNAL || code == GRPC_STATUS_UNKNOWN ? SFP_ERROR : SFP_INFO),
                "rpc", SFP_S("method", path), SFP_S("code", sfp_rpc_code_name(code)), SFP_D("ms", ms_taken),
                SFP_S("message", ctx->message ? ctx->message : ""), SFP_I("suppressed", (long long)suppressed));
    }
    sfp_log_set_request_id(NULL);
    if (ctx->on_end) ctx->on_end(ctx->on_end_arg);
    sfp_arena_free(ctx->arena);
    if (cs->call) grpc_call_unref(cs->call);
    grpc_call_details_destroy(&cs->details);
    grpc_metadata_array_destroy(&cs->md);
    free(cs);
}

void sfp_rpc_complete(sfp_rpc_ctx *ctx, grpc_status_code code, ProtobufCMessage *resp)
{
    call_state *cs = ctx->cs;
    build_reply(cs, code, resp);
    if (grpc_call_start_batch(cs->call, cs->ops, cs->nops, cs, NULL) != GRPC_CALL_OK) {
        /* Cannot happen with a well-formed batch; never leak the call. */
        worker *w = cs->w;
        sfp_log_msg(SFP_ERROR, "rpc: deferred reply could not be started");
        finalize_call(cs);
        atomic_fetch_sub(&w->s->pending, 1);
        atomic_fetch_sub(&w->deferred, 1);
    }
}

static void serve_call(worker *w, call_state *cs)
{
    sfp_rpc_server *s = w->s;
    cs->t0 = sfp_mono_s();
    cs->ctx = (sfp_rpc_ctx){.srv = s, .arena = sfp_arena_new(), .md = &cs->md, .deadline = cs->details.deadline};
    cs->ctx.cs = cs;
    sfp_rpc_ctx *ctx = &cs->ctx;
    const char *rid = sfp_rpc_metadata(ctx, "x-request-id");
    if (rid) snprintf(cs->rid, sizeof cs->rid, "%s", rid);
    sfp_log_set_request_id(rid);

    grpc_byte_buffer *payload = NULL;
    grpc_op recv = {.op = GRPC_OP_RECV_MESSAGE};
    recv.data.recv_message.recv_message = &payload;
    bool got = run_batch(w, cs->call, &recv, 1);

    grpc_status_code code = GRPC_STATUS_OK;
    ProtobufCMessage *resp = NULL;
    method_slot *ms = find_method(s, cs->details.method);
    cs->ms = ms;
    if (!got) {
        code = GRPC_STATUS_CANCELLED;
        ctx->message = "request not received";
    } else if (!ms) {
        code = GRPC_STATUS_UNIMPLEMENTED;
        ctx->message = "unknown method";
    } else if (sfp_rpc_deadline_left_ms(ctx) <= 0) {
        code = GRPC_STATUS_DEADLINE_EXCEEDED;
        ctx->message = "deadline exceeded before the call started";
    } else {
        const ProtobufCMessage *req = NULL;
        bool nul_in_string = false;
        ProtobufCAllocator alloc = sfp_arena_pb_allocator(ctx->arena);
        if (payload) {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, payload)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
                req = protobuf_c_message_unpack(ms->m.req_desc, &alloc, GRPC_SLICE_LENGTH(all),
                                                GRPC_SLICE_START_PTR(all));
                if (req && !strings_nul_free(ms->m.req_desc, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), 0))
                    nul_in_string = true;
                grpc_slice_unref(all);
                grpc_byte_buffer_reader_destroy(&rd);
            }
        } else {
            req = protobuf_c_message_unpack(ms->m.req_desc, &alloc, 0, (const uint8_t *)"");
        }
        if (!req) {
            code = GRPC_STATUS_INVALID_ARGUMENT;
            ctx->message = "request message could not be decoded";
        } else if (nul_in_string) {
            code = GRPC_STATUS_INVALID_ARGUMENT;
            ctx->message = "a string field contains a NUL byte";
        } else {
            /* Counted before the handler runs: it may complete the call from another thread
             * before it even returns. */
            atomic_fetch_add(&w->deferred, 1);
            atomic_fetch_add(&s->pending, 1);
            code = ms->m.fn(ctx, req, &resp, ms->m.user);
            if (code == SFP_RPC_PENDING) {
                if (payload) grpc_byte_buffer_destroy(payload);
                sfp_log_set_request_id(NULL);
                return; /* the reply comes from sfp_rpc_complete; the worker is free */
            }
            atomic_fetch_sub(&w->deferred, 1);
            atomic_fetch_sub(&s->pending, 1);
        }
    }
    if (payload) grpc_byte_buffer_destroy(payload);
    if (!ms && code == GRPC_STATUS_OK) code = GRPC_STATUS_INTERNAL;
    build_reply(cs, code, resp);
    run_batch(w, cs->call, cs->ops, cs->nops);
    finalize_call(cs);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (;;) {
        call_state *cs = calloc(1, sizeof *cs);
        if (!cs) abort();
        cs->magic = CALL_MAGIC;
        cs->w = w;
        cs->details_slice = grpc_empty_slice();
        grpc_call_details_init(&cs->details);
        grpc_metadata_array_init(&cs->md);
        int tag_new = 0;
        bool ok = grpc_server_request_call(w->s->server, &cs->call, &cs->details, &cs->md, w->cq, w->cq, &tag_new) ==
                  GRPC_CALL_OK;
        if (ok) {
            for (;;) {
                grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                if (ev.type == GRPC_QUEUE_SHUTDOWN) {
                    ok = false;
                    break;
                }
                if (ev.type == GRPC_OP_COMPLETE && ev.tag == &tag_new) {
                    ok = ev.success != 0;
                    break;
                }
                on_foreign_event(ev);
            }
        }
        if (ok && cs->call) {
            w->s->busy++;
            serve_call(w, cs);
            w->s->busy--;
            continue;
        }
        if (cs->call) grpc_call_unref(cs->call);
        grpc_call_details_destroy(&cs->details);
        grpc_metadata_array_destroy(&cs->md);
        free(cs);
        break; /* server shutting down */
    }
    /* Deferred calls this worker accepted still send their reply through its queue. */
    while (atomic_load(&w->deferred) > 0) {
        grpc_event ev = grpc_completion_queue_next(
            w->cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN)), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        on_foreign_event(ev);
    }
    return NULL;
}

/* ---------- streams ----------
 * Streaming methods are registered with the core (grpc_server_register_method), so their calls
 * never reach the workers: the stream thread keeps one request outstanding per method on its
 * own completion queue and runs every open stream as a small state machine driven by that
 * queue's events (recv, send, status, close), plus a tick for handlers that poll (Watch) and a
 * drain event once shutdown starts. All stream state is touched by that thread only. */

enum { T_NEW, T_RECV, T_SEND, T_STATUS, T_CLOSE };

typedef struct stream_tag {
    int kind;
    struct sfp_rpc_stream *st;
    struct stream_req *rq;
} stream_tag;

typedef struct stream_req {
    stream_tag tag;
    method_slot *ms;
    void *handle; /* grpc_server_register_method */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    bool armed;
} stream_req;

struct sfp_rpc_stream {
    sfp_rpc_server *s;
    method_slot *ms;
    grpc_call *call;
    grpc_metadata_array md;
    sfp_arena *arena; /* one event's scratch */
    void *state;
    char *message; /* malloc'd status message */
    stream_tag t_recv, t_send, t_status, t_close;
    grpc_byte_buffer *in;
    grpc_byte_buffer *q[SFP_RPC_STREAM_QUEUE];
    int qhead, qlen;
    bool recv_busy, send_busy, status_busy, half_closed, finishing, status_posted, closed, drained;
    grpc_status_code code;
    int cancelled;
    grpc_slice details;
    double t0;
    struct sfp_rpc_stream *next;
};

bool sfp_rpc_stream_send(sfp_rpc_stream *st, const ProtobufCMessage *msg)
{
    if (st->qlen == SFP_RPC_STREAM_QUEUE || st->closed || st->finishing) return false;
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice sl = grpc_slice_malloc(len);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(sl));
    st->q[(st->qhead + st->qlen++) % SFP_RPC_STREAM_QUEUE] = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return true;
}

sfp_arena *sfp_rpc_stream_arena(sfp_rpc_stream *st)
{
    return st->arena;
}

void **sfp_rpc_stream_state(sfp_rpc_stream *st)
{
    return &st->state;
}

void sfp_rpc_stream_set_message(sfp_rpc_stream *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(st->message);
    if (vasprintf(&st->message, fmt, ap) < 0) st->message = NULL;
    va_end(ap);
}

static bool stream_batch(sfp_rpc_stream *st, const grpc_op *ops, size_t n, stream_tag *tag)
{
    return grpc_call_start_batch(st->call, ops, n, tag, NULL) == GRPC_CALL_OK;
}

static void stream_finish(sfp_rpc_stream *st, grpc_status_code code)
{
    if (st->finishing) return;
    st->finishing = true;
    st->code = code;
}

/* Runs the handler for one event; a returned status ends the stream. */
static void stream_deliver(sfp_rpc_stream *st, sfp_rpc_stream_event ev, const ProtobufCMessage *req)
{
    grpc_status_code code = st->ms->stream(st, ev, req, st->ms->m.user);
    sfp_arena_free(st->arena);
    st->arena = sfp_arena_new();
    if (ev != SFP_RPC_STREAM_END && code != SFP_RPC_PENDING) stream_finish(st, code);
}

/* Starts whatever op the stream can start now: the next queued message, the status once the
 * queue is empty and the handler finished, or the next read while nothing waits to be sent. */
static void stream_pump(sfp_rpc_stream *st)
{
    if (st->closed) return;
    if (!st->send_busy && st->qlen > 0) {
        grpc_op op = {.op = GRPC_OP_SEND_MESSAGE};
        op.data.send_message.send_message = st->q[st->qhead];
        st->send_busy = stream_batch(st, &op, 1, &st->t_send);
        if (!st->send_busy) stream_finish(st, GRPC_STATUS_INTERNAL);
        return;
    }
    if (st->finishing) {
        if (st->send_busy || st->status_posted) return;
        st->details = grpc_slice_from_copied_string(st->message ? st->message : "");
        grpc_op op = {.op = GRPC_OP_SEND_STATUS_FROM_SERVER};
        op.data.send_status_from_server.status = st->code;
        op.data.send_status_from_server.status_details = st->code == GRPC_STATUS_OK ? NULL : &st->details;
        st->status_posted = true;
        st->status_busy = stream_batch(st, &op, 1, &st->t_status);
        return;
    }
    if (!st->recv_busy && !st->half_closed && st->qlen == 0) {
        grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
        op.data.recv_message.recv_message = &st->in;
        st->recv_busy = stream_batch(st, &op, 1, &st->t_recv);
        if (!st->recv_busy) stream_finish(st, GRPC_STATUS_INTERNAL);
    }
}

static void stream_count(method_slot *ms, grpc_status_code code)
{
    pthread_mutex_lock(&ms->mu);
    if (code != GRPC_STATUS_OK) ms->errors++;
    ms->codes[(unsigned)code <= 16 ? (unsigned)code : GRPC_STATUS_UNKNOWN]++;
    pthread_mutex_unlock(&ms->mu);
}

/* Frees the stream once the call is closed and none of its ops is outstanding. Streams are
 * counted by status code; their duration is not a latency and stays out of the histogram. */
static void stream_maybe_end(sfp_rpc_stream *st)
{
    if (!st->closed || st->recv_busy || st->send_busy || st->status_busy) return;
    grpc_status_code code = st->status_posted && !st->cancelled ? st->code : GRPC_STATUS_CANCELLED;
    stream_deliver(st, SFP_RPC_STREAM_END, NULL);
    stream_count(st->ms, code);
    sfp_log(code == GRPC_STATUS_OK || code == GRPC_STATUS_CANCELLED ? SFP_DEBUG : SFP_INFO, "rpc stream",
            SFP_S("method", st->ms->m.path), SFP_S("code", sfp_rpc_code_name(code)),
            SFP_D("ms", (sfp_mono_s() - st->t0) * 1000.0), SFP_S("message", st->message ? st->message : ""));
    sfp_rpc_server *s = st->s;
    for (sfp_rpc_stream **pp = &s->streams; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    s->nstreams--;
    while (st->qlen > 0) {
        grpc_byte_buffer_destroy(st->q[st->qhead]);
        st->qhead = (st->qhead + 1) % SFP_RPC_STREAM_QUEUE;
        st->qlen--;
    }
    if (st->in) grpc_byte_buffer_destroy(st->in);
    grpc_slice_unref(st->details);
    grpc_metadata_array_destroy(&st->md);
    grpc_call_unref(st->call);
    sfp_arena_free(st->arena);
    free(st->message);
    free(st);
}

static void stream_arm(sfp_rpc_server *s, stream_req *rq)
{
    rq->call = NULL;
    grpc_metadata_array_init(&rq->md);
    rq->armed = grpc_server_request_registered_call(s->server, rq->handle, &rq->call, &rq->deadline, &rq->md, NULL,
                                                    s->stream_cq, s->stream_cq, &rq->tag) == GRPC_CALL_OK;
    if (!rq->armed) grpc_metadata_array_destroy(&rq->md);
}

/* A new streaming call: it takes over the request's call and metadata. */
static void stream_start(sfp_rpc_server *s, stream_req *rq)
{
    sfp_rpc_stream *st = calloc(1, sizeof *st);
    if (!st) abort();
    st->s = s;
    st->ms = rq->ms;
    st->call = rq->call;
    st->md = rq->md;
    st->arena = sfp_arena_new();
    st->details = grpc_empty_slice();
    st->t0 = sfp_mono_s();
    st->t_recv = (stream_tag){T_RECV, st, NULL};
    st->t_send = (stream_tag){T_SEND, st, NULL};
    st->t_status = (stream_tag){T_STATUS, st, NULL};
    st->t_close = (stream_tag){T_CLOSE, st, NULL};
    st->next = s->streams;
    s->streams = st;
    s->nstreams++;
    grpc_op ops[2] = {{.op = GRPC_OP_SEND_INITIAL_METADATA}, {.op = GRPC_OP_RECV_CLOSE_ON_SERVER}};
    ops[1].data.recv_close_on_server.cancelled = &st->cancelled;
    if (!stream_batch(st, ops, 2, &st->t_close)) {
        st->closed = true; /* nothing outstanding: freed below */
        stream_maybe_end(st);
        return;
    }
    if (s->nstreams > s->cfg.max_streams) {
        sfp_rpc_stream_set_message(st, "too many open streams (RPC_MAX_STREAMS=%d)", s->cfg.max_streams);
        stream_finish(st, GRPC_STATUS_RESOURCE_EXHAUSTED);
    } else if (s->draining) {
        st->drained = true;
        stream_deliver(st, SFP_RPC_STREAM_DRAIN, NULL);
    }
    stream_pump(st);
}

static void stream_on_recv(sfp_rpc_stream *st, bool success)
{
    st->recv_busy = false;
    grpc_byte_buffer *in = st->in;
    st->in = NULL;
    if (st->closed || st->finishing) {
        if (in) grpc_byte_buffer_destroy(in);
        return;
    }
    if (!success || !in) {
        st->half_closed = true;
        stream_deliver(st, SFP_RPC_STREAM_HALF_CLOSE, NULL);
        return;
    }
    const ProtobufCMessageDescriptor *d = st->ms->m.req_desc;
    ProtobufCAllocator alloc = sfp_arena_pb_allocator(st->arena);
    const ProtobufCMessage *req = NULL;
    bool nul_in_string = false;
    grpc_byte_buffer_reader rd;
    if (grpc_byte_buffer_reader_init(&rd, in)) {
        grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
        req = protobuf_c_message_unpack(d, &alloc, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        if (req && !strings_nul_free(d, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), 0)) nul_in_string = true;
        grpc_slice_unref(all);
        grpc_byte_buffer_reader_destroy(&rd);
    }
    grpc_byte_buffer_destroy(in);
    if (!req || nul_in_string) {
        sfp_rpc_stream_set_message(st, "%s",
                                   req ? "a string field contains a NUL byte" : "request message could not be decoded");
        stream_finish(st, GRPC_STATUS_INVALID_ARGUMENT);
        return;
    }
    stream_deliver(st, SFP_RPC_STREAM_MESSAGE, req);
}

static void stream_event(sfp_rpc_server *s, stream_tag *tag, bool success)
{
    if (tag->kind == T_NEW) {
        stream_req *rq = tag->rq;
        rq->armed = false;
        if (!success || !rq->call) {
            grpc_metadata_array_destroy(&rq->md);
            return; /* the server is shutting down: not requested again */
        }
        stream_start(s, rq);
        if (!s->draining) stream_arm(s, rq);
        return;
    }
    sfp_rpc_stream *st = tag->st;
    switch (tag->kind) {
    case T_RECV: stream_on_recv(st, success); break;
    case T_SEND:
        st->send_busy = false;
        grpc_byte_buffer_destroy(st->q[st->qhead]);
        st->qhead = (st->qhead + 1) % SFP_RPC_STREAM_QUEUE;
        st->qlen--;
        if (!success) stream_finish(st, GRPC_STATUS_CANCELLED);
        break;
    case T_STATUS: st->status_busy = false; break;
    case T_CLOSE: st->closed = true; break;
    default: break;
    }
    stream_pump(st);
    stream_maybe_end(st);
}

static bool stream_reqs_armed(const sfp_rpc_server *s)
{
    for (size_t i = 0; i < s->nsreqs; i++)
        if (s->sreqs[i].armed) return true;
    return false;
}

static void *stream_main(void *arg)
{
    sfp_rpc_server *s = arg;
    sfp_log_set_request_id(NULL);
    for (size_t i = 0; i < s->nsreqs; i++) stream_arm(s, &s->sreqs[i]);
    double next_tick = sfp_mono_s() + SFP_RPC_STREAM_TICK_MS / 1000.0;
    while (s->streams || stream_reqs_armed(s)) {
        gpr_timespec until = s->streams ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                       gpr_time_from_millis(SFP_RPC_STREAM_TICK_MS, GPR_TIMESPAN))
                                        : gpr_inf_future(GPR_CLOCK_MONOTONIC);
        grpc_event ev = grpc_completion_queue_next(s->stream_cq, until, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type == GRPC_OP_COMPLETE) stream_event(s, ev.tag, ev.success != 0);
        /* Shutdown fails the outstanding requests, which wakes this thread at once. */
        if (s->draining) {
            for (sfp_rpc_stream *st = s->streams, *nx; st; st = nx) {
                nx = st->next;
                if (st->drained) continue;
                st->drained = true;
                if (!st->finishing && !st->closed) stream_deliver(st, SFP_RPC_STREAM_DRAIN, NULL);
                stream_pump(st);
                stream_maybe_end(st);
            }
        }
        if (sfp_mono_s() >= next_tick) {
            next_tick = sfp_mono_s() + SFP_RPC_STREAM_TICK_MS / 1000.0;
            for (sfp_rpc_stream *st = s->streams, *nx; st; st = nx) {
                nx = st->next;
                if (st->finishing || st->closed) continue;
                stream_deliver(st, SFP_RPC_STREAM_TICK, NULL);
                stream_pump(st);
                stream_maybe_end(st);
            }
        }
    }
    return NULL;
}

/* Full service names from the method paths ("/pkg.Svc/Method" → "pkg.Svc"), each once. */
static char **service_names(const method_slot *ms, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    if (!out) abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = ms[i].m.path + (ms[i].m.path[0] == '/');
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) dup = strlen(out[j]) == len && !strncmp(out[j], p, len);
        if (!dup && !(out[k++] = strndup(p, len))) abort();
    }
    return out;
}

/* ---------- lifecycle ---------- */

static void add_method(sfp_rpc_server *s, const sfp_rpc_method *m)
{
    method_slot *ms = &s->methods[s->nmethods++];
    memset(ms, 0, sizeof *ms);
    ms->m = *m;
    pthread_mutex_init(&ms->mu, NULL);
}

static void add_stream_method(sfp_rpc_server *s, const char *path, const ProtobufCMessageDescriptor *req,
                              const ProtobufCMessageDescriptor *resp, sfp_rpc_stream_fn fn, void *user)
{
    sfp_rpc_method m = {path, req, resp, NULL, user};
    add_method(s, &m);
    s->methods[s->nmethods - 1].stream = fn;
}

sfp_rpc_server *sfp_rpc_server_create(const sfp_rpc_server_config *cfg, const sfp_rpc_method *methods, size_t nmethods,
                                      sfp_err *err)
{
    sfp_rpc_init();
    sfp_rpc_server *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->cfg = *cfg;
    if (s->cfg.workers <= 0) s->cfg.workers = 8;
    if (s->cfg.drain_timeout_ms <= 0) s->cfg.drain_timeout_ms = 10000;
    if (s->cfg.max_message_bytes <= 0) s->cfg.max_message_bytes = 4 << 20;
    s->service = strdup(cfg->service ? cfg->service : "sfp");
    s->addr = strdup(cfg->addr);
    size_t nn = 0;
    while (cfg->service_names && cfg->service_names[nn]) nn++;
    s->names = calloc(nn + 1, sizeof *s->names);
    for (size_t i = 0; i < nn; i++) s->names[i] = strdup(cfg->service_names[i]);
    s->cfg.service_names = NULL;

    if (s->cfg.max_streams <= 0) {
        sfp_err e = {0};
        if (sfp_cfg_int("RPC_MAX_STREAMS", &s->cfg.max_streams, &e) || s->cfg.max_streams <= 0)
            s->cfg.max_streams = 100;
    }

    s->methods = calloc(nmethods + 5, sizeof *s->methods);
    for (size_t i = 0; i < nmethods; i++) add_method(s, &methods[i]);
    add_method(s, &(sfp_rpc_method){HEALTH_CHECK_PATH, &grpc__health__v1__health_check_request__descriptor,
                                    &grpc__health__v1__health_check_response__descriptor, health_check, s});
    add_method(s, &(sfp_rpc_method){STATS_PATH, &sfpermits__v1__get_stats_request__descriptor,
                                    &sfpermits__v1__service_stats__descriptor, get_stats, s});
    add_stream_method(s, HEALTH_WATCH_PATH, &grpc__health__v1__health_check_request__descriptor,
                      &grpc__health__v1__health_check_response__descriptor, health_watch_stream, s);
    /* v1alpha's messages are v1's on the wire: one handler serves both */
    const char *refl[2] = {SFP_REFLECTION_V1_PATH, SFP_REFLECTION_V1ALPHA_PATH};
    for (int i = 0; i < 2; i++)
        add_stream_method(s, refl[i], &grpc__reflection__v1__server_reflection_request__descriptor,
                          &grpc__reflection__v1__server_reflection_response__descriptor, sfp_reflection_stream, NULL);
    s->svc_names = service_names(s->methods, s->nmethods);
    for (size_t i = 0; i < s->nmethods; i++)
        if (s->methods[i].stream == sfp_reflection_stream) s->methods[i].m.user = s->svc_names;

    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = s->cfg.max_message_bytes},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, .value.integer = s->cfg.max_message_bytes},
        /* Clients balance round-robin over the addresses of a name, but learn new addresses
         * only when they resolve again, which a connection ending triggers. Ending each
         * connection after 5 minutes (GOAWAY; calls in flight finish, however long) lets a
         * replica added by a scale-up take traffic within minutes. */
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONNECTION_AGE_MS, .value.integer = 5 * 60 * 1000},
    };
    grpc_channel_args ca = {.num_args = sizeof args / sizeof args[0], .args = args};
    s->server = grpc_server_create(&ca, NULL);
    s->cqs = calloc((size_t)s->cfg.workers, sizeof *s->cqs);
    for (int i = 0; i < s->cfg.workers; i++) {
        s->cqs[i] = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->cqs[i], NULL);
    }
    s->stream_cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->stream_cq, NULL);
    s->sreqs = calloc(s->nmethods, sizeof *s->sreqs);
    if (!s->sreqs) abort();
    for (size_t i = 0; i < s->nmethods; i++) {
        if (!s->methods[i].stream) continue;
        stream_req *rq = &s->sreqs[s->nsreqs++];
        rq->tag = (stream_tag){T_NEW, NULL, rq};
        rq->ms = &s->methods[i];
        rq->handle = grpc_server_register_method(s->server, s->methods[i].m.path, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
    }
    s->shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(s->server, s->addr, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        sfp_err_set(err, SFP_UNAVAILABLE, "LISTEN_ADDR: cannot listen on %s (address in use or invalid)", s->addr);
        sfp_rpc_server_destroy(s);
        return NULL;
    }
    s->port = strncmp(s->addr, "unix:", 5) ? port : 0;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) abort();
    return s;
}

int sfp_rpc_server_port(const sfp_rpc_server *s)
{
    return s->port;
}

void sfp_rpc_server_stop(sfp_rpc_server *s)
{
    char c = 1;
    ssize_t r = write(s->wake[1], &c, 1);
    (void)r;
}

static sfp_rpc_server *g_signal_server;

#define EXIT_SLACK_MS 450 /* the process is gone by grace + 500 ms */

static void *exit_watchdog(void *arg)
{
    int64_t ms = (int64_t)(intptr_t)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    sfp_log(SFP_ERROR, "shutdown overran its grace; exiting now", SFP_I("after_ms", ms));
    _exit(1);
}

/* Backstop of a bounded shutdown: whatever is stuck (a peer call, a blocking library), the
 * process ends ms from now with exit code 1. */
static void arm_exit_watchdog(int64_t ms)
{
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, exit_watchdog, (void *)(intptr_t)ms) != 0) abort();
    pthread_attr_destroy(&at);
}

static void on_signal(int sig)
{
    (void)sig;
    if (g_signal_server) sfp_rpc_server_stop(g_signal_server);
}

void sfp_rpc_server_handle_signals(sfp_rpc_server *s)
{
    g_signal_server = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int sfp_rpc_server_run(sfp_rpc_server *s)
{
    grpc_server_start(s->server);
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    s->threads = calloc((size_t)s->cfg.workers, sizeof *s->threads);
    s->workers = calloc((size_t)s->cfg.workers, sizeof *s->workers);
    if (!s->threads || !s->workers) abort();
    for (int i = 0; i < s->cfg.workers; i++) {
        s->workers[i].s = s;
        s->workers[i].cq = s->cqs[i];
        atomic_init(&s->workers[i].deferred, 0);
        if (pthread_create(&s->threads[i], NULL, worker_main, &s->workers[i]) != 0) abort();
    }
    if (pthread_create(&s->stream_thread, NULL, stream_main, s) != 0) abort();
    s->stream_thread_started = true;
    sfp_log(SFP_INFO, "listening", SFP_S("addr", s->addr), SFP_I("port", s->port), SFP_I("workers", s->cfg.workers));

    for (;;) {
        struct pollfd pfd = {.fd = s->wake[0], .events = POLLIN};
        int r = poll(&pfd, 1, -1);
        if (r > 0) break;
        if (r < 0 && errno != EINTR) break;
    }
    s->draining = true;
    sfp_log(SFP_INFO, "draining", SFP_I("in_flight", s->busy), SFP_I("pending", atomic_load(&s->pending)),
            SFP_I("grace_ms", s->cfg.drain_timeout_ms));
    if (s->cfg.exit_after_grace) arm_exit_watchdog(s->cfg.drain_timeout_ms + EXIT_SLACK_MS);
    int shutdown_tag = 0;
    grpc_server_shutdown_and_notify(s->server, s->shutdown_cq, &shutdown_tag);
    gpr_timespec grace =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(s->cfg.drain_timeout_ms, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(s->shutdown_cq, &shutdown_tag, grace, NULL);
    int rc = 0;
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        sfp_log(SFP_WARN, "drain grace expired; cancelling in-flight calls", SFP_I("in_flight", s->busy),
                SFP_I("pending", atomic_load(&s->pending)));
        if (s->cfg.on_grace_expired) s->cfg.on_grace_expired(s->cfg.grace_user);
        grpc_server_cancel_all_calls(s->server);
        grpc_completion_queue_pluck(s->shutdown_cq, &shutdown_tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        rc = 1;
    }
    for (int i = 0; i < s->cfg.workers; i++) pthread_join(s->threads[i], NULL);
    pthread_join(s->stream_thread, NULL);
    s->stream_thread_started = false;
    sfp_log_msg(SFP_INFO, "stopped");
    return rc;
}

static void drain_cq(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
}

void sfp_rpc_server_destroy(sfp_rpc_server *s)
{
    if (!s) return;
    if (s->server) {
        if (!s->draining) {
            /* never started or never stopped: shut down now */
            int tag = 0;
            grpc_server_shutdown_and_notify(s->server, s->shutdown_cq, &tag);
            grpc_server_cancel_all_calls(s->server);
            grpc_completion_queue_pluck(s->shutdown_cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        }
        grpc_server_destroy(s->server);
    }
    for (int i = 0; s->cqs && i < s->cfg.workers; i++) drain_cq(s->cqs[i]);
    if (s->stream_cq) drain_cq(s->stream_cq);
    for (char **n = s->svc_names; n && *n; n++) free(*n);
    free(s->svc_names);
    free(s->sreqs);
    if (s->shutdown_cq) {
        grpc_completion_queue_shutdown(s->shutdown_cq);
        grpc_completion_queue_pluck(s->shutdown_cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        grpc_completion_queue_destroy(s->shutdown_cq);
    }
    for (size_t i = 0; i < s->nmethods; i++) pthread_mutex_destroy(&s->methods[i].mu);
    for (char **n = s->names; n && *n; n++) free(*n);
    if (g_signal_server == s) g_signal_server = NULL;
    if (s->wake[0] > 0) close(s->wake[0]), close(s->wake[1]);
    free(s->names);
    free(s->methods);
    free(s->cqs);
    free(s->threads);
    free(s->workers);
    free(s->service);
    free(s->addr);
    free(s);
    sfp_rpc_shutdown();
}

void sfp_rpc_server_collect(sfp_buf *out, void *server)
{
    sfp_rpc_server *s = server;
    sfp_metrics_family(out, "sfp_rpc_server_requests_total", "counter",
                       "gRPC calls handled, by method and status code.");
    sfp_buf lb;
    sfp_buf_init(&lb);
    for (size_t i = 0; i < s->nmethods; i++) {
        method_slot *ms = &s->methods[i];
        pthread_mutex_lock(&ms->mu);
        for (int c = 0; c <= 16; c++) {
            if (!ms->codes[c]) continue;
            sfp_buf_reset(&lb);
            sfp_metrics_label(&lb, "method", ms->m.path);
            sfp_metrics_label(&lb, "code", sfp_rpc_code_name((grpc_status_code)c));
            sfp_metrics_sample(out, "sfp_rpc_server_requests_total", lb.data, (double)ms->codes[c]);
        }
        pthread_mutex_unlock(&ms->mu);
    }
    sfp_metrics_family(out, "sfp_rpc_server_duration_seconds", "histogram", "gRPC call latency by method.");
    for (size_t i = 0; i < s->nmethods; i++) {
        method_slot *ms = &s->methods[i];
        sfp_buf_reset(&lb);
        sfp_metrics_label(&lb, "method", ms->m.path);
        pthread_mutex_lock(&ms->mu);
        sfp_hist h = ms->hist;
        pthread_mutex_unlock(&ms->mu);
        sfp_metrics_histogram(out, "sfp_rpc_server_duration_seconds", lb.data, &h);
    }
    sfp_metrics_family(out, "sfp_rpc_server_busy_workers", "gauge", "Workers handling a call now.");
    sfp_metrics_sample(out, "sfp_rpc_server_busy_workers", NULL, s->busy);
    sfp_metrics_family(out, "sfp_rpc_server_pending_calls", "gauge",
                       "Calls waiting for a deferred completion (no worker held).");
    sfp_metrics_sample(out, "sfp_rpc_server_pending_calls", NULL, atomic_load(&s->pending));
    sfp_buf_free(&lb);
    if (s->cfg.stats) {
        sfp_arena *a = sfp_arena_new();
        Sfpermits__V1__ServiceStats *st = sfp_arena_msg(a, &sfpermits__v1__service_stats__descriptor);
        s->cfg.stats(st, a, s->cfg.stats_user);
        sfp_service_stats_metrics(out, st);
        sfp_arena_free(a);
    }
}
