#include "report_assemble.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "pbjson.h"
#include "report_text.h"

#define S(x) ((char *)sfp_rpt_str(x)) /* arena/static strings handed to protobuf-c (never freed) */
#define NEW(a, type, desc) ((type *)sfp_arena_msg((a), &(desc)))
#define ARR(a, type, n) ((type *)sfp_arena_alloc((a), sizeof(type) * ((n) ? (n) : 1)))

const char *sfp_rpt_address(const sfp_rpt_permit *p, sfp_arena *a)
{
    if (!p) return "";
    const char *parts[] = {p->street_number, p->street_name, p->street_suffix};
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (sfp_rpt_blank(parts[i])) continue;
        const char *t = sfp_rpt_trim_dup(a, parts[i]);
        int w = snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", t);
        if (w < 0 || (size_t)w >= sizeof buf - len) break;
        len += (size_t)w;
    }
    return sfp_arena_strdup(a, buf);
}

static Sfpermits__V1__SodaRecord *soda_record(const sfp_rpt_rec *r, sfp_arena *a)
{
    Sfpermits__V1__SodaRecord *m = NEW(a, Sfpermits__V1__SodaRecord, sfpermits__v1__soda_record__descriptor);
    m->fields = ARR(a, Sfpermits__V1__SodaRecord__FieldsEntry *, r->n);
    for (size_t i = 0; i < r->n; i++) {
        Sfpermits__V1__SodaRecord__FieldsEntry *e =
            NEW(a, Sfpermits__V1__SodaRecord__FieldsEntry, sfpermits__v1__soda_record__fields_entry__descriptor);
        e->key = S(r->keys[i]);
        e->value = S(r->vals[i]);
        m->fields[m->n_fields++] = e;
    }
    return m;
}

static Sfpermits__V1__RoutingProgress *routing(const sfp_rpt_routing *r, sfp_arena *a)
{
    Sfpermits__V1__RoutingProgress *m =
        NEW(a, Sfpermits__V1__RoutingProgress, sfpermits__v1__routing_progress__descriptor);
    m->total = r->total;
    m->completed = r->completed;
    m->approved = r->approved;
    m->comments = r->comments;
    m->pending = r->pending;
    m->pct = r->pct;
    m->is_all_clear = r->is_all_clear;
    m->addenda_number = r->addenda_number;
    m->pending_stations = (char **)r->pending_stations;
    m->n_pending_stations = r->n_pending_stations;
    m->held_stations = (char **)r->held_stations;
    m->n_held_stations = r->n_held_stations;
    m->stalled = ARR(a, Sfpermits__V1__RoutingStalledStation *, r->n_stalled);
    for (size_t i = 0; i < r->n_stalled; i++) {
        Sfpermits__V1__RoutingStalledStation *s =
            NEW(a, Sfpermits__V1__RoutingStalledStation, sfpermits__v1__routing_stalled_station__descriptor);
        s->station = S(r->stalled[i].station);
        s->days = r->stalled[i].days;
        m->stalled[m->n_stalled++] = s;
    }
    if (r->has_latest) {
        Sfpermits__V1__RoutingLatest *l =
            NEW(a, Sfpermits__V1__RoutingLatest, sfpermits__v1__routing_latest__descriptor);
        l->station = S(r->latest_station);
        l->result = S(r->latest_result);
        l->date = S(r->latest_date);
        m->latest = l;
    }
    return m;
}

