/* cron_ingest.h — the nightly's table-driven SODA ingest. Not for use outside services/cron.
 *
 * One descriptor (sfp_ingest_dataset, cron_datasets.c) per SODA dataset says everything the
 * engine (cron_ingest.c) needs: dataset id, target table, the columns and how each is read from
 * a SODA row, the row key, the update field used for incremental fetches, and optional
 * change-feed SQL. Adding a dataset is adding one descriptor to sfp_ingest_datasets[].
 *
 * A run has two phases:
 *   1. fetch (sfp_ingest_fetch, once per dataset): SODA pages ($where, $order=:id, $limit,
 *      $offset) with retries, converted in C and COPYed into the dataset's private staging table
 *      nightly_stage_<name> (UNLOGGED, created from the target's columns, read by nothing else,
 *      dropped after the run); rows without key[0] or failing `keep` are then dropped (skipped).
 *      Before paging, SODA's count(*) of the same query is read; fewer rows fetched than counted
 *      (a page cut short) fails the dataset. The live tables are not touched.
 *   2. apply (sfp_ingest_apply, all datasets, in ONE transaction the caller owns together with
 *      the derived rebuilds and the watermarks): change feeds, then each staging table merged
 *      into its target by row hash — rows whose content differs are replaced, new rows
 *      inserted, unchanged rows untouched; in a full fetch, rows of the dataset's scope missing
 *      from SODA are deleted. Readers see the old tables until COMMIT, then the new ones.
 *
 * Full runs (sfp_ingest_apply_rebuilt, cron_ingest_swap.c): a target table whose datasets are
 * all fetched in full is not merged in place. Each dataset's staged rows are compared with the
 * live rows of its scope as values (hash joins on key[0]; no row hashing, nothing written):
 * that gives the counts. A table where nothing changed is left exactly as it is (no copy, no
 * index build, no swap). A changed one is built once beside the live one (nightly_new.<table>,
 * no secondary indexes) from the live rows equal to a staged row (every column, id and entity
 * id kept), the staged rows equal to no live row and the live rows outside every dataset's
 * scope; the derived steps read that copy, its indexes are built once at the end and it is
 * swapped in by renames just before COMMIT (views re-pointed, triggers, grants, identity
 * sequences carried over). Same transaction, same rows and counts as a merge; a table with
 * dependents the swap cannot carry over is merged in place instead.
 *
 * Ownership: descriptors are static; sfp_ingest_state is the caller's (stack/arena) and holds
 * no heap memory. */
#ifndef SFP_CRON_INGEST_H
#define SFP_CRON_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron_internal.h"

/* How one target column is read from a SODA row (an object of string values; an absent or
 * empty value is NULL). Types:
 *   't' text   'f' float8 (a non-number → NULL)   'i' integer (a non-integer → NULL)
 *   'c' the constant `field`   'd' text, else the constant `alt`
 *   'r' a DBI contact role normalised to contractor|agent|architect|engineer|owner|other|
 *       consultant|designer   'n' a contact name: `name`, else "first_name last_name" */
typedef struct sfp_ingest_column {
    const char *name; /* target column */
    char type;
    const char *field; /* SODA field (NULL = name); the constant for 'c' */
    const char *alt;   /* fallback SODA field when field is absent or empty ('d': the default), or NULL */
} sfp_ingest_column;

#define SFP_INGEST_MAX_COLS 32
#define SFP_INGEST_MAX_KEY 4

typedef struct sfp_ingest_dataset {
    const char *id;                          /* SODA 4x4 id */
    const char *name;                        /* unique: staging table suffix, result and watermark name */
    const char *table;                       /* target table */
    const char *update_field;                /* SODA field of the incremental $where (rows changed after it) */
    const char *update_col;                  /* target column holding that field (the new watermark = its max) */
    const char *scope;                       /* SQL on target alias t: the rows this dataset owns (NULL = all) */
    const char *key[SFP_INGEST_MAX_KEY + 1]; /* key columns, NULL-terminated; key[0] indexed and
                                              * required (rows without it are skipped) */
    const char *keep;                        /* SQL on the staged row alias x: rows to keep (NULL = all) */
    const char *soql_filter;                 /* SoQL term always AND-ed into $where (NULL = none) */
    const char *feed_sql;                    /* change feed run before the merge, or NULL: reads
                               * nightly_stage_<name> and the target; $1 = source
                               * ('nightly' | 'backfill'), $2 = today (sfp_cron_today_param);
                               * returns one row (count1, count2) */
    const sfp_ingest_column *cols;
    size_t n_cols;
} sfp_ingest_dataset;

extern const sfp_ingest_dataset sfp_ingest_datasets[];
extern const size_t sfp_ingest_dataset_count;
/* The descriptor named `name`, or NULL. */
const sfp_ingest_dataset *sfp_ingest_find(const char *name);

