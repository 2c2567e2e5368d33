/* daemon.c — the scheduler, its jobs and the HTTP server of `candlekeep daemon`
 * (contract in daemon.h).
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
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "afile.h"
#include "alert.h"
#include "audit.h"
#include "backup.h"
#include "cmd.h"
#include "daemon.h"
#include "fault.h"
#include "health.h"
#include "http.h"
#include "kline.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "sbuf.h"
#include "sched.h"
#include "status_page.h"
#include "store.h"
#include "store_backup.h"
#include "store_health.h"
#include "sync.h"
#include "utc.h"
#include "banned.h"

extern const struct cmd cmd_audit, cmd_backup;

#define TICK_MS 1000             /* longest sleep between looks at the clock */
#define TEST_TICK_MS 50          /* the same under the test clock */
#define ALERT_POLL_MS 60000      /* longest time between looks at the alert outbox */
#define CACHE_MS 1000            /* /metrics and / are rendered at most once a second */
#define HEALTHZ_CACHE_MS 5000    /* /healthz at most every five seconds */
#define PAGE_MAX (8u << 20)      /* ceiling of a rendered page, bytes */
#define DEADMAN_TIMEOUT_MS 10000 /* one dead-man's-switch ping */
#define STATE_OFFSET "daemon.test_clock_offset_ms"
#define RUNS_SCANNED 200         /* newest run records looked at for the last success */

enum job_id { JOB_SYNC, JOB_BACKUP, JOB_HEALTH, JOB_AUDIT, JOB_INTEGRITY, NJOBS };
enum job_outcome { OUT_OK, OUT_FAILED, OUT_SKIPPED, OUT_STOPPED };
static const char *const outcome_names[] = {"ok", "failed", "skipped", "stopped"};

struct job {
	const char *name;
	char expr[SCHED_EXPR_MAX];   /* "" = not scheduled */
	struct sched_cron cron;
	int64_t next;                /* next due time (daemon clock), 0 = never */
	int catch_up;                /* next was set by catch-up at start */
	int64_t last_ok;             /* last successful start (daemon clock), 0 = unknown */
	int64_t last_start, last_end; /* of the last attempt by this process */
	const char *last_status;     /* outcome_names[...] or NULL */
	char last_detail[200];
	int64_t runs, failures, skipped;
};

/* A cached rendering. */
struct cache {
	char *body;
	size_t len;
	unsigned code;
	int64_t at;                  /* CLOCK_MONOTONIC ms of the rendering, 0 = none */
	const char *type;
};

enum { C_METRICS, C_PAGE, C_HEALTHZ, NCACHES };

struct daemon {
	struct ctx *ctx;
	const struct daemon_opts *o;
	pthread_mutex_t mu;
	struct job jobs[NJOBS];
	int running;                 /* the job running now, -1 if none */
	int64_t clock_offset;        /* test clock: fake - system, ms (0 without the hook) */
	int64_t tick_clock;          /* daemon clock at the scheduler's last look */
	int64_t ticks;               /* looks at the clock so far */
	int64_t started;             /* system ms */
	struct metrics_live live;
	int health_prev;             /* last health status, -1 unknown */
	int64_t alert_next;          /* ms since epoch (wall clock): next look at the outbox */
	struct store *ro;            /* HTTP's read-only connection */
	struct MHD_Daemon *mhd;
	unsigned port;
	struct http *clock_http;
	int clock_failing;           /* the test clock did not answer last time */
	struct cache cache[NCACHES];
	uint64_t watchdog_us;        /* systemd's WatchdogSec (0 = no watchdog) */
	int64_t watchdog_at;         /* CLOCK_MONOTONIC ms of the last WATCHDOG=1 */
};

/* ---- small helpers ------------------------------------------------------------- */


static const char *iso(int64_t ms, char *buf, size_t n)
{
	if (ms <= 0)
		return snprintf(buf, n, "-"), buf;
	return utc_iso(ms, buf, n);
}

/* ---- the clock ------------------------------------------------------------------ */

/* The daemon clock as the HTTP threads see it (no network call). */
static int64_t daemon_now(struct daemon *d)
{
	int64_t off;
	pthread_mutex_lock(&d->mu);
	off = d->clock_offset;
	pthread_mutex_unlock(&d->mu);
	return now_ms() + off;
}

/* The scheduler's look at the clock: under the test hook, asks the fake exchange
 * (keeping the previous offset if it does not answer). Publishes the value. */
static int64_t clock_tick(struct daemon *d)
{
	int64_t sys = now_ms(), off = d->clock_offset, now;

	if (d->o->clock_url && d->clock_http) {
		struct http_req req;
		struct ck_err err = {0, ""};
		memset(&req, 0, sizeof(req));
		snprintf(req.url, sizeof(req.url), "%s/fapi/v1/time", d->o->clock_url);
		if (!http_do(d->clock_http, &req, &err) && !req.curl_code && req.status == 200 &&
		    req.body) {
			json_error_t je;
			json_t *j = json_loadb(req.body, req.len, 0, &je);
			json_t *t = j ? json_object_get(j, "serverTime") : NULL;
			if (json_is_integer(t)) {
				sys = now_ms();
				off = (int64_t)json_integer_value(t) - sys;
			}
			json_decref(j);
			d->clock_failing = 0;
		} else if (!d->clock_failing) {
			d->clock_failing = 1;
			log_warn("daemon", "test clock %s did not answer; keeping the last offset",
				 d->o->clock_url);
		}
		http_req_release(&req);
	}
	now = sys + off;
	pthread_mutex_lock(&d->mu);
	d->clock_offset = off;
	d->tick_clock = now;
	d->ticks++;
	pthread_mutex_unlock(&d->mu);
	return now;
}

