/* cmd_export.c — `candlekeep export --symbol S [--since D] [--until D] [--output FILE]`:
 * stored candles as Binance public-archive CSV (12 columns, no header), the exact
 * strings the exchange sent. A file is written atomically. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "afile.h"
#include "cmd.h"
#include "log.h"
#include "kline.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

struct out {
	FILE *f;
	int64_t n;
};

static int put_line(const struct kline *k, void *arg)
{
	struct out *o = arg;
	char line[512];
	int len = kline_csv_format(k, line, sizeof(line));
	if (len < 0 || fwrite(line, 1, (size_t)len, o->f) != (size_t)len)
		return CK_EIO;
	o->n++;
	return 0;
}

/* afile's temp names for target arg: "<name>.tmp.XXXXXX". */
static int export_temp(const char *name, void *arg)
{
	const char *target = arg;
	size_t tl = strlen(target);
	return !strncmp(name, target, tl) && !strncmp(name + tl, ".tmp.", 5) &&
	       strlen(name + tl + 5) == 6;
}

static const struct cmd_opt export_opts[] = {
	{.name = "symbol",
	 .id = 's',
	 .arg = "S",
	 .flags = OPT_REQUIRED,
	 .help = "the symbol, like BTCUSDT"},
	{.name = "since",
	 .id = 'a',
	 .arg = "DATE",
	 .help = "first candle's open time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms; UTC)"},
	{.name = "until", .id = 'b', .arg = "DATE", .help = "last candle's open time (as --since)"},
	{.name = "output",
	 .id = 'o',
	 .shortname = 'o',
	 .arg = "FILE",
	 .help = "write FILE atomically instead of standard output"},
	{.name = NULL},
};

static int cmd_export_run(struct ctx *ctx)
{
	const char *symbol = NULL, *output = NULL;
	int64_t since = 0, until = INT64_MAX;
	struct ck_err err = {0, ""};
	struct afile af;
	struct out o = {stdout, 0};
	int c, rc;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 's':
			symbol = optarg;
			break;
		case 'a':
		case 'b':
			if (utc_parse(optarg, c == 'a' ? &since : &until)) {
				fprintf(stderr,
					"candlekeep export: --%s %s: need a date like 2024-03-01 "
					"(UTC)\n",
					c == 'a' ? "since" : "until", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		default:
			fprintf(stderr,
				"candlekeep export: unknown flag (see candlekeep export --help)\n");
			return EXIT_USAGE;
		}
	}
	if (ctx->cfg.nintervals > 1) {
		fprintf(stderr,
			"candlekeep export: %zu intervals configured (%s): export one at a time,"
			" e.g. --interval %s\n",
			ctx->cfg.nintervals, ctx->cfg.interval_list, ctx->cfg.intervals[0]);
		return EXIT_USAGE;
	}
	if (!symbol || !cfg_symbol_valid(symbol)) {
		fprintf(stderr, "candlekeep export: --symbol %s: need one symbol like BTCUSDT\n",
			symbol ? symbol : "(missing)");
		return EXIT_USAGE;
	}
	if (output) {
		/* Temp files of earlier exports to this file that were killed. */
		char d[4096], b[4096];
		int64_t gone = 0;
		snprintf(d, sizeof(d), "%s", output);
		snprintf(b, sizeof(b), "%s", output);
		if (afile_sweep(dirname(d), export_temp, basename(b), 1, &gone, NULL, &err))
			log_warn("export", "%s", err.msg);
		else if (gone)
			log_warn("export",
				 "removed %" PRId64 " temp files of interrupted exports to %s",
				 gone, output);
		if (afile_open(&af, output, (int)cfg_export_mode(&ctx->cfg), &err)) {
			fprintf(stderr, "candlekeep export: %s\n", err.msg);
			return 1;
		}
		o.f = af.f;
	}
	rc = store_each_candle(ctx->st, symbol, ctx->cfg.interval, since, until, put_line, &o,
			       &err);
	if (rc) {
		if (output)
			afile_abort(&af);
		if (rc == CK_EIO)
			fprintf(stderr, "candlekeep export: write to %s: %s\n",
				output ? output : "standard output", strerror(errno));
		else
			fprintf(stderr, "candlekeep export: %s\n", err.msg);
		return 1;
	}
	if (output && afile_commit(&af, &err)) {
		fprintf(stderr, "candlekeep export: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "export: %" PRId64 " candles of %s %s\n", o.n, symbol, ctx->cfg.interval);
	return 0;
}

const struct cmd cmd_export = {
	.name = "export",
	.summary = "write stored candles as Binance archive CSV",
	.flags = CMD_READS_DB,
	.opts = export_opts,
	.run = cmd_export_run,
};
