/* test_store_ops.c — the storage interface: the SQLite backend sets every operation of
 * struct store_ops (the optional ones too), a missing optional operation is a clear
 * error and not a crash, a postgresql:// or postgres:// database is refused with a
 * usage error that names what to do (and masks a password), and each merged query (span,
 * gaps, count, check) answers both of its former questions on one fixture: with and
 * without a time range, with and without a count, with and without confirmed holes.
 * This test includes store_backend.h, which only src/store*.c include otherwise, to see
 * the operations table. Each test uses a fresh database in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_backend.h"
#include "store_health.h"
#include "banned.h"

#define H4 14400000LL
#define H1 3600000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */
#define AT(i) (T0 + (int64_t)(i)*H4)

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct ck_err err;
};

static void put(struct fixture *fx, const char *sym, const char *iv, int64_t step, int from, int to)
{
	struct kline k[32];
	size_t n = 0;

	for (int i = from; i <= to; i++, n++) {
		memset(&k[n], 0, sizeof(k[n]));
		k[n].open_time = T0 + i * step;
		k[n].close_time = k[n].open_time + step - 1;
		snprintf(k[n].open, sizeof(k[n].open), "100.0");
		snprintf(k[n].high, sizeof(k[n].high), "200.0");
		snprintf(k[n].low, sizeof(k[n].low), "50.0");
		snprintf(k[n].close, sizeof(k[n].close), "150.0");
		snprintf(k[n].volume, sizeof(k[n].volume), "12.5");
		snprintf(k[n].quote_volume, sizeof(k[n].quote_volume), "1.0");
		k[n].trades = 42;
	}
	assert_int_equal(store_put_page(fx->st, sym, iv, k, n, NULL, &fx->err), 0);
}

/* BTCUSDT 4h: candles 0-3, 6-9, 12-14 (missing 4-5; 10-11 a confirmed hole);
 * ETHUSDT 4h: 0-2, 5 (missing 3-4); BTCUSDT 1h: two candles. */
static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_hole h = {.first = AT(10),
			       .last = AT(11),
			       .first_seen = 111,
			       .second_seen = 222,
			       .runs = 2,
			       .confirmed_at = 222};

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ck-test-store-ops.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	put(fx, "BTCUSDT", "4h", H4, 0, 3);
	put(fx, "BTCUSDT", "4h", H4, 6, 9);
	put(fx, "BTCUSDT", "4h", H4, 12, 14);
	put(fx, "ETHUSDT", "4h", H4, 0, 2);
	put(fx, "ETHUSDT", "4h", H4, 5, 5);
	put(fx, "BTCUSDT", "1h", H1, 0, 1);
	assert_int_equal(store_hole_put(fx->st, "BTCUSDT", "4h", &h, &fx->err), 0);
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

/* Every member of the SQLite backend's table, by name; OPS_COUNTED must equal the
 * number of members, so that an operation added to struct store_ops and not here
 * fails the size check below. */
#define OP(m)                                                                                      \
	{                                                                                          \
#m, store_sqlite_ops.m != NULL                                                     \
	}
static void test_sqlite_sets_every_op(void **state)
{
	const struct {
		const char *name;
		int set;
	} ops[] = {
		OP(version),
		OP(open),
		OP(close),
		OP(tx_begin),
		OP(tx_commit),
		OP(tx_rollback),
		OP(put_page),
		OP(span),
		OP(gaps),
		OP(covered),
		OP(ledger_verify),
		OP(each_candle),
		OP(symbols),
		OP(count),
		OP(hole_candles),
		OP(hole_get),
		OP(hole_put),
		OP(holes_prune),
		OP(holes_recheck),
		OP(symbol_get),
		OP(symbol_put),
		OP(state_get),
		OP(state_set),
		OP(state_del),
		OP(run_begin),
		OP(run_abandon),
		OP(run_symbol),
		OP(run_end),
		OP(runs),
		OP(run_symbols),
		OP(all_run_symbols),
		OP(sync_runs),
		OP(event_add),
		OP(events),
		OP(event_count),
		OP(alert_get),
		OP(alert_put),
		OP(alert_list),
		OP(outbox_get),
		OP(outbox_put),
		OP(outbox_live),
		OP(archive_put),
		OP(archive_get),
		OP(archive_list),
		OP(backup_put),
		OP(backup_set_status),
		OP(backup_list),
		OP(metrics_runs),
		OP(metrics_durations),
		OP(metrics_series),
		OP(check),
		/* optional (facts and salvage of a SQLite file), set by this backend */
		OP(pages),
		OP(salvage),
	};
	size_t i;

	(void)state;
	assert_int_equal(sizeof(struct store_ops),
			 sizeof(const char *) +
				 sizeof(ops) / sizeof(ops[0]) * sizeof(void (*)(void)));
	assert_non_null(store_sqlite_ops.name);
	assert_string_equal(store_sqlite_ops.name, "sqlite");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!ops[i].set)
			fail_msg("store_sqlite_ops.%s is not set", ops[i].name);
	}
}

