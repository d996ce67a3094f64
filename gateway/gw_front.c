/* gw_front.c — see gw_front.h. */
#include "gw_front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "gw_limits.h"
#include "log.h"
#include "rpc_details.h"
#include "status_map.h"

#define MAX_CLOSING 1024
#define LINGER_NS (1000LL * 1000000)
#define SWEEP_NS (100LL * 1000000)
#define SUMMARY_NS (10000LL * 1000000)
#define IP_BUCKETS 4096
#define NO_DEADLINE INT64_MAX
#define TAG_LISTEN (UINT64_MAX - 1) /* epoll data: a connection's fd, or one of these */
#define TAG_WAKE (UINT64_MAX - 2)

typedef enum { C_PENDING, C_CLOSING, C_HANDOFF, C_MHD } conn_state;
typedef enum { P_FIRST, P_IN_HEAD, P_ACTIVE, P_BETWEEN } conn_phase;

typedef struct ip_count {
    struct ip_count *next;
    unsigned char key[17]; /* family byte + address */
    int count;
} ip_count;

struct gw_conn {
    gw_conn *prev, *next; /* pending, closing or mhd list */
    int fd;
    conn_state state;
    _Atomic int phase; /* conn_phase; set by HTTP threads, read by the sweep */
    bool counted;      /* in total / per-IP counts */
    unsigned char key[17];
    struct sockaddr_storage sa;
    socklen_t salen;
    int64_t accepted_ns;
    _Atomic int64_t deadline_ns;
};

typedef struct conn_list {
    gw_conn *head, *tail;
    int n;
} conn_list;

struct gw_front {
    gw_front_config cfg;
    char host[256];
    char *trusted; /* copy */
    int listen_fd, ep, wake_fd, port, cap;
    pthread_t thread;
    bool started;
    atomic_bool stopping;
    gw_front_handoff_fn handoff;
    void *handoff_user;
    pthread_mutex_t mu;
    gw_conn **table; /* fd → record */
    size_t table_n;
    conn_list pending, closing, mhd;
    int total;
    ip_count *ips[IP_BUCKETS];
    char *peek;
    size_t peek_cap;
    _Atomic uint64_t accepted, refused_total_cap, refused_client_cap, bad_heads, head_timeouts, keepalive_timeouts;
    gw_front_stats logged;
    uint64_t id_seed;
    int64_t last_summary_ns;
};

/* ------------------------------------------------------------------ lists */

static void list_add(conn_list *l, gw_conn *c)
{
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail) l->tail->next = c;
    else l->head = c;
    l->tail = c;
    l->n++;
}

static void list_del(conn_list *l, gw_conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else l->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else l->tail = c->prev;
    c->prev = c->next = NULL;
    l->n--;
}

static conn_list *list_of(gw_front *f, gw_conn *c)
{
    switch (c->state) {
    case C_PENDING: return &f->pending;
    case C_CLOSING: return &f->closing;
    case C_MHD: return &f->mhd;
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ per-IP counts */

static unsigned key_hash(const unsigned char *k)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 17; i++) h = (h ^ k[i]) * 16777619u;
    return h % IP_BUCKETS;
}

static ip_count **ip_find(gw_front *f, const unsigned char *key)
{
    ip_count **p = &f->ips[key_hash(key)];
    while (*p && memcmp((*p)->key, key, 17)) p = &(*p)->next;
    return p;
}

static int ip_get(gw_front *f, const unsigned char *key)
{
    ip_count **p = ip_find(f, key);
    return *p ? (*p)->count : 0;
}

static void ip_add(gw_front *f, const unsigned char *key, int d)
{
    ip_count **p = ip_find(f, key);
    if (!*p) {
        if (d <= 0) return;
        *p = calloc(1, sizeof **p);
        if (!*p) abort();
        memcpy((*p)->key, key, 17);
    }
    (*p)->count += d;
    if ((*p)->count <= 0) {
        ip_count *dead = *p;
        *p = dead->next;
        free(dead);
    }
}