/* ---- schedules and catch-up ------------------------------------------------------ */

static const char *job_expr_cfg(const struct cfg *c, int id)
{
	const char *e = id == JOB_SYNC ? c->sched_sync : id == JOB_BACKUP ? c->sched_backup :
			id == JOB_HEALTH ? c->sched_health : id == JOB_AUDIT ? c->sched_audit :
			c->sched_integrity;
	return e ? e : "";
}

/* Parses the schedules of c into crons[] (empty = not scheduled: has[i] = 0). */
static int schedules_parse(const struct cfg *c, struct sched_cron crons[NJOBS], int has[NJOBS],
			   struct ck_err *err)
{
	static const char *const keys[] = {"sync", "backup", "health", "audit", "integrity_check"};
	for (int i = 0; i < NJOBS; i++) {
		const char *e = job_expr_cfg(c, i);
		has[i] = *e != '\0';
		if (has[i] && sched_parse(e, &crons[i], err))
			return ck_err_wrap(err, "[schedule] %s", keys[i]);
	}
	return 0;
}

/* The offset between the daemon clock and the system clock that run records were
 * stamped with (0 without the test hook). */
static int64_t record_offset(struct daemon *d)
{
	char buf[32];
	struct ck_err err = {0, ""};
	char *end;
	long long v;

	if (!d->o->clock_url)
		return 0;
	if (store_state_get(d->ctx->st, STATE_OFFSET, buf, sizeof(buf), &err))
		return d->clock_offset;
	v = strtoll(buf, &end, 10);
	return *end ? d->clock_offset : (int64_t)v;
}

/* The last successful start of job id, daemon clock; 0 if none is known. */
static int64_t job_last_ok(struct daemon *d, int id)
{
	struct store *st = d->ctx->st;
	struct ck_err err = {0, ""};
	int64_t best = 0, off = record_offset(d);

	if (id == JOB_SYNC || id == JOB_AUDIT) {
		struct store_run *runs = NULL;
		size_t n = 0;
		if (!store_runs(st, id == JOB_SYNC ? "sync" : "audit", 0, RUNS_SCANNED, &runs, &n,
				&err)) {
			for (size_t i = 0; i < n; i++)
				if (runs[i].status == RUN_OK) {
					best = runs[i].started + off;
					break;
				}
		} else {
			log_warn("daemon", "reading the runs table: %s", err.msg);
		}
		free(runs);
	}
	if (id == JOB_AUDIT && !best) {
		struct store_event *ev = NULL;
		size_t n = 0;
		if (!store_events(st, "restore_drill", NULL, 0, 1, &ev, &n, &err) && n)
			best = ev[0].at;
		free(ev);
	}
	if (id == JOB_BACKUP) {
		struct store_backup *b = NULL;
		size_t n = 0;
		if (!store_backup_list(st, NULL, &b, &n, &err)) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(b[i].status, "verified") && b[i].created > best)
					best = b[i].created;
		} else {
			log_warn("daemon", "reading the backups table: %s", err.msg);
		}
		free(b);
	}
	if (id == JOB_INTEGRITY) {
		struct store_event *ev = NULL;
		size_t n = 0;
		if (!store_events(st, "integrity_check", "full", 0, 1, &ev, &n, &err) && n)
			best = ev[0].at;
		free(ev);
	}
	if (id == JOB_HEALTH) {
		struct store_event *ev = NULL;
		size_t n = 0;
		if (!store_events(st, "health", NULL, 0, 1, &ev, &n, &err) && n) {
			best = ev[0].at;
			d->health_prev = (int)ev[0].value;
		}
		free(ev);
	}
	return best;
}

/* Sets every scheduled job's next time at start: at once when it missed its latest
 * scheduled time (catch-up), else its next scheduled time. */
static void schedule_initial(struct daemon *d, int64_t now)
{
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = &d->jobs[i];
		int64_t next = 0;
		char a[32], b[32];

		j->next = 0;
		j->catch_up = 0;
		if (!j->expr[0])
			continue;
		j->last_ok = job_last_ok(d, i);
		if (!d->o->no_catch_up &&
		    (!j->last_ok || (!sched_next(&j->cron, j->last_ok, &next) && next <= now))) {
			j->next = now;
			j->catch_up = 1;
			log_kv(LOG_INFO, "daemon",
			       ((const char *[]){"job", j->name, "last_ok", iso(j->last_ok, a, sizeof(a)),
						 "missed", iso(next, b, sizeof(b)), NULL}),
			       "catch-up: %s runs now", j->name);
			continue;
		}
		if (sched_next(&j->cron, now, &j->next))
			j->next = 0;
	}
}

