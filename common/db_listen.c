#include "db_listen.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define PING_AFTER_MS 30000
#define STABLE_MS 5000 /* a session that lasted this long resets the back-off */

struct sfp_db_listener {
    sfp_pool *pool;
    char channel[64];
    char role[64];
    sfp_listen_fn fn;
    void *user;
    int wake[2]; /* stop: write one byte */
    atomic_bool stopping;
    pthread_t thread;
};

static bool valid_channel(const char *s)
{
    if (!s || !*s || strlen(s) >= 64 || !((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

/* Waits for the socket (fd >= 0) or the stop pipe, at most ms. Returns 1 socket readable,
 * 0 timeout, -1 stop requested. */
static int wait_for(sfp_db_listener *l, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = l->wake[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int r = poll(p, fd >= 0 ? 2 : 1, ms);
    if (atomic_load(&l->stopping) || (r > 0 && p[0].revents)) return -1;
    return r > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

static bool exec_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

/* One session: LISTEN, then deliver notifications until the connection fails or stop.
 * Returns true when stopped. */
static bool session(sfp_db_listener *l, PGconn *pg)
{
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    if (!exec_ok(pg, sql)) return false;
    sfp_log(SFP_INFO, "db listen started", SFP_S("channel", l->channel));
    l->fn(l->user, SFP_LISTEN_UP, "");
    int64_t last_traffic = sfp_mono_ms();
    for (;;) {
        int w = wait_for(l, PQsocket(pg), 1000);
        if (w < 0) return true;
        if (w == 0) {
            if (sfp_mono_ms() - last_traffic < PING_AFTER_MS) continue;
            if (!exec_ok(pg, "SELECT 1")) return false;
            last_traffic = sfp_mono_ms();
        } else {
            if (!PQconsumeInput(pg)) return false;
            last_traffic = sfp_mono_ms();
        }
        PGnotify *n;
        while ((n = PQnotifies(pg)) != NULL) {
            l->fn(l->user, SFP_LISTEN_NOTIFY, n->extra ? n->extra : "");
            PQfreemem(n);
        }
        if (PQstatus(pg) != CONNECTION_OK) return false;
    }
}

/* Reconnects on the pool's back-off schedule (backoff.h, DB_RECONNECT_*); logs one line when
 * the session is lost and one when it is back (session()), not one per attempt. */
static void *listen_main(void *arg)
{
    sfp_db_listener *l = arg;
    sfp_backoff bo;
    sfp_backoff_config bc = sfp_pool_backoff_config(l->pool);
    sfp_backoff_init(&bo, &bc);
    bool down_logged = false;
    int attempts = 0;
    while (!atomic_load(&l->stopping)) {
        sfp_err err = {0};
        attempts++;
        PGconn *pg = sfp_pool_connect_dedicated(l->pool, l->role, INT64_MAX, &err);
        bool stopped = false;
        if (pg) {
            int64_t t0 = sfp_mono_ms();
            if (down_logged)
                sfp_log(SFP_INFO, "listen connection back", SFP_S("channel", l->channel),
                        SFP_I("connect_attempts", attempts));
            down_logged = false;
            attempts = 0;
            stopped = session(l, pg);
            PQfinish(pg);
            if (sfp_mono_ms() - t0 > STABLE_MS) sfp_backoff_reset(&bo); /* it had been up a while */
        }
        if (stopped) break;
        l->fn(l->user, SFP_LISTEN_DOWN, "");
        int delay = sfp_backoff_fail(&bo);
        if (!down_logged) {
            sfp_log(SFP_WARN, "listen connection lost; reconnecting with back-off", SFP_S("channel", l->channel),
                    SFP_S("error", err.msg[0] ? err.msg : "session ended"), SFP_I("retry_ms", delay));
            down_logged = true;
        }
        if (wait_for(l, -1, delay) < 0) break;
    }
    return NULL;
}

sfp_db_listener *sfp_db_listen_start(sfp_pool *pool, const char *channel, const char *role, sfp_listen_fn fn,
                                     void *user)
{
    if (!valid_channel(channel)) return NULL;
    sfp_db_listener *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->pool = pool;
    snprintf(l->channel, sizeof l->channel, "%s", channel);
    snprintf(l->role, sizeof l->role, "%s", role ? role : "listen");
    l->fn = fn;
    l->user = user;
    if (pipe(l->wake)) abort();
    if (pthread_create(&l->thread, NULL, listen_main, l)) abort();
    return l;
}

void sfp_db_listen_stop(sfp_db_listener *l)
{
    if (!l) return;
    atomic_store(&l->stopping, true);
    ssize_t w;
    do w = write(l->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(l->thread, NULL);
    close(l->wake[0]);
    close(l->wake[1]);
    free(l);
}
