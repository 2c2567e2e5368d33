/* main.c — the command table and the dispatcher: global flags, configuration layers
 * (defaults < file < environment < flags), logging, then what each command's flags ask
 * for (database, run lock, deadline), the command itself, and a checked stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmd.h"
#include "log.h"
#include "lock.h"
#include "store.h"
#include "banned.h"

extern char **environ;

extern const struct cmd cmd_sync, cmd_backfill, cmd_daemon, cmd_health, cmd_backup,
	cmd_recover, cmd_audit, cmd_gaps, cmd_export, cmd_import, cmd_metrics, cmd_config,
	cmd_ban;

/* In the order `candlekeep --help` lists them. */
static const struct cmd *const commands[] = {
	&cmd_sync,   &cmd_backfill, &cmd_daemon, &cmd_health, &cmd_backup,  &cmd_recover,
	&cmd_audit,  &cmd_gaps,     &cmd_export, &cmd_import, &cmd_metrics, &cmd_config,
	&cmd_ban,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Global flags: every one sets a configuration key, except -c, -v, -q. */
static const struct cmd_opt global_opts[] = {
	{"db", "main", "db", NULL},
	{"base-url", "main", "base_url", NULL},
	{"symbols", "main", "symbols", NULL},
	{"interval", "main", "interval", NULL},
	{"log-format", "log", "format", NULL},
	{"log-level", "log", "level", NULL},
	{"log-dir", "log", "dir", NULL},
	{"log-file", "log", "file", NULL},
	{NULL, NULL, NULL, NULL},
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: candlekeep [-c FILE] [--db PATH] [--base-url URL] [--symbols A,B,..]\n"
		   "                  [--interval 4h] [--log-format text|json] [-v] [-q] COMMAND [flags]\n\n"
		   "commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'candlekeep COMMAND --help' for a command's flags; 'candlekeep config'"
		   " prints the effective configuration.\n");
}

static const struct cmd *find_cmd(const char *name)
{
	size_t i;
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static const struct cmd_opt *find_opt(const struct cmd_opt *opts, const char *name, size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

/* Applies configuration flags (global and the command's) found anywhere in argv, and
 * compacts the rest into out (argv[0] stays). Returns 0 or CK_EUSAGE. */
static int apply_flags(struct cfg *c, const struct cmd *cmd, int argc, char **argv,
		       char **out, int *outc, struct ck_err *err)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		const struct cmd_opt *o = NULL;
		char src[64];
		size_t len;

		if (!strcmp(a, "--")) {
			while (i < argc)
				out[n++] = argv[i++];
			break;
		}
		if (strncmp(a, "--", 2) != 0 || i == 0) {
			out[n++] = argv[i];
			continue;
		}
		eq = strchr(a + 2, '=');
		len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		o = find_opt(global_opts, a + 2, len);
		if (!o && cmd)
			o = find_opt(cmd->opts, a + 2, len);
		if (!o) {
			out[n++] = argv[i];
			continue;
		}
		if (o->value) {
			val = o->value;
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return ck_err_set(err, CK_EUSAGE, "flag --%s needs a value", o->name);
		}
		snprintf(src, sizeof(src), "--%s", o->name);
		if (cfg_set(c, o->section, o->key, val, src, err))
			return err->code;
	}
	out[n] = NULL;
	*outc = n;
	return 0;
}

