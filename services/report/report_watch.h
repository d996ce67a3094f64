/* report_watch.h — the regulatory_watch rows (status monitoring or passed) held in process, so
 * an assembled report does not read and re-parse them each time.
 *
 * The rows change rarely, and every write to regulatory_watch sends NOTIFY sfp_data_changed
 * (the statement trigger of migration 0007). The copy is served only while ALL of:
 *   - no change was notified since the report that read it began (the generation it read
 *     under is checked when it is stored, so a copy read just before a change is dropped);
 *   - the listener is connected: while it is down (and until its first UP) changes could be
 *     missed, so every report reads the table itself;
 *   - it is younger than SFP_RPT_WATCH_MAX_AGE_S (a bound, should a notification be lost).
 * A report that finds no servable copy reads the table in its own round trip 2 (report_db.h)
 * and offers the rows back with sfp_rpt_watch_put.
 *
 * Thread-safe. Ownership: the caller owns the cache (sfp_rpt_watch_free after the listener is
 * stopped); rows handed out are deep copies in the caller's arena. */
#ifndef SFP_REPORT_WATCH_H
#define SFP_REPORT_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "clock.h"
#include "db_listen.h"
#include "report_types.h"

#define SFP_RPT_WATCH_MAX_AGE_S 3600

typedef struct sfp_rpt_watch sfp_rpt_watch;

/* Starts not listening: nothing is served. clock: NULL = sfp_mono_clock (tests pass a fake). */
sfp_rpt_watch *sfp_rpt_watch_new(sfp_clock_fn clock, void *clock_arg);
void sfp_rpt_watch_free(sfp_rpt_watch *w); /* NULL-safe */

/* sfp_listen_fn for the listener on sfp_data_changed (user = the cache). */
void sfp_rpt_watch_listen_event(void *w, sfp_listen_event ev, const char *payload);

/* A servable copy: copies the rows into a and returns true. Otherwise false and *generation is
 * the value to pass to sfp_rpt_watch_put after reading the table. w may be NULL (false). */
bool sfp_rpt_watch_get(sfp_rpt_watch *w, sfp_arena *a, sfp_rpt_reg_watch **rows, size_t *n, uint64_t *generation);
/* Keeps a copy of rows unless a change was notified since `generation` was handed out or the
 * listener is down. NULL-safe. */
void sfp_rpt_watch_put(sfp_rpt_watch *w, uint64_t generation, const sfp_rpt_reg_watch *rows, size_t n);

typedef struct sfp_rpt_watch_stats {
    int64_t hits, misses, stores, invalidations;
    bool listening, held;
} sfp_rpt_watch_stats;
void sfp_rpt_watch_get_stats(sfp_rpt_watch *w, sfp_rpt_watch_stats *s); /* zeros for NULL */

#endif
