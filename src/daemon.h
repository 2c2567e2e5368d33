/* daemon.h — `candlekeep daemon`: the 24/7 scheduler and its HTTP server.
 *
 * One scheduler thread (the caller's) runs the jobs sync, backup, health, audit and
 * integrity_check at the times of their [schedule] cron expressions (UTC), one job at a
 * time, in that order when several are due. Jobs call the modules the commands call,
 * never a command, and report to the log: sync through run_sync (run.c: the run record,
 * the candle_count event, the alerts), backup through backup_run, health through
 * health_run (alerting on a status change; its quick check's verdict is recorded as event
 * integrity_check "quick"), audit through audit_run (30 days, with its restore drill),
 * integrity_check runs the full PRAGMA integrity_check (event integrity_check "full";
 * corruption_detected too when damaged).
 *
 * systemd (Type=notify): READY=1 once the schedule is planned and HTTP listens,
 * STOPPING=1 on the way out, and WATCHDOG=1 from the scheduler loop itself (each look at
 * the clock, at most every quarter of WatchdogSec), so a hung scheduler stops the pings. A job
 * whose command takes the run lock takes the same lock as the CLI, so daemon jobs never overlap
 * cron-driven runs either; a sync due while the lock is held elsewhere, or while the previous sync
 * still runs, is skipped and counted (event sync_skipped), never queued.
 *
 * Catch-up (like systemd's Persistent=true): at start, a job that never succeeded, or
 * whose last successful run is older than its latest scheduled time, runs at once. The
 * last success comes from the database (runs table for sync and audit, backups table
 * for backup, health events), so cron-driven runs count the same as the daemon's.
 *
 * Files: daemon.c the scheduler, daemon_jobs.c the jobs, httpd.c the HTTP server,
 * status_page.c the page; daemon_int.h what they share.
 *
 * HTTP (libmicrohttpd, its own threads, a read-only database connection): /metrics,
 * /healthz (200 for OK/WARNING, 503 for CRITICAL/UNKNOWN, JSON body), / (the status
 * page), /api/status (the scheduler's state as JSON). GET and HEAD only; anything
 * else is 4xx. Rendered answers are cached for a second (/healthz five) so a burst of
 * requests costs one rendering.
 *
 * Clock: the system clock, UTC. Test hook: with clock_url set the daemon's clock
 * follows GET <clock_url>/fapi/v1/time (the fake exchange's clock); run records are
 * still stamped with the system clock, so the offset between the two is kept in the
 * database (state "daemon.test_clock_offset_ms") to compare old runs with the fake
 * clock. Never use it in production. */
#ifndef CK_DAEMON_H
#define CK_DAEMON_H

#include <signal.h>

#include "cfg.h"
#include "store.h"
#include "err.h"

struct daemon_opts {
	const char *listen;    /* host:port overriding [metrics] listen ("" = no HTTP;
				* port 0 = an ephemeral port); NULL = the configuration's */
	const char *port_file; /* the bound port is written here (atomically); NULL = none */
	const char *clock_url; /* test hook (see above); NULL = the system clock */
	int no_catch_up;       /* 1 = wait for the next scheduled time of every job */
	volatile sig_atomic_t *reload; /* set by SIGHUP: reload the configuration */
};

/* Runs until *ctx->stop is set (SIGINT/SIGTERM): the current job finishes its current
 * step (a sync its current page) and the function returns 0. ctx must hold an open
 * read-write store (ctx->st) and the effective configuration; on reload ctx->cfg is
 * replaced. Returns CK_EUSAGE for a schedule that does not parse, CK_EIO when the HTTP
 * server cannot listen (err says why). Blocking. */
/* What the daemon runs with: the caller (cmd_daemon.c) fills it from its own context;
 * the daemon needs nothing else of the command layer. */
struct daemon_env {
	struct cfg cfg;              /* the effective configuration; replaced on reload
				      * (the caller takes back the one in force at return) */
	struct store *st;            /* open read-write */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	const char *cfg_file;        /* -c FILE, or NULL: re-read on SIGHUP */
	char **envp;                 /* the environment layer, re-read on SIGHUP */
};

int daemon_run(struct daemon_env *ctx, const struct daemon_opts *o, struct ck_err *err);

/* Reads the configuration again as at start (defaults < file < environment < the
 * command line's configuration flags, which are kept) into *out. Returns 0, or the
 * error of the first layer that failed (*out then released). */
int daemon_cfg_reload(const struct daemon_env *ctx, struct cfg *out, struct ck_err *err);

#endif
