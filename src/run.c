/* run.c — run bookkeeping of a sync or backfill run (contract in run.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "event.h"
#include "kline.h"
#include "log.h"
#include "run.h"
#include "utc.h"
#include "banned.h"

const char *sync_failure_class(const char *why)
{
	/* Classes are coarse on purpose: one outage reaches the symbols as connection
	 * errors and 5xx alike, and must page once ("http"). */
	static const struct {
		const char *text, *class;
	} rules[] = {
		{"HTTP 418", "ban"},
		{"banned", "ban"},
		{"HTTP 429", "ban"},
		{"HTTP 403", "ban"},
		{"HTTP 451", "ban"},
		{"deadline", "timeout"},
		{"invalid data", "invalid"},
		{"stopped by a signal", "stopped"},
		{"the run stopped", "stopped"},
		{"(not retried)", "rejected"},
		{"disk", "store"},
		{"database", "store"},
		{"HTTP 5", "http"},
		{"bad response body", "http"},
		{"gave up after", "http"},
	};
	size_t i;

	if (!why)
		return "other";
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strstr(why, rules[i].text))
			return rules[i].class;
	return "other";
}

/* Built-in alerting: one alert per failure class, "<command>_failed:<class>" (critical
 * unless the run was partial), naming the symbols that failed that way; a class with no
 * failing symbol any more resolves. Delivery is bounded by [alert] timeout_ms per
 * channel, logged and counted, never fatal. */
static void run_alert(struct store *st, const struct cfg *cfg, const struct run_sync *r)
{
	const struct sync_result *res = &r->res;
	struct alert_member *m = calloc(res->nsymbols + 1, sizeof(*m));
	struct ck_err err = {0, ""};
	char prefix[32], what[64], ok[128];
	size_t i, n = 0;

	if (!m) {
		log_error(r->command, "alerts: out of memory");
		return;
	}
	if (cfg->nintervals > 1) { /* one set of alerts per interval */
		snprintf(prefix, sizeof(prefix), "%s_failed_%s", r->command, cfg->interval);
		snprintf(what, sizeof(what), "%s %s %s", r->command, cfg->interval,
			 run_status_name(r->status));
		snprintf(ok, sizeof(ok), "%s %s ok again: %zu symbols up to date", r->command,
			 cfg->interval, res->nsymbols);
	} else {
		snprintf(prefix, sizeof(prefix), "%s_failed", r->command);
		snprintf(what, sizeof(what), "%s %s", r->command, run_status_name(r->status));
		snprintf(ok, sizeof(ok), "%s ok again: %zu symbols up to date", r->command,
			 res->nsymbols);
	}
	if (r->status != RUN_OK) {
		for (i = 0; i < res->nsymbols; i++) {
			const struct sync_symbol *s = &res->symbols[i];
			if (s->status && strcmp(s->status, "failed"))
				continue; /* ok, or skipped (not listed: health reports it) */
			m[n].name = s->symbol;
			m[n].note = s->error;
			m[n].group = sync_failure_class(s->error);
			/* not fetched: whether its earlier problem persists is not known */
			m[n].unknown =
				strcmp(m[n].group, "invalid") && strcmp(m[n].group, "rejected");
			n++;
		}
		if (!n) { /* failed before any symbol: the run-wide error is the problem */
			const char *why = r->error[0] ? r->error : what;
			m[n].note = why;
			m[n].group = sync_failure_class(why);
			n++;
		}
	}
	if (alert_groups(st, cfg, prefix, r->status == RUN_PARTIAL ? ALERT_WARNING : ALERT_CRITICAL,
			 what, m, n, ok, &err))
		log_warn(r->command, "alerts: %s", err.msg);
	free(m);
}

/* The run's status and exit code from the engine's return code and result. */
static void run_judge(struct run_sync *r, int rc)
{
	struct sync_result *res = &r->res;

	if (res->timed_out) {
		r->status = RUN_TIMEOUT;
		r->exit_code = RUN_EXIT_TIMEOUT;
	} else if (rc || res->counts.symbols_failed || res->stopped) {
		r->status = res->counts.symbols_ok ? RUN_PARTIAL : RUN_FAILED;
		r->exit_code = RUN_EXIT_FAILED;
	} else if (res->none_listed || (res->nsymbols && !res->elsewhere &&
					res->counts.symbols_skipped == (int64_t)res->nsymbols)) {
		/* Nothing configured exists on the exchange: a typo or a wrong market, not a
		 * healthy run with nothing to do. Judged on the configured symbols: a worker
		 * whose share (the rest claimed by others) is only unlisted ones is fine. */
		r->status = RUN_FAILED;
		r->exit_code = RUN_EXIT_FAILED;
		if (!res->error[0])
			snprintf(res->error, sizeof(res->error),
				 "none of the %zu configured symbols is listed on the exchange"
				 " (check [main] symbols / --symbols and [main] base_url)",
				 res->nsymbols + res->elsewhere);
	} else {
		r->status = RUN_OK;
		r->exit_code = RUN_EXIT_OK;
	}
}

/* A run that went well with the clocks far apart says so in its record (the candles
 * were closed by the earlier clock; see sync.c). */
static void run_skew_warning(struct run_sync *r, const struct cfg *cfg, int rc)
{
	int64_t skew = r->res.clock_skew_ms, max = cfg->max_clock_skew_s * 1000;

	if (r->status == RUN_OK && !r->res.error[0] && !rc && (skew > max || skew < -max))
		snprintf(r->res.error, sizeof(r->res.error),
			 "warning: the exchange's clock is %+.1f s from the local clock"
			 " (over [sync] max_clock_skew %" PRId64 " s); candles were closed"
			 " by the earlier clock; check NTP",
			 (double)skew / 1000.0, cfg->max_clock_skew_s);
}

