/* recover.c — check, quarantine, restore, salvage, re-sync (recover.h). The damaged
 * files are never deleted: they move to "quarantine/" beside the database with a UTC
 * timestamp, never over an existing file (backup retention only matches backup names,
 * "<stem>-<time>.db", which a quarantined "<name>.<time>" never is). Only recover's own
 * scratch copy ("<db>.recover-build") and its marker ("<db>.recover") are removed.
 *
 * Crash safety: the marker is written (atomically) before the first file moves and
 * records the step reached; the replacement is built beside the database and installed
 * by one rename; a recover that finds the marker takes the recovery up from its step,
 * and store_open refuses to create a database while the marker (or, with the database
 * missing, a quarantined copy of it) exists. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "alert.h"
#include "backup.h"
#include "event.h"
#include "fault.h"
#include "log.h"
#include "recover.h"
#include "store.h"
#include "store_backup.h"
#include "store_salvage.h"
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

int recover_check_db(const char *db_path, int64_t wait_ms, struct recover_check *out,
		     struct ck_err *err)
{
	char wal[4200], shm[4200];
	uint32_t mx = 0, backfill = 0;
	struct store_probe p;

	(void)err;
	memset(out, 0, sizeof(out[0]));
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	if (access(db_path, F_OK) != 0 && errno == ENOENT) {
		out->damaged = 1;
		snprintf(out->detail, sizeof(out->detail), "database file missing: %s",
			 strerror(errno));
		return 0;
	}
	out->exists = 1;
	/* Before any open: an open would rebuild the index from the (missing) WAL. */
	if (access(wal, F_OK) != 0 && shm_frames(shm, &mx, &backfill) == 0 && mx > backfill) {
		out->wal_lost = out->damaged = 1;
		snprintf(out->detail, sizeof(out->detail),
			 "write-ahead log %s is missing but %s names %u"
			 " committed frames not yet in the database (%u checkpointed): committed"
			 " transactions were lost",
			 wal, shm, mx, backfill);
		return 0;
	}
	store_probe_file(db_path, wait_ms, &p);
	snprintf(out->detail, sizeof(out->detail), "%s", p.detail);
	switch (p.state) {
	case PROBE_OK:
		out->ok = 1;
		out->candles = p.candles;
		break;
	case PROBE_MISSING:
		out->exists = 0;
		out->damaged = 1;
		break;
	case PROBE_DAMAGED:
		out->damaged = 1;
		break;
	case PROBE_BUSY:
		out->busy = 1;
		break;
	case PROBE_FOREIGN:
		out->foreign = 1;
		break;
	case PROBE_ERROR:
		break;
	}
	return 0;
}

static void say_f(recover_say_fn *say, void *arg, const char *step, int64_t ms, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));
static void say_f(recover_say_fn *say, void *arg, const char *step, int64_t ms, const char *fmt,
		  ...)
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

static void stamp_of(int64_t now, char *stamp, size_t size)
{
	time_t t = (time_t)(now / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(stamp, size, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000));
}

static void quarantine_dir(const char *db, char *qdir, size_t qsize)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", db);
	snprintf(qdir, qsize, "%s/quarantine", dirname(d));
}

/* The quarantined main file of stamp. */
static void quarantined_main(const char *db, const char *stamp, char *buf, size_t size)
{
	char q[4200], b[1024];
	quarantine_dir(db, q, sizeof(q));
	snprintf(b, sizeof(b), "%s", db);
	snprintf(buf, size, "%s/%s.%s", q, basename(b), stamp);
}

/* Moves the database and its -wal/-shm/-journal into quarantine/ beside it, named with
 * stamp; never over an existing file (a resumed run adds ".N"). Files already gone are
 * skipped, so a second call after a crash finishes the first. */
