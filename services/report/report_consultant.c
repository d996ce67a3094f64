#include "report_consultant.h"

#include <math.h>
#include <string.h>

#include "report_risk.h"
#include "report_status.h"
#include "report_text.h"

const char *sfp_rpt_signal_tier(int score)
{
    if (score <= 0) return "cold";
    if (score <= 2) return "warm";
    if (score <= 4) return "recommended";
    if (score <= 7) return "strongly_recommended";
    return "essential";
}

const char *sfp_rpt_signal_message(const char *tier)
{
    if (!strcmp(tier, "cold")) return "Nothing in the public record suggests this project needs a permit consultant.";
    if (!strcmp(tier, "warm"))
        return "A few factors add complexity; a permit consultant could help but is not essential.";
    if (!strcmp(tier, "recommended")) return "Several risk factors apply; a permit consultant is recommended.";
    if (!strcmp(tier, "strongly_recommended"))
        return "Significant risk factors apply; a permit consultant is strongly recommended.";
    return "Serious, compounding risk factors apply; engaging a permit consultant is essential.";
}

void sfp_rpt_signal_compute(const sfp_rpt_signal_input *in, sfp_arena *a, sfp_rpt_signal *out)
{
    memset(out, 0, sizeof *out);
    out->factors = sfp_arena_alloc(a, sizeof(char *) * 8);
    int score = 0;
#define FACTOR(pts, ...)                                                   \
    do {                                                                   \
        score += (pts);                                                    \
        out->factors[out->n_factors++] = sfp_arena_printf(a, __VA_ARGS__); \
    } while (0)

    for (size_t i = 0; i < in->n_complaints; i++) {
        if (sfp_rpt_is_active_complaint(sfp_rpt_rec_first(&in->complaints[i], SFP_RPT_STATUS_KEYS))) {
            FACTOR(3, "Active DBI complaint");
            break;
        }
    }
    for (size_t i = 0; i < in->n_violations; i++) {
        if (sfp_rpt_is_active_violation(sfp_rpt_rec_first(&in->violations[i], SFP_RPT_STATUS_KEYS))) {
            FACTOR(2, "Prior notices of violation");
            break;
        }
    }
    bool has_max = false;
    double max = 0;
    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (p->has_estimated_cost && (!has_max || p->estimated_cost > max)) max = p->estimated_cost, has_max = true;
    }
    char money[48];
    sfp_rpt_fmt_money(max, money, sizeof money);
    if (has_max && max > 500000.0) FACTOR(2, "Permit cost > $500K (%s)", money);
    else if (has_max && max > 100000.0) FACTOR(1, "Permit cost > $100K (%s)", money);

    for (size_t i = 0; i < in->n_permits; i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (!p->has_estimated_cost || !(p->estimated_cost > 0) || !p->has_revised_cost || p->revised_cost == 0)
            continue;
        if (fabs(p->revised_cost - p->estimated_cost) / p->estimated_cost > 0.5) {
            char from[48], to[48];
            sfp_rpt_fmt_money(p->estimated_cost, from, sizeof from);
            sfp_rpt_fmt_money(p->revised_cost, to, sizeof to);
            FACTOR(2, "Cost revision > 50%% (permit %s: %s → %s)", p->permit_number, from, to);
            break;
        }
    }
    if (in->property && in->property->present && sfp_rpt_restrictive_zoning(in->property->zoning_code)) {
        char z[32];
        sfp_rpt_upper_trim(in->property->zoning_code, z, sizeof z);
        FACTOR(1, "Restrictive zoning (%s)", z);
    }

    bool stalled = false, revisions = false;
    for (size_t i = 0; i < in->n_permits && !(stalled && revisions); i++) {
        const sfp_rpt_permit *p = &in->permits[i];
        if (!p->routing || !sfp_permit_in(p->status, SFP_PERMITS_IN_REVIEW)) continue;
        if (!stalled && p->routing->n_stalled) {
            stalled = true;
            FACTOR(2, "Stalled plan review station (permit %s: %s, %d days)", p->permit_number,
                   p->routing->stalled[0].station, (int)p->routing->stalled[0].days);
        }
        if (!revisions && p->routing->addenda_number >= 3) {
            revisions = true;
            FACTOR(1, "Multiple revision cycles (permit %s, addenda #%d)", p->permit_number,
                   (int)p->routing->addenda_number);
        }
    }
#undef FACTOR
    out->score = score;
    out->signal = sfp_rpt_signal_tier(score);
    out->message = sfp_rpt_signal_message(out->signal);
}
