/* test_health.c — health_run on a database built for each case: freshness judged from
 * the newest candle's close at the thresholds' boundaries, coverage of configured
 * symbols, the data-loss guard, backups per tier, the last run, no database at all,
 * and the text and JSON renderings. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "utc.h"
#include "hc_fixture.h"
#include "banned.h"

static const struct health_check *find(const struct health_report *r, const char *name)
{
	for (size_t i = 0; i < r->nchecks; i++)
		if (!strcmp(r->checks[i].name, name))
			return &r->checks[i];
	fail_msg("no check %s", name);
	return NULL;
}

/* A healthy database at exchange time `now`: two symbols synced up to the candle that
 * closed at now - 1h, backups of every tier an hour old (offsite configured). */
static int64_t healthy(struct fx *f)
{
	static const char *syms[] = {"AAAUSDT", "BBBUSDT"};
	struct ck_err e = {0, ""};
	int64_t now = T0 + 10 * DAYMS + HOUR, newest = T0 + 10 * DAYMS - H4;
	int64_t nw[2] = {newest, newest};

	fx_open(f, "AAAUSDT,BBBUSDT");
	assert_int_equal(cfg_set(&f->c, "backup", "s3_bucket", "b", "test", &e), 0);
	fx_candles(f, "AAAUSDT", T0, newest);
	fx_candles(f, "BBBUSDT", T0, newest);
	fx_run(f, now - HOUR + 5 * 60000, RUN_OK, syms, nw, 2);
	assert_int_equal(store_event_add(f->st, now_ms(), "candle_count", "4h",
					 (double)(2 * (10 * 6)), "1", &e),
			 0);
	fx_backup(f, "hot", now - HOUR, "verified");
	fx_backup(f, "warm", now - HOUR, "verified");
	fx_backup(f, "offsite", now - HOUR, "verified");
	return now;
}

static void test_all_ok(void **state)
{
	struct fx f;
	struct health_report r;
	struct ck_err e = {0, ""};
	int64_t now;
	char *json = NULL;
	(void)state;

	now = healthy(&f);
	assert_int_equal(health_run(f.st, &f.c, 0, now, &r, &e), 0);
	for (size_t i = 0; i < r.nchecks; i++)
		if (r.checks[i].status != HEALTH_OK)
			fail_msg("%s: %s", r.checks[i].name, r.checks[i].message);
	assert_int_equal(r.nchecks, 8);
	assert_int_equal(r.status, HEALTH_OK);
	assert_non_null(strstr(r.summary, "CANDLEKEEP OK - 2/2 symbols fresh"));
	assert_non_null(strstr(r.summary, "| fresh=2;;;0;2"));
	assert_non_null(strstr(find(&r, "data_loss")->message, "120 candles, at least the 120"));
	assert_int_equal(health_to_json(&r, &json, &e), 0);
	assert_non_null(strstr(json, "\"status\": \"OK\""));
	assert_non_null(strstr(json, "\"name\": \"disk\""));
	free(json);
	fx_close(&f);
}

/* The newest candle closed at now - 1h; stale_warn 5h05m, stale_crit 9h05m (derived from
 * the default schedule, 5 past every 4th hour, for 4h candles), age counted from the close.
 * Each threshold is inclusive: at it the state holds, a second later it changes. */
static void test_freshness_boundaries(void **state)
{
	struct fx f;
	struct health_report r;
	struct ck_err e = {0, ""};
	int64_t now, close, warn = 5 * HOUR + 5 * 60000, crit = 9 * HOUR + 5 * 60000;
	(void)state;

	now = healthy(&f);
	close = now - HOUR;
	assert_int_equal(f.c.stale_warn_s * 1000, warn);
	assert_int_equal(f.c.stale_crit_s * 1000, crit);
	assert_int_equal(health_run(f.st, &f.c, 0, close + warn, &r, &e), 0);
	assert_int_equal(find(&r, "freshness")->status, HEALTH_OK);
	assert_non_null(strstr(find(&r, "freshness")->message, "(warn 5h05m, crit 9h05m)"));
	assert_int_equal(health_run(f.st, &f.c, 0, close + warn + 1000, &r, &e), 0);
	assert_int_equal(find(&r, "freshness")->status, HEALTH_WARNING);
	assert_int_equal(health_run(f.st, &f.c, 0, close + crit, &r, &e), 0);
	assert_int_equal(find(&r, "freshness")->status, HEALTH_WARNING);
	assert_int_equal(health_run(f.st, &f.c, 0, close + crit + 1000, &r, &e), 0);
	assert_int_equal(find(&r, "freshness")->status, HEALTH_CRITICAL);
	assert_int_equal(r.status, HEALTH_CRITICAL);
	assert_non_null(strstr(r.summary, "CANDLEKEEP CRITICAL - 0/2 symbols fresh"));
	/* the same judgement per symbol, as the status page asks for it */
	{
		int64_t open = close - H4, age = 0;
		assert_int_equal(health_freshness(&f.c, close + warn, open, &age), HEALTH_OK);
		assert_int_equal(age, warn);
		assert_int_equal(health_freshness(&f.c, close + warn + 1, open, NULL),
				 HEALTH_WARNING);
		assert_int_equal(health_freshness(&f.c, close + crit, open, NULL), HEALTH_WARNING);
		assert_int_equal(health_freshness(&f.c, close + crit + 1, open, &age),
				 HEALTH_CRITICAL);
		assert_int_equal(age, crit + 1);
		assert_int_equal(health_freshness(&f.c, close - 1000, open, &age), HEALTH_OK);
		assert_int_equal(age, 0); /* a clock behind the candle's close: not negative */
		assert_int_equal(health_freshness(&f.c, close, 0, &age), HEALTH_CRITICAL);
		assert_int_equal(age, -1); /* no candle at all */
	}
	fx_close(&f);
}