static void make_key(const struct sockaddr_storage *sa, unsigned char key[17])
{
    memset(key, 0, 17);
    key[0] = (unsigned char)sa->ss_family;
    if (sa->ss_family == AF_INET) memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (sa->ss_family == AF_INET6) memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static bool trusted_peer(const gw_front *f, const struct sockaddr_storage *sa)
{
    if (!f->trusted || !*f->trusted) return false;
    char ip[INET6_ADDRSTRLEN] = "";
    if (sa->ss_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
    else if (sa->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    size_t il = strlen(ip);
    if (!il) return false;
    for (const char *p = f->trusted; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') e++;
        if ((size_t)(e - p) == il && !memcmp(p, ip, il)) return true;
        p = e;
    }
    return false;
}

/* ------------------------------------------------------------------ records (mu held) */

static void uncount(gw_front *f, gw_conn *c)
{
    if (!c->counted) return;
    c->counted = false;
    f->total--;
    if (c->key[0]) ip_add(f, c->key, -1);
}

/* Forgets a record; closes its socket when the front still owns it. */
static void release(gw_front *f, gw_conn *c, bool close_fd)
{
    conn_list *l = list_of(f, c);
    if (l) list_del(l, c);
    uncount(f, c);
    if (c->fd >= 0 && (size_t)c->fd < f->table_n && f->table[c->fd] == c) f->table[c->fd] = NULL;
    if (close_fd && c->fd >= 0) {
        if (c->state == C_PENDING || c->state == C_CLOSING) epoll_ctl(f->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    free(c);
}

/* ------------------------------------------------------------------ canned answers */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

size_t gw_front_error_response(int status, const char *reason, const char *request_id, double ms, char *out, size_t cap)
{
    sfp_buf body;
    sfp_buf_init(&body);
    int retry_s = gw_needs_retry_after(status) ? (status == 429 ? 1 : gw_retry_after_seconds(NULL, status)) : -1;
    /* a 429 carries the same ErrorInfo reason as every other rate limit of the suite */
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    if (status == 429) sfp_rpc_details_set_reason(&d, SFP_REASON_RATE_LIMITED);
    gw_error_body_ex(&body, gw_grpc_code_for_http(status), reason, &d, retry_s, NULL);
    char retry[48] = "";
    if (retry_s >= 0) snprintf(retry, sizeof retry, "Retry-After: %d\r\n", retry_s);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: %s\r\n"
                     "X-Response-Time: %.1fms\r\n%s\r\n%.*s",
                     status, reason_phrase(status), body.len, request_id, ms < 0 ? 0.0 : ms, retry, (int)body.len,
                     body.data ? body.data : "");
    sfp_buf_free(&body);
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

/* A request id for a front answer: splitmix64 of a counter seeded from the kernel RNG once
 * (a refusal flood must not cost a getrandom(2) each). Front thread only. */
static void front_request_id(gw_front *f, char out[GW_REQUEST_ID_GEN_LEN + 1])
{
    if (!f->id_seed) {
        char seed[GW_REQUEST_ID_GEN_LEN + 1];
        gw_request_id_generate(seed);
        f->id_seed = strtoull(seed + 16, NULL, 16) | 1;
    }
    for (int half = 0; half < 2; half++) {
        uint64_t z = (f->id_seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        snprintf(out + 16 * half, 17, "%016llx", (unsigned long long)z);
    }
}

/* Answers and starts a lingering close (mu held). The record must not be in any list. */
static void refuse(gw_front *f, gw_conn *c, int status, const char *reason)
{
    char rid[GW_REQUEST_ID_GEN_LEN + 1];
    front_request_id(f, rid);
    char out[1024];
    size_t n =
        gw_front_error_response(status, reason, rid, (double)(sfp_mono_ns() - c->accepted_ns) / 1e6, out, sizeof out);
    if (n) (void)!send(c->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(c->fd, SHUT_WR);
    uncount(f, c);
    if (f->closing.n >= MAX_CLOSING) {
        release(f, c, true);
        return;
    }
    bool registered = c->state == C_PENDING;
    c->state = C_CLOSING;
    atomic_store(&c->deadline_ns, sfp_mono_ns() + LINGER_NS);
    list_add(&f->closing, c);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)c->fd};
    if (epoll_ctl(f->ep, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0) release(f, c, true);
}

/* ------------------------------------------------------------------ the thread's work */

/* Drains a closing connection; closes it at EOF or error. */
static void on_closing(gw_front *f, gw_conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (r > 0) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (r < 0 && errno == EINTR) continue;
        release(f, c, true);
        return;
    }
}

/* Looks at what a pending connection has sent; mu held. */
static void on_pending(gw_front *f, gw_conn *c)
{
    ssize_t r;
    do r = recv(c->fd, f->peek, f->peek_cap, MSG_PEEK | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        release(f, c, true); /* the client went away before sending a head */
        return;
    }
    if (r < 0) return;
    gw_head_result hr;
    gw_head_state st = gw_head_check(f->peek, (size_t)r, &f->cfg.limits, &hr);
    if (st == GW_HEAD_NEED_MORE) return;
    list_del(&f->pending, c);
    if (st == GW_HEAD_ERROR) {
        atomic_fetch_add(&f->bad_heads, 1);
        refuse(f, c, hr.status, hr.reason);
        return;
    }
    epoll_ctl(f->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->state = C_HANDOFF;
    atomic_store(&c->deadline_ns, NO_DEADLINE);
    int fd = c->fd;
    struct sockaddr_storage sa = c->sa;
    socklen_t salen = c->salen;
    /* libmicrohttpd's start hook takes mu, so hand over without it. The record stays in the
     * table (state HANDOFF) for that hook to find. */
    pthread_mutex_unlock(&f->mu);
    int rc = f->handoff(f->handoff_user, fd, (struct sockaddr *)&sa, salen);
    pthread_mutex_lock(&f->mu);
    if (rc != 0 && (size_t)fd < f->table_n && f->table[fd] == c && c->state == C_HANDOFF)
        release(f, c, false); /* the HTTP layer refused it and closed the socket */
}

static void on_accept(gw_front *f)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int fd = accept4(f->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE)
                sfp_log(SFP_WARN, "accept failed: out of file descriptors", SFP_I("open", gw_front_connections(f)));
            return;
        }
        atomic_fetch_add(&f->accepted, 1);
        pthread_mutex_lock(&f->mu);
        if ((size_t)fd >= f->table_n) { /* cannot happen below the fd limit the table was sized for */
            pthread_mutex_unlock(&f->mu);
            close(fd);
            continue;
        }
        if (f->table[fd]) /* a record whose socket the HTTP layer closed without telling: stale */
            release(f, f->table[fd], false);
        gw_conn *c = calloc(1, sizeof *c);
        if (!c) abort();
        c->fd = fd;
        c->sa = sa;
        c->salen = salen;
        c->accepted_ns = sfp_mono_ns();
        c->state = C_HANDOFF; /* in no list yet */
        f->table[fd] = c;
        bool exempt = trusted_peer(f, &sa);
        if (!exempt) make_key(&sa, c->key);
        if (f->total >= f->cap) {
            atomic_fetch_add(&f->refused_total_cap, 1);
            refuse(f, c, 503, "the server is at its connection limit; try again later");
        } else if (!exempt && f->cfg.max_per_client > 0 && ip_get(f, c->key) >= f->cfg.max_per_client) {
            atomic_fetch_add(&f->refused_client_cap, 1);
            refuse(f, c, 429, "too many connections from this client");
        } else {
            c->counted = true;
            f->total++;
            if (!exempt) ip_add(f, c->key, 1);
            c->state = C_PENDING;
            atomic_store(&c->deadline_ns, c->accepted_ns + (int64_t)f->cfg.head_timeout_ms * 1000000);
            list_add(&f->pending, c);
            struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)c->fd};
            if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) != 0) release(f, c, true);
            else on_pending(f, c); /* the head is often there already */
        }
        pthread_mutex_unlock(&f->mu);
    }
}