/* Per-dataset run state. */
typedef struct sfp_ingest_state {
    const sfp_ingest_dataset *ds;
    bool full; /* fetched in full */
    bool had_watermark;
    char since[40];     /* incremental lower bound, "" when full */
    char watermark[40]; /* after the run ("" = none) */
    long long fetched, staged, skipped, expected;
    int pages, retries;
    long long inserted, updated, deleted;
    long long feed[2];       /* the change feed's two counts */
    bool swap;               /* full: merged into a rebuilt copy of the table, swapped in at the end */
    bool swap_first;         /* the first dataset of its table: builds the copy */
    bool applied;            /* phase 2 done (sfp_ingest_apply_rebuilt does a table's datasets at once) */
    long long live_rows;     /* full, rebuilt: live rows of the dataset's scope before the run */
    double fetch_s, apply_s; /* wall seconds of phase 1 / phase 2 (merge) for this dataset */
} sfp_ingest_state;

/* ---- full runs: rebuild and swap (cron_ingest_swap.c), inside the apply transaction ---- */
#define SFP_INGEST_NEW_SCHEMA "nightly_new" /* the copies being built */
#define SFP_INGEST_OLD_SCHEMA "nightly_old" /* the replaced tables, dropped before COMMIT */

double sfp_ingest_now_s(void); /* monotonic seconds */
/* Before any apply: marks the datasets whose table is rebuilt (every dataset of the table is
 * full and nothing depends on the table that a swap cannot carry over) and, if any, puts
 * nightly_new first in search_path (its previous value into saved, "" when unchanged).
 * 0 or -1 + fail. */
int sfp_ingest_swap_plan(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *sts, size_t n, char *saved, size_t savedsz);
/* Creates the empty copy for st's table (called by sfp_ingest_apply_rebuilt). 0 or -1 + fail. */
int sfp_ingest_swap_build(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *st);
/* After the merges: statistics of the copies. 0 or -1 + fail. */
int sfp_ingest_swap_analyze(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n);
/* When every dataset was fetched in full: the derived table `table` (parcel_summary or
 * timeline_stats) is rebuilt too — nightly_new.<table> created empty (like the ingest copies:
 * no secondary indexes; triggers, grants, comment carried over), the live one locked against
 * other writers until COMMIT (readers go on), its qualified name into live. The caller then
 * writes every row into the copy, comparing with the live rows for its counts; finish builds
 * the indexes and swaps it in. 1 = built, 0 = not possible (the caller writes in place, with a
 * log line saying why), -1 + fail. */
int sfp_ingest_swap_derived(sfp_cron_run *r, sfp_conn *c, const char *table, char *live, size_t livesz);
/* After the derived steps: search_path restored, indexes built (ingest copies, then derived
 * copies), copies swapped in, old tables dropped. 0 or -1 + fail. */
int sfp_ingest_swap_finish(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n, const char *saved);

/* Phase 1 for one dataset: st->ds, full, since must be set. 0, or -1 after sfp_cron_fail*. */
int sfp_ingest_fetch(sfp_cron_run *r, sfp_ingest_state *st);
/* A SODA page body as the COPY text phase 1 stages for ds (malloc'd, NUL-terminated, the
 * caller frees; *rows = its row count), or NULL for a body the SODA client's own parser
 * (sfp_soda_rows_parse) refuses. What the fetch does to every page, exposed for tests. */
char *sfp_ingest_page_copy(const sfp_ingest_dataset *ds, const char *body, size_t len, long *rows);
/* Phase 2 for one dataset inside the caller's transaction on c (feed with `source`, merge,
 * watermark row). 0, or -1 after sfp_cron_fail*. */
int sfp_ingest_apply(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *st, const char *source);

/* Phase 2 for every dataset of the rebuilt table of sts[first] (its first dataset, swap set):
 * change feeds, then what changed is counted by comparing the staged rows with the live rows
 * of each dataset's scope (hash joins on key[0], rows compared as values). Nothing changed: the
 * live table stays (swap cleared: no copy, no index build, no swap). Otherwise the empty copy is
 * filled once: live rows equal to a staged row (every column and id kept), staged rows equal to
 * no live row, and live rows outside every dataset's scope. Counts and watermarks as
 * sfp_ingest_apply; each state's `applied` set. 0, or -1 after sfp_cron_fail*. */
int sfp_ingest_apply_rebuilt(sfp_cron_run *r, sfp_conn *c, sfp_ingest_state *sts, size_t n, size_t first,
                             const char *source);

/* ---- derived tables (cron_entities.c), inside the same transaction ---- */
typedef struct sfp_derived_stats {
    long long contacts_resolved, entities_new, entities, entities_deleted;
    long long parcel_summary, parcel_summary_deleted, timeline_stats, timeline_stats_deleted;
} sfp_derived_stats;

/* Before the merges: on the very first run, adopt the entity ids already in contacts as the
 * resolution keys' ids (so seeded or earlier ids stay). 0 or -1 + fail. */
int sfp_derived_prepare(sfp_cron_run *r, sfp_conn *c);
/* Contact resolution (stable entity ids), entities, parcel_summary and timeline_stats. With
 * `full` every row is recomputed; otherwise only what the staged rows touch. 0 or -1 + fail. */
int sfp_derived_rebuild(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n, bool full,
                        sfp_derived_stats *out);

#endif
