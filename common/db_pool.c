/* db_pool.c — see db_pool.h. Locking: one mutex guards the idle stack, counters and stats;
 * connecting, validating and closing happen outside it. */
#include "db_pool.h"
#include "clock.h"
#include "db_error.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"

struct sfp_conn {
    PGconn *pg;
    PGcancel *cancel;                     /* for sfp_pool_cancel_all */
    struct sfp_conn *next;                /* idle stack link */
    struct sfp_conn *use_prev, *use_next; /* borrowed list */
    bool borrowed;
    int64_t last_used_ms;
    bool broken;
};

typedef struct waiter {
    int64_t since_ms;
    struct waiter *prev, *next;
} waiter;

struct sfp_pool {
    sfp_pool_config cfg; /* strings owned (strdup) */
    char *conninfo, *app_name, *options;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* a connection was released / a slot freed */
    pthread_cond_t maint_cv; /* wakes the maintenance thread (stop) */
    sfp_conn *idle;          /* LIFO: the most recently used connection is reused first */
    int n_idle, size, in_use, connecting, waiting;
    waiter *wait_head, *wait_tail;
    sfp_pool_stats st;
    bool stopping;
    pthread_t maint;
    sfp_conn *used; /* borrowed connections (cancel_all) */
    /* outage state: back-off, one attempt at a time (the maintenance thread) while down */
    sfp_backoff bo;
    bool down;
    bool kick;
    int64_t down_since_ms, outage_attempts, outage_failed_fast, last_summary_ms;
    char last_error[160];
    /* readiness cache */
    pthread_mutex_t ready_mu;
    int64_t ready_at_ms;
    bool ready_val;
};

#define IDLE_RETIRE_MS (300 * 1000) /* idle connections above min are closed after 5 min */
#define SUMMARY_EVERY_MS 5000       /* "database still unreachable" while down */

static struct timespec abs_realtime(int64_t ms_from_now)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms_from_now / 1000;
    ts.tv_nsec += (ms_from_now % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return ts;
}

/* ---------- configuration ---------- */

int sfp_pool_config_from_env(sfp_pool_config *cfg, const char *application_name, sfp_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (sfp_cfg_text("DATABASE_URL", &cfg->conninfo, err)) return -1;
    if (!cfg->conninfo)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                           "DATABASE_URL: not set (a libpq URI such as postgresql://user@host:5432/sfpermits)");
    cfg->application_name = application_name;
    if (sfp_cfg_int("DB_POOL_MIN", &cfg->min, err)) return -1;
    if (sfp_cfg_int("DB_POOL_MAX", &cfg->max, err)) return -1;
    if (cfg->min > cfg->max)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT, "DB_POOL_MIN: %d is larger than DB_POOL_MAX (%d)", cfg->min,
                           cfg->max);
    if (sfp_cfg_int("DB_CONNECT_TIMEOUT", &cfg->connect_timeout_s, err)) return -1;
    if (sfp_cfg_duration_ms("DB_STATEMENT_TIMEOUT", &cfg->statement_timeout_ms, err)) return -1;
    if (sfp_cfg_int("DB_ACQUIRE_TIMEOUT", &cfg->acquire_timeout_ms, err)) return -1;
    if (sfp_cfg_int("DB_IDLE_CHECK", &cfg->idle_check_s, err)) return -1;
    if (sfp_cfg_int("DB_RECONNECT_MIN_MS", &cfg->reconnect_min_ms, err)) return -1;
    if (sfp_cfg_int("DB_RECONNECT_MAX_MS", &cfg->reconnect_max_ms, err)) return -1;
    if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        return sfp_err_set(err, SFP_INVALID_ARGUMENT,
                           "DB_RECONNECT_MAX_MS: %d is smaller than DB_RECONNECT_MIN_MS (%d)", cfg->reconnect_max_ms,
                           cfg->reconnect_min_ms);
    return 0;
}

/* ---------- connections ---------- */

