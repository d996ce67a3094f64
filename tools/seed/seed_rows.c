/* seed_rows.c — phase 2 of the generator: COPY text rows for every table, from the world
 * skeleton. Each row owner (permit, parcel, complaint, entity) gets its own PRNG stream, so a
 * table's bytes do not depend on which other tables were generated, or in which order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_internal.h"

#define DAY_2018_01_01 17532
#define CHANGE_WINDOW_DAYS 7 /* change feeds cover as_of-6 .. as_of */
#define TIMELINE_YEARS 5     /* timeline_stats: issued permits filed in the last 5 years */

/* ------------------------------------------------------------------ table metadata */
static const struct {
    const char *name, *columns;
    bool bulk;
} tables[SFP_SEED_TABLE_COUNT] = {
    [SFP_SEED_PERMITS] = {"permits",
                          "(permit_number, permit_type, permit_type_definition, status, status_date, description, "
                          "filed_date, issued_date, approved_date, completed_date, estimated_cost, revised_cost, "
                          "existing_use, proposed_use, existing_units, proposed_units, street_number, street_name, "
                          "street_suffix, zipcode, neighborhood, supervisor_district, block, lot, adu, data_as_of)",
                          true},
    [SFP_SEED_ENTITIES] = {"entities",
                           "(entity_id, canonical_name, canonical_firm, entity_type, pts_agent_id, license_number, "
                           "sf_business_license, resolution_method, resolution_confidence, contact_count, "
                           "permit_count, source_datasets)",
                           true},
    [SFP_SEED_CONTACTS] = {"contacts",
                           "(source, permit_number, role, name, first_name, last_name, firm_name, pts_agent_id, "
                           "license_number, sf_business_license, phone, address, city, state, zipcode, "
                           "is_applicant, from_date, entity_id, data_as_of, permit_block, permit_lot, entity_name, "
                           "entity_firm, entity_permit_count, permit_filed_date)",
                           true},
    [SFP_SEED_INSPECTIONS] = {"inspections",
                              "(reference_number, reference_number_type, inspector, scheduled_date, result, "
                              "inspection_description, block, lot, street_number, street_name, street_suffix, "
                              "neighborhood, supervisor_district, zipcode, data_as_of, source, permit_block, "
                              "permit_lot)",
                              true},
    [SFP_SEED_ADDENDA] = {"addenda",
                          "(primary_key, application_number, addenda_number, step, station, arrive, assign_date, "
                          "start_date, finish_date, approved_date, plan_checked_by, review_results, "
                          "hold_description, addenda_status, department, title, data_as_of, permit_block, "
                          "permit_lot)",
                          true},
    [SFP_SEED_COMPLAINTS] = {"complaints",
                             "(complaint_number, date_filed, date_abated, block, lot, parcel_number, street_number, "
                             "street_name, street_suffix, unit, zip_code, complaint_description, status, nov_type, "
                             "receiving_division, assigned_division, data_as_of)",
                             true},
    [SFP_SEED_VIOLATIONS] = {"violations",
                             "(complaint_number, item_sequence_number, date_filed, block, lot, street_number, "
                             "street_name, street_suffix, unit, status, receiving_division, assigned_division, "
                             "nov_category_description, item, nov_item_description, neighborhood, "
                             "supervisor_district, zipcode, data_as_of)",
                             true},
    [SFP_SEED_TAX_ROLLS] = {"tax_rolls",
                            "(block, lot, tax_year, property_location, parcel_number, zoning_code, use_code, "
                            "use_definition, property_class_code, property_class_code_definition, "
                            "number_of_stories, number_of_units, number_of_rooms, number_of_bedrooms, "
                            "number_of_bathrooms, lot_area, property_area, assessed_land_value, "
                            "assessed_improvement_value, assessed_personal_property, assessed_fixtures, "
                            "current_sales_date, neighborhood, supervisor_district, data_as_of)",
                            true},
    [SFP_SEED_PARCEL_SUMMARY] = {"parcel_summary",
                                 "(block, lot, canonical_address, neighborhood, supervisor_district, permit_count, "
                                 "open_permit_count, complaint_count, violation_count, boiler_permit_count, "
                                 "inspection_count, tax_value, zoning_code, use_definition, number_of_units, "
                                 "health_tier, last_permit_date)",
                                 true},
    [SFP_SEED_TIMELINE_STATS] = {"timeline_stats",
                                 "(permit_number, permit_type_definition, review_path, neighborhood, estimated_cost, "
                                 "revised_cost, cost_bracket, filed, issued, completed, days_to_issuance, "
                                 "days_to_completion, supervisor_district)",
                                 true},
    [SFP_SEED_PERMIT_CHANGES] = {"permit_changes",
                                 "(permit_number, change_date, detected_at, old_status, new_status, old_status_date, "
                                 "new_status_date, change_type, is_new_permit, source, permit_type, street_number, "
                                 "street_name, neighborhood, block, lot)",
                                 false},
    [SFP_SEED_ADDENDA_CHANGES] = {"addenda_changes",
                                  "(application_number, change_date, detected_at, station, addenda_number, step, "
                                  "plan_checked_by, old_review_results, new_review_results, hold_description, "
                                  "finish_date, change_type, source, department, permit_type, street_number, "
                                  "street_name, neighborhood, block, lot)",
                                  false},
    [SFP_SEED_BOILER_PERMITS] = {"boiler_permits",
                                 "(permit_number, block, lot, status, boiler_type, boiler_serial_number, model, "
                                 "description, application_date, expiration_date, street_number, street_name, "
                                 "street_suffix, zip_code, neighborhood, supervisor_district, data_as_of)",
                                 true},
    [SFP_SEED_STREET_USE_PERMITS] = {"street_use_permits",
                                     "(permit_number, permit_type, permit_purpose, status, agent, agent_phone, "
                                     "contact, street_name, cross_street_1, cross_street_2, plan_checker, "
                                     "approved_date, expiration_date, neighborhood, supervisor_district, latitude, "
                                     "longitude, cnn, data_as_of)",
                                     true},
    [SFP_SEED_PLANNING_RECORDS] = {"planning_records",
                                   "(record_id, record_type, record_status, block, lot, address, project_name, "
                                   "description, applicant, applicant_org, assigned_planner, open_date, "
                                   "environmental_doc_type, is_project, units_existing, units_proposed, units_net, "
                                   "affordable_units, child_id, parent_id, data_as_of)",
                                   true},
    [SFP_SEED_DEVELOPMENT_PIPELINE] = {"development_pipeline",
                                       "(record_id, bpa_no, case_no, name_address, current_status, description_dbi, "
                                       "description_planning, contact, sponsor, planner, proposed_units, "
                                       "existing_units, net_pipeline_units, affordable_units, zoning_district, "
                                       "height_district, neighborhood, planning_district, approved_date_planning, "
                                       "block_lot, latitude, longitude, data_as_of)",
                                       true},
};

