/* gw_html_brief.c — see gw_html_brief.h. */
#include "gw_html_brief.h"

#include <stdbool.h>
#include <string.h>

#include "gw_html_common.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"

#define ESC(s) gw_html_esc(b, (s))
#define DASH(s) gw_html_text_or_dash(b, (s))
#define PUTS(s) sfp_buf_puts(b, (s))
/* The REST JSON name of an enum value ("at_risk", "warn"); "" for the unset value 0. The text
 * lives until the end of the enclosing block. */
#define ENAME(desc, v) ((v) ? SFP_PBJSON_ENUM_NAME(&(desc), (v)) : "")

/* The severity v1 tier as the page has always shown it (upper case, "CRITICAL"). */
static const char *tier_text(Sfpermits__V1__SeverityTier t)
{
    switch (t) {
    case SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_CRITICAL: return "CRITICAL";
    case SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_HIGH: return "HIGH";
    case SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_MEDIUM: return "MEDIUM";
    case SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_LOW: return "LOW";
    case SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_GREEN: return "GREEN";
    default: return "";
    }
}

static void th_row(sfp_buf *b, const char *const *cols)
{
    PUTS("<thead><tr>");
    for (size_t i = 0; cols[i]; i++) {
        PUTS("<th scope=\"col\">");
        ESC(cols[i]);
        PUTS("</th>");
    }
    PUTS("</tr></thead><tbody>\n");
}

static void td(sfp_buf *b, const char *s)
{
    PUTS("<td>");
    DASH(s);
    PUTS("</td>");
}

static void permit_td(sfp_buf *b, const char *pn)
{
    PUTS("<td>");
    if (pn && *pn) {
        PUTS("<a href=\"/?q=");
        gw_html_url_q(b, pn);
        PUTS("\">");
        ESC(pn);
        PUTS("</a>");
    } else {
        DASH(pn);
    }
    PUTS("</td>");
}

static void addr_td(sfp_buf *b, const char *num, const char *street)
{
    PUTS("<td>");
    if ((num && *num) || (street && *street)) {
        ESC(num);
        if (num && *num && street && *street) PUTS(" ");
        ESC(street);
    } else {
        DASH("");
    }
    PUTS("</td>");
}

/* Section heading + empty text, or the opening of its table. Returns true when rows follow. */
static bool section(sfp_buf *b, const char *id, const char *title, size_t n, const char *empty, const char *const *cols)
{
    sfp_buf_printf(b, "<section aria-labelledby=\"%s-h\">\n<h2 id=\"%s-h\">", id, id);
    ESC(title);
    sfp_buf_printf(b, " <span class=\"count\">(%zu)</span></h2>\n", n);
    if (!n) {
        PUTS("<p class=\"empty\">");
        ESC(empty);
        PUTS("</p>\n</section>\n");
        return false;
    }
    sfp_buf_printf(b, "<div class=\"scroll\" role=\"region\" aria-labelledby=\"%s-h\" tabindex=\"0\"><table>\n", id);
    th_row(b, cols);
    return true;
}

static void section_end(sfp_buf *b)
{
    PUTS("</tbody></table></div>\n</section>\n");
}

static void tabs(sfp_buf *b, int current)
{
    static const int days[] = GW_BRIEF_TABS;
    PUTS("<nav class=\"tabs\" aria-label=\"Lookback\"><ul>");
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        sfp_buf_printf(b, "<li><a href=\"/brief?lookback=%d\"%s>", days[i],
                       days[i] == current ? " aria-current=\"page\"" : "");
        if (days[i] == 1) PUTS("Today");
        else sfp_buf_printf(b, "%d days", days[i]);
        PUTS("</a></li>");
    }
    PUTS("</ul></nav>\n");
}

