/* soda_test_data.c — row source of sfp-soda-test-server (see soda_test_server.h). */
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "soda_test_server.h"

/* How a table is served as a SODA dataset. */
typedef struct dataset_map {
    const char *id;
    const char *table;
    const char *filter;   /* extra SQL condition on `t`, or NULL */
    const char *identity; /* :id — unique, NOT NULL columns of `t`, comma separated */
    const char *hidden;   /* columns never sent, comma separated (surrogate keys ...) */
    const char *renames;  /* "column=soda_field,..." */
    const char *extra;    /* "soda_field=column,..." sent in addition */
    bool generated;       /* also served by the generator (parcel queries) */
} dataset_map;

/* Columns kept on child rows for the report and the brief (the permit's parcel, the contact's
 * entity and its permit's filing date): ours, not SODA fields. */
#define PERMIT_PARCEL "permit_block,permit_lot"
#define ENTITY_COPY "entity_name,entity_firm,entity_permit_count,permit_filed_date"

static const dataset_map k_datasets[] = {
    {"i98e-djp9", "permits", NULL, "permit_number", "", "neighborhood=neighborhoods_analysis_boundaries", "", false},
    {"87xy-gk8d", "addenda", NULL, "id", "id," PERMIT_PARCEL, "", "", false},
    {"vckc-dh2h", "inspections", NULL, "id", "id,source," PERMIT_PARCEL, "", "", false},
    {"3pee-9qhc", "contacts", "t.source = 'building'", "id", "id,source,entity_id," PERMIT_PARCEL "," ENTITY_COPY, "",
     "", false},
    {"fdm7-jqqf", "contacts", "t.source = 'electrical'", "id", "id,source,entity_id," PERMIT_PARCEL "," ENTITY_COPY, "",
     "", false},
    {"k6kv-9kix", "contacts", "t.source = 'plumbing'", "id", "id,source,entity_id," PERMIT_PARCEL "," ENTITY_COPY, "",
     "", false},
    {"gm2e-bten", "complaints", NULL, "id", "id", "", "", true},
    {"nbtm-fbw5", "violations", NULL, "id", "id", "", "", true},
    {"wv5m-vpq2", "tax_rolls", NULL, "block,lot,tax_year", "", "", "closed_roll_year=tax_year", true},
    {"5dp4-gtxk", "boiler_permits", NULL, "id", "id", "", "", false},
    {"b6tj-gt35", "street_use_permits", NULL, "id", "id", "", "", false},
    {"qvu5-m3a2", "planning_records", "t.is_project", "id", "id,is_project", "", "", false},
    {"y673-d69b", "planning_records", "NOT t.is_project", "id", "id,is_project", "", "", false},
    {"6jgi-cpb4", "development_pipeline", NULL, "id", "id", "", "", false},
};
#define NDS (sizeof k_datasets / sizeof *k_datasets)

static const char *const k_ids[NDS] = {"i98e-djp9", "87xy-gk8d", "vckc-dh2h", "3pee-9qhc", "fdm7-jqqf",
                                       "k6kv-9kix", "gm2e-bten", "nbtm-fbw5", "wv5m-vpq2", "5dp4-gtxk",
                                       "b6tj-gt35", "qvu5-m3a2", "y673-d69b", "6jgi-cpb4"};

/* A SODA field of a dataset and the SQL column it reads. */
typedef struct field_map {
    char soda[64];
    char column[64];
} field_map;

typedef struct ds_state {
    char *select_sql; /* every sent column of `t` as text, in field order */
    char **keys;      /* per field: its JSON key, quoted, with the colon ("name":) */
    field_map *fields;
    size_t n_fields;
    int n_identity;
    char identity[3][64];
} ds_state;

/* Keyset continuation of :id-ordered paging: the query that returned rows up to next_offset
 * ended at identity values last[]. */
#define KEYSET_SLOTS 64
typedef struct keyset {
    char key[600]; /* dataset, where, next_offset */
    int n;
    char last[3][128];
} keyset;

struct sts_data {
    char *url; /* NULL = generator */
    pthread_key_t conn_key;
    ds_state ds[NDS];
    pthread_mutex_t mu;
    keyset ks[KEYSET_SLOTS];
    size_t ks_next;
};

