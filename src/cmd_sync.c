/* cmd_sync.c — `candlekeep sync`: every configured symbol up to the exchange's newest
 * closed candle, gaps repaired; one run record; exit 0 / 1 / 124 (DESIGN.md). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "cmd.h"
#include "kline.h"
#include "log.h"
#include "store.h"
#include "sync.h"
#include "banned.h"

static const struct cmd_opt sync_opts[] = {
	{"timeout", "sync", "timeout", NULL},
	{"concurrency", "sync", "concurrency", NULL},
	{"lookback", "sync", "lookback", NULL},
	{"page-limit", "sync", "page_limit", NULL},
	{"weight-limit", "sync", "weight_limit", NULL},
	{"history-days", "main", "history_days", NULL},
	{"no-gap-repair", "sync", "gap_repair", "0"},
	{NULL, NULL, NULL, NULL},
};

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
		if (store_count(ctx->st, ctx->cfg.interval, &total, &rerr) ||
		    store_event_add(ctx->st, now_ms(), "candle_count", ctx->cfg.interval,
				    (double)total, rid, &rerr))
			log_warn(command, "%s", rerr.msg);
	}

	/* Built-in alerting: a failed/partial/timeout run raises <command>_failed (critical
	 * unless partial) naming the failing symbols; an ok run resolves it. Delivery is
	 * bounded by [alert] timeout_ms per channel, logged and counted, never fatal. */
	{
		char key[32], summary[256], detail[2048];
		size_t dl = 0;
		snprintf(key, sizeof(key), "%s_failed", command);
		if (status == RUN_OK) {
			snprintf(summary, sizeof(summary), "%s ok again: %zu symbols up to date",
				 command, res.nsymbols);
			alert_resolve(ctx->st, &ctx->cfg, key, summary, &rerr);
		} else {
			struct alert a = {key, status == RUN_PARTIAL ? ALERT_WARNING : ALERT_CRITICAL,
					  summary, detail};
			snprintf(summary, sizeof(summary), "%s %s: %" PRId64 " of %zu symbols failed%s",
				 command, run_status_name(status), res.counts.symbols_failed,
				 res.nsymbols, status == RUN_TIMEOUT ? " (run deadline passed)" : "");
			detail[0] = 0;
			if (res.error[0] || rc)
				dl += (size_t)snprintf(detail, sizeof(detail), "%s\n",
						       res.error[0] ? res.error : err.msg);
			for (i = 0; i < res.nsymbols && dl < sizeof(detail); i++)
				if (!res.symbols[i].status || strcmp(res.symbols[i].status, "ok"))
					dl += (size_t)snprintf(detail + dl, sizeof(detail) - dl,
							       "%s %s: %s\n", res.symbols[i].symbol,
							       res.symbols[i].status ? res.symbols[i].status
										     : "failed",
							       res.symbols[i].error);
			alert_raise(ctx->st, &ctx->cfg, &a, &rerr);
		}
	}

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
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
	struct sync_opts o;
	int c;

	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: candlekeep sync [--timeout DUR] [--concurrency N] [--lookback N]\n"
			       "       [--page-limit N] [--weight-limit N] [--history-days N] [--no-gap-repair]\n");
			return 0;
		}
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
	.usage = "sync [--timeout DUR] [--concurrency N] [--lookback N] [--no-gap-repair]",
	.summary = "fetch closed candles since the last stored one, repair gaps",
	.flags = CMD_NEEDS_DB | CMD_TAKES_LOCK | CMD_DEADLINE,
	.opts = sync_opts,
	.run = cmd_sync_run,
};
