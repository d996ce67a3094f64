#include "report_risk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_status.h"
#include "report_text.h"

#define HIGH_COST 500000.0
#define MODERATE_COST 100000.0
#define AGING_WINDOW_DAYS 90
#define TURNOVER_MIN 5

typedef struct risk_list {
    sfp_rpt_risk *items;
    size_t n, cap;
    sfp_arena *a;
} risk_list;

static void add(risk_list *l, sfp_rpt_severity sev, const char *type, const char *title, const char *desc,
                const char *section, const char *link)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        sfp_rpt_risk *n = sfp_arena_alloc(l->a, sizeof *n * cap);
        if (l->n) memcpy(n, l->items, sizeof *n * l->n);
        l->items = n;
        l->cap = cap;
    }
    l->items[l->n++] = (sfp_rpt_risk){sev, type, title, desc ? desc : "", section, link ? link : ""};
}

static const char *q_link(sfp_arena *a, const char *id)
{
    if (sfp_rpt_blank(id)) return "";
    return sfp_arena_printf(a, "/?q=%s", sfp_rpt_urlencode_plus(a, id));
}

/* ---- shared helpers ---- */

int32_t sfp_rpt_validity_days(const sfp_rpt_permit *p)
{
    if (sfp_rpt_contains_ci(p->permit_type_definition, "demolition")) return 180;
    double cost = 0;
    if (p->has_revised_cost && p->revised_cost != 0) cost = p->revised_cost;
    else if (p->has_estimated_cost && p->estimated_cost != 0) cost = p->estimated_cost;
    if (cost >= 2500000.0) return 1440;
    if (cost >= 100001.0) return 1080;
    return 360;
}

const char *sfp_rpt_restrictive_zoning(const char *zoning)
{
    char z[32];
    sfp_rpt_upper_trim(zoning, z, sizeof z);
    if (!strcmp(z, "RH-1"))
        return "RH-1 (Residential, House, One-Family) allows one dwelling per lot, plus an accessory dwelling unit "
               "only under the ADU rules. Additions face rear-yard, height and neighbourhood-notification "
               "requirements (Planning Code §311), and adding units or changing use gets close Planning review.";
    if (!strcmp(z, "RH-1(D)") || !strcmp(z, "RH-1D"))
        return "RH-1(D) (Residential, House, One-Family, Detached) is the most restrictive residential district: "
               "detached single-family houses with required side yards. Expansions, lot changes and new units are "
               "tightly limited and usually need neighbourhood notification.";
    if (!strcmp(z, "RH-1(S)") || !strcmp(z, "RH-1S"))
        return "RH-1(S) (Residential, House, One-Family with a minor second unit) allows one house plus a small "
               "secondary unit whose size is capped; changes to either unit or its use get close Planning review.";
    return NULL;
}

unsigned sfp_rpt_permit_concepts(const char *def)
{
    unsigned c = 0;
    if (sfp_rpt_contains_ci(def, "addition") || sfp_rpt_contains_ci(def, "alteration") ||
        sfp_rpt_contains_ci(def, "renovation") || sfp_rpt_contains_ci(def, "remodel"))
        c |= SFP_RPT_CONCEPT_EXPIRATION;
    if (sfp_rpt_contains_ci(def, "demolition")) c |= SFP_RPT_CONCEPT_EXPIRATION | SFP_RPT_CONCEPT_ENFORCEMENT;
    if (sfp_rpt_contains_ci(def, "new construction")) c |= SFP_RPT_CONCEPT_EXPIRATION | SFP_RPT_CONCEPT_REQUIREMENTS;
    if (sfp_rpt_has_word_ci(def, "adu") || sfp_rpt_contains_ci(def, "accessory dwelling"))
        c |= SFP_RPT_CONCEPT_REQUIREMENTS;
    return c;
}

