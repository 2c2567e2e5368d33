/* daemon_int.h — what the daemon's files share (not a public interface): the
 * scheduler (daemon.c), its jobs (daemon_jobs.c) and its HTTP server (httpd.c).
 *
 * Threads: the scheduler runs in the caller's thread and is the only user of ctx->st
 * and the only writer of ctx->cfg. libmicrohttpd serves HTTP from its own small thread
 * pool with a separate read-only database connection. One mutex (struct daemon.mu)
 * guards what both sides touch: the configuration while it is swapped on reload and
 * read by a rendering, the jobs' published state, the read-only connection and the
 * response caches. The scheduler holds it only for short updates, never across a job.
 *
 * Time: scheduling decisions use the daemon clock (daemon_now): the system clock, or
 * under the test hook the fake exchange's clock. All times are ms since epoch, UTC. */
#ifndef CK_DAEMON_INT_H
#define CK_DAEMON_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "err.h"
#include "metrics.h"
#include "sched.h"

struct MHD_Daemon;
struct http;
struct store;

#define TICK_MS 1000             /* longest sleep between looks at the clock */
#define TEST_TICK_MS 50          /* the same under the test clock */
#define ALERT_POLL_MS 60000      /* longest time between looks at the alert outbox */
#define CACHE_MS 1000            /* /metrics and / are rendered at most once a second */
#define HEALTHZ_CACHE_MS 5000    /* /healthz at most every five seconds */
#define PAGE_MAX (8u << 20)      /* ceiling of a rendered page, bytes */
#define DEADMAN_TIMEOUT_MS 10000 /* one dead-man's-switch ping */
#define STATE_OFFSET "daemon.test_clock_offset_ms"
#define RUNS_SCANNED 200 /* newest run records looked at for the last success */

enum job_id { JOB_SYNC, JOB_BACKUP, JOB_HEALTH, JOB_AUDIT, JOB_INTEGRITY, NJOBS };
enum job_outcome { OUT_OK, OUT_FAILED, OUT_SKIPPED, OUT_STOPPED };

struct job {
	const char *name;
	char expr[SCHED_EXPR_MAX]; /* "" = not scheduled */
	struct sched_cron cron;
	int64_t next;                 /* next due time (daemon clock), 0 = never */
	int catch_up;                 /* next was set by catch-up at start */
	int64_t last_ok;              /* last successful start (daemon clock), 0 = unknown */
	int64_t last_start, last_end; /* of the last attempt by this process */
	const char *last_status;      /* outcome_names[...] or NULL */
	char last_detail[200];
	int64_t runs, failures, skipped;
};

/* A cached rendering. */
struct cache {
	char *body;
	size_t len;
	unsigned code;
	int64_t at; /* CLOCK_MONOTONIC ms of the rendering, 0 = none */
	const char *type;
};

enum { C_METRICS, C_PAGE, C_HEALTHZ, NCACHES };

struct daemon {
	struct daemon_env *ctx;
	const struct daemon_opts *o;
	pthread_mutex_t mu;
	struct job jobs[NJOBS];
	int running;          /* the job running now, -1 if none */
	int64_t clock_offset; /* test clock: fake - system, ms (0 without the hook) */
	int64_t tick_clock;   /* daemon clock at the scheduler's last look */
	int64_t ticks;        /* looks at the clock so far */
	int64_t started;      /* system ms */
	struct metrics_live live;
	int health_prev;    /* last health status, -1 unknown */
	int64_t alert_next; /* ms since epoch (wall clock): next look at the outbox */
	struct store *ro;   /* HTTP's read-only connection */
	struct MHD_Daemon *mhd;
	unsigned port;
	struct http *clock_http;
	int clock_failing; /* the test clock did not answer last time */
	struct cache cache[NCACHES];
	uint64_t watchdog_us; /* systemd's WatchdogSec (0 = no watchdog) */
	int64_t watchdog_at;  /* CLOCK_MONOTONIC ms of the last WATCHDOG=1 */
	struct lock *leader;  /* the cluster leader's lock (lock_leader), NULL if not held */
	int leading;          /* -1 unknown, 0 another daemon leads, 1 this one */
};

/* ---- daemon.c: the clock and the scheduler's helpers ---------------------------- */

/* ms as "YYYY-MM-DDTHH:MM:SSZ" in buf, "-" for 0 or less; returns buf. */
const char *daemon_iso(int64_t ms, char *buf, size_t n);
/* The daemon clock as the HTTP threads see it (no network call). Takes d->mu. */
int64_t daemon_now(struct daemon *d);
/* The scheduler's look at the clock (under the test hook it asks the fake exchange);
 * publishes it under d->mu and returns it. Scheduler thread only. */
int64_t daemon_clock_tick(struct daemon *d);
/* Sleeps ms (nothing for 0 or less); a signal ends it early. */

/* ---- daemon_jobs.c: the jobs ---------------------------------------------------- */

/* Runs job id (due at `due`) now, records the outcome and plans its next time.
 * Scheduler thread only. */
void daemon_job_run(struct daemon *d, int id, int64_t due, int64_t now);
/* Delivers what the alert outbox owes now and sets d->alert_next. */
void daemon_alert_tick(struct daemon *d);

/* ---- httpd.c: the HTTP server --------------------------------------------------- */

/* Opens the read-only connection and starts serving on spec ("host:port"); writes the
 * bound port to the port file when one is asked for. Returns 0, CK_EUSAGE for a bad
 * address, CK_EIO when it cannot listen (err says why). */
int httpd_start(struct daemon *d, const char *spec, struct ck_err *err);
/* Stops serving (waits for the HTTP threads), closes the connection, frees the caches.
 * Accepts a server that never started. */
void httpd_stop(struct daemon *d);
/* Drops the cached renderings (after a reload). Caller holds d->mu. */
void httpd_cache_reset(struct daemon *d);

#endif
