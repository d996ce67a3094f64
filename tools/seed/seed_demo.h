/* seed_demo.h — the small "demo" part of sfp-seed: three users with watch lists and known
 * bearer tokens (stored as SHA-256), the permit/addenda change feeds of the last days,
 * cron_log history relative to now(), regulatory watch rows. Derived tables (signals,
 * severity, velocity, page cache) are emptied so the cron jobs recompute them. */
#ifndef SFP_SEED_DEMO_H
#define SFP_SEED_DEMO_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "seed_gen.h"
#include "sfp_err.h"

typedef struct seed_demo_user {
    const char *email, *display_name, *role, *token;
    const char *primary_street_number, *primary_street_name;
} seed_demo_user;

size_t seed_demo_user_count(void);
const seed_demo_user *seed_demo_user_get(size_t i);

typedef struct seed_demo_stat {
    int64_t users, api_tokens, watch_items, cron_log, regulatory_watch, permit_changes, addenda_changes;
} seed_demo_stat;

/* One transaction on conn. */
int seed_load_demo(PGconn *conn, const sfp_seed_world *w, seed_demo_stat *st, sfp_err *err);

#endif
