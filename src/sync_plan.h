/* sync_plan.h — the sync planner: which windows of candles a sync run asks the
 * exchange for, per symbol, and why. Its input is the store (the stored span, gaps and
 * confirmed holes, the symbol's state, the re-verification cursor), the symbol's facts
 * (listing start, history start) and the run's clocks; its output is a list of request
 * windows in the order they are fetched. No network: sync.c probes the listing start
 * before planning and turns the windows into pages and requests.
 *
 * Side effects (the "pure-ish" part): sync_plan_symbol records the symbol's widened
 * history start and sync_plan_verify advances the re-verification cursor, both in the
 * store, so the next run continues where this one planned. */
#ifndef CK_SYNC_PLAN_H
#define CK_SYNC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store.h"

/* Why a window is requested. */
enum plan_reason {
	PLAN_HISTORY,  /* nothing stored: the whole history from the wanted start */
	PLAN_LEAD,     /* before the oldest stored candle (history_days, backfill --since) */
	PLAN_GAP,      /* missing candles between stored ones (not confirmed holes) */
	PLAN_TAIL,     /* after the newest stored candle, plus the recent candles re-fetched
			* every run ([sync] lookback / verify_recent); when they fit one page
			* with no more weight, also this run's re-verification slice, the
			* candles between and the gaps among them (one request, not two) */
	PLAN_LOOKBACK, /* gap_repair off: the last `lookback` closed candles only */
	PLAN_VERIFY,   /* this run's slice of the rolling re-verification (verify_days) */
};
const char *sync_plan_reason_name(enum plan_reason r);

/* One window to request: open times first..last inclusive (any length; pages are cut
 * later), for the symbol with index sym in the caller's list. */
struct plan_window {
	size_t sym;
	int64_t first, last;
	enum plan_reason reason;
};

/* The windows of a run, in request order. Release with sync_plan_release. */
struct sync_plan {
	struct plan_window *w;
	size_t n, cap;
};
void sync_plan_release(struct sync_plan *p);

/* The run's clocks and options, fixed before planning. */
struct plan_clock {
	int64_t iv;          /* interval ms */
	int64_t server_now;  /* the exchange's time at the start (ms) */
	int64_t last_closed; /* open time of the newest closed candle (the open candle and
			      * anything later is never requested) */
	int64_t since_ms;    /* backfill --since (ms), 0 = plain sync */
	int64_t verify_first, verify_last; /* this run's re-verification slice (open
					    * times; last < first: none), from
					    * sync_plan_verify */
};

/* The open time of the newest closed candle: candles close when close_time is below
 * close_limit (sync_close_limit). */
int64_t sync_plan_last_closed(int64_t close_limit, int64_t iv);

/* The rolling re-verification: every run re-fetches a slice of the last verify_days
 * (all symbols alike), sized by the exchange time since the previous slice, so the
 * whole window is re-verified once per verify_every however often sync runs; the cursor
 * is kept in the store's state table (and advanced there). Fills c->verify_first/last
 * (none: last < first) from c->iv, c->server_now and c->last_closed. */
void sync_plan_verify(struct store *st, const struct cfg *cfg, struct plan_clock *c);

/* What sync_plan_symbol found out about a symbol, besides its windows. */
struct plan_symbol_info {
	int64_t wanted;      /* the oldest open time wanted (history start) */
	int64_t newest_open; /* newest stored open time, 0 if none */
	size_t nwindows;     /* windows appended to the plan */
};

/* Plans one symbol: reads its state (history start; first_open, the exchange's first
 * candle, 0 = unknown) and its stored span and gaps from st, widens and records the
 * history start (history_days, since_ms, the oldest stored candle), and appends to p,
 * in this order: the history (nothing stored) or the lead before the oldest stored
 * candle, each gap that is not a confirmed hole, the tail up to c->last_closed, and
 * the re-verification slice (or the slice and the tail as one window: PLAN_TAIL). Nothing before
 * the listing start (first_open) is asked for. state: filled with the symbol's stored state.
 * Returns 0 or a negative code. */
int sync_plan_symbol(struct store *st, const struct cfg *cfg, const struct plan_clock *c,
		     const char *symbol, size_t sym, struct store_symbol *state,
		     struct sync_plan *p, struct plan_symbol_info *info, struct ck_err *err);

/* Total request weight of the plan cut into pages of `page` candles. */
int64_t sync_plan_weight(const struct sync_plan *p, int64_t iv, int64_t page);

/* Candles per request: page_limit when set; otherwise (0, automatic) the fewest requests
 * (BINANCE_LIMIT_MAX, 1500 a page) while the whole plan fits in one minute's weight
 * budget, else the most candles per unit of weight (499 a page). */
int64_t sync_plan_page_size(const struct sync_plan *p, int64_t iv, int64_t page_limit,
			    int64_t budget);

/* The first page of first..last (first <= last) at `page` candles a request: returns
 * its number of candles and sets *end to its last open time; the next page starts at
 * *end + iv. */
int64_t sync_plan_page(int64_t first, int64_t last, int64_t iv, int64_t page, int64_t *end);

#endif
