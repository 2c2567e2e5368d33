/* test_audit.c — the audit's arithmetic: nearest-rank percentiles, scheduled syncs met,
 * staleness from run records (a missed and a failed slot each leave a candle waiting
 * 4h05m), runs without an exchange time placed between their neighbours, completeness,
 * and the RTO target unmeasured without a drill. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "utc.h"
#include "hc_fixture.h"
#include "banned.h"

static void test_percentile(void **state)
{
	int64_t v[100], *big;
	(void)state;

	for (int i = 0; i < 100; i++)
		v[i] = 100 - i;
	assert_int_equal(audit_percentile(v, 100, 99.0), 99);
	assert_int_equal(audit_percentile(v, 100, 50.0), 50);
	assert_int_equal(audit_percentile(v, 100, 100.0), 100);
	assert_int_equal(audit_percentile(v, 1, 99.0), 1);
	assert_int_equal(audit_percentile(v, 0, 99.0), 0);
	/* 30 days of minutes: rank 42768 exactly, no floating-point drift */
	big = malloc(43200 * sizeof(*big));
	assert_non_null(big);
	for (int i = 0; i < 43200; i++)
		big[i] = i;
	assert_int_equal(audit_percentile(big, 43200, 99.0), 42767);
	free(big);
}

static const struct audit_target *target(const struct audit_report *r, const char *name)
{
	for (size_t i = 0; i < r->ntarget; i++)
		if (!strcmp(r->target[i].name, name))
			return &r->target[i];
	fail_msg("no target %s", name);
	return NULL;
}

static void test_two_days(void **state)
{
	static const char *sym[] = {"AAAUSDT"};
	struct fx f;
	struct audit_opts o = {2, T0 + 2 * DAYMS, 0, NULL};
	struct audit_report r;
	struct ck_err e = {0, ""};
	int64_t newest;
	(void)state;

	fx_open(&f, "AAAUSDT");
	fx_candles(&f, "AAAUSDT", T0 - 2 * H4, T0 + 40 * HOUR);
	newest = T0 - 2 * H4;
	/* Local start times a fixed hour behind the exchange's (not the machine's clock,
	 * whose pace between inserts would move the failed run's estimated time). */
	fx_run_at(&f, T0 - H4 + 5 * 60000 - HOUR, T0 - H4 + 5 * 60000, RUN_OK, sym, &newest, 1);
	for (int k = 0; k < 12; k++) {
		int64_t slot = T0 + k * H4 + 5 * 60000;
		newest = T0 + (k - 1) * H4;
		if (k == 3)
			continue; /* nothing ran */
		if (k == 5) {
			int64_t none = 0;
			/* never reached the exchange: its time is estimated from the neighbours' */
			fx_run_at(&f, slot - HOUR, 0, RUN_FAILED, sym, &none, 1);
			continue;
		}
		fx_run_at(&f, slot - HOUR, slot, RUN_OK, sym, &newest, 1);
	}
	assert_int_equal(audit_run(f.st, &f.c, &o, &r, &e), 0);
	assert_int_equal(r.slots, 12);
	assert_int_equal(r.slots_met, 10);
	assert_int_equal(r.days_synced, 2);
	assert_int_equal(r.runs_total, 11);
	assert_int_equal(r.nbad, 1);
	assert_true(r.bad[0].estimated);
	assert_true(r.bad[0].at > T0 + 4 * H4 && r.bad[0].at < T0 + 6 * H4);
	assert_int_equal(r.nsym, 1);
	assert_int_equal(r.sym[0].samples, 2 * 1440);
	assert_int_equal(r.sym[0].lag_worst_ms, 4 * HOUR + 5 * 60000);
	assert_int_equal(r.sym[0].age_worst_ms, 8 * HOUR + 5 * 60000);
	/* rank ceil(0.99 x 2880) = 2852: the 29th worst minute; two episodes each wait
	 * 0..245 minutes, so the worst values come in pairs: 245, 245, 244, 244, ... 231 */
	assert_int_equal(r.sym[0].lag_p99_ms, (245 - 14) * 60000);
	assert_int_equal(r.sym[0].expected, 11);
	assert_int_equal(r.sym[0].stored, 11);
	assert_int_equal(r.sym[0].missing, 0);
	assert_false(target(&r, "availability")->met);
	assert_string_equal(target(&r, "availability")->measured, "83.33%");
	assert_false(target(&r, "rto")->met);
	assert_string_equal(target(&r, "rto")->measured, "not measured");
	assert_true(target(&r, "freshness")->met); /* 8h05m <= 9h05m (stale_crit) */
	assert_false(target(&r, "rpo")->met);      /* 3h51m > 2h */
	assert_true(target(&r, "completeness")->met);
	assert_false(r.all_met);
	assert_int_equal(r.day[0].slots, 6);
	assert_int_equal(r.day[0].slots_met, 4); /* the missed and the failed slot */
	assert_int_equal(r.day[1].slots_met, 6);
	audit_report_release(&r);

	/* a candle lost from the period is missing, and listed as a gap */
	{
		char path[400];
		struct ck_err e2 = {0, ""};
		store_close(f.st);
		snprintf(path, sizeof(path),
			 "sqlite3 '%s' \"delete from candles where open_time = %" PRId64 "\"", f.db,
			 T0 + 2 * H4);
		assert_int_equal(system(path), 0);
		assert_int_equal(store_open(&f.st, f.db, 0, &e2), 0);
	}
	assert_int_equal(audit_run(f.st, &f.c, &o, &r, &e), 0);
	assert_int_equal(r.sym[0].missing, 1);
	assert_int_equal(r.sym[0].ngaps, 1);
	assert_int_equal(r.sym[0].gaps[0].first, T0 + 2 * H4);
	assert_false(target(&r, "completeness")->met);
	audit_report_release(&r);
	fx_close(&f);
}

static void test_bad_days(void **state)
{
	struct fx f;
	struct audit_opts o = {0, T0, 0, NULL};
	struct audit_report r;
	struct ck_err e = {0, ""};
	(void)state;

	fx_open(&f, "AAAUSDT");
	assert_int_equal(audit_run(f.st, &f.c, &o, &r, &e), CK_EUSAGE);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_two_days),
		cmocka_unit_test(test_bad_days),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