/* ---- dead-man's switch ------------------------------------------------------------ */

/* Pings [schedule] deadman_url + suffix ("/start", "", "/fail"). The URL is a secret:
 * it never reaches a log line, only the outcome does. Never fails the caller. */
static void deadman_ping(struct daemon *d, const char *suffix, const char *what)
{
	const char *base = d->ctx->cfg.deadman_url;
	struct http_opts ho = {DEADMAN_TIMEOUT_MS, DEADMAN_TIMEOUT_MS, NULL, 0};
	struct http *h = NULL;
	struct http_req req;
	struct ck_err err = {0, ""};
	size_t len;

	if (!base || !*base)
		return;
	ho.user_agent = d->ctx->cfg.user_agent;
	memset(&req, 0, sizeof(req));
	len = strlen(base);
	while (len && base[len - 1] == '/')
		len--;
	if (len + strlen(suffix) >= sizeof(req.url)) {
		log_warn("daemon", "dead-man's-switch URL too long; ping %s not sent", what);
		return;
	}
	snprintf(req.url, sizeof(req.url), "%.*s%s", (int)len, base, suffix);
	if (http_new(&h, &ho, &err) || http_do(h, &req, &err)) {
		log_warn("daemon", "dead-man's-switch ping %s not sent (%s)", what, ck_err_name(err.code));
	} else if (req.curl_code || req.status < 200 || req.status > 299) {
		/* curl's message may name the host: give the codes only */
		log_warn("daemon", "dead-man's-switch ping %s failed: curl code %d, HTTP %ld "
			 "(check [schedule] deadman_url)", what, req.curl_code, req.status);
	} else {
		log_info("daemon", "dead-man's-switch ping %s sent", what);
	}
	http_req_release(&req);
	http_free(h);
}

/* ---- the jobs ------------------------------------------------------------------- */

/* Takes the run lock for a job whose command takes it on the command line. */
static int job_lock(struct daemon *d, const struct cmd *c, struct lock **lk, char *detail,
		    size_t n)
{
	struct ck_err err = {0, ""};
	*lk = NULL;
	if (c && !(c->flags & CMD_TAKES_LOCK))
		return 0;
	if (lock_acquire(lk, d->ctx->cfg.db, "daemon", cfg_file_mode(&d->ctx->cfg), &err)) {
		snprintf(detail, n, "%s", err.msg);
		return err.code;
	}
	return 0;
}

static enum job_outcome job_sync(struct daemon *d, int64_t due, char *detail, size_t n)
{
	struct ctx *ctx = d->ctx;
	struct lock *lk = NULL;
	struct sync_opts so;
	struct ck_err err = {0, ""};
	int rc;

	rc = job_lock(d, NULL, &lk, detail, n);
	if (rc == CK_ELOCKED) {
		char a[32], why[300];
		snprintf(why, sizeof(why), "due %s: %s", iso(due, a, sizeof(a)), detail);
		pthread_mutex_lock(&d->mu);
		d->live.sync_skipped++;
		pthread_mutex_unlock(&d->mu);
		if (store_event_add(ctx->st, daemon_now(d), "sync_skipped", "", 1, why, &err))
			log_error("daemon", "%s", err.msg);
		log_warn("daemon", "sync skipped: %s", why);
		return OUT_SKIPPED;
	}
	if (rc)
		return OUT_FAILED;
	deadman_ping(d, "/start", "start");
	memset(&so, 0, sizeof(so));
	ctx->deadline_ms = ctx->cfg.timeout_s > 0 ? mono_ms() + ctx->cfg.timeout_s * 1000 : 0;
	rc = cmd_sync_common(ctx, "sync", &so);
	fflush(stdout);
	ctx->deadline_ms = 0;
	lock_release(lk);
	if (*ctx->stop) {
		snprintf(detail, n, "stopped by a signal (exit %d); the next start catches up", rc);
		return OUT_STOPPED;
	}
	deadman_ping(d, rc ? "/fail" : "", rc ? "failure" : "success");
	snprintf(detail, n, "exit %d%s", rc, rc == EXIT_PARTIAL ? " (some symbols failed)" :
		 rc == EXIT_TIMEOUT ? " ([sync] timeout passed)" : "");
	return rc ? OUT_FAILED : OUT_OK;
}

static enum job_outcome job_backup(struct daemon *d, int64_t now, char *detail, size_t n)
{
	struct backup_result res;
	struct ck_err err = {0, ""};
	struct lock *lk = NULL;
	int rc;

	if (job_lock(d, &cmd_backup, &lk, detail, n))
		return OUT_FAILED;
	memset(&res, 0, sizeof(res));
	rc = backup_run(d->ctx->st, &d->ctx->cfg, now, &res, &err);
	lock_release(lk);
	snprintf(detail, n, "hot %s, warm %s, offsite %s%s%s",
		 backup_outcome_name(res.hot.outcome), backup_outcome_name(res.warm.outcome),
		 backup_outcome_name(res.offsite.outcome), rc ? ": " : "", rc ? err.msg : "");
	return rc ? OUT_FAILED : OUT_OK;
}

