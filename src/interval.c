/* interval.c — see interval.h. Calendar conversion after Howard Hinnant's
 * days_from_civil / civil_from_days (proleptic Gregorian, UTC). */
#include "interval.h"
#include "banned.h"

#define DAY_MS INT64_C(86400000)
#define WEEK_MS (7 * DAY_MS)
/* Binance's weeks open on Monday 00:00 UTC; the epoch was a Thursday (1970-01-05 was
 * the first Monday): 1w is aligned four days after the epoch's multiples. */
#define WEEK_OFFSET_MS (4 * DAY_MS)

bool interval_is_month(int64_t iv)
{
	return iv == INTERVAL_MONTH_MS;
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

/* Months since 1970-01 of the month holding t. */
static int64_t month_index(int64_t t)
{
	int64_t z = floor_div(t, DAY_MS) + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	return (y - 1970) * 12 + (int64_t)m - 1;
}

/* The open time of month number k (months since 1970-01). */
static int64_t month_time(int64_t k)
{
	int64_t yq = floor_div(k, 12);
	return days_from_civil(1970 + yq, (unsigned)(k - yq * 12) + 1, 1) * DAY_MS;
}

int64_t interval_floor(int64_t iv, int64_t t)
{
	if (interval_is_month(iv))
		return month_time(month_index(t));
	int64_t off = iv == WEEK_MS ? WEEK_OFFSET_MS : 0;
	int64_t r = (t - off) % iv;
	return r < 0 ? t - r - iv : t - r;
}

int64_t interval_ceil(int64_t iv, int64_t t)
{
	int64_t d = interval_floor(iv, t);
	return d == t ? t : interval_add(iv, d, 1);
}

int64_t interval_add(int64_t iv, int64_t t, int64_t n)
{
	if (interval_is_month(iv))
		return month_time(month_index(t) + n);
	return t + n * iv;
}

int64_t interval_steps(int64_t iv, int64_t a, int64_t b)
{
	if (interval_is_month(iv))
		return month_index(b) - month_index(a);
	return (b - a) / iv;
}

int64_t interval_count(int64_t iv, int64_t a, int64_t b)
{
	return b < a ? 0 : interval_steps(iv, a, b) + 1;
}

int64_t interval_close(int64_t iv, int64_t t)
{
	return interval_add(iv, t, 1) - 1;
}