const char *sfp_seed_table_name(sfp_seed_table t)
{
    return t < SFP_SEED_TABLE_COUNT ? tables[t].name : NULL;
}
const char *sfp_seed_table_columns(sfp_seed_table t)
{
    return t < SFP_SEED_TABLE_COUNT ? tables[t].columns : NULL;
}
bool sfp_seed_table_is_bulk(sfp_seed_table t)
{
    return t < SFP_SEED_TABLE_COUNT && tables[t].bulk;
}

/* ------------------------------------------------------------------ shared field helpers */
static char *put_num(char *p, unsigned v, int width)
{
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width) tmp[n++] = '0';
    while (n) *p++ = tmp[--n];
    *p = '\0';
    return p;
}

static void fmt_block(const seed_parcel *pc, char out[8])
{
    put_num(out, pc->block, 4);
}

static void fmt_lot(const seed_parcel *pc, char out[8])
{
    char *p = put_num(out, pc->lot, 3);
    if (pc->lot_sfx) {
        p[0] = (char)pc->lot_sfx;
        p[1] = '\0';
    }
}

static void out_suffix(seed_out *o, const char *suffix)
{
    out_str(o, suffix && *suffix ? suffix : NULL);
}

/* street_number, street_name, street_suffix */
static void out_street(seed_out *o, const seed_parcel *pc)
{
    out_int(o, pc->street_no);
    out_str(o, pc->street_name);
    out_suffix(o, pc->street_suffix);
}

static void out_block_lot(seed_out *o, const seed_parcel *pc)
{
    char b[8], l[8];
    fmt_block(pc, b);
    fmt_lot(pc, l);
    out_str(o, b);
    out_str(o, l);
}

static void address_text(const seed_parcel *pc, char *out, size_t n)
{
    snprintf(out, n, "%u %s%s%s", pc->street_no, pc->street_name, *pc->street_suffix ? " " : "", pc->street_suffix);
}

static const seed_parcel *parcel_of(const sfp_seed_world *w, const seed_permit *p)
{
    return &w->parcels[p->parcel];
}

/* ------------------------------------------------------------------ permits */
static const char *type_definition(seed_rng *r, int type)
{
    static const char *const mixed[2] = {"New Construction", "New Construction Wood Frame"};
    if (type <= 1 && rng_chance(r, 0.05)) return mixed[type]; /* mixed case occurs in SODA */
    return seed_type_defs[type];
}

static void row_permit(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    const seed_parcel *pc = parcel_of(w, p);
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    const seed_use *use = &seed_uses[pc->use];
    seed_rng r = rng_for(w->opts.seed, TAG_PERMIT_ROW, i);
    char num[13];
    seed_permit_number(p, num);
    out_str(o, num);
    out_str(o, seed_type_codes[p->type]);
    out_str(o, type_definition(&r, p->type));
    out_str(o, seed_status_names[p->status]);
    out_date(o, p->status_day);
    out_str(o, seed_desc(p->cat, p->desc));
    out_date(o, p->filed);
    out_date(o, p->issued);
    out_date(o, p->approved);
    out_date(o, p->completed);
    out_money(o, p->cost);
    out_money(o, p->revised);
    int is_new = p->cat == CAT_NEW;
    out_str(o, is_new ? (rng_chance(&r, 0.5) ? "vacant lot" : NULL) : use->permit_use);
    out_str(o, p->cat == CAT_DEMOLITION ? NULL : use->permit_use);
    if (is_new) out_int(o, 0);
    else out_int(o, p->units_ex);
    out_int(o, p->cat == CAT_DEMOLITION ? 0 : p->units_pr);
    out_street(o, pc);
    out_str(o, nb->zip);
    out_str(o, nb->name);
    out_str(o, nb->district);
    out_block_lot(o, pc);
    out_str(o, p->cat == CAT_ADU ? "Y" : NULL);
    out_date(o, w->opts.as_of);
    out_end_row(o);
}

