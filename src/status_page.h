/* status_page.h — the daemon's HTML status page ("/"): health, active alerts with each
 * channel's delivery state, the schedule, per-symbol freshness, a coverage strip per
 * symbol (an inline SVG of stored, missing and exchange-hole ranges over its time span),
 * the last runs and the backups. The page is self-contained: no script, no external
 * resource. It only reads the store; the scheduler's state is handed in by the caller. */
#ifndef CK_STATUS_PAGE_H
#define CK_STATUS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "sbuf.h"
#include "store.h"

/* One scheduled job as the scheduler last published it. Strings are borrowed. */
struct status_job {
	const char *name;
	const char *expr;        /* cron expression; "" = not scheduled */
	int64_t next;            /* ms, next due time (daemon clock); 0 = never */
	int64_t last_start;      /* ms, start of the last attempt; 0 = none */
	const char *last_status; /* "ok", "failed", "skipped", "stopped" or NULL */
	const char *last_detail; /* "" if none */
	int64_t runs, failures, skipped;
	int running; /* 1 = running now */
};

/* What the page shows besides the store's contents. Everything is borrowed. */
struct status_view {
	const struct cfg *cfg;
	struct store *st; /* read-only use */
	int64_t now;      /* ms since epoch, the daemon clock */
	int64_t uptime_ms;
	int test_clock; /* 1 = the daemon follows the test clock */
	const struct status_job *jobs;
	size_t njobs;
};

/* Most rects one symbol's coverage strip draws: ranges closer than a pixel are merged
 * first, and the merge distance doubles until the strip fits. */
#define STATUS_STRIP_MAX_RECTS 40

/* Appends the page to b. A part whose query fails is shown empty (the page still
 * renders). Returns 0, or CK_ENOMEM when b failed (out of memory or over its ceiling). */
int status_page_render(const struct status_view *v, struct sbuf *b);

#endif
