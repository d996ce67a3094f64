/* config.h — environment configuration with validation. Every getter names the variable in
 * its error so a service can refuse to start with a clear message. Pure parsers are exposed
 * for unit tests. */
#ifndef SFP_CONFIG_H
#define SFP_CONFIG_H

#include <stdbool.h>
#include "sfp_err.h"

/* Pure parsers: return 0 and set *out, or -1 (err names `name`). */
int sfp_parse_long(const char *name, const char *s, long min, long max, long *out, sfp_err *err);
int sfp_parse_bool(const char *name, const char *s, bool *out,
                   sfp_err *err); /* 1/true/yes/on, 0/false/no/off; case-insensitive */
/* Listen/peer address: "host:port" (port 0..65535, host may be [v6]) or "unix:/abs/path". */
int sfp_parse_addr(const char *name, const char *s, sfp_err *err);

/* Env getters: unset or empty → default. */
int sfp_env_long(const char *name, long def, long min, long max, long *out, sfp_err *err);
int sfp_env_int(const char *name, int def, int min, int max, int *out, sfp_err *err);
int sfp_env_bool(const char *name, bool def, bool *out, sfp_err *err);
int sfp_env_addr(const char *name, const char *def, const char **out, sfp_err *err); /* *out points into env or def */
const char *sfp_env_str(const char *name, const char *def);

/* Default addresses (DESIGN.md §1). */
#define SFP_DEFAULT_REPORT_ADDR "127.0.0.1:50051"
#define SFP_DEFAULT_BRIEF_ADDR "127.0.0.1:50052"
#define SFP_DEFAULT_CRON_ADDR "127.0.0.1:50053"
#define SFP_DEFAULT_HEALTH_ADDR "127.0.0.1:50054"
#define SFP_DEFAULT_GATEWAY_ADDR "127.0.0.1:8080"

#define SFP_VERSION "0.1.0"

/* The env every gRPC service reads: LISTEN_ADDR (default per service), RPC_WORKERS (8, 1..256:
 * concurrent calls), SHUTDOWN_GRACE_MS (10000: how long SIGTERM waits for in-flight calls). */
typedef struct sfp_service_env {
    const char *listen_addr;
    int workers;
    int drain_ms;
} sfp_service_env;
int sfp_service_env_load(sfp_service_env *e, const char *default_addr, sfp_err *err);

#endif
