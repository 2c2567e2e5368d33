/* sync_plan.c — the sync planner (see sync_plan.h): from the stored span, gaps,
 * confirmed holes, the tail, the lookback and re-verification windows and the listing
 * start, the windows a sync run requests, in order. The span and gaps come from the
 * store's coverage ledger, so planning a symbol costs O(its gaps), not O(its candles). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "interval.h"
#include "log.h"
#include "sync_plan.h"
#include "banned.h"

#define DAY_MS 86400000LL

const char *sync_plan_reason_name(enum plan_reason r)
{
	switch (r) {
	case PLAN_HISTORY:
		return "history";
	case PLAN_LEAD:
		return "lead";
	case PLAN_GAP:
		return "gap";
	case PLAN_TAIL:
		return "tail";
	case PLAN_LOOKBACK:
		return "lookback";
	case PLAN_VERIFY:
		return "verify";
	}
	return "?";
}

void sync_plan_release(struct sync_plan *p)
{
	if (!p)
		return;
	free(p->w);
	memset(p, 0, sizeof(*p));
}

int64_t sync_plan_last_closed(int64_t close_limit, int64_t iv)
{
	/* the candle before the one holding close_limit: it closed before close_limit */
	return interval_add(iv, interval_floor(iv, close_limit), -1);
}

/* Appends first..last (nothing when empty) to the plan. */
static int plan_add(struct sync_plan *p, struct plan_symbol_info *info, size_t sym, int64_t first,
		    int64_t last, enum plan_reason why)
{
	if (first > last)
		return 0;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		struct plan_window *nw = realloc(p->w, nc * sizeof(*nw));
		if (!nw)
			return CK_ENOMEM;
		p->w = nw;
		p->cap = nc;
	}
	p->w[p->n].sym = sym;
	p->w[p->n].first = first;
	p->w[p->n].last = last;
	p->w[p->n].reason = why;
	p->n++;
	info->nwindows++;
	return 0;
}

void sync_plan_verify(struct store *st, const struct cfg *cfg, struct plan_clock *c)
{
	int64_t win_first, win_last, ncand, at = 0, cursor = 0, n;
	char k1[64], k2[64], v[32];
	struct ck_err err;

	c->verify_first = 1;
	c->verify_last = 0;
	if (!cfg->verify_days || !cfg->gap_repair)
		return;
	win_last = interval_add(c->iv, c->last_closed,
				-(cfg->verify_recent > 0 ? cfg->verify_recent : 0));
	win_first = interval_ceil(
		c->iv, interval_add(c->iv, c->last_closed - cfg->verify_days * DAY_MS, 1));
	if (win_last < win_first)
		return;
	ncand = interval_steps(c->iv, win_first, win_last) + 1;
	snprintf(k1, sizeof(k1), "verify_at:%s:%s", store_market(st), cfg->interval);
	snprintf(k2, sizeof(k2), "verify_cursor:%s:%s", store_market(st), cfg->interval);
	if (store_state_get(st, k1, v, sizeof(v), NULL) == 0)
		at = strtoll(v, NULL, 10);
	if (store_state_get(st, k2, v, sizeof(v), NULL) == 0)
		cursor = strtoll(v, NULL, 10);
	if (at <= 0 || at > c->server_now) {
		n = 0; /* first run: start the schedule */
	} else {
		int64_t every = cfg->verify_every_s * 1000, el = c->server_now - at;
		n = el >= every ? ncand : (ncand * el + every - 1) / every;
	}
	if (at > 0 && at <= c->server_now && n == 0)
		return; /* too soon for even one candle: keep accumulating */
	if (cursor < win_first || cursor > win_last)
		cursor = win_first;
	if (n > 0) {
		c->verify_first = cursor;
		c->verify_last = interval_add(c->iv, cursor, n - 1);
		if (c->verify_last > win_last)
			c->verify_last = win_last;
		cursor = interval_add(c->iv, c->verify_last, 1);
		log_kv(LOG_DEBUG, "sync", ((const char *[]){NULL}),
		       "re-verifying %" PRId64 " older candles per symbol",
		       interval_steps(c->iv, c->verify_first, c->verify_last) + 1);
	}
	/* Both keys in one transaction: one fsync before the first klines request, not two. */
	if (store_tx_begin(st, &err) == 0) {
		snprintf(v, sizeof(v), "%" PRId64, c->server_now);
		if (store_state_set(st, k1, v, &err) == 0) {
			snprintf(v, sizeof(v), "%" PRId64, cursor);
			if (store_state_set(st, k2, v, &err) == 0 && store_tx_commit(st, &err) == 0)
				return;
		}
		store_tx_rollback(st);
	}
	log_warn("sync", "%s", err.msg);
}

