/* severity.c — see severity.h. Pure: no I/O, no globals beyond constant tables. */
#include "severity.h"

#include "civil_date.h"
#include "permit_status.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const k_category_names[SFP_SEV_CAT_COUNT] = {
    "seismic_structural",
    "fire_safety",
    "adu",
    "new_construction",
    "kitchen_bath",
    "electrical",
    "plumbing",
    "structural",
    "windows_doors",
    "reroofing",
    "solar",
    "demolition",
    "general",
};

/* Keyword groups in matching order (the first group with a hit wins). */
static const char *const k_keywords[SFP_SEV_CAT_GENERAL][12] = {
    [SFP_SEV_CAT_SEISMIC_STRUCTURAL] = {"seismic", "earthquake", "retrofit", "soft story", "foundation bolting",
                                        "brace and bolt", "cripple wall", "ebb", "house bolting", NULL},
    [SFP_SEV_CAT_FIRE_SAFETY] = {"fire alarm", "fire sprinkler", "fire suppression", "fire escape", "fire rated",
                                 "smoke detector", "fire protection", NULL},
    [SFP_SEV_CAT_ADU] = {"adu", "accessory dwelling", "in-law", "granny flat", "garage conversion to dwelling",
                         "secondary unit", NULL},
    [SFP_SEV_CAT_NEW_CONSTRUCTION] = {"new construction", "new building", "ground up", "erect", "new structure",
                                      "construct new", NULL},
    [SFP_SEV_CAT_KITCHEN_BATH] = {"kitchen remodel", "bathroom remodel", "kitchen renovation", "bath renovation",
                                  "new kitchen", "new bathroom", NULL},
    [SFP_SEV_CAT_ELECTRICAL] = {"electrical", "wiring", "panel upgrade", "service upgrade", "outlet", "circuit", NULL},
    [SFP_SEV_CAT_PLUMBING] = {"plumbing", "water heater", "sewer", "drain", "gas line", "water line", "repipe", NULL},
    [SFP_SEV_CAT_STRUCTURAL] = {"structural", "load bearing", "shear wall", "foundation", "beam", "column",
                                "retaining wall", NULL},
    [SFP_SEV_CAT_WINDOWS_DOORS] = {"window", "door", "skylight", "glazing", NULL},
    [SFP_SEV_CAT_REROOFING] = {"reroof", "re-roof", "roofing", "new roof", "roof replacement", NULL},
    [SFP_SEV_CAT_SOLAR] = {"solar", "photovoltaic", "pv panel", "battery storage", "ev charger", "ev charging", NULL},
    [SFP_SEV_CAT_DEMOLITION] = {"demolition", "demolish", "tear down", "raze", NULL},
};

static const double k_expected_inspections[SFP_SEV_CAT_COUNT] = {
    [SFP_SEV_CAT_SEISMIC_STRUCTURAL] = 4.2,
    [SFP_SEV_CAT_FIRE_SAFETY] = 3.5,
    [SFP_SEV_CAT_ADU] = 6.8,
    [SFP_SEV_CAT_NEW_CONSTRUCTION] = 8.5,
    [SFP_SEV_CAT_KITCHEN_BATH] = 3.0,
    [SFP_SEV_CAT_ELECTRICAL] = 2.5,
    [SFP_SEV_CAT_PLUMBING] = 2.5,
    [SFP_SEV_CAT_STRUCTURAL] = 4.0,
    [SFP_SEV_CAT_WINDOWS_DOORS] = 1.5,
    [SFP_SEV_CAT_REROOFING] = 1.2,
    [SFP_SEV_CAT_SOLAR] = 1.5,
    [SFP_SEV_CAT_DEMOLITION] = 2.0,
    [SFP_SEV_CAT_GENERAL] = 2.0,
};