/* Deadlines (mu held): pending heads, lingering closes, and handed-over connections. */
static void sweep(gw_front *f, int64_t now, bool with_mhd)
{
    while (f->pending.head && atomic_load(&f->pending.head->deadline_ns) <= now) {
        atomic_fetch_add(&f->head_timeouts, 1);
        release(f, f->pending.head, true);
    }
    while (f->closing.head && atomic_load(&f->closing.head->deadline_ns) <= now) release(f, f->closing.head, true);
    if (!with_mhd) return;
    for (gw_conn *c = f->mhd.head; c; c = c->next) {
        if (atomic_load(&c->deadline_ns) > now) continue;
        atomic_store(&c->deadline_ns, NO_DEADLINE);
        atomic_fetch_add(c->phase == P_BETWEEN ? &f->keepalive_timeouts : &f->head_timeouts, 1);
        shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees EOF and closes it */
    }
}

static void summary(gw_front *f, int64_t now)
{
    if (now - f->last_summary_ns < SUMMARY_NS) return;
    f->last_summary_ns = now;
    gw_front_stats s;
    gw_front_get_stats(f, &s);
    gw_front_stats *o = &f->logged;
    if (s.refused_total_cap == o->refused_total_cap && s.refused_client_cap == o->refused_client_cap &&
        s.bad_heads == o->bad_heads && s.head_timeouts == o->head_timeouts &&
        s.keepalive_timeouts == o->keepalive_timeouts)
        return;
    sfp_log(SFP_WARN, "connections refused or closed", SFP_I("open", gw_front_connections(f)),
            SFP_I("refused_total_cap", (long long)(s.refused_total_cap - o->refused_total_cap)),
            SFP_I("refused_client_cap", (long long)(s.refused_client_cap - o->refused_client_cap)),
            SFP_I("bad_heads", (long long)(s.bad_heads - o->bad_heads)),
            SFP_I("head_timeouts", (long long)(s.head_timeouts - o->head_timeouts)),
            SFP_I("keepalive_timeouts", (long long)(s.keepalive_timeouts - o->keepalive_timeouts)),
            SFP_I("interval_s", SUMMARY_NS / 1000000000));
    *o = s;
}

