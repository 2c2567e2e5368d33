/* metrics.c — the Prometheus text exposition (format 0.0.4) of candlekeep's state.
 *
 * Every family is one row of metric_table below (name, type, labels, help, and the
 * function that writes its samples), so the HELP/TYPE lines, `candlekeep metrics
 * --list` and the docs cannot drift from what is exported. Values come from the
 * database only (run records, candles, gaps, backups, events, alerts) plus the
 * daemon's live counters, so a cron setup and the daemon agree and counters survive
 * restarts: a *_total is a count or a sum of rows, never a process variable.
 *
 * Families whose absence would make an alert rule misbehave are always written (with
 * zeros: runs by status, requests by code, alert deliveries per channel, backup tiers);
 * families that describe something that never happened (no integrity check yet, no
 * restore drill) are written with HELP/TYPE and no sample. The database is never
 * written. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "binance.h"
#include "cfg.h"
#include "event.h"
#include "kline.h"
#include "listing.h"
#include "metrics.h"
#include "sbuf.h"
#include "store.h"
#include "store_alert.h"
#include "store_backup.h"
#include "store_health.h"
#include "store_metrics.h"
#include "utc.h"
#include "banned.h"

#ifndef CK_VERSION
#define CK_VERSION "0.1.0" /* the Makefile passes the release's version */
#endif
#define METRICS_MAX (64u << 20) /* an exposition larger than this is an error */

/* Sync duration histogram buckets, seconds (the old design's deadline was 30 min). */
static const double duration_buckets[] = {1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600};
#define NBUCKETS (sizeof(duration_buckets) / sizeof(duration_buckets[0]))

static const char *const run_commands[] = {"sync", "backfill"};
#define NCOMMANDS (sizeof(run_commands) / sizeof(run_commands[0]))
static const char *const channels[] = {"slack", "pagerduty", "email"};
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))

/* The parts of the database an exposition reads, each collected on its own: a part that
 * cannot be read (a damaged page, a busy file) leaves its families without samples and
 * is reported by candlekeep_metrics_collect_ok{part} = 0; the rest is still exported.
 * PART_NONE families do not read the database. */
enum part {
	PART_NONE,
	PART_OPEN,
	PART_RUNS,
	PART_CANDLES,
	PART_GAPS,
	PART_EVENTS,
	PART_ALERTS,
	PART_BACKUPS,
	PART_STATE,
	NPARTS
};
static const char *const part_names[NPARTS] = {"",       "open",   "runs",    "candles", "gaps",
					       "events", "alerts", "backups", "state"};

struct hist {
	int64_t le[NBUCKETS]; /* cumulative counts */
	int64_t count;
	double sum; /* seconds */
};

/* Everything read from the database before anything is written. */
/* The newest runs of one command in the configured market and one configured interval
 * (the per-run series carry both labels: each interval is judged by its own runs). */
struct ilast {
	int has_last; /* 1 if a finished run was found (fields below valid) */
	int64_t last_id, last_started, last_ended;
	enum run_status last_status;
	struct run_counts last;
	int64_t last_ok_end; /* ended of the newest ok run among those read; 0 = none */
};
/* Runs read per command and interval to find the newest finished and the newest ok one:
 * an ok run older than this many is reported as none (0), by then the runs since have
 * raised the failure alerts. */
#define ILAST_SCAN 256

struct mdata {
	const struct cfg *c;
	const struct metrics_live *live;
	int64_t now;
	struct store_metrics_runs runs[NCOMMANDS];
	struct ilast ilast[NCOMMANDS][CK_INTERVALS_MAX];
	size_t nilast; /* configured intervals read (at most CK_INTERVALS_MAX) */
	struct hist hist[NCOMMANDS];
	struct store_metrics_series *series;
	size_t nseries;
	struct store_gap *gaps[CK_INTERVALS_MAX]; /* per configured interval, confirmed holes
						   * included */
	size_t ngaps[CK_INTERVALS_MAX];
	char **configured; /* configured symbols (or the last sync run's) */
	size_t nconfigured;
	int configured_from_cfg; /* 1: cfg_symbols_list (free with cfg_symbols_free) */
	int64_t db_size, wal_size;
	struct store_event integrity[2]; /* newest "quick" and "full" */
	int has_integrity[2];
	int64_t corruptions;
	struct store_event corruption;
	int has_corruption;
	struct store_event drill;
	int has_drill;
	int64_t sent[NCHANNELS], failed[NCHANNELS];
	struct store_alert *alerts;
	size_t nalerts;
	struct store_backup *backups;
	size_t nbackups;
	int64_t ban_until;    /* ms, 0 = none recorded */
	int64_t weight_limit; /* exchange's reported limit (state), 0 = not recorded */
	int64_t sync_skipped;
	int part_failed[NPARTS];  /* the CK_E* code a part failed with, 0 = read */
	int corrupt_seen;         /* some part failed because SQLite said the file is damaged */
	int64_t offsite_failures; /* offsite rows with status failed */
	struct store_event skew;  /* newest "clock_skew" (value: exchange - local, s) */
	int has_skew;
};

/* The output buffer, with a ceiling. */
struct mctx {
	struct sbuf b;
	const struct mdata *d;
};

struct metric_def {
	const char *name;
	const char *type;   /* "gauge", "counter", "histogram" */
	const char *labels; /* documentation: label names, comma-separated */
	const char *help;
	void (*emit)(struct mctx *m, const struct metric_def *def);
	enum part part; /* no samples when this part could not be read */
};

/* Label values escape backslash, double quote and newline (exposition format). */
static void buf_label_value(struct sbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			sbuf_printf(b, "\\\\");
		else if (*v == '"')
			sbuf_printf(b, "\\\"");
		else if (*v == '\n')
			sbuf_printf(b, "\\n");
		else
			sbuf_printf(b, "%c", *v);
	}
}

