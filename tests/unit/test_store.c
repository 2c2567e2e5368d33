/* test_store.c — the store's candle logic: the page upsert and its written / unchanged /
 * revised counts (a revision only when a value differs; the whole page or nothing),
 * spans, the one-query gap finder (several gaps, several symbols, intervals kept apart),
 * confirmed exchange holes (left out of what sync fetches, listed when asked, partial
 * overlaps split a gap), per-symbol state, key/value state and run records. Each test
 * uses a fresh database in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_int.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 14400000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct ck_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-store");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void mk(struct kline *k, int64_t open, const char *close)
{
	memset(k, 0, sizeof(*k));
	k->open_time = open;
	k->close_time = open + H4 - 1;
	snprintf(k->open, sizeof(k->open), "100.0");
	snprintf(k->high, sizeof(k->high), "200.0");
	snprintf(k->low, sizeof(k->low), "50.0");
	snprintf(k->close, sizeof(k->close), "%s", close);
	snprintf(k->volume, sizeof(k->volume), "12.5");
	snprintf(k->quote_volume, sizeof(k->quote_volume), "1202496112.66219035");
	k->trades = 42;
	snprintf(k->taker_buy_base, sizeof(k->taker_buy_base), "1.0");
	snprintf(k->taker_buy_quote, sizeof(k->taker_buy_quote), "2.0");
}

/* Stores candles at T0 + i*H4 for each i in idx[]. */
static void put(struct fixture *fx, const char *sym, const int *idx, size_t n,
		struct store_page_result *pr)
{
	struct kline *k = calloc(n, sizeof(*k));
	size_t i;
	assert_non_null(k);
	for (i = 0; i < n; i++)
		mk(&k[i], T0 + idx[i] * H4, "150.0");
	assert_int_equal(store_put_page(fx->st, sym, "4h", k, n, pr, &fx->err), 0);
	free(k);
}

static void put_range(struct fixture *fx, const char *sym, int from, int to)
{
	int idx[512], n = 0, i;
	struct store_page_result pr;
	for (i = from; i <= to; i++)
		idx[n++] = i;
	put(fx, sym, idx, (size_t)n, &pr);
}

static int gaps(struct fixture *fx, const char *sym, int confirmed, struct store_gap **g, size_t *n)
{
	return store_gaps(fx->st, sym, "4h", H4, 0, INT64_MAX, confirmed, g, n, &fx->err);
}

static void test_upsert_counts(void **state)
{
	struct fixture *fx = *state;
	struct store_page_result pr;
	struct kline k[3];
	int64_t count = 0;

	mk(&k[0], T0, "150.0");
	mk(&k[1], T0 + H4, "151.0");
	mk(&k[2], T0 + 2 * H4, "152.0");
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "4h", k, 3, &pr, &fx->err), 0);
	assert_int_equal(pr.written, 3);
	assert_int_equal(pr.revised, 0);
	assert_int_equal(pr.same, 0);
	/* The same page again: nothing written, nothing revised. */
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "4h", k, 3, &pr, &fx->err), 0);
	assert_int_equal(pr.written, 0);
	assert_int_equal(pr.revised, 0);
	assert_int_equal(pr.same, 3);
	/* One value differs (only in its decimal string: "151.00" != "151.0"): a revision. */
	snprintf(k[1].close, sizeof(k[1].close), "151.00");
	mk(&k[2], T0 + 3 * H4, "153.0"); /* and a new one */
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "4h", k, 3, &pr, &fx->err), 0);
	assert_int_equal(pr.written, 1);
	assert_int_equal(pr.revised, 1);
	assert_int_equal(pr.same, 1);
	/* Every column takes part in the comparison, including the taker columns. */
	snprintf(k[0].taker_buy_quote, sizeof(k[0].taker_buy_quote), "2.5");
	k[1].trades = 43;
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "4h", k, 2, &pr, &fx->err), 0);
	assert_int_equal(pr.revised, 2);
	assert_int_equal(store_count(fx->st, "4h", 0, &count, NULL, &fx->err), 0);
	assert_int_equal(count, 4);
}