/* ------------------------------------------------------------------ entities and contacts */
typedef struct entity_attrs {
    const char *first, *last, *city;
    char name[64], firm[96], license[16], pts[16], bizlic[16], phone[16], address[64], zip[8];
} entity_attrs;

static void entity_firm(seed_rng *r, int role, const char *last, char *firm, size_t n)
{
    const char *word = seed_firm_words[rng_range(r, 0, seed_firm_word_count - 1)];
    static const char *const kinds[ROLE_COUNT] = {
        "CONSTRUCTION INC",  "PERMIT SERVICES", "ARCHITECTS", "STRUCTURAL ENGINEERS", "", "",
        "PERMIT CONSULTING", "DESIGN STUDIO"};
    firm[0] = '\0';
    if (role == ROLE_OWNER || role == ROLE_OTHER) return;
    if (role == ROLE_AGENT && rng_chance(r, 0.5)) return;
    if (role == ROLE_CONTRACTOR && rng_chance(r, 0.3)) snprintf(firm, n, "%s & SONS CONSTRUCTION", last);
    else snprintf(firm, n, "%s %s", word, kinds[role]);
}

static void entity_attrs_of(const sfp_seed_world *w, uint32_t id, entity_attrs *a)
{
    seed_rng r = rng_for(w->opts.seed, TAG_ENTITY_ROW, id);
    int role = w->entity_role[id - 1];
    a->first = seed_first_names[rng_range(&r, 0, seed_first_name_count - 1)];
    a->last = seed_last_names[rng_range(&r, 0, seed_last_name_count - 1)];
    snprintf(a->name, sizeof a->name, "%s %s", a->first, a->last);
    entity_firm(&r, role, a->last, a->firm, sizeof a->firm);
    a->license[0] = a->pts[0] = '\0';
    if (role == ROLE_CONTRACTOR) snprintf(a->license, sizeof a->license, "%u", 300000u + id % 800000u);
    if (role == ROLE_AGENT || role == ROLE_CONSULTANT) snprintf(a->pts, sizeof a->pts, "%u", 10000u + id % 90000u);
    if (a->firm[0]) snprintf(a->bizlic, sizeof a->bizlic, "%07u", (unsigned)rng_range(&r, 100000, 1299999));
    else a->bizlic[0] = '\0';
    snprintf(a->phone, sizeof a->phone, "415-555-%04d", rng_range(&r, 0, 9999));
    const seed_nbhd *nb = &seed_nbhds[rng_range(&r, 0, seed_nbhd_count - 1)];
    snprintf(a->address, sizeof a->address, "%d %s %s", rng_range(&r, 1, 3999), nb->streets[0].name,
             nb->streets[0].suffix);
    static const char *const cities[] = {"SAN FRANCISCO", "SAN FRANCISCO", "SAN FRANCISCO", "SAN FRANCISCO",
                                         "OAKLAND",       "DALY CITY",     "SAN MATEO",     "SOUTH SAN FRANCISCO"};
    int c = rng_range(&r, 0, 7);
    a->city = cities[c];
    snprintf(a->zip, sizeof a->zip, "%s",
             c < 4    ? nb->zip
             : c == 4 ? "94607"
             : c == 5 ? "94014"
             : c == 6 ? "94401"
                      : "94080");
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

static void row_entity(const sfp_seed_world *w, seed_out *o, uint32_t id)
{
    entity_attrs a;
    entity_attrs_of(w, id, &a);
    int role = w->entity_role[id - 1];
    uint32_t contacts = w->entity_contacts[id - 1];
    out_int(o, id);
    out_str(o, a.name);
    out_str(o, nz(a.firm));
    out_str(o, seed_role_names[role]);
    out_str(o, nz(a.pts));
    out_str(o, nz(a.license));
    out_str(o, nz(a.bizlic));
    out_str(o, a.license[0] ? "license_number" : a.pts[0] ? "pts_agent_id" : contacts > 1 ? "name_match" : "singleton");
    out_str(o, a.license[0] || a.pts[0] ? "high" : contacts > 1 ? "medium" : "low");
    out_int(o, contacts);
    out_int(o, w->entity_permits[id - 1]);
    out_str(o, "building");
    out_end_row(o);
}

static void rows_contacts_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    const seed_parcel *pc = parcel_of(w, p);
    char num[13];
    seed_permit_number(p, num);
    for (int k = 0; k < p->n_contacts; k++) {
        uint32_t id = w->contact_entity[p->first_contact + (uint32_t)k];
        entity_attrs a;
        entity_attrs_of(w, id, &a);
        out_str(o, "building");
        out_str(o, num);
        out_str(o, seed_role_names[w->entity_role[id - 1]]);
        out_str(o, a.name);
        out_str(o, a.first);
        out_str(o, a.last);
        out_str(o, nz(a.firm));
        out_str(o, nz(a.pts));
        out_str(o, nz(a.license));
        out_str(o, nz(a.bizlic));
        out_str(o, a.phone);
        out_str(o, a.address);
        out_str(o, a.city);
        out_str(o, "CA");
        out_str(o, a.zip);
        out_str(o, k == 0 ? "Y" : "N");
        out_date(o, p->filed);
        out_int(o, id);
        out_date(o, w->opts.as_of);
        out_block_lot(o, pc); /* the permit's parcel, and the entity as row_entity writes it */
        out_str(o, a.name);
        out_str(o, nz(a.firm));
        out_int(o, w->entity_permits[id - 1]);
        out_date(o, p->filed); /* the permit's filing date */
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ inspections */
static int day_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void inspection_days(seed_rng *r, const sfp_seed_world *w, const seed_permit *p, int32_t *days, int n)
{
    int32_t as_of = w->opts.as_of;
    int32_t start = p->issued + 1, end;
    if (p->status == ST_COMPLETE) end = p->completed;
    else if (p->status == ST_ISSUED || p->status == ST_REINSTATED) end = as_of;
    else end = p->status_day;
    if (start > as_of) start = as_of;
    if (end < start) end = start;
    for (int j = 0; j < n; j++) days[j] = start + rng_range(r, 0, end - start);
    qsort(days, (size_t)n, sizeof *days, day_cmp);
    if (p->status == ST_COMPLETE) days[n - 1] = p->completed;
    if (p->recent && seed_is_active(p->status)) {
        int32_t d = as_of - rng_range(r, 0, 3);
        if (d >= days[n - 1]) days[n - 1] = d;
    }
}

static void inspector_name(int k, char *out, size_t n)
{
    snprintf(out, n, "%c %s", seed_first_names[(k * 13) % seed_first_name_count][0],
             seed_last_names[(k * 29 + 7) % seed_last_name_count]);
}

static void rows_inspections_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    if (!p->n_insp) return;
    static const char *const results[] = {"PASSED",    "FAILED",           "DISAPPROVED", "CANCELLED",
                                          "NOT READY", "PARTIAL APPROVAL", "N/A"};
    static const double result_w[] = {58, 8, 7, 9, 8, 6, 4};
    static const char *const descs[] = {"ROUGH FRAME",        "FOUNDATION",     "INSULATION",
                                        "SHEETROCK NAILING",  "REINSPECT",      "PRE-CONSTRUCTION MEETING",
                                        "SHEAR WALL NAILING", "ROUGH PLUMBING", "ROUGH ELECTRICAL",
                                        "OK TO COVER"};
    const seed_parcel *pc = parcel_of(w, p);
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_INSP_ROW, i);
    int32_t days[64];
    inspection_days(&r, w, p, days, p->n_insp);
    char num[13], inspector[48];
    seed_permit_number(p, num);
    inspector_name(rng_range(&r, 0, 79), inspector, sizeof inspector);
    for (int j = 0; j < p->n_insp; j++) {
        int final = p->status == ST_COMPLETE && j == p->n_insp - 1;
        out_str(o, num);
        out_str(o, "permit");
        out_str(o, inspector);
        out_date(o, days[j]);
        out_str(o, final ? "PASSED" : results[rng_pick(&r, result_w, 7)]);
        out_str(o, final ? "FINAL INSPECT/APPRVD" : descs[rng_range(&r, 0, 9)]);
        out_block_lot(o, pc);
        out_street(o, pc);
        out_str(o, nb->name);
        out_str(o, nb->district);
        out_str(o, nb->zip);
        out_date(o, w->opts.as_of);
        out_str(o, "building");
        out_block_lot(o, pc); /* the permit's parcel (here also the inspection's own) */
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ addenda (routing) */
enum { MAX_ROUTE = 24 };

typedef struct route_row {
    int32_t arrive, assign, start, finish, approved;
    int16_t step;
    uint8_t addenda_number, station, result, hold, reviewer, has_reviewer;
} route_row;

static const char *const review_results[] = {
    NULL,     "Approved",   "Administrative", "Issued Comments", "Not Applicable", "Approved-Stipulated",
    "Denied", "In Progress"};
static const double review_w[] = {90.6, 4.3, 3.7, 1.0, 0.3, 0.1, 0.007};
static const char *const hold_texts[] = {"Pending revised plans from applicant",
                                         "Awaiting fee payment",
                                         "Need structural calculations",
                                         "Routed to next station",
                                         "Comments issued - see plan check letter",
                                         "Waiting for planning approval",
                                         "Applicant to respond to comments",
                                         "Approved, forward to CPB"};

static int route_length(seed_rng *r, int otc)
{
    static const double otc_w[4] = {25, 40, 25, 10};
    if (otc) return 1 + rng_pick(r, otc_w, 4);
    int n = 3 + (int)rng_exp(r, 3.0);
    return n > 14 ? 14 : n;
}

/* Initial review (addenda_number 0): stations one after another (sometimes in parallel),
 * durations drawn around each station's typical days, then fitted between filing and approval. */
static int route_initial(seed_rng *r, const seed_permit *p, int32_t end, route_row *rows, int n)
{
    double off[MAX_ROUTE][2], cursor = 0, span = 0;
    for (int k = 0; k < n; k++) {
        route_row *x = &rows[k];
        memset(x, 0, sizeof *x);
        x->station = (uint8_t)seed_pick_station(r);
        x->step = (int16_t)(k + 1);
        double a = (k > 0 && rng_chance(r, 0.25)) ? off[k - 1][0] : cursor;
        double d = rng_exp(r, seed_stations[x->station].mean_days);
        if (d > 365) d = 365;
        off[k][0] = a;
        off[k][1] = a + d;
        cursor = off[k][1];
        if (cursor > span) span = cursor;
    }
    double room = (double)(end - p->filed);
    double f = (span > room && span > 0) ? room / span : 1.0;
    for (int k = 0; k < n; k++) {
        rows[k].arrive = p->filed + (int32_t)(off[k][0] * f);
        rows[k].finish = p->filed + (int32_t)(off[k][1] * f + 0.5);
    }
    return n;
}

/* Revisions after issuance (addenda_number 1, rarely 2), ~6% of in-house permits. */
static int route_revisions(seed_rng *r, const seed_permit *p, route_row *rows, int n)
{
    if (p->issued == SEED_NO_DAY || !rng_chance(r, 0.06)) return n;
    int rounds = rng_chance(r, 0.1) ? 2 : 1;
    int32_t cursor = p->issued + 1 + (int32_t)rng_exp(r, 100);
    for (int a = 1; a <= rounds && n < MAX_ROUTE; a++) {
        int m = rng_range(r, 1, 4);
        for (int k = 0; k < m && n < MAX_ROUTE; k++, n++) {
            route_row *x = &rows[n];
            memset(x, 0, sizeof *x);
            x->addenda_number = (uint8_t)a;
            x->step = (int16_t)(k + 1);
            x->station = (uint8_t)seed_pick_station(r);
            x->arrive = cursor;
            double d = rng_exp(r, seed_stations[x->station].mean_days);
            x->finish = cursor + (int32_t)(d > 365 ? 365 : d);
            cursor = x->finish;
        }
    }
    return n;
}

/* Reviewer, result, hold and assign/start dates; rows past as_of are cut or left open. */
static int route_finish(seed_rng *r, const sfp_seed_world *w, const seed_permit *p, route_row *rows, int n)
{
    int32_t as_of = w->opts.as_of;
    int in_review = p->status == ST_FILED || p->status == ST_PLANCHECK;
    int kept = 0;
    for (int k = 0; k < n; k++) {
        route_row x = rows[k];
        if (x.arrive > as_of) continue;
        if (x.finish > as_of || (in_review && k == n - 1)) x.finish = SEED_NO_DAY;
        x.assign = x.arrive + (rng_chance(r, 0.7) ? 0 : rng_range(r, 1, 2));
        x.start = x.assign + (rng_chance(r, 0.6) ? 0 : rng_range(r, 1, 3));
        if (x.finish != SEED_NO_DAY) {
            if (x.assign > x.finish) x.assign = x.finish;
            if (x.start > x.finish) x.start = x.finish;
        } else {
            if (x.assign > as_of) x.assign = as_of;
            if (x.start > as_of) x.start = as_of;
        }
        x.result = (uint8_t)(x.finish == SEED_NO_DAY ? (rng_chance(r, 0.01) ? 7 : 0) : rng_pick(r, review_w, 7));
        int hold = x.result == 3 || rng_chance(r, x.finish == SEED_NO_DAY ? 0.6 : 0.3);
        x.hold = (uint8_t)(hold ? 1 + rng_range(r, 0, 7) : 0);
        x.has_reviewer = (uint8_t)rng_chance(r, 0.83);
        x.reviewer = (uint8_t)rng_range(r, 0, 5);
        x.approved = (x.result == 1 || x.result == 5) ? x.finish : SEED_NO_DAY;
        if (p->filed < DAY_2018_01_01 && rng_chance(r, 0.0005)) { /* garbage years seen in SODA */
            if (rng_chance(r, 0.5)) x.arrive -= 109573;           /* ~1721 */
            else if (x.finish != SEED_NO_DAY) x.finish += 65379;  /* ~2205 */
        }
        rows[kept++] = x;
    }
    return kept;
}

static int gen_routing(const sfp_seed_world *w, size_t i, route_row *rows)
{
    const seed_permit *p = &w->permits[i];
    seed_rng r = rng_for(w->opts.seed, TAG_ADDENDA, i);
    if (!rng_chance(&r, p->filed >= DAY_2018_01_01 ? 0.97 : 0.6)) return 0;
    int otc = p->type == 7;
    int32_t end = w->opts.as_of;
    if (p->approved != SEED_NO_DAY) end = p->approved;
    else if (p->status == ST_CANCELLED || p->status == ST_WITHDRAWN) end = p->status_day;
    int n = route_initial(&r, p, end, rows, route_length(&r, otc));
    if (!otc) n = route_revisions(&r, p, rows, n);
    return route_finish(&r, w, p, rows, n);
}

static void reviewer_name(const route_row *x, char *out, size_t n)
{
    int k = x->station * 6 + x->reviewer;
    snprintf(out, n, "%s %s", seed_first_names[(k * 17 + 3) % seed_first_name_count],
             seed_last_names[(k * 31 + 11) % seed_last_name_count]);
}

static void rows_addenda_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    route_row rows[MAX_ROUTE];
    int n = gen_routing(w, i, rows);
    if (!n) return;
    char num[13], pk[32], reviewer[64];
    const seed_parcel *pc = parcel_of(w, &w->permits[i]);
    seed_permit_number(&w->permits[i], num);
    for (int k = 0; k < n; k++) {
        const route_row *x = &rows[k];
        const seed_station *st = &seed_stations[x->station];
        snprintf(pk, sizeof pk, "%s%02u%03d", num, (unsigned)x->addenda_number, x->step);
        reviewer_name(x, reviewer, sizeof reviewer);
        out_str(o, pk);
        out_str(o, num);
        out_int(o, x->addenda_number);
        out_int(o, x->step);
        out_str(o, st->code);
        out_date(o, x->arrive);
        out_date(o, x->assign);
        out_date(o, x->start);
        out_date(o, x->finish);
        out_date(o, x->approved);
        out_str(o, x->has_reviewer ? reviewer : NULL);
        out_str(o, review_results[x->result]);
        out_str(o, x->hold ? hold_texts[x->hold - 1] : NULL);
        out_str(o, x->finish == SEED_NO_DAY ? "Active" : "Complete");
        out_str(o, st->department);
        out_str(o, st->title);
        out_date(o, w->opts.as_of);
        out_block_lot(o, pc);
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ complaints, violations */
static const char *const complaint_texts[] = {"Work without permit",    "Unsafe building",
                                              "Illegal unit",           "Construction noise after hours",
                                              "Water leak and mold",    "No heat",
                                              "Blocked exits",          "Debris on sidewalk",
                                              "Illegal demolition",     "Failure to maintain building",
                                              "Fire escape obstructed", "Exceeding scope of permit"};
static const char *const divisions[] = {"BID", "HIS", "PID", "EID"};
static const char *const complaint_status[] = {"open", "closed", "abated"};

static void row_complaint(const sfp_seed_world *w, seed_out *o, size_t ci)
{
    const seed_complaint *c = &w->complaints[ci];
    const seed_parcel *pc = &w->parcels[c->parcel];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_COMPLAINT_ROW, ci);
    char b[8], l[8], parcel[16];
    fmt_block(pc, b);
    fmt_lot(pc, l);
    snprintf(parcel, sizeof parcel, "%s%s", b, l);
    const char *div = divisions[c->division % 4];
    out_int(o, c->number);
    out_date(o, c->filed);
    out_date(o, c->abated);
    out_str(o, b);
    out_str(o, l);
    out_str(o, parcel);
    out_street(o, pc);
    if (rng_chance(&r, 0.2)) out_int(o, rng_range(&r, 1, 12));
    else out_null(o);
    out_str(o, nb->zip);
    out_str(o, complaint_texts[c->desc % 12]);
    out_str(o, complaint_status[c->status]);
    out_str(o, c->n_items ? (c->division % 4 == 1 ? "NOV (HIS)" : "NOV (BID)") : NULL);
    out_str(o, div);
    out_str(o, rng_chance(&r, 0.8) ? div : divisions[rng_range(&r, 0, 3)]);
    out_date(o, w->opts.as_of);
    out_end_row(o);
}

static const char *violation_status(seed_rng *r, const seed_complaint *c)
{
    if (c->status == 0) return rng_chance(r, 0.85) ? "open" : "complied";
    if (c->status == 2) return "abated";
    return rng_chance(r, 0.7) ? "closed" : "complied";
}

static void rows_violations_of(const sfp_seed_world *w, seed_out *o, size_t ci)
{
    const seed_complaint *c = &w->complaints[ci];
    if (!c->n_items) return;
    static const char *const cats[] = {"building section",   "housing section",   "plumbing and electrical section",
                                       "fire section",       "interior surfaces", "sanitation",
                                       "order of abatement", "directors hearing"};
    static const double cat_w[] = {30, 25, 12, 10, 10, 8, 3, 2};
    static const char *const items[] = {"work without permit",       "unsafe condition",       "failure to maintain",
                                        "illegal occupancy",         "smoke detector missing", "no permit for unit",
                                        "exceeding scope of permit", "deteriorated stairs"};
    static const char *const item_desc[] = {"Obtain a building permit for the work performed and call for inspections.",
                                            "Repair the unsafe condition and provide a report by a licensed engineer.",
                                            "Maintain the building in a safe and sanitary condition.",
                                            "Discontinue the illegal occupancy or legalize the unit with a permit.",
                                            "Install smoke detectors in every sleeping room and hallway.",
                                            "Legalize or remove the unwarranted dwelling unit.",
                                            "Revise the permit to cover the work performed beyond its scope.",
                                            "Repair the deteriorated stairs and landings under permit."};
    const seed_parcel *pc = &w->parcels[c->parcel];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    seed_rng r = rng_for(w->opts.seed, TAG_VIOLATION_ROW, ci);
    const char *div = divisions[c->division % 4];
    for (int k = 1; k <= c->n_items; k++) {
        int it = rng_range(&r, 0, 7);
        int32_t filed = c->filed + rng_range(&r, 0, 30);
        out_int(o, c->number);
        out_int(o, k);
        out_date(o, filed > w->opts.as_of ? w->opts.as_of : filed);
        out_block_lot(o, pc);
        out_street(o, pc);
        out_null(o);
        out_str(o, violation_status(&r, c));
        out_str(o, div);
        out_str(o, div);
        out_str(o, cats[rng_pick(&r, cat_w, 8)]);
        out_str(o, items[it]);
        out_str(o, item_desc[it]);
        out_str(o, nb->name);
        out_str(o, nb->district);
        out_str(o, nb->zip);
        out_date(o, w->opts.as_of);
        out_end_row(o);
    }
}

/* ------------------------------------------------------------------ tax rolls, summaries */
static void rows_tax_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    const seed_use *use = &seed_uses[pc->use];
    char b[8], l[8], parcel[16], addr[96];
    fmt_block(pc, b);
    fmt_lot(pc, l);
    snprintf(parcel, sizeof parcel, "%s%s", b, l);
    address_text(pc, addr, sizeof addr);
    unsigned units = pc->units;
    unsigned rooms = units ? units * 4 : (unsigned)pc->stories * 3;
    for (int y = 0; y < pc->n_tax_years; y++) {
        int year = 2024 - y;
        double f = pow(0.98, y);
        char ytxt[8];
        snprintf(ytxt, sizeof ytxt, "%d", year);
        out_str(o, b);
        out_str(o, l);
        out_str(o, ytxt);
        out_str(o, addr);
        out_str(o, parcel);
        out_str(o, seed_zoning_name(pc->zoning));
        out_str(o, use->use_code);
        out_str(o, use->use_definition);
        out_str(o, use->class_code);
        out_str(o, use->class_definition);
        out_int(o, pc->stories);
        out_int(o, units);
        out_int(o, rooms);
        out_int(o, units * 2);
        out_dec1(o, units ? units * 1.5 : 1.0);
        out_int(o, pc->lot_area);
        out_int(o, pc->prop_area);
        out_money(o, pc->land_value * f);
        out_money(o, pc->impr_value * f);
        out_int(o, 0);
        out_int(o, 0);
        out_date(o, pc->sale_day != SEED_NO_DAY && pc->sale_day < w->opts.as_of ? pc->sale_day : SEED_NO_DAY);
        out_str(o, nb->name);
        out_str(o, nb->district);
        out_date(o, w->opts.as_of);
        out_end_row(o);
    }
}

static void row_parcel_summary(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_parcel *pc = &w->parcels[i];
    const seed_nbhd *nb = &seed_nbhds[pc->nbhd];
    char addr[96];
    address_text(pc, addr, sizeof addr);
    out_block_lot(o, pc);
    out_str(o, addr);
    out_str(o, nb->name);
    out_str(o, nb->district);
    out_int(o, pc->n_permits);
    out_int(o, pc->open_permits);
    out_int(o, pc->n_complaints);
    out_int(o, pc->n_violations);
    out_int(o, 0);
    out_int(o, pc->n_inspections);
    out_money(o, (double)pc->land_value + (double)pc->impr_value);
    out_str(o, seed_zoning_name(pc->zoning));
    out_str(o, seed_uses[pc->use].use_definition);
    out_int(o, pc->units);
    out_null(o);
    out_date(o, pc->last_filed);
    out_end_row(o);
}

static const char *cost_bracket(double cost)
{
    if (cost < 50000) return "under_50k";
    if (cost < 150000) return "50k_150k";
    if (cost < 500000) return "150k_500k";
    return "over_500k";
}

static void row_timeline(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    if (p->issued == SEED_NO_DAY || p->filed < w->opts.as_of - TIMELINE_YEARS * 365) return;
    const seed_nbhd *nb = &seed_nbhds[parcel_of(w, p)->nbhd];
    char num[13];
    seed_permit_number(p, num);
    out_str(o, num);
    out_str(o, seed_type_defs[p->type]);
    out_str(o, p->type == 7 ? "otc" : "in_house");
    out_str(o, nb->name);
    out_money(o, p->cost);
    out_money(o, p->revised);
    out_str(o, cost_bracket(p->cost < 0 ? 0 : p->cost));
    out_day(o, p->filed);
    out_day(o, p->issued);
    out_day(o, p->completed);
    out_int(o, p->issued - p->filed);
    if (p->completed != SEED_NO_DAY) out_int(o, p->completed - p->filed);
    else out_null(o);
    out_str(o, nb->district);
    out_end_row(o);
}

/* ------------------------------------------------------------------ change feeds */
static int in_window(const sfp_seed_world *w, int32_t day)
{
    return day != SEED_NO_DAY && day <= w->opts.as_of && day > w->opts.as_of - CHANGE_WINDOW_DAYS;
}

/* The status a permit had before its current one, and since when. */
static int previous_status(const seed_permit *p, int32_t *since)
{
    *since = p->filed;
    switch (p->status) {
    case ST_PLANCHECK: return ST_FILED;
    case ST_APPROVED: return ST_PLANCHECK;
    case ST_ISSUED: *since = p->approved; return p->type == 7 ? ST_FILED : ST_APPROVED;
    case ST_COMPLETE:
    case ST_EXPIRED:
    case ST_SUSPEND: *since = p->issued; return ST_ISSUED;
    case ST_REINSTATED: *since = p->issued; return ST_EXPIRED;
    case ST_CANCELLED:
    case ST_WITHDRAWN:
        if (p->issued != SEED_NO_DAY) {
            *since = p->issued;
            return ST_ISSUED;
        }
        return ST_PLANCHECK;
    default: return -1;
    }
}

static void out_change_tail(seed_out *o, const seed_permit *p, const seed_parcel *pc)
{
    out_str(o, seed_type_defs[p->type]);
    out_int(o, pc->street_no);
    out_str(o, pc->street_name);
    out_str(o, seed_nbhds[pc->nbhd].name);
    out_block_lot(o, pc);
}

static void rows_permit_changes_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    const seed_parcel *pc = parcel_of(w, p);
    char num[13];
    seed_permit_number(p, num);
    if (in_window(w, p->filed)) {
        int otc_issued = p->type == 7 && p->issued == p->filed;
        out_str(o, num);
        out_day(o, p->filed);
        out_tstz(o, p->filed + 1, 0);
        out_null(o);
        out_str(o, seed_status_names[otc_issued ? ST_ISSUED : ST_FILED]);
        out_null(o);
        out_date(o, p->filed);
        out_str(o, "new_permit");
        out_str(o, "t");
        out_str(o, "nightly");
        out_change_tail(o, p, pc);
        out_end_row(o);
    }
    int32_t since;
    int prev = previous_status(p, &since);
    if (prev < 0 || !in_window(w, p->status_day) || p->status_day == p->filed) return;
    out_str(o, num);
    out_day(o, p->status_day);
    out_tstz(o, p->status_day + 1, 0);
    out_str(o, seed_status_names[prev]);
    out_str(o, seed_status_names[p->status]);
    out_date(o, since);
    out_date(o, p->status_day);
    out_str(o, "status_change");
    out_str(o, "f");
    out_str(o, "nightly");
    out_change_tail(o, p, pc);
    out_end_row(o);
}