static void summary(sfp_buf *b, const Sfpermits__V1__BriefSummary *s)
{
    if (!s) return;
    const struct {
        const char *label;
        int v;
    } items[] = {{"Watches", s->total_watches},
                 {"Properties", s->total_properties},
                 {"Changes", s->changes_count},
                 {"Plan reviews", s->plan_reviews_count},
                 {"Inspections", s->inspections_count},
                 {"New filings", s->new_filings_count},
                 {"Expiring", s->expiring_count},
                 {"At risk", s->at_risk_count},
                 {"With enforcement", s->enforcement_count}};
    PUTS("<section aria-labelledby=\"summary-h\"><h2 id=\"summary-h\">Summary</h2>\n<dl class=\"stats\">");
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        sfp_buf_printf(b, "<div><dt>%s</dt><dd>%d</dd></div>", items[i].label, items[i].v);
    PUTS("</dl></section>\n");
}

static void property_health(sfp_buf *b, const Sfpermits__V1__Brief *r)
{
    PUTS("<section aria-labelledby=\"props-h\">\n<h2 id=\"props-h\">Watched properties");
    sfp_buf_printf(b, " <span class=\"count\">(%zu)</span></h2>\n", r->n_property_health);
    if (!r->n_property_health) {
        PUTS("<p class=\"empty\">No watched properties.</p>\n</section>\n");
        return;
    }
    PUTS("<ul class=\"cards\">\n");
    for (size_t i = 0; i < r->n_property_health; i++) {
        const Sfpermits__V1__BriefPropertyHealth *p = r->property_health[i];
        PUTS("<li class=\"card\"><h3>");
        if (p->block && *p->block && p->lot && *p->lot) {
            PUTS("<a href=\"/report/");
            gw_html_url_q(b, p->block);
            PUTS("/");
            gw_html_url_q(b, p->lot);
            PUTS("\">");
            DASH(p->address);
            PUTS("</a>");
        } else {
            DASH(p->address);
        }
        const char *health = ENAME(sfpermits__v1__card_health__descriptor, p->health);
        PUTS("</h3>\n<p><span class=\"badge h-");
        ESC(health);
        PUTS("\">");
        DASH(health);
        PUTS("</span> ");
        ESC(p->health_reason);
        PUTS("</p>\n<dl class=\"kv\">");
        PUTS("<div><dt>Label</dt><dd>");
        DASH(p->label);
        PUTS("</dd></div><div><dt>Block/lot</dt><dd>");
        ESC(p->block);
        PUTS("/");
        ESC(p->lot);
        PUTS("</dd></div><div><dt>Neighborhood</dt><dd>");
        DASH(p->neighborhood);
        sfp_buf_printf(b, "</dd></div><div><dt>Permits</dt><dd>%d (%d active)</dd></div>", p->total_permits,
                       p->active_permits);
        PUTS("<div><dt>Latest permit</dt><dd>");
        DASH(p->latest_permit);
        if (p->latest_permit_status && *p->latest_permit_status) {
            PUTS(" (");
            ESC(p->latest_permit_status);
            PUTS(")");
        }
        PUTS("</dd></div><div><dt>Latest activity</dt><dd>");
        DASH(p->latest_activity);
        if (p->optional_days_since_activity_case) sfp_buf_printf(b, " (%d days ago)", p->days_since_activity);
        sfp_buf_printf(b,
                       "</dd></div><div><dt>Open complaints</dt><dd>%d</dd></div>"
                       "<div><dt>Open violations</dt><dd>%d</dd></div>",
                       p->open_complaints, p->open_violations);
        if (p->optional_severity_score_case) {
            sfp_buf_printf(b, "<div><dt>Severity</dt><dd>%d ", p->severity_score);
            ESC(tier_text(p->severity_tier));
            PUTS("</dd></div>");
        }
        PUTS("</dl>\n");
        if (p->n_signals) {
            PUTS("<ul class=\"signals\">");
            for (size_t k = 0; k < p->n_signals; k++) {
                const Sfpermits__V1__BriefHealthSignal *s = p->signals[k];
                PUTS("<li><strong>");
                ESC(s->severity);
                PUTS("</strong> ");
                ESC(s->type);
                if (s->permit && *s->permit) {
                    PUTS(" (");
                    ESC(s->permit);
                    PUTS(")");
                }
                PUTS(": ");
                ESC(s->detail);
                PUTS("</li>");
            }
            PUTS("</ul>\n");
        }
        PUTS("</li>\n");
    }
    PUTS("</ul>\n</section>\n");
}