/* One sample: name[suffix]{k="v",...} value. labels: NULL or k, v, ..., NULL. */
static void sample(struct mctx *m, const struct metric_def *def, const char *suffix,
		   const char *const *labels, double v)
{
	struct sbuf *b = &m->b;
	size_t i;

	sbuf_printf(b, "%s%s", def->name, suffix ? suffix : "");
	if (labels && labels[0]) {
		sbuf_printf(b, "{");
		for (i = 0; labels[i] && labels[i + 1]; i += 2) {
			sbuf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
			buf_label_value(b, labels[i + 1]);
			sbuf_printf(b, "\"");
		}
		sbuf_printf(b, "}");
	}
	if (isinf(v))
		sbuf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		sbuf_printf(b, " %.0f\n", v);
	else
		sbuf_printf(b, " %.15g\n", v);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static double ms_to_s(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* ---- the families ---- */

static void emit_generated(struct mctx *m, const struct metric_def *def)
{
	sample(m, def, NULL, NULL, ms_to_s(m->d->now));
}

static void emit_start_time(struct mctx *m, const struct metric_def *def)
{
	if (m->d->live && m->d->live->started_ms)
		sample(m, def, NULL, NULL, ms_to_s(m->d->live->started_ms));
}

static void emit_http_server(struct mctx *m, const struct metric_def *def)
{
	if (m->d->live)
		sample(m, def, NULL, NULL, (double)m->d->live->http_requests);
}

/* The k-th configured interval. */
static const char *ilast_interval(const struct mdata *d, size_t k)
{
	return d->c->nintervals ? d->c->intervals[k] : d->c->interval;
}

static void emit_last_success(struct mctx *m, const struct metric_def *def)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		for (size_t k = 0; k < m->d->nilast; k++)
			sample(m, def, NULL,
			       L("command", run_commands[i], "interval", ilast_interval(m->d, k),
				 "market", m->d->c->market),
			       ms_to_s(m->d->ilast[i][k].last_ok_end));
}

static void emit_last_run(struct mctx *m, const struct metric_def *def)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		for (size_t k = 0; k < m->d->nilast; k++) {
			const struct ilast *r = &m->d->ilast[i][k];
			if (r->has_last)
				sample(m, def, NULL,
				       L("command", run_commands[i], "interval",
					 ilast_interval(m->d, k), "market", m->d->c->market),
				       ms_to_s(r->last_ended ? r->last_ended : r->last_started));
		}
}

static void emit_last_status(struct mctx *m, const struct metric_def *def)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		for (size_t k = 0; k < m->d->nilast; k++) {
			const struct ilast *r = &m->d->ilast[i][k];
			if (!r->has_last)
				continue;
			for (int s = RUN_OK; s <= RUN_TIMEOUT; s++)
				sample(m, def, NULL,
				       L("command", run_commands[i], "status",
					 run_status_name((enum run_status)s), "interval",
					 ilast_interval(m->d, k), "market", m->d->c->market),
				       r->last_status == (enum run_status)s);
		}
}

static void emit_runs(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	int s;
	for (i = 0; i < NCOMMANDS; i++)
		for (s = RUN_OK; s <= RUN_TIMEOUT; s++)
			sample(m, def, NULL,
			       L("command", run_commands[i], "status",
				 run_status_name((enum run_status)s)),
			       (double)m->d->runs[i].by_status[s]);
}

static void emit_duration(struct mctx *m, const struct metric_def *def)
{
	size_t i, k;
	char le[32];
	for (i = 0; i < NCOMMANDS; i++) {
		const struct hist *h = &m->d->hist[i];
		for (k = 0; k < NBUCKETS; k++) {
			snprintf(le, sizeof(le), "%g", duration_buckets[k]);
			sample(m, def, "_bucket", L("command", run_commands[i], "le", le),
			       (double)h->le[k]);
		}
		sample(m, def, "_bucket", L("command", run_commands[i], "le", "+Inf"),
		       (double)h->count);
		sample(m, def, "_sum", L("command", run_commands[i]), h->sum);
		sample(m, def, "_count", L("command", run_commands[i]), (double)h->count);
	}
}

static void emit_last_symbols(struct mctx *m, const struct metric_def *def)
{
	static const char *const outcomes[] = {"ok", "failed", "skipped"};
	for (size_t i = 0; i < NCOMMANDS; i++)
		for (size_t k = 0; k < m->d->nilast; k++) {
			const struct ilast *r = &m->d->ilast[i][k];
			const int64_t v[] = {r->last.symbols_ok, r->last.symbols_failed,
					     r->last.symbols_skipped};
			if (!r->has_last)
				continue;
			for (size_t o = 0; o < 3; o++)
				sample(m, def, NULL,
				       L("command", run_commands[i], "outcome", outcomes[o],
					 "interval", ilast_interval(m->d, k), "market",
					 m->d->c->market),
				       (double)v[o]);
		}
}

static void emit_skipped(struct mctx *m, const struct metric_def *def)
{
	int64_t v = m->d->sync_skipped;
	if (m->d->live && m->d->live->sync_skipped > v)
		v = m->d->live->sync_skipped;
	sample(m, def, NULL, NULL, (double)v);
}

static void emit_written(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < NCOMMANDS; i++)
		sample(m, def, NULL, L("command", run_commands[i]),
		       (double)m->d->runs[i].candles_written);
}

static void emit_revised(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < NCOMMANDS; i++)
		sample(m, def, NULL, L("command", run_commands[i]),
		       (double)m->d->runs[i].candles_revised);
}

static void emit_requests(struct mctx *m, const struct metric_def *def)
{
	int64_t v[5] = {0};
	static const char *const codes[] = {"other", "429", "418", "5xx", "network_error"};
	size_t i;
	for (i = 0; i < NCOMMANDS; i++) {
		const struct store_metrics_runs *r = &m->d->runs[i];
		v[0] += r->requests_other;
		v[1] += r->http_429;
		v[2] += r->http_418;
		v[3] += r->http_5xx;
		v[4] += r->net_errors;
	}
	for (i = 0; i < 5; i++)
		sample(m, def, NULL, L("code", codes[i]), (double)v[i]);
}

