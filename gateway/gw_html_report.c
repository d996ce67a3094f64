/* gw_html_report.c — see gw_html_report.h. */
#include "gw_html_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gw_html_common.h"
#include "pbjson.h"
#include "sfpermits/v1/report.pb-c.h"

/* The REST JSON name of an enum value ("moderate", "live"); "" for the unset value 0. The text
 * lives until the end of the enclosing block. */
#define ENAME(desc, v) ((v) ? SFP_PBJSON_ENUM_NAME(&(desc), (v)) : "")

#define ESC(s) gw_html_esc(b, (s))
#define DASH(s) gw_html_text_or_dash(b, (s))
#define PUTS(s) sfp_buf_puts(b, (s))

static bool blank(const char *s)
{
    return !s || !*s;
}

static void kv(sfp_buf *b, const char *k, const char *v)
{
    PUTS("<div><dt>");
    ESC(k);
    PUTS("</dt><dd>");
    DASH(v);
    PUTS("</dd></div>");
}

static void section_open(sfp_buf *b, const char *id, const char *title, long count)
{
    sfp_buf_printf(b, "<section id=\"%s\" aria-labelledby=\"%s-h\">\n<h2 id=\"%s-h\">", id, id, id);
    ESC(title);
    if (count >= 0) sfp_buf_printf(b, " <span class=\"count\">(%ld)</span>", count);
    PUTS("</h2>\n");
}

static void th(sfp_buf *b, const char *const *cols)
{
    PUTS("<thead><tr>");
    for (size_t i = 0; cols[i]; i++) {
        PUTS("<th scope=\"col\">");
        ESC(cols[i]);
        PUTS("</th>");
    }
    PUTS("</tr></thead>\n<tbody>\n");
}

static void td(sfp_buf *b, const char *s)
{
    PUTS("<td>");
    DASH(s);
    PUTS("</td>");
}

static void date_td(sfp_buf *b, const char *s)
{
    /* SODA floating timestamps: the date part is what matters */
    PUTS("<td>");
    if (blank(s)) {
        DASH(s);
    } else {
        char d[11];
        snprintf(d, sizeof d, "%s", s);
        ESC(d);
    }
    PUTS("</td>");
}

static void table_open(sfp_buf *b, const char *label_id, const char *const *cols)
{
    sfp_buf_printf(b, "<div class=\"scroll\" role=\"region\" aria-labelledby=\"%s\" tabindex=\"0\"><table>\n",
                   label_id);
    th(b, cols);
}

static void table_close(sfp_buf *b)
{
    PUTS("</tbody></table></div>\n");
}

static void header(sfp_buf *b, const Sfpermits__V1__PropertyReport *r)
{
    PUTS("<h1>");
    if (!blank(r->address)) ESC(r->address);
    else sfp_buf_printf(b, "Block %s, lot %s", r->block ? r->block : "", r->lot ? r->lot : "");
    PUTS("</h1>\n<p class=\"meta\">Block <strong>");
    ESC(r->block);
    PUTS("</strong>, lot <strong>");
    ESC(r->lot);
    PUTS("</strong>");
    if (r->n_historical_lots > 1) {
        PUTS(" \xc2\xb7 includes lots ");
        for (size_t i = 0; i < r->n_historical_lots; i++) {
            if (i) PUTS(", ");
            ESC(r->historical_lots[i]);
        }
    }
    if (r->links && !blank(r->links->parcel)) {
        PUTS(" \xc2\xb7 <a href=\"");
        ESC(r->links->parcel);
        PUTS("\" rel=\"noopener noreferrer\">Planning map</a>");
    }
    PUTS("</p>\n");
    PUTS("<nav class=\"toc\" aria-label=\"Sections\"><ul>"
         "<li><a href=\"#profile\">Profile</a></li><li><a href=\"#risk\">Risk</a></li>"
         "<li><a href=\"#complaints\">Complaints</a></li><li><a href=\"#violations\">Violations</a></li>"
         "<li><a href=\"#permits\">Permits</a></li><li><a href=\"#nearby\">Nearby</a></li>"
         "<li><a href=\"#sources\">Sources</a></li></ul></nav>\n");
}

