/* cmd_daemon.c — `candlekeep daemon`: flags, SIGHUP, then the scheduler (daemon.c)
 * until SIGTERM/SIGINT. Exit 0 after a signal, 2 for a bad flag or schedule, 1 when
 * the HTTP server cannot listen or the database cannot be used. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "daemon.h"
#include "log.h"
#include "banned.h"

static volatile sig_atomic_t reload_flag;

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

static const struct cmd_opt daemon_opts[] = {
	{.name = "listen",
	 .id = 'l',
	 .arg = "HOST:PORT",
	 .help = "serve HTTP here instead of [metrics] listen; port 0 picks a free port; empty: no "
		 "HTTP"},
	{.name = "port-file",
	 .id = 'p',
	 .arg = "FILE",
	 .help = "write the bound HTTP port to FILE (atomically) once listening"},
	{.name = "no-catch-up",
	 .id = 'n',
	 .help = "do not run missed jobs at start; wait for their next time"},
	{.name = "clock-url",
	 .id = 'C',
	 .arg = "URL",
	 .help = "TEST HOOK: the time of URL/fapi/v1/time (a fake exchange); never in production"},
	{.name = NULL},
};

static int cmd_daemon_run(struct ctx *ctx)
{
	struct daemon_opts o;
	struct ck_err err = {0, ""};
	struct sigaction sa;
	int c, rc;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = cmd_getopt(ctx)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'p':
			o.port_file = optarg;
			break;
		case 'C':
			o.clock_url = optarg;
			break;
		case 'n':
			o.no_catch_up = 1;
			break;
		default:
			fprintf(stderr,
				"candlekeep daemon: unknown flag or missing value '%s' (see "
				"candlekeep daemon --help)\n",
				ctx->argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep daemon: unexpected argument '%s'\n", ctx->argv[optind]);
		return EXIT_USAGE;
	}
	if (o.clock_url && strncmp(o.clock_url, "http://", 7) &&
	    strncmp(o.clock_url, "https://", 8)) {
		fprintf(stderr, "candlekeep daemon: --clock-url must be an http(s) URL\n");
		return EXIT_USAGE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	o.reload = &reload_flag;

	{
		struct daemon_env env = {ctx->cfg, ctx->st, ctx->stop, ctx->cfg_file, ctx->envp};
		rc = daemon_run(&env, &o, &err);
		ctx->cfg = env.cfg; /* a reload replaced it: main releases the one in force */
	}
	if (rc) {
		fprintf(stderr, "candlekeep daemon: %s\n", err.msg);
		return rc == CK_EUSAGE ? EXIT_USAGE : 1;
	}
	log_info("daemon", "stopped");
	return 0;
}

const struct cmd cmd_daemon = {
	.name = "daemon",
	.summary = "the 24/7 scheduler (sync, backup, health, audit, integrity), /metrics, status "
		   "page",
	.notes = "Runs sync, backup, health, audit and integrity_check at their [schedule] times\n"
		 "(cron, UTC), serves /metrics, /healthz, /api/status and a status page on "
		 "[metrics]\n"
		 "listen, and pings [schedule] deadman_url around each sync. Under systemd\n"
		 "(Type=notify) it sends READY=1, WATCHDOG=1 and STOPPING=1. SIGHUP reloads the\n"
		 "configuration; SIGTERM or SIGINT stop it (the running sync finishes its page).",
	.flags = CMD_NEEDS_DB,
	.opts = daemon_opts,
	.run = cmd_daemon_run,
};
