/* cmd_audit.c — `candlekeep audit [--days N] [--json] [--html FILE] [--now TIME]
 * [--no-drill]`: the SLA report over the last N days (audit.h has the definitions).
 * Exit 0 when every target is met, 1 when any is breached, 2 on bad usage or when the
 * audit could not be made. Takes no run lock: it only reads, except the restore drill's
 * event, and restores into a temp directory, never over the database. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmd.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

static const struct cmd_opt audit_opts[] = {
	{.name = "days", .id = 'd', .arg = "N", .help = "the period: the last N days (default 30)"},
	{.name = "json", .id = 'j', .help = "the report as JSON on stdout"},
	{.name = "html",
	 .id = 'H',
	 .arg = "FILE",
	 .help = "also write the report as a self-contained HTML page with a chart"},
	{.name = "now",
	 .id = 'n',
	 .arg = "TIME",
	 .help = "end of the period (\"2026-03-19 00:00\" UTC or ms; default now)"},
	{.name = "no-drill",
	 .id = 'D',
	 .help = "skip the restore drill (RTO then counts as not measured); opens read-only"},
	{.name = NULL},
};

static int cmd_audit_run(struct ctx *ctx)
{
	struct audit_opts o = {30, 0, 1, NULL};
	struct audit_report r;
	struct ck_err err = {0, ""};
	const char *html = NULL;
	int json = 0, c, rc;
	char *end;

	o.now_ms = now_ms();
	optind = 1;
	opterr = 0;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			o.days = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || o.days < 1 || o.days > 3660) {
				fprintf(stderr,
					"candlekeep audit: --days %s: want a whole number of days,"
					" 1..3660\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'H':
			html = optarg;
			break;
		case 'n':
			if (utc_parse(optarg, &o.now_ms)) {
				fprintf(stderr,
					"candlekeep audit: --now %s: not a time (use \"YYYY-MM-DD"
					" HH:MM\" UTC or ms since the epoch)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			o.drill = 0;
			break;
		default:
			fprintf(stderr,
				"candlekeep audit: unknown flag %s (see candlekeep audit --help)\n",
				ctx->argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr,
			"candlekeep audit: unexpected argument '%s' (see candlekeep audit"
			" --help)\n",
			ctx->argv[optind]);
		return EXIT_USAGE;
	}
	/* Opened here rather than by the dispatcher: without the drill the audit only
	 * reads, so a monitoring user who cannot write the database's directory can run it. */
	if (store_open(&ctx->st, ctx->cfg.db, o.drill ? 0 : STORE_RDONLY, &err)) {
		fprintf(stderr, "candlekeep audit: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (audit_run(ctx->st, &ctx->cfg, &o, &r, &err)) {
		fprintf(stderr, "candlekeep audit: %s\n", err.msg);
		return EXIT_USAGE;
	}
	rc = r.all_met ? 0 : 1;
	if (json) {
		char *out = NULL;
		if (audit_to_json(&r, &out, &err)) {
			fprintf(stderr, "candlekeep audit: %s\n", err.msg);
			audit_report_release(&r);
			return EXIT_USAGE;
		}
		printf("%s\n", out);
		free(out);
	} else {
		audit_print_text(&r, &ctx->cfg, stdout);
	}
	if (html && audit_write_html(&r, &ctx->cfg, html, &err)) {
		fprintf(stderr, "candlekeep audit: %s\n", err.msg);
		rc = EXIT_USAGE;
	}
	audit_report_release(&r);
	return rc;
}

const struct cmd cmd_audit = {
	.name = "audit",
	.summary = "SLA report: coverage, staleness, gaps, backups, a timed restore drill",
	.flags = 0, /* opens the database itself: read-only with --no-drill */
	.notes = "exit: 0 every SLA target met, 1 a target breached, 2 bad usage or no audit",
	.opts = audit_opts,
	.run = cmd_audit_run,
};
