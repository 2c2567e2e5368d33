/* recover.c — check, quarantine, restore, re-sync (recover.h). The damaged files are
 * never deleted: they move to "quarantine/" beside the database with a UTC timestamp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "backup.h"
#include "log.h"
#include "recover.h"
#include "store.h"
#include "store_backup.h"
#include "sync.h"
#include "utc.h"
#include "banned.h"

/* The wal-index header (first 136 bytes of -shm): mxFrame at 16 (native u32), nBackfill
 * of the checkpoint info at 96. */
static int shm_frames(const char *shm, uint32_t *mx, uint32_t *backfill)
{
	unsigned char h[136];
	int fd = open(shm, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, h, sizeof(h));
	close(fd);
	if (r != (ssize_t)sizeof(h))
		return -1;
	memcpy(mx, h + 16, 4);
	memcpy(backfill, h + 96, 4);
	return 0;
}

int recover_check_db(const char *db_path, struct recover_check *out, struct ck_err *err)
{
	char wal[4200], shm[4200];
	uint32_t mx = 0, backfill = 0;

	memset(out, 0, sizeof(out[0]));
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	if (access(db_path, F_OK) != 0) {
		snprintf(out->detail, sizeof(out->detail), "database file missing: %s", strerror(errno));
		return 0;
	}
	out->exists = 1;
	/* Before any open: an open would rebuild the index from the (missing) WAL. */
	if (access(wal, F_OK) != 0 && shm_frames(shm, &mx, &backfill) == 0 && mx > backfill) {
		out->wal_lost = 1;
		snprintf(out->detail, sizeof(out->detail), "write-ahead log %s is missing but %s names %u"
			 " committed frames not yet in the database (%u checkpointed): committed"
			 " transactions were lost", wal, shm, mx, backfill);
		return 0;
	}
	if (store_backup_check_db(db_path, &out->ok, &out->candles, out->detail,
				  sizeof(out->detail), err))
		return err->code;
	return 0;
}

static void say_f(recover_say_fn *say, void *arg, const char *step, int64_t ms,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say_f(recover_say_fn *say, void *arg, const char *step, int64_t ms,
		  const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_kv(LOG_INFO, "recover", ((const char *[]){"step", step, NULL}), "%s", text);
	if (say)
		say(arg, step, ms, text);
}

struct skip_ctx {
	recover_say_fn *say;
	void *arg;
};

static void on_skip(void *arg, const struct store_backup *b, const char *why)
{
	struct skip_ctx *s = arg;
	say_f(s->say, s->arg, "skip", 0, "skipped %s backup %s: %s", b->tier, b->location, why);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Moves the database and its -wal/-shm into quarantine/ beside it. */
static int quarantine(const char *db, int64_t now, char *qdir, size_t qsize, char *moved,
		      size_t msize, struct ck_err *err)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char d[4096], b[1024], stamp[32], from[4200], to[4400];
	time_t t = (time_t)(now / 1000);
	struct tm tm;
	size_t i, used = 0;

	snprintf(d, sizeof(d), "%s", db);
	snprintf(b, sizeof(b), "%s", db);
	snprintf(qdir, qsize, "%s/quarantine", dirname(d));
	if (mkdir(qdir, 0750) != 0 && errno != EEXIST)
		return ck_err_set(err, CK_EIO, "quarantine: create %s: %s (check permissions)", qdir,
				  strerror(errno));
	gmtime_r(&t, &tm);
	snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000));
	moved[0] = 0;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", db, sfx[i]);
		if (access(from, F_OK) != 0)
			continue;
		snprintf(to, sizeof(to), "%s/%s.%s%s", qdir, basename(b), stamp, sfx[i]);
		if (rename(from, to) != 0)
			return ck_err_set(err, CK_EIO, "quarantine: move %s to %s: %s", from, to,
					  strerror(errno));
		used += (size_t)snprintf(moved + used, used < msize ? msize - used : 0, "%s%s",
					 used ? ", " : "", to);
		if (used >= msize)
			used = msize - 1;
	}
	snprintf(d, sizeof(d), "%s", db);
	fsync_dir(dirname(d));
	fsync_dir(qdir);
	return 0;
}

