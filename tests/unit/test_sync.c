/* test_sync.c — the rules the sync engine decides with (sync.h): when a suspected hole
 * is confirmed, and which candles count as closed. The lock is in test_lock.c, the
 * exchange's arithmetic in test_binance.c, the planner in test_sync_plan.c; sync runs
 * against fakex are in tests/e2e/t21*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
#include "sync.h"
#include "banned.h"

/* A hole is confirmed only by a second empty answer an hour or more after the first by
 * both clocks, with both clocks a day or more past the gap. */
static void test_hole_corroboration(void **state)
{
	const int64_t H = 3600000, D = 24 * H, iv = 4 * H,
		      gap_last = 1700000000000LL - 1700000000000LL % iv;
	const int64_t t1 = gap_last + iv + 2 * D; /* first observation: two days after */
	struct store_hole h = {gap_last - iv, gap_last, t1, t1, 0, 1, 0};
	(void)state;
	/* The same run, or minutes later: no. */
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1, t1));
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + H - 1, t1 + H));
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + H, t1 + H - 1));
	/* An hour later by both clocks: yes. */
	assert_true(sync_hole_confirms(&h, gap_last, iv, t1 + H, t1 + H));
	/* Never observed (no first observation): no. */
	h.runs = 0;
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + D, t1 + D));
	h.runs = 1;
	/* Observed while the gap was fresh: both clocks must be a day past it. */
	h.first_seen = h.first_seen_exchange = gap_last + iv;
	assert_false(
		sync_hole_confirms(&h, gap_last, iv, gap_last + iv + 2 * H, gap_last + iv + 2 * H));
	assert_false(
		sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D, gap_last + iv + D - 1));
	assert_false(
		sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D - 1, gap_last + iv + D));
	assert_true(sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D, gap_last + iv + D));
	/* An exchange clock that lags (behind its own first reading): no. */
	h.first_seen = h.first_seen_exchange = t1;
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + D, t1 - D));
}

/* Closed only when both clocks agree (within the allowed skew). */
static void test_close_limit(void **state)
{
	const int64_t t = 1773943200000LL, H = 3600000;
	(void)state;
	assert_int_equal(sync_close_limit(t, t, 60000), t);                 /* agree */
	assert_int_equal(sync_close_limit(t + 4 * H, t, 60000), t + 60000); /* exchange ahead */
	assert_int_equal(sync_close_limit(t, t + 4 * H, 60000), t);         /* exchange lags */
	assert_int_equal(sync_close_limit(t + 30000, t, 60000), t + 30000); /* within skew */
	assert_int_equal(sync_close_limit(t + 4 * H, t, 0), t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hole_corroboration),
		cmocka_unit_test(test_close_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