static void close_conn(sfp_conn *c)
{
    if (!c) return;
    if (c->cancel) PQfreeCancel(c->cancel);
    PQfinish(c->pg);
    free(c);
}

static void notice_sink(void *arg, const char *message)
{
    (void)arg, (void)message; /* NOTICEs (e.g. "relation already exists") are not errors */
}

/* Opens one libpq connection with the pool's settings, bounded by the connect timeout,
 * deadline_ms (monotonic) and pool shutdown. Logs nothing: the caller reports state changes;
 * why (if not NULL, char[160]) gets libpq's reason on failure. */
static PGconn *open_pg(sfp_pool *p, const char *app_name, int64_t deadline_ms, sfp_err *err, char *why_out)
{
    char ctimeout[16];
    snprintf(ctimeout, sizeof ctimeout, "%d", p->cfg.connect_timeout_s);
    const char *keys[] = {"dbname",     "application_name", "options", "connect_timeout",
                          "keepalives", "keepalives_idle",  NULL};
    const char *vals[] = {p->conninfo, app_name, p->options, ctimeout, "1", "30", NULL};
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    if (!pg) {
        sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable (out of memory)");
        return NULL;
    }
    int64_t limit = sfp_mono_ms() + (int64_t)p->cfg.connect_timeout_s * 1000;
    if (deadline_ms < limit) limit = deadline_ms;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (PQstatus(pg) != CONNECTION_BAD) {
        if (ps == PGRES_POLLING_OK) break;
        if (ps == PGRES_POLLING_FAILED) break;
        int64_t left = limit - sfp_mono_ms();
        if (left <= 0 || __atomic_load_n(&p->stopping, __ATOMIC_RELAXED)) break;
        struct pollfd pfd = {.fd = PQsocket(pg), .events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int r = poll(&pfd, 1, (int)(left > 100 ? 100 : left));
        if (r < 0 && errno != EINTR) break;
        if (r > 0) ps = PQconnectPoll(pg);
    }
    if (ps != PGRES_POLLING_OK || PQstatus(pg) != CONNECTION_OK) {
        const char *why = PQstatus(pg) == CONNECTION_BAD ? PQerrorMessage(pg) : "connect timed out";
        if (why_out) {
            snprintf(why_out, 160, "%s", why);
            why_out[strcspn(why_out, "\n")] = '\0';
        }
        PQfinish(pg);
        sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable");
        return NULL;
    }
    PQsetNoticeProcessor(pg, notice_sink, NULL);
    return pg;
}

static void note_connect(sfp_pool *p, bool ok, const char *why);

PGconn *sfp_pool_connect_dedicated(sfp_pool *p, const char *role, int64_t deadline_ms, sfp_err *err)
{
    pthread_mutex_lock(&p->mu);
    bool down = p->down;
    pthread_mutex_unlock(&p->mu);
    if (down) {
        sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable (reconnecting with back-off)");
        return NULL;
    }
    char app[128], why[160] = "";
    snprintf(app, sizeof app, "%.60s-%.60s", p->app_name, role && *role ? role : "dedicated");
    PGconn *pg = open_pg(p, app, deadline_ms, err, why);
    pthread_mutex_lock(&p->mu);
    note_connect(p, pg != NULL, why);
    pthread_mutex_unlock(&p->mu);
    if (!pg && why[0]) snprintf(err->msg, sizeof err->msg, "database unavailable: %.150s", why);
    return pg;
}

sfp_backoff_config sfp_pool_backoff_config(const sfp_pool *p)
{
    return (sfp_backoff_config){.min_ms = p->cfg.reconnect_min_ms,
                                .max_ms = p->cfg.reconnect_max_ms,
                                .clock = p->cfg.clock,
                                .clock_arg = p->cfg.clock_arg,
                                .rnd = p->cfg.rnd,
                                .rnd_arg = p->cfg.rnd_arg};
}

/* The outcome of one connect attempt (p->mu held): the UP/DOWN state machine and its log. */
static void note_connect(sfp_pool *p, bool ok, const char *why)
{
    p->st.connect_attempts++;
    int64_t now = sfp_mono_ms();
    if (ok) {
        sfp_backoff_reset(&p->bo);
        if (p->down) {
            p->down = false;
            sfp_log(SFP_INFO, "database reachable again", SFP_I("outage_ms", now - p->down_since_ms),
                    SFP_I("connect_attempts", p->outage_attempts + 1),
                    SFP_I("requests_failed_fast", p->outage_failed_fast));
        }
        p->st.healthy = true;
        return;
    }
    p->st.connect_failures++;
    p->st.healthy = false;
    if (why && *why) snprintf(p->last_error, sizeof p->last_error, "%s", why);
    int delay = sfp_backoff_fail(&p->bo);
    if (!p->down) {
        p->down = true;
        p->down_since_ms = p->last_summary_ms = now;
        p->outage_attempts = 1;
        p->outage_failed_fast = 0;
        sfp_log(SFP_WARN, "database unreachable; connects back off", SFP_S("error", p->last_error),
                SFP_I("retry_ms", delay), SFP_I("max_retry_ms", p->cfg.reconnect_max_ms));
    } else {
        p->outage_attempts++;
    }
    pthread_cond_broadcast(&p->maint_cv); /* the maintenance thread schedules the next attempt */
}

static sfp_conn *open_conn(sfp_pool *p, int64_t deadline_ms, sfp_err *err)
{
    char why[160] = "";
    PGconn *pg = open_pg(p, p->app_name, deadline_ms, err, why);
    pthread_mutex_lock(&p->mu);
    note_connect(p, pg != NULL, why);
    pthread_mutex_unlock(&p->mu);
    if (!pg) return NULL;
    sfp_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->pg = pg;
    c->cancel = PQgetCancel(pg);
    c->last_used_ms = sfp_mono_ms();
    return c;
}

/* Borrowed list (p->mu held). */
static void use_add(sfp_pool *p, sfp_conn *c)
{
    c->use_prev = NULL;
    c->use_next = p->used;
    if (p->used) p->used->use_prev = c;
    p->used = c;
    c->borrowed = true;
}

static void use_del(sfp_pool *p, sfp_conn *c)
{
    if (!c->borrowed) return;
    if (c->use_prev) c->use_prev->use_next = c->use_next;
    else p->used = c->use_next;
    if (c->use_next) c->use_next->use_prev = c->use_prev;
    c->use_prev = c->use_next = NULL;
    c->borrowed = false;
}

int sfp_pool_cancel_all(sfp_pool *p)
{
    if (!p) return 0;
    int n = 0;
    pthread_mutex_lock(&p->mu);
    for (sfp_conn *c = p->used; c; c = c->use_next) {
        if (!c->cancel || PQtransactionStatus(c->pg) != PQTRANS_ACTIVE) continue;
        char buf[128];
        if (PQcancel(c->cancel, buf, sizeof buf)) n++;
    }
    pthread_mutex_unlock(&p->mu);
    if (n) sfp_log(SFP_WARN, "db statements cancelled", SFP_I("count", n));
    return n;
}

void sfp_pool_kick(sfp_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->kick = true;
    pthread_cond_broadcast(&p->maint_cv);
    pthread_mutex_unlock(&p->mu);
}

/* Cheap liveness check done on every checkout: no round trip unless the socket has data or
 * the connection idled longer than DB_IDLE_CHECK. */
static bool conn_alive(sfp_pool *p, sfp_conn *c)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) return false;
    struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
    int r = poll(&pfd, 1, 0);
    if (r < 0) return false;
    /* We never LISTEN, so an idle connection only receives bytes when the server says goodbye
     * (the FATAL sent on pg_terminate_backend or shutdown, followed by EOF) or, rarely, a
     * ParameterStatus. Either way: discard it and take a fresh one (pgdog does the same). */
    if (r > 0) return false;
    if (p->cfg.idle_check_s > 0 && sfp_mono_ms() - c->last_used_ms > (int64_t)p->cfg.idle_check_s * 1000) {
        PGresult *res = PQexec(c->pg, "SELECT 1");
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (!ok) return false;
    }
    return true;
}

