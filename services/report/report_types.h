/* report_types.h — plain C records of the property-report domain (no protobuf, no libpq), so
 * the rules can be unit-tested alone. report_db fills them from Postgres, report_soda from
 * SODA, report_assemble maps them to the proto.
 *
 * Conventions: strings are never NULL ("" = no value / null); a nullable
 * number is `bool has_x` + `x`. All memory belongs to one request arena (or to the test that
 * built the records); the functions that produce these records take the arena explicitly. */
#ifndef SFP_REPORT_TYPES_H
#define SFP_REPORT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- one SODA record (complaint, violation, tax-roll row): every value is a string ---- */
typedef struct sfp_rpt_rec {
    size_t n;
    const char **keys;
    const char **vals;
} sfp_rpt_rec;

/* Value of key, or NULL when absent. */
const char *sfp_rpt_rec_get(const sfp_rpt_rec *r, const char *key);
/* First non-blank value among keys (NULL-terminated list), or "" — reads the real field names
 * first and older/alternative names as fallbacks. */
const char *sfp_rpt_rec_first(const sfp_rpt_rec *r, const char *const *keys);

/* SODA field names, real name first, then older/alternative names (the
 * system we replace read complaint_type / nov_number / violation_type, which these datasets do not
 * have, so its titles always fell back to "... on file"). NULL-terminated. */
extern const char *const SFP_RPT_COMPLAINT_NUMBER_KEYS[];
extern const char *const SFP_RPT_COMPLAINT_DESC_KEYS[];
extern const char *const SFP_RPT_VIOLATION_ID_KEYS[];
extern const char *const SFP_RPT_VIOLATION_DESC_KEYS[];
extern const char *const SFP_RPT_DATE_FILED_KEYS[];
extern const char *const SFP_RPT_STATUS_KEYS[];

/* ---- permits and their enrichments ---- */
typedef struct sfp_rpt_contact {
    const char *role, *name, *firm_name;
    bool has_entity_id;
    int64_t entity_id;
    const char *canonical_name, *canonical_firm;
    bool has_permit_count;
    int32_t permit_count;
} sfp_rpt_contact;

typedef struct sfp_rpt_inspection {
    const char *scheduled_date, *inspector, *result, *description;
} sfp_rpt_inspection;

/* One addenda (plan-review routing) row of a permit's latest revision: the columns the routing
 * progress reads (the statement orders by step; department and reviewer are not shown). */
typedef struct sfp_rpt_addenda_row {
    const char *station, *review_results;
    const char *finish_date, *arrive, *hold_description;
    bool has_addenda_number;
    int32_t addenda_number;
} sfp_rpt_addenda_row;

typedef struct sfp_rpt_stalled {
    const char *station;
    int32_t days;
} sfp_rpt_stalled;

/* Routing progress of a permit's latest addenda revision. */
typedef struct sfp_rpt_routing {
    int32_t total, completed, approved, comments, pending, pct;
    bool is_all_clear;
    int32_t addenda_number;
    const char **pending_stations;
    size_t n_pending_stations;
    sfp_rpt_stalled *stalled;
    size_t n_stalled;
    const char **held_stations;
    size_t n_held_stations;
    bool has_latest;
    const char *latest_station, *latest_result, *latest_date;
} sfp_rpt_routing;

/* One row of table permits (26 columns, table order) plus the enrichments. */
typedef struct sfp_rpt_permit {
    const char *permit_number, *permit_type, *permit_type_definition, *status, *status_date, *description;
    const char *filed_date, *issued_date, *approved_date, *completed_date;
    bool has_estimated_cost;
    double estimated_cost;
    bool has_revised_cost;
    double revised_cost;
    const char *existing_use, *proposed_use;
    bool has_existing_units;
    int32_t existing_units;
    bool has_proposed_units;
    int32_t proposed_units;
    const char *street_number, *street_name, *street_suffix, *zipcode, *neighborhood, *supervisor_district;
    const char *block, *lot, *adu, *data_as_of;

    sfp_rpt_contact *contacts;
    size_t n_contacts;
    sfp_rpt_inspection *inspections;
    size_t n_inspections;
    const sfp_rpt_routing *routing; /* NULL = no routing (inactive permit or no addenda) */
} sfp_rpt_permit;

/* A recent permit on another parcel of the neighborhood. */
typedef struct sfp_rpt_nearby {
    const char *permit_number, *permit_type_definition, *status, *filed_date;
    bool has_estimated_cost;
    double estimated_cost;
    const char *description, *street_number, *street_name, *street_suffix;
} sfp_rpt_nearby;

/* The parcel_summary row. */
typedef struct sfp_rpt_parcel_summary {
    bool present;
    const char *canonical_address, *neighborhood, *supervisor_district;
    bool has_tax_value;
    double tax_value;
    const char *zoning_code, *use_definition;
    bool has_number_of_units;
    int32_t number_of_units;
    const char *health_tier;
    int32_t permit_count, complaint_count, violation_count;
} sfp_rpt_parcel_summary;

/* The property data: the zoning/use facts the rules read, from the newest
 * tax-roll record or, when present, the parcel_summary row. */
typedef struct sfp_rpt_property {
    bool present;
    const char *zoning_code;
    const char *use_definition;
} sfp_rpt_property;

/* One regulatory_watch row in status monitoring|passed. */
typedef struct sfp_rpt_reg_watch {
    const char *title, *description, *status, *impact_level, *url;
    const char **concepts; /* parsed semantic_concepts */
    size_t n_concepts;
} sfp_rpt_reg_watch;

/* ---- derived sections ---- */
typedef enum { SFP_SEV_HIGH = 0, SFP_SEV_MODERATE = 1, SFP_SEV_LOW = 2 } sfp_rpt_severity;
const char *sfp_rpt_severity_name(sfp_rpt_severity s); /* "high" | "moderate" | "low" */

typedef struct sfp_rpt_risk {
    sfp_rpt_severity severity;
    const char *risk_type, *title, *description, *section_ref, *link;
} sfp_rpt_risk;

typedef struct sfp_rpt_signal {
    int32_t score;
    const char *signal; /* cold | warm | recommended | strongly_recommended | essential */
    const char **factors;
    size_t n_factors;
    const char *message;
} sfp_rpt_signal;

#define SFP_RPT_MAX_EVIDENCE 8
typedef struct sfp_rpt_kv {
    const char *key, *value;
} sfp_rpt_kv;

typedef struct sfp_rpt_missing {
    const char *type;
    sfp_rpt_severity severity; /* moderate | low */
    const char *title, *description;
    sfp_rpt_kv evidence[SFP_RPT_MAX_EVIDENCE];
    size_t n_evidence;
    const char *section_ref;
} sfp_rpt_missing;

typedef struct sfp_rpt_profile {
    bool present;
    const char *assessed_value; /* "$1,234,567" or "" */
    bool has_assessed_value_raw;
    double assessed_value_raw;
    const char *zoning, *property_class, *use_code, *neighborhood, *year_built;
    const char *building_area, *lot_area, *tax_year;
    const char *source; /* "tax_roll" | "parcel_summary" */
} sfp_rpt_profile;

#endif
