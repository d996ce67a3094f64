/* seed_rows_brief.c — rows of the four datasets the brief's compliance calendar, data quality,
 * street-use, planning and nearby-development sections read: boiler permits, street-use
 * permits, planning records and the development pipeline. One PRNG stream per parcel and
 * table, like the other tables (seed_rows.c), so each table's bytes are independent of the
 * others and of generation order.
 *
 * Volumes follow the DataSF datasets relative to the parcel count (full scale, 194K parcels):
 * boiler permits ~152K (on multi-unit and commercial buildings, a permit to operate per boiler
 * renewed yearly), street-use permits ~1.2M (by the parcel's street, most of them recent),
 * planning records ~282K (most closed, projects carrying units), development pipeline ~2K
 * (about 1% of parcels). The hand-placed parcels (3512/001 and the other demo addresses)
 * always get rows the brief shows: a boiler permit expiring within 90 days and one expired
 * three weeks ago, street-use permits approved on the last two days, two open planning
 * records and one pipeline project. */
#include <stdio.h>
#include <string.h>

#include "seed_internal.h"

static void blk(const seed_parcel *pc, char out[8])
{
    snprintf(out, 8, "%04u", (unsigned)pc->block % 10000u);
}

static void lt(const seed_parcel *pc, char out[8])
{
    if (pc->lot_sfx) snprintf(out, 8, "%03u%c", (unsigned)pc->lot % 1000u, (char)pc->lot_sfx);
    else snprintf(out, 8, "%03u", (unsigned)pc->lot % 1000u);
}

static void street_upper(const seed_parcel *pc, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", pc->street_name, *pc->street_suffix ? " " : "", pc->street_suffix);
}

static const seed_street *cross_street(seed_rng *r, const seed_nbhd *nb)
{
    int n = 0;
    while (n < 7 && nb->streets[n].name) n++;
    return &nb->streets[rng_range(r, 0, n - 1)];
}

static void street_text(const seed_street *s, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", s->name, s->suffix && *s->suffix ? " " : "", s->suffix ? s->suffix : "");
}

static const char *pick(seed_rng *r, const char *const *v, int n)
{
    return v[rng_range(r, 0, n - 1)];
}
#define PICK(r, v) pick(r, v, (int)(sizeof(v) / sizeof(v)[0]))

static const char *person(seed_rng *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", seed_first_names[rng_range(r, 0, seed_first_name_count - 1)],
             seed_last_names[rng_range(r, 0, seed_last_name_count - 1)]);
    return buf;
}

static const char *firm(seed_rng *r, char *buf, size_t n)
{
    static const char *const kinds[] = {"Construction", "Builders", "Engineering", "Contractors", "Paving Inc."};
    snprintf(buf, n, "%s %s", seed_firm_words[rng_range(r, 0, seed_firm_word_count - 1)], PICK(r, kinds));
    return buf;
}

/* ------------------------------------------------------------------ boiler permits */
static const char *const k_boiler_types[] = {"Hot Water Heating", "Low Pressure Steam", "Hot Water Supply",
                                             "High Pressure Steam", "Unfired Pressure Vessel"};
static const char *const k_boiler_models[] = {"Burnham V8",    "Weil-McLain 88",    "Lochinvar KBN",
                                              "Raypak XTherm", "Cleaver-Brooks CB", "Smith GB200"};

/* Boilers on a parcel: multi-unit and larger buildings carry most of them. */
static int boilers_of(seed_rng *r, const seed_parcel *pc)
{
    double p = pc->units >= 10 ? 0.85 : pc->units >= 5 ? 0.55 : pc->units >= 3 ? 0.18 : 0.03;
    if (pc->special) return 2;
    if (!rng_chance(r, p)) return 0;
    return 1 + (rng_chance(r, 0.25) ? rng_range(r, 1, 2) : 0);
}

