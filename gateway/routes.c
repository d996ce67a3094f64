/* routes.c — see routes.h. */
#include "routes.h"

#include "handlers.h"
#include "static_pages.h"

static const char *const health_query[] = {"full", NULL};

const gw_route gw_routes[] = {
    {GW_M_GET, "/health", gw_handle_health, GW_CLASS_HEALTH, 5000, health_query},
    {GW_M_GET, "/healthz", gw_handle_healthz, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/readyz", gw_handle_readyz, GW_CLASS_HEALTH, 2000, NULL},
    {GW_M_GET, "/methodology", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/about-data", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/demo", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
};
const size_t gw_routes_count = sizeof gw_routes / sizeof gw_routes[0];

int gw_routes_check(sfp_err *err)
{
    for (size_t i = 0; i < gw_routes_count; i++)
        if (gw_routes[i].handler == gw_handle_static && !gw_static_page_find(gw_routes[i].pattern))
            return sfp_err_set(err, 1, "route %s has no embedded page gateway/static%s.html", gw_routes[i].pattern,
                               gw_routes[i].pattern);
    return 0;
}
