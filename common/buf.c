#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sfp_buf_init(sfp_buf *b)
{
    memset(b, 0, sizeof *b);
}

void sfp_buf_free(sfp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void sfp_buf_reset(sfp_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

static void reserve(sfp_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) abort();
    b->data = p;
    b->cap = cap;
}

void sfp_buf_append(sfp_buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sfp_buf_puts(sfp_buf *b, const char *s)
{
    sfp_buf_append(b, s, strlen(s));
}

void sfp_buf_putc(sfp_buf *b, char c)
{
    sfp_buf_append(b, &c, 1);
}

void sfp_buf_printf(sfp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sfp_buf_json_strn(sfp_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    reserve(b, n + 2);
    sfp_buf_putc(b, '"');
    size_t run = 0; /* bytes copied verbatim in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = 0;
                esc = u;
            }
        }
        if (esc) {
            sfp_buf_append(b, s + i - run, run);
            run = 0;
            sfp_buf_puts(b, esc);
        } else {
            run++;
        }
    }
    sfp_buf_append(b, s + n - run, run);
    sfp_buf_putc(b, '"');
}

void sfp_buf_json_str(sfp_buf *b, const char *s)
{
    if (!s) s = "";
    sfp_buf_json_strn(b, s, strlen(s));
}

char *sfp_buf_steal(sfp_buf *b, size_t *len)
{
    if (!b->data) reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}