static void test_backend_name_version(void **state)
{
	struct fixture *fx = *state;

	assert_string_equal(store_backend_name(fx->st), "sqlite");
	assert_string_equal(store_backend_name(NULL), "sqlite");
	assert_non_null(strchr(store_backend_version(fx->st), '.'));
	assert_string_equal(store_backend_version(fx->st), store_backend_version(NULL));
}

/* A backend without an optional operation: its dispatcher fails clearly. */
static void test_optional_op_missing(void **state)
{
	struct fixture *fx = *state;
	struct store_ops lean = store_sqlite_ops;
	const struct store_ops *was = fx->st->ops;
	struct store_salvage_result res;
	int64_t a = 7, b = 7, c = 7;

	lean.name = "lean";
	lean.pages = NULL;
	lean.salvage = NULL;
	fx->st->ops = &lean;
	assert_int_equal(store_health_pages(fx->st, &a, &b, &c, &fx->err), CK_EUSAGE);
	assert_non_null(strstr(fx->err.msg, "not supported by the lean backend"));
	assert_non_null(strstr(fx->err.msg, "pages"));
	assert_int_equal(store_salvage(fx->st, "/nonexistent.db", NULL, 0, &res, &fx->err),
			 CK_EUSAGE);
	assert_non_null(strstr(fx->err.msg, "not supported by the lean backend"));
	fx->st->ops = was;
	assert_int_equal(store_health_pages(fx->st, &a, &b, &c, &fx->err), 0);
	assert_true(a > 0 && b > 0);
}

static void test_postgresql_refused(void **state)
{
	static const char *const urls[] = {"postgresql://ck:hunter2@db.example/candles",
					   "postgres://localhost/candles"};
	struct store *st = (struct store *)1;
	struct ck_err err;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(store_open(&st, urls[i], 0, &err), CK_EUSAGE);
		assert_null(st);
		assert_non_null(strstr(err.msg, "no PostgreSQL backend yet; use a file path"));
		assert_null(strstr(err.msg, "hunter2"));
		assert_int_equal(store_open(&st, urls[i], STORE_RDONLY, &err), CK_EUSAGE);
	}
}

static void test_span_merged(void **state)
{
	struct fixture *fx = *state;
	struct store_span sp;

	/* all history, counted (what sync and the status page ask) */
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 11);
	assert_int_equal(sp.first_open, AT(0));
	assert_int_equal(sp.last_open, AT(14));
	/* all history, bounds only (what health asks: two index seeks) */
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, 0, &sp, &fx->err), 0);
	assert_int_equal(sp.count, -1);
	assert_int_equal(sp.first_open, AT(0));
	assert_int_equal(sp.last_open, AT(14));
	/* a range (what audit asks), counted and not */
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", AT(4), AT(11), 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 4);
	assert_int_equal(sp.first_open, AT(6));
	assert_int_equal(sp.last_open, AT(9));
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", AT(4), AT(11), 0, &sp, &fx->err), 0);
	assert_int_equal(sp.first_open, AT(6));
	assert_int_equal(sp.last_open, AT(9));
	/* nothing in the range, and an unknown series */
	assert_int_equal(store_span(fx->st, "BTCUSDT", "4h", AT(4), AT(5), 1, &sp, &fx->err), 0);
	assert_int_equal(sp.count, 0);
	assert_int_equal(sp.first_open, 0);
	assert_int_equal(sp.last_open, 0);
	assert_int_equal(store_span(fx->st, "XRPUSDT", "4h", 0, INT64_MAX, 0, &sp, &fx->err), 0);
	assert_int_equal(sp.first_open, 0);
	assert_int_equal(sp.last_open, 0);
}

