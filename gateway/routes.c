/* routes.c — see routes.h. */
#include "routes.h"

#include "gw_pages.h"
#include "handlers.h"
#include "static_pages.h"

static const char *const health_query[] = {"full", NULL};
static const char *const cron_no_query[] = {NULL};
static const char *const cron_nightly_query[] = {"lookback", "dry_run", NULL};
static const char *const cron_caches_query[] = {"concurrency", NULL};
static const char *const brief_query[] = {"lookback", "refreshed", NULL};
static const char *const home_query[] = {"q", NULL};
static const char *const search_query[] = {"q", "limit", NULL};
static const char *const report_query[] = {NULL};

const gw_route gw_routes[] = {
    {GW_M_GET, "/health", gw_handle_health, GW_CLASS_HEALTH, 5000, health_query},
    {GW_M_GET, "/healthz", gw_handle_healthz, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/readyz", gw_handle_readyz, GW_CLASS_HEALTH, 2000, NULL},
    {GW_M_GET, "/methodology", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/about-data", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/demo", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_POST, "/cron/signals", gw_handle_cron_job, GW_CLASS_CRON_TRIGGER, GW_CRON_JOB_TIMEOUT_MS, cron_no_query},
    {GW_M_POST, "/cron/velocity-refresh", gw_handle_cron_job, GW_CLASS_CRON_TRIGGER, GW_CRON_JOB_TIMEOUT_MS,
     cron_no_query},
    {GW_M_POST, "/cron/compute-caches", gw_handle_cron_job, GW_CLASS_CRON_TRIGGER, GW_CRON_JOB_TIMEOUT_MS,
     cron_caches_query},
    {GW_M_POST, "/cron/nightly", gw_handle_cron_job, GW_CLASS_CRON_TRIGGER, GW_CRON_NIGHTLY_TIMEOUT_MS,
     cron_nightly_query},
    {GW_M_POST, "/cron/heartbeat", gw_handle_cron_job, GW_CLASS_CRON_TRIGGER, GW_CRON_HEARTBEAT_TIMEOUT_MS,
     cron_no_query},
    {GW_M_GET, "/cron/status", gw_handle_cron_status, GW_CLASS_CRON_READ, 5000, cron_no_query},
    {GW_M_GET, "/report/{block}/{lot}", gw_handle_report, GW_CLASS_PUBLIC, GW_REPORT_TIMEOUT_MS, report_query},
    {GW_M_GET, "/brief", gw_handle_brief, GW_CLASS_PUBLIC, GW_BRIEF_TIMEOUT_MS, brief_query},
    {GW_M_POST, "/brief/refresh", gw_handle_brief_refresh, GW_CLASS_PUBLIC, GW_BRIEF_REFRESH_TIMEOUT_MS, NULL},
    /* browsers (gw_pages.h) and the embedded assets */
    {GW_M_GET, "/", gw_handle_home, GW_CLASS_PUBLIC, GW_SEARCH_TIMEOUT_MS, home_query},
    {GW_M_GET, "/search", gw_handle_search, GW_CLASS_PUBLIC, GW_SEARCH_TIMEOUT_MS, search_query},
    {GW_M_POST, "/brief/sign-in", gw_handle_brief_signin, GW_CLASS_PUBLIC, GW_BRIEF_TIMEOUT_MS, NULL},
    {GW_M_POST, "/brief/sign-out", gw_handle_brief_signout, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/app.css", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/favicon.svg", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/favicon.ico", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/robots.txt", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/openapi.json", gw_handle_static, GW_CLASS_PUBLIC, 0, NULL},
};
const size_t gw_routes_count = sizeof gw_routes / sizeof gw_routes[0];

int gw_routes_check(sfp_err *err)
{
    for (size_t i = 0; i < gw_routes_count; i++)
        if (gw_routes[i].handler == gw_handle_static && !gw_static_page_find(gw_routes[i].pattern))
            return sfp_err_set(err, SFP_INTERNAL, "route %s has no embedded file gateway/static%s[.html]",
                               gw_routes[i].pattern, gw_routes[i].pattern);
    return 0;
}
