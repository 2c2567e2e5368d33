/* sbuf.c — growing text buffer with a ceiling. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sbuf.h"
#include "banned.h"

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	size_t max = b->max ? b->max : (8u << 20);
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len, cap;
		char *np;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (cap > max || !(np = realloc(b->p, cap))) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

void sbuf_html(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			sbuf_printf(b, "&lt;");
			break;
		case '>':
			sbuf_printf(b, "&gt;");
			break;
		case '&':
			sbuf_printf(b, "&amp;");
			break;
		case '"':
			sbuf_printf(b, "&quot;");
			break;
		case '\'':
			sbuf_printf(b, "&#39;");
			break;
		default:
			sbuf_printf(b, "%c", *s);
			break;
		}
	}
}

void sbuf_release(struct sbuf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}
