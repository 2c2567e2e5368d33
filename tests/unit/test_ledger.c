/* test_ledger.c — the coverage ledger (store_ledger.c): after a few hundred random
 * writes (pages with holes inside them, out of order, repeated, revised; holes
 * suspected, confirmed, re-checked; candles deleted by hand) of three symbols and two intervals,
 * with a fixed seed, the ledger equals its rebuild from the candles (store_ledger_verify finds
 * nothing) and the gaps, runs and counts it answers equal a candle-by-candle model;
 * a ledger row changed by hand is found, listed and put right; a database of schema 3
 * is upgraded with its ledger filled at once, nothing lost; a migration that fails
 * leaves the file as it was. Each test works in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_metrics.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 14400000LL
#define H1 3600000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */
#define SLOTS 200          /* open times per symbol and interval in the model */

static const char *const syms[] = {"AAAUSDT", "BBBUSDT", "CCCUSDT"};
static const char *const ivs[] = {"4h", "1h"};
static const int64_t ivms[] = {H4, H1};

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
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-ledger");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
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

static uint64_t seed = 0x5eed1edcaf3ULL;
static uint32_t rnd(uint32_t n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(seed >> 33) % n;
}

static void candle(struct kline *k, int64_t t, int64_t iv, int version)
{
	memset(k, 0, sizeof(*k));
	k->open_time = t;
	k->close_time = t + iv - 1;
	snprintf(k->open, sizeof(k->open), "100.0");
	snprintf(k->high, sizeof(k->high), "200.0");
	snprintf(k->low, sizeof(k->low), "50.0");
	snprintf(k->close, sizeof(k->close), "%d.5", 100 + version);
	snprintf(k->volume, sizeof(k->volume), "12.5");
	snprintf(k->quote_volume, sizeof(k->quote_volume), "1.0");
	k->trades = 42;
}

static void assert_ledger_clean(struct fixture *fx, const char *iv, int64_t ms)
{
	struct store_ledger_diff *d = NULL;
	size_t n = 99;

	assert_int_equal(store_ledger_verify(fx->st, iv, ms, &d, &n, &fx->err), 0);
	if (n)
		print_error("%s: %s %" PRId64 "..%" PRId64 " in_ledger=%d hole=%d\n", iv,
			    d[0].symbol, d[0].first, d[0].last, d[0].in_ledger, d[0].hole);
	assert_int_equal(n, 0);
	free(d);
}

/* The stored slots of the model against what the ledger answers: the span and count,
 * the runs, and the missing gaps between the first and last candle. */
static void assert_answers(struct fixture *fx, int s, int v, const unsigned char *have)
{
	struct store_span sp;
	struct store_range *r = NULL;
	struct store_gap *g = NULL;
	size_t nr = 0, ng = 0, i, ri = 0;
	int64_t count = 0, first = -1, last = -1, missing = 0;

	for (i = 0; i < SLOTS; i++)
		if (have[i]) {
			count++;
			if (first < 0)
				first = (int64_t)i;
			last = (int64_t)i;
		}
	assert_int_equal(store_span(fx->st, syms[s], ivs[v], 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, count);
	if (count) {
		assert_int_equal(sp.first_open, T0 + first * ivms[v]);
		assert_int_equal(sp.last_open, T0 + last * ivms[v]);
	}
	assert_int_equal(store_covered(fx->st, syms[s], ivs[v], ivms[v], &r, &nr, &fx->err), 0);
	for (i = 0; i < SLOTS; i++) {
		size_t j = i;
		if (!have[i])
			continue;
		while (j + 1 < SLOTS && have[j + 1])
			j++;
		assert_true(ri < nr);
		assert_int_equal(r[ri].first, T0 + (int64_t)i * ivms[v]);
		assert_int_equal(r[ri].last, T0 + (int64_t)j * ivms[v]);
		assert_int_equal(r[ri].count, (int64_t)(j - i + 1));
		ri++;
		i = j;
	}
	assert_int_equal(ri, nr);
	free(r);
	/* every piece of a gap (missing or a confirmed hole) is a slot without a candle */
	assert_int_equal(
		store_gaps(fx->st, syms[s], ivs[v], ivms[v], 0, INT64_MAX, 1, &g, &ng, &fx->err),
		0);
	for (i = 0; i < ng; i++) {
		for (int64_t t = g[i].first; t <= g[i].last; t += ivms[v])
			assert_false(have[(t - T0) / ivms[v]]);
		missing += g[i].count;
	}
	if (count)
		assert_int_equal(missing, (last - first + 1) - count);
	free(g);
}

static void exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		print_error("%s: %s\n", sql, msg ? msg : "?");
	assert_null(msg);
	sqlite3_close(db);
}

