/* brief_rules.c — see brief_rules.h. Pure: no I/O. */
#include "brief_rules.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbjson.h"
#include "permit_status.h"

#define HEALTH_ON_TRACK SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_ON_TRACK
#define HEALTH_AT_RISK SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_AT_RISK

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

bool sfp_brief_lookback_ok(int64_t requested, int32_t *effective)
{
    if (requested == 0) requested = SFP_BRIEF_LOOKBACK_MIN;
    if (requested < SFP_BRIEF_LOOKBACK_MIN || requested > SFP_BRIEF_LOOKBACK_MAX) return false;
    *effective = (int32_t)requested;
    return true;
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

Sfpermits__V1__CardHealth sfp_brief_card_health(const char *health)
{
    return (Sfpermits__V1__CardHealth)sfp_pbjson_enum_value(&sfpermits__v1__card_health__descriptor, health,
                                                            SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_UNSPECIFIED);
}

Sfpermits__V1__SeverityTier sfp_brief_severity_tier(const char *tier)
{
    if (!tier) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_UNSPECIFIED;
    if (!strcmp(tier, "CRITICAL")) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_CRITICAL;
    if (!strcmp(tier, "HIGH")) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_HIGH;
    if (!strcmp(tier, "MEDIUM")) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_MEDIUM;
    if (!strcmp(tier, "LOW")) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_LOW;
    if (!strcmp(tier, "GREEN")) return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_GREEN;
    return SFPERMITS__V1__SEVERITY_TIER__SEVERITY_TIER_UNSPECIFIED;
}

/* ---------- pipeline health ---------- */

/* PipelineStatus values are ordered best to worst: ok < unknown < warn < critical. */
#define PS_OK SFPERMITS__V1__PIPELINE_STATUS__PIPELINE_STATUS_OK
#define PS_WARN SFPERMITS__V1__PIPELINE_STATUS__PIPELINE_STATUS_WARN
#define PS_CRITICAL SFPERMITS__V1__PIPELINE_STATUS__PIPELINE_STATUS_CRITICAL

static Sfpermits__V1__PipelineCheck *check(sfp_arena *a, const char *name, Sfpermits__V1__PipelineStatus status,
                                           char *msg)
{
    Sfpermits__V1__PipelineCheck *c = sfp_arena_msg(a, &sfpermits__v1__pipeline_check__descriptor);
    c->name = (char *)name;
    c->status = status;
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
            check(a, "cron_nightly", PS_CRITICAL,
                  sfp_arena_strdup(a, "No successful nightly run found \xe2\x80\x94 pipeline may never have run"));
    } else {
        double hrs = in->hours_since_success;
        Sfpermits__V1__PipelineStatus st = hrs > 50.0 ? PS_CRITICAL : hrs > 26.0 ? PS_WARN : PS_OK;
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
            h->checks[h->n_checks++] = check(a, "data_freshness", n_stale <= 1 ? PS_WARN : PS_CRITICAL,
                                             sfp_arena_printf(a, "Stale data detected: %s", stale));
        else h->checks[h->n_checks++] = check(a, "data_freshness", PS_OK, sfp_arena_strdup(a, "Data freshness OK"));
    }
    /* stuck_jobs: running > 120 min → warn */
    if (in->stuck_jobs > 0)
        h->checks[h->n_checks++] =
            check(a, "stuck_jobs", PS_WARN,
                  sfp_arena_printf(a, "%ld job(s) stuck in 'running' state for >120min", in->stuck_jobs));
    else h->checks[h->n_checks++] = check(a, "stuck_jobs", PS_OK, sfp_arena_strdup(a, "No stuck jobs detected"));
    /* recent_failures: failed in 48 h: 1-2 warn, >=3 critical */
    if (in->recent_failures > 0)
        h->checks[h->n_checks++] = check(a, "recent_failures", in->recent_failures <= 2 ? PS_WARN : PS_CRITICAL,
                                         sfp_arena_printf(a, "%ld failure(s) in last 48h", in->recent_failures));
    else h->checks[h->n_checks++] = check(a, "recent_failures", PS_OK, sfp_arena_strdup(a, "No failures in last 48h"));

    Sfpermits__V1__PipelineStatus worst = PS_OK;
    for (size_t i = 0; i < h->n_checks; i++) {
        if (h->checks[i]->status > worst) worst = h->checks[i]->status;
        if (h->checks[i]->status >= PS_WARN) h->issues[h->n_issues++] = h->checks[i]->message;
    }
    h->status = worst;
    return h;
}