static void emit_retries(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	int64_t v = 0;
	for (i = 0; i < NCOMMANDS; i++)
		v += m->d->runs[i].retries;
	sample(m, def, NULL, NULL, (double)v);
}

static void emit_weight_used(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < NCOMMANDS; i++)
		if (m->d->runs[i].has_last)
			sample(m, def, NULL, L("command", run_commands[i]),
			       (double)m->d->runs[i].last.weight_used_max);
}

/* The budget sync works with: [sync] weight_limit, else the limit the exchange reported
 * at the newest sync, else the exchange's documented default; always written so that a
 * rule comparing the used weight with it has something to compare with. */
static void emit_weight_limit(struct mctx *m, const struct metric_def *def)
{
	const struct mdata *d = m->d;
	if (d->c->weight_limit > 0)
		sample(m, def, NULL, L("source", "config"), (double)d->c->weight_limit);
	else if (d->weight_limit > 0)
		sample(m, def, NULL, L("source", "exchange"), (double)d->weight_limit);
	else
		sample(m, def, NULL, L("source", "default"), (double)BINANCE_WEIGHT_DEFAULT);
}

static void emit_ban(struct mctx *m, const struct metric_def *def)
{
	sample(m, def, NULL, NULL, ms_to_s(m->d->ban_until));
}

static void emit_skew(struct mctx *m, const struct metric_def *def)
{
	if (m->d->has_skew)
		sample(m, def, NULL, NULL, m->d->skew.value);
}

static void emit_configured(struct mctx *m, const struct metric_def *def)
{
	const struct cfg *c = m->d->c;
	for (size_t k = 0; k < (c->nintervals ? c->nintervals : 1); k++)
		for (size_t i = 0; i < m->d->nconfigured; i++)
			sample(m, def, NULL,
			       L("symbol", m->d->configured[i], "interval",
				 c->nintervals ? c->intervals[k] : c->interval, "market",
				 c->market),
			       1);
}

/* The index of a configured interval, or -1. */
static int interval_index(const struct cfg *c, const char *iv)
{
	for (size_t k = 0; k < c->nintervals && k < CK_INTERVALS_MAX; k++)
		if (!strcmp(c->intervals[k], iv))
			return (int)k;
	return c->nintervals ? -1 : !strcmp(c->interval, iv) ? 0 : -1;
}

static void emit_candles(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < m->d->nseries; i++) {
		const struct store_metrics_series *s = &m->d->series[i];
		sample(m, def, NULL,
		       L("symbol", s->symbol, "interval", s->interval, "market", s->market),
		       (double)s->count);
	}
}

static void emit_newest_open(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < m->d->nseries; i++) {
		const struct store_metrics_series *s = &m->d->series[i];
		sample(m, def, NULL,
		       L("symbol", s->symbol, "interval", s->interval, "market", s->market),
		       ms_to_s(s->newest_open));
	}
}

static void emit_newest_close(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	/* close_time is the candle's last millisecond; the candle closed 1 ms later. */
	for (i = 0; i < m->d->nseries; i++) {
		const struct store_metrics_series *s = &m->d->series[i];
		sample(m, def, NULL,
		       L("symbol", s->symbol, "interval", s->interval, "market", s->market),
		       ms_to_s(s->newest_close + 1));
	}
}

/* Gap sums per symbol of each configured interval; confirmed = 0 missing, 1 holes. */
static void emit_gap_sums(struct mctx *m, const struct metric_def *def, int confirmed)
{
	const struct mdata *d = m->d;
	size_t i, j;
	for (i = 0; i < d->nseries; i++) {
		const struct store_metrics_series *s = &d->series[i];
		int64_t sum = 0;
		int k = interval_index(d->c, s->interval);
		if (k < 0 || strcmp(s->market, d->c->market))
			continue; /* the gaps read are of the configured market and intervals */
		for (j = 0; j < d->ngaps[k]; j++)
			if (!strcmp(d->gaps[k][j].symbol, s->symbol) &&
			    d->gaps[k][j].confirmed == confirmed)
				sum += d->gaps[k][j].count;
		sample(m, def, NULL,
		       L("symbol", s->symbol, "interval", s->interval, "market", s->market),
		       (double)sum);
	}
}

static void emit_missing(struct mctx *m, const struct metric_def *def)
{
	emit_gap_sums(m, def, 0);
}

static void emit_holes(struct mctx *m, const struct metric_def *def)
{
	emit_gap_sums(m, def, 1);
}

/* One interval: no interval label (as before intervals were a list); several: one
 * pair per interval, labelled. */
static void emit_stale(struct mctx *m, const struct metric_def *def)
{
	const struct cfg *c = m->d->c;
	if (c->nintervals <= 1) {
		sample(m, def, NULL, L("severity", "warning"), (double)c->stale_warn_s);
		sample(m, def, NULL, L("severity", "critical"), (double)c->stale_crit_s);
		return;
	}
	for (size_t k = 0; k < c->nintervals; k++) {
		struct cfg one = *c; /* borrows c's strings; never released */
		cfg_interval_use(&one, k);
		sample(m, def, NULL, L("severity", "warning", "interval", one.interval),
		       (double)one.stale_warn_s);
		sample(m, def, NULL, L("severity", "critical", "interval", one.interval),
		       (double)one.stale_crit_s);
	}
}

static void emit_interval(struct mctx *m, const struct metric_def *def)
{
	const struct cfg *c = m->d->c;
	if (c->nintervals <= 1) {
		sample(m, def, NULL, L("interval", c->interval), ms_to_s(c->interval_ms));
		return;
	}
	for (size_t k = 0; k < c->nintervals; k++)
		sample(m, def, NULL, L("interval", c->intervals[k]),
		       ms_to_s(kline_interval_ms(c->intervals[k])));
}

