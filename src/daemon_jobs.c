/* daemon_jobs.c — the daemon's jobs: sync (with the dead-man's-switch pings), backup,
 * health, audit and integrity_check, and the bookkeeping of each attempt (daemon.h
 * describes what each does; daemon_int.h the threads). Jobs call the modules the
 * commands call (run.c, backup.c, health.c, audit.c), never a command, and report to
 * the log, never to stdout. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "audit.h"
#include "backup.h"
#include "daemon_int.h"
#include "event.h"
#include "fault.h"
#include "health.h"
#include "http.h"
#include "lock.h"
#include "log.h"
#include "run.h"
#include "store.h"
#include "store_health.h"
#include "utc.h"
#include "banned.h"

static const char *const outcome_names[] = {"ok", "failed", "skipped", "stopped"};

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
		log_warn("daemon", "dead-man's-switch ping %s not sent (%s)", what,
			 ck_err_name(err.code));
	} else if (req.curl_code || req.status < 200 || req.status > 299) {
		/* curl's message may name the host: give the codes only */
		log_warn("daemon",
			 "dead-man's-switch ping %s failed: curl code %d, HTTP %ld "
			 "(check [schedule] deadman_url)",
			 what, req.curl_code, req.status);
	} else {
		log_info("daemon", "dead-man's-switch ping %s sent", what);
	}
	http_req_release(&req);
	http_free(h);
}

/* ---- the jobs ------------------------------------------------------------------- */

/* Takes the run lock, as `candlekeep sync` does on the command line, so that the
 * daemon's syncs never overlap cron-driven runs. (backup and audit take no run lock on
 * the command line, so their jobs take none either.) */
static int job_lock(struct daemon *d, struct lock **lk, char *detail, size_t n)
{
	struct ck_err err = {0, ""};
	*lk = NULL;
	if (lock_acquire(lk, d->ctx->cfg.db, "daemon", cfg_file_mode(&d->ctx->cfg), &err)) {
		snprintf(detail, n, "%s", err.msg);
		return err.code;
	}
	return 0;
}

/* A sync due while the lock is held elsewhere: counted and recorded, not queued. */
static enum job_outcome sync_skip(struct daemon *d, int64_t due, const char *detail)
{
	struct ck_err err = {0, ""};
	char a[32], why[300];

	snprintf(why, sizeof(why), "due %s: %s", daemon_iso(due, a, sizeof(a)), detail);
	pthread_mutex_lock(&d->mu);
	d->live.sync_skipped++;
	pthread_mutex_unlock(&d->mu);
	if (store_event_add(d->ctx->st, daemon_now(d), event_kind_name(EV_SYNC_SKIPPED), "", 1, why,
			    &err))
		log_error("daemon", "%s", err.msg);
	log_warn("daemon", "sync skipped: %s", why);
	return OUT_SKIPPED;
}

/* One scheduled sync of one interval (cfg: the configuration switched to it) through
 * run.c's bookkeeping (run record, candle_count, alerts); what the command line prints
 * (symbols not ok, the run-wide error) is logged here. Returns the run's exit code (1
 * when its record could not begin). */
static int sync_interval(struct daemon *d, const struct cfg *cfg, struct lock *lk, int64_t deadline)
{
	struct daemon_env *ctx = d->ctx;
	struct sync_opts so;
	struct run_sync r;
	struct ck_err err = {0, ""};
	int rc;

	memset(&so, 0, sizeof(so));
	so.lock = lk; /* checked at the run's safe points */
	if (run_sync(ctx->st, cfg, "sync", &so, ctx->stop, deadline, &r, &err)) {
		log_error("sync", "%s", err.msg);
		return RUN_EXIT_FAILED;
	}
	for (size_t i = 0; i < r.res.nsymbols; i++) {
		const struct sync_symbol *s = &r.res.symbols[i];
		if (!s->status || strcmp(s->status, "ok"))
			log_kv(LOG_WARN, "sync",
			       ((const char *[]){"symbol", s->symbol, "status",
						 s->status ? s->status : "failed", "interval",
						 cfg->interval, NULL}),
			       "%s", s->error);
	}
	if (r.error[0])
		log_warn("sync", "%s", r.error);
	if (r.record_error[0])
		log_error("sync", "%s (what was fetched is stored; this run's record is not)",
			  r.record_error);
	run_sync_log_end(&r);
	rc = r.exit_code;
	run_sync_release(&r);
	return rc;
}