static void test_coverage_and_loss(void **state)
{
	struct fx f;
	struct health_report r;
	struct ck_err e = {0, ""};
	int64_t now;
	(void)state;

	now = healthy(&f);
	/* a symbol configured after the last sync: not synced yet */
	assert_int_equal(cfg_set(&f.c, "main", "symbols", "AAAUSDT,BBBUSDT,CCCUSDT", "t", &e), 0);
	assert_int_equal(health_run(f.st, &f.c, 0, now, &r, &e), 0);
	assert_int_equal(find(&r, "coverage")->status, HEALTH_WARNING);
	assert_non_null(strstr(find(&r, "coverage")->message, "CCCUSDT (not synced yet)"));
	/* a count higher than today's: candles were deleted */
	assert_int_equal(store_event_add(f.st, now_ms() + 1, "candle_count", "4h", 130.0, "2", &e),
			 0);
	assert_int_equal(health_run(f.st, &f.c, 0, now, &r, &e), 0);
	assert_int_equal(find(&r, "data_loss")->status, HEALTH_CRITICAL);
	assert_non_null(strstr(find(&r, "data_loss")->message, "10 fewer than the 130"));
	fx_close(&f);
}

static void test_backups_and_last_run(void **state)
{
	static const char *syms[] = {"AAAUSDT", "BBBUSDT"};
	struct fx f;
	struct health_report r;
	struct ck_err e = {0, ""};
	int64_t now, zero[2] = {0, 0};
	(void)state;

	now = healthy(&f);
	/* hot 30 h old is WARNING, offsite never verified is CRITICAL */
	fx_backup(&f, "hot", now - 30 * HOUR, "verified");
	assert_int_equal(health_run(f.st, &f.c, 0, now + 29 * HOUR, &r, &e), 0);
	assert_int_equal(find(&r, "backups")->status, HEALTH_WARNING);
	assert_int_equal(health_run(f.st, &f.c, 0, now + 51 * HOUR, &r, &e), 0);
	assert_int_equal(find(&r, "backups")->status, HEALTH_CRITICAL);
	/* the newest run failed: WARNING; three in a row: CRITICAL */
	fx_run(&f, 0, RUN_FAILED, syms, zero, 2);
	assert_int_equal(health_run(f.st, &f.c, 0, now, &r, &e), 0);
	assert_int_equal(find(&r, "last_run")->status, HEALTH_WARNING);
	fx_run(&f, 0, RUN_FAILED, syms, zero, 2);
	fx_run(&f, 0, RUN_TIMEOUT, syms, zero, 2);
	assert_int_equal(health_run(f.st, &f.c, 0, now, &r, &e), 0);
	assert_int_equal(find(&r, "last_run")->status, HEALTH_CRITICAL);
	assert_non_null(strstr(find(&r, "last_run")->message, "3 runs in a row failed"));
	fx_close(&f);
}

static void test_no_database(void **state)
{
	struct fx f;
	struct health_report r;
	struct ck_err e = {0, ""};
	char buf[4096];
	FILE *m;
	(void)state;

	fx_open(&f, "AAAUSDT");
	assert_int_equal(health_run(NULL, &f.c, 0, T0, &r, &e), 0);
	assert_int_equal(r.status, HEALTH_CRITICAL);
	assert_int_equal(r.nchecks, 8);
	assert_int_equal(find(&r, "integrity")->status, HEALTH_CRITICAL);
	assert_non_null(strstr(r.summary, "CANDLEKEEP CRITICAL - database"));
	m = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(m);
	assert_int_equal(health_print_text(&r, m), 0);
	fclose(m);
	assert_memory_equal(buf, "CANDLEKEEP CRITICAL", 19);
	assert_non_null(strstr(buf, "\nfreshness CRITICAL database not available\n"));
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_ok),
		cmocka_unit_test(test_freshness_boundaries),
		cmocka_unit_test(test_coverage_and_loss),
		cmocka_unit_test(test_backups_and_last_run),
		cmocka_unit_test(test_no_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
