#include "service_main.h"

#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "metrics_collectors.h"

void sfp_service_cancel_outbound(void *outbound)
{
    sfp_service_outbound *o = outbound;
    if (!o) return;
    if (o->soda && o->cancel_soda) o->cancel_soda(o->soda);
    if (o->pool && o->cancel_pool) o->cancel_pool(o->pool);
}

int sfp_service_serve(const sfp_rpc_server_config *cfg, const sfp_rpc_method *methods, size_t nmethods)
{
    sfp_err err = {0};
    sfp_rpc_server_config c = *cfg;
    c.exit_after_grace = true; /* a whole process: its shutdown is bounded */
    cfg = &c;
    sfp_rpc_server *srv = sfp_rpc_server_create(cfg, methods, nmethods, &err);
    sfp_metrics *metrics = srv ? sfp_rpc_server_metrics_start(srv, cfg->service, &err) : NULL;
    if (!srv || !metrics) {
        char binary[64];
        snprintf(binary, sizeof binary, "sfp-%s", cfg->service);
        sfp_rpc_server_destroy(srv);
        return sfp_service_refuse(binary, &err);
    }
    sfp_rpc_server_handle_signals(srv);
    int rc = sfp_rpc_server_run(srv);
    sfp_metrics_stop(metrics);
    sfp_rpc_server_destroy(srv);
    return rc;
}

int sfp_service_refuse(const char *binary, const sfp_err *err)
{
    sfp_log(SFP_ERROR, "invalid configuration", SFP_S("error", err->msg));
    fprintf(stderr, "%s: %s\n", binary, err->msg);
    return 2;
}
