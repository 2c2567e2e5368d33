/* test_sched.c — the cron parser and the next-fire search: every field syntax (numbers,
 * *, ranges, steps, lists, names, shorthands), the day-of-month / day-of-week OR rule,
 * month ends, leap years, year ends, invalid input with its messages, and a cross-check
 * of sched_next against a minute-by-minute scan that uses the C library's gmtime_r as
 * an independent calendar. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "sched.h"
#include "utc.h"
#include "banned.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static int64_t T(const char *s)
{
	int64_t ms = 0;
	assert_int_equal(utc_parse(s, &ms), 0);
	return ms;
}

static struct sched_cron P(const char *expr) {
	struct sched_cron c;
	struct ck_err err = {0, ""};
	if (sched_parse(expr, &c, &err)) {
		print_error("sched_parse(%s): %s\n", expr, err.msg);
		fail();
	}
	return c;
}

/* next after `after` equals `want` (both UTC text). */
static void
check_next(const char *expr, const char *after, const char *want)
{
	struct sched_cron c = P(expr);
	int64_t next = 0;
	char got[32];

	assert_int_equal(sched_next(&c, T(after), &next), 0);
	utc_iso(next, got, sizeof(got));
	if (next != T(want)) {
		print_error("'%s' after %s: want %s, got %s\n", expr, after, want, got);
		fail();
	}
	assert_true(sched_matches(&c, next));
}

static void check_bad(const char *expr, const char *msg_part)
{
	struct sched_cron c;
	struct ck_err err = {0, ""};

	if (sched_parse(expr, &c, &err) != CK_EUSAGE) {
		print_error("'%s' was accepted\n", expr);
		fail();
	}
	assert_int_equal(err.code, CK_EUSAGE);
	if (!strstr(err.msg, msg_part)) {
		print_error("'%s': message '%s' lacks '%s'\n", expr, err.msg, msg_part);
		fail();
	}
}

static void test_fields(void **state)
{
	struct sched_cron c;
	(void)state;

	c = P("* * * * *");
	assert_true(c.minute == (UINT64_C(1) << 60) - 1);
	assert_int_equal(c.hour, (1u << 24) - 1);
	assert_int_equal(c.mday, 0xfffffffeu);
	assert_int_equal(c.month, 0x1ffeu);
	assert_int_equal(c.wday, 0x7fu);
	assert_true(c.mday_star && c.wday_star);

	c = P("5 0,4,8,12,16,20 * * *");
	assert_true(c.minute == UINT64_C(1) << 5);
	assert_int_equal(c.hour,
			 (1u << 0) | (1u << 4) | (1u << 8) | (1u << 12) | (1u << 16) | (1u << 20));
	c = P("*/15 */6 * * *");
	assert_true(c.minute == ((UINT64_C(1) << 0) | (UINT64_C(1) << 15) | (UINT64_C(1) << 30) |
				 (UINT64_C(1) << 45)));
	assert_int_equal(c.hour, (1u << 0) | (1u << 6) | (1u << 12) | (1u << 18));
	c = P("10-20/5 1-3 * * *");
	assert_true(c.minute == ((UINT64_C(1) << 10) | (UINT64_C(1) << 15) | (UINT64_C(1) << 20)));
	assert_int_equal(c.hour, 0xeu);
	c = P("50/4 * * * *"); /* a/n: from a to the end */
	assert_true(c.minute == ((UINT64_C(1) << 50) | (UINT64_C(1) << 54) | (UINT64_C(1) << 58)));
	c = P("0 0 * JAN,jul-Sep mon-FRI");
	assert_int_equal(c.month, (1u << 1) | (1u << 7) | (1u << 8) | (1u << 9));
	assert_int_equal(c.wday, 0x3eu);
	assert_false(c.wday_star);
	c = P("0 0 * * 7"); /* 7 is Sunday */
	assert_int_equal(c.wday, 1u);
	c = P("0 0 * * 5-7");
	assert_int_equal(c.wday, (1u << 5) | (1u << 6) | 1u);
	c = P("1,2,3-4,*/30 0 1,15 * *");
	assert_true(c.minute == ((UINT64_C(1) << 0) | (UINT64_C(1) << 1) | (UINT64_C(1) << 2) |
				 (UINT64_C(1) << 3) | (UINT64_C(1) << 4) | (UINT64_C(1) << 30)));
	assert_false(c.mday_star);
	c = P("  0\t12  *  *  *  "); /* any blanks around and between fields */
	assert_true(c.minute == 1);
	c = P("*/2 * */2 * *");
	assert_true(c.mday_star); /* starts with '*': the OR rule does not apply */
}