/* Records an integrity verdict (event integrity_check, subject check = "quick" or
 * "full"; and corruption_detected when damaged) for the metrics and health. On a damaged
 * file the write may fail too; the metrics then see the damage on their own reads. */
static void integrity_record(struct daemon *d, int64_t now, const char *check, int ok,
			     const char *detail)
{
	struct ck_err err = {0, ""};
	if (store_event_add(d->ctx->st, now, "integrity_check", check, ok ? 1 : 0, detail, &err))
		log_error("daemon", "recording the %s integrity check: %s", check, err.msg);
	if (!ok && store_event_add(d->ctx->st, now, "corruption_detected", d->ctx->cfg.db, 1, detail,
				   &err))
		log_error("daemon", "recording the corruption: %s", err.msg);
	if (!ok)
		log_kv(LOG_ERROR, "daemon", ((const char *[]){"check", check, NULL}),
		       "database %s is damaged: %s (run candlekeep recover)", d->ctx->cfg.db, detail);
}

/* The full PRAGMA integrity_check of the database, on its own schedule. */
static enum job_outcome job_integrity(struct daemon *d, int64_t now, char *detail, size_t n)
{
	struct ck_err err = {0, ""};
	char what[256] = "";
	int ok = 0, finished = 0;

	if (store_check(d->ctx->st, 1, 0, &ok, &finished, what, sizeof(what), &err)) {
		if (err.code != CK_ECORRUPT) {
			snprintf(detail, n, "integrity_check could not run: %s", err.msg);
			return OUT_FAILED;
		}
		snprintf(what, sizeof(what), "%s", err.msg);
		ok = 0;
	}
	integrity_record(d, now, "full", ok, what);
	snprintf(detail, n, "integrity_check %s%s%s", ok ? "ok" : "found damage: ", ok ? "" : what,
		 ok ? "" : " (run candlekeep recover)");
	return ok ? OUT_OK : OUT_FAILED;
}

static enum job_outcome job_health(struct daemon *d, int64_t now, char *detail, size_t n)
{
	struct health_report r;
	struct ck_err err = {0, ""};
	struct ctx *ctx = d->ctx;
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	memset(&r, 0, sizeof(r));
	if (health_run(ctx->st, &ctx->cfg, 0, now, &r, &err)) {
		snprintf(detail, n, "%s", err.msg);
		return OUT_FAILED;
	}
	snprintf(detail, n, "%s", r.summary);
	if (r.integrity_done)
		integrity_record(d, now, "quick", r.integrity_ok, r.integrity_detail);
	if (store_event_add(ctx->st, now, "health", "", (double)r.status, r.summary, &err))
		log_error("daemon", "%s", err.msg);
	if ((int)r.status != d->health_prev) {
		log_kv(r.status == HEALTH_OK ? LOG_INFO : LOG_WARN, "daemon",
		       ((const char *[]){"from", d->health_prev >= 0 && d->health_prev <= 3 ?
					 names[d->health_prev] : "none",
					 "to", names[r.status & 3], NULL}),
		       "health status changed: %s", r.summary);
	}
	/* One alert per check, raised, repeated and resolved on every run (not only when
	 * the overall status changes), through the outbox cron runs share. */
	if (alert_health(ctx->st, &ctx->cfg, &r, &err))
		log_warn("daemon", "health alerts: %s", err.msg);
	d->health_prev = (int)r.status;
	return OUT_OK;
}

/* Delivers what the alert outbox owes now: retries whose back-off has passed, repeats,
 * deliveries a process that died left behind. */
static void alert_tick(struct daemon *d)
{
	struct ck_err err = {0, ""};
	int64_t next = 0, t = now_ms();

	if (alert_flush(d->ctx->st, &d->ctx->cfg, &next, &err))
		log_warn("daemon", "alerts: %s", err.msg);
	d->alert_next = next && next < t + ALERT_POLL_MS ? next : t + ALERT_POLL_MS;
}

/* The monthly SLA audit over the last 30 days, with its timed restore drill. Missed
 * targets are logged as a warning; the job itself fails only when the audit cannot run. */
static enum job_outcome job_audit(struct daemon *d, int64_t now, char *detail, size_t n)
{
	struct audit_opts ao;
	struct audit_report r;
	struct ck_err err = {0, ""};
	struct lock *lk = NULL;
	size_t off = 0;
	int rc;

	if (job_lock(d, &cmd_audit, &lk, detail, n))
		return OUT_FAILED;
	memset(&ao, 0, sizeof(ao));
	memset(&r, 0, sizeof(r));
	ao.days = 30;
	ao.now_ms = now;
	ao.drill = 1;
	rc = audit_run(d->ctx->st, &d->ctx->cfg, &ao, &r, &err);
	lock_release(lk);
	if (rc) {
		snprintf(detail, n, "%s", err.msg);
		audit_report_release(&r);
		return OUT_FAILED;
	}
	off = (size_t)snprintf(detail, n, "%s", r.all_met ? "all SLA targets met" : "missed:");
	for (size_t i = 0; i < r.ntarget && off < n; i++)
		if (!r.target[i].met)
			off += (size_t)snprintf(detail + off, n - off, " %s (%s)", r.target[i].name,
						r.target[i].measured);
	if (!r.all_met)
		log_warn("daemon", "SLA audit: %s", detail);
	audit_report_release(&r);
	return OUT_OK;
}

