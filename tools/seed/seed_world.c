/* seed_world.c — phase 1 of the generator: the in-memory skeleton of the dataset.
 *
 * Built sequentially from one PRNG stream so it is identical for the same options: parcels
 * (neighborhood, address, assessor attributes), permits (type, description, cost, timeline
 * and status, contact and inspection counts), complaints (number, dates, status, NOV items),
 * and the contact -> entity assignment with per-entity counts. Everything a summary count
 * depends on is decided here, so the row emitters (seed_rows.c) only add detail. */
#include <stdlib.h>
#include <string.h>

#include "seed_internal.h"

/* Hand-placed parcels: the heavy tail (3512/001 = 44 permits, 0585/003 = 20) and the demo
 * addresses of the reference (sec. 8.1). */
static const sfp_seed_special specials[] = {
    {"3512", "001", "1600", "MISSION", "ST", "South of Market", 44, 3},
    {"3507", "004", "1455", "MARKET", "ST", "South of Market", 2, 1},
    {"1386", "025", "146", "LAKE", "ST", "Inner Richmond", 6, 1},
    {"0312", "005", "125", "MASON", "ST", "Tenderloin", 9, 1},
    {"0585", "003", "2220", "JACKSON", "ST", "Pacific Heights", 20, 2},
    {"1742", "014", "1281", "08TH", "AV", "Inner Sunset", 5, 0},
};
#define N_SPECIALS ((int)(sizeof specials / sizeof specials[0]))

size_t sfp_seed_special_count(void)
{
    return N_SPECIALS;
}
const sfp_seed_special *sfp_seed_special_get(size_t i)
{
    return i < N_SPECIALS ? &specials[i] : NULL;
}

/* Parcels (including the specials) per scale; permits follow from ~6.6 per parcel. */
static size_t scale_parcels(sfp_seed_scale s)
{
    return s == SFP_SEED_FULL ? 194000 : 200;
}

enum { MAX_PERMITS_PER_PARCEL = 40, MAX_ITEMS = 20 };

int seed_is_active(int status)
{
    return status == ST_FILED || status == ST_PLANCHECK || status == ST_APPROVED || status == ST_ISSUED ||
           status == ST_REINSTATED;
}

/* Table B validity in days from issuance. */
int seed_validity_days(const seed_permit *p)
{
    if (p->cat == CAT_DEMOLITION) return 180;
    double cost = p->revised >= 0 ? p->revised : (p->cost >= 0 ? p->cost : 0);
    if (cost >= 2500000) return 1440;
    if (cost >= 100001) return 1080;
    return 360;
}

void seed_permit_number(const seed_permit *p, char out[13])
{
    sfp_seed_format_day(p->filed, out); /* "YYYY-MM-DD" */
    out[4] = out[5];
    out[5] = out[6];
    out[6] = out[8];
    out[7] = out[9];
    out[8] = (char)('0' + p->seq / 1000);
    out[9] = (char)('0' + p->seq / 100 % 10);
    out[10] = (char)('0' + p->seq / 10 % 10);
    out[11] = (char)('0' + p->seq % 10);
    out[12] = '\0';
}

/* ------------------------------------------------------------------ parcels */
static int special_index(int block, int lot)
{
    for (int i = 0; i < N_SPECIALS; i++)
        if (atoi(specials[i].block) == block && atoi(specials[i].lot) == lot) return i;
    return -1;
}

static int nbhd_by_name(const char *name)
{
    for (int i = 0; i < seed_nbhd_count; i++)
        if (!strcmp(seed_nbhds[i].name, name)) return i;
    return 0;
}

static int street_count(const seed_nbhd *n)
{
    int k = 0;
    while (k < 7 && n->streets[k].name) k++;
    return k;
}