static void profile(sfp_buf *b, const Sfpermits__V1__PropertyReport *r)
{
    section_open(b, "profile", "Property profile", -1);
    const Sfpermits__V1__PropertyProfile *p = r->property_profile;
    if (!p) {
        PUTS("<p class=\"empty\">No assessor record for this parcel.</p>\n</section>\n");
        return;
    }
    PUTS("<dl class=\"kv\">");
    kv(b, "Assessed value", p->assessed_value);
    kv(b, "Zoning", p->zoning);
    kv(b, "Property class", p->property_class);
    kv(b, "Use", p->use_code);
    kv(b, "Neighborhood", p->neighborhood);
    kv(b, "Year built", p->year_built);
    kv(b, "Building area", p->building_area);
    kv(b, "Lot area", p->lot_area);
    kv(b, "Tax year", p->tax_year);
    kv(b, "Source", !strcmp(p->source ? p->source : "", "tax_roll") ? "Assessor tax roll" : p->source);
    PUTS("</dl>\n</section>\n");
}

static void risk(sfp_buf *b, const Sfpermits__V1__PropertyReport *r)
{
    section_open(b, "risk", "Risk assessment", (long)r->n_risk_assessment);
    if (!r->n_risk_assessment) {
        PUTS("<p class=\"empty\">No risk factors found.</p>\n");
    } else {
        PUTS("<ul class=\"risks\">\n");
        for (size_t i = 0; i < r->n_risk_assessment; i++) {
            const Sfpermits__V1__RiskItem *it = r->risk_assessment[i];
            const char *sev = ENAME(sfpermits__v1__severity__descriptor, it->severity);
            PUTS("<li><span class=\"badge sev-");
            ESC(sev);
            PUTS("\">");
            ESC(sev);
            PUTS("</span> <strong>");
            ESC(it->title);
            PUTS("</strong><br>");
            ESC(it->description);
            if (!blank(it->link)) {
                PUTS(" <a href=\"");
                ESC(it->link);
                PUTS("\">More</a>");
            }
            PUTS("</li>\n");
        }
        PUTS("</ul>\n");
    }
    const Sfpermits__V1__ConsultantSignal *c = r->consultant_signal;
    if (c) {
        PUTS("<h3>Consultant signal</h3>\n<p><span class=\"badge\">");
        DASH(ENAME(sfpermits__v1__consultant_tier__descriptor, c->signal));
        sfp_buf_printf(b, "</span> score %d. ", c->score);
        ESC(c->message);
        PUTS("</p>\n");
        if (c->n_factors) {
            PUTS("<ul>");
            for (size_t i = 0; i < c->n_factors; i++) {
                PUTS("<li>");
                ESC(c->factors[i]);
                PUTS("</li>");
            }
            PUTS("</ul>\n");
        }
    }
    if (r->n_whats_missing) {
        PUTS("<h3>What may be missing</h3>\n<ul class=\"risks\">\n");
        for (size_t i = 0; i < r->n_whats_missing; i++) {
            const Sfpermits__V1__MissingItem *m = r->whats_missing[i];
            const char *sev = ENAME(sfpermits__v1__severity__descriptor, m->severity);
            PUTS("<li><span class=\"badge sev-");
            ESC(sev);
            PUTS("\">");
            ESC(sev);
            PUTS("</span> <strong>");
            ESC(m->title);
            PUTS("</strong><br>");
            ESC(m->description);
            if (m->n_evidence) {
                PUTS("<dl class=\"kv small\">");
                for (size_t k = 0; k < m->n_evidence; k++) kv(b, m->evidence[k]->key, m->evidence[k]->value);
                PUTS("</dl>");
            }
            PUTS("</li>\n");
        }
        PUTS("</ul>\n");
    }
    PUTS("</section>\n");
}

static const char *reason_text(const char *reason)
{
    if (blank(reason)) return "the data source did not answer";
    if (!strcmp(reason, "breaker_open")) return "the data source has been failing and is being rested";
    if (!strcmp(reason, "timeout")) return "the data source did not answer in time";
    if (!strcmp(reason, "http_429")) return "the data source is rate limiting us";
    if (!strcmp(reason, "http_5xx")) return "the data source reported an error";
    return "the data source could not be reached";
}