/* ---------- pool ---------- */

static void *maintenance_main(void *arg);

sfp_pool *sfp_pool_create(const sfp_pool_config *cfg, sfp_err *err)
{
    if (!cfg->conninfo || !*cfg->conninfo) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT, "DATABASE_URL: not set");
        return NULL;
    }
    if (cfg->max < 1 || cfg->min < 0 || cfg->min > cfg->max) {
        sfp_err_set(err, SFP_INVALID_ARGUMENT,
                    "DB_POOL_MIN/DB_POOL_MAX: need 0 <= min <= max and max >= 1 (got %d, %d)", cfg->min, cfg->max);
        return NULL;
    }
    sfp_pool *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->cfg = *cfg;
    p->conninfo = strdup(cfg->conninfo);
    p->app_name = strdup(cfg->application_name ? cfg->application_name : "sfpermits");
    char opts[96];
    snprintf(opts, sizeof opts, "-c statement_timeout=%d -c idle_in_transaction_session_timeout=60000",
             cfg->statement_timeout_ms);
    p->options = strdup(opts);
    p->cfg.conninfo = p->conninfo;
    p->cfg.application_name = p->app_name;
    if (p->cfg.acquire_timeout_ms <= 0) p->cfg.acquire_timeout_ms = 5000;
    if (p->cfg.connect_timeout_s <= 0) p->cfg.connect_timeout_s = 10;
    p->st.min = cfg->min;
    p->st.max = cfg->max;
    if (p->cfg.reconnect_min_ms <= 0) p->cfg.reconnect_min_ms = 50;
    if (p->cfg.reconnect_max_ms < p->cfg.reconnect_min_ms) p->cfg.reconnect_max_ms = 800;
    sfp_backoff_config bc = sfp_pool_backoff_config(p);
    sfp_backoff_init(&p->bo, &bc);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->ready_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&p->cv, &ca);
    pthread_cond_init(&p->maint_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->maint, NULL, maintenance_main, p) != 0) abort();
    sfp_log(SFP_INFO, "db pool created", SFP_I("min", cfg->min), SFP_I("max", cfg->max),
            SFP_I("connect_timeout_s", p->cfg.connect_timeout_s),
            SFP_I("statement_timeout_ms", cfg->statement_timeout_ms));
    return p;
}

