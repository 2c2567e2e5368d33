/* cmd_backup.c — placeholder until its issue lands; replaced by the real command. */
#include <stdio.h>

#include "cmd.h"
#include "banned.h"

static int cmd_backup_run(struct ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "candlekeep backup: not built yet\n");
	return 3;
}

const struct cmd cmd_backup = {
	.name = "backup",
	.usage = "backup",
	.summary = "(not built yet)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_backup_run,
};