/* Runs job id (due at `due`) now, records the outcome and plans its next time. */
static void job_run(struct daemon *d, int id, int64_t due, int64_t now)
{
	struct job *j = &d->jobs[id];
	char detail[sizeof(j->last_detail)] = "", a[32], b[32];
	enum job_outcome out = OUT_FAILED;
	int64_t end, next = 0, missed;

	log_kv(LOG_INFO, "daemon",
	       ((const char *[]){"job", j->name, "due", iso(due, a, sizeof(a)), "catch_up",
				 j->catch_up ? "1" : "0", NULL}),
	       "job start");
	while (fault_hang(j->name) && !*d->ctx->stop)
		ck_sleep_ms(50, NULL); /* test hook: a scheduler stuck in this job */
	pthread_mutex_lock(&d->mu);
	d->running = id;
	j->last_start = now;
	pthread_mutex_unlock(&d->mu);
	if (d->o->clock_url) {
		/* so that a restarted daemon can place this run on the fake clock */
		struct ck_err err = {0, ""};
		char v[32];
		snprintf(v, sizeof(v), "%" PRId64, d->clock_offset);
		if (store_state_set(d->ctx->st, STATE_OFFSET, v, &err))
			log_warn("daemon", "%s", err.msg);
	}
	switch (id) {
	case JOB_SYNC: out = job_sync(d, due, detail, sizeof(detail)); break;
	case JOB_BACKUP: out = job_backup(d, now, detail, sizeof(detail)); break;
	case JOB_HEALTH: out = job_health(d, now, detail, sizeof(detail)); break;
	case JOB_AUDIT: out = job_audit(d, now, detail, sizeof(detail)); break;
	case JOB_INTEGRITY: out = job_integrity(d, now, detail, sizeof(detail)); break;
	}
	end = clock_tick(d);
	/* A run started late (the clock jumped, an earlier job ran long) covers every
	 * scheduled time up to its start. Times that passed while it ran are not queued:
	 * a sync counts them as skipped, the others just run at their next time. */
	missed = sched_count(&j->cron, now, end, 1000);
	if (sched_next(&j->cron, end, &next))
		next = 0;
	pthread_mutex_lock(&d->mu);
	d->running = -1;
	j->last_end = end;
	j->last_status = outcome_names[out];
	snprintf(j->last_detail, sizeof(j->last_detail), "%s", detail);
	j->runs++;
	if (out == OUT_FAILED)
		j->failures++;
	if (out == OUT_SKIPPED)
		j->skipped++;
	if (out == OUT_OK)
		j->last_ok = now;
	if (id == JOB_SYNC && missed > 0) {
		j->skipped += missed;
		d->live.sync_skipped += missed;
	}
	/* a job whose next time was replaced by a reload keeps the new one */
	if (j->next == due || j->next <= end)
		j->next = j->expr[0] ? next : 0;
	j->catch_up = 0;
	pthread_mutex_unlock(&d->mu);
	if (id == JOB_SYNC && missed > 0) {
		struct ck_err err = {0, ""};
		char why[200];
		snprintf(why, sizeof(why), "%" PRId64 " scheduled time(s) passed while the sync due "
			 "%s still ran", missed, iso(due, a, sizeof(a)));
		if (store_event_add(d->ctx->st, end, "sync_skipped", "", (double)missed, why, &err))
			log_error("daemon", "%s", err.msg);
		log_warn("daemon", "sync skipped: %s", why);
	}
	log_kv(out == OUT_OK || out == OUT_STOPPED ? LOG_INFO : LOG_WARN, "daemon",
	       ((const char *[]){"job", j->name, "status", outcome_names[out], "due",
				 iso(due, a, sizeof(a)), "next", iso(j->next, b, sizeof(b)), NULL}),
	       "job end: %s", detail);
}

/* ---- configuration reload -------------------------------------------------------- */

/* Copies the keys the command line set (cfg_print marks them "# from: flag") from old
 * into nc, so that a reload keeps them as a restart with the same flags would. */