static void emit_db_size(struct mctx *m, const struct metric_def *def)
{
	sample(m, def, NULL, L("file", "main"), (double)m->d->db_size);
	sample(m, def, NULL, L("file", "wal"), (double)m->d->wal_size);
}

static const char *const integrity_checks[] = {"quick", "full"};

/* The newest recorded check of each kind; when this exposition's own reads met a
 * damaged page (SQLite said SQLITE_CORRUPT or NOTADB) that is proof too: the quick
 * check reads 0, measured now, whatever the last recorded check said. */
static void emit_integrity(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < 2; i++)
		if (i == 0 && m->d->corrupt_seen)
			sample(m, def, NULL, L("check", integrity_checks[i]), 0);
		else if (m->d->has_integrity[i])
			sample(m, def, NULL, L("check", integrity_checks[i]),
			       m->d->integrity[i].value ? 1 : 0);
}

static void emit_integrity_time(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < 2; i++)
		if (i == 0 && m->d->corrupt_seen)
			sample(m, def, NULL, L("check", integrity_checks[i]), ms_to_s(m->d->now));
		else if (m->d->has_integrity[i])
			sample(m, def, NULL, L("check", integrity_checks[i]),
			       ms_to_s(m->d->integrity[i].at));
}

static void emit_build_info(struct mctx *m, const struct metric_def *def)
{
	sample(m, def, NULL, L("version", CK_VERSION, "sqlite", store_backend_version(NULL)), 1);
}

static void emit_collect_ok(struct mctx *m, const struct metric_def *def)
{
	int p;
	for (p = PART_OPEN; p < NPARTS; p++)
		sample(m, def, NULL, L("part", part_names[p]), !m->d->part_failed[p]);
}

static void emit_corruptions(struct mctx *m, const struct metric_def *def)
{
	sample(m, def, NULL, NULL, (double)m->d->corruptions);
}

static void emit_corruption_time(struct mctx *m, const struct metric_def *def)
{
	if (m->d->has_corruption)
		sample(m, def, NULL, NULL, ms_to_s(m->d->corruption.at));
}

/* Tiers reported: hot and warm always, offsite when configured, and any tier that has
 * rows. Calls fn for each with the newest verified and the newest non-deleted backup. */
static void each_tier(struct mctx *m, const struct metric_def *def,
		      void (*fn)(struct mctx *, const struct metric_def *, const char *tier,
				 const struct store_backup *verified,
				 const struct store_backup *newest, int64_t nrows))
{
	const struct mdata *d = m->d;
	const char *tiers[8];
	size_t nt = 0, i, j;

	tiers[nt++] = "hot";
	tiers[nt++] = "warm";
	if (d->c->s3_bucket && *d->c->s3_bucket)
		tiers[nt++] = "offsite";
	for (i = 0; i < d->nbackups && nt < 8; i++) {
		for (j = 0; j < nt; j++)
			if (!strcmp(tiers[j], d->backups[i].tier))
				break;
		if (j == nt)
			tiers[nt++] = d->backups[i].tier;
	}
	for (j = 0; j < nt; j++) {
		const struct store_backup *v = NULL, *n = NULL;
		int64_t rows = 0;
		/* store_backup_list is newest first. */
		for (i = 0; i < d->nbackups; i++) {
			const struct store_backup *b = &d->backups[i];
			if (strcmp(b->tier, tiers[j]))
				continue;
			rows++;
			if (!strcmp(b->status, "deleted"))
				continue;
			if (!n)
				n = b;
			if (!v && !strcmp(b->status, "verified"))
				v = b;
		}
		fn(m, def, tiers[j], v, n, rows);
	}
}

static void tier_last_success(struct mctx *m, const struct metric_def *def, const char *tier,
			      const struct store_backup *v, const struct store_backup *n,
			      int64_t rows)
{
	(void)n;
	(void)rows;
	sample(m, def, NULL, L("tier", tier), v ? ms_to_s(v->created) : 0);
}

static void tier_age(struct mctx *m, const struct metric_def *def, const char *tier,
		     const struct store_backup *v, const struct store_backup *n, int64_t rows)
{
	(void)n;
	(void)rows;
	if (v)
		sample(m, def, NULL, L("tier", tier), ms_to_s(m->d->now - v->created));
}

static void tier_size(struct mctx *m, const struct metric_def *def, const char *tier,
		      const struct store_backup *v, const struct store_backup *n, int64_t rows)
{
	(void)n;
	(void)rows;
	if (v)
		sample(m, def, NULL, L("tier", tier), (double)v->size);
}

static void tier_verified(struct mctx *m, const struct metric_def *def, const char *tier,
			  const struct store_backup *v, const struct store_backup *n, int64_t rows)
{
	(void)v;
	(void)rows;
	/* an offsite upload that failed never reached verification: see
	 * candlekeep_backup_upload_ok */
	if (n && !(!strcmp(tier, "offsite") && !strcmp(n->status, "failed")))
		sample(m, def, NULL, L("tier", tier), !strcmp(n->status, "verified"));
}

static void emit_backup_last(struct mctx *m, const struct metric_def *def)
{
	each_tier(m, def, tier_last_success);
}

static void emit_backup_age(struct mctx *m, const struct metric_def *def)
{
	each_tier(m, def, tier_age);
}

static void emit_backup_size(struct mctx *m, const struct metric_def *def)
{
	each_tier(m, def, tier_size);
}

static void emit_backup_verified(struct mctx *m, const struct metric_def *def)
{
	each_tier(m, def, tier_verified);
}

