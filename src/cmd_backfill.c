/* cmd_backfill.c — `candlekeep backfill --since DATE`: history back to DATE (or the
 * symbol's first candle), resumable (a killed run's stored pages stay; the next run
 * fetches only what is still missing), with progress on a terminal. */
#include <getopt.h> /* optarg */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sync.h"
#include "utc.h"
#include "banned.h"

static const struct cmd_opt backfill_opts[] = {
	{.name = "since",
	 .id = 's',
	 .arg = "DATE",
	 .flags = OPT_REQUIRED,
	 .help = "how far back: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms since the epoch (UTC)"},
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
	{.name = "no-progress", .id = 'n', .help = "no progress on standard error"},
	{.name = NULL},
};

static void progress(const struct sync_progress *p, void *arg)
{
	int tty = *(int *)arg;
	double secs = (double)p->elapsed_ms / 1000.0;
	double rate = secs > 0 ? (double)p->candles / secs : 0;
	double frac = p->pages_total ? (double)p->pages_done / (double)p->pages_total : 1;
	double eta = frac > 0 && frac < 1 ? secs / frac - secs : 0;

	if (tty) {
		char bar[31];
		int k, fill = (int)(frac * 30);
		for (k = 0; k < 30; k++)
			bar[k] = k < fill ? '#' : '.';
		bar[30] = 0;
		fprintf(stderr, "\r[%s] %zu/%zu symbols  %" PRId64 " candles  %.0f/s  ETA %.0fs   ",
			bar, p->symbols_done, p->symbols_total, p->candles, rate, eta);
		if (p->symbols_done == p->symbols_total)
			fputc('\n', stderr);
	} else {
		static int64_t last;
		if (p->elapsed_ms - last < 5000 && p->symbols_done != p->symbols_total)
			return;
		last = p->elapsed_ms;
		fprintf(stderr,
			"backfill: %zu/%zu symbols, %" PRId64 "/%" PRId64 " pages, %" PRId64
			" candles, %.0f candles/s, ETA %.0f s\n",
			p->symbols_done, p->symbols_total, p->pages_done, p->pages_total,
			p->candles, rate, eta);
	}
}

static int cmd_backfill_run(struct ctx *ctx)
{
	struct sync_opts o;
	int c, tty = isatty(2), show = 1;
	const char *since = NULL;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 's':
			since = optarg;
			break;
		case 'n':
			show = 0;
			break;
		default:
			fprintf(stderr, "candlekeep backfill: unknown flag (see candlekeep "
					"backfill --help)\n");
			return EXIT_USAGE;
		}
	}
	memset(&o, 0, sizeof(o));
	if (!since || utc_parse(since, &o.since_ms) || o.since_ms <= 0) {
		fprintf(stderr,
			"candlekeep backfill: --since %s: need a date like 2020-01-01 (UTC)\n",
			since ? since : "(missing)");
		return EXIT_USAGE;
	}
	if (show) {
		o.progress = progress;
		o.progress_arg = &tty;
	}
	return cmd_sync_common(ctx, "backfill", &o);
}

const struct cmd cmd_backfill = {
	.name = "backfill",
	.summary = "fetch history back to DATE (resumable, progress on a terminal)",
	.flags = CMD_NEEDS_DB | CMD_TAKES_LOCK | CMD_DEADLINE,
	.opts = backfill_opts,
	.run = cmd_backfill_run,
};
