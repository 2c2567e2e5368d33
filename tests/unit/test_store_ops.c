/* test_store_ops.c — the storage interface: the SQLite backend sets every operation of
 * struct store_ops (the optional ones too), the PostgreSQL backend every required one,
 * a missing optional operation is a clear error and not a crash, a postgresql:// or
 * postgres:// database that cannot be reached is an error that names what to check (and
 * masks a password), and each merged query (span, gaps, count, check) answers both of
 * its former questions on one fixture: with and without a time range, with and without
 * a count, with and without confirmed holes — on SQLite, and on PostgreSQL when
 * CK_TEST_PG_URL names a database of a server a test started (t6031 runs this binary
 * so; otherwise those cases are skipped).
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
#include <unistd.h>

#include <libpq-fe.h>
#include <pthread.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_backend.h"
#include "store_alert.h"
#include "store_archive.h"
#include "store_backup.h"
#include "store_health.h"
#include "store_metrics.h"
#include "banned.h"
#include "test_tmp.h"

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
static int setup_at(void **state, const char *url)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_hole h = {.first = AT(10),
			       .last = AT(11),
			       .first_seen = 111,
			       .second_seen = 222,
			       .runs = 2,
			       .confirmed_at = 222};

	assert_non_null(fx);
	if (url) { /* the fixture's writes are upserts: the same state on every setup */
		snprintf(fx->path, sizeof(fx->path), "%s", url);
	} else {
		test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-store-ops");
		assert_non_null(mkdtemp(fx->dir));
		snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	}
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

static int setup(void **state)
{
	return setup_at(state, NULL);
}

static int setup_pg(void **state)
{
	const char *url = getenv("CK_TEST_PG_URL");

	if (!url || !*url) {
		*state = NULL;
		return 0; /* each test skips */
	}
	return setup_at(state, url);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (!fx)
		return 0;
	store_close(fx->st);
	if (!fx->dir[0]) {
		free(fx);
		return 0;
	}
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
#m, o->m != NULL                                                                   \
	}
/* Fails unless o sets every operation (the optional ones too when optional). */
static void check_every_op(const struct store_ops *o, const char *name, int optional)
{
	const struct {
		const char *name;
		int set;
	} ops[] = {
		OP(version),
		OP(open),
		OP(close),
		OP(market_set),
		OP(tx_begin),
		OP(tx_commit),
		OP(tx_rollback),
		OP(put_page),
		OP(span),
		OP(gaps),
		OP(covered),
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
		OP(archive_holes),
		OP(backup_put),
		OP(backup_set_status),
		OP(backup_list),
		OP(metrics_runs),
		OP(metrics_durations),
		OP(metrics_series),
		OP(check),
		/* optional: the last four (facts and salvage of a SQLite file; the coverage
		 * ledger's check and total, for a backend that keeps no ledger) */
		OP(pages),
		OP(salvage),
		OP(ledger_verify),
		OP(ledger_total),
		/* optional for SQLite (one writer): the work claims of shared databases */
		OP(claim),
		OP(claims_release),
	};
	size_t i, n = sizeof(ops) / sizeof(ops[0]);

	assert_int_equal(sizeof(struct store_ops),
			 sizeof(const char *) + n * sizeof(void (*)(void)));
	assert_non_null(o->name);
	assert_string_equal(o->name, name);
	for (i = 0; i < n; i++) {
		if (i >= n - 2 ? strcmp(name, "postgresql") : !optional && i >= n - 6)
			continue; /* optional for this backend */
		if (!ops[i].set)
			fail_msg("store_%s_ops.%s is not set", name, ops[i].name);
	}
}

static void test_sqlite_sets_every_op(void **state)
{
	(void)state;
	check_every_op(&store_sqlite_ops, "sqlite", 1);
}

static void test_pg_sets_every_required_op(void **state)
{
	(void)state;
	check_every_op(&store_pg_ops, "postgresql", 0);
}