/* 1 if the newest offsite attempt uploaded and checked its object, 0 if it failed. */
static void tier_upload(struct mctx *m, const struct metric_def *def, const char *tier,
			const struct store_backup *v, const struct store_backup *n, int64_t rows)
{
	(void)v;
	(void)rows;
	if (n && !strcmp(tier, "offsite"))
		sample(m, def, NULL, L("tier", tier), !strcmp(n->status, "verified"));
}

static void emit_upload_ok(struct mctx *m, const struct metric_def *def)
{
	each_tier(m, def, tier_upload);
}

static void emit_upload_failures(struct mctx *m, const struct metric_def *def)
{
	if ((m->d->c->s3_bucket && *m->d->c->s3_bucket) || m->d->offsite_failures)
		sample(m, def, NULL, L("tier", "offsite"), (double)m->d->offsite_failures);
}

/* audit records a drill's outcome as "restored and verified ..." or "failed: ...". */
static void emit_drill_ok(struct mctx *m, const struct metric_def *def)
{
	if (m->d->has_drill)
		sample(m, def, NULL, NULL, strncmp(m->d->drill.detail, "failed", 6) != 0);
}

static void emit_drill(struct mctx *m, const struct metric_def *def)
{
	if (m->d->has_drill)
		sample(m, def, NULL, NULL, m->d->drill.value);
}

static void emit_drill_time(struct mctx *m, const struct metric_def *def)
{
	if (m->d->has_drill)
		sample(m, def, NULL, NULL, ms_to_s(m->d->drill.at));
}

static void emit_alerts_sent(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < NCHANNELS; i++)
		sample(m, def, NULL, L("channel", channels[i]), (double)m->d->sent[i]);
}

static void emit_alerts_failed(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < NCHANNELS; i++)
		sample(m, def, NULL, L("channel", channels[i]), (double)m->d->failed[i]);
}

static void emit_alert_firing(struct mctx *m, const struct metric_def *def)
{
	size_t i;
	for (i = 0; i < m->d->nalerts; i++)
		if (!strcmp(m->d->alerts[i].state, "firing"))
			sample(m, def, NULL,
			       L("key", m->d->alerts[i].key, "severity", m->d->alerts[i].severity),
			       1);
}

