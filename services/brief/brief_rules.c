/* brief_rules.c — see brief_rules.h. Pure: no I/O. */
#include "brief_rules.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *nz(const char *s)
{
    return s ? s : "";
}
static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

int32_t sfp_brief_clamp_lookback(int64_t requested)
{
    if (requested < SFP_BRIEF_LOOKBACK_MIN) return SFP_BRIEF_LOOKBACK_MIN;
    if (requested > SFP_BRIEF_LOOKBACK_MAX) return SFP_BRIEF_LOOKBACK_MAX;
    return (int32_t)requested;
}

int64_t sfp_brief_parse_lookback(const char *s)
{
    if (!s) return 1;
    while (isspace((unsigned char)*s)) s++;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return 1;
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v < INT64_MAX / 10 - 10) v = v * 10 + (*s - '0');
    }
    while (isspace((unsigned char)*s)) s++;
    if (*s) return 1;
    return neg ? -v : v;
}

static bool in_set_ci(const char *v, const char *const *set)
{
    if (!v) return false;
    for (; *set; set++)
        if (!strcasecmp(v, *set)) return true;
    return false;
}

bool sfp_brief_inspection_is_pass(const char *result)
{
    static const char *const pass[] = {"approved", "ok", "pass", "passed", NULL};
    return in_set_ci(result, pass);
}

bool sfp_brief_inspection_is_fail(const char *result)
{
    static const char *const fail[] = {"disapproved", "fail", "failed", "not approved", NULL};
    return in_set_ci(result, fail);
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = nz(hay); *p; p++)
        if (!strncasecmp(p, needle, n)) return true;
    return false;
}

int sfp_brief_validity_days(const char *permit_type_definition, bool has_revised, double revised_cost,
                            double estimated_cost)
{
    if (contains_ci(permit_type_definition, "demolition")) return 180;
    double cost = (has_revised && revised_cost > 0) ? revised_cost : estimated_cost;
    if (cost >= 2500000) return 1440;
    if (cost >= 100001) return 1080;
    return 360;
}

const char *sfp_brief_station_label(bool has_median, double m, char *out, size_t cap)
{
    if (!has_median || isnan(m) || m < 0) snprintf(out, cap, "unknown");
    else if (m < 1) snprintf(out, cap, "same day");
    else if (m < 7) snprintf(out, cap, "~%.0f days", rint(m));
    else if (m < 30) snprintf(out, cap, "~%.0f weeks", rint(m / 7));
    else snprintf(out, cap, "~%.1f months", m / 30);
    return out;
}

const char *sfp_brief_health_for_tier(const char *tier)
{
    if (!tier) return "on_track";
    if (!strcmp(tier, "CRITICAL")) return "at_risk";
    if (!strcmp(tier, "HIGH")) return "behind";
    if (!strcmp(tier, "MEDIUM")) return "slower";
    return "on_track";
}

int sfp_brief_health_rank(const char *h)
{
    if (!h) return 0;
    if (!strcmp(h, "slower")) return 1;
    if (!strcmp(h, "behind")) return 2;
    if (!strcmp(h, "at_risk")) return 3;
    if (!strcmp(h, "high_risk")) return 4;
    return 0;
}

/* ---------- pipeline health ---------- */

static int status_rank(const char *s)
{
    if (!strcmp(s, "unknown")) return 1;
    if (!strcmp(s, "warn")) return 2;
    if (!strcmp(s, "critical")) return 3;
    return 0;
}

static Sfpermits__V1__PipelineCheck *check(sfp_arena *a, const char *name, const char *status, char *msg)
{
    Sfpermits__V1__PipelineCheck *c = sfp_arena_msg(a, &sfpermits__v1__pipeline_check__descriptor);
    c->name = (char *)name;
    c->status = (char *)status;
    c->message = msg;
    return c;
}