void seed_rows_boiler_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_BOILER_ROW, i);
    int nboil = boilers_of(&r, pc);
    char b[8], l[8], num[24], serial[24];
    blk(pc, b);
    lt(pc, l);
    unsigned k = 0;
    for (int bo = 0; bo < nboil; bo++) {
        const char *type = PICK(&r, k_boiler_types), *model = PICK(&r, k_boiler_models);
        snprintf(serial, sizeof serial, "SN%08u", (unsigned)(i * 7 + (size_t)bo) % 100000000u);
        /* latest permit to operate: applied within the last year, valid one year (the hand-placed
         * parcels: one expiring in 30 days, one expired 20 days ago) */
        int32_t latest = pc->special ? w->opts.as_of - (bo == 0 ? 335 : 385) : w->opts.as_of - rng_range(&r, 0, 364);
        int renewals = pc->special ? 2 : rng_range(&r, 0, 3);
        for (int j = 0; j <= renewals && k < 32; j++, k++) {
            int32_t app = latest - 365 * j;
            int32_t exp = app + 365;
            snprintf(num, sizeof num, "BP%07u", (unsigned)(i * 32 + k) % 10000000u);
            out_str(o, num);
            out_str(o, b);
            out_str(o, l);
            out_str(o, exp >= w->opts.as_of ? "Active" : "Expired");
            out_str(o, type);
            out_str(o, serial);
            out_str(o, model);
            out_str(o, "Permit to operate boiler");
            out_date(o, app);
            out_date(o, exp);
            out_int(o, pc->street_no);
            out_str(o, pc->street_name);
            out_str(o, *pc->street_suffix ? pc->street_suffix : NULL);
            out_str(o, nb->zip);
            out_str(o, nb->name);
            out_str(o, nb->district);
            out_date(o, w->opts.as_of);
            out_end_row(o);
        }
    }
}

/* ------------------------------------------------------------------ street-use permits */
static const struct {
    const char *type, *code;
    double share;
    int days_lo, days_hi;
} k_su_types[] = {
    {"Excavation", "EXC", 0.34, 14, 540}, {"TempOcc", "TOC", 0.22, 3, 90},   {"SideSewer", "SS", 0.10, 7, 120},
    {"StrtImprov", "IE", 0.09, 30, 365},  {"MinorEnc", "ME", 0.08, 30, 365}, {"Wireless", "WI", 0.06, 30, 365},
    {"TableChair", "TC", 0.05, 365, 365}, {"Display", "DS", 0.03, 365, 365}, {"BoxPermit", "BX", 0.03, 1, 30},
};
#define N_SU ((int)(sizeof k_su_types / sizeof k_su_types[0]))
static const char *const k_su_purpose[] = {
    "Sewer lateral replacement",
    "Install new gas service",
    "Temporary occupancy for construction staging",
    "Replace curb and sidewalk to City standards",
    "Outdoor restaurant seating",
    "Debris box placement",
    "Install fiber optic conduit",
    "Water service upgrade (SFPUC)",
    "Pavement renovation and sewer replacement",
    "Small cell wireless facility on existing pole",
};