static const double k_category_risk[SFP_SEV_CAT_COUNT] = {
    [SFP_SEV_CAT_SEISMIC_STRUCTURAL] = 100,
    [SFP_SEV_CAT_STRUCTURAL] = 90,
    [SFP_SEV_CAT_FIRE_SAFETY] = 85,
    [SFP_SEV_CAT_NEW_CONSTRUCTION] = 80,
    [SFP_SEV_CAT_ADU] = 70,
    [SFP_SEV_CAT_DEMOLITION] = 65,
    [SFP_SEV_CAT_ELECTRICAL] = 55,
    [SFP_SEV_CAT_PLUMBING] = 50,
    [SFP_SEV_CAT_KITCHEN_BATH] = 45,
    [SFP_SEV_CAT_WINDOWS_DOORS] = 25,
    [SFP_SEV_CAT_SOLAR] = 20,
    [SFP_SEV_CAT_REROOFING] = 10,
    [SFP_SEV_CAT_GENERAL] = 30,
};

static const struct {
    const char *name, *label;
    double weight;
} k_dims[SFP_SEV_DIM_COUNT] = {
    [SFP_SEV_DIM_INSPECTION] = {"inspection_activity", "Inspection Activity", 0.25},
    [SFP_SEV_DIM_AGE] = {"age_staleness", "Age / Staleness", 0.25},
    [SFP_SEV_DIM_EXPIRATION] = {"expiration_proximity", "Expiration Proximity", 0.20},
    [SFP_SEV_DIM_COST] = {"cost_tier", "Cost Tier", 0.15},
    [SFP_SEV_DIM_CATEGORY] = {"category_risk", "Category Risk", 0.15},
};

int32_t sfp_sev_parse_day(const char *s)
{
    int32_t day;
    return sfp_parse_iso_day(s, &day) ? SFP_SEV_NO_DATE : day;
}

static bool contains_ci(const char *hay, const char *needle)
{
    /* hay is already lower-case */
    return strstr(hay, needle) != NULL;
}

sfp_sev_category sfp_sev_classify(const char *description, const char *permit_type_definition)
{
    char text[1024];
    snprintf(text, sizeof text, "%s %s", description ? description : "",
             permit_type_definition ? permit_type_definition : "");
    for (char *p = text; *p; p++) *p = (char)tolower((unsigned char)*p);
    for (int c = 0; c < SFP_SEV_CAT_GENERAL; c++)
        for (int k = 0; k_keywords[c][k]; k++)
            if (contains_ci(text, k_keywords[c][k])) return (sfp_sev_category)c;
    return SFP_SEV_CAT_GENERAL;
}

const char *sfp_sev_category_name(sfp_sev_category c)
{
    return (c >= 0 && c < SFP_SEV_CAT_COUNT) ? k_category_names[c] : "general";
}
const char *sfp_sev_dim_name(sfp_sev_dim d)
{
    return (d >= 0 && d < SFP_SEV_DIM_COUNT) ? k_dims[d].name : "";
}
const char *sfp_sev_dim_label(sfp_sev_dim d)
{
    return (d >= 0 && d < SFP_SEV_DIM_COUNT) ? k_dims[d].label : "";
}
double sfp_sev_dim_weight(sfp_sev_dim d)
{
    return (d >= 0 && d < SFP_SEV_DIM_COUNT) ? k_dims[d].weight : 0;
}

const char *sfp_sev_tier_for_score(int score)
{
    if (score >= 80) return "CRITICAL";
    if (score >= 60) return "HIGH";
    if (score >= 40) return "MEDIUM";
    if (score >= 20) return "LOW";
    return "GREEN";
}

static const char *tier_text(const char *tier)
{
    if (!strcmp(tier, "CRITICAL")) return "Requires immediate attention";
    if (!strcmp(tier, "HIGH")) return "Significant risk factors present";
    if (!strcmp(tier, "MEDIUM")) return "Moderate risk \xe2\x80\x94 monitor closely";
    if (!strcmp(tier, "LOW")) return "Minor risk factors";
    return "On track, no action needed";
}

int sfp_sev_validity_days(const char *permit_type_definition, double cost)
{
    char t[256];
    snprintf(t, sizeof t, "%s", permit_type_definition ? permit_type_definition : "");
    for (char *p = t; *p; p++) *p = (char)tolower((unsigned char)*p);
    if (strstr(t, "demolition")) return 180;
    if (cost >= 2500000) return 1440;
    if (cost >= 100001) return 1080;
    return 360;
}

