/* buf.h — growable byte/string buffer. The buffer owns `data` (malloc); free with sfp_buf_free. */
#ifndef SFP_BUF_H
#define SFP_BUF_H

#include <stddef.h>

typedef struct sfp_buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
} sfp_buf;

void sfp_buf_init(sfp_buf *b);
void sfp_buf_free(sfp_buf *b);
void sfp_buf_reset(sfp_buf *b); /* len = 0, keeps memory */
/* Appends; on allocation failure aborts (out of memory is not recoverable here). */
void sfp_buf_append(sfp_buf *b, const void *p, size_t n);
void sfp_buf_puts(sfp_buf *b, const char *s);
void sfp_buf_putc(sfp_buf *b, char c);
void sfp_buf_printf(sfp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (with quotes), escaping per RFC 8259. */
void sfp_buf_json_str(sfp_buf *b, const char *s);
void sfp_buf_json_strn(sfp_buf *b, const char *s, size_t n);
/* Transfers ownership of data to the caller (never NULL); b is left empty. */
char *sfp_buf_steal(sfp_buf *b, size_t *len);

#endif
