/* cmd_sync.c — `candlekeep sync`: every configured symbol up to the exchange's newest
 * closed candle, gaps repaired; one run record; exit 0 / 1 / 124 (DESIGN.md). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "cmd.h"
#include "kline.h"
#include "log.h"
#include "store.h"
#include "sync.h"
#include "banned.h"

static const struct cmd_opt sync_opts[] = {
	{.name = "timeout", .arg = "DUR", .help = "deadline of the run; the work done is kept, exit 124",
	 .section = "sync", .key = "timeout"},
	{.name = "concurrency", .arg = "N", .help = "requests in flight at once",
	 .section = "sync", .key = "concurrency"},
	{.name = "lookback", .arg = "N", .help = "closed candles re-fetched before the last stored one",
	 .section = "sync", .key = "lookback"},
	{.name = "page-limit", .arg = "N", .help = "candles per klines request (0 = automatic)",
	 .section = "sync", .key = "page_limit"},
	{.name = "weight-limit", .arg = "N", .help = "request weight budget per minute (0 = the exchange's)",
	 .section = "sync", .key = "weight_limit"},
	{.name = "history-days", .arg = "N", .help = "days of history for a new symbol",
	 .section = "main", .key = "history_days"},
	{.name = "no-gap-repair", .help = "do not find and fill gaps (sets it to false)", .section = "sync",
	 .key = "gap_repair", .value = "0"},
	{.name = NULL},
};

/* The failure class of a symbol's error text (or a run-wide error): what one
 * alert covers. Classes are coarse on purpose: one outage reaches the symbols as
 * connection errors and 5xx alike, and must page once ("http"). */
const char *sync_failure_class(const char *why)
{
	static const struct {
		const char *text, *class;
	} rules[] = {
		{"HTTP 418", "ban"}, {"banned", "ban"}, {"HTTP 429", "ban"}, {"HTTP 403", "ban"},
		{"HTTP 451", "ban"}, {"deadline", "timeout"}, {"invalid data", "invalid"},
		{"stopped by a signal", "stopped"}, {"the run stopped", "stopped"},
		{"(not retried)", "rejected"}, {"disk", "store"}, {"database", "store"},
		{"HTTP 5", "http"}, {"bad response body", "http"}, {"gave up after", "http"},
	};
	size_t i;

	if (!why)
		return "other";
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strstr(why, rules[i].text))
			return rules[i].class;
	return "other";
}