static int quarantine(const char *db, const char *stamp, char *qdir, size_t qsize, char *moved,
		      size_t msize, struct ck_err *err)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char d[4096], b[1024], from[4200], to[4400];
	size_t i, used = 0;

	snprintf(b, sizeof(b), "%s", db);
	quarantine_dir(db, qdir, qsize);
	if (mkdir(qdir, 0750) != 0 && errno != EEXIST)
		return ck_err_set(err, CK_EIO, "quarantine: create %s: %s (check permissions)",
				  qdir, strerror(errno));
	moved[0] = 0;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		int n = 0;
		snprintf(from, sizeof(from), "%s%s", db, sfx[i]);
		if (access(from, F_OK) != 0)
			continue;
		for (;;) {
			if (n)
				snprintf(to, sizeof(to), "%s/%s.%s%s.%d", qdir, basename(b), stamp,
					 sfx[i], n);
			else
				snprintf(to, sizeof(to), "%s/%s.%s%s", qdir, basename(b), stamp,
					 sfx[i]);
			if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
				break;
			if (errno != EEXIST || ++n > 100)
				return ck_err_set(err, CK_EIO, "quarantine: move %s to %s: %s",
						  from, to, strerror(errno));
		}
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

/* ---- the marker of a recovery in progress ---- */

struct marker {
	char stamp[32];   /* of the quarantined files */
	char phase[16];   /* "quarantine", "build", "installed" */
	int64_t started;  /* ms */
	char detail[320]; /* what the check found */
};

static void marker_path(const char *db, char *buf, size_t size)
{
	snprintf(buf, size, "%s.recover", db);
}

int recover_marker_exists(const char *db_path)
{
	char m[4200];
	marker_path(db_path, m, sizeof(m));
	return access(m, F_OK) == 0;
}

static int marker_write(const char *db, const struct marker *m, struct ck_err *err)
{
	struct afile a;
	char path[4200];

	marker_path(db, path, sizeof(path));
	memset(&a, 0, sizeof(a));
	if (afile_open(&a, path, 0640, err))
		return err->code;
	fprintf(a.f,
		"# candlekeep recover in progress: run candlekeep recover to finish it\n"
		"stamp=%s\nphase=%s\nstarted=%" PRId64 "\ndetail=%s\n",
		m->stamp, m->phase, m->started, m->detail);
	return afile_commit(&a, err);
}

/* 0 and *m filled when the marker exists and reads; CK_ENOTFOUND when there is none. */
static int marker_read(const char *db, struct marker *m, struct ck_err *err)
{
	char path[4200], line[512];
	FILE *f;

	memset(m, 0, sizeof(*m));
	marker_path(db, path, sizeof(path));
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return CK_ENOTFOUND;
		return ck_err_set(err, CK_EIO, "read %s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "stamp=", 6))
			snprintf(m->stamp, sizeof(m->stamp), "%s", line + 6);
		else if (!strncmp(line, "phase=", 6))
			snprintf(m->phase, sizeof(m->phase), "%s", line + 6);
		else if (!strncmp(line, "started=", 8))
			m->started = strtoll(line + 8, NULL, 10);
		else if (!strncmp(line, "detail=", 7))
			snprintf(m->detail, sizeof(m->detail), "%s", line + 7);
	}
	fclose(f);
	if (!m->stamp[0] || strchr(m->stamp, '/') || !m->phase[0])
		return ck_err_set(err, CK_ECORRUPT,
				  "%s is unreadable (no stamp or phase): look in"
				  " quarantine/ beside the database, then remove it",
				  path);
	return 0;
}

