/* bench/stmt_fmt_cpu.c — backend CPU and client CPU of one prepared statement, text against
 * binary result format, executed N times on one connection (generic plan, as sfp-report runs it).
 *   cc -O2 -o /tmp/stmt_fmt_cpu bench/stmt_fmt_cpu.c -I"$(pg_config --includedir)" -lpq
 *   DATABASE_URL=... /tmp/stmt_fmt_cpu N FORMAT FILE [PARAM...]     (FORMAT 0 = text, 1 = binary)
 * Prints the backend's utime+stime per execution (from /proc/PID/stat, same machine) and this
 * process's CPU per execution (libpq receiving and storing the rows; values are not parsed). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static double backend_s(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long ut = 0, st = 0;
    int rc = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    fclose(f);
    return rc == 2 ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : -1;
}

static double self_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: stmt_fmt_cpu N FORMAT FILE [PARAM...]\n");
        return 2;
    }
    int n = atoi(argv[1]), fmt = atoi(argv[2]);
    FILE *f = fopen(argv[3], "r");
    if (!f) return 2;
    static char sql[65536];
    size_t len = fread(sql, 1, sizeof sql - 1, f);
    fclose(f);
    sql[len] = '\0';
    PGconn *c = PQconnectdb(getenv("DATABASE_URL"));
    if (PQstatus(c) != CONNECTION_OK) return fprintf(stderr, "%s", PQerrorMessage(c)), 1;
    PQclear(PQexec(c, "SET plan_cache_mode = force_generic_plan"));
    PGresult *r = PQprepare(c, "q", sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) return fprintf(stderr, "%s", PQerrorMessage(c)), 1;
    PQclear(r);
    const char *const *params = (const char *const *)argv + 4;
    int np = argc - 4, rows = 0;
    for (int i = 0; i < 3; i++) PQclear(PQexecPrepared(c, "q", np, params, NULL, NULL, fmt));
    int pid = PQbackendPID(c);
    double b0 = backend_s(pid), s0 = self_s();
    for (int i = 0; i < n; i++) {
        r = PQexecPrepared(c, "q", np, params, NULL, NULL, fmt);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) return fprintf(stderr, "%s", PQerrorMessage(c)), 1;
        rows = PQntuples(r);
        PQclear(r);
    }
    double b1 = backend_s(pid), s1 = self_s();
    printf("%-36s format=%d rows=%d backend %.3f ms client %.3f ms per execution\n", argv[3], fmt, rows,
           (b1 - b0) * 1000 / n, (s1 - s0) * 1000 / n);
    PQfinish(c);
    return 0;
}
