/* store_metrics.h — the aggregate, read-only queries the metrics exposition needs (part
 * of the store module: runs, run_symbols and candles summed and grouped in SQL). None of
 * these write; all work on a store opened with STORE_RDONLY. Times are ms since epoch. */
#ifndef CK_STORE_METRICS_H
#define CK_STORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* Totals over every finished run of one command, and its newest finished run. */
struct store_metrics_runs {
	int64_t by_status[RUN_TIMEOUT + 1]; /* rows per status, indexed by enum run_status
					     * (RUN_RUNNING counts rows still running or
					     * left behind by a killed process) */
	int64_t requests, retries, http_429, http_418, http_5xx, net_errors;
	int64_t requests_other; /* requests not counted as 429/418/5xx/network error */
	int64_t candles_written, candles_revised;
	int64_t last_ok_end; /* ended of the newest run with status ok; 0 = none */
	int has_last;        /* 1 if there is a finished run (fields below valid) */
	int64_t last_id;
	int64_t last_started, last_ended;
	enum run_status last_status;
	struct run_counts last; /* the newest finished run's counts */
};

/* Fills *out for command (e.g. "sync"). A database without runs gives zeros. */
int store_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		       struct ck_err *err);

/* Calls fn with the duration (ms, ended - started) of every finished run of command, in
 * no particular order; fn returning non-zero stops and is returned. */
int store_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			    void *arg, struct ck_err *err);

/* Per (market, symbol, interval): candles stored and the newest candle's open and close
 * time. */
struct store_metrics_series {
	char market[8]; /* um, cm, spot */
	char symbol[24];
	char interval[8];
	int64_t count;
	int64_t newest_open;  /* ms */
	int64_t newest_close; /* ms, the exchange's close_time of that candle */
};
/* Every (market, symbol, interval) with candles, of every market, sorted by market,
 * symbol, interval; *out malloc'd (caller frees). */
int store_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
			 struct ck_err *err);

#endif
