/* daemon.c — the scheduler of `candlekeep daemon` (contract in daemon.h): the daemon
 * clock, the schedules and catch-up at start, the configuration reload, systemd's
 * readiness and watchdog, and the loop that runs due jobs one at a time. The jobs live in
 * daemon_jobs.c, the HTTP server in httpd.c, the status page in status_page.c; the
 * threads and the lock they share are described in daemon_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "daemon_int.h"
#include "event.h"
#include "http.h"
#include "lock.h"
#include "log.h"
#include "sched.h"
#include "store.h"
#include "store_backup.h"
#include "utc.h"
#include "banned.h"

/* ---- small helpers ------------------------------------------------------------- */

const char *daemon_iso(int64_t ms, char *buf, size_t n)
{
	if (ms <= 0)
		return snprintf(buf, n, "-"), buf;
	return utc_iso(ms, buf, n);
}

/* ---- the clock ------------------------------------------------------------------ */

/* The daemon clock as the HTTP threads see it (no network call). */
int64_t daemon_now(struct daemon *d)
{
	int64_t off;
	pthread_mutex_lock(&d->mu);
	off = d->clock_offset;
	pthread_mutex_unlock(&d->mu);
	return now_ms() + off;
}

/* The scheduler's look at the clock: under the test hook, asks the fake exchange
 * (keeping the previous offset if it does not answer). Publishes the value. */
int64_t daemon_clock_tick(struct daemon *d)
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
	const char *e = id == JOB_SYNC     ? c->sched_sync
			: id == JOB_BACKUP ? c->sched_backup
			: id == JOB_HEALTH ? c->sched_health
			: id == JOB_AUDIT  ? c->sched_audit
					   : c->sched_integrity;
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
		if (!store_events(st, event_kind_name(EV_RESTORE_DRILL), NULL, 0, 1, &ev, &n,
				  &err) &&
		    n)
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
		if (!store_events(st, event_kind_name(EV_INTEGRITY_CHECK), "full", 0, 1, &ev, &n,
				  &err) &&
		    n)
			best = ev[0].at;
		free(ev);
	}
	if (id == JOB_HEALTH) {
		struct store_event *ev = NULL;
		size_t n = 0;
		if (!store_events(st, event_kind_name(EV_HEALTH), NULL, 0, 1, &ev, &n, &err) && n) {
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
			       ((const char *[]){"job", j->name, "last_ok",
						 daemon_iso(j->last_ok, a, sizeof(a)), "missed",
						 daemon_iso(next, b, sizeof(b)), NULL}),
			       "catch-up: %s runs now", j->name);
			continue;
		}
		if (sched_next(&j->cron, now, &j->next))
			j->next = 0;
	}
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