const char *const *sts_dataset_ids(size_t *n)
{
    *n = NDS;
    return k_ids;
}

static int find_dataset(const char *id)
{
    for (size_t i = 0; i < NDS; i++)
        if (!strcmp(k_datasets[i].id, id)) return (int)i;
    return -1;
}

bool sts_dataset_known(const sts_data *d, const char *dataset)
{
    int i = dataset ? find_dataset(dataset) : -1;
    return i >= 0 && (d->url || k_datasets[i].generated);
}

static void conn_destroy(void *p)
{
    PQfinish(p);
}

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

static PGconn *thread_conn(sts_data *d, sfp_err *err)
{
    PGconn *c = pthread_getspecific(d->conn_key);
    if (c && PQstatus(c) == CONNECTION_OK) return c;
    if (c) {
        PQfinish(c);
        pthread_setspecific(d->conn_key, NULL);
    }
    c = PQconnectdb(d->url);
    if (PQstatus(c) != CONNECTION_OK) {
        sfp_err_set(err, SFP_UNAVAILABLE, "cannot connect to DATABASE_URL: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    pthread_setspecific(d->conn_key, c);
    return c;
}

/* "a=b,c=d": the value of key k, or NULL. */
static const char *list_get(const char *list, const char *k, char *out, size_t n)
{
    size_t kl = strlen(k);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > kl && !strncmp(p, k, kl) && p[kl] == '=') {
            snprintf(out, n, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return out;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static bool list_has(const char *list, const char *k)
{
    size_t kl = strlen(k);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == kl && !strncmp(p, k, kl)) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void add_field(ds_state *st, const char *soda, const char *column)
{
    st->fields = realloc(st->fields, (st->n_fields + 1) * sizeof *st->fields);
    if (!st->fields) abort();
    /* names longer than the fields are cut (no dataset has one); %.*s says so to the compiler */
    snprintf(st->fields[st->n_fields].soda, sizeof st->fields[0].soda, "%.*s", (int)sizeof st->fields[0].soda - 1,
             soda);
    snprintf(st->fields[st->n_fields].column, sizeof st->fields[0].column, "%.*s", (int)sizeof st->fields[0].column - 1,
             column);
    st->n_fields++;
}

/* Column list of the table → object SQL and field map. */
static int build_state(PGconn *c, const dataset_map *m, ds_state *st, sfp_err *err)
{
    const char *params[1] = {m->table};
    PGresult *r = PQexecParams(c,
                               "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
                               "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
        PQclear(r);
        return sfp_err_set(err, SFP_FAILED_PRECONDITION, "DATABASE_URL: table %s missing (run sfp-migrate)", m->table);
    }
    /* Rows are sent as JSON objects of strings with null columns left out (like Socrata). The
     * columns are read as plain text and the JSON is written here: building it in Postgres
     * (json_build_object + json_strip_nulls) cost ~5x the query itself, which made this server,
     * not the client under test, the bottleneck of a full-scale ingest. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *col = PQgetvalue(r, i, 0);
        if (list_has(m->hidden, col)) continue;
        char renamed[64];
        const char *soda = list_get(m->renames, col, renamed, sizeof renamed);
        add_field(st, soda ? soda : col, col);
    }
    PQclear(r);
    for (const char *p = m->extra; p && *p;) {
        const char *end = strchr(p, ',');
        char pair[128], *eq;
        snprintf(pair, sizeof pair, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
        if ((eq = strchr(pair, '='))) {
            *eq = '\0';
            add_field(st, pair, eq + 1);
        }
        p = end ? end + 1 : NULL;
    }
    sfp_buf b;
    sfp_buf_init(&b);
    st->keys = calloc(st->n_fields ? st->n_fields : 1, sizeof *st->keys);
    if (!st->keys) abort();
    for (size_t i = 0; i < st->n_fields; i++) {
        sfp_buf_printf(&b, "%st.\"%s\"::text", i ? ", " : "", st->fields[i].column);
        sfp_buf k;
        sfp_buf_init(&k);
        sfp_buf_json_str(&k, st->fields[i].soda);
        sfp_buf_putc(&k, ':');
        st->keys[i] = sfp_buf_steal(&k, NULL);
    }
    st->select_sql = sfp_buf_steal(&b, NULL);
    char ids[128];
    snprintf(ids, sizeof ids, "%s", m->identity);
    st->n_identity = 0;
    for (char *save = NULL, *t = strtok_r(ids, ",", &save); t && st->n_identity < 3; t = strtok_r(NULL, ",", &save))
        snprintf(st->identity[st->n_identity++], sizeof st->identity[0], "%s", t);
    return 0;
}

sts_data *sts_data_open(const char *database_url, sfp_err *err)
{
    sts_data *d = calloc(1, sizeof *d);
    if (!d) abort();
    pthread_mutex_init(&d->mu, NULL);
    if (!database_url || !*database_url) return d;
    d->url = strdup(database_url);
    pthread_key_create(&d->conn_key, conn_destroy);
    PGconn *c = thread_conn(d, err);
    if (!c) {
        sts_data_close(d);
        return NULL;
    }
    for (size_t i = 0; i < NDS; i++) {
        if (build_state(c, &k_datasets[i], &d->ds[i], err)) {
            sts_data_close(d);
            return NULL;
        }
    }
    return d;
}

void sts_data_close(sts_data *d)
{
    if (!d) return;
    if (d->url) {
        PGconn *c = pthread_getspecific(d->conn_key);
        if (c) PQfinish(c);
        pthread_setspecific(d->conn_key, NULL);
        pthread_key_delete(d->conn_key);
        free(d->url);
    }
    for (size_t i = 0; i < NDS; i++) {
        free(d->ds[i].select_sql);
        for (size_t k = 0; d->ds[i].keys && k < d->ds[i].n_fields; k++) free(d->ds[i].keys[k]);
        free(d->ds[i].keys);
        free(d->ds[i].fields);
    }
    pthread_mutex_destroy(&d->mu);
    free(d);
}

const char *sts_data_kind(const sts_data *d)
{
    return d->url ? "postgres" : "generator";
}

/* ---------------- Postgres ---------------- */

static const char *column_of(const ds_state *st, const char *soda)
{
    for (size_t i = 0; i < st->n_fields; i++)
        if (!strcmp(st->fields[i].soda, soda)) return st->fields[i].column;
    return NULL;
}

static void keyset_key(const sts_query *q, long offset, char *out, size_t n)
{
    int o = snprintf(out, n, "%s|%ld|", q->dataset, offset);
    for (int i = 0; i < q->n_terms && o > 0 && (size_t)o < n; i++)
        o += snprintf(out + o, n - (size_t)o, "%s%s%s&", q->terms[i].field, q->terms[i].op, q->terms[i].value);
}

static bool by_identity(const sts_query *q)
{
    return !q->count && q->n_order == 1 && !strcmp(q->order[0].field, ":id") && !q->order[0].desc;
}

static char *pg_run(sts_data *d, int di, const sts_query *q, sfp_err *err)
{
    const dataset_map *m = &k_datasets[di];
    const ds_state *st = &d->ds[di];
    PGconn *c = thread_conn(d, err);
    if (!c) return NULL;
    const char *params[STS_MAX_TERMS + 5];
    char lim[24], off[24]; /* live until the query has run: params point at them */
    int np = 0;
    sfp_buf sql;
    sfp_buf_init(&sql);
    if (q->count) sfp_buf_puts(&sql, "SELECT count(*)::text");
    else sfp_buf_printf(&sql, "SELECT %s", st->select_sql);
    for (int i = 0; i < st->n_identity && !q->count; i++) sfp_buf_printf(&sql, ", t.\"%s\"::text", st->identity[i]);
    sfp_buf_printf(&sql, " FROM %s t WHERE %s", m->table, m->filter ? m->filter : "true");
    for (int i = 0; i < q->n_terms; i++) {
        const char *col = column_of(st, q->terms[i].field);
        if (!col) {
            sfp_buf_free(&sql);
            sfp_err_set(err, SFP_INVALID_ARGUMENT, "No such column: %s", q->terms[i].field);
            return NULL;
        }
        params[np++] = q->terms[i].value;
        sfp_buf_printf(&sql, " AND t.\"%s\" %s $%d", col, q->terms[i].op, np);
    }
    /* keyset continuation */
    char kkey[600];
    keyset hit = {.n = 0};
    bool identity_order = by_identity(q);
    if (identity_order && q->offset > 0) {
        keyset_key(q, q->offset, kkey, sizeof kkey);
        pthread_mutex_lock(&d->mu);
        for (size_t i = 0; i < KEYSET_SLOTS; i++)
            if (d->ks[i].n && !strcmp(d->ks[i].key, kkey)) hit = d->ks[i];
        pthread_mutex_unlock(&d->mu);
    }
    if (hit.n) {
        sfp_buf_puts(&sql, " AND (");
        for (int i = 0; i < st->n_identity; i++) sfp_buf_printf(&sql, "%st.\"%s\"", i ? ", " : "", st->identity[i]);
        sfp_buf_puts(&sql, ") > (");
        for (int i = 0; i < hit.n; i++) {
            params[np++] = hit.last[i];
            sfp_buf_printf(&sql, "%s$%d", i ? ", " : "", np);
        }
        sfp_buf_puts(&sql, ")");
    }
    if (!q->count) {
        sfp_buf_puts(&sql, " ORDER BY ");
        for (int i = 0; i < q->n_order; i++) {
            if (!strcmp(q->order[i].field, ":id")) {
                for (int k = 0; k < st->n_identity; k++)
                    sfp_buf_printf(&sql, "t.\"%s\" %s, ", st->identity[k], q->order[i].desc ? "DESC" : "ASC");
                continue;
            }
            const char *col = column_of(st, q->order[i].field);
            if (!col) {
                sfp_buf_free(&sql);
                sfp_err_set(err, SFP_INVALID_ARGUMENT, "No such column: %s", q->order[i].field);
                return NULL;
            }
            sfp_buf_printf(&sql, "t.\"%s\" %s NULLS LAST, ", col, q->order[i].desc ? "DESC" : "ASC");
        }
        for (int k = 0; k < st->n_identity; k++) sfp_buf_printf(&sql, "%st.\"%s\"", k ? ", " : "", st->identity[k]);
        snprintf(lim, sizeof lim, "%ld", q->limit);
        snprintf(off, sizeof off, "%ld", hit.n ? 0L : q->offset);
        params[np++] = lim;
        sfp_buf_printf(&sql, " LIMIT $%d::bigint", np);
        params[np++] = off;
        sfp_buf_printf(&sql, " OFFSET $%d::bigint", np);
    }
    PGresult *r = PQexecParams(c, sql.data, np, NULL, params, NULL, NULL, 0);
    sfp_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* 22xxx data exceptions (a literal that does not fit the column) and 42xxx are our
         * query's fault, like Socrata's 400 query.soql.type-mismatch */
        bool client = state && (!strncmp(state, "22", 2) || !strncmp(state, "42", 2));
        sfp_err_set(err, client ? SFP_INVALID_ARGUMENT : SFP_INTERNAL, "query failed: %s", PQresultErrorMessage(r));
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            pthread_setspecific(d->conn_key, NULL);
        }
        PQclear(r);
        return NULL;
    }
    sfp_buf b;
    sfp_buf_init(&b);
    if (q->count) {
        sfp_buf_puts(&b, "[{");
        sfp_buf_json_str(&b, q->count_alias);
        sfp_buf_putc(&b, ':');
        sfp_buf_json_str(&b, PQgetvalue(r, 0, 0));
        sfp_buf_puts(&b, "}]");
        PQclear(r);
        return sfp_buf_steal(&b, NULL);
    }
    int rows = PQntuples(r), nf = (int)st->n_fields;
    sfp_buf_putc(&b, '[');
    for (int i = 0; i < rows; i++) {
        sfp_buf_puts(&b, i ? ",{" : "{");
        bool first = true;
        for (int f = 0; f < nf; f++) {
            if (PQgetisnull(r, i, f)) continue;
            if (!first) sfp_buf_putc(&b, ',');
            first = false;
            sfp_buf_puts(&b, st->keys[f]);
            sfp_buf_json_strn(&b, PQgetvalue(r, i, f), (size_t)PQgetlength(r, i, f));
        }
        sfp_buf_putc(&b, '}');
    }
    sfp_buf_putc(&b, ']');
    if (identity_order && rows > 0) {
        keyset k = {.n = st->n_identity};
        keyset_key(q, q->offset + rows, k.key, sizeof k.key);
        for (int i = 0; i < st->n_identity; i++)
            snprintf(k.last[i], sizeof k.last[i], "%s", PQgetvalue(r, rows - 1, nf + i));
        pthread_mutex_lock(&d->mu);
        d->ks[d->ks_next++ % KEYSET_SLOTS] = k;
        pthread_mutex_unlock(&d->mu);
    }
    PQclear(r);
    return sfp_buf_steal(&b, NULL);
}

/* ---------------- generator ---------------- */

static uint64_t fnv(const char *a, const char *b, const char *c, uint64_t salt)
{
    uint64_t h = 1469598103934665603ULL ^ salt;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ULL;
        }
        h ^= 0xff;
        h *= 1099511628211ULL;
    }
    return h;
}

static void add_str(cJSON *o, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_str(cJSON *o, const char *k, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    cJSON_AddStringToObject(o, k, v);
}

static const char *k_complaint_desc[] = {"Work without permit", "Unsafe building",
                                         "Illegal unit",        "Construction noise after hours",
                                         "Blocked exit",        "Debris on sidewalk"};
static const char *k_nov_cat[] = {"building section", "plumbing section", "electrical section", "housing section"};
static const char *k_streets[] = {"MARKET", "MISSION", "VALENCIA", "GEARY", "19TH", "CASTRO"};

static cJSON *gen_rows(const char *dataset, const char *block, const char *lot)
{
    cJSON *arr = cJSON_CreateArray();
    if (!strcmp(lot, "000")) return arr;
    uint64_t h = fnv(dataset, block, lot, 0);
    bool heavy = !strcmp(block, "3512") && !strcmp(lot, "001");
    int n;
    if (!strcmp(dataset, "gm2e-bten")) n = heavy ? 60 : 1 + (int)(h % 6);
    else if (!strcmp(dataset, "nbtm-fbw5")) n = heavy ? 55 : (int)(h % 4);
    else n = heavy ? 7 : 3 + (int)(h % 5);
    for (int i = 0; i < n; i++) {
        uint64_t r = fnv(dataset, block, lot, (uint64_t)i + 1);
        cJSON *o = cJSON_CreateObject();
        int year = 2012 + (int)(r % 14), month = 1 + (int)((r >> 8) % 12), day = 1 + (int)((r >> 16) % 28);
        const char *street = k_streets[(r >> 24) % 6];
        if (!strcmp(dataset, "gm2e-bten")) {
            add_str(o, "complaint_number", "%04d%05u", year, (unsigned)((r >> 32) % 100000));
            add_str(o, "date_filed", "%04d-%02d-%02dT00:00:00.000", year, month, day);
            add_str(o, "block", "%s", block);
            add_str(o, "lot", "%s", lot);
            add_str(o, "street_number", "%u", (unsigned)(1 + (r >> 40) % 3000));
            add_str(o, "street_name", "%s", street);
            add_str(o, "status", "%s", (r >> 4) % 3 == 0 ? "ACTIVE" : "NOT ACTIVE");
            add_str(o, "complaint_description", "%s", k_complaint_desc[(r >> 12) % 6]);
            add_str(o, "receiving_division", "%s", "Building Inspection Division");
        } else if (!strcmp(dataset, "nbtm-fbw5")) {
            add_str(o, "complaint_number", "%04d%05u", year, (unsigned)((r >> 32) % 100000));
            add_str(o, "item_sequence_number", "%d", 1 + i % 3);
            add_str(o, "date_filed", "%04d-%02d-%02dT00:00:00.000", year, month, day);
            add_str(o, "block", "%s", block);
            add_str(o, "lot", "%s", lot);
            add_str(o, "street_number", "%u", (unsigned)(1 + (r >> 40) % 3000));
            add_str(o, "street_name", "%s", street);
            add_str(o, "status", "%s", (r >> 4) % 2 ? "open" : "closed");
            add_str(o, "nov_category_description", "%s", k_nov_cat[(r >> 12) % 4]);
            add_str(o, "item", "%s", "failure to obtain permit");
            add_str(o, "nov_item_description", "%s", "Work performed without a permit");
        } else {
            add_str(o, "block", "%s", block);
            add_str(o, "lot", "%s", lot);
            add_str(o, "closed_roll_year", "%d", 2025 - i);
            add_str(o, "parcel_number", "%s%s", block, lot);
            add_str(o, "property_location", "0000 %04u %s ST0000", (unsigned)(1 + h % 3000), k_streets[h % 6]);
            add_str(o, "use_code", "%s", "SRES");
            add_str(o, "use_definition", "%s", "Single Family Residential");
            add_str(o, "number_of_units", "%u", (unsigned)(1 + h % 4));
            add_str(o, "year_property_built", "%u", (unsigned)(1900 + h % 120));
            add_str(o, "property_area", "%u", (unsigned)(800 + h % 4000));
            add_str(o, "assessed_land_value", "%u.0", (unsigned)(200000 + (h % 900000)) + (unsigned)i * 5000);
            add_str(o, "assessed_improvement_value", "%u.0",
                    (unsigned)(100000 + (h >> 20) % 700000) + (unsigned)i * 3000);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

typedef struct sort_item {
    cJSON *row;
    const char *key; /* NULL sorts last */
    int idx;
    bool desc;
} sort_item;

static int cmp_items(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (!x->key || !y->key) {
        if (x->key != y->key) return x->key ? -1 : 1;
    } else {
        int c = strcmp(x->key, y->key);
        if (c) return x->desc ? -c : c;
    }
    return x->idx - y->idx;
}

static char *gen_query(const char *dataset, const char *block, const char *lot, const char *order_col, bool desc,
                       long limit, long offset)
{
    cJSON *rows = gen_rows(dataset, block, lot);
    int n = cJSON_GetArraySize(rows);
    sort_item *items = calloc((size_t)n + 1, sizeof *items);
    if (!items) abort();
    int i = 0;
    for (cJSON *r = rows->child; r; r = r->next, i++) {
        cJSON *k = order_col ? cJSON_GetObjectItemCaseSensitive(r, order_col) : NULL;
        items[i] = (sort_item){r, cJSON_IsString(k) ? k->valuestring : NULL, i, desc};
    }
    if (order_col) qsort(items, (size_t)n, sizeof *items, cmp_items);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_putc(&b, '[');
    long emitted = 0;
    for (long j = offset; j < n && emitted < limit; j++, emitted++) {
        char *txt = cJSON_PrintUnformatted(items[j].row);
        if (emitted) sfp_buf_putc(&b, ',');
        sfp_buf_puts(&b, txt);
        cJSON_free(txt);
    }
    sfp_buf_putc(&b, ']');
    free(items);
    cJSON_Delete(rows);
    return sfp_buf_steal(&b, NULL);
}

/* Generator: only `block = 'B' AND lot = 'L'` and at most one order field. */
char *sts_data_run(sts_data *d, const sts_query *q, sfp_err *err)
{
    int di = find_dataset(q->dataset);
    if (di < 0 || !sts_dataset_known(d, q->dataset)) {
        sfp_err_set(err, SFP_NOT_FOUND, "unknown dataset");
        return NULL;
    }
    if (d->url) return pg_run(d, di, q, err);
    const char *block = NULL, *lot = NULL;
    for (int i = 0; i < q->n_terms; i++) {
        if (!strcmp(q->terms[i].op, "=") && !strcasecmp(q->terms[i].field, "block")) block = q->terms[i].value;
        else if (!strcmp(q->terms[i].op, "=") && !strcasecmp(q->terms[i].field, "lot")) lot = q->terms[i].value;
        else block = lot = NULL, i = q->n_terms;
    }
    if (!block || !lot || q->n_terms != 2 || q->count || q->n_order > 1) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "Unsupported query (the generator only knows block='X' AND lot='Y')");
        return NULL;
    }
    return gen_query(q->dataset, block, lot, q->n_order ? q->order[0].field : NULL, q->n_order && q->order[0].desc,
                     q->limit, q->offset);
}