static int marker_remove(const char *db, struct ck_err *err)
{
	char path[4200], d[4096];
	marker_path(db, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		return ck_err_set(err, CK_EIO, "remove %s: %s", path, strerror(errno));
	snprintf(d, sizeof(d), "%s", db);
	fsync_dir(dirname(d));
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

/* "SYMBOL/INTERVAL" for each configured symbol (a comma list) and interval, where the
 * salvage looks when the key order of the damaged file is unreadable. */
static char **salvage_pairs(const struct cfg *c, size_t *n)
{
	char **v = NULL, *list, *tok, *save = NULL;
	size_t len = 0, cap = 0;

	*n = 0;
	if (!c->symbols || !c->interval || !strcmp(c->symbols, "all") ||
	    !strcmp(c->symbols, "default") || !(list = strdup(c->symbols)))
		return NULL;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k, nk = c->nintervals ? c->nintervals : 1;
		for (k = 0; k < nk; k++) {
			char buf[128], **nv;
			if (len == cap) {
				cap = cap ? cap * 2 : 16;
				if (!(nv = realloc(v, cap * sizeof(*v))))
					break;
				v = nv;
			}
			snprintf(buf, sizeof(buf), "%s/%s", tok,
				 c->nintervals ? c->intervals[k] : c->interval);
			if (!(v[len] = strdup(buf)))
				break;
			len++;
		}
		if (k < nk)
			break;
	}
	free(list);
	*n = len;
	return v;
}

static void remove_build(const char *build)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[4300];
	size_t i;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", build, sfx[i]);
		unlink(p); /* our own scratch copy, never a quarantined file */
	}
}

/* Salvages the quarantined main file into st and says so; sets the damaged count. */
static int salvage_into(const struct cfg *c, struct store *st, const char *qmain,
			recover_say_fn *say, void *arg, struct recover_result *res,
			struct ck_err *err)
{
	struct store_salvage_result sr;
	char **pairs;
	size_t npairs = 0, i;
	int64_t t = mono_ms();
	int rc;

	if (access(qmain, F_OK) != 0) {
		say_f(say, arg, "salvage", 0,
		      "nothing to salvage (no damaged file was quarantined)");
		return 0;
	}
	pairs = salvage_pairs(c, &npairs);
	rc = store_salvage(st, qmain, (const char *const *)pairs, npairs, &sr, err);
	for (i = 0; i < npairs; i++)
		free(pairs[i]);
	free(pairs);
	if (rc)
		return rc;
	res->salvaged = sr.read;
	if (sr.counted >= 0)
		res->damaged_candles = sr.counted;
	else if (sr.read > 0 || sr.regions > 0)
		res->damaged_candles = sr.read + sr.lost_est;
	say_f(say, arg, "salvage", mono_ms() - t,
	      "%" PRId64 " candles read from the damaged file (%" PRId64 " new, %" PRId64
	      " newer than the backup, %" PRId64 " invalid); %" PRId64 " unreadable ranges%s%s%s",
	      sr.read, sr.written, sr.revised, sr.invalid, sr.regions, sr.detail[0] ? " (" : "",
	      sr.detail, sr.detail[0] ? ")" : "");
	return 0;
}

/* Builds the replacement beside the database (newest good backup, else an empty
 * database), salvages into it and installs it by rename. */
static int build_and_install(const struct cfg *c, const char *qmain, recover_say_fn *say, void *arg,
			     struct recover_result *res, struct ck_err *err)
{
	struct skip_ctx sk = {say, arg};
	struct store *st = NULL;
	struct ck_err e = {0, ""};
	char build[4200], wal[4300], d[4096];
	int64_t t = mono_ms();
	int rc;

