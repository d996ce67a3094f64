/* sfp_err.h — the caller-provided error struct every fallible common function fills, and the
 * one set of error codes the suite uses.
 *
 * sfp_code names the canonical status codes of gRPC (google.rpc.Code) and has their values, so
 * a code means the same thing in a library module, a service and on the wire. Modules without
 * gRPC (config, SODA client, database) use it too; only common/rpc turns it into a
 * grpc_status_code (sfp_rpc_status_of), and that is the single mapping each service uses. */
#ifndef SFP_ERR_H
#define SFP_ERR_H

#include <stdarg.h>

typedef enum sfp_code {
    SFP_OK = 0,
    SFP_CANCELLED = 1,
    SFP_UNKNOWN = 2,
    SFP_INVALID_ARGUMENT = 3, /* the request (or a configuration value) can never succeed as is */
    SFP_DEADLINE_EXCEEDED = 4,
    SFP_NOT_FOUND = 5,
    SFP_ALREADY_EXISTS = 6,
    SFP_PERMISSION_DENIED = 7,
    SFP_RESOURCE_EXHAUSTED = 8,  /* a quota or rate limit: retry later */
    SFP_FAILED_PRECONDITION = 9, /* the system is not in a state that allows it (e.g. schema too old) */
    SFP_ABORTED = 10,            /* concurrency conflict (e.g. a job already running) */
    SFP_OUT_OF_RANGE = 11,
    SFP_UNIMPLEMENTED = 12,
    SFP_INTERNAL = 13,
    SFP_UNAVAILABLE = 14, /* a dependency (database, SODA, socket) cannot be reached: retry later */
    SFP_DATA_LOSS = 15,
    SFP_UNAUTHENTICATED = 16,
} sfp_code;
#define SFP_CODE_MAX SFP_UNAUTHENTICATED

typedef struct sfp_err {
    sfp_code code; /* SFP_OK = none */
    char msg[256]; /* short, safe, human text: no SQL, no secrets */
} sfp_err;

/* Sets err (if non-NULL) and returns -1, so callers can `return sfp_err_set(...)`. */
int sfp_err_set(sfp_err *err, sfp_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "INVALID_ARGUMENT"; "UNKNOWN" for a value outside the enum. Static string. */
const char *sfp_code_name(sfp_code code);

#endif
