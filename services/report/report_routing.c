#include "report_routing.h"

#include <string.h>

#include "report_text.h"

const sfp_rpt_routing *sfp_rpt_routing_compute(const sfp_rpt_addenda_row *rows, size_t n, int32_t today, sfp_arena *a)
{
    if (!n) return NULL;
    sfp_rpt_routing *r = sfp_arena_alloc(a, sizeof *r);
    r->pending_stations = sfp_arena_alloc(a, sizeof(char *) * n);
    r->stalled = sfp_arena_alloc(a, sizeof(sfp_rpt_stalled) * n);
    r->held_stations = sfp_arena_alloc(a, sizeof(char *) * n);
    r->total = (int32_t)n;
    int32_t rev = 0;
    bool has_rev = false;
    const sfp_rpt_addenda_row *latest = NULL;
    for (size_t i = 0; i < n; i++) {
        const sfp_rpt_addenda_row *s = &rows[i];
        if (s->has_addenda_number && (!has_rev || s->addenda_number > rev)) rev = s->addenda_number, has_rev = true;
        const char *station = sfp_rpt_str(s->station);
        if (sfp_rpt_contains_ci(s->review_results, "approv")) r->approved++;
        if (sfp_rpt_contains_ci(s->review_results, "comment")) r->comments++;
        if (!sfp_rpt_blank(s->finish_date)) {
            r->completed++;
            int32_t fin;
            if (sfp_parse_iso_day(s->finish_date, &fin) == 0 && sfp_rpt_day_plausible(fin, today) &&
                (!latest || strcmp(s->finish_date, latest->finish_date) > 0))
                latest = s;
            continue;
        }
        r->pending_stations[r->n_pending_stations++] = station;
        if (!sfp_rpt_blank(s->hold_description)) {
            r->held_stations[r->n_held_stations++] = station;
            continue;
        }
        int32_t arrived;
        if (sfp_parse_iso_day(s->arrive, &arrived) == 0 && sfp_rpt_day_plausible(arrived, today)) {
            int32_t days = today - arrived;
            if (days > SFP_RPT_STALLED_DAYS) r->stalled[r->n_stalled++] = (sfp_rpt_stalled){station, days};
        }
    }
    r->pending = r->total - r->completed;
    r->pct = r->completed * 100 / r->total;
    r->is_all_clear = r->completed == r->total;
    r->addenda_number = rev;
    if (latest) {
        r->has_latest = true;
        r->latest_station = sfp_rpt_str(latest->station);
        r->latest_result = sfp_rpt_str(latest->review_results);
        r->latest_date = latest->finish_date;
    }
    return r;
}