/* The table: one row per family, in exposition order. */
static const struct metric_def metric_table[] = {
	{"candlekeep_metrics_generated_timestamp_seconds", "gauge", "",
	 "When this exposition was rendered (a textfile older than the scrape interval is stale).",
	 emit_generated, PART_NONE},
	{"candlekeep_build_info", "gauge", "version,sqlite",
	 "Always 1; the labels name the candlekeep version and the SQLite library it runs with.",
	 emit_build_info, PART_NONE},
	{"candlekeep_metrics_collect_ok", "gauge", "part",
	 "1 if this exposition could read that part of the database (open, runs, candles, gaps, "
	 "events, alerts, backups, state), 0 if not: its families then have no samples.",
	 emit_collect_ok, PART_NONE},
	{"candlekeep_process_start_time_seconds", "gauge", "",
	 "Start time of the daemon serving /metrics (absent for one-shot commands).",
	 emit_start_time, PART_NONE},
	{"candlekeep_http_server_requests_total", "counter", "",
	 "HTTP requests served by the daemon since it started.", emit_http_server, PART_NONE},
	{"candlekeep_sync_last_success_timestamp_seconds", "gauge", "command,interval,market",
	 "End time of the newest run that finished with status ok (0 = never).", emit_last_success,
	 PART_RUNS},
	{"candlekeep_sync_last_run_timestamp_seconds", "gauge", "command,interval,market",
	 "End time of the newest finished run.", emit_last_run, PART_RUNS},
	{"candlekeep_sync_last_run_status", "gauge", "command,status,interval,market",
	 "1 for the status of the newest finished run (ok, partial, failed, timeout), 0 for the "
	 "others.",
	 emit_last_status, PART_RUNS},
	{"candlekeep_sync_runs_total", "counter", "command,status",
	 "Finished runs by status, counted from the run records.", emit_runs, PART_RUNS},
	{"candlekeep_sync_duration_seconds", "histogram", "command",
	 "Wall-clock duration of finished runs, from the run records.", emit_duration, PART_RUNS},
	{"candlekeep_sync_last_run_symbols", "gauge", "command,outcome,interval,market",
	 "Symbols by outcome (ok, failed, skipped) in the newest finished run.", emit_last_symbols,
	 PART_RUNS},
	{"candlekeep_sync_skipped_total", "counter", "",
	 "Scheduled syncs the daemon skipped because the previous one still ran.", emit_skipped,
	 PART_EVENTS},
	{"candlekeep_candles_written_total", "counter", "command", "New candles stored by runs.",
	 emit_written, PART_RUNS},
	{"candlekeep_candles_revised_total", "counter", "command",
	 "Stored candles replaced because the exchange sent different values.", emit_revised,
	 PART_RUNS},
	{"candlekeep_exchange_requests_total", "counter", "code",
	 "Exchange HTTP requests by outcome: 429 (rate limited), 418 (IP banned), 5xx, "
	 "network_error (no response) and other (every other response).",
	 emit_requests, PART_RUNS},
	{"candlekeep_exchange_retries_total", "counter", "", "Exchange requests retried.",
	 emit_retries, PART_RUNS},
	{"candlekeep_exchange_weight_used", "gauge", "command",
	 "Highest X-MBX-USED-WEIGHT-1M the exchange reported during the newest finished run.",
	 emit_weight_used, PART_RUNS},
	{"candlekeep_exchange_weight_limit", "gauge", "",
	 "Per-minute request weight limit sync works with; source: config ([sync] weight_limit), "
	 "exchange (reported by exchangeInfo at the newest sync) or default (2400).",
	 emit_weight_limit, PART_STATE},
	{"candlekeep_exchange_ban_until_timestamp_seconds", "gauge", "",
	 "End of the newest IP ban (HTTP 418) the exchange announced (0 = none recorded).",
	 emit_ban, PART_STATE},
	{"candlekeep_clock_skew_seconds", "gauge", "",
	 "The exchange's clock minus the local clock at the start of the newest sync (positive: "
	 "the exchange is ahead).",
	 emit_skew, PART_EVENTS},
	{"candlekeep_symbol_configured", "gauge", "symbol,interval,market",
	 "1 for each symbol candlekeep is configured to keep (with symbols = all: the symbols "
	 "trading in the newest exchangeInfo sync read; a delisted one is not, its candles are "
	 "kept).",
	 emit_configured, PART_RUNS},
	{"candlekeep_candles_stored", "gauge", "symbol,interval,market",
	 "Candles stored in the database.", emit_candles, PART_CANDLES},
	{"candlekeep_candle_newest_open_timestamp_seconds", "gauge", "symbol,interval,market",
	 "Open time of the newest stored (closed) candle.", emit_newest_open, PART_CANDLES},
	{"candlekeep_candle_newest_close_timestamp_seconds", "gauge", "symbol,interval,market",
	 "Time the newest stored candle closed; staleness is measured from it.", emit_newest_close,
	 PART_CANDLES},
	{"candlekeep_candles_missing", "gauge", "symbol,interval,market",
	 "Candles missing inside the stored range (gaps not confirmed empty by the exchange).",
	 emit_missing, PART_GAPS},
	{"candlekeep_candles_exchange_holes", "gauge", "symbol,interval,market",
	 "Candles inside the stored range that the exchange confirmed it never produced.",
	 emit_holes, PART_GAPS},
	{"candlekeep_stale_threshold_seconds", "gauge", "severity,interval",
	 "Time since the newest candle closed beyond which data is stale ([health] stale_warn, "
	 "stale_crit; derived from the interval and the sync schedule; labelled by interval when"
	 " several are configured).",
	 emit_stale, PART_NONE},
	{"candlekeep_interval_seconds", "gauge", "interval",
	 "Length of each configured candle interval.", emit_interval, PART_NONE},
	{"candlekeep_database_size_bytes", "gauge", "file",
	 "Size of the database file (main) and its write-ahead log (wal).", emit_db_size,
	 PART_OPEN},
	{"candlekeep_database_integrity_ok", "gauge", "check",
	 "Result of the newest integrity check (1 ok, 0 damaged) by kind: quick (the daemon's "
	 "health "
	 "job; also 0 when this exposition's own reads found a damaged page) and full "
	 "([schedule] integrity_check).",
	 emit_integrity, PART_NONE},
	{"candlekeep_database_integrity_check_timestamp_seconds", "gauge", "check",
	 "Time of the newest integrity check.", emit_integrity_time, PART_NONE},
	{"candlekeep_database_corruption_detections_total", "counter", "",
	 "Times database corruption was detected.", emit_corruptions, PART_EVENTS},
	{"candlekeep_database_last_corruption_timestamp_seconds", "gauge", "",
	 "Time corruption was last detected.", emit_corruption_time, PART_EVENTS},
	{"candlekeep_backup_last_success_timestamp_seconds", "gauge", "tier",
	 "Creation time of the newest verified backup of a tier (0 = none).", emit_backup_last,
	 PART_BACKUPS},
	{"candlekeep_backup_age_seconds", "gauge", "tier",
	 "Age of the newest verified backup when this exposition was rendered.", emit_backup_age,
	 PART_BACKUPS},
	{"candlekeep_backup_size_bytes", "gauge", "tier",
	 "Size of the newest verified backup of a tier.", emit_backup_size, PART_BACKUPS},
	{"candlekeep_backup_verified", "gauge", "tier",
	 "1 if the newest backup of a tier was written and passed verification, 0 if it failed "
	 "(not written, or not verified).",
	 emit_backup_verified, PART_BACKUPS},
	{"candlekeep_backup_upload_ok", "gauge", "tier",
	 "1 if the newest offsite upload was stored and checked, 0 if it failed (local backups "
	 "kept).",
	 emit_upload_ok, PART_BACKUPS},
	{"candlekeep_backup_upload_failures_total", "counter", "tier",
	 "Offsite uploads that failed after their retries (rows kept in the backups table).",
	 emit_upload_failures, PART_BACKUPS},
	{"candlekeep_restore_drill_ok", "gauge", "",
	 "1 if the newest restore drill restored and verified a backup, 0 if it failed.",
	 emit_drill_ok, PART_EVENTS},
	{"candlekeep_restore_drill_duration_seconds", "gauge", "",
	 "Duration of the newest restore drill (the measured recovery time).", emit_drill,
	 PART_EVENTS},
	{"candlekeep_restore_drill_timestamp_seconds", "gauge", "",
	 "Time of the newest restore drill.", emit_drill_time, PART_EVENTS},
	{"candlekeep_alerts_sent_total", "counter", "channel",
	 "Alert deliveries a channel accepted (slack, pagerduty, email).", emit_alerts_sent,
	 PART_EVENTS},
	{"candlekeep_alert_failures_total", "counter", "channel",
	 "Alert deliveries that failed after retries.", emit_alerts_failed, PART_EVENTS},
	{"candlekeep_alert_firing", "gauge", "key,severity",
	 "1 for each condition candlekeep's own alerting currently reports as firing.",
	 emit_alert_firing, PART_ALERTS},
};
#define NMETRICS (sizeof(metric_table) / sizeof(metric_table[0]))

void metrics_print_table(FILE *f)
{
	size_t i;
	fprintf(f, "| metric | type | labels | meaning |\n|---|---|---|---|\n");
	for (i = 0; i < NMETRICS; i++)
		fprintf(f, "| `%s` | %s | %s | %s |\n", metric_table[i].name, metric_table[i].type,
			metric_table[i].labels, metric_table[i].help);
}

/* ---- collection ---- */