	snprintf(build, sizeof(build), "%s.recover-build", c->db);
	snprintf(wal, sizeof(wal), "%s-wal", build);
	remove_build(build);
	{
		/* Leftovers of interrupted restores and backups (nobody holds them) go first. */
		int64_t n = 0, bytes = 0;
		struct ck_err se = {0, ""};
		if (backup_temp_sweep(c, 1, &n, &bytes, &se))
			log_warn("recover", "temp files: %s", se.msg);
		else if (n)
			log_info("recover",
				 "removed %" PRId64 " temp files (%" PRId64 " bytes) left by"
				 " interrupted restores or backups",
				 n, bytes);
	}
	/* The copy is checked against the backup's recorded checksum in the same pass; the
	 * one integrity_check of the result is step 6's, after the salvage and re-sync. */
	rc = backup_restore_ex(NULL, c, build, on_skip, &sk, 0, &res->used, &e);
	if (rc == 0) {
		char when[32];
		res->restored = 1;
		say_f(say, arg, "restore", mono_ms() - t,
		      "restored %s backup %s (taken %s; checksum"
		      " ok)",
		      res->used.tier, res->used.location,
		      utc_iso(res->used.created, when, sizeof(when)));
	} else if (rc == CK_ENOTFOUND) {
		res->rebuilt = 1;
		say_f(say, arg, "restore", mono_ms() - t,
		      "no usable backup (%s); rebuilding from the"
		      " exchange with [main] history_days = %" PRId64,
		      e.msg, c->history_days);
	} else {
		*err = e;
		return e.code;
	}
	if (store_open(&st, build, 0, err))
		return err->code;
	rc = salvage_into(c, st, qmain, say, arg, res, err);
	store_close(st);
	if (rc)
		return rc;
	if (access(wal, F_OK) == 0)
		return ck_err_set(err, CK_EIO,
				  "recover: %s was not checkpointed into %s; nothing was"
				  " installed (run candlekeep recover again)",
				  wal, build);
	fault_point("recover-built");
	if (rename(build, c->db) != 0)
		return ck_err_set(err, CK_EIO, "recover: install %s as %s: %s", build, c->db,
				  strerror(errno));
	snprintf(d, sizeof(d), "%s", c->db);
	fsync_dir(dirname(d));
	return 0;
}

/* The candle count of the database at path on a read-only connection of its own, beside
 * the integrity_check of step 6 (the two full passes use both CPUs). */
struct count_job {
	const char *path;
	int64_t count;
	int rc;
};

static void *count_main(void *arg)
{
	struct count_job *j = arg;
	struct ck_err e = {0, ""};

	j->rc = store_backup_count_file(j->path, &j->count, &e);
	return NULL;
}

/* Step 6's one integrity_check of the result, with its candle count counted meanwhile;
 * each on a read-only connection of its own that reads the file through a memory map
 * (store_backup_check_file, store_backup_count_file: nothing writes the database now,
 * recover holds the run lock). On st when such a connection cannot be had. */
static void verify_result(const struct cfg *c, struct store *st, int *ok, char *detail, size_t size,
			  int64_t *candles)
{
	struct count_job j = {c->db, 0, -1};
	struct ck_err e = {0, ""};
	pthread_t th;
	int64_t unused;
	int started = pthread_create(&th, NULL, count_main, &j) == 0;

	if (store_backup_check_file(c->db, ok, &unused, detail, size, &e) ||
	    (!*ok && !strncmp(detail, "cannot open", 11))) {
		if (store_check(st, 1, 0, ok, NULL, detail, size, &e)) {
			*ok = 0;
			snprintf(detail, size, "%s", e.msg);
		}
	} else if (!*ok && !strncmp(detail, "integrity_check: ", 17)) {
		memmove(detail, detail + 17, strlen(detail + 17) + 1); /* said by the caller */
	}
	if (started)
		pthread_join(th, NULL);
	if (j.rc == 0)
		*candles = j.count;
	else
		store_count(st, NULL, 0, candles, NULL, &e);
}

/* Step 1: the check. Returns 1 when there is something to recover, 0 when healthy,
 * or a negative code when recover must not go on (busy, foreign, the check failed). */
static int check_step(const struct cfg *c, int64_t wait_ms, recover_say_fn *say, void *arg,
		      struct recover_result *res, struct ck_err *err)
{
	struct recover_check *b = &res->before;
	int64_t t = mono_ms();

	recover_check_db(c->db, wait_ms, b, err);
	if (b->ok) {
		say_f(say, arg, "check", mono_ms() - t,
		      "healthy: integrity_check ok, schema and runs"
		      " table open, %" PRId64 " candles; nothing to do",
		      b->candles);
		return 0;
	}
	if (b->busy) {
		say_f(say, arg, "check", mono_ms() - t, "BUSY: %s", b->detail);
		return ck_err_set(
			err, CK_ELOCKED,
			"recover %s: another process holds the database"
			" (%s); damage is never concluded from a busy file and nothing was"
			" moved: stop the other process and run candlekeep recover again",
			c->db, b->detail);
	}
	if (b->foreign) {
		say_f(say, arg, "check", mono_ms() - t, "REFUSED: %s", b->detail);
		return ck_err_set(err, CK_EUSAGE,
				  "recover %s: refused, nothing moved: %s (check"
				  " --db or [main] db)",
				  c->db, b->detail);
	}
	if (!b->damaged) {
		say_f(say, arg, "check", mono_ms() - t, "FAILED: %s", b->detail);
		return ck_err_set(err, CK_EIO,
				  "recover %s: the check could not run: %s; nothing was"
				  " moved (fix the cause and run candlekeep recover again)",
				  c->db, b->detail);
	}
	say_f(say, arg, "check", mono_ms() - t, "DAMAGED: %s", b->detail);
	return 1;
}