static void pipeline(sfp_buf *b, const Sfpermits__V1__Brief *r)
{
    PUTS("<section aria-labelledby=\"pipe-h\">\n<h2 id=\"pipe-h\">Data pipeline</h2>\n<dl class=\"kv\">");
    if (r->last_refresh) {
        const Sfpermits__V1__BriefLastRefresh *l = r->last_refresh;
        PUTS("<div><dt>Last nightly refresh</dt><dd>");
        ESC(l->last_success);
        sfp_buf_printf(b, " (%.1f h ago%s%s)</dd></div>", l->hours_ago, l->is_stale ? ", stale" : "",
                       l->was_catchup ? ", catch-up" : "");
        sfp_buf_printf(b, "<div><dt>Changes detected (24 h)</dt><dd>%lld</dd></div>", (long long)l->changes_detected);
        if (l->optional_inspections_updated_case)
            sfp_buf_printf(b, "<div><dt>Inspections updated</dt><dd>%lld</dd></div>",
                           (long long)l->inspections_updated);
    } else {
        PUTS("<div><dt>Last nightly refresh</dt><dd>none recorded</dd></div>");
    }
    if (r->pipeline_health) {
        PUTS("<div><dt>Pipeline health</dt><dd>");
        DASH(ENAME(sfpermits__v1__pipeline_status__descriptor, r->pipeline_health->status));
        PUTS("</dd></div>");
    }
    if (r->pipeline_stats) {
        const Sfpermits__V1__PipelineStats *s = r->pipeline_stats;
        sfp_buf_printf(b, "<div><dt>Jobs in the last 24 h</dt><dd>%lld (%lld succeeded, %lld failed)</dd></div>",
                       (long long)s->last_24h_jobs, (long long)s->last_24h_success, (long long)s->last_24h_failed);
        if (s->optional_avg_duration_seconds_case)
            sfp_buf_printf(b, "<div><dt>Average nightly duration</dt><dd>%.2f s</dd></div>", s->avg_duration_seconds);
    }
    PUTS("</dl>\n");
    if (r->pipeline_health && r->pipeline_health->n_checks) {
        PUTS("<div class=\"scroll\" role=\"region\" aria-label=\"Pipeline checks\" tabindex=\"0\"><table>"
             "<caption>Pipeline checks</caption>");
        static const char *const cols[] = {"Check", "Status", "Message", NULL};
        th_row(b, cols);
        for (size_t i = 0; i < r->pipeline_health->n_checks; i++) {
            const Sfpermits__V1__PipelineCheck *c = r->pipeline_health->checks[i];
            PUTS("<tr>");
            td(b, c->name);
            td(b, ENAME(sfpermits__v1__pipeline_status__descriptor, c->status));
            td(b, c->message);
            PUTS("</tr>\n");
        }
        PUTS("</tbody></table></div>\n");
    }
    if (r->pipeline_stats && r->pipeline_stats->n_recent_jobs) {
        PUTS("<div class=\"scroll\" role=\"region\" aria-label=\"Recent nightly jobs\" tabindex=\"0\"><table>"
             "<caption>Recent nightly jobs</caption>");
        static const char *const cols[] = {"Job", "Status", "Started", "Completed", "Seconds", NULL};
        th_row(b, cols);
        for (size_t i = 0; i < r->pipeline_stats->n_recent_jobs; i++) {
            const Sfpermits__V1__PipelineJob *j = r->pipeline_stats->recent_jobs[i];
            PUTS("<tr>");
            td(b, j->job_type);
            td(b, j->status ? SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, j->status) : "");
            td(b, j->started_at);
            td(b, j->completed_at);
            if (j->optional_elapsed_seconds_case) sfp_buf_printf(b, "<td>%.2f</td>", j->elapsed_seconds);
            else td(b, "");
            PUTS("</tr>\n");
        }
        PUTS("</tbody></table></div>\n");
    }
    PUTS("</section>\n");
}

