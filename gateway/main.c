/* sfp-gateway — HTTP/1.1 REST gateway in front of the sfpermits gRPC services.
 * main only reads the configuration and wires the parts; see gw_config.h for the
 * environment, http_server.h for the request life cycle, routes.h for the routes.
 * Exit codes: 0 clean stop on SIGTERM/SIGINT, 1 start-up failure (bind, route table),
 * 2 invalid configuration (the log line names the variable). */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>

#include "config.h"
#include "gw_config.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "gw_metrics.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"

int main(int argc, char **argv)
{
    int early = sfp_config_start(SFP_B_GATEWAY, "", "sfp-gateway: the HTTP/1.1 gateway in front of the gRPC services.",
                                 argc, argv);
    if (early >= 0) return early;
    /* Every read reply moves 40-80 KB buffers (the packed content, its JSON, gRPC slices)
     * through malloc/free on several threads. With glibc's defaults such a buffer is a fresh
     * mmap or, freed, trimmed back with madvise (a TLB shootdown across cores), and the next
     * request faults its pages in again: measured, most of the cached path's gateway CPU. Keep
     * freed memory for reuse and serve these buffers from the heap. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    sfp_log_init("gateway");
    gw_config cfg;
    sfp_err err = {0};
    if (gw_config_from_env(&cfg, &err)) {
        sfp_log(SFP_ERROR, "invalid configuration", SFP_S("error", err.msg));
        return 2;
    }
    if (gw_routes_check(&err)) {
        sfp_log(SFP_ERROR, "bad route table", SFP_S("error", err.msg));
        return 1;
    }

    /* Block the stop signals before any thread exists (gRPC, MHD) so only sigwait sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    gw_backends backends;
    gw_backends_open(&backends, &cfg);
    gw_server *srv = gw_server_create(&cfg, gw_routes, gw_routes_count, &backends, &err);
    sfp_metrics *metrics = NULL;
    if (!srv || gw_server_start(srv, &err) || !(metrics = sfp_metrics_start_from_env("gateway", &err))) {
        sfp_log(SFP_ERROR, "cannot start", SFP_S("error", err.msg));
        gw_server_destroy(srv);
        gw_backends_close(&backends);
        return 1;
    }
    sfp_metrics_add(metrics, gw_metrics_collect, gw_server_metrics(srv));
    int sig = 0;
    sigwait(&stop, &sig);
    sfp_log(SFP_INFO, "stopping", SFP_I("signal", sig));
    sfp_metrics_stop(metrics);
    gw_server_destroy(srv);
    gw_backends_close(&backends);
    sfp_log_msg(SFP_INFO, "stopped");
    return 0;
}