/* Work claims: on SQLite (one writer under the run lock) every key is granted; on
 * PostgreSQL a key one handle holds is refused to another until released, and a
 * handle's claims end with its session. */
static void test_claims(void **state)
{
	struct fixture *fx = *state;
	struct store *other = NULL;
	int got = 7;

	if (!fx)
		skip();
	assert_int_equal(store_claim(fx->st, "4h/BTCUSDT", &got, &fx->err), 0);
	assert_int_equal(got, 1);
	assert_int_equal(store_open(&other, fx->path, 0, &fx->err), 0);
	assert_int_equal(store_claim(other, "4h/BTCUSDT", &got, &fx->err), 0);
	if (!store_shared(fx->st)) {
		assert_int_equal(got, 1); /* SQLite: nothing to share */
		store_close(other);
		return;
	}
	assert_int_equal(got, 0);
	assert_int_equal(store_claim(other, "4h/ETHUSDT", &got, &fx->err), 0);
	assert_int_equal(got, 1);
	assert_int_equal(store_claim(fx->st, "4h/BTCUSDT", &got, &fx->err), 0);
	assert_int_equal(got, 1); /* held already */
	assert_int_equal(store_claim(fx->st, "4h/ETHUSDT", &got, &fx->err), 0);
	assert_int_equal(got, 0);
	store_claims_release(fx->st);
	assert_int_equal(store_claim(other, "4h/BTCUSDT", &got, &fx->err), 0);
	assert_int_equal(got, 1);
	store_close(other); /* the session ends: its claims with it, once the server sees it */
	for (int i = 0; i < 500; i++) {
		assert_int_equal(store_claim(fx->st, "4h/ETHUSDT", &got, &fx->err), 0);
		if (got)
			break;
		usleep(10000);
	}
	assert_int_equal(got, 1);
	store_claims_release(fx->st);
}

/* On PostgreSQL (setup_pg): skipped without CK_TEST_PG_URL. */
#define NEED_FIXTURE()                                                                             \
	do {                                                                                       \
		if (!*state)                                                                       \
			skip();                                                                    \
	} while (0)

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

/* Port 1 on loopback: refused at once. */
static void test_postgresql_unreachable(void **state)
{
	static const char *const urls[] = {"postgresql://ck:hunter2@127.0.0.1:1/candles",
					   "postgres://127.0.0.1:1/candles"};
	struct store *st = (struct store *)1;
	struct ck_err err;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(store_backend_check(urls[i], &err), 0);
		assert_int_equal(store_open(&st, urls[i], 0, &err), CK_EDB);
		assert_null(st);
		assert_non_null(strstr(err.msg, "127.0.0.1:1/candles"));
		assert_non_null(strstr(err.msg, "check the URL"));
		assert_null(strstr(err.msg, "hunter2"));
		assert_int_equal(store_open(&st, urls[i], STORE_RDONLY, &err), CK_EDB);
		assert_null(strstr(err.msg, "hunter2"));
	}
}