void sfp_pool_destroy(sfp_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->stopping, true, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&p->maint_cv);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->maint, NULL);
    for (sfp_conn *c = p->idle; c;) {
        sfp_conn *n = c->next;
        close_conn(c);
        c = n;
    }
    if (p->in_use) sfp_log(SFP_WARN, "db pool destroyed with connections in use", SFP_I("in_use", p->in_use));
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->maint_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->ready_mu);
    free(p->conninfo);
    free(p->app_name);
    free(p->options);
    free(p);
}

static void waiter_add(sfp_pool *p, waiter *w)
{
    w->prev = p->wait_tail;
    w->next = NULL;
    if (p->wait_tail) p->wait_tail->next = w;
    else p->wait_head = w;
    p->wait_tail = w;
    p->waiting++;
}

static void waiter_remove(sfp_pool *p, waiter *w)
{
    if (w->prev) w->prev->next = w->next;
    else p->wait_head = w->next;
    if (w->next) w->next->prev = w->prev;
    else p->wait_tail = w->prev;
    p->waiting--;
}

static void note_acquired(sfp_pool *p, bool waited, int64_t start)
{
    p->st.acquires++;
    if (waited) {
        p->st.waited_acquires++;
        double w = (double)(sfp_mono_ms() - start);
        if (w > p->st.max_wait_ms) p->st.max_wait_ms = w;
    }
}

/* spare: never wait for another caller's connection (NULL at once when none is idle and the
 * pool is full). */