static void sync_alert(struct ctx *ctx, const char *command, enum run_status status,
		       const struct sync_result *res, const char *run_error)
{
	struct alert_member *m = calloc(res->nsymbols + 1, sizeof(*m));
	struct ck_err err = {0, ""};
	char prefix[32], what[64], ok[128];
	size_t i, n = 0;

	if (!m) {
		log_error(command, "alerts: out of memory");
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s_failed", command);
	snprintf(what, sizeof(what), "%s %s", command, run_status_name(status));
	snprintf(ok, sizeof(ok), "%s ok again: %zu symbols up to date", command, res->nsymbols);
	if (status != RUN_OK) {
		for (i = 0; i < res->nsymbols; i++) {
			const struct sync_symbol *s = &res->symbols[i];
			if (s->status && strcmp(s->status, "failed"))
				continue; /* ok, or skipped (not listed: health reports it) */
			m[n].name = s->symbol;
			m[n].note = s->error;
			m[n].group = sync_failure_class(s->error);
			/* not fetched: whether its earlier problem persists is not known */
			m[n].unknown = strcmp(m[n].group, "invalid") && strcmp(m[n].group, "rejected");
			n++;
		}
		if (!n) { /* failed before any symbol: the run-wide error is the problem */
			const char *why = res->error[0] ? res->error : run_error ? run_error : what;
			m[n].note = why;
			m[n].group = sync_failure_class(why);
			n++;
		}
	}
	if (alert_groups(ctx->st, &ctx->cfg, prefix,
			 status == RUN_PARTIAL ? ALERT_WARNING : ALERT_CRITICAL, what, m, n, ok, &err))
		log_warn(command, "alerts: %s", err.msg);
	free(m);
}

int cmd_sync_common(struct ctx *ctx, const char *command, const struct sync_opts *o)
{
	struct sync_result res;
	struct ck_err err = {0, ""}, rerr = {0, ""};
	enum run_status status;
	int64_t run_id = 0, t0 = now_ms();
	int rc, exit_code;
	size_t i;

	log_kv(LOG_INFO, command,
	       ((const char *[]){"db", ctx->cfg.db, "base_url", ctx->cfg.base_url, "interval",
				 ctx->cfg.interval, NULL}),
	       "start");
	if (store_run_abandon(ctx->st, command, &err) ||
	    store_run_begin(ctx->st, command, t0, &run_id, &err)) {
		fprintf(stderr, "candlekeep %s: %s\n", command, err.msg);
		return 1;
	}
	rc = sync_run(ctx->st, &ctx->cfg, o, ctx->stop, ctx->deadline_ms, &res, &err);

	if (res.timed_out) {
		status = RUN_TIMEOUT;
		exit_code = EXIT_TIMEOUT;
	} else if (rc || res.counts.symbols_failed || res.stopped) {
		status = res.counts.symbols_ok ? RUN_PARTIAL : RUN_FAILED;
		exit_code = 1;
	} else if (res.nsymbols && res.counts.symbols_skipped == (int64_t)res.nsymbols) {
		/* Nothing configured exists on the exchange: a typo or a wrong market, not a
		 * healthy run with nothing to do. */
		status = RUN_FAILED;
		exit_code = 1;
		if (!res.error[0])
			snprintf(res.error, sizeof(res.error),
				 "none of the %zu configured symbols is listed on the exchange"
				 " (check [main] symbols / --symbols and [main] base_url)",
				 res.nsymbols);
	} else {
		status = RUN_OK;
		exit_code = 0;
	}
	for (i = 0; i < res.nsymbols; i++) {
		struct sync_symbol *s = &res.symbols[i];
		if (store_run_symbol(ctx->st, run_id, s->symbol, s->status ? s->status : "failed",
				     s->written, s->revised, s->newest_open,
				     s->error[0] ? s->error : NULL, &rerr))
			log_error(command, "%s", rerr.msg);
	}
	res.counts.server_time = res.server_time;
	{
		/* A run that went well with the clocks far apart says so in its record (the
		 * candles were closed by the earlier clock; see sync.c). */
		int64_t skew = res.clock_skew_ms, max = ctx->cfg.max_clock_skew_s * 1000;
		if (status == RUN_OK && !res.error[0] && !rc && (skew > max || skew < -max))
			snprintf(res.error, sizeof(res.error),
				 "warning: the exchange's clock is %+.1f s from the local clock"
				 " (over [sync] max_clock_skew %" PRId64 " s); candles were closed"
				 " by the earlier clock; check NTP", (double)skew / 1000.0,
				 ctx->cfg.max_clock_skew_s);
	}
	if (store_run_end(ctx->st, run_id, status, exit_code, now_ms(), &res.counts,
			  res.error[0] ? res.error : (rc ? err.msg : NULL), &rerr)) {
		fprintf(stderr, "candlekeep %s: %s (what was fetched is stored; this run's record"
				" is not)\n", command, rerr.msg);
		if (!exit_code)
			exit_code = 1;
	}
	/* For health's data-loss guard: the candle total after the run (event candle_count,
	 * subject interval, detail the run id). */
	{
		char rid[24];
		int64_t total = 0;
		snprintf(rid, sizeof(rid), "%" PRId64, run_id);
		if (store_count(ctx->st, ctx->cfg.interval, 0, &total, NULL, &rerr) ||
		    store_event_add(ctx->st, now_ms(), "candle_count", ctx->cfg.interval,
				    (double)total, rid, &rerr))
			log_warn(command, "%s", rerr.msg);
	}

	/* Built-in alerting: one alert per failure class, "<command>_failed:<class>"
	 * (critical unless the run was partial), naming the symbols that failed that way;
	 * a class with no failing symbol any more resolves. Delivery is bounded by [alert]
	 * timeout_ms per channel, logged and counted, never fatal. */
	sync_alert(ctx, command, status, &res, rc ? err.msg : NULL);
	/* The report: every symbol that did not end ok, then one summary line. */
	for (i = 0; i < res.nsymbols; i++) {
		struct sync_symbol *s = &res.symbols[i];
		if (s->status && !strcmp(s->status, "ok"))
			continue;
		printf("%-16s %-7s %s\n", s->symbol, s->status ? s->status : "failed", s->error);
	}
	{
		char elapsed[32], newest[32] = "none";
		int64_t newest_ms = 0;
		for (i = 0; i < res.nsymbols; i++)
			if (res.symbols[i].newest_open > newest_ms)
				newest_ms = res.symbols[i].newest_open;
		if (newest_ms)
			kline_time_str(newest_ms, newest, sizeof(newest));
		snprintf(elapsed, sizeof(elapsed), "%.1f", (double)(now_ms() - t0) / 1000.0);
		printf("%s %s: %zu symbols (%" PRId64 " ok, %" PRId64 " failed, %" PRId64
		       " skipped), %" PRId64 " candles written, %" PRId64 " revised, newest %s UTC, %"
		       PRId64 " requests, %" PRId64 " retries, %s s\n",
		       command, run_status_name(status), res.nsymbols, res.counts.symbols_ok,
		       res.counts.symbols_failed, res.counts.symbols_skipped,
		       res.counts.candles_written, res.counts.candles_revised, newest,
		       res.counts.requests, res.counts.retries, elapsed);
		if (rc || res.error[0])
			fprintf(stderr, "candlekeep %s: %s\n", command, res.error[0] ? res.error : err.msg);
		{
			char ec[8], w[24], f[24];
			snprintf(ec, sizeof(ec), "%d", exit_code);
			snprintf(w, sizeof(w), "%" PRId64, res.counts.candles_written);
			snprintf(f, sizeof(f), "%" PRId64, res.counts.symbols_failed);
			log_kv(exit_code ? LOG_WARN : LOG_INFO, command,
			       ((const char *[]){"status", run_status_name(status), "exit", ec,
						 "elapsed_s", elapsed, "written", w, "failed", f,
						 NULL}),
			       "end");
		}
	}
	sync_result_release(&res);
	return exit_code;
}

static int cmd_sync_run(struct ctx *ctx)
{
	struct sync_opts o;
	int c;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		fprintf(stderr, "candlekeep sync: unknown flag (see candlekeep sync --help)\n");
		return EXIT_USAGE;
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep sync: unexpected argument '%s'\n", ctx->argv[optind]);
		return EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	return cmd_sync_common(ctx, "sync", &o);
}

const struct cmd cmd_sync = {
	.name = "sync",
	.summary = "fetch closed candles since the last stored one, repair gaps",
	.flags = CMD_NEEDS_DB | CMD_TAKES_LOCK | CMD_DEADLINE,
	.opts = sync_opts,
	.run = cmd_sync_run,
};