/* Assessor attributes of a parcel (zoning, use, size, value, last sale). */
static void parcel_attrs(seed_rng *r, seed_parcel *pc, int32_t as_of)
{
    const seed_nbhd *n = &seed_nbhds[pc->nbhd];
    pc->zoning = (uint8_t)seed_pick_zoning(r, n->profile);
    pc->use = (uint8_t)seed_pick_use(r, pc->zoning);
    const seed_use *u = &seed_uses[pc->use];
    pc->units = (uint16_t)rng_range(r, u->units_lo, u->units_hi);
    pc->stories = (uint8_t)rng_range(r, u->stories_lo, u->stories_hi);
    pc->lot_area = (uint32_t)(1500 + rng_exp(r, 2000));
    pc->prop_area = (uint32_t)(pc->stories * (0.6 + 0.4 * rng_unit(r)) * pc->lot_area);
    double land = 250000 * exp(1.2 * (rng_unit(r) + rng_unit(r) - 1.0)) * (n->profile == 2 ? 2.0 : 1.0);
    pc->land_value = (float)(land * (1 + pc->lot_area / 5000.0));
    pc->impr_value = (float)(pc->prop_area * (120 + 200 * rng_unit(r)));
    pc->sale_day = rng_chance(r, 0.85) ? as_of - rng_range(r, 200, 16000) : SEED_NO_DAY;
    double y = rng_unit(r);
    pc->n_tax_years = (uint8_t)(y < 0.02 ? 1 : y < 0.07 ? 2 : 3);
}

static void place_normal_parcel(seed_rng *r, seed_parcel *pc, int nb, int block, int lot)
{
    const seed_nbhd *n = &seed_nbhds[nb];
    pc->nbhd = (uint8_t)nb;
    pc->block = (uint16_t)block;
    pc->lot = (uint16_t)lot;
    pc->lot_sfx = rng_chance(r, 0.003) ? 'A' : 0;
    const seed_street *st = &n->streets[rng_range(r, 0, street_count(n) - 1)];
    pc->street_name = st->name;
    pc->street_suffix = st->suffix;
    pc->street_no = (uint16_t)rng_range(r, 1, 3999);
}

/* Normal parcels spread over the neighborhoods by weight; block/lot unique by construction
 * (disjoint block ranges, lot = running number within the range, hand-placed keys skipped). */
static size_t place_parcels(seed_rng *r, seed_parcel *ps, size_t n_normal)
{
    double total = 0;
    for (int i = 0; i < seed_nbhd_count; i++) total += seed_nbhds[i].weight;
    size_t k = 0;
    double cum = 0;
    for (int i = 0; i < seed_nbhd_count; i++) {
        cum += seed_nbhds[i].weight;
        size_t upto = i == seed_nbhd_count - 1 ? n_normal : (size_t)(cum / total * (double)n_normal + 0.5);
        size_t nblocks = (size_t)(seed_nbhds[i].block_hi - seed_nbhds[i].block_lo);
        for (size_t slot = 0; k < upto; slot++) {
            int block = seed_nbhds[i].block_lo + (int)(slot % nblocks);
            int lot = 1 + (int)(slot / nblocks);
            if (lot > 999) break; /* the neighborhood's blocks are full */
            if (special_index(block, lot) >= 0) continue;
            place_normal_parcel(r, &ps[k++], i, block, lot);
        }
    }
    return k;
}

static void place_specials(seed_parcel *ps)
{
    for (int i = 0; i < N_SPECIALS; i++) {
        seed_parcel *pc = &ps[i];
        memset(pc, 0, sizeof *pc);
        pc->block = (uint16_t)atoi(specials[i].block);
        pc->lot = (uint16_t)atoi(specials[i].lot);
        pc->nbhd = (uint8_t)nbhd_by_name(specials[i].neighborhood);
        pc->street_name = specials[i].street_name;
        pc->street_suffix = specials[i].street_suffix;
        pc->street_no = (uint16_t)atoi(specials[i].street_number);
        pc->special = (uint8_t)(i + 1);
    }
}

static int parcel_cmp(const void *a, const void *b)
{
    const seed_parcel *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    if (x->lot != y->lot) return x->lot < y->lot ? -1 : 1;
    return (x->lot_sfx > y->lot_sfx) - (x->lot_sfx < y->lot_sfx);
}

/* Skewed permits-per-parcel: geometric with mean ~6.6, redrawn above 40 so the tail thins out
 * smoothly below the 44-permit parcel (3512/001 stays the largest). */
