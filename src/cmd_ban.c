/* cmd_ban.c — `candlekeep ban [--clear]`: the HTTP 418 ban the exchange announced, as
 * sync keeps it in the database (every run honours it until it ends, at most
 * [sync] max_ban). Exit 0 when no ban is in force, 1 while one is; --clear forgets it
 * (for an operator who knows the ban was lifted, or was an error) and exits 0. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kline.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

static const struct cmd_opt ban_opts[] = {
	{.name = "clear",
	 .id = 'c',
	 .help = "forget the ban (when it is known to be lifted); exit 0"},
	{.name = NULL},
};

static int cmd_ban_run(struct ctx *ctx)
{
	struct ck_err err = {0, ""};
	char buf[32], t[32];
	int c, clear = 0, rc;
	int64_t until = 0, now = now_ms();

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		if (c == 'c') {
			clear = 1;
		} else {
			fprintf(stderr,
				"candlekeep ban: unknown flag (see candlekeep ban --help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep ban: unexpected argument '%s'\n", ctx->argv[optind]);
		return EXIT_USAGE;
	}
	rc = store_state_get(ctx->st, "ban_until", buf, sizeof(buf), &err);
	if (rc && rc != CK_ENOTFOUND) {
		fprintf(stderr, "candlekeep ban: %s\n", err.msg);
		return 1;
	}
	if (!rc)
		until = strtoll(buf, NULL, 10);
	if (clear) {
		if (store_state_del(ctx->st, "ban_until", &err)) {
			fprintf(stderr, "candlekeep ban: %s\n", err.msg);
			return 1;
		}
		if (until > now)
			printf("ban until %s UTC cleared: the next sync sends requests again\n",
			       kline_time_str(until, t, sizeof(t)));
		else
			printf("no ban in force; nothing to clear\n");
		return 0;
	}
	if (until > now) {
		printf("banned until %s UTC (%" PRId64 " s more): the exchange answered HTTP 418;"
		       " no sync sends a request before then (candlekeep ban --clear forgets it)\n",
		       kline_time_str(until, t, sizeof(t)), (until - now + 999) / 1000);
		return 1;
	}
	printf("no ban in force\n");
	return 0;
}

const struct cmd cmd_ban = {
	.name = "ban",
	.notes = "exit: 1 while a ban is in force, 0 if none",
	.summary = "show (or clear) the exchange's HTTP 418 ban kept in the database",
	.flags = CMD_NEEDS_DB,
	.opts = ban_opts,
	.run = cmd_ban_run,
};
