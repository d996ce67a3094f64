/* libFuzzer target: the strict request-head check of the gateway's front (gateway/gw_head.c).
 * Any input must give a verdict without a crash or a read past the input; a COMPLETE head
 * lies within the input and contains no NUL or control byte except CR/LF/HTAB; each prefix of
 * a complete head is "need more" or complete, never an error.
 * fuzz-sources: gateway/gw_head.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so reading one byte past the input is caught */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    gw_head_limits lim = {.max_url = 2048, .max_head = 4096};
    gw_head_result r;
    gw_head_state st = gw_head_check(buf, size, &lim, &r);
    if (st == GW_HEAD_ERROR && (r.status < 400 || r.status > 599 || !r.reason)) abort();
    if (st == GW_HEAD_COMPLETE) {
        if (r.head_len == 0 || r.head_len > size) abort();
        for (size_t i = 0; i < r.head_len; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == 0 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f) abort();
        }
        for (size_t k = 0; k < r.head_len; k++) {
            gw_head_result p;
            gw_head_state ps = gw_head_check(buf, k, &lim, &p);
            if (ps == GW_HEAD_ERROR) abort();
        }
    }
    free(buf);
    return 0;
}