static sfp_conn *acquire(sfp_pool *p, int timeout_ms, bool spare, sfp_err *err)
{
    int64_t start = sfp_mono_ms();
    int64_t deadline = start + (timeout_ms < 0 ? p->cfg.acquire_timeout_ms : timeout_ms);
    bool waited = false;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->stopping) {
            pthread_mutex_unlock(&p->mu);
            sfp_err_set(err, SFP_UNAVAILABLE, "database pool is shutting down");
            return NULL;
        }
        if (p->idle) {
            sfp_conn *c = p->idle;
            p->idle = c->next;
            p->n_idle--;
            p->in_use++;
            pthread_mutex_unlock(&p->mu);
            bool ok = conn_alive(p, c);
            pthread_mutex_lock(&p->mu);
            if (ok) {
                note_acquired(p, waited, start);
                p->st.healthy = true;
                use_add(p, c);
                pthread_mutex_unlock(&p->mu);
                c->next = NULL;
                return c;
            }
            p->in_use--;
            p->size--;
            p->st.broken++;
            pthread_mutex_unlock(&p->mu);
            sfp_log_msg(SFP_WARN, "db connection found broken on checkout; replacing it");
            close_conn(c);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        if (p->down && p->size + p->connecting < p->cfg.max) {
            /* Outage: no idle connection and no connect of our own (the maintenance thread
             * probes on the back-off schedule): fail at once. */
            p->st.failed_fast++;
            p->outage_failed_fast++;
            pthread_mutex_unlock(&p->mu);
            sfp_err_set(err, SFP_UNAVAILABLE, "database unavailable");
            return NULL;
        }
        if (p->size + p->connecting < p->cfg.max) {
            p->connecting++;
            pthread_mutex_unlock(&p->mu);
            sfp_conn *c = open_conn(p, deadline, err);
            pthread_mutex_lock(&p->mu);
            p->connecting--;
            if (!c) {
                pthread_cond_signal(&p->cv); /* the slot is free again */
                pthread_mutex_unlock(&p->mu);
                return NULL;
            }
            p->size++;
            p->in_use++;
            p->st.opened++;
            note_acquired(p, waited, start);
            use_add(p, c);
            pthread_mutex_unlock(&p->mu);
            return c;
        }
        if (spare) {
            pthread_mutex_unlock(&p->mu);
            sfp_err_set(err, SFP_UNAVAILABLE, "no spare database connection");
            return NULL;
        }
        int64_t left = deadline - sfp_mono_ms();
        if (left <= 0) {
            p->st.timeouts++;
            int in_use = p->in_use, max = p->cfg.max;
            pthread_mutex_unlock(&p->mu);
            sfp_log(SFP_WARN, "db pool exhausted: acquire timed out", SFP_I("in_use", in_use), SFP_I("max", max),
                    SFP_I("waited_ms", sfp_mono_ms() - start));
            sfp_err_set(err, SFP_UNAVAILABLE, "database busy, try again");
            return NULL;
        }
        waiter w = {.since_ms = start};
        waiter_add(p, &w);
        waited = true;
        struct timespec ts = abs_realtime(left);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        waiter_remove(p, &w);
    }
}

sfp_conn *sfp_pool_acquire(sfp_pool *p, int timeout_ms, sfp_err *err)
{
    return acquire(p, timeout_ms, false, err);
}

sfp_conn *sfp_pool_acquire_spare(sfp_pool *p, int timeout_ms, sfp_err *err)
{
    return acquire(p, timeout_ms, true, err);
}

void sfp_pool_release(sfp_pool *p, sfp_conn *c)
{
    if (!c) return;
    bool keep = !c->broken && PQstatus(c->pg) == CONNECTION_OK;
    if (keep) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            keep = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
        } else if (ts != PQTRANS_IDLE) {
            keep = false; /* a query still running or unknown state: not safe to reuse */
        }
    }
    pthread_mutex_lock(&p->mu);
    use_del(p, c);
    p->in_use--;
    if (keep) {
        c->last_used_ms = sfp_mono_ms();
        c->next = p->idle;
        p->idle = c;
        p->n_idle++;
    } else {
        p->size--;
        p->st.broken++;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (!keep) {
        sfp_log_msg(SFP_WARN, "db connection broken; discarded");
        close_conn(c);
    }
}