double sfp_round_half_even(double x, int ndigits)
{
    static const double k_pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    if (!isfinite(x)) return x;
    if (ndigits < 0) ndigits = 0;
    if (ndigits > 15) ndigits = 15;
    const double p = k_pow10[ndigits];
    const double y = x * p;                          /* x·p rounded to a double */
    if (!isfinite(y) || fabs(y) >= 0x1p52) return x; /* no fractional digits left at this scale */
    /* y is within half an ulp of the exact x·p, so it can only land ON a half-integer, never
     * cross one: rint(y) is right unless y is exactly k + 0.5. Then the product's rounding
     * error (exact with fma) says on which side of the tie the exact x·p lies. */
    double r = rint(y); /* ties to even in the default rounding mode */
    const double f = floor(y);
    if (y - f == 0.5) {
        const double e = fma(x, p, -y); /* exact: x·p − y */
        if (e > 0) r = f + 1;
        else if (e < 0) r = f;
    }
    return r / p; /* r and p exact: the division gives the double nearest r / 10^ndigits */
}

static double clamp100(double x)
{
    return x < 0 ? 0 : x > 100 ? 100 : x;
}

static bool is_life_safety(sfp_sev_category c)
{
    return c == SFP_SEV_CAT_SEISMIC_STRUCTURAL || c == SFP_SEV_CAT_FIRE_SAFETY || c == SFP_SEV_CAT_STRUCTURAL;
}

static double inspection_activity(const char *st, const sfp_sev_input *in, sfp_sev_category cat, int32_t today)
{
    if (!*st || sfp_permit_in(st, SFP_PERMITS_UNINSPECTED)) return 0; /* no inspection due yet */
    double expected = k_expected_inspections[cat];
    int n = in->inspection_count < 0 ? 0 : in->inspection_count;
    if (!strcmp(st, "complete")) {
        if (n == 0) {
            if (is_life_safety(cat)) return 90;
            if (cat == SFP_SEV_CAT_KITCHEN_BATH || cat == SFP_SEV_CAT_ADU || cat == SFP_SEV_CAT_NEW_CONSTRUCTION)
                return 70;
            return 30;
        }
        double ratio = n / expected;
        return ratio >= 1 ? 0 : (1 - ratio) * 50;
    }
    if (!strcmp(st, "issued") && in->issued_day != SFP_SEV_NO_DATE) {
        int days_issued = today - in->issued_day;
        if (days_issued < 30) return 0;
        if (n == 0) {
            double staleness = days_issued / 365.0;
            if (staleness > 2) staleness = 2;
            return is_life_safety(cat) ? 40 + 30 * staleness : 20 + 20 * staleness;
        }
        double ratio = n / expected;
        return ratio >= 0.5 ? 0 : (0.5 - ratio) * 40;
    }
    return 0;
}

/* Caps in this order: filing age at 100; (filing age + inactivity boost ≤ 40) at 100; only
 * then × 0.1 for a complete permit (so ≤ 10). The same operations in the same order as the
 * system this one replaces, so the doubles are bit-identical. */
static double age_staleness(const char *st, const sfp_sev_input *in, int32_t today)
{
    double s = 0;
    if (in->filed_day != SFP_SEV_NO_DATE) {
        int days_filed = today - in->filed_day;
        if (days_filed > 0) s = clamp100(days_filed / 1460.0 * 100.0);
    }
    if (in->status_day != SFP_SEV_NO_DATE) {
        int days_since = today - in->status_day;
        if (days_since > 60) {
            double boost = (days_since - 60) / 300.0 * 40.0;
            if (boost > 40) boost = 40;
            s = clamp100(s + boost);
        }
    }
    if (!strcmp(st, "complete")) s *= 0.1;
    return clamp100(s);
}

static double cost_of(const sfp_sev_input *in)
{
    return in->has_revised_cost ? in->revised_cost : in->estimated_cost;
}

static double expiration_proximity(const char *st, const sfp_sev_input *in, int32_t today, int *expires_in,
                                   bool *applies)
{
    *applies = false;
    *expires_in = 0;
    if (strcmp(st, "issued") || in->issued_day == SFP_SEV_NO_DATE) return 0;
    *applies = true;
    int validity = sfp_sev_validity_days(in->permit_type_definition, cost_of(in));
    int e = validity - (today - in->issued_day);
    *expires_in = e;
    if (e <= 0) return 100;
    if (e <= 30) return 90;
    if (e <= 90) return 70;
    if (e <= 180) return 50;
    if (e <= 360) return (360 - e) / 180.0 * 25;
    return 0;
}

