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
#include "backup.h"
#include "log.h"
#include "recover.h"
#include "redact.h"
#include "store.h"
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
	{.name = "target",
	 .id = 't',
	 .arg = "URL",
	 .help = "PostgreSQL: restore into this database instead of --db (it must be empty)"},
	{.name = "replace",
	 .id = 'r',
	 .help = "PostgreSQL: restore into a database that holds data, dropping its tables"},
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

static void say_skip(void *arg, const struct store_backup *b, const char *why)
{
	char line[1400];

	snprintf(line, sizeof(line), "%s %s: %s", b->tier, b->location, why);
	say(arg, "skip", 0, line);
}

/* A PostgreSQL database: no file to check or quarantine. The newest backup whose bytes
 * match their checksum is restored with pg_restore, in one transaction, into target
 * (empty, or with --replace); then the next sync fetches what came after the backup. */
static int recover_pg(struct ctx *ctx, const char *target, int replace)
{
	struct store_backup used;
	struct ck_err err = {0, ""};
	char shown[1024], line[1400];
	int64_t t0 = mono_ms(), candles = 0;
	int rc;

	redact_copy(target, shown, sizeof(shown));
	log_kv(LOG_INFO, "recover", ((const char *[]){"db", shown, NULL}), "start");
	rc = backup_restore_pg(&ctx->cfg, target, replace, say_skip, NULL, &used, &candles, &err);
	if (rc) {
		printf("recover FAILED after %.1f s: %s\n", (double)(mono_ms() - t0) / 1000.0,
		       err.msg);
		fprintf(stderr, "candlekeep recover: %s\n", err.msg);
		log_kv(LOG_ERROR, "recover", ((const char *[]){"status", "failed", NULL}), "end");
		return rc == CK_ELOCKED ? EXIT_LOCKED : rc == CK_EUSAGE ? EXIT_USAGE : 1;
	}
	snprintf(line, sizeof(line), "%s backup %s into %s: %" PRId64 " candles", used.tier,
		 used.location, shown, candles);
	say(NULL, "restore", mono_ms() - t0, line);
	printf("recover ok: restored from backup; %" PRId64
	       " candles; run candlekeep sync to fetch what came after it (%.1f s)\n",
	       candles, (double)(mono_ms() - t0) / 1000.0);
	log_kv(LOG_INFO, "recover", ((const char *[]){"status", "restored", NULL}), "end");
	return 0;
}

static int cmd_recover_run(struct ctx *ctx)
{
	struct recover_result res;
	struct ck_err err = {0, ""};
	int64_t wait_ms = 10000;
	const char *target = NULL;
	int c, rc, replace = 0;

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
		if (c == 't' || c == 'r') {
			if (c == 't')
				target = optarg;
			else
				replace = 1;
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
	if (store_url(ctx->cfg.db)) {
		if (target && !store_url(target)) {
			fprintf(stderr,
				"candlekeep recover: --target %s: not a postgresql:// URL (a backup"
				" of a PostgreSQL database restores into a PostgreSQL database)\n",
				target);
			return EXIT_USAGE;
		}
		return recover_pg(ctx, target ? target : ctx->cfg.db, replace);
	}
	if (target || replace) {
		fprintf(stderr, "candlekeep recover: --target and --replace are for a PostgreSQL"
				" database (--db postgresql://...)\n");
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
		 "by the next one. A PostgreSQL database (--db postgresql://...): the newest\n"
		 "backup whose checksum matches is restored with pg_restore in one\n"
		 "transaction, into an empty database (--target) or, with --replace, over\n"
		 "the tables of one that holds data.",
	.summary =
		"integrity check; if damaged: quarantine, restore the newest good backup, re-sync",
	.flags = CMD_TAKES_LOCK,
	.opts = recover_opts,
	.run = cmd_recover_run,
};