static int check_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return 0; /* the reader went away (| head): not our failure */
		fprintf(stderr, "candlekeep: write to standard output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx ctx;
	struct ck_err err = {0, ""};
	const struct cmd *cmd = NULL;
	char **rest = NULL;
	int i, quiet = 0, verbose = 0, cmd_at = -1, rc = EXIT_USAGE, restc = 0;
	struct sigaction sa;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stop = &stop_flag;
	ctx.envp = environ;

	/* Leading global flags: -c FILE, -v, -q, -h; the command is the first non-flag. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (++i >= argc) {
				fprintf(stderr, "candlekeep: -c needs a file name\n");
				return EXIT_USAGE;
			}
			ctx.cfg_file = argv[i];
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
			usage(stdout);
			return check_stdout();
		} else if (a[0] == '-' && a[1] == '-') {
			/* a global --flag VALUE before the command */
			const struct cmd_opt *o = find_opt(global_opts, a + 2, strlen(a + 2));
			size_t k;
			for (k = 0; !o && k < NCOMMANDS; k++)
				o = find_opt(commands[k]->opts, a + 2, strlen(a + 2));
			if (!strchr(a, '=') && o && !o->value)
				i++;
		} else {
			cmd_at = i;
			break;
		}
	}
	if (cmd_at < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!(cmd = find_cmd(argv[cmd_at]))) {
		fprintf(stderr, "candlekeep: unknown command '%s' (run candlekeep --help for the list)\n",
			argv[cmd_at]);
		return EXIT_USAGE;
	}

	if (cfg_init(&ctx.cfg, &err) ||
	    (ctx.cfg_file && cfg_load_file(&ctx.cfg, ctx.cfg_file, &err)) ||
	    cfg_load_env(&ctx.cfg, environ, &err))
		goto usage_fail;
	/* Configuration flags anywhere on the line (global ones and the command's) are
	 * applied now, after file and environment; what is left is the command's. */
	if (!(rest = calloc((size_t)argc + 1, sizeof(*rest)))) {
		fprintf(stderr, "candlekeep: out of memory\n");
		goto out;
	}
	if (apply_flags(&ctx.cfg, cmd, argc, argv, rest, &restc, &err))
		goto usage_fail;
	{
		int w = 0, seen_cmd = 0;
		for (i = 0; i < restc; i++) {
			const char *a = rest[i];
			if (!seen_cmd && i > 0) {
				if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
					i++;
					continue;
				}
				if (!strcmp(a, "-v") || !strcmp(a, "--verbose") || !strcmp(a, "-q") ||
				    !strcmp(a, "--quiet"))
					continue;
				if (a[0] == '-') {
					ck_err_set(&err, CK_EUSAGE, "unknown global flag %s (see candlekeep --help)", a);
					goto usage_fail;
				}
				seen_cmd = 1; /* the command name becomes the command's argv[0] */
				w = 0;
			} else if (seen_cmd && (!strcmp(a, "-v") || !strcmp(a, "-q"))) {
				if (a[1] == 'v')
					verbose = 1;
				else
					quiet = 1;
				continue;
			}
			rest[w++] = rest[i];
		}
		rest[w] = NULL;
		restc = w;
	}
	ctx.argc = restc;
	ctx.argv = rest;
	if (cfg_finish(&ctx.cfg, &err) || (ctx.cfg.db && store_backend_check(ctx.cfg.db, &err)))
		goto usage_fail;
	if (log_setup(ctx.cfg.log_format, ctx.cfg.log_level, quiet, verbose, &err))
		goto usage_fail;
	if ((ctx.cfg.log_file && *ctx.cfg.log_file && log_open_path(ctx.cfg.log_file, cfg_file_mode(&ctx.cfg), &err)) ||
	    (ctx.cfg.log_dir && *ctx.cfg.log_dir && (cmd->flags & CMD_TAKES_LOCK) &&
	     log_open_file(ctx.cfg.log_dir, cmd->name, cfg_file_mode(&ctx.cfg), &err))) {
		fprintf(stderr, "candlekeep: %s\n", err.msg);
		rc = EXIT_USAGE;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is an error to report, not a death */
	curl_global_init(CURL_GLOBAL_DEFAULT);

	if (cmd->flags & CMD_TAKES_LOCK) {
		if (lock_acquire(&ctx.lock, ctx.cfg.db, cmd->name, cfg_file_mode(&ctx.cfg), &err)) {
			fprintf(stderr, "candlekeep: %s\n", err.msg);
			rc = err.code == CK_ELOCKED ? EXIT_LOCKED : 1;
			goto out;
		}
	}
	if (cmd->flags & (CMD_NEEDS_DB | CMD_READS_DB)) {
		int fl = (cmd->flags & CMD_NEEDS_DB) ? 0 : STORE_RDONLY;
		if (cfg_file_mode(&ctx.cfg) == 0600)
			fl |= STORE_PRIVATE;
		if (store_open(&ctx.st, ctx.cfg.db, fl, &err)) {
			fprintf(stderr, "candlekeep: %s\n", err.msg);
			rc = 1;
			goto out;
		}
	}
	if ((cmd->flags & CMD_DEADLINE) && ctx.cfg.timeout_s > 0)
		ctx.deadline_ms = mono_ms() + ctx.cfg.timeout_s * 1000;
	rc = cmd->run(&ctx);
	if (check_stdout() && rc == 0)
		rc = 1;
	goto out;

usage_fail:
	fprintf(stderr, "candlekeep: %s\n", err.msg);
	rc = cmd && cmd->usage_exit ? cmd->usage_exit : EXIT_USAGE;
out:
	store_close(ctx.st);
	lock_release(ctx.lock);
	cfg_release(&ctx.cfg);
	free(rest);
	log_close_file();
	curl_global_cleanup();
	return rc;
}
