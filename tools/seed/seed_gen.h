/* seed_gen.h — sfp_seed_lib: deterministic synthetic San Francisco permit data (pure: no I/O).
 *
 * Two phases. sfp_seed_world_new() builds the skeleton in memory (parcels, permits with their
 * timelines, complaints, contact->entity assignment, per-parcel counts), sequentially from one
 * seed. sfp_seed_generate() then streams any table as COPY text rows; every row draws from a
 * PRNG seeded by (seed, table, row owner), so tables can be generated in any order, in
 * parallel, and a table is byte-identical for the same (scale, seed, as_of).
 *
 * Every date is relative to opts.as_of (the "data as of" day), so a demo seeded today has
 * recent activity; the same as_of reproduces the same bytes.
 *
 * Ownership: the world owns all its memory (sfp_seed_world_free). Strings returned by the
 * accessors below are static or owned by the world. */
#ifndef SFP_SEED_GEN_H
#define SFP_SEED_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SFP_SEED_DEMO = 0, SFP_SEED_FULL = 1 } sfp_seed_scale;

typedef struct sfp_seed_opts {
    sfp_seed_scale scale;
    uint64_t seed;
    int32_t as_of; /* days since 1970-01-01 (UTC) */
} sfp_seed_opts;

#define SFP_SEED_DEFAULT_SEED 20260212u

typedef enum {
    SFP_SEED_PERMITS = 0,
    SFP_SEED_ENTITIES,
    SFP_SEED_CONTACTS,
    SFP_SEED_INSPECTIONS,
    SFP_SEED_ADDENDA,
    SFP_SEED_COMPLAINTS,
    SFP_SEED_VIOLATIONS,
    SFP_SEED_TAX_ROLLS,
    SFP_SEED_PARCEL_SUMMARY,
    SFP_SEED_TIMELINE_STATS,
    SFP_SEED_PERMIT_CHANGES,  /* demo feed: changes of the last 7 days before as_of */
    SFP_SEED_ADDENDA_CHANGES, /* demo feed */
    SFP_SEED_BOILER_PERMITS,  /* the brief's datasets (bulk) */
    SFP_SEED_STREET_USE_PERMITS,
    SFP_SEED_PLANNING_RECORDS,
    SFP_SEED_DEVELOPMENT_PIPELINE,
    SFP_SEED_TABLE_COUNT
} sfp_seed_table;

/* Table name, and the COPY column list "(a, b, ...)" matching the generated rows. */
const char *sfp_seed_table_name(sfp_seed_table t);
const char *sfp_seed_table_columns(sfp_seed_table t);
/* Bulk tables are reloaded with indexes dropped; the change feeds are small demo tables. */
bool sfp_seed_table_is_bulk(sfp_seed_table t);

typedef struct sfp_seed_world sfp_seed_world;

/* NULL on bad options or out of memory. */
sfp_seed_world *sfp_seed_world_new(const sfp_seed_opts *opts);
void sfp_seed_world_free(sfp_seed_world *w);

size_t sfp_seed_world_parcels(const sfp_seed_world *w);
size_t sfp_seed_world_permits(const sfp_seed_world *w);
const sfp_seed_opts *sfp_seed_world_opts(const sfp_seed_world *w);

/* Receives COPY text (whole rows, tab separated, '\n' terminated, NULL as \N).
 * Returns 0 to continue, non-zero to abort the generation. */
typedef int (*sfp_seed_sink_fn)(void *ud, const char *data, size_t len);

/* Streams table t to sink in chunks of about 1 MiB. Returns the number of rows, or -1 if the
 * sink aborted or memory ran out. */
int64_t sfp_seed_generate(const sfp_seed_world *w, sfp_seed_table t, sfp_seed_sink_fn sink, void *ud);

/* ---- hand-placed parcels (heavy tail and demo addresses) ---- */
typedef struct sfp_seed_special {
    const char *block, *lot;
    const char *street_number, *street_name, *street_suffix;
    const char *neighborhood;
    int n_permits;
    int n_recent; /* permits forced to change within the last days before as_of */
} sfp_seed_special;

size_t sfp_seed_special_count(void);
const sfp_seed_special *sfp_seed_special_get(size_t i);

/* Writes into out (13 bytes) the permit number of a permit at block/lot: the most recently
 * filed one that is still active (filed, plancheck, approved, issued, reinstated) when
 * want_active, else the most recently filed. Returns 0, or -1 if the parcel has none. */
int sfp_seed_parcel_permit(const sfp_seed_world *w, const char *block, const char *lot, bool want_active, char out[13]);
/* entity_id of the contractor entity with the most contacts (0 if none). */
int32_t sfp_seed_top_contractor(const sfp_seed_world *w);

/* Calendar helpers (UTC, proleptic Gregorian). */
void sfp_seed_format_day(int32_t day, char out[11]); /* "YYYY-MM-DD" */
int sfp_seed_parse_day(const char *s, int32_t *day); /* 0 ok, -1 bad */

#endif
