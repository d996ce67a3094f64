/* report_status.h — pure classifiers of the report domain: complaint /
 * violation "is active", and block/lot validation.
 *
 * Permit statuses and their named sets (on the validity clock, routed, in review) are
 * common/permit_status.h.
 *
 * Complaint / violation status: classified by words, never by substring, so "NOT ACTIVE",
 * "inactive", "closed", "complied", "abated" are NOT active (a substring test would count
 * "NOT ACTIVE" as active). Active words: active, open, reopened, pending; for violations also
 * "nov" (e.g. "NOV issued"). Any negation or closing word wins over an active word. Unknown
 * statuses are not active. */
#ifndef SFP_REPORT_STATUS_H
#define SFP_REPORT_STATUS_H

#include <stdbool.h>

#include "permit_status.h"

/* The report's spelling of sfp_permit_in (report_db.c uses it). */
static inline bool sfp_rpt_permit_in(const char *status, unsigned set)
{
    return sfp_permit_in(status, set);
}

typedef enum { SFP_ENF_UNKNOWN = 0, SFP_ENF_ACTIVE, SFP_ENF_INACTIVE } sfp_enf_class;
/* nov_active: the word "nov" marks an active status (violations). */
sfp_enf_class sfp_rpt_enforcement_class(const char *status, bool nov_active);
bool sfp_rpt_is_active_complaint(const char *status);
bool sfp_rpt_is_active_violation(const char *status);

/* Block ^[0-9]{4}[A-Z]?$ / lot ^[0-9]{3}[A-Z]?$ after trimming ASCII whitespace. On success
 * writes the trimmed value to out (size ≥ 6) and returns 0; else -1. */
int sfp_rpt_normalize_block(const char *in, char out[6]);
int sfp_rpt_normalize_lot(const char *in, char out[6]);

#endif