static int flags_reapply(const struct cfg *old, struct cfg *nc, struct ck_err *err)
{
	char *text = NULL, *line, *save = NULL, sec[64] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int from_flag = 0, rc = 0;

	if (!f)
		return ck_err_set(err, CK_ENOMEM, "reload: out of memory");
	cfg_print(old, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq;
		if (line[0] == '[') {
			snprintf(sec, sizeof(sec), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			continue;
		}
		if (!strcmp(line, "# from: flag")) {
			from_flag = 1;
			continue;
		}
		if (line[0] == '#' || !(eq = strstr(line, " = "))) {
			from_flag = 0;
			continue;
		}
		if (from_flag && strcmp(eq + 3, "********")) {
			*eq = '\0';
			if ((rc = cfg_set(nc, sec, line, eq + 3, "a command-line flag", err)))
				break;
		}
		from_flag = 0;
	}
	free(text);
	return rc;
}

int daemon_cfg_reload(const struct ctx *ctx, struct cfg *out, struct ck_err *err)
{
	if (cfg_init(out, err) || (ctx->cfg_file && cfg_load_file(out, ctx->cfg_file, err)) ||
	    cfg_load_env(out, ctx->envp, err) || flags_reapply(&ctx->cfg, out, err) ||
	    cfg_finish(out, err)) {
		cfg_release(out);
		return err->code;
	}
	return 0;
}

static void daemon_reload(struct daemon *d, int64_t now)
{
	struct ctx *ctx = d->ctx;
	struct cfg nc;
	struct ck_err err = {0, ""};
	struct sched_cron crons[NJOBS];
	int has[NJOBS];

	log_info("daemon", "SIGHUP: reloading the configuration%s%s",
		 ctx->cfg_file ? " from " : "", ctx->cfg_file ? ctx->cfg_file : "");
	if (daemon_cfg_reload(ctx, &nc, &err)) {
		log_error("daemon", "reload failed, the running configuration is kept: %s", err.msg);
		return;
	}
	if (schedules_parse(&nc, crons, has, &err)) {
		log_error("daemon", "reload failed, the running configuration is kept: %s", err.msg);
		cfg_release(&nc);
		return;
	}
	if (strcmp(nc.db, ctx->cfg.db)) {
		log_error("daemon", "reload failed, the running configuration is kept: [main] db "
			  "changed (%s); restart the daemon to use another database", nc.db);
		cfg_release(&nc);
		return;
	}
	if (!d->o->listen && strcmp(nc.metrics_listen, ctx->cfg.metrics_listen))
		log_warn("daemon", "[metrics] listen changed to %s: takes effect at the next restart",
			 nc.metrics_listen);
	pthread_mutex_lock(&d->mu);
	{
		struct cfg tmp = ctx->cfg;
		ctx->cfg = nc;
		nc = tmp;
	}
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = &d->jobs[i];
		const char *e = job_expr_cfg(&ctx->cfg, i);
		if (!strcmp(e, j->expr))
			continue;
		snprintf(j->expr, sizeof(j->expr), "%s", e);
		j->cron = crons[i];
		if (!has[i] || sched_next(&j->cron, now, &j->next))
			j->next = 0;
		j->catch_up = 0;
		log_info("daemon", "[schedule] %s is now '%s'", j->name, e);
	}
	for (int i = 0; i < NCACHES; i++)
		d->cache[i].at = 0;
	pthread_mutex_unlock(&d->mu);
	cfg_release(&nc);
	log_info("daemon", "configuration reloaded");
}

/* ---- HTTP: renderings ----------------------------------------------------------- */

/* /api/status: the scheduler's state. Caller holds d->mu. */
static char *render_api(struct daemon *d)
{
	json_t *o = json_object(), *jobs = json_array();
	char a[32], *s;

	json_object_set_new(o, "now", json_integer(d->tick_clock));
	json_object_set_new(o, "now_utc", json_string(iso(d->tick_clock, a, sizeof(a))));
	json_object_set_new(o, "ticks", json_integer(d->ticks));
	json_object_set_new(o, "clock", json_string(d->o->clock_url ? "test" : "system"));
	json_object_set_new(o, "started", json_integer(d->started));
	json_object_set_new(o, "running", d->running >= 0 ? json_string(d->jobs[d->running].name)
							  : json_null());
	json_object_set_new(o, "sync_skipped", json_integer(d->live.sync_skipped));
	json_object_set_new(o, "http_requests", json_integer(d->live.http_requests));
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = &d->jobs[i];
		json_array_append_new(jobs, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s?,s:s,s:I,s:I,s:I}",
			"name", j->name, "schedule", j->expr, "next", (json_int_t)j->next,
			"last_ok", (json_int_t)j->last_ok, "last_start", (json_int_t)j->last_start,
			"last_end", (json_int_t)j->last_end, "last_status", j->last_status,
			"last_detail", j->last_detail, "runs", (json_int_t)j->runs,
			"failures", (json_int_t)j->failures, "skipped", (json_int_t)j->skipped));
	}
	json_object_set_new(o, "jobs", jobs);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Renders (or reuses) cache k. Caller holds d->mu. */
