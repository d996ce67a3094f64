/* service_main.h — the serving part every service main shares: create the rpc server, start
 * /metrics (METRICS_ADDR) with the server's collector, install SIGTERM/SIGINT, serve until
 * stopped, drain, tear down in reverse order. */
#ifndef SFP_SERVICE_MAIN_H
#define SFP_SERVICE_MAIN_H

#include <stddef.h>
#include "rpc.h"

/* Returns the process exit code: 0 after a clean drain, 1 when in-flight calls had to be
 * cancelled, 2 when the server or metrics could not start (the reason is logged and printed
 * on stderr, naming the variable). */
int sfp_service_serve(const sfp_rpc_server_config *cfg, const sfp_rpc_method *methods, size_t nmethods);
/* Logs and prints "<binary>: <reason>" for a configuration error; returns exit code 2. */
int sfp_service_refuse(const char *binary, const sfp_err *err);

#endif
