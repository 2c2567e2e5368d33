/* cmd_health.c — `candlekeep health [--json] [--full] [--now TIME]`: the eight checks,
 * monitoring-plugins exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, also for bad
 * usage). Opens the database itself, read-only, so that a missing or unreadable
 * database is a CRITICAL answer rather than a dispatcher error; never takes the run
 * lock. With [alert] channels configured it then raises and resolves one alert per
 * check through the alert outbox (the only write, and only to the alert tables), so a
 * health run from cron delivers as the daemon does, and neither repeats the other. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "cmd.h"
#include "health.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

static const struct cmd_opt health_opts[] = {
	{.name = "json", .id = 'j', .help = "the report as a JSON object"},
	{.name = "full",
	 .id = 'f',
	 .help = "PRAGMA integrity_check and gaps over all history (slower)"},
	{.name = "now",
	 .id = 'n',
	 .arg = "TIME",
	 .help = "judge freshness and backup ages as of TIME (\"2026-03-19 18:00\" or ms)"},
	{.name = NULL},
};

/* The alerts of report r: through the outbox of the database at [main] db when it
 * opened (have_db), else sent at once (a missing or damaged database must reach a
 * person too). Never changes the exit status. */
static void health_alert(struct ctx *ctx, const struct health_report *r, int have_db)
{
	struct ck_err err = {0, ""};
	struct store *st = NULL;

	if (!alert_configured(&ctx->cfg))
		return;
	if (have_db && store_open(&st, ctx->cfg.db, 0, &err)) {
		fprintf(stderr,
			"candlekeep health: alerts not delivered: %s (run health as the "
			"user that owns the database)\n",
			err.msg);
		return;
	}
	if (alert_health(st, &ctx->cfg, r, &err))
		fprintf(stderr, "candlekeep health: %s\n", err.msg);
	store_close(st);
}

static int cmd_health_run(struct ctx *ctx)
{
	struct health_report r;
	struct ck_err err = {0, ""}, oerr = {0, ""};
	struct store *st = NULL;
	int json = 0, full = 0, have_db, c, rc;
	int64_t now = now_ms();

	optind = 1;
	opterr = 0;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'f':
			full = 1;
			break;
		case 'n':
			if (utc_parse(optarg, &now)) {
				fprintf(stderr,
					"candlekeep health: --now %s: not a time (use \"YYYY-MM-DD"
					" HH:MM\" UTC or ms since the epoch)\n",
					optarg);
				return HEALTH_UNKNOWN;
			}
			break;
		default:
			fprintf(stderr,
				"candlekeep health: unknown flag %s (see candlekeep health"
				" --help)\n",
				ctx->argv[optind - 1]);
			return HEALTH_UNKNOWN;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr,
			"candlekeep health: unexpected argument '%s' (see candlekeep health"
			" --help)\n",
			ctx->argv[optind]);
		return HEALTH_UNKNOWN;
	}

	if (store_open(&st, ctx->cfg.db, STORE_RDONLY, &oerr))
		st = NULL;
	rc = health_run(st, &ctx->cfg, full, now, &r, &err);
	if (rc) {
		/* Could not check at all. */
		store_close(st);
		printf("CANDLEKEEP UNKNOWN - %s\n", err.msg);
		return HEALTH_UNKNOWN;
	}
	if (!st) {
		snprintf(r.summary, sizeof(r.summary), "CANDLEKEEP CRITICAL - %s", oerr.msg);
		for (size_t i = 0; i < r.nchecks; i++)
			if (!strcmp(r.checks[i].name, "integrity"))
				snprintf(r.checks[i].message, sizeof(r.checks[i].message), "%s",
					 oerr.msg);
	}
	have_db = st != NULL;
	store_close(st);
	if (json) {
		char *out = NULL;
		if (health_to_json(&r, &out, &err)) {
			printf("CANDLEKEEP UNKNOWN - %s\n", err.msg);
			return HEALTH_UNKNOWN;
		}
		printf("%s\n", out);
		free(out);
	} else {
		health_print_text(&r, stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = HEALTH_UNKNOWN;
	else
		rc = (int)r.status;
	health_alert(ctx, &r, have_db);
	return rc;
}

const struct cmd cmd_health = {
	.name = "health",
	.summary = "the health checks; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
	.flags = 0,
	.notes = "exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
	.usage_exit = 3,
	.opts = health_opts,
	.run = cmd_health_run,
};
