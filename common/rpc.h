/* rpc.h — small gRPC C-core framework: a unary server (method table, N worker threads,
 * metadata, deadlines, graceful SIGTERM drain, built-in grpc.health.v1 Check and Watch, server
 * reflection and sfpermits.v1.Introspection/GetStats), streaming methods on one stream thread,
 * and a blocking unary client.
 *
 * All grpc slices/byte buffers are handled inside common/rpc_*.c only.
 *
 * Health service names (grpc.health.v1 Check):
 *   ""            SERVING while the server runs, NOT_SERVING while draining (never touches DB)
 *   "liveness"    same as ""
 *   "readiness"   the readiness callback (e.g. pool can hand out a connection, cached)
 *   each registered service's full name (e.g. "sfpermits.v1.ReportService"): same as readiness
 *   anything else → NOT_FOUND
 * grpc.health.v1 Watch (server-streaming) sends the same status at once and then each change
 * (checked every SFP_RPC_STREAM_TICK_MS); an unknown name gets SERVICE_UNKNOWN and stays open.
 * On drain it sends NOT_SERVING and ends with OK.
 *
 * Server reflection (grpc.reflection.v1 and v1alpha ServerReflectionInfo) is built in too: see
 * reflection.h.
 */
#ifndef SFP_RPC_H
#define SFP_RPC_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include "arena_pb.h"
#include "rpc_details.h"
#include "sfp_err.h"

/* ---------- server ---------- */

typedef struct sfp_rpc_server sfp_rpc_server;
typedef struct sfp_rpc_ctx sfp_rpc_ctx; /* one call; valid only during the handler */

/* A handler decodes nothing itself: `req` is the unpacked request (arena-owned). A request
 * with a NUL byte in any string field never reaches it (INVALID_ARGUMENT: protobuf-c would
 * hand the string over cut at the NUL). It sets
 * *resp to a message allocated from sfp_rpc_arena(ctx) (or leaves NULL for an empty reply of
 * the declared type) and returns GRPC_STATUS_OK, or returns an error code after
 * sfp_rpc_set_message(). */
typedef grpc_status_code (*sfp_rpc_handler)(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                            void *user);

/* Deferred completion: a handler that must wait for something slow (e.g. SODA) without holding
 * its worker returns SFP_RPC_PENDING and later calls sfp_rpc_complete(ctx, ...) exactly once,
 * from any thread. Until then the ctx, its arena and its request stay valid (sfp_rpc_metadata
 * and sfp_rpc_deadline_left_ms too); after sfp_rpc_complete returns they are gone. The worker
 * takes the next call as soon as the handler returns. Every other handler stays synchronous. */
#define SFP_RPC_PENDING ((grpc_status_code)-1)
/* Sends the reply of a pending call: resp/code/message/trailers exactly as a
 * synchronous handler's return would. Thread-safe; exactly once per pending call. */
void sfp_rpc_complete(sfp_rpc_ctx *ctx, grpc_status_code code, ProtobufCMessage *resp);

/* ---------- streaming calls ----------
 * One mechanism for server-streaming and bidirectional methods (e.g. grpc.health.v1 Watch,
 * server reflection). Streams hold no worker: every stream of a server runs on one stream
 * thread, as events handed to the method's sfp_rpc_stream_fn. The framework keeps one request
 * read outstanding while the send queue is empty (a client that does not read stops being
 * read), and ends each stream with a status: the one its handler returned, CANCELLED when the
 * client went away or its deadline passed. RPC_MAX_STREAMS bounds the open streams of a
 * server: one more is refused with RESOURCE_EXHAUSTED. The streaming methods are the server's
 * built-in ones (health Watch, reflection); rpc_server.c registers them with add_stream_method. */
typedef struct sfp_rpc_stream sfp_rpc_stream;
typedef enum sfp_rpc_stream_event {
    SFP_RPC_STREAM_MESSAGE,    /* a request message arrived: req (valid during the callback) */
    SFP_RPC_STREAM_HALF_CLOSE, /* the client sent its last message */
    SFP_RPC_STREAM_TICK,       /* every SFP_RPC_STREAM_TICK_MS while the stream is open */
    SFP_RPC_STREAM_DRAIN,      /* the server started draining: finish soon (bounded shutdown) */
    SFP_RPC_STREAM_END,        /* the call is over: free the state; the return value is ignored */
} sfp_rpc_stream_event;
#define SFP_RPC_STREAM_TICK_MS 250
/* Returns SFP_RPC_PENDING to keep the stream open, or a status code to end it once the queued
 * messages are sent (sfp_rpc_stream_set_message for a non-OK one). Runs on the stream thread:
 * it must be quick and never block. */
typedef grpc_status_code (*sfp_rpc_stream_fn)(sfp_rpc_stream *st, sfp_rpc_stream_event ev, const ProtobufCMessage *req,
                                              void *user);
/* Queues a response message (packed at once: msg may live in the event's arena). False when
 * SFP_RPC_STREAM_QUEUE messages are already waiting for a client that does not read: the
 * handler then ends the stream (RESOURCE_EXHAUSTED). */
