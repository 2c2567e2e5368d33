/* store_health.h — the read-only queries behind `health` and `audit` (part of the store
 * module: only store*.c contain SQL). Every function here only reads, so it works on a
 * store opened with STORE_RDONLY, and each is bounded so that the default health check
 * stays fast on a large database. The span, gaps, count and integrity check health and
 * audit use are the store's one answer to each (store.h). */
#ifndef CK_STORE_HEALTH_H
#define CK_STORE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* Candles of symbol/interval in from..to that lie inside confirmed exchange holes. */
int store_health_hole_candles(struct store *st, const char *symbol, const char *interval,
			      int64_t interval_ms, int64_t from, int64_t to, int64_t *count,
			      struct ck_err *err);

/* One symbol's outcome in a run (run_symbols). */
struct store_run_symbol {
	int64_t run_id;
	char symbol[24];
	char status[16];     /* "ok", "failed", "skipped" */
	int64_t newest_open; /* ms; newest stored open time after the run, 0 if none */
	char error[256];
};

/* The symbols of run run_id; *out malloc'd (caller frees). */
int store_health_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out,
			     size_t *n, struct ck_err *err);

/* Every run_symbols row of sync/backfill runs with id >= min_run_id, by run id then
 * symbol; *out malloc'd (caller frees). */
int store_health_all_run_symbols(struct store *st, int64_t min_run_id,
				 struct store_run_symbol **out, size_t *n, struct ck_err *err);

/* A sync or backfill run with the exchange's time at its start, when known. */
struct store_sync_run {
	int64_t id;
	char command[16];
	int64_t started, ended; /* ms, local wall clock; ended 0 if never ended */
	enum run_status status;
	int64_t server_time; /* ms, exchange clock (runs.server_time); 0 unknown */
	char error[256];
	char market[8]; /* the run's market and interval (schema 6) */
	char interval[8];
};

/* Every sync/backfill run, oldest first, with the exchange time it recorded;
 * *out malloc'd (caller frees). */
int store_health_sync_runs(struct store *st, struct store_sync_run **out, size_t *n,
			   struct ck_err *err);

/* Database file facts: page size and count (bytes = product), pages on the freelist.
 * Optional (a file backend's): others fail with CK_EUSAGE "not supported". */
int store_health_pages(struct store *st, int64_t *page_size, int64_t *page_count, int64_t *freelist,
		       struct ck_err *err);

#endif
