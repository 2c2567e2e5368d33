/* test_sync_plan.c — the sync planner (sync_plan.c) over a real store (SQLite in a
 * temporary directory): which windows a run requests for an empty store and a fresh
 * symbol, gaps in the middle, confirmed and suspected holes, the tail (never the open
 * candle), lookback and verify_recent, the rolling re-verification slice, the listing
 * start and backfill --since, and the page arithmetic (1500 candles a request at most).
 * Each test states the exact windows, in request order. (A temporary file, not
 * ":memory:": store_open creates the file itself before SQLite sees the path.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binance.h"
#include "cfg.h"
#include "err.h"
#include "kline.h"
#include "store.h"
#include "sync_plan.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 (4 * 3600000LL)
#define DAY (86400000LL)
#define T0 1700006400000LL /* a multiple of 4h */
#define SYM "BTCUSDT"

struct fixture {
	char dir[64];
	char db[128];
	struct cfg cfg;
	struct store *st;
	struct ck_err err;
	struct plan_clock pc;
	struct sync_plan plan;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-plan");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/c.db", fx->dir);
	assert_int_equal(cfg_init(&fx->cfg, &fx->err), 0);
	assert_int_equal(cfg_set(&fx->cfg, "main", "db", fx->db, "test", &fx->err), 0);
	assert_int_equal(cfg_set(&fx->cfg, "main", "interval", "4h", "test", &fx->err), 0);
	assert_int_equal(cfg_finish(&fx->cfg, &fx->err), 0);
	/* Only what the planner reads; each test sets what it is about. */
	fx->cfg.history_days = 30;
	fx->cfg.lookback = 0;
	fx->cfg.verify_recent = 0;
	fx->cfg.verify_days = 0;
	fx->cfg.gap_repair = 1;
	fx->cfg.page_limit = 0;
	assert_int_equal(store_open(&fx->st, fx->db, 0, &fx->err), 0);
	fx->pc.iv = H4;
	fx->pc.verify_first = 1;
	fx->pc.verify_last = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	store_close(fx->st);
	cfg_release(&fx->cfg);
	sync_plan_release(&fx->plan);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* The run's clocks: the exchange's time is `now`, candles close before it. */
static void clock_at(struct fixture *fx, int64_t now)
{
	fx->pc.server_now = now;
	fx->pc.last_closed = sync_plan_last_closed(now, H4);
}

/* Stores the candles T0 + i*H4 for i in from..to except those listed in skip. */
static void put_range(struct fixture *fx, int from, int to, const int *skip, size_t nskip)
{
	struct kline *k = calloc((size_t)(to - from + 1), sizeof(*k));
	struct store_page_result pr;
	size_t n = 0, s;
	int i;

	assert_non_null(k);
	for (i = from; i <= to; i++) {
		int skipped = 0;
		for (s = 0; s < nskip; s++)
			skipped |= skip[s] == i;
		if (skipped)
			continue;
		k[n].open_time = T0 + i * H4;
		k[n].close_time = T0 + (i + 1) * H4 - 1;
		snprintf(k[n].open, sizeof(k[n].open), "100.0");
		snprintf(k[n].high, sizeof(k[n].high), "200.0");
		snprintf(k[n].low, sizeof(k[n].low), "50.0");
		snprintf(k[n].close, sizeof(k[n].close), "150.0");
		snprintf(k[n].volume, sizeof(k[n].volume), "12.5");
		snprintf(k[n].quote_volume, sizeof(k[n].quote_volume), "1000.0");
		k[n].trades = 42;
		n++;
	}
	assert_int_equal(store_put_page(fx->st, SYM, "4h", k, n, &pr, &fx->err), 0);
	assert_int_equal(pr.written, (int64_t)n);
	free(k);
}

static void set_symbol(struct fixture *fx, int64_t history_start, int64_t first_open)
{
	struct store_symbol s = {history_start, first_open};
	assert_int_equal(store_symbol_put(fx->st, SYM, "4h", &s, &fx->err), 0);
}