struct hist_arg {
	struct hist *h;
};

static int hist_add(int64_t ms, void *arg)
{
	struct hist *h = ((struct hist_arg *)arg)->h;
	double s = ms_to_s(ms);
	size_t k;
	for (k = 0; k < NBUCKETS; k++)
		if (s <= duration_buckets[k])
			h->le[k]++;
	h->count++;
	h->sum += s;
	return 0;
}

static int64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int newest_event(struct store *st, const char *kind, const char *subject,
			struct store_event *e, int *has, struct ck_err *err)
{
	struct store_event *v = NULL;
	size_t n = 0;
	*has = 0;
	if (store_events(st, kind, subject, 0, 1, &v, &n, err))
		return err->code;
	if (n) {
		*e = v[0];
		*has = 1;
	}
	free(v);
	return 0;
}

static void mdata_release(struct mdata *d)
{
	free(d->series);
	for (size_t k = 0; k < CK_INTERVALS_MAX; k++)
		free(d->gaps[k]);
	if (d->configured_from_cfg)
		cfg_symbols_free(d->configured, d->nconfigured);
	else if (d->configured) {
		size_t i;
		for (i = 0; i < d->nconfigured; i++)
			free(d->configured[i]);
		free(d->configured);
	}
	free(d->alerts);
	free(d->backups);
}

/* symbols = all: the trading symbols of the stored listing (listing.h); *have 0 when
 * sync has stored none yet. */