static double cost_tier(const sfp_sev_input *in)
{
    double c = cost_of(in);
    if (c <= 0) return 0;
    if (c >= 2500000) return 100;
    if (c >= 1000000) return 80;
    if (c >= 500000) return 60;
    if (c >= 200000) return 40;
    if (c >= 50000) return 20;
    return 10;
}

void sfp_severity_score(const sfp_sev_input *in, int32_t today, sfp_sev_result *out)
{
    memset(out, 0, sizeof *out);
    char st[32];
    snprintf(st, sizeof st, "%s", in->status ? in->status : "");
    for (char *p = st; *p; p++) *p = (char)tolower((unsigned char)*p);
    /* the reference strips nothing else; trailing blanks would make no status match */
    sfp_sev_category cat = sfp_sev_classify(in->description, in->permit_type_definition);
    out->category = cat;

    double raw[SFP_SEV_DIM_COUNT];
    bool exp_applies;
    raw[SFP_SEV_DIM_INSPECTION] = clamp100(inspection_activity(st, in, cat, today));
    raw[SFP_SEV_DIM_AGE] = age_staleness(st, in, today);
    raw[SFP_SEV_DIM_EXPIRATION] = clamp100(expiration_proximity(st, in, today, &out->expires_in, &exp_applies));
    raw[SFP_SEV_DIM_COST] = cost_tier(in);
    raw[SFP_SEV_DIM_CATEGORY] = k_category_risk[cat];
    out->expired = exp_applies && out->expires_in <= 0;

    /* score from the unrounded dimensions, summed in dimension order; top driver from the
     * dimensions rounded to 1 decimal × weight, the first dimension winning a tie */
    double total = 0, best = -1;
    for (int d = 0; d < SFP_SEV_DIM_COUNT; d++) {
        total += raw[d] * k_dims[d].weight;
        out->dims[d] = sfp_round_half_even(raw[d], 1);
        double contribution = out->dims[d] * k_dims[d].weight;
        if (contribution > best) {
            best = contribution;
            out->top_driver = (sfp_sev_dim)d;
        }
    }
    out->score = (int)sfp_round_half_even(clamp100(total), 0);
    out->tier = sfp_sev_tier_for_score(out->score);
    out->confidence = (!strcmp(st, "issued") && in->inspection_count <= 0) ? "medium" : "high";

    char clause[128] = "";
    switch (out->top_driver) {
    case SFP_SEV_DIM_EXPIRATION:
        if (exp_applies) {
            if (out->expires_in <= 0) snprintf(clause, sizeof clause, "Permit expired %d days ago", -out->expires_in);
            else snprintf(clause, sizeof clause, "Permit expires in %d days", out->expires_in);
        }
        break;
    case SFP_SEV_DIM_AGE:
        if (in->filed_day != SFP_SEV_NO_DATE) {
            int n = snprintf(clause, sizeof clause, "Filed %d days ago", today - in->filed_day);
            if (in->status_day != SFP_SEV_NO_DATE && today - in->status_day > 60 && n > 0)
                snprintf(clause + n, sizeof clause - (size_t)n, ". No activity in %d days", today - in->status_day);
        }
        break;
    case SFP_SEV_DIM_INSPECTION:
        snprintf(clause, sizeof clause, "%d inspections (expected ~%.0f for %s)",
                 in->inspection_count < 0 ? 0 : in->inspection_count, k_expected_inspections[cat],
                 k_category_names[cat]);
        break;
    default: break;
    }
    int n = snprintf(out->explanation, sizeof out->explanation, "%s. Top driver: %s (%.0f/100)", tier_text(out->tier),
                     k_dims[out->top_driver].label, out->dims[out->top_driver]);
    if (clause[0] && n > 0 && (size_t)n < sizeof out->explanation)
        snprintf(out->explanation + n, sizeof out->explanation - (size_t)n, ". %s", clause);
}