/* Says a re-sync step's line (its outcome and counts) and records its symbols under
 * run_id (0: no run record). */
static void resync_report(struct store *st, int64_t run_id, recover_say_fn *say, void *arg,
			  const char *step, int64_t t, int rc, const struct sync_result *sr,
			  const struct ck_err *e)
{
	struct ck_err we = {0, ""};

	if (rc)
		say_f(say, arg, step, mono_ms() - t,
		      "INCOMPLETE: %s (run candlekeep sync when the exchange is reachable)",
		      sr->error[0] ? sr->error : e->msg);
	else
		say_f(say, arg, step, mono_ms() - t,
		      "%zu symbols: %" PRId64 " ok, %" PRId64 " failed; %" PRId64
		      " candles written",
		      sr->nsymbols, sr->counts.symbols_ok, sr->counts.symbols_failed,
		      sr->counts.candles_written);
	for (size_t i = 0; run_id && i < sr->nsymbols; i++) {
		const struct sync_symbol *s = &sr->symbols[i];
		if (store_run_symbol(st, run_id, s->symbol, s->status ? s->status : "failed",
				     s->written, s->revised, s->newest_open,
				     s->error[0] ? s->error : NULL, &we))
			log_warn("recover", "%s", we.msg);
	}
}

/* Step 5 for each configured interval after the first ([main] intervals): its re-sync,
 * on a copy of the configuration switched to it, recorded as a "recover" run of that
 * interval (begun, its symbols, ended); its counts add to res. */
static void resync_interval(const struct cfg *c, size_t k, struct store *st, int64_t now,
			    volatile sig_atomic_t *stop, recover_say_fn *say, void *arg,
			    struct recover_result *res)
{
	struct cfg one = *c; /* borrows c's strings; never released */
	struct sync_result sr;
	struct sync_opts so;
	struct ck_err e = {0, ""};
	int64_t t = mono_ms(), run_id = 0;
	char step[32];
	int rc;

	cfg_interval_use(&one, k);
	snprintf(step, sizeof(step), "%s/%s", res->rebuilt ? "rebuild" : "resync", one.interval);
	memset(&sr, 0, sizeof(sr));
	memset(&so, 0, sizeof(so));
	if (store_run_begin(st, "recover", one.interval, now, &run_id, &e))
		log_warn("recover", "%s", e.msg);
	rc = sync_run(st, &one, &so, stop, 0, &sr, &e);
	res->resync_written += sr.counts.candles_written;
	res->resync_failed += sr.counts.symbols_failed;
	resync_report(st, run_id, say, arg, step, t, rc, &sr, &e);
	if (run_id && store_run_end(st, run_id,
				    rc                         ? RUN_FAILED
				    : sr.counts.symbols_failed ? RUN_PARTIAL
							       : RUN_OK,
				    rc ? 1 : 0, now_ms(), &sr.counts,
				    rc ? (sr.error[0] ? sr.error : e.msg)
				       : (sr.counts.symbols_failed ? "re-sync incomplete" : NULL),
				    &e))
		log_warn("recover", "%s", e.msg);
	sync_result_release(&sr);
}

/* Step 5: the re-sync (gap repair from each symbol's newest candle, or the whole
 * rebuild), recorded as a "recover" run; returns sync_run's code (e holds its error).
 * With several intervals, the first is this run and each other one its own
 * (resync_interval); the step lines then name the interval. */
