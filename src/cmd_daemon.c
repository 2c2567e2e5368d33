/* cmd_daemon.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_daemon_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep daemon: not built yet\n");
	return 3;
}

const struct cmd cmd_daemon = {
	.name = "daemon",
	.usage = "daemon",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_daemon_run,
};