static int collect(const struct kline *k, void *arg)
{
	struct kline *out = arg;
	size_t i = 0;
	while (out[i].open_time)
		i++;
	out[i] = *k;
	return 0;
}

static void test_values_kept_exactly(void **state)
{
	struct fixture *fx = *state;
	struct store_page_result pr;
	struct kline k, got[4];

	mk(&k, T0, "0.00001234000");
	assert_int_equal(store_put_page(fx->st, "PEPEUSDT", "4h", &k, 1, &pr, &fx->err), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(
		store_each_candle(fx->st, "PEPEUSDT", "4h", 0, INT64_MAX, collect, got, &fx->err),
		0);
	assert_int_equal(got[0].open_time, T0);
	assert_int_equal(got[0].close_time, T0 + H4 - 1);
	assert_string_equal(got[0].close, "0.00001234000");
	assert_string_equal(got[0].quote_volume, "1202496112.66219035");
	assert_int_equal(got[0].trades, 42);
	assert_int_equal(got[1].open_time, 0);
}

static void test_page_is_atomic(void **state)
{
	struct fixture *fx = *state;
	struct store_page_result pr;
	struct store_span sp;
	struct kline k[2];
	int r;

	mk(&k[0], T0, "150.0");
	mk(&k[1], T0 + H4, "151.0");
	/* The same open time twice in one page: whatever the store says, it must not leave
	 * half a page behind. */
	k[1].open_time = T0;
	r = store_put_page(fx->st, "BTCUSDT", "4h", k, 2, &pr, &fx->err);
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	if (r == 0)
		assert_int_equal(sp.count, 1);
	else
		assert_int_equal(sp.count, 0);
}

/* store_prepare_cached: one compiled statement per text, handed out again only after
 * store_stmt_done reset it (bindings cleared, iteration restarted); a nested use and a
 * full cache get statements of their own, finalized when given back (LSan sees a leak
 * otherwise, and sq_close would leave the file open). */
static void test_stmt_cache(void **state)
{
	static const char *const q = "SELECT ?1 UNION ALL SELECT 2";
	static char many[40][32];
	struct fixture *fx = *state;
	sqlite3_stmt *a, *b, *c, *v[40];
	size_t i;

	assert_int_equal(store_prepare_cached(fx->st, &a, q, &fx->err), 0);
	sqlite3_bind_int(a, 1, 7);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(a, 0), 7);
	/* taken while handed out: another statement */
	assert_int_equal(store_prepare_cached(fx->st, &b, q, &fx->err), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
	store_stmt_done(fx->st, b);
	store_stmt_done(fx->st, a); /* mid-iteration */
	/* given back: the same one, from its first row, its binding gone */
	assert_int_equal(store_prepare_cached(fx->st, &c, q, &fx->err), 0);
	assert_ptr_equal(c, a);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(c, 0), SQLITE_NULL);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(c, 0), 2);
	store_stmt_done(fx->st, c);
	/* more texts than the cache holds: each still works */
	for (i = 0; i < 40; i++) {
		snprintf(many[i], sizeof(many[i]), "SELECT %zu", i);
		assert_int_equal(store_prepare_cached(fx->st, &v[i], many[i], &fx->err), 0);
		assert_int_equal(sqlite3_step(v[i]), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(v[i], 0), (int)i);
	}
	for (i = 0; i < 40; i++)
		store_stmt_done(fx->st, v[i]);
	store_stmt_done(fx->st, NULL);
	/* a bad text fails as store_prepare does, naming the file */
	assert_int_not_equal(store_prepare_cached(fx->st, &a, "SELEC nonsense", &fx->err), 0);
	assert_null(a);
	assert_non_null(strstr(fx->err.msg, "c.db"));
	/* the cached statements see what later writes store */
	put_range(fx, "BTCUSDT", 0, 2);
	struct store_span sp;
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 3);
	put_range(fx, "BTCUSDT", 3, 4);
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 5);
}