static int resync_step(const struct cfg *c, struct store *st, int64_t now,
		       volatile sig_atomic_t *stop, recover_say_fn *say, void *arg,
		       struct recover_result *res, struct sync_result *srp, int64_t *run_idp,
		       struct ck_err *ep)
{
	struct sync_result sr;
	struct sync_opts so;
	struct ck_err e = {0, ""};
	int64_t t, run_id = 0;
	char step[32];
	int rc;

	memset(&sr, 0, sizeof(sr));
	t = mono_ms();
	if (store_run_begin(st, "recover", c->interval, now, &run_id, &e))
		log_warn("recover", "%s", e.msg);
	if (store_event_add(st, now, event_kind_name(EV_CORRUPTION_DETECTED), c->db, 1,
			    res->before.detail, &e))
		log_warn("recover", "%s", e.msg);
	memset(&so, 0, sizeof(so));
	rc = sync_run(st, c, &so, stop, 0, &sr, &e);
	res->resync_written = sr.counts.candles_written;
	res->resync_failed = sr.counts.symbols_failed;
	if (c->nintervals > 1)
		snprintf(step, sizeof(step), "%s/%s", res->rebuilt ? "rebuild" : "resync",
			 c->interval);
	else
		snprintf(step, sizeof(step), "%s", res->rebuilt ? "rebuild" : "resync");
	resync_report(st, run_id, say, arg, step, t, rc, &sr, &e);
	for (size_t k = 1; k < c->nintervals && !*stop; k++)
		resync_interval(c, k, st, now, stop, say, arg, res);

	*srp = sr;
	*run_idp = run_id;
	*ep = e;
	return rc;
}

/* The outcome in one line (summary) and, when recover did not fully succeed, why
 * (res->error): still damaged, fewer candles than the damaged file, or nothing at all. */
static void recover_conclude(struct recover_result *res, int installed, int ok, int nothing,
			     const char *detail, const struct sync_result *srp,
			     const struct ck_err *ep, char *summary, size_t size)
{
	const struct sync_result sr = *srp;
	const struct ck_err e = *ep;

	if (res->restored)
		snprintf(summary, size,
			 "restored %s backup %s, salvaged %" PRId64 " candles, re-synced %" PRId64
			 " candles",
			 res->used.tier, res->used.location, res->salvaged, res->resync_written);
	else if (installed)
		snprintf(summary, size,
			 "finished an interrupted recovery, re-synced %" PRId64 " candles",
			 res->resync_written);
	else
		snprintf(summary, size,
			 "no usable backup: salvaged %" PRId64 " candles,"
			 " rebuilt from the exchange (%" PRId64 " candles)",
			 res->salvaged, res->resync_written);
	if (!ok)
		snprintf(res->error, sizeof(res->error), "still damaged after recovery: %.200s",
			 detail);
	else if (res->shortfall)
		snprintf(res->error, sizeof(res->error),
			 "the recovered database holds %" PRId64 " candles, %" PRId64
			 " fewer than the damaged file held (%" PRId64 "); the"
			 " damaged file stays in %s (run candlekeep sync when the exchange is"
			 " reachable, then candlekeep gaps)",
			 res->candles_after, res->shortfall, res->damaged_candles,
			 res->quarantine_dir);
	else if (nothing)
		snprintf(res->error, sizeof(res->error),
			 "nothing could be restored: no usable backup,"
			 " nothing readable in the damaged file, and the exchange did not answer "
			 "(%s);"
			 " the database is empty: run candlekeep sync when the exchange is "
			 "reachable",
			 sr.error[0] ? sr.error
			 : e.msg[0]  ? e.msg
				     : "re-sync failed");
}

/* The recover event, the run's end, and the alert: recover_failed, or db_corrupt raised
 * and resolved at once (the operator learns it happened). */