static unsigned concept_bit(const char *name)
{
    char s[48];
    sfp_rpt_lower_trim(name, s, sizeof s);
    if (!strcmp(s, "permit_expiration")) return SFP_RPT_CONCEPT_EXPIRATION;
    if (!strcmp(s, "enforcement")) return SFP_RPT_CONCEPT_ENFORCEMENT;
    if (!strcmp(s, "permit_requirements")) return SFP_RPT_CONCEPT_REQUIREMENTS;
    return 0;
}

/* ---- rules ---- */

static void rule_complaints(const sfp_rpt_risk_input *in, risk_list *l)
{
    for (size_t i = 0; i < in->n_complaints; i++) {
        const sfp_rpt_rec *c = &in->complaints[i];
        const char *status = sfp_rpt_rec_first(c, SFP_RPT_STATUS_KEYS);
        if (!sfp_rpt_is_active_complaint(status)) continue;
        const char *num = sfp_rpt_rec_first(c, SFP_RPT_COMPLAINT_NUMBER_KEYS);
        const char *what = sfp_rpt_rec_first(c, SFP_RPT_COMPLAINT_DESC_KEYS);
        const char *filed = sfp_rpt_rec_first(c, SFP_RPT_DATE_FILED_KEYS);
        const char *title = sfp_arena_printf(l->a, "Active DBI complaint — %s", *what ? what : "complaint on file");
        const char *desc = sfp_arena_printf(
            l->a,
            "Complaint%s%s%s%.10s is %s. An open complaint can hold up new permits and final sign-offs; "
            "respond to it before starting work.",
            *num ? " " : "", num, *filed ? " filed " : "", filed, status);
        add(l, SFP_SEV_HIGH, "active_complaint", title, desc, "complaints", q_link(l->a, num));
    }
}

static void rule_violations(const sfp_rpt_risk_input *in, risk_list *l)
{
    for (size_t i = 0; i < in->n_violations; i++) {
        const sfp_rpt_rec *v = &in->violations[i];
        const char *status = sfp_rpt_rec_first(v, SFP_RPT_STATUS_KEYS);
        if (!sfp_rpt_is_active_violation(status)) continue;
        const char *id = sfp_rpt_rec_first(v, SFP_RPT_VIOLATION_ID_KEYS);
        const char *what = sfp_rpt_rec_first(v, SFP_RPT_VIOLATION_DESC_KEYS);
        const char *filed = sfp_rpt_rec_first(v, SFP_RPT_DATE_FILED_KEYS);
        const char *title =
            sfp_arena_printf(l->a, "Active notice of violation — %s", *what ? what : "violation on file");
        const char *desc = sfp_arena_printf(
            l->a,
            "Notice of violation%s%s%s%.10s is %s. Violations must be corrected (usually under a permit) and "
            "abated before other work is signed off.",
            *id ? " " : "", id, *filed ? " filed " : "", filed, status);
        add(l, SFP_SEV_HIGH, "active_violation", title, desc, "violations", "");
    }
}

static void rule_costs(const sfp_rpt_risk_input *in, risk_list *l)
{
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (!p->has_estimated_cost) continue;
        char money[48];
        sfp_rpt_fmt_money(p->estimated_cost, money, sizeof money);
        if (p->estimated_cost > HIGH_COST) {
            add(l, SFP_SEV_MODERATE, "high_cost_project", sfp_arena_printf(l->a, "High-value project — %s", money),
                sfp_arena_printf(l->a,
                                 "Permit %s is valued at %s. Projects over $500,000 get full plan review by several "
                                 "departments, more inspections and longer timelines.",
                                 p->permit_number, money),
                "permits", q_link(l->a, p->permit_number));
        } else if (p->estimated_cost > MODERATE_COST) {
            add(l, SFP_SEV_LOW, "moderate_cost_project", sfp_arena_printf(l->a, "Moderate-value project — %s", money),
                sfp_arena_printf(l->a,
                                 "Permit %s is valued at %s. Projects over $100,000 usually need plan review "
                                 "rather than over-the-counter approval.",
                                 p->permit_number, money),
                "permits", q_link(l->a, p->permit_number));
        }
    }
}

