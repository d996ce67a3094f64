#include "report_types.h"

#include <string.h>

#include "report_text.h"

const char *const SFP_RPT_COMPLAINT_NUMBER_KEYS[] = {"complaint_number", NULL};
const char *const SFP_RPT_COMPLAINT_DESC_KEYS[] = {"complaint_description", "complaint_type", "description", NULL};
const char *const SFP_RPT_VIOLATION_ID_KEYS[] = {"complaint_number", "nov_number", "violation_number", NULL};
const char *const SFP_RPT_VIOLATION_DESC_KEYS[] = {"nov_category_description", "nov_item_description", "item",
                                                   "violation_type",           "description",          NULL};
const char *const SFP_RPT_DATE_FILED_KEYS[] = {"date_filed", NULL};
const char *const SFP_RPT_STATUS_KEYS[] = {"status", NULL};

const char *sfp_rpt_rec_get(const sfp_rpt_rec *r, const char *key)
{
    if (!r) return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->keys[i], key)) return r->vals[i] ? r->vals[i] : "";
    return NULL;
}

const char *sfp_rpt_rec_first(const sfp_rpt_rec *r, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *v = sfp_rpt_rec_get(r, *keys);
        if (!sfp_rpt_blank(v)) return v;
    }
    return "";
}

const char *sfp_rpt_severity_name(sfp_rpt_severity s)
{
    switch (s) {
    case SFP_SEV_HIGH: return "high";
    case SFP_SEV_MODERATE: return "moderate";
    default: return "low";
    }
}
