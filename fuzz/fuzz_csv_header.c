/* fuzz_csv_header.c — libFuzzer target for the archive CSV's first line: what
 * kline_csv_parse says of a header ("open_time,open,...", any case, with or without a
 * UTF-8 byte order mark as `import` strips it). Invariants: the answer is 0 (a candle),
 * 1 (the header) or CK_EVALIDATE with a NUL-terminated message; a line taken as the
 * header starts with "open_time"; a candle's open time is not negative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kline.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kline k;
	struct ck_err err;
	const char *line = (const char *)data;
	char *copy;
	int rc;

	/* as cmd_import does for the first line */
	if (size >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		size -= 3;
	}
	if (!(copy = malloc(size ? size : 1)))
		return 0;
	memcpy(copy, line, size);
	memset(&err, 0, sizeof(err));
	rc = kline_csv_parse(copy, size, &k, &err);
	if (rc == 1) {
		if (size < 9 || strncmp(copy, "open_time", 9))
			abort();
	} else if (rc == 0) {
		if (k.open_time < 0)
			abort();
	} else if (rc != CK_EVALIDATE || !memchr(err.msg, 0, sizeof(err.msg))) {
		abort();
	}
	free(copy);
	return 0;
}