bool sfp_brief_avg_success_duration(Sfpermits__V1__PipelineJob *const *jobs, size_t n, double *avg)
{
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const Sfpermits__V1__PipelineJob *j = jobs[i];
        if (j->status == SFPERMITS__V1__JOB_STATUS__JOB_STATUS_SUCCESS && j->optional_elapsed_seconds_case &&
            j->elapsed_seconds >= 0) {
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

/* Appends s to out (cap bytes, NUL-terminated, truncating) at n; returns the new length. */
static size_t put(char *out, size_t cap, size_t n, const char *s)
{
    if (!cap) return 0;
    while (*s && n + 1 < cap) out[n++] = *s++;
    out[n] = '\0';
    return n;
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
    /* "NUM NAME[ SUFFIX]" (the suffix unless the name already has it), trimmed; 31 + 1 + 159 + 1
     * + 31 characters always fit addr. Built by hand: it runs twice per card row. */
    char addr[240];
    size_t n = 0;
    n = put(addr, sizeof addr, n, num);
    n = put(addr, sizeof addr, n, " ");
    n = put(addr, sizeof addr, n, name);
    if (suffix[0] && !strstr(name, suffix)) {
        n = put(addr, sizeof addr, n, " ");
        put(addr, sizeof addr, n, suffix);
    }
    trim(addr);
    if (addr[0]) {
        put(out, cap, 0, addr);
    } else {
        n = put(out, cap, 0, nz(block));
        n = put(out, cap, n, "/");
        put(out, cap, n, nz(lot));
    }
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
    Sfpermits__V1__BriefRouting *routing; /* filed permit with the lowest completion */
    bool active;                          /* days_since_activity <= lookback */
} card;

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
    const card *ca = *(card *const *)pa, *cb = *(card *const *)pb;
    if (ca->active != cb->active) return ca->active ? -1 : 1;
    const Sfpermits__V1__BriefPropertyHealth *a = ca->m, *b = cb->m;
    int ra = (int)a->health, rb = (int)b->health; /* CardHealth is ordered best to worst */
    if (ra != rb) return rb - ra;
    int da = a->optional_days_since_activity_case ? a->days_since_activity : INT32_MAX;
    int db = b->optional_days_since_activity_case ? b->days_since_activity : INT32_MAX;
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

/* The card's displayed address for a row and its grouping key. */
static void card_title(const sfp_brief_permit_row *r, const char *key, char *title, size_t cap)
{
    bool is_addr = strchr(key, '/') == NULL || !blank(r->street_number) || !blank(r->street_name);
    if (is_addr) sfp_brief_title_case(key, title, cap);
    else snprintf(title, cap, "%s", key);
}

static const char *const k_suffixes[] = {"ST", "AVE", "AV", "BLVD", "BL",  "DR",  "WAY", "WY", "PL",
                                         "CT", "TER", "LN", "RD",   "HWY", "CIR", "AL",  NULL};

void sfp_brief_address_norm(const char *street_number, const char *street_name, char *out, size_t cap)
{
    char buf[240];
    snprintf(buf, sizeof buf, "%s %s", nz(street_number), nz(street_name));
    /* upper case, blanks collapsed */
    size_t k = 0;
    bool sp = true;
    for (const char *p = buf; *p && k + 1 < sizeof buf; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isspace(ch)) {
            if (!sp) buf[k++] = ' ';
            sp = true;
        } else {
            buf[k++] = (char)toupper(ch);
            sp = false;
        }
    }
    while (k && buf[k - 1] == ' ') k--;
    buf[k] = '\0';
    /* a trailing suffix token, when something precedes it besides the number */
    char *last = strrchr(buf, ' ');
    if (last && last != strchr(buf, ' ')) {
        for (const char *const *sx = k_suffixes; *sx; sx++)
            if (!strcmp(last + 1, *sx)) {
                *last = '\0';
                break;
            }
    }
    snprintf(out, cap, "%s", buf);
}

Sfpermits__V1__BriefRouting *sfp_brief_routing_from_json(const char *permit_number, const char *json, int32_t today,
                                                         sfp_arena *a)
{
    if (blank(json)) return NULL;
    cJSON *root = cJSON_Parse(json);
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(root, "total");
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(root, "completed");
    const cJSON *pend = cJSON_GetObjectItemCaseSensitive(root, "pending");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(tot) || tot->valuedouble < 1) {
        cJSON_Delete(root);
        return NULL;
    }
    Sfpermits__V1__BriefRouting *rt = sfp_arena_msg(a, &sfpermits__v1__brief_routing__descriptor);
    rt->permit_number = sfp_arena_strdup(a, nz(permit_number));
    rt->total_stations = (int32_t)tot->valuedouble;
    rt->completed_stations = cJSON_IsNumber(done) ? (int32_t)done->valuedouble : 0;
    rt->completion_pct = (int32_t)((int64_t)rt->completed_stations * 100 / rt->total_stations);
    int np = cJSON_IsArray(pend) ? cJSON_GetArraySize(pend) : 0;
    size_t cap = np ? (size_t)np : 1;
    rt->pending_station_names = sfp_arena_alloc(a, cap * sizeof(char *));
    rt->stalled_stations = sfp_arena_alloc(a, cap * sizeof(char *));
    rt->held_stations = sfp_arena_alloc(a, cap * sizeof(char *));
    rt->velocity = sfp_arena_alloc(a, 5 * sizeof *rt->velocity);
    const cJSON *it;
    cJSON_ArrayForEach(it, pend)
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "station");
        if (!cJSON_IsString(st)) continue;
        char *name = sfp_arena_strdup(a, st->valuestring);
        rt->pending_station_names[rt->n_pending_station_names++] = name;
        const cJSON *hold = cJSON_GetObjectItemCaseSensitive(it, "hold");
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(it, "arrive");
        const cJSON *med = cJSON_GetObjectItemCaseSensitive(it, "median");
        if (cJSON_IsTrue(hold)) rt->held_stations[rt->n_held_stations++] = name;
        else if (cJSON_IsString(arr)) {
            int32_t d = sfp_sev_parse_day(arr->valuestring);
            if (d != SFP_SEV_NO_DATE && today - d > 30) rt->stalled_stations[rt->n_stalled_stations++] = name;
        }
        if (rt->n_velocity < 5) {
            Sfpermits__V1__BriefStationTypical *v = sfp_arena_msg(a, &sfpermits__v1__brief_station_typical__descriptor);
            v->station = name;
            char label[32] = "";
            if (cJSON_IsNumber(med)) sfp_brief_station_label(true, med->valuedouble, label, sizeof label);
            v->typical = sfp_arena_strdup(a, label);
            rt->velocity[rt->n_velocity++] = v;
        }
    }
    cJSON_Delete(root);
    return rt;
}