/* Complaints/violations: an unavailable source is said so, never shown as "none". */
static void soda_section(sfp_buf *b, const char *id, const char *title, const char *noun,
                         Sfpermits__V1__SodaRecord *const *recs, size_t n, const Sfpermits__V1__SourceStatus *src)
{
    bool unavailable = src && src->state == SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_UNAVAILABLE;
    section_open(b, id, title, unavailable ? -1 : (long)n);
    if (unavailable) {
        sfp_buf_printf(b,
                       "<p class=\"notice warn degraded\" role=\"status\" data-source=\"%s\"><strong>%s are "
                       "unavailable right now</strong>: ",
                       id, title);
        ESC(reason_text(src->reason));
        sfp_buf_printf(b, ". This does not mean there are no %s; try again in a few minutes.</p>\n", noun);
        PUTS("</section>\n");
        return;
    }
    if (src && src->state == SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_STALE) {
        PUTS("<p class=\"notice warn\" role=\"status\">Showing saved data: ");
        ESC(reason_text(src->reason));
        PUTS(".</p>\n");
    }
    if (!n) {
        sfp_buf_printf(b, "<p class=\"empty\">No %s on record.</p>\n</section>\n", noun);
        return;
    }
    /* columns: the union of the records' keys, in order of first appearance */
    enum { MAX_COLS = 32 };
    const char *cols[MAX_COLS + 1];
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < recs[i]->n_fields && nc < MAX_COLS; k++) {
            const char *key = recs[i]->fields[k]->key;
            bool seen = false;
            for (size_t c = 0; c < nc && !seen; c++) seen = !strcmp(cols[c], key);
            if (!seen) cols[nc++] = key;
        }
    cols[nc] = NULL;
    char label[48];
    snprintf(label, sizeof label, "%s-h", id);
    table_open(b, label, cols);
    for (size_t i = 0; i < n; i++) {
        PUTS("<tr>");
        for (size_t c = 0; c < nc; c++) {
            const char *v = "";
            for (size_t k = 0; k < recs[i]->n_fields; k++)
                if (!strcmp(recs[i]->fields[k]->key, cols[c])) v = recs[i]->fields[k]->value;
            td(b, v);
        }
        PUTS("</tr>\n");
    }
    table_close(b);
    PUTS("</section>\n");
}

static void money_td(sfp_buf *b, bool has, double v)
{
    PUTS("<td class=\"num\">");
    if (has) gw_html_money(b, v);
    else DASH("");
    PUTS("</td>");
}

static void permit_details(sfp_buf *b, const Sfpermits__V1__ReportPermit *p)
{
    sfp_buf_printf(b, "<details><summary>%zu contact%s, %zu inspection%s%s</summary>\n", p->n_contacts,
                   p->n_contacts == 1 ? "" : "s", p->n_inspections, p->n_inspections == 1 ? "" : "s",
                   p->routing ? ", routing" : "");
    PUTS("<dl class=\"kv small\">");
    kv(b, "Type", p->permit_type_definition);
    kv(b, "Status date", p->status_date);
    kv(b, "Approved", p->approved_date);
    kv(b, "Existing use", p->existing_use);
    kv(b, "Proposed use", p->proposed_use);
    if (p->optional_existing_units_case)
        sfp_buf_printf(b, "<div><dt>Existing units</dt><dd>%d</dd></div>", p->existing_units);
    if (p->optional_proposed_units_case)
        sfp_buf_printf(b, "<div><dt>Proposed units</dt><dd>%d</dd></div>", p->proposed_units);
    if (p->optional_revised_cost_case) {
        PUTS("<div><dt>Revised cost</dt><dd>");
        gw_html_money(b, p->revised_cost);
        PUTS("</dd></div>");
    }
    kv(b, "Zip", p->zipcode);
    kv(b, "Supervisor district", p->supervisor_district);
    kv(b, "ADU", p->adu);
    kv(b, "Data as of", p->data_as_of);
    PUTS("</dl>\n");
    if (p->n_contacts) {
        PUTS(
            "<table class=\"inner\"><caption>Contacts</caption><thead><tr><th scope=\"col\">Role</th>"
            "<th scope=\"col\">Name</th><th scope=\"col\">Firm</th><th scope=\"col\">Permits</th></tr></thead><tbody>");
        for (size_t i = 0; i < p->n_contacts; i++) {
            const Sfpermits__V1__PermitContact *c = p->contacts[i];
            PUTS("<tr>");
            td(b, c->role);
            td(b, !blank(c->canonical_name) ? c->canonical_name : c->name);
            td(b, !blank(c->canonical_firm) ? c->canonical_firm : c->firm_name);
            if (c->optional_permit_count_case) sfp_buf_printf(b, "<td class=\"num\">%d</td>", c->permit_count);
            else td(b, "");
            PUTS("</tr>");
        }
        PUTS("</tbody></table>\n");
    }
    if (p->n_inspections) {
        PUTS("<table class=\"inner\"><caption>Inspections</caption><thead><tr><th scope=\"col\">Date</th>"
             "<th scope=\"col\">Result</th><th scope=\"col\">Description</th><th scope=\"col\">Inspector</th>"
             "</tr></thead><tbody>");
        for (size_t i = 0; i < p->n_inspections; i++) {
            const Sfpermits__V1__PermitInspection *x = p->inspections[i];
            PUTS("<tr>");
            date_td(b, x->scheduled_date);
            td(b, x->result);
            td(b, x->description);
            td(b, x->inspector);
            PUTS("</tr>");
        }
        PUTS("</tbody></table>\n");
    }
    const Sfpermits__V1__RoutingProgress *rt = p->routing;
    if (rt) {
        sfp_buf_printf(b,
                       "<p><strong>Plan review</strong> (revision %d): %d of %d stations done (%d%%), %d approved, "
                       "%d with comments, %d pending.",
                       rt->addenda_number, rt->completed, rt->total, rt->pct, rt->approved, rt->comments, rt->pending);
        if (rt->is_all_clear) PUTS(" All clear.");
        PUTS("</p>\n");
        if (rt->n_pending_stations) {
            PUTS("<p>Pending: ");
            for (size_t i = 0; i < rt->n_pending_stations; i++) {
                if (i) PUTS(", ");
                ESC(rt->pending_stations[i]);
            }
            PUTS("</p>\n");
        }
        if (rt->n_stalled) {
            PUTS("<p>Stalled: ");
            for (size_t i = 0; i < rt->n_stalled; i++) {
                if (i) PUTS(", ");
                ESC(rt->stalled[i]->station);
                sfp_buf_printf(b, " (%d days)", rt->stalled[i]->days);
            }
            PUTS("</p>\n");
        }
        if (rt->n_held_stations) {
            PUTS("<p>On hold: ");
            for (size_t i = 0; i < rt->n_held_stations; i++) {
                if (i) PUTS(", ");
                ESC(rt->held_stations[i]);
            }
            PUTS("</p>\n");
        }
        if (rt->latest) {
            PUTS("<p>Latest: ");
            ESC(rt->latest->station);
            PUTS(" ");
            ESC(rt->latest->result);
            PUTS(" on ");
            ESC(rt->latest->date);
            PUTS("</p>\n");
        }
    }
    PUTS("</details>");
}

