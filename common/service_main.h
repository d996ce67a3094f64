/* service_main.h — the serving part every service main shares: create the rpc server, start
 * /metrics (METRICS_ADDR) with the server's collector, install SIGTERM/SIGINT, serve until
 * stopped, drain, tear down in reverse order. */
#ifndef SFP_SERVICE_MAIN_H
#define SFP_SERVICE_MAIN_H

#include <stddef.h>
#include "rpc.h"

/* Returns the process exit code: 0 after a clean drain, 1 when in-flight calls had to be
 * cancelled at SHUTDOWN_GRACE_MS, 2 when the server or metrics could not start (the reason is
 * logged and printed on stderr, naming the variable). Once draining starts the process is gone
 * within SHUTDOWN_GRACE_MS + 500 ms whatever is stuck (exit code 1 then too). */
int sfp_service_serve(const sfp_rpc_server_config *cfg, const sfp_rpc_method *methods, size_t nmethods);

/* Outbound work a service cancels when the drain grace expires: in-flight SODA transfers and
 * SQL statements (PQcancel). Each object comes with its cancel function (sfp_pool_cancel_all,
 * sfp_soda_cancel_all), so a service links only the clients it has; a NULL object or function
 * is skipped. Pass sfp_service_cancel_outbound as on_grace_expired and a pointer to this
 * (which must outlive the server) as grace_user. */
struct sfp_pool;
struct sfp_soda;
typedef struct sfp_service_outbound {
    struct sfp_pool *pool;
    int (*cancel_pool)(struct sfp_pool *pool);
    struct sfp_soda *soda;
    void (*cancel_soda)(struct sfp_soda *soda);
} sfp_service_outbound;
void sfp_service_cancel_outbound(void *outbound);
/* Logs and prints "<binary>: <reason>" for a configuration error; returns exit code 2. */
int sfp_service_refuse(const char *binary, const sfp_err *err);

#endif
