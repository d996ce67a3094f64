#include "testsupport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "migrations.h"

extern char **environ;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "testsupport: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

const char *sfp_test_admin_url(void)
{
    static char url[512];
    if (url[0]) return url;
    const char *env = getenv("DATABASE_URL");
    if (env && *env) {
        snprintf(url, sizeof url, "%s", env);
        return url;
    }
    FILE *f = fopen(SFP_TEST_PG_DIR "/url", "r");
    if (!f) die("no Postgres: set DATABASE_URL or run through ctest (fixture pg)", SFP_TEST_PG_DIR "/url");
    if (!fgets(url, sizeof url, f)) die("empty url file", NULL);
    fclose(f);
    url[strcspn(url, "\r\n")] = '\0';
    return url;
}

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

static PGconn *connect_or_die(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) die("cannot connect", PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
}

/* Replaces the database name of a libpq URI or key=value string with `db`. */
static char *url_with_db(const char *base, const char *db)
{
    PQconninfoOption *opts = PQconninfoParse(base, NULL);
    if (!opts) die("bad DATABASE_URL", base);
    char buf[1024] = "";
    size_t len = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") ? o->val : db;
        if (!v || !*v) continue;
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s='", o->keyword);
        for (const char *p = v; *p && len < sizeof buf - 4; p++) {
            if (*p == '\'' || *p == '\\') buf[len++] = '\\';
            buf[len++] = *p;
        }
        len += (size_t)snprintf(buf + len, sizeof buf - len, "' ");
    }
    PQconninfoFree(opts);
    return strdup(buf);
}

int sfp_test_sql(const char *url, const char *sql)
{
    PGconn *c = connect_or_die(url);
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? 0 : -1;
    if (rc) fprintf(stderr, "testsupport: SQL failed: %s\n  %s\n", PQerrorMessage(c), sql);
    PQclear(r);
    PQfinish(c);
    return rc;
}

long sfp_test_sql_long(const char *url, const char *sql)
{
    PGconn *c = connect_or_die(url);
    PGresult *r = PQexec(c, sql);
    long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "testsupport: SQL failed: %s\n  %s\n", PQerrorMessage(c), sql);
    PQclear(r);
    PQfinish(c);
    return v;
}

char *sfp_test_create_db(const char *name)
{
    const char *admin = sfp_test_admin_url();
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    if (sfp_test_sql(admin, sql)) die("drop database failed", name);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    if (sfp_test_sql(admin, sql)) die("create database failed", name);
    return url_with_db(admin, name);
}

char *sfp_test_migrated_db(const char *name)
{
    char *url = sfp_test_create_db(name);
    PGconn *c = connect_or_die(url);
    sfp_err err = {0};
    int applied = 0;
    if (sfp_migrate(c, &applied, &err)) die("migrate failed", err.msg);
    PQfinish(c);
    return url;
}

/* ---- processes ---- */

static int parse_port_for(const char *line, const char *msg)
{
    char want[128];
    snprintf(want, sizeof want, "\"msg\":\"%s\"", msg);
    if (!strstr(line, want)) return -1;
    const char *p = strstr(line, "\"port\":");
    if (!p) return -1;
    return atoi(p + 7);
}

int sfp_proc_log_port(const sfp_proc *p, const char *msg)
{
    FILE *f = fopen(p->log_path, "r");
    char line[2048];
    int port = -1;
    while (f && port < 0 && fgets(line, sizeof line, f)) port = parse_port_for(line, msg);
    if (f) fclose(f);
    return port;
}

static int parse_port(const char *line)
{
    if (!strstr(line, "\"msg\":\"listening\"")) return -1;
    const char *p = strstr(line, "\"port\":");
    if (!p) return -1;
    return atoi(p + 7);
}

bool sfp_test_file_wait(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0;; waited += 10) {
        FILE *f = fopen(path, "r");
        if (f) {
            char line[8192];
            bool found = false;
            while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
            fclose(f);
            if (found) return true;
        }
        if (waited >= timeout_ms) return false;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void sfp_test_require_bin(const char *binary)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SFP_BIN_DIR, binary);
    if (access(path, X_OK)) fail_msg("required binary missing: %s (build it first)", path);
}