int daemon_cfg_reload(const struct daemon_env *ctx, struct cfg *out, struct ck_err *err)
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
	struct daemon_env *ctx = d->ctx;
	struct cfg nc;
	struct ck_err err = {0, ""};
	struct sched_cron crons[NJOBS];
	int has[NJOBS];

	log_info("daemon", "SIGHUP: reloading the configuration%s%s", ctx->cfg_file ? " from " : "",
		 ctx->cfg_file ? ctx->cfg_file : "");
	if (daemon_cfg_reload(ctx, &nc, &err)) {
		log_error("daemon", "reload failed, the running configuration is kept: %s",
			  err.msg);
		return;
	}
	if (schedules_parse(&nc, crons, has, &err)) {
		log_error("daemon", "reload failed, the running configuration is kept: %s",
			  err.msg);
		cfg_release(&nc);
		return;
	}
	if (strcmp(nc.db, ctx->cfg.db)) {
		log_error("daemon",
			  "reload failed, the running configuration is kept: [main] db "
			  "changed (%s); restart the daemon to use another database",
			  nc.db);
		cfg_release(&nc);
		return;
	}
	if (!d->o->listen && strcmp(nc.metrics_listen, ctx->cfg.metrics_listen))
		log_warn("daemon",
			 "[metrics] listen changed to %s: takes effect at the next restart",
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
	httpd_cache_reset(d);
	pthread_mutex_unlock(&d->mu);
	cfg_release(&nc);
	log_info("daemon", "configuration reloaded");
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

/* The clock went back (set by hand, a VM restored): plans every job again from now. */
static void schedule_rewind(struct daemon *d, int64_t prev, int64_t now)
{
	log_warn("daemon", "the clock went back by %" PRId64 " s; recomputing the schedule",
		 (prev - now) / 1000);
	pthread_mutex_lock(&d->mu);
	for (int i = 0; i < NJOBS; i++)
		if (d->jobs[i].expr[0] && sched_next(&d->jobs[i].cron, now, &d->jobs[i].next))
			d->jobs[i].next = 0;
	pthread_mutex_unlock(&d->mu);
}

/* The scheduler's loop, until *ctx->stop: reloads when asked, looks at the clock, flushes
 * the alert outbox when due, runs the first due job (in job order) or sleeps until the
 * soonest one (at most a tick). */
static void daemon_loop(struct daemon *d, int64_t now)
{
	const struct daemon_opts *o = d->o;
	int64_t prev = now;

	while (!*d->ctx->stop) {
		int64_t soonest = 0, wait;
		int due = -1;

		watchdog_ping(d);
		if (o->reload && *o->reload) {
			*o->reload = 0;
			daemon_reload(d, now);
		}
		now = daemon_clock_tick(d);
		if (now < prev - 60000)
			schedule_rewind(d, prev, now);
		prev = now;
		if (now_ms() >= d->alert_next)
			daemon_alert_tick(d);
		for (int i = 0; i < NJOBS; i++) {
			int64_t n = d->jobs[i].next;
			if (n && n <= now && due < 0)
				due = i;
			if (n && (!soonest || n < soonest))
				soonest = n;
		}
		if (due >= 0) {
			daemon_job_run(d, due, d->jobs[due].next, now);
			watchdog_ping(d);
			continue;
		}
		wait = o->clock_url ? TEST_TICK_MS : TICK_MS;
		if (soonest && soonest - now < wait)
			wait = soonest - now;
		ck_sleep_ms(wait, d->ctx->stop); /* a signal ends it early, as wanted */
	}
}

/* The start line: the database, the daemon clock and the schedules. */
static void log_start(struct daemon *d, int64_t now)
{
	char a[32];

	log_kv(LOG_INFO, "daemon",
	       ((const char *[]){"db", d->ctx->cfg.db, "now", daemon_iso(now, a, sizeof(a)), "sync",
				 d->jobs[JOB_SYNC].expr, "backup", d->jobs[JOB_BACKUP].expr,
				 "health", d->jobs[JOB_HEALTH].expr, "audit",
				 d->jobs[JOB_AUDIT].expr, NULL}),
	       "start");
}

int daemon_run(struct daemon_env *ctx, const struct daemon_opts *o, struct ck_err *err)
{
	static const char *const names[NJOBS] = {"sync", "backup", "health", "audit",
						 "integrity_check"};
	struct daemon *d = calloc(1, sizeof(*d));
	struct sched_cron crons[NJOBS];
	int has[NJOBS], rc = 0;
	const char *spec;
	int64_t now;

	if (!d)
		return ck_err_set(err, CK_ENOMEM, "daemon: out of memory");
	pthread_mutex_init(&d->mu, NULL);
	d->ctx = ctx;
	d->o = o;
	d->running = -1;
	d->health_prev = -1;
	d->leading = -1;
	d->started = now_ms();
	d->live.started_ms = d->started;
	if ((rc = schedules_parse(&ctx->cfg, crons, has, err)))
		goto out;
	for (int i = 0; i < NJOBS; i++) {
		d->jobs[i].name = names[i];
		snprintf(d->jobs[i].expr, sizeof(d->jobs[i].expr), "%s",
			 job_expr_cfg(&ctx->cfg, i));
		d->jobs[i].cron = crons[i];
	}
	if (o->clock_url) {
		struct http_opts ho = {2000, 2000, "candlekeep-daemon-test-clock", 0};
		if ((rc = http_new(&d->clock_http, &ho, err)))
			goto out;
		log_warn("daemon",
			 "TEST CLOCK: following %s/fapi/v1/time instead of the system "
			 "clock (a test hook; never in production)",
			 o->clock_url);
	}
	now = daemon_clock_tick(d);
	spec = o->listen ? o->listen : ctx->cfg.metrics_listen;
	if (spec && *spec && (rc = httpd_start(d, spec, err)))
		goto out;
	log_start(d, now);
	pthread_mutex_lock(&d->mu);
	schedule_initial(d, now);
	pthread_mutex_unlock(&d->mu);

	if (sd_watchdog_enabled(0, &d->watchdog_us) <= 0)
		d->watchdog_us = 0;
	notify("READY=1\nSTATUS=scheduling sync, backup, health, audit and integrity_check");
	daemon_loop(d, now);
	log_info("daemon", "stopping: signal received");
	notify("STOPPING=1");

out:
	httpd_stop(d);
	lock_release(d->leader);
	http_free(d->clock_http);
	pthread_mutex_destroy(&d->mu);
	free(d);
	return rc;
}