Sfpermits__V1__PipelineHealth *sfp_brief_pipeline_health(const sfp_brief_pipeline_input *in, int32_t today,
                                                         sfp_arena *a)
{
    Sfpermits__V1__PipelineHealth *h = sfp_arena_msg(a, &sfpermits__v1__pipeline_health__descriptor);
    h->checks = sfp_arena_alloc(a, 4 * sizeof *h->checks);
    h->issues = sfp_arena_alloc(a, 4 * sizeof *h->issues);

    /* cron_nightly: >26 h warn, >50 h critical, none critical */
    if (!in->has_last_success) {
        h->checks[h->n_checks++] =
            check(a, "cron_nightly", "critical",
                  sfp_arena_strdup(a, "No successful nightly run found \xe2\x80\x94 pipeline may never have run"));
    } else {
        double hrs = in->hours_since_success;
        const char *st = hrs > 50.0 ? "critical" : hrs > 26.0 ? "warn" : "ok";
        char *msg =
            hrs > 50.0   ? sfp_arena_printf(a, "Last successful nightly run was %.1fh ago (>50.0h threshold)", hrs)
            : hrs > 26.0 ? sfp_arena_printf(a, "Last successful nightly run was %.1fh ago (>26.0h threshold)", hrs)
                         : sfp_arena_printf(a, "Last successful nightly run was %.1fh ago", hrs);
        h->checks[h->n_checks++] = check(a, "cron_nightly", st, msg);
    }
    /* data_freshness: addenda data_as_of older than 5 days is stale (1 stale field warn, >=2 critical) */
    {
        char *stale = NULL;
        int n_stale = 0;
        if (!in->has_addenda_as_of) {
            stale = sfp_arena_strdup(a, "addenda (no data_as_of found)");
            n_stale = 1;
        } else if (today - in->addenda_as_of_day > 5) {
            stale = sfp_arena_printf(a, "addenda (%dd old)", (int)(today - in->addenda_as_of_day));
            n_stale = 1;
        }
        if (n_stale)
            h->checks[h->n_checks++] = check(a, "data_freshness", n_stale <= 1 ? "warn" : "critical",
                                             sfp_arena_printf(a, "Stale data detected: %s", stale));
        else h->checks[h->n_checks++] = check(a, "data_freshness", "ok", sfp_arena_strdup(a, "Data freshness OK"));
    }
    /* stuck_jobs: running > 120 min → warn */
    if (in->stuck_jobs > 0)
        h->checks[h->n_checks++] =
            check(a, "stuck_jobs", "warn",
                  sfp_arena_printf(a, "%ld job(s) stuck in 'running' state for >120min", in->stuck_jobs));
    else h->checks[h->n_checks++] = check(a, "stuck_jobs", "ok", sfp_arena_strdup(a, "No stuck jobs detected"));
    /* recent_failures: failed in 48 h: 1-2 warn, >=3 critical */
    if (in->recent_failures > 0)
        h->checks[h->n_checks++] = check(a, "recent_failures", in->recent_failures <= 2 ? "warn" : "critical",
                                         sfp_arena_printf(a, "%ld failure(s) in last 48h", in->recent_failures));
    else h->checks[h->n_checks++] = check(a, "recent_failures", "ok", sfp_arena_strdup(a, "No failures in last 48h"));

    const char *worst = "ok";
    for (size_t i = 0; i < h->n_checks; i++) {
        if (status_rank(h->checks[i]->status) > status_rank(worst)) worst = h->checks[i]->status;
        if (status_rank(h->checks[i]->status) >= 2) h->issues[h->n_issues++] = h->checks[i]->message;
    }
    h->status = (char *)worst;
    return h;
}

bool sfp_brief_avg_success_duration(Sfpermits__V1__PipelineJob *const *jobs, size_t n, double *avg)
{
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const Sfpermits__V1__PipelineJob *j = jobs[i];
        if (j->status && !strcmp(j->status, "success") && j->has_elapsed_seconds && j->elapsed_seconds >= 0) {
            sum += j->elapsed_seconds;
            k++;
        }
    }
    if (!k) return false;
    *avg = rint(sum / k * 100) / 100;
    return true;
}

/* ---------- addresses ---------- */

static void upper_copy(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++) out[i] = (char)toupper((unsigned char)in[i]);
    if (cap) out[i] = '\0';
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k])) k++;
    if (k) memmove(s, s + k, n - k + 1);
}

void sfp_brief_address_key(const char *street_number, const char *street_name, const char *street_suffix,
                           const char *block, const char *lot, char *out, size_t cap)
{
    char name[160], suffix[32], num[32];
    upper_copy(nz(street_name), name, sizeof name);
    upper_copy(nz(street_suffix), suffix, sizeof suffix);
    upper_copy(nz(street_number), num, sizeof num);
    trim(name);
    trim(suffix);
    trim(num);
    char full[200];
    if (suffix[0] && !strstr(name, suffix)) snprintf(full, sizeof full, "%s %s", name, suffix);
    else snprintf(full, sizeof full, "%s", name);
    char addr[240];
    snprintf(addr, sizeof addr, "%s %s", num, full);
    trim(addr);
    if (addr[0]) snprintf(out, cap, "%s", addr);
    else snprintf(out, cap, "%s/%s", nz(block), nz(lot));
}

