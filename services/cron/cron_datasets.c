/* cron_datasets.c — one descriptor per SODA dataset the nightly ingests (see cron_ingest.h).
 *
 * Every dataset is fetched incrementally on data_as_of (the DataSF load timestamp of a row) and
 * paged with $order=:id. Keys identify a row for replacement: a staged row replaces the target
 * rows with the same key whose content differs (NULL-safe on every key column but the first).
 *
 * To add a dataset: write its column list and one sfp_ingest_dataset entry below (the target
 * table must exist: add a migration). Nothing else changes. */
#include <string.h>

#include "cron_ingest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
static const sfp_ingest_column k_permit_cols[] = {
    {"permit_number", 't', NULL, NULL}, {"permit_type", 't', NULL, NULL},
    {"permit_type_definition", 't', NULL, NULL}, {"status", 't', NULL, NULL}, {"status_date", 't', NULL, NULL},
    {"description", 't', NULL, NULL}, {"filed_date", 't', NULL, NULL}, {"issued_date", 't', NULL, NULL},
    {"approved_date", 't', NULL, NULL}, {"completed_date", 't', NULL, NULL}, {"estimated_cost", 'f', NULL, NULL},
    {"revised_cost", 'f', NULL, NULL}, {"existing_use", 't', NULL, NULL}, {"proposed_use", 't', NULL, NULL},
    {"existing_units", 'i', NULL, NULL}, {"proposed_units", 'i', NULL, NULL}, {"street_number", 't', NULL, NULL},
    {"street_name", 't', NULL, NULL}, {"street_suffix", 't', NULL, NULL}, {"zipcode", 't', NULL, NULL},
    {"neighborhood", 't', "neighborhoods_analysis_boundaries", "neighborhood"},
    {"supervisor_district", 't', NULL, NULL}, {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL},
    {"adu", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

static const sfp_ingest_column k_addenda_cols[] = {
    {"primary_key", 't', NULL, NULL}, {"application_number", 't', NULL, NULL}, {"addenda_number", 'i', NULL, NULL},
    {"step", 'i', NULL, NULL}, {"station", 't', NULL, NULL}, {"arrive", 't', NULL, NULL},
    {"assign_date", 't', NULL, NULL}, {"start_date", 't', NULL, NULL}, {"finish_date", 't', NULL, NULL},
    {"approved_date", 't', NULL, NULL}, {"plan_checked_by", 't', NULL, NULL}, {"review_results", 't', NULL, NULL},
    {"hold_description", 't', NULL, NULL}, {"addenda_status", 't', NULL, NULL}, {"department", 't', NULL, NULL},
    {"title", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

static const sfp_ingest_column k_inspection_cols[] = {
    {"reference_number", 't', NULL, NULL},
    {"reference_number_type", 'd', NULL, "permit"},
    {"inspector", 't', NULL, NULL}, {"scheduled_date", 't', NULL, NULL}, {"result", 't', NULL, NULL},
    {"inspection_description", 't', NULL, NULL}, {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL},
    {"street_number", 't', NULL, NULL}, {"street_name", 't', NULL, NULL}, {"street_suffix", 't', NULL, NULL},
    {"neighborhood", 't', "neighborhood", "neighborhoods_analysis_boundaries"},
    {"supervisor_district", 't', NULL, NULL}, {"zipcode", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
    {"source", 'c', "building", NULL},
};

static const sfp_ingest_column k_complaint_cols[] = {
    {"complaint_number", 't', NULL, NULL}, {"date_filed", 't', NULL, NULL}, {"date_abated", 't', NULL, NULL},
    {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL}, {"parcel_number", 't', NULL, NULL},
    {"street_number", 't', NULL, NULL}, {"street_name", 't', NULL, NULL}, {"street_suffix", 't', NULL, NULL},
    {"unit", 't', NULL, NULL}, {"zip_code", 't', NULL, NULL}, {"complaint_description", 't', NULL, NULL},
    {"status", 't', NULL, NULL}, {"nov_type", 't', NULL, NULL}, {"receiving_division", 't', NULL, NULL},
    {"assigned_division", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

static const sfp_ingest_column k_violation_cols[] = {
    {"complaint_number", 't', NULL, NULL}, {"item_sequence_number", 't', NULL, NULL},
    {"date_filed", 't', NULL, NULL}, {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL},
    {"street_number", 't', NULL, NULL}, {"street_name", 't', NULL, NULL}, {"street_suffix", 't', NULL, NULL},
    {"unit", 't', NULL, NULL}, {"status", 't', NULL, NULL}, {"receiving_division", 't', NULL, NULL},
    {"assigned_division", 't', NULL, NULL}, {"nov_category_description", 't', NULL, NULL},
    {"item", 't', NULL, NULL}, {"nov_item_description", 't', NULL, NULL}, {"neighborhood", 't', NULL, NULL},
    {"supervisor_district", 't', NULL, NULL}, {"zipcode", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

static const sfp_ingest_column k_tax_cols[] = {
    {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL}, {"tax_year", 't', "closed_roll_year", "tax_year"},
    {"property_location", 't', NULL, NULL}, {"parcel_number", 't', NULL, NULL}, {"zoning_code", 't', NULL, NULL},
    {"use_code", 't', NULL, NULL}, {"use_definition", 't', NULL, NULL}, {"property_class_code", 't', NULL, NULL},
    {"property_class_code_definition", 't', NULL, NULL}, {"number_of_stories", 'f', NULL, NULL},
    {"number_of_units", 'i', NULL, NULL}, {"number_of_rooms", 'i', NULL, NULL},
    {"number_of_bedrooms", 'i', NULL, NULL}, {"number_of_bathrooms", 'f', NULL, NULL},
    {"lot_area", 'f', NULL, NULL}, {"property_area", 'f', NULL, NULL}, {"assessed_land_value", 'f', NULL, NULL},
    {"assessed_improvement_value", 'f', NULL, NULL}, {"assessed_personal_property", 'f', NULL, NULL},
    {"assessed_fixtures", 'f', NULL, NULL}, {"current_sales_date", 't', NULL, NULL},
    {"neighborhood", 't', "neighborhood", "assessor_neighborhood"}, {"supervisor_district", 't', NULL, NULL},
    {"data_as_of", 't', NULL, NULL},
};

#define CONTACT_COLS(src)                                                                                 \
    {"source", 'c', src, NULL}, {"permit_number", 't', NULL, NULL}, {"role", 'r', NULL, NULL},         \
    {"name", 'n', NULL, NULL},                                                                              \
    {"first_name", 't', NULL, NULL}, {"last_name", 't', NULL, NULL}, {"firm_name", 't', NULL, NULL},       \
    {"pts_agent_id", 't', NULL, NULL}, {"license_number", 't', "license_number", "license1"},             \
    {"sf_business_license", 't', "sf_business_license", "sf_business_license_number"},                  \
    {"phone", 't', NULL, NULL}, {"address", 't', "address", "firm_address"}, {"city", 't', NULL, NULL},    \
    {"state", 't', NULL, NULL}, {"zipcode", 't', "zipcode", "firm_zipcode"},                               \
    {"is_applicant", 't', NULL, NULL}, {"from_date", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL}

static const sfp_ingest_column k_contact_building_cols[] = {CONTACT_COLS("building")};
static const sfp_ingest_column k_contact_electrical_cols[] = {CONTACT_COLS("electrical")};
static const sfp_ingest_column k_contact_plumbing_cols[] = {CONTACT_COLS("plumbing")};

/* The day of a SODA date column, or today ($2: San Francisco's day, sfp_cron_today_param) when
 * the column holds no date. */
#define DAY_OR_TODAY(x) "CASE WHEN " x " ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN left(" x ", 10)::date ELSE $2::date END"

/* New permits and status changes → permit_changes. Returns (new permits, status changes). */
static const char k_permits_feed[] =
    "WITH src AS (SELECT DISTINCT ON (permit_number) * FROM nightly_stage_permits "
    "  ORDER BY permit_number, status_date DESC NULLS LAST), "
    "old AS (SELECT p.permit_number, p.status, p.status_date FROM permits p JOIN src USING (permit_number)), "
    "ch AS (INSERT INTO permit_changes (permit_number, change_date, old_status, new_status, old_status_date, "
    "  new_status_date, change_type, is_new_permit, source, permit_type, street_number, street_name, neighborhood, "
    "  block, lot) "
    "  SELECT s.permit_number, CASE WHEN o.permit_number IS NULL THEN " DAY_OR_TODAY("coalesce(s.filed_date, s.status_date)")
    "  ELSE " DAY_OR_TODAY("s.status_date") " END, o.status, coalesce(s.status, ''), o.status_date, s.status_date, "
    "  CASE WHEN o.permit_number IS NULL THEN 'new_permit' ELSE 'status_change' END, o.permit_number IS NULL, $1, "
    "  s.permit_type_definition, s.street_number, s.street_name, s.neighborhood, s.block, s.lot "
    "  FROM src s LEFT JOIN old o USING (permit_number) "
    "  WHERE o.permit_number IS NULL OR lower(coalesce(o.status, '')) <> lower(coalesce(s.status, '')) "
    "  RETURNING is_new_permit) "
    "SELECT count(*) FILTER (WHERE is_new_permit), count(*) FILTER (WHERE NOT is_new_permit) FROM ch";

/* Station arrivals, finished reviews and changed results → addenda_changes. Returns (rows, 0). */
static const char k_addenda_feed[] =
    "WITH src AS (SELECT DISTINCT ON (primary_key) * FROM nightly_stage_addenda "
    "  ORDER BY primary_key, finish_date DESC NULLS LAST), "
    "old AS (SELECT DISTINCT ON (a.primary_key) a.primary_key, a.finish_date, a.review_results "
    "  FROM addenda a JOIN src s USING (primary_key) ORDER BY a.primary_key, a.id), "
    "ch AS (INSERT INTO addenda_changes (application_number, change_date, station, addenda_number, step, "
    "  plan_checked_by, old_review_results, new_review_results, hold_description, finish_date, change_type, source, "
    "  department, permit_type, street_number, street_name, neighborhood, block, lot) "
    "  SELECT s.application_number, CASE WHEN s.finish_date IS NOT NULL THEN " DAY_OR_TODAY("s.finish_date")
    "  ELSE " DAY_OR_TODAY("s.arrive") " END, s.station, s.addenda_number, s.step, s.plan_checked_by, "
    "  o.review_results, s.review_results, s.hold_description, s.finish_date, "
    "  CASE WHEN s.finish_date IS NOT NULL AND (o.primary_key IS NULL OR o.finish_date IS NULL) THEN 'review_complete' "
    "    WHEN o.primary_key IS NULL THEN 'arrived' ELSE 'review_updated' END, $1, s.department, "
    "  p.permit_type_definition, p.street_number, p.street_name, p.neighborhood, p.block, p.lot "
    "  FROM src s LEFT JOIN old o USING (primary_key) LEFT JOIN permits p ON p.permit_number = s.application_number "
    "  WHERE o.primary_key IS NULL OR (o.finish_date IS NULL AND s.finish_date IS NOT NULL) "
    "    OR o.review_results IS DISTINCT FROM s.review_results RETURNING 1) "
    "SELECT count(*), 0 FROM ch";

/* ---- the brief's datasets: boiler, street-use, planning (two SODA datasets, one table) and
 * development pipeline (services/brief: compliance_calendar, data_quality,
 * street_use_activity, planning_context, nearby_development; migration 0040) ---- */
static const sfp_ingest_column k_boiler_cols[] = {
    {"permit_number", 't', NULL, NULL}, {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL},
    {"status", 't', NULL, NULL}, {"boiler_type", 't', NULL, NULL}, {"boiler_serial_number", 't', NULL, NULL},
    {"model", 't', NULL, NULL}, {"description", 't', NULL, NULL}, {"application_date", 't', NULL, NULL},
    {"expiration_date", 't', NULL, NULL}, {"street_number", 't', NULL, NULL}, {"street_name", 't', NULL, NULL},
    {"street_suffix", 't', NULL, NULL}, {"zip_code", 't', NULL, NULL},
    {"neighborhood", 't', "neighborhood", "neighborhoods_analysis_boundaries"},
    {"supervisor_district", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

static const sfp_ingest_column k_street_use_cols[] = {
    {"permit_number", 't', NULL, NULL}, {"permit_type", 't', NULL, NULL}, {"permit_purpose", 't', NULL, NULL},
    {"status", 't', NULL, NULL}, {"agent", 't', NULL, NULL}, {"agent_phone", 't', "agent_phone", "agentphone"},
    {"contact", 't', NULL, NULL}, {"street_name", 't', "street_name", "streetname"},
    {"cross_street_1", 't', NULL, NULL}, {"cross_street_2", 't', NULL, NULL},
    {"plan_checker", 't', "plan_checker", "planchecker"}, {"approved_date", 't', NULL, NULL},
    {"expiration_date", 't', "expiration_date", "permit_end_date"}, {"neighborhood", 't', NULL, NULL},
    {"supervisor_district", 't', NULL, NULL}, {"latitude", 'f', NULL, NULL}, {"longitude", 'f', NULL, NULL},
    {"cnn", 't', NULL, NULL}, {"data_as_of", 't', NULL, NULL},
};

#define PLANNING_COLS(is_project)                                                                          \
    {"record_id", 't', NULL, NULL}, {"record_type", 't', NULL, NULL}, {"record_status", 't', NULL, NULL},    \
    {"block", 't', NULL, NULL}, {"lot", 't', NULL, NULL}, {"address", 't', NULL, NULL},                        \
    {"project_name", 't', NULL, NULL}, {"description", 't', NULL, NULL}, {"applicant", 't', NULL, NULL},       \
    {"applicant_org", 't', NULL, NULL}, {"assigned_planner", 't', NULL, NULL}, {"open_date", 't', NULL, NULL}, \
    {"environmental_doc_type", 't', NULL, NULL}, {"is_project", 'c', is_project, NULL},                       \
    {"units_existing", 'i', NULL, NULL}, {"units_proposed", 'i', NULL, NULL}, {"units_net", 'f', NULL, NULL}, \
    {"affordable_units", 'i', NULL, NULL}, {"child_id", 't', NULL, NULL}, {"parent_id", 't', NULL, NULL},     \
    {"data_as_of", 't', NULL, NULL}

static const sfp_ingest_column k_planning_project_cols[] = {PLANNING_COLS("true")};
static const sfp_ingest_column k_planning_other_cols[] = {PLANNING_COLS("false")};

static const sfp_ingest_column k_pipeline_cols[] = {
    {"record_id", 't', NULL, NULL}, {"bpa_no", 't', NULL, NULL}, {"case_no", 't', NULL, NULL},
    {"name_address", 't', NULL, NULL}, {"current_status", 't', NULL, NULL}, {"description_dbi", 't', NULL, NULL},
    {"description_planning", 't', NULL, NULL}, {"contact", 't', NULL, NULL}, {"sponsor", 't', NULL, NULL},
    {"planner", 't', NULL, NULL}, {"proposed_units", 'i', NULL, NULL}, {"existing_units", 'i', NULL, NULL},
    {"net_pipeline_units", 'i', NULL, NULL}, {"affordable_units", 'i', NULL, NULL},
    {"zoning_district", 't', NULL, NULL}, {"height_district", 't', NULL, NULL}, {"neighborhood", 't', NULL, NULL},
    {"planning_district", 't', NULL, NULL}, {"approved_date_planning", 't', NULL, NULL},
    {"block_lot", 't', NULL, NULL}, {"latitude", 'f', NULL, NULL}, {"longitude", 'f', NULL, NULL},
    {"data_as_of", 't', NULL, NULL},
};

#define CONTACT_DS(id_, name_, src, cols)                                                                      \
    {id_, name_, "contacts", "data_as_of", "data_as_of", "t.source = '" src "'",                              \
     {"permit_number", "role", "name", "firm_name", NULL}, NULL, NULL, NULL, cols, N(cols)}

const sfp_ingest_dataset sfp_ingest_datasets[] = {
    {"i98e-djp9", "permits", "permits", "data_as_of", "data_as_of", NULL, {"permit_number", NULL}, NULL, NULL,
     k_permits_feed, k_permit_cols, N(k_permit_cols)},
    {"87xy-gk8d", "addenda", "addenda", "data_as_of", "data_as_of", NULL, {"primary_key", NULL},
     "x.application_number IS NOT NULL", NULL, k_addenda_feed, k_addenda_cols, N(k_addenda_cols)},
    {"vckc-dh2h", "inspections", "inspections", "data_as_of", "data_as_of", NULL,
     {"reference_number", "scheduled_date", "inspection_description", NULL}, NULL, NULL, NULL, k_inspection_cols,
     N(k_inspection_cols)},
    {"gm2e-bten", "complaints", "complaints", "data_as_of", "data_as_of", NULL, {"complaint_number", NULL}, NULL,
     NULL, NULL, k_complaint_cols, N(k_complaint_cols)},
    {"nbtm-fbw5", "violations", "violations", "data_as_of", "data_as_of", NULL,
     {"complaint_number", "item_sequence_number", NULL}, NULL, NULL, NULL, k_violation_cols, N(k_violation_cols)},
    CONTACT_DS("3pee-9qhc", "contacts_building", "building", k_contact_building_cols),
    CONTACT_DS("fdm7-jqqf", "contacts_electrical", "electrical", k_contact_electrical_cols),
    CONTACT_DS("k6kv-9kix", "contacts_plumbing", "plumbing", k_contact_plumbing_cols),
    /* the local copy keeps closed roll years >= 2022 only */
    {"wv5m-vpq2", "tax_rolls", "tax_rolls", "data_as_of", "data_as_of", NULL, {"block", "lot", "tax_year", NULL},
     "x.lot IS NOT NULL AND x.tax_year IS NOT NULL AND x.tax_year >= '2022'", "closed_roll_year >= '2022'", NULL,
     k_tax_cols, N(k_tax_cols)},
    {"5dp4-gtxk", "boiler_permits", "boiler_permits", "data_as_of", "data_as_of", NULL, {"permit_number", NULL},
     NULL, NULL, NULL, k_boiler_cols, N(k_boiler_cols)},
    {"b6tj-gt35", "street_use_permits", "street_use_permits", "data_as_of", "data_as_of", NULL,
     {"permit_number", NULL}, NULL, NULL, NULL, k_street_use_cols, N(k_street_use_cols)},
    {"qvu5-m3a2", "planning_projects", "planning_records", "data_as_of", "data_as_of", "t.is_project",
     {"record_id", NULL}, NULL, NULL, NULL, k_planning_project_cols, N(k_planning_project_cols)},
    {"y673-d69b", "planning_non_projects", "planning_records", "data_as_of", "data_as_of", "NOT t.is_project",
     {"record_id", NULL}, NULL, NULL, NULL, k_planning_other_cols, N(k_planning_other_cols)},
    {"6jgi-cpb4", "development_pipeline", "development_pipeline", "data_as_of", "data_as_of", NULL,
     {"record_id", NULL}, NULL, NULL, NULL, k_pipeline_cols, N(k_pipeline_cols)},
};
/* clang-format on */
const size_t sfp_ingest_dataset_count = N(sfp_ingest_datasets);

const sfp_ingest_dataset *sfp_ingest_find(const char *name)
{
    for (size_t i = 0; i < sfp_ingest_dataset_count; i++)
        if (!strcmp(sfp_ingest_datasets[i].name, name)) return &sfp_ingest_datasets[i];
    return NULL;
}