/* store_metrics_series (from the ledger) against the same figures grouped from the
 * candles themselves. */
static void assert_series(struct fixture *fx)
{
	struct store_metrics_series *v = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	size_t n = 0, i = 0;
	int rc;

	assert_int_equal(store_metrics_series(fx->st, &v, &n, &fx->err), 0);
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT market, symbol, interval, count(*),"
					    " max(open_time), close_time FROM candles"
					    " GROUP BY market, symbol, interval"
					    " ORDER BY market, symbol, interval",
					    -1, &q, NULL),
			 SQLITE_OK);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		assert_true(i < n);
		assert_string_equal(v[i].market, (const char *)sqlite3_column_text(q, 0));
		assert_string_equal(v[i].symbol, (const char *)sqlite3_column_text(q, 1));
		assert_string_equal(v[i].interval, (const char *)sqlite3_column_text(q, 2));
		assert_int_equal(v[i].count, sqlite3_column_int64(q, 3));
		assert_int_equal(v[i].newest_open, sqlite3_column_int64(q, 4));
		assert_int_equal(v[i].newest_close, sqlite3_column_int64(q, 5));
		i++;
	}
	assert_int_equal(rc, SQLITE_DONE);
	assert_int_equal(i, n);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(v);
}

static void test_random_writes(void **state)
{
	struct fixture *fx = *state;
	static unsigned char have[3][2][SLOTS];
	struct kline k[64];
	int op;

	memset(have, 0, sizeof(have));
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	for (op = 0; op < 400; op++) {
		int s = (int)rnd(3), v = (int)rnd(2), what = (int)rnd(10);
		int64_t iv = ivms[v];
		if (what < 7) { /* a page: a range, some candles left out, maybe shuffled */
			int a = (int)rnd(SLOTS), len = 1 + (int)rnd(40), skip = (int)rnd(4);
			size_t n = 0;
			for (int i = a; i < a + len && i < SLOTS; i++) {
				if (skip && rnd(8) == 0)
					continue;
				candle(&k[n++], T0 + i * iv, iv, (int)rnd(3));
				have[s][v][i] = 1;
			}
			if (n > 1 && rnd(4) == 0)
				for (size_t i = n - 1; i > 0; i--) {
					struct kline t = k[i];
					size_t j = rnd((uint32_t)i + 1);
					k[i] = k[j];
					k[j] = t;
				}
			if (n > 1 && rnd(6) == 0) {
				k[n] = k[0]; /* a repeat inside the page */
				n++;
			}
			assert_int_equal(
				store_put_page(fx->st, syms[s], ivs[v], k, n, NULL, &fx->err), 0);
		} else if (what < 9) { /* a hole, suspected or confirmed */
			int a = (int)rnd(SLOTS), len = 1 + (int)rnd(6);
			struct store_hole h = {.first = T0 + a * iv,
					       .last = T0 + (a + len - 1) * iv,
					       .first_seen = 1,
					       .runs = 1,
					       .confirmed_at = rnd(2) ? 5 : 0};
			assert_int_equal(store_hole_put(fx->st, syms[s], ivs[v], &h, &fx->err), 0);
			if (rnd(2))
				assert_int_equal(
					store_holes_prune(fx->st, syms[s], ivs[v], &fx->err), 0);
		} else if (rnd(2)) { /* candles deleted by hand (another connection) */
			int a = (int)rnd(SLOTS), len = 1 + (int)rnd(5);
			char sql[256];
			snprintf(sql, sizeof(sql),
				 "DELETE FROM candles WHERE symbol = '%s' AND interval = '%s'"
				 " AND open_time BETWEEN %" PRId64 " AND %" PRId64,
				 syms[s], ivs[v], (int64_t)(T0 + a * iv),
				 (int64_t)(T0 + (a + len - 1) * iv));
			exec(fx->path, sql);
			for (int i = a; i < a + len && i < SLOTS; i++)
				have[s][v][i] = 0;
		} else if (rnd(4) == 0) { /* gaps --recheck */
			int64_t nh = 0;
			assert_int_equal(store_holes_recheck(fx->st, ivs[v], &nh, &fx->err), 0);
		}
		if (op % 50 == 49)
			for (v = 0; v < 2; v++) {
				int64_t total = -1, model = 0, counted = -1;
				assert_ledger_clean(fx, ivs[v], ivms[v]);
				for (s = 0; s < 3; s++) {
					assert_answers(fx, s, v, have[s][v]);
					for (int i = 0; i < SLOTS; i++)
						model += have[s][v][i];
				}
				/* the sync's recorded total (health's data-loss baseline) */
				assert_int_equal(
					store_candle_total(fx->st, ivs[v], &total, &fx->err), 0);
				assert_int_equal(
					store_count(fx->st, ivs[v], 0, &counted, NULL, &fx->err),
					0);
				assert_int_equal(total, model);
				assert_int_equal(total, counted);
				if (v == 1)
					assert_series(fx);
			}
	}
}