int sfp_proc_start(sfp_proc *p, const char *binary, const char *const *env)
{
    memset(p, 0, sizeof *p);
    static int seq;
    snprintf(p->log_path, sizeof p->log_path, "/tmp/sfp-test-%d-%d-%s.log", (int)getpid(), seq++, binary);
    int fd = open(p->log_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SFP_BIN_DIR, binary);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) dup2(devnull, 0);
        /* The "listening" line is info level: a quieter LOG_LEVEL would hide the port. */
        setenv("LOG_LEVEL", "info", 1);
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        const char *vg = getenv("SFP_TEST_VALGRIND");
        if (vg && !strcmp(vg, binary)) {
            /* Leak check of our own code: definite/indirect leaks make the exit status 99. */
            char *argv[] = {"valgrind",
                            "-q",
                            "--leak-check=full",
                            "--errors-for-leak-kinds=definite,indirect",
                            "--show-leak-kinds=definite,indirect",
                            "--error-exitcode=99",
                            "--suppressions=" SFP_SOURCE_DIR "/tests/grpc.supp",
                            path,
                            NULL};
            execvp("valgrind", argv);
            _exit(127);
        }
        char *argv[] = {path, NULL};
        execve(path, argv, environ);
        _exit(127);
    }
    close(fd);
    p->pid = pid;
    /* Wait for the listening line (10 s; 60 s under valgrind). */
    int tries = getenv("SFP_TEST_VALGRIND") ? 6000 : 1000;
    for (int i = 0; i < tries; i++) {
        FILE *f = fopen(p->log_path, "r");
        char line[2048];
        while (f && fgets(line, sizeof line, f)) {
            int port = parse_port(line);
            if (port >= 0) {
                p->port = port;
                fclose(f);
                return 0;
            }
        }
        if (f) fclose(f);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            p->pid = 0;
            fprintf(stderr, "testsupport: %s exited early (status %d); log %s\n", binary, status, p->log_path);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "testsupport: %s did not log 'listening' in 10 s; log %s\n", binary, p->log_path);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    p->pid = 0;
    return -1;
}

int sfp_proc_stop(sfp_proc *p, int timeout_ms)
{
    if (p->pid <= 0) return -1;
    if (getenv("SFP_TEST_VALGRIND")) timeout_ms *= 10;
    kill(p->pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
}

bool sfp_proc_alive(const sfp_proc *p)
{
    return p->pid > 0 && kill(p->pid, 0) == 0;
}

/* Lowest port of the kernel's ephemeral range (32768 when unreadable). */
static int ephemeral_low(void)
{
    int lo = 32768, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2) lo = 32768;
        fclose(f);
    }
    return lo > 10100 ? lo : 10100;
}

int sfp_test_free_port(void)
{
    /* Outside the ephemeral range, so no outgoing connection is ever given this port as its
     * source port (a self-connection); proven free by binding it; another port when taken. */
    int span = ephemeral_low() - 10000;
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int attempt = 0; attempt < 200; attempt++) {
        int port = 10000 + (int)(rand_r(&seed) % (unsigned)span);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return -1;
        struct sockaddr_in a = {
            .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok) return port;
    }
    die("no free TCP port outside the ephemeral range", NULL);
    return -1;
}

static void *rpc_thread(void *arg)
{
    sfp_rpc_server_run(arg);
    return NULL;
}

void sfp_test_rpc_start(const sfp_rpc_server_config *cfg, const sfp_rpc_method *m, size_t n, sfp_rpc_server **srv,
                        pthread_t *th, sfp_rpc_channel **ch)
{
    sfp_err err = {0};
    *srv = sfp_rpc_server_create(cfg, m, n, &err);
    if (!*srv) die("rpc server", err.msg);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", sfp_rpc_server_port(*srv));
    pthread_create(th, NULL, rpc_thread, *srv);
    *ch = sfp_rpc_channel_create(addr);
}

void sfp_test_rpc_stop(sfp_rpc_server *srv, pthread_t th, sfp_rpc_channel *ch)
{
    sfp_rpc_channel_destroy(ch);
    sfp_rpc_server_stop(srv);
    pthread_join(th, NULL);
    sfp_rpc_server_destroy(srv);
}

Sfpermits__V1__ServiceStats *sfp_test_stats(sfp_rpc_channel *ch)
{
    Sfpermits__V1__GetStatsRequest req = SFPERMITS__V1__GET_STATS_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    if (sfp_rpc_call(ch, "/sfpermits.v1.Introspection/GetStats", &req.base, &sfpermits__v1__service_stats__descriptor,
                     &resp, 5000, NULL, 0, &st) != GRPC_STATUS_OK)
        die("GetStats failed", st.message);
    return (Sfpermits__V1__ServiceStats *)resp;
}

double sfp_test_stats_counter(const Sfpermits__V1__ServiceStats *st, const char *name)
{
    for (size_t i = 0; i < st->n_counters; i++)
        if (!strcmp(st->counters[i]->name, name)) return st->counters[i]->value;
    return -1;
}
