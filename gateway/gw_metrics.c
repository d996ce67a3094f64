#include "gw_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "metrics.h"

typedef struct series {
    struct series *next;
    const char *route;
    char method[16];
    int status;
    unsigned long long count;
} series;

typedef struct route_hist {
    struct route_hist *next;
    const char *route;
    sfp_hist hist;
} route_hist;

struct gw_metrics {
    pthread_mutex_t mu;
    series *series;
    route_hist *hists;
    int (*in_flight)(void *);
    void *in_flight_user;
};

gw_metrics *gw_metrics_new(void)
{
    gw_metrics *m = calloc(1, sizeof *m);
    if (!m) abort();
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void gw_metrics_free(gw_metrics *m)
{
    if (!m) return;
    for (series *s = m->series; s;) {
        series *n = s->next;
        free(s);
        s = n;
    }
    for (route_hist *h = m->hists; h;) {
        route_hist *n = h->next;
        free(h);
        h = n;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void gw_metrics_set_in_flight_source(gw_metrics *m, int (*fn)(void *), void *user)
{
    m->in_flight = fn;
    m->in_flight_user = user;
}

void gw_metrics_observe(gw_metrics *m, const char *route, const char *method, int status, double ms)
{
    if (!route) route = "unmatched";
    pthread_mutex_lock(&m->mu);
    series *s = m->series;
    while (s && !(s->route == route && s->status == status && !strncmp(s->method, method, sizeof s->method - 1)))
        s = s->next;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        s->route = route;
        s->status = status;
        snprintf(s->method, sizeof s->method, "%s", method);
        s->next = m->series;
        m->series = s;
    }
    s->count++;
    route_hist *h = m->hists;
    while (h && h->route != route) h = h->next;
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h) abort();
        h->route = route;
        h->next = m->hists;
        m->hists = h;
    }
    sfp_hist_observe(&h->hist, ms);
    pthread_mutex_unlock(&m->mu);
}

void gw_metrics_collect(sfp_buf *out, void *arg)
{
    gw_metrics *m = arg;
    sfp_buf lb;
    sfp_buf_init(&lb);
    pthread_mutex_lock(&m->mu);
    sfp_metrics_family(out, "sfp_http_requests_total", "counter", "HTTP responses by route, method and status code.");
    for (series *s = m->series; s; s = s->next) {
        char code[8];
        snprintf(code, sizeof code, "%d", s->status);
        sfp_buf_reset(&lb);
        sfp_metrics_label(&lb, "route", s->route);
        sfp_metrics_label(&lb, "method", s->method);
        sfp_metrics_label(&lb, "code", code);
        sfp_metrics_sample(out, "sfp_http_requests_total", lb.data, (double)s->count);
    }
    sfp_metrics_family(out, "sfp_http_request_duration_seconds", "histogram",
                       "Time from the first byte read to the response queued, by route.");
    for (route_hist *h = m->hists; h; h = h->next) {
        sfp_buf_reset(&lb);
        sfp_metrics_label(&lb, "route", h->route);
        sfp_metrics_histogram(out, "sfp_http_request_duration_seconds", lb.data, &h->hist);
    }
    pthread_mutex_unlock(&m->mu);
    if (m->in_flight) {
        sfp_metrics_family(out, "sfp_http_in_flight", "gauge", "Requests being handled now.");
        sfp_metrics_sample(out, "sfp_http_in_flight", NULL, m->in_flight(m->in_flight_user));
    }
    sfp_buf_free(&lb);
}
