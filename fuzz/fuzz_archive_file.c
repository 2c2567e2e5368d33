/* fuzz_archive_file.c — libFuzzer target for the archive file checker (archive.h): the
 * input is a whole archive file, read as a zip when it starts with "PK" and as a CSV
 * otherwise, for one day of 4h candles. Invariants checked:
 *   - the result is 0 or CK_EVALIDATE (never another code but CK_ENOMEM), with a
 *     NUL-terminated message naming the file on failure and no candles handed over;
 *   - on success the candles are the period's, strictly increasing, each passing
 *     kline_validate, their number the period's (6) or, with the listing unknown, from
 *     the first row to the period's end;
 *   - feeding the same CSV split in two at any byte gives the same answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "banned.h"

#define H4 14400000LL
#define D0 1735689600000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err;
	int zip = size >= 2 && data[0] == 'P' && data[1] == 'K';

	memset(&err, 0, sizeof(err));
	int rc = archive_parse_file(data, size, zip, "FUZZUSDT-4h-2025-01-01.zip", "FUZZUSDT", H4,
				    D0, D0 + 6 * H4, 0, NULL, 0, &k, &n, &err);
	if (rc) {
		if ((rc != CK_EVALIDATE && rc != CK_ENOMEM) || k ||
		    !memchr(err.msg, '\0', sizeof(err.msg)) ||
		    !strstr(err.msg, "FUZZUSDT-4h-2025-01-01"))
			abort();
	} else {
		if (!n || n > 6 || k[n - 1].open_time != D0 + 5 * H4)
			abort();
		for (size_t i = 0; i < n; i++)
			if (kline_validate(&k[i], "FUZZUSDT", H4, D0, D0 + 6 * H4 - 1, &err) ||
			    (i && k[i].open_time <= k[i - 1].open_time))
				abort();
		free(k);
	}
	if (zip)
		return 0;
	/* The same bytes fed in two pieces. */
	struct archive_csv *c =
		archive_csv_new("FUZZUSDT-4h-2025-01-01.zip", "FUZZUSDT", H4, D0, D0 + 6 * H4);
	if (!c)
		return 0;
	size_t cut = size ? data[0] % (size + 1) : 0;
	struct kline *k2 = NULL;
	size_t n2 = 0;
	int rc2 = archive_csv_feed(c, (const char *)data, cut, &err);
	if (!rc2)
		rc2 = archive_csv_feed(c, (const char *)data + cut, size - cut, &err);
	if (!rc2)
		rc2 = archive_csv_finish(c, 0, NULL, 0, &k2, &n2, &err);
	archive_csv_free(c);
	if ((rc == 0) != (rc2 == 0) || (rc2 == 0 && n2 != n))
		abort();
	free(k2);
	return 0;
}