static void recover_record(const struct cfg *c, struct store *st, struct recover_result *res,
			   const struct sync_result *srp, int rc, int64_t run_id,
			   const char *summary)
{
	const struct sync_result sr = *srp;
	struct ck_err e = {0, ""};
	char detail[900];

	if (store_event_add(st, now_ms(), event_kind_name(EV_RECOVER), c->db,
			    (double)res->total_ms / 1000.0, res->error[0] ? res->error : summary,
			    &e))
		log_warn("recover", "%s", e.msg);
	if (run_id) {
		struct run_counts counts = sr.counts;
		enum run_status status = res->error[0]                      ? RUN_FAILED
					 : (rc || sr.counts.symbols_failed) ? RUN_PARTIAL
									    : RUN_OK;
		if (store_run_end(st, run_id, status, res->error[0] ? 1 : 0, now_ms(), &counts,
				  res->error[0]
					  ? res->error
					  : (rc || sr.counts.symbols_failed ? "re-sync incomplete"
									    : NULL),
				  &e))
			log_warn("recover", "%s", e.msg);
	}
	snprintf(detail, sizeof(detail), "%s was damaged (%s); quarantined in %s; %s%s%s", c->db,
		 res->before.detail, res->quarantine_dir, summary, res->error[0] ? "; " : "",
		 res->error);
	raise_alert(c, st, res->error[0] ? "recover_failed" : "db_corrupt", ALERT_CRITICAL,
		    res->error[0] ? "candlekeep database could not be fully recovered"
				  : "candlekeep database was damaged and has been recovered",
		    detail);
	if (!res->error[0]) {
		/* The damage is over once the replacement is installed and checked: the channels
		 * that were told get the resolve now (a page that opens and closes, so the
		 * operator learns it happened), and an earlier failed attempt is resolved too. */
		struct ck_err ae = {0, ""};
		if (alert_resolve(st, c, "db_corrupt", "candlekeep database recovered", &ae) ||
		    alert_resolve(st, c, "recover_failed", "candlekeep database recovered", &ae))
			log_warn("recover", "alert resolve: %s", ae.msg);
	}
}

