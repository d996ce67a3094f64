/* rpc_details.h — the rich error model: google.rpc.Status with the standard details
 * (google.rpc.ErrorInfo, BadRequest, RetryInfo, and any message packed as google.protobuf.Any),
 * carried in the `grpc-status-details-bin` trailer of a non-OK call next to grpc-status and
 * grpc-message. The rpc framework (rpc_server.c) encodes what a handler put in
 * sfp_rpc_details_of(ctx); both clients (rpc_client.c, rpc_async.c) decode it into
 * sfp_rpc_status.details. Encode/decode here are pure (no gRPC calls), so they are unit-tested.
 *
 * Every ErrorInfo the suite sends has domain SFP_ERR_DOMAIN and one of the reasons below —
 * stable strings clients may switch on; never rename one, only add. */
#ifndef SFP_RPC_DETAILS_H
#define SFP_RPC_DETAILS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFP_ERR_DOMAIN "sfpermits.dev"
#define SFP_DETAILS_TRAILER "grpc-status-details-bin"

/* X(NAME, what it means) — the one list of ErrorInfo reasons. */
#define SFP_ERR_REASONS(X)                                                                                        \
    X(ARGUMENT_OUT_OF_RANGE, "a request field is outside its documented range; BadRequest names the field")       \
    X(ARGUMENT_MALFORMED, "a request field does not have its documented form; BadRequest names the field")        \
    X(RATE_LIMITED, "called again before the allowed interval; RetryInfo says when to retry")                     \
    X(DATABASE_UNAVAILABLE, "Postgres could not be reached or the pool had no connection in time; retry later")   \
    X(CRON_JOB_FAILED, "the cron job ran and failed; metadata job_type/log_id, the job result is a detail (Any)") \
    X(CRON_JOB_TIMED_OUT, "the cron job ran out of its time budget; the job result is a detail (Any)")

typedef enum sfp_reason {
    SFP_REASON_NONE = 0,
#define SFP_REASON_ENUM_(name, doc) SFP_REASON_##name,
    SFP_ERR_REASONS(SFP_REASON_ENUM_)
#undef SFP_REASON_ENUM_
        SFP_REASON_COUNT_
} sfp_reason;

/* "ARGUMENT_OUT_OF_RANGE"; "" for SFP_REASON_NONE or out of range. Static string. */
const char *sfp_reason_name(sfp_reason r);

#define SFP_DETAILS_MAX_META 6
#define SFP_DETAILS_MAX_VIOLATIONS 8

/* The decoded standard details of one status; a plain value (no pointers), truncating long
 * strings. retry_delay_ms < 0: no RetryInfo. */
typedef struct sfp_rpc_details {
    char reason[64]; /* ErrorInfo.reason, "" when there is no ErrorInfo */
    char domain[32]; /* ErrorInfo.domain */
    size_t nmeta;
    struct {
        char key[32];
        char value[128];
    } meta[SFP_DETAILS_MAX_META];
    size_t nviolations; /* BadRequest.field_violations */
    struct {
        char field[64];
        char description[192];
    } violations[SFP_DETAILS_MAX_VIOLATIONS];
    int64_t retry_delay_ms; /* RetryInfo.retry_delay */
} sfp_rpc_details;

void sfp_rpc_details_init(sfp_rpc_details *d); /* empty: no reason, no violations, no retry */
bool sfp_rpc_details_empty(const sfp_rpc_details *d);
/* Builders (extra entries beyond the limits are dropped). */
void sfp_rpc_details_set_reason(sfp_rpc_details *d, sfp_reason r); /* domain SFP_ERR_DOMAIN */
void sfp_rpc_details_add_meta(sfp_rpc_details *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sfp_rpc_details_add_violation(sfp_rpc_details *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sfp_rpc_details_set_retry_ms(sfp_rpc_details *d, int64_t ms);
/* RetryInfo as whole seconds, rounded up (Retry-After); 0 when none. */
int sfp_rpc_details_retry_after_s(const sfp_rpc_details *d);

/* Packs google.rpc.Status{code, message, details}: ErrorInfo, BadRequest and RetryInfo when
 * set in d (d may be NULL), then each of extra[0..nextra) as an Any with type URL
 * "type.googleapis.com/<full name>". Returns the length; *out is malloc'd (caller frees). */
size_t sfp_rpc_details_encode(int code, const char *message, const sfp_rpc_details *d,
                              const ProtobufCMessage *const *extra, size_t nextra, uint8_t **out);
/* Fills d (after sfp_rpc_details_init) from a packed google.rpc.Status; unknown detail types
 * are skipped. *code (if non-NULL) gets Status.code. Returns 0, or -1 when the bytes are not a
 * Status (d stays empty). */
int sfp_rpc_details_decode(const uint8_t *bin, size_t len, sfp_rpc_details *d, int *code);
/* The first Any detail of type desc in a packed google.rpc.Status, unpacked with the malloc
 * allocator (caller frees with protobuf_c_message_free_unpacked(m, NULL)); NULL if none. */
ProtobufCMessage *sfp_rpc_details_find(const uint8_t *bin, size_t len, const ProtobufCMessageDescriptor *desc);

#endif