static void raise_alert(const struct cfg *c, struct store *st, const char *key,
			enum alert_severity sev, const char *summary, const char *detail)
{
	struct alert a;
	struct ck_err e = {0, ""};
	memset(&a, 0, sizeof(a));
	a.key = key;
	a.severity = sev;
	a.summary = summary;
	a.detail = detail;
	if (alert_raise(st, c, &a, &e))
		log_warn("recover", "alert %s: %s", key, e.msg);
}

int recover_run(const struct cfg *c, int64_t now, volatile sig_atomic_t *stop,
		recover_say_fn *say, void *arg, struct recover_result *res, struct ck_err *err)
{
	struct store *st = NULL;
	struct sync_result sr;
	struct sync_opts so;
	struct skip_ctx sk = {say, arg};
	struct ck_err e = {0, ""};
	char moved[8192], summary[512], detail[600];
	int64_t t0 = mono_ms(), t, run_id = 0;
	int rc, ok = 0, sync_done = 0;

	memset(res, 0, sizeof(*res));
	memset(&sr, 0, sizeof(sr));

	/* 1. check */
	t = mono_ms();
	if (recover_check_db(c->db, &res->before, err))
		return err->code;
	if (res->before.ok) {
		res->was_healthy = res->healthy_after = 1;
		res->candles_after = res->before.candles;
		say_f(say, arg, "check", mono_ms() - t, "healthy: integrity_check ok, schema and runs"
		      " table open, %" PRId64 " candles; nothing to do", res->before.candles);
		res->total_ms = mono_ms() - t0;
		return 0;
	}
	say_f(say, arg, "check", mono_ms() - t, "DAMAGED: %s", res->before.detail);

	/* 2. quarantine */
	t = mono_ms();
	if (quarantine(c->db, now, res->quarantine_dir, sizeof(res->quarantine_dir), moved,
		       sizeof(moved), err)) {
		snprintf(res->error, sizeof(res->error), "%s", err->msg);
		raise_alert(c, NULL, "recover_failed", ALERT_CRITICAL,
			    "candlekeep recover could not quarantine the damaged database", err->msg);
		return err->code;
	}
	say_f(say, arg, "quarantine", mono_ms() - t, "moved %s", moved[0] ? moved : "nothing (no files)");

	/* 3 + 4. restore the newest backup that verifies */
	t = mono_ms();
	rc = backup_restore_ex(NULL, c, c->db, on_skip, &sk, &res->used, &e);
	if (rc == 0) {
		res->restored = 1;
		char when[32];
		say_f(say, arg, "restore", mono_ms() - t, "restored %s backup %s (taken %s, %" PRId64
		      " candles; checksum and integrity_check ok)", res->used.tier, res->used.location,
		      utc_iso(res->used.created, when, sizeof(when)), res->used.candles);
	} else if (rc == CK_ENOTFOUND) {
		res->rebuilt = 1;
		say_f(say, arg, "restore", mono_ms() - t, "no usable backup (%s); rebuilding from the"
		      " exchange with [main] history_days = %" PRId64, e.msg, c->history_days);
	} else {
		*err = e;
		snprintf(res->error, sizeof(res->error), "%s", e.msg);
		raise_alert(c, NULL, "recover_failed", ALERT_CRITICAL,
			    "candlekeep recover could not restore the database", e.msg);
		return e.code;
	}

	/* 5. re-sync (gap repair from each symbol's newest candle), or the rebuild */
	t = mono_ms();
	if (store_open(&st, c->db, 0, &e)) {
		*err = e;
		snprintf(res->error, sizeof(res->error), "%s", e.msg);
		raise_alert(c, NULL, "recover_failed", ALERT_CRITICAL,
			    "candlekeep recover: the restored database does not open", e.msg);
		return e.code;
	}
	if (store_run_begin(st, "recover", now, &run_id, &e))
		log_warn("recover", "%s", e.msg);
	if (store_event_add(st, now, "corruption_detected", c->db, 1, res->before.detail, &e))
		log_warn("recover", "%s", e.msg);
	memset(&so, 0, sizeof(so));
	rc = sync_run(st, c, &so, stop, 0, &sr, &e);
	sync_done = 1;
	res->resync_written = sr.counts.candles_written;
	res->resync_failed = sr.counts.symbols_failed;
	if (rc)
		say_f(say, arg, res->rebuilt ? "rebuild" : "resync", mono_ms() - t,
		      "INCOMPLETE: %s (run candlekeep sync when the exchange is reachable)",
		      sr.error[0] ? sr.error : e.msg);
	else
		say_f(say, arg, res->rebuilt ? "rebuild" : "resync", mono_ms() - t,
		      "%zu symbols: %" PRId64 " ok, %" PRId64 " failed; %" PRId64 " candles written",
		      sr.nsymbols, sr.counts.symbols_ok, sr.counts.symbols_failed,
		      sr.counts.candles_written);
	{
		size_t i;
		for (i = 0; i < sr.nsymbols; i++) {
			struct sync_symbol *s = &sr.symbols[i];
			if (run_id && store_run_symbol(st, run_id, s->symbol, s->status ? s->status : "failed",
						       s->written, s->revised, s->newest_open,
						       s->error[0] ? s->error : NULL, &e))
				log_warn("recover", "%s", e.msg);
		}
	}

	/* 6. verify the result */
	t = mono_ms();
	if (store_check(st, 1, &ok, detail, sizeof(detail), &e)) {
		ok = 0;
		snprintf(detail, sizeof(detail), "%s", e.msg);
	}
	res->healthy_after = ok;
	store_count(st, c->interval, &res->candles_after, &e);
	say_f(say, arg, "verify", mono_ms() - t, "%s: integrity_check %s, %" PRId64 " candles",
	      ok ? "healthy" : "STILL DAMAGED", ok ? "ok" : detail, res->candles_after);
	res->total_ms = mono_ms() - t0;

	if (res->restored)
		snprintf(summary, sizeof(summary), "restored %s backup %s, re-synced %" PRId64
			 " candles", res->used.tier, res->used.location, res->resync_written);
	else
		snprintf(summary, sizeof(summary), "no usable backup: rebuilt from the exchange (%"
			 PRId64 " candles)", res->resync_written);
	if (store_event_add(st, now_ms(), "recover", c->db, (double)res->total_ms / 1000.0,
			    ok ? summary : "failed", &e))
		log_warn("recover", "%s", e.msg);
	if (run_id) {
		struct run_counts counts = sr.counts;
		enum run_status status = !ok ? RUN_FAILED : (rc || sr.counts.symbols_failed) ? RUN_PARTIAL
											    : RUN_OK;
		if (store_run_end(st, run_id, status, ok ? 0 : 1, now_ms(), &counts,
				  ok ? (rc || sr.counts.symbols_failed ? "re-sync incomplete" : NULL)
				     : detail,
				  &e))
			log_warn("recover", "%s", e.msg);
	}
	snprintf(detail, sizeof(detail), "%s was damaged (%s); quarantined in %s; %s",
		 c->db, res->before.detail, res->quarantine_dir, summary);
	raise_alert(c, st, ok ? "db_corrupt" : "recover_failed", ALERT_CRITICAL,
		    ok ? "candlekeep database was damaged and has been recovered"
		       : "candlekeep database could not be recovered", detail);
	if (sync_done)
		sync_result_release(&sr);
	store_close(st);
	if (!ok) {
		snprintf(res->error, sizeof(res->error), "still damaged after recovery: %s", detail);
		return ck_err_set(err, CK_ECORRUPT, "recover %s: %s", c->db, res->error);
	}
	return 0;
}