char *gw_html_brief_page(const Sfpermits__V1__Brief *r, const Sfpermits__V1__ReadMetadata *md, const char *notice,
                         size_t *len)
{
    sfp_buf buf, *b = &buf;
    sfp_buf_init(b);
    gw_html_open(b, "Morning brief", "/brief");
    PUTS("<div class=\"titlebar\"><h1>Morning brief</h1>\n"
         "<form method=\"post\" action=\"/brief/sign-out\"><button type=\"submit\" class=\"secondary\">Sign out"
         "</button></form></div>\n");
    tabs(b, r->lookback_days);
    PUTS("<p class=\"meta\">Changes since ");
    DASH(r->since);
    PUTS(" \xc2\xb7 computed ");
    DASH(md ? md->generated_at : NULL);
    if (md && md->debug && md->debug->cached) PUTS(" (from cache)");
    PUTS("</p>\n");
    sfp_buf_printf(b,
                   "<form method=\"post\" action=\"/brief/refresh\" class=\"refresh\">"
                   "<input type=\"hidden\" name=\"lookback\" value=\"%d\">"
                   "<button type=\"submit\">Refresh now</button></form>\n",
                   r->lookback_days);
    if (notice) {
        PUTS("<p class=\"notice\" role=\"status\">");
        ESC(notice);
        PUTS("</p>\n");
    }
    for (size_t i = 0; i < r->n_warnings; i++) {
        PUTS("<p class=\"notice warn\" role=\"status\">Section ");
        ESC(r->warnings[i]->section);
        PUTS(" is unavailable: ");
        ESC(r->warnings[i]->message);
        PUTS("</p>\n");
    }
    summary(b, r->summary);

    static const char *const ch_cols[] = {"Permit", "Date", "Change", "From", "To", "Address", "Watch", NULL};
    if (section(b, "changes", "Status changes", r->n_changes, "No status changes on watched permits.", ch_cols)) {
        for (size_t i = 0; i < r->n_changes; i++) {
            const Sfpermits__V1__BriefChange *c = r->changes[i];
            PUTS("<tr>");
            permit_td(b, c->permit_number);
            td(b, c->change_date);
            td(b, c->change_type);
            td(b, c->old_status);
            td(b, c->new_status);
            addr_td(b, c->street_number, c->street_name);
            td(b, c->label);
            PUTS("</tr>\n");
        }
        section_end(b);
    }
    static const char *const pr_cols[] = {"Permit", "Date",    "Station", "Reviewer", "Result",
                                          "Notes",  "Routing", "Next",    NULL};
    if (section(b, "reviews", "Plan reviews", r->n_plan_reviews, "No plan-review activity.", pr_cols)) {
        for (size_t i = 0; i < r->n_plan_reviews; i++) {
            const Sfpermits__V1__BriefPlanReview *p = r->plan_reviews[i];
            PUTS("<tr>");
            permit_td(b, p->permit_number);
            td(b, p->change_date);
            td(b, p->station);
            td(b, p->reviewer);
            td(b, p->result);
            td(b, p->notes);
            if (p->optional_routing_completion_pct_case)
                sfp_buf_printf(b, "<td>%d%% (%d/%d)</td>", p->routing_completion_pct, p->routing_completed_stations,
                               p->routing_total_stations);
            else td(b, "");
            td(b, p->predicted_next);
            PUTS("</tr>\n");
        }
        section_end(b);
    }
    static const char *const in_cols[] = {"Permit", "Date", "Result", "Description", "Inspector", NULL};
    if (section(b, "inspections", "Inspections", r->n_inspections, "No inspections.", in_cols)) {
        for (size_t i = 0; i < r->n_inspections; i++) {
            const Sfpermits__V1__BriefInspection *x = r->inspections[i];
            PUTS("<tr>");
            permit_td(b, x->permit_number);
            td(b, x->date);
            sfp_buf_printf(b, "<td class=\"%s\">", x->is_pass ? "pass" : x->is_fail ? "fail" : "");
            DASH(x->result);
            PUTS("</td>");
            td(b, x->description);
            td(b, x->inspector);
            PUTS("</tr>\n");
        }
        section_end(b);
    }
    static const char *const nf_cols[] = {"Permit", "Date", "Status", "Type", "Address", "Neighborhood", NULL};
    if (section(b, "filings", "New filings", r->n_new_filings, "No new filings.", nf_cols)) {
        for (size_t i = 0; i < r->n_new_filings; i++) {
            const Sfpermits__V1__BriefNewFiling *f = r->new_filings[i];
            PUTS("<tr>");
            permit_td(b, f->permit_number);
            td(b, f->change_date);
            td(b, f->status);
            td(b, f->permit_type);
            addr_td(b, f->street_number, f->street_name);
            td(b, f->neighborhood);
            PUTS("</tr>\n");
        }
        section_end(b);
    }
    static const char *const ex_cols[] = {"Permit", "Issued", "Status", "Address", "Expires in", NULL};
    if (section(b, "expiring", "Expiring permits", r->n_expiring, "No permits close to expiry.", ex_cols)) {
        for (size_t i = 0; i < r->n_expiring; i++) {
            const Sfpermits__V1__BriefExpiringPermit *e = r->expiring[i];
            PUTS("<tr>");
            permit_td(b, e->permit_number);
            td(b, e->issued_date);
            td(b, e->status);
            addr_td(b, e->street_number, e->street_name);
            if (e->is_expired) sfp_buf_printf(b, "<td class=\"fail\">expired %d days ago</td>", -e->expires_in);
            else sfp_buf_printf(b, "<td>%d days</td>", e->expires_in);
            PUTS("</tr>\n");
        }
        section_end(b);
    }
    property_health(b, r);
    pipeline(b, r);
    gw_html_close(b);
    return sfp_buf_steal(b, len);
}