static int draw_permit_count(seed_rng *r)
{
    const double p = 1.0 / 6.63;
    for (;;) {
        int k = 1 + (int)(log(1.0 - rng_unit(r)) / log(1.0 - p));
        if (k <= MAX_PERMITS_PER_PARCEL) return k;
    }
}

/* ------------------------------------------------------------------ permits */
static int pick_type(seed_rng *r)
{
    static const double w[8] = {1.0, 2.0, 38.0, 1.5, 0.5, 1.5, 0.5, 55.0};
    return rng_pick(r, w, 8);
}

static double draw_cost(seed_rng *r, int cat)
{
    static const double median[CAT_COUNT] = {45000, 30000, 180000, 1500000, 60000, 8000, 6000, 35000,
                                             12000, 15000, 20000,  25000,   25000, 4000, 60000};
    double z = rng_unit(r) + rng_unit(r) + rng_unit(r) - 1.5; /* ~N(0, 0.5) */
    double c = median[cat] * exp(1.6 * z);
    return c < 1000 ? (double)(int)c : 100.0 * (int)(c / 100.0);
}

static int clamp_day(int32_t d, int32_t as_of)
{
    return d > as_of ? as_of : d;
}

/* Pre-issuance part of the lifecycle; returns 1 when the permit's story ends before issuance. */
static int timeline_review(seed_rng *r, seed_permit *p, int32_t as_of, int otc, int32_t *approved)
{
    double mean = p->cat == CAT_NEW ? 320 : rng_chance(r, 0.06) ? 700 : 130; /* 6% get stuck */
    int review = otc ? 0 : 5 + (int)rng_exp(r, mean);
    if (review > 1500) review = 1500;
    if (!otc && rng_chance(r, 0.07)) {
        int32_t at = p->filed + rng_range(r, 10, review + 200);
        if (at <= as_of) {
            p->status = rng_chance(r, 0.55) ? ST_CANCELLED : ST_WITHDRAWN;
            p->status_day = at;
            return 1;
        }
    }
    *approved = p->filed + review;
    if (*approved > as_of) {
        int age = as_of - p->filed;
        p->status = (age < 5 || rng_chance(r, 0.35)) ? ST_FILED : ST_PLANCHECK;
        p->status_day = p->status == ST_FILED ? p->filed : p->filed + rng_range(r, 0, age < 60 ? age : 60);
        return 1;
    }
    return 0;
}

/* After issuance: completes, expires (rarely reinstated), is cancelled, or stays issued. */
static void timeline_after_issue(seed_rng *r, seed_permit *p, int32_t as_of, int otc)
{
    p->status = ST_ISSUED;
    p->status_day = p->issued;
    double v = rng_unit(r);
    if (v < 0.68) {
        int32_t done = p->issued + 1 + (int)rng_exp(r, otc ? 90 : 300);
        if (done <= as_of) {
            p->status = ST_COMPLETE;
            p->completed = done;
            p->status_day = done;
        }
    } else if (v < 0.90) {
        int32_t exp_day = p->issued + seed_validity_days(p);
        if (exp_day <= as_of) {
            int reinstated = rng_chance(r, 0.03);
            p->status = reinstated ? ST_REINSTATED : ST_EXPIRED;
            p->status_day = reinstated ? clamp_day(exp_day + rng_range(r, 10, 200), as_of) : exp_day;
        }
    } else if (v < 0.93) {
        int32_t at = p->issued + rng_range(r, 30, 400);
        if (at <= as_of) {
            p->status = ST_CANCELLED;
            p->status_day = at;
        }
    } else if (v < 0.935) {
        p->status = ST_SUSPEND;
        p->status_day = clamp_day(p->issued + rng_range(r, 30, 300), as_of);
    }
}

