#include "report_missing.h"

#include <string.h>

#include "report_text.h"

#define TIMING_WINDOW_DAYS 30

typedef struct miss_list {
    sfp_rpt_missing *items;
    size_t n, cap;
    sfp_arena *a;
} miss_list;

static sfp_rpt_missing *add(miss_list *l, const char *type, sfp_rpt_severity sev, const char *title, const char *desc,
                            const char *section)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        sfp_rpt_missing *n = sfp_arena_alloc(l->a, sizeof *n * cap);
        if (l->n) memcpy(n, l->items, sizeof *n * l->n);
        l->items = n;
        l->cap = cap;
    }
    sfp_rpt_missing *m = &l->items[l->n++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->severity = sev;
    m->title = title;
    m->description = desc;
    m->section_ref = section;
    return m;
}

static void ev(sfp_rpt_missing *m, const char *k, const char *v)
{
    if (m->n_evidence < SFP_RPT_MAX_EVIDENCE) m->evidence[m->n_evidence++] = (sfp_rpt_kv){k, sfp_rpt_str(v)};
}

int sfp_rpt_use_class(const char *use)
{
    static const struct {
        const char *kw;
        int cls;
    } map[] = {
        {"single family", 1}, {"single-family", 1}, {"1 family", 1},  {"1-family", 1},        {"one family", 1},
        {"two family", 2},    {"2 family", 2},      {"2-family", 2},  {"duplex", 2},          {"multi-family", 3},
        {"multi family", 3},  {"multifamily", 3},   {"apartment", 3}, {"multiple family", 3}, {"office", 4},
        {"retail", 5},        {"industrial", 6},    {"warehouse", 6}, {"vacant", 7},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (sfp_rpt_contains_ci(use, map[i].kw)) return map[i].cls;
    return 0;
}

static bool explains_use_change(const char *desc)
{
    return sfp_rpt_contains_ci(desc, "change of use") || sfp_rpt_contains_ci(desc, "change in use") ||
           sfp_rpt_contains_ci(desc, "conversion") || sfp_rpt_contains_ci(desc, "convert") ||
           sfp_rpt_contains_ci(desc, "legaliz") || sfp_rpt_contains_ci(desc, "legalis") ||
           sfp_rpt_has_word_ci(desc, "adu") || sfp_rpt_contains_ci(desc, "accessory dwelling");
}

static void drift(const sfp_rpt_missing_input *in, miss_list *l)
{
    /* Indices of permits with a filed_date, oldest first (insertion sort: ≤ 50 permits). */
    size_t *ord = sfp_arena_alloc(l->a, sizeof *ord * (in->n_permits + 1));
    size_t n = 0;
    for (size_t i = 0; i < in->n_permits; i++) {
        if (sfp_rpt_blank(in->permits[i].filed_date)) continue;
        size_t k = n++;
        while (k && strcmp(in->permits[ord[k - 1]].filed_date, in->permits[i].filed_date) > 0) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = i;
    }
    size_t prev = SIZE_MAX;
    for (size_t k = 0; k < n; k++) {
        const sfp_rpt_permit *cur = &in->permits[ord[k]];
        if (sfp_rpt_blank(cur->existing_use)) continue;
        if (prev != SIZE_MAX) {
            const sfp_rpt_permit *was = &in->permits[ord[prev]];
            if (!sfp_rpt_eq_ci_trim(was->existing_use, cur->existing_use)) {
                bool explained = false;
                for (size_t j = prev; j <= k && !explained; j++)
                    explained = explains_use_change(in->permits[ord[j]].description) ||
                                explains_use_change(in->permits[ord[j]].permit_type_definition);
                if (!explained) {
                    const char *from = sfp_rpt_trim_dup(l->a, was->existing_use);
                    const char *to = sfp_rpt_trim_dup(l->a, cur->existing_use);
                    sfp_rpt_missing *m = add(
                        l, "classification_drift", SFP_SEV_MODERATE, "Use changed without a change-of-use permit",
                        sfp_arena_printf(l->a,
                                         "Permit %s lists the existing use as '%s', but the earlier permit %s listed "
                                         "'%s', and no permit in between mentions a change of use, conversion or "
                                         "legalization.",
                                         cur->permit_number, to, was->permit_number, from),
                        "permits");
                    ev(m, "from_permit", was->permit_number);
                    ev(m, "from_use", from);
                    ev(m, "from_date", sfp_arena_strndup(l->a, was->filed_date, 10));
                    ev(m, "to_permit", cur->permit_number);
                    ev(m, "to_use", to);
                    ev(m, "to_date", sfp_arena_strndup(l->a, cur->filed_date, 10));
                }
            }
        }
        prev = k;
    }
}

static void assessor(const sfp_rpt_missing_input *in, miss_list *l)
{
    if (!in->property || !in->property->present || sfp_rpt_blank(in->property->use_definition)) return;
    const sfp_rpt_permit *newest = NULL;
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (sfp_rpt_blank(p->existing_use)) continue;
        if (!newest || strcmp(sfp_rpt_str(p->filed_date), sfp_rpt_str(newest->filed_date)) > 0) newest = p;
    }
    if (!newest) return;
    int ca = sfp_rpt_use_class(in->property->use_definition), cp = sfp_rpt_use_class(newest->existing_use);
    if (!ca || !cp || ca == cp) return;
    const char *au = sfp_rpt_trim_dup(l->a, in->property->use_definition);
    const char *pu = sfp_rpt_trim_dup(l->a, newest->existing_use);
    sfp_rpt_missing *m =
        add(l, "assessor_mismatch", SFP_SEV_LOW, "Assessor's use differs from the permit record",
            sfp_arena_printf(l->a,
                             "The assessor records the property as '%s', but the most recent permit (%s) lists its "
                             "existing use as '%s'. One of the records may be out of date.",
                             au, newest->permit_number, pu),
            "property_profile");
    ev(m, "assessor_use", au);
    ev(m, "permit_use", pu);
    ev(m, "permit_number", newest->permit_number);
}

