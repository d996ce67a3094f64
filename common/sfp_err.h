/* sfp_err.h — the caller-provided error struct every fallible common function fills. */
#ifndef SFP_ERR_H
#define SFP_ERR_H

#include <stdarg.h>

typedef struct sfp_err {
    int code;      /* module-specific (0 = none); rpc code where it maps to one */
    char msg[256]; /* short, safe, human text: no SQL, no secrets */
} sfp_err;

/* Sets err (if non-NULL) and returns -1, so callers can `return sfp_err_set(...)`. */
int sfp_err_set(sfp_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
