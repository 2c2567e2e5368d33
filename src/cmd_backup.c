/* cmd_backup.c — `candlekeep backup`: one verified backup to every tier (hot, warm,
 * offsite if configured) with retention; `backup --list` shows every backup of every
 * tier. Exit 0 when every configured tier succeeded, 1 when one failed (the others are
 * kept), 2 usage. Runs beside a sync (no run lock): the snapshot is read-only. The
 * database is opened here, not by the dispatcher, so that --list works (from the files)
 * when the database is missing or damaged. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "backup.h"
#include "cmd.h"
#include "dur.h"
#include "log.h"
#include "s3.h"
#include "store.h"
#include "banned.h"

static void human_size(int64_t b, char *buf, size_t size)
{
	if (b >= 1024LL * 1024 * 1024)
		snprintf(buf, size, "%.2f GiB", (double)b / (1024.0 * 1024 * 1024));
	else if (b >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", (double)b / (1024.0 * 1024));
	else if (b >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, size, "%" PRId64 " B", b);
}

static int list(struct ctx *ctx, int64_t now)
{
	struct store *st = NULL;
	struct store_backup *v = NULL;
	struct ck_err err = {0, ""};
	size_t n = 0, i;

	if ((store_url(ctx->cfg.db) || access(ctx->cfg.db, F_OK) == 0) &&
	    store_open(&st, ctx->cfg.db, STORE_RDONLY, &err))
		log_warn("backup", "backup list without the database's records: %s", err.msg);
	if (backup_list_all(&ctx->cfg, st, &v, &n, &err)) {
		fprintf(stderr, "candlekeep backup: %s\n", err.msg);
		store_close(st);
		return 1;
	}
	printf("%-8s %-10s %-9s %-10s %-10s %-20s %s\n", "tier", "status", "age", "size", "candles",
	       "created (UTC)", "location");
	for (i = 0; i < n; i++) {
		char age[32], size[32], when[32], cnd[24];
		dur_format(now - v[i].created, DUR_AGE, age, sizeof(age));
		human_size(v[i].size, size, sizeof(size));
		utc_iso(v[i].created, when, sizeof(when));
		if (v[i].candles)
			snprintf(cnd, sizeof(cnd), "%" PRId64, v[i].candles);
		else
			snprintf(cnd, sizeof(cnd), "-");
		printf("%-8s %-10s %-9s %-10s %-10s %-20s %s%s%s\n", v[i].tier, v[i].status, age,
		       size, cnd, when, v[i].location,
		       v[i].detail[0] && strcmp(v[i].status, "verified") ? "  # " : "",
		       v[i].detail[0] && strcmp(v[i].status, "verified") ? v[i].detail : "");
	}
	if (!s3_configured(&ctx->cfg))
		printf("# offsite: not configured (set [backup] s3_bucket)\n");
	{
		int64_t tn = 0, tb = 0;
		char tsize[32];
		if (backup_temp_sweep(&ctx->cfg, 0, &tn, &tb, &err))
			log_warn("backup", "%s", err.msg);
		human_size(tb, tsize, sizeof(tsize));
		if (tn)
			printf("# temp files: %" PRId64
			       " (%s) left by interrupted backups or restores;"
			       " the next backup (or restore) removes them\n",
			       tn, tsize);
	}
	{
		/* backup_list_all's failed attempts without a file (size 0) are not backups */
		size_t attempts = 0;
		for (i = 0; i < n; i++)
			attempts += !strcmp(v[i].status, "failed") && v[i].size == 0;
		printf("%zu backups", n - attempts);
		if (attempts)
			printf(" (and %zu failed attempt%s without a file)", attempts,
			       attempts > 1 ? "s" : "");
		printf("\n");
	}
	free(v);
	store_close(st);
	return 0;
}

static void print_tier(const char *name, const struct backup_tier_result *t)
{
	char size[32];
	human_size(t->size, size, sizeof(size));
	if (t->outcome == BACKUP_OK)
		printf("%-8s ok       %s  %s  %.2f s  sha256 %.16s%s", name, t->location, size,
		       (double)t->duration_ms / 1000.0, t->sha256, "");
	else if (t->outcome == BACKUP_NOT_CONFIGURED)
		printf("%-8s not configured (set [backup] s3_bucket to upload offsite)", name);
	else if (t->outcome == BACKUP_FAILED)
		printf("%-8s FAILED   %s", name, t->error);
	else
		printf("%-8s skipped", name);
	if (t->attempts > 1)
		printf("  (%d attempts)", t->attempts);
	printf("\n");
	if (t->retention_deleted || t->retention_error[0])
		printf("%-8s retention: %d deleted, %d kept%s%s\n", name, t->retention_deleted,
		       t->retention_kept, t->retention_error[0] ? "; " : "", t->retention_error);
}

