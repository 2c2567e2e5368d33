/* audit.h — the SLA audit over a period (`candlekeep audit --days 30`): sync coverage,
 * availability against the sync schedule, staleness per symbol (RPO), freshness,
 * completeness, backups per tier and retention compliance, a timed restore drill
 * (RTO), and a verdict per target.
 *
 * Clocks: the audit judges by the exchange's clock. A run record holds local wall-clock
 * times; a sync also records the exchange's time at its start (runs.server_time).
 * A run without one (it failed before reaching the exchange) is
 * placed by interpolating between the neighbouring runs that have one (on a host with a
 * synchronised clock this equals the local time; the estimate is flagged). Backup times
 * are the backup module's own clock (its --now in tests).
 *
 * Staleness of a symbol at time t, from the run records (run_symbols.newest_open at
 * each run's end is the newest candle held from then on):
 *   lag(t) = how long the oldest closed candle not yet stored has been closed
 *          = max(0, t - (held_open + 2 * interval))   (0 while in sync)
 *   age(t) = t - (held_open + interval)                (age of the newest stored close)
 * sampled every minute of the period; worst and p99 (nearest rank) are reported.
 * Targets: availability = scheduled syncs (cron [schedule] sync, else every interval)
 * followed by a successful sync before the next one, percent, >= [audit] availability;
 * RPO = worst symbol's p99 lag <= [audit] rpo; freshness = worst age <= [health]
 * stale_crit; completeness = no candle missing in the period (exchange holes excepted);
 * RTO = the restore drill verified within [audit] rto. */
#ifndef CK_AUDIT_H
#define CK_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "err.h"
#include "store.h"

struct audit_opts {
	int64_t days;       /* length of the period, days (>= 1) */
	int64_t now_ms;     /* end of the period (exchange clock), ms */
	int drill;          /* 1 = run the restore drill */
	const char *tmpdir; /* where the drill restores (NULL: $TMPDIR or /tmp) */
};

struct audit_run_item {
	int64_t id;
	char command[16];
	int64_t at;    /* ms, exchange clock, start of the run */
	int estimated; /* at estimated from the local clock */
	enum run_status status;
	char error[256];
};

struct audit_day {
	int64_t start;            /* ms, start of the 24 h bucket */
	int64_t slots, slots_met; /* scheduled syncs in the day, and those met */
	int64_t runs_ok, runs_bad;
	int64_t lag_worst_ms; /* worst lag of any symbol during the day */
	double fresh_pct;     /* minutes x symbols with age <= stale_warn, percent; -1 unknown */
	int backups[3];       /* a verified backup was taken that day: hot, warm, offsite */
};

struct audit_symbol {
	char symbol[32]; /* "SYMBOL", or "SYMBOL/INTERVAL" with several intervals */
	int64_t samples; /* minutes with a known state */
	int64_t lag_worst_ms, lag_p99_ms, age_worst_ms;
	int64_t expected, stored, holes, missing;
	struct store_gap *gaps; /* missing pieces in the period (malloc'd) */
	size_t ngaps;
};

struct audit_tier {
	char tier[16];
	int configured;
	int64_t days_with;          /* days of the period with a verified backup */
	int64_t kept;               /* backups not deleted */
	int64_t oldest_kept_ms;     /* created ms of the oldest kept one, 0 none */
	int64_t newest_verified_ms; /* created ms, 0 none */
	int64_t retention_days;
	int compliant;
	char note[256];
};

struct audit_target {
	char name[16]; /* "availability", "rpo", "rto", "freshness", "completeness" */
	int met;
	char measured[96];
	char target[64];
	char detail[256];
};

struct audit_report {
	int64_t from, to, days; /* ms, exchange clock; [from, to) */
	int64_t days_synced;    /* days with at least one successful sync */
	int64_t slots, slots_met;
	char schedule[64];          /* what the slots came from */
	struct audit_day *day;      /* days entries (malloc'd) */
	struct audit_run_item *bad; /* runs that failed, timed out or were partial */
	size_t nbad;
	int64_t runs_total, runs_ok;
	struct audit_symbol *sym; /* malloc'd */
	size_t nsym;
	struct audit_tier tier[3];
	/* restore drill */
	int drill_done, drill_ok;
	double drill_seconds;
	char drill_location[1024];
	char drill_detail[256];
	struct audit_target target[5];
	size_t ntarget;
	int all_met;
};

/* Builds the report. st must be writable when o->drill (the drill records event
 * "restore_drill"). Blocking: the drill restores the newest backup (seconds to minutes).
 * A drill that fails is a result (RTO not met), not an error. r is released with
 * audit_report_release. */
int audit_run(struct store *st, const struct cfg *c, const struct audit_opts *o,
	      struct audit_report *r, struct ck_err *err);
void audit_report_release(struct audit_report *r);

/* Renderings: plain text, a JSON object (*out malloc'd), and a self-contained HTML page
 * (inline SVG chart of daily coverage and freshness; no external resource) written
 * atomically to path. */
int audit_print_text(const struct audit_report *r, const struct cfg *c, FILE *f);
int audit_to_json(const struct audit_report *r, char **out, struct ck_err *err);
int audit_write_html(const struct audit_report *r, const struct cfg *c, const char *path,
		     struct ck_err *err);

/* p-th percentile (0 < p <= 100) by nearest rank of v[0..n) (sorted in place); 0 if n=0. */
int64_t audit_percentile(int64_t *v, size_t n, double p);

#endif
