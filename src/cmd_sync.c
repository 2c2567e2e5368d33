/* cmd_sync.c — `candlekeep sync`: every configured symbol up to the exchange's newest
 * closed candle, gaps repaired; one run record; exit 0 / 1 / 124 (DESIGN.md). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "run.h"
#include "store.h"
#include "sync.h"
#include "banned.h"

static const struct cmd_opt sync_opts[] = {
	{.name = "timeout",
	 .arg = "DUR",
	 .help = "deadline of the run; the work done is kept, exit 124",
	 .section = "sync",
	 .key = "timeout"},
	{.name = "concurrency",
	 .arg = "N",
	 .help = "requests in flight at once",
	 .section = "sync",
	 .key = "concurrency"},
	{.name = "lookback",
	 .arg = "N",
	 .help = "closed candles re-fetched before the last stored one",
	 .section = "sync",
	 .key = "lookback"},
	{.name = "page-limit",
	 .arg = "N",
	 .help = "candles per klines request (0 = automatic)",
	 .section = "sync",
	 .key = "page_limit"},
	{.name = "weight-limit",
	 .arg = "N",
	 .help = "request weight budget per minute (0 = the exchange's)",
	 .section = "sync",
	 .key = "weight_limit"},
	{.name = "history-days",
	 .arg = "N",
	 .help = "days of history for a new symbol",
	 .section = "main",
	 .key = "history_days"},
	{.name = "no-gap-repair",
	 .help = "do not find and fill gaps (sets it to false)",
	 .section = "sync",
	 .key = "gap_repair",
	 .value = "0"},
	{.name = NULL},
};

/* run.c records exit codes without knowing the command layer: the numbers must agree. */
_Static_assert((int)RUN_EXIT_OK == (int)EXIT_OK && (int)RUN_EXIT_FAILED == (int)EXIT_PARTIAL &&
		       (int)RUN_EXIT_TIMEOUT == (int)EXIT_TIMEOUT,
	       "run.h and cmd.h agree on exit codes");

/* The command line's report of a run: every symbol that did not end ok, then one
 * summary line on stdout; the run-wide error on stderr. label: the command, followed by
 * the interval when several are configured ("sync 1h"). */
static void sync_report(const struct run_sync *r, const char *label)
{
	const struct sync_result *res = &r->res;

	for (size_t i = 0; i < res->nsymbols; i++) {
		const struct sync_symbol *s = &res->symbols[i];
		if (s->status && !strcmp(s->status, "ok"))
			continue;
		printf("%-16s %-7s %s\n", s->symbol, s->status ? s->status : "failed", s->error);
	}
	printf("%s %s: %zu symbols (%" PRId64 " ok, %" PRId64 " failed, %" PRId64
	       " skipped), %" PRId64 " candles written, %" PRId64
	       " revised, newest %s UTC, %" PRId64 " requests, %" PRId64 " retries, %s s\n",
	       label, run_status_name(r->status), res->nsymbols, res->counts.symbols_ok,
	       res->counts.symbols_failed, res->counts.symbols_skipped, res->counts.candles_written,
	       res->counts.candles_revised, r->newest, res->counts.requests, res->counts.retries,
	       r->elapsed);
	if (r->error[0])
		fprintf(stderr, "candlekeep %s: %s\n", label, r->error);
}

/* One run of one interval (cfg: the configuration switched to it); its exit code. */
static int sync_interval(struct ctx *ctx, const struct cfg *cfg, const char *command,
			 const char *label, const struct sync_opts *o)
{
	struct run_sync r;
	struct ck_err err = {0, ""};
	struct sync_opts so = *o;
	int exit_code;

	so.lock = ctx->lock; /* checked at the run's safe points */
	if (run_sync(ctx->st, cfg, command, &so, ctx->stop, ctx->deadline_ms, &r, &err)) {
		fprintf(stderr, "candlekeep %s: %s\n", label, err.msg);
		return 1;
	}
	if (r.record_error[0])
		fprintf(stderr,
			"candlekeep %s: %s (what was fetched is stored; this run's record"
			" is not)\n",
			label, r.record_error);
	sync_report(&r, label);
	run_sync_log_end(&r);
	exit_code = r.exit_code;
	run_sync_release(&r);
	return exit_code;
}

/* What each interval's run of cmd_sync_common needs. */
struct sync_each {
	struct ctx *ctx;
	const char *command;
	const struct sync_opts *o;
};

/* "sync", or "sync 1h" when several intervals are configured. */
static void sync_label(const struct sync_each *x, const struct cfg *one, char *label, size_t n)
{
	if (x->ctx->cfg.nintervals > 1)
		snprintf(label, n, "%s %s", x->command, one->interval);
	else
		snprintf(label, n, "%s", x->command);
}

static int sync_each_run(void *arg, const struct cfg *one, size_t i)
{
	struct sync_each *x = arg;
	char label[48];

	(void)i;
	sync_label(x, one, label, sizeof(label));
	return sync_interval(x->ctx, one, x->command, label, x->o);
}

static void sync_each_skip(void *arg, const struct cfg *one, int stopped)
{
	struct sync_each *x = arg;
	char label[48];

	sync_label(x, one, label, sizeof(label));
	fprintf(stderr, "candlekeep %s: not run (%s)\n", label,
		stopped ? "stopped by a signal" : "the run's deadline passed");
}

int cmd_sync_common(struct ctx *ctx, const char *command, const struct sync_opts *o)
{
	struct sync_each x = {ctx, command, o};

	/* one run per configured interval, in order; the exit code is the worst */
	return run_intervals(&ctx->cfg, ctx->stop, sync_each_run, sync_each_skip, &x);
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