void sfp_brief_build_cards(const sfp_brief_permit_row *rows, size_t n, int32_t today, int32_t lookback, sfp_arena *a,
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
            card_title(r, key, title, sizeof title);
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
            m->latest_permit_type = "";
            m->parcels_display = "";
            m->latest_activity = "";
            m->health_reason = "";
            c->m = m;
        }
        Sfpermits__V1__BriefPropertyHealth *m = c->m;
        m->total_permits++;
        if (sfp_permit_in(r->status, SFP_PERMITS_ON_CLOCK)) m->active_permits++;
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
            m->latest_permit_type = sfp_arena_strdup(a, nz(r->permit_type_definition));
        } else if (!*m->latest_permit && c->latest_day == SFP_SEV_NO_DATE) {
            m->latest_permit = sfp_arena_strdup(a, nz(r->permit_number));
            m->latest_permit_status = sfp_arena_strdup(a, nz(r->status));
            m->latest_permit_type = sfp_arena_strdup(a, nz(r->permit_type_definition));
        }
        /* parcel-level facts, once per distinct parcel */
        if (!blank(r->block) && !blank(r->lot)) {
            char bl[24];
            snprintf(bl, sizeof bl, "%.11s/%.11s", r->block, r->lot);
            if (!card_has_parcel(c, bl) && c->nparcels < 16) {
                snprintf(c->parcels[c->nparcels++], sizeof c->parcels[0], "%s", bl);
                m->parcels_display = *m->parcels_display ? sfp_arena_printf(a, "%s, %s", m->parcels_display, bl)
                                                         : sfp_arena_strdup(a, bl);
                m->open_violations += r->open_violations;
                m->open_complaints += r->open_complaints;
                if (!blank(r->ph_tier)) {
                    c->has_ph = true;
                    m->signal_count += r->ph_signal_count;
                    m->at_risk_count += r->ph_at_risk_count;
                    int rk = sfp_brief_health_rank(r->ph_tier);
                    if (rk > c->ph_rank) {
                        c->ph_rank = rk;
                        m->health = sfp_brief_card_health(r->ph_tier);
                    }
                    add_signals(c, r->ph_signals_json, a);
                }
            }
        }
        /* severity v1 of the active permits: the worst one wins (first on ties) */
        if (sfp_permit_in(r->status, SFP_PERMITS_ON_CLOCK)) {
            sfp_sev_input in = sev_input(r);
            sfp_sev_result res;
            sfp_severity_score(&in, today, &res);
            if (!c->has_sev || res.score > c->sev.score) {
                c->has_sev = true;
                c->sev = res;
                c->sev_row = r;
            }
        }
        /* routing: holds are read only from the filed permit with the lowest completion */
        if (sfp_permit_in(r->status, SFP_PERMITS_CARD_ROUTING)) {
            Sfpermits__V1__BriefRouting *rt = sfp_brief_routing_from_json(r->permit_number, r->routing_json, today, a);
            if (rt && (!c->routing || rt->completion_pct < c->routing->completion_pct)) c->routing = rt;
        }
    }

    card **sorted = sfp_arena_alloc(a, (nc ? nc : 1) * sizeof *sorted);
    for (size_t k = 0; k < nc; k++) {
        card *c = &cards[k];
        sorted[k] = c;
        Sfpermits__V1__BriefPropertyHealth *m = c->m;
        m->routing = c->routing;
        bool expired_driver = false;
        if (c->has_ph) {
            m->health_source = "property_health";
            m->health_reason =
                sfp_arena_printf(a, "%s, %d at-risk", plural(a, m->signal_count, "signal"), m->at_risk_count);
        } else {
            m->health_source = "severity_v1";
            if (c->has_sev) {
                m->health = sfp_brief_card_health(sfp_brief_health_for_tier(c->sev.tier));
                m->health_reason = sfp_arena_strdup(a, c->sev.explanation);
                m->optional_severity_score_case =
                    SFPERMITS__V1__BRIEF_PROPERTY_HEALTH__OPTIONAL_SEVERITY_SCORE_SEVERITY_SCORE;
                m->severity_score = c->sev.score;
                m->severity_tier = sfp_brief_severity_tier(c->sev.tier);
                m->optional_severity_tier_case =
                    SFPERMITS__V1__BRIEF_PROPERTY_HEALTH__OPTIONAL_SEVERITY_TIER_SEVERITY_TIER;
                expired_driver = c->sev.expired && c->sev.top_driver == SFP_SEV_DIM_EXPIRATION;
            } else {
                m->health = HEALTH_ON_TRACK;
                m->health_reason = "No active permits";
            }
        }
        if (!m->health) m->health = HEALTH_ON_TRACK;
        m->enforcement_total = m->open_violations + m->open_complaints;
        if (c->latest_day != SFP_SEV_NO_DATE) {
            m->optional_days_since_activity_case =
                SFPERMITS__V1__BRIEF_PROPERTY_HEALTH__OPTIONAL_DAYS_SINCE_ACTIVITY_DAYS_SINCE_ACTIVITY;
            m->days_since_activity = today - c->latest_day;
            c->active = m->days_since_activity <= lookback;
        }
        bool upgraded = false;
        if (c->routing && c->routing->n_held_stations && m->health < HEALTH_AT_RISK) {
            m->health = HEALTH_AT_RISK;
            /* the first two held stations */
            m->health_reason =
                c->routing->n_held_stations > 1
                    ? sfp_arena_printf(a, "Hold at %s, %s", c->routing->held_stations[0], c->routing->held_stations[1])
                    : sfp_arena_printf(a, "Hold at %s", c->routing->held_stations[0]);
            upgraded = true;
        }
        if (m->enforcement_total > 0 && m->health < HEALTH_AT_RISK) {
            char parts[96] = "";
            if (m->open_violations) snprintf(parts, sizeof parts, "%s", plural(a, m->open_violations, "violation"));
            if (m->open_complaints) {
                size_t l = strlen(parts);
                snprintf(parts + l, sizeof parts - l, "%s%s", l ? ", " : "",
                         plural(a, m->open_complaints, "complaint"));
            }
            m->health = HEALTH_AT_RISK;
            m->health_reason = sfp_arena_printf(a, "Open enforcement: %s", parts);
            upgraded = true;
        }
        /* an expired permit at an active site is paperwork, not an emergency */
        if (!upgraded && expired_driver && m->health == HEALTH_AT_RISK && m->optional_days_since_activity_case &&
            m->days_since_activity <= 30) {
            m->health = SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_BEHIND;
            m->health_reason = sfp_arena_printf(a, "%s (active site)", m->health_reason);
        }
        if (m->health == HEALTH_ON_TRACK) m->health_reason = "";
    }
    qsort(sorted, nc, sizeof *sorted, cmp_cards);
    Sfpermits__V1__BriefPropertyHealth **list = sfp_arena_alloc(a, (nc ? nc : 1) * sizeof *list);
    for (size_t k = 0; k < nc; k++) list[k] = sorted[k]->m;
    *out = list;
    *nout = nc > SFP_BRIEF_MAX_CARDS ? SFP_BRIEF_MAX_CARDS : nc;
}