static void test_shorthands(void **state)
{
	(void)state;
	check_next("@hourly", "2026-03-19T10:30:00Z", "2026-03-19T11:00:00Z");
	check_next("@daily", "2026-03-19T10:30:00Z", "2026-03-20T00:00:00Z");
	check_next("@midnight", "2026-03-19T10:30:00Z", "2026-03-20T00:00:00Z");
	check_next("@weekly", "2026-03-19T10:30:00Z", "2026-03-22T00:00:00Z"); /* a Sunday */
	check_next("@monthly", "2026-03-19T10:30:00Z", "2026-04-01T00:00:00Z");
	check_next("@yearly", "2026-03-19T10:30:00Z", "2027-01-01T00:00:00Z");
	check_next("@ANNUALLY", "2026-03-19T10:30:00Z", "2027-01-01T00:00:00Z");
	check_bad("@reboot", "unknown shorthand");
	check_bad("@daily 5", "unknown shorthand");
}

static void test_next_basic(void **state)
{
	(void)state;
	/* the default sync schedule, including at and just before a fire time */
	check_next("5 0,4,8,12,16,20 * * *", "2026-03-19T18:00:00Z", "2026-03-19T20:05:00Z");
	check_next("5 0,4,8,12,16,20 * * *", "2026-03-19T20:04:59Z", "2026-03-19T20:05:00Z");
	check_next("5 0,4,8,12,16,20 * * *", "2026-03-19T20:05:00Z", "2026-03-20T00:05:00Z");
	{ /* one ms after a fire time is after it */
		struct sched_cron c = P("5 0,4,8,12,16,20 * * *");
		int64_t next = 0;
		assert_int_equal(sched_next(&c, T("2026-03-19T20:05:00Z") + 1, &next), 0);
		assert_true(next == T("2026-03-20T00:05:00Z"));
		assert_int_equal(sched_next(&c, T("2026-03-19T20:05:00Z") - 1, &next), 0);
		assert_true(next == T("2026-03-19T20:05:00Z"));
	}
	check_next("5 0,4,8,12,16,20 * * *", "2026-12-31T22:00:00Z", "2027-01-01T00:05:00Z");
	/* the older design's */
	check_next("0 1 * * *", "2026-03-19T01:00:00Z", "2026-03-20T01:00:00Z");
	check_next("0 1 * * *", "2026-03-19T00:59:00Z", "2026-03-19T01:00:00Z");
	check_next("* * * * *", "2026-03-19T10:30:30Z", "2026-03-19T10:31:00Z");
	check_next("*/15 * * * *", "2026-03-19T10:46:00Z", "2026-03-19T11:00:00Z");
	check_next("0 */6 * * *", "2026-03-19T18:00:00Z", "2026-03-20T00:00:00Z");
	check_next("59 23 * * *", "2026-03-19T23:59:00Z", "2026-03-20T23:59:00Z");
	/* monthly audit, across the year end */
	check_next("0 3 1 * *", "2026-12-01T03:00:00Z", "2027-01-01T03:00:00Z");
	/* months with 30 days skip the 31st */
	check_next("0 0 31 * *", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z");
	check_next("0 0 31 * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z");
	/* leap days: every 4 years, not in 2100 */
	check_next("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
	check_next("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z");
	check_next("0 12 28-29 feb *", "2027-02-28T12:00:00Z", "2028-02-28T12:00:00Z");
	/* month names and lists */
	check_next("30 6 15 jan,jul *", "2026-03-19T00:00:00Z", "2026-07-15T06:30:00Z");
	/* before the epoch still works (negative ms) */
	{
		struct sched_cron c = P("0 0 1 1 *");
		int64_t next = 0;
		assert_int_equal(sched_next(&c, -200 * DAY, &next), 0);
		assert_true(next == 0);
		assert_int_equal(sched_next(&c, -1, &next), 0);
		assert_true(next == 0);
	}
}

static void test_dom_dow_rule(void **state)
{
	(void)state;
	/* 2026-03-19 is a Thursday. Both restricted: either matches (the 20th is a Friday,
	 * the next Monday is the 23rd). */
	check_next("0 0 25 * 1", "2026-03-19T12:00:00Z", "2026-03-23T00:00:00Z");
	check_next("0 0 20 * 1", "2026-03-19T12:00:00Z", "2026-03-20T00:00:00Z");
	/* day of week only */
	check_next("0 0 * * 1", "2026-03-19T12:00:00Z", "2026-03-23T00:00:00Z");
	check_next("0 0 * * sun", "2026-03-19T12:00:00Z", "2026-03-22T00:00:00Z");
	check_next("0 0 * * 7", "2026-03-19T12:00:00Z", "2026-03-22T00:00:00Z");
	/* day of month only */
	check_next("0 0 25 * *", "2026-03-19T12:00:00Z", "2026-03-25T00:00:00Z");
	/* a field starting with '*' is "unrestricted" for the rule, even with a step: both
	 * must match, so odd days that are Mondays (the 23rd is odd: Monday 2026-03-23) */
	check_next("0 0 */2 * 1", "2026-03-19T12:00:00Z", "2026-03-23T00:00:00Z");
	check_next("0 0 */2 * 2", "2026-03-19T12:00:00Z", "2026-03-31T00:00:00Z");
	/* Friday the 13th needs both, which cron cannot say: 13 OR Friday */
	check_next("0 0 13 * 5", "2026-03-19T12:00:00Z", "2026-03-20T00:00:00Z");
	/* 31st or a weekday day never happening in February alone: the OR keeps it alive */
	check_next("0 0 31 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z");
}

static void test_matches_and_count(void **state)
{
	struct sched_cron c = P("5 0,4,8,12,16,20 * * *");
	(void)state;

	assert_true(sched_matches(&c, T("2026-03-19T20:05:00Z")));
	assert_true(sched_matches(&c, T("2026-03-19T20:05:59Z")));
	assert_false(sched_matches(&c, T("2026-03-19T20:06:00Z")));
	assert_false(sched_matches(&c, T("2026-03-19T21:05:00Z")));
	/* six a day, three days */
	assert_int_equal(
		sched_count(&c, T("2026-03-19T00:00:00Z"), T("2026-03-22T00:00:00Z"), 1000), 18);
	/* the interval is half-open: (from, to] */
	assert_int_equal(
		sched_count(&c, T("2026-03-19T00:05:00Z"), T("2026-03-19T04:05:00Z"), 1000), 1);
	assert_int_equal(sched_count(&c, T("2026-03-19T00:00:00Z"), T("2026-03-22T00:00:00Z"), 5),
			 5);
	assert_int_equal(
		sched_count(&c, T("2026-03-19T00:06:00Z"), T("2026-03-19T04:04:00Z"), 1000), 0);
}

static void test_invalid(void **state)
{
	struct sched_cron c;
	(void)state;

	check_bad("", "0 fields, not 5");
	check_bad("   ", "0 fields, not 5");
	check_bad("* * * *", "4 fields, not 5");
	check_bad("* * * * * *", "more than 5 fields");
	check_bad("60 * * * *", "minute field '60': value out of range 0-59");
	check_bad("* 24 * * *", "hour field '24': value out of range 0-23");
	check_bad("* * 0 * *", "day of month field '0': value out of range 1-31");
	check_bad("* * 32 * *", "value out of range 1-31");
	check_bad("* * * 13 *", "month field '13': value out of range 1-12");
	check_bad("* * * 0 *", "value out of range 1-12");
	check_bad("* * * * 8", "day of week field '8': value out of range 0-7");
	check_bad("5-1 * * * *", "a range must go upwards");
	check_bad("*/0 * * * *", "a step of 0 never advances");
	check_bad("*/ * * * *", "a step needs a number");
	check_bad("1-/2 * * * *", "a range needs an end");
	check_bad("1,,2 * * * *", "empty list item");
	check_bad("1, * * * *", "empty list item");
	check_bad(",1 * * * *", "empty list item");
	check_bad("a * * * *", "minute field 'a': expected a number");
	check_bad("* * * foo *", "month field 'foo': expected a number or a three-letter name");
	check_bad("* * * * mon-", "a range needs an end");
	check_bad("* * * * monday", "day of week field 'monday'");
	check_bad("* * * jan *x", "unexpected characters");
	check_bad("*5 * * * *", "unexpected characters");
	check_bad("1-2-3 * * * *", "unexpected characters");
	check_bad("-1 * * * *", "expected a number");
	check_bad("1.5 * * * *", "unexpected characters");
	check_bad("00001 * * * *", "expected a number");
	check_bad("*/99999 * * * *", "a step needs a number");
	check_bad("0 0 30 2 *", "never occur");
	check_bad("0 0 31 4,6,9,11 *", "never occur");
	check_bad("0 0 * * jan", "day of week field 'jan'");
	{
		char big[SCHED_EXPR_MAX + 10];
		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		check_bad(big, "longer than");
	}
	/* err may be NULL */
	assert_int_equal(sched_parse("61 * * * *", &c, NULL), CK_EUSAGE);
	assert_int_equal(sched_parse(NULL, &c, NULL), CK_EUSAGE);
	/* accepted corner cases */
	assert_int_equal(sched_parse("0 0 29 2 *", &c, NULL), 0);
	assert_int_equal(sched_parse("0 0 31 2 mon", &c, NULL), 0);
	assert_int_equal(sched_parse("59 23 31 12 7", &c, NULL), 0);
	assert_int_equal(sched_parse("0-59/59 0-23/23 1-31/30 1-12/11 0-7/7", &c, NULL), 0);
	assert_int_equal(c.wday, 1u); /* 0 and 7: Sunday once */
}

/* The independent oracle: scan minute by minute with gmtime_r. */
static int oracle_match(const struct sched_cron *c, time_t t)
{
	struct tm tm;
	int dom, dow;

	gmtime_r(&t, &tm);
	dom = (c->mday >> tm.tm_mday) & 1;
	dow = (c->wday >> tm.tm_wday) & 1;
	return ((c->month >> (tm.tm_mon + 1)) & 1) &&
	       ((c->mday_star || c->wday_star) ? (dom && dow) : (dom || dow)) &&
	       ((c->hour >> tm.tm_hour) & 1) && ((c->minute >> tm.tm_min) & 1);
}

static void test_cross_check(void **state)
{
	static const char *const exprs[] = {
		"5 0,4,8,12,16,20 * * *", "0 1 * * *",   "*/7 */5 * * *", "0 0 1,15 * 3",
		"30 2 * 2,3 *",           "0 0 */3 * *", "15 14 1 * *",   "0 22 * * 1-5",
		"23 0-23/2 * * *",        "5 4 * * sun", "0 0 1 */2 *",   "59 23 28-31 * *",
		"0 12 * * 0,6",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct sched_cron c = P(exprs[i]);
		/* start points spread over years, odd seconds, month and year ends */
		int64_t starts[] = {T("2026-03-19T18:00:00Z"), T("2027-12-31T23:59:59Z"),
				    T("2028-02-28T23:30:17Z"), T("2024-01-31T12:00:00Z"),
				    T("2030-06-30T23:59:00Z")};
		for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			int64_t t = starts[s];
			for (int k = 0; k < 5; k++) {
				int64_t next = 0, scan = (t / MIN + 1) * MIN;
				assert_int_equal(sched_next(&c, t, &next), 0);
				/* every minute in between is not a fire time; next is */
				for (; scan < next && scan - t < 5 * 366 * DAY; scan += MIN)
					if (oracle_match(&c, (time_t)(scan / 1000))) {
						char a[32], b[32];
						print_error(
							"'%s' from %s: oracle fires %s before %s\n",
							exprs[i], utc_iso(t, a, sizeof(a)),
							utc_iso(scan, b, sizeof(b)),
							utc_iso(next, a, sizeof(a)));
						fail();
					}
				assert_true(oracle_match(&c, (time_t)(next / 1000)));
				assert_int_equal(next % MIN, 0);
				assert_true(next > t);
				t = next;
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_next_basic),
		cmocka_unit_test(test_dom_dow_rule),
		cmocka_unit_test(test_matches_and_count),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_cross_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