static void rule_multiple_active(const sfp_rpt_risk_input *in, risk_list *l)
{
    size_t n = 0;
    for (size_t i = 0; i < in->n_permits; i++) n += sfp_permit_in(in->permits[i].status, SFP_PERMITS_ON_CLOCK);
    if (n > 1)
        add(l, SFP_SEV_LOW, "multiple_active_permits", sfp_arena_printf(l->a, "%zu active permits on this parcel", n),
            "Several open permits on one parcel can overlap in scope, inspections and sign-offs; make sure they are "
            "coordinated and none is left to expire.",
            "permits", "");
}

static void rule_zoning(const sfp_rpt_risk_input *in, risk_list *l)
{
    if (!in->property || !in->property->present) return;
    const char *why = sfp_rpt_restrictive_zoning(in->property->zoning_code);
    if (!why) return;
    char z[32];
    sfp_rpt_upper_trim(in->property->zoning_code, z, sizeof z);
    add(l, SFP_SEV_LOW, "restrictive_zoning", sfp_arena_printf(l->a, "Restrictive zoning — %s", z), why,
        "property_profile", "");
}

static void rule_expiration(const sfp_rpt_risk_input *in, risk_list *l)
{
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (!sfp_permit_in(p->status, SFP_PERMITS_ON_CLOCK) || !sfp_rpt_blank(p->completed_date)) continue;
        const char *ref = !sfp_rpt_blank(p->issued_date) ? p->issued_date : p->filed_date;
        const char *what = !sfp_rpt_blank(p->issued_date) ? "issued" : "filed";
        int32_t day;
        if (sfp_parse_iso_day(ref, &day)) continue;
        int32_t age = in->today - day, validity = sfp_rpt_validity_days(p);
        if (age > validity) {
            add(l, SFP_SEV_MODERATE, "dormant_permit",
                sfp_arena_printf(l->a, "Permit may have expired — %s", p->permit_number),
                sfp_arena_printf(l->a,
                                 "Permit %s (%s) was %s %.10s, %d days ago; its validity under Table B (SFBC "
                                 "106A.4.4) is %d days. Work under an expired permit needs a renewal or a new permit.",
                                 p->permit_number, p->status, what, ref, (int)age, (int)validity),
                "permits", q_link(l->a, p->permit_number));
        } else if (age > validity - AGING_WINDOW_DAYS) {
            add(l, SFP_SEV_LOW, "aging_permit",
                sfp_arena_printf(l->a, "Permit nearing expiration — %s (%d days left)", p->permit_number,
                                 (int)(validity - age)),
                sfp_arena_printf(l->a,
                                 "Permit %s (%s) was %s %.10s, %d days ago; its validity under Table B (SFBC "
                                 "106A.4.4) is %d days. Finish the work or request an extension before it lapses.",
                                 p->permit_number, p->status, what, ref, (int)age, (int)validity),
                "permits", q_link(l->a, p->permit_number));
        }
    }
}

static int cmp_int(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static void rule_units(const sfp_rpt_risk_input *in, risk_list *l)
{
    int32_t *u = sfp_arena_alloc(l->a, sizeof *u * (in->n_permits + 1));
    size_t n = 0;
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (!p->has_existing_units || p->existing_units <= 0) continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++) seen = u[k] == p->existing_units;
        if (!seen) u[n++] = p->existing_units;
    }
    if (n < 2) return;
    qsort(u, n, sizeof *u, cmp_int);
    char list[256];
    size_t len = 0;
    for (size_t k = 0; k < n && len < sizeof list - 16; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", k ? ", " : "", (int)u[k]);
    add(l, SFP_SEV_MODERATE, "unit_count_ambiguity",
        sfp_arena_printf(l->a, "Permits disagree on the unit count (%s)", list),
        "Permits on file list different numbers of existing dwelling units. The legal unit count may need to be "
        "established (e.g. a 3-R report) before new work or a sale.",
        "permits", "");
}