/* ---------- dataset sections ---------- */

bool sfp_brief_days_until(const char *date, int32_t today, int32_t *out)
{
    int32_t d = date ? sfp_sev_parse_day(date) : SFP_SEV_NO_DATE;
    if (d == SFP_SEV_NO_DATE) return false;
    *out = d - today;
    return true;
}

bool sfp_brief_compliance_in_window(int32_t days_until)
{
    return days_until >= -SFP_BRIEF_COMPLIANCE_EXPIRED_DAYS && days_until <= SFP_BRIEF_COMPLIANCE_AHEAD_DAYS;
}

static int cmp_compliance(const void *pa, const void *pb)
{
    const Sfpermits__V1__BriefComplianceItem *a = *(Sfpermits__V1__BriefComplianceItem *const *)pa;
    const Sfpermits__V1__BriefComplianceItem *b = *(Sfpermits__V1__BriefComplianceItem *const *)pb;
    if (a->days_until != b->days_until) return a->days_until < b->days_until ? -1 : 1;
    return strcmp(nz(a->permit_number), nz(b->permit_number));
}

void sfp_brief_sort_compliance(Sfpermits__V1__BriefComplianceItem **items, size_t n)
{
    if (n > 1) qsort(items, n, sizeof *items, cmp_compliance);
}

