/* cmd_gaps.c — `candlekeep gaps`: missing candles per symbol, and confirmed exchange
 * holes listed as such. Exit 0 when nothing is missing, 1 when something is. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kline.h"
#include "store.h"
#include "banned.h"

static int cmd_gaps_run(struct ctx *ctx)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"missing-only", no_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct ck_err err = {0, ""};
	struct store_gap *g = NULL;
	size_t n = 0, i;
	int c, json = 0, missing_only = 0;
	int64_t missing = 0, holes = 0;

	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'm')
			missing_only = 1;
		else if (c == 'h') {
			printf("usage: candlekeep gaps [--json] [--missing-only] [--symbols A,B]\n");
			return 0;
		} else {
			fprintf(stderr, "candlekeep gaps: unknown flag (see candlekeep gaps --help)\n");
			return EXIT_USAGE;
		}
	}
	if (store_gaps(ctx->st, NULL, ctx->cfg.interval, ctx->cfg.interval_ms, !missing_only, &g,
		       &n, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		char a[32], b[32];
		if (g[i].confirmed)
			holes += g[i].count;
		else
			missing += g[i].count;
		kline_time_str(g[i].first, a, sizeof(a));
		kline_time_str(g[i].last, b, sizeof(b));
		if (json)
			printf("%s{\"symbol\":\"%s\",\"interval\":\"%s\",\"first_open\":%" PRId64
			       ",\"last_open\":%" PRId64 ",\"candles\":%" PRId64 ",\"kind\":\"%s\"}",
			       i ? "," : "", g[i].symbol, ctx->cfg.interval, g[i].first, g[i].last,
			       g[i].count, g[i].confirmed ? "exchange_hole" : "missing");
		else
			printf("%-16s %s .. %s UTC  %5" PRId64 " candles  %s\n", g[i].symbol, a, b,
			       g[i].count,
			       g[i].confirmed ? "exchange hole (confirmed empty, not re-fetched)"
					      : "MISSING (the next sync repairs it)");
	}
	if (json)
		printf("]\n");
	else
		printf("%" PRId64 " candles missing, %" PRId64 " in confirmed exchange holes\n",
		       missing, holes);
	free(g);
	return missing ? 1 : 0;
}

const struct cmd cmd_gaps = {
	.name = "gaps",
	.usage = "gaps [--json] [--missing-only]",
	.summary = "list missing candles per symbol (and confirmed exchange holes)",
	.flags = CMD_READS_DB,
	.opts = NULL,
	.run = cmd_gaps_run,
};