static void permits(sfp_buf *b, const Sfpermits__V1__PropertyReport *r)
{
    section_open(b, "permits", "Permit history", (long)r->total_permits);
    if (!r->n_permits) {
        PUTS("<p class=\"empty\">No permits on record.</p>\n</section>\n");
        return;
    }
    if (r->truncated)
        sfp_buf_printf(b, "<p class=\"meta\">Showing the newest %zu of %d permits.</p>\n", r->n_permits,
                       r->total_permits);
    static const char *const cols[] = {"Permit", "Status", "Filed",       "Issued",  "Completed",
                                       "Cost",   "Type",   "Description", "Details", NULL};
    table_open(b, "permits-h", cols);
    for (size_t i = 0; i < r->n_permits; i++) {
        const Sfpermits__V1__ReportPermit *p = r->permits[i];
        PUTS("<tr class=\"permit\" id=\"permit-");
        ESC(p->permit_number);
        PUTS("\"><th scope=\"row\">");
        if (!blank(p->link)) {
            PUTS("<a href=\"");
            ESC(p->link);
            PUTS("\">");
            ESC(p->permit_number);
            PUTS("</a>");
        } else {
            DASH(p->permit_number);
        }
        PUTS("</th>");
        td(b, p->status);
        date_td(b, p->filed_date);
        date_td(b, p->issued_date);
        date_td(b, p->completed_date);
        money_td(b, p->optional_estimated_cost_case, p->estimated_cost);
        td(b, p->permit_type);
        td(b, p->description);
        PUTS("<td>");
        permit_details(b, p);
        PUTS("</td></tr>\n");
    }
    table_close(b);
    PUTS("</section>\n");
}