void sfp_brief_data_quality_rate(Sfpermits__V1__BriefDataQuality *dq)
{
    if (dq->sampled <= 0) {
        dq->match_rate_pct = 0;
        dq->status = SFPERMITS__V1__DATA_QUALITY_STATUS__DATA_QUALITY_STATUS_UNKNOWN;
        return;
    }
    dq->match_rate_pct = round((double)dq->matched * 1000.0 / (double)dq->sampled) / 10.0;
    dq->status = dq->match_rate_pct < SFP_BRIEF_DQ_WARN_PCT
                     ? SFPERMITS__V1__DATA_QUALITY_STATUS__DATA_QUALITY_STATUS_WARN
                     : SFPERMITS__V1__DATA_QUALITY_STATUS__DATA_QUALITY_STATUS_OK;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (!*s || tolower((unsigned char)*s) != *prefix) return false;
    return true;
}

bool sfp_brief_planning_is_open(const char *status)
{
    if (!status) return true;
    while (*status == ' ') status++;
    return !starts_with_ci(status, "closed") && !starts_with_ci(status, "withdrawn");
}

char *sfp_brief_pipeline_description(const char *planning, const char *dbi, sfp_arena *a)
{
    const char *d = planning && *planning ? planning : nz(dbi);
    return sfp_arena_strndup(a, d, 120);
}

void sfp_brief_fill_summary(Sfpermits__V1__Brief *r, int32_t total_watches, sfp_arena *a)
{
    Sfpermits__V1__BriefSummary *s = sfp_arena_msg(a, &sfpermits__v1__brief_summary__descriptor);
    s->total_watches = total_watches;
    s->total_properties = (int32_t)r->n_property_health;
    s->changes_count = (int32_t)r->n_changes;
    s->plan_reviews_count = (int32_t)r->n_plan_reviews;
    s->inspections_count = (int32_t)r->n_inspections;
    s->new_filings_count = (int32_t)r->n_new_filings;
    s->expiring_count = (int32_t)r->n_expiring;
    s->team_count = (int32_t)r->n_team_activity;
    s->regulatory_count = (int32_t)r->n_regulatory_alerts;
    s->planning_context_count = (int32_t)r->n_planning_context;
    s->compliance_calendar_count = (int32_t)r->n_compliance_calendar;
    s->street_use_count = (int32_t)r->n_street_use_activity;
    s->nearby_development_count = (int32_t)r->n_nearby_development;
    for (size_t i = 0; i < r->n_health; i++) {
        Sfpermits__V1__PredictabilityStatus st = r->health[i]->status;
        if (st == SFPERMITS__V1__PREDICTABILITY_STATUS__PREDICTABILITY_STATUS_BEHIND ||
            st == SFPERMITS__V1__PREDICTABILITY_STATUS__PREDICTABILITY_STATUS_AT_RISK)
            s->at_risk_count++;
    }
    for (size_t i = 0; i < r->n_property_health; i++)
        if (r->property_health[i]->enforcement_total > 0) s->enforcement_count++;
    r->summary = s;
}

