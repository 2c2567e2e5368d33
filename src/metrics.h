/* metrics.h — the Prometheus exposition of candlekeep's state. Metrics are derived
 * from the database (run records, candles, gaps, backups, events) plus optional live
 * process counters, so a cron-driven one-shot setup and the daemon report the same
 * numbers and counters survive restarts. The metric table (name, type, help, labels)
 * lives in metrics.c; HELP/TYPE lines and docs come from it. */
#ifndef CK_METRICS_H
#define CK_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "err.h"
#include "store.h"

/* Counters only the running daemon knows (NULL when there is no daemon). */
struct metrics_live {
	int64_t http_requests;      /* served by the daemon's HTTP server */
	int64_t sync_skipped;       /* scheduled syncs skipped because one still ran */
	int64_t started_ms;         /* process start */
};

/* Renders the exposition text into *out (malloc'd, NUL-terminated; caller frees).
 * st may be read-only. Never writes to the database. */
int metrics_render(struct store *st, const struct cfg *c, const struct metrics_live *live,
		   char **out, size_t *len, struct ck_err *err);

/* Prints the metric table (name, type, labels, meaning) as a Markdown table, for
 * `candlekeep metrics --list` and the docs. */
void metrics_print_table(FILE *f);

#endif
