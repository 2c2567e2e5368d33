/* sbuf.h — a growing text buffer with a ceiling (curl's dynbuf): appends never fail
 * loudly; once an allocation fails or the ceiling is reached, `failed` is set and later
 * appends are ignored, so a caller checks once at the end. */
#ifndef CK_SBUF_H
#define CK_SBUF_H

#include <stddef.h>

struct sbuf {
	char *p;    /* NUL-terminated text, NULL until the first append; owned */
	size_t len; /* bytes of text */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling in bytes; 0 = 8 MiB */
	int failed; /* out of memory or over the ceiling */
};

void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped for HTML. */
void sbuf_html(struct sbuf *b, const char *s);
/* Frees the text; the struct can be reused. Accepts NULL. */
void sbuf_release(struct sbuf *b);

#endif