static int64_t int_of(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Candles 0-9, 12-19 of AAAUSDT 4h and a confirmed hole 10-11 */
static void fill_small(struct fixture *fx)
{
	struct kline k[20];
	struct store_hole h = {.first = T0 + 10 * H4,
			       .last = T0 + 11 * H4,
			       .first_seen = 1,
			       .second_seen = 2,
			       .runs = 2,
			       .confirmed_at = 2};
	size_t n = 0;

	for (int i = 0; i < 20; i++)
		if (i != 10 && i != 11)
			candle(&k[n++], T0 + i * H4, H4, 0);
	assert_int_equal(store_put_page(fx->st, "AAAUSDT", "4h", k, n, NULL, &fx->err), 0);
	assert_int_equal(store_hole_put(fx->st, "AAAUSDT", "4h", &h, &fx->err), 0);
}

static void test_verify_repairs(void **state)
{
	struct fixture *fx = *state;
	struct store_ledger_diff *d = NULL;
	size_t n = 0;

	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	fill_small(fx);
	assert_ledger_clean(fx, "4h", H4);
	store_close(fx->st);
	fx->st = NULL;
	/* the ledger says 0-15 were stored in one run: wrong (10-11 are a hole) */
	exec(fx->path, "UPDATE coverage SET last_open = 1700006400000 + 15 * 14400000,"
		       " candles = 16 WHERE kind = 'stored' AND first_open = 1700006400000");
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(store_ledger_verify(fx->st, "4h", H4, &d, &n, &fx->err), 0);
	assert_int_equal(n, 2); /* the wrong row, and the row the candles say */
	assert_string_equal(d[0].symbol, "AAAUSDT");
	assert_int_equal(d[0].first, T0);
	assert_true(d[0].in_ledger != d[1].in_ledger);
	free(d);
	assert_ledger_clean(fx, "4h", H4);
}

/* A file of schema 3 (this schema without the coverage table), upgraded at open:
 * candles and holes kept, the ledger filled from them. */
static void test_migration_from_v3(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;

	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	fill_small(fx);
	store_close(fx->st);
	fx->st = NULL;
	exec(fx->path, "DROP TRIGGER coverage_candle_deleted; DROP TABLE coverage;"
		       " PRAGMA user_version = 3");
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM candles"), 18);
	/* read-only: not migrated, answers from the candles */
	assert_int_equal(store_open(&fx->st, fx->path, STORE_RDONLY, &fx->err), 0);
	assert_int_equal(store_gaps(fx->st, "AAAUSDT", "4h", H4, 0, INT64_MAX, 1, &g, &n, &fx->err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].confirmed, 1);
	free(g);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(int_of(fx->path, "PRAGMA user_version"), 3);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(int_of(fx->path, "PRAGMA user_version"), 6);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM candles"), 18);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM holes WHERE confirmed_at > 0"), 1);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM coverage"), 3);
	assert_ledger_clean(fx, "4h", H4);
	assert_int_equal(store_gaps(fx->st, "AAAUSDT", "4h", H4, 0, INT64_MAX, 1, &g, &n, &fx->err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].first, T0 + 10 * H4);
	assert_int_equal(g[0].confirmed, 1);
	free(g);
}

/* A migration that fails (a view named coverage stands in the way of the ledger)
 * leaves the file of schema 3 as it was. */
static void test_failed_migration_intact(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	fill_small(fx);
	store_close(fx->st);
	fx->st = NULL;
	exec(fx->path, "DROP TRIGGER coverage_candle_deleted; DROP TABLE coverage;"
		       " CREATE VIEW coverage AS SELECT 1 AS x;"
		       " PRAGMA user_version = 3");
	assert_int_not_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_non_null(strstr(fx->err.msg, "coverage ledger"));
	fx->st = NULL;
	assert_int_equal(int_of(fx->path, "PRAGMA user_version"), 3);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM candles"), 18);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM holes"), 1);
	assert_int_equal(int_of(fx->path, "SELECT count(*) FROM sqlite_master WHERE"
					  " name = 'coverage' AND type = 'view'"),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_repairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_intact, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
