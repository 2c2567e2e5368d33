/* dur.c — the duration formatter and parser (see dur.h). A style is a row: which units a value
 * shows from which size on, how the parts after the first are padded and separated,
 * and what a negative value reads as. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dur.h"
#include "banned.h"

enum { U_DAY, U_HOUR, U_MIN, U_SEC };

static const uint64_t unit_s[4] = {86400, 3600, 60, 1};
static const char unit_c[4] = {'d', 'h', 'm', 's'};

struct dur_range {
	uint64_t from_s; /* the first range whose from_s the value reaches is used */
	int unit;        /* the first unit shown (its count is not reduced by larger units) */
	int parts;       /* units shown: unit, unit + 1, ... */
};

struct dur_form {
	struct dur_range range[4]; /* largest first; the last one has from_s 0 */
	int pad_hours;             /* hours after days as "%02" (minutes, seconds always are) */
	const char *sep;           /* between parts */
	const char *negative;      /* text of a negative value; NULL: shown as 0 */
	int64_t negative_ms;       /* a value at or below this is negative */
};

static const struct dur_form forms[] = {
	[DUR_CLOCK] = {{{86400, U_DAY, 3}, {3600, U_HOUR, 2}, {60, U_MIN, 2}, {0, U_SEC, 1}},
		       1,
		       "",
		       NULL,
		       -1000},
	[DUR_COARSE] = {{{86400, U_DAY, 2}, {3600, U_HOUR, 2}, {60, U_MIN, 1}, {0, U_SEC, 1}},
			0,
			"",
			NULL,
			-1000},
	[DUR_SPACED] = {{{86400, U_DAY, 2}, {3600, U_HOUR, 2}, {60, U_MIN, 2}, {0, U_SEC, 1}},
			0,
			" ",
			"-",
			-1},
	[DUR_AGE] = {{{2 * 86400, U_DAY, 2}, {3600, U_HOUR, 2}, {0, U_MIN, 1}, {0, U_MIN, 1}},
		     1,
		     "",
		     "future",
		     -1000},
};

/* The config form: every non-zero part, unpadded, or whole days alone. */
static const char *format_config(int64_t ms, char *buf, size_t n)
{
	uint64_t u;
	size_t len = 0;

	buf[0] = '\0';
	if (ms / 1000 == 0) {
		snprintf(buf, n, "0");
		return buf;
	}
	if (ms < 0) {
		len += (size_t)snprintf(buf, n, "-");
		u = ((uint64_t)0 - (uint64_t)ms) / 1000;
	} else {
		u = (uint64_t)ms / 1000;
	}
	if (u % unit_s[U_DAY] == 0) {
		snprintf(buf + len, len < n ? n - len : 0, "%" PRIu64 "d", u / unit_s[U_DAY]);
		return buf;
	}
	for (int i = U_HOUR; i <= U_SEC; i++) {
		uint64_t q = u / unit_s[i];

		u %= unit_s[i];
		if (q && len < n)
			len += (size_t)snprintf(buf + len, n - len, "%" PRIu64 "%c", q, unit_c[i]);
	}
	return buf;
}

const char *dur_format(int64_t ms, enum dur_style style, char *buf, size_t n)
{
	const struct dur_form *f;
	const struct dur_range *r;
	uint64_t s;
	size_t len = 0;

	if (!n)
		return buf;
	if (style == DUR_CONFIG || (unsigned)style >= sizeof(forms) / sizeof(forms[0]))
		return format_config(ms, buf, n);
	f = &forms[style];
	if (ms <= f->negative_ms && f->negative) {
		snprintf(buf, n, "%s", f->negative);
		return buf;
	}
	s = ms < 0 ? 0 : (uint64_t)ms / 1000;
	for (r = f->range; r->from_s > s; r++)
		;
	buf[0] = '\0';
	for (int i = 0; i < r->parts && r->unit + i <= U_SEC && len < n; i++) {
		int u = r->unit + i;
		uint64_t q = i ? s % unit_s[u - 1] / unit_s[u] : s / unit_s[u];
		int pad = i && (u != U_HOUR || f->pad_hours);

		len += (size_t)snprintf(buf + len, n - len,
					pad ? "%s%02" PRIu64 "%c" : "%s%" PRIu64 "%c",
					i ? f->sep : "", q, unit_c[u]);
	}
	return buf;
}

int dur_parse_s(const char *v, int64_t *out)
{
	static const char units[] = "dhms";
	static const int64_t secs[] = {86400, 3600, 60, 1};
	const char *p = v;
	int64_t total = 0;
	size_t next = 0; /* index in units of the smallest unit still allowed */

	if (!isdigit((unsigned char)*p))
		return -1;
	while (*p) {
		const char *u;
		char *end;
		long long x;
		int64_t mul;
		size_t k;

		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		x = strtoll(p, &end, 10);
		if (errno == ERANGE)
			return -2;
		if (!*end) {
			/* a bare number: seconds, only as the whole text */
			if (p != v)
				return -1;
			mul = 1;
		} else {
			if (!(u = strchr(units, *end)))
				return -1;
			k = (size_t)(u - units);
			if (k < next)
				return -1;
			next = k + 1;
			mul = secs[k];
			end++;
		}
		if (x > INT64_MAX / mul || x * mul > INT64_MAX - total)
			return -2;
		total += x * mul;
		p = end;
	}
	*out = total;
	return 0;
}
