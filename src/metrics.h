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
	int64_t http_requests; /* served by the daemon's HTTP server */
	int64_t sync_skipped;  /* scheduled syncs skipped because one still ran */
	int64_t started_ms;    /* process start */
};

/* Renders the exposition text into *out (malloc'd, NUL-terminated; caller frees).
 * st may be read-only. Never writes to the database. A part of the database that
 * cannot be read (a damaged page, a busy file) does not fail the rendering: its
 * families have no samples, candlekeep_metrics_collect_ok{part} says 0, and *problem
 * holds the first such failure (code 0 when every part was read). When SQLite says a
 * page is damaged, candlekeep_database_integrity_ok{check="quick"} is 0.
 * st NULL means the database could not be opened: *problem holds why on input and
 * every part is reported failed. Returns 0, or CK_ENOMEM (err says why) when the
 * exposition exceeds its ceiling. */
int metrics_render(struct store *st, const struct cfg *c, const struct metrics_live *live,
		   char **out, size_t *len, struct ck_err *problem, struct ck_err *err);

/* Prints the metric table (name, type, labels, meaning) as a Markdown table, for
 * `candlekeep metrics --list` and the docs. */
void metrics_print_table(FILE *f);

#endif