/* ---------- property activity (changes) ---------- */

typedef struct strset {
    char **v;
    size_t n, cap;
} strset;

static bool strset_has(const strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) return true;
    return false;
}

static void strset_add(strset *s, const char *x, sfp_arena *a)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = sfp_arena_alloc(a, cap * sizeof *v);
        if (s->n) memcpy(v, s->v, s->n * sizeof *v);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = sfp_arena_strdup(a, x);
}

static void push_change(Sfpermits__V1__Brief *r, size_t *cap, Sfpermits__V1__BriefChange *c, sfp_arena *a)
{
    if (r->n_changes == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        Sfpermits__V1__BriefChange **v = sfp_arena_alloc(a, nc * sizeof *v);
        if (r->n_changes) memcpy(v, r->changes, r->n_changes * sizeof *v);
        r->changes = v;
        *cap = nc;
    }
    r->changes[r->n_changes++] = c;
}

static Sfpermits__V1__BriefChange *new_change(sfp_arena *a)
{
    Sfpermits__V1__BriefChange *c = sfp_arena_msg(a, &sfpermits__v1__brief_change__descriptor);
    c->old_status = c->latest_permit_status = c->health_reason = "";
    c->block = c->lot = "";
    return c;
}

void sfp_brief_add_property_activity(Sfpermits__V1__Brief *r, const sfp_brief_permit_row *rows, size_t n,
                                     int32_t since_day, int32_t lookback, sfp_arena *a)
{
    strset seen_addr = {0}, seen_change = {0};
    char norm[240];
    for (size_t i = 0; i < r->n_changes; i++) {
        const Sfpermits__V1__BriefChange *c = r->changes[i];
        sfp_brief_address_norm(c->street_number, c->street_name, norm, sizeof norm);
        if (*norm && !strset_has(&seen_addr, norm)) strset_add(&seen_addr, norm, a);
        char k[96];
        snprintf(k, sizeof k, "%.40s|%.10s", nz(c->permit_number), nz(c->change_date));
        strset_add(&seen_change, k, a);
    }
    size_t cap = r->n_changes;
    char **titles = NULL; /* each row's card title, computed once when a card first needs them */
    for (size_t ci = 0; ci < r->n_property_health; ci++) {
        const Sfpermits__V1__BriefPropertyHealth *m = r->property_health[ci];
        if (!m->optional_days_since_activity_case || m->days_since_activity > lookback) continue;
        if (!titles) {
            titles = sfp_arena_alloc(a, (n ? n : 1) * sizeof *titles);
            for (size_t i = 0; i < n; i++) {
                char key[240], title[240];
                sfp_brief_address_key(rows[i].street_number, rows[i].street_name, rows[i].street_suffix, rows[i].block,
                                      rows[i].lot, key, sizeof key);
                card_title(&rows[i], key, title, sizeof title);
                titles[i] = sfp_arena_strdup(a, title);
            }
        }
        /* the card's rows: same grouping key → same displayed address */
        const sfp_brief_permit_row *first = NULL;
        int added = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(titles[i], m->address)) continue;
            if (!first) {
                first = &rows[i];
                sfp_brief_address_norm(first->street_number, first->street_name, norm, sizeof norm);
                if (*norm && strset_has(&seen_addr, norm)) break; /* already represented */
            }
            const sfp_brief_permit_row *x = &rows[i];
            int32_t d = sfp_sev_parse_day(x->status_date);
            if (added >= 10 || d == SFP_SEV_NO_DATE || d < since_day) continue;
            char k[96];
            snprintf(k, sizeof k, "%.40s|%.10s", nz(x->permit_number), nz(x->status_date));
            if (strset_has(&seen_change, k)) continue;
            Sfpermits__V1__BriefChange *c = new_change(a);
            c->permit_number = sfp_arena_strdup(a, nz(x->permit_number));
            c->change_date = sfp_arena_strndup(a, nz(x->status_date), 10);
            char up[64];
            upper_copy(nz(x->status), up, sizeof up);
            c->new_status = sfp_arena_strdup(a, up);
            c->change_type = "status";
            c->permit_type = sfp_arena_strdup(a, nz(x->permit_type));
            c->street_number = sfp_arena_strdup(a, nz(x->street_number));
            c->street_name = sfp_arena_strdup(a, nz(x->street_name));
            c->neighborhood = sfp_arena_strdup(a, nz(x->neighborhood));
            c->block = sfp_arena_strdup(a, nz(x->block));
            c->lot = sfp_arena_strdup(a, nz(x->lot));
            c->label = m->label;
            c->watch_type = "property";
            push_change(r, &cap, c, a);
            added++;
        }
        if (!first || (*norm && strset_has(&seen_addr, norm))) continue;
        if (!added) {
            Sfpermits__V1__BriefChange *c = new_change(a);
            c->permit_number = m->latest_permit;
            c->change_date = m->latest_activity;
            c->new_status = c->change_type = "activity";
            c->permit_type = "";
            c->street_number = sfp_arena_strdup(a, nz(first->street_number));
            c->street_name = sfp_arena_strdup(a, nz(first->street_name));
            c->neighborhood = m->neighborhood;
            c->block = m->block;
            c->lot = m->lot;
            c->label = m->label;
            c->watch_type = "property";
            c->latest_permit_status = m->latest_permit_status;
            c->total_permits = m->total_permits;
            c->active_permits = m->active_permits;
            c->health = m->health;
            c->optional_health_case = SFPERMITS__V1__BRIEF_CHANGE__OPTIONAL_HEALTH_HEALTH;
            c->health_reason = m->health_reason;
            c->optional_days_since_activity_case =
                (m->optional_days_since_activity_case)
                    ? SFPERMITS__V1__BRIEF_CHANGE__OPTIONAL_DAYS_SINCE_ACTIVITY_DAYS_SINCE_ACTIVITY
                    : SFPERMITS__V1__BRIEF_CHANGE__OPTIONAL_DAYS_SINCE_ACTIVITY__NOT_SET;
            c->days_since_activity = m->days_since_activity;
            push_change(r, &cap, c, a);
        }
        if (*norm) strset_add(&seen_addr, norm, a);
    }
}