static void permit_timeline(seed_rng *r, seed_permit *p, int32_t as_of)
{
    int otc = p->type == 7;
    int32_t approved = SEED_NO_DAY;
    p->approved = p->issued = p->completed = SEED_NO_DAY;
    if (timeline_review(r, p, as_of, otc, &approved)) return;
    p->approved = approved;
    int32_t issued = approved + (otc ? 0 : rng_range(r, 0, 45));
    if (issued > as_of) {
        p->status = ST_APPROVED;
        p->status_day = approved;
        return;
    }
    p->issued = issued;
    timeline_after_issue(r, p, as_of, otc);
}

/* Moves a permit's whole timeline so its last event falls within the last 5 days. */
static void shift_recent(seed_rng *r, seed_permit *p, int32_t as_of)
{
    int32_t delta = (as_of - rng_range(r, 0, 4)) - p->status_day;
    int32_t *days[] = {&p->filed, &p->approved, &p->issued, &p->completed, &p->status_day};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        if (*days[i] != SEED_NO_DAY) *days[i] += delta;
    p->recent = 1;
}

static int draw_age(seed_rng *r)
{
    double u = rng_unit(r);
    if (u < 0.28) return rng_range(r, 0, 730);
    if (u < 0.60) return rng_range(r, 731, 2920);
    return rng_range(r, 2921, 13000);
}

/* Inspection rates by category (sec. 8.2); expired and stale issued permits are mostly
 * uninspected (92.6% of stale issued permits have none). */
static int draw_inspections(seed_rng *r, const seed_permit *p, int32_t as_of, int special)
{
    if (p->issued == SEED_NO_DAY) return 0;
    static const double p_has[CAT_COUNT] = {0.373, 0.062, 0.378, 0.85, 0.15, 0.12, 0.12, 0.30,
                                            0.05,  0.06,  0.109, 0.5,  0.08, 0.05, 0.3};
    double f = p->status == ST_EXPIRED ? 0.3 : (p->status == ST_ISSUED && p->issued < as_of - 730) ? 0.4 : 1.0;
    if (!special && !rng_chance(r, p_has[p->cat] * f)) return 0;
    double mean = p->cat == CAT_NEW ? 8.0 : 2.8;
    int n = (p->cat == CAT_NEW ? 4 : 1) + (int)rng_exp(r, mean);
    return n > 40 ? 40 : n;
}

static int draw_contacts(seed_rng *r, const seed_permit *p, int special)
{
    static const double w[5] = {0.50, 0.33, 0.11, 0.04, 0.02};
    int n = rng_pick(r, w, 5);
    if (p->cat == CAT_NEW || p->cat == CAT_ADU) n++;
    if (special && n == 0) n = 1;
    return n;
}

static void build_permit(seed_rng *r, seed_permit *p, const seed_parcel *pc, int32_t as_of, int recent)
{
    memset(p, 0, sizeof *p);
    p->type = (uint8_t)pick_type(r);
    p->cat = (uint8_t)seed_pick_category(r, p->type);
    p->desc = (uint8_t)rng_range(r, 0, seed_desc_count(p->cat) - 1);
    p->filed = as_of - (recent ? rng_range(r, 20, 400) : draw_age(r));
    p->cost = rng_chance(r, 0.01) ? -1.0f : (float)draw_cost(r, p->cat);
    double v = rng_unit(r);
    p->revised = v < 0.55 ? p->cost : v < 0.80 ? (float)(p->cost * (1.05 + 0.75 * rng_unit(r))) : -1.0f;
    if (p->cost < 0 && p->revised >= 0) p->revised = -1.0f;
    permit_timeline(r, p, as_of);
    if (recent) shift_recent(r, p, as_of);
    p->units_ex = (uint8_t)(pc->units > 255 ? 255 : pc->units);
    p->units_pr = p->cat == CAT_ADU ? (uint8_t)(p->units_ex + 1) : p->units_ex;
    p->n_insp = (uint8_t)draw_inspections(r, p, as_of, pc->special == 1);
    p->n_contacts = (uint8_t)draw_contacts(r, p, pc->special == 1);
}

/* NNNN per filed day: a counter scrambled by a bijection on [0, 10000) so numbers look random
 * but never collide within a day. */
