/* interval.c — see interval.h. Calendar conversion after Howard Hinnant's
 * days_from_civil / civil_from_days (proleptic Gregorian, UTC). */
#include <stddef.h>
#include <string.h>

#include "banned.h"
#include "interval.h"

#define DAY_MS INT64_C(86400000)

static const struct {
	const char *name;
	int64_t ms;
} ivs[IV_COUNT] = {
	{"1m", 60000},     {"3m", 180000},   {"5m", 300000},    {"15m", 900000},   {"30m", 1800000},
	{"1h", 3600000},   {"2h", 7200000},  {"4h", 14400000},  {"6h", 21600000},  {"8h", 28800000},
	{"12h", 43200000}, {"1d", 86400000}, {"3d", 259200000}, {"1w", 604800000}, {"1M", 0},
};

int iv_parse(const char *name)
{
	for (int i = 0; i < IV_COUNT; i++)
		if (!strcmp(ivs[i].name, name))
			return i;
	return -1;
}

const char *iv_name(int iv)
{
	return ivs[iv].name;
}

int64_t iv_ms(int iv)
{
	return ivs[iv].ms;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (mm <= 2);
	*m = mm;
}

/* 1970-01-05 was the first Monday after the epoch. */
static int64_t iv_offset(int iv)
{
	return iv == IV_1w ? 4 * DAY_MS : 0;
}

int64_t iv_index(int iv, int64_t t)
{
	if (iv == IV_1M) {
		int64_t y;
		unsigned m;
		civil_from_days(floor_div(t, DAY_MS), &y, &m);
		return (y - 1970) * 12 + (int64_t)m - 1;
	}
	return floor_div(t - iv_offset(iv), ivs[iv].ms);
}

int64_t iv_time(int iv, int64_t k)
{
	if (iv == IV_1M) {
		int64_t yq = floor_div(k, 12);
		unsigned m = (unsigned)(k - yq * 12) + 1;
		return days_from_civil(1970 + yq, m, 1) * DAY_MS;
	}
	return k * ivs[iv].ms + iv_offset(iv);
}

int64_t iv_ceil_index(int iv, int64_t t)
{
	int64_t k = iv_index(iv, t);
	return iv_time(iv, k) < t ? k + 1 : k;
}

int64_t iv_end(int iv, int64_t open)
{
	return iv_time(iv, iv_index(iv, open) + 1);
}