static void expect_gap(const struct store_gap *g, const char *sym, int first, int last,
		       int confirmed)
{
	assert_string_equal(g->symbol, sym);
	assert_int_equal(g->first, AT(first));
	assert_int_equal(g->last, AT(last));
	assert_int_equal(g->count, last - first + 1);
	assert_int_equal(g->confirmed, confirmed);
}

static void test_gaps_merged(void **state)
{
	struct fixture *fx = *state;
	struct store_gap *g = NULL;
	size_t n = 0;

	/* every symbol, all history, holes left out (what sync fetches) */
	assert_int_equal(store_gaps(fx->st, NULL, "4h", H4, 0, INT64_MAX, 0, &g, &n, &fx->err), 0);
	assert_int_equal(n, 2);
	expect_gap(&g[0], "BTCUSDT", 4, 5, 0);
	expect_gap(&g[1], "ETHUSDT", 3, 4, 0);
	free(g);
	/* with the holes and their evidence (gaps, metrics, status page, health) */
	assert_int_equal(store_gaps(fx->st, NULL, "4h", H4, 0, INT64_MAX, 1, &g, &n, &fx->err), 0);
	assert_int_equal(n, 3);
	expect_gap(&g[0], "BTCUSDT", 4, 5, 0);
	expect_gap(&g[1], "BTCUSDT", 10, 11, 1);
	assert_int_equal(g[1].first_seen, 111);
	assert_int_equal(g[1].second_seen, 222);
	assert_int_equal(g[1].runs, 2);
	assert_int_equal(g[0].runs, 0);
	expect_gap(&g[2], "ETHUSDT", 3, 4, 0);
	free(g);
	/* one symbol within a range (audit, health's recent window): only the candles
	 * inside the range are read, so a gap reaching outside it is not seen */
	assert_int_equal(
		store_gaps(fx->st, "BTCUSDT", "4h", H4, AT(6), AT(14), 1, &g, &n, &fx->err), 0);
	assert_int_equal(n, 1);
	expect_gap(&g[0], "BTCUSDT", 10, 11, 1);
	free(g);
	assert_int_equal(store_gaps(fx->st, "BTCUSDT", "4h", H4, AT(2), AT(9), 1, &g, &n, &fx->err),
			 0);
	assert_int_equal(n, 1);
	expect_gap(&g[0], "BTCUSDT", 4, 5, 0);
	free(g);
	assert_int_equal(store_gaps(fx->st, "BTCUSDT", "4h", H4, AT(5), AT(9), 1, &g, &n, &fx->err),
			 0);
	assert_int_equal(n, 0);
	free(g);
	assert_int_equal(store_gaps(fx->st, "BTCUSDT", "4h", 0, 0, INT64_MAX, 1, &g, &n, &fx->err),
			 CK_EUSAGE);
}

static void test_count_merged(void **state)
{
	struct fixture *fx = *state;
	int64_t count = -5;
	int finished = 0;

	assert_int_equal(store_count(fx->st, "4h", 0, &count, NULL, &fx->err), 0);
	assert_int_equal(count, 15);
	assert_int_equal(store_count(fx->st, "4h", 60000, &count, &finished, &fx->err), 0);
	assert_int_equal(finished, 1);
	assert_int_equal(count, 15);
	assert_int_equal(store_count(fx->st, "1h", 0, &count, &finished, &fx->err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_count(fx->st, NULL, 0, &count, NULL, &fx->err), 0);
	assert_int_equal(count, 17);
}

static void test_check_merged(void **state)
{
	struct fixture *fx = *state;
	char detail[128];
	int ok = 0, finished = 0;

	for (int full = 0; full <= 1; full++) {
		ok = finished = 0;
		assert_int_equal(
			store_check(fx->st, full, 0, &ok, NULL, detail, sizeof(detail), &fx->err),
			0);
		assert_int_equal(ok, 1);
		assert_string_equal(detail, "ok");
		ok = 0;
		assert_int_equal(store_check(fx->st, full, 60000, &ok, &finished, detail,
					     sizeof(detail), &fx->err),
				 0);
		assert_int_equal(finished, 1);
		assert_int_equal(ok, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_sets_every_op),
		cmocka_unit_test(test_postgresql_refused),
		cmocka_unit_test_setup_teardown(test_backend_name_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_op_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_merged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