static Sfpermits__V1__ReportPermit *permit(const sfp_rpt_permit *p, sfp_arena *a)
{
    Sfpermits__V1__ReportPermit *m = NEW(a, Sfpermits__V1__ReportPermit, sfpermits__v1__report_permit__descriptor);
    m->permit_number = S(p->permit_number);
    m->permit_type = S(p->permit_type);
    m->permit_type_definition = S(p->permit_type_definition);
    m->status = S(p->status);
    m->status_date = S(p->status_date);
    m->description = S(p->description);
    m->filed_date = S(p->filed_date);
    m->issued_date = S(p->issued_date);
    m->approved_date = S(p->approved_date);
    m->completed_date = S(p->completed_date);
    m->optional_estimated_cost_case = (p->has_estimated_cost)
                                          ? SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_ESTIMATED_COST_ESTIMATED_COST
                                          : SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_ESTIMATED_COST__NOT_SET;
    m->estimated_cost = p->estimated_cost;
    m->optional_revised_cost_case = (p->has_revised_cost)
                                        ? SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_REVISED_COST_REVISED_COST
                                        : SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_REVISED_COST__NOT_SET;
    m->revised_cost = p->revised_cost;
    m->existing_use = S(p->existing_use);
    m->proposed_use = S(p->proposed_use);
    m->optional_existing_units_case = (p->has_existing_units)
                                          ? SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_EXISTING_UNITS_EXISTING_UNITS
                                          : SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_EXISTING_UNITS__NOT_SET;
    m->existing_units = p->existing_units;
    m->optional_proposed_units_case = (p->has_proposed_units)
                                          ? SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_PROPOSED_UNITS_PROPOSED_UNITS
                                          : SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_PROPOSED_UNITS__NOT_SET;
    m->proposed_units = p->proposed_units;
    m->street_number = S(p->street_number);
    m->street_name = S(p->street_name);
    m->street_suffix = S(p->street_suffix);
    m->zipcode = S(p->zipcode);
    m->neighborhood = S(p->neighborhood);
    m->supervisor_district = S(p->supervisor_district);
    m->block = S(p->block);
    m->lot = S(p->lot);
    m->adu = S(p->adu);
    m->data_as_of = S(p->data_as_of);
    m->contacts = ARR(a, Sfpermits__V1__PermitContact *, p->n_contacts);
    for (size_t i = 0; i < p->n_contacts; i++) {
        const sfp_rpt_contact *c = &p->contacts[i];
        Sfpermits__V1__PermitContact *x =
            NEW(a, Sfpermits__V1__PermitContact, sfpermits__v1__permit_contact__descriptor);
        x->role = S(c->role);
        x->name = S(c->name);
        x->firm_name = S(c->firm_name);
        x->optional_entity_id_case = (c->has_entity_id) ? SFPERMITS__V1__PERMIT_CONTACT__OPTIONAL_ENTITY_ID_ENTITY_ID
                                                        : SFPERMITS__V1__PERMIT_CONTACT__OPTIONAL_ENTITY_ID__NOT_SET;
        x->entity_id = c->entity_id;
        x->canonical_name = S(c->canonical_name);
        x->canonical_firm = S(c->canonical_firm);
        x->optional_permit_count_case = (c->has_permit_count)
                                            ? SFPERMITS__V1__PERMIT_CONTACT__OPTIONAL_PERMIT_COUNT_PERMIT_COUNT
                                            : SFPERMITS__V1__PERMIT_CONTACT__OPTIONAL_PERMIT_COUNT__NOT_SET;
        x->permit_count = c->permit_count;
        m->contacts[m->n_contacts++] = x;
    }
    m->inspections = ARR(a, Sfpermits__V1__PermitInspection *, p->n_inspections);
    for (size_t i = 0; i < p->n_inspections; i++) {
        const sfp_rpt_inspection *s = &p->inspections[i];
        Sfpermits__V1__PermitInspection *x =
            NEW(a, Sfpermits__V1__PermitInspection, sfpermits__v1__permit_inspection__descriptor);
        x->scheduled_date = S(s->scheduled_date);
        x->inspector = S(s->inspector);
        x->result = S(s->result);
        x->description = S(s->description);
        m->inspections[m->n_inspections++] = x;
    }
    m->link = sfp_rpt_blank(p->permit_number)
                  ? ""
                  : sfp_arena_printf(a, "/?q=%s", sfp_rpt_urlencode_plus(a, p->permit_number));
    if (p->routing) m->routing = routing(p->routing, a);
    return m;
}

