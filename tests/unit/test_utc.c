/* test_utc.c — the program's one duration formatter (every style at its boundaries:
 * 0, 59 s, 60 s, 1 h, a day, two days, negative values, the config form that reads
 * back), the clock's test hook (CANDLEKEEP_FAULT_NOW moves only the local clock sync
 * judges by) and the one sleep (a stop flag ends it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>

#include "dur.h"
#include "err.h"
#include "utc.h"
#include "banned.h"

#define S 1000LL
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)

static const char *fmt(int64_t ms, enum dur_style st)
{
	static char buf[64];
	return dur_format(ms, st, buf, sizeof(buf));
}

static void test_clock_style(void **state) /* audit */
{
	(void)state;
	assert_string_equal(fmt(0, DUR_CLOCK), "0s");
	assert_string_equal(fmt(999, DUR_CLOCK), "0s");
	assert_string_equal(fmt(59 * S, DUR_CLOCK), "59s");
	assert_string_equal(fmt(60 * S, DUR_CLOCK), "1m00s");
	assert_string_equal(fmt(42 * M + 5 * S, DUR_CLOCK), "42m05s");
	assert_string_equal(fmt(H - S, DUR_CLOCK), "59m59s");
	assert_string_equal(fmt(H, DUR_CLOCK), "1h00m");
	assert_string_equal(fmt(5 * H + 5 * M + 59 * S, DUR_CLOCK), "5h05m");
	assert_string_equal(fmt(D, DUR_CLOCK), "1d00h00m");
	assert_string_equal(fmt(3 * D + 4 * H + 5 * M, DUR_CLOCK), "3d04h05m");
	assert_string_equal(fmt(-5 * S, DUR_CLOCK), "0s");
}

static void test_coarse_style(void **state) /* health */
{
	(void)state;
	assert_string_equal(fmt(0, DUR_COARSE), "0s");
	assert_string_equal(fmt(59 * S, DUR_COARSE), "59s");
	assert_string_equal(fmt(42 * M + 5 * S, DUR_COARSE), "42m");
	assert_string_equal(fmt(H, DUR_COARSE), "1h00m");
	assert_string_equal(fmt(D - 1, DUR_COARSE), "23h59m");
	assert_string_equal(fmt(2 * D + 3 * H + 59 * M, DUR_COARSE), "2d3h");
	assert_string_equal(fmt(-H, DUR_COARSE), "0s");
}

static void test_spaced_style(void **state) /* status page */
{
	(void)state;
	assert_string_equal(fmt(0, DUR_SPACED), "0s");
	assert_string_equal(fmt(-1, DUR_SPACED), "-");
	assert_string_equal(fmt(59 * S, DUR_SPACED), "59s");
	assert_string_equal(fmt(65 * S, DUR_SPACED), "1m 05s");
	assert_string_equal(fmt(3 * H + 5 * M, DUR_SPACED), "3h 05m");
	assert_string_equal(fmt(2 * D + 4 * H, DUR_SPACED), "2d 4h");
}

static void test_age_style(void **state) /* backup list */
{
	(void)state;
	assert_string_equal(fmt(0, DUR_AGE), "0m");
	assert_string_equal(fmt(59 * S, DUR_AGE), "0m");
	assert_string_equal(fmt(H - 1, DUR_AGE), "59m");
	assert_string_equal(fmt(H, DUR_AGE), "1h00m");
	assert_string_equal(fmt(2 * D - 1, DUR_AGE), "47h59m");
	assert_string_equal(fmt(2 * D, DUR_AGE), "2d00h");
	assert_string_equal(fmt(-999, DUR_AGE), "0m");
	assert_string_equal(fmt(-S, DUR_AGE), "future");
}

static void test_config_style(void **state) /* what [section] key = ... reads back */
{
	(void)state;
	assert_string_equal(fmt(0, DUR_CONFIG), "0");
	assert_string_equal(fmt(59 * S, DUR_CONFIG), "59s");
	assert_string_equal(fmt(90 * S, DUR_CONFIG), "1m30s");
	assert_string_equal(fmt(H + 5 * S, DUR_CONFIG), "1h5s");
	assert_string_equal(fmt(5 * H + 5 * M, DUR_CONFIG), "5h5m");
	assert_string_equal(fmt(30 * H, DUR_CONFIG), "30h");
	assert_string_equal(fmt(7 * D, DUR_CONFIG), "7d");
	assert_string_equal(fmt(-90 * S, DUR_CONFIG), "-1m30s");
}

static void test_small_buffer_truncates(void **state)
{
	char buf[4];
	(void)state;
	assert_string_equal(dur_format(3 * D + 4 * H + 5 * M, DUR_CLOCK, buf, sizeof(buf)), "3d0");
	/* the extremes: no overflow, the first characters of the full text */
	assert_string_equal(dur_format(INT64_MAX, DUR_CONFIG, buf, sizeof(buf)), "256");
	assert_string_equal(dur_format(INT64_MIN, DUR_CONFIG, buf, sizeof(buf)), "-25");
	assert_string_equal(fmt(INT64_MAX, DUR_CONFIG), "2562047788015h12m55s");
	assert_string_equal(fmt(INT64_MAX, DUR_CLOCK), "106751991167d07h12m");
	assert_string_equal(fmt(INT64_MIN, DUR_SPACED), "-");
}

/* CANDLEKEEP_FAULT_NOW fixes the local clock (test builds) and nothing else. */
static void test_clock_hook(void **state)
{
	int64_t before, after;
	(void)state;
	unsetenv("CANDLEKEEP_FAULT_NOW");
	before = now_ms();
	after = now_local_ms();
	assert_true(after >= before && after - before < 60 * S);
	setenv("CANDLEKEEP_FAULT_NOW", "1700000000000", 1);
	assert_int_equal(now_local_ms(), 1700000000000LL);
	assert_true(now_ms() > 1700000000000LL + 365 * D); /* the wall clock is untouched */
	unsetenv("CANDLEKEEP_FAULT_NOW");
	assert_true(now_local_ms() >= before);
	before = mono_ms();
	assert_true(mono_ms() >= before);
}

static void test_sleep_stops(void **state)
{
	volatile sig_atomic_t stop = 1, go = 0;
	int64_t t0 = mono_ms();
	(void)state;
	/* a set stop flag ends the sleep at once (no timing asserted beyond "not 60 s") */
	assert_int_equal(ck_sleep_ms(60 * S, &stop), CK_ESTOPPED);
	assert_true(mono_ms() - t0 < 30 * S);
	assert_int_equal(ck_sleep_ms(0, &go), 0);
	assert_int_equal(ck_sleep_ms(-5, NULL), 0);
	t0 = mono_ms();
	assert_int_equal(ck_sleep_ms(20, &go), 0);
	assert_true(mono_ms() - t0 >= 20);
	t0 = mono_ms();
	assert_int_equal(ck_sleep_ms(20, NULL), 0);
	assert_true(mono_ms() - t0 >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_style),  cmocka_unit_test(test_coarse_style),
		cmocka_unit_test(test_spaced_style), cmocka_unit_test(test_age_style),
		cmocka_unit_test(test_config_style), cmocka_unit_test(test_small_buffer_truncates),
		cmocka_unit_test(test_clock_hook),   cmocka_unit_test(test_sleep_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