char *gw_html_brief_signin(const char *error, int lookback, size_t *len)
{
    sfp_buf buf, *b = &buf;
    sfp_buf_init(b);
    gw_html_open(b, "Sign in", "/brief");
    PUTS("<h1>Sign in to your morning brief</h1>\n");
    if (error) {
        PUTS("<p class=\"notice error\" role=\"alert\">");
        ESC(error);
        PUTS("</p>\n");
    }
    sfp_buf_printf(b,
                   "<form class=\"signin\" method=\"post\" action=\"/brief/sign-in\">\n"
                   "<label for=\"token\">Access token</label>\n"
                   "<input id=\"token\" name=\"token\" type=\"password\" required maxlength=\"200\" "
                   "autocomplete=\"current-password\">\n"
                   "<input type=\"hidden\" name=\"lookback\" value=\"%d\">\n"
                   "<button type=\"submit\">Sign in</button>\n</form>\n"
                   "<p class=\"hint\">The token is kept in a secure, HttpOnly cookie for this site only; "
                   "sign out to remove it.</p>\n",
                   lookback);
    gw_html_close(b);
    return sfp_buf_steal(b, len);
}

char *gw_html_message_page(const char *title, const char *message, const char *href, const char *label, size_t *len)
{
    sfp_buf buf, *b = &buf;
    sfp_buf_init(b);
    gw_html_open(b, title, NULL);
    PUTS("<h1>");
    ESC(title);
    PUTS("</h1>\n<p class=\"notice\" role=\"status\">");
    ESC(message);
    PUTS("</p>\n");
    if (href) {
        PUTS("<p><a href=\"");
        ESC(href);
        PUTS("\">");
        ESC(label);
        PUTS("</a></p>\n");
    }
    gw_html_close(b);
    return sfp_buf_steal(b, len);
}
