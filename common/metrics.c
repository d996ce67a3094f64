#include "metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

typedef struct collector {
    sfp_metrics_collect_fn fn;
    void *user;
} collector;

struct sfp_metrics {
    char svc[32];
    pthread_mutex_t mu;
    collector *cs;
    size_t n, cap;
    struct MHD_Daemon *d;
    int port;
    double start_time;
};

/* ---------- writers ---------- */

void sfp_metrics_family(sfp_buf *out, const char *name, const char *type, const char *help)
{
    sfp_buf_printf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\') sfp_buf_puts(out, "\\\\");
        else if (*p == '\n') sfp_buf_puts(out, "\\n");
        else sfp_buf_putc(out, *p);
    }
    sfp_buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

static void put_value(sfp_buf *out, double v)
{
    if (isnan(v)) sfp_buf_puts(out, "NaN");
    else if (isinf(v)) sfp_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) sfp_buf_printf(out, "%.0f", v);
    else {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
        sfp_buf_puts(out, tmp);
    }
}

void sfp_metrics_sample(sfp_buf *out, const char *name, const char *labels, double value)
{
    sfp_buf_puts(out, name);
    if (labels && *labels) sfp_buf_printf(out, "{%s}", labels);
    sfp_buf_putc(out, ' ');
    put_value(out, value);
    sfp_buf_putc(out, '\n');
}

void sfp_metrics_label(sfp_buf *out, const char *key, const char *value)
{
    if (out->len && out->data[out->len - 1] == '"') sfp_buf_putc(out, ',');
    sfp_buf_printf(out, "%s=\"", key);
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\') sfp_buf_puts(out, "\\\\");
        else if (*p == '"') sfp_buf_puts(out, "\\\"");
        else if (*p == '\n') sfp_buf_puts(out, "\\n");
        else sfp_buf_putc(out, *p);
    }
    sfp_buf_putc(out, '"');
}

void sfp_metrics_histogram(sfp_buf *out, const char *name, const char *labels, const sfp_hist *h)
{
    uint64_t cum = 0;
    char le[32];
    for (int i = 0; i < SFP_HIST_NBUCKETS; i++) {
        cum += h->counts[i];
        if (i < SFP_HIST_NBUCKETS - 1) snprintf(le, sizeof le, "%g", sfp_hist_bounds_ms[i] / 1000.0);
        else snprintf(le, sizeof le, "+Inf");
        sfp_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels ? labels : "", labels && *labels ? "," : "",
                       le, (unsigned long long)cum);
    }
    sfp_buf_puts(out, name);
    sfp_buf_puts(out, "_sum");
    if (labels && *labels) sfp_buf_printf(out, "{%s}", labels);
    sfp_buf_putc(out, ' ');
    put_value(out, h->sum_ms / 1000.0);
    sfp_buf_putc(out, '\n');
    sfp_buf_puts(out, name);
    sfp_buf_puts(out, "_count");
    if (labels && *labels) sfp_buf_printf(out, "{%s}", labels);
    sfp_buf_printf(out, " %llu\n", (unsigned long long)cum);
}

/* ---------- process metrics ---------- */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void process_metrics(sfp_metrics *m, sfp_buf *out)
{
    sfp_buf lb;
    sfp_buf_init(&lb);
    sfp_metrics_label(&lb, "service", m->svc);
    sfp_metrics_label(&lb, "version", SFP_VERSION);
    sfp_metrics_family(out, "sfp_build_info", "gauge", "Build and service identity (always 1).");
    sfp_metrics_sample(out, "sfp_build_info", lb.data, 1);
    sfp_buf_free(&lb);
    sfp_metrics_family(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
    sfp_metrics_sample(out, "process_start_time_seconds", NULL, m->start_time);
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    sfp_metrics_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    sfp_metrics_sample(out, "process_resident_memory_bytes", NULL, (double)rss * (double)sysconf(_SC_PAGESIZE));
    int fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        while (readdir(d)) fds++;
        closedir(d);
        fds -= 3; /* ".", "..", and the DIR's own fd */
    }
    sfp_metrics_family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    sfp_metrics_sample(out, "process_open_fds", NULL, fds > 0 ? fds : 0);
}