/* Plans SYM (symbol index 0); returns what the planner reported. */
static struct plan_symbol_info plan(struct fixture *fx)
{
	struct plan_symbol_info info;
	struct store_symbol state;
	sync_plan_release(&fx->plan);
	assert_int_equal(sync_plan_symbol(fx->st, &fx->cfg, &fx->pc, SYM, 0, &state, &fx->plan,
					  &info, &fx->err),
			 0);
	assert_int_equal(info.nwindows, fx->plan.n);
	return info;
}

/* Window i is first..last (candle indexes from T0) for the given reason. */
static void want(const struct fixture *fx, size_t i, int64_t first, int64_t last,
		 enum plan_reason why)
{
	assert_true(i < fx->plan.n);
	assert_int_equal(fx->plan.w[i].sym, 0);
	assert_string_equal(sync_plan_reason_name(fx->plan.w[i].reason),
			    sync_plan_reason_name(why));
	assert_int_equal((fx->plan.w[i].first - T0) / H4, first);
	assert_int_equal((fx->plan.w[i].first - T0) % H4, 0);
	assert_int_equal((fx->plan.w[i].last - T0) / H4, last);
	assert_int_equal((fx->plan.w[i].last - T0) % H4, 0);
}

/* The newest closed candle: the candle still open at the exchange's time never is. */
static void test_last_closed_excludes_open_candle(void **state)
{
	(void)state;
	/* at T0 + 5*H4 exactly, candle 4 (closing at T0 + 5*H4 - 1) is closed */
	assert_int_equal(sync_plan_last_closed(T0 + 5 * H4, H4), T0 + 4 * H4);
	/* a millisecond earlier it is not */
	assert_int_equal(sync_plan_last_closed(T0 + 5 * H4 - 1, H4), T0 + 3 * H4);
	/* during candle 5 it is still 4 */
	assert_int_equal(sync_plan_last_closed(T0 + 5 * H4 + 3600000, H4), T0 + 4 * H4);
}

/* An empty store and a fresh symbol: the whole history of history_days, recorded as
 * the symbol's history start; the candle still open is not asked for. */
static void test_empty_store_fresh_symbol(void **state)
{
	struct fixture *fx = *state;
	struct plan_symbol_info info;
	struct store_symbol s;

	fx->cfg.history_days = 2;             /* 12 candles of 4h */
	clock_at(fx, T0 + 2 * DAY + 3600000); /* candle 12 is open */
	info = plan(fx);
	assert_int_equal(fx->plan.n, 1);
	/* align_up(now - 2 days) = T0 + 1*H4 (now - 2 days = T0 + 1h) */
	want(fx, 0, 1, 11, PLAN_HISTORY);
	assert_int_equal(info.wanted, T0 + H4);
	assert_int_equal(info.newest_open, 0);
	assert_int_equal(store_symbol_get(fx->st, SYM, "4h", &s, &fx->err), 0);
	assert_int_equal(s.history_start, T0 + H4);
	assert_int_equal(s.first_open, 0);
}

/* A listing start after the wanted start: nothing before it is requested, neither for
 * an empty store nor as a lead before the oldest stored candle. */
static void test_listing_start(void **state)
{
	struct fixture *fx = *state;

	clock_at(fx, T0 + 20 * H4);
	set_symbol(fx, T0, T0 + 6 * H4);
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 6, 19, PLAN_HISTORY);

	/* stored from candle 8 on: the lead starts at the listing, not at history_start */
	put_range(fx, 8, 19, NULL, 0);
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 6, 7, PLAN_LEAD);
}

/* A listing start equal to the oldest stored candle: no lead at all. */
static void test_listing_start_is_oldest_candle(void **state)
{
	struct fixture *fx = *state;

	clock_at(fx, T0 + 21 * H4);
	set_symbol(fx, T0, T0 + 8 * H4);
	put_range(fx, 8, 19, NULL, 0);
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 20, 20, PLAN_TAIL);
}

/* Gaps in the middle, in time order, then the tail after the newest stored candle. */
static void test_gaps_then_tail(void **state)
{
	struct fixture *fx = *state;
	const int skip[] = {3, 4, 7};

	clock_at(fx, T0 + 13 * H4 + 60000); /* candle 13 open: 12 is the last closed */
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 9, skip, 3);
	plan(fx);
	assert_int_equal(fx->plan.n, 3);
	want(fx, 0, 3, 4, PLAN_GAP);
	want(fx, 1, 7, 7, PLAN_GAP);
	want(fx, 2, 10, 12, PLAN_TAIL);
}