static int assign_sequences(sfp_seed_world *w)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < w->n_permits; i++) {
        if (w->permits[i].filed < lo) lo = w->permits[i].filed;
        if (w->permits[i].filed > hi) hi = w->permits[i].filed;
    }
    uint16_t *count = calloc((size_t)(hi - lo + 1), sizeof *count);
    if (!count) return -1;
    int rc = 0;
    for (size_t i = 0; i < w->n_permits && rc == 0; i++) {
        seed_permit *p = &w->permits[i];
        uint16_t c = count[p->filed - lo]++;
        if (c >= 10000) rc = -1; /* more than 10,000 permits filed on one day */
        p->seq = (uint16_t)(((uint32_t)c * 7919u + (uint32_t)(p->filed & 0xffff) * 31u) % 10000u);
    }
    free(count);
    return rc;
}

/* ------------------------------------------------------------------ contacts -> entities */
typedef struct role_pool {
    uint32_t *ids;
    size_t len, cap;
} role_pool;

static int pool_push(role_pool *p, uint32_t id)
{
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        uint32_t *n = realloc(p->ids, cap * sizeof *n);
        if (!n) return -1;
        p->ids = n;
        p->cap = cap;
    }
    p->ids[p->len++] = id;
    return 0;
}

static int pick_role(seed_rng *r)
{
    static const double w[ROLE_COUNT] = {57.3, 14.3, 9.5, 6.9, 4.2, 3.2, 2.6, 1.5};
    return rng_pick(r, w, ROLE_COUNT);
}

/* Reuse is skewed towards early entities (u^3), so a few contractors appear on thousands of
 * permits while most entities have one or two contacts (~2 contacts per entity overall). */
static uint32_t choose_entity(seed_rng *r, sfp_seed_world *w, role_pool *pool, int role, const uint32_t *taken,
                              int ntaken)
{
    static const double p_new[ROLE_COUNT] = {0.45, 0.5, 0.5, 0.55, 0.9, 0.8, 0.4, 0.6};
    role_pool *pp = &pool[role];
    if (pp->len > 0 && !rng_chance(r, p_new[role])) {
        double u = rng_unit(r);
        uint32_t id = pp->ids[(size_t)(u * u * u * (double)pp->len)];
        int dup = 0;
        for (int i = 0; i < ntaken; i++) dup |= taken[i] == id;
        if (!dup) return id;
    }
    uint32_t id = (uint32_t)++w->n_entities;
    w->entity_role[id - 1] = (uint8_t)role;
    return pool_push(pp, id) == 0 ? id : 0;
}

static int assign_entities(sfp_seed_world *w, seed_rng *r)
{
    w->contact_entity = malloc((w->n_contacts ? w->n_contacts : 1) * sizeof *w->contact_entity);
    w->entity_role = malloc((w->n_contacts ? w->n_contacts : 1) * sizeof *w->entity_role);
    if (!w->contact_entity || !w->entity_role) return -1;
    role_pool pool[ROLE_COUNT] = {{0}};
    int rc = 0;
    for (size_t i = 0; i < w->n_permits && rc == 0; i++) {
        seed_permit *p = &w->permits[i];
        uint32_t taken[8];
        for (int k = 0; k < p->n_contacts; k++) {
            uint32_t id = choose_entity(r, w, pool, pick_role(r), taken, k);
            if (!id) rc = -1;
            taken[k] = id;
            w->contact_entity[p->first_contact + (uint32_t)k] = id;
        }
    }
    for (int k = 0; k < ROLE_COUNT; k++) free(pool[k].ids);
    if (rc) return rc;
    w->entity_contacts = calloc(w->n_entities + 1, sizeof *w->entity_contacts);
    w->entity_permits = calloc(w->n_entities + 1, sizeof *w->entity_permits);
    if (!w->entity_contacts || !w->entity_permits) return -1;
    for (size_t c = 0; c < w->n_contacts; c++) {
        w->entity_contacts[w->contact_entity[c] - 1]++;
        w->entity_permits[w->contact_entity[c] - 1]++; /* never twice on one permit */
    }
    return 0;
}

