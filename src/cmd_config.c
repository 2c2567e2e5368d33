/* cmd_config.c — `candlekeep config`: the effective configuration, secrets masked. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "banned.h"

static const struct cmd_opt config_opts[] = {
	{.name = "man", .id = 'm', .help = "the man page's CONFIGURATION KEYS section"},
	{.name = "example", .id = 'e', .help = "an example file (docs/candlekeep.example.ini)"},
	{.name = NULL},
};

static int cmd_config_run(struct ctx *ctx)
{
	int c = -1;

	optind = 1;
	if (ctx->argc > 1)
		c = cmd_getopt(ctx); /* the first flag decides, as before */
	if (c == 'm') {
		cfg_print_man(stdout);
		return 0;
	}
	if (c == 'e') {
		cfg_print_example(stdout); /* docs/candlekeep.example.ini */
		return 0;
	}
	if (ctx->argc > 1) {
		fprintf(stderr,
			"candlekeep config: unexpected argument '%s' (see candlekeep config"
			" --help)\n",
			ctx->argv[optind < ctx->argc ? optind : 1]);
		return EXIT_USAGE;
	}
	return cfg_print(&ctx->cfg, stdout) ? 1 : 0;
}

const struct cmd cmd_config = {
	.name = "config",
	.notes = "Prints the effective configuration (defaults < file < CANDLEKEEP_* environment\n"
		 "< flags) with the origin of each value, secrets masked.",
	.summary = "print the effective configuration (secrets masked)",
	.flags = 0,
	.opts = config_opts,
	.run = cmd_config_run,
};
