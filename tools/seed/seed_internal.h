/* seed_internal.h — internals shared by the sfp_seed_lib sources: the PRNG, the COPY text
 * writer, the world skeleton and the vocabularies. Not part of the library's API. */
#ifndef SFP_SEED_INTERNAL_H
#define SFP_SEED_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "seed_gen.h"

/* ------------------------------------------------------------------ PRNG (splitmix64) */
typedef struct seed_rng {
    uint64_t s;
} seed_rng;

static inline uint64_t seed_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rng_next(seed_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return seed_mix64(r->s);
}

/* Independent stream for (seed, stream tag, owner index). */
static inline seed_rng rng_for(uint64_t seed, uint32_t tag, uint64_t idx)
{
    seed_rng r = {seed_mix64(seed ^ seed_mix64(((uint64_t)tag << 40) ^ idx ^ 0x5851f42d4c957f2dULL))};
    return r;
}

/* Uniform in [0, 1). */
static inline double rng_unit(seed_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}
/* Uniform integer in [lo, hi]. */
static inline int rng_range(seed_rng *r, int lo, int hi)
{
    return lo + (int)(rng_unit(r) * (double)(hi - lo + 1));
}
static inline int rng_chance(seed_rng *r, double p)
{
    return rng_unit(r) < p;
}
/* Exponential with the given mean. */
static inline double rng_exp(seed_rng *r, double mean)
{
    return -mean * log(1.0 - rng_unit(r));
}
/* Index drawn from weights w[0..n-1] (any positive scale). */
int rng_pick(seed_rng *r, const double *w, int n);

/* Stream tags (one per table / purpose; never reuse a tag for another purpose). */
enum {
    TAG_WORLD = 1,
    TAG_PERMIT_ROW,
    TAG_CONTACT_ROW,
    TAG_ENTITY_ROW,
    TAG_INSP_ROW,
    TAG_ADDENDA,
    TAG_COMPLAINT_ROW,
    TAG_VIOLATION_ROW,
    TAG_TAX_ROW,
    TAG_BOILER_ROW,
    TAG_STREET_USE_ROW,
    TAG_PLANNING_ROW,
    TAG_PIPELINE_ROW
};

/* ------------------------------------------------------------------ COPY text writer */
typedef struct seed_out {
    char *buf;
    size_t len, cap;
    sfp_seed_sink_fn sink;
    void *ud;
    int failed;
    int64_t rows;
} seed_out;

#define SEED_NO_DAY INT32_MIN

int out_init(seed_out *o, sfp_seed_sink_fn sink, void *ud);
/* Flushes what is buffered; returns rows or -1, and frees the buffer. */
int64_t out_finish(seed_out *o);
void out_str(seed_out *o, const char *s); /* NULL -> \N */
void out_int(seed_out *o, long long v);
void out_money(seed_out *o, double v); /* whole dollars; v < 0 -> \N */
void out_dec1(seed_out *o, double v);  /* one decimal */
void out_dec6(seed_out *o, double v);  /* six decimals (coordinates) */
void out_null(seed_out *o);
void out_date(seed_out *o, int32_t day); /* YYYY-MM-DDT00:00:00.000 or \N */
void out_datetime(seed_out *o, int32_t day, int secs);
void out_day(seed_out *o, int32_t day);            /* YYYY-MM-DD (SQL DATE) or \N */
void out_tstz(seed_out *o, int32_t day, int secs); /* YYYY-MM-DD HH:MM:SS+00 */
void out_end_row(seed_out *o);

/* ------------------------------------------------------------------ world skeleton */
enum {
    ST_FILED,
    ST_PLANCHECK,
    ST_APPROVED,
    ST_ISSUED,
    ST_COMPLETE,
    ST_EXPIRED,
    ST_CANCELLED,
    ST_WITHDRAWN,
    ST_REINSTATED,
    ST_SUSPEND,
    ST_COUNT
};

typedef struct seed_parcel {
    const char *street_name, *street_suffix;
    uint32_t first_permit, first_complaint;
    uint32_t n_inspections, n_violations, open_permits;
    int32_t last_filed, sale_day;
    float land_value, impr_value; /* latest roll year */
    uint32_t lot_area, prop_area;
    uint16_t block, lot, street_no, n_permits, n_complaints, units;
    uint8_t lot_sfx, nbhd, zoning, use, stories, n_tax_years, special; /* special: index + 1 */
} seed_parcel;