/* ------------------------------------------------------------------ complaints */
static int draw_complaint_count(seed_rng *r, const seed_parcel *pc)
{
    if (pc->special) {
        static const int fixed[N_SPECIALS] = {3, 0, 1, 6, 2, 1};
        return fixed[pc->special - 1];
    }
    if (rng_chance(r, 0.5)) return 0;
    int n = 1 + (int)rng_exp(r, 2.86);
    return n > 60 ? 60 : n;
}

static void build_complaint(seed_rng *r, seed_complaint *c, int32_t as_of, int force_open)
{
    memset(c, 0, sizeof *c);
    double u = rng_unit(r);
    int age = u < 0.3 ? rng_range(r, 0, 730) : rng_range(r, 731, 9000);
    c->filed = as_of - age;
    double p_open = age < 60 ? 0.5 : age < 730 ? 0.08 : 0.01;
    if (force_open || rng_chance(r, p_open)) c->status = 0; /* open */
    else c->status = rng_chance(r, 0.85) ? 1 : 2;           /* closed | abated */
    c->abated = c->status == 0 ? SEED_NO_DAY : clamp_day(c->filed + 1 + (int)rng_exp(r, 90), as_of);
    c->n_items = 0;
    if (force_open || rng_chance(r, 0.55)) {
        int n = 1 + (int)rng_exp(r, 2.34);
        c->n_items = (uint8_t)(n > MAX_ITEMS ? MAX_ITEMS : n);
    }
    c->desc = (uint8_t)rng_range(r, 0, 255);
    c->division = (uint8_t)rng_range(r, 0, 255);
}

/* Complaint numbers: YYYY + 5 digits per filing year (scrambled); 6 digits past 99,999. */
static void number_complaints(sfp_seed_world *w)
{
    uint32_t count[1200] = {0};
    for (size_t i = 0; i < w->n_complaints; i++) {
        seed_complaint *c = &w->complaints[i];
        char ymd[11];
        sfp_seed_format_day(c->filed, ymd);
        uint32_t year = (uint32_t)atoi(ymd);
        uint32_t k = count[year - 1900]++;
        c->number = k < 100000 ? year * 100000u + (k * 7919u + year) % 100000u : year * 1000000u + k;
    }
}

static int build_complaints(sfp_seed_world *w, seed_rng *r)
{
    size_t total = 0;
    for (size_t i = 0; i < w->n_parcels; i++) {
        w->parcels[i].n_complaints = (uint16_t)draw_complaint_count(r, &w->parcels[i]);
        total += w->parcels[i].n_complaints;
    }
    w->complaints = calloc(total ? total : 1, sizeof *w->complaints);
    if (!w->complaints) return -1;
    size_t k = 0;
    for (size_t i = 0; i < w->n_parcels; i++) {
        seed_parcel *pc = &w->parcels[i];
        pc->first_complaint = (uint32_t)k;
        for (int j = 0; j < pc->n_complaints; j++, k++) {
            int force_open = pc->special == 4 && j < 2; /* 125 MASON ST: open enforcement */
            build_complaint(r, &w->complaints[k], w->opts.as_of, force_open);
            w->complaints[k].parcel = (uint32_t)i;
            pc->n_violations += w->complaints[k].n_items;
        }
    }
    w->n_complaints = k;
    number_complaints(w);
    return 0;
}

/* ------------------------------------------------------------------ assembly */
static int build_permits(sfp_seed_world *w, seed_rng *r)
{
    size_t total = 0;
    for (size_t i = 0; i < w->n_parcels; i++) {
        seed_parcel *pc = &w->parcels[i];
        pc->n_permits = (uint16_t)(pc->special ? specials[pc->special - 1].n_permits : draw_permit_count(r));
        total += pc->n_permits;
    }
    w->permits = calloc(total, sizeof *w->permits);
    if (!w->permits) return -1;
    size_t k = 0, contacts = 0;
    for (size_t i = 0; i < w->n_parcels; i++) {
        seed_parcel *pc = &w->parcels[i];
        pc->first_permit = (uint32_t)k;
        pc->last_filed = SEED_NO_DAY;
        int recent = pc->special ? specials[pc->special - 1].n_recent : 0;
        for (int j = 0; j < pc->n_permits; j++, k++) {
            seed_permit *p = &w->permits[k];
            build_permit(r, p, pc, w->opts.as_of, j < recent);
            p->parcel = (uint32_t)i;
            p->first_contact = (uint32_t)contacts;
            contacts += p->n_contacts;
            pc->n_inspections += p->n_insp;
            pc->open_permits += (uint16_t)seed_is_active(p->status);
            if (p->filed > pc->last_filed) pc->last_filed = p->filed;
        }
    }
    w->n_permits = k;
    w->n_contacts = contacts;
    return assign_sequences(w);
}

