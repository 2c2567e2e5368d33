/* cmd_config.c — `candlekeep config`: the effective configuration, secrets masked. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "banned.h"

static int cmd_config_run(struct ctx *ctx)
{
	if (ctx->argc > 1 && !strcmp(ctx->argv[1], "--man")) {
		cfg_print_man(stdout);
		return 0;
	}
	if (ctx->argc > 1 && !strcmp(ctx->argv[1], "--example")) {
		cfg_print_example(stdout); /* docs/candlekeep.example.ini */
		return 0;
	}
	if (ctx->argc > 1) {
		printf("usage: candlekeep [-c FILE] config [--man | --example]\n"
		       "Prints the effective configuration (defaults < file < CANDLEKEEP_* environment"
		       " < flags), secrets masked.\n");
		return strcmp(ctx->argv[1], "--help") ? EXIT_USAGE : 0;
	}
	return cfg_print(&ctx->cfg, stdout) ? 1 : 0;
}

const struct cmd cmd_config = {
	.name = "config",
	.usage = "config [--man | --example]",
	.summary = "print the effective configuration (secrets masked)",
	.flags = 0,
	.opts = NULL,
	.run = cmd_config_run,
};