static int listing_configured(struct store *st, struct mdata *d, int *have, struct ck_err *err)
{
	struct listing l;
	size_t i, k = 0, n;
	int rc = 0;

	*have = 0;
	if (listing_load(st, &l, err))
		return err->code;
	if (!l.started)
		goto out;
	*have = 1;
	n = listing_count(&l, 1);
	if (n && !(d->configured = calloc(n, sizeof(char *)))) {
		rc = ck_err_set(err, CK_ENOMEM, "metrics: out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (!listing_trading(&l.e[i]))
			continue;
		if (!(d->configured[k] = strdup(l.e[i].symbol))) {
			rc = ck_err_set(err, CK_ENOMEM, "metrics: out of memory");
			break;
		}
		k++;
	}
	d->nconfigured = k;
out:
	listing_release(&l);
	return rc;
}

static int configured_symbols(struct store *st, struct mdata *d, struct ck_err *err)
{
	struct ck_err e2 = {0, ""};
	struct store_run_symbol *o = NULL;
	size_t n = 0, i;
	int have;

	if (cfg_symbols_list(d->c, &d->configured, &d->nconfigured, &e2) == 0) {
		d->configured_from_cfg = 1;
		return 0;
	}
	if (e2.code != CK_ENOTFOUND)
		return 0; /* an empty list is reported as no configured symbols */
	/* symbols = all: the trading symbols of the stored listing (a delisted symbol is
	 * not configured: never stale, never missing), or before sync stored one, the
	 * symbols of the newest finished sync. */
	if (listing_configured(st, d, &have, err))
		return err->code;
	if (have)
		return 0;
	if (!d->runs[0].has_last)
		return 0;
	if (store_health_run_symbols(st, d->runs[0].last_id, &o, &n, err))
		return err->code;
	if (n && !(d->configured = calloc(n, sizeof(char *)))) {
		free(o);
		return ck_err_set(err, CK_ENOMEM, "metrics: out of memory");
	}
	for (i = 0; i < n; i++) {
		if (!(d->configured[i] = strdup(o[i].symbol))) {
			d->nconfigured = i;
			free(o);
			return ck_err_set(err, CK_ENOMEM, "metrics: out of memory");
		}
	}
	d->nconfigured = n;
	free(o);
	return 0;
}

/* The newest finished and ok run of command i in each configured interval. */
static int collect_interval_runs(struct store *st, struct mdata *d, size_t i, struct ck_err *err)
{
	size_t n = d->c->nintervals ? d->c->nintervals : 1;

	d->nilast = n < CK_INTERVALS_MAX ? n : CK_INTERVALS_MAX;
	for (size_t k = 0; k < d->nilast; k++) {
		struct ilast *r = &d->ilast[i][k];
		struct store_run *v = NULL;
		size_t nv = 0;

		if (store_interval_runs(st, run_commands[i], ilast_interval(d, k), ILAST_SCAN, &v,
					&nv, err))
			return err->code;
		for (size_t j = 0; j < nv; j++) {
			if (v[j].status == RUN_RUNNING)
				continue;
			if (!r->has_last) {
				r->has_last = 1;
				r->last_id = v[j].id;
				r->last_started = v[j].started;
				r->last_ended = v[j].ended;
				r->last_status = v[j].status;
				r->last = v[j].counts;
			}
			if (v[j].status == RUN_OK) {
				r->last_ok_end = v[j].ended;
				break;
			}
		}
		free(v);
	}
	return 0;
}

static int collect_runs(struct store *st, struct mdata *d, struct ck_err *err)
{
	size_t i;
	for (i = 0; i < NCOMMANDS; i++) {
		struct hist_arg ha = {&d->hist[i]};
		if (store_metrics_runs(st, run_commands[i], &d->runs[i], err) ||
		    collect_interval_runs(st, d, i, err) ||
		    store_metrics_durations(st, run_commands[i], hist_add, &ha, err))
			return err->code;
	}
	return configured_symbols(st, d, err);
}

static int collect_candles(struct store *st, struct mdata *d, struct ck_err *err)
{
	return store_metrics_series(st, &d->series, &d->nseries, err);
}

static int collect_gaps(struct store *st, struct mdata *d, struct ck_err *err)
{
	const struct cfg *c = d->c;
	if (!c->nintervals)
		return store_gaps(st, NULL, c->interval, c->interval_ms, 0, INT64_MAX, 1,
				  &d->gaps[0], &d->ngaps[0], err);
	for (size_t k = 0; k < c->nintervals && k < CK_INTERVALS_MAX; k++)
		if (store_gaps(st, NULL, c->intervals[k], kline_interval_ms(c->intervals[k]), 0,
			       INT64_MAX, 1, &d->gaps[k], &d->ngaps[k], err))
			return err->code;
	return 0;
}

static int collect_events(struct store *st, struct mdata *d, struct ck_err *err)
{
	size_t i;
	for (i = 0; i < 2; i++)
		if (newest_event(st, event_kind_name(EV_INTEGRITY_CHECK), integrity_checks[i],
				 &d->integrity[i], &d->has_integrity[i], err))
			return err->code;
	if (store_event_count(st, event_kind_name(EV_CORRUPTION_DETECTED), NULL, &d->corruptions,
			      err) ||
	    newest_event(st, event_kind_name(EV_CORRUPTION_DETECTED), NULL, &d->corruption,
			 &d->has_corruption, err) ||
	    newest_event(st, event_kind_name(EV_RESTORE_DRILL), NULL, &d->drill, &d->has_drill,
			 err) ||
	    newest_event(st, event_kind_name(EV_CLOCK_SKEW), NULL, &d->skew, &d->has_skew, err) ||
	    store_event_count(st, event_kind_name(EV_SYNC_SKIPPED), NULL, &d->sync_skipped, err))
		return err->code;
	for (i = 0; i < NCHANNELS; i++)
		if (store_event_count(st, event_kind_name(EV_ALERT_SENT), channels[i], &d->sent[i],
				      err) ||
		    store_event_count(st, event_kind_name(EV_ALERT_FAILED), channels[i],
				      &d->failed[i], err))
			return err->code;
	return 0;
}

static int collect_alerts(struct store *st, struct mdata *d, struct ck_err *err)
{
	return store_alert_list(st, &d->alerts, &d->nalerts, err);
}

static int collect_backups(struct store *st, struct mdata *d, struct ck_err *err)
{
	size_t i;
	if (store_backup_list(st, NULL, &d->backups, &d->nbackups, err))
		return err->code;
	for (i = 0; i < d->nbackups; i++)
		if (!strcmp(d->backups[i].tier, "offsite") &&
		    !strcmp(d->backups[i].status, "failed"))
			d->offsite_failures++;
	return 0;
}

/* A positive integer state value, or 0 when it is not recorded. */
static int state_int(struct store *st, const char *key, int64_t *out, struct ck_err *err)
{
	struct ck_err e2 = {0, ""};
	char buf[64];
	*out = 0;
	if (store_state_get(st, key, buf, sizeof(buf), &e2) == 0) {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (!errno && end != buf && !*end && v > 0)
			*out = v;
	} else if (e2.code != CK_ENOTFOUND) {
		*err = e2;
		return err->code;
	}
	return 0;
}

static int collect_state(struct store *st, struct mdata *d, struct ck_err *err)
{
	return state_int(st, "ban_until", &d->ban_until, err) ||
			       state_int(st, "exchange.weight_limit", &d->weight_limit, err)
		       ? err->code
		       : 0;
}

/* Reads every part; a part that fails is recorded (and logged by the caller through
 * *first), never fatal. */
static void mdata_collect(struct store *st, struct mdata *d, struct ck_err *first)
{
	static int (*const fns[NPARTS])(struct store *, struct mdata *, struct ck_err *) = {
		[PART_RUNS] = collect_runs,     [PART_CANDLES] = collect_candles,
		[PART_GAPS] = collect_gaps,     [PART_EVENTS] = collect_events,
		[PART_ALERTS] = collect_alerts, [PART_BACKUPS] = collect_backups,
		[PART_STATE] = collect_state,
	};
	char path[4200];
	int p;

	d->db_size = file_size(store_path(st));
	snprintf(path, sizeof(path), "%s-wal", store_path(st));
	d->wal_size = file_size(path);
	for (p = PART_RUNS; p < NPARTS; p++) {
		struct ck_err e = {0, ""};
		if (!fns[p](st, d, &e))
			continue;
		d->part_failed[p] = e.code ? e.code : CK_EDB;
		if (e.code == CK_ECORRUPT)
			d->corrupt_seen = 1;
		if (!first->code) {
			*first = e;
			ck_err_wrap(first, "reading %s", part_names[p]);
		}
	}
}

int metrics_render(struct store *st, const struct cfg *c, const struct metrics_live *live,
		   char **out, size_t *len, struct ck_err *problem, struct ck_err *err)
{
	struct mdata d;
	struct mctx m;
	size_t i;

	*out = NULL;
	*len = 0;
	memset(&d, 0, sizeof(d));
	memset(&m, 0, sizeof(m));
	d.c = c;
	d.live = live;
	d.now = now_ms();
	if (st) {
		problem->code = 0;
		problem->msg[0] = '\0';
		mdata_collect(st, &d, problem);
	} else {
		for (int p = PART_OPEN; p < NPARTS; p++)
			d.part_failed[p] = problem->code ? problem->code : CK_EDB;
		d.corrupt_seen = problem->code == CK_ECORRUPT;
	}
	m.d = &d;
	m.b.max = METRICS_MAX;
	for (i = 0; i < NMETRICS; i++) {
		const struct metric_def *def = &metric_table[i];
		sbuf_printf(&m.b, "# HELP %s %s\n# TYPE %s %s\n", def->name, def->help, def->name,
			    def->type);
		if (!d.part_failed[def->part])
			def->emit(&m, def);
	}
	mdata_release(&d);
	if (m.b.failed || !m.b.p) {
		free(m.b.p);
		return ck_err_set(err, CK_ENOMEM,
				  "metrics: the exposition exceeds %u MiB or memory "
				  "ran out",
				  METRICS_MAX >> 20);
	}
	*out = m.b.p;
	*len = m.b.len;
	return 0;
}