PGconn *sfp_conn_pg(sfp_conn *c)
{
    return c->pg;
}

/* ---------- maintenance: keep min open, retire long-idle extras, drop dead idle ones ---------- */

static void maintain_once(sfp_pool *p)
{
    /* 1. Check idle connections (peek only) so a Postgres restart is noticed before a caller does. */
    pthread_mutex_lock(&p->mu);
    sfp_conn *check = p->idle;
    p->idle = NULL;
    int n = p->n_idle;
    p->n_idle = 0;
    p->in_use += n; /* borrowed by maintenance while checked */
    pthread_mutex_unlock(&p->mu);
    sfp_conn *keep = NULL, *drop = NULL;
    int kept = 0, dropped_broken = 0, retired = 0;
    int64_t now = sfp_mono_ms();
    for (sfp_conn *c = check; c;) {
        sfp_conn *next = c->next;
        bool alive = !c->broken && PQstatus(c->pg) == CONNECTION_OK;
        if (alive) {
            struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
            if (poll(&pfd, 1, 0) != 0) alive = false; /* same rule as conn_alive */
        }
        if (!alive) {
            c->next = drop, drop = c, dropped_broken++;
        } else {
            c->next = keep, keep = c, kept++;
        }
        c = next;
    }
    /* Retire connections idle past IDLE_RETIRE_MS while above min (oldest use first). */
    pthread_mutex_lock(&p->mu);
    int size_after = p->size - dropped_broken;
    sfp_conn **pp = &keep;
    while (*pp) {
        sfp_conn *c = *pp;
        if (size_after > p->cfg.min && now - c->last_used_ms > IDLE_RETIRE_MS) {
            *pp = c->next;
            c->next = drop, drop = c;
            size_after--, retired++, kept--;
        } else {
            pp = &c->next;
        }
    }
    /* Put the survivors back (order: most recently used on top). */
    while (keep) {
        sfp_conn *c = keep;
        keep = c->next;
        sfp_conn **ins = &p->idle;
        while (*ins && (*ins)->last_used_ms > c->last_used_ms) ins = &(*ins)->next;
        c->next = *ins;
        *ins = c;
        p->n_idle++;
    }
    p->in_use -= n;
    p->size -= dropped_broken + retired;
    p->st.broken += dropped_broken;
    p->st.closed += retired;
    int missing = p->cfg.min - (p->size + p->connecting);
    if (p->down) {
        /* one probe at a time, on the back-off schedule, whatever min says */
        bool due = sfp_backoff_wait_ms(&p->bo) == 0 && p->connecting == 0;
        missing = due ? 1 : 0;
    }
    if (missing > 0) p->connecting += missing;
    if (dropped_broken + retired) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (dropped_broken) sfp_log(SFP_WARN, "db idle connections found broken", SFP_I("count", dropped_broken));
    while (drop) {
        sfp_conn *c = drop;
        drop = c->next;
        close_conn(c);
    }
    /* 2. Open up to min. */
    for (int i = 0; i < missing; i++) {
        sfp_err e = {0};
        sfp_conn *c = open_conn(p, sfp_mono_ms() + (int64_t)p->cfg.connect_timeout_s * 1000, &e);
        pthread_mutex_lock(&p->mu);
        p->connecting--;
        if (c) {
            p->size++;
            p->st.opened++;
            c->next = p->idle;
            p->idle = c;
            p->n_idle++;
            pthread_cond_signal(&p->cv);
        } else {
            p->connecting -= missing - i - 1; /* give back the remaining reserved slots */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        pthread_mutex_unlock(&p->mu);
    }
}

static void *maintenance_main(void *arg)
{
    sfp_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        p->kick = false;
        pthread_mutex_unlock(&p->mu);
        maintain_once(p);
        pthread_mutex_lock(&p->mu);
        if (p->stopping) break;
        int64_t wait = 1000;
        if (p->down) {
            int64_t now = sfp_mono_ms();
            if (now - p->last_summary_ms >= SUMMARY_EVERY_MS) {
                p->last_summary_ms = now;
                sfp_log(SFP_WARN, "database still unreachable", SFP_I("outage_ms", now - p->down_since_ms),
                        SFP_I("connect_attempts", p->outage_attempts),
                        SFP_I("requests_failed_fast", p->outage_failed_fast), SFP_S("error", p->last_error));
            }
            int64_t due = sfp_backoff_wait_ms(&p->bo);
            if (due < wait) wait = due < 1 ? 1 : due;
        }
        if (p->kick) continue;
        struct timespec ts = abs_realtime(wait);
        pthread_cond_timedwait(&p->maint_cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---------- queries ---------- */

static void fail_from_result(sfp_conn *c, PGresult *res, const char *sql, sfp_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[240];
    snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
    msg[strcspn(msg, "\n")] = '\0';
    char head[80];
    snprintf(head, sizeof head, "%s", sql);
    head[strcspn(head, "\n")] = '\0';
    bool conn_ok = PQstatus(c->pg) == CONNECTION_OK;
    sfp_db_class k = sfp_db_classify(state, conn_ok);
    if (!conn_ok) {
        c->broken = true;
        sfp_log(SFP_WARN, "db connection lost during query", SFP_S("error", msg), SFP_S("sql", head));
    } else if (k.timeout) {
        sfp_log(SFP_WARN, "db statement timed out", SFP_S("sql", head), SFP_S("sqlstate", state));
    } else {
        sfp_log(SFP_ERROR, "db query failed", SFP_S("sqlstate", state ? state : ""), SFP_S("error", msg),
                SFP_S("sql", head));
    }
    sfp_err_set(err, k.code, "%s", k.msg);
}

PGresult *sfp_db_query(sfp_conn *c, const char *sql, int nparams, const char *const *params, sfp_err *err)
{
    PGresult *res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(res);
    if (res && (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)) return res;
    fail_from_result(c, res, sql, err);
    PQclear(res);
    return NULL;
}

int sfp_db_exec(sfp_conn *c, const char *sql, int nparams, const char *const *params, sfp_err *err)
{
    PGresult *r = sfp_db_query(c, sql, nparams, params, err);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

/* ---------- stats & readiness ---------- */

void sfp_pool_get_stats(sfp_pool *p, sfp_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    out->size = p->size;
    out->idle = p->n_idle;
    out->in_use = p->in_use;
    out->waiting = p->waiting;
    out->oldest_wait_ms = p->wait_head ? (double)(sfp_mono_ms() - p->wait_head->since_ms) : 0.0;
    out->down = p->down;
    pthread_mutex_unlock(&p->mu);
}

bool sfp_pool_ready(sfp_pool *p, int cache_ms)
{
    pthread_mutex_lock(&p->ready_mu);
    int64_t now = sfp_mono_ms();
    if (p->ready_at_ms && now - p->ready_at_ms < cache_ms) {
        bool v = p->ready_val;
        pthread_mutex_unlock(&p->ready_mu);
        return v;
    }
    /* One checker at a time; it holds ready_mu so concurrent probes get its answer. */
    sfp_err e = {0};
    sfp_conn *c = sfp_pool_acquire(p, 1000, &e);
    bool ok = false;
    if (c) {
        ok = sfp_db_exec(c, "SELECT 1", 0, NULL, &e) == 0;
        sfp_pool_release(p, c);
    }
    p->ready_val = ok;
    p->ready_at_ms = sfp_mono_ms();
    pthread_mutex_unlock(&p->ready_mu);
    return ok;
}

bool sfp_pool_ready_cb(void *pool)
{
    return sfp_pool_ready(pool, 3000);
}