static Sfpermits__V1__SourceState source_state(sfp_soda_source s)
{
    switch (s) {
    case SFP_SODA_LIVE: return SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_LIVE;
    case SFP_SODA_CACHED: return SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_CACHED;
    case SFP_SODA_STALE: return SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_STALE;
    default: return SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_UNAVAILABLE;
    }
}

static Sfpermits__V1__Severity severity(sfp_rpt_severity s)
{
    switch (s) {
    case SFP_SEV_HIGH: return SFPERMITS__V1__SEVERITY__SEVERITY_HIGH;
    case SFP_SEV_MODERATE: return SFPERMITS__V1__SEVERITY__SEVERITY_MODERATE;
    default: return SFPERMITS__V1__SEVERITY__SEVERITY_LOW;
    }
}

static Sfpermits__V1__SourceStatus *source(const sfp_rpt_soda_result *r, sfp_rpt_dataset d, sfp_arena *a)
{
    Sfpermits__V1__SourceStatus *m = NEW(a, Sfpermits__V1__SourceStatus, sfpermits__v1__source_status__descriptor);
    m->state = source_state(r->state);
    m->dataset = S(sfp_rpt_dataset_id(d));
    m->optional_age_seconds_case = (r->has_age) ? SFPERMITS__V1__SOURCE_STATUS__OPTIONAL_AGE_SECONDS_AGE_SECONDS
                                                : SFPERMITS__V1__SOURCE_STATUS__OPTIONAL_AGE_SECONDS__NOT_SET;
    m->age_seconds = r->age_seconds;
    m->optional_ttl_remaining_seconds_case =
        (r->has_ttl) ? SFPERMITS__V1__SOURCE_STATUS__OPTIONAL_TTL_REMAINING_SECONDS_TTL_REMAINING_SECONDS
                     : SFPERMITS__V1__SOURCE_STATUS__OPTIONAL_TTL_REMAINING_SECONDS__NOT_SET;
    m->ttl_remaining_seconds = r->ttl_remaining_seconds;
    m->records = (int32_t)r->n_records;
    m->reason = S(r->reason);
    return m;
}