/* A confirmed exchange hole is not requested again; a suspected one still is. */
static void test_confirmed_hole_not_requested(void **state)
{
	struct fixture *fx = *state;
	const int skip[] = {3, 4, 7};
	struct store_hole h;

	clock_at(fx, T0 + 10 * H4);
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 9, skip, 3);
	memset(&h, 0, sizeof(h));
	h.first = T0 + 3 * H4;
	h.last = T0 + 4 * H4;
	h.first_seen = h.first_seen_exchange = T0 + 5 * DAY;
	h.runs = 2;
	h.second_seen = h.confirmed_at = T0 + 6 * DAY;
	assert_int_equal(store_hole_put(fx->st, SYM, "4h", &h, &fx->err), 0);
	memset(&h, 0, sizeof(h));
	h.first = h.last = T0 + 7 * H4;
	h.first_seen = h.first_seen_exchange = T0 + 5 * DAY;
	h.runs = 1;
	assert_int_equal(store_hole_put(fx->st, SYM, "4h", &h, &fx->err), 0);
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 7, 7, PLAN_GAP);
}

/* Nothing new closed since the newest stored candle: nothing requested. */
static void test_up_to_date(void **state)
{
	struct fixture *fx = *state;
	struct plan_symbol_info info;

	clock_at(fx, T0 + 10 * H4 + H4 - 1); /* candle 10 still open */
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 9, NULL, 0);
	info = plan(fx);
	assert_int_equal(fx->plan.n, 0);
	assert_int_equal(info.newest_open, T0 + 9 * H4);
}

/* verify_recent and lookback re-fetch the newest closed candles every run (the larger
 * of the two), never before the wanted history start. */
static void test_tail_reverifies_recent(void **state)
{
	struct fixture *fx = *state;

	clock_at(fx, T0 + 12 * H4);
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 9, NULL, 0);
	fx->cfg.verify_recent = 4;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 8, 11, PLAN_TAIL);
	fx->cfg.lookback = 6;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 6, 11, PLAN_TAIL);
	fx->cfg.lookback = 100; /* longer than the history: from the history start */
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 0, 11, PLAN_TAIL);
}

/* gap_repair = 0 (the older design): only the last `lookback` closed candles, or only
 * what follows the newest stored candle; gaps are left alone. */
static void test_no_gap_repair_lookback(void **state)
{
	struct fixture *fx = *state;
	const int skip[] = {3};

	clock_at(fx, T0 + 12 * H4);
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 9, skip, 1);
	fx->cfg.gap_repair = 0;
	fx->cfg.lookback = 5;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 7, 11, PLAN_LOOKBACK);
	fx->cfg.lookback = 0;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 10, 11, PLAN_TAIL);
}

/* backfill --since: the history start moves back (aligned up to a candle), and the
 * lead before the oldest stored candle is requested first. */
static void test_since_widens_history(void **state)
{
	struct fixture *fx = *state;
	struct store_symbol s;
	struct plan_symbol_info info;

	clock_at(fx, T0 + 30 * H4);
	set_symbol(fx, T0 + 10 * H4, 0);
	put_range(fx, 10, 29, NULL, 0);
	fx->pc.since_ms = T0 + 4 * H4 - 1000; /* inside candle 3: from candle 4 */
	info = plan(fx);
	assert_int_equal(info.wanted, T0 + 4 * H4);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 4, 9, PLAN_LEAD);
	assert_int_equal(store_symbol_get(fx->st, SYM, "4h", &s, &fx->err), 0);
	assert_int_equal(s.history_start, T0 + 4 * H4);
}

/* The rolling re-verification: the first run only starts the schedule; a run a whole
 * verify_every later re-verifies the whole window, half of it re-verifies half, and
 * the slice is clipped to the stored span and to before the tail. */
