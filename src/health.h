/* health.h — the health checks (freshness, coverage, integrity, gaps, data-loss guard,
 * backups, last run / stuck lock, disk), with monitoring-plugins statuses. Never writes
 * to the database and never takes the run lock. */
#ifndef CK_HEALTH_H
#define CK_HEALTH_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store.h"

enum health_status { HEALTH_OK = 0, HEALTH_WARNING = 1, HEALTH_CRITICAL = 2, HEALTH_UNKNOWN = 3 };

/* 8 checks, and 4 per further configured interval (at most 14 intervals) */
#define HEALTH_CHECKS_MAX 96 /* 5 per interval (at most 16) and 3 */

struct health_check {
	char name[32]; /* "freshness", "coverage", ... */
	enum health_status status;
	char message[512];
	char members[1024]; /* the symbols at fault (freshness: stale, coverage:
			     * missing, gaps: with gaps), space-separated, cut short
			     * with "..."; "" if none or not per symbol */
};

struct health_report {
	enum health_status status; /* the worst of the checks */
	char summary[512];         /* "CANDLEKEEP OK - 60/60 symbols fresh ... | perfdata" */
	struct health_check checks[HEALTH_CHECKS_MAX];
	size_t nchecks;
	int64_t at_ms;
	/* The integrity check's own measurement, for the daemon to record (event
	 * integrity_check): integrity_done = 1 when quick_check (integrity_check with full)
	 * finished or SQLite said the file is damaged; integrity_ok its verdict. */
	int integrity_done, integrity_ok;
	char integrity_detail[256];
};

/* The freshness of one symbol whose newest stored candle opened at newest_open (ms;
 * 0 = no candle) judged at now_ms: *age_ms is the time since that candle closed (open +
 * interval; never negative; -1 without a candle). OK up to [health] stale_warn, WARNING
 * above it, CRITICAL above stale_crit or without a candle. The freshness check and the
 * status page both judge by it. age_ms may be NULL. */
enum health_status health_freshness(const struct cfg *c, int64_t now_ms, int64_t newest_open,
				    int64_t *age_ms);

/* Runs every check. With several intervals configured ([main] intervals), freshness,
 * coverage, gaps and data_loss run once per interval, named "freshness/1h" and so on,
 * each judged by that interval's thresholds; the summary counts (symbol, interval)
 * pairs. st may be NULL (database missing or unopenable: the checks that
 * need it report CRITICAL/UNKNOWN). full = 1 runs integrity_check instead of quick_check.
 * now_ms is the clock to judge freshness by (tests pass a fake one). */
int health_run(struct store *st, const struct cfg *c, int full, int64_t now_ms,
	       struct health_report *r, struct ck_err *err);

/* Text (summary line, then one line per check) and JSON renderings. */
int health_print_text(const struct health_report *r, FILE *f);
/* *out malloc'd JSON object; caller frees. */
int health_to_json(const struct health_report *r, char **out, struct ck_err *err);

#endif
