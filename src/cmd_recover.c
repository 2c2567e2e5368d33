/* cmd_recover.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_recover_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep recover: not built yet\n");
	return 3;
}

const struct cmd cmd_recover = {
	.name = "recover",
	.usage = "recover",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_recover_run,
};