/* Weight of first..last cut into pages of `page` candles. */
static int64_t window_weight(int64_t first, int64_t last, int64_t iv, int64_t page)
{
	int64_t n = interval_steps(iv, first, last) + 1;
	return (n / page) * binance_kline_weight(page) +
	       (n % page ? binance_kline_weight(n % page) : 0);
}

/* The tail tail_from..last_closed and the re-verification slice a..b (b < tail_from)
 * as one window a..last_closed, when it fits one page of the smallest size the run may
 * choose (page_limit, or 499 when automatic: sync_plan_page_size) and weighs no more
 * than the separate requests; the candles between them are re-verified on the way.
 * Gap windows of the symbol inside a..last_closed are folded into it; a gap reaching
 * outside it (asked for twice otherwise) keeps the windows apart. Returns 1 when the
 * merged window replaced them, 0 when nothing changed, CK_ENOMEM. */
static int plan_merge_verify(const struct cfg *cfg, const struct plan_clock *c, struct sync_plan *p,
			     struct plan_symbol_info *info, size_t sym, int64_t a, int64_t b,
			     int64_t tail_from)
{
	const int64_t iv = c->iv, fit = cfg->page_limit > 0 ? cfg->page_limit : 499;
	int64_t apart =
		window_weight(tail_from, c->last_closed, iv, fit) + window_weight(a, b, iv, fit);
	size_t i, first = p->n - info->nwindows, k;

	if (tail_from > c->last_closed || interval_steps(iv, a, c->last_closed) + 1 > fit)
		return 0;
	for (i = first; i < p->n; i++) {
		const struct plan_window *w = &p->w[i];
		if (w->last < a || w->first > c->last_closed)
			continue;
		if (w->reason != PLAN_GAP || w->first < a)
			return 0;
		apart += window_weight(w->first, w->last, iv, fit);
	}
	if (binance_kline_weight(interval_steps(iv, a, c->last_closed) + 1) > apart)
		return 0;
	for (i = k = first; i < p->n; i++)
		if (p->w[i].last < a)
			p->w[k++] = p->w[i];
	info->nwindows -= p->n - k;
	p->n = k;
	return plan_add(p, info, sym, a, c->last_closed, PLAN_TAIL) ? CK_ENOMEM : 1;
}

/* The windows for one symbol with stored candles (span) and gap repair on. */
static int plan_repair(struct store *st, const struct cfg *cfg, const struct plan_clock *c,
		       const char *name, size_t sym, const struct store_symbol *state,
		       const struct store_span *span, int64_t wanted, struct sync_plan *p,
		       struct plan_symbol_info *info, struct ck_err *err)
{
	const int64_t iv = c->iv;
	int64_t tail_from;

