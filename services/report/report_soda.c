#include "report_soda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "soda_client.h"

const char *sfp_rpt_dataset_id(sfp_rpt_dataset d)
{
    switch (d) {
    case SFP_RPT_DS_COMPLAINTS: return "gm2e-bten";
    case SFP_RPT_DS_VIOLATIONS: return "nbtm-fbw5";
    case SFP_RPT_DS_TAX_ROLL: return "wv5m-vpq2";
    default: return "";
    }
}

void sfp_rpt_soda_unavailable(sfp_rpt_soda_result *out, const char *reason)
{
    memset(out, 0, sizeof *out);
    out->state = SFP_SODA_UNAVAILABLE;
    out->reason = reason;
}

int32_t sfp_rpt_sources_max_age(const sfp_rpt_soda_result res[SFP_RPT_DS_N], unsigned needed)
{
    double best = 900;
    bool any = false;
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        if (!(needed & SFP_RPT_DS_BIT(d))) continue;
        const sfp_rpt_soda_result *r = &res[d];
        if (r->state != SFP_SODA_LIVE && r->state != SFP_SODA_CACHED) return 0;
        double ttl = r->has_ttl ? r->ttl_remaining_seconds : 0;
        if (!any || ttl < best) best = ttl;
        any = true;
    }
    if (!any || !(best > 0)) return 0;
    return best >= 900 ? 900 : (int32_t)floor(best);
}

/* ---------------- production binding: common/soda_client ---------------- */

typedef struct client_job {
    sfp_soda_pending *pending;
    size_t n;
    sfp_rpt_dataset ds[SFP_RPT_DS_N];
    sfp_soda_parcel_spec specs[SFP_RPT_DS_N]; /* must outlive sfp_soda_parcel_end */
} client_job;

static void *client_begin(void *user, const char *block, const char *lot, unsigned mask, int64_t budget_ms)
{
    client_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        if (!(mask & SFP_RPT_DS_BIT(d))) continue;
        j->ds[j->n] = (sfp_rpt_dataset)d;
        j->specs[j->n++] = sfp_soda_report_specs[d]; /* same order: complaints, violations, tax roll */
    }
    sfp_err err = {0};
    j->pending = sfp_soda_parcel_begin(user, block, lot, j->specs, j->n, budget_ms, &err);
    if (!j->pending) {
        sfp_log(SFP_WARN, "soda fetch not started", SFP_S("error", err.msg));
        free(j);
        return NULL;
    }
    return j;
}

static const char *map_reason(const sfp_soda_result *r)
{
    if (r->breaker_open || !strcmp(r->reason, "breaker_open")) return "breaker_open";
    if (!strcmp(r->reason, "timeout") || !strcmp(r->reason, "deadline")) return "timeout";
    if (r->http_status == 429) return "http_429";
    if (r->http_status >= 500 && r->http_status <= 599) return "http_5xx";
    return "error";
}

/* A cJSON value as the string SODA meant (numbers/bools printed, objects as compact JSON). */
static const char *value_text(const cJSON *v, sfp_arena *a)
{
    if (cJSON_IsString(v)) return sfp_arena_strdup(a, v->valuestring);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) return sfp_arena_printf(a, "%.0f", d);
        return sfp_arena_printf(a, "%.17g", d);
    }
    char *s = cJSON_PrintUnformatted(v);
    const char *out = sfp_arena_strdup(a, s ? s : "");
    cJSON_free(s);
    return out;
}

static void copy_rows(const cJSON *arr, sfp_arena *a, sfp_rpt_soda_result *out)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    out->records = sfp_arena_alloc(a, sizeof *out->records * (size_t)(n ? n : 1));
    const cJSON *obj;
    cJSON_ArrayForEach(obj, arr)
    {
        if (!cJSON_IsObject(obj)) continue;
        size_t nf = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, obj) nf += f->string && !cJSON_IsNull(f);
        sfp_rpt_rec *r = &out->records[out->n_records++];
        r->keys = sfp_arena_alloc(a, sizeof(char *) * (nf ? nf : 1));
        r->vals = sfp_arena_alloc(a, sizeof(char *) * (nf ? nf : 1));
        cJSON_ArrayForEach(f, obj)
        {
            if (!f->string || cJSON_IsNull(f)) continue;
            r->keys[r->n] = sfp_arena_strdup(a, f->string);
            r->vals[r->n++] = value_text(f, a);
        }
    }
}

static bool client_notify(void *user, void *job, void (*fn)(void *arg), void *arg)
{
    (void)user;
    return sfp_soda_parcel_notify(((client_job *)job)->pending, fn, arg);
}

static void client_end(void *user, void *job, sfp_rpt_soda_result out[SFP_RPT_DS_N], sfp_arena *a)
{
    (void)user;
    client_job *j = job;
    if (!a) { /* the caller gave up: never wait for the network */
        sfp_soda_parcel_release(j->pending);
        free(j);
        return;
    }
    sfp_soda_result res[SFP_RPT_DS_N];
    memset(res, 0, sizeof res);
    sfp_soda_parcel_end(j->pending, res);
    for (size_t i = 0; i < j->n; i++) {
        const sfp_soda_result *r = &res[i];
        sfp_rpt_soda_result *o = &out[j->ds[i]];
        memset(o, 0, sizeof *o);
        o->reason = "";
        switch (r->source) {
        case SFP_SODA_LIVE:
            o->state = SFP_SODA_LIVE;
            o->has_age = o->has_ttl = true;
            o->ttl_remaining_seconds = r->fresh_for_s;
            o->upstream_requests = r->coalesced ? 0 : 1;
            break;
        case SFP_SODA_CACHED:
            o->state = SFP_SODA_CACHED;
            o->has_age = o->has_ttl = true;
            o->age_seconds = r->age_s;
            o->ttl_remaining_seconds = r->fresh_for_s;
            break;
        case SFP_SODA_STALE:
            o->state = SFP_SODA_STALE;
            o->has_age = true;
            o->age_seconds = r->age_s;
            o->reason = map_reason(r);
            o->upstream_requests = r->breaker_open ? 0 : 1;
            break;
        default:
            o->state = SFP_SODA_UNAVAILABLE;
            o->reason = map_reason(r);
            o->upstream_requests = r->breaker_open ? 0 : 1;
            break;
        }
        if (r->rows && o->state != SFP_SODA_UNAVAILABLE) copy_rows(sfp_soda_rows_json(r->rows), a, o);
    }
    sfp_soda_results_clear(res, j->n);
    free(j);
}

sfp_rpt_soda sfp_rpt_soda_from_client(struct sfp_soda *client)
{
    return (sfp_rpt_soda){.begin = client_begin, .end = client_end, .notify = client_notify, .user = client};
}
