/* main.c — the command table and the dispatcher: the command line parsed with the flag
 * tables (cmd_line.c), configuration layers (defaults < file < environment < flags),
 * logging, then what each command's flags ask for (database, run lock, deadline), the
 * command itself, and a checked stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "binance.h"
#include "cmd.h"
#include "log.h"
#include "lock.h"
#include "store.h"
#include "banned.h"

extern char **environ;

extern const struct cmd cmd_sync, cmd_backfill, cmd_daemon, cmd_health, cmd_backup, cmd_recover,
	cmd_audit, cmd_gaps, cmd_export, cmd_import, cmd_metrics, cmd_config, cmd_ban;

static const struct cmd cmd_help;

/* In the order `candlekeep --help` lists them. */
static const struct cmd *const commands[] = {
	&cmd_sync, &cmd_backfill, &cmd_daemon, &cmd_health,  &cmd_backup, &cmd_recover, &cmd_audit,
	&cmd_gaps, &cmd_export,   &cmd_import, &cmd_metrics, &cmd_config, &cmd_ban,     &cmd_help,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Global flags: every one sets a configuration key, except -c, -v, -q and -h, which
 * cmd_line.c knows by their ids. */
static const struct cmd_opt global_opts[] = {
	{.name = "config",
	 .id = 'c',
	 .shortname = 'c',
	 .arg = "FILE",
	 .help = "read the INI configuration file FILE (before the command)"},
	{.name = "db", .arg = "PATH", .help = "the database", .section = "main", .key = "db"},
	{.name = "base-url",
	 .arg = "URL",
	 .help = "the exchange REST base URL",
	 .section = "main",
	 .key = "base_url"},
	{.name = "archive-url",
	 .arg = "URL",
	 .help = "the exchange's public archive base URL (monthly and daily kline zips)",
	 .section = "archive",
	 .key = "base_url"},
	{.name = "symbols",
	 .arg = "A,B,..",
	 .help = "symbols to keep: a comma list, default (60 liquid USDT perpetuals) or all",
	 .section = "main",
	 .key = "symbols"},
	{.name = "market",
	 .arg = "um|cm|spot",
	 .help = "the exchange's market: USD-M futures, COIN-M futures or spot",
	 .section = "main",
	 .key = "market"},
	{.name = "interval",
	 .arg = "LIST",
	 .help = "candle intervals, one or a comma list like 4h,1h,1d (replaces [main] intervals)",
	 .section = "main",
	 .key = "interval"},
	{.name = "log-format",
	 .arg = "text|json",
	 .help = "one line of text or one JSON object per log line",
	 .section = "log",
	 .key = "format"},
	{.name = "log-level",
	 .arg = "LEVEL",
	 .help = "error, warn, info or debug",
	 .section = "log",
	 .key = "level"},
	{.name = "log-dir",
	 .arg = "DIR",
	 .help = "also write each locking run's log to DIR/<command>_YYYY-mm-dd_HH-MM-SS.log",
	 .section = "log",
	 .key = "dir"},
	{.name = "log-file",
	 .arg = "FILE",
	 .help = "also append every log line to FILE",
	 .section = "log",
	 .key = "file"},
	{.name = "verbose",
	 .id = 'v',
	 .shortname = 'v',
	 .help = "debug logging (-v also after the command)"},
	{.name = "quiet",
	 .id = 'q',
	 .shortname = 'q',
	 .help = "only warnings and errors on standard error (-q also after the command)"},
	{.name = "help",
	 .id = 'h',
	 .shortname = 'h',
	 .help = "list the commands (after a command: its flags)"},
	{.name = NULL},
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Flushes standard output: 1 if a write to it failed (said on stderr when say: a
 * command that failed has said why already, as export does of a full disk). */
static int check_stdout(int say)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return 0; /* the reader went away (| head): not our failure */
		if (say)
			fprintf(stderr, "candlekeep: write to standard output: %s\n",
				strerror(errno));
		return 1;
	}
	return 0;
}

static const struct cmd_opt help_opts[] = {
	{.name = "man",
	 .id = 'm',
	 .help = "print the man page's generated blocks (scripts/gen-man.sh puts them in)"},
	{.name = NULL},
};

/* `candlekeep help [COMMAND]`, `candlekeep help --man`. */
static int cmd_help_run(struct ctx *ctx)
{
	const struct cmd *cmd = NULL;
	int c, man = 0;
	size_t i;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1)
		man = c == 'm';
	if (man) {
		cmd_help_man(stdout, global_opts, commands, NCOMMANDS);
		return 0;
	}
	if (optind >= ctx->argc) {
		cmd_help_usage(stdout, global_opts, commands, NCOMMANDS);
		return 0;
	}
	for (i = 0; i < NCOMMANDS && !cmd; i++)
		if (!strcmp(commands[i]->name, ctx->argv[optind]))
			cmd = commands[i];
	if (!cmd) {
		fprintf(stderr,
			"candlekeep help: unknown command '%s' (run candlekeep --help for the"
			" list)\n",
			ctx->argv[optind]);
		return EXIT_USAGE;
	}
	cmd_help_print(stdout, cmd);
	return 0;
}

static const struct cmd cmd_help = {
	.name = "help",
	.summary = "the command list, a command's flags, or the man page's generated parts",
	.operands = "[COMMAND]",
	.flags = CMD_NO_CONFIG,
	.opts = help_opts,
	.run = cmd_help_run,
};

static int usage_exit(const struct cmd *cmd)
{
	return cmd && cmd->usage_exit ? cmd->usage_exit : EXIT_USAGE;
}