static int cache_fill(struct daemon *d, int k)
{
	struct cache *c = &d->cache[k];
	struct ck_err err = {0, ""};
	int64_t t = mono_ms();
	char *body = NULL;
	size_t len = 0;
	unsigned code = MHD_HTTP_OK;

	if (c->at && t - c->at < (k == C_HEALTHZ ? HEALTHZ_CACHE_MS : CACHE_MS))
		return 0;
	if (k == C_METRICS) {
		struct metrics_live live = d->live;
		struct ck_err problem = {0, ""};
		if (metrics_render(d->ro, &d->ctx->cfg, &live, &body, &len, &problem, &err)) {
			log_error("daemon", "/metrics: %s", err.msg);
			return -1;
		}
		if (problem.code)
			log_warn("daemon", "/metrics: %s (served without it)", problem.msg);
		c->type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (k == C_HEALTHZ) {
		struct health_report r;
		memset(&r, 0, sizeof(r));
		if (health_run(d->ro, &d->ctx->cfg, 0, now_ms() + d->clock_offset, &r, &err) ||
		    health_to_json(&r, &body, &err)) {
			log_error("daemon", "/healthz: %s", err.msg);
			free(body);
			return -1;
		}
		len = strlen(body);
		code = (r.status == HEALTH_OK || r.status == HEALTH_WARNING) ?
			       MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
		c->type = "application/json";
	} else {
		struct sbuf b = {NULL, 0, 0, PAGE_MAX, 0};
		struct status_job jobs[NJOBS];
		struct status_view v = {&d->ctx->cfg, d->ro, now_ms() + d->clock_offset,
					now_ms() - d->started, d->o->clock_url != NULL, jobs, NJOBS};
		for (int i = 0; i < NJOBS; i++) {
			const struct job *j = &d->jobs[i];
			jobs[i] = (struct status_job){j->name, j->expr, j->next, j->last_start,
						      j->last_status, j->last_detail, j->runs,
						      j->failures, j->skipped, d->running == i};
		}
		if (status_page_render(&v, &b)) {
			log_error("daemon", "status page: rendering failed (out of memory)");
			free(b.p);
			return -1;
		}
		body = b.p;
		len = b.len;
		c->type = "text/html; charset=utf-8";
	}
	free(c->body);
	c->body = body;
	c->len = len;
	c->code = code;
	c->at = t;
	return 0;
}

/* ---- HTTP: the server ----------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (!strncmp(type, "text/html", 9))
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code, const char *msg)
{
	return reply(conn, code, "text/plain; charset=utf-8", msg, strlen(msg));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct daemon *d = cls;
	enum MHD_Result ret;
	int k = -1;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	pthread_mutex_lock(&d->mu);
	d->live.http_requests++;
	pthread_mutex_unlock(&d->mu);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	{
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (*upload_data_size || (cl && strcmp(cl, "0")) ||
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return reply_text(conn, MHD_HTTP_BAD_REQUEST, "a GET has no body\n");
	}
	if (!strcmp(url, "/metrics"))
		k = C_METRICS;
	else if (!strcmp(url, "/healthz"))
		k = C_HEALTHZ;
	else if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		k = C_PAGE;
	else if (!strcmp(url, "/api/status")) {
		char *s;
		pthread_mutex_lock(&d->mu);
		s = render_api(d);
		pthread_mutex_unlock(&d->mu);
		if (!s)
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		ret = reply(conn, MHD_HTTP_OK, "application/json", s, strlen(s));
		free(s);
		return ret;
	} else {
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "not found; try /, /metrics, /healthz or /api/status\n");
	}
	pthread_mutex_lock(&d->mu);
	if (cache_fill(d, k)) {
		pthread_mutex_unlock(&d->mu);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "rendering failed; see the daemon's log\n");
	}
	ret = reply(conn, d->cache[k].code, d->cache[k].type, d->cache[k].body, d->cache[k].len);
	pthread_mutex_unlock(&d->mu);
	return ret;
}

/* Splits "host:port" ("[v6]:port" too) and resolves it for listening. */
static int listen_resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *sl,
			  struct ck_err *err)
{
	char host[256], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int rc;

	if (!colon || colon == spec || strlen(colon + 1) >= sizeof(port) || !colon[1])
		return ck_err_set(err, CK_EUSAGE, "listen address '%s': must be host:port, e.g. "
				  "127.0.0.1:9464", spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ck_err_set(err, CK_EUSAGE, "listen address '%s': host too long", spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) || !res)
		return ck_err_set(err, CK_EUSAGE, "listen address '%s': %s", spec, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int http_start_server(struct daemon *d, const char *spec, struct ck_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	sigset_t block, old;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD; /* epoll on Linux */

	if (listen_resolve(spec, &ss, &sl, err))
		return err->code;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (store_open(&d->ro, d->ctx->cfg.db, STORE_RDONLY, err))
		return err->code;
	/* MHD's threads must not take the signals meant for the scheduler */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* Bounded against slow clients (slowloris): a total and a per-address connection
	 * limit, refused at once when reached, and an idle timeout; epoll in a pool of
	 * threads, so thousands of idle sockets cost no scanning. */
	d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
				  MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)d->ctx->cfg.http_max_connections,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)d->ctx->cfg.http_max_per_ip,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)d->ctx->cfg.http_timeout_s,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
				  MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
				  MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
				  MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d->mhd)
		return ck_err_set(err, CK_EIO, "HTTP server on %s: cannot listen (address in use "
				  "or not local? set [metrics] listen or --listen)", spec);
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
	d->port = info ? info->port : 0;
	log_kv(LOG_INFO, "daemon", ((const char *[]){"listen", spec, NULL}),
	       "HTTP on port %u: /metrics /healthz /api/status and the status page /", d->port);
	if (d->o->port_file) {
		struct afile af;
		memset(&af, 0, sizeof(af));
		if (afile_open(&af, d->o->port_file, 0644, err))
			return err->code;
		fprintf(af.f, "%u\n", d->port);
		if (afile_commit(&af, err))
			return err->code;
	}
	return 0;
}

/* ---- systemd: readiness and the watchdog ------------------------------------------- */

/* Under systemd (Type=notify, NOTIFY_SOCKET set) tells it how the daemon is; elsewhere
 * sd_notify does nothing. */
