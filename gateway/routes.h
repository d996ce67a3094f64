/* routes.h — the gateway's route table (static data; later issues add their rows here):
 *   GET  /health /healthz /readyz            class HEALTH
 *   GET  /methodology /about-data /demo      class PUBLIC (embedded pages)
 * Planned (issues 3–5): GET /report/{block}/{lot}; GET /brief; POST /brief/refresh;
 * POST /cron/{job} (class CRON_TRIGGER); GET /cron/status (class CRON_READ). */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <stddef.h>
#include "route_match.h"
#include "sfp_err.h"

extern const gw_route gw_routes[];
extern const size_t gw_routes_count;

/* Start-up consistency checks beyond the matcher's: every static-page route has an embedded
 * page. Returns 0 or -1 + err. */
int gw_routes_check(sfp_err *err);

#endif