static void timing(const sfp_rpt_missing_input *in, miss_list *l)
{
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        int32_t pd;
        if (sfp_parse_iso_day(p->filed_date, &pd)) continue;
        const sfp_rpt_rec *best = NULL;
        int32_t best_days = 0;
        for (size_t k = 0; k < in->n_complaints; k++) {
            int32_t cd;
            if (sfp_parse_iso_day(sfp_rpt_rec_first(&in->complaints[k], SFP_RPT_DATE_FILED_KEYS), &cd)) continue;
            int32_t days = pd - cd;
            if (days < 0 || days > TIMING_WINDOW_DAYS) continue;
            if (!best || days < best_days) best = &in->complaints[k], best_days = days;
        }
        if (!best) continue;
        const char *cn = sfp_rpt_rec_first(best, SFP_RPT_COMPLAINT_NUMBER_KEYS);
        const char *cdate = sfp_arena_strndup(l->a, sfp_rpt_rec_first(best, SFP_RPT_DATE_FILED_KEYS), 10);
        sfp_rpt_missing *m =
            add(l, "complaint_to_permit_timing", SFP_SEV_LOW, "Permit filed soon after a complaint",
                sfp_arena_printf(
                    l->a,
                    "Permit %s was filed %d days after complaint %s (%s). It may respond to enforcement; check "
                    "that its scope covers everything the complaint cited.",
                    p->permit_number, (int)best_days, *cn ? cn : "(no number)", cdate),
                "complaints");
        ev(m, "permit_number", p->permit_number);
        ev(m, "filed_date", sfp_arena_strndup(l->a, p->filed_date, 10));
        ev(m, "complaint_number", cn);
        ev(m, "complaint_date", cdate);
        ev(m, "days", sfp_arena_printf(l->a, "%d", (int)best_days));
    }
}

/* First phrase of the NULL-terminated list contained (case-insensitive) in s, or NULL. */
static const char *first_phrase(const char *s, const char *const *phrases)
{
    for (; *phrases; phrases++)
        if (sfp_rpt_contains_ci(s, *phrases)) return *phrases;
    return NULL;
}

static void companions(const sfp_rpt_missing_input *in, miss_list *l)
{
    static const struct {
        const char *const triggers[5];   /* in the permit's description */
        const char *const companions[4]; /* in another permit's description or type definition */
        const char *title, *work, *expected;
    } kinds[] = {
        {{"kitchen remodel", "kitchen renovation", "new kitchen", "commercial kitchen", NULL},
         {"plumbing", "gas", "mechanical", NULL},
         "Kitchen work without a plumbing or mechanical permit",
         "kitchen work",
         "plumbing, gas or mechanical permit"},
        {{"elevator", "lift installation", NULL},
         {"elevator", NULL},
         "Elevator work without an elevator permit",
         "elevator work",
         "elevator permit"},
    };
    enum { N_KINDS = sizeof kinds / sizeof kinds[0] };
    /* Which permits are a companion of each kind: read each permit's text once, not once per
     * triggering permit. */
    unsigned *is_companion = NULL;
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *trig = &in->permits[i];
        if (sfp_rpt_blank(trig->description)) continue;
        for (size_t k = 0; k < N_KINDS; k++) {
            const char *phrase = first_phrase(trig->description, kinds[k].triggers);
            if (!phrase) continue;
            if (!is_companion) {
                is_companion = sfp_arena_alloc(l->a, sizeof *is_companion * in->n_permits);
                for (size_t j = 0; j < in->n_permits; j++) {
                    const sfp_rpt_permit *o = &in->permits[j];
                    for (size_t c = 0; c < N_KINDS; c++)
                        if (first_phrase(o->description, kinds[c].companions) ||
                            first_phrase(o->permit_type_definition, kinds[c].companions))
                            is_companion[j] |= 1u << c;
                }
            }
            bool found = false;
            for (size_t j = 0; j < in->n_permits && !found; j++)
                found = (is_companion[j] & (1u << k)) &&
                        strcmp(sfp_rpt_str(in->permits[j].permit_number), sfp_rpt_str(trig->permit_number));
            if (found) continue;
            sfp_rpt_missing *m =
                add(l, "missing_companion", SFP_SEV_LOW, kinds[k].title,
                    sfp_arena_printf(l->a,
                                     "Permit %s describes '%s', which is %s, but no %s is on file for this parcel. "
                                     "Trade work usually needs its own permit and inspections.",
                                     trig->permit_number, sfp_rpt_trim_dup(l->a, trig->description), kinds[k].work,
                                     kinds[k].expected),
                    "permits");
            ev(m, "permit_number", trig->permit_number);
            ev(m, "keyword", phrase);
            ev(m, "expected", kinds[k].expected);
        }
    }
}

size_t sfp_rpt_missing_compute(const sfp_rpt_missing_input *in, sfp_arena *a, sfp_rpt_missing **out)
{
    miss_list l = {.a = a};
    drift(in, &l);
    assessor(in, &l);
    timing(in, &l);
    companions(in, &l);
    sfp_rpt_missing *sorted = sfp_arena_alloc(a, sizeof *sorted * (l.n ? l.n : 1));
    size_t k = 0;
    for (int sev = SFP_SEV_HIGH; sev <= SFP_SEV_LOW; sev++)
        for (size_t i = 0; i < l.n; i++)
            if ((int)l.items[i].severity == sev) sorted[k++] = l.items[i];
    *out = sorted;
    return k;
}
