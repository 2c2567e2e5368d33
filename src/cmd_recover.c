/* cmd_recover.c — `candlekeep recover`: integrity check; if damaged (on proof only),
 * quarantine, restore the newest good backup and salvage the damaged file's readable
 * candles into it, install it atomically under the run lock, re-sync the gap (or
 * rebuild from the exchange). Prints each step with its duration. Exit 0 when the
 * database is healthy at the end and holds at least what the damaged file did; 1 when
 * it could not be made healthy, holds fewer candles than the damaged file, or nothing
 * could be restored; 2 usage, or another application's file (refused, untouched); 75
 * another run holds the lock, or another process holds the database (nothing moved).
 * The database is not opened by the dispatcher: it may be corrupt. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "cmd.h"
#include "log.h"
#include "recover.h"
#include "banned.h"

static const struct cmd_opt recover_opts[] = {
	{.name = "history-days",
	 .arg = "N",
	 .section = "main",
	 .key = "history_days",
	 .help = "days of history for the rebuild from the exchange (no usable backup)"},
	{.name = "concurrency",
	 .arg = "N",
	 .help = "requests in flight at once (the re-sync)",
	 .section = "sync",
	 .key = "concurrency"},
	{.name = "wait",
	 .id = 'w',
	 .arg = "SECONDS",
	 .help = "how long to wait for a process that holds the database (default 10, max 86400)"},
	{.name = NULL},
};

static void say(void *arg, const char *step, int64_t ms, const char *text)
{
	(void)arg;
	if (!strcmp(step, "skip"))
		printf("recover:   %-10s %7s  %s\n", step, "", text);
	else
		printf("recover: %-12s %6.2f s  %s\n", step, (double)ms / 1000.0, text);
	fflush(stdout);
}

/* Delivers what the alert outbox owes (this run's alerts, earlier retries) from the
 * database as recover left it. */
static void recover_alerts(struct ctx *ctx)
{
	struct ck_err err = {0, ""};
	struct store *st = NULL;

	if (!alert_configured(&ctx->cfg) || access(ctx->cfg.db, F_OK) != 0)
		return;
	if (store_open(&st, ctx->cfg.db, 0, &err) || alert_flush(st, &ctx->cfg, NULL, &err))
		log_warn("recover", "alerts: %s", err.msg);
	store_close(st);
}

static int cmd_recover_run(struct ctx *ctx)
{
	struct recover_result res;
	struct ck_err err = {0, ""};
	int64_t wait_ms = 10000;
	int c, rc;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		if (c == 'w') {
			char *end = NULL;
			long long v = strtoll(optarg, &end, 10);
			if (!end || *end || end == optarg || v < 0 || v > 86400) {
				fprintf(stderr,
					"candlekeep recover: --wait %s: not a number of seconds"
					" (0..86400)\n",
					optarg);
				return EXIT_USAGE;
			}
			wait_ms = (int64_t)v * 1000;
			continue;
		}
		fprintf(stderr,
			"candlekeep recover: unknown flag (see candlekeep recover --help)\n");
		return EXIT_USAGE;
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep recover: unexpected argument '%s'\n",
			ctx->argv[optind]);
		return EXIT_USAGE;
	}
	log_kv(LOG_INFO, "recover", ((const char *[]){"db", ctx->cfg.db, NULL}), "start");
	rc = recover_run(&ctx->cfg, now_ms(), wait_ms, ctx->stop, say, NULL, &res, &err);
	recover_alerts(ctx);
	if (rc) {
		printf("recover FAILED after %.1f s: %s\n", (double)res.total_ms / 1000.0, err.msg);
		fprintf(stderr, "candlekeep recover: %s\n", err.msg);
		log_kv(LOG_ERROR, "recover", ((const char *[]){"status", "failed", NULL}), "end");
		return rc == CK_ELOCKED ? EXIT_LOCKED : rc == CK_EUSAGE ? EXIT_USAGE : 1;
	}
	if (res.was_healthy)
		printf("recover ok: database healthy, nothing touched (%.1f s)\n",
		       (double)res.total_ms / 1000.0);
	else
		printf("recover ok: %s; %" PRId64 " candles salvaged; %" PRId64
		       " candles re-synced%s; %" PRId64
		       " candles; damaged files kept in %s (%.1f s)\n",
		       res.restored  ? "restored from backup"
		       : res.rebuilt ? "rebuilt from the exchange (no usable backup)"
				     : "finished an interrupted recovery",
		       res.salvaged, res.resync_written,
		       res.resync_failed ? " (re-sync INCOMPLETE: run candlekeep sync)" : "",
		       res.candles_after, res.quarantine_dir, (double)res.total_ms / 1000.0);
	log_kv(LOG_INFO, "recover",
	       ((const char *[]){"status", res.was_healthy ? "healthy" : "recovered", NULL}),
	       "end");
	return 0;
}

const struct cmd cmd_recover = {
	.name = "recover",
	.notes = "Full integrity check of the database; damaged only on proof (SQLite says\n"
		 "corrupt while recover holds the file alone). Then: quarantine it (and its\n"
		 "-wal/-shm) in quarantine/ beside it, restore the newest backup that\n"
		 "verifies (hot, warm, then offsite), salvage every candle still readable in\n"
		 "the damaged file, re-sync from each symbol's newest candle; with no usable\n"
		 "backup, rebuild from the exchange. A database held by another process is\n"
		 "waited for (--wait), then reported (exit 75), never moved; another\n"
		 "application's file is refused (exit 2). An interrupted recover is finished\n"
		 "by the next one.",
	.summary =
		"integrity check; if damaged: quarantine, restore the newest good backup, re-sync",
	.flags = CMD_TAKES_LOCK | CMD_FILE_DB,
	.opts = recover_opts,
	.run = cmd_recover_run,
};