/* ---------- predictability ---------- */

const char *sfp_brief_cost_bracket(double c)
{
    if (c < 50000) return "under_50k";
    if (c < 150000) return "50k_150k";
    if (c < 500000) return "150k_500k";
    return "over_500k";
}

const char *sfp_brief_review_path(const char *type)
{
    return contains_ci(type, "otc") ? "otc" : "in_house";
}

const char *sfp_brief_predictability_status(int elapsed, int p50, int p75, int p90)
{
    if (elapsed <= p50) return "on_track";
    if (elapsed <= p75) return "slower";
    if (elapsed <= p90) return "behind";
    return "at_risk";
}

int sfp_brief_pct_of_typical(int elapsed, int p50)
{
    if (p50 <= 0) return 0;
    return (int)lround((double)elapsed / p50 * 100.0);
}

static int cmp_pred(const void *pa, const void *pb)
{
    const Sfpermits__V1__BriefPredictability *a = *(Sfpermits__V1__BriefPredictability *const *)pa;
    const Sfpermits__V1__BriefPredictability *b = *(Sfpermits__V1__BriefPredictability *const *)pb;
    int ra = (int)a->status, rb = (int)b->status; /* PredictabilityStatus is ordered best to worst */
    if (ra != rb) return rb - ra;
    if (a->pct_of_typical != b->pct_of_typical) return b->pct_of_typical - a->pct_of_typical;
    return strcmp(a->permit_number, b->permit_number);
}

void sfp_brief_sort_predictability(Sfpermits__V1__BriefPredictability **items, size_t n)
{
    if (n > 1) qsort(items, n, sizeof *items, cmp_pred);
}

/* ---------- property synopsis ---------- */

static int cmp_count(const void *pa, const void *pb)
{
    const Sfpermits__V1__BriefCount *a = *(Sfpermits__V1__BriefCount *const *)pa;
    const Sfpermits__V1__BriefCount *b = *(Sfpermits__V1__BriefCount *const *)pb;
    if (a->count != b->count) return b->count - a->count;
    return strcmp(a->name, b->name);
}

