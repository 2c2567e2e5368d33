/* test_interval.c — the arithmetic of candle open times: 1M steps by calendar months
 * (leap Februaries, December to January, the 1st 00:00 boundary, months before the
 * epoch), the last closed month seen from inside the unclosed current one, and fixed
 * intervals computing exactly what "t / iv * iv" and "t + iv" did. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "interval.h"
#include "kline.h"
#include "sync_plan.h"
#include "utc.h"
#include "banned.h"

#define MO INTERVAL_MONTH_MS
#define DAY INT64_C(86400000)

static int64_t at(int y, int m, int d, int h, int mi, int s)
{
	return utc_from_fields(y, m, d, h, mi, s);
}

static void test_month_named(void **state)
{
	(void)state;
	assert_int_equal(kline_interval_ms("1M"), MO);
	assert_true(interval_is_month(kline_interval_ms("1M")));
	assert_false(interval_is_month(kline_interval_ms("1w")));
	assert_false(interval_is_month(kline_interval_ms("1d")));
}

static void test_month_floor(void **state)
{
	(void)state;
	/* the 1st 00:00 is its own month's open; one ms before is the month before */
	assert_int_equal(interval_floor(MO, at(2024, 3, 1, 0, 0, 0)), at(2024, 3, 1, 0, 0, 0));
	assert_int_equal(interval_floor(MO, at(2024, 3, 1, 0, 0, 0) - 1), at(2024, 2, 1, 0, 0, 0));
	assert_int_equal(interval_floor(MO, at(2024, 2, 29, 23, 59, 59)), at(2024, 2, 1, 0, 0, 0));
	assert_int_equal(interval_floor(MO, at(2023, 12, 31, 12, 0, 0)), at(2023, 12, 1, 0, 0, 0));
	assert_int_equal(interval_floor(MO, 0), 0);
	assert_int_equal(interval_floor(MO, -1), at(1969, 12, 1, 0, 0, 0));
	assert_int_equal(interval_ceil(MO, at(2024, 1, 1, 0, 0, 0)), at(2024, 1, 1, 0, 0, 0));
	assert_int_equal(interval_ceil(MO, at(2024, 1, 1, 0, 0, 0) + 1), at(2024, 2, 1, 0, 0, 0));
	assert_int_equal(interval_ceil(MO, at(2023, 12, 5, 0, 0, 0)), at(2024, 1, 1, 0, 0, 0));
}

static void test_month_step(void **state)
{
	(void)state;
	int64_t feb24 = at(2024, 2, 1, 0, 0, 0), feb23 = at(2023, 2, 1, 0, 0, 0);

	/* leap and common Februaries: the next open is 29 or 28 days on */
	assert_int_equal(interval_add(MO, feb24, 1) - feb24, 29 * DAY);
	assert_int_equal(interval_add(MO, feb23, 1) - feb23, 28 * DAY);
	assert_int_equal(interval_add(MO, at(2100, 2, 1, 0, 0, 0), 1), at(2100, 3, 1, 0, 0, 0));
	assert_int_equal(interval_add(MO, at(2000, 2, 1, 0, 0, 0), 1) - at(2000, 2, 1, 0, 0, 0),
			 29 * DAY);
	/* December to January and back */
	assert_int_equal(interval_add(MO, at(2023, 12, 1, 0, 0, 0), 1), at(2024, 1, 1, 0, 0, 0));
	assert_int_equal(interval_add(MO, at(2024, 1, 1, 0, 0, 0), -1), at(2023, 12, 1, 0, 0, 0));
	assert_int_equal(interval_add(MO, at(2024, 1, 1, 0, 0, 0), -13), at(2022, 12, 1, 0, 0, 0));
	assert_int_equal(interval_add(MO, at(2024, 5, 1, 0, 0, 0), 0), at(2024, 5, 1, 0, 0, 0));
	/* close: one ms before the next month */
	assert_int_equal(interval_close(MO, feb24), at(2024, 3, 1, 0, 0, 0) - 1);
	assert_int_equal(interval_close(MO, at(2023, 12, 1, 0, 0, 0)), at(2024, 1, 1, 0, 0, 0) - 1);
}

static void test_month_count(void **state)
{
	(void)state;
	int64_t a = at(2019, 9, 1, 0, 0, 0), b = at(2024, 2, 1, 0, 0, 0);

	/* 12 months hold 365 or 366 days: never (b - a) / iv + 1 with iv fixed */
	assert_int_equal(interval_count(MO, at(2023, 1, 1, 0, 0, 0), at(2023, 12, 1, 0, 0, 0)), 12);
	assert_int_equal(interval_count(MO, a, b), 54);
	assert_int_equal(interval_steps(MO, a, b), 53);
	assert_int_equal(interval_add(MO, a, interval_steps(MO, a, b)), b);
	assert_int_equal(interval_count(MO, b, b), 1);
	assert_int_equal(interval_count(MO, b, a), 0);
	/* every month's gap to the next is at most the nominal length, two months more */
	for (int64_t t = a; t < b; t = interval_add(MO, t, 1)) {
		assert_true(interval_add(MO, t, 1) - t <= MO);
		assert_true(interval_add(MO, t, 2) - t > MO);
	}
}

