/* cmd_metrics.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_metrics_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep metrics: not built yet\n");
	return 3;
}

const struct cmd cmd_metrics = {
	.name = "metrics",
	.usage = "metrics",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_metrics_run,
};