static void notify(const char *state)
{
	int rc = sd_notify(0, state);
	if (rc < 0)
		log_warn("daemon", "sd_notify %s: %s", state, strerror(-rc));
}

/* WATCHDOG=1, at most every quarter of WatchdogSec. Called only from the scheduler loop
 * (each look at the clock, each job start and end), never from another thread: when the
 * scheduler hangs, the pings stop and systemd restarts the service. */
static void watchdog_ping(struct daemon *d)
{
	int64_t t = mono_ms();
	if (!d->watchdog_us || t - d->watchdog_at < (int64_t)(d->watchdog_us / 4000))
		return;
	d->watchdog_at = t;
	notify("WATCHDOG=1");
}

/* ---- the loop ------------------------------------------------------------------- */

int daemon_run(struct ctx *ctx, const struct daemon_opts *o, struct ck_err *err)
{
	static const char *const names[NJOBS] = {"sync", "backup", "health", "audit",
						 "integrity_check"};
	struct daemon *d = calloc(1, sizeof(*d));
	struct sched_cron crons[NJOBS];
	int has[NJOBS], rc = 0;
	const char *spec;
	int64_t now, prev;

	if (!d)
		return ck_err_set(err, CK_ENOMEM, "daemon: out of memory");
	pthread_mutex_init(&d->mu, NULL);
	d->ctx = ctx;
	d->o = o;
	d->running = -1;
	d->health_prev = -1;
	d->started = now_ms();
	d->live.started_ms = d->started;
	if ((rc = schedules_parse(&ctx->cfg, crons, has, err)))
		goto out;
	for (int i = 0; i < NJOBS; i++) {
		d->jobs[i].name = names[i];
		snprintf(d->jobs[i].expr, sizeof(d->jobs[i].expr), "%s", job_expr_cfg(&ctx->cfg, i));
		d->jobs[i].cron = crons[i];
	}
	if (o->clock_url) {
		struct http_opts ho = {2000, 2000, "candlekeep-daemon-test-clock", 0};
		if ((rc = http_new(&d->clock_http, &ho, err)))
			goto out;
		log_warn("daemon", "TEST CLOCK: following %s/fapi/v1/time instead of the system "
			 "clock (a test hook; never in production)", o->clock_url);
	}
	now = clock_tick(d);
	spec = o->listen ? o->listen : ctx->cfg.metrics_listen;
	if (spec && *spec && (rc = http_start_server(d, spec, err)))
		goto out;
	{
		char a[32];
		log_kv(LOG_INFO, "daemon",
		       ((const char *[]){"db", ctx->cfg.db, "now", iso(now, a, sizeof(a)), "sync",
					 d->jobs[JOB_SYNC].expr, "backup", d->jobs[JOB_BACKUP].expr,
					 "health", d->jobs[JOB_HEALTH].expr, "audit",
					 d->jobs[JOB_AUDIT].expr, NULL}),
		       "start");
	}
	pthread_mutex_lock(&d->mu);
	schedule_initial(d, now);
	pthread_mutex_unlock(&d->mu);

	prev = now;
	if (sd_watchdog_enabled(0, &d->watchdog_us) <= 0)
		d->watchdog_us = 0;
	notify("READY=1\nSTATUS=scheduling sync, backup, health, audit and integrity_check");
	while (!*ctx->stop) {
		int64_t soonest = 0, wait;
		int due = -1;

		watchdog_ping(d);
		if (o->reload && *o->reload) {
			*o->reload = 0;
			daemon_reload(d, now);
		}
		now = clock_tick(d);
		if (now < prev - 60000) {
			/* the clock went back (set by hand, a VM restored): plan again from now */
			log_warn("daemon", "the clock went back by %" PRId64 " s; recomputing the schedule",
				 (prev - now) / 1000);
			pthread_mutex_lock(&d->mu);
			for (int i = 0; i < NJOBS; i++)
				if (d->jobs[i].expr[0] &&
				    sched_next(&d->jobs[i].cron, now, &d->jobs[i].next))
					d->jobs[i].next = 0;
			pthread_mutex_unlock(&d->mu);
		}
		prev = now;
		if (now_ms() >= d->alert_next)
			alert_tick(d);
		for (int i = 0; i < NJOBS; i++) {
			int64_t n = d->jobs[i].next;
			if (n && n <= now && due < 0)
				due = i;
			if (n && (!soonest || n < soonest))
				soonest = n;
		}
		if (due >= 0) {
			job_run(d, due, d->jobs[due].next, now);
			watchdog_ping(d);
			continue;
		}
		wait = o->clock_url ? TEST_TICK_MS : TICK_MS;
		if (soonest && soonest - now < wait)
			wait = soonest - now;
		ck_sleep_ms(wait, ctx->stop); /* a signal ends it early, as wanted */
	}
	log_info("daemon", "stopping: signal received");
	notify("STOPPING=1");

out:
	if (d->mhd) {
		MHD_stop_daemon(d->mhd);
		d->mhd = NULL;
	}
	store_close(d->ro);
	http_free(d->clock_http);
	for (int i = 0; i < NCACHES; i++)
		free(d->cache[i].body);
	pthread_mutex_destroy(&d->mu);
	free(d);
	return rc;
}
