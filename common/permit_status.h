/* permit_status.h — DBI permit statuses and the named sets of them that the suite's rules use.
 * Every set is defined here once, as a C mask and, where SQL needs it, as an SQL array literal
 * with the same members (tests/unit/test_permit_status.c checks that the two agree).
 *
 * Statuses (SODA sends lowercase: filed, plancheck, approved, issued, reinstated, complete,
 * expired, cancelled, withdrawn, revoked, disapproved, suspend, ...) are classified ignoring
 * case, spaces and punctuation ("Plan Check" = plancheck, "Completed" = complete). SQL compares
 * lower(coalesce(status, '')) with the array, i.e. the canonical spellings.
 *
 * The sets differ on purpose; each is named for what it means and used by exactly the rules
 * that need it:
 *
 *   SFP_PERMITS_ON_CLOCK      filed, approved, issued, reinstated
 *       An "active" permit: its validity clock runs (Table B, SFBC 106A.4.4). The report's risk
 *       rules (multiple_active_permits, dormant_permit, aging_permit) and the brief's active
 *       permits (active_permits count, severity of the active permits, their inspections).
 *       A permit still in plan check is not counted.
 *   SFP_PERMITS_ROUTED        filed, plancheck, issued, reinstated
 *       A permit whose plan-review routing progress the report shows (routing enrichment).
 *       An approved permit shows none.
 *   SFP_PERMITS_IN_REVIEW     filed, plancheck
 *       A permit in plan review: the report's consultant signal looks at the routing factors
 *       (stalled station, revision cycles) of these only. A subset of SFP_PERMITS_ROUTED, so
 *       the routing fetched for the report serves the consultant too.
 *   SFP_PERMITS_CARD_ROUTING  filed
 *       A permit whose routing the brief's property card reads (holds, stalled stations).
 *   SFP_PERMITS_OPEN          filed, plancheck, approved, issued, reinstated
 *       Not finished, closed or suspended: parcel_summary.open_permit_count (cron nightly).
 *   SFP_PERMITS_UNINSPECTED   filed, approved
 *       Not issued yet, so no inspection is due: severity's inspection_activity is 0.
 *
 * Pure; strings returned are static. */
#ifndef SFP_PERMIT_STATUS_H
#define SFP_PERMIT_STATUS_H

#include <stdbool.h>

typedef enum {
    SFP_PST_OTHER = 0, /* unknown / suspend / blank */
    SFP_PST_FILED,
    SFP_PST_PLANCHECK,
    SFP_PST_APPROVED,
    SFP_PST_ISSUED,
    SFP_PST_REINSTATED,
    SFP_PST_COMPLETE, /* complete(d) */
    SFP_PST_CLOSED,   /* expired, cancelled, withdrawn, revoked, disapproved, denied */
    SFP_PST_COUNT
} sfp_permit_status;

#define SFP_PST_BIT(s) (1u << (unsigned)(s))

#define SFP_PERMITS_ON_CLOCK                                                                    \
    (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_APPROVED) | SFP_PST_BIT(SFP_PST_ISSUED) | \
     SFP_PST_BIT(SFP_PST_REINSTATED))
#define SFP_PERMITS_ON_CLOCK_SQL "ARRAY['filed', 'approved', 'issued', 'reinstated']"

#define SFP_PERMITS_ROUTED                                                                       \
    (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_PLANCHECK) | SFP_PST_BIT(SFP_PST_ISSUED) | \
     SFP_PST_BIT(SFP_PST_REINSTATED))

#define SFP_PERMITS_IN_REVIEW (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_PLANCHECK))

#define SFP_PERMITS_CARD_ROUTING SFP_PST_BIT(SFP_PST_FILED)
#define SFP_PERMITS_CARD_ROUTING_SQL "ARRAY['filed']"

#define SFP_PERMITS_OPEN (SFP_PERMITS_ON_CLOCK | SFP_PST_BIT(SFP_PST_PLANCHECK))
#define SFP_PERMITS_OPEN_SQL "ARRAY['filed', 'plancheck', 'approved', 'issued', 'reinstated']"

#define SFP_PERMITS_UNINSPECTED (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_APPROVED))

/* The class of a status as SODA spells it (NULL = blank = SFP_PST_OTHER). */
sfp_permit_status sfp_permit_status_of(const char *status);
/* status ∈ set (a mask of SFP_PST_BIT). */
bool sfp_permit_in(const char *status, unsigned set);
/* The canonical (SODA, lowercase) spelling of a class: "filed", "plancheck", ...; "" for
 * SFP_PST_OTHER and SFP_PST_CLOSED, which have no single spelling. */
const char *sfp_permit_status_name(sfp_permit_status s);

#endif