/* What each interval's run of sync_once needs. */
struct sync_each {
	struct daemon *d;
	struct lock *lk;
	int64_t deadline;
};

static int sync_each_run(void *arg, const struct cfg *one, size_t i)
{
	struct sync_each *x = arg;

	(void)i;
	return sync_interval(x->d, one, x->lk, x->deadline);
}

static void sync_each_skip(void *arg, const struct cfg *one, int stopped)
{
	(void)arg;
	log_warn("sync", "interval %s not synced: %s", one->interval,
		 stopped ? "stopping" : "the run's deadline passed");
}

/* One scheduled sync: one run per configured interval, in order (one deadline for all);
 * returns the worst exit code. */
static int sync_once(struct daemon *d, struct lock *lk)
{
	struct daemon_env *ctx = d->ctx;
	struct sync_each x = {d, lk,
			      ctx->cfg.timeout_s > 0 ? mono_ms() + ctx->cfg.timeout_s * 1000 : 0};

	return run_intervals(&ctx->cfg, ctx->stop, sync_each_run, sync_each_skip, &x);
}

static enum job_outcome job_sync(struct daemon *d, int64_t due, char *detail, size_t n)
{
	struct lock *lk = NULL;
	int rc;

	rc = job_lock(d, &lk, detail, n);
	if (rc == CK_ELOCKED)
		return sync_skip(d, due, detail);
	if (rc)
		return OUT_FAILED;
	deadman_ping(d, "/start", "start");
	rc = sync_once(d, lk);
	lock_release(lk);
	if (*d->ctx->stop) {
		snprintf(detail, n, "stopped by a signal (exit %d); the next start catches up", rc);
		return OUT_STOPPED;
	}
	deadman_ping(d, rc ? "/fail" : "", rc ? "failure" : "success");
	snprintf(detail, n, "exit %d%s", rc,
		 rc == RUN_EXIT_FAILED    ? " (some symbols failed)"
		 : rc == RUN_EXIT_TIMEOUT ? " ([sync] timeout passed)"
					  : "");
	return rc ? OUT_FAILED : OUT_OK;
}

static int job_leads(struct daemon *d);

/* Between a backup's phases: go on only while this daemon leads (a daemon whose leader's
 * lock went with its connection, and another daemon took it, stops: that one backs up). */
static int backup_still_leads(void *arg, struct ck_err *err)
{
	struct daemon *d = arg;

	if (job_leads(d))
		return 0;
	return ck_err_set(err, CK_ELOCKED,
			  "this daemon no longer leads the cluster-wide jobs (its leader's lock"
			  " on the database server went with its connection; another daemon holds"
			  " it, or the server cannot be reached)");
}

static enum job_outcome job_backup(struct daemon *d, int64_t now, char *detail, size_t n)
{
	struct backup_result res;
	struct ck_err err = {0, ""};
	int rc;

	memset(&res, 0, sizeof(res));
	rc = backup_run_checked(d->ctx->st, &d->ctx->cfg, now, backup_still_leads, d, &res, &err);
	snprintf(detail, n, "hot %s, warm %s, offsite %s%s%s", backup_outcome_name(res.hot.outcome),
		 backup_outcome_name(res.warm.outcome), backup_outcome_name(res.offsite.outcome),
		 rc ? ": " : "", rc ? err.msg : "");
	return rc == CK_ELOCKED ? OUT_STOPPED : rc ? OUT_FAILED : OUT_OK;
}

/* Records an integrity verdict (event integrity_check, subject check = "quick" or
 * "full"; and corruption_detected when damaged) for the metrics and health. On a damaged
 * file the write may fail too; the metrics then see the damage on their own reads. */
