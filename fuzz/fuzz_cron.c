/* fuzz_cron.c — libFuzzer target for sched_parse, sched_next, sched_matches and
 * sched_count: a cron expression. Invariants: an accepted expression fires within 30
 * years after a fixed time, strictly later, on a whole minute, and that minute matches;
 * a refused one is CK_EUSAGE with a NUL-terminated message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t after = 1773943200000LL; /* 2026-03-19 18:00 UTC */
	struct sched_cron c;
	struct ck_err err;
	char expr[SCHED_EXPR_MAX + 64];
	int64_t next = 0;
	int rc;

	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = 0;
	memset(&err, 0, sizeof(err));
	rc = sched_parse(expr, &c, &err);
	if (rc) {
		if (rc != CK_EUSAGE || !memchr(err.msg, 0, sizeof(err.msg)))
			abort();
		return 0;
	}
	if (sched_next(&c, after, &next) != 0 || next <= after || next % 60000 != 0 ||
	    !sched_matches(&c, next))
		abort();
	if (sched_count(&c, after, next, 10) != 1)
		abort();
	return 0;
}