static void nearby(sfp_buf *b, const Sfpermits__V1__PropertyReport *r)
{
    section_open(b, "nearby", "Nearby activity", (long)r->n_nearby_activity);
    if (!r->n_nearby_activity) {
        PUTS("<p class=\"empty\">No recent permits nearby.</p>\n</section>\n");
        return;
    }
    static const char *const cols[] = {"Permit", "Address", "Type", "Status", "Filed", "Cost", "Description", NULL};
    table_open(b, "nearby-h", cols);
    for (size_t i = 0; i < r->n_nearby_activity; i++) {
        const Sfpermits__V1__NearbyPermit *n = r->nearby_activity[i];
        PUTS("<tr>");
        PUTS("<td><a href=\"/?q=");
        gw_html_url_q(b, n->permit_number);
        PUTS("\">");
        ESC(n->permit_number);
        PUTS("</a></td><td>");
        ESC(n->street_number);
        PUTS(" ");
        ESC(n->street_name);
        PUTS(" ");
        ESC(n->street_suffix);
        PUTS("</td>");
        td(b, n->permit_type_definition);
        td(b, n->status);
        date_td(b, n->filed_date);
        money_td(b, n->optional_estimated_cost_case, n->estimated_cost);
        td(b, n->description);
        PUTS("</tr>\n");
    }
    table_close(b);
    PUTS("</section>\n");
}

/* The metadata's source named `name`; NULL when absent (md may be NULL). */
static const Sfpermits__V1__SourceStatus *source_of(const Sfpermits__V1__ReadMetadata *md, const char *name)
{
    for (size_t i = 0; md && i < md->n_sources; i++)
        if (md->sources[i] && md->sources[i]->key && !strcmp(md->sources[i]->key, name)) return md->sources[i]->value;
    return NULL;
}

static void source_row(sfp_buf *b, const char *name, const Sfpermits__V1__SourceStatus *s)
{
    PUTS("<tr><th scope=\"row\">");
    ESC(name);
    PUTS("</th>");
    if (!s) {
        td(b, "");
        td(b, "");
        td(b, "");
        td(b, "");
        PUTS("</tr>\n");
        return;
    }
    td(b, s->dataset);
    const char *state = ENAME(sfpermits__v1__source_state__descriptor, s->state);
    sfp_buf_printf(b, "<td><span class=\"badge src-%s\">", state);
    DASH(state);
    PUTS("</span>");
    if (!blank(s->reason)) {
        PUTS(" (");
        ESC(s->reason);
        PUTS(")");
    }
    PUTS("</td>");
    sfp_buf_printf(b, "<td class=\"num\">%d</td>", s->records);
    PUTS("<td>");
    if (s->optional_age_seconds_case) {
        double a = s->age_seconds;
        if (a < 1) PUTS("just fetched");
        else if (a < 120) sfp_buf_printf(b, "%.0f s old", a);
        else sfp_buf_printf(b, "%.0f min old", a / 60);
    } else {
        DASH("");
    }
    PUTS("</td></tr>\n");
}

static void sources(sfp_buf *b, const Sfpermits__V1__ReadMetadata *md)
{
    section_open(b, "sources", "Data sources", -1);
    PUTS("<p>Permits, contacts, inspections and plan review come from the local copy of DataSF, refreshed "
         "nightly. Complaints, violations and the tax roll are fetched live from DataSF (SODA) and cached "
         "for up to 15 minutes.</p>\n");
    static const char *const cols[] = {"Section", "Dataset", "State", "Records", "Freshness", NULL};
    table_open(b, "sources-h", cols);
    source_row(b, "Complaints", source_of(md, "complaints"));
    source_row(b, "Violations", source_of(md, "violations"));
    source_row(b, "Tax roll", source_of(md, "tax_roll"));
    table_close(b);
    PUTS("<p class=\"meta\">Report assembled ");
    DASH(md ? md->generated_at : NULL);
    if (md && md->debug && md->debug->cached) PUTS(" (served from the report cache)");
    PUTS(".</p>\n</section>\n");
}

char *gw_html_report_page(const Sfpermits__V1__PropertyReport *r, const Sfpermits__V1__ReadMetadata *md, size_t *len)
{
    sfp_buf buf, *b = &buf;
    sfp_buf_init(b);
    char title[128];
    if (!blank(r->address))
        snprintf(title, sizeof title, "%s (%s/%s)", r->address, r->block ? r->block : "", r->lot ? r->lot : "");
    else snprintf(title, sizeof title, "Block %s, lot %s", r->block ? r->block : "", r->lot ? r->lot : "");
    gw_html_open(b, title, NULL);
    header(b, r);
    profile(b, r);
    risk(b, r);
    soda_section(b, "complaints", "Complaints", "complaints", r->complaints, r->n_complaints,
                 source_of(md, "complaints"));
    soda_section(b, "violations", "Violations", "violations", r->violations, r->n_violations,
                 source_of(md, "violations"));
    permits(b, r);
    nearby(b, r);
    sources(b, md);
    gw_html_close(b);
    return sfp_buf_steal(b, len);
}
