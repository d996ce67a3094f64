/* gw_head.c — see gw_head.h. */
#include "gw_head.h"

#include <string.h>
#include <strings.h>

int gw_head_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static gw_head_state fail(gw_head_result *r, int status, const char *reason)
{
    r->status = status;
    r->reason = reason;
    return GW_HEAD_ERROR;
}

/* Bytes [p, e) of a header value, trimmed of SP/HTAB. */
static void trim(const char **p, const char **e)
{
    while (*p < *e && (**p == ' ' || **p == '\t')) (*p)++;
    while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && !strncasecmp(name, want, len);
}

gw_head_state gw_head_check(const char *buf, size_t n, const gw_head_limits *lim, gw_head_result *r)
{
    memset(r, 0, sizeof *r);
    const unsigned char *b = (const unsigned char *)buf;
    size_t i = 0;
    /* leading empty lines */
    while (i < n && (b[i] == '\r' || b[i] == '\n')) {
        if (b[i] == '\r' && i + 1 < n && b[i + 1] != '\n') return fail(r, 400, "malformed request line");
        i++;
    }
    size_t start = i;
    if (n > start && n - start > lim->max_head) {
        /* decided below once we know which part is too long; a head can never exceed this */
    }
    /* method */
    size_t m = i;
    while (i < n && gw_head_tchar(b[i])) {
        if (i - m >= 32) return fail(r, 400, "malformed request line: method too long");
        i++;
    }
    if (i == n) return GW_HEAD_NEED_MORE;
    if (i == m || b[i] != ' ') return fail(r, 400, "malformed request line");
    r->method_len = i - m;
    i++;
    /* request target */
    size_t t = i;
    while (i < n && b[i] != ' ') {
        unsigned char c = b[i];
        if (c == '\0') return fail(r, 400, "NUL byte in the request line");
        if (c < 0x21 || c > 0x7e) return fail(r, 400, "control or non-ASCII byte in the request target");
        if (i - t >= lim->max_url) return fail(r, 414, "request URL is too long");
        i++;
    }
    if (i == n) return GW_HEAD_NEED_MORE;
    if (i == t) return fail(r, 400, "malformed request line: no request target");
    i++;
    /* version: HTTP/1.0 or HTTP/1.1 */
    static const char proto[] = "HTTP/";
    for (size_t k = 0; k < 5; k++, i++) {
        if (i == n) return GW_HEAD_NEED_MORE;
        if (b[i] != (unsigned char)proto[k]) return fail(r, 400, "malformed request line: bad HTTP version");
    }
    unsigned char v[3];
    for (size_t k = 0; k < 3; k++, i++) {
        if (i == n) return GW_HEAD_NEED_MORE;
        v[k] = b[i];
    }
    if (v[0] < '0' || v[0] > '9' || v[1] != '.' || v[2] < '0' || v[2] > '9')
        return fail(r, 400, "malformed request line: bad HTTP version");
    if (v[0] != '1' || (v[2] != '0' && v[2] != '1')) return fail(r, 505, "HTTP version not supported");
    if (i == n) return GW_HEAD_NEED_MORE;
    if (b[i] == '\r') {
        if (++i == n) return GW_HEAD_NEED_MORE;
        if (b[i] != '\n') return fail(r, 400, "malformed request line: bare CR");
    } else if (b[i] != '\n') {
        return fail(r, 400, "malformed request line");
    }
    i++;
    if (i - start > lim->max_head) return fail(r, 431, "request headers are too large");

    /* header lines */
    int ncl = 0, nte = 0;
    for (;;) {
        if (i == n) return GW_HEAD_NEED_MORE;
        if (b[i] == '\r' || b[i] == '\n') { /* end of the head */
            if (b[i] == '\r') {
                if (++i == n) return GW_HEAD_NEED_MORE;
                if (b[i] != '\n') return fail(r, 400, "malformed header block: bare CR");
            }
            i++;
            if (ncl && nte) return fail(r, 400, "Content-Length together with Transfer-Encoding");
            r->head_len = i;
            return GW_HEAD_COMPLETE;
        }
        if (b[i] == ' ' || b[i] == '\t') return fail(r, 400, "folded header line (obs-fold)");
        size_t name = i;
        while (i < n && gw_head_tchar(b[i])) i++;
        if (i == n) {
            if (i - start > lim->max_head) return fail(r, 431, "request headers are too large");
            return GW_HEAD_NEED_MORE;
        }
        if (b[i] != ':' || i == name) return fail(r, 400, "malformed header line");
        size_t name_len = i - name;
        i++;
        size_t val = i;
        while (i < n && b[i] != '\r' && b[i] != '\n') {
            unsigned char c = b[i];
            if (c == '\0') return fail(r, 400, "NUL byte in a header value");
            if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(r, 400, "control byte in a header value");
            i++;
            if (i - start > lim->max_head) return fail(r, 431, "request headers are too large");
        }
        if (i == n) {
            if (i - start > lim->max_head) return fail(r, 431, "request headers are too large");
            return GW_HEAD_NEED_MORE;
        }
        size_t val_end = i;
        if (b[i] == '\r') {
            if (++i == n) return GW_HEAD_NEED_MORE;
            if (b[i] != '\n') return fail(r, 400, "malformed header line: bare CR");
        }
        i++;
        if (i - start > lim->max_head) return fail(r, 431, "request headers are too large");
        const char *vp = buf + val, *ve = buf + val_end;
        trim(&vp, &ve);
        if (name_is(buf + name, name_len, "Content-Length")) {
            if (++ncl > 1) return fail(r, 400, "Content-Length given more than once");
            size_t len = (size_t)(ve - vp);
            if (len == 0 || len > 19) return fail(r, 400, "malformed Content-Length");
            for (const char *p = vp; p < ve; p++)
                if (*p < '0' || *p > '9') return fail(r, 400, "malformed Content-Length");
        } else if (name_is(buf + name, name_len, "Transfer-Encoding")) {
            if (++nte > 1) return fail(r, 400, "Transfer-Encoding given more than once");
            if ((size_t)(ve - vp) != 7 || strncasecmp(vp, "chunked", 7))
                return fail(r, 501, "transfer coding not implemented (only chunked)");
        }
    }
}