/* The configuration layers: defaults < file < environment < the flags of the command
 * line (in its order); then logging. Returns 0 or the exit status. */
/* [main] market for the whole process: the exchange's URLs and weights (binance.c) and
 * the market every store opened from now on works on. */
static int market_use(const struct cfg *cfg, struct ck_err *err)
{
	if (binance_market_use(cfg->market))
		return ck_err_set(err, CK_EUSAGE, "[main] market = %s: use um, cm or spot",
				  cfg->market ? cfg->market : "");
	store_market_default(cfg->market);
	return 0;
}

static int load_config(struct ctx *ctx, const struct cmd_line *cl)
{
	struct ck_err err = {0, ""};
	size_t i;

	if (cfg_init(&ctx->cfg, &err) ||
	    (ctx->cfg_file && cfg_load_file(&ctx->cfg, ctx->cfg_file, &err)) ||
	    cfg_load_env(&ctx->cfg, ctx->envp, &err))
		goto fail;
	for (i = 0; i < cl->nset; i++) {
		char src[64];
		snprintf(src, sizeof(src), "--%s", cl->set[i].opt->name);
		if (cfg_set(&ctx->cfg, cl->set[i].opt->section, cl->set[i].opt->key, cl->set[i].val,
			    src, &err))
			goto fail;
	}
	if (cfg_finish(&ctx->cfg, &err) || market_use(&ctx->cfg, &err) ||
	    (ctx->cfg.db && store_backend_check(ctx->cfg.db, &err)) ||
	    (ctx->cfg.db && (ctx->cmd->flags & CMD_FILE_DB) && store_url(ctx->cfg.db) &&
	     ck_err_set(&err, CK_EUSAGE,
			"%s: works on a database file only, not on %s (a PostgreSQL database"
			" is backed up with pg_dump or the cluster's own tools)",
			ctx->cmd->name, ctx->cfg.db)) ||
	    log_setup(ctx->cfg.log_format, ctx->cfg.log_level, cl->quiet, cl->verbose, &err))
		goto fail;
	if ((ctx->cfg.log_file && *ctx->cfg.log_file &&
	     log_open_path(ctx->cfg.log_file, cfg_file_mode(&ctx->cfg), &err)) ||
	    (ctx->cfg.log_dir && *ctx->cfg.log_dir && (ctx->cmd->flags & CMD_TAKES_LOCK) &&
	     log_open_file(ctx->cfg.log_dir, ctx->cmd->name, cfg_file_mode(&ctx->cfg), &err))) {
		fprintf(stderr, "candlekeep: %s\n", err.msg);
		return EXIT_USAGE;
	}
	return 0;
fail:
	fprintf(stderr, "candlekeep: %s\n", err.msg);
	return usage_exit(ctx->cmd);
}

static void setup_process(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is an error to report, not a death */
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* What the command's flags ask for: the run lock, the database, a deadline. Returns 0
 * or the exit status. */
static int open_needs(struct ctx *ctx)
{
	struct ck_err err = {0, ""};
	unsigned fl = ctx->cmd->flags;

	if ((fl & CMD_TAKES_LOCK) &&
	    lock_acquire(&ctx->lock, ctx->cfg.db, ctx->cmd->name, cfg_file_mode(&ctx->cfg), &err)) {
		fprintf(stderr, "candlekeep: %s\n", err.msg);
		return err.code == CK_ELOCKED ? EXIT_LOCKED : 1;
	}
	if (fl & (CMD_NEEDS_DB | CMD_READS_DB)) {
		int sfl = (fl & CMD_NEEDS_DB) ? 0 : STORE_RDONLY;
		if (cfg_file_mode(&ctx->cfg) == 0600)
			sfl |= STORE_PRIVATE;
		if (store_open(&ctx->st, ctx->cfg.db, sfl, &err)) {
			fprintf(stderr, "candlekeep: %s\n", err.msg);
			return 1;
		}
	}
	if ((fl & CMD_DEADLINE) && ctx->cfg.timeout_s > 0)
		ctx->deadline_ms = mono_ms() + ctx->cfg.timeout_s * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx ctx;
	struct cmd_line cl;
	struct ck_err err = {0, ""};
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stop = &stop_flag;
	ctx.envp = environ;
	if (cmd_line_parse(&cl, global_opts, commands, NCOMMANDS, argc, argv, &err)) {
		fprintf(stderr, "candlekeep: %s\n", err.msg);
		rc = usage_exit(cl.cmd);
	} else if (!cl.cmd && !cl.help) {
		cmd_help_usage(stderr, global_opts, commands, NCOMMANDS);
		rc = EXIT_USAGE;
	} else if (cl.help) {
		if (cl.cmd)
			cmd_help_print(stdout, cl.cmd);
		else
			cmd_help_usage(stdout, global_opts, commands, NCOMMANDS);
		rc = check_stdout(1);
	} else {
		ctx.cmd = cl.cmd;
		ctx.argc = cl.argc;
		ctx.argv = cl.argv;
		ctx.cfg_file = cl.cfg_file;
		rc = (cl.cmd->flags & CMD_NO_CONFIG) ? 0 : load_config(&ctx, &cl);
		if (!rc) {
			setup_process();
			if (!(rc = open_needs(&ctx))) {
				rc = cl.cmd->run(&ctx);
				if (check_stdout(rc == 0) && rc == 0)
					rc = 1;
			}
		}
	}
	store_close(ctx.st);
	lock_release(ctx.lock);
	cfg_release(&ctx.cfg);
	cmd_line_release(&cl);
	log_close_file();
	curl_global_cleanup();
	return rc;
}