static void *front_thread(void *arg)
{
    gw_front *f = arg;
    struct epoll_event evs[256];
    int64_t next_mhd_sweep = 0;
    while (!atomic_load(&f->stopping)) {
        int n = epoll_wait(f->ep, evs, 256, (int)(SWEEP_NS / 1000000));
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == TAG_LISTEN) {
                on_accept(f);
            } else if (tag == TAG_WAKE) {
                uint64_t v;
                (void)!read(f->wake_fd, &v, sizeof v);
            } else {
                /* by fd: a record released earlier in this batch is gone from the table */
                uint64_t fd = evs[i].data.u64;
                pthread_mutex_lock(&f->mu);
                gw_conn *c = fd < f->table_n ? f->table[fd] : NULL;
                if (c && c->state == C_PENDING) on_pending(f, c);
                else if (c && c->state == C_CLOSING) on_closing(f, c);
                pthread_mutex_unlock(&f->mu);
            }
        }
        int64_t now = sfp_mono_ns();
        pthread_mutex_lock(&f->mu);
        bool with_mhd = now >= next_mhd_sweep;
        if (with_mhd) next_mhd_sweep = now + 2 * SWEEP_NS;
        sweep(f, now, with_mhd);
        pthread_mutex_unlock(&f->mu);
        summary(f, now);
    }
    /* stop: the port is freed, heads still arriving are dropped */
    pthread_mutex_lock(&f->mu);
    epoll_ctl(f->ep, EPOLL_CTL_DEL, f->listen_fd, NULL);
    close(f->listen_fd);
    f->listen_fd = -1;
    while (f->pending.head) release(f, f->pending.head, true);
    while (f->closing.head) release(f, f->closing.head, true);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

static int listen_on(const char *host, int port, int *port_out, sfp_err *err)
{
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc) return sfp_err_set(err, SFP_UNAVAILABLE, "GATEWAY_ADDR: cannot resolve '%s': %s", host, gai_strerror(rc));
    int fd = -1, last = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sfp_err_set(err, SFP_UNAVAILABLE, "GATEWAY_ADDR: cannot listen on %s:%d: %s", host, port,
                           strerror(last));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6) *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

/* File descriptors besides connections: gRPC, logs, epoll, metrics listener, ... */
#define FD_RESERVE 256

gw_front *gw_front_create(const gw_front_config *cfg, sfp_err *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)cfg->max_connections + MAX_CLOSING + FD_RESERVE;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
    } else {
        rl.rlim_cur = 1024;
    }
    gw_front *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->cfg = *cfg;
    snprintf(f->host, sizeof f->host, "%s", cfg->host);
    f->cfg.host = f->host;
    f->trusted = strdup(cfg->trusted_proxies ? cfg->trusted_proxies : "");
    if (!f->trusted) abort();
    f->cfg.trusted_proxies = f->trusted;
    f->cap = cfg->max_connections;
    long fds = (long)rl.rlim_cur;
    if (fds - MAX_CLOSING - FD_RESERVE < f->cap) {
        long eff = fds - FD_RESERVE - 64 > 16 ? (fds - FD_RESERVE) * 3 / 4 : 16;
        if (eff < f->cap) {
            sfp_log(SFP_WARN, "file descriptor limit lowers the connection cap",
                    SFP_I("GATEWAY_MAX_CONNECTIONS", f->cap), SFP_I("nofile", fds), SFP_I("effective_cap", eff));
            f->cap = (int)eff;
        }
    }
    f->table_n = (size_t)fds;
    f->table = calloc(f->table_n, sizeof *f->table);
    f->peek_cap = cfg->limits.max_head + 64;
    f->peek = malloc(f->peek_cap);
    if (!f->table || !f->peek) abort();
    pthread_mutex_init(&f->mu, NULL);
    f->wake_fd = f->ep = -1;
    f->listen_fd = listen_on(cfg->host, cfg->port, &f->port, err);
    if (f->listen_fd < 0) {
        gw_front_destroy(f);
        return NULL;
    }
    return f;
}