static void integrity_record(struct daemon *d, int64_t now, const char *check, int ok,
			     const char *detail)
{
	struct ck_err err = {0, ""};
	if (store_event_add(d->ctx->st, now, event_kind_name(EV_INTEGRITY_CHECK), check, ok ? 1 : 0,
			    detail, &err))
		log_error("daemon", "recording the %s integrity check: %s", check, err.msg);
	if (!ok && store_event_add(d->ctx->st, now, event_kind_name(EV_CORRUPTION_DETECTED),
				   d->ctx->cfg.db, 1, detail, &err))
		log_error("daemon", "recording the corruption: %s", err.msg);
	if (!ok)
		log_kv(LOG_ERROR, "daemon", ((const char *[]){"check", check, NULL}),
		       "database %s is damaged: %s (run candlekeep recover)", d->ctx->cfg.db,
		       detail);
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
	struct daemon_env *ctx = d->ctx;
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	memset(&r, 0, sizeof(r));
	if (health_run(ctx->st, &ctx->cfg, 0, now, &r, &err)) {
		snprintf(detail, n, "%s", err.msg);
		return OUT_FAILED;
	}
	snprintf(detail, n, "%s", r.summary);
	if (r.integrity_done)
		integrity_record(d, now, "quick", r.integrity_ok, r.integrity_detail);
	if (store_event_add(ctx->st, now, event_kind_name(EV_HEALTH), "", (double)r.status,
			    r.summary, &err))
		log_error("daemon", "%s", err.msg);
	if ((int)r.status != d->health_prev) {
		log_kv(r.status == HEALTH_OK ? LOG_INFO : LOG_WARN, "daemon",
		       ((const char *[]){"from",
					 d->health_prev >= 0 && d->health_prev <= 3
						 ? names[d->health_prev]
						 : "none",
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
void daemon_alert_tick(struct daemon *d)
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
	size_t off = 0;
	int rc;

	memset(&ao, 0, sizeof(ao));
	memset(&r, 0, sizeof(r));
	ao.days = 30;
	ao.now_ms = now;
	ao.drill = 1;
	rc = audit_run(d->ctx->st, &d->ctx->cfg, &ao, &r, &err);
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

/* Several daemons sharing one database all sync (the symbols split by work claims),
 * but only the leader runs the cluster-wide jobs: whoever holds the leader's lock on
 * the server (lock_leader; a dead leader's lock is free at once and the next daemon to
 * look takes it). 1 when this daemon leads; a change is logged. */
static int job_leads(struct daemon *d)
{
	struct ck_err err = {0, ""};
	int leader = 0;

	if (lock_leader(&d->leader, d->ctx->cfg.db, &leader, &err))
		log_warn("daemon", "leader lock: %s", err.msg);
	if (leader != d->leading)
		log_info(
			"daemon", "%s",
			leader ? "this daemon leads the cluster-wide jobs (backup, health,"
				 " audit, integrity_check)"
			       : "another daemon leads the cluster-wide jobs; this one syncs only");
	d->leading = leader;
	return leader;
}

/* Runs job id (due at `due`) now, records the outcome and plans its next time. */
void daemon_job_run(struct daemon *d, int id, int64_t due, int64_t now)
{
	struct job *j = &d->jobs[id];
	char detail[sizeof(j->last_detail)] = "", a[32], b[32];
	enum job_outcome out = OUT_FAILED;
	int64_t end, next = 0, missed;

	log_kv(LOG_INFO, "daemon",
	       ((const char *[]){"job", j->name, "due", daemon_iso(due, a, sizeof(a)), "catch_up",
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
	switch (id != JOB_SYNC && !job_leads(d) ? -1 : id) {
	case -1: /* a cluster-wide job, and another daemon leads */
		snprintf(detail, sizeof(detail),
			 "another daemon leads the cluster-wide jobs (the leader's lock on the"
			 " database server); this one syncs only");
		out = OUT_SKIPPED;
		break;
	case JOB_SYNC:
		out = job_sync(d, due, detail, sizeof(detail));
		break;
	case JOB_BACKUP:
		out = job_backup(d, now, detail, sizeof(detail));
		break;
	case JOB_HEALTH:
		out = job_health(d, now, detail, sizeof(detail));
		break;
	case JOB_AUDIT:
		out = job_audit(d, now, detail, sizeof(detail));
		break;
	case JOB_INTEGRITY:
		out = job_integrity(d, now, detail, sizeof(detail));
		break;
	}
	end = daemon_clock_tick(d);
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
		snprintf(why, sizeof(why),
			 "%" PRId64 " scheduled time(s) passed while the sync due "
			 "%s still ran",
			 missed, daemon_iso(due, a, sizeof(a)));
		if (store_event_add(d->ctx->st, end, event_kind_name(EV_SYNC_SKIPPED), "",
				    (double)missed, why, &err))
			log_error("daemon", "%s", err.msg);
		log_warn("daemon", "sync skipped: %s", why);
	}
	log_kv(out == OUT_OK || out == OUT_STOPPED ? LOG_INFO : LOG_WARN, "daemon",
	       ((const char *[]){"job", j->name, "status", outcome_names[out], "due",
				 daemon_iso(due, a, sizeof(a)), "next",
				 daemon_iso(j->next, b, sizeof(b)), NULL}),
	       "job end: %s", detail);
}
