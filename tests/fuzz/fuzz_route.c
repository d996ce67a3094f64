/* libFuzzer target: the gateway's route matcher and request checks (gateway/route_match.c,
 * gateway/gw_limits.c) on a table with the shapes of the real one (literals, captures, classes).
 * Input: method '\n' path '\n' header value. Invariants: a match always fills its result, OK
 * only with a route whose shape fits, captures are NUL-terminated and free of '/' and control
 * bytes; percent-decoding never grows; the header parsers never read past their input.
 * fuzz-sources: gateway/route_match.c gateway/gw_limits.c common/sfp_err.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_limits.h"
#include "route_match.h"

static void h(struct gw_request *req, struct gw_response *resp)
{
    (void)req;
    (void)resp;
}

static const gw_route k_routes[] = {
    {GW_M_GET, "/health", h, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/healthz", h, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/readyz", h, GW_CLASS_HEALTH, 0, NULL},
    {GW_M_GET, "/methodology", h, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_POST, "/cron/signals", h, GW_CLASS_CRON_TRIGGER, 0, NULL},
    {GW_M_POST, "/cron/nightly", h, GW_CLASS_CRON_TRIGGER, 0, NULL},
    {GW_M_GET, "/cron/status", h, GW_CLASS_CRON_READ, 0, NULL},
    {GW_M_GET, "/report/{block}/{lot}", h, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/report/{block}/{lot}/permits", h, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_GET, "/brief", h, GW_CLASS_PUBLIC, 0, NULL},
    {GW_M_POST, "/brief/refresh", h, GW_CLASS_PUBLIC, 0, NULL},
};

static gw_router *g_router;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_router) {
        sfp_err err = {0};
        g_router = gw_router_create(k_routes, sizeof k_routes / sizeof k_routes[0], &err);
        if (!g_router) abort();
    }
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *method = s;
    char *path = strchr(method, '\n');
    char *value = NULL;
    if (path) {
        *path++ = '\0';
        value = strchr(path, '\n');
        if (value) *value++ = '\0';
    } else {
        path = (char *)"/";
    }
    if (path[0] == '/') {
        for (int cron = 0; cron < 2; cron++) {
            gw_match m;
            gw_match_result r = gw_router_match(g_router, method, path, gw_visible_classes(cron), &m);
            if (r != m.result) abort();
            if (r == GW_MATCH_OK) {
                if (!m.route) abort();
                for (int i = 0; i < m.ncaptures; i++) {
                    const char *v = m.captures[i].value;
                    if (!v || !*v || strchr(v, '/')) abort();
                    for (const char *p = v; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f) abort();
                    if (gw_match_capture(&m, m.captures[i].name) == NULL) abort();
                }
            }
            if (r == GW_MATCH_METHOD_NOT_ALLOWED) {
                char allow[96];
                gw_allow_header(m.allow, allow, sizeof allow);
                if (!allow[0]) abort();
            }
            gw_match_clear(&m);
        }
        size_t n = strlen(path);
        char *dst = malloc(n + 1);
        if (dst) {
            long d = gw_percent_decode(path, n, dst);
            if (d > (long)n) abort();
            free(dst);
        }
    }
    if (value) {
        int t;
        uint64_t cl;
        if (gw_parse_timeout_ms(value, 30000, &t) == 0 && (t < 1 || t > 30000)) abort();
        (void)gw_parse_content_length(value, &cl);
        (void)gw_etag_matches(value, "\"0123456789abcdef\"");
        (void)gw_etag_matches(value, "W/\"x\"");
        char id[GW_REQUEST_ID_MAX + 1];
        if (gw_request_id_choose(value, id) && strcmp(id, value)) abort();
        if (!gw_request_id_valid(id)) abort();
    }
    free(s);
    return 0;
}
