/* libFuzzer target: the SODA client's response parser (common/soda_rows.c). Any body gives a
 * verdict without a crash or a read past the input. Accepted bodies are exactly one JSON array
 * of objects with only whitespace after it; the row count is the array's size; the rows print
 * and parse back to the same rows (printing the reparsed rows gives the same text; duplicate
 * keys, legal JSON, are kept in order).
 * fuzz-sources: common/soda_rows.c common/ttl_cache.c common/singleflight.c common/clock.c common/arena.c
 * fuzz-sources: common/config.c common/sfp_err.c common/buf.c
 * fuzz-libs: libcjson libpq
 * fuzz-protos: yes */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soda_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy without a terminator, so reading one byte past the body is caught */
    char *body = malloc(size ? size : 1);
    if (!body) return 0;
    memcpy(body, data, size);
    sfp_soda_rows *rows = sfp_soda_rows_parse(body, size);
    if (rows) {
        const cJSON *arr = sfp_soda_rows_json(rows);
        if (!cJSON_IsArray(arr) || sfp_soda_rows_count(rows) != cJSON_GetArraySize(arr)) abort();
        const cJSON *row;
        cJSON_ArrayForEach(row, arr) if (!cJSON_IsObject(row)) abort();
        /* nothing but JSON whitespace after the array */
        size_t i = size;
        while (i > 0 && strchr(" \t\r\n", body[i - 1]) && body[i - 1]) i--;
        if (i == 0 || body[i - 1] != ']') abort();
        char *printed = cJSON_PrintUnformatted(arr);
        if (!printed) abort();
        sfp_soda_rows *again = sfp_soda_rows_parse(printed, strlen(printed));
        char *reprinted = again ? cJSON_PrintUnformatted(sfp_soda_rows_json(again)) : NULL;
        if (!again || sfp_soda_rows_count(again) != sfp_soda_rows_count(rows) || !reprinted ||
            strcmp(reprinted, printed))
            abort();
        cJSON_free(reprinted);
        sfp_soda_rows_unref(again);
        cJSON_free(printed);
        sfp_soda_rows_unref(rows);
    }
    free(body);
    return 0;
}