static int build_parcels(sfp_seed_world *w, seed_rng *r)
{
    size_t n = scale_parcels(w->opts.scale);
    w->parcels = calloc(n, sizeof *w->parcels);
    if (!w->parcels) return -1;
    place_specials(w->parcels);
    size_t placed = place_parcels(r, w->parcels + N_SPECIALS, n - N_SPECIALS);
    w->n_parcels = N_SPECIALS + placed;
    qsort(w->parcels, w->n_parcels, sizeof *w->parcels, parcel_cmp);
    for (size_t i = 0; i < w->n_parcels; i++) parcel_attrs(r, &w->parcels[i], w->opts.as_of);
    return 0;
}

sfp_seed_world *sfp_seed_world_new(const sfp_seed_opts *opts)
{
    if (!opts || (opts->scale != SFP_SEED_DEMO && opts->scale != SFP_SEED_FULL)) return NULL;
    sfp_seed_world *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->opts = *opts;
    seed_rng r = rng_for(opts->seed, TAG_WORLD, 0);
    if (build_parcels(w, &r) < 0 || build_permits(w, &r) < 0 || assign_entities(w, &r) < 0 ||
        build_complaints(w, &r) < 0) {
        sfp_seed_world_free(w);
        return NULL;
    }
    return w;
}

void sfp_seed_world_free(sfp_seed_world *w)
{
    if (!w) return;
    free(w->parcels);
    free(w->permits);
    free(w->complaints);
    free(w->contact_entity);
    free(w->entity_role);
    free(w->entity_contacts);
    free(w->entity_permits);
    free(w);
}

size_t sfp_seed_world_parcels(const sfp_seed_world *w)
{
    return w->n_parcels;
}
size_t sfp_seed_world_permits(const sfp_seed_world *w)
{
    return w->n_permits;
}
const sfp_seed_opts *sfp_seed_world_opts(const sfp_seed_world *w)
{
    return &w->opts;
}

/* ------------------------------------------------------------------ lookups for the demo */
static const seed_parcel *find_parcel(const sfp_seed_world *w, const char *block, const char *lot)
{
    seed_parcel key;
    memset(&key, 0, sizeof key);
    key.block = (uint16_t)atoi(block);
    key.lot = (uint16_t)atoi(lot);
    key.lot_sfx = (uint8_t)(strlen(lot) > 3 ? lot[3] : 0);
    return bsearch(&key, w->parcels, w->n_parcels, sizeof key, parcel_cmp);
}

int sfp_seed_parcel_permit(const sfp_seed_world *w, const char *block, const char *lot, bool want_active, char out[13])
{
    const seed_parcel *pc = find_parcel(w, block, lot);
    if (!pc) return -1;
    const seed_permit *best = NULL;
    for (uint32_t i = 0; i < pc->n_permits; i++) {
        const seed_permit *p = &w->permits[pc->first_permit + i];
        if (want_active && !seed_is_active(p->status)) continue;
        if (!best || p->filed > best->filed) best = p;
    }
    if (!best) return -1;
    seed_permit_number(best, out);
    return 0;
}

int32_t sfp_seed_top_contractor(const sfp_seed_world *w)
{
    int32_t best = 0;
    uint32_t most = 0;
    for (size_t i = 0; i < w->n_entities; i++) {
        if (w->entity_role[i] == ROLE_CONTRACTOR && w->entity_contacts[i] > most) {
            most = w->entity_contacts[i];
            best = (int32_t)(i + 1);
        }
    }
    return best;
}