static void test_span_merged(void **state)
{
	NEED_FIXTURE();
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
	NEED_FIXTURE();
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
	NEED_FIXTURE();
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
	NEED_FIXTURE();
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

static int count_ms(int64_t ms, void *arg)
{
	(void)ms;
	(*(int *)arg)++;
	return 0;
}

static int count_kline(const struct kline *k, void *arg)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

struct kept {
	struct kline k[4];
	int n;
};

static int keep_kline(const struct kline *k, void *arg)
{
	struct kept *v = arg;

	if (v->n < 4)
		v->k[v->n] = *k;
	v->n++;
	return 0;
}

static void fill(struct kline *k, int64_t t)
{
	memset(k, 0, sizeof(*k));
	k->open_time = t;
	k->close_time = t + H1 - 1;
	snprintf(k->open, sizeof(k->open), "100.0");
	snprintf(k->high, sizeof(k->high), "200.0");
	snprintf(k->low, sizeof(k->low), "50.0");
	snprintf(k->close, sizeof(k->close), "150.0");
	snprintf(k->volume, sizeof(k->volume), "12.5");
	snprintf(k->quote_volume, sizeof(k->quote_volume), "1.0");
	snprintf(k->taker_buy_base, sizeof(k->taker_buy_base), "5.5");
	snprintf(k->taker_buy_quote, sizeof(k->taker_buy_quote), "6.5");
	k->trades = 42;
}

/* put_page's upsert on both backends (PostgreSQL writes through COPY and one merge): a
 * page larger than any one statement's rows, written once; unchanged on a second put;
 * a changed value is a revision and a value the page lacks keeps the stored one; text
 * with COPY's special characters is stored as given. */
/* Pages stored inside a caller's transaction (the sync's group commit) are part of it:
 * a rollback undoes every page of the group, a commit keeps each one exactly, and a page
 * merged over stored rows never picks up an earlier page's rows of another symbol. */
static void test_put_page_in_group(void **state)
{
	NEED_FIXTURE();
	struct fixture *fx = *state;
	struct ck_err *err = &fx->err;
	struct store_page_result r;
	struct kline k[4];
	struct kept got = {.n = 0};
	char a[32], b[32];
	int i;

	snprintf(a, sizeof(a), "GA%ldUSDT", (long)getpid());
	snprintf(b, sizeof(b), "GB%ldUSDT", (long)getpid());
	for (i = 0; i < 4; i++)
		fill(&k[i], T0 + i * H1);
	/* a's first two candles stored: its next page is merged over stored rows */
	assert_int_equal(store_put_page(fx->st, a, "1h", k, 2, &r, err), 0);

	assert_int_equal(store_tx_begin(fx->st, err), 0);
	assert_int_equal(store_put_page(fx->st, a, "1h", k, 4, &r, err), 0);
	assert_int_equal(r.written, 2);
	assert_int_equal(store_put_page(fx->st, b, "1h", k, 3, &r, err), 0);
	store_tx_rollback(fx->st);
	assert_int_equal(store_each_candle(fx->st, a, "1h", T0, T0 + 9 * H1, keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 2); /* the group's page of a is undone */
	got.n = 0;
	assert_int_equal(store_each_candle(fx->st, b, "1h", T0, T0 + 9 * H1, keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 0);

	assert_int_equal(store_tx_begin(fx->st, err), 0);
	assert_int_equal(store_put_page(fx->st, a, "1h", k, 4, &r, err), 0);
	snprintf(k[1].close, sizeof(k[1].close), "99.5");
	assert_int_equal(store_put_page(fx->st, b, "1h", k, 1, &r, err), 0);
	assert_int_equal(store_put_page(fx->st, b, "1h", k + 1, 1, &r, err), 0);
	assert_int_equal(store_tx_commit(fx->st, err), 0);
	got.n = 0;
	assert_int_equal(store_each_candle(fx->st, a, "1h", T0, T0 + 9 * H1, keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 4);
	assert_string_not_equal(got.k[1].close, "99.5");
	got.n = 0;
	assert_int_equal(store_each_candle(fx->st, b, "1h", T0, T0 + 9 * H1, keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.k[1].close, "99.5");
	if (!fx->dir[0]) { /* PostgreSQL: the other tests count every candle of the database */
		PGconn *c = PQconnectdb(fx->path);
		const char *v[] = {a, b};
		PGresult *d = PQexecParams(c, "DELETE FROM candles WHERE symbol IN ($1, $2)", 2,
					   NULL, v, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(d), PGRES_COMMAND_OK);
		PQclear(d);
		PQfinish(c);
	}
}

static void test_put_page_contract(void **state)
{
	NEED_FIXTURE();
	struct fixture *fx = *state;
	struct ck_err *err = &fx->err;
	struct store_page_result r;
	struct kline *k = calloc(1200, sizeof(*k));
	struct kept got = {.n = 0};
	char sym[32];
	int i;

	assert_non_null(k);
	/* a symbol of this run: PostgreSQL keeps earlier runs' rows */
	snprintf(sym, sizeof(sym), "P%ldUSDT", (long)getpid());
	for (i = 0; i < 1200; i++)
		fill(&k[i], T0 + i * H1);
	assert_int_equal(store_put_page(fx->st, sym, "1h", k, 1200, &r, err), 0);
	assert_true(r.written == 1200 && r.revised == 0 && r.same == 0);
	assert_int_equal(store_put_page(fx->st, sym, "1h", k, 1200, &r, err), 0);
	assert_true(r.written == 0 && r.revised == 0 && r.same == 1200);

	snprintf(k[0].close, sizeof(k[0].close), "151.0");
	k[0].taker_buy_base[0] = k[1].taker_buy_base[0] = 0; /* unknown to this source */
	assert_int_equal(store_put_page(fx->st, sym, "1h", k, 2, &r, err), 0);
	assert_true(r.written == 0 && r.revised == 1 && r.same == 1);
	assert_int_equal(store_each_candle(fx->st, sym, "1h", T0, T0 + H1, keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.k[0].close, "151.0");
	assert_string_equal(got.k[0].taker_buy_base, "5.5");
	assert_string_equal(got.k[1].taker_buy_base, "5.5");

	fill(&k[0], T0 + 2000 * H1);
	snprintf(k[0].open, sizeof(k[0].open), "1\\2\t3\n4\r5\\N");
	assert_int_equal(store_put_page(fx->st, sym, "1h", k, 1, &r, err), 0);
	assert_int_equal(r.written, 1);
	got.n = 0;
	assert_int_equal(store_each_candle(fx->st, sym, "1h", T0 + 2000 * H1, T0 + 2000 * H1,
					   keep_kline, &got, err),
			 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.k[0].open, "1\\2\t3\n4\r5\\N");
	free(k);
	if (!fx->dir[0]) { /* PostgreSQL: the other tests count every candle of the database */
		PGconn *c = PQconnectdb(fx->path);
		const char *v[] = {sym};
		PGresult *d = PQexecParams(c, "DELETE FROM candles WHERE symbol = $1;", 1, NULL, v,
					   NULL, NULL, 0);
		assert_int_equal(PQresultStatus(d), PGRES_COMMAND_OK);
		PQclear(d);
		d = PQexecParams(c, "DELETE FROM revisions WHERE symbol = $1", 1, NULL, v, NULL,
				 NULL, 0);
		assert_int_equal(PQresultStatus(d), PGRES_COMMAND_OK);
		PQclear(d);
		PQfinish(c);
	}
}

struct put_arg {
	struct store *st;
	const char *sym;
	struct kline *k;
	size_t n;
	struct store_page_result r;
	struct ck_err err;
	int rc;
};

static void *put_thread(void *arg)
{
	struct put_arg *a = arg;

	a->rc = store_put_page(a->st, a->sym, "1h", a->k, a->n, &a->r, &a->err);
	return NULL;
}

static PGresult *q1(PGconn *c, const char *sql, const char *v)
{
	const char *p[] = {v};
	return PQexecParams(c, sql, v ? 1 : 0, NULL, p, NULL, NULL, 0);
}

/* PostgreSQL only: a page whose range looked empty is COPYed straight into candles; a
 * row another session commits into that range meanwhile makes that COPY fail with a
 * unique violation, and the page is written again through the merge: stored whole,
 * the other session's candle counted as stored already (same). The other session holds
 * its insert uncommitted until the page's COPY waits on it (seen in pg_locks), then
 * commits. */
static void test_pg_put_page_race(void **state)
{
	NEED_FIXTURE();
	struct fixture *fx = *state;
	struct put_arg a = {.st = fx->st, .n = 10, .rc = -1};
	struct kline k[10];
	char sym[32], t[24], sql[600];
	PGconn *c = PQconnectdb(fx->path);
	PGresult *r;
	pthread_t th;
	int i, waiting = 0;

	snprintf(sym, sizeof(sym), "R%ldUSDT", (long)getpid());
	for (i = 0; i < 10; i++)
		fill(&k[i], T0 + i * H1);
	a.sym = sym;
	a.k = k;
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(q1(c, "DELETE FROM candles WHERE symbol = $1", sym));
	PQclear(q1(c, "BEGIN", NULL));
	snprintf(t, sizeof(t), "%lld", (long long)(T0 + 5 * H1));
	snprintf(sql, sizeof(sql),
		 "INSERT INTO candles (symbol, interval, open_time, open, high, low, close,"
		 " volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote)"
		 " VALUES ($1, '1h', %s, '100.0', '200.0', '50.0', '150.0', '12.5', %lld, '1.0',"
		 " 42, '5.5', '6.5')",
		 t, (long long)(T0 + 6 * H1 - 1));
	r = q1(c, sql, sym);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	assert_int_equal(pthread_create(&th, NULL, put_thread, &a), 0);
	for (i = 0; i < 3000 && !waiting; i++) { /* bounded: 30 s */
		r = q1(c, "SELECT count(*) FROM pg_locks WHERE NOT granted", NULL);
		waiting = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "0");
		PQclear(r);
		if (!waiting)
			usleep(10000);
	}
	assert_true(waiting);
	PQclear(q1(c, "COMMIT", NULL));
	pthread_join(th, NULL);
	assert_int_equal(a.rc, 0);
	assert_true(a.r.written == 9 && a.r.same == 1 && a.r.revised == 0);
	r = q1(c, "SELECT count(*) FROM candles WHERE symbol = $1", sym);
	assert_string_equal(PQgetvalue(r, 0, 0), "10");
	PQclear(r);
	PQclear(q1(c, "DELETE FROM candles WHERE symbol = $1", sym));
	PQfinish(c);
}

/* The row operations keep their contracts (CK_ENOTFOUND, list orders, counts) on both
 * backends: run against SQLite (setup) and PostgreSQL (setup_pg). The PostgreSQL
 * database may hold rows of earlier runs of this test: every check is on this run's
 * own keys or on the fixture's idempotent state. */
static void test_rows_contract(void **state)
{
	NEED_FIXTURE();
	struct fixture *fx = *state;
	struct ck_err *err = &fx->err;
	struct store_run *runs = NULL;
	struct store_run_symbol *rs = NULL;
	struct store_event *ev = NULL;
	struct store_alert a = {0}, got, *al = NULL;
	struct store_outbox o = {0}, og, *ol = NULL;
	struct store_backup b = {0}, *bl = NULL;
	struct store_archive_file *af = NULL;
	struct store_metrics_runs mr;
	struct store_metrics_series *ms = NULL;
	struct store_range *rg = NULL;
	struct store_symbol sy = {.history_start = 5, .first_open = 6}, sy2;
	struct store_hole h;
	struct run_counts c = {.candles_written = 3, .requests = 4};
	char buf[64], sha[65], key[64], cmdname[16];
	int64_t id, id2, cnt, bid;
	size_t n, i;
	int found, calls = 0;
	char **syms = NULL;

	/* a key of this run: PostgreSQL keeps earlier runs' rows */
	snprintf(key, sizeof(key), "k%ld-%p", (long)getpid(), (void *)fx);
	snprintf(cmdname, sizeof(cmdname), "u%ld", (long)getpid());

	assert_int_equal(store_state_get(fx->st, key, buf, sizeof(buf), err), CK_ENOTFOUND);
	assert_int_equal(store_state_set(fx->st, key, "v1", err), 0);
	assert_int_equal(store_state_set(fx->st, key, "v2", err), 0);
	assert_int_equal(store_state_get(fx->st, key, buf, sizeof(buf), err), 0);
	assert_string_equal(buf, "v2");
	assert_int_equal(store_state_del(fx->st, key, err), 0);
	assert_int_equal(store_state_del(fx->st, key, err), 0);
	assert_int_equal(store_state_get(fx->st, key, buf, sizeof(buf), err), CK_ENOTFOUND);

	assert_int_equal(store_symbol_get(fx->st, key, "4h", &sy2, err), 0);
	assert_true(sy2.history_start == 0 && sy2.first_open == 0);
	assert_int_equal(store_symbol_put(fx->st, key, "4h", &sy, err), 0);
	assert_int_equal(store_symbol_get(fx->st, key, "4h", &sy2, err), 0);
	assert_true(sy2.history_start == 5 && sy2.first_open == 6);

	assert_int_equal(store_hole_get(fx->st, "BTCUSDT", "4h", AT(10), AT(11), &h, err), 0);
	assert_true(h.first_seen == 111 && h.second_seen == 222 && h.runs == 2);
	assert_int_equal(store_hole_get(fx->st, "BTCUSDT", "4h", AT(10), AT(12), &h, err),
			 CK_ENOTFOUND);
	/* the holes an archive file's period may lack */
	assert_int_equal(store_archive_holes(fx->st, "BTCUSDT", "4h", AT(11), AT(20), &rg, &n, err),
			 0);
	assert_true(n == 1 && rg[0].first == AT(10) && rg[0].last == AT(11));
	free(rg);
	rg = NULL;
	assert_int_equal(store_archive_holes(fx->st, "BTCUSDT", "4h", AT(12), AT(20), &rg, &n, err),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_holes_prune(fx->st, "BTCUSDT", "4h", err), 0);
	assert_int_equal(
		store_health_hole_candles(fx->st, "BTCUSDT", "4h", H4, AT(0), AT(14), &cnt, err),
		0);
	assert_int_equal(cnt, 2);

	assert_int_equal(store_covered(fx->st, "BTCUSDT", "4h", H4, &rg, &n, err), 0);
	assert_int_equal(n, 3);
	assert_true(rg[0].first == AT(0) && rg[0].last == AT(3) && rg[0].count == 4);
	assert_true(rg[2].first == AT(12) && rg[2].count == 3);
	free(rg);
	assert_int_equal(store_covered(fx->st, NULL, "4h", H4, &rg, &n, err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(rg[0].symbol, "BTCUSDT");
	assert_string_equal(rg[4].symbol, "ETHUSDT");
	free(rg);
	assert_int_equal(
		store_each_candle(fx->st, "BTCUSDT", "4h", 0, INT64_MAX, count_kline, &calls, err),
		0);
	assert_int_equal(calls, 11);
	assert_int_equal(store_symbols(fx->st, "4h", &syms, &n, err), 0);
	assert_true(n >= 2);
	assert_string_equal(syms[0], "BTCUSDT");
	store_symbols_free(syms, n);

	/* runs */
	assert_int_equal(store_run_begin(fx->st, cmdname, "4h", 1000, &id, err), 0);
	assert_int_equal(store_run_symbol(fx->st, id, "ETHUSDT", "failed", 0, 0, 0,
					  "get https://u:pw@x/ failed", err),
			 0);
	assert_int_equal(store_run_symbol(fx->st, id, "BTCUSDT", "ok", 3, 0, AT(14), NULL, err), 0);
	assert_int_equal(store_run_end(fx->st, id, RUN_PARTIAL, 1, 2000, &c, NULL, err), 0);
	assert_int_equal(store_run_begin(fx->st, cmdname, "4h", 3000, &id2, err), 0);
	assert_true(id2 > id);
	assert_int_equal(store_run_abandon(fx->st, cmdname, err), 0);
	assert_int_equal(store_runs(fx->st, cmdname, 0, 10, &runs, &n, err), 0);
	assert_int_equal(n, 2);
	assert_true(runs[0].id == id2 && runs[0].status == RUN_FAILED && runs[0].exit_code == -1);
	assert_true(runs[1].id == id && runs[1].status == RUN_PARTIAL && runs[1].ended == 2000);
	assert_true(runs[1].counts.candles_written == 3 && runs[1].counts.requests == 4);
	free(runs);
	assert_int_equal(store_runs(fx->st, cmdname, 0, 1, &runs, &n, err), 0);
	assert_int_equal(n, 1);
	free(runs);
	assert_int_equal(store_health_run_symbols(fx->st, id, &rs, &n, err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rs[0].symbol, "BTCUSDT"); /* by symbol */
	assert_true(rs[0].newest_open == AT(14));
	assert_null(strstr(rs[1].error, ":pw@"));
	free(rs);
	assert_int_equal(store_metrics_runs(fx->st, cmdname, &mr, err), 0);
	assert_int_equal(mr.by_status[RUN_PARTIAL], 1);
	assert_int_equal(mr.by_status[RUN_FAILED], 1);
	assert_int_equal(mr.requests, 4);
	assert_true(mr.has_last);
	calls = 0;
	assert_int_equal(store_metrics_durations(fx->st, cmdname, count_ms, &calls, err), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(store_metrics_series(fx->st, &ms, &n, err), 0);
	for (i = 0; i < n && strcmp(ms[i].symbol, "BTCUSDT"); i++)
		;
	assert_true(i < n);
	assert_string_equal(ms[i].interval, "1h"); /* sorted by symbol, interval */
	assert_true(ms[i + 1].count == 11 && ms[i + 1].newest_open == AT(14));
	assert_true(ms[i + 1].newest_close == AT(14) + H4 - 1);
	free(ms);

	/* events */
	assert_int_equal(store_event_add(fx->st, 10, key, "s", 1.5, "d1", err), 0);
	assert_int_equal(store_event_add(fx->st, 20, key, "s", 2.5, NULL, err), 0);
	assert_int_equal(store_event_add(fx->st, 30, key, "t", 3, "d3", err), 0);
	assert_int_equal(store_events(fx->st, key, "s", 0, 10, &ev, &n, err), 0);
	assert_int_equal(n, 2);
	assert_true(ev[0].at == 20 && ev[0].value == 2.5 && !strcmp(ev[0].detail, ""));
	assert_true(ev[1].at == 10 && !strcmp(ev[1].detail, "d1"));
	free(ev);
	assert_int_equal(store_event_count(fx->st, key, NULL, &cnt, err), 0);
	assert_int_equal(cnt, 3);

	/* alerts and the outbox */
	snprintf(a.key, sizeof(a.key), "%s-b", key);
	snprintf(a.severity, sizeof(a.severity), "warning");
	snprintf(a.state, sizeof(a.state), "resolved");
	snprintf(a.summary, sizeof(a.summary), "sum");
	snprintf(a.detail, sizeof(a.detail), "det");
	a.first_at = 7;
	assert_int_equal(store_alert_get(fx->st, a.key, &got, err), CK_ENOTFOUND);
	assert_int_equal(store_alert_put(fx->st, &a, err), 0);
	snprintf(a.key, sizeof(a.key), "%s-a", key);
	assert_int_equal(store_alert_put(fx->st, &a, err), 0);
	snprintf(a.state, sizeof(a.state), "firing");
	snprintf(a.key, sizeof(a.key), "%s-c", key);
	assert_int_equal(store_alert_put(fx->st, &a, err), 0);
	assert_int_equal(store_alert_get(fx->st, a.key, &got, err), 0);
	assert_string_equal(got.detail, "det");
	assert_int_equal(store_alert_list(fx->st, &al, &n, err), 0);
	assert_string_equal(al[0].state, "firing"); /* firing first, then by key */
	for (i = 0; i + 1 < n; i++)
		if (!strcmp(al[i].state, al[i + 1].state))
			assert_true(strcmp(al[i].key, al[i + 1].key) < 0);
	free(al);
	snprintf(o.key, sizeof(o.key), "%s", a.key);
	snprintf(o.channel, sizeof(o.channel), "slack");
	snprintf(o.state, sizeof(o.state), "pending");
	assert_int_equal(store_outbox_get(fx->st, o.key, "slack", &og, err), CK_ENOTFOUND);
	assert_int_equal(store_outbox_put(fx->st, &o, err), 0);
	o.attempts = 2;
	assert_int_equal(store_outbox_put(fx->st, &o, err), 0);
	assert_int_equal(store_outbox_get(fx->st, o.key, "slack", &og, err), 0);
	assert_int_equal(og.attempts, 2);
	assert_string_equal(og.error, "");
	assert_int_equal(store_outbox_live(fx->st, &ol, &n, err), 0);
	for (i = 0; i < n && strcmp(ol[i].key, o.key); i++)
		;
	assert_true(i < n);
	free(ol);

	/* catalogues */
	snprintf(buf, sizeof(buf), "%s-4h-2024-01.zip", key);
	assert_int_equal(store_archive_get(fx->st, buf, sha, &found, err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(store_archive_put(fx->st, buf, "ab", 5, 9, err), 0);
	assert_int_equal(store_archive_put(fx->st, buf, "cd", 5, 9, err), 0);
	assert_int_equal(store_archive_get(fx->st, buf, sha, &found, err), 0);
	assert_true(found && !strcmp(sha, "cd"));
	assert_int_equal(store_archive_list(fx->st, key, "4h", &af, &n, err), 0);
	assert_int_equal(n, 1);
	free(af);
	snprintf(b.tier, sizeof(b.tier), "%s", cmdname);
	snprintf(b.location, sizeof(b.location), "/x/1");
	snprintf(b.status, sizeof(b.status), "verified");
	b.created = 5;
	assert_int_equal(store_backup_put(fx->st, &b, &bid, err), 0);
	assert_int_equal(store_backup_put(fx->st, &b, &id2, err), 0);
	assert_true(id2 == bid);
	snprintf(b.location, sizeof(b.location), "/x/2");
	b.created = 6;
	assert_int_equal(store_backup_put(fx->st, &b, &id2, err), 0);
	assert_int_equal(store_backup_set_status(fx->st, bid, "deleted", "gone", err), 0);
	assert_int_equal(store_backup_list(fx->st, cmdname, &bl, &n, err), 0);
	assert_int_equal(n, 2);
	assert_true(bl[0].id == id2 && bl[1].id == bid); /* newest first */
	assert_string_equal(bl[1].status, "deleted");
	free(bl);

	/* a transaction rolled back leaves nothing */
	assert_int_equal(store_tx_begin(fx->st, err), 0);
	assert_int_equal(store_state_set(fx->st, key, "tx", err), 0);
	store_tx_rollback(fx->st);
	assert_int_equal(store_state_get(fx->st, key, buf, sizeof(buf), err), CK_ENOTFOUND);
	assert_int_equal(store_tx_begin(fx->st, err), 0);
	assert_int_equal(store_state_set(fx->st, key, "tx", err), 0);
	assert_int_equal(store_tx_commit(fx->st, err), 0);
	assert_int_equal(store_state_get(fx->st, key, buf, sizeof(buf), err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_sets_every_op),
		cmocka_unit_test(test_pg_sets_every_required_op),
		cmocka_unit_test(test_postgresql_unreachable),
		cmocka_unit_test_setup_teardown(test_backend_name_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_op_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span_merged, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_merged, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_count_merged, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_check_merged, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_rows_contract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_contract, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_put_page_contract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_page_in_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_page_in_group, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_put_page_contract, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_put_page_race, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup_pg, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