/* Adds 1 to name's count in the list (bounded by cap entries). */
static void count_in(Sfpermits__V1__BriefCount **v, size_t *n, size_t cap, const char *name, sfp_arena *a)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(v[i]->name, name)) {
            v[i]->count++;
            return;
        }
    if (*n >= cap) return;
    Sfpermits__V1__BriefCount *c = sfp_arena_msg(a, &sfpermits__v1__brief_count__descriptor);
    c->name = sfp_arena_strdup(a, name);
    c->count = 1;
    v[(*n)++] = c;
}

Sfpermits__V1__BriefPropertySynopsis *sfp_brief_build_synopsis(const char *street_number, const char *street_name,
                                                               const sfp_brief_synopsis_row *rows, size_t n,
                                                               sfp_arena *a)
{
    if (!n) return NULL;
    Sfpermits__V1__BriefPropertySynopsis *s = sfp_arena_msg(a, &sfpermits__v1__brief_property_synopsis__descriptor);
    char addr[240], title[240];
    snprintf(addr, sizeof addr, "%s %s", nz(street_number), nz(street_name));
    trim(addr);
    sfp_brief_title_case(addr, title, sizeof title);
    s->address = sfp_arena_strdup(a, title);
    s->total_permits = (int32_t)n;
    Sfpermits__V1__BriefCount **status = sfp_arena_alloc(a, n * sizeof *status);
    Sfpermits__V1__BriefCount **types = sfp_arena_alloc(a, n * sizeof *types);
    size_t ns = 0, nt = 0;
    const sfp_brief_synopsis_row *latest = NULL;
    const char *earliest = NULL, *newest = NULL;
    for (size_t i = 0; i < n; i++) {
        const sfp_brief_synopsis_row *r = &rows[i];
        if (sfp_permit_in(r->status, SFP_PERMITS_ON_CLOCK)) s->active_count++;
        if (sfp_permit_status_of(r->status) == SFP_PST_COMPLETE) s->completed_count++;
        count_in(status, &ns, n, blank(r->status) ? "unknown" : r->status, a);
        count_in(types, &nt, n, blank(r->permit_type_definition) ? "unknown" : r->permit_type_definition, a);
        if (!blank(r->filed_date)) {
            if (!earliest || strncmp(r->filed_date, earliest, 10) < 0) earliest = r->filed_date;
            if (!newest || strncmp(r->filed_date, newest, 10) > 0) newest = r->filed_date;
            int c = latest ? strncmp(r->filed_date, latest->filed_date, 10) : 1;
            if (c > 0 || (c == 0 && strcmp(nz(r->permit_number), nz(latest->permit_number)) > 0)) latest = r;
        }
    }
    if (!latest) latest = &rows[0];
    s->neighborhood = sfp_arena_strdup(a, nz(latest->neighborhood));
    s->block = sfp_arena_strdup(a, nz(latest->block));
    s->lot = sfp_arena_strdup(a, nz(latest->lot));
    s->earliest_date = earliest ? sfp_arena_strndup(a, earliest, 10) : "";
    s->latest_date = newest ? sfp_arena_strndup(a, newest, 10) : "";
    Sfpermits__V1__BriefSynopsisPermit *lp = sfp_arena_msg(a, &sfpermits__v1__brief_synopsis_permit__descriptor);
    lp->permit_number = sfp_arena_strdup(a, nz(latest->permit_number));
    lp->type = sfp_arena_strdup(a, nz(latest->permit_type_definition));
    lp->status = sfp_arena_strdup(a, nz(latest->status));
    lp->filed_date = sfp_arena_strndup(a, nz(latest->filed_date), 10);
    lp->description = sfp_arena_strndup(a, nz(latest->description), 120);
    s->latest_permit = lp;
    /* status counts by name (a JSON object), types by count */
    qsort(status, ns, sizeof *status, cmp_count);
    s->status_counts = sfp_arena_alloc(a, (ns ? ns : 1) * sizeof *s->status_counts);
    for (size_t i = 0; i < ns; i++) {
        Sfpermits__V1__BriefPropertySynopsis__StatusCountsEntry *e =
            sfp_arena_msg(a, &sfpermits__v1__brief_property_synopsis__status_counts_entry__descriptor);
        e->key = status[i]->name;
        e->value = status[i]->count;
        s->status_counts[s->n_status_counts++] = e;
    }
    qsort(types, nt, sizeof *types, cmp_count);
    s->top_types = types;
    s->n_top_types = nt > 5 ? 5 : nt;
    return s;
}