#define SFP_RPC_STREAM_QUEUE 16
bool sfp_rpc_stream_send(sfp_rpc_stream *st, const ProtobufCMessage *msg);
/* Scratch memory for one event: emptied after every callback. */
sfp_arena *sfp_rpc_stream_arena(sfp_rpc_stream *st);
/* The handler's per-stream state slot (NULL at first; the handler frees it on END). */
void **sfp_rpc_stream_state(sfp_rpc_stream *st);
void sfp_rpc_stream_set_message(sfp_rpc_stream *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct sfp_rpc_method {
    const char *path; /* "/sfpermits.v1.ReportService/GetPropertyReport" */
    const ProtobufCMessageDescriptor *req_desc;
    const ProtobufCMessageDescriptor *resp_desc;
    sfp_rpc_handler fn;
    void *user;
} sfp_rpc_method;

typedef bool (*sfp_rpc_ready_fn)(void *user);
/* Fills service-specific parts of stats (pool, breaker, caches, counters) from the arena. */
struct Sfpermits__V1__ServiceStats;
typedef void (*sfp_rpc_stats_fn)(struct Sfpermits__V1__ServiceStats *stats, sfp_arena *a, void *user);

typedef struct sfp_rpc_server_config {
    const char *service;              /* short name for logs and stats: "health", "report", ... */
    const char *addr;                 /* LISTEN_ADDR: host:port (port 0 = any) or unix:/path */
    int workers;                      /* RPC_WORKERS, concurrent calls; default 8 */
    int drain_timeout_ms;             /* SHUTDOWN_GRACE_MS: wait for in-flight calls on SIGTERM; default 10000 */
    int max_message_bytes;            /* default 4 MiB */
    const char *const *service_names; /* full names answering readiness, NULL-terminated */
    sfp_rpc_ready_fn ready;           /* NULL = always ready */
    void *ready_user;
    sfp_rpc_stats_fn stats; /* NULL = framework stats only */
    void *stats_user;
    /* Called once (on the serving thread) when the drain grace expires with calls still in
     * flight, before they are cancelled: cancel outbound work (SODA transfers, SQL statements)
     * so handlers and pending calls finish at once. NULL = none. */
    void (*on_grace_expired)(void *user);
    void *grace_user;
    /* A whole process (sfp_service_serve): once draining starts, the process exits with code 1
     * if it is still alive SHUTDOWN_GRACE_MS + 450 ms later, whatever is stuck. Tests that run
     * a server inside their own process leave it false. */
    bool exit_after_grace;
    int max_streams; /* RPC_MAX_STREAMS: open streaming calls at most; 0 = from the environment */
} sfp_rpc_server_config;

/* Creates and binds (so the port is known) but does not start serving. */
sfp_rpc_server *sfp_rpc_server_create(const sfp_rpc_server_config *cfg, const sfp_rpc_method *methods, size_t nmethods,
                                      sfp_err *err);
int sfp_rpc_server_port(const sfp_rpc_server *s); /* bound TCP port (0 for unix sockets) */
/* Serves until SIGTERM/SIGINT (or sfp_rpc_server_stop), then drains: health turns
 * NOT_SERVING, new calls are refused, in-flight calls (pending ones included) get
 * drain_timeout_ms, then on_grace_expired runs and the rest are cancelled. Returns 0 after a
 * clean drain, 1 when calls had to be cancelled. */
int sfp_rpc_server_run(sfp_rpc_server *s);
void sfp_rpc_server_stop(sfp_rpc_server *s); /* async-signal-safe */
void sfp_rpc_server_destroy(sfp_rpc_server *s);
/* Installs SIGTERM/SIGINT handlers that stop `s` (one server per process). */
void sfp_rpc_server_handle_signals(sfp_rpc_server *s);

sfp_arena *sfp_rpc_arena(sfp_rpc_ctx *ctx);
/* fn(arg) runs once when a unary call ends, after its reply was packed and sent: e.g. to drop
 * a reference to cached bytes the reply points into instead of copying them into the arena.
 * One per call (a second call replaces the first). */
void sfp_rpc_on_end(sfp_rpc_ctx *ctx, void (*fn)(void *arg), void *arg);
/* First value of a request metadata key (lowercase), NUL-terminated in the arena, or NULL. */
const char *sfp_rpc_metadata(sfp_rpc_ctx *ctx, const char *key);
/* How many times a metadata key (lowercase) was sent (a header that must be unique can be
 * refused when repeated). */
int sfp_rpc_metadata_count(sfp_rpc_ctx *ctx, const char *key);
/* Milliseconds until the call's deadline (INT64_MAX when none, <= 0 when passed). */
int64_t sfp_rpc_deadline_left_ms(sfp_rpc_ctx *ctx);
/* Sets the status message sent with a non-OK code (safe text only). */
void sfp_rpc_set_message(sfp_rpc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a trailing-metadata pair to the response. Copied. Error details do not go here: use
 * sfp_rpc_details_of. */
void sfp_rpc_add_trailer(sfp_rpc_ctx *ctx, const char *key, const char *value);
/* Rich error details of a non-OK reply (ErrorInfo reason, BadRequest field violations,
 * RetryInfo): the handler fills the returned struct (arena-owned, created empty on first use)
 * with the sfp_rpc_details_* builders; the framework sends them as a google.rpc.Status in the
 * grpc-status-details-bin trailer, with the call's code and message. Ignored on OK. */
sfp_rpc_details *sfp_rpc_details_of(sfp_rpc_ctx *ctx);
/* Adds a message to that Status's details, packed as google.protobuf.Any (e.g. a failed cron
 * job's result). Up to 2 per call; msg must stay valid until the call ends (arena). */
void sfp_rpc_add_detail(sfp_rpc_ctx *ctx, const ProtobufCMessage *msg);
/* INVALID_ARGUMENT with message "<field>: <description>", ErrorInfo ARGUMENT_OUT_OF_RANGE and
 * a BadRequest violation of field: `return sfp_rpc_bad_argument(ctx, "lookback_days", ...)`. */
grpc_status_code sfp_rpc_bad_argument(sfp_rpc_ctx *ctx, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ErrorInfo reason + RetryInfo retry_ms for an UNAVAILABLE / RESOURCE_EXHAUSTED reply. */
void sfp_rpc_retry_later(sfp_rpc_ctx *ctx, sfp_reason reason, int64_t retry_ms);

/* ---------- client ---------- */

typedef struct sfp_rpc_channel sfp_rpc_channel;

typedef struct sfp_rpc_md {
    const char *key; /* lowercase */
    const char *value;
} sfp_rpc_md;

typedef struct sfp_rpc_status {
    grpc_status_code code;
    char message[256];
    char retry_after[16]; /* whole seconds (rounded up) of the RetryInfo detail, "" if none */
    /* The grpc-status-details-bin trailer: decoded standard details (empty, retry_delay_ms -1,
     * when none) and the raw google.rpc.Status for other details (sfp_rpc_details_find);
     * details_len 0 when absent or larger than the buffer. */
    sfp_rpc_details details;
    uint8_t details_bin[8192];
    size_t details_len;
} sfp_rpc_status;

/* One channel per backend, shared by all threads. NULL-safe destroy. */
sfp_rpc_channel *sfp_rpc_channel_create(const char *addr);
void sfp_rpc_channel_destroy(sfp_rpc_channel *ch);
/* Blocking unary call; timeout_ms <= 0 means no deadline (callers should always pass one). On OK, *resp is a malloc-unpacked message the caller frees with
 * protobuf_c_message_free_unpacked(*resp, NULL). Returns the status code (also in st). */
grpc_status_code sfp_rpc_call(sfp_rpc_channel *ch, const char *path, const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int64_t timeout_ms,
                              const sfp_rpc_md *md, size_t nmd, sfp_rpc_status *st);
/* sfp_rpc_call without the decoding: on OK, *resp is the response payload as received (the
 * packed message; malloc'd, caller frees; never NULL on OK, even for an empty message) and
 * *resp_len its length; else *resp is NULL. sfp_rpc_call is this + sfp_rpc_unpack. */
grpc_status_code sfp_rpc_call_raw(sfp_rpc_channel *ch, const char *path, const ProtobufCMessage *req, uint8_t **resp,
                                  size_t *resp_len, int64_t timeout_ms, const sfp_rpc_md *md, size_t nmd,
                                  sfp_rpc_status *st);
/* Unpacks a response payload: on success *resp is a malloc-unpacked message (caller frees
 * with protobuf_c_message_free_unpacked(*resp, NULL)) and st->code is OK; else *resp is NULL
 * and st is INTERNAL "response could not be decoded". Returns st->code. */
grpc_status_code sfp_rpc_unpack(const ProtobufCMessageDescriptor *resp_desc, const uint8_t *bytes, size_t len,
                                ProtobufCMessage **resp, sfp_rpc_status *st);
/* grpc.health.v1 Check against a peer; returns the ServingStatus (0 UNKNOWN, 1 SERVING,
 * 2 NOT_SERVING) or -1 with st filled. */
int sfp_rpc_health_check(sfp_rpc_channel *ch, const char *service, int64_t timeout_ms, sfp_rpc_status *st);

const char *sfp_rpc_code_name(grpc_status_code code); /* "NOT_FOUND" */
/* The one mapping of an error code to the status a handler returns: the same-named gRPC code;
 * SFP_OK or a value outside the enum (a failure path that set no code) → INTERNAL. */
grpc_status_code sfp_rpc_status_of(sfp_code code);
/* A received status as an sfp_code (codes outside 0..16 → SFP_UNKNOWN). */
sfp_code sfp_code_of_rpc(grpc_status_code code);

/* Process-wide grpc_init/grpc_shutdown wrappers (ref-counted by grpc itself). */
void sfp_rpc_init(void);
void sfp_rpc_shutdown(void);

#endif