static void test_span(void **state)
{
	struct fixture *fx = *state;
	struct store_span sp;

	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 0);
	assert_int_equal(sp.first_open, 0);
	assert_int_equal(sp.last_open, 0);
	put_range(fx, "BTCUSDT", 3, 9);
	put_range(fx, "ETHUSDT", 0, 20);
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 7);
	assert_int_equal(sp.first_open, T0 + 3 * H4);
	assert_int_equal(sp.last_open, T0 + 9 * H4);
	/* Another interval is another series. */
	assert_int_equal(store_span(fx->st, "BTCUSDT", "1h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 0);
}

static void test_gaps_found(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;
	/* BTCUSDT: 0..4, 6..9 (gap 5), 20..22 (gap 10..19); ETHUSDT: 0..3, 5 (gap 4). */
	static const int btc[] = {0, 1, 2, 3, 4, 6, 7, 8, 9, 20, 21, 22};
	static const int eth[] = {0, 1, 2, 3, 5};
	struct store_page_result pr;

	put(fx, "BTCUSDT", btc, sizeof(btc) / sizeof(btc[0]), &pr);
	put(fx, "ETHUSDT", eth, sizeof(eth) / sizeof(eth[0]), &pr);
	put_range(fx, "SOLUSDT", 0, 30); /* no gap */
	assert_int_equal(gaps(fx, NULL, 0, &g, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(g[0].symbol, "BTCUSDT");
	assert_int_equal(g[0].first, T0 + 5 * H4);
	assert_int_equal(g[0].last, T0 + 5 * H4);
	assert_int_equal(g[0].count, 1);
	assert_int_equal(g[0].confirmed, 0);
	assert_string_equal(g[1].symbol, "BTCUSDT");
	assert_int_equal(g[1].first, T0 + 10 * H4);
	assert_int_equal(g[1].last, T0 + 19 * H4);
	assert_int_equal(g[1].count, 10);
	assert_string_equal(g[2].symbol, "ETHUSDT");
	assert_int_equal(g[2].first, T0 + 4 * H4);
	assert_int_equal(g[2].count, 1);
	free(g);
	/* One symbol only. */
	assert_int_equal(gaps(fx, "ETHUSDT", 0, &g, &n), 0);
	assert_int_equal(n, 1);
	free(g);
	assert_int_equal(gaps(fx, "SOLUSDT", 1, &g, &n), 0);
	assert_int_equal(n, 0);
	free(g);
	/* Filling a gap removes it. */
	put_range(fx, "BTCUSDT", 5, 5);
	assert_int_equal(gaps(fx, "BTCUSDT", 0, &g, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].first, T0 + 10 * H4);
	free(g);
}

static void test_gaps_other_interval_ignored(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;
	struct kline k;
	struct store_page_result pr;

	put_range(fx, "BTCUSDT", 0, 3);
	/* A 1h candle between 4h candles is not a 4h candle and does not hide a gap. */
	mk(&k, T0 + 5 * H4, "150.0");
	k.close_time = k.open_time + 3600000 - 1;
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "1h", &k, 1, &pr, &fx->err), 0);
	put_range(fx, "BTCUSDT", 8, 8);
	assert_int_equal(gaps(fx, "BTCUSDT", 0, &g, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].first, T0 + 4 * H4);
	assert_int_equal(g[0].last, T0 + 7 * H4);
	free(g);
}

/* store_covered: runs of consecutive candles per symbol, by symbol then time; other
 * intervals are not mixed in; one symbol asked reads only its own. */
static void test_covered_runs(void **state)
{
	struct fixture *fx = *state;
	struct store_range *r = NULL;
	size_t n = 0;
	static const int btc[] = {0, 1, 2, 3, 4, 6, 7, 8, 9, 20, 21, 22};
	struct store_page_result pr;
	struct kline k;

	put(fx, "BTCUSDT", btc, sizeof(btc) / sizeof(btc[0]), &pr);
	put_range(fx, "ETHUSDT", 0, 30);
	mk(&k, T0 + 5 * H4, "150.0"); /* a 1h candle in BTCUSDT's 4h gap */
	k.close_time = k.open_time + 3600000 - 1;
	assert_int_equal(store_put_page(fx->st, "BTCUSDT", "1h", &k, 1, &pr, &fx->err), 0);

	assert_int_equal(store_covered(fx->st, NULL, "4h", H4, &r, &n, &fx->err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(r[0].symbol, "BTCUSDT");
	assert_int_equal(r[0].first, T0);
	assert_int_equal(r[0].last, T0 + 4 * H4);
	assert_int_equal(r[0].count, 5);
	assert_int_equal(r[1].first, T0 + 6 * H4);
	assert_int_equal(r[1].last, T0 + 9 * H4);
	assert_int_equal(r[1].count, 4);
	assert_int_equal(r[2].first, T0 + 20 * H4);
	assert_int_equal(r[2].count, 3);
	assert_string_equal(r[3].symbol, "ETHUSDT");
	assert_int_equal(r[3].first, T0);
	assert_int_equal(r[3].last, T0 + 30 * H4);
	assert_int_equal(r[3].count, 31);
	free(r);

	assert_int_equal(store_covered(fx->st, "BTCUSDT", "4h", H4, &r, &n, &fx->err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[2].last, T0 + 22 * H4);
	free(r);
	assert_int_equal(store_covered(fx->st, "NOPEUSDT", "4h", H4, &r, &n, &fx->err), 0);
	assert_int_equal(n, 0);
	free(r);
}

/* A confirmed ledger row first..last (evidence: seen empty on two runs). */
static int put_hole(struct fixture *fx, const char *sym, int64_t first, int64_t last)
{
	struct store_hole h = {first, last, 1000, 1000, 1000 + 3600000, 2, 1000 + 3600000};
	return store_hole_put(fx->st, sym, "4h", &h, &fx->err);
}

static void test_holes_confirmed(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;
	static const int btc[] = {0, 1, 9, 10, 20, 30};
	struct store_page_result pr;

	put(fx, "BTCUSDT", btc, sizeof(btc) / sizeof(btc[0]), &pr);
	/* Gaps: 2..8, 11..19, 21..29. Confirm all of 2..8, the middle of 11..19 (13..15),
	 * and a hole reaching past the gap's end on 21..29 (25..40). */
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 2 * H4, T0 + 8 * H4), 0);
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 13 * H4, T0 + 15 * H4), 0);
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 25 * H4, T0 + 40 * H4), 0);
	/* A hole of another symbol changes nothing here. */
	assert_int_equal(put_hole(fx, "ETHUSDT", T0 + 11 * H4, T0 + 19 * H4), 0);

	/* What sync must fetch: 11..12, 16..19, 21..24. */
	assert_int_equal(gaps(fx, "BTCUSDT", 0, &g, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(g[0].first, T0 + 11 * H4);
	assert_int_equal(g[0].last, T0 + 12 * H4);
	assert_int_equal(g[0].count, 2);
	assert_int_equal(g[1].first, T0 + 16 * H4);
	assert_int_equal(g[1].last, T0 + 19 * H4);
	assert_int_equal(g[1].count, 4);
	assert_int_equal(g[2].first, T0 + 21 * H4);
	assert_int_equal(g[2].last, T0 + 24 * H4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g[i].confirmed, 0);
	free(g);

	/* Listed with holes: in time order, holes flagged and clipped to the gap. */
	assert_int_equal(gaps(fx, "BTCUSDT", 1, &g, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(g[0].first, T0 + 2 * H4);
	assert_int_equal(g[0].count, 7);
	assert_int_equal(g[0].confirmed, 1);
	assert_int_equal(g[1].first, T0 + 11 * H4);
	assert_int_equal(g[1].confirmed, 0);
	assert_int_equal(g[2].first, T0 + 13 * H4);
	assert_int_equal(g[2].last, T0 + 15 * H4);
	assert_int_equal(g[2].confirmed, 1);
	assert_int_equal(g[3].first, T0 + 16 * H4);
	assert_int_equal(g[3].confirmed, 0);
	assert_int_equal(g[4].first, T0 + 21 * H4);
	assert_int_equal(g[4].confirmed, 0);
	assert_int_equal(g[5].first, T0 + 25 * H4);
	assert_int_equal(g[5].last, T0 + 29 * H4);
	assert_int_equal(g[5].count, 5);
	assert_int_equal(g[5].confirmed, 1);
	for (size_t i = 1; i < n; i++)
		assert_true(g[i].first > g[i - 1].last);
	free(g);
}

static void test_hole_recorded_twice(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;
	static const int btc[] = {0, 10};
	struct store_page_result pr;

	put(fx, "BTCUSDT", btc, 2, &pr);
	/* Confirming the same hole again (each run that fetches across it) is harmless. */
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 1 * H4, T0 + 9 * H4), 0);
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 1 * H4, T0 + 9 * H4), 0);
	/* Overlapping confirmations do not produce overlapping or repeated entries. */
	assert_int_equal(put_hole(fx, "BTCUSDT", T0 + 3 * H4, T0 + 5 * H4), 0);
	assert_int_equal(gaps(fx, "BTCUSDT", 0, &g, &n), 0);
	assert_int_equal(n, 0);
	free(g);
	assert_int_equal(gaps(fx, "BTCUSDT", 1, &g, &n), 0);
	{
		int64_t total = 0;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(g[i].confirmed, 1);
			total += g[i].count;
			if (i)
				assert_true(g[i].first > g[i - 1].last);
		}
		assert_int_equal(total, 9);
	}
	free(g);
}