void seed_rows_street_use_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_STREET_USE_ROW, i);
    int n = (int)rng_exp(&r, 6.7);
    if (n > 60) n = 60;
    int forced = pc->special ? 2 : 0;
    double wts[N_SU];
    for (int t = 0; t < N_SU; t++) wts[t] = k_su_types[t].share;
    char street[64], num[32], buf[96], buf2[96];
    street_upper(pc, street, sizeof street);
    for (int k = 0; k < n + forced && k < 64; k++) {
        int t = rng_pick(&r, wts, N_SU);
        /* approvals: recent years weigh most; the forced rows are on the last two days */
        int32_t approved = k < forced ? w->opts.as_of - k : w->opts.as_of - (int32_t)rng_exp(&r, 2200.0);
        if (approved < w->opts.as_of - 30 * 365) approved = w->opts.as_of - 30 * 365 + (int32_t)(k * 37);
        int32_t exp = approved + rng_range(&r, k_su_types[t].days_lo, k_su_types[t].days_hi);
        char day[11];
        sfp_seed_format_day(approved, day);
        snprintf(num, sizeof num, "%.2s%s-%u", day + 2, k_su_types[t].code, (unsigned)(i * 64 + (size_t)k));
        const seed_street *x1 = cross_street(&r, nb), *x2 = cross_street(&r, nb);
        out_str(o, num);
        out_str(o, k_su_types[t].type);
        out_str(o, PICK(&r, k_su_purpose));
        out_str(o, exp >= w->opts.as_of ? "APPROVED" : (rng_chance(&r, 0.8) ? "EXPIRED" : "CLOSED"));
        out_str(o, firm(&r, buf, sizeof buf));
        snprintf(buf2, sizeof buf2, "(415) %03d-%04d", rng_range(&r, 200, 999), rng_range(&r, 0, 9999));
        out_str(o, buf2);
        out_str(o, rng_chance(&r, 0.5) ? "Refer to Agent" : person(&r, buf, sizeof buf));
        out_str(o, street);
        street_text(x1, buf, sizeof buf);
        out_str(o, buf);
        street_text(x2, buf2, sizeof buf2);
        out_str(o, x2 != x1 ? buf2 : NULL);
        out_str(o, rng_chance(&r, 0.6) ? person(&r, buf, sizeof buf) : NULL);
        out_datetime(o, approved, rng_range(&r, 7 * 3600, 18 * 3600));
        out_date(o, exp);
        out_str(o, nb->name);
        out_str(o, nb->district);
        out_dec6(o, 37.70 + rng_unit(&r) * 0.11);
        out_dec6(o, -122.51 + rng_unit(&r) * 0.14);
        out_int(o, 1000000 + (long long)(rng_next(&r) % 30000000u));
        out_date(o, w->opts.as_of);
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ planning records */
static const struct {
    const char *code;
    double share;
    const char *desc;
} k_pl_types[] = {
    {"PRJ", 0.28, "Demolition of a single-family dwelling and new construction of a multi-unit building"},
    {"ENV", 0.18, "Environmental review: categorical exemption"},
    {"PPA", 0.10, "Preliminary project assessment"},
    {"CUA", 0.09, "Conditional use authorization for a change of use"},
    {"VAR", 0.08, "Variance from the rear yard requirement"},
    {"DRP", 0.07, "Discretionary review of a rear horizontal addition"},
    {"ZAD", 0.06, "Zoning administrator determination: legal unit count"},
    {"SHD", 0.04, "Shadow analysis for a proposed building"},
    {"ADU", 0.10, "Accessory dwelling unit within the existing building envelope"},
};
#define N_PL ((int)(sizeof k_pl_types / sizeof k_pl_types[0]))

void seed_rows_planning_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    seed_rng r = rng_for(w->opts.seed, TAG_PLANNING_ROW, i);
    int n = (int)rng_exp(&r, 1.9);
    if (n > 12) n = 12;
    int forced = pc->special ? 2 : 0;
    double wts[N_PL];
    for (int t = 0; t < N_PL; t++) wts[t] = k_pl_types[t].share;
    char b[8], l[8], addr[96], id[32], buf[96], buf2[96];
    blk(pc, b);
    lt(pc, l);
    snprintf(addr, sizeof addr, "%u %s%s%s", pc->street_no, pc->street_name, *pc->street_suffix ? " " : "",
             pc->street_suffix);
    for (int k = 0; k < n + forced && k < 16; k++) {
        int t = k < forced ? (k == 0 ? 0 : 3) : rng_pick(&r, wts, N_PL);
        int32_t open = k < forced ? w->opts.as_of - 40 - 120 * k : w->opts.as_of - (int32_t)rng_exp(&r, 2500.0);
        int age = w->opts.as_of - open;
        const char *status;
        if (k < forced) status = k == 0 ? "Under Review" : "Accepted";
        else if (age > 3 * 365) status = rng_chance(&r, 0.9) ? "Closed" : (rng_chance(&r, 0.5) ? "Withdrawn" : "Open");
        else if (age > 365) status = rng_chance(&r, 0.6) ? "Closed" : (rng_chance(&r, 0.2) ? "Withdrawn" : "Open");
        else status = rng_chance(&r, 0.3) ? "Closed" : (rng_chance(&r, 0.5) ? "Under Review" : "Open");
        char day[11];
        sfp_seed_format_day(open, day);
        snprintf(id, sizeof id, "%.4s-%07u%s", day, (unsigned)(i * 16 + (size_t)k), k_pl_types[t].code);
        bool project = !strcmp(k_pl_types[t].code, "PRJ");
        int ex = pc->units, pr = project ? pc->units + rng_range(&r, 0, 8) : pc->units;
        out_str(o, id);
        out_str(o, k_pl_types[t].code);
        out_str(o, status);
        out_str(o, b);
        out_str(o, l);
        out_str(o, addr);
        out_str(o, project ? addr : NULL);
        out_str(o, k_pl_types[t].desc);
        out_str(o, person(&r, buf, sizeof buf));
        out_str(o, rng_chance(&r, 0.5) ? firm(&r, buf2, sizeof buf2) : NULL);
        out_str(o, person(&r, buf, sizeof buf));
        out_date(o, open);
        out_str(o, !strcmp(k_pl_types[t].code, "ENV") ? "Categorical Exemption" : NULL);
        out_str(o, project ? "t" : "f");
        if (project) {
            out_int(o, ex);
            out_int(o, pr);
            out_dec1(o, (double)(pr - ex));
            out_int(o, pr - ex >= 10 ? (pr - ex) / 8 : 0);
        } else {
            out_null(o);
            out_null(o);
            out_null(o);
            out_null(o);
        }
        out_null(o);
        out_null(o);
        out_date(o, w->opts.as_of);
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ development pipeline */
static const char *const k_dp_status[] = {"PL FILED",  "PL APPROVED",  "BP FILED",     "BP APPROVED",
                                          "BP ISSUED", "CONSTRUCTION", "BP REINSTATED"};
static const char *const k_heights[] = {"40-X", "65-A", "85-X", "120-R", "160-F", "45-X"};

void seed_rows_pipeline_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_PIPELINE_ROW, i);
    if (!pc->special && !rng_chance(&r, 0.0103)) return;
    char b[8], l[8], bl[16], addr[96], id[24], case_no[32], bpa[16], buf[96];
    blk(pc, b);
    lt(pc, l);
    snprintf(bl, sizeof bl, "%s%s", b, l);
    snprintf(addr, sizeof addr, "%u %s%s%s", pc->street_no, pc->street_name, *pc->street_suffix ? " " : "",
             pc->street_suffix);
    snprintf(id, sizeof id, "DP%06u", (unsigned)i);
    int32_t approved = w->opts.as_of - rng_range(&r, 30, 4 * 365);
    char day[11];
    sfp_seed_format_day(approved, day);
    snprintf(case_no, sizeof case_no, "%.4s-%06uPRJ", day, (unsigned)(i % 1000000u));
    int have_bpa = pc->n_permits > 0;
    if (have_bpa) seed_permit_number(&w->permits[pc->first_permit], bpa);
    int ex = pc->units;
    int net = nb->profile >= 2 ? rng_range(&r, 4, 180) : rng_range(&r, 1, 12);
    int status = pc->special ? 4 : rng_range(&r, 0, 6);
    out_str(o, id);
    out_str(o, have_bpa && status >= 2 ? bpa : NULL);
    out_str(o, case_no);
    out_str(o, addr);
    out_str(o, k_dp_status[status]);
    snprintf(buf, sizeof buf, "Construct a %d-unit residential building", ex + net);
    out_str(o, buf);
    out_str(o, net >= 10 ? "New mixed-use building with ground-floor retail" : buf);
    out_str(o, person(&r, buf, sizeof buf));
    out_str(o, firm(&r, buf, sizeof buf));
    out_str(o, person(&r, buf, sizeof buf));
    out_int(o, ex + net);
    out_int(o, ex);
    out_int(o, net);
    out_int(o, net >= 10 ? (net * 12 + 50) / 100 : 0);
    out_str(o, seed_zoning_name(pc->zoning));
    out_str(o, PICK(&r, k_heights));
    out_str(o, nb->name);
    snprintf(buf, sizeof buf, "District %s", nb->district);
    out_str(o, buf);
    out_date(o, status >= 1 ? approved : SEED_NO_DAY);
    out_str(o, bl);
    out_dec6(o, 37.70 + rng_unit(&r) * 0.11);
    out_dec6(o, -122.51 + rng_unit(&r) * 0.14);
    out_date(o, w->opts.as_of);
    out_end_row(o);
}
