/* redact.c — masking credentials inside URLs (see redact.h). */
#include <stdio.h>
#include <string.h>

#include "redact.h"
#include "banned.h"

size_t redact_urls(char *s, size_t size)
{
	const size_t mlen = sizeof(REDACT_MASK) - 1;
	size_t masked = 0;
	char *p = s;

	if (!s || !size)
		return 0;
	while ((p = strstr(p, "://"))) {
		char *a = p + 3, *end, *colon, *start;
		size_t off, tail;

		/* The authority ends at the path, query, fragment or anything that cannot be
		 * in a URL; userinfo is what precedes an '@' inside it. */
		end = a + strcspn(a, "/?#@ \t\r\n\"'<>()[]{}|\\^`,;");
		if (*end != '@' || end == a) {
			p = a;
			continue;
		}
		colon = memchr(a, ':', (size_t)(end - a));
		start = colon ? colon + 1 : a;
		if ((size_t)(end - start) == mlen && !memcmp(start, REDACT_MASK, mlen)) {
			p = end;
			continue;
		}
		off = (size_t)(start - s);
		if (off + mlen >= size) { /* no room for the mask: cut the text here */
			*start = 0;
			return masked + 1;
		}
		tail = strlen(end) + 1;
		if (off + mlen + tail > size)
			tail = size - off - mlen;
		memmove(start + mlen, end, tail);
		memcpy(start, REDACT_MASK, mlen);
		s[size - 1] = 0;
		masked++;
		p = start + mlen;
	}
	return masked;
}

char *redact_copy(const char *in, char *out, size_t size)
{
	if (!size)
		return out;
	snprintf(out, size, "%s", in ? in : "");
	redact_urls(out, size);
	return out;
}