static void test_symbol_state(void **state)
{
	struct fixture *fx = *state;
	struct store_symbol s = {123, 456};

	assert_int_equal(store_symbol_get(fx->st, "BTCUSDT", "4h", &s, &fx->err), 0);
	assert_int_equal(s.history_start, 0);
	assert_int_equal(s.first_open, 0);
	s.history_start = T0;
	s.first_open = T0 + H4;
	assert_int_equal(store_symbol_put(fx->st, "BTCUSDT", "4h", &s, &fx->err), 0);
	s.history_start = T0 - H4;
	assert_int_equal(store_symbol_put(fx->st, "BTCUSDT", "4h", &s, &fx->err), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_symbol_get(fx->st, "BTCUSDT", "4h", &s, &fx->err), 0);
	assert_int_equal(s.history_start, T0 - H4);
	assert_int_equal(s.first_open, T0 + H4);
	assert_int_equal(store_symbol_get(fx->st, "BTCUSDT", "1h", &s, &fx->err), 0);
	assert_int_equal(s.history_start, 0);
}

static void test_kv_state(void **state)
{
	struct fixture *fx = *state;
	char buf[32];

	assert_int_equal(store_state_get(fx->st, "ban_until", buf, sizeof(buf), &fx->err),
			 CK_ENOTFOUND);
	assert_int_equal(store_state_set(fx->st, "ban_until", "1795619048199", &fx->err), 0);
	assert_int_equal(store_state_set(fx->st, "ban_until", "1795619099999", &fx->err), 0);
	assert_int_equal(store_state_get(fx->st, "ban_until", buf, sizeof(buf), &fx->err), 0);
	assert_string_equal(buf, "1795619099999");
	/* Survives a reopen (the next run sees the ban). */
	store_close(fx->st);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(store_state_get(fx->st, "ban_until", buf, sizeof(buf), &fx->err), 0);
	assert_string_equal(buf, "1795619099999");
}

