/* soda_test_data.c — row source of sfp-soda-test-server (see soda_test_server.h). */
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "soda_test_server.h"

struct sts_data {
    char *url; /* NULL = generator */
    pthread_key_t conn_key;
};

typedef struct dataset_map {
    const char *id;
    const char *table;
    const char *object_sql; /* a jsonb object of the row `t` with string values */
} dataset_map;

#define STRINGIFY_OBJ(extra)                                                                          \
    "(SELECT coalesce(jsonb_object_agg(e.key, e.value #>> '{}'), '{}'::jsonb) FROM jsonb_each(" extra \
    ") e WHERE jsonb_typeof(e.value) <> 'null')"

static const dataset_map k_datasets[] = {
    {"gm2e-bten", "complaints", STRINGIFY_OBJ("to_jsonb(t) - 'id'")},
    {"nbtm-fbw5", "violations", STRINGIFY_OBJ("to_jsonb(t) - 'id'")},
    {"wv5m-vpq2", "tax_rolls", STRINGIFY_OBJ("to_jsonb(t) || jsonb_build_object('closed_roll_year', t.tax_year)")},
};

static const dataset_map *find_dataset(const char *id)
{
    for (size_t i = 0; i < sizeof k_datasets / sizeof *k_datasets; i++)
        if (!strcmp(k_datasets[i].id, id)) return &k_datasets[i];
    return NULL;
}

bool sts_dataset_known(const char *dataset)
{
    return dataset && find_dataset(dataset) != NULL;
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
        sfp_err_set(err, 14, "cannot connect to DATABASE_URL: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    pthread_setspecific(d->conn_key, c);
    return c;
}

sts_data *sts_data_open(const char *database_url, sfp_err *err)
{
    sts_data *d = calloc(1, sizeof *d);
    if (!d) abort();
    if (!database_url || !*database_url) return d;
    d->url = strdup(database_url);
    pthread_key_create(&d->conn_key, conn_destroy);
    PGconn *c = thread_conn(d, err);
    if (!c) {
        sts_data_close(d);
        return NULL;
    }
    for (size_t i = 0; i < sizeof k_datasets / sizeof *k_datasets; i++) {
        const char *params[1] = {k_datasets[i].table};
        PGresult *r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");
        PQclear(r);
        if (!ok) {
            sfp_err_set(err, 9, "DATABASE_URL: table %s missing (run sfp-migrate)", k_datasets[i].table);
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
    free(d);
}

const char *sts_data_kind(const sts_data *d)
{
    return d->url ? "postgres" : "generator";
}

/* ---------------- Postgres ---------------- */

static char *pg_query(sts_data *d, const dataset_map *m, const char *block, const char *lot, const char *order_col,
                      bool desc, long limit, long offset, sfp_err *err)
{
    PGconn *c = thread_conn(d, err);
    if (!c) return NULL;
    /* Only fixed strings go into the SQL text; the order column is a parameter (->> $3). */
    sfp_buf sql;
    sfp_buf_init(&sql);
    sfp_buf_printf(&sql,
                   "SELECT coalesce(json_agg(s.j ORDER BY s.n), '[]')::text FROM ("
                   " SELECT x.j, row_number() OVER (ORDER BY x.j->>$3 %s NULLS LAST) AS n"
                   " FROM (SELECT %s AS j FROM %s t WHERE t.block = $1 AND t.lot = $2) x"
                   " ORDER BY n LIMIT $4::bigint OFFSET $5::bigint) s",
                   desc ? "DESC" : "ASC", m->object_sql, m->table);
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    const char *params[5] = {block, lot, order_col, lim, off};
    PGresult *r = PQexecParams(c, sql.data, 5, NULL, params, NULL, NULL, 0);
    sfp_buf_free(&sql);
    char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        out = strdup(PQgetvalue(r, 0, 0));
    } else {
        sfp_err_set(err, 13, "query failed: %s", PQresultErrorMessage(r));
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            pthread_setspecific(d->conn_key, NULL);
        }
    }
    PQclear(r);
    return out;
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

char *sts_data_query(sts_data *d, const char *dataset, const char *block, const char *lot, const char *order_col,
                     bool desc, long limit, long offset, sfp_err *err)
{
    const dataset_map *m = find_dataset(dataset);
    if (!m) {
        sfp_err_set(err, 5, "unknown dataset");
        return NULL;
    }
    if (d->url) return pg_query(d, m, block, lot, order_col, desc, limit, offset, err);
    return gen_query(dataset, block, lot, order_col, desc, limit, offset);
}
