/* status_map.h — gRPC status ↔ HTTP decisions of the gateway (pure functions, no I/O).
 *
 * gRPC → HTTP (ARCHITECTURE.md, google/rpc/code.proto): OK 200; INVALID_ARGUMENT,
 * FAILED_PRECONDITION, OUT_OF_RANGE 400; UNAUTHENTICATED 401 (+WWW-Authenticate: Bearer);
 * PERMISSION_DENIED 403; NOT_FOUND 404; ALREADY_EXISTS, ABORTED 409; RESOURCE_EXHAUSTED 429
 * (+Retry-After); CANCELLED 499; UNIMPLEMENTED 501; UNAVAILABLE 503 (+Retry-After);
 * DEADLINE_EXCEEDED 504; UNKNOWN, INTERNAL, DATA_LOSS and any code > 16 (or < 0) 500.
 *
 * Pure HTTP errors raised by the gateway itself carry a gRPC code in their JSON body too:
 *   400 bad path / query / X-Timeout-Ms      → INVALID_ARGUMENT (3)
 *   404 no route                             → NOT_FOUND (5)
 *   405 method not allowed                   → UNIMPLEMENTED (12)   (as grpc-gateway)
 *   413 body, 414 URL, 431 header too large  → INVALID_ARGUMENT (3): the request as sent can
 *        never succeed and must be changed; RESOURCE_EXHAUSTED would suggest a retry-later
 *        quota and maps back to 429, so it is not used.
 *   429 → RESOURCE_EXHAUSTED (8), 401 → UNAUTHENTICATED (16), 403 → PERMISSION_DENIED (7),
 *   409 → ABORTED (10), 499 → CANCELLED (1), 501 → UNIMPLEMENTED (12),
 *   503 → UNAVAILABLE (14), 504 → DEADLINE_EXCEEDED (4), any other 4xx → INVALID_ARGUMENT,
 *   any other status → INTERNAL (13).
 *
 * Error body: {"code": <grpc code>, "status": "<NAME>", "message": "..."} plus the optional
 * detail keys of gw_error_body_ex (gateway/README.md, Errors).
 *
 * Ownership: nothing here allocates except gw_error_body, which appends to the caller's buffer;
 * returned strings are static or the caller's. */
#ifndef GW_STATUS_MAP_H
#define GW_STATUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "rpc_details.h"

/* Defaults when the backend gave no usable retry-after hint (seconds). */
#define GW_RETRY_AFTER_429_DEFAULT 10
#define GW_RETRY_AFTER_503_DEFAULT 5
#define GW_RETRY_AFTER_MAX 86400

int gw_http_status_for_grpc(int grpc_code);
int gw_grpc_code_for_http(int http_status);
/* "NOT_FOUND" etc.; codes outside 0..16 → "UNKNOWN". */
const char *gw_grpc_code_name(int grpc_code);
/* Standard reason phrase for the statuses the gateway emits ("Not Found"); "" if unknown. */
const char *gw_http_reason(int http_status);

bool gw_needs_www_authenticate(int http_status); /* 401 */
bool gw_needs_retry_after(int http_status);      /* 429, 503 */
/* Seconds for Retry-After: the hint when it is a plain non-negative integer (delta-seconds,
 * clamped to GW_RETRY_AFTER_MAX), else the default for the status (429: 10, other: 5). */
int gw_retry_after_seconds(const char *hint, int http_status);

/* The message a client may see for a backend error. Codes services set deliberately with
 * safe text (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
 * RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED,
 * UNAUTHENTICATED) keep their message; transport-level and server-fault codes (CANCELLED,
 * UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS, > 16) get a fixed text, because
 * gRPC core fills them with peer addresses and internal detail. An empty message also gets the
 * fixed text. Returns msg or a static string. */
const char *gw_client_message(int grpc_code, const char *msg);

/* Appends the error body JSON (message NULL → ""; truncated to 512 bytes). */
void gw_error_body(sfp_buf *out, int grpc_code, const char *message);
/* The same body with the backend's rich error details, each key only when present:
 *   "reason", "domain", "metadata": {..}   ErrorInfo
 *   "field_violations": [{"field", "description"}, ...]   BadRequest
 *   "retry_after_s": N                     the Retry-After header's value (retry_after_s >= 0)
 *   "result": {...}                        result_json verbatim (e.g. a failed cron job's result)
 * d may be NULL. */
void gw_error_body_ex(sfp_buf *out, int grpc_code, const char *message, const sfp_rpc_details *d, int retry_after_s,
                      const char *result_json);

#endif