static void out_addenda_change(const sfp_seed_world *w, seed_out *o, size_t i, const route_row *x, int32_t day,
                               const char *type)
{
    const seed_permit *p = &w->permits[i];
    const seed_parcel *pc = parcel_of(w, p);
    const seed_station *st = &seed_stations[x->station];
    char num[13], reviewer[64];
    seed_permit_number(p, num);
    reviewer_name(x, reviewer, sizeof reviewer);
    out_str(o, num);
    out_day(o, day);
    out_tstz(o, day + 1, 0);
    out_str(o, st->code);
    out_int(o, x->addenda_number);
    out_int(o, x->step);
    out_str(o, x->has_reviewer ? reviewer : NULL);
    out_null(o);
    out_str(o, review_results[x->result]);
    out_str(o, x->hold ? hold_texts[x->hold - 1] : NULL);
    out_date(o, x->finish);
    out_str(o, type);
    out_str(o, "nightly");
    out_str(o, st->department);
    out_change_tail(o, p, pc);
    out_end_row(o);
}

static void rows_addenda_changes_of(const sfp_seed_world *w, seed_out *o, size_t i)
{
    const seed_permit *p = &w->permits[i];
    if (p->filed < w->opts.as_of - 3 * 365) return; /* routing that old is long finished */
    route_row rows[MAX_ROUTE];
    int n = gen_routing(w, i, rows);
    for (int k = 0; k < n; k++) {
        if (in_window(w, rows[k].finish)) out_addenda_change(w, o, i, &rows[k], rows[k].finish, "review_complete");
        else if (in_window(w, rows[k].arrive)) out_addenda_change(w, o, i, &rows[k], rows[k].arrive, "arrived");
    }
}

