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

static const char daemon_usage[] =
	"usage: candlekeep daemon [--listen HOST:PORT] [--port-file FILE] [--no-catch-up]\n"
	"\n"
	"Runs sync, backup, health, audit and integrity_check at their [schedule] times\n"
	"(cron, UTC), serves /metrics, /healthz, /api/status and a status page on [metrics]\n"
	"listen, and pings [schedule] deadman_url around each sync. Under systemd\n"
	"(Type=notify) it sends READY=1, WATCHDOG=1 and STOPPING=1. SIGHUP reloads the\n"
	"configuration; SIGTERM or SIGINT stop it (the running sync finishes its page).\n"
	"\n"
	"  --listen HOST:PORT  serve HTTP here instead of [metrics] listen; port 0 picks a\n"
	"                      free port; an empty value turns HTTP off\n"
	"  --port-file FILE    write the bound HTTP port to FILE once listening\n"
	"  --no-catch-up       do not run missed jobs at start; wait for their next time\n"
	"  --clock-url URL     TEST HOOK: take the time from URL/fapi/v1/time (a fake\n"
	"                      exchange) instead of the system clock; never in production\n";

static int cmd_daemon_run(struct ctx *ctx)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"listen", required_argument, NULL, 'l'},
		{"port-file", required_argument, NULL, 'p'},
		{"clock-url", required_argument, NULL, 'C'},
		{"no-catch-up", no_argument, NULL, 'n'},
		{0, 0, 0, 0},
	};
	struct daemon_opts o;
	struct ck_err err = {0, ""};
	struct sigaction sa;
	int c, rc;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(daemon_usage, stdout);
			return 0;
		case 'l': o.listen = optarg; break;
		case 'p': o.port_file = optarg; break;
		case 'C': o.clock_url = optarg; break;
		case 'n': o.no_catch_up = 1; break;
		default:
			fprintf(stderr, "candlekeep daemon: unknown flag or missing value '%s' (see "
				"candlekeep daemon --help)\n", ctx->argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc) {
		fprintf(stderr, "candlekeep daemon: unexpected argument '%s'\n", ctx->argv[optind]);
		return EXIT_USAGE;
	}
	if (o.clock_url && strncmp(o.clock_url, "http://", 7) && strncmp(o.clock_url, "https://", 8)) {
		fprintf(stderr, "candlekeep daemon: --clock-url must be an http(s) URL\n");
		return EXIT_USAGE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	o.reload = &reload_flag;

	rc = daemon_run(ctx, &o, &err);
	if (rc) {
		fprintf(stderr, "candlekeep daemon: %s\n", err.msg);
		return rc == CK_EUSAGE ? EXIT_USAGE : 1;
	}
	log_info("daemon", "stopped");
	return 0;
}

const struct cmd cmd_daemon = {
	.name = "daemon",
	.usage = "daemon [--listen HOST:PORT] [--port-file FILE] [--no-catch-up]",
	.summary = "the 24/7 scheduler (sync, backup, health, audit, integrity), /metrics, status page",
	.flags = CMD_NEEDS_DB,
	.opts = NULL,
	.run = cmd_daemon_run,
};
