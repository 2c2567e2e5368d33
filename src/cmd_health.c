/* cmd_health.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_health_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep health: not built yet\n");
	return 3;
}

const struct cmd cmd_health = {
	.name = "health",
	.usage = "health",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_health_run,
};