static const struct cmd_opt backup_opts[] = {
	{.name = "list", .id = 'l', .help = "every backup of every tier with age, size and status"},
	{.name = "now",
	 .id = 'n',
	 .arg = "TIME",
	 .help = "the clock for names and retention (drills and tests)"},
	{.name = NULL},
};

static int cmd_backup_run(struct ctx *ctx)
{
	struct backup_result res;
	struct store *st = NULL;
	struct ck_err err = {0, ""};
	int64_t now = now_ms(), t0 = mono_ms();
	int c, do_list = 0, rc;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		if (c == 'l') {
			do_list = 1;
		} else if (c == 'n') {
			if (utc_parse(optarg, &now)) {
				fprintf(stderr,
					"candlekeep backup: --now %s: not a time (use "
					"2026-03-19T18:00:00Z"
					" or ms since the epoch)\n",
					optarg);
				return EXIT_USAGE;
			}
		} else {
			fprintf(stderr,
				"candlekeep backup: unknown flag (see candlekeep backup --help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep backup: unexpected argument '%s'\n", ctx->argv[optind]);
		return EXIT_USAGE;
	}
	if (do_list)
		return list(ctx, now);
	if (!store_url(ctx->cfg.db) && access(ctx->cfg.db, F_OK) != 0) {
		fprintf(stderr,
			"candlekeep backup: %s does not exist (nothing to back up; pass --db or"
			" run candlekeep sync first)\n",
			ctx->cfg.db);
		return 1;
	}
	if (store_open(&st, ctx->cfg.db, 0, &err)) {
		fprintf(stderr, "candlekeep backup: %s\n", err.msg);
		return 1;
	}
	log_kv(LOG_INFO, "backup", ((const char *[]){"db", ctx->cfg.db, NULL}), "start");
	rc = backup_run(st, &ctx->cfg, now, &res, &err);
	print_tier("hot", &res.hot);
	print_tier("warm", &res.warm);
	print_tier("offsite", &res.offsite);
	printf("backup %s: %" PRId64 " candles, %.1f s\n", rc ? "FAILED" : "ok", res.candles,
	       (double)(mono_ms() - t0) / 1000.0);
	if (rc)
		fprintf(stderr, "candlekeep backup: %s\n", err.msg);
	log_kv(rc ? LOG_WARN : LOG_INFO, "backup",
	       ((const char *[]){"status", rc ? "failed" : "ok", NULL}), "end");
	/* whatever the alert outbox still owes (retries, repeats), not only this run's */
	if (alert_flush(st, &ctx->cfg, NULL, &err))
		log_warn("backup", "%s", err.msg);
	store_close(st);
	return rc ? 1 : 0;
}

const struct cmd cmd_backup = {
	.name = "backup",
	.summary = "verified online backup to hot, warm and offsite (S3) tiers, with retention",
	.notes = "Online backup to [backup] hot_dir, verified: one integrity_check and the\n"
		 "candle count of the snapshot during its copy, and the copy read back from the\n"
		 "disk and compared byte for byte with what was written (SHA-256 in the\n"
		 "sidecar). The warm_dir copy is\n"
		 "written in the same pass (or copied from the hot file), its SHA-256 computed\n"
		 "over the bytes written and matched to the hot one's, installed only if the\n"
		 "hot file verified; it is not read back. Offsite (S3) when s3_bucket is set:\n"
		 "zstd streamed to the bucket (a multipart upload above 8 MiB, no local\n"
		 "compressed copy), its size and checksums checked. Retention per tier (never\n"
		 "the newest verified).\n"
		 "A PostgreSQL database (--db postgresql://...) is dumped with pg_dump -Fc in\n"
		 "one snapshot and verified by pg_restore --list and a restore into a scratch\n"
		 "database whose row counts must match; hot_dir and warm_dir must be set.",
	.flags = 0,
	.opts = backup_opts,
	.run = cmd_backup_run,
};