/* ------------------------------------------------------------------ driver */
typedef void (*per_index_fn)(const sfp_seed_world *w, seed_out *o, size_t i);

static void for_each(const sfp_seed_world *w, seed_out *o, size_t n, per_index_fn fn)
{
    for (size_t i = 0; i < n && !o->failed; i++) fn(w, o, i);
}

static void entities_all(const sfp_seed_world *w, seed_out *o)
{
    for (size_t id = 1; id <= w->n_entities && !o->failed; id++) row_entity(w, o, (uint32_t)id);
}

int64_t sfp_seed_generate(const sfp_seed_world *w, sfp_seed_table t, sfp_seed_sink_fn sink, void *ud)
{
    seed_out o;
    if (!w || !sink || t >= SFP_SEED_TABLE_COUNT || out_init(&o, sink, ud) < 0) return -1;
    switch (t) {
    case SFP_SEED_PERMITS: for_each(w, &o, w->n_permits, row_permit); break;
    case SFP_SEED_ENTITIES: entities_all(w, &o); break;
    case SFP_SEED_CONTACTS: for_each(w, &o, w->n_permits, rows_contacts_of); break;
    case SFP_SEED_INSPECTIONS: for_each(w, &o, w->n_permits, rows_inspections_of); break;
    case SFP_SEED_ADDENDA: for_each(w, &o, w->n_permits, rows_addenda_of); break;
    case SFP_SEED_COMPLAINTS: for_each(w, &o, w->n_complaints, row_complaint); break;
    case SFP_SEED_VIOLATIONS: for_each(w, &o, w->n_complaints, rows_violations_of); break;
    case SFP_SEED_TAX_ROLLS: for_each(w, &o, w->n_parcels, rows_tax_of); break;
    case SFP_SEED_PARCEL_SUMMARY: for_each(w, &o, w->n_parcels, row_parcel_summary); break;
    case SFP_SEED_TIMELINE_STATS: for_each(w, &o, w->n_permits, row_timeline); break;
    case SFP_SEED_PERMIT_CHANGES: for_each(w, &o, w->n_permits, rows_permit_changes_of); break;
    case SFP_SEED_ADDENDA_CHANGES: for_each(w, &o, w->n_permits, rows_addenda_changes_of); break;
    case SFP_SEED_BOILER_PERMITS: for_each(w, &o, w->n_parcels, seed_rows_boiler_of); break;
    case SFP_SEED_STREET_USE_PERMITS: for_each(w, &o, w->n_parcels, seed_rows_street_use_of); break;
    case SFP_SEED_PLANNING_RECORDS: for_each(w, &o, w->n_parcels, seed_rows_planning_of); break;
    case SFP_SEED_DEVELOPMENT_PIPELINE: for_each(w, &o, w->n_parcels, seed_rows_pipeline_of); break;
    default: break;
    }
    return out_finish(&o);
}