void sfp_brief_title_case(const char *in, char *out, size_t cap)
{
    bool start = true;
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (isalpha(ch)) {
            out[i] = (char)(start ? toupper(ch) : tolower(ch));
            start = false;
        } else {
            out[i] = (char)ch;
            start = !isalnum(ch); /* a digit continues the word: "8TH" → "8th" */
        }
    }
    if (cap) out[i] = '\0';
}

/* ---------- cards ---------- */

typedef struct card {
    char key[240];
    Sfpermits__V1__BriefPropertyHealth *m;
    const sfp_brief_permit_row *first;
    int label_rank;
    int32_t latest_day;
    char parcels[16][24]; /* distinct "block/lot" seen (bounded) */
    int nparcels;
    /* v2 */
    int ph_rank;
    bool has_ph;
    /* v1 */
    bool has_sev;
    sfp_sev_result sev;
    const sfp_brief_permit_row *sev_row;
    char hold[128];
} card;

static const char *const k_active[] = {"filed", "approved", "issued", "reinstated", NULL};

static void add_signals(card *c, const char *json, sfp_arena *a)
{
    if (blank(json)) return;
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return;
    }
    Sfpermits__V1__BriefPropertyHealth *m = c->m;
    if (!m->signals) m->signals = sfp_arena_alloc(a, SFP_BRIEF_MAX_SIGNALS * sizeof *m->signals);
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (m->n_signals >= SFP_BRIEF_MAX_SIGNALS) break;
        if (!cJSON_IsObject(it)) continue;
        Sfpermits__V1__BriefHealthSignal *s = sfp_arena_msg(a, &sfpermits__v1__brief_health_signal__descriptor);
        const char *f[4] = {"type", "severity", "permit", "detail"};
        char **dst[4] = {&s->type, &s->severity, &s->permit, &s->detail};
        for (int k = 0; k < 4; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, f[k]);
            *dst[k] = sfp_arena_strdup(a, cJSON_IsString(v) ? v->valuestring : "");
        }
        m->signals[m->n_signals++] = s;
    }
    cJSON_Delete(root);
}

static bool card_has_parcel(card *c, const char *bl)
{
    for (int i = 0; i < c->nparcels; i++)
        if (!strcmp(c->parcels[i], bl)) return true;
    return false;
}

static int cmp_cards(const void *pa, const void *pb)
{
    const Sfpermits__V1__BriefPropertyHealth *a = *(Sfpermits__V1__BriefPropertyHealth *const *)pa;
    const Sfpermits__V1__BriefPropertyHealth *b = *(Sfpermits__V1__BriefPropertyHealth *const *)pb;
    int ra = sfp_brief_health_rank(a->health), rb = sfp_brief_health_rank(b->health);
    if (ra != rb) return rb - ra;
    int da = a->has_days_since_activity ? a->days_since_activity : INT32_MAX;
    int db = b->has_days_since_activity ? b->days_since_activity : INT32_MAX;
    if (da != db) return da < db ? -1 : 1;
    return strcmp(a->address, b->address);
}

static sfp_sev_input sev_input(const sfp_brief_permit_row *r)
{
    sfp_sev_input in = {
        .permit_number = r->permit_number,
        .status = r->status,
        .permit_type_definition = r->permit_type_definition,
        .description = r->description,
        .filed_day = sfp_sev_parse_day(r->filed_date),
        .issued_day = sfp_sev_parse_day(r->issued_date),
        .completed_day = sfp_sev_parse_day(r->completed_date),
        .status_day = sfp_sev_parse_day(r->status_date),
        .estimated_cost = r->estimated_cost,
        .has_revised_cost = r->has_revised_cost,
        .revised_cost = r->revised_cost,
        .inspection_count = r->inspection_count,
    };
    return in;
}

static char *plural(sfp_arena *a, int n, const char *word)
{
    return sfp_arena_printf(a, "%d %s%s", n, word, n == 1 ? "" : "s");
}