static void test_runs(void **state)
{
	struct fixture *fx = *state;
	struct run_counts c;
	struct store_run *r = NULL;
	size_t n = 0;
	int64_t id1, id2;

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_run_begin(fx->st, "sync", "4h", T0, &id1, &fx->err), 0);
	assert_int_equal(store_run_symbol(fx->st, id1, "BTCUSDT", "ok", 5, 1, T0, NULL, &fx->err),
			 0);
	assert_int_equal(store_run_symbol(fx->st, id1, "ETHUSDT", "failed", 0, 0, 0,
					  "HTTP 503; gave up after 2 retries", &fx->err),
			 0);
	c.candles_written = 5;
	c.candles_revised = 1;
	c.requests = 9;
	c.http_429 = 2;
	c.symbols_ok = 1;
	c.symbols_failed = 1;
	assert_int_equal(store_run_end(fx->st, id1, RUN_PARTIAL, 1, T0 + 1000, &c,
				       "1 symbol failed", &fx->err),
			 0);
	/* A run that never ends (kill -9) stays "running". */
	assert_int_equal(store_run_begin(fx->st, "backfill", "4h", T0 + 2000, &id2, &fx->err), 0);
	assert_true(id2 > id1);
	assert_int_equal(store_runs(fx->st, NULL, 0, 10, &r, &n, &fx->err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].id, id2); /* newest first */
	assert_int_equal(r[0].status, RUN_RUNNING);
	assert_int_equal(r[0].ended, 0);
	assert_int_equal(r[1].status, RUN_PARTIAL);
	assert_int_equal(r[1].exit_code, 1);
	assert_int_equal(r[1].counts.candles_written, 5);
	assert_int_equal(r[1].counts.candles_revised, 1);
	assert_int_equal(r[1].counts.http_429, 2);
	assert_int_equal(r[1].ended, T0 + 1000);
	assert_string_equal(r[1].error, "1 symbol failed");
	free(r);
	assert_int_equal(store_runs(fx->st, "sync", 0, 10, &r, &n, &fx->err), 0);
	assert_int_equal(n, 1);
	free(r);
	assert_string_equal(run_status_name(RUN_TIMEOUT), "timeout");
	assert_string_equal(run_status_name(RUN_OK), "ok");
}