/* The run record's symbol rows and its end; record_error says why it failed. */
static void run_record(struct store *st, struct run_sync *r)
{
	struct ck_err err = {0, ""};

	for (size_t i = 0; i < r->res.nsymbols; i++) {
		struct sync_symbol *s = &r->res.symbols[i];
		if (store_run_symbol(st, r->run_id, s->symbol, s->status ? s->status : "failed",
				     s->written, s->revised, s->newest_open,
				     s->error[0] ? s->error : NULL, &err))
			log_error(r->command, "%s", err.msg);
	}
	r->res.counts.server_time = r->res.server_time;
	if (store_run_end(st, r->run_id, r->status, r->exit_code, now_ms(), &r->res.counts,
			  r->error[0] ? r->error : NULL, &err)) {
		snprintf(r->record_error, sizeof(r->record_error), "%s", err.msg);
		if (!r->exit_code)
			r->exit_code = RUN_EXIT_FAILED;
	}
}

/* For health's data-loss guard: the candle total after the run (event candle_count,
 * subject interval, detail the run id). */
static void run_candle_count(struct store *st, const struct cfg *cfg, const struct run_sync *r)
{
	struct ck_err err = {0, ""};
	char rid[24];
	int64_t total = 0;

	snprintf(rid, sizeof(rid), "%" PRId64, r->run_id);
	if (store_candle_total(st, cfg->interval, &total, &err) ||
	    store_event_add(st, now_ms(), event_kind_name(EV_CANDLE_COUNT), cfg->interval,
			    (double)total, rid, &err))
		log_warn(r->command, "%s", err.msg);
}

int run_sync(struct store *st, const struct cfg *cfg, const char *command,
	     const struct sync_opts *o, volatile sig_atomic_t *stop, int64_t deadline_mono,
	     struct run_sync *r, struct ck_err *err)
{
	struct ck_err serr = {0, ""};
	int64_t newest = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->command = command;
	r->interval = cfg->interval;
	r->started_ms = now_ms();
	log_kv(LOG_INFO, command,
	       ((const char *[]){"db", cfg->db, "base_url", cfg->base_url, "interval",
				 cfg->interval, NULL}),
	       "start");
	if (store_run_abandon(st, command, err) ||
	    store_run_begin(st, command, cfg->interval, r->started_ms, &r->run_id, err))
		return err->code;
	rc = sync_run(st, cfg, o, stop, deadline_mono, &r->res, &serr);
	run_judge(r, rc);
	run_skew_warning(r, cfg, rc);
	snprintf(r->error, sizeof(r->error), "%s",
		 r->res.error[0] ? r->res.error
		 : rc            ? serr.msg
				 : "");
	/* The record and the candle count in one transaction: one fsync, not one per
	 * symbol (a failed commit leaves no record: record_error says so). */
	{
		struct ck_err terr = {0, ""};
		int tx = store_tx_begin(st, &terr) == 0;
		if (!tx)
			log_warn(command, "the run's record is written without a transaction: %s",
				 terr.msg);
		run_record(st, r);
		run_candle_count(st, cfg, r);
		if (tx && store_tx_commit(st, &terr) && !r->record_error[0]) {
			snprintf(r->record_error, sizeof(r->record_error), "%s", terr.msg);
			if (!r->exit_code)
				r->exit_code = RUN_EXIT_FAILED;
		}
	}
	run_alert(st, cfg, r);
	for (size_t i = 0; i < r->res.nsymbols; i++)
		if (r->res.symbols[i].newest_open > newest)
			newest = r->res.symbols[i].newest_open;
	snprintf(r->newest, sizeof(r->newest), "none");
	if (newest)
		kline_time_str(newest, r->newest, sizeof(r->newest));
	snprintf(r->elapsed, sizeof(r->elapsed), "%.1f",
		 (double)(now_ms() - r->started_ms) / 1000.0);
	return 0;
}

void run_sync_log_end(const struct run_sync *r)
{
	char ec[8], w[24], f[24];

	snprintf(ec, sizeof(ec), "%d", r->exit_code);
	snprintf(w, sizeof(w), "%" PRId64, r->res.counts.candles_written);
	snprintf(f, sizeof(f), "%" PRId64, r->res.counts.symbols_failed);
	log_kv(r->exit_code ? LOG_WARN : LOG_INFO, r->command,
	       ((const char *[]){"status", run_status_name(r->status), "exit", ec, "elapsed_s",
				 r->elapsed, "written", w, "failed", f, "interval",
				 r->interval ? r->interval : "", NULL}),
	       "end");
}

void run_sync_release(struct run_sync *r)
{
	if (!r)
		return;
	sync_result_release(&r->res);
}

int run_intervals(const struct cfg *c, volatile sig_atomic_t *stop, run_interval_fn *run,
		  run_skip_fn *skip, void *arg)
{
	int worst = 0;

	for (size_t i = 0; i < c->nintervals; i++) {
		struct cfg one = *c; /* borrows c's strings; never released */
		int rc;

		cfg_interval_use(&one, i);
		if (i && (*stop || worst == RUN_EXIT_TIMEOUT)) {
			skip(arg, &one, *stop != 0);
			continue;
		}
		rc = run(arg, &one, i);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}