void sfp_brief_build_cards(const sfp_brief_permit_row *rows, size_t n, int32_t today, sfp_arena *a,
                           Sfpermits__V1__BriefPropertyHealth ***out, size_t *nout)
{
    card *cards = sfp_arena_alloc(a, (n ? n : 1) * sizeof *cards);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        const sfp_brief_permit_row *r = &rows[i];
        char key[240];
        sfp_brief_address_key(r->street_number, r->street_name, r->street_suffix, r->block, r->lot, key, sizeof key);
        card *c = NULL;
        for (size_t k = 0; k < nc && !c; k++)
            if (!strcmp(cards[k].key, key)) c = &cards[k];
        if (!c) {
            c = &cards[nc++];
            snprintf(c->key, sizeof c->key, "%s", key);
            c->first = r;
            c->label_rank = 99;
            c->latest_day = SFP_SEV_NO_DATE;
            c->ph_rank = -1;
            Sfpermits__V1__BriefPropertyHealth *m = sfp_arena_msg(a, &sfpermits__v1__brief_property_health__descriptor);
            char title[240];
            bool is_addr = strchr(key, '/') == NULL || !blank(r->street_number) || !blank(r->street_name);
            if (is_addr) sfp_brief_title_case(key, title, sizeof title);
            else snprintf(title, sizeof title, "%s", key);
            m->address = sfp_arena_strdup(a, title);
            m->block = sfp_arena_strdup(a, nz(r->block));
            m->lot = sfp_arena_strdup(a, nz(r->lot));
            m->neighborhood = sfp_arena_strdup(a, nz(r->neighborhood));
            m->label = "";
            char url[260];
            snprintf(url, sizeof url, "/?q=%s", key);
            for (char *p = url; *p; p++)
                if (*p == ' ') *p = '+';
            m->search_url = sfp_arena_strdup(a, url);
            m->latest_permit = "";
            m->latest_permit_status = "";
            m->latest_activity = "";
            m->health_reason = "";
            m->severity_tier = "";
            c->m = m;
        }
        Sfpermits__V1__BriefPropertyHealth *m = c->m;
        m->total_permits++;
        if (in_set_ci(r->status, k_active)) m->active_permits++;
        if (!blank(r->label) && r->label_rank < c->label_rank) {
            c->label_rank = r->label_rank;
            m->label = sfp_arena_strdup(a, r->label);
        }
        if (!*m->block && !blank(r->block) && !blank(r->lot)) {
            m->block = sfp_arena_strdup(a, r->block);
            m->lot = sfp_arena_strdup(a, r->lot);
        }
        int32_t sd = sfp_sev_parse_day(r->status_date);
        if (sd != SFP_SEV_NO_DATE && (c->latest_day == SFP_SEV_NO_DATE || sd > c->latest_day)) {
            c->latest_day = sd;
            m->latest_activity = sfp_arena_strndup(a, r->status_date, 10);
            m->latest_permit = sfp_arena_strdup(a, nz(r->permit_number));
            m->latest_permit_status = sfp_arena_strdup(a, nz(r->status));
        } else if (!*m->latest_permit && c->latest_day == SFP_SEV_NO_DATE) {
            m->latest_permit = sfp_arena_strdup(a, nz(r->permit_number));
            m->latest_permit_status = sfp_arena_strdup(a, nz(r->status));
        }
        /* parcel-level facts, once per distinct parcel */
        if (!blank(r->block) && !blank(r->lot)) {
            char bl[24];
            snprintf(bl, sizeof bl, "%.11s/%.11s", r->block, r->lot);
            if (!card_has_parcel(c, bl) && c->nparcels < 16) {
                snprintf(c->parcels[c->nparcels++], sizeof c->parcels[0], "%s", bl);
                m->open_violations += r->open_violations;
                m->open_complaints += r->open_complaints;
                if (!blank(r->ph_tier)) {
                    c->has_ph = true;
                    m->signal_count += r->ph_signal_count;
                    m->at_risk_count += r->ph_at_risk_count;
                    int rk = sfp_brief_health_rank(r->ph_tier);
                    if (rk > c->ph_rank) {
                        c->ph_rank = rk;
                        m->health = sfp_arena_strdup(a, r->ph_tier);
                    }
                    add_signals(c, r->ph_signals_json, a);
                }
            }
        }
        /* severity v1 of the active permits: the worst one wins (first on ties) */
        if (in_set_ci(r->status, k_active)) {
            sfp_sev_input in = sev_input(r);
            sfp_sev_result res;
            sfp_severity_score(&in, today, &res);
            if (!c->has_sev || res.score > c->sev.score) {
                c->has_sev = true;
                c->sev = res;
                c->sev_row = r;
            }
        }
        if (!blank(r->hold_stations) && !c->hold[0] &&
            (!strcasecmp(nz(r->status), "filed") || !strcasecmp(nz(r->status), "plancheck"))) {
            /* first two stations */
            const char *s = r->hold_stations;
            const char *comma = strchr(s, ',');
            const char *comma2 = comma ? strchr(comma + 1, ',') : NULL;
            size_t len = comma2 ? (size_t)(comma2 - s) : strlen(s);
            if (len >= sizeof c->hold) len = sizeof c->hold - 1;
            memcpy(c->hold, s, len);
            c->hold[len] = '\0';
        }
    }

    Sfpermits__V1__BriefPropertyHealth **list = sfp_arena_alloc(a, (nc ? nc : 1) * sizeof *list);
    for (size_t k = 0; k < nc; k++) {
        card *c = &cards[k];
        Sfpermits__V1__BriefPropertyHealth *m = c->m;
        bool expired_driver = false;
        if (c->has_ph) {
            m->health_source = "property_health";
            m->health_reason =
                sfp_arena_printf(a, "%s, %d at-risk", plural(a, m->signal_count, "signal"), m->at_risk_count);
        } else {
            m->health_source = "severity_v1";
            if (c->has_sev) {
                m->health = (char *)sfp_brief_health_for_tier(c->sev.tier);
                m->health_reason = sfp_arena_strdup(a, c->sev.explanation);
                m->has_severity_score = true;
                m->severity_score = c->sev.score;
                m->severity_tier = (char *)c->sev.tier;
                expired_driver = c->sev.expired && c->sev.top_driver == SFP_SEV_DIM_EXPIRATION;
            } else {
                m->health = "on_track";
                m->health_reason = "No active permits";
            }
        }
        if (!m->health) m->health = "on_track";
        m->enforcement_total = m->open_violations + m->open_complaints;
        if (c->latest_day != SFP_SEV_NO_DATE) {
            m->has_days_since_activity = true;
            m->days_since_activity = today - c->latest_day;
        }
        int at_risk = sfp_brief_health_rank("at_risk");
        bool upgraded = false;
        if (c->hold[0] && sfp_brief_health_rank(m->health) < at_risk) {
            m->health = "at_risk";
            char held[160];
            snprintf(held, sizeof held, "%s", c->hold);
            for (char *p = held; *p; p++)
                if (*p == ',') {
                    memmove(p + 2, p + 1, strlen(p + 1) + 1);
                    p[0] = ',';
                    p[1] = ' ';
                    p++;
                }
            m->health_reason = sfp_arena_printf(a, "Hold at %s", held);
            upgraded = true;
        }
        if (m->enforcement_total > 0 && sfp_brief_health_rank(m->health) < at_risk) {
            char parts[96] = "";
            if (m->open_violations) snprintf(parts, sizeof parts, "%s", plural(a, m->open_violations, "violation"));
            if (m->open_complaints) {
                size_t l = strlen(parts);
                snprintf(parts + l, sizeof parts - l, "%s%s", l ? ", " : "",
                         plural(a, m->open_complaints, "complaint"));
            }
            m->health = "at_risk";
            m->health_reason = sfp_arena_printf(a, "Open enforcement: %s", parts);
            upgraded = true;
        }
        /* §9 item 9, fixed: an expired permit at an active site is paperwork, not an emergency */
        if (!upgraded && expired_driver && !strcmp(m->health, "at_risk") && m->has_days_since_activity &&
            m->days_since_activity <= 30) {
            m->health = "behind";
            m->health_reason = sfp_arena_printf(a, "%s (active site)", m->health_reason);
        }
        list[k] = m;
    }
    qsort(list, nc, sizeof *list, cmp_cards);
    *out = list;
    *nout = nc > SFP_BRIEF_MAX_CARDS ? SFP_BRIEF_MAX_CARDS : nc;
}

void sfp_brief_fill_summary(Sfpermits__V1__GetBriefResponse *r, int32_t total_watches, sfp_arena *a)
{
    Sfpermits__V1__BriefSummary *s = sfp_arena_msg(a, &sfpermits__v1__brief_summary__descriptor);
    s->total_watches = total_watches;
    s->total_properties = (int32_t)r->n_property_health;
    s->changes_count = (int32_t)r->n_changes;
    s->plan_reviews_count = (int32_t)r->n_plan_reviews;
    s->inspections_count = (int32_t)r->n_inspections;
    s->new_filings_count = (int32_t)r->n_new_filings;
    s->expiring_count = (int32_t)r->n_expiring;
    for (size_t i = 0; i < r->n_property_health; i++) {
        const Sfpermits__V1__BriefPropertyHealth *p = r->property_health[i];
        if (sfp_brief_health_rank(p->health) >= sfp_brief_health_rank("at_risk")) s->at_risk_count++;
        if (p->enforcement_total > 0) s->enforcement_count++;
    }
    r->summary = s;
}