static void test_reverification_window(void **state)
{
	struct fixture *fx = *state;
	int64_t now = T0 + 3 * DAY; /* candle 18 is open, 17 the last closed */

	fx->cfg.verify_days = 2;   /* candles 6..17 */
	fx->cfg.verify_recent = 2; /* 16..17 re-fetched every run: window 6..15 */
	fx->cfg.verify_every_s = 86400;
	clock_at(fx, now);
	sync_plan_verify(fx->st, &fx->cfg, &fx->pc);
	assert_true(fx->pc.verify_last < fx->pc.verify_first); /* first run: none */

	clock_at(fx, now); /* a run half a verify_every later: 5 of the 10 candles */
	fx->pc.server_now = now + DAY / 2;
	sync_plan_verify(fx->st, &fx->cfg, &fx->pc);
	assert_int_equal(fx->pc.verify_first, T0 + 6 * H4);
	assert_int_equal(fx->pc.verify_last, T0 + 10 * H4);

	/* the next slice continues at the cursor */
	fx->pc.server_now = now + DAY / 2 + DAY / 5; /* a fifth: 2 candles */
	sync_plan_verify(fx->st, &fx->cfg, &fx->pc);
	assert_int_equal(fx->pc.verify_first, T0 + 11 * H4);
	assert_int_equal(fx->pc.verify_last, T0 + 12 * H4);

	/* stored from candle 12 on: the slice is clipped to the span; the tail first */
	set_symbol(fx, T0 + 12 * H4, 0);
	put_range(fx, 12, 17, NULL, 0);
	fx->pc.server_now = now; /* wanted and the tail do not move with server_now */
	plan(fx);
	assert_int_equal(fx->plan.n, 1); /* the slice and the tail fit one request */
	want(fx, 0, 12, 17, PLAN_TAIL);
	fx->cfg.page_limit = 5; /* they do not fit one page of 5: two requests */
	plan(fx);
	assert_int_equal(fx->plan.n, 2);
	want(fx, 0, 16, 17, PLAN_TAIL);
	want(fx, 1, 12, 12, PLAN_VERIFY);
	fx->cfg.page_limit = 0;

	/* a whole verify_every later: the whole window, from its start again */
	fx->pc.server_now = now + 3 * DAY;
	clock_at(fx, now + 3 * DAY);
	sync_plan_verify(fx->st, &fx->cfg, &fx->pc);
	/* last closed 35; window (35 - 12 + 1) .. 35 - 2 = 24..33 */
	assert_int_equal(fx->pc.verify_first, T0 + 24 * H4);
	assert_int_equal(fx->pc.verify_last, T0 + 33 * H4);
}

/* Lead, gaps, tail and verify together, in that order; the verify slice is clipped to
 * the stored span and ends before the tail. */
static void test_request_order(void **state)
{
	struct fixture *fx = *state;
	const int skip[] = {12};

	clock_at(fx, T0 + 20 * H4);
	set_symbol(fx, T0 + 2 * H4, 0);
	put_range(fx, 5, 15, skip, 1);
	fx->pc.verify_first = T0 + 3 * H4;
	fx->pc.verify_last = T0 + 8 * H4;
	fx->cfg.page_limit = 10; /* 5..19 is more than a page: nothing merged */
	plan(fx);
	assert_int_equal(fx->plan.n, 4);
	want(fx, 0, 2, 4, PLAN_LEAD);
	want(fx, 1, 12, 12, PLAN_GAP);
	want(fx, 2, 16, 19, PLAN_TAIL);
	want(fx, 3, 5, 8, PLAN_VERIFY);
	/* a slice reaching into the tail stops before it (no candle asked twice) */
	fx->pc.verify_last = T0 + 18 * H4;
	plan(fx);
	assert_int_equal(fx->plan.n, 4);
	want(fx, 2, 16, 19, PLAN_TAIL);
	want(fx, 3, 5, 15, PLAN_VERIFY);
}

/* The re-verification slice and the tail become one request when the span from the
 * slice to the newest closed candle fits one page (page_limit, else 499) and weighs no
 * more than the separate requests; gaps inside the span are folded in, a gap reaching
 * out of it keeps the windows apart. */
