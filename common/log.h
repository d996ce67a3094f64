/* log.h — one JSON object per line on stderr: {"ts","level","svc","msg", fields..., "request_id"}.
 * Thread-safe; the current request id is thread-local and set by the rpc server per call. */
#ifndef SFP_LOG_H
#define SFP_LOG_H

#include <stdbool.h>

typedef enum { SFP_DEBUG = 0, SFP_INFO, SFP_WARN, SFP_ERROR } sfp_log_level;

typedef struct sfp_kv {
    const char *k; /* NULL terminates a list */
    int type;      /* 1 string, 2 integer, 3 double, 4 bool */
    const char *s;
    long long i;
    double d;
} sfp_kv;

#define SFP_S(key, val) ((sfp_kv){.k = (key), .type = 1, .s = (val)})
#define SFP_I(key, val) ((sfp_kv){.k = (key), .type = 2, .i = (long long)(val)})
#define SFP_D(key, val) ((sfp_kv){.k = (key), .type = 3, .d = (double)(val)})
#define SFP_B(key, val) ((sfp_kv){.k = (key), .type = 4, .i = (val) ? 1 : 0})

/* Service name for the "svc" field and minimum level (LOG_LEVEL env: debug|info|warn|error). */
void sfp_log_init(const char *svc);
void sfp_log_set_level(sfp_log_level lvl);
bool sfp_log_enabled(sfp_log_level lvl);
void sfp_log_kv(sfp_log_level lvl, const char *msg, const sfp_kv *fields);
#define sfp_log_msg(lvl, msg) sfp_log_kv((lvl), (msg), NULL)
#define sfp_log(lvl, msg, ...) sfp_log_kv((lvl), (msg), (const sfp_kv[]){__VA_ARGS__, {0}})

/* Thread-local request id included in every line logged by this thread (NULL clears). */
void sfp_log_set_request_id(const char *id);
const char *sfp_log_request_id(void);

#endif