int gw_front_port(const gw_front *f)
{
    return f->port;
}

int gw_front_effective_cap(const gw_front *f)
{
    return f->cap;
}

int gw_front_start(gw_front *f, gw_front_handoff_fn handoff, void *user)
{
    f->handoff = handoff;
    f->handoff_user = user;
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};
    struct epoll_event wev = {.events = EPOLLIN, .data.u64 = TAG_WAKE};
    if (f->ep < 0 || f->wake_fd < 0 || epoll_ctl(f->ep, EPOLL_CTL_ADD, f->listen_fd, &lev) ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->wake_fd, &wev))
        return -1;
    f->last_summary_ns = sfp_mono_ns();
    if (pthread_create(&f->thread, NULL, front_thread, f)) return -1;
    f->started = true;
    return 0;
}

void gw_front_stop_accepting(gw_front *f)
{
    if (!f || !f->started || atomic_exchange(&f->stopping, true)) return;
    uint64_t one = 1;
    (void)!write(f->wake_fd, &one, sizeof one);
    pthread_join(f->thread, NULL);
}

void gw_front_destroy(gw_front *f)
{
    if (!f) return;
    gw_front_stop_accepting(f);
    if (f->listen_fd >= 0) close(f->listen_fd);
    pthread_mutex_lock(&f->mu);
    while (f->pending.head) release(f, f->pending.head, true);
    while (f->closing.head) release(f, f->closing.head, true);
    while (f->mhd.head) release(f, f->mhd.head, false);
    for (size_t i = 0; i < f->table_n; i++)
        if (f->table[i]) release(f, f->table[i], false);
    for (int i = 0; i < IP_BUCKETS; i++)
        while (f->ips[i]) {
            ip_count *n = f->ips[i]->next;
            free(f->ips[i]);
            f->ips[i] = n;
        }
    pthread_mutex_unlock(&f->mu);
    if (f->ep >= 0) close(f->ep);
    if (f->wake_fd >= 0) close(f->wake_fd);
    pthread_mutex_destroy(&f->mu);
    free(f->table);
    free(f->peek);
    free(f->trusted);
    free(f);
}

int gw_front_connections(gw_front *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->total;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void gw_front_get_stats(gw_front *f, gw_front_stats *s)
{
    s->accepted = atomic_load(&f->accepted);
    s->refused_total_cap = atomic_load(&f->refused_total_cap);
    s->refused_client_cap = atomic_load(&f->refused_client_cap);
    s->bad_heads = atomic_load(&f->bad_heads);
    s->head_timeouts = atomic_load(&f->head_timeouts);
    s->keepalive_timeouts = atomic_load(&f->keepalive_timeouts);
}

/* ------------------------------------------------------------------ HTTP-layer hooks */

gw_conn *gw_front_conn_started(gw_front *f, int fd)
{
    pthread_mutex_lock(&f->mu);
    gw_conn *c = (fd >= 0 && (size_t)fd < f->table_n) ? f->table[fd] : NULL;
    if (c && c->state == C_HANDOFF) {
        c->state = C_MHD;
        c->phase = P_FIRST;
        atomic_store(&c->deadline_ns, NO_DEADLINE); /* its head is already complete */
        list_add(&f->mhd, c);
    } else {
        c = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    return c;
}

void gw_front_conn_closed(gw_front *f, gw_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&f->mu);
    release(f, c, false);
    pthread_mutex_unlock(&f->mu);
}

void gw_front_conn_request_line(gw_front *f, gw_conn *c)
{
    (void)f;
    if (!c || c->phase == P_FIRST) return;
    c->phase = P_IN_HEAD;
    int64_t d = sfp_mono_ns() + (int64_t)f->cfg.head_timeout_ms * 1000000;
    if (d < atomic_load(&c->deadline_ns)) atomic_store(&c->deadline_ns, d);
}

void gw_front_conn_head_done(gw_front *f, gw_conn *c)
{
    (void)f;
    if (!c) return;
    c->phase = P_ACTIVE;
    atomic_store(&c->deadline_ns, NO_DEADLINE);
}

void gw_front_conn_request_done(gw_front *f, gw_conn *c)
{
    if (!c) return;
    c->phase = P_BETWEEN;
    atomic_store(&c->deadline_ns, sfp_mono_ns() + (int64_t)f->cfg.idle_timeout_ms * 1000000);
}