char *sfp_metrics_render(sfp_metrics *m, size_t *len)
{
    sfp_buf out;
    sfp_buf_init(&out);
    process_metrics(m, &out);
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) m->cs[i].fn(&out, m->cs[i].user);
    pthread_mutex_unlock(&m->mu);
    if (!out.len || out.data[out.len - 1] != '\n') sfp_buf_putc(&out, '\n');
    return sfp_buf_steal(&out, len);
}

/* ---------- HTTP ---------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)upload_size;
    static int first;
    if (!*state) {
        *state = &first; /* answer on the second call so keep-alive works */
        return MHD_YES;
    }
    sfp_metrics *m = cls;
    struct MHD_Response *r;
    int status;
    if (strcmp(url, "/metrics")) {
        static const char nf[] = "not found: metrics are at /metrics\n";
        r = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    } else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        static const char na[] = "method not allowed\n";
        r = MHD_create_response_from_buffer(sizeof na - 1, (void *)na, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Allow", "GET, HEAD");
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else {
        size_t len = 0;
        char *body = sfp_metrics_render(m, &len);
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        status = MHD_HTTP_OK;
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static int bind_addr(const char *addr, int *port_out, sfp_err *err)
{
    const char *colon = strrchr(addr, ':');
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strlen(h) - 1] = '\0';
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(h, colon + 1, &hints, &res))
        return sfp_err_set(err, SFP_UNAVAILABLE, "METRICS_ADDR: cannot resolve %s", addr);
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return sfp_err_set(err, SFP_UNAVAILABLE, "METRICS_ADDR: cannot listen on %s", addr);
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

sfp_metrics *sfp_metrics_start_from_env(const char *svc, sfp_err *err)
{
    const char *addr;
    if (sfp_cfg_text("METRICS_ADDR", &addr, err)) return NULL;
    bool off = !strcmp(addr, "off");
    if (!off && !strncmp(addr, "unix:", 5)) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "METRICS_ADDR: must be host:port (Prometheus scrapes TCP)");
        return NULL;
    }
    sfp_metrics *m = calloc(1, sizeof *m);
    if (!m) abort();
    snprintf(m->svc, sizeof m->svc, "%s", svc);
    pthread_mutex_init(&m->mu, NULL);
    m->start_time = wall_now();
    if (off) return m;
    int fd = bind_addr(addr, &m->port, err);
    if (fd < 0) {
        sfp_metrics_stop(m);
        return NULL;
    }
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
    if (!m->d) {
        close(fd);
        sfp_err_set(err, SFP_INTERNAL, "METRICS_ADDR: cannot start the metrics server on %s", addr);
        sfp_metrics_stop(m);
        return NULL;
    }
    sfp_log(SFP_INFO, "metrics listening", SFP_S("addr", addr), SFP_I("port", m->port));
    return m;
}

void sfp_metrics_add(sfp_metrics *m, sfp_metrics_collect_fn fn, void *user)
{
    pthread_mutex_lock(&m->mu);
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cs = realloc(m->cs, m->cap * sizeof *m->cs);
        if (!m->cs) abort();
    }
    m->cs[m->n++] = (collector){fn, user};
    pthread_mutex_unlock(&m->mu);
}

int sfp_metrics_port(const sfp_metrics *m)
{
    return m ? m->port : 0;
}

void sfp_metrics_stop(sfp_metrics *m)
{
    if (!m) return;
    if (m->d) MHD_stop_daemon(m->d); /* closes the listen socket it was given */
    pthread_mutex_destroy(&m->mu);
    free(m->cs);
    free(m);
}
