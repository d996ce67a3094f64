/* bench/page_cache_miss.c — what the page cache's miss path costs by itself: N misses of one
 * key through sfp_page_cache_get (read, leader protocol, upsert, commit) with a compute that
 * runs no statement and returns PAYLOAD_FILE (a real packed brief, ~110 KB), the row
 * invalidated before each call by a second connection (as bench/brief.sh does). Prints, per
 * miss: the Postgres backend CPU of the cache's connection (utime + stime of its process from
 * /proc, read before and after the N calls; the invalidating backend is not counted), this
 * process's CPU, and the p50 wall time of the get. With --hit: N hits of the live row instead
 * (the shared read path; no memory tier).
 *
 * Built and run by bench/page_cache_miss.sh (which compiles it against a build's libraries).
 * Usage: page_cache_miss [--hit] N PAYLOAD_FILE KEY     Env: DATABASE_URL */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db_pool.h"
#include "log.h"
#include "page_cache.h"

typedef struct payload {
    uint8_t *data;
    size_t len;
} payload;

static int compute(sfp_conn *c, void *user, uint8_t **out, size_t *len, int *ttl, sfp_err *err)
{
    (void)c;
    (void)ttl;
    (void)err;
    const payload *p = user;
    *out = malloc(p->len);
    if (!*out) abort();
    memcpy(*out, p->data, p->len);
    *len = p->len;
    return 0;
}

static long long proc_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* fields after ") ": state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (long long)(ut + st);
}

static double self_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int ai = 1;
    bool hit = false;
    if (argc > 1 && !strcmp(argv[1], "--hit")) {
        hit = true;
        ai++;
    }
    if (argc - ai != 3) {
        fprintf(stderr, "usage: page_cache_miss [--hit] N PAYLOAD_FILE KEY\n");
        return 2;
    }
    int n = atoi(argv[ai]);
    const char *key = argv[ai + 2];
    const char *url = getenv("DATABASE_URL");
    if (n < 1 || !url) {
        fprintf(stderr, "N >= 1 and DATABASE_URL needed\n");
        return 2;
    }
    FILE *f = fopen(argv[ai + 1], "rb");
    if (!f) {
        perror(argv[ai + 1]);
        return 1;
    }
    payload pl = {0};
    fseek(f, 0, SEEK_END);
    pl.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    pl.data = malloc(pl.len ? pl.len : 1);
    if (fread(pl.data, 1, pl.len, f) != pl.len) abort();
    fclose(f);

    sfp_log_init("bench-page-cache");
    sfp_log_set_level(SFP_WARN);
    sfp_pool_config cfg = {.conninfo = url,
                           .min = 1,
                           .max = 1,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 20000,
                           .acquire_timeout_ms = 10000,
                           .idle_check_s = 300,
                           .application_name = "bench-page-cache"};
    sfp_err err = {0};
    sfp_pool *pool = sfp_pool_create(&cfg, &err);
    if (!pool) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return 1;
    }
    sfp_conn *c = sfp_pool_acquire(pool, 5000, &err);
    if (!c) return 1;
    int pid = PQbackendPID(sfp_conn_pg(c));
    sfp_pool_release(pool, c);
    PGconn *inv = PQconnectdb(url);
    if (PQstatus(inv) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(inv));
        return 1;
    }
    sfp_page_cache *pc = sfp_page_cache_new(pool);
    double *wall = calloc((size_t)n, sizeof *wall);
    const char *params[1] = {key};
    int warm = 5;
    long long t0 = 0;
    double c0 = 0, inv_ms = 0;
    for (int i = -warm; i < n; i++) {
        if (i == 0) {
            t0 = proc_ticks(pid);
            c0 = self_cpu_ms();
        }
        if (!hit || i == -warm) {
            double ci = self_cpu_ms();
            PGresult *r = PQexecParams(inv, "UPDATE page_cache SET invalidated_at = now() WHERE cache_key = $1", 1,
                                       NULL, params, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                fprintf(stderr, "invalidate: %s", PQerrorMessage(inv));
                return 1;
            }
            PQclear(r);
            if (i >= 0) inv_ms += self_cpu_ms() - ci;
        }
        sfp_page_result res;
        int64_t a = mono_us();
        if (sfp_page_cache_get(pc, key, 30, sfp_mono_ms() + 10000, compute, &pl, &res, &err) != 0) {
            fprintf(stderr, "get: %d %s\n", err.code, err.msg);
            return 1;
        }
        int64_t b = mono_us();
        if (i >= 0) wall[i] = (double)(b - a) / 1e3;
        if (res.cached != (hit && i > -warm) || res.len != pl.len) {
            fprintf(stderr, "unexpected: cached=%d len=%zu stored=%d\n", res.cached, res.len, res.stored);
            return 1;
        }
        sfp_page_result_clear(&res);
    }
    long long t1 = proc_ticks(pid);
    double c1 = self_cpu_ms() - inv_ms;
    qsort(wall, (size_t)n, sizeof *wall, cmp_d);
    double hz = (double)sysconf(_SC_CLK_TCK);
    printf("%s x%d (%zu-byte payload): backend CPU %.3f ms, client CPU %.3f ms, wall p50 %.3f ms per call\n",
           hit ? "hit " : "miss", n, pl.len, (double)(t1 - t0) * 1000.0 / hz / n, (c1 - c0) / n, wall[n / 2]);
    sfp_page_cache_free(pc);
    sfp_pool_destroy(pool);
    PQfinish(inv);
    free(wall);
    free(pl.data);
    return 0;
}