Sfpermits__V1__PropertyReport *sfp_rpt_assemble(const sfp_rpt_report *r, sfp_arena *a)
{
    Sfpermits__V1__PropertyReport *m =
        NEW(a, Sfpermits__V1__PropertyReport, sfpermits__v1__property_report__descriptor);
    m->block = S(r->block);
    m->lot = S(r->lot);
    m->address = S(r->address);
    m->historical_lots = (char **)r->lots;
    m->n_historical_lots = r->n_lots;

    if (r->profile && r->profile->present) {
        const sfp_rpt_profile *p = r->profile;
        Sfpermits__V1__PropertyProfile *x =
            NEW(a, Sfpermits__V1__PropertyProfile, sfpermits__v1__property_profile__descriptor);
        x->assessed_value = S(p->assessed_value);
        x->optional_assessed_value_raw_case =
            (p->has_assessed_value_raw)
                ? SFPERMITS__V1__PROPERTY_PROFILE__OPTIONAL_ASSESSED_VALUE_RAW_ASSESSED_VALUE_RAW
                : SFPERMITS__V1__PROPERTY_PROFILE__OPTIONAL_ASSESSED_VALUE_RAW__NOT_SET;
        x->assessed_value_raw = p->assessed_value_raw;
        x->zoning = S(p->zoning);
        x->property_class = S(p->property_class);
        x->use_code = S(p->use_code);
        x->neighborhood = S(p->neighborhood);
        x->year_built = S(p->year_built);
        x->building_area = S(p->building_area);
        x->lot_area = S(p->lot_area);
        x->tax_year = S(p->tax_year);
        x->source = S(p->source);
        m->property_profile = x;
    }

    m->permits = ARR(a, Sfpermits__V1__ReportPermit *, r->n_permits);
    for (size_t i = 0; i < r->n_permits; i++) m->permits[m->n_permits++] = permit(&r->permits[i], a);
    m->total_permits = r->total_permits;
    m->truncated = r->total_permits > (int32_t)r->n_permits;

    const sfp_rpt_soda_result *c = &r->soda[SFP_RPT_DS_COMPLAINTS], *v = &r->soda[SFP_RPT_DS_VIOLATIONS];
    m->complaints = ARR(a, Sfpermits__V1__SodaRecord *, c->n_records);
    for (size_t i = 0; i < c->n_records; i++) m->complaints[m->n_complaints++] = soda_record(&c->records[i], a);
    m->violations = ARR(a, Sfpermits__V1__SodaRecord *, v->n_records);
    for (size_t i = 0; i < v->n_records; i++) m->violations[m->n_violations++] = soda_record(&v->records[i], a);

    m->risk_assessment = ARR(a, Sfpermits__V1__RiskItem *, r->n_risks);
    for (size_t i = 0; i < r->n_risks; i++) {
        const sfp_rpt_risk *k = &r->risks[i];
        Sfpermits__V1__RiskItem *x = NEW(a, Sfpermits__V1__RiskItem, sfpermits__v1__risk_item__descriptor);
        x->severity = severity(k->severity);
        x->risk_type = (Sfpermits__V1__RiskType)sfp_pbjson_enum_value(
            &sfpermits__v1__risk_type__descriptor, k->risk_type, SFPERMITS__V1__RISK_TYPE__RISK_TYPE_UNSPECIFIED);
        x->title = S(k->title);
        x->description = S(k->description);
        x->section_ref = S(k->section_ref);
        x->link = S(k->link);
        m->risk_assessment[m->n_risk_assessment++] = x;
    }

    Sfpermits__V1__ConsultantSignal *sig =
        NEW(a, Sfpermits__V1__ConsultantSignal, sfpermits__v1__consultant_signal__descriptor);
    if (r->signal) {
        sig->score = r->signal->score;
        sig->signal = (Sfpermits__V1__ConsultantTier)sfp_pbjson_enum_value(
            &sfpermits__v1__consultant_tier__descriptor, r->signal->signal,
            SFPERMITS__V1__CONSULTANT_TIER__CONSULTANT_TIER_UNSPECIFIED);
        sig->factors = (char **)r->signal->factors;
        sig->n_factors = r->signal->n_factors;
        sig->message = S(r->signal->message);
    }
    m->consultant_signal = sig;

    m->whats_missing = ARR(a, Sfpermits__V1__MissingItem *, r->n_missing);
    for (size_t i = 0; i < r->n_missing; i++) {
        const sfp_rpt_missing *k = &r->missing[i];
        Sfpermits__V1__MissingItem *x = NEW(a, Sfpermits__V1__MissingItem, sfpermits__v1__missing_item__descriptor);
        x->type = (Sfpermits__V1__MissingItemType)sfp_pbjson_enum_value(
            &sfpermits__v1__missing_item_type__descriptor, k->type,
            SFPERMITS__V1__MISSING_ITEM_TYPE__MISSING_ITEM_TYPE_UNSPECIFIED);
        x->severity = severity(k->severity);
        x->title = S(k->title);
        x->description = S(k->description);
        x->section_ref = S(k->section_ref);
        x->evidence = ARR(a, Sfpermits__V1__MissingItem__EvidenceEntry *, k->n_evidence);
        for (size_t e = 0; e < k->n_evidence; e++) {
            Sfpermits__V1__MissingItem__EvidenceEntry *ev = NEW(
                a, Sfpermits__V1__MissingItem__EvidenceEntry, sfpermits__v1__missing_item__evidence_entry__descriptor);
            ev->key = S(k->evidence[e].key);
            ev->value = S(k->evidence[e].value);
            x->evidence[x->n_evidence++] = ev;
        }
        m->whats_missing[m->n_whats_missing++] = x;
    }

    m->nearby_activity = ARR(a, Sfpermits__V1__NearbyPermit *, r->n_nearby);
    for (size_t i = 0; i < r->n_nearby; i++) {
        const sfp_rpt_nearby *n = &r->nearby[i];
        Sfpermits__V1__NearbyPermit *x = NEW(a, Sfpermits__V1__NearbyPermit, sfpermits__v1__nearby_permit__descriptor);
        x->permit_number = S(n->permit_number);
        x->permit_type_definition = S(n->permit_type_definition);
        x->status = S(n->status);
        x->filed_date = S(n->filed_date);
        x->optional_estimated_cost_case = (n->has_estimated_cost)
                                              ? SFPERMITS__V1__NEARBY_PERMIT__OPTIONAL_ESTIMATED_COST_ESTIMATED_COST
                                              : SFPERMITS__V1__NEARBY_PERMIT__OPTIONAL_ESTIMATED_COST__NOT_SET;
        x->estimated_cost = n->estimated_cost;
        x->description = S(n->description);
        x->street_number = S(n->street_number);
        x->street_name = S(n->street_name);
        x->street_suffix = S(n->street_suffix);
        m->nearby_activity[m->n_nearby_activity++] = x;
    }

    Sfpermits__V1__ReportLinks *links = NEW(a, Sfpermits__V1__ReportLinks, sfpermits__v1__report_links__descriptor);
    links->parcel = sfp_arena_printf(a, "https://sfplanninggis.org/pim/?search=%s%%2F%s", r->block, r->lot);
    m->links = links;

    return m;
}