static void test_verify_merged_with_tail(void **state)
{
	struct fixture *fx = *state;
	const int skip[] = {12};

	clock_at(fx, T0 + 20 * H4);
	set_symbol(fx, T0 + 2 * H4, 0);
	put_range(fx, 2, 15, skip, 1);
	fx->pc.verify_first = T0 + 5 * H4;
	fx->pc.verify_last = T0 + 8 * H4;
	plan(fx); /* gap 12, tail 16..19 and verify 5..8: one request 5..19 */
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 5, 19, PLAN_TAIL);
	/* the gap before the slice stays its own request */
	fx->pc.verify_first = T0 + 13 * H4;
	fx->pc.verify_last = T0 + 14 * H4;
	plan(fx);
	assert_int_equal(fx->plan.n, 2);
	want(fx, 0, 12, 12, PLAN_GAP);
	want(fx, 1, 13, 19, PLAN_TAIL);
	/* a page of 15 holds 5..19 exactly; of 14 it does not */
	fx->pc.verify_first = T0 + 5 * H4;
	fx->pc.verify_last = T0 + 8 * H4;
	fx->cfg.page_limit = 15;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 5, 19, PLAN_TAIL);
	fx->cfg.page_limit = 14;
	plan(fx);
	assert_int_equal(fx->plan.n, 3);
	want(fx, 0, 12, 12, PLAN_GAP);
	want(fx, 1, 16, 19, PLAN_TAIL);
	want(fx, 2, 5, 8, PLAN_VERIFY);
}

/* A merged request that would weigh more than the two apart is not made: with pages of
 * 1000, 600 candles (weight 5) instead of 2 + 2 candles (weight 1 + 1). */
static void test_verify_merge_keeps_weight(void **state)
{
	struct fixture *fx = *state;

	clock_at(fx, T0 + 602 * H4);
	set_symbol(fx, T0, 0);
	put_range(fx, 0, 599, NULL, 0);
	fx->cfg.page_limit = 1000;
	fx->pc.verify_first = T0 + 1 * H4;
	fx->pc.verify_last = T0 + 2 * H4;
	plan(fx);
	assert_int_equal(fx->plan.n, 2);
	want(fx, 0, 600, 601, PLAN_TAIL);
	want(fx, 1, 1, 2, PLAN_VERIFY);
	/* 99 candles weigh 1: one request */
	fx->pc.verify_first = T0 + 503 * H4;
	fx->pc.verify_last = T0 + 504 * H4;
	plan(fx);
	assert_int_equal(fx->plan.n, 1);
	want(fx, 0, 503, 601, PLAN_TAIL);
}

/* Pages: 1500 candles a request at most; automatic page size 1500 while the plan fits
 * the weight budget, else 499; a configured page_limit wins. */
static void test_page_limits(void **state)
{
	struct sync_plan p = {0};
	struct plan_window w = {0, T0, T0 + 3999 * H4, PLAN_HISTORY};
	int64_t first = w.first, end, n, sizes[4] = {0};
	int k = 0;

	(void)state;
	while (first <= w.last) {
		n = sync_plan_page(first, w.last, H4, BINANCE_LIMIT_MAX, &end);
		assert_true(k < 4);
		sizes[k++] = n;
		assert_int_equal(end, first + (n - 1) * H4);
		first = end + H4;
	}
	assert_int_equal(k, 3);
	assert_int_equal(sizes[0], 1500);
	assert_int_equal(sizes[1], 1500);
	assert_int_equal(sizes[2], 1000);
	assert_int_equal(first, w.last + H4);

	p.w = &w;
	p.n = 1;
	/* 1500 + 1500 + 1000 candles: weights 10 + 10 + 5 */
	assert_int_equal(sync_plan_weight(&p, H4, BINANCE_LIMIT_MAX), 25);
	assert_int_equal(sync_plan_page_size(&p, H4, 0, 25), BINANCE_LIMIT_MAX);
	assert_int_equal(sync_plan_page_size(&p, H4, 0, 24), 499);
	assert_int_equal(sync_plan_page_size(&p, H4, 200, 1000), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_closed_excludes_open_candle),
		cmocka_unit_test_setup_teardown(test_empty_store_fresh_symbol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_start_is_oldest_candle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gaps_then_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirmed_hole_not_requested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_to_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_reverifies_recent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gap_repair_lookback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_widens_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverification_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_merged_with_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_merge_keeps_weight, setup, teardown),
		cmocka_unit_test(test_page_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
