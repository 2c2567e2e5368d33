/* fuzz_kline_page.c — libFuzzer target for kline_parse_page and
 * kline_validate_page. The input is a response body. Invariants checked:
 *   - success with n == 0 gives *out == NULL, failure gives *out == NULL and n == 0;
 *   - failure is CK_EVALIDATE (or CK_ENOMEM) with a NUL-terminated message;
 *   - each candle that validates inside [0, 1e15) ms (the CSV reads 16-digit times
 *     as microseconds, so that is the range a CSV round trip covers) formats as CSV
 *     and parses back unchanged, and the copy validates too;
 *   - nothing leaks (ASan/LSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kline.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kline *k = NULL, back;
	size_t n = 0;
	struct ck_err err;
	char buf[512];
	const int64_t h4 = 14400000, lo = 0, hi = INT64_C(999999999999999);

	memset(&err, 0, sizeof(err));
	int rc = kline_parse_page((const char *)data, size, &k, &n, &err);
	if (rc != 0) {
		if ((rc != CK_EVALIDATE && rc != CK_ENOMEM) || k || n ||
		    !memchr(err.msg, '\0', sizeof(err.msg)))
			abort();
		return 0;
	}
	if ((n == 0) != (k == NULL))
		abort();

	rc = kline_validate_page(k, n, "FUZZUSDT", h4, INT64_MIN, INT64_MAX, &err);
	if (rc != 0 && (rc != CK_EVALIDATE || !memchr(err.msg, '\0', sizeof(err.msg))))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (kline_validate(&k[i], "FUZZUSDT", h4, lo, hi, &err))
			continue;
		int len = kline_csv_format(&k[i], buf, sizeof(buf));
		if (len <= 0 || kline_csv_parse(buf, (size_t)len, &back, &err) != 0)
			abort();
		if (memcmp(&back, &k[i], sizeof(back)) != 0 ||
		    kline_validate(&back, "FUZZUSDT", h4, lo, hi, &err))
			abort();
	}
	free(k);
	return 0;
}
