/* sync.h — the sync engine behind `sync` and `backfill`: plans, per symbol, the ranges
 * to fetch (history start, gaps, the tail since the newest stored closed candle, an
 * optional lookback; the planner is sync_plan.h), fetches them as parallel pages inside the
 * exchange's weight budget with the retry policy, validates and stores each page in its own
 * transaction, and confirms exchange holes. Blocking; single-threaded (libcurl multi). */
#ifndef CK_SYNC_H
#define CK_SYNC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store.h"

struct lock;

struct sync_progress {
	size_t symbols_done, symbols_total;
	int64_t candles; /* written so far */
	int64_t pages_done, pages_total;
	int64_t elapsed_ms;
};

struct sync_opts {
	int64_t since_ms; /* backfill: wanted history start (ms); 0 = plain sync */
	int recheck;      /* re-verify confirmed holes and symbol starts (gaps --recheck;
			   * implied by since_ms) */
	void (*progress)(const struct sync_progress *p, void *arg); /* may be NULL */
	void *progress_arg;
	struct lock *lock; /* the run lock held for the run, checked at safe points
			    * (lock_check: the run stops when it is lost); may be NULL */
};

struct sync_symbol {
	char symbol[24];
	const char *status; /* "ok", "failed", "skipped" (static strings) */
	int64_t written, revised;
	int64_t newest_open; /* newest stored open time after the run, 0 if none */
	int64_t holes;       /* candles newly confirmed as exchange holes */
	char error[256];
};

struct sync_result {
	struct run_counts counts;
	struct sync_symbol *symbols; /* malloc'd, nsymbols entries */
	size_t nsymbols;
	size_t elsewhere;      /* configured symbols another worker's run took (not in symbols) */
	int none_listed;       /* the exchange's listing was read and has none of the
				* configured symbols trading (whichever worker took them) */
	int timed_out;         /* the run's deadline passed */
	int stopped;           /* a signal asked to stop */
	int64_t server_time;   /* the exchange's time at the start (ms) */
	int64_t clock_skew_ms; /* server_time - local time at the start */
	char error[256];       /* a run-wide failure (exchange unreachable, ban, disk) */
};

/* Runs one sync over cfg's symbols (cfg->symbols; "all" asks exchangeInfo). Returns 0
 * when the run went through (some symbols may have failed: see res), or a negative
 * code for a run-wide failure (res->error says why; res is filled as far as it got).
 * deadline_mono: CLOCK_MONOTONIC ms, 0 = none. stop: checked between steps. */
int sync_run(struct store *st, const struct cfg *cfg, const struct sync_opts *o,
	     volatile sig_atomic_t *stop, int64_t deadline_mono, struct sync_result *res,
	     struct ck_err *err);
void sync_result_release(struct sync_result *res);

/* A candle is closed when its close_time is below this: the earlier of the exchange's
 * time and the local time plus max_skew_ms (all ms). */
int64_t sync_close_limit(int64_t exchange, int64_t local, int64_t max_skew_ms);

struct store_hole;
/* 1 when a suspected hole h (first observed empty at h->first_seen local and
 * h->first_seen_exchange exchange ms) is confirmed by an empty answer now (local,
 * exchange ms): both clocks an hour or more past the first observation and a day or
 * more past the gap's last candle (open time gap_last, interval iv ms). */
int sync_hole_confirms(const struct store_hole *h, int64_t gap_last, int64_t iv, int64_t local,
		       int64_t exchange);

#endif
