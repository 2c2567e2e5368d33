/* cmd_metrics.c — `candlekeep metrics [--textfile DIR] [--list]`: the Prometheus
 * exposition derived from the database (opened read-only), to stdout or atomically into
 * DIR/candlekeep.prom for node_exporter's textfile collector. Exit 0 (also when parts of
 * a damaged database could not be read: the exposition says so), 1 on an error (nothing
 * or the previous file is left in place), 2 on bad usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "cmd.h"
#include "metrics.h"
#include "store.h"
#include "banned.h"

#define TEXTFILE_NAME "candlekeep.prom"

static int write_textfile(const char *dir, const char *text, size_t len, unsigned mode,
			  struct ck_err *err)
{
	struct afile a;
	char path[4096];

	memset(&a, 0, sizeof(a));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, TEXTFILE_NAME) >= sizeof(path))
		return ck_err_set(err, CK_EUSAGE, "--textfile %s: path too long", dir);
	/* [main] export_file_mode, 0644 by default: node_exporter usually runs as another
	 * user and must read it. */
	if (afile_open(&a, path, (int)mode, err))
		return err->code;
	if (afile_write(&a, text, len, err))
		return err->code;
	return afile_commit(&a, err);
}

static const struct cmd_opt metrics_opts[] = {
	{.name = "textfile",
	 .id = 't',
	 .arg = "DIR",
	 .help = "write DIR/" TEXTFILE_NAME
		 " atomically instead (node_exporter's textfile collector)"},
	{.name = "list", .id = 'l', .help = "print the metric table (name, type, labels, meaning)"},
	{.name = NULL},
};

static int cmd_metrics_run(struct ctx *ctx)
{
	struct ck_err err = {0, ""}, problem = {0, ""};
	const char *dir = NULL;
	char *text = NULL;
	size_t len = 0;
	int c;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 't':
			dir = optarg;
			break;
		case 'l':
			metrics_print_table(stdout);
			return 0;
		default:
			fprintf(stderr, "candlekeep metrics: unknown flag (see candlekeep metrics "
					"--help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep metrics: unexpected argument '%s'\n",
			ctx->argv[optind]);
		return EXIT_USAGE;
	}
	if (dir && !*dir) {
		fprintf(stderr, "candlekeep metrics: --textfile needs a directory\n");
		return EXIT_USAGE;
	}
	/* Opened here, read-only, rather than by the dispatcher: --list and --help need no
	 * database. */
	/* A damaged database is what the metrics must report, not a reason to report
	 * nothing: the parts that cannot be read are left out and said so (exit 0). Any
	 * other failure to open (no such file, no permission) is exit 1. */
	if (store_open(&ctx->st, ctx->cfg.db, STORE_RDONLY, &problem) &&
	    problem.code != CK_ECORRUPT) {
		fprintf(stderr, "candlekeep metrics: %s\n", problem.msg);
		return 1;
	}
	if (metrics_render(ctx->st, &ctx->cfg, NULL, &text, &len, &problem, &err)) {
		fprintf(stderr, "candlekeep metrics: %s\n", err.msg);
		return 1;
	}
	if (problem.code)
		fprintf(stderr,
			"candlekeep metrics: warning: %s (written without it; see "
			"candlekeep_metrics_collect_ok)\n",
			problem.msg);
	if (dir) {
		if (write_textfile(dir, text, len, cfg_export_mode(&ctx->cfg), &err)) {
			fprintf(stderr, "candlekeep metrics: %s\n", err.msg);
			free(text);
			return 1;
		}
	} else if (fwrite(text, 1, len, stdout) != len) {
		fprintf(stderr, "candlekeep metrics: write to stdout failed\n");
		free(text);
		return 1;
	}
	free(text);
	return 0;
}

const struct cmd cmd_metrics = {
	.name = "metrics",
	.summary = "Prometheus exposition, to stdout or atomically into a textfile dir",
	.flags = 0, /* opens the database itself, read-only (see above) */
	.opts = metrics_opts,
	.run = cmd_metrics_run,
};
