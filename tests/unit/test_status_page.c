/* test_status_page.c — the status page from a database built through the store API:
 * 60 symbols with a missing candle every 2 px of the strip still render well under 1 MB with at
 * most STATUS_STRIP_MAX_RECTS rects per coverage strip (merged ranges say how many
 * they hold); a single missing candle narrower than a pixel is still drawn; firing
 * alerts are listed with each channel's delivery state, HTML-escaped; a resolved one is
 * not. Each test uses a fresh database in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"
#include "kline.h"
#include "listing.h"
#include "sbuf.h"
#include "status_page.h"
#include "store.h"
#include "store_alert.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 14400000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */
#define NSYMS 60
#define NCANDLES 1800

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct cfg cfg;
	struct ck_err err;
	struct sbuf b;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-page");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(cfg_init(&fx->cfg, &fx->err), 0);
	assert_int_equal(cfg_set(&fx->cfg, "main", "db", fx->path, "test", &fx->err), 0);
	assert_int_equal(cfg_set(&fx->cfg, "main", "symbols", "all", "test", &fx->err), 0);
	assert_int_equal(cfg_finish(&fx->cfg, &fx->err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	sbuf_release(&fx->b);
	store_close(fx->st);
	cfg_release(&fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Stores candles 0..n-1 of sym from T0, leaving out i where i % every == 1 (every 0:
 * none) and i == skip. */
static void put(struct fixture *fx, const char *sym, int n, int every, int skip)
{
	struct kline *k = calloc((size_t)n, sizeof(*k));
	struct store_page_result res;
	int i, m = 0;
	assert_non_null(k);
	for (i = 0; i < n; i++) {
		struct kline *c = &k[m];
		if ((every && i % every == 1) || i == skip)
			continue;
		c->open_time = T0 + i * H4;
		c->close_time = c->open_time + H4 - 1;
		snprintf(c->open, sizeof(c->open), "1");
		snprintf(c->high, sizeof(c->high), "2");
		snprintf(c->low, sizeof(c->low), "0.5");
		snprintf(c->close, sizeof(c->close), "1.5");
		snprintf(c->volume, sizeof(c->volume), "10");
		snprintf(c->quote_volume, sizeof(c->quote_volume), "15");
		snprintf(c->taker_buy_base, sizeof(c->taker_buy_base), "5");
		snprintf(c->taker_buy_quote, sizeof(c->taker_buy_quote), "7");
		m++;
	}
	assert_int_equal(store_put_page(fx->st, sym, "4h", k, (size_t)m, &res, &fx->err), 0);
	free(k);
}

/* Renders the page as of the close of candle NCANDLES-1. */
static const char *render(struct fixture *fx)
{
	struct status_view v = {&fx->cfg, fx->st, T0 + NCANDLES * H4 + 60000, 1000, 0, NULL, 0};
	sbuf_release(&fx->b);
	assert_int_equal(status_page_render(&v, &fx->b), 0);
	assert_non_null(fx->b.p);
	return fx->b.p;
}

static size_t count(const char *from, const char *to, const char *what)
{
	size_t n = 0;
	for (const char *p = from; (p = strstr(p, what)) && (!to || p < to); p++)
		n++;
	return n;
}

static void test_strips_capped(void **state)
{
	struct fixture *fx = *state;
	char sym[16];
	const char *page, *p;
	int strips = 0;

	for (int s = 0; s < NSYMS; s++) {
		snprintf(sym, sizeof(sym), "S%02dUSDT", s);
		put(fx, sym, NCANDLES, 7, -1); /* 257 one-candle gaps each, 2 px apart */
	}
	page = render(fx);
	assert_true(fx->b.len < 1000000);
	for (p = page; (p = strstr(p, "<svg class=\"cov\"")); p++) {
		const char *end = strstr(p, "</svg>");
		assert_non_null(end);
		assert_true(count(p, end, "<rect ") <= STATUS_STRIP_MAX_RECTS);
		assert_true(count(p, end, "<rect class=\"missing\"") >= 1);
		assert_true(count(p, end, "<rect class=\"stored\"") >= 1);
		strips++;
	}
	assert_int_equal(strips, NSYMS);
	assert_non_null(strstr(page, " ranges</title>"));
	print_message("page of %d symbols with 257 gaps each: %zu bytes\n", NSYMS, fx->b.len);
}

static void test_small_gap_drawn(void **state)
{
	struct fixture *fx = *state;
	char want[160];
	const char *page, *r;
	double w;

	put(fx, "AAAUSDT", NCANDLES, 0, 900);
	put(fx, "BBBUSDT", NCANDLES, 0, -1);
	page = render(fx);
	snprintf(want, sizeof(want), "<rect class=\"missing\" x=\"");
	r = strstr(page, want);
	assert_non_null(r);
	assert_non_null(strstr(r, "\" width=\""));
	w = strtod(strstr(r, "\" width=\"") + 9, NULL);
	assert_true(w >= 2.0); /* 1/1800 of the strip, drawn 2 px wide */
	snprintf(want, sizeof(want), "data-from=\"%lld\" data-to=\"%lld\" data-count=\"1\"",
		 T0 + 900 * H4, T0 + 900 * H4);
	assert_non_null(strstr(r, want));
	/* BBBUSDT: one stored rect and nothing else. */
	r = strstr(page, "<svg class=\"cov\" data-symbol=\"BBBUSDT\"");
	assert_non_null(r);
	assert_int_equal(count(r, strstr(r, "</svg>"), "<rect "), 1);
	assert_int_equal(count(r, strstr(r, "</svg>"), "<rect class=\"stored\""), 1);
}

static void test_alerts(void **state)
{
	struct fixture *fx = *state;
	struct store_alert a;
	struct store_outbox o;
	const char *page, *sec;

	put(fx, "AAAUSDT", 10, 0, -1);
	page = render(fx);
	assert_non_null(strstr(page, "No active alerts"));

	memset(&a, 0, sizeof(a));
	snprintf(a.key, sizeof(a.key), "sync_failed");
	snprintf(a.severity, sizeof(a.severity), "critical");
	snprintf(a.state, sizeof(a.state), "firing");
	snprintf(a.summary, sizeof(a.summary), "sync failed: <b>BTCUSDT</b> & more");
	a.first_at = T0;
	assert_int_equal(store_alert_put(fx->st, &a, &fx->err), 0);
	snprintf(a.key, sizeof(a.key), "backup_failed:hot");
	snprintf(a.state, sizeof(a.state), "resolved");
	assert_int_equal(store_alert_put(fx->st, &a, &fx->err), 0);
	memset(&o, 0, sizeof(o));
	snprintf(o.key, sizeof(o.key), "sync_failed");
	snprintf(o.channel, sizeof(o.channel), "slack");
	snprintf(o.state, sizeof(o.state), "retrying");
	snprintf(o.error, sizeof(o.error), "HTTP 500 from Slack");
	o.attempts = 3;
	assert_int_equal(store_outbox_put(fx->st, &o, &fx->err), 0);

	page = render(fx);
	assert_null(strstr(page, "No active alerts"));
	sec = strstr(page, "Active alerts: 1<");
	assert_non_null(sec);
	assert_non_null(strstr(sec, "data-key=\"sync_failed\""));
	assert_null(strstr(page, "backup_failed:hot"));
	assert_non_null(strstr(sec, "sync failed: &lt;b&gt;BTCUSDT&lt;/b&gt; &amp; more"));
	assert_non_null(strstr(sec, "slack: retrying, 3 failed attempts: HTTP 500 from Slack"));
}

/* symbols = all: a symbol the stored listing says stopped trading is shown as delisted,
 * not stale, and not counted among the symbols judged fresh. */
static void test_delisted_not_stale(void **state)
{
	struct fixture *fx = *state;
	const char *page, *row;

	put(fx, "AAAUSDT", NCANDLES, 0, -1);
	put(fx, "BBBUSDT", NCANDLES / 2, 0, -1); /* stopped half way */
	assert_int_equal(
		store_state_set(fx->st, "listing.um",
				"started 1\nAAAUSDT TRADING 0 1 1\nBBBUSDT SETTLING 0 1 2\n",
				&fx->err),
		0);
	page = render(fx);
	assert_non_null(strstr(page, "Symbols: 1 of 1 fresh"));
	row = strstr(page, "<td>BBBUSDT</td>");
	assert_non_null(row);
	row = strstr(row, "<td class=\"\">delisted (SETTLING)</td>");
	assert_non_null(row);
	assert_true(row < strstr(strstr(page, "<td>BBBUSDT</td>"), "</tr>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delisted_not_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strips_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_gap_drawn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
