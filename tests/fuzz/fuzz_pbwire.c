/* libFuzzer target: the protobuf wire scanner of GET /report (gateway/gw_pbwire.c).
 * Any input: a verdict without reading past the input; on success every listed span lies
 * within the input, spans and hashed bytes add up to the whole message, and the hash equals
 * FNV-1a 64 of the message with the spans cut out.
 * fuzz-sources: gateway/gw_pbwire.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_pbwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint32_t lo = data[0] % 20, hi = lo + data[0] / 20 % 4;
    const uint8_t *msg = data + 1;
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) return 0;
    memcpy(copy, msg, n);
    gw_pbwire_split sp;
    int rc = gw_pbwire_split_fields(copy, n, lo, hi, &sp);
    if (rc == 0) {
        if (sp.nspans > GW_PBWIRE_MAX_SPANS || sp.spans_len + sp.content_len != n) abort();
        uint64_t h = GW_FNV1A64_INIT;
        size_t pos = 0;
        for (size_t i = 0; i < sp.nspans; i++) {
            if (sp.spans[i].off < pos || sp.spans[i].off + sp.spans[i].len > n || sp.spans[i].len == 0) abort();
            h = gw_fnv1a64(h, copy + pos, sp.spans[i].off - pos);
            pos = sp.spans[i].off + sp.spans[i].len;
        }
        h = gw_fnv1a64(h, copy + pos, n - pos);
        if (h != sp.hash) abort();
    } else if (rc != -1 && rc != -2) {
        abort();
    }
    free(copy);
    return 0;
}
