/* The gateway's GET /brief body (gateway/handlers_brief.c): with or without the etag-keyed
 * memo, the bytes are exactly the generic encoder's output for the message — including the
 * per-request tail (cached, cached_at, computed_at, ttl_seconds_remaining, etag, sql_queries),
 * which differs between hits of the same page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"

static void check_same_as_encoder(Sfpermits__V1__GetBriefResponse *m, bool want_hit)
{
    size_t n1 = 0, n2 = 0;
    bool hit = !want_hit;
    char *a = gw_brief_json(m, &n1, &hit);
    char *b = sfp_pbjson_encode(&m->base, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_int_equal(a[n1], '\0');
    assert_true(hit == want_hit);
    free(a);
    free(b);
}

static void test_memo_same_bytes(void **state)
{
    (void)state;
    gw_brief_memo_clear();
    Sfpermits__V1__GetBriefResponse m = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    Sfpermits__V1__BriefChange c = SFPERMITS__V1__BRIEF_CHANGE__INIT, *cp = &c;
    c.permit_number = "202401010001";
    c.label = "he said \"cached\":true, ok"; /* look-alike of the tail inside a string */
    m.changes = &cp;
    m.n_changes = 1;
    m.lookback_days = 7;
    m.since = "2026-01-01";
    m.etag = "0123456789abcdef0123456789abcdef";
    m.cached = false;
    m.cached_at = "";
    m.computed_at = "2026-01-08T10:00:00.000Z";
    m.ttl_seconds_remaining = 1800;
    m.sql_queries = 30;
    check_same_as_encoder(&m, false); /* first: full encoding, memoised */
    m.cached = true;
    m.cached_at = m.computed_at;
    m.ttl_seconds_remaining = 1799;
    m.sql_queries = 1;
    check_same_as_encoder(&m, true); /* hit: page from the memo + this request's tail */
    /* a different page (etag) is never served from another page's entry */
    m.etag = "ffffffffffffffffffffffffffffffff";
    m.lookback_days = 30;
    check_same_as_encoder(&m, false);
    check_same_as_encoder(&m, true);
    /* no etag: no memo */
    m.etag = "";
    check_same_as_encoder(&m, false);
    check_same_as_encoder(&m, false);
    gw_brief_memo_clear();
}

static void test_memo_bounded_lru(void **state)
{
    (void)state;
    gw_brief_memo_clear();
    Sfpermits__V1__GetBriefResponse m = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    char tag[40];
    for (int i = 0; i < 100; i++) { /* more pages than entries */
        snprintf(tag, sizeof tag, "%032d", i);
        m.etag = tag;
        m.lookback_days = i;
        check_same_as_encoder(&m, false);
    }
    snprintf(tag, sizeof tag, "%032d", 99); /* recent: still there */
    m.etag = tag;
    m.lookback_days = 99;
    check_same_as_encoder(&m, true);
    snprintf(tag, sizeof tag, "%032d", 0); /* oldest: evicted */
    m.etag = tag;
    m.lookback_days = 0;
    check_same_as_encoder(&m, false);
    gw_brief_memo_clear();
}

/* The page's sections (the new ones too) precede the per-request fields, so a page with every
 * section filled is still memoised and served from the memo with the same bytes. */
static void test_memo_with_every_section(void **state)
{
    (void)state;
    gw_brief_memo_clear();
    Sfpermits__V1__GetBriefResponse m = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    Sfpermits__V1__BriefPredictability h = SFPERMITS__V1__BRIEF_PREDICTABILITY__INIT, *hp = &h;
    h.permit_number = "202401010001";
    h.status = "at_risk";
    Sfpermits__V1__BriefTeamActivity t = SFPERMITS__V1__BRIEF_TEAM_ACTIVITY__INIT, *tp = &t;
    t.entity_name = "Test Builders";
    Sfpermits__V1__BriefRegulatoryAlert g = SFPERMITS__V1__BRIEF_REGULATORY_ALERT__INIT, *gp = &g;
    g.title = "ADU";
    Sfpermits__V1__BriefPropertySynopsis y = SFPERMITS__V1__BRIEF_PROPERTY_SYNOPSIS__INIT;
    y.address = "1455 Market";
    Sfpermits__V1__BriefPlanningContext c = SFPERMITS__V1__BRIEF_PLANNING_CONTEXT__INIT, *cp = &c;
    c.zoning_code = "C-3-G";
    Sfpermits__V1__GetBriefResponse__ChangeVelocityEntry
        v = SFPERMITS__V1__GET_BRIEF_RESPONSE__CHANGE_VELOCITY_ENTRY__INIT,
        *vp = &v;
    v.key = "status_change";
    v.value = 12;
    m.health = &hp;
    m.n_health = 1;
    m.team_activity = &tp;
    m.n_team_activity = 1;
    m.regulatory_alerts = &gp;
    m.n_regulatory_alerts = 1;
    m.property_synopsis = &y;
    m.planning_context = &cp;
    m.n_planning_context = 1;
    m.change_velocity = &vp;
    m.n_change_velocity = 1;
    Sfpermits__V1__BriefComplianceItem ci = SFPERMITS__V1__BRIEF_COMPLIANCE_ITEM__INIT, *cip = &ci;
    ci.permit_number = "BP0000001";
    ci.days_until = -21;
    ci.is_expired = true;
    Sfpermits__V1__BriefDataQuality dq = SFPERMITS__V1__BRIEF_DATA_QUALITY__INIT, *dqp = &dq;
    dq.dataset = "boiler_permits";
    dq.status = "warn";
    Sfpermits__V1__BriefStreetUse su = SFPERMITS__V1__BRIEF_STREET_USE__INIT, *sup = &su;
    su.street_name = "LAKE ST";
    Sfpermits__V1__BriefNearbyDevelopment nd = SFPERMITS__V1__BRIEF_NEARBY_DEVELOPMENT__INIT, *ndp = &nd;
    nd.block_lot = "3512001";
    m.compliance_calendar = &cip;
    m.n_compliance_calendar = 1;
    m.data_quality = &dqp;
    m.n_data_quality = 1;
    m.street_use_activity = &sup;
    m.n_street_use_activity = 1;
    m.nearby_development = &ndp;
    m.n_nearby_development = 1;
    m.etag = "0123456789abcdef0123456789abcdef";
    m.computed_at = "2026-01-08T10:00:00.000Z";
    m.cached_at = "";
    check_same_as_encoder(&m, false);
    m.cached = true;
    m.cached_at = m.computed_at;
    check_same_as_encoder(&m, true);
    size_t n = 0;
    char *json = sfp_pbjson_encode(&m.base, &n);
    assert_non_null(strstr(json, "\"change_velocity\":{\"status_change\":12}"));
    assert_true(strstr(json, "\"change_velocity\"") < strstr(json, ",\"cached\":"));
    assert_non_null(strstr(json, "\"compliance_calendar\":[{\"permit_number\":\"BP0000001\""));
    assert_non_null(strstr(json, "\"is_expired\":true"));
    assert_non_null(strstr(json, "\"data_quality\":[{\"dataset\":\"boiler_permits\""));
    assert_non_null(strstr(json, "\"street_use_activity\":[{"));
    assert_non_null(strstr(json, "\"nearby_development\":[{"));
    assert_true(strstr(json, "\"nearby_development\"") < strstr(json, ",\"cached\":"));
    free(json);
    gw_brief_memo_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_same_bytes),
        cmocka_unit_test(test_memo_bounded_lru),
        cmocka_unit_test(test_memo_with_every_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
