/* soda_rows.c — a SODA response body parsed into rows (soda_client.h, "Rows"). Kept apart from
 * the transfers so the parser can be tested and fuzzed on its own. */
#include <cjson/cJSON.h>
#include <stddef.h>

#include "soda_client.h"

static void rows_free(void *p)
{
    cJSON_Delete(p);
}

sfp_soda_rows *sfp_soda_rows_parse(const char *body, size_t len)
{
    if (!body || !len) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) return NULL;
    /* exactly one value: only whitespace may follow it (a truncated or concatenated body is
     * not a page of rows) */
    const char *stop = body + len;
    while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    bool ok = end == stop && cJSON_IsArray(root);
    const cJSON *row;
    cJSON_ArrayForEach(row, root) if (ok && !cJSON_IsObject(row)) ok = false;
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return sfp_cache_val_new(root, len, (long)cJSON_GetArraySize(root), rows_free);
}

const cJSON *sfp_soda_rows_json(const sfp_soda_rows *r)
{
    return r ? sfp_cache_val_data(r) : NULL;
}
long sfp_soda_rows_count(const sfp_soda_rows *r)
{
    return r ? sfp_cache_val_count(r) : 0;
}
sfp_soda_rows *sfp_soda_rows_ref(sfp_soda_rows *r)
{
    return sfp_cache_val_ref(r);
}
void sfp_soda_rows_unref(sfp_soda_rows *r)
{
    sfp_cache_val_unref(r);
}
