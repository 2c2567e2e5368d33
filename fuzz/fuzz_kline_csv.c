/* fuzz_kline_csv.c — libFuzzer target for kline_csv_parse, kline_validate and
 * kline_csv_format. The input is one CSV line. Invariants checked:
 *   - a line that parses formats (into 512 bytes) and parses back to the same candle;
 *   - a candle that validates still validates after that round trip;
 *   - kline_dec_cmp is reflexive and antisymmetric on the candle's values;
 *   - every error message is NUL-terminated inside the 256-byte buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kline.h"
#include "banned.h"

static int same(const struct kline *a, const struct kline *b)
{
	return a->open_time == b->open_time && a->close_time == b->close_time &&
	       a->trades == b->trades && strcmp(a->open, b->open) == 0 &&
	       strcmp(a->high, b->high) == 0 && strcmp(a->low, b->low) == 0 &&
	       strcmp(a->close, b->close) == 0 && strcmp(a->volume, b->volume) == 0 &&
	       strcmp(a->quote_volume, b->quote_volume) == 0 &&
	       strcmp(a->taker_buy_base, b->taker_buy_base) == 0 &&
	       strcmp(a->taker_buy_quote, b->taker_buy_quote) == 0;
}

static void sign_check(const char *a, const char *b)
{
	int x = kline_dec_cmp(a, b), y = kline_dec_cmp(b, a);
	if ((x > 0) - (x < 0) != -((y > 0) - (y < 0)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kline k, back;
	struct ck_err err;
	char buf[512];
	static const int64_t iv[] = {60000, 14400000, 604800000};

	memset(&err, 0, sizeof(err));
	int rc = kline_csv_parse((const char *)data, size, &k, &err);
	if (rc < 0) {
		if (rc != CK_EVALIDATE || memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			abort();
		return 0;
	}
	if (rc == 1)
		return 0;
	if (rc != 0)
		abort();

	int64_t interval = iv[size % 3];
	int valid = kline_validate(&k, "FUZZUSDT", interval, INT64_MIN, INT64_MAX, &err);
	if (valid != 0 && (valid != CK_EVALIDATE || !memchr(err.msg, '\0', sizeof(err.msg))))
		abort();

	int n = kline_csv_format(&k, buf, sizeof(buf));
	if (n <= 0 || (size_t)n >= sizeof(buf) || buf[n - 1] != '\n' || strlen(buf) != (size_t)n)
		abort();
	if (kline_csv_parse(buf, (size_t)n, &back, &err) != 0 || !same(&k, &back))
		abort();
	if (valid == 0) {
		if (kline_validate(&back, "FUZZUSDT", interval, INT64_MIN, INT64_MAX, &err))
			abort();
		const char *v[] = {k.open, k.high, k.low, k.close, k.volume, k.quote_volume};
		for (size_t i = 0; i < 6; i++) {
			if (kline_dec_cmp(v[i], v[i]) != 0)
				abort();
			for (size_t j = i + 1; j < 6; j++)
				sign_check(v[i], v[j]);
		}
		/* a format of a valid candle is exactly what we would export: no quirks */
		int m = kline_csv_format(&back, buf + 256, 256);
		if (m != n)
			abort();
	}
	return 0;
}
