/* cmd_audit.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_audit_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep audit: not built yet\n");
	return 3;
}

const struct cmd cmd_audit = {
	.name = "audit",
	.usage = "audit",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_audit_run,
};