static void test_symbols_and_check(void **state)
{
	struct fixture *fx = *state;
	char **list = NULL, detail[128];
	size_t n = 0;
	int ok = 0;

	put_range(fx, "ETHUSDT", 0, 2);
	put_range(fx, "BTCUSDT", 0, 2);
	assert_int_equal(store_symbols(fx->st, "4h", &list, &n, &fx->err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0], "BTCUSDT");
	assert_string_equal(list[1], "ETHUSDT");
	store_symbols_free(list, n);
	assert_int_equal(store_check(fx->st, 1, 0, &ok, NULL, detail, sizeof(detail), &fx->err), 0);
	assert_int_equal(ok, 1);
}

static void test_readonly_open(void **state)
{
	struct fixture *fx = *state;
	struct store *ro = NULL;
	struct store_span sp;
	char missing[160];

	put_range(fx, "BTCUSDT", 0, 2);
	assert_int_equal(store_open(&ro, fx->path, STORE_RDONLY, &fx->err), 0);
	assert_int_equal(store_span(ro, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 3);
	store_close(ro);
	/* Read-only never creates a database. */
	snprintf(missing, sizeof(missing), "%s/none.db", fx->dir);
	assert_true(store_open(&ro, missing, STORE_RDONLY, &fx->err) < 0);
	assert_non_null(strstr(fx->err.msg, "none.db"));
	assert_int_equal(access(missing, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upsert_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_kept_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_other_interval_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_covered_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holes_confirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole_recorded_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symbol_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symbols_and_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
