/* soda_source.h — where one SODA dataset's rows came from, for the caller that serves them:
 * the one source-state enum of the suite (the SODA client sets it, the report shows it as
 * sources[].state). Header only apart from sfp_soda_source_name (soda_client.c), so an
 * interface can name the state without pulling in the HTTP client. */
#ifndef SFP_SODA_SOURCE_H
#define SFP_SODA_SOURCE_H

typedef enum {
    SFP_SODA_LIVE = 0,    /* fetched from SODA during this call (by us or a coalesced peer) */
    SFP_SODA_CACHED,      /* fresh cache entry, no HTTP */
    SFP_SODA_STALE,       /* expired entry served because the live fetch failed/was refused */
    SFP_SODA_UNAVAILABLE, /* no data: reason says why */
} sfp_soda_source;
const char *sfp_soda_source_name(sfp_soda_source s); /* "live" | "cached" | "stale" | "unavailable" */

#endif