int recover_run(const struct cfg *c, int64_t now, int64_t wait_ms, volatile sig_atomic_t *stop,
		recover_say_fn *say, void *arg, struct recover_result *res, struct ck_err *err)
{
	struct store *st = NULL;
	struct sync_result sr;
	struct marker m;
	struct ck_err e = {0, ""};
	char moved[8192], summary[512], detail[900], qmain[4400];
	int64_t t0 = mono_ms(), t, run_id = 0;
	int rc, ok = 0, installed = 0, nothing;

	memset(res, 0, sizeof(*res));
	memset(&sr, 0, sizeof(sr));
	res->damaged_candles = -1;

	rc = marker_read(c->db, &m, &e);
	if (rc && rc != CK_ENOTFOUND) {
		*err = e;
		snprintf(res->error, sizeof(res->error), "%s", e.msg);
		return rc;
	}
	if (rc == 0) {
		char when[32];
		res->resumed = 1;
		res->before.damaged = 1;
		snprintf(res->before.detail, sizeof(res->before.detail), "%s", m.detail);
		say_f(say, arg, "resume", 0,
		      "an interrupted recover (started %s, stopped in its %s"
		      " step; the check had found: %s) is taken up again",
		      utc_iso(m.started, when, sizeof(when)), m.phase, m.detail);
	} else {
		/* 1. check: damage only on proof */
		if ((rc = check_step(c, wait_ms, say, arg, res, err)) <= 0) {
			if (rc == 0) {
				res->was_healthy = res->healthy_after = 1;
				res->candles_after = res->before.candles;
			} else {
				snprintf(res->error, sizeof(res->error), "%s", err->msg);
				/* A file refused or a check that could not run leaves the
				 * database as it was, unrecovered: a person must look. (A busy
				 * file is someone else's run, reported by the exit code.) */
				if (!res->before.busy)
					raise_alert(c, NULL, "recover_failed", ALERT_CRITICAL,
						    "candlekeep recover refused or could not check"
						    " the database",
						    err->msg);
			}
			res->total_ms = mono_ms() - t0;
			return rc;
		}
		memset(&m, 0, sizeof(m));
		stamp_of(now, m.stamp, sizeof(m.stamp));
		snprintf(m.phase, sizeof(m.phase), "quarantine");
		m.started = now;
		snprintf(m.detail, sizeof(m.detail), "%s", res->before.detail);
		if (marker_write(c->db, &m, err)) {
			snprintf(res->error, sizeof(res->error), "%s", err->msg);
			return err->code;
		}
	}

	/* 2. quarantine (again after a crash: what is left at the path moves) */
	quarantine_dir(c->db, res->quarantine_dir, sizeof(res->quarantine_dir));
	quarantined_main(c->db, m.stamp, qmain, sizeof(qmain));
	if (!strcmp(m.phase, "quarantine")) {
		t = mono_ms();
		if (quarantine(c->db, m.stamp, res->quarantine_dir, sizeof(res->quarantine_dir),
			       moved, sizeof(moved), err))
			goto fail_early;
		say_f(say, arg, "quarantine", mono_ms() - t, "moved %s",
		      moved[0] ? moved : "nothing (no files)");
		snprintf(m.phase, sizeof(m.phase), "build");
		if (marker_write(c->db, &m, err))
			goto fail_early;
		fault_point("recover-quarantined");
	}

	/* 3 + 4. build the replacement (backup + salvage) and install it; after a crash
	 * past the install, salvage into the installed one again (the same rows) */
	if (access(c->db, F_OK) == 0) {
		installed = 1;
		if (store_open(&st, c->db, 0, err) ||
		    salvage_into(c, st, qmain, say, arg, res, err))
			goto fail_early;
	} else {
		if (build_and_install(c, qmain, say, arg, res, err))
			goto fail_early;
		snprintf(m.phase, sizeof(m.phase), "installed");
		if (marker_write(c->db, &m, &e))
			log_warn("recover", "%s", e.msg);
		fault_point("recover-installed");
		if (store_open(&st, c->db, 0, err))
			goto fail_early;
	}

	/* 5. re-sync (gap repair from each symbol's newest candle), or the rebuild */
	rc = resync_step(c, st, now, stop, say, arg, res, &sr, &run_id, &e);

	/* 6. verify the result, and compare it with what the damaged file held */
	t = mono_ms();
	verify_result(c, st, &ok, detail, sizeof(detail), &res->candles_after);
	res->healthy_after = ok;
	if (res->damaged_candles > res->candles_after)
		res->shortfall = res->damaged_candles - res->candles_after;
	nothing = !res->restored && !installed && res->salvaged == 0 &&
		  (rc || sr.counts.symbols_failed || sr.nsymbols == 0);
	say_f(say, arg, "verify", mono_ms() - t, "%s: integrity_check %s, %" PRId64 " candles%s",
	      ok ? "healthy" : "STILL DAMAGED", ok ? "ok" : detail, res->candles_after,
	      res->shortfall ? " (FEWER than the damaged file held)" : "");
	res->total_ms = mono_ms() - t0;

	recover_conclude(res, installed, ok, nothing, detail, &sr, &e, summary, sizeof(summary));
	recover_record(c, st, res, &sr, rc, run_id, summary);
	sync_result_release(&sr);
	store_close(st);
	/* The replacement is installed and checked: the recovery is over (a shortfall is
	 * reported, and the damaged file stays in quarantine). */
	if (marker_remove(c->db, &e))
		log_warn("recover", "%s", e.msg);
	if (res->error[0])
		return ck_err_set(err, CK_ECORRUPT, "recover %s: %s", c->db, res->error);
	return 0;

fail_early:
	/* The marker stays: no command creates a database here, the next recover goes on. */
	store_close(st);
	snprintf(res->error, sizeof(res->error), "%s", err->msg);
	raise_alert(c, NULL, "recover_failed", ALERT_CRITICAL,
		    "candlekeep recover could not restore the database", err->msg);
	res->total_ms = mono_ms() - t0;
	return ck_err_wrap(err,
			   "recover (run candlekeep recover again once fixed; the damaged files"
			   " are in %s)",
			   res->quarantine_dir);
}