static void test_month_last_closed(void **state)
{
	(void)state;
	/* mid-month: the current month is open, the one before is the last closed */
	assert_int_equal(sync_plan_last_closed(at(2024, 3, 15, 9, 0, 0), MO),
			 at(2024, 2, 1, 0, 0, 0));
	/* one ms before the 1st: February is still open */
	assert_int_equal(sync_plan_last_closed(at(2024, 3, 1, 0, 0, 0) - 1, MO),
			 at(2024, 1, 1, 0, 0, 0));
	/* at the 1st 00:00 February has closed (its close was one ms ago) */
	assert_int_equal(sync_plan_last_closed(at(2024, 3, 1, 0, 0, 0), MO),
			 at(2024, 2, 1, 0, 0, 0));
	assert_int_equal(sync_plan_last_closed(at(2024, 1, 10, 0, 0, 0), MO),
			 at(2023, 12, 1, 0, 0, 0));
}

static void test_fixed_unchanged(void **state)
{
	(void)state;
	static const int64_t ivs[] = {60000, 14400000, 86400000, 259200000};
	static const int64_t ts[] = {0, 1, -1, 1709251200000, 1709251200001, -14400001, 999999999};

	for (size_t i = 0; i < sizeof(ivs) / sizeof(ivs[0]); i++)
		for (size_t j = 0; j < sizeof(ts) / sizeof(ts[0]); j++) {
			int64_t iv = ivs[i], t = ts[j], r = t % iv;
			int64_t down = r < 0 ? t - r - iv : t - r;
			assert_int_equal(interval_floor(iv, t), down);
			assert_int_equal(interval_ceil(iv, t), down == t ? t : down + iv);
			assert_int_equal(interval_add(iv, t, 3), t + 3 * iv);
			assert_int_equal(interval_add(iv, t, -2), t - 2 * iv);
			assert_int_equal(interval_count(iv, down, down + 5 * iv), 6);
			assert_int_equal(interval_steps(iv, t, t + 7 * iv + 1), 7);
			assert_int_equal(interval_close(iv, down), down + iv - 1);
			assert_int_equal(sync_plan_last_closed(t, iv), interval_floor(iv, t - iv));
		}
}

/* 1w opens on Mondays 00:00 UTC (Binance's weeks), not at multiples of 7 days since the
 * Thursday epoch: before, the planner's weeks began on Thursdays, so a week's candle was
 * fetched up to three days after it closed and the first week of a history was dropped. */
static void test_week_monday(void **state)
{
	(void)state;
	const int64_t W = 604800000;

	/* Thursday 2026-01-01: the week opened Monday 2025-12-29 */
	assert_int_equal(interval_floor(W, at(2026, 1, 1, 0, 0, 0)), at(2025, 12, 29, 0, 0, 0));
	assert_int_equal(interval_floor(W, at(2025, 12, 29, 0, 0, 0)), at(2025, 12, 29, 0, 0, 0));
	assert_int_equal(interval_floor(W, at(2025, 12, 28, 23, 59, 59)),
			 at(2025, 12, 22, 0, 0, 0));
	/* a history from Sunday 2025-11-02 starts with Monday 2025-11-03's week */
	assert_int_equal(interval_ceil(W, at(2025, 11, 2, 0, 0, 0)), at(2025, 11, 3, 0, 0, 0));
	/* before the first Monday after the epoch */
	assert_int_equal(interval_floor(W, 0), at(1969, 12, 29, 0, 0, 0));
	assert_int_equal(interval_ceil(W, 1), at(1970, 1, 5, 0, 0, 0));
	/* Monday 01:00: last week's candle closed an hour ago and is fetched now */
	assert_int_equal(sync_plan_last_closed(at(2025, 12, 29, 1, 0, 0), W),
			 at(2025, 12, 22, 0, 0, 0));
	assert_int_equal(sync_plan_last_closed(at(2025, 12, 28, 23, 0, 0), W),
			 at(2025, 12, 15, 0, 0, 0));
	assert_int_equal(interval_close(W, at(2025, 12, 22, 0, 0, 0)),
			 at(2025, 12, 29, 0, 0, 0) - 1);
	assert_int_equal(interval_count(W, at(2025, 11, 3, 0, 0, 0), at(2025, 12, 22, 0, 0, 0)), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_week_monday),     cmocka_unit_test(test_month_named),
		cmocka_unit_test(test_month_floor),     cmocka_unit_test(test_month_step),
		cmocka_unit_test(test_month_count),     cmocka_unit_test(test_month_last_closed),
		cmocka_unit_test(test_fixed_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
