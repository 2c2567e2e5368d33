/* fuzz_http_header.c — libFuzzer target for http_header_parse: one raw response header
 * line (Retry-After, X-MBX-USED-WEIGHT-1M, Date). Invariants: the numbers are -1 (absent
 * or malformed) or non-negative, a Date is 0 or positive, and a line without a colon
 * changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r;
	char *copy;

	memset(&r, 0, sizeof(r));
	r.retry_after_s = -1;
	r.used_weight = -1;
	/* an exact-size copy, so reading past the line is caught */
	if (!(copy = malloc(size ? size : 1)))
		return 0;
	memcpy(copy, data, size);
	http_header_parse(&r, copy, size);
	if (r.retry_after_s < -1 || r.used_weight < -1 || r.date_ms < 0)
		abort();
	if (!memchr(copy, ':', size) && (r.retry_after_s != -1 || r.used_weight != -1 || r.date_ms))
		abort();
	free(copy);
	return 0;
}