	/* Before the oldest stored candle, unless the exchange is known to start there. */
	if (wanted < span->first_open &&
	    (!state->first_open || state->first_open < span->first_open)) {
		int64_t from = wanted;
		if (state->first_open > from)
			from = state->first_open;
		if (plan_add(p, info, sym, from, interval_add(iv, span->first_open, -1), PLAN_LEAD))
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
	}
	/* Gaps between stored candles, except confirmed exchange holes. */
	{
		struct store_gap *g = NULL;
		size_t n = 0, i;
		if (store_gaps(st, name, cfg->interval, iv, 0, INT64_MAX, 0, &g, &n, err))
			return err->code;
		for (i = 0; i < n; i++) {
			log_kv(LOG_INFO, "sync", ((const char *[]){"symbol", name, NULL}),
			       "repairing a gap of %" PRId64 " candles", g[i].count);
			if (plan_add(p, info, sym, g[i].first, g[i].last, PLAN_GAP)) {
				free(g);
				return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
			}
		}
		free(g);
	}
	/* The tail: after the newest stored closed candle, plus the newest closed
	 * candles re-verified every run (verify_recent, or the larger lookback). */
	tail_from = interval_add(iv, span->last_open, 1);
	{
		int64_t again =
			cfg->lookback > cfg->verify_recent ? cfg->lookback : cfg->verify_recent;
		if (again > 0 && interval_add(iv, c->last_closed, -(again - 1)) < tail_from)
			tail_from = interval_add(iv, c->last_closed, -(again - 1));
	}
	if (tail_from < wanted)
		tail_from = wanted;
	/* This run's slice of the rolling re-verification of older history: one request
	 * with the tail when both fit one page (plan_merge_verify), else its own. */
	if (c->verify_last >= c->verify_first) {
		int64_t a = c->verify_first > span->first_open ? c->verify_first : span->first_open;
		int64_t before = interval_add(iv, tail_from, -1);
		int64_t b = c->verify_last < before ? c->verify_last : before;
		int merged = a <= b ? plan_merge_verify(cfg, c, p, info, sym, a, b, tail_from) : 0;
		if (merged == 1)
			return 0;
		if (merged < 0 || plan_add(p, info, sym, tail_from, c->last_closed, PLAN_TAIL) ||
		    (a <= b && plan_add(p, info, sym, a, b, PLAN_VERIFY)))
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
		return 0;
	}
	if (plan_add(p, info, sym, tail_from, c->last_closed, PLAN_TAIL))
		return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
	return 0;
}

int sync_plan_symbol(struct store *st, const struct cfg *cfg, const struct plan_clock *c,
		     const char *name, size_t sym, struct store_symbol *state, struct sync_plan *p,
		     struct plan_symbol_info *info, struct ck_err *err)
{
	const char *iv = cfg->interval;
	struct store_span span;
	int64_t wanted;

	memset(info, 0, sizeof(*info));
	if (store_symbol_get(st, name, iv, state, err) ||
	    store_span(st, name, iv, 0, INT64_MAX, 0, &span, err)) /* bounds: two seeks */
		return err->code;
	wanted = state->history_start;
	if (!wanted)
		wanted = interval_ceil(c->iv, c->server_now - cfg->history_days * DAY_MS);
	if (c->since_ms && interval_ceil(c->iv, c->since_ms) < wanted)
		wanted = interval_ceil(c->iv, c->since_ms);
	if (span.count && span.first_open < wanted)
		wanted = span.first_open;
	info->wanted = wanted;
	if (wanted != state->history_start) {
		state->history_start = wanted;
		if (store_symbol_put(st, name, iv, state, err))
			return err->code;
	}
	info->newest_open = span.count ? span.last_open : 0;
	if (!span.count) {
		if (state->first_open > wanted)
			wanted = state->first_open;
		if (plan_add(p, info, sym, wanted, c->last_closed, PLAN_HISTORY))
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
		return 0;
	}
	if (!cfg->gap_repair) {
		/* The older design: only the last `lookback` closed candles, nothing else. */
		int rc;
		if (cfg->lookback > 0)
			rc = plan_add(p, info, sym,
				      interval_add(c->iv, c->last_closed, -(cfg->lookback - 1)),
				      c->last_closed, PLAN_LOOKBACK);
		else
			rc = plan_add(p, info, sym, interval_add(c->iv, span.last_open, 1),
				      c->last_closed, PLAN_TAIL);
		if (rc)
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
		return 0;
	}
	return plan_repair(st, cfg, c, name, sym, state, &span, wanted, p, info, err);
}

int64_t sync_plan_weight(const struct sync_plan *p, int64_t iv, int64_t page)
{
	int64_t w = 0;
	size_t i;
	for (i = 0; i < p->n; i++) {
		int64_t n = interval_steps(iv, p->w[i].first, p->w[i].last) + 1;
		w += (n / page) * binance_kline_weight(page);
		if (n % page)
			w += binance_kline_weight(n % page);
	}
	return w;
}

int64_t sync_plan_page_size(const struct sync_plan *p, int64_t iv, int64_t page_limit,
			    int64_t budget)
{
	if (page_limit)
		return page_limit;
	int64_t max = binance_limit_max();

	return sync_plan_weight(p, iv, max) <= budget ? max : 499;
}

int64_t sync_plan_page(int64_t first, int64_t last, int64_t iv, int64_t page, int64_t *end)
{
	int64_t n = interval_steps(iv, first, last) + 1;
	if (n > page)
		n = page;
	*end = interval_add(iv, first, n - 1);
	return n;
}