static Sfpermits__V1__ReadMetadata__SourcesEntry *source_entry(const sfp_rpt_soda_result *r, sfp_rpt_dataset d,
                                                               const char *name, sfp_arena *a)
{
    Sfpermits__V1__ReadMetadata__SourcesEntry *e =
        NEW(a, Sfpermits__V1__ReadMetadata__SourcesEntry, sfpermits__v1__read_metadata__sources_entry__descriptor);
    e->key = (char *)name;
    e->value = source(r, d, a);
    return e;
}

Sfpermits__V1__ReadMetadata *sfp_rpt_assemble_metadata(const sfp_rpt_meta *v, sfp_arena *a)
{
    Sfpermits__V1__ReadMetadata *m = NEW(a, Sfpermits__V1__ReadMetadata, sfpermits__v1__read_metadata__descriptor);
    m->etag = S(v->etag);
    m->max_age_seconds = sfp_rpt_sources_max_age(v->soda, v->soda_needed);
    m->generated_at = S(v->generated_at);
    m->n_sources = 3;
    m->sources = sfp_arena_alloc(a, 3 * sizeof *m->sources);
    m->sources[0] = source_entry(&v->soda[SFP_RPT_DS_COMPLAINTS], SFP_RPT_DS_COMPLAINTS, "complaints", a);
    m->sources[1] = source_entry(&v->soda[SFP_RPT_DS_VIOLATIONS], SFP_RPT_DS_VIOLATIONS, "violations", a);
    m->sources[2] = source_entry(&v->soda[SFP_RPT_DS_TAX_ROLL], SFP_RPT_DS_TAX_ROLL, "tax_roll", a);
    Sfpermits__V1__ReadDebug *dbg = NEW(a, Sfpermits__V1__ReadDebug, sfpermits__v1__read_debug__descriptor);
    dbg->cached = v->cached;
    dbg->sql_queries = v->sql_queries;
    dbg->soda_requests = v->soda_requests;
    dbg->elapsed_ms = v->elapsed_ms;
    m->debug = dbg;
    return m;
}

void sfp_rpt_content_etag(const uint8_t *content, size_t len, char out[SFP_RPT_ETAG_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    XXH128_canonical_t d; /* big-endian bytes: the same digits on every machine */
    XXH128_canonicalFromHash(&d, XXH3_128bits(content, len) /* NULL is fine when len is 0 */);
    _Static_assert(sizeof d.digest * 2 == SFP_RPT_ETAG_LEN, "one hex pair per byte");
    for (size_t i = 0; i < sizeof d.digest; i++) {
        out[2 * i] = hex[d.digest[i] >> 4];
        out[2 * i + 1] = hex[d.digest[i] & 15];
    }
    out[SFP_RPT_ETAG_LEN] = '\0';
}
