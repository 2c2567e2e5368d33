/* buf.h — a growable byte buffer with a ceiling, for response bodies.
 *
 * Appends never fail loudly: the first failure (allocation or reaching `max`) sets
 * `err` and later appends do nothing, so a builder checks once at the end. The
 * buffer is always NUL-terminated when `p` is not NULL. */
#ifndef FAKEX_BUF_H
#define FAKEX_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *p;
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling on len; reaching it sets err */
	bool err;
};

/* Sets up an empty buffer that may grow to max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free() them) and leaves b empty; NULL if b->err. */
char *buf_detach(struct buf *b, size_t *len);
/* Frees the contents; b may be reused after buf_init. */
void buf_release(struct buf *b);

#endif