typedef struct seed_permit {
    uint32_t parcel;
    uint32_t first_contact; /* index into world.contact_entity */
    int32_t filed, approved, issued, completed, status_day;
    float cost, revised; /* < 0: NULL */
    uint16_t seq;        /* NNNN of YYYYMMDDNNNN */
    uint8_t type, status, cat, desc, n_contacts, n_insp, recent, units_ex, units_pr;
} seed_permit;

typedef struct seed_complaint {
    uint32_t parcel, number;
    int32_t filed, abated;
    uint8_t status, n_items, desc, division;
} seed_complaint;

struct sfp_seed_world {
    sfp_seed_opts opts;
    seed_parcel *parcels;
    size_t n_parcels;
    seed_permit *permits;
    size_t n_permits;
    seed_complaint *complaints;
    size_t n_complaints;
    uint32_t *contact_entity; /* per contact: entity_id */
    size_t n_contacts;
    uint8_t *entity_role; /* per entity (index entity_id - 1) */
    uint32_t *entity_contacts, *entity_permits;
    size_t n_entities;
};

/* Rows of the brief's datasets (seed_rows_brief.c), one parcel at a time. */
void seed_rows_boiler_of(const sfp_seed_world *w, seed_out *o, size_t i);
void seed_rows_street_use_of(const sfp_seed_world *w, seed_out *o, size_t i);
void seed_rows_planning_of(const sfp_seed_world *w, seed_out *o, size_t i);
void seed_rows_pipeline_of(const sfp_seed_world *w, seed_out *o, size_t i);

/* Status/date helpers used by several tables. */
int seed_is_active(int status);
int seed_validity_days(const seed_permit *p);
void seed_permit_number(const seed_permit *p, char out[13]);

/* ------------------------------------------------------------------ vocabularies */
typedef struct seed_street {
    const char *name, *suffix;
} seed_street;

typedef struct seed_nbhd {
    const char *name;
    double weight;
    const char *district, *zip;
    int block_lo, block_hi; /* [lo, hi) */
    int profile;            /* 0 low-density residential, 1 mixed residential, 2 dense, 3 industrial */
    seed_street streets[7];
} seed_nbhd;

extern const seed_nbhd seed_nbhds[];
extern const int seed_nbhd_count;

typedef struct seed_use {
    const char *use_code, *use_definition, *class_code, *class_definition, *permit_use;
    int units_lo, units_hi, stories_lo, stories_hi;
} seed_use;
extern const seed_use seed_uses[];
extern const int seed_use_count;
/* Zoning codes per neighborhood profile, and the use each zoning usually carries. */
const char *seed_zoning_name(int zoning);
int seed_zoning_count(void);
int seed_pick_zoning(seed_rng *r, int profile);
int seed_pick_use(seed_rng *r, int zoning);

extern const char *const seed_status_names[ST_COUNT];
extern const char *const seed_type_codes[8];
extern const char *const seed_type_defs[8];

/* Permit description categories (severity keyword groups) and their texts. */
enum {
    CAT_SEISMIC,
    CAT_FIRE,
    CAT_ADU,
    CAT_NEW,
    CAT_KITCHEN,
    CAT_ELECTRICAL,
    CAT_PLUMBING,
    CAT_STRUCTURAL,
    CAT_WINDOWS,
    CAT_REROOF,
    CAT_SOLAR,
    CAT_DEMOLITION,
    CAT_GENERAL,
    CAT_SIGN,
    CAT_GRADING,
    CAT_COUNT
};
int seed_pick_category(seed_rng *r, int type_idx);
int seed_desc_count(int cat);
const char *seed_desc(int cat, int i);

typedef struct seed_station {
    const char *code, *department, *title;
    double share, mean_days;
} seed_station;
extern const seed_station seed_stations[];
extern const int seed_station_count;
int seed_pick_station(seed_rng *r);

/* Name pools. */
extern const char *const seed_first_names[];
extern const int seed_first_name_count;
extern const char *const seed_last_names[];
extern const int seed_last_name_count;
extern const char *const seed_firm_words[];
extern const int seed_firm_word_count;

enum {
    ROLE_CONTRACTOR,
    ROLE_AGENT,
    ROLE_ARCHITECT,
    ROLE_ENGINEER,
    ROLE_OWNER,
    ROLE_OTHER,
    ROLE_CONSULTANT,
    ROLE_DESIGNER,
    ROLE_COUNT
};
extern const char *const seed_role_names[ROLE_COUNT];

#endif