static void rule_turnover(const sfp_rpt_risk_input *in, risk_list *l)
{
    size_t cap = 0;
    for (size_t i = 0; i < in->n_permits; i++) cap += in->permits[i].n_contacts;
    if (!cap) return;
    char **names = sfp_arena_alloc(l->a, sizeof(char *) * cap);
    size_t n = 0;
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        for (size_t k = 0; k < p->n_contacts; k++) {
            const sfp_rpt_contact *c = &p->contacts[k];
            if (!sfp_rpt_eq_ci_trim(c->role, "contractor") && !sfp_rpt_eq_ci_trim(c->role, "agent")) continue;
            if (sfp_rpt_blank(c->name)) continue;
            char up[160];
            sfp_rpt_upper_trim(c->name, up, sizeof up);
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++) seen = !strcmp(names[j], up);
            if (!seen) names[n++] = sfp_arena_strdup(l->a, up);
        }
    }
    if (n >= TURNOVER_MIN)
        add(l, SFP_SEV_LOW, "high_contractor_turnover",
            sfp_arena_printf(l->a, "High contractor turnover — %zu different contractors or agents", n),
            "Many different contractors and agents have worked on this parcel's permits; check that earlier work was "
            "finished and signed off.",
            "permits", "");
}

static void rule_regulation(const sfp_rpt_risk_input *in, risk_list *l)
{
    unsigned concepts = 0;
    for (size_t i = 0; i < in->n_permits; i++)
        concepts |= sfp_rpt_permit_concepts(in->permits[i].permit_type_definition);
    if (!concepts) return;
    for (size_t i = 0; i < in->n_watch; i++) {
        const sfp_rpt_reg_watch *w = &in->watch[i];
        bool passed = sfp_rpt_eq_ci_trim(w->status, "passed");
        if (!passed && !sfp_rpt_eq_ci_trim(w->status, "monitoring")) continue;
        unsigned hit = 0;
        for (size_t k = 0; k < w->n_concepts; k++) hit |= concept_bit(w->concepts[k]) & concepts;
        if (!hit) continue;
        sfp_rpt_severity sev = sfp_rpt_eq_ci_trim(w->impact_level, "high") ? SFP_SEV_MODERATE : SFP_SEV_LOW;
        add(l, sev, "pending_regulation",
            sfp_arena_printf(l->a, "%s regulation — %s", passed ? "Recently passed" : "Pending", sfp_rpt_str(w->title)),
            sfp_rpt_blank(w->description) ? "A regulation under watch affects this parcel's permit types."
                                          : w->description,
            "permits", sfp_rpt_str(w->url));
    }
}

size_t sfp_rpt_risk_compute(const sfp_rpt_risk_input *in, sfp_arena *a, sfp_rpt_risk **out)
{
    risk_list l = {.a = a};
    rule_complaints(in, &l);
    rule_violations(in, &l);
    rule_costs(in, &l);
    rule_multiple_active(in, &l);
    rule_zoning(in, &l);
    rule_expiration(in, &l);
    rule_units(in, &l);
    rule_turnover(in, &l);
    rule_regulation(in, &l);
    /* Stable sort high → moderate → low: one pass per severity keeps emission order. */
    sfp_rpt_risk *sorted = sfp_arena_alloc(a, sizeof *sorted * (l.n ? l.n : 1));
    size_t k = 0;
    for (int sev = SFP_SEV_HIGH; sev <= SFP_SEV_LOW; sev++)
        for (size_t i = 0; i < l.n; i++)
            if ((int)l.items[i].severity == sev) sorted[k++] = l.items[i];
    *out = sorted;
    return k;
}
